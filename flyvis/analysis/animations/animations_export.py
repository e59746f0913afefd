"""Animation export: GIF and HTML players, ffmpeg commands, panel figures.

:class:`AnimationExportMixin` gives :class:`~flyvis.analysis.animations.animations.Animation`
its GIF (``save_gif``, Pillow) and HTML/JavaScript (``to_jshtml``, ``to_html``)
export. MP4/WebM export (``save_mp4``, ``to_vid``, :func:`convert`) stays in
:mod:`flyvis.analysis.animations.animations`, which re-exports the names here.

Source: ``spec/visualization.md`` §5.1.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from flyvis.analysis.visualization.plt_utils import to_numpy

__all__ = ["AnimationExportMixin", "panel_figure", "n_decimals_for"]

_FFMPEG_HELP = (
    "no ffmpeg binary found. Install ffmpeg (e.g. `apt install ffmpeg`, "
    "`conda install -c conda-forge ffmpeg`, `brew install ffmpeg`) or the optional "
    "Python package `imageio-ffmpeg` (`pip install imageio-ffmpeg`), or save a GIF "
    "with `save_gif` instead."
)


def _select(indices, n: int) -> list[int]:
    """``"all"`` or an iterable of indices, intersected with ``range(n)`` and sorted."""
    if isinstance(indices, str):
        if indices != "all":
            raise ValueError(f"expected 'all' or an iterable of indices, got {indices!r}")
        return list(range(n))
    if isinstance(indices, (int, np.integer)):
        indices = [indices]
    valid = set(range(n))
    return sorted({int(i) for i in to_numpy(list(indices)).ravel()} & valid)


class AnimationExportMixin:
    """GIF and HTML/JavaScript export of an :class:`Animation`.

    Relies on the animation's ``fig``, ``path``, ``frames``, ``n_samples``,
    ``batch_sample``, ``_iterate``, ``_init_quiet`` and ``_render_frames``.
    """

    def to_jshtml(
        self,
        frames="all",
        samples="all",
        fps: float = 10,
        dpi: float | None = None,
        default_mode: str = "loop",
    ) -> str:
        """Renders the selected frames into a self-contained HTML/JavaScript player.

        Uses matplotlib's ``HTMLWriter`` (frames embedded as base64 PNGs), so it
        works without IPython and without a display.

        Args:
            frames: ``"all"`` or frame indices.
            samples: ``"all"`` or sample indices (frames of all samples in order).
            fps: Frames per second.
            dpi: Resolution (default: the figure's dpi).
            default_mode: Player mode, ``"loop"``, ``"once"`` or ``"reflect"``.

        Returns:
            The HTML document as a string.

        Raises:
            ValueError: If no valid frames or samples are selected.
        """
        from matplotlib.animation import HTMLWriter

        selection = list(self._iterate(frames, samples))
        self.batch_sample = selection[0][0]
        self._init_quiet(selection[0][1])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "animation.html"
            writer = HTMLWriter(fps=fps, embed_frames=True, default_mode=default_mode)
            with writer.saving(self.fig, str(path), dpi or self.fig.dpi):
                self._render_frames(writer, frames, samples, {})
            return path.read_text()

    def to_html(self, frames="all", samples="all", fps: float = 10, dpi=None):
        """The :meth:`to_jshtml` player wrapped as ``IPython.display.HTML``.

        Args:
            frames: ``"all"`` or frame indices.
            samples: ``"all"`` or sample indices.
            fps: Frames per second.
            dpi: Resolution (default: the figure's dpi).

        Returns:
            ``IPython.display.HTML``; displaying it needs no live figure.

        Raises:
            ImportError: If IPython is not installed (use :meth:`to_jshtml` for
                the raw HTML string, or :meth:`save_gif`).
        """
        try:
            from IPython.display import HTML
        except ImportError as error:
            raise ImportError(
                "an HTML animation object needs IPython (`pip install ipython`, "
                "included in Jupyter). Without IPython use `to_jshtml()` for the "
                "HTML string or `save_gif(path)` for a GIF."
            ) from error
        return HTML(self.to_jshtml(frames=frames, samples=samples, fps=fps, dpi=dpi))

    def save_gif(
        self,
        path=None,
        frames="all",
        samples="all",
        fps: float = 10,
        dpi: float | None = None,
        facecolor="white",
    ) -> Path:
        """Saves the animation as an animated GIF (matplotlib ``PillowWriter``).

        Args:
            path: Output file (default ``self.path / "<ClassName>.gif"``); a
                missing ``.gif`` suffix is added.
            frames: ``"all"`` or frame indices.
            samples: ``"all"`` or sample indices (frames of all samples in order).
            fps: Frames per second.
            dpi: Resolution (default: the figure's dpi).
            facecolor: Background of the frames (GIFs have no partial transparency).

        Returns:
            The path of the written file.
        """
        from matplotlib.animation import PillowWriter

        path = (
            Path(path) if path is not None else self.path / f"{type(self).__name__}.gif"
        )
        if path.suffix.lower() != ".gif":
            path = path.with_suffix(".gif")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_sample = _select(samples, self.n_samples)[0]
        self._init_quiet(_select(frames, self.frames)[0])
        writer = PillowWriter(fps=fps)
        with writer.saving(self.fig, str(path), dpi or self.fig.dpi):
            self._render_frames(writer, frames, samples, {"facecolor": facecolor})
        return path


def _ffmpeg_command(
    ffmpeg: str, directory, dest: Path, framerate: int, type: str
) -> list:
    """The ffmpeg command line converting ``directory/*_*.png`` to ``dest``."""
    pad = "pad=ceil(iw/2)*2:ceil(ih/2)*2"
    if type == "mp4":
        codec = [
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-level",
            "4.0",
            "-vf",
            pad,
            "-pix_fmt",
            "yuv420p",
            "-crf",
            "18",
        ]
    else:
        codec = [
            "-c:v",
            "libvpx-vp9",
            "-vf",
            pad,
            "-pix_fmt",
            "yuva420p",
            "-crf",
            "18",
            "-b:v",
            "0",
            "-threads",
            "4",
        ]
    command = [
        ffmpeg,
        "-y",
        "-loglevel",
        "error",
        "-framerate",
        str(framerate),
        "-pattern_type",
        "glob",
        "-i",
        f"{directory}/*_*.png",
        *codec,
        str(dest),
    ]
    return command


def panel_figure(
    n_panels: int,
    max_figure_height_cm: float = 22,
    panel_height_cm: float = 3,
    max_figure_width_cm: float = 18,
    panel_width_cm: float = 3.6,
    figsize_scale: float = 1,
    fontsize: float = 5,
):
    """Figure with ``n_panels`` axes in rows of as many panels as fit the width.

    Args:
        n_panels: Number of axes.
        max_figure_height_cm: Maximal figure height.
        panel_height_cm: Height of one panel.
        max_figure_width_cm: Maximal figure width.
        panel_width_cm: Width of one panel.
        figsize_scale: Factor applied to the figure size.
        fontsize: Tick label size.

    Returns:
        Tuple ``(fig, axes)`` (a list of ``n_panels`` axes, transparent backgrounds).
    """
    n_columns = max(1, min(n_panels, int(max_figure_width_cm / panel_width_cm + 1e-9)))
    n_rows = int(np.ceil(n_panels / n_columns))
    width = n_columns * panel_width_cm
    height = min(n_rows * panel_height_cm, max_figure_height_cm)
    figsize = (figsize_scale * width / 2.54, figsize_scale * height / 2.54)
    fig = plt.figure(figsize=figsize, layout="constrained")
    axes = []
    for i in range(n_panels):
        ax = fig.add_subplot(n_rows, n_columns, i + 1)
        ax.patch.set_alpha(0)
        ax.tick_params(labelsize=fontsize)
        axes.append(ax)
    return fig, axes


def n_decimals_for(vmax: float) -> int:
    """Decimals needed to tell colourbar ticks of ``[-vmax, vmax]`` apart.

    Args:
        vmax: Largest absolute tick value.

    Returns:
        ``0`` for ``|vmax| >= 10``, more for smaller ranges.
    """
    vmax = abs(float(vmax))
    if not np.isfinite(vmax) or vmax == 0:
        return 0
    return int(max(0, 1 - np.floor(np.log10(vmax))))
