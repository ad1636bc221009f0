"""The optional count-sampling output layer (``count_sampling="poisson"``) of GRouNdGAN and scGAN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import poisson

from bench.errors import BenchError
from conftest import make_counts
from simulators import GRouNdGAN, ScGAN
from simulators.groundgan.counts import CountSampler, cell_depths, poisson_ppf


def test_poisson_ppf_matches_scipy():
    rng = np.random.default_rng(0)
    rate = np.r_[rng.gamma(0.5, 4.0, 3000), 0.0, 1e-9, 250.0, 999.0]
    u = rng.random(rate.shape)
    np.testing.assert_array_equal(poisson_ppf(u, rate), np.nan_to_num(poisson.ppf(u, rate)))
    big = poisson_ppf(np.array([0.5]), np.array([1e5]))[0]  # normal approximation above 1000
    assert abs(big - 1e5) < 2


def test_cell_depths_from_counts_and_estimated():
    counts = np.array([[1, 0, 3, 2], [0, 5, 1, 0], [4, 1, 0, 2]], dtype=float)  # each cell has a gene with one UMI
    X = counts / counts.sum(1, keepdims=True) * 20000
    np.testing.assert_allclose(cell_depths(X), np.sort(counts.sum(1)))
    np.testing.assert_allclose(cell_depths(X, counts), np.sort(counts.sum(1)))
    with pytest.raises(BenchError, match="not scaled counts"):
        cell_depths(np.random.default_rng(0).gamma(2.0, 1.0, (20, 10)))


def test_training_sample_is_discrete_with_straight_through_gradient():
    s = CountSampler(np.array([50.0, 100.0, 200.0]), 1000.0)
    x = torch.full((64, 10), 100.0, requires_grad=True)
    y = s.train_sample(x, torch.Generator().manual_seed(0))
    tot = y.detach().sum(1)
    assert torch.allclose(tot[tot > 0], torch.full_like(tot[tot > 0], 1000.0))
    # every cell is counts scaled to 1000: some total T makes row * T / 1000 integral
    for row in y.detach().double():
        if row.sum() > 0:
            assert any(torch.allclose(row * t / 1000, (row * t / 1000).round(), atol=1e-3) for t in range(1, 3000))
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_frozen_sampling_keeps_unchanged_genes():
    s = CountSampler(np.arange(20.0, 400.0), 2000.0)
    rng = torch.Generator().manual_seed(3)
    x = torch.rand(30, 8) * 500
    u = s.uniforms(30, 8, rng)
    a, scale = s.frozen_sample(x, u)
    x2 = x.clone()
    x2[:, 2] = 0.0
    b, _ = s.frozen_sample(x2, u, scale=scale)
    keep = [0, 1, 3, 4, 5, 6, 7]
    assert torch.equal(a[:, keep], b[:, keep])
    assert (b[:, 2] == 0).all()


@pytest.fixture(scope="module")
def data():
    adata, tfs, truth = make_counts(n_cells=160, n_genes=24, n_tfs=5, seed=1)
    counts = np.asarray(adata.X, dtype=np.float32)
    assert np.array_equal(counts, np.round(counts))
    adata.layers["counts"] = counts.copy()
    adata.X = (counts / counts.sum(1, keepdims=True) * 20000).astype(np.float32)
    edges = pd.DataFrame(sorted(truth), columns=["regulator", "target"])
    return adata, edges


def _is_scaled_counts(X, library=20000.0, max_total=20000):
    """Every row is some integer count vector scaled to ``library``."""
    totals = np.arange(1, max_total + 1, dtype=np.float64)[:, None]
    for row in np.asarray(X, dtype=np.float64):
        if row.sum() == 0:
            continue
        c = row[None, row > 0] * totals / library
        if not (np.abs(c - np.round(c)) < 1e-2).all(axis=1).any():
            return False
    return True


@pytest.mark.parametrize("output", ["relu", "softplus"])
def test_groundgan_with_count_sampling(data, tmp_path, output):
    adata, edges = data
    preset = {"preset": "smoke", "count_sampling": "poisson", "output_activation": output, "tg_init": "distill",
              "tg_warmup_steps": 2}
    m = GRouNdGAN(edges, preset=preset, seed=0, device="cpu").fit(adata, progress=False)
    depths = np.asarray(adata.layers["counts"]).sum(1)
    np.testing.assert_allclose(m.depths, np.sort(depths))
    sim = m.generate(80, seed=1)
    assert _is_scaled_counts(sim.X)
    np.testing.assert_array_equal(sim.X, m.generate(80, seed=1).X)
    # knockouts: non-downstream genes bit-identical, the knocked-out TF exactly 0
    tf = edges["regulator"].value_counts().index[0]
    down = set(m.downstream(tf))
    base, ko = m.perturb(60, {tf: 0.0}, seed=2)
    np.testing.assert_array_equal(base.X, m.generate(60, seed=2).X)
    col = list(base.var_names).index(tf)
    assert (ko.X[:, col] == 0).all()
    others = [i for i, g in enumerate(base.var_names) if g not in down and g != tf]
    assert np.array_equal(ko.X[:, others], base.X[:, others])
    # save / load keeps the depths
    m.save(tmp_path / "m")
    loaded = GRouNdGAN.load(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(loaded.generate(30, seed=4).X, m.generate(30, seed=4).X)
    if output == "softplus":  # positive rates: every gene has a non-zero expected value in every cell
        z, noise, _ = m._draw(50, 0)
        assert (m._run(m.tg, z, noise)[0].numpy() > 0).all()


def test_scgan_with_count_sampling(data, tmp_path):
    adata, _ = data
    m = ScGAN(preset={"preset": "smoke", "count_sampling": "poisson"}, seed=0, device="cpu").fit(adata, progress=False)
    sim = m.generate(50, seed=0)
    assert _is_scaled_counts(sim.X)
    m.save(tmp_path / "s")
    np.testing.assert_array_equal(ScGAN.load(tmp_path / "s", device="cpu").generate(50, seed=0).X, sim.X)


def test_count_sampling_refuses_non_count_data(data):
    adata, edges = data
    bad = adata.copy()
    del bad.layers["counts"]
    bad.X = np.random.default_rng(0).gamma(2.0, 100.0, bad.shape).astype(np.float32)
    with pytest.raises(BenchError, match="count_sampling"):
        GRouNdGAN(edges, preset={"preset": "smoke", "count_sampling": "poisson"}, seed=0).fit(bad, progress=False)
