"""Control method ``random``: seeded uniform random scores for every candidate pair.

Its AUPRC ratio sits at 1 by construction, and its confidence interval shows the noise floor of a block: a
method whose CI does not clear the random baseline's has not been shown to beat guessing (the ``uninformative``
QC gate of :mod:`bench.scoring.verdicts`). The Open Problems GRN task uses the same kind of control.
"""

from __future__ import annotations

import numpy as np

from bench.edges import make_edges
from methods.base import Method, MethodInfo

INFO = MethodInfo(
    name="random",
    summary="Control: a seeded uniform random score for every regulator -> target pair (ratio 1 by construction).",
    paper="Control method (as Open Problems' GRN task); no paper",
    code_url="https://github.com/openproblems-bio/task_grn_inference",
    pseudotime="none",
    directed=True,
    signed=False,
    accepts_tfs=True,
    license="MIT (grn-bench)",
    baseline=True,
)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0):
    """Uniform random weights in (0, 1] for every pair of distinct genes (regulators restricted to ``tfs``)."""
    genes = np.asarray(adata.var_names, dtype=str)
    regs = np.flatnonzero(np.isin(genes, np.asarray(list(tfs), dtype=str))) if tfs is not None else \
        np.arange(len(genes))
    r, t = np.meshgrid(regs, np.arange(len(genes)), indexing="ij")
    keep = r != t
    r, t = r[keep], t[keep]
    w = 1.0 - np.random.default_rng(seed).random(len(r))  # (0, 1]: a zero would read as "not predicted"
    return make_edges(genes[r], genes[t], w)


METHOD = Method(INFO, infer)
