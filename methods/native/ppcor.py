"""PPCOR as BEELINE runs it: Spearman partial correlations of every gene pair given all other genes.

BEELINE's ``runPPCOR.R`` calls ``ppcor::pcor(t(expr), method="spearman")`` (cells are observations) and its
parser keeps the pairs with ``pValue <= pVal`` (0.01) ranked by ``|corVal|``, then every other pair with
weight 0; pairs with a NaN p-value are dropped. ppcor 1.1 computes, with ``p`` genes and ``n`` cells:

* ``S`` = covariance of the column ranks (ties get the average rank);
* ``P = solve(S)``, or ``MASS::ginv(S)`` when ``det(S) < .Machine$double.eps``;
* ``pcor_ij = -P_ij / sqrt(P_ii P_jj)``;
* ``stat = pcor * sqrt((n - p) / (1 - pcor^2))`` and ``p = 2 * pt(-|stat|, n - p)``.

Output here: both orientations of every pair (PPCOR is symmetric), ``weight = |pcor|`` for gated pairs and 0
for the others. BEELINE writes the signed value but ranks and evaluates by its absolute value; a signed weight
would be ranked below the zero block by the edge schema, so the sign is dropped (``partial_correlation``
returns it). Genes constant over all cells have a zero rank variance, which makes ``S`` singular and their row
NaN in ppcor; they are dropped before the computation and get no edges.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import stats

from bench.arrays import dense
from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix

log = logging.getLogger(__name__)

DEFAULTS = {"p_value": 0.01}

INFO = MethodInfo(
    name="ppcor",
    label="PPCOR",
    summary="Spearman partial correlation of each gene pair given all other genes; pairs with p > 0.01 get weight 0.",
    paper="Kim (2015) Commun. Stat. Appl. Methods 22:665, doi:10.5351/CSAM.2015.22.6.665",
    code_url="https://cran.r-project.org/package=ppcor",
    pseudotime="none",
    directed=False,
    signed=False,
    accepts_tfs=True,
    defaults=dict(DEFAULTS),
    license="GPL-2 (ppcor)",
    presets={"beeline": dict(DEFAULTS)},
)


def partial_correlation(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spearman partial correlations and their p-values, as ``ppcor::pcor(X, method="spearman")``.

    Parameters
    ----------
    X
        Cells x genes; no constant column.

    Returns
    -------
    (pcor, pvalue), both genes x genes; the diagonal is 1 and 0 as in ppcor. p-values are NaN when
    ``n_cells <= n_genes`` (no residual degrees of freedom).
    """
    X = np.asarray(X, dtype=np.float64)
    n, p = X.shape
    ranks = stats.rankdata(X, axis=0)  # average ranks for ties, as R's rank()
    S = np.cov(ranks, rowvar=False)
    # R's det() is sign * exp(log|det|): the branch is decided on that value, overflow and underflow included.
    sign, logdet = np.linalg.slogdet(S)
    with np.errstate(over="ignore", under="ignore"):
        det = sign * np.exp(logdet)
    if det < np.finfo(float).eps:
        log.warning("PPCOR: the rank covariance matrix is (near) singular; using the pseudo-inverse as ppcor does.")
        P = np.linalg.pinv(S, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
    else:
        P = np.linalg.inv(S)
    d = np.sqrt(np.diag(P))
    pcor = -P / np.outer(d, d)
    np.fill_diagonal(pcor, 1.0)
    df = n - p  # n - 2 - (p - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = pcor * np.sqrt(df / (1.0 - pcor**2)) if df > 0 else np.full_like(pcor, np.nan)
        pval = 2.0 * stats.t.sf(np.abs(stat), df) if df > 0 else np.full_like(pcor, np.nan)
    np.fill_diagonal(pval, 0.0)
    return pcor, pval


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, p_value: float = DEFAULTS["p_value"]):
    """PPCOR edges for ``adata`` (cells x genes); deterministic, ``seed`` is unused.

    Parameters
    ----------
    p_value
        BEELINE's ``pVal`` gate: pairs with a larger p-value keep their place in the list with weight 0.
    tfs
        When given, only edges whose regulator is in ``tfs`` are returned (the computation uses all genes).
    """
    X = dense(adata.X, np.float64)
    genes = np.asarray(adata.var_names, dtype=str)
    varying = X.max(axis=0) > X.min(axis=0)
    if not varying.all():
        log.info("PPCOR: dropped %d constant gene(s): %s", int((~varying).sum()), ", ".join(genes[~varying][:5]))
    X, genes = X[:, varying], genes[varying]
    n, p = X.shape
    if p < 2:
        raise BenchError(f"PPCOR needs at least 2 non-constant genes, got {p}.", "Give more genes.")
    if n <= p:
        raise BenchError(f"PPCOR needs more cells than genes ({n} cells, {p} non-constant genes): the partial "
                         "correlation t-test has n - p <= 0 degrees of freedom and BEELINE would write no edges.",
                         "Use fewer genes or more cells.")
    pcor, pval = partial_correlation(X)
    keep = ~np.eye(p, dtype=bool) & ~np.isnan(pval)  # BEELINE's parser drops NaN p-values (neither <= nor > pVal)
    return edges_from_matrix(np.where(pval <= p_value, np.abs(pcor), 0.0), genes, tfs=tfs, keep=keep)


METHOD = Method(INFO, infer)
