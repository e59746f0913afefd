"""Ensemble-level analysis commands: ``flyvis ensemble-analysis`` and ``responses-norm``.

``ensemble-analysis`` computes the UMAP embedding and Gaussian-mixture
clustering of the models of an ensemble for every cell type (from their
responses to naturalistic movies) and pickles each to
``<ensemble>/umap_and_clustering/<cell_type>.pickle``, where
``Ensemble.clustering`` and ``Ensemble.cluster_indices`` load them.
``responses-norm`` computes and stores the per-model, per-cell-type response
normalisation constants. Both take the ensemble as ``task_name=flow
ensemble_id=0000`` or ``--task_name flow --ensemble_id 0000`` (flyvis 1.2.0
accepted both).

Source: ``spec/solver.md`` §7.2 (commands), ``spec/analysis.md`` §6-7.
"""

from __future__ import annotations

import argparse
import logging
from typing import List, Optional, Sequence

__all__ = ["ensemble_analysis", "responses_norm"]

logger = logging.getLogger(__name__)


def _hybrid(argv: Sequence[str], keys: Sequence[str]) -> List[str]:
    """Turns ``key=value`` arguments for ``keys`` into ``--key value``."""
    out: List[str] = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and not key.startswith("-") and key in keys:
            out += [f"--{key}", value]
        else:
            out.append(arg)
    return out


def _ensemble_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--task_name", required=True, help="e.g. flow")
    parser.add_argument("--ensemble_id", required=True, help="e.g. 0000 (or 0)")
    parser.add_argument(
        "--validation_subdir",
        default="validation",
        help="sub-directory of the validation losses used to rank the models",
    )
    parser.add_argument(
        "--loss_file_name", default="epe", help="validation loss file (default epe)"
    )
    return parser


def _open_ensemble(args):
    from flyvis.analysis.views import Ensemble

    ensemble_id = args.ensemble_id
    if str(ensemble_id).isdigit():
        ensemble_id = f"{int(ensemble_id):04}"
    return Ensemble(
        f"{args.task_name}/{ensemble_id}",
        best_checkpoint_fn_kwargs={
            "validation_subdir": args.validation_subdir,
            "loss_file_name": args.loss_file_name,
        },
    )


def ensemble_analysis(argv: Sequence[str] = ()) -> int:
    """``flyvis ensemble-analysis``: clusters the ensemble's models per cell type.

    Args:
        argv: Arguments after the command name, e.g. ``["task_name=flow",
            "ensemble_id=0000", "--cell_types", "T4c", "T5c"]``.

    Returns:
        The exit status (0 on success, 2 for bad arguments).
    """
    parser = _ensemble_parser(
        "flyvis ensemble-analysis",
        "UMAP + Gaussian-mixture clustering of an ensemble's models for every cell "
        "type, pickled to <ensemble>/umap_and_clustering/<cell_type>.pickle.",
    )
    parser.add_argument(
        "--functions",
        nargs="*",
        default=["umap_and_clustering_main"],
        choices=["umap_and_clustering_main"],
        help="analyses to run (only umap_and_clustering_main)",
    )
    parser.add_argument(
        "--delete_umap_and_clustering",
        action="store_true",
        help="recompute and overwrite stored clusterings",
    )
    parser.add_argument(
        "--cell_types",
        nargs="*",
        default=None,
        help="cell types to cluster (default: all of the connectome)",
    )
    try:
        args = parser.parse_args(_hybrid(argv, ("task_name", "ensemble_id")))
    except SystemExit as error:
        return int(error.code or 0)

    from flyvis.analysis.clustering import (
        compute_umap_and_clustering,
        store_umap_and_clustering,
    )
    from flyvis.utils.names import check_names

    ensemble = _open_ensemble(args)
    folder = ensemble.dir.path / "umap_and_clustering"
    cell_types = ensemble.cell_types
    if args.cell_types:
        cell_types = check_names(args.cell_types, ensemble.cell_types)
    if args.delete_umap_and_clustering and folder.exists():
        for cell_type in cell_types:
            (folder / f"{cell_type}.pickle").unlink(missing_ok=True)
    todo = [t for t in cell_types if not (folder / f"{t}.pickle").exists()]
    for cell_type in sorted(set(cell_types) - set(todo), key=cell_types.index):
        print(f"{cell_type}: already stored in {folder / f'{cell_type}.pickle'}")
    # responses to the naturalistic movies, computed once (cached per model)
    responses = ensemble.naturalistic_stimuli_responses() if todo else None
    stored, failed = 0, []
    for cell_type in todo:
        try:
            clustering = compute_umap_and_clustering(
                ensemble, cell_type, responses=responses
            )
        except ValueError as error:  # e.g. every model flat for this cell type
            failed.append(cell_type)
            print(f"{cell_type}: not clustered ({error})")
            continue
        store_umap_and_clustering(ensemble, cell_type, clustering)
        stored += 1
        print(
            f"{cell_type}: {clustering.n_clusters} clusters, "
            f"{int(clustering.embedding.mask.sum())}/{len(ensemble)} models embedded"
        )
    print(f"Stored {stored} clusterings in {folder}")
    if failed:
        print(f"Not clustered: {', '.join(failed)}")
    return 0


def responses_norm(argv: Sequence[str] = ()) -> int:
    """``flyvis responses-norm``: stores the ensemble's response normalisation.

    Args:
        argv: Arguments after the command name, e.g. ``["task_name=flow",
            "ensemble_id=0000"]``.

    Returns:
        The exit status (0 on success, 2 for bad arguments).
    """
    parser = _ensemble_parser(
        "flyvis responses-norm",
        "Per-model, per-cell-type response normalisation constants (from "
        "naturalistic-movie responses), stored with the ensemble.",
    )
    parser.add_argument("--force", action="store_true", help="recompute stored norms")
    parser.add_argument(
        "--rectified", action="store_true", help="norms of rectified responses"
    )
    try:
        args = parser.parse_args(_hybrid(argv, ("task_name", "ensemble_id")))
    except SystemExit as error:
        return int(error.code or 0)
    ensemble = _open_ensemble(args)
    norms = ensemble.responses_norm(
        rectified=args.rectified, force_recompute=args.force, store=True
    )
    print(f"Response norms of {len(ensemble)} models: shape {tuple(norms.shape)}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:  # pragma: no cover
    """Runs ``ensemble-analysis`` (for ``python -m flyvis.analysis.commands``)."""
    import sys

    return ensemble_analysis(sys.argv[1:] if argv is None else argv)
