"""The single-model commands: ``train-single``, ``val-single``, ``synthetic-recordings-single``.

These are the commands the jobs of an ensemble run (:func:`flyvis.utils.compute_cloud_utils.run_command`
looks them up in :data:`JOB_COMMANDS`); :mod:`flyvis.cli` dispatches to them and
:mod:`flyvis.launch` launches them per model. Kept apart from both so that the
job runner needs neither (no import cycle). Heavy modules are imported inside
the commands, so importing this module is fast.

Source: flyvis 1.2.0 ``flyvis_cli`` (spec ``solver.md`` §7).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Callable, Dict, Sequence, Tuple

__all__ = [
    "train_single",
    "val_single",
    "synthetic_recordings_single",
    "JOB_COMMANDS",
    "STORED_KEYS",
]

#: Config keys stored with a trained network (as flyvis 1.2.0's train_single).
STORED_KEYS = (
    "network_name",
    "network",
    "task",
    "optim",
    "penalizer",
    "scheduler",
    "description",
)

_TRAIN_EPILOG = """\
overrides (Hydra syntax, see `flyvis train-single --cfg` for all keys):
  task_name=flow ensemble_and_network_id=0045/000   required: the network's name
  task=photoflow                offline real-photo optic flow (default: task=task, Sintel)
  task.n_iters=1000             number of training iterations
  network.connectome.extent=8   smaller network (also sets the photo-flow eye)
  description='my run'          free text stored with the network
  seed=7                        seed of decoder init and data order (default: from the name)
  resume=true                   continue from the last checkpoint (records written
                                after it by a killed run are dropped); may be combined
                                with a new task.n_iters=N, other changes are an error
  overfit=true                  train on one sequence without augmentation
  warm_start.network=flow/0007/000   start the network from another model's
                                checkpoint (warm_start.checkpoint=best or a position)
  delete_if_exists=true         start over if the directory exists
  train=false checkpoint_only=true   only evaluate and write a checkpoint
  +task.dataset.sintel_path=/data/Sintel   add a key that is not in the config

example:
  flyvis train-single task_name=flow ensemble_and_network_id=0045/000 \\
      task=photoflow task.n_iters=1000 description='quick start'
"""


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="[%(asctime)s] %(module)s:%(lineno)d %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def _format_epe(results: Dict[str, Dict[str, float]]) -> str:
    parts = []
    for task, values in results.items():
        prefix = "" if len(results) == 1 else f"{task}: "
        parts.append(
            f"{prefix}{values['epe']:.4f} (zero-flow predictor: {values['epe_zero']:.4f})"
        )
    return "; ".join(parts)


def _save_environment(path: Path) -> None:
    """Copies the package source to ``<path>/source`` and lists installed packages."""
    from importlib import metadata

    import flyvis

    source = path / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(
        flyvis.package_dir,
        source / "flyvis",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            packages[name] = dist.version
    environment = {"python": sys.version, "packages": dict(sorted(packages.items()))}
    (path / "conda_environment.json").write_text(json.dumps(environment, indent=2))


def train_single(argv: Sequence[str] = ()) -> int:
    """``flyvis train-single``: trains one network from Hydra overrides.

    Args:
        argv: Arguments after the command name.

    Returns:
        The exit status (0 on success).
    """
    parser = argparse.ArgumentParser(
        prog="flyvis train-single",
        description="Train a single flyvis network (config: the packaged solver.yaml).",
        epilog=_TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides key=value")
    parser.add_argument(
        "--config-dir", default=None, help="extra directory with custom config files"
    )
    parser.add_argument(
        "--device", default=None, help="cpu, cuda, cuda:1 (default: auto)"
    )
    parser.add_argument(
        "--cfg", action="store_true", help="print the composed config and exit"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    args = parser.parse_args(list(argv))
    _setup_logging(args.verbose)

    from flyvis.utils.config_utils import ConfigError, get_default_config

    try:
        config = get_default_config(args.overrides, config_dir=args.config_dir)
    except ConfigError as error:
        parser.error(str(error))
    if args.cfg:
        import yaml

        print(yaml.safe_dump(config.to_dict(), sort_keys=False))
        return 0
    missing = [k for k in ("task_name", "ensemble_and_network_id") if config[k] == "???"]
    if missing:
        parser.error(
            "missing required overrides: "
            + " ".join(f"{k}=..." for k in missing)
            + " (e.g. task_name=flow ensemble_and_network_id=0045/000)"
        )

    from flyvis.network.directories import get_results_dir
    from flyvis.solver import MultiTaskSolver
    from flyvis.solver.resume import prepare_resume, repair_history, stored_config

    resume = _truthy(config.resume)
    stored = {key: config[key] for key in STORED_KEYS}
    if config.get("warm_start") and config.warm_start.get("network"):
        stored["warm_start"] = config.warm_start
    if _explicit_seed(config.get("seed", None)):
        # provenance: a seed other than the one derived from the name
        stored["seed"] = int(config.seed)
    if resume:
        path = Path(get_results_dir()) / config.network_name
        if stored.get("description") == "???":
            # free text: a resumed run without one keeps the stored description
            previous = stored_config(path).get("description")
            if previous is not None:
                stored["description"] = previous
        changed = prepare_resume(path, stored)
        if changed:
            print(f"Resuming with changed {', '.join(changed)}.")
    seed = _seed_everything(config.get("seed", None), str(config.network_name))
    print(f"Seed: {seed}")
    solver = MultiTaskSolver(
        config=stored,
        delete_if_exists=False if resume else _truthy(config.delete_if_exists),
        device=args.device,
    )
    print(f"Results directory: {solver.path}")
    if _truthy(config.save_environment):
        _save_environment(solver.path)
    initial_checkpoint = True
    if resume and solver.checkpoints:
        solver.recover(checkpoint=-1)
        repair_history(solver.path, solver.iteration, solver._curr_chkpt_ind)
        _reset_best_validation_loss(solver)
        initial_checkpoint = False
        print(f"Resumed at iteration {solver.iteration}.")
    elif resume:
        # nothing to resume from (killed before the first checkpoint): start over
        repair_history(solver.path, 0, -1)
        print("No checkpoint to resume from; training from the start.")

    before = solver.evaluate()
    print(f"Validation EPE before training: {_format_epe(before)}")
    trained = False
    if _truthy(config.train):
        solver.train(
            overfit=_truthy(config.overfit),
            initial_checkpoint=initial_checkpoint,
            progress=not args.no_progress,
        )
        trained = True
    if _truthy(config.checkpoint_only):
        solver.checkpoint()
    if trained:
        after = solver.evaluate()
        print(f"Validation EPE after training:  {_format_epe(after)}")
    print(f"Trained {solver.iteration} iterations; results in {solver.path}")
    return 0


def _reset_best_validation_loss(solver) -> None:
    """The best validation loss so far, from the history kept by the repair.

    ``recover`` read it before records of an interrupted checkpoint were
    dropped; if that checkpoint had set a new minimum, the resumed run would
    never mark the recomputed one as best.
    """
    import h5py
    import numpy as np

    loss = Path(solver.path) / "validation" / "loss.h5"
    if loss.is_file():
        with h5py.File(loss, "r") as f:
            values = np.asarray(f["data"][()], dtype=float).reshape(-1)
        if values.size and np.isfinite(values).any():
            solver._val_loss = float(np.nanmin(values))


def _explicit_seed(seed) -> bool:
    """Whether ``seed`` is set (not ``None``/``null``: derived from the name)."""
    return seed is not None and not (
        isinstance(seed, str) and seed.lower() in {"null", "none", ""}
    )


def _seed_everything(seed, network_name: str) -> int:
    """Seeds torch, numpy and random; ``None`` derives the seed from the name.

    Without this every model of an ensemble would start from torch's fixed
    default seed, with identical decoder weights and data order.
    """
    import random
    import zlib

    import numpy as np
    import torch

    if not _explicit_seed(seed):
        seed = zlib.crc32(network_name.encode())
    seed = int(seed)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return seed


def _single_parser(prog: str, description: str):
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "items",
        nargs="*",
        help="task_name=flow ensemble_and_network_id=0001/000 (required)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda (default: auto)")
    parser.add_argument("--validation_subdir", default="validation")
    return parser


def _single_args(parser, argv) -> Tuple[argparse.Namespace, str]:
    args, unknown = parser.parse_known_args(list(argv))
    values = {}
    for item in [*args.items, *unknown]:
        key, sep, value = item.partition("=")
        if not sep or item.startswith("-"):
            parser.error(f"unrecognized argument {item!r}")
        values[key.split(":")[0]] = value
    missing = [k for k in ("task_name", "ensemble_and_network_id") if k not in values]
    if missing:
        parser.error(
            "missing required "
            + " ".join(f"{k}=..." for k in missing)
            + " (e.g. task_name=flow ensemble_and_network_id=0001/000)"
        )
    return args, f"{values['task_name']}/{values['ensemble_and_network_id']}"


def val_single(argv: Sequence[str] = ()) -> int:
    """``flyvis val-single``: evaluates every checkpoint of one model.

    Writes ``<model>/<validation_subdir>/<fn>.h5`` (one value per checkpoint).

    Args:
        argv: ``task_name=... ensemble_and_network_id=...`` and options.

    Returns:
        0 on success.
    """
    parser = _single_parser(
        "flyvis val-single",
        "Evaluate every checkpoint of one trained model on its validation set and write "
        "<model>/validation/<fn>.h5 (one value per checkpoint).\n\nexample:\n"
        "  flyvis val-single task_name=flow ensemble_and_network_id=0001/000",
    )
    parser.add_argument(
        "--loss_fns",
        nargs="+",
        default=["l2norm", "epe"],
        help="objectives (default: l2norm epe)",
    )
    parser.add_argument("--t_pre", type=float, default=0.5, help="grey warm-up (s)")
    args, name = _single_args(parser, argv)
    from flyvis.solver.validation import validate_all_checkpoints

    results = validate_all_checkpoints(
        name,
        loss_fns=args.loss_fns,
        t_pre=args.t_pre,
        validation_subdir=args.validation_subdir,
        device=args.device,
    )
    for k, fn in enumerate(args.loss_fns):
        print(f"{name} {fn}: " + " ".join(f"{v:.4f}" for v in results[:, k]))
    return 0


def synthetic_recordings_single(argv: Sequence[str] = ()) -> int:
    """``flyvis synthetic-recordings-single``: records one model's responses.

    Stores the central cell of every type on the validation sequences in
    ``<model>/recordings/`` (see :func:`flyvis.solver.validation.record_validation_activity`).

    Args:
        argv: ``task_name=... ensemble_and_network_id=...`` and options.

    Returns:
        0 on success.
    """
    parser = _single_parser(
        "flyvis synthetic-recordings-single",
        "Record one trained model's central-cell responses (every cell type) to its "
        "validation sequences into <model>/recordings/.\n\nexample:\n"
        "  flyvis synthetic-recordings-single task_name=flow "
        "ensemble_and_network_id=0001/000",
    )
    parser.add_argument(
        "--checkpoint", default="best", help="best or a checkpoint position"
    )
    parser.add_argument("--loss_file_name", default="epe")
    args, name = _single_args(parser, argv)
    from flyvis.solver.validation import record_validation_activity

    checkpoint = args.checkpoint if args.checkpoint == "best" else int(args.checkpoint)
    out = record_validation_activity(
        name,
        checkpoint=checkpoint,
        validation_subdir=args.validation_subdir,
        loss_file_name=args.loss_file_name,
        device=args.device,
    )
    print(
        f"{name}: recorded {out['activity'].shape} (sequences, frames, cell types) from "
        f"checkpoint {out['checkpoint']}"
    )
    return 0


#: The commands an ensemble job can run, by CLI name.
JOB_COMMANDS: Dict[str, Callable[[Sequence[str]], int]] = {
    "train-single": train_single,
    "val-single": val_single,
    "synthetic-recordings-single": synthetic_recordings_single,
}
