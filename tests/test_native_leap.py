"""LEAP: equality with a brute-force implementation of MAC_lags' definition, BEELINE conventions, fidelity."""

from __future__ import annotations

import math

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from bench.errors import BenchError
from conftest import average_precision, beeline_dir, beeline_example, make_counts
from methods.native import leap


def _brute_mac(X, max_lag=0.33):
    """Literal MAC_lags: Pearson of the first window against each lagged window, strict-> replacement."""
    G, n = X.shape
    L = int(math.floor(n * max_lag))
    w = n - L
    out = np.full((G, G), np.nan)
    for a in range(G):
        for b in range(G):
            if a == b:
                continue
            x = X[a, :w]
            best = np.nan
            for lag in range(L + 1):
                y = X[b, lag:lag + w]
                c = np.nan if np.ptp(x) == 0 or np.ptp(y) == 0 else np.corrcoef(x, y)[0, 1]
                if lag == 0:
                    best = c
                elif abs(best) < abs(c):  # False when either is NaN, as R's which() drops NA
                    best = c
            out[a, b] = best
    return out


def test_equals_bruteforce_definition():
    rng = np.random.default_rng(0)
    X = rng.gamma(1.0, 1.0, size=(8, 47))
    X[2, :10] = 3.0  # constant over part of the first window only: still defined
    X[3] = np.round(X[3])  # ties
    X[5, :40] = 1.0  # constant over the whole first window: NaN row, never replaced
    mac, lag = leap.max_lagged_correlation(X, 0.33)
    ref = _brute_mac(X, 0.33)
    assert np.array_equal(np.isnan(mac), np.isnan(ref))
    np.testing.assert_allclose(mac[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=1e-12, atol=1e-13)
    assert np.all(np.isnan(mac[5, :]))
    assert lag.max() <= math.floor(47 * 0.33)


def test_lag_direction_earlier_gene_is_regulator():
    t = np.arange(200)
    rng = np.random.default_rng(1)
    driver = np.convolve(rng.normal(size=260), np.ones(15) / 15, mode="same")[:200]
    follower = np.roll(driver, 20) + 0.01 * rng.normal(size=200)
    X = np.vstack([driver, follower])
    mac, lag = leap.max_lagged_correlation(X, 0.33)
    assert lag[0, 1] == 20 and mac[0, 1] > 0.99 and abs(mac[1, 0]) < mac[0, 1]
    adata = ad.AnnData(X.T.astype(np.float32))
    adata.var_names = ["A", "B"]
    order = rng.permutation(200)
    edges = leap.infer(adata[order].copy(), pseudotime=t[order].astype(float))
    assert (edges.iloc[0]["regulator"], edges.iloc[0]["target"]) == ("A", "B")


def test_needs_pseudotime_and_enough_cells():
    adata, _, _ = make_counts(n_cells=30, n_genes=5, n_tfs=2, seed=0)
    with pytest.raises(BenchError):
        leap.infer(adata)
    with pytest.raises(BenchError):
        leap.infer(adata[:2].copy(), pseudotime=np.arange(2.0))


def _lagged_data(seed=0, n_cells=300, n_tfs=5, n_targets=20, lag=15):
    """TF activities vary smoothly along pseudotime; each target follows one TF ``lag`` cells later."""
    rng = np.random.default_rng(seed)
    T = n_cells + lag
    raw = rng.normal(size=(T + 60, n_tfs))
    kern = np.hanning(41)
    act = np.stack([np.convolve(raw[:, k], kern, mode="same")[30:30 + T] for k in range(n_tfs)], axis=1)
    act = np.exp(act / act.std())
    parents = rng.integers(n_tfs, size=n_targets)
    tf = act[lag:]  # TF at cell c = act[c + lag]
    tg = act[:n_cells, parents]  # target at cell c = act[c] = its TF at cell c - lag
    counts = rng.poisson(np.concatenate([3 * tf, 3 * tg], axis=1)).astype(np.float32)
    genes = [f"TF{k}" for k in range(n_tfs)] + [f"G{j}" for j in range(n_targets)]
    adata = ad.AnnData(counts)
    adata.var_names = genes
    truth = {(genes[p], genes[n_tfs + j]) for j, p in enumerate(parents)}
    return adata, np.arange(n_cells, dtype=float), genes[:n_tfs], truth


def test_planted_lagged_edges_above_random_and_deterministic():
    adata, pt, tfs, truth = _lagged_data()
    rng = np.random.default_rng(0)
    order = rng.permutation(adata.n_obs)  # the method must sort by pseudotime itself
    edges = leap.infer(adata[order].copy(), pseudotime=pt[order], tfs=tfs)
    universe = [(a, b) for a in tfs for b in adata.var_names if a != b]
    ap, base = average_precision(edges, truth, universe)
    assert ap > 2 * base, (ap, base)
    pd.testing.assert_frame_equal(edges, leap.infer(adata[order].copy(), pseudotime=pt[order], tfs=tfs, seed=3))


def test_make_counts_planted_edges_above_random():
    adata, tfs, truth = make_counts(n_cells=300, n_genes=40, n_tfs=6, seed=0)
    pt = np.random.default_rng(0).permutation(adata.n_obs).astype(float)  # no time structure: lag 0 carries it
    edges = leap.infer(adata, pseudotime=pt, tfs=tfs)
    universe = [(a, b) for a in tfs for b in adata.var_names if a != b]
    ap, base = average_precision(edges, truth, universe)
    assert ap > 1.3 * base, (ap, base)


def test_beeline_example_two_trajectories():
    adata, truth, universe = beeline_example()
    pt = pd.read_csv(beeline_dir() / "PseudoTime.csv", index_col=0).loc[adata.obs_names]
    edges = leap.infer(adata, pseudotime=pt.to_numpy(dtype=float))
    # BEELINE merges trajectories by the per-edge maximum |score|
    per = [leap.infer(adata, pseudotime=pt.iloc[:, k].to_numpy(dtype=float)) for k in range(2)]
    both = pd.concat(per).groupby(["regulator", "target"])["weight"].max()
    merged = edges.set_index(["regulator", "target"])["weight"]
    pd.testing.assert_series_equal(merged.sort_index(), both.sort_index(), check_names=False)
    ap, base = average_precision(edges, truth, universe)
    assert ap > base, (ap, base)
