"""Builds a fake MPI-Sintel tree in the real file formats (for offline tests).

Layout (``spec/datasets.md`` §2.2, §11)::

    <root>/training/final/<scene>/frame_0001.png ...   random 8-bit greyscale
    <root>/training/flow/<scene>/frame_0001.flo ...    one fewer than images
    <root>/training/depth/<scene>/frame_0001.dpt ...
    <root>/test/
"""

from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple, Union

import numpy as np

from flyvis.datasets.sintel_files import write_dpt, write_flo, write_png

FlowSpec = Union[None, Tuple[float, float], Callable[[str, int], np.ndarray]]


def make_fake_sintel(
    root: Path,
    scenes: Sequence[str] = ("alley_1", "alley_2"),
    n_images: Union[int, Sequence[int]] = 5,
    height: int = 436,
    width: int = 1024,
    flow: FlowSpec = None,
    depth: bool = True,
    seed: int = 0,
    images: Optional[Callable[[str, int], np.ndarray]] = None,
) -> Path:
    """Writes a fake Sintel tree and returns its root.

    Args:
        root: Target directory (created).
        scenes: Scene names.
        n_images: Images per scene (an int or one per scene).
        height: Frame height (pixels).
        width: Frame width (pixels).
        flow: None (random flow, std 2 px), a constant ``(u, v)`` in pixels
            (u right, v down), or ``f(scene, k) -> (H, W, 2)`` for file ``k``
            (0-based).
        depth: Write ``.dpt`` files.
        seed: Random seed.
        images: Optional ``f(scene, k) -> (H, W)`` uint8 image for image ``k``
            (0-based); default random.

    Returns:
        ``root``.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    counts = [n_images] * len(scenes) if isinstance(n_images, int) else list(n_images)
    for scene, count in zip(scenes, counts):
        final = root / "training" / "final" / scene
        flow_dir = root / "training" / "flow" / scene
        depth_dir = root / "training" / "depth" / scene
        for directory in (final, flow_dir) + ((depth_dir,) if depth else ()):
            directory.mkdir(parents=True, exist_ok=True)
        for k in range(count):
            if images is None:
                image = rng.integers(0, 256, (height, width), dtype=np.uint8)
            else:
                image = images(scene, k)
            write_png(final / f"frame_{k + 1:04d}.png", image)
            if depth:
                values = (1 + 10 * rng.random((height, width))).astype(np.float32)
                write_dpt(depth_dir / f"frame_{k + 1:04d}.dpt", values)
        for k in range(count - 1):
            if flow is None:
                field = rng.normal(0, 2, (height, width, 2)).astype(np.float32)
            elif callable(flow):
                field = flow(scene, k)
            else:
                field = np.empty((height, width, 2), dtype=np.float32)
                field[..., 0], field[..., 1] = flow
            write_flo(flow_dir / f"frame_{k + 1:04d}.flo", field)
    (root / "test").mkdir(parents=True, exist_ok=True)
    return root
