"""The seed notebooks' cells that touch the core API run as written.

Seed 000 (optic flow task) uses MultiTaskSintel; Sintel is not on disk here,
so the same cells run on MultiTaskPhotoFlow with the same arguments. Pretrained
model cells are not covered (no download possible).
"""

import numpy as np
import pytest
import torch
from torch.optim import Adam
from torch.utils.data import DataLoader

from flyvis.datasets.photo_flow import MultiTaskPhotoFlow
from flyvis.network import Network
from flyvis.task.decoder import DecoderGAVP
from flyvis.task.objectives import epe, l2norm
from flyvis.utils.activity_utils import LayerActivity


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return MultiTaskPhotoFlow(
        tasks=["flow"],
        boxfilter=dict(extent=15, kernel_size=13),
        n_sequences=4,
        n_frames=19,
        dt=1 / 50,
        augment=False,
        resampling=True,
        interpolate=True,
        root=tmp_path_factory.mktemp("renderings"),
    )


def test_seed000_responses_and_decoding(dataset, default_network):
    network = default_network
    layer_activity = LayerActivity(None, network.connectome, keepref=True)
    stationary_state = network.fade_in_state(1.0, dataset.dt, dataset[0]["lum"][[0]])
    responses = network.simulate(
        dataset[0]["lum"][None], dataset.dt, initial_state=stationary_state
    ).cpu()
    layer_activity.update(responses)
    r = layer_activity.central.T4c.squeeze().numpy()
    assert r.shape == (40,) and np.isfinite(r).all()
    time = np.arange(0, r.shape[0], 1) * dataset.dt
    assert time[-1] == pytest.approx(39 / 50)

    decoder = DecoderGAVP(network.connectome, shape=[8, 2], kernel_size=5)
    assert decoder.num_parameters.free == 7427
    data = dataset[0]
    lum, flow = data["lum"], data["flow"]
    stationary_state = network.fade_in_state(1.0, dataset.dt, lum[[0]])
    responses = network.simulate(lum[None], dataset.dt, initial_state=stationary_state)
    y_pred = decoder(responses)
    assert y_pred.shape == (1, 40, 2, 721)
    error = ((y_pred - flow) ** 2).sqrt().mean()
    assert torch.isfinite(error)


def test_seed000_single_batch_training_loop(dataset):
    network = Network(device="cpu")
    decoder = DecoderGAVP(network.connectome, shape=[8, 2], kernel_size=5)
    t_pre, dt, batch_size = 0.5, 1 / 50, 4
    train_loader = DataLoader(dataset, batch_size=batch_size)
    optimizer = Adam((*network.parameters(), *decoder.parameters()), lr=1e-3)
    batch = next(iter(train_loader))
    loss_fn = epe
    errors = []
    initial_state = network.steady_state(t_pre, dt, batch_size)
    for _ in range(4):
        lum, flow = batch["lum"], batch["flow"]
        optimizer.zero_grad()
        network.stimulus.zero()
        network.stimulus.add_input(lum)
        activity = network(network.stimulus(), dt=1 / 50, state=initial_state)
        y_pred = decoder(activity)
        batch_error = loss_fn(y_pred, flow)
        errors.append(batch_error.cpu().item())
        batch_error.backward()
        optimizer.step()
    assert all(np.isfinite(errors))
    assert errors[-1] < errors[0]  # it learns the batch
    assert l2norm(y_pred, flow) > 0


def test_seed001_boxeye_cells():
    import matplotlib

    matplotlib.use("Agg")
    import flyvis
    from flyvis.analysis.visualization import plots, plt_utils
    from flyvis.datasets.rendering import BoxEye

    receptors = BoxEye(extent=15, kernel_size=13)
    fig = receptors.illustrate()
    assert fig.axes
    sequences = np.random.default_rng(0).random((2, 20, 64, 64))
    fig, ax = plt_utils.init_plot(figsize=[1, 1], fontsize=5)
    ax = plt_utils.rm_spines(ax)
    ax.imshow(sequences[0, 0])
    single_frame = sequences[0, 0]
    single_frame = torch.tensor(single_frame, device=flyvis.device).float()
    single_frame = single_frame[None, None]
    receptors = BoxEye()
    rendered = receptors(single_frame)
    assert rendered.shape == (1, 1, 1, 721)
    fig, ax, _ = plots.quick_hex_scatter(
        rendered.squeeze(), vmin=0, vmax=1, cbar_x_offset=0, fontsize=5
    )
    radius = flyvis.utils.hex_utils.get_hextent(rendered.shape[-1])
    u, v = flyvis.utils.hex_utils.get_hex_coords(radius)
    x, y = flyvis.utils.hex_utils.hex_to_pixel(u, v)
    assert radius == 15 and len(x) == 721


def test_unknown_dataset_type_lists_valid_types():
    from flyvis.task.tasks import Task

    with pytest.raises(ValueError, match="valid types: .*MultiTaskPhotoFlow"):
        Task(
            dataset=dict(type="MultiTaskSintels"),
            decoder=dict(flow=dict(type="DecoderGAVP", shape=[8, 2], kernel_size=5)),
            loss=dict(flow="l2norm"),
        )


def test_empty_validation_split_is_a_clear_error(tmp_path):
    from flyvis.task.tasks import Task

    dataset = dict(
        type="MultiTaskPhotoFlow",
        n_sequences=2,
        boxfilter=dict(extent=2, kernel_size=13),
        photos=["camera", "astronaut", "coffee"],
        validation_photos=[],
        root=str(tmp_path),
    )
    with pytest.raises(ValueError, match="validation set is empty"):
        Task(
            dataset=dataset,
            decoder=dict(flow=dict(type="DecoderGAVP", shape=[8, 2], kernel_size=5)),
            loss=dict(flow="l2norm"),
            original_split=True,
        )
