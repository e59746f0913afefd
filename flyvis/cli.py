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
import logging
import shutil
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from flyvis.single_commands import (
    synthetic_recordings_single,
    train_single,
    val_single,
)

__all__ = ["main", "train_single", "init_config", "COMMANDS"]

logger = logging.getLogger(__name__)


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
    "val-single": val_single,
    "record": lambda argv: _launch_command("record", argv),
    "synthetic-recordings-single": synthetic_recordings_single,
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
