"""Control method ``pearson``: absolute Pearson correlation of each gene pair.

The simplest co-expression score, on the same input every method gets (log1p of the library-size-normalised
expression in ``bench run``). A method that does not beat it has not shown that its modelling adds anything
over correlation; BEELINE and the Open Problems GRN task use correlation controls for the same reason.
"""

from __future__ import annotations

import numpy as np

from bench.arrays import dense
from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix

INFO = MethodInfo(
    name="pearson",
    summary="Control: |Pearson correlation| of every regulator -> target pair on the method input.",
    paper="Control method (co-expression); Pratapa et al. (2020) Nat. Methods 17:147 use correlation controls",
    code_url="https://numpy.org/doc/stable/reference/generated/numpy.corrcoef.html",
    pseudotime="none",
    directed=False,
    signed=False,
    accepts_tfs=True,
    license="MIT (grn-bench)",
    baseline=True,
)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0):
    """|Pearson r| for every pair of distinct genes (regulators restricted to ``tfs``); constant genes score 0.

    Deterministic: ``seed`` is unused.
    """
    X = dense(adata.X, np.float64)
    genes = np.asarray(adata.var_names, dtype=str)
    Xc = X - X.mean(axis=0)
    norm = np.sqrt((Xc**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        C = (Xc.T @ Xc) / np.outer(norm, norm)
    C = np.minimum(np.nan_to_num(np.abs(C), nan=0.0), 1.0)
    return edges_from_matrix(C, genes, tfs=tfs)


METHOD = Method(INFO, infer)
