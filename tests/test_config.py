"""Packaged Hydra config: defaults, overrides, typos (solver.md §1, network.md §9)."""

from pathlib import Path

import pytest
from datamate import Namespace
from omegaconf.errors import MissingMandatoryValue

from flyvis.utils.config_utils import (
    CONFIG_PATH,
    ConfigError,
    config_groups,
    get_config_from_file,
    get_default_config,
)

IDS = ["task_name=flow", "ensemble_and_network_id=0045/000"]


@pytest.fixture(scope="module")
def default():
    return get_default_config(IDS)


def test_config_files_are_packaged():
    expected = {
        "solver.yaml",
        "network/network.yaml",
        "network/connectome/connectome.yaml",
        "network/dynamics/dynamics.yaml",
        "network/edge_config/edge_config.yaml",
        "network/edge_config/sign/sign.yaml",
        "network/edge_config/syn_count/syn_count.yaml",
        "network/edge_config/syn_strength/syn_strength.yaml",
        "network/node_config/node_config.yaml",
        "network/node_config/bias/bias.yaml",
        "network/node_config/time_const/time_const.yaml",
        "network/stimulus_config/stimulus_config.yaml",
        "optim/optim.yaml",
        "penalizer/penalizer.yaml",
        "scheduler/scheduler.yaml",
        "task/task.yaml",
        "task/photoflow.yaml",
    }
    assert expected <= set(config_groups())
    assert Path(CONFIG_PATH).name == "config"


def test_solver_top_level(default):
    assert isinstance(default, Namespace)
    assert default.network_name == "flow/0045/000"
    assert default.train is True and default.resume is False
    assert default.checkpoint_only is False and default.overfit is False
    assert default.delete_if_exists is False and default.save_environment is False
    assert default.description == "???"
    assert "hydra" not in default
    assert list(default.keys())[-5:] == [
        "network",
        "task",
        "optim",
        "penalizer",
        "scheduler",
    ]


def test_missing_values_stay_strings():
    config = get_default_config()
    assert config.task_name == "???"
    assert config.ensemble_and_network_id == "???"
    assert config.network_name == "???"


def test_network_defaults(default):
    net = default.network.to_dict()
    assert list(net) == [
        "connectome",
        "dynamics",
        "edge_config",
        "node_config",
        "stimulus_config",
    ]
    assert net["connectome"] == {
        "type": "ConnectomeFromAvgFilters",
        "file": "fib25-fib19_v2.2.json",
        "extent": 15,
        "n_syn_fill": 1,
    }
    assert net["dynamics"] == {
        "type": "PPNeuronIGRSynapses",
        "activation": {"type": "relu"},
    }
    assert list(net["edge_config"]) == ["sign", "syn_count", "syn_strength"]
    assert list(net["node_config"]) == ["bias", "time_const"]
    assert net["node_config"]["bias"] == {
        "type": "RestingPotential",
        "groupby": ["type"],
        "initial_dist": "Normal",
        "mode": "sample",
        "requires_grad": True,
        "seed": 0,
        "mean": 0.5,
        "std": 0.05,
        "symmetric": [],
        "penalize": {"activity": True},
    }
    assert net["node_config"]["time_const"] == {
        "type": "TimeConstant",
        "groupby": ["type"],
        "initial_dist": "Value",
        "value": 0.05,
        "requires_grad": True,
    }
    assert net["edge_config"]["sign"] == {
        "type": "SynapseSign",
        "form": "value",
        "requires_grad": False,
        "initial_dist": "Value",
        "groupby": ["source_type", "target_type"],
    }
    assert net["edge_config"]["syn_count"] == {
        "type": "SynapseCount",
        "initial_dist": "Lognormal",
        "mode": "mean",
        "requires_grad": False,
        "std": 1.0,
        "groupby": ["source_type", "target_type", "dv", "du"],
        "penalize": {"function": "weight_decay", "kwargs": {"lambda": 0}},
    }
    assert net["edge_config"]["syn_strength"] == {
        "type": "SynapseCountScaling",
        "initial_dist": "Value",
        "requires_grad": True,
        "scale": 0.01,
        "clamp": "non_negative",
        "groupby": ["source_type", "target_type"],
        "penalize": {"function": "weight_decay", "kwargs": {"lambda": 0}},
    }
    assert net["stimulus_config"] == {"type": "Stimulus", "init_buffer": False}


def test_network_defaults_agree_with_network_module(default):
    from flyvis.network.defaults import DEFAULT_NETWORK_CONFIG

    for key, value in DEFAULT_NETWORK_CONFIG.items():
        assert default.network[key].to_dict() == value, key


def test_optim_penalizer_scheduler(default):
    assert default.optim.to_dict() == {
        "type": "Adam",
        "optim_dec": {"lr": 5e-05},
        "optim_net": {"lr": 5e-05},
    }
    assert default.penalizer.to_dict() == {
        "activity_penalty": {
            "activity_baseline": 5.0,
            "activity_penalty": 0.1,
            "stop_iter": 150000,
            "below_baseline_penalty_weight": 1.0,
            "above_baseline_penalty_weight": 0.1,
        },
        "optim": "SGD",
    }
    step = {"function": "stepwise", "start": 5e-05, "stop": 5e-06, "steps": 10}
    assert default.scheduler.to_dict() == {
        "lr_net": step,
        "lr_dec": step,
        "lr_pen": step,
        "dt": {"function": "stepwise", "start": 0.02, "stop": 0.02, "steps": 10},
        "chkpt_every_epoch": 300,
    }


def test_task_defaults(default):
    task = default.task.to_dict()
    assert task["dataset"] == {
        "type": "MultiTaskSintel",
        "tasks": ["flow"],
        "boxfilter": {"extent": 15, "kernel_size": 13},
        "vertical_splits": 3,
        "n_frames": 19,
        "center_crop_fraction": 0.7,
        "dt": 0.02,
        "augment": True,
        "random_temporal_crop": True,
        "all_frames": False,
        "resampling": True,
        "interpolate": True,
        "p_flip": 0.5,
        "p_rot": 0.5,
        "contrast_std": 0.2,
        "brightness_std": 0.1,
        "gaussian_white_noise": 0.08,
        "gamma_std": None,
        "_init_cache": True,
        "unittest": False,
        "flip_axes": [0, 1, 2, 3],
    }
    assert task["decoder"] == {
        "flow": {
            "type": "DecoderGAVP",
            "shape": [8, 2],
            "kernel_size": 5,
            "const_weight": 0.001,
            "n_out_features": None,
            "p_dropout": 0.5,
        }
    }
    assert task["loss"] == {"flow": "l2norm"}
    assert task["task_weights"] is None
    assert (task["batch_size"], task["n_iters"], task["n_folds"], task["fold"]) == (
        4,
        250000,
        4,
        1,
    )
    assert task["seed"] == 0 and task["original_split"] is True


def test_photoflow_task_and_interpolation():
    config = get_default_config([*IDS, "task=photoflow", "network.connectome.extent=4"])
    assert config.task.dataset.type == "MultiTaskPhotoFlow"
    assert config.task.original_split is True
    assert config.task.n_iters < 250000
    # the eye follows the network's lattice
    assert config.task.dataset.boxfilter.extent == 4
    assert config.task.decoder.flow.type == "DecoderGAVP"


def test_overrides_and_additions():
    config = get_default_config(
        [
            *IDS,
            "task.n_iters=10",
            "scheduler.lr_net.start=0.1",
            "+task.dataset.sintel_path=/x",
        ]
    )
    assert config.task.n_iters == 10
    assert config.optim.optim_net.lr == 0.1  # interpolation resolved after overriding
    assert config.scheduler.lr_pen.start == 0.1
    assert config.task.dataset.sintel_path == "/x"
    plain = get_default_config(IDS, as_namespace=False)
    assert type(plain) is dict and type(plain["task"]) is dict


@pytest.mark.parametrize(
    "override, level, valid",
    [
        ("task.n_iter=3", "task", "n_iters"),
        ("n_iters=3", "<top level>", "task_name"),
        (
            "network.edge_config.syn_strength.scal=2",
            "network.edge_config.syn_strength",
            "scale",
        ),
    ],
)
def test_typo_lists_valid_keys(override, level, valid):
    with pytest.raises(ConfigError) as info:
        get_default_config([*IDS, override])
    message = str(info.value)
    assert override.split("=")[0] in message
    assert f"Valid keys under {level}" in message
    assert valid in message
    assert isinstance(info.value, ValueError)


def test_unknown_group_option_lists_options():
    with pytest.raises(ConfigError, match="photoflow"):
        get_default_config([*IDS, "task=photflow"])


def test_get_config_from_file(tmp_path):
    raw = get_config_from_file(Path(CONFIG_PATH) / "solver.yaml", IDS)
    assert raw["network_name"] == "${task_name}/${ensemble_and_network_id}"
    assert raw["optim"]["optim_net"]["lr"] == "${scheduler.lr_net.start}"
    resolved = get_config_from_file(Path(CONFIG_PATH) / "solver.yaml", IDS, resolve=True)
    assert resolved["network_name"] == "flow/0045/000"
    with pytest.raises(MissingMandatoryValue):
        get_config_from_file(
            Path(CONFIG_PATH) / "solver.yaml", resolve=True, throw_on_missing=True
        )
    # relative paths are resolved against the calling file's directory
    local = tmp_path / "conf"
    local.mkdir()
    (local / "mine.yaml").write_text("a: 1\nb: ${a}\n")
    here = Path(__file__).resolve().parent
    rel = Path("..") / Path(*([".."] * (len(here.parts) - 1))) / local.relative_to("/")
    assert get_config_from_file(rel / "mine.yaml", resolve=True) == {"a": 1, "b": 1}
    with pytest.raises(FileNotFoundError):
        get_config_from_file(tmp_path / "missing.yaml")


def test_custom_config_dir(tmp_path):
    group = tmp_path / "network" / "edge_config" / "syn_strength"
    group.mkdir(parents=True)
    text = (
        Path(CONFIG_PATH) / "network/edge_config/syn_strength/syn_strength.yaml"
    ).read_text()
    (group / "mine.yaml").write_text(text.replace("scale: 0.01", "scale: 0.5"))
    config = get_default_config(
        [*IDS, "network/edge_config/syn_strength=mine"], config_dir=tmp_path
    )
    assert config.network.edge_config.syn_strength.scale == 0.5


def test_cpu_flow_experiment_preset_composes_the_recipe():
    config = get_default_config(
        overrides=[
            "+experiment=cpu_flow",
            "task_name=flow",
            "ensemble_and_network_id=0/0",
        ]
    )
    assert config.network.connectome.extent == 4
    assert config.network.edge_config.syn_strength.type == "SynapseCountNormalized"
    assert config.network.node_config.bias.type == "RestingPotentialAtGrey"
    assert config.network.node_config.bias.rest == 0.1
    assert dict(config.network.node_config.bias.rest_by_type)["T5d"] == 0.0
    assert config.task.dataset.type == "MultiTaskPhotoFlow"
    assert (config.task.batch_size, config.task.dataset.n_sequences) == (32, 480)
    assert list(config.task.decoder.flow.shape) == [16, 16, 2]
    assert config.scheduler.lr_net.start == 1e-3
    assert dict(config.optim.lr_scale) == {"edges_syn_strength": 0.05, "nodes_bias": 0.05}
    # command-line overrides still apply on top of the preset
    config = get_default_config(
        overrides=[
            "+experiment=cpu_flow",
            "task_name=flow",
            "ensemble_and_network_id=0/0",
            "task.batch_size=4",
        ]
    )
    assert config.task.batch_size == 4


def test_stage_presets_compose():
    ids = ["task_name=flow", "ensemble_and_network_id=0/0"]
    stage1 = get_default_config(overrides=["+experiment=cpu_flow_translation", *ids])
    assert stage1.task.dataset.motion.background_speed == [0.03, 0.08]
    assert stage1.task.n_iters == 2700
    stage2 = get_default_config(overrides=["+experiment=cpu_flow_t4t5", *ids])
    assert list(stage2.task.decoder.flow.cell_types) == [
        f"T{k}{d}" for k in (4, 5) for d in "abcd"
    ]
    assert stage2.task.decoder.flow.p_type_dropout == 0.5
    assert stage2.scheduler.lr_net.start == 2e-4
    # stage 3: the stage-2 movies, a frozen network and a read-out of all types
    stage3 = get_default_config(overrides=["+experiment=cpu_flow_decoder", *ids])
    assert stage3.task.dataset.motion == stage2.task.dataset.motion
    assert stage3.task.decoder.flow.cell_types is None
    assert stage3.task.decoder.flow.p_type_dropout == 0.0
    assert stage3.optim.lr_scale is None
    for group, name in (
        ("node_config", "bias"),
        ("node_config", "time_const"),
        ("edge_config", "syn_strength"),
    ):
        assert stage3.network[group][name].requires_grad is False, name
    assert stage3.task.n_iters == 1000
