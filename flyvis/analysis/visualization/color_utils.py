"""Colormaps and colour helpers (matplotlib).

Re-exports the colour constants of :mod:`flyvis.utils.color_utils` and adds
matplotlib colormap helpers. Importing this module registers nothing with
matplotlib; the cyclic flow colormap is registered under ``"cm_uniform_2d"``
only when :func:`register_cm_uniform_2d` (or a function resolving that name,
see :func:`get_cmap`) is called.

The flow colormap ``cm_uniform_2d`` is an *isoluminant* cyclic colormap: 256
colours on a circle of constant lightness ``L* = 70`` and chroma ``C* = 38`` in
CIELAB (D65), the largest chroma for which the whole circle stays inside the
sRGB gamut. Equal steps in direction are therefore (approximately) equal
perceptual steps and no direction looks brighter than another; the same
construction as the distortion-free cyclic colormaps discussed on
StackOverflow (flyvis 1.2.0 ships one such map). Position ``p`` in ``[0, 1]``
corresponds to a flow direction ``theta = 2 pi p - pi``; rightward flow
(``theta = 0``) is red, upward (90 deg) yellow-green, leftward (180 deg)
blue-green/teal and downward (-90 deg) violet.

Source: ``spec/visualization.md`` §1.
"""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib
import matplotlib.colors as mcolors
import numpy as np

from flyvis.utils.color_utils import (  # noqa: F401  (re-exported constants)
    EXC,
    INH,
    ND,
    OFF,
    OFF_FR,
    OFF_OSI,
    ON,
    ON_FR,
    ON_OSI,
    PD,
)

__all__ = [
    "ON",
    "OFF",
    "ON_FR",
    "OFF_FR",
    "ON_OSI",
    "OFF_OSI",
    "PD",
    "ND",
    "INH",
    "EXC",
    "color_to_cmap",
    "single_color_cmap",
    "get_alpha_colormap",
    "adapt_color_alpha",
    "truncate_colormap",
    "cmap_iter",
    "cm_uniform_2d",
    "get_cm_uniform_2d",
    "register_cm_uniform_2d",
    "get_cmap",
    "CM_UNIFORM_2D_NAME",
]

CM_UNIFORM_2D_NAME = "cm_uniform_2d"

# CIELAB parameters of the isoluminant circle and the hue of theta = 0 (red).
_LAB_L = 70.0
_LAB_C = 38.0
_LAB_HUE_AT_ZERO = np.radians(40.0)


def _lab_to_srgb(lightness, a, b) -> np.ndarray:
    """CIELAB (D65) to sRGB in ``[0, 1]``; returns ``(..., 3)``."""
    fy = (np.asarray(lightness, dtype=float) + 16.0) / 116.0 + 0.0 * np.asarray(a)
    fx = fy + np.asarray(a, dtype=float) / 500.0
    fz = fy - np.asarray(b, dtype=float) / 200.0
    delta = 6.0 / 29.0

    def finv(t):
        return np.where(t > delta, t**3, 3 * delta**2 * (t - 4.0 / 29.0))

    xyz = np.stack([0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz)], axis=-1)
    matrix = np.array(
        [
            [3.2404542, -1.5371385, -0.4985314],
            [-0.9692660, 1.8760108, 0.0415560],
            [0.0556434, -0.2040259, 1.0572252],
        ]
    )
    linear = np.clip(xyz @ matrix.T, 0.0, 1.0)
    srgb = np.where(
        linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055
    )
    return np.clip(srgb, 0.0, 1.0)


def _make_cm_uniform_2d(n: int = 256) -> mcolors.ListedColormap:
    position = np.arange(n) / n  # cyclic: the last entry does not repeat the first
    theta = 2 * np.pi * position - np.pi
    hue = theta + _LAB_HUE_AT_ZERO
    rgb = _lab_to_srgb(_LAB_L, _LAB_C * np.cos(hue), _LAB_C * np.sin(hue))
    cmap = mcolors.ListedColormap(rgb, name=CM_UNIFORM_2D_NAME)
    return cmap.with_extremes(bad=(1.0, 1.0, 1.0, 0.0))


#: Cyclic, isoluminant, perceptually uniform colormap for flow directions
#: (256 entries). Not registered with matplotlib at import time.
cm_uniform_2d = _make_cm_uniform_2d()


def get_cm_uniform_2d() -> mcolors.Colormap:
    """Returns the cyclic flow-direction colormap (see module docstring).

    Returns:
        A 256-entry ``ListedColormap`` named ``"cm_uniform_2d"``.
    """
    return cm_uniform_2d


def register_cm_uniform_2d() -> mcolors.Colormap:
    """Registers ``cm_uniform_2d`` with matplotlib (idempotent).

    After this call ``matplotlib.colormaps["cm_uniform_2d"]`` and
    ``cmap="cm_uniform_2d"`` work in any matplotlib function.

    Returns:
        The registered colormap.
    """
    if CM_UNIFORM_2D_NAME not in matplotlib.colormaps:
        matplotlib.colormaps.register(cm_uniform_2d, name=CM_UNIFORM_2D_NAME)
    return matplotlib.colormaps[CM_UNIFORM_2D_NAME]


def get_cmap(cmap=None, default="binary_r") -> mcolors.Colormap:
    """Resolves a colormap name or object (``"cm_uniform_2d"`` registered lazily).

    Args:
        cmap: ``Colormap``, registered name, or None for ``default``.
        default: Name used when ``cmap`` is None.

    Returns:
        A matplotlib ``Colormap``.
    """
    if cmap is None:
        cmap = default
    if isinstance(cmap, mcolors.Colormap):
        return cmap
    if cmap == CM_UNIFORM_2D_NAME:
        return register_cm_uniform_2d()
    return matplotlib.colormaps[cmap]


def color_to_cmap(
    end_color, start_color="#FFFFFF", name: str = "custom_cmap", N: int = 256
) -> mcolors.LinearSegmentedColormap:
    """Linear colormap from ``start_color`` to ``end_color``.

    Args:
        end_color: Colour at 1.
        start_color: Colour at 0 (white by default).
        name: Colormap name.
        N: Number of entries.

    Returns:
        A ``LinearSegmentedColormap``.
    """
    return mcolors.LinearSegmentedColormap.from_list(name, [start_color, end_color], N=N)


def single_color_cmap(color) -> mcolors.ListedColormap:
    """Colormap that maps every value to one colour.

    Args:
        color: Any matplotlib colour.

    Returns:
        A one-entry ``ListedColormap``.
    """
    return mcolors.ListedColormap([mcolors.to_rgba(color)])


def get_alpha_colormap(saturated_color, number_of_shades: int = 256):
    """Colormap from a transparent to an opaque version of one colour.

    Args:
        saturated_color: Colour at 1 (alpha 1).
        number_of_shades: Number of entries.

    Returns:
        A ``ListedColormap`` of shape ``(number_of_shades, 4)`` with alpha 0..1.
    """
    rgba = np.tile(mcolors.to_rgba(saturated_color), (number_of_shades, 1))
    rgba[:, 3] = np.linspace(0, 1, number_of_shades)
    return mcolors.ListedColormap(rgba)


def adapt_color_alpha(color, alpha: float) -> tuple:
    """Returns ``color`` as an RGBA tuple with the given alpha.

    Args:
        color: Any matplotlib colour.
        alpha: New alpha in ``[0, 1]``.

    Returns:
        Tuple ``(r, g, b, alpha)``.
    """
    r, g, b, _ = mcolors.to_rgba(color)
    return (r, g, b, float(alpha))


def truncate_colormap(cmap, minval: float = 0.0, maxval: float = 1.0, n: int = 100):
    """Restricts a colormap to the range ``[minval, maxval]``.

    Args:
        cmap: Colormap or name.
        minval: Lower end in ``[0, 1]``.
        maxval: Upper end in ``[0, 1]``.
        n: Number of entries of the result.

    Returns:
        A ``LinearSegmentedColormap``.
    """
    cmap = get_cmap(cmap)
    return mcolors.LinearSegmentedColormap.from_list(
        f"trunc({cmap.name},{minval:.2f},{maxval:.2f})",
        cmap(np.linspace(minval, maxval, n)),
    )


def cmap_iter(cmap, start: float = 0.0, stop: float = 1.0, N: int = 10) -> Iterator:
    """Iterates over ``N`` evenly spaced colours of a colormap.

    Args:
        cmap: Colormap or name.
        start: First position in ``[0, 1]``.
        stop: Last position in ``[0, 1]``.
        N: Number of colours.

    Yields:
        RGBA tuples.
    """
    cmap = get_cmap(cmap)
    for x in np.linspace(start, stop, N):
        yield cmap(x)
