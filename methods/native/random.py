"""Control method ``random``: seeded uniform random scores for every candidate pair.

Its AUPRC ratio sits at 1 by construction, and its confidence interval shows the noise floor of a block: a
method whose CI does not clear the random baseline's has not been shown to beat guessing (the ``uninformative``
QC gate of :mod:`bench.scoring.verdicts`). The Open Problems GRN task uses the same kind of control.
"""

from __future__ import annotations

import numpy as np

from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix

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
    n = adata.n_vars
    w = 1.0 - np.random.default_rng(seed).random((n, n))  # (0, 1]: a zero would read as "not predicted"
    return edges_from_matrix(w, adata.var_names, tfs=tfs)


METHOD = Method(INFO, infer)
