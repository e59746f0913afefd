"""Animation base classes, notebook playback and export (GIF, MP4, WebM).

An :class:`Animation` draws a figure once (``init``) and updates it in place
per frame (``animate``). It can be played in a notebook
(:meth:`Animation.animate_in_notebook`), rendered as a still
(:meth:`Animation.plot`), saved as GIF with matplotlib's ``PillowWriter``
(:meth:`Animation.save_gif`), as MP4 with ``FFMpegWriter``
(:meth:`Animation.save_mp4`, needs an ffmpeg binary) or via PNG frames and
ffmpeg (:meth:`Animation.to_vid`).

Environment variables: ``TESTING`` (``"true"``: notebook playback shows only
the first frame of the first sample, once), ``COLAB_RELEASE_TAG`` (Colab
detection), ``ANIMATION_DIR`` (default output directory, ``"animations"``).

Source: ``spec/visualization.md`` §5.1.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from flyvis.analysis.animations.animations_export import (
    _FFMPEG_HELP,
    AnimationExportMixin,
    _ffmpeg_command,
    _select,
    n_decimals_for,
    panel_figure,
)
from flyvis.analysis.visualization.plt_utils import to_numpy

__all__ = [
    "Animation",
    "AnimationCollector",
    "convert",
    "find_ffmpeg",
    "in_notebook",
    "panel_figure",
    "n_decimals_for",
    "to_numpy",
]

logger = logging.getLogger(__name__)


def _testing() -> bool:
    return os.environ.get("TESTING", "").lower() == "true"


def _in_colab() -> bool:
    return "COLAB_RELEASE_TAG" in os.environ


def in_notebook() -> bool:
    """Whether the code runs in an IPython kernel (Jupyter, Colab).

    Returns:
        True inside a notebook kernel, False in plain Python or a terminal IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def find_ffmpeg() -> str | None:
    """Path of an ffmpeg binary (system ``PATH``, else ``imageio-ffmpeg``).

    Returns:
        The path, or None if none is available.
    """
    path = shutil.which("ffmpeg")
    if path:
        return path
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - broken optional install
        return None


class Animation(AnimationExportMixin):
    """Base class of animations.

    Subclasses implement :meth:`init` (draw the figure for a frame) and
    :meth:`animate` (update the figure in place to a frame) and set
    ``frames`` and ``n_samples``.

    Attributes:
        fig: The figure.
        update: Redraw (and display in a notebook) after each ``animate``.
        batch_sample: The sample shown.
        frames: Number of frames.
        n_samples: Number of samples.
        path: Default output directory ``Path(path or $ANIMATION_DIR) / suffix``.

    Args:
        path: Output directory (default ``$ANIMATION_DIR`` or ``"animations"``).
        fig: Existing figure.
        suffix: Sub-directory, formatted with the class name.
    """

    fig: Figure | None = None
    update: bool = True
    frames: int = 0
    n_samples: int = 0

    def __init__(self, path=None, fig: Figure | None = None, suffix: str = "{}"):
        base = path or os.environ.get("ANIMATION_DIR", "animations")
        self.path = Path(base) / suffix.format(type(self).__name__)
        self.fig = fig
        if not hasattr(self, "batch_sample"):
            self.batch_sample = 0
        self._initialized = False
        self._displayed = False

    # -- to implement --------------------------------------------------------------

    def init(self, frame: int = 0) -> None:
        """Draws the figure for ``frame`` of the current sample."""
        raise NotImplementedError

    def animate(self, frame: int) -> None:
        """Updates the figure to ``frame`` of the current sample."""
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------

    def _ensure_init(self, frame: int = 0) -> None:
        if not self._initialized or self.fig is None:
            self.init(frame)
            self._initialized = True

    def _init_quiet(self, frame: int = 0) -> None:
        """Initialises (if needed) without displaying the figure."""
        previous_update = self.update
        self.update = False
        try:
            self._ensure_init(frame)
        finally:
            self.update = previous_update

    def update_figure(self, clear_output: bool = True) -> None:
        """Redraws the figure; in a notebook also displays it.

        Outside notebooks the figure is only drawn (GUI backends process their
        pending events). In a notebook (unless the backend is the ``nbagg`` or
        widget backend, or in Colab) the figure is shown with
        ``IPython.display`` and the previous output cleared.

        Args:
            clear_output: Clear the previous output cell content first.
        """
        if self.fig is None:
            return
        self.fig.canvas.draw()
        self.fig.canvas.flush_events()
        backend = matplotlib.get_backend().lower()
        interactive_backend = any(
            name in backend for name in ("nbagg", "widget", "ipympl")
        )
        if in_notebook() and not interactive_backend and not _in_colab():
            from IPython import display

            if clear_output:
                display.clear_output(wait=True)
            display.display(self.fig)
            self._displayed = True

    def animate_in_notebook(
        self,
        frames="all",
        samples="all",
        repeat: int = 1,
        html: bool = False,
        fps: float = 10,
        dpi: float | None = None,
    ):
        """Plays the animation (in a notebook; in scripts it just draws the frames).

        With ``TESTING=true`` only the first frame of the first sample is shown,
        once. ``Ctrl-C`` stops and shows the last frame.

        With ``html=True`` nothing is played; instead an ``IPython.display.HTML``
        object holding a self-contained JavaScript player of all selected frames
        is returned (see :meth:`to_jshtml`); it needs no live display and shows
        as cell output in Jupyter, Colab and rendered notebooks.

        Args:
            frames: ``"all"`` or frame indices (intersected with the valid range
                and sorted).
            samples: ``"all"`` or sample indices (likewise).
            repeat: Number of repetitions.
            html: Return a JavaScript player instead of playing live.
            fps: Frames per second of the HTML player.
            dpi: Resolution of the HTML player's frames (default: figure dpi).

        Returns:
            None, or with ``html=True`` an ``IPython.display.HTML`` object.

        Raises:
            ValueError: If no valid frames or samples are selected.
            ImportError: With ``html=True`` if IPython is not installed.
        """
        if html:
            return self.to_html(frames=frames, samples=samples, fps=fps, dpi=dpi)
        frames = _select(frames, self.frames)
        samples = _select(samples, self.n_samples)
        if not frames or not samples:
            raise ValueError("no valid frames or samples selected")
        if _testing():
            frames, samples, repeat = frames[:1], samples[:1], 1
        notebook = in_notebook()
        previous_update = self.update
        self.update = True
        self.batch_sample = samples[0]
        self._ensure_init(frames[0])
        try:
            for _ in range(repeat):
                for sample in samples:
                    self.batch_sample = sample
                    for frame in frames:
                        self.animate(frame)
                        if notebook:
                            time.sleep(0.1)
        except KeyboardInterrupt:
            self.update_figure()
        finally:
            self.update = previous_update
        if self._displayed and self.fig is not None:
            # the figure was shown via IPython.display; closing it stops the
            # inline backend from showing it a second time (it stays usable).
            plt.close(self.fig)

    def plot(self, sample: int, frame: int) -> Figure:
        """Renders a single still of ``sample`` at ``frame``.

        Args:
            sample: Sample index.
            frame: Frame index.

        Returns:
            The figure.
        """
        previous_update = self.update
        self.update = False
        self.batch_sample = sample
        self._ensure_init(frame)
        self.animate(frame)
        self.update = previous_update
        return self.fig

    def animate_save(self, frame: int, dpi: float = 100) -> None:
        """Animates ``frame`` and saves it as ``{sample:04}_{frame:04}.png`` in ``_path``.

        Args:
            frame: Frame index.
            dpi: Resolution.
        """
        self.animate(frame)
        name = self._path / f"{self.batch_sample:04}_{frame:04}.png"
        self.fig.savefig(
            name, dpi=dpi, bbox_inches="tight", facecolor=self.fig.get_facecolor()
        )

    def _iterate(self, frames, samples):
        frames = _select(frames, self.frames)
        samples = _select(samples, self.n_samples)
        if not frames or not samples:
            raise ValueError("no valid frames or samples selected")
        for sample in samples:
            for frame in frames:
                yield sample, frame

    def _render_frames(self, writer, frames, samples, savefig_kwargs) -> int:
        previous_update = self.update
        self.update = False
        count = 0
        try:
            for sample, frame in self._iterate(frames, samples):
                self.batch_sample = sample
                self._ensure_init(frame)
                self.animate(frame)
                writer.grab_frame(**savefig_kwargs)
                count += 1
        finally:
            self.update = previous_update
        return count

    def save_mp4(
        self,
        path=None,
        frames="all",
        samples="all",
        fps: float = 10,
        dpi: float | None = None,
        facecolor="white",
        bitrate: int | None = None,
    ) -> Path:
        """Saves the animation as MP4 (H.264) with matplotlib's ``FFMpegWriter``.

        Needs an ffmpeg binary on ``PATH`` or the optional ``imageio-ffmpeg``
        package.

        Args:
            path: Output file (default ``self.path / "<ClassName>.mp4"``).
            frames: ``"all"`` or frame indices.
            samples: ``"all"`` or sample indices.
            fps: Frames per second.
            dpi: Resolution (default: the figure's dpi).
            facecolor: Background of the frames.
            bitrate: Bitrate in kbit/s (ffmpeg default if None).

        Returns:
            The path of the written file.

        Raises:
            RuntimeError: If no ffmpeg binary is available.
        """
        from matplotlib.animation import FFMpegWriter

        ffmpeg = find_ffmpeg()
        if ffmpeg is None:
            raise RuntimeError(_FFMPEG_HELP)
        path = (
            Path(path) if path is not None else self.path / f"{type(self).__name__}.mp4"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_sample = _select(samples, self.n_samples)[0]
        self._init_quiet(_select(frames, self.frames)[0])
        with matplotlib.rc_context({"animation.ffmpeg_path": ffmpeg}):
            writer = FFMpegWriter(
                fps=fps,
                codec="libx264",
                bitrate=bitrate,
                extra_args=[
                    "-pix_fmt",
                    "yuv420p",
                    "-vf",
                    "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                ],
            )
            with writer.saving(self.fig, str(path), dpi or self.fig.dpi):
                self._render_frames(writer, frames, samples, {"facecolor": facecolor})
        return path

    def to_vid(
        self,
        fname: str,
        frames="all",
        dpi: float = 100,
        framerate: int = 30,
        samples="all",
        delete_if_exists: bool = False,
        source_path=None,
        dest_path=None,
        type: str = "webm",
    ) -> Path | None:
        """Renders PNG frames and converts them to a video with ffmpeg.

        Frames are saved as ``{sample:04}_{frame:04}.png`` in a temporary
        directory (``bbox_inches="tight"``, the figure's facecolour) and
        converted by :func:`convert`. Without ffmpeg a warning is issued and
        None returned.

        Args:
            fname: File name without suffix.
            frames: ``"all"`` or frame indices.
            dpi: Resolution of the frames.
            framerate: Frames per second.
            samples: ``"all"`` or sample indices.
            delete_if_exists: Overwrite an existing video.
            source_path: Directory for the PNG frames (default: temporary).
            dest_path: Output directory (default ``self.path``).
            type: ``"mp4"`` or ``"webm"``.

        Returns:
            The video path, or None if ffmpeg is missing.
        """
        previous_update = self.update
        self.update = False
        tmp = None
        if source_path is None:
            tmp = tempfile.TemporaryDirectory()
            source_path = tmp.name
        self._path = Path(source_path)
        self._path.mkdir(parents=True, exist_ok=True)
        try:
            for sample, frame in self._iterate(frames, samples):
                self.batch_sample = sample
                self._ensure_init(frame)
                self.animate_save(frame, dpi=dpi)
            return self.convert(
                fname,
                delete_if_exists=delete_if_exists,
                framerate=framerate,
                source_path=self._path,
                dest_path=dest_path,
                type=type,
            )
        finally:
            self.update = previous_update
            if tmp is not None:
                tmp.cleanup()

    def convert(
        self,
        fname: str,
        delete_if_exists: bool = False,
        framerate: int = 30,
        source_path=None,
        dest_path=None,
        type: str = "mp4",
    ) -> Path | None:
        """Converts the PNG frames in ``source_path`` to ``dest_path/fname.type``.

        Args:
            fname: File name without suffix.
            delete_if_exists: Overwrite an existing video.
            framerate: Frames per second.
            source_path: Directory of the PNG frames (default: the last ``to_vid``'s).
            dest_path: Output directory (default ``self.path``).
            type: ``"mp4"`` or ``"webm"``.

        Returns:
            The video path, or None if ffmpeg is missing.
        """
        dest_path = Path(dest_path or self.path)
        dest_path.mkdir(parents=True, exist_ok=True)
        return convert(
            source_path or self._path,
            dest_path / f"{fname}.{type}",
            framerate=framerate,
            delete_if_exists=delete_if_exists,
            type=type,
        )


def convert(
    directory,
    dest,
    framerate: int = 30,
    delete_if_exists: bool = False,
    type: str = "mp4",
) -> Path | None:
    """Converts ``directory/*_*.png`` frames to a video with ffmpeg.

    * mp4: ``libx264``, profile high, level 4.0, even-size padding, ``yuv420p``, crf 18.
    * webm: ``libvpx-vp9``, even-size padding, ``yuva420p`` (keeps transparency),
      crf 18, 4 threads.

    Args:
        directory: Directory of the PNG frames.
        dest: Output file.
        framerate: Frames per second.
        delete_if_exists: Overwrite an existing file.
        type: ``"mp4"`` or ``"webm"``.

    Returns:
        The output path, or None (with a warning) if no ffmpeg binary exists.

    Raises:
        ValueError: For another ``type``.
        FileExistsError: If ``dest`` exists and ``delete_if_exists`` is False.
    """
    if type not in ("mp4", "webm"):
        raise ValueError(f"unsupported video type {type!r}; expected 'mp4' or 'webm'")
    dest = Path(dest)
    if dest.exists():
        if not delete_if_exists:
            raise FileExistsError(dest)
        dest.unlink()
    ffmpeg = find_ffmpeg()
    if ffmpeg is None:
        warnings.warn(_FFMPEG_HELP, stacklevel=2)
        return None
    command = _ffmpeg_command(ffmpeg, directory, dest, framerate, type)
    subprocess.run(command, check=True)
    logger.info("Saved video to %s", dest)
    return dest


class AnimationCollector(Animation):
    """Animates several animations sharing one figure.

    ``init`` initialises every child (and disables their own redraws);
    ``animate`` animates all children and redraws once. Setting
    ``batch_sample`` propagates to the children.

    Attributes:
        animations: The child animations.
    """

    animations: list

    def __init__(self, path=None, fig: Figure | None = None, suffix: str = "{}"):
        if not hasattr(self, "animations"):
            self.animations = []
        if not hasattr(self, "_batch_sample"):
            self._batch_sample = 0
        super().__init__(path=path, fig=fig, suffix=suffix)

    @property
    def batch_sample(self) -> int:
        """The sample shown (propagated to all child animations)."""
        return getattr(self, "_batch_sample", 0)

    @batch_sample.setter
    def batch_sample(self, value: int) -> None:
        self._batch_sample = value
        for animation in getattr(self, "animations", []):
            animation.batch_sample = value

    def init(self, frame: int = 0) -> None:
        """Initialises all child animations at ``frame``."""
        for animation in self.animations:
            animation.batch_sample = self.batch_sample
            animation.init(frame)
            animation._initialized = True
            animation.update = False
        if self.fig is None and self.animations:
            self.fig = self.animations[0].fig

    def animate(self, frame: int) -> None:
        """Animates all children to ``frame``, then redraws once."""
        for animation in self.animations:
            animation.animate(frame)
        if self.update:
            self.update_figure()
