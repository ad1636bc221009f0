"""Brute-force PIDC: NetworkInference.jl's literal O(G^3) triple loop, for tests and the speed benchmark.

Independent of :mod:`methods.native.pidc`'s fast path: every pair's joint table is built separately, every triple
``i < j < k`` computes the I_min redundancy of each member as target and increments the PUC matrix in the order
NetworkInference does. Only the discretisation and the context step are shared (they are O(G n^2) and O(G^2)).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def pairwise_information(binsT, nbins):
    """``mi[x, z]`` and ``si[x, z, s]`` = specific information of source x about state s of target z.

    ``binsT`` is genes x cells; every ordered pair's table is built on its own, as NetworkInference does.
    """
    G, n = binsT.shape
    bmax = 0
    for g in range(G):
        bmax = max(bmax, nbins[g])
    mi = np.zeros((G, G))
    si = np.zeros((G, G, bmax))
    for x in range(G):
        for z in range(G):
            if x == z:
                continue
            joint = np.zeros((nbins[x], nbins[z]))
            bx = binsT[x]
            bz = binsT[z]
            for c in range(n):
                joint[bx[c], bz[c]] += 1.0
            px = joint.sum(axis=1) / n  # sums of integer counts: exact, so a constant gene has p = 1 exactly
            pz = joint.sum(axis=0) / n
            joint /= n
            tot = 0.0
            for a in range(nbins[x]):
                for s in range(nbins[z]):
                    if joint[a, s] > 0.0:
                        term = math.log2(joint[a, s] / (px[a] * pz[s]))
                        tot += joint[a, s] * term
                        si[x, z, s] += joint[a, s] / pz[s] * term
            mi[x, z] = tot
    return mi, si


@numba.njit(cache=True)
def _redundancy(si, pz, x, y, z, bz):
    r = 0.0
    for s in range(bz):
        r += pz[z, s] * min(si[x, z, s], si[y, z, s])
    return r


@numba.njit(cache=True)
def _increment(puc, a, b, mi_ab, red):
    # NetworkInference: unique / (unique + redundancy), NaN -> 0, added to both orientations
    unique = mi_ab - red
    den = unique + red
    r = unique / den if den != 0.0 else np.nan
    if not np.isfinite(r):
        r = 0.0
    puc[a, b] += r
    puc[b, a] += r


@numba.njit(cache=True)
def puc_triple_loop(mi, si, pz, nbins, i_stop=-1):
    """PUC scores by the literal triple loop; ``i_stop`` >= 0 runs only the outer indices ``i < i_stop``."""
    G = mi.shape[0]
    puc = np.zeros((G, G))
    last = G if i_stop < 0 else i_stop
    for i in range(last):
        for j in range(i + 1, G):
            for k in range(j + 1, G):
                # target k, sources i and j
                r = _redundancy(si, pz, i, j, k, nbins[k])
                _increment(puc, i, k, mi[i, k], r)
                _increment(puc, j, k, mi[j, k], r)
                # target j, sources i and k
                r = _redundancy(si, pz, i, k, j, nbins[j])
                _increment(puc, i, j, mi[i, j], r)
                _increment(puc, k, j, mi[k, j], r)
                # target i, sources j and k
                r = _redundancy(si, pz, j, k, i, nbins[i])
                _increment(puc, j, i, mi[j, i], r)
                _increment(puc, k, i, mi[k, i], r)
    return puc


def marginals(bins, nbins):
    n, G = bins.shape
    pz = np.zeros((G, int(np.max(nbins))))
    for g in range(G):
        pz[g, :nbins[g]] = np.bincount(bins[:, g], minlength=nbins[g]) / n
    return pz


def puc_bruteforce(bins: np.ndarray, nbins: np.ndarray) -> np.ndarray:
    """PUC matrix by the O(G^3) loop (MI taken once per unordered pair, as NetworkInference stores it)."""
    bins = np.ascontiguousarray(bins, dtype=np.int32)
    nbins = np.asarray(nbins, dtype=np.int64)
    mi, si = pairwise_information(np.ascontiguousarray(bins.T), nbins)
    mi = np.triu(mi) + np.triu(mi, 1).T
    return puc_triple_loop(mi, si, marginals(bins, nbins), nbins)


def pidc_bruteforce(X: np.ndarray) -> np.ndarray:
    """PIDC confidence matrix with the brute-force PUC."""
    from methods.native.pidc import context_weights, discretize

    bins, nbins = discretize(np.asarray(X, dtype=np.float64))
    return context_weights(puc_bruteforce(bins, nbins))
