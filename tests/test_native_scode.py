"""SCODE: BEELINE's optimiser quirk, orientation, determinism, and planted edges ranked above random."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from bench.errors import BenchError
from methods.native import scode

def make_regulated_trajectory(n_cells=400, n_tfs=6, n_targets=18, seed=0, lag=0.04):
    """TFs pulse in turn along the true time; each target follows one TF with a lag. Returns (AnnData, tau, truth)."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    tau = rng.uniform(0, 1, n_cells)
    centres = np.linspace(0.15, 0.8, n_tfs)
    width = 0.07
    tf = np.exp(-((tau[:, None] - centres) ** 2) / (2 * width**2))
    parent = np.arange(n_targets) % n_tfs
    tg = np.exp(-((tau[:, None] - centres[parent] - lag) ** 2) / (2 * width**2))
    counts = rng.poisson(np.hstack([0.3 + 8 * tf, 0.3 + 8 * tg])).astype(np.float32)
    genes = [f"TF{i}" for i in range(n_tfs)] + [f"G{j}" for j in range(n_targets)]
    a = ad.AnnData(counts)
    a.var_names = genes
    a.obs_names = [f"c{i}" for i in range(n_cells)]
    truth = {(f"TF{p}", f"G{j}") for j, p in enumerate(parent)}
    return a, tau, truth


def average_precision(edges, truth):
    y = np.array([(r, t) in truth for r, t in zip(edges["regulator"], edges["target"])])
    return average_precision_score(y, edges["weight"]), y.mean()


def load_beeline():
    import anndata as ad

    from bench import settings
    from methods.pseudotime import read_pseudotime

    BEELINE = settings.data_dir / "beeline_example"  # noqa: N806 (BENCH_DATA_DIR or ../shared/data)
    if not (BEELINE / "ExpressionData.csv").exists():
        pytest.skip(f"BEELINE example not found in {BEELINE}: set BENCH_DATA_DIR")
    e = pd.read_csv(BEELINE / "ExpressionData.csv", index_col=0)
    a = ad.AnnData(e.T.to_numpy(dtype=float))
    a.obs_names, a.var_names = list(e.columns), list(e.index)
    pt = read_pseudotime(BEELINE / "PseudoTime.csv", a.obs_names)
    ref = pd.read_csv(BEELINE / "refNetwork.csv")
    truth = {(r, t) for r, t in zip(ref.Gene1, ref.Gene2) if r != t}
    return a, pt, truth


# ------------------------------------------------------------------------------------------ the algorithm

def test_ols_matches_lstsq():
    rng = np.random.default_rng(0)
    z = np.exp(np.outer(rng.uniform(0, 1, 50), rng.uniform(-10, 2, 4)))
    x = rng.normal(size=(50, 7))
    w, rss = scode._ols(z, x, float((x * x).sum()))
    ref = np.linalg.lstsq(z, x, rcond=None)[0].T
    np.testing.assert_allclose(w, ref, rtol=1e-8, atol=1e-10)
    assert rss == pytest.approx(float(((x - z @ ref.T) ** 2).sum()), rel=1e-8)


def test_beeline_optimizer_returns_initial_draw_and_fixed_one_searches():
    a, tau, _ = make_regulated_trajectory(n_cells=150, n_targets=6)
    x = np.asarray(a.X, dtype=float).T
    t = tau / tau.max()
    bug = scode.scode_replicate(x, t, n_iter=200, optimizer="beeline-a0512f8", rng=np.random.default_rng(1))
    fix = scode.scode_replicate(x, t, n_iter=200, optimizer="fixed-d481cd8", rng=np.random.default_rng(1))
    # a0512f8: the final B is the initial random draw (the search is thrown away)
    np.testing.assert_array_equal(bug["B"], bug["B0"])
    np.testing.assert_array_equal(fix["B0"], bug["B0"])  # same stream, same start
    assert not np.array_equal(fix["B"], fix["B0"])
    assert np.all((fix["B"] >= -10) & (fix["B"] <= 2))
    # A = W diag(B) W^+, so A W = W diag(B) when W has full column rank
    for r in (bug, fix):
        np.testing.assert_allclose(r["A"] @ r["W"], r["W"] * r["B"], atol=1e-6 * np.abs(r["W"]).max())
    # the fixed optimiser's final fit is much closer to its best RSS than the bug's random B0
    def rss(res):
        zmat = np.exp(np.outer(t, res["B"]))
        w = np.linalg.lstsq(zmat, x.T, rcond=None)[0]
        return float(((x.T - zmat @ w) ** 2).sum())
    assert rss(fix) <= rss(bug) + 1e-9


def test_orientation_and_self_loops():
    a, tau, _ = make_regulated_trajectory(n_cells=120, n_targets=4)
    kw = dict(pseudotime=tau, n_iter=50, n_rep=1, seed=3)
    bee = scode.infer(a, **kw).set_index(["regulator", "target"])["weight"]
    mod = scode.infer(a, orientation="scode", **kw).set_index(["target", "regulator"])["weight"]
    mod.index.names = ["regulator", "target"]
    pd.testing.assert_series_equal(bee.sort_index(), mod.sort_index())
    g = a.n_vars
    assert len(bee) == g * (g - 1)
    assert len(scode.infer(a, self_loops=True, **kw)) == g * g


def test_deterministic_for_a_seed():
    a, tau, _ = make_regulated_trajectory(n_cells=120, n_targets=4)
    kw = dict(pseudotime=tau, n_iter=60, n_rep=2)
    e1, e2 = scode.infer(a, seed=5, **kw), scode.infer(a, seed=5, **kw)
    pd.testing.assert_frame_equal(e1, e2)
    assert not scode.infer(a, seed=6, **kw)["weight"].equals(e1["weight"])


def test_lineages_are_merged_by_max():
    a, tau, _ = make_regulated_trajectory(n_cells=120, n_targets=4)
    pt = np.column_stack([np.where(tau < 0.7, tau, np.nan), np.where(tau > 0.3, tau, np.nan)])
    kw = dict(n_iter=40, n_rep=1, seed=0)
    both = scode.infer(a, pseudotime=pt, **kw).set_index(["regulator", "target"])["weight"]
    one = scode.infer(a[pt[:, 0] == pt[:, 0]], pseudotime=tau[tau < 0.7], **kw).set_index(["regulator", "target"])
    two = scode.infer(a[pt[:, 1] == pt[:, 1]], pseudotime=tau[tau > 0.3], **kw).set_index(["regulator", "target"])
    expect = np.maximum(one["weight"], two["weight"].reindex(one.index))
    np.testing.assert_array_equal(both.reindex(one.index).to_numpy(), expect.to_numpy())


def test_bad_input_is_a_one_line_error():
    a, tau, _ = make_regulated_trajectory(n_cells=60, n_targets=2)
    for kwargs in ({"pseudotime": -tau}, {"pseudotime": tau, "optimizer": "nope"},
                   {"pseudotime": tau, "orientation": "up"}, {"pseudotime": tau, "bogus": 1},
                   {"pseudotime": tau[:10]}):
        with pytest.raises(BenchError) as exc:
            scode.infer(a, n_iter=5, n_rep=1, **kwargs)
        assert "\n" not in str(exc.value)


# ------------------------------------------------------------------------------------------ fidelity

@pytest.mark.parametrize("optimizer", scode.OPTIMIZERS)
def test_planted_edges_rank_above_random(optimizer):
    a, tau, truth = make_regulated_trajectory()
    edges = scode.infer(a, pseudotime=tau, orientation="scode", optimizer=optimizer, n_iter=300, n_rep=3, seed=0)
    ap, density = average_precision(edges, truth)
    assert ap > 2 * density, (ap, density)  # measured 2.3x-6.7x over seeds 0-2


def test_beeline_example_above_random_with_beeline_defaults():
    a, pt, truth = load_beeline()
    edges = scode.infer(a, pseudotime=pt, seed=0)  # z=10, nIter=1000, nRep=6, a0512f8, BEELINE orientation
    assert set(edges.columns) == {"regulator", "target", "weight", "rank"}
    assert len(edges) == a.n_vars * (a.n_vars - 1)
    ap, density = average_precision(edges, truth)
    assert ap > density, (ap, density)
