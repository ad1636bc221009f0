"""CeSpGRN: weighted Kendall covariance, ADMM optimum, streamed consensus == all-in-memory, fidelity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.covariance import graphical_lasso

from bench.errors import BenchError
from conftest import average_precision, beeline_example, make_counts
from methods.native import cespgrn as ce


def test_weighted_kendall_tau_equals_definition():
    rng = np.random.default_rng(0)
    x = rng.poisson(1.5, size=(9, 5)).astype(np.float32)  # zeros (missing) and ties
    w = rng.random(9).astype(np.float32)
    w /= w.sum()
    tau = ce.weighted_kendall_tau(x, w)
    m, G = x.shape
    for i in range(G):
        for j in range(G):
            num = den = 0.0
            for a in range(m):
                for b in range(m):
                    if a == b:
                        continue
                    mab = float(x[a, i] != 0 and x[a, j] != 0 and x[b, i] != 0 and x[b, j] != 0)
                    num += np.sign(x[a, i] - x[b, i]) * np.sign(x[a, j] - x[b, j]) * mab * w[a] * w[b]
                    den += mab * w[a] * w[b]
            assert tau[i, j] == pytest.approx(num / (den + 1e-12), abs=2e-6)


def test_kendall_covariance_is_repaired_to_psd():
    rng = np.random.default_rng(1)
    x = rng.poisson(2.0, size=(6, 40)).astype(np.float32)  # 6 neighbours, 40 genes: far from PSD
    w = np.full(6, 1 / 6, dtype=np.float32)
    raw = np.sin(np.pi / 2 * ce.weighted_kendall_tau(x, w))
    np.fill_diagonal(raw, 1.0)
    assert np.linalg.eigvalsh(raw.astype(float)).min() < -1e-5
    cov = ce.kendall_covariance(x, w)
    assert np.linalg.eigvalsh(cov.astype(float)).min() > 5e-4


def test_admm_reaches_the_graphical_lasso_optimum():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(60, 8))
    A[:, 1] += A[:, 0]
    A[:, 5] -= A[:, 4]
    S = np.corrcoef(A.T)
    lamb = 0.1
    Z, _, it = ce.admm_glasso(S, lamb, tol=1e-4, max_iters=20000, n_intervals=10)
    # L1 on the diagonal too: the same optimum as an off-diagonal penalty on S + lamb * I
    _, prec = graphical_lasso(S + lamb * np.eye(8), alpha=lamb, tol=1e-6, max_iter=2000)
    np.testing.assert_allclose(Z[0], prec, atol=2e-3)
    assert it < 20000


def test_streamed_consensus_equals_all_in_memory():
    adata, _, _ = make_counts(n_cells=60, n_genes=12, n_tfs=3, seed=5)
    X = np.asarray(adata.X, dtype=float)
    params = dict(batchsize=1, max_iters=300)
    W, stats = ce.cespgrn_consensus(X, seed=0, memory_gb=1e-5, **params)  # forces several chunks
    assert stats["chunks"] > 1
    # naive: every Sigma_s and S_t in memory, one graphical lasso per cell
    Xn = ce.log_normalize(X)
    K, Kt = ce.kernels(ce.pca(Xn, 20, 0), k=5, bandwidth=0.1, n_neigh=30)
    Xn32 = Xn.astype(np.float32)
    covs = np.stack([ce.kendall_covariance(Xn32[Kt[s] > 0], Kt[s, Kt[s] > 0]) for s in range(60)])
    S = np.einsum("ts,sij->tij", K, covs.astype(float))
    naive = np.zeros((12, 12))
    for t in range(60):
        St = 0.5 * (S[t] + S[t].T)
        Z, _, _ = ce.admm_glasso(St, 0.1, max_iters=300)
        naive += np.abs(ce.partial_correlation(Z[0]))
    naive /= 60
    np.testing.assert_allclose(W, naive, rtol=1e-3, atol=1e-4)
    assert np.allclose(W, W.T) and np.all(np.diag(W) == 0)


def test_fast_preset_close_to_full():
    adata, _, _ = make_counts(n_cells=120, n_genes=15, n_tfs=3, seed=6)
    X = np.asarray(adata.X, dtype=float)
    full, _ = ce.cespgrn_consensus(X, seed=0)
    fast, st = ce.cespgrn_consensus(X, seed=0, **ce.INFO.presets["fast"] | {"anchors": 30, "sources": 60})
    assert st["targets"] <= 30 and st["sources"] <= 60
    iu = np.triu_indices(15, 1)
    assert np.corrcoef(full[iu], fast[iu])[0, 1] > 0.8


def test_bad_parameters():
    adata, _, _ = make_counts(n_cells=30, n_genes=6, n_tfs=2, seed=0)
    with pytest.raises(BenchError):
        ce.infer(adata, not_a_parameter=1)
    with pytest.raises(BenchError):
        ce.infer(adata, output="signed")


def test_planted_edges_above_random_and_deterministic():
    adata, tfs, truth = make_counts(n_cells=150, n_genes=30, n_tfs=8, seed=0)
    edges = ce.infer(adata, tfs=tfs)
    universe = [(a, b) for a in tfs for b in adata.var_names if a != b]
    ap, base = average_precision(edges, truth, universe)
    assert ap > 1.3 * base, (ap, base)
    pd.testing.assert_frame_equal(edges, ce.infer(adata, tfs=tfs, seed=0))


def test_beeline_example_above_random():
    adata, truth, universe = beeline_example()
    edges = ce.infer(adata, **ce.INFO.presets["fast"])
    ap, base = average_precision(edges, truth, universe)
    assert ap > base, (ap, base)
