"""PIDC as BEELINE runs it (NetworkInference.jl 0.1.0 with InformationMeasures.jl and Discretizers.jl).

Steps, all with BEELINE's defaults (``discretizer="bayesian_blocks"``, ``estimator="maximum_likelihood"``,
base-2 logs):

1. **Discretise** every gene with Bayesian blocks exactly as ``Discretizers.binedges(DiscretizeBayesianBlocks(), x)``
   (Scargle's event-data fitness; the prior uses the running index ``K``, which is why astropy's
   ``bayesian_blocks`` differs), then encode with a ``LinearDiscretizer`` (last bin closed on the right).
2. **Pairwise information** from maximum-likelihood joint tables: mutual information ``MI(x;z)`` and the
   Williams-Beer specific information ``SI_x(z=s)`` that each source ``x`` gives about each state ``s`` of ``z``.
3. **PUC**: for every triple, each member ``z`` as target of the other two, ``Red_z(x,y) = sum_s p(s) min(SI_x(s),
   SI_y(s))`` and ``puc[x,z] += (MI - Red)/MI`` (both orientations). Summed over ``y`` this is::

       puc[x,z] = (2 (G-2) MI(x;z) - U[x,z] - U[z,x]) / MI(x;z),   U[x,z] = sum_{y != x,z} Red_z(x,y)

   and, for a fixed target and state, ``sum_y min(a_x, a_y)`` over all ``x`` needs one sort (prefix sums), so the
   PUC costs O(G^2 B log G) instead of the O(G^3 B) triple loop. Each unordered pair's joint table is built once
   and gives both directions' specific information (kept as a G x G x B array: ~120 MB at 1,000 genes and 15
   bins). ``methods.native._pidc_reference`` holds the literal triple loop; tests check equality, and
   ``benchmarks/pidc_speed.py`` times both (PUC step ~18x faster than the compiled triple loop at 1,000 genes).
4. **Context**: ``w[i,j] = F_i(puc[i,j]) + F_j(puc[i,j])`` with ``F_i`` the CDF of a Gamma fitted by maximum
   likelihood (Distributions.jl's Minka iteration) to gene ``i``'s PUC scores; when either fit fails (a score
   <= 0, as Julia's ``log`` and ``Gamma`` constructor throw) the CLR-like ``sqrt(z_i^2 + z_j^2)`` with negative
   deviations set to 0 is used for that pair, as NetworkInference does.

Every undirected pair is returned in both orientations with the same weight, as BEELINE's ``rankedEdges.csv``.

Constant genes: InformationMeasures 0.3.0 (pinned by BEELINE) crashes on them; 0.3.1 gives them one bin, which
makes their PUC column zero and so sends *every* pair to the CLR fallback. By default they are dropped before
step 1 and get no edges (``constant_genes="drop"``); ``constant_genes="one_bin"`` reproduces 0.3.1.
"""

from __future__ import annotations

import logging
import math

import numba
import numpy as np
from scipy import special

from bench.arrays import dense
from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix
from bench.settings import settings

log = logging.getLogger(__name__)

DEFAULTS = {"constant_genes": "drop"}

INFO = MethodInfo(
    name="pidc",
    label="PIDC",
    summary="Partial information decomposition (PUC) of gene triples with a Gamma/CLR context step.",
    paper="Chan, Stumpf & Babtie (2017) Cell Systems 5:251, doi:10.1016/j.cels.2017.08.014",
    code_url="https://github.com/Tchanders/NetworkInference.jl",
    pseudotime="none",
    directed=False,
    signed=False,
    accepts_tfs=True,
    defaults=dict(DEFAULTS),
    license="MIT (NetworkInference.jl)",
    presets={"beeline": dict(DEFAULTS)},
)


# ---------------------------------------------------------------------------------------------------------------
# 1. Discretisation
# ---------------------------------------------------------------------------------------------------------------

# error_model="numpy": IEEE arithmetic as in Julia. Near-equal values (the 1e-18 .. 1e-15 of a simulator's expected
# profile next to values ~8) make a block width round to 0; Julia then scores count * log(count / 0) = Inf and goes
# on, where numba's default would raise ZeroDivisionError (and, inside prange, leave the gene without bins).
@numba.njit(cache=True, error_model="numpy")
def _bayesian_blocks_edges(x):
    """Bin edges of ``Discretizers.binedges(DiscretizeBayesianBlocks(), x)``; ``x`` with at least 2 distinct values."""
    u = np.unique(x)  # sorted
    n = u.shape[0]
    edges = np.empty(n + 1)
    edges[0] = u[0]
    for i in range(n - 1):
        edges[i + 1] = 0.5 * (u[i] + u[i + 1])
    edges[n] = u[n - 1]
    block_length = u[n - 1] - edges
    nn = np.ones(n)
    if n != x.shape[0]:
        xs = np.sort(x)
        k = 0
        for i in range(n):
            c = 0
            while k < xs.shape[0] and xs[k] == u[i]:
                c += 1
                k += 1
            nn[i] = c
    count = np.zeros(n)
    best = np.zeros(n)
    last = np.zeros(n, dtype=np.int64)  # 1-based, as in Julia
    for K in range(n):
        prior = 4.0 - math.log(73.53 * 0.05 * ((K + 1) ** -0.478))
        imax = 0
        vmax = -np.inf
        for i in range(K + 1):
            count[i] += nn[K]
            width = block_length[i] - block_length[K + 1]
            v = count[i] * math.log(count[i] / width) - prior
            if i > 0:
                v += best[i - 1]
            if v > vmax or i == 0:  # first maximum, as Julia's argmax
                vmax = v
                imax = i
        last[K] = imax + 1
        best[K] = vmax
    cps = np.empty(n + 1, dtype=np.int64)
    m = 0
    ind = n + 1
    while True:
        cps[m] = ind
        m += 1
        if ind == 1:
            break
        ind = last[ind - 2]
    out = np.empty(m)
    for k in range(m):
        out[k] = edges[cps[m - 1 - k] - 1]
    return out


def bayesian_blocks_edges(x: np.ndarray) -> np.ndarray:
    """Bayesian-blocks bin edges of one gene, as Discretizers.jl computes them (1 bin for a constant gene)."""
    x = np.asarray(x, dtype=np.float64)
    if x.min() == x.max():
        return np.array([x[0], x[0]])
    return _bayesian_blocks_edges(x)


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _all_edges(XT, varying):
    G, n = XT.shape
    out = np.zeros((G, n + 1))
    lens = np.zeros(G, dtype=np.int64)
    for g in numba.prange(G):
        if varying[g]:
            e = _bayesian_blocks_edges(XT[g])
            out[g, :e.shape[0]] = e
            lens[g] = e.shape[0]
    return out, lens


def discretize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin ids (0-based, cells x genes, int32) and number of bins per gene (genes in parallel)."""
    X = np.asarray(X, dtype=np.float64)
    n, G = X.shape
    bins = np.zeros((n, G), dtype=np.int32)
    nbins = np.ones(G, dtype=np.int64)
    varying = X.max(axis=0) > X.min(axis=0)
    all_edges, lens = _all_edges(np.ascontiguousarray(X.T), varying)
    if (lens[varying] < 2).any():  # a varying gene always has >= 2 edges; anything else is a kernel failure
        raise RuntimeError(f"PIDC: Bayesian blocks gave no bins for {int((lens[varying] < 2).sum())} gene(s)")
    for g in range(G):
        if not varying[g]:
            continue  # one bin, as InformationMeasures 0.3.1
        e = all_edges[g, :lens[g]]
        nb = len(e) - 1
        nbins[g] = nb
        if nb > 1:
            # LinearDiscretizer: edges[a] <= x < edges[a+1]; the last bin is closed; outliers to the closest bin.
            bins[:, g] = np.clip(np.searchsorted(e, X[:, g], side="right"), 1, nb) - 1
    return bins, nbins


# ---------------------------------------------------------------------------------------------------------------
# 2-3. Pairwise information (one joint table per unordered pair) and PUC (one sort per target and state)
# ---------------------------------------------------------------------------------------------------------------

@numba.njit(cache=True, parallel=True)
def _pair_information(binsT, nbins, cx):
    """MI(x;z) and SI[x, z, s] = SI_x(z=s) for every pair, one ML joint table per unordered pair.

    ``binsT`` is genes x cells (uint8: each gene's bins contiguous); counts go to 4 interleaved integer tables so
    that consecutive cells falling in the same bin do not wait on each other (measured ~2x faster).
    """
    G, n = binsT.shape
    bmax = cx.shape[1]
    MI = np.zeros((G, G))
    SI = np.zeros((G, G, bmax))
    m4 = n - n % 4
    log2_count = np.zeros(n + 1)
    for k in range(1, n + 1):
        log2_count[k] = math.log2(k)
    log2_n = log2_count[n]
    inv_n = 1.0 / n
    inv_cx = np.zeros((G, bmax))
    for g in range(G):
        for a in range(nbins[g]):
            if cx[g, a] > 0:
                inv_cx[g, a] = 1.0 / cx[g, a]
    for x in numba.prange(G):
        J4 = np.zeros((4, bmax, bmax), dtype=np.int32)
        si_xz = np.zeros(bmax)
        si_zx = np.zeros(bmax)
        bx = binsT[x]
        for z in range(x + 1, G):
            bz = binsT[z]
            for c in range(0, m4, 4):
                J4[0, bx[c], bz[c]] += 1
                J4[1, bx[c + 1], bz[c + 1]] += 1
                J4[2, bx[c + 2], bz[c + 2]] += 1
                J4[3, bx[c + 3], bz[c + 3]] += 1
            for c in range(m4, n):
                J4[0, bx[c], bz[c]] += 1
            tot = 0.0
            si_xz[:] = 0.0
            si_zx[:] = 0.0
            if nbins[x] > 1 and nbins[z] > 1:  # a one-bin (constant) gene has MI = SI = 0 exactly
                for a in range(nbins[x]):
                    for s in range(nbins[z]):
                        cnt = J4[0, a, s] + J4[1, a, s] + J4[2, a, s] + J4[3, a, s]
                        J4[0, a, s] = J4[1, a, s] = J4[2, a, s] = J4[3, a, s] = 0  # ready for the next pair
                        if cnt > 0:
                            # log2(p(a,s) / (p(a) p(s))) from tabulated log2 of integer counts
                            term = log2_count[cnt] + log2_n - log2_count[cx[x, a]] - log2_count[cx[z, s]]
                            tot += cnt * inv_n * term
                            si_xz[s] += cnt * inv_cx[z, s] * term  # source x about state s of target z
                            si_zx[a] += cnt * inv_cx[x, a] * term  # source z about state a of target x
            else:
                J4[:, :nbins[x], :nbins[z]] = 0
            SI[x, z, :] = si_xz
            SI[z, x, :] = si_zx
            MI[x, z] = tot
            MI[z, x] = tot
    return MI, SI


@numba.njit(cache=True)
def _redundancy_sums(si, ps, z):
    """U[x] = sum_s p(s) sum_{y != x, z} min(SI_x(s), SI_y(s)) for target z, with one sort per state."""
    G, bz = si.shape
    U = np.zeros(G)
    N = G - 1
    vals = np.empty(N)
    idx = np.empty(N, dtype=np.int64)
    for s in range(bz):
        k = 0
        for x in range(G):
            if x != z:
                vals[k] = si[x, s]
                idx[k] = x
                k += 1
        order = np.argsort(vals)
        below = 0.0  # sum of the values before position k in sorted order
        for k in range(N):
            v = vals[order[k]]
            # min(v, a_y) = a_y for the k values sorted before, = v for the N - k at or after (ties included)
            total = below + v * (N - k)
            U[idx[order[k]]] += ps[s] * (total - v)  # drop y = x itself
            below += v
    return U


@numba.njit(cache=True, parallel=True)
def _redundancy_matrix(SI, nbins, marg):
    G = SI.shape[0]
    U = np.zeros((G, G))  # U[x, z] = sum_{y != x, z} Red_z(x, y)
    for z in numba.prange(G):
        U[:, z] = _redundancy_sums(SI[:, z, :nbins[z]], marg[z, :nbins[z]], z)
    return U


def marginals(bins: np.ndarray, nbins: np.ndarray) -> np.ndarray:
    """ML marginal probabilities, genes x max(bins) (zero-padded)."""
    n, G = bins.shape
    marg = np.zeros((G, int(nbins.max())))
    for g in range(G):
        marg[g, :nbins[g]] = np.bincount(bins[:, g], minlength=nbins[g]) / n
    return marg


def puc_scores(bins: np.ndarray, nbins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PUC matrix (symmetric, zero diagonal) and the MI matrix, by the sorted-minimum formulation."""
    bins = np.ascontiguousarray(bins, dtype=np.int32)
    nbins = np.asarray(nbins, dtype=np.int64)
    G = bins.shape[1]
    marg = marginals(bins, nbins)
    if nbins.max() > 255:
        raise BenchError(f"PIDC: a gene has {int(nbins.max())} Bayesian blocks (more than 255).",
                         "This needs > 255 distinct well-separated values per gene; check the input scale.")
    binsT = np.ascontiguousarray(bins.T, dtype=np.uint8)
    counts = np.rint(marg * bins.shape[0]).astype(np.int64)  # per-gene bin counts
    MI, SI = _pair_information(binsT, nbins, counts)  # one value per unordered pair
    U = _redundancy_matrix(SI, nbins, marg)
    del SI
    with np.errstate(divide="ignore", invalid="ignore"):
        puc = (2.0 * (G - 2) * MI - U - U.T) / MI
    puc[~np.isfinite(puc)] = 0.0  # MI = 0: every ratio is 0/0 and NetworkInference adds 0
    np.fill_diagonal(puc, 0.0)
    return puc, MI


# ---------------------------------------------------------------------------------------------------------------
# 4. Context
# ---------------------------------------------------------------------------------------------------------------

def fit_gamma(scores: np.ndarray, maxiter: int = 1000, tol: float = 1e-16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distributions.jl ``fit_mle(Gamma, x)`` for each column of ``scores`` (Minka's fixed point).

    Returns (shape, scale, ok); ``ok`` is False where Julia would throw (a value <= 0, a non-finite or
    non-positive parameter).
    """
    x = np.asarray(scores, dtype=np.float64)
    ok = (x > 0).all(axis=0)
    safe = np.where(x > 0, x, 1.0)
    mx = safe.mean(axis=0)
    logmx = np.log(mx)
    mlogx = np.log(safe).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        a = 0.5 / (logmx - mlogx)
        active = ok & np.isfinite(a) & (a > 0)
        for _ in range(maxiter):
            if not active.any():
                break
            aa = a[active]
            ia = 1.0 / aa
            znew = ia + (mlogx[active] - logmx[active] + np.log(aa) - special.digamma(aa)) / (
                aa**2 * (ia - special.polygamma(1, aa)))
            anew = 1.0 / znew
            done = np.abs(anew - aa) <= tol
            a[active] = anew
            idx = np.flatnonzero(active)
            active[idx[done | ~np.isfinite(anew)]] = False
        scale = mx / a
    ok &= np.isfinite(a) & (a > 0) & np.isfinite(scale) & (scale > 0)
    return a, scale, ok


def context_weights(puc: np.ndarray) -> np.ndarray:
    """PIDC's context step: symmetric G x G confidence (Gamma CDFs, or the CLR-like fallback per pair)."""
    G = puc.shape[0]
    off = ~np.eye(G, dtype=bool)
    scores = puc.T[off.T].reshape(G, G - 1).T  # column i without its diagonal, (G-1) x G
    shape, scale, ok = fit_gamma(scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = special.gammainc(shape[:, None], puc / scale[:, None])  # cdf[i, j] = F_i(puc[i, j])
    cdf = np.where(ok[:, None], cdf, 0.0)
    gamma_w = cdf + cdf.T
    mean = scores.mean(axis=0)
    var = scores.var(axis=0, ddof=1) if G > 2 else np.zeros(G)
    d = puc - mean[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((var[:, None] == 0) | (d < 0), 0.0, d**2 / var[:, None])
    clr_w = np.sqrt(term + term.T)
    w = np.where(ok[:, None] & ok[None, :], gamma_w, clr_w)
    np.fill_diagonal(w, 0.0)
    return w


def pidc_matrix(X: np.ndarray) -> np.ndarray:
    """PIDC confidence matrix (genes x genes, symmetric, zero diagonal) of cells x genes data."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] < 3:
        raise BenchError(f"PIDC needs at least 3 genes, got {X.shape[1]}.", "Give more genes.")
    saved = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(settings.n_jobs), numba.config.NUMBA_NUM_THREADS)))
    try:  # numba's pool follows the cores this run may use (settings.n_jobs), as the BLAS pools do
        bins, nbins = discretize(X)
        puc, _ = puc_scores(bins, nbins)
    finally:
        numba.set_num_threads(saved)
    return context_weights(puc)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, constant_genes: str = DEFAULTS["constant_genes"]):
    """PIDC edges for ``adata`` (cells x genes); deterministic, ``seed`` is unused.

    Parameters
    ----------
    constant_genes
        ``"drop"`` (default): genes constant over all cells are removed first and get no edges;
        ``"one_bin"``: they get one bin, as InformationMeasures 0.3.1.
    tfs
        When given, only edges whose regulator is in ``tfs`` are returned.
    """
    if constant_genes not in ("drop", "one_bin"):
        raise BenchError(f"constant_genes must be 'drop' or 'one_bin', not {constant_genes!r}.", "Fix the parameter.")
    X = dense(adata.X, np.float64)
    genes = np.asarray(adata.var_names, dtype=str)
    if constant_genes == "drop":
        varying = X.max(axis=0) > X.min(axis=0)
        if not varying.all():
            log.info("PIDC: dropped %d constant gene(s)", int((~varying).sum()))
        X, genes = X[:, varying], genes[varying]
    return edges_from_matrix(pidc_matrix(X), genes, tfs=tfs)


METHOD = Method(INFO, infer)
