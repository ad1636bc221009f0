"""SINCERITIES: KS distances, qcut bins, the glmnet-equivalent non-negative ridge + LOO CV (against a brute-force
loop over scipy's NNLS), the ppcor sign, determinism, and planted edges ranked above random."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls
from scipy.stats import ks_2samp, rankdata

from bench.errors import BenchError
from methods.native import sincerities as S

sys.path.insert(0, str(Path(__file__).parent))
from test_native_scode import average_precision, load_beeline, make_regulated_trajectory  # noqa: E402


def test_ks_statistics_equal_scipy_with_ties():
    rng = np.random.default_rng(0)
    a = rng.poisson(2.0, size=(40, 6)).astype(float)
    b = rng.poisson(2.6, size=(55, 6)).astype(float)
    b[:, 5] = a[0, 5]  # a constant column
    got = S.ks_statistics(a, b)
    ref = [ks_2samp(a[:, j], b[:, j]).statistic for j in range(6)]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_time_bins_are_pandas_qcut_midpoints():
    rng = np.random.default_rng(1)
    pt = rng.uniform(0, 3, 500)
    mids = S.time_bins(pt, 10)
    cats = pd.qcut(pt, 10, duplicates="drop")
    expect = np.array([(iv.left + iv.right) / 2 for iv in cats])
    np.testing.assert_array_equal(mids, expect)
    assert len(np.unique(mids)) == 10
    assert np.all(np.diff(mids[np.argsort(pt)]) >= 0)


def test_nn_ridge_is_exact():
    rng = np.random.default_rng(2)
    n, p, t = 8, 40, 12
    x, y, lam = rng.normal(size=(n, p)), rng.normal(size=(n, t)), rng.uniform(0.01, 3, t)
    b, _ = S.nn_ridge(x, y, lam)
    for k in range(t):
        aug = np.vstack([x / np.sqrt(n), np.sqrt(lam[k]) * np.eye(p)])
        ref, _ = nnls(aug, np.concatenate([y[:, k] / np.sqrt(n), np.zeros(p)]), maxiter=10_000)
        np.testing.assert_allclose(b[:, k], ref, atol=1e-10)
    assert (b >= 0).all() and (b == 0).any()


def _brute_cv_glmnet(x, y, nlambda=100, lambda_min_ratio=None, alignment="fraction"):
    """cv.glmnet(alpha=0, lower.limits=0, LOO, grouped=FALSE) for ONE response, literally, with scipy NNLS."""
    n, p = x.shape

    def standardise(xx, yy):
        xs = np.where(xx.max(0) > xx.min(0), xx.std(0), 0.0)
        xt = np.where(xs > 0, (xx - xx.mean(0)) / np.where(xs > 0, xs, 1), 0.0)
        return xt, xx.mean(0), xs, (yy - yy.mean()) / yy.std(), yy.mean(), yy.std()

    def solve(xt, yt, lam):
        m = xt.shape[0]
        aug = np.vstack([xt / np.sqrt(m), np.sqrt(lam) * np.eye(p)])
        return nnls(aug, np.concatenate([yt / np.sqrt(m), np.zeros(p)]), maxiter=10_000)[0]

    def auto_path(xt, yt, ys):
        m = xt.shape[0]
        flmin = lambda_min_ratio or (0.01 if m < p else 1e-4)
        lam_std = np.abs(xt.T @ yt).max() / m / 1e-3 * flmin ** (np.arange(nlambda) / (nlambda - 1))
        path = [np.zeros(p)] + [solve(xt, yt, lam) for lam in lam_std[1:]]  # first lambda: "big", b = 0
        rsq = [1 - ((yt - xt @ b) ** 2).mean() for b in path]
        keep = nlambda
        for k in range(4, nlambda):
            if rsq[k] - rsq[k - 1] < 1e-5 * rsq[k] or rsq[k] > 0.999:
                keep = k + 1
                break
        lam = lam_std * ys
        lam[0] = lam[1] ** 2 / lam[2]
        return path[:keep], lam[:keep]

    xt, xm, xs, yt, ym, ys = standardise(x, y)
    path, lam = auto_path(xt, yt, ys)
    err = [[] for _ in lam]
    for i in range(n):
        tr = np.arange(n) != i
        xf, xmf, xsf, yf, ymf, ysf = standardise(x[tr], y[tr])
        xi = np.where(xsf > 0, (x[i] - xmf) / np.where(xsf > 0, xsf, 1), 0.0)
        fpath, flam = auto_path(xf, yf, ysf)
        preds = np.array([ymf + ysf * xi @ b for b in fpath])
        for k, s in enumerate(lam):
            if alignment == "fraction":
                if k < len(preds):
                    err[k].append((y[i] - preds[k]) ** 2)
            else:  # linear interpolation in lambda along the fold's path, clamped
                err[k].append((y[i] - np.interp(s, flam[::-1], preds[::-1])) ** 2)
    cvm = np.array([np.mean(e) if e else np.nan for e in err])  # R: NaN where every fold path stopped earlier
    kmin = int(np.flatnonzero(cvm <= np.nanmin(cvm))[0])
    beta = np.where(xs > 0, ys * path[kmin] / np.where(xs > 0, xs, 1), 0.0)
    return beta, lam, cvm


@pytest.mark.parametrize("alignment", S.ALIGNMENTS)
@pytest.mark.parametrize("ratio", [None, 1e-7])  # 1e-7 drives the path to an interpolating fit: early stop
def test_ridge_cv_equals_brute_force_glmnet_conventions(ratio, alignment):
    rng = np.random.default_rng(3)
    n, p, t = 8, 12, 4
    x = np.abs(rng.normal(size=(n, p)))
    x[:, 3] = 0.7  # a constant predictor (glmnet leaves it out)
    y = np.abs(x[:, :t] * 0.8 + 0.3 * rng.normal(size=(n, t)))
    fit = S.glmnet_ridge_cv(x, y, lambda_min_ratio=ratio, alignment=alignment)
    for k in range(t):
        beta, lam, cvm = _brute_cv_glmnet(x, y[:, k], lambda_min_ratio=ratio, alignment=alignment)
        np.testing.assert_allclose(fit["lambda"][k], lam, rtol=1e-12)
        np.testing.assert_allclose(fit["cvm"][k], cvm, rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(fit["beta"][:, k], beta, rtol=1e-7, atol=1e-10)
        assert fit["beta"][3, k] == 0 and (fit["beta"][:, k] >= 0).all()
    if ratio:
        assert any(len(lam) < 100 for lam in fit["lambda"])


def test_constant_response_gets_zero_coefficients():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 5))
    y = np.column_stack([np.ones(8), rng.normal(size=8)])
    fit = S.glmnet_ridge_cv(x, y)
    assert (fit["beta"][:, 0] == 0).all() and np.isfinite(fit["beta"]).all()


def test_spearman_pcor_equals_rank_residual_correlation():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 4))
    x[:, 1] += x[:, 0]
    x[:, 2] = np.round(x[:, 2] + x[:, 1])  # ties
    pc = S.spearman_pcor(x)
    r = rankdata(x, axis=0)
    for i, j in [(0, 1), (1, 2), (0, 3)]:
        others = np.column_stack([np.ones(60)] + [r[:, k] for k in range(4) if k not in (i, j)])
        res = [r[:, c] - others @ np.linalg.lstsq(others, r[:, c], rcond=None)[0] for c in (i, j)]
        assert pc[i, j] == pytest.approx(np.corrcoef(res)[0, 1], abs=1e-10)


def test_signed_matrix_and_edge_table():
    a, tau, _ = make_regulated_trajectory(n_cells=300)
    x = np.asarray(a.X, dtype=float)
    adj = S.sincerities_matrix(x, tau)
    assert adj.max() == 1.0
    sign = np.sign(S.spearman_pcor(x))
    nz = adj != 0
    np.testing.assert_array_equal(np.sign(adj[nz]), sign[nz])  # the sign is ppcor's
    edges = S.infer(a, pseudotime=tau)
    w = edges.set_index(["regulator", "target"])["weight"]
    g = list(a.var_names)
    assert w[(g[0], g[7])] == pytest.approx(abs(adj[0, 7]))  # adj[i, j]: gene i -> gene j
    assert len(edges) == len(g) * (len(g) - 1)


def test_deterministic_and_drops_constant_genes():
    a, tau, _ = make_regulated_trajectory(n_cells=300)
    e1, e2 = S.infer(a, pseudotime=tau, seed=0), S.infer(a, pseudotime=tau, seed=1)
    pd.testing.assert_frame_equal(e1, e2)
    b = a.copy()
    b.X[:, 2] = 3.0
    e = S.infer(b, pseudotime=tau)
    assert "TF2" not in set(e["regulator"]) | set(e["target"]) and np.isfinite(e["weight"]).all()


def test_too_few_bins_is_a_one_line_error():
    a, tau, _ = make_regulated_trajectory(n_cells=100)
    with pytest.raises(BenchError, match="at least 5") as exc:
        S.infer(a, pseudotime=np.round(tau * 2))  # 3 distinct times
    assert "\n" not in str(exc.value)


def test_planted_edges_rank_above_random():
    a, tau, truth = make_regulated_trajectory(n_cells=400)
    ap, density = average_precision(S.infer(a, pseudotime=tau), truth)
    assert ap > 2 * density, (ap, density)  # measured 2.8x-5.7x over seeds 0-3


def test_beeline_example_above_random():
    a, pt, truth = load_beeline()
    edges = S.infer(a, pseudotime=pt)  # two lineages, merged by max as BEELINE
    assert len(edges) == a.n_vars * (a.n_vars - 1)
    ap, density = average_precision(edges, truth)
    assert ap > density, (ap, density)
