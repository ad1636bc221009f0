"""A second PIDC, written from the definitions (test oracle only; slow, plain loops).

Written from Chan, Stumpf & Babtie (2017) "Gene regulatory network inference from single-cell data using
multivariate information measures" (Cell Systems 5:251) and the documented behaviour of the Julia packages BEELINE
runs (NetworkInference.jl 0.1.0, InformationMeasures.jl, Discretizers.jl), not from ``methods.native.pidc``:

1. Discretise each gene with Bayesian blocks (Scargle et al. 2013, event data) as Discretizers.jl's
   ``DiscretizeBayesianBlocks`` does it: candidate edges are the data range ends and the midpoints between
   consecutive distinct values; the optimal partition is found by dynamic programming over the distinct values,
   with fitness ``N_k log(N_k / width_k)`` per block and the prior ``4 - log(73.53 * 0.05 * K^-0.478)`` where ``K``
   is the number of distinct values seen so far. A gene with one value has one bin; if the blocks cannot be
   built, 10 equal-width bins. A value goes to bin ``a`` when ``edge_a <= x < edge_(a+1)``, the last bin closed.
2. Maximum-likelihood probabilities from bin counts; logs base 2; ``0 log 0 = 0``.
3. For a target ``Z`` and two sources ``X, Y``: specific information ``I(Z=z; X) = sum_x p(x|z) log2(p(x,z) /
   (p(x) p(z)))``; redundancy (Williams-Beer ``I_min``) ``R_Z(X, Y) = sum_z p(z) min(I(Z=z; X), I(Z=z; Y))``;
   unique information of ``X`` about ``Z`` = ``I(X; Z) - R_Z(X, Y)``.
4. Proportional unique contribution of a pair: ``PUC(X, Z) = sum over every other gene Y of
   [U_Z(X | Y) + U_X(Z | Y)] / I(X; Z)`` (a zero mutual information contributes 0; below 1e-12 counts as
   zero, since e.g. a constant gene's is zero only up to rounding).
5. Context (PIDC): for each gene, fit a two-parameter gamma distribution by maximum likelihood to its PUC
   scores with every other gene; the edge weight is the sum of the two genes' gamma CDFs at the pair's PUC. When a
   gene's scores cannot be fitted (a score <= 0, or all equal), the pair falls back to the CLR-style score
   ``sqrt(t_X + t_Z)`` with ``t = max(0, s - mean)^2 / var`` (sample variance; 0 if the variance is 0).

The gamma shape is found by solving the likelihood equation ``log(a) - digamma(a) = log(mean) - mean(log)``
with a bracketing root finder, a different numerical route from a fixed-point or generic optimiser fit.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special


def bayesian_block_edges(values: np.ndarray) -> np.ndarray:
    """Bin edges of Discretizers.jl's Bayesian blocks for one gene (an O(n^2) dynamic programme)."""
    u, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    n = len(u)
    cand = np.concatenate([[u[0]], (u[:-1] + u[1:]) / 2.0, [u[-1]]])  # n + 1 candidate edges
    cum = np.concatenate([[0], np.cumsum(counts)])
    best = np.zeros(n)
    last = np.zeros(n, dtype=int)
    for k in range(1, n + 1):  # partitions of the distinct values 1..k (1-based)
        start = np.arange(1, k + 1)  # the last block spans distinct values start..k
        n_block = cum[k] - cum[start - 1]
        width = cand[k] - cand[start - 1]
        fits = n_block * np.log(n_block / width) - (4.0 - math.log(73.53 * 0.05 * k ** -0.478))
        fits[1:] += best[:k - 1]  # the best partition of the values before the last block
        i = int(np.argmax(fits))  # first maximum, as Julia's argmax
        last[k - 1] = i + 1
        best[k - 1] = fits[i]
    points = []
    ind = n + 1
    while True:
        points.append(ind)
        if ind == 1:
            break
        ind = last[ind - 2]
    return cand[np.array(points[::-1]) - 1]


def discretise(values: np.ndarray) -> np.ndarray:
    """0-based bin index of every cell for one gene."""
    x = np.asarray(values, dtype=float)
    if x.min() == x.max():
        return np.zeros(len(x), dtype=int)
    try:
        edges = bayesian_block_edges(x)
        if len(edges) < 2 or not np.all(np.diff(edges) > 0) or not np.all(np.isfinite(edges)):
            raise ValueError("degenerate blocks")
    except (ValueError, ZeroDivisionError, OverflowError):
        edges = np.linspace(x.min(), x.max(), 11)
    nbins = len(edges) - 1
    out = np.empty(len(x), dtype=int)
    for c, v in enumerate(x):
        a = 0
        while a < nbins - 1 and v >= edges[a + 1]:
            a += 1
        out[c] = a
    return out


def _joint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1.0)
    return table / len(a)


def _xlog2(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    out = np.zeros_like(p)
    ok = (p > 0) & (q > 0)
    out[ok] = np.log2(q[ok])
    return out


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    pj = _joint(a, b)
    pa, pb = pj.sum(1), pj.sum(0)
    ratio = np.divide(pj, np.outer(pa, pb), out=np.zeros_like(pj), where=np.outer(pa, pb) > 0)
    return float((pj * _xlog2(pj, ratio)).sum())


def specific_information(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``I(Z=z; X)`` for every state z of the target."""
    pj = _joint(source, target)  # x by z
    px, pz = pj.sum(1), pj.sum(0)
    out = np.zeros(len(pz))
    for z in range(len(pz)):
        if pz[z] == 0:
            continue
        for x in range(len(px)):
            if pj[x, z] > 0:
                out[z] += (pj[x, z] / pz[z]) * math.log2(pj[x, z] / (px[x] * pz[z]))
    return out


def puc_matrix(states: list[np.ndarray]) -> np.ndarray:
    """Proportional unique contributions of every pair (symmetric, zero diagonal)."""
    g = len(states)
    mi = np.zeros((g, g))
    for i in range(g):
        for j in range(i + 1, g):
            mi[i, j] = mi[j, i] = mutual_information(states[i], states[j])
    si = {(s, t): specific_information(states[s], states[t]) for s in range(g) for t in range(g) if s != t}
    pz = [np.bincount(s) / len(s) for s in states]

    def redundancy(target, x, y):
        return float((pz[target] * np.minimum(si[(x, target)], si[(y, target)])).sum())

    puc = np.zeros((g, g))
    for x in range(g):
        for z in range(x + 1, g):
            if mi[x, z] <= 1e-12:  # zero mutual information (up to rounding, e.g. a constant gene) contributes 0
                continue
            total = 0.0
            for y in range(g):
                if y in (x, z):
                    continue
                total += (mi[x, z] - redundancy(z, x, y)) + (mi[x, z] - redundancy(x, z, y))
            puc[x, z] = puc[z, x] = total / mi[x, z]
    return puc


def _gamma_cdf_or_none(scores: np.ndarray):
    """The gamma MLE's CDF for ``scores``, or None when the fit is impossible (a score <= 0, or no spread)."""
    if np.any(scores <= 0):
        return None
    s = math.log(scores.mean()) - np.log(scores).mean()
    if not s > 0:
        return None
    lo, hi = 1e-8, 1.0
    while math.log(hi) - special.digamma(hi) > s:
        hi *= 2.0
    shape = optimize.brentq(lambda a: math.log(a) - special.digamma(a) - s, lo, hi, xtol=1e-15, rtol=1e-14,
                            maxiter=500)
    scale = scores.mean() / shape
    return lambda v: float(special.gammainc(shape, v / scale))


def pidc_weights(x: np.ndarray) -> np.ndarray:
    """PIDC edge weights (symmetric, genes x genes, zero diagonal) for ``x`` (cells x genes)."""
    g = x.shape[1]
    states = [discretise(x[:, j]) for j in range(g)]
    puc = puc_matrix(states)
    others = [np.delete(puc[i], i) for i in range(g)]
    cdfs = [_gamma_cdf_or_none(o) for o in others]
    w = np.zeros((g, g))
    for i in range(g):
        for j in range(i + 1, g):
            if cdfs[i] is not None and cdfs[j] is not None:
                w[i, j] = cdfs[i](puc[i, j]) + cdfs[j](puc[i, j])
            else:
                terms = []
                for k in (i, j):
                    d = puc[i, j] - others[k].mean()
                    var = others[k].var(ddof=1)
                    terms.append(0.0 if var == 0 or d < 0 else d * d / var)
                w[i, j] = math.sqrt(sum(terms))
            w[j, i] = w[i, j]
    return w
