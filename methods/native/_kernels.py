"""Kernels shared by the native methods: score matrix -> edge table, and one run per pseudotime lineage."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from bench.arrays import dense
from bench.edges import make_edges
from methods.pseudotime import compute_pseudotime, lineages, merge_lineages


def edges_from_matrix(weights: np.ndarray, genes: Sequence[str], *, tfs: Sequence[str] | None = None,
                      keep: np.ndarray | None = None) -> pd.DataFrame:
    """Ranked edges ``genes[i] -> genes[j]`` with weight ``weights[i, j]`` (rows regulate columns).

    Parameters
    ----------
    weights
        Genes x genes scores.
    keep
        Boolean genes x genes mask of the pairs to report; default every pair but self-loops.
    tfs
        When given, only pairs whose regulator is in ``tfs`` (the scores themselves used every gene).
    """
    genes = np.asarray(genes, dtype=str)
    i, j = np.nonzero(~np.eye(len(genes), dtype=bool) if keep is None else keep)
    if tfs is not None:
        on = np.isin(genes[i], np.asarray(list(tfs), dtype=str))
        i, j = i[on], j[on]
    return make_edges(genes[i], genes[j], weights[i, j])


def per_lineage(adata, pseudotime, one_lineage: Callable[[np.ndarray, np.ndarray, np.ndarray], pd.DataFrame], *,
                seed: int = 0) -> pd.DataFrame:
    """Run ``one_lineage(x, t, genes)`` on each lineage's cells and merge the tables (max weight per pair).

    ``x`` is the lineage's cells x genes (float64), ``t`` their pseudotime; ``pseudotime`` may be 1-D or one
    column per lineage with NaN off-lineage (BEELINE's convention); ``None`` = the cached PAGA-rooted DPT.
    """
    if pseudotime is None:
        pseudotime = compute_pseudotime(adata, seed=seed)
    x_all = dense(adata.X, np.float64)
    genes = np.asarray(adata.var_names, dtype=object)
    return merge_lineages([one_lineage(x_all[idx], t, genes) for _, idx, t in lineages(pseudotime, adata.n_obs)])
