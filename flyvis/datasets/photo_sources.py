"""Real photographs that ship inside installed wheels, as luminance images.

All photos load offline: 15 from ``skimage.data`` (scikit-image), ``china`` and
``flower`` from scikit-learn's sample images, and ``grace_hopper`` from
matplotlib's sample data. The scikit-learn and matplotlib files are read
directly from the installed packages (located with ``importlib.util.find_spec``,
so neither package is imported; the pixels are identical to
``sklearn.datasets.load_sample_image`` and
``matplotlib.cbook.get_sample_data``).

Colour photos are converted to 8-bit luminance with the ITU-R 601 luma weights
exactly as PIL's ``"L"`` conversion does (``L = 0.299 R + 0.587 G + 0.114 B``
with PIL's fixed-point rounding), then divided by 255.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, Tuple

import numpy as np

__all__ = [
    "PhotoSource",
    "PHOTO_SOURCES",
    "photo_names",
    "load_photo",
    "photo_shape",
    "rgb_to_luminance",
]


@dataclass(frozen=True)
class PhotoSource:
    """Where a photo comes from and under which terms.

    Attributes:
        name: Short name used by the datasets.
        package: Installed package that ships it.
        origin: How to obtain it (loader or file).
        credit: Author or owner.
        license: Licence as stated by the shipping package.
    """

    name: str
    package: str
    origin: str
    credit: str
    license: str


def _skimage(name: str, credit: str, license: str) -> PhotoSource:
    return PhotoSource(name, "scikit-image", f"skimage.data.{name}()", credit, license)


#: The photos used by :class:`~flyvis.datasets.photo_flow.MultiTaskPhotoFlow`.
PHOTO_SOURCES: Dict[str, PhotoSource] = {
    s.name: s
    for s in [
        _skimage("astronaut", "NASA (Eileen Collins)", "public domain"),
        _skimage("camera", "Lav Varshney", "CC0"),
        _skimage("coffee", "Rachel Michetti (Pikolo Espresso Bar)", "CC0"),
        _skimage("chelsea", "Stefan van der Walt", "CC0"),
        _skimage("rocket", "SpaceX (DSCOVR launch on Falcon 9)", "public domain"),
        _skimage("grass", "linolafett (DeviantArt)", "CC0"),
        _skimage("gravel", "CC0Textures", "CC0"),
        _skimage("brick", "CC0Textures", "CC0"),
        _skimage("hubble_deep_field", "NASA", "public domain"),
        _skimage(
            "coins", "Brooklyn Museum collection", "no known copyright restrictions"
        ),
        _skimage("moon", "scikit-image sample data", "not stated"),
        _skimage("clock", "Stefan van der Walt", "public domain"),
        _skimage("cell", "Paul Müller et al. (qpformat)", "CC0"),
        _skimage("retina", "Häggström, Mikael (WikiJournal of Medicine)", "CC0"),
        _skimage(
            "immunohistochemistry",
            "Center for Microscopy And Molecular Imaging (CMMI)",
            "no known copyright restrictions",
        ),
        PhotoSource(
            "china",
            "scikit-learn",
            'sklearn.datasets.load_sample_image("china.jpg")',
            "danielbuechele (Flickr)",
            "CC BY 2.0",
        ),
        PhotoSource(
            "flower",
            "scikit-learn",
            'sklearn.datasets.load_sample_image("flower.jpg")',
            "vultilion (Flickr)",
            "CC BY 2.0",
        ),
        PhotoSource(
            "grace_hopper",
            "matplotlib",
            'matplotlib.cbook.get_sample_data("grace_hopper.jpg")',
            "U.S. Navy (portrait of Grace Hopper)",
            "public domain",
        ),
    ]
}


def photo_names() -> Tuple[str, ...]:
    """Names of all available photos, in a fixed order.

    Returns:
        Tuple of names (keys of :data:`PHOTO_SOURCES`).
    """
    return tuple(PHOTO_SOURCES)


def rgb_to_luminance(image: np.ndarray) -> np.ndarray:
    """Converts an 8-bit image to 8-bit luminance like PIL's ``"L"`` mode.

    Args:
        image: ``uint8`` array ``(H, W)`` (returned unchanged) or
            ``(H, W, 3|4)`` (RGB or RGBA; alpha ignored).

    Returns:
        ``uint8`` array ``(H, W)``: ``(19595 R + 38470 G + 7471 B + 2**15) >> 16``.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 image, got {image.dtype}.")
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise ValueError(f"expected (H, W), (H, W, 3) or (H, W, 4), got {image.shape}.")
    rgb = image[..., :3].astype(np.uint32)
    luma = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 0x8000) >> 16
    return luma.astype(np.uint8)


def _package_file(package: str, *parts: str) -> Path:
    """Path of a data file inside an installed package (package not imported)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"package {package!r} is not installed.")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found in the installed {package!r}.")
    return path


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image  # pillow is a dependency of scikit-image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _loader(name: str) -> Callable[[], np.ndarray]:
    if name == "china" or name == "flower":
        return lambda: _read_image(
            _package_file("sklearn", "datasets", "images", f"{name}.jpg")
        )
    if name == "grace_hopper":
        return lambda: _read_image(
            _package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")
        )

    def load() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return load


@lru_cache(maxsize=None)
def _load_luminance_uint8(name: str) -> np.ndarray:
    image = rgb_to_luminance(_loader(name)())
    image = np.ascontiguousarray(image)
    image.setflags(write=False)
    return image


def photo_shape(name: str) -> Tuple[int, int]:
    """Shape of a bundled photo (loads and caches it once).

    Args:
        name: One of :func:`photo_names`.

    Returns:
        ``(H, W)`` in pixels.
    """
    if name not in PHOTO_SOURCES:
        raise ValueError(
            f"unknown photo {name!r}; valid photos: {', '.join(PHOTO_SOURCES)}."
        )
    return tuple(_load_luminance_uint8(name).shape)


def load_photo(name: str) -> np.ndarray:
    """Loads a bundled photo as luminance in ``[0, 1]``.

    Args:
        name: One of :func:`photo_names`.

    Returns:
        float32 array ``(H, W)``, 8-bit luminance divided by 255 (a new array).

    Raises:
        ValueError: If ``name`` is unknown.
    """
    if name not in PHOTO_SOURCES:
        raise ValueError(
            f"unknown photo {name!r}; valid photos: {', '.join(PHOTO_SOURCES)}."
        )
    return _load_luminance_uint8(name).astype(np.float32) / 255.0
