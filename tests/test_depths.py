"""Measurement depth: one trained GRouNdGAN generated at several depths (``simulators.groundgan.depths``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from bench.errors import BenchError
from conftest import make_counts
from simulators import GRouNdGAN
from simulators.groundgan.depths import depth_label, parse_depths


@pytest.fixture(scope="module")
def model():
    adata, tfs, truth = make_counts(n_cells=200, n_genes=24, n_tfs=5, seed=2)
    counts = np.asarray(adata.X, dtype=np.float32)
    adata.layers["counts"] = counts.copy()
    adata.X = (counts / counts.sum(1, keepdims=True) * 20000).astype(np.float32)
    edges = pd.DataFrame(sorted(truth), columns=["regulator", "target"])
    m = GRouNdGAN(edges, preset={"preset": "smoke", "count_sampling": "poisson"}, seed=0, device="cpu")
    return m.fit(adata, progress=False), counts.sum(1)


def _rel_err(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_sampled_cells_converge_to_the_expected_profile(model):
    m, _ = model
    mults = [1, 4, 16, 256, 4096]
    sims = m.generate(300, seed=5, depths=[math.inf, *mults])
    expected = sims[math.inf].X
    errs = [_rel_err(sims[k].X, expected) for k in mults]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[0] > 0.2 and errs[-1] < 0.03, errs
    # Poisson noise: the error falls roughly as 1 / sqrt(depth) (x16 depth -> ~1/4 of the error)
    assert 0.15 < errs[2] / errs[0] < 0.4, errs


def test_depth_one_matches_training_depths_and_plain_generate(model):
    m, train_depths = model
    sims = m.generate(2000, seed=1, depths=["1", "x4"])
    one, four = sims[1.0], sims[4.0]
    np.testing.assert_array_equal(one.X, m.generate(2000, seed=1).X)  # x1 is the simulator's usual output
    assert set(np.unique(one.obs["depth"])) <= set(train_depths)
    # sampled UMIs per cell follow the training cells' depths (plus Poisson noise on the total)
    assert ks_2samp(one.obs["n_umis"], train_depths).statistic < 0.1
    assert ks_2samp(four.obs["n_umis"] / 4, train_depths).statistic < 0.1
    np.testing.assert_array_equal(four.obs["depth"], 4 * one.obs["depth"])
    assert one.uns["simulator"]["measurement"]["depth"] == "1"
    assert four.uns["simulator"]["measurement"]["kind"] == "poisson"


def test_same_noise_gives_the_same_cells_at_every_depth(model):
    m, _ = model
    sims = m.generate(200, seed=3, depths=[math.inf, 1, 16])
    exp = sims[math.inf]
    assert np.isinf(exp.obs["depth"]).all() and exp.uns["simulator"]["measurement"]["kind"] == "expected"
    z, noise, _ = m._draw(200, 3)
    np.testing.assert_array_equal(exp.X, m._run(m.tg, z, noise)[0].numpy())
    for k in (1.0, 16.0):
        assert list(sims[k].obs_names) == list(exp.obs_names)
    # measured deeply, each cell is closest to its own expected profile
    lx, le = np.log1p(sims[16.0].X), np.log1p(exp.X)
    d = ((lx[:, None, :] - le[None, :, :]) ** 2).sum(-1)
    assert (d.argmin(1) == np.arange(200)).mean() > 0.8
    # with common random numbers a cell's counts never decrease with depth
    c1 = sims[1.0].X * sims[1.0].obs["n_umis"].to_numpy()[:, None] / 20000
    c16 = sims[16.0].X * sims[16.0].obs["n_umis"].to_numpy()[:, None] / 20000
    assert (np.round(c16) >= np.round(c1)).all()
    # another seed gives other cells
    assert not np.allclose(m.generate(200, seed=4, depths=[math.inf])[math.inf].X, exp.X)


def test_depth_parsing_and_errors(model):
    assert parse_depths("inf,1,4,16") == [math.inf, 1.0, 4.0, 16.0]
    assert parse_depths(["expected", 1, "x4", 4]) == [math.inf, 1.0, 4.0]
    assert [depth_label(x) for x in (math.inf, 1.0, 0.5, 16.0)] == ["inf", "1", "0.5", "16"]
    for bad in ("0", "-1", "deep", "nan"):
        with pytest.raises(BenchError, match="depth"):
            parse_depths(bad)
    adata, tfs, truth = make_counts(n_cells=60, n_genes=12, n_tfs=3, seed=0)
    adata.X = (adata.X / adata.X.sum(1, keepdims=True) * 20000).astype(np.float32)
    edges = pd.DataFrame(sorted(truth), columns=["regulator", "target"])
    plain = GRouNdGAN(edges, preset="smoke", seed=0, device="cpu").fit(adata, progress=False)
    assert plain.generate(10, seed=0, depths=["inf"])[math.inf].shape == (10, 12)
    with pytest.raises(BenchError, match="count_sampling"):
        plain.generate(10, seed=0, depths=[1])
