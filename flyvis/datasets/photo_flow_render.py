"""Scene sampling and exact rendering of the photo-flow movies.

The layers, their similarity transforms, the cartesian frames and the exact
ground-truth flow of :class:`flyvis.datasets.photo_flow.MultiTaskPhotoFlow`
(see that module for the conventions), and the rendering onto the hex lattice.
"""

import contextvars
import logging
import math
import time
from contextlib import contextmanager
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
)

import numpy as np
import torch
import torch.nn.functional as F

from flyvis.datasets.photo_flow_specs import MotionRanges, sample_sequence_specs
from flyvis.datasets.photo_sources import load_photo

logger = logging.getLogger(__name__)


#: Version of the rendering algorithm (part of the cache key).
RENDER_VERSION = 1


class CartesianSequence(NamedTuple):
    """A rendered cartesian sequence.

    Attributes:
        lum: Luminance ``(frames, H, W)`` in ``[0, 1]``; frame ``k`` is image
            ``k + 1``.
        flow: Flow ``(frames, 2, H, W)`` in **pixels per frame**, image axes
            (x right, y down): motion from image ``k`` to ``k + 1`` of the
            content visible at each pixel of image ``k + 1``.
        layer: Index ``(frames, H, W)`` (uint8) of the topmost layer at each
            pixel (0 = background).
    """

    lum: torch.Tensor
    flow: torch.Tensor
    layer: torch.Tensor


def _poses(layer: Mapping[str, Any], n_images: int) -> Tuple[np.ndarray, ...]:
    """Translation (n, 2), angle (n,) and scale (n,) of images 0..n-1 (float64)."""
    tau = np.arange(n_images, dtype=np.float64) - (n_images - 1) / 2
    position = np.asarray(layer["position"], dtype=np.float64)
    velocity = np.asarray(layer["velocity"], dtype=np.float64)
    acceleration = np.asarray(layer["acceleration"], dtype=np.float64)
    translation = (
        position[None]
        + velocity[None] * tau[:, None]
        + 0.5 * acceleration[None] * tau[:, None] ** 2
    )
    angle = layer["angle"] + layer["angular_velocity"] * tau
    scale = np.exp(layer["log_scale"] + layer["zoom_rate"] * tau)
    return translation, angle, scale


def _layer_matrices(layer: Mapping[str, Any], n_images: int) -> Tuple[np.ndarray, ...]:
    """Affine maps of images ``1 .. n_images - 1`` as ``(frames, 2, 3)`` float64 arrays.

    Returns:
        ``inverse``: screen ``p`` -> layer coordinates ``q = R(-theta)(p - T)/s``;
        ``flow``: screen ``p`` -> flow ``p - P_prev(P^-1(p)) = (1 - M) p - o`` with
        ``M = s_prev / s R(theta_prev - theta)`` and ``o = T_prev - M T``;
        ``forward``: layer ``q`` -> screen ``T + s R(theta) q``.
    """
    translation, angle, scale = _poses(layer, n_images)
    n = n_images - 1
    cos, sin, s = np.cos(angle[1:]), np.sin(angle[1:]), scale[1:]
    t = translation[1:]
    inverse = np.empty((n, 2, 3))
    inverse[:, 0, 0], inverse[:, 0, 1] = cos / s, sin / s
    inverse[:, 1, 0], inverse[:, 1, 1] = -sin / s, cos / s
    inverse[:, :, 2] = -np.einsum("nij,nj->ni", inverse[:, :, :2], t)
    forward = np.empty((n, 2, 3))
    forward[:, 0, 0], forward[:, 0, 1] = cos * s, -sin * s
    forward[:, 1, 0], forward[:, 1, 1] = sin * s, cos * s
    forward[:, :, 2] = t
    ratio = scale[:-1] / scale[1:]
    dtheta = angle[:-1] - angle[1:]
    m = np.empty((n, 2, 2))
    m[:, 0, 0], m[:, 0, 1] = ratio * np.cos(dtheta), -ratio * np.sin(dtheta)
    m[:, 1, 0], m[:, 1, 1] = ratio * np.sin(dtheta), ratio * np.cos(dtheta)
    offset = translation[:-1] - np.einsum("nij,nj->ni", m, t)
    flow = np.empty((n, 2, 3))
    flow[:, :, :2] = np.eye(2)[None] - m
    flow[:, :, 2] = -offset
    return inverse, flow, forward


def _bounding_box(
    layer: Mapping[str, Any], forward: np.ndarray, frame_size: Tuple[int, int]
) -> Optional[Tuple[int, int, int, int]]:
    """Pixel rows/cols ``(r0, r1, c0, c1)`` covered by a patch in any frame."""
    height, width = frame_size
    if layer["shape"] == "full":
        return 0, height, 0, width
    a, b = layer["half_size"]
    corners = np.array([[-a, -b, 1], [a, -b, 1], [a, b, 1], [-a, b, 1]]).T  # (3, 4)
    points = forward @ corners  # (frames, 2, 4), centred pixel coordinates
    x_min, x_max = points[:, 0].min(), points[:, 0].max()
    y_min, y_max = points[:, 1].min(), points[:, 1].max()
    c0 = max(0, math.floor(x_min + (width - 1) / 2) - 1)
    c1 = min(width, math.ceil(x_max + (width - 1) / 2) + 2)
    r0 = max(0, math.floor(y_min + (height - 1) / 2) - 1)
    r1 = min(height, math.ceil(y_max + (height - 1) / 2) + 2)
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def _mask(shape: str, qx: torch.Tensor, qy: torch.Tensor, half_size) -> torch.Tensor:
    a, b = half_size
    if shape == "rect":
        return (qx.abs() <= a) & (qy.abs() <= b)
    if shape == "ellipse":
        return (qx / a) ** 2 + (qy / b) ** 2 <= 1
    raise ValueError(f"unknown patch shape {shape!r}; valid: rect, ellipse.")


def _pixel_coordinates(
    box: Tuple[int, int, int, int], frame_size: Tuple[int, int], device: torch.device
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Centred pixel coordinates ``x, y`` of a box, each ``(h, w)`` float32."""
    height, width = frame_size
    r0, r1, c0, c1 = box
    rows = torch.arange(r0, r1, device=device, dtype=torch.float64) - (height - 1) / 2
    cols = torch.arange(c0, c1, device=device, dtype=torch.float64) - (width - 1) / 2
    py, px = torch.meshgrid(rows, cols, indexing="ij")
    return px.float().contiguous(), py.float().contiguous()


def _apply_affine(
    matrices: torch.Tensor, px: torch.Tensor, py: torch.Tensor, channels_last: bool
) -> torch.Tensor:
    """Evaluates affine maps ``(n, 2, 3)`` at pixel coordinates ``(h, w)``.

    Elementwise (no BLAS call: tiny matrix products spin-wait BLAS threads on
    busy machines).

    Returns:
        ``(n, h, w, 2)`` if ``channels_last`` else ``(n, 2, h, w)``.
    """
    if channels_last:
        shape = (matrices.shape[0], 1, 1, 2)
        x, y = px[..., None], py[..., None]
    else:
        shape = (matrices.shape[0], 2, 1, 1)
        x, y = px, py
    out = matrices[:, :, 0].reshape(shape) * x
    out.addcmul_(matrices[:, :, 1].reshape(shape), y)
    out.add_(matrices[:, :, 2].reshape(shape))
    return out


def render_cartesian(
    spec: Mapping[str, Any],
    frame_size: Tuple[int, int],
    n_frames: int,
    device: Optional[torch.device | str] = None,
    textures: Optional[Dict[str, torch.Tensor]] = None,
    frame_chunk: int = 8,
    region: Optional[Tuple[int, int, int, int]] = None,
) -> CartesianSequence:
    """Renders the cartesian frames and exact flow of one sequence.

    Layer ``i`` maps screen pixels ``p`` (centred, x right, y down) to its
    layer coordinates with the inverse of its similarity transform; the
    texture is sampled there with ``grid_sample`` (bilinear,
    ``align_corners=False``, reflection padding) and the flow is the exact
    affine function ``p - P_k(P_{k+1}^{-1}(p))``. Patches are processed within
    their bounding box only; frames are processed in small chunks so that the
    intermediates stay in the CPU cache.

    Args:
        spec: One entry of :func:`sample_sequence_specs`.
        frame_size: ``(H, W)`` in pixels.
        n_frames: Number of output frames ``N`` (images ``1 .. N`` are rendered;
            image 0 only enters the flow of the first frame).
        device: Device of the computation and the outputs (default CPU).
        textures: Optional cache ``photo name -> (1, 1, Hp, Wp)`` tensor on
            ``device``; filled as photos are loaded.
        frame_chunk: Number of frames processed at once.
        region: Optional pixel rows and columns ``(r0, r1, c0, c1)`` of the
            frame to render (default: the whole frame). Pixels are rendered
            exactly as in the whole frame; the outputs are ``(N, r1 - r0, c1 -
            c0)``.

    Returns:
        :class:`CartesianSequence` with ``lum (N, H, W)``, ``flow (N, 2, H, W)``
        (pixels/frame, x right, y down) and ``layer (N, H, W)``, or the
        ``region`` of them.

    Raises:
        ValueError: If the first layer is not ``"full"`` or ``region`` is not
            a non-empty part of the frame.
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    textures = {} if textures is None else textures
    height, width = frame_size
    layers = spec["layers"]
    if not layers or layers[0]["shape"] != "full":
        raise ValueError("the first layer of a sequence must have shape 'full'.")
    if region is None:
        region = (0, height, 0, width)
    y0, y1, x0, x1 = (int(i) for i in region)
    if not (0 <= y0 < y1 <= height and 0 <= x0 < x1 <= width):
        raise ValueError(
            f"region {tuple(region)} must be rows r0 < r1 and columns c0 < c1 "
            f"within the {height} x {width} frame."
        )

    prepared = []
    for layer in layers:
        name = layer["photo"]
        if name not in textures:
            textures[name] = torch.from_numpy(load_photo(name)).to(device)[None, None]
        texture = textures[name]
        photo_h, photo_w = texture.shape[-2:]
        inverse, flow_matrix, forward = _layer_matrices(layer, n_frames + 1)
        box = _bounding_box(layer, forward, frame_size)
        if box is not None:
            r0, r1, c0, c1 = box
            box = (max(r0, y0), min(r1, y1), max(c0, x0), min(c1, x1))
            if box[0] >= box[1] or box[2] >= box[3]:
                box = None
        if box is None:
            prepared.append(None)
            continue
        cx, cy = layer["texture_center"]
        # screen -> normalised texture coordinates (align_corners=False)
        to_grid = np.diag([2 / photo_w, 2 / photo_h]) @ (
            inverse + np.array([[0.0, 0.0, cx], [0.0, 0.0, cy]])[None]
        )
        prepared.append(
            dict(
                texture=texture,
                box=box,
                coordinates=_pixel_coordinates(box, frame_size, device),
                to_grid=torch.as_tensor(to_grid, dtype=torch.float32, device=device),
                to_flow=torch.as_tensor(flow_matrix, dtype=torch.float32, device=device),
                # texture pixel = grid * scale - centre, for the patch masks
                grid_scale=(photo_w / 2, photo_h / 2),
            )
        )

    lum = torch.empty((n_frames, y1 - y0, x1 - x0), device=device)
    flow = torch.empty((n_frames, 2, y1 - y0, x1 - x0), device=device)
    layer_index = torch.zeros(
        (n_frames, y1 - y0, x1 - x0), dtype=torch.uint8, device=device
    )
    for f0 in range(0, n_frames, frame_chunk):
        f1 = min(n_frames, f0 + frame_chunk)
        n = f1 - f0
        for index, (layer, prep) in enumerate(zip(layers, prepared)):
            if prep is None:
                continue
            r0, r1, c0, c1 = prep["box"]
            r0, r1, c0, c1 = r0 - y0, r1 - y0, c0 - x0, c1 - x0  # output pixels
            px, py = prep["coordinates"]
            grid = _apply_affine(prep["to_grid"][f0:f1], px, py, channels_last=True)
            values = F.grid_sample(
                prep["texture"].expand(n, -1, -1, -1),
                grid,
                mode="bilinear",
                padding_mode="reflection",
                align_corners=False,
            )[:, 0]
            layer_flow = _apply_affine(
                prep["to_flow"][f0:f1], px, py, channels_last=False
            )
            if index == 0:
                lum[f0:f1] = values
                flow[f0:f1] = layer_flow
                continue
            sx, sy = prep["grid_scale"]
            cx, cy = layer["texture_center"]
            qx = grid[..., 0] * sx - cx
            qy = grid[..., 1] * sy - cy
            mask = _mask(layer["shape"], qx, qy, layer["half_size"])
            region = (slice(f0, f1), slice(r0, r1), slice(c0, c1))
            lum[region] = torch.where(mask, values, lum[region])
            flow_region = (slice(f0, f1), slice(None), slice(r0, r1), slice(c0, c1))
            flow[flow_region] = torch.where(mask[:, None], layer_flow, flow[flow_region])
            layer_index[region] = layer_index[region].masked_fill(mask, index)
    return CartesianSequence(lum, flow, layer_index)


def render_hex(
    sequence: CartesianSequence, eye: Any, height: Optional[int] = None
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Renders a cartesian sequence onto the hexagonal lattice (Sintel conventions).

    Args:
        sequence: The cartesian sequence (flow in pixels/frame, y down).
        eye: A ``BoxEye``.
        height: Height in pixels of the whole frame, the unit of the flow
            (default: the sequence's height; pass it for a sequence rendered
            in a region, e.g. ``BoxEye.frame_region``).

    Returns:
        ``lum (N, 1, hexals)``: box-averaged luminance, and ``flow (N, 2,
        hexals)``: box sums of the flow in frame heights per frame with y up.
    """
    n_frames, frame_height, width = sequence.lum.shape
    lum = eye(sequence.lum[None], ftype="mean")[0]
    flow = eye(sequence.flow.reshape(1, 2 * n_frames, frame_height, width), ftype="sum")
    flow = flow.reshape(n_frames, 2, -1) / (frame_height if height is None else height)
    flow[:, 1] = -flow[:, 1]
    return lum, flow


@contextmanager
def _single_threaded_on_cpu(device: torch.device) -> Iterator[None]:
    """Runs CPU rendering with one intra-op thread (restored afterwards).

    The rendering consists of many medium-sized tensor operations. With
    several threads each one is a parallel region, and on a busy machine the
    threads spin-wait for each other: rendering the default dataset took 60 to
    190 s with 2 threads but a steady 17 s with 1 thread (on 2 shared cores).
    ``torch.set_num_threads`` is process-wide, so torch work in other Python
    threads also runs single-threaded while rendering.
    """
    if device.type != "cpu" or torch.get_num_threads() == 1:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _render_all(config: Mapping[str, Any], device: Optional[torch.device] = None):
    """Renders every sequence of a config; returns (specs, lum, flow) on CPU."""
    from flyvis.datasets.rendering.eye import BoxEye

    device = torch.device(device) if device is not None else torch.device("cpu")
    eye = BoxEye(**config["boxfilter"])
    specs = _specs_from_config(config)
    frame_size = tuple(config["frame_size"])
    # only the part of the frames that the eye reads is rendered (exactly the
    # same hexal values; ~7 % of the frame for extent 4, ~85 % for 15)
    region = eye.frame_region(frame_size)
    textures: Dict[str, torch.Tensor] = {}
    lums, flows = [], []
    start = time.perf_counter()
    with _single_threaded_on_cpu(device):
        for spec in specs:
            cartesian = render_cartesian(
                spec,
                frame_size,
                config["n_source_frames"],
                device=device,
                textures=textures,
                region=region,
            )
            lum, flow = render_hex(cartesian, eye, height=frame_size[0])
            lums.append(lum.cpu())
            flows.append(flow.cpu())
    logger.info(
        "Rendered %d photo-flow sequences in %.1f s.",
        len(specs),
        time.perf_counter() - start,
    )
    return specs, torch.stack(lums), torch.stack(flows)


def _specs_from_config(config: Mapping[str, Any]) -> List[Dict[str, Any]]:
    return sample_sequence_specs(
        n_sequences=config["n_sequences"],
        n_source_frames=config["n_source_frames"],
        frame_size=tuple(config["frame_size"]),
        photos=config["photos"],
        validation_photos=config["validation_photos"],
        n_foreground=tuple(config["n_foreground"]),
        motion=MotionRanges.from_dict(config["motion"]),
        seed=config["seed"],
    )


#: Device used when a :class:`RenderedPhotoFlow` is built (set by the dataset;
#: datamate passes only the config to ``__init__``).
_RENDER_DEVICE: contextvars.ContextVar[Optional[torch.device]] = contextvars.ContextVar(
    "photo_flow_render_device", default=None
)
