"""Random scene specifications of the photo-flow movies (which photos, which motions).

Used by :mod:`flyvis.datasets.photo_flow_render`, which renders the specs, and
re-exported by :mod:`flyvis.datasets.photo_flow`.
"""

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from flyvis.datasets.photo_sources import photo_shape

#: Frame height of Sintel (pixels); motion parameters are relative to it.
REFERENCE_HEIGHT = 436

#: Photos whose sequences (as background) form the validation set by default.
DEFAULT_VALIDATION_PHOTOS = ("chelsea", "gravel", "coins", "flower")

__all__ = ["MotionRanges", "sample_sequence_specs", "REFERENCE_HEIGHT"]


@dataclass(frozen=True)
class MotionRanges:
    """Ranges of the random motion parameters.

    Lengths are in frame heights (``H``) and times in source frames (1/24 s);
    angles in radians. Each layer's trajectory is centred on the middle frame
    ``t_mid`` of the rendered sequence: ``T(t) = T_mid + v tau + a tau**2 / 2``,
    ``theta(t) = theta_mid + omega tau``, ``log s(t) = log s_mid + zeta tau``,
    ``tau = t - t_mid``.

    Attributes:
        background_speed: Range of the background translation speed (H/frame).
        background_acceleration: Standard deviation of the background
            acceleration per axis (H/frame**2).
        background_rotation: Maximal background angular speed (rad/frame).
        background_zoom: Maximal background zoom rate (log scale per frame).
        background_scale: Range of the background magnification (screen pixels
            per photo pixel at ``H = 436``); raised where needed so that the
            photo covers the frame during the whole sequence (capped at 2.5).
        foreground_speed: Range of the patch translation speed (H/frame).
        foreground_acceleration: Std of the patch acceleration (H/frame**2).
        foreground_rotation: Maximal patch angular speed (rad/frame).
        foreground_zoom: Maximal patch zoom rate (log scale per frame).
        foreground_scale: Range of the patch magnification (as background_scale).
        foreground_size: Range of the patch half-width and half-height (H).
        foreground_position: Maximal offset of a patch's mid-trajectory centre
            from the frame centre, per axis (H).
    """

    background_speed: Tuple[float, float] = (0.0, 0.015)
    background_acceleration: float = 0.0003
    background_rotation: float = 0.01
    background_zoom: float = 0.01
    background_scale: Tuple[float, float] = (1.0, 1.4)
    foreground_speed: Tuple[float, float] = (0.005, 0.03)
    foreground_acceleration: float = 0.001
    foreground_rotation: float = 0.03
    foreground_zoom: float = 0.01
    foreground_scale: Tuple[float, float] = (0.8, 1.5)
    foreground_size: Tuple[float, float] = (0.08, 0.2)
    foreground_position: float = 0.25

    @classmethod
    def from_dict(cls, values: Optional[Mapping[str, Any]] = None) -> "MotionRanges":
        """Builds ranges from the defaults updated with ``values``.

        Args:
            values: Mapping of attribute name to value (lists accepted for tuples).

        Returns:
            The ranges.

        Raises:
            ValueError: For unknown names.
        """
        values = dict(values or {})
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"unknown motion parameters {unknown}; valid: {sorted(names)}."
            )
        values = {
            k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in values.items()
        }
        return cls(**values)

    def to_dict(self) -> Dict[str, Any]:
        """Plain-python (YAML-friendly) representation, tuples as lists."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }


# ---------------------------------------------------------------------------
# sequence specifications


def _split_photos(
    photos: Sequence[str], validation_photos: Sequence[str]
) -> Tuple[List[str], List[str]]:
    validation = [p for p in photos if p in set(validation_photos)]
    train = [p for p in photos if p not in set(validation_photos)]
    return train, validation


def _uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _direction(rng: np.random.Generator, speed: float) -> List[float]:
    phi = rng.uniform(0, 2 * np.pi)
    return [float(speed * np.cos(phi)), float(speed * np.sin(phi))]


def _background_layer(
    rng: np.random.Generator,
    photo: str,
    motion: MotionRanges,
    frame_size: Tuple[int, int],
    n_images: int,
) -> Dict[str, Any]:
    height, width = frame_size
    unit = height / REFERENCE_HEIGHT
    speed = _uniform(rng, motion.background_speed) * height
    velocity = _direction(rng, speed)
    acceleration = [float(a) for a in rng.normal(0, motion.background_acceleration, 2)]
    acceleration = [a * height for a in acceleration]
    omega = float(rng.uniform(-1, 1) * motion.background_rotation)
    zeta = float(rng.uniform(-1, 1) * motion.background_zoom)
    angle = float(rng.uniform(-np.pi, np.pi))
    scale = _uniform(rng, motion.background_scale) * unit
    # magnify small photos so that they cover the frame over the whole sequence
    half = (n_images - 1) / 2
    max_shift = math.hypot(*velocity) * half + 0.5 * math.hypot(*acceleration) * half**2
    needed = math.hypot(height, width) / 2 + max_shift
    photo_half = min(photo_shape(photo)) / 2
    cover = needed / (photo_half * math.exp(-abs(zeta) * half))
    scale = max(scale, min(cover, 2.5 * unit))
    return dict(
        photo=photo,
        shape="full",
        half_size=[0.0, 0.0],
        texture_center=[0.0, 0.0],
        position=[0.0, 0.0],
        velocity=velocity,
        acceleration=acceleration,
        angle=angle,
        angular_velocity=omega,
        log_scale=float(math.log(scale)),
        zoom_rate=zeta,
    )


def _foreground_layer(
    rng: np.random.Generator,
    photo: str,
    motion: MotionRanges,
    frame_size: Tuple[int, int],
) -> Dict[str, Any]:
    height = frame_size[0]
    unit = height / REFERENCE_HEIGHT
    shape = str(rng.choice(["rect", "ellipse"]))
    scale = _uniform(rng, motion.foreground_scale) * unit
    half_screen = [_uniform(rng, motion.foreground_size) * height for _ in range(2)]
    half_size = [h / scale for h in half_screen]
    photo_h, photo_w = photo_shape(photo)
    margin = 1.5 * max(half_size)
    texture_center = [
        float(rng.uniform(-1, 1) * max(0.0, photo_w / 2 - margin)),
        float(rng.uniform(-1, 1) * max(0.0, photo_h / 2 - margin)),
    ]
    position = [
        float(p) for p in rng.uniform(-1, 1, 2) * motion.foreground_position * height
    ]
    speed = _uniform(rng, motion.foreground_speed) * height
    velocity = _direction(rng, speed)
    acceleration = [
        float(a) * height for a in rng.normal(0, motion.foreground_acceleration, 2)
    ]
    return dict(
        photo=photo,
        shape=shape,
        half_size=half_size,
        texture_center=texture_center,
        position=position,
        velocity=velocity,
        acceleration=acceleration,
        angle=float(rng.uniform(-np.pi, np.pi)),
        angular_velocity=float(rng.uniform(-1, 1) * motion.foreground_rotation),
        log_scale=float(math.log(scale)),
        zoom_rate=float(rng.uniform(-1, 1) * motion.foreground_zoom),
    )


def sample_sequence_specs(
    n_sequences: int,
    n_source_frames: int,
    frame_size: Tuple[int, int],
    photos: Sequence[str],
    validation_photos: Sequence[str],
    n_foreground: Tuple[int, int] = (1, 3),
    motion: Optional[MotionRanges] = None,
    seed: int = 0,
) -> List[Dict[str, Any]]:
    """Draws the layers and motions of all sequences (deterministic in ``seed``).

    Backgrounds cycle through the photos in an order shuffled with ``seed``, so
    every photo is the background of ``n_sequences / len(photos)`` sequences
    (up to one). Foreground photos are drawn from the same group (training or
    validation photos) as the background and differ from it (the background
    photo itself is used if its group has no other photo). Sequence ``i`` draws
    its parameters from ``numpy.random.default_rng([seed, 1, i])``, so it does
    not depend on ``n_sequences``.

    Args:
        n_sequences: Number of sequences.
        n_source_frames: Rendered frames per sequence (one more image is
            needed for the flow of the first frame).
        frame_size: ``(H, W)`` of the cartesian frames in pixels.
        photos: Names of the photos to use.
        validation_photos: Photos reserved for validation sequences.
        n_foreground: Inclusive range of the number of foreground patches.
        motion: Motion parameter ranges (defaults if None).
        seed: Random seed.

    Returns:
        One JSON-serialisable dict per sequence with keys ``index``,
        ``background``, ``split`` (``"train"``/``"validation"``) and ``layers``
        (background first, then the patches from bottom to top).
    """
    motion = motion or MotionRanges()
    photos = list(photos)
    train, validation = _split_photos(photos, validation_photos)
    order = [photos[i] for i in np.random.default_rng([seed, 0]).permutation(len(photos))]
    specs = []
    for i in range(n_sequences):
        rng = np.random.default_rng([seed, 1, i])
        background = order[i % len(order)]
        group = validation if background in validation else train
        split = "validation" if background in validation else "train"
        candidates = [p for p in group if p != background] or [background]
        n_fg = int(rng.integers(n_foreground[0], n_foreground[1] + 1))
        replace = len(candidates) < n_fg
        fg_photos = [str(p) for p in rng.choice(candidates, size=n_fg, replace=replace)]
        layers = [
            _background_layer(rng, background, motion, frame_size, n_source_frames + 1)
        ]
        layers += [_foreground_layer(rng, p, motion, frame_size) for p in fg_photos]
        specs.append(dict(index=i, background=background, split=split, layers=layers))
    return specs


# ---------------------------------------------------------------------------
# cartesian rendering
