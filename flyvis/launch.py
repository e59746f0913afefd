"""Ensemble and per-model commands of the ``flyvis`` CLI (solver.md §7.2).

* ``flyvis train``    — one ``train-single`` job per model (submitit job array);
* ``flyvis validate`` — one ``val-single`` job per model;
* ``flyvis record``   — one ``synthetic-recordings-single`` job per model;
* ``flyvis val-single`` / ``synthetic-recordings-single`` — one model, in-process;
* ``flyvis download-pretrained`` — the released models (needs network access).

The launching itself lives in :mod:`flyvis.utils.compute_cloud_utils`.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from flyvis.single_commands import (  # noqa: F401  (re-exported)
    synthetic_recordings_single,
    val_single,
)

__all__ = [
    "train",
    "validate",
    "record",
    "val_single",
    "synthetic_recordings_single",
    "download_pretrained",
]

_LAUNCH_EPILOG = """\
launchers:
  --launcher local   (default) one process per model on this machine (submitit.LocalExecutor)
  --launcher slurm   a Slurm job array (submitit.SlurmExecutor): --partition, --time,
                     --mem, --gpus, --cpus, --array-parallelism; extra sbatch options
                     with --slurm-arg key=value (e.g. --slurm-arg qos=high)
  --launcher debug   in this process, one model after the other (for debugging)

Job logs: <results_dir>/<task_name>/<ensemble_id>/submitit/<job id>/ and, once a job
ended, <ensemble dir>/<i:04>_{stem}.log. The table printed at the end lists per model
the job id, its state, iterations done and the final/best validation EPE.

overrides (Hydra syntax, forwarded to every `flyvis {single}` job):
{overrides}
examples:
  flyvis {name} --ensemble_id 0001 --task_name flow --start 0 --end 2 {example}
  flyvis {name} --ensemble_id 0001 --task_name flow --end 50 --launcher slurm \\
      --partition gpu --gpus 1 --cpus 4 --mem 16 --time 1440 {example}
"""

_TRAIN_OVERRIDES = """\
  task=photoflow task.n_iters=1000    any key of the training config (flyvis train-single --cfg)
  network.connectome.extent=8         e.g. a smaller network
  resume=true                         continue every model from its last checkpoint
  +task.dataset.sintel_path=/data     add a key that is not in the config
"""


def _launch_parser(name: str, single: str, overrides: str, example: str):
    parser = argparse.ArgumentParser(
        prog=f"flyvis {name}",
        description=f"Run `flyvis {single}` for models start..end-1 of an ensemble, "
        "one job per model.",
        epilog=_LAUNCH_EPILOG.format(
            name=name,
            single=single,
            stem=single.replace("-", "_"),
            overrides=overrides,
            example=example,
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--ensemble_id",
        "--ensemble-id",
        required=True,
        type=int,
        help="ensemble number, e.g. 1 or 0001",
    )
    parser.add_argument("--task_name", "--task-name", required=True, help="e.g. flow")
    parser.add_argument("--start", type=int, default=0, help="first model (default 0)")
    parser.add_argument(
        "--end", type=int, default=50, help="end of the range (exclusive, default 50)"
    )
    parser.add_argument(
        "--launcher", choices=("local", "slurm", "debug"), default="local"
    )
    parser.add_argument(
        "--partition", "--q", default=None, help="Slurm partition (1.2.0: --q)"
    )
    parser.add_argument(
        "--time", type=int, default=24 * 60, help="time limit per job in minutes"
    )
    parser.add_argument("--mem", type=float, default=None, help="memory per job in GB")
    parser.add_argument("--gpus", type=int, default=0, help="GPUs per job (default 0)")
    parser.add_argument("--gpu", default=None, help='1.2.0 syntax "num=1" (sets --gpus)')
    parser.add_argument(
        "--cpus", "--nP", type=int, default=1, help="CPUs per job (default 1)"
    )
    parser.add_argument(
        "--array-parallelism",
        type=int,
        default=256,
        help="at most this many Slurm array tasks at once",
    )
    parser.add_argument(
        "--slurm-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra submitit Slurm parameter, repeatable",
    )
    parser.add_argument("--dry", action="store_true", help="only print the jobs")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="return after submitting (default: wait and print the status)",
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="only print the status table of the range and exit",
    )
    parser.add_argument("overrides", nargs="*", help="key=value overrides for every job")
    return parser


def _parse(
    parser, argv: Sequence[str], forward_all: bool = False
) -> Tuple[argparse.Namespace, List[str]]:
    args, unknown = parser.parse_known_args(list(argv))
    extra = [a for a in unknown if forward_all or ("=" in a and not a.startswith("-"))]
    bad = [a for a in unknown if a not in extra]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)}")
    return args, [*args.overrides, *extra]


def _options(args, parser):
    from flyvis.utils.compute_cloud_utils import LaunchOptions

    gpus = args.gpus
    if args.gpu:
        try:
            gpus = int(str(args.gpu).split("=")[-1])
        except ValueError:
            parser.error(f'--gpu expects "num=N", got {args.gpu!r}')
    slurm_args = {}
    for item in args.slurm_arg:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--slurm-arg expects KEY=VALUE, got {item!r}")
        slurm_args[key] = value
    try:
        return LaunchOptions(
            launcher=args.launcher,
            partition=args.partition,
            time_min=args.time,
            mem_gb=args.mem,
            gpus=gpus,
            cpus=args.cpus,
            array_parallelism=args.array_parallelism,
            slurm_args=slurm_args,
        )
    except ValueError as error:
        parser.error(str(error))


def _launch(
    name: str, single: str, argv, overrides_help: str, example: str, extra_flags=None
) -> int:
    from flyvis.utils import compute_cloud_utils as ccu

    parser = _launch_parser(name, single, overrides_help, example)
    forwarded = {}
    if extra_flags:
        # options of the single-model command, re-emitted for every job
        forwarded = extra_flags(parser) or {}
    args, overrides = _parse(parser, argv, forward_all=single != "train-single")
    for dest, flag in forwarded.items():
        value = getattr(args, dest)
        if value is not None:
            values = value if isinstance(value, list) else [value]
            overrides += [flag, *map(str, values)]
    if not 0 <= args.start < args.end:
        parser.error(f"need 0 <= --start < --end, got {args.start} and {args.end}")
    if args.status:
        rows = ccu.ensemble_status(
            args.task_name, args.ensemble_id, args.start, args.end, overrides
        )
        print(ccu.format_status(rows))
        return 0
    options = _options(args, parser)
    models = None
    if single == "train-single":
        _check_overrides(parser, overrides)
        if args.resubmit_failed:
            models = ccu.incomplete_models(
                args.task_name, args.ensemble_id, args.start, args.end, overrides
            )
            if not models:
                print("All models are complete; nothing to resubmit.")
            else:
                print(f"Resubmitting incomplete models {models} with resume=true.")
                overrides = [o for o in overrides if not o.startswith("resume=")]
                overrides.append("resume=true")
            if not models:
                rows = ccu.ensemble_status(
                    args.task_name, args.ensemble_id, args.start, args.end, overrides
                )
                print(ccu.format_status(rows))
                return 0
    jobs = ccu.launch_range(
        args.start,
        args.end,
        args.ensemble_id,
        args.task_name,
        command=single,
        overrides=overrides,
        options=options,
        models=models,
        dry=args.dry,
        wait=not args.no_wait,
    )
    if args.dry:
        return 0
    rows = ccu.ensemble_status(
        args.task_name,
        args.ensemble_id,
        args.start,
        args.end,
        overrides,
        jobs=jobs if args.no_wait else None,
    )
    print(ccu.format_status(rows))
    if args.no_wait:
        return 0
    failed = [
        f"{i:03}" for i, job in jobs.items() if job.state in ("FAILED",) or _failed(job)
    ]
    if failed:
        print(
            f"Jobs of models {', '.join(failed)} failed; see the logs in "
            f"{ccu.ensemble_dir(args.task_name, args.ensemble_id)}.",
            file=sys.stderr,
        )
        return 1
    return 0


def _failed(job) -> bool:
    try:
        job.result()
    except Exception:  # noqa: BLE001 - any job error counts as a failure
        return True
    return False


def _check_overrides(parser, overrides: Sequence[str]) -> None:
    """Composes the config once here, so typos fail before anything is submitted."""
    from flyvis.utils.config_utils import ConfigError, get_default_config

    names = {o.split("=")[0] for o in overrides}
    if names & {"ensemble_and_network_id", "task_name"}:
        parser.error(
            "ensemble_and_network_id/task_name are set per job; use --ensemble_id "
            "and --task_name"
        )
    try:
        get_default_config([*overrides, "task_name=x", "ensemble_and_network_id=0/0"])
    except ConfigError as error:
        parser.error(str(error))


def train(argv: Sequence[str] = ()) -> int:
    """``flyvis train``: trains models ``start..end-1`` of an ensemble, one job each.

    Args:
        argv: Arguments after the command name (see ``flyvis train --help``).

    Returns:
        0 if every job succeeded (or for ``--dry``/``--status``/``--no-wait``), else 1.
    """

    def flags(parser):
        parser.add_argument(
            "--resubmit-failed",
            "--resubmit_failed",
            action="store_true",
            help="submit only models whose directory is not complete (fewer iterations "
            "than task.n_iters or no checkpoint); they resume from their last checkpoint",
        )

    return _launch(
        "train",
        "train-single",
        argv,
        _TRAIN_OVERRIDES,
        "task=photoflow task.n_iters=1000",
        flags,
    )


def validate(argv: Sequence[str] = ()) -> int:
    """``flyvis validate``: ``val-single`` for every model of a range (one job each).

    Args:
        argv: Arguments after the command name (see ``flyvis validate --help``).

    Returns:
        0 if every job succeeded, else 1.
    """

    def flags(parser):
        parser.add_argument(
            "--loss_fns", nargs="+", default=None, help="objectives (default: l2norm epe)"
        )
        parser.add_argument("--t_pre", type=float, default=None, help="grey warm-up (s)")
        parser.add_argument("--validation_subdir", default=None)
        parser.add_argument("--device", default=None, help="cpu, cuda (default: auto)")
        return {
            "device": "--device",
            "loss_fns": "--loss_fns",
            "t_pre": "--t_pre",
            "validation_subdir": "--validation_subdir",
        }

    return _launch(
        "validate",
        "val-single",
        argv,
        "  --loss_fns l2norm epe    objectives to evaluate (val-single option)\n",
        "",
        extra_flags=flags,
    )


def record(argv: Sequence[str] = ()) -> int:
    """``flyvis record``: ``synthetic-recordings-single`` for every model of a range.

    Args:
        argv: Arguments after the command name (see ``flyvis record --help``).

    Returns:
        0 if every job succeeded, else 1.
    """

    def flags(parser):
        parser.add_argument("--checkpoint", default=None, help="best or an index")
        parser.add_argument("--loss_file_name", default=None)
        parser.add_argument("--validation_subdir", default=None)
        parser.add_argument("--device", default=None, help="cpu, cuda (default: auto)")
        return {
            "device": "--device",
            "checkpoint": "--checkpoint",
            "loss_file_name": "--loss_file_name",
            "validation_subdir": "--validation_subdir",
        }

    return _launch(
        "record",
        "synthetic-recordings-single",
        argv,
        "  --checkpoint best        which checkpoint (or an index)\n",
        "",
        extra_flags=flags,
    )


#: Google Drive v3 listing of the released archives (solver.md §7.2).
_DRIVE_URL = "https://www.googleapis.com/drive/v3/files"
_ARCHIVES = {
    "results_pretrained_models.zip": "71c78d4070556a536b13b23ee3139cd2788aa2a9d07d430a223b4edead281db1",
    "results_umap_and_clustering.zip": "6300ec1e678cde4d95300ac88e697b75fda32f6404ebe9a50f71e9f653aa9b19",
}


def download_pretrained(argv: Sequence[str] = ()) -> int:
    """``flyvis download-pretrained``: the released models (needs network access).

    Checks that the download host is reachable (short timeout) and otherwise
    explains where the archives would go and how to install them by hand.

    Args:
        argv: Options (see ``--help``).

    Returns:
        0 on success, 1 without network access (or on a failed download).
    """
    import flyvis

    parser = argparse.ArgumentParser(
        prog="flyvis download-pretrained",
        description="Download the pretrained ensemble (results/flow/0000/000-049) and its "
        "UMAP/clustering results into flyvis.root_dir. Needs network access to "
        "www.googleapis.com (Google Drive).",
        epilog="Archives and SHA-256:\n"
        + "\n".join(f"  {k}  {v}" for k, v in _ARCHIVES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--skip_large_files", action="store_true", help="(no effect, as 1.2.0)"
    )
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="connection timeout (s)"
    )
    parser.add_argument(
        "--root_dir", default=None, help="target (default flyvis.root_dir)"
    )
    args = parser.parse_args(list(argv))
    root = Path(args.root_dir) if args.root_dir else Path(flyvis.root_dir)
    results = Path(flyvis.results_dir) if not args.root_dir else root / "results"
    from flyvis.network.directories import shipped_results_dir

    shipped = shipped_results_dir() / "flow" / "0000"
    if shipped.is_dir():
        n_models = len([p for p in shipped.iterdir() if p.name.isdigit()])
        print(
            f"flyvis download-pretrained: an ensemble flow/0000 of {n_models} models trained "
            f"by this library ships with the package ({shipped}); EnsembleView('flow/0000') "
            "and NetworkView('flow/0000/000') use it with no download. A results/flow/0000 "
            f"under {root} takes precedence over it.",
            file=sys.stderr,
        )
    import socket

    try:
        socket.create_connection(
            ("www.googleapis.com", 443), timeout=args.timeout
        ).close()
    except OSError as error:
        print(
            f"flyvis download-pretrained: no network access ({error}).\n"
            f"The download needs https://www.googleapis.com (Google Drive). The archives "
            f"{', '.join(_ARCHIVES)} would be saved to and extracted in {root}, so the "
            f"models land in {results}/flow/0000/000 ... 049.\nOn a machine with access, "
            f"run this command there (or download the archives by hand, check their "
            f"SHA-256 shown in --help, and unzip them into {root}).",
            file=sys.stderr,
        )
        return 1
    print(
        "flyvis download-pretrained: the host is reachable, but this clean-room build does "
        "not embed the Drive folder id and API key of flyvis 1.2.0; download "
        f"{', '.join(_ARCHIVES)} by hand, verify the SHA-256 (--help) and unzip into {root}.",
        file=sys.stderr,
    )
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:  # pragma: no cover - convenience
    """Runs ``flyvis train`` with ``argv`` (default ``sys.argv[1:]``)."""
    return train(sys.argv[1:] if argv is None else argv)
