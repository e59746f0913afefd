"""Launching one job per model of an ensemble (solver.md §7.3), through submitit.

flyvis 1.2.0 shells out to ``bsub``/``sbatch`` with a wrapped ``python script``
command. Here every job is a call of :func:`run_command` (a picklable top-level
function that runs a ``flyvis`` command such as ``train-single`` in-process),
submitted as one job array with submitit:

* ``launcher="local"``: :class:`submitit.LocalExecutor`, processes on this machine;
* ``launcher="slurm"``: :class:`submitit.SlurmExecutor` (partition, time, memory,
  GPUs, CPUs per task, array parallelism);
* ``launcher="debug"``: :class:`submitit.DebugExecutor`, in this process (tests).

The executor classes are used directly: ``submitit.AutoExecutor`` picks Slurm
whenever ``srun`` is installed. Logs and pickles of the jobs live under
``<ensemble dir>/submitit/<job id>/``; after a job ends its stdout and stderr are
also copied to ``<ensemble dir>/<i:04>_<command>.log`` (the 1.2.0 log name).
``<ensemble dir>/submitit/jobs.json`` maps models to their latest job ids.
"""

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

__all__ = [
    "LaunchOptions",
    "run_command",
    "launch_range",
    "model_status",
    "ensemble_status",
    "format_status",
    "incomplete_models",
    "ensemble_dir",
]

logger = logging.getLogger(__name__)

LAUNCHERS = ("local", "slurm", "debug")


@dataclass
class LaunchOptions:
    """Resources and executor choice of the jobs.

    Attributes:
        launcher: ``"local"`` (processes here), ``"slurm"`` or ``"debug"`` (in-process).
        partition: Slurm partition (``--partition``); ``None``: the cluster default.
        time_min: Time limit per job in minutes.
        mem_gb: Memory per job in GB (Slurm ``--mem``); ``None``: not requested.
        gpus: GPUs per job (Slurm ``--gpus-per-node``; local: visible GPUs); 0: none.
        cpus: CPUs per job (Slurm ``--cpus-per-task``; also torch's thread count).
        array_parallelism: At most this many array jobs run at once (Slurm).
        slurm_args: Extra ``sbatch`` options, e.g. ``{"qos": "high"}``.
    """

    launcher: str = "local"
    partition: Optional[str] = None
    time_min: int = 24 * 60
    mem_gb: Optional[float] = None
    gpus: int = 0
    cpus: int = 1
    array_parallelism: int = 256
    slurm_args: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.launcher not in LAUNCHERS:
            raise ValueError(
                f"unknown launcher {self.launcher!r}; expected one of {', '.join(LAUNCHERS)}"
            )
        for name in ("time_min", "cpus", "array_parallelism"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if int(self.gpus) < 0:
            raise ValueError(f"gpus must be >= 0, got {self.gpus!r}")


def run_command(
    command: str,
    argv: Sequence[str],
    results_dir: Optional[str] = None,
    n_threads: Optional[int] = None,
) -> int:
    """Runs ``flyvis <command> <argv>`` in this process (the function the jobs call).

    Args:
        command: A single-model command of
            :data:`flyvis.single_commands.JOB_COMMANDS`, e.g. ``"train-single"``.
        argv: Its arguments, e.g. ``["task_name=flow", "ensemble_and_network_id=0001/000"]``.
        results_dir: Results directory to use in the job (default: the job's
            environment decides, ``FLYVIS_ROOT_DIR``).
        n_threads: torch intra-op threads (default: torch's choice).

    Returns:
        0 (the command's exit status).

    Raises:
        RuntimeError: If the command exits with a non-zero status (the job fails).
    """
    import flyvis
    from flyvis.single_commands import JOB_COMMANDS as COMMANDS

    if results_dir is not None:
        flyvis.results_dir = Path(results_dir)
    if n_threads:
        import torch

        torch.set_num_threads(int(n_threads))
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; commands: {', '.join(COMMANDS)}")
    status = COMMANDS[command](list(argv))
    if status != 0:
        raise RuntimeError(
            f"flyvis {command} {' '.join(argv)} exited with status {status}"
        )
    return 0


def ensemble_dir(task_name: str, ensemble_id: Any) -> Path:
    """``<results_dir>/<task_name>/<ensemble_id:04>`` (not created)."""
    from flyvis.network.directories import get_results_dir

    return Path(get_results_dir()) / task_name / f"{int(ensemble_id):04}"


def _read_h5_or_none(path: Path) -> Optional[np.ndarray]:
    import h5py

    if not path.is_file():
        return None
    try:
        with h5py.File(path, "r") as f:
            return np.asarray(f["data"][()]).reshape(-1)
    except (OSError, KeyError):
        return None


def _requested_n_iters(overrides: Sequence[str]) -> Optional[int]:
    for item in overrides:
        key, _, value = str(item).lstrip("+").partition("=")
        if key == "task.n_iters":
            return int(value)
    return None


def model_status(path: Path, n_iters: Optional[int] = None) -> Dict[str, Any]:
    """Training progress of one model directory.

    Args:
        path: The model directory (``.../flow/0001/000``).
        n_iters: Target number of iterations (default: the stored ``task.n_iters``).

    Returns:
        ``{"exists", "iteration", "n_iters", "complete", "final_epe", "best_epe"}``;
        ``iteration`` is the number of iterations at the last checkpoint (0 if
        none), EPEs are ``None`` when ``validation/epe.h5`` is missing.
    """
    import yaml

    path = Path(path)
    status: Dict[str, Any] = {
        "exists": path.is_dir(),
        "iteration": 0,
        "n_iters": n_iters,
        "complete": False,
        "final_epe": None,
        "best_epe": None,
    }
    if not status["exists"]:
        return status
    if n_iters is None and (path / "_meta.yaml").is_file():
        meta = yaml.safe_load((path / "_meta.yaml").read_text()) or {}
        stored = ((meta.get("config") or {}).get("task") or {}).get("n_iters")
        status["n_iters"] = int(stored) if stored is not None else None
    chkpt_iter = _read_h5_or_none(path / "chkpt_iter.h5")
    has_chkpts = (path / "chkpts").is_dir() and any((path / "chkpts").glob("chkpt_*"))
    if chkpt_iter is not None and chkpt_iter.size and has_chkpts:
        status["iteration"] = int(chkpt_iter[-1]) + 1
    epe = _read_h5_or_none(path / "validation" / "epe.h5")
    if epe is not None and epe.size:
        status["final_epe"] = float(epe[-1])
        status["best_epe"] = float(np.nanmin(epe))
    status["complete"] = bool(
        has_chkpts
        and status["n_iters"] is not None
        and status["iteration"] >= status["n_iters"]
    )
    return status


def _jobs_file(edir: Path) -> Path:
    return edir / "submitit" / "jobs.json"


def _load_jobs(edir: Path) -> Dict[str, Dict[str, Any]]:
    try:
        return json.loads(_jobs_file(edir).read_text())
    except (OSError, ValueError):
        return {}


def _save_jobs(edir: Path, jobs: Dict[str, Dict[str, Any]]) -> None:
    path = _jobs_file(edir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jobs, indent=2, sort_keys=True))
    os.replace(tmp, path)


def ensemble_status(
    task_name: str,
    ensemble_id: Any,
    start: int,
    end: int,
    overrides: Sequence[str] = (),
    jobs: Optional[Dict[int, Any]] = None,
) -> List[Dict[str, Any]]:
    """Per-model status rows of ``models start..end-1`` of an ensemble.

    Args:
        task_name: E.g. ``"flow"``.
        ensemble_id: Ensemble number.
        start: First model index.
        end: End of the model range (exclusive).
        overrides: Training overrides (a ``task.n_iters=`` there is the target).
        jobs: Optional ``{model index: submitit Job}`` for live job states.

    Returns:
        One dict per model: ``model``, ``job_id``, ``state`` plus
        :func:`model_status`'s keys.
    """
    edir = ensemble_dir(task_name, ensemble_id)
    recorded = _load_jobs(edir)
    n_iters = _requested_n_iters(overrides)
    rows = []
    for i in range(start, end):
        row = {"model": f"{int(ensemble_id):04}/{i:03}", "job_id": None, "state": None}
        job = (jobs or {}).get(i)
        if job is not None:
            row["job_id"] = str(job.job_id)
            try:
                row["state"] = job.state
            except Exception:  # noqa: BLE001 - a status query must never fail the launch
                row["state"] = "UNKNOWN"
        elif f"{i:03}" in recorded:
            row["job_id"] = recorded[f"{i:03}"].get("job_id")
            row["state"] = recorded[f"{i:03}"].get("state")
        row.update(model_status(edir / f"{i:03}", n_iters=n_iters))
        rows.append(row)
    return rows


def format_status(rows: Sequence[Dict[str, Any]]) -> str:
    """A text table of :func:`ensemble_status` rows."""

    def fmt(value):
        return (
            "-"
            if value is None
            else f"{value:.4f}"
            if isinstance(value, float)
            else str(value)
        )

    header = ("model", "job id", "state", "iterations", "final val EPE", "best val EPE")
    lines = [header]
    for row in rows:
        iters = f"{row['iteration']}/{fmt(row['n_iters'])}"
        if row["complete"]:
            iters += " done"
        lines.append(
            (
                row["model"],
                fmt(row["job_id"]),
                fmt(row["state"]),
                iters,
                fmt(row["final_epe"]),
                fmt(row["best_epe"]),
            )
        )
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip()
        for line in lines
    )


def incomplete_models(
    task_name: str, ensemble_id: Any, start: int, end: int, overrides: Sequence[str] = ()
) -> List[int]:
    """Indices of models in ``start..end-1`` whose directory is not complete."""
    edir = ensemble_dir(task_name, ensemble_id)
    n_iters = _requested_n_iters(overrides)
    return [
        i
        for i in range(start, end)
        if not model_status(edir / f"{i:03}", n_iters=n_iters)["complete"]
    ]


def _executor(options: LaunchOptions, folder: Path, name: str):
    import submitit

    folder = str(folder / "%j")
    if options.launcher == "local":
        executor = submitit.LocalExecutor(folder=folder)
        params: Dict[str, Any] = {"timeout_min": int(options.time_min)}
        if options.gpus:
            params["gpus_per_node"] = int(options.gpus)
        executor.update_parameters(**params)
    elif options.launcher == "debug":
        executor = submitit.DebugExecutor(folder=folder)
    else:
        executor = submitit.SlurmExecutor(folder=folder)
        params = {
            "time": int(options.time_min),
            "cpus_per_task": int(options.cpus),
            "job_name": name,
            "array_parallelism": int(options.array_parallelism),
            "signal_delay_s": min(90, max(5, int(options.time_min) * 6)),
        }
        if options.partition:
            params["partition"] = options.partition
        if options.mem_gb:
            params["mem"] = f"{int(round(float(options.mem_gb) * 1024))}M"
        if options.gpus:
            params["gpus_per_node"] = int(options.gpus)
        params.update(options.slurm_args)
        executor.update_parameters(**params)
    return executor


def launch_range(
    start: int,
    end: int,
    ensemble_id: Any,
    task_name: str,
    command: str = "train-single",
    overrides: Sequence[str] = (),
    options: Optional[LaunchOptions] = None,
    models: Optional[Sequence[int]] = None,
    dry: bool = False,
    wait: bool = True,
    poll_s: float = 5.0,
) -> Dict[int, Any]:
    """Submits ``flyvis <command>`` for models ``start..end-1`` as one job array.

    Model ``i`` gets ``ensemble_and_network_id=<ensemble_id:04>/<i:03>`` and
    ``task_name=<task_name>`` appended to ``overrides``.

    Args:
        start: First model index.
        end: End of the model range (exclusive).
        ensemble_id: Ensemble number (``int`` or a numeric string like ``"0001"``).
        task_name: E.g. ``"flow"``.
        command: The per-model command (``train-single``, ``val-single``,
            ``synthetic-recordings-single``).
        overrides: Arguments passed to every job.
        options: Executor and resources (default: local processes).
        models: Only these model indices (e.g. from :func:`incomplete_models`).
        dry: Only log what would be submitted; nothing is created.
        wait: Block until all jobs end (Ctrl-C cancels them).
        poll_s: Polling interval while waiting (s).

    Returns:
        ``{model index: submitit Job}`` (empty for dry runs or no models).

    Raises:
        ValueError: For an invalid range or ensemble id.
    """
    from flyvis.network.directories import get_results_dir

    options = options or LaunchOptions()
    try:
        ensemble_id = int(ensemble_id)
    except (TypeError, ValueError):
        raise ValueError(f"ensemble_id must be an integer, got {ensemble_id!r}") from None
    if not 0 <= int(start) < int(end):
        raise ValueError(f"need 0 <= start < end, got start={start}, end={end}")
    indices = list(range(int(start), int(end))) if models is None else list(models)
    edir = ensemble_dir(task_name, ensemble_id)
    overrides = [str(o) for o in overrides]
    # options of the single-model command (``--loss_fns l2norm epe``) go after
    # the model's key=value items, so that a multi-value option cannot swallow them
    split = next((k for k, o in enumerate(overrides) if o.startswith("--")), None)
    head, tail = (
        (overrides, []) if split is None else (overrides[:split], overrides[split:])
    )
    argvs = [
        [
            *head,
            f"ensemble_and_network_id={ensemble_id:04}/{i:03}",
            f"task_name={task_name}",
            *tail,
        ]
        for i in indices
    ]
    for i, argv in zip(indices, argvs):
        logger.info(
            "%s job %04d: flyvis %s %s", options.launcher, i, command, " ".join(argv)
        )
    if dry or not indices:
        for i, argv in zip(indices, argvs):
            print(f"[dry run] model {i:03}: flyvis {command} {' '.join(argv)}")
        return {}

    edir.mkdir(parents=True, exist_ok=True)
    executor = _executor(options, edir / "submitit", f"{task_name}_{ensemble_id:04}")
    results_dir = str(get_results_dir())
    n = len(indices)
    job_list = executor.map_array(
        run_command,
        [command] * n,
        argvs,
        [results_dir] * n,
        [int(options.cpus)] * n,
    )
    jobs = dict(zip(indices, job_list))
    recorded = _load_jobs(edir)
    for i, job in jobs.items():
        recorded[f"{i:03}"] = {
            "job_id": str(job.job_id),
            "command": command,
            "state": None,
        }
        print(
            f"Submitted model {ensemble_id:04}/{i:03}: job {job.job_id} ({options.launcher})"
        )
    _save_jobs(edir, recorded)
    if wait:
        wait_for_jobs(jobs, edir, command, poll_s=poll_s)
    return jobs


def wait_for_jobs(
    jobs: Dict[int, Any], edir: Path, command: str = "train-single", poll_s: float = 5.0
) -> None:
    """Waits until every job ended; copies logs; records final states.

    Ctrl-C cancels all jobs that are still running, then re-raises.

    Args:
        jobs: ``{model index: submitit Job}``.
        edir: Ensemble directory.
        command: Command name (log file names ``<i:04>_<command>.log``).
        poll_s: Polling interval (s).
    """
    try:
        while not all(job.done() for job in jobs.values()):
            time.sleep(poll_s)
    except KeyboardInterrupt:
        for job in jobs.values():
            if not job.done():
                job.cancel(check=False)
        raise
    recorded = _load_jobs(edir)
    stem = command.replace("-", "_")
    for i, job in jobs.items():
        state = "COMPLETED"
        try:
            job.result()
        except Exception as error:  # noqa: BLE001 - report, do not stop the others
            state = "FAILED"
            logger.warning(
                "Model %03d failed: %s", i, str(error).strip().splitlines()[-1:]
            )
        else:
            try:
                state = job.state or state
            except Exception:  # noqa: BLE001
                pass
            if state in ("UNKNOWN", "RUNNING", "PENDING"):
                state = "COMPLETED"
        recorded.setdefault(f"{i:03}", {})["state"] = state
        log = edir / f"{i:04}_{stem}.log"
        parts = []
        for path in (job.paths.stdout, job.paths.stderr):
            if Path(path).is_file():
                parts.append(Path(path).read_text(errors="replace"))
        if parts:
            log.write_text("\n".join(parts))
    _save_jobs(edir, recorded)
