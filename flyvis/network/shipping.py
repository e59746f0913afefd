"""Copy a trained ensemble into the package as data (the shipped ``flow/0000``).

flyvis 1.2.0 users start from the pretrained ensemble ``flow/0000``. This
library trains its own and ships it inside the package
(:func:`~flyvis.network.directories.shipped_results_dir`). :func:`ship_ensemble`
makes the shipped copy from a results directory:

* models are renamed ``000, 001, ...`` in order of their minimal validation
  EPE (``validation/epe.h5``), so ``000`` is the best, and each ``_meta.yaml``
  records the new name and the directory it came from;
* kept: ``_meta.yaml``, the training and validation curves (``*.h5`` at the top
  and in ``validation``, ``validation_batch``, ``training``, ``training_batch``,
  rewritten without HDF5 chunking, same values) and the checkpoints with the
  network and decoder parameters (all, or with ``max_checkpoints`` the best one,
  the first, the last and evenly spaced others: a dropped checkpoint's
  validation values stay in the curves, and the best checkpoint is found by
  its number as before); dropped: optimiser and random states (the
  shipped models are for analysis and as initial parameters, not for
  ``resume=true``), analysis caches (``__cache__``), logs and recordings.

Run ``python -m flyvis.network.shipping <ensemble dir> [--dest DIR] [--max-checkpoints N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence, Union

import h5py
import numpy as np
import torch
import yaml

from flyvis.utils.chkpt_utils import checkpoint_index_to_path_map, read_h5

__all__ = [
    "ship_ensemble",
    "model_task_errors",
    "kept_checkpoints",
    "KEPT_FOLDERS",
    "DROPPED_KEYS",
]

KEPT_FOLDERS = ("validation", "validation_batch", "training", "training_batch")
DROPPED_KEYS = ("optim", "rng", "activity_optim")


def model_task_errors(ensemble_dir: Union[str, os.PathLike]) -> List[tuple]:
    """``(minimal validation EPE, model directory)`` of every model, best first.

    Args:
        ensemble_dir: Directory holding model directories ``000``, ``001``, ...

    Returns:
        Sorted list of ``(epe, path)``.

    Raises:
        FileNotFoundError: If a model has no ``validation/epe.h5`` or no model
            directory is found.
    """
    models = sorted(
        p for p in Path(ensemble_dir).iterdir() if p.name.isdigit() and p.is_dir()
    )
    if not models:
        raise FileNotFoundError(f"no model directories (000, 001, ...) in {ensemble_dir}")
    errors = []
    for model in models:
        file = model / "validation" / "epe.h5"
        if not file.is_file():
            raise FileNotFoundError(
                f"{file} is missing: the model cannot be ranked by its task error."
            )
        errors.append((float(np.nanmin(read_h5(file))), model))
    return sorted(errors, key=lambda e: e[0])


def _copy_h5(source: Path, target: Path) -> None:
    """Rewrites an h5 file contiguously (tiny files instead of 35 kB chunked ones)."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        for key in src.keys():
            dst.create_dataset(key, data=src[key][()])
            for name, value in src[key].attrs.items():
                dst[key].attrs[name] = value
        for name, value in src.attrs.items():
            dst.attrs[name] = value


def kept_checkpoints(model: Path, max_checkpoints: Optional[int] = None) -> List[int]:
    """Numbers of the checkpoints of ``model`` that a shipped copy keeps.

    Args:
        model: A model directory (``chkpts/chkpt_*``, ``validation/epe.h5``).
        max_checkpoints: Keep at most this many (at least 2); ``None`` keeps all.

    Returns:
        Sorted checkpoint numbers: all, or the best by validation EPE, the
        first, the last and evenly spaced others, ``max_checkpoints`` in all
        (3 where ``max_checkpoints`` is 2 and the best is neither first nor last).

    Raises:
        ValueError: If ``max_checkpoints < 2``.
    """
    indices, _ = checkpoint_index_to_path_map(model / "chkpts")
    if max_checkpoints is None or len(indices) <= max_checkpoints:
        return indices
    if max_checkpoints < 2:
        raise ValueError(f"max_checkpoints must be >= 2 (got {max_checkpoints}).")
    kept = {indices[0], indices[-1]}
    epe = model / "validation" / "epe.h5"
    if epe.is_file():
        best = int(np.nanargmin(read_h5(epe).reshape(-1)))
        if best in indices:
            kept.add(best)
    for position in np.linspace(0, len(indices) - 1, max_checkpoints).round():
        if len(kept) >= max_checkpoints:
            break
        kept.add(indices[int(position)])
    return sorted(kept)


def _ship_model(
    source: Path, target: Path, name: str, max_checkpoints: Optional[int] = None
) -> None:
    target.mkdir(parents=True)
    meta = yaml.safe_load((source / "_meta.yaml").read_text())
    config = meta.get("config", meta)
    task_name, ensemble_id, model_id = name.split("/")
    config["network_name"] = name
    for key, value in (
        ("ensemble_and_network_id", f"{ensemble_id}/{model_id}"),
        ("task_name", task_name),
    ):
        if key in config:
            config[key] = value
    meta["shipped_from"] = str(source)
    (target / "_meta.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    for file in sorted(source.glob("*.h5")):
        _copy_h5(file, target / file.name)
    for folder in KEPT_FOLDERS:
        if (source / folder).is_dir():
            (target / folder).mkdir()
            for file in sorted((source / folder).glob("*.h5")):
                _copy_h5(file, target / folder / file.name)
    (target / "chkpts").mkdir()
    kept = set(kept_checkpoints(source, max_checkpoints))
    for index, chkpt in zip(*checkpoint_index_to_path_map(source / "chkpts")):
        if index not in kept or chkpt.name.endswith(".tmp"):
            continue
        state = torch.load(chkpt, map_location="cpu", weights_only=False)
        for key in DROPPED_KEYS:
            state.pop(key, None)
        torch.save(state, target / "chkpts" / chkpt.name)


def ship_ensemble(
    ensemble_dir: Union[str, os.PathLike],
    dest: Optional[Union[str, os.PathLike]] = None,
    name: str = "flow/0000",
    max_megabytes: float = 10.0,
    max_checkpoints: Optional[int] = None,
) -> Path:
    """Copies an ensemble into the package data, best model first.

    The copy is assembled in a temporary directory next to ``dest`` and moved
    into place at the end, so an interrupted call leaves the old copy intact.

    Args:
        ensemble_dir: The trained ensemble (``<results>/<task>/<ensemble>``).
        dest: Target ensemble directory (default: the shipped ``flow/0000``,
            ``shipped_results_dir() / name``); replaced if it exists.
        name: ``"<task>/<ensemble>"`` recorded in the models' configs.
        max_megabytes: Refuse (``ValueError``) a copy larger than this.
        max_checkpoints: Checkpoints kept per model (see :func:`kept_checkpoints`;
            default: all).

    Returns:
        The target directory.

    Raises:
        FileNotFoundError: See :func:`model_task_errors`.
        ValueError: If the copy exceeds ``max_megabytes``.
    """
    from flyvis.network.directories import shipped_results_dir

    dest = Path(dest) if dest is not None else shipped_results_dir() / name
    ranked = model_task_errors(ensemble_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        for index, (_, model) in enumerate(ranked):
            _ship_model(
                model, staging / f"{index:03d}", f"{name}/{index:03d}", max_checkpoints
            )
        size = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file()) / 1e6
        if size > max_megabytes:
            raise ValueError(
                f"the shipped ensemble would take {size:.1f} MB (> {max_megabytes} MB): "
                "keep fewer checkpoints (max_checkpoints, --max-checkpoints) or ship fewer models."
            )
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
            staging.rename(dest)
            shutil.rmtree(old)
        else:
            staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: ``python -m flyvis.network.shipping ENSEMBLE_DIR [--dest DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ensemble_dir")
    parser.add_argument("--dest", default=None)
    parser.add_argument("--name", default="flow/0000")
    parser.add_argument("--max-megabytes", type=float, default=10.0)
    parser.add_argument(
        "--max-checkpoints", type=int, default=None, help="checkpoints kept per model"
    )
    args = parser.parse_args(argv)
    ranked = model_task_errors(args.ensemble_dir)
    dest = ship_ensemble(
        args.ensemble_dir, args.dest, args.name, args.max_megabytes, args.max_checkpoints
    )
    size = sum(f.stat().st_size for f in dest.rglob("*") if f.is_file()) / 1e6
    for index, (epe, model) in enumerate(ranked):
        print(f"{args.name}/{index:03d}  min validation EPE {epe:.4f}  from {model}")
    print(f"shipped {len(ranked)} models to {dest} ({size:.2f} MB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
