"""Animations of stimuli, responses and flow fields (matplotlib).

Play them in a notebook (``animate_in_notebook``; in plain scripts the frames
are just drawn; ``animate_in_notebook(html=True)`` returns a self-contained
JavaScript player as ``IPython.display.HTML``, ``to_jshtml()`` its HTML
string), render stills (``plot``), or export them as GIF
(``save_gif``, Pillow), MP4 (``save_mp4``, needs ffmpeg) or via PNG frames
(``to_vid``)::

    from flyvis.analysis import animations

    animations.HexScatter(rendered, vmin=0, vmax=1).animate_in_notebook()
    animations.SintelSample(lum[None], flow[None]).save_gif("sample.gif")

Importing this package changes no global matplotlib state.
"""

from flyvis.analysis.animations.animations import (
    Animation,
    AnimationCollector,
    convert,
    find_ffmpeg,
)
from flyvis.analysis.animations.hexflow import HexFlow
from flyvis.analysis.animations.hexscatter import HexScatter, StimulusResponse
from flyvis.analysis.animations.imshow import Imshow
from flyvis.analysis.animations.sintel import SintelSample
from flyvis.analysis.animations.traces import MultiTrace, Trace

__all__ = [
    "Animation",
    "AnimationCollector",
    "convert",
    "find_ffmpeg",
    "HexFlow",
    "HexScatter",
    "Imshow",
    "MultiTrace",
    "SintelSample",
    "StimulusResponse",
    "Trace",
]
