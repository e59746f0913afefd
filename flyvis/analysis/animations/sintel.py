"""Animation of Sintel samples: input, target and (optionally) prediction.

Source: ``spec/visualization.md`` §5.2.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from flyvis.analysis.animations.animations import AnimationCollector, panel_figure
from flyvis.analysis.animations.hexflow import HexFlow
from flyvis.analysis.animations.hexscatter import HexScatter, as_hex_sequence

__all__ = ["SintelSample"]


class SintelSample(AnimationCollector):
    """Input luminance next to the target (and the prediction) of a Sintel sample.

    Targets/predictions with 2 channels are drawn as flow (:class:`HexFlow`,
    with colour wheel), others (e.g. depth, or a second luminance) as
    :class:`HexScatter` with ``target_cmap``.

    Args:
        lum: Input ``(n_samples, n_frames, 1, n_hexals)``.
        target: Target ``(n_samples, n_frames, n_dims, n_hexals)``.
        prediction: Prediction, same shape as ``target`` (optional).
        target_cmap: Colormap of non-flow targets.
        fontsize: Font size.
        labelxy: Position of the sample/frame label on the input panel.
        max_figure_height_cm: Maximal figure height.
        panel_height_cm: Panel height.
        max_figure_width_cm: Maximal figure width.
        panel_width_cm: Panel width.
        title1: Title of the input panel.
        title2: Title of the target panel.
        title3: Title of the prediction panel.

    Example:
        >>> SintelSample(lum[None], flow[None], prediction=y_pred.detach().cpu())
    """

    def __init__(
        self,
        lum,
        target,
        prediction=None,
        target_cmap=plt.cm.binary_r,
        fontsize: float = 5,
        labelxy=(-0.1, 1),
        max_figure_height_cm: float = 22,
        panel_height_cm: float = 3,
        max_figure_width_cm: float = 18,
        panel_width_cm: float = 3.6,
        title1: str = "input",
        title2: str = "target",
        title3: str = "prediction",
    ):
        lum = as_hex_sequence(lum, 1, "lum")
        target = as_hex_sequence(target, None, "target")
        if prediction is not None:
            prediction = as_hex_sequence(prediction, target.shape[2], "prediction")
        self.n_samples, self.frames = lum.shape[:2]
        n_panels = 2 if prediction is None else 3
        self.fig, self.axes = panel_figure(
            n_panels,
            max_figure_height_cm,
            panel_height_cm,
            max_figure_width_cm,
            panel_width_cm,
            fontsize=fontsize,
        )
        self.animations = [
            HexScatter(
                lum,
                fig=self.fig,
                ax=self.axes[0],
                cmap=plt.cm.binary_r,
                cbar=False,
                labelxy=labelxy,
                fontsize=fontsize,
            )
        ]
        for data, ax in zip([target, prediction], self.axes[1:]):
            if data is None:
                continue
            if data.shape[2] == 2:
                animation = HexFlow(
                    data, fig=self.fig, ax=ax, cwheel=True, label="", fontsize=fontsize
                )
            else:
                animation = HexScatter(
                    data[:, :, :1],
                    fig=self.fig,
                    ax=ax,
                    cmap=target_cmap,
                    cbar=False,
                    label="",
                    fontsize=fontsize,
                )
            self.animations.append(animation)
        self.titles = [title1, title2, title3][:n_panels]
        super().__init__(fig=self.fig)

    def init(self, frame: int = 0) -> None:
        """Draws all panels at ``frame`` and sets their titles."""
        super().init(frame)
        for ax, title in zip(self.axes, self.titles):
            ax.set_title(title, fontsize=self.animations[0].fontsize)
