"""PPCOR: exact agreement with a direct partial-correlation computation, BEELINE's gating, fidelity on data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from bench.errors import BenchError
from conftest import average_precision, beeline_example, make_counts
from methods.native import ppcor


def _direct_pcor(X):
    """Partial Spearman correlation of every pair by regressing both rank vectors on all other ranks."""
    R = stats.rankdata(X, axis=0)
    n, p = R.shape
    out = np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            rest = np.column_stack([np.ones(n), np.delete(R, [i, j], axis=1)])
            ri = R[:, i] - rest @ np.linalg.lstsq(rest, R[:, i], rcond=None)[0]
            rj = R[:, j] - rest @ np.linalg.lstsq(rest, R[:, j], rcond=None)[0]
            out[i, j] = out[j, i] = ri @ rj / np.sqrt((ri @ ri) * (rj @ rj))
    return out


def test_equals_direct_partial_correlation():
    rng = np.random.default_rng(3)
    X = rng.poisson(3.0, size=(80, 9)).astype(float)  # Poisson: many ties -> average ranks matter
    X[:, 1] += X[:, 0]
    pcor, pval = ppcor.partial_correlation(X)
    direct = _direct_pcor(X)
    np.testing.assert_allclose(pcor, direct, rtol=0, atol=1e-10)
    df = X.shape[0] - X.shape[1]
    off = ~np.eye(9, dtype=bool)
    t = direct[off] * np.sqrt(df / (1 - direct[off] ** 2))
    np.testing.assert_allclose(pval[off], 2 * stats.t.sf(np.abs(t), df), rtol=1e-9, atol=1e-14)
    assert np.all(np.diag(pval) == 0)


def test_singular_covariance_uses_pseudo_inverse():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 5))
    X[:, 4] = X[:, 3]  # identical ranks -> singular S, ppcor's ginv branch
    pcor, _ = ppcor.partial_correlation(X)
    S = np.cov(stats.rankdata(X, axis=0), rowvar=False)
    P = np.linalg.pinv(S, rcond=np.sqrt(np.finfo(float).eps), hermitian=True)
    np.testing.assert_allclose(pcor[0, 1], -P[0, 1] / np.sqrt(P[0, 0] * P[1, 1]), atol=1e-10)


def test_beeline_gating_and_output():
    adata, _, _ = make_counts(n_cells=200, n_genes=12, n_tfs=3, seed=1)
    edges = ppcor.infer(adata)
    X = np.asarray(adata.X, dtype=float)
    pcor, pval = ppcor.partial_correlation(X)
    g = list(adata.var_names)
    assert len(edges) == 12 * 11  # both orientations, no diagonal
    for r, t, w in edges[["regulator", "target", "weight"]].itertuples(index=False):
        i, j = g.index(r), g.index(t)
        assert w == pytest.approx(abs(pcor[i, j]) if pval[i, j] <= 0.01 else 0.0, abs=1e-12)
    strict = ppcor.infer(adata, p_value=1e-6)
    assert (strict["weight"] > 0).sum() <= (edges["weight"] > 0).sum()


def test_constant_gene_dropped_and_too_few_cells():
    adata, _, _ = make_counts(n_cells=60, n_genes=10, seed=2)
    X = np.array(adata.X)
    X[:, 5] = 4.0
    adata.X = X
    edges = ppcor.infer(adata)
    assert adata.var_names[5] not in set(edges["regulator"]) | set(edges["target"])
    with pytest.raises(BenchError, match="more cells than genes"):
        ppcor.infer(adata[:8].copy())


def test_planted_edges_above_random_and_deterministic():
    adata, tfs, truth = make_counts(n_cells=300, n_genes=40, n_tfs=6, seed=0)
    edges = ppcor.infer(adata, tfs=tfs)
    assert set(edges["regulator"]) <= set(tfs)
    universe = [(a, b) for a in tfs for b in adata.var_names if a != b]
    ap, base = average_precision(edges, truth, universe)
    assert ap > 1.3 * base, (ap, base)
    pd.testing.assert_frame_equal(edges, ppcor.infer(adata, tfs=tfs, seed=5))


def test_beeline_example_above_random():
    adata, truth, universe = beeline_example()
    ap, base = average_precision(ppcor.infer(adata), truth, universe)
    assert ap > base, (ap, base)
