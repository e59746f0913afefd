"""The ``flyvis`` command-line interface.

Commands::

    flyvis train --ensemble_id 0001 --task_name flow --start 0 --end 2 [overrides]
    flyvis train-single task_name=flow ensemble_and_network_id=0045/000 [overrides]
    flyvis validate|record --ensemble_id 0001 --task_name flow --start 0 --end 2
    flyvis val-single|synthetic-recordings-single task_name=flow ensemble_and_network_id=0001/000
    flyvis download-pretrained
    flyvis ensemble-analysis|responses-norm task_name=flow ensemble_id=0001
    flyvis init-config [--output-dir DIR] [--config-groups GROUP ...]
    flyvis --help

``train-single`` takes Hydra overrides of the packaged training config exactly
as flyvis 1.2.0 (``task.n_iters=1000``, ``description='test'``, group selection
``task=photoflow``, ``+new.key=value``) and trains one network into
``<results_dir>/<task_name>/<ensemble_and_network_id>``; ``resume=true``
continues from the last checkpoint. Heavy modules (torch, the network) are
imported inside the commands, so ``flyvis --help`` is fast.

Differences to flyvis 1.2.0: commands run in-process (no sub-processes);
one command per call (1.2.0 chained several); ensembles are launched through
submitit (:mod:`flyvis.utils.compute_cloud_utils`); ``flyvis --help`` returns 0
(1.2.0 returned 1); ``resume=true`` does not write an extra checkpoint before
continuing and accepts a changed ``task.n_iters``.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

__all__ = ["main", "train_single", "init_config", "COMMANDS"]

logger = logging.getLogger(__name__)

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
    from flyvis.solver.resume import prepare_resume, repair_history

    resume = _truthy(config.resume)
    stored = {key: config[key] for key in STORED_KEYS}
    if resume:
        changed = prepare_resume(Path(get_results_dir()) / config.network_name, stored)
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


def _seed_everything(seed, network_name: str) -> int:
    """Seeds torch, numpy and random; ``None`` derives the seed from the name.

    Without this every model of an ensemble would start from torch's fixed
    default seed, with identical decoder weights and data order.
    """
    import random
    import zlib

    import numpy as np
    import torch

    if seed is None or (isinstance(seed, str) and seed.lower() in {"null", "none", ""}):
        seed = zlib.crc32(network_name.encode())
    seed = int(seed)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return seed


def init_config(argv: Sequence[str] = ()) -> int:
    """``flyvis init-config``: copies the packaged config for customisation.

    Args:
        argv: Arguments after the command name.

    Returns:
        The exit status (0 on success).

    Raises:
        ValueError: If config groups were given and none of them is valid.
    """
    from flyvis.utils.config_utils import CONFIG_PATH, config_groups

    parser = argparse.ArgumentParser(
        prog="flyvis init-config",
        description="Copy the default training config (or some groups of it) for editing.",
    )
    parser.add_argument("--output-dir", default=".", help="target directory (default: .)")
    parser.add_argument(
        "--config-groups",
        nargs="*",
        default=None,
        help="groups or files, e.g. network/edge_config/syn_strength (default: all)",
    )
    args = parser.parse_args(list(argv))
    output = Path(args.output_dir).expanduser().resolve()
    source = Path(CONFIG_PATH)

    if not args.config_groups:
        target = output / "flyvis_config"
        shutil.copytree(
            source,
            target,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        config_dir = target
        copied = ["(all)"]
    else:
        valid = config_groups(source)
        copied = []
        for group in args.config_groups:
            group = group.strip("/")
            if group.startswith("config/"):
                group = group[len("config/") :]
            if group not in valid:
                print(
                    f"Unknown config group {group!r}; valid groups: {', '.join(valid)}",
                    file=sys.stderr,
                )
                continue
            src, dst = source / group, output / group
            if src.is_dir():
                shutil.copytree(
                    src,
                    dst,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            copied.append(group)
        if not copied:
            raise ValueError(
                f"none of the config groups {args.config_groups} exists; valid groups: "
                f"{', '.join(valid)}"
            )
        config_dir = output
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "README.md").write_text(_README.format(config_dir=config_dir))
    print(f"Copied config {', '.join(copied)} to {config_dir}")
    return 0


_README = """\
# Custom flyvis training configs

This directory mirrors the packaged config tree of flyvis (`flyvis/config`).
To use a custom variant, add a file **with a new name** next to the default
one (files named like the defaults are shadowed by the packaged ones), e.g.
`network/edge_config/syn_strength/my_strength.yaml`, and select it by its
group path when training:

    flyvis train-single task_name=flow ensemble_and_network_id=0045/000 \\
        network/edge_config/syn_strength=my_strength --config-dir {config_dir}

Single values need no file: `task.n_iters=1000`.
"""


def _analysis_command(name: str, argv: Sequence[str]) -> int:
    from flyvis.analysis import commands

    return getattr(commands, name)(argv)


#: Command name -> function(argv) -> exit status.
COMMANDS: Dict[str, Callable[[Sequence[str]], int]] = {
    "train": lambda argv: _launch_command("train", argv),
    "train-single": train_single,
    "validate": lambda argv: _launch_command("validate", argv),
    "val-single": lambda argv: _launch_command("val_single", argv),
    "record": lambda argv: _launch_command("record", argv),
    "synthetic-recordings-single": lambda argv: _launch_command(
        "synthetic_recordings_single", argv
    ),
    "download-pretrained": lambda argv: _launch_command("download_pretrained", argv),
    "ensemble-analysis": lambda argv: _analysis_command("ensemble_analysis", argv),
    "responses-norm": lambda argv: _analysis_command("responses_norm", argv),
    "init-config": init_config,
}


def _launch_command(name: str, argv: Sequence[str]) -> int:
    """Runs a command of :mod:`flyvis.launch` (imported on use, keeps --help fast)."""
    from flyvis import launch

    return getattr(launch, name)(argv)


_HELP = """\
usage: flyvis <command> [arguments]

Connectome-constrained models of the fly visual system.

commands:
  train          train models --start..--end of an ensemble, one job each (local
                 processes or --launcher slurm), e.g. --ensemble_id 0001
                 --task_name flow --start 0 --end 2 task=photoflow task.n_iters=1000
  train-single   train one network (Hydra overrides, e.g. task_name=flow
                 ensemble_and_network_id=0045/000 task=photoflow task.n_iters=1000)
  validate       val-single for every model of a range (one job each)
  val-single     evaluate every checkpoint of one model (validation/<fn>.h5)
  record         synthetic-recordings-single for every model of a range
  synthetic-recordings-single
                 record one model's central-cell responses (recordings/)
  download-pretrained
                 download the pretrained ensemble (needs network access)
  ensemble-analysis
                 cluster an ensemble's models per cell type (UMAP + Gaussian
                 mixture), stored in <ensemble>/umap_and_clustering/
  responses-norm store the ensemble's response normalisation constants
  init-config    copy the default training config for customisation

`flyvis <command> --help` describes a command.
"""


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``flyvis`` console script.

    Args:
        argv: Arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 1 on errors or without a command,
        2 for invalid arguments.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_HELP)
        return 0 if argv else 1
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(
            f"flyvis: unknown command {command!r}; commands: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 1
    try:
        return COMMANDS[command](rest)
    except SystemExit as exit_:  # argparse: --help (0) or usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else 1
    except (ValueError, FileExistsError, FileNotFoundError, OverflowError) as error:
        print(f"flyvis {command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
