"""The pseudotime handed to methods that need it: one float array (or one column per lineage) per dataset."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from bench.errors import BenchError
from methods.pseudotime import compute_pseudotime, lineages, read_pseudotime

PSEUDOTIME_OBS_KEYS = ("pseudotime", "dpt_pseudotime")


def resolve_pseudotime(adata, pseudotime=None, *, seed: int = 0) -> np.ndarray:
    """The pseudotime handed to methods: a float array aligned with ``adata``'s cells.

    One lineage gives a 1-D array, several give ``n_cells x n_lineages``; ``NaN`` marks a cell that is not on a
    lineage (BEELINE's ``PseudoTime.csv`` convention; methods run per lineage, see :mod:`methods.pseudotime`).

    ``pseudotime`` may be an array, a Series/DataFrame indexed by cell name, the name of an ``adata.obs`` column,
    or a file path (a ``cell,time`` CSV or BEELINE's ``PseudoTime.csv``, read by
    :func:`methods.pseudotime.read_pseudotime`). ``None`` uses ``adata.obs['pseudotime']`` (or
    ``['dpt_pseudotime']``) when present, else :func:`methods.pseudotime.compute_pseudotime` (diffusion
    pseudotime with a PAGA-chosen root, computed once per dataset and cached).
    """
    cells = pd.Index(list(map(str, adata.obs_names)))
    if pseudotime is None:
        key = next((k for k in PSEUDOTIME_OBS_KEYS if k in adata.obs), None)
        pseudotime = adata.obs[key] if key else compute_pseudotime(adata, seed=seed)
    elif isinstance(pseudotime, str) and pseudotime in adata.obs:
        pseudotime = adata.obs[pseudotime]
    elif isinstance(pseudotime, (str, os.PathLike)):
        pseudotime = read_pseudotime(pseudotime, cells)
    if isinstance(pseudotime, (pd.Series, pd.DataFrame)):
        index = pd.Index(pseudotime.index.astype(str))
        missing = cells.difference(index, sort=False)
        if len(missing):
            raise BenchError(f"pseudotime lacks {len(missing)} of the dataset's {len(cells)} cells "
                             f"(e.g. {missing[0]}).", "Give one value per cell, indexed by the dataset's cell names.")
        pseudotime = pseudotime.set_axis(index, axis=0).loc[cells].to_numpy(dtype=float)
    pt = np.asarray(pseudotime, dtype=float)
    if pt.ndim == 2 and pt.shape[1] == 1:
        pt = pt[:, 0]
    if pt.ndim not in (1, 2) or pt.shape[0] != len(cells):
        raise BenchError(f"pseudotime has shape {pt.shape} for {len(cells)} cells.",
                         "Give one value per cell (or one column per lineage).")
    lineages(pt, len(cells))  # raises a BenchError for infinite values or no finite time at all
    return pt

