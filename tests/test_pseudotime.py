"""Pseudotime: PAGA-rooted DPT tracks a known time, is seeded and cached; user files are read or refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from bench.errors import BenchError
from methods import pseudotime as ptm


def make_trajectory(n_cells=300, n_pulses=8, n_ramps=12, seed=0):
    """A 1-D differentiation: genes pulse in turn along the true time ``tau``; "progenitor" genes fade and
    "mature" genes rise (so the start and the end of the time course are different states). Progenitor genes
    are detected in more cells early, as in real stem cells. Returns (AnnData, tau)."""
    import anndata as ad

    rng = np.random.default_rng(seed)
    tau = rng.uniform(0, 1, n_cells)
    centres = np.linspace(0.1, 0.9, n_pulses)
    pulses = np.exp(-((tau[:, None] - centres) ** 2) / (2 * 0.08**2))
    down = (1 - tau[:, None]) ** rng.uniform(1, 2, n_ramps)
    up = tau[:, None] ** rng.uniform(1, 2, n_ramps // 2)
    lam = np.hstack([0.2 + 8 * pulses, 0.05 + 6 * down, 0.2 + 6 * up])
    counts = rng.poisson(lam).astype(np.float32)
    x = counts / np.maximum(counts.sum(1, keepdims=True), 1) * 20000
    genes = ([f"P{i}" for i in range(n_pulses)] + [f"Early{i}" for i in range(n_ramps)]
             + [f"Late{i}" for i in range(n_ramps // 2)])
    a = ad.AnnData(x.astype(np.float32))
    a.var_names = genes
    a.obs_names = [f"c{i}" for i in range(n_cells)]
    a.layers["counts"] = counts
    return a, tau


@pytest.fixture(scope="module")
def traj():
    return make_trajectory()


def _rho(pt, tau):
    return spearmanr(np.asarray(pt), tau, nan_policy="omit").statistic


def test_marker_rooted_dpt_tracks_true_time_and_is_cached(traj, monkeypatch):
    from bench import settings

    a, tau = traj
    pt = ptm.compute_pseudotime(a, root_markers=["Early0", "Early1", "Early2"], seed=0)
    assert isinstance(pt, pd.Series) and list(pt.index) == list(a.obs_names)
    assert _rho(pt, tau) > 0.8
    assert pt.min() == 0 and pt.max() == 1 and pt.attrs["root_cluster"] is not None
    assert "marker" in pt.attrs["root_rule"]
    files = list((settings.cache_dir / "pseudotime").glob("*.parquet"))
    assert len(files) == 1 and not list((settings.cache_dir / "pseudotime").glob(".*"))  # no temp files left

    # the second call is served from the cache (the computation is not run again) and identical
    def boom(*args, **kwargs):
        raise AssertionError("recomputed instead of reading the cache")
    monkeypatch.setattr(ptm, "_dpt_with_paga_root", boom)
    again = ptm.compute_pseudotime(a, root_markers=["Early0", "Early1", "Early2"], seed=0)
    pd.testing.assert_series_equal(pt, again)
    # other data or other parameters are a different cache entry
    with pytest.raises(AssertionError, match="recomputed"):
        ptm.compute_pseudotime(a, root_markers=["Early0", "Early1", "Early2"], seed=1)
    b = a.copy()
    b.X[0, 0] += 1
    with pytest.raises(AssertionError, match="recomputed"):
        ptm.compute_pseudotime(b, root_markers=["Early0", "Early1", "Early2"], seed=0)


def test_default_rule_and_explicit_root_are_deterministic(traj):
    a, tau = traj
    # no markers: genes-detected (CytoTRACE) proxy picks the progenitor end
    p1 = ptm.compute_pseudotime(a, seed=0, cache=False)
    p2 = ptm.compute_pseudotime(a, seed=0, cache=False)
    np.testing.assert_array_equal(p1.to_numpy(), p2.to_numpy())
    assert "genes detected" in p1.attrs["root_rule"]
    assert _rho(p1, tau) > 0.8
    # explicit root cell by name: that cell is at time 0
    first = a.obs_names[int(np.argmin(tau))]
    p3 = ptm.compute_pseudotime(a, root=first, cache=False)
    assert p3[first] == 0 and p3.attrs["root_cell"] == first
    assert _rho(p3, tau) > 0.8


def test_root_errors_are_one_line(traj):
    a, _ = traj
    for kwargs in ({"root": "no-such-cell"}, {"root": 10**6}, {"root_markers": ["NOPE"]}):
        with pytest.raises(BenchError) as exc:
            ptm.compute_pseudotime(a, cache=False, **kwargs)
        assert "\n" not in str(exc.value)


# ------------------------------------------------------------------------------------------- user files

def test_read_beeline_pseudotime_keeps_lineages():
    from bench import settings

    BEELINE = settings.data_dir / "beeline_example"  # noqa: N806 (BENCH_DATA_DIR or ../shared/data)
    if not (BEELINE / "PseudoTime.csv").exists():
        pytest.skip("BEELINE example not found")
    cells = pd.read_csv(BEELINE / "ExpressionData.csv", index_col=0, nrows=1).columns
    t = ptm.read_pseudotime(BEELINE / "PseudoTime.csv", cells)
    assert list(t.columns) == ["PseudoTime1", "PseudoTime2"] and list(t.index) == list(cells)
    assert t.notna().sum().tolist() == [1353, 1205]
    lin = ptm.lineages(t, len(cells))
    assert [name for name, _, _ in lin] == ["PseudoTime1", "PseudoTime2"]
    assert all(np.isfinite(times).all() and len(idx) == len(times) for _, idx, times in lin)


def test_read_cell_time_csv_reorders_and_ignores_extra(tmp_path):
    f = tmp_path / "pt.tsv"
    f.write_text("cell\tpseudotime\tcluster\nb\t0.5\tx\na\t0.1\ty\nz\t0.9\tx\n")
    t = ptm.read_pseudotime(f, ["a", "b"])
    assert list(t.columns) == ["pseudotime"]
    assert t["pseudotime"].tolist() == [0.1, 0.5]


@pytest.mark.parametrize("text, match", [
    ("cell,pseudotime\na,0.1\n", "lacks 1 of the 2 cells"),
    ("cell,pseudotime\na,0.1\nb,\n", "NaN"),
    ("cell,t1,t2\na,0.1,0.2\nb,,\n", "NaN in every lineage"),
    ("cell,pseudotime\na,0.1\na,0.2\nb,0.3\n", "twice"),
    ("cell,label\na,x\nb,y\n", "no numeric"),
])
def test_read_pseudotime_errors_are_one_line(tmp_path, text, match):
    f = tmp_path / "pt.csv"
    f.write_text(text)
    with pytest.raises(BenchError, match=match) as exc:
        ptm.read_pseudotime(f, ["a", "b"])
    assert "\n" not in str(exc.value)
    with pytest.raises(BenchError, match="not found"):
        ptm.read_pseudotime(tmp_path / "missing.csv", ["a"])


def test_lineages_and_merge():
    lin = ptm.lineages(np.array([0.3, np.nan, 0.1]), 3)
    assert len(lin) == 1 and lin[0][1].tolist() == [0, 2]
    with pytest.raises(BenchError, match="shape"):
        ptm.lineages(np.zeros(4), 3)
    from bench.edges import make_edges
    a = make_edges(["A", "B"], ["B", "A"], [0.9, 0.1])
    b = make_edges(["A", "B"], ["B", "A"], [0.2, 0.5])
    m = ptm.merge_lineages([a, b])
    assert m.set_index(["regulator", "target"])["weight"].to_dict() == {("A", "B"): 0.9, ("B", "A"): 0.5}
    assert m["rank"].tolist() == [1, 2]
