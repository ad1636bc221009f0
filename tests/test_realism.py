"""Realism metrics: hand-checked pieces, and same-distribution ~ control while a shifted one is clearly worse."""

from __future__ import annotations

import numpy as np
import pytest

from bench.errors import BenchError
from bench.scoring import realism as rl


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    # t-SNE's OpenMP threads spin-wait; on a shared 2-core machine one thread is several times faster.
    from bench import settings

    monkeypatch.setattr(settings, "n_jobs", 1)


def _cells(n, seed, shift=0.0, genes=40):
    lam = np.random.default_rng(123).gamma(1.0, 1.0, size=genes) * 8
    lam = lam + shift * (np.arange(genes) < 8) * lam.mean()
    x = np.random.default_rng(seed).poisson(lam, size=(n, genes)).astype(float)
    return x / np.maximum(x.sum(1, keepdims=True), 1) * 20000  # library-size normalised, no log


def test_centroid_distances_golden():
    a = np.array([[0.0, 2.0], [2.0, 0.0]])   # mean (1, 1)
    b = np.array([[4.0, 4.0], [2.0, 2.0]])   # mean (3, 3)
    eu, cos = rl.centroid_distances(a, b)
    assert eu == pytest.approx(np.sqrt(8))
    assert cos == pytest.approx(0.0, abs=1e-12)  # same direction
    eu, cos = rl.centroid_distances(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    assert cos == pytest.approx(1.0)


def test_mmd_matches_brute_force_formula():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(1.0, 1.0, size=(5, 3))
    m = 1.3
    k = lambda x, y: sum(np.exp(-np.sum((x - y) ** 2) / s**2) for s in (m / 2, m, 2 * m))  # noqa: E731
    kaa = sum(k(x, y) for x in a for y in a)
    kbb = sum(k(x, y) for x in b for y in b)
    kab = sum(k(x, y) for x in a for y in b)
    biased, unbiased = rl.mmd(a, b, bandwidth=m)
    assert biased == pytest.approx(kaa / 49 + kbb / 25 - 2 * kab / 35)
    assert unbiased == pytest.approx((kaa - 7 * 3) / 42 + (kbb - 5 * 3) / 20 - 2 * kab / 35)
    assert rl.mmd(a, a, bandwidth=m)[0] == pytest.approx(0.0, abs=1e-12)


def test_mmd_blocks_agree():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(30, 4))
    s = np.array([0.5, 1.0, 2.0])
    assert rl._kernel_sum(a, b, s, block=7) == pytest.approx(rl._kernel_sum(a, b, s, block=4096))


def test_bandwidth_is_median_knn_distance():
    x = np.arange(30, dtype=float)[:, None]  # points on a line, spacing 1
    m = rl.mmd_bandwidth(x, n_neighbors=2)
    assert m == pytest.approx(1.0)  # interior points: neighbours at 1 and 1 (ends: 1 and 2)


def test_lisi_separated_vs_mixed():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 2))
    sep = np.vstack([a, a + 100])
    labels = np.r_[np.zeros(200), np.ones(200)]
    assert rl.lisi(sep, labels).mean() == pytest.approx(1.0, abs=1e-6)
    mixed = rng.normal(size=(400, 2))
    assert rl.lisi(mixed, rng.integers(0, 2, 400)).mean() > 1.8


def test_same_distribution_close_to_control_and_shift_clearly_worse():
    test = _cells(120, seed=1)
    same = _cells(120, seed=2)
    shifted = _cells(120, seed=3, shift=1.5)
    good = rl.realism_with_control(test, same, seed=0, rf_trees=40, rf_folds=3)
    bad = rl.realism_with_control(test, shifted, seed=0, rf_trees=40, rf_folds=3)
    ctl = good.control
    # Same distribution: at least as good as two halves of the real data (full-size samples are less noisy).
    assert good.simulated["centroid_euclidean"] < 2 * ctl["centroid_euclidean"]
    assert good.simulated["mmd_unbiased"] < 3 * abs(ctl["mmd_unbiased"]) + 1e-3
    assert good.simulated["milisi"] > 1.7 and ctl["milisi"] > 1.7
    assert abs(good.simulated["rf_auroc"] - 0.5) < 0.15
    # Shifted: every metric clearly worse than the control.
    assert bad.simulated["centroid_euclidean"] > 5 * ctl["centroid_euclidean"]
    assert bad.simulated["centroid_cosine"] > 5 * ctl["centroid_cosine"]
    assert bad.simulated["mmd"] > 5 * ctl["mmd"]
    assert bad.simulated["milisi"] < 1.3
    assert bad.simulated["rf_auroc"] > 0.95
    # Control is computed from the test set only, so it does not depend on the simulated cells.
    assert bad.control == ctl
    assert set(good.embedding["label"]) == {"real", "simulated"} and len(good.embedding) == 240
    d = good.to_dict()
    assert d["metrics"]["mmd"]["control"] == ctl["mmd"] and d["parameters"]["rf"]["n_trees"] == 40


def test_control_ignores_the_simulated_cells():
    test = _cells(60, seed=1)
    a = rl.realism_with_control(test, _cells(90, seed=2), seed=0, rf_trees=10, rf_folds=2)  # subsampled to 60
    b = rl.realism_with_control(test, _cells(30, seed=3), seed=0, rf_trees=10, rf_folds=2)
    assert a.control == b.control and a.n_simulated == 60 and b.n_simulated == 30


def test_seeded():
    test, sim = _cells(80, seed=4), _cells(80, seed=5)
    a = rl.realism_metrics(test, sim, seed=3, rf_trees=20, rf_folds=2)
    b = rl.realism_metrics(test, sim, seed=3, rf_trees=20, rf_folds=2)
    assert a == b


def test_anndata_input_and_gene_mismatch():
    import anndata as ad

    test, sim = _cells(40, seed=6), _cells(40, seed=7)
    eu = rl.centroid_distances(test, sim)[0]
    m = rl.realism_metrics(ad.AnnData(test.astype(np.float32)), ad.AnnData(sim.astype(np.float32)),
                           rf_trees=10, rf_folds=2)
    assert m["centroid_euclidean"] == pytest.approx(eu, rel=1e-5)
    with pytest.raises(BenchError):
        rl.realism_metrics(test, sim[:, :10])
    with pytest.raises(BenchError):
        rl.realism_metrics(test, np.full_like(sim, np.nan))


def test_real_bonemarrow_train_vs_test_matches_control_and_mode_collapse_does_not(data_dir):
    from datasets.prepare import get_split, prepare_dataset

    adata = prepare_dataset("bonemarrow", n_genes=300, seed=0)
    test, train = get_split(adata, "test"), get_split(adata, "train")
    rng = np.random.default_rng(0)
    same = train[np.sort(rng.choice(train.n_obs, 150, replace=False))]
    top = train.obs["paul15_clusters"].value_counts().index[0]
    collapsed = train[train.obs["paul15_clusters"] == top]  # a simulator stuck on one cell type
    good = rl.realism_with_control(test, same, seed=0, rf_trees=50, rf_folds=3, max_cells=150)
    sub = test[np.sort(np.random.default_rng(0).choice(test.n_obs, 150, replace=False))]
    bad = rl.realism_metrics(sub, collapsed[:150], seed=0, rf_trees=50, rf_folds=3)
    assert good.simulated["rf_auroc"] < 0.7 and good.simulated["milisi"] > 1.6
    assert good.simulated["centroid_euclidean"] < 1.5 * good.control["centroid_euclidean"]
    assert bad["rf_auroc"] > good.simulated["rf_auroc"] + 0.2
    assert bad["mmd"] > 2 * good.simulated["mmd"]
    assert bad["milisi"] < good.simulated["milisi"] - 0.2
