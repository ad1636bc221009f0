"""`bench run` end to end with the smoke preset: outputs, caching, resume, determinism, bad input."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.config import PRESETS, RunConfig, load_config, to_toml
from bench.edges import make_edges
from bench.errors import BenchError
from bench.pipeline import STAGES, downstream
from methods.base import all_methods


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    from bench import settings
    from conftest import DEFAULT_DATA

    if not (settings.data_dir / "bonemarrow_paul15.h5ad").exists() and not DEFAULT_DATA.exists():
        pytest.skip("real data not found: set BENCH_DATA_DIR")
    old = (settings._cache_dir, settings._data_dir)
    settings._cache_dir = str(tmp_path_factory.mktemp("smoke-cache"))
    if not (settings.data_dir / "bonemarrow_paul15.h5ad").exists():
        settings._data_dir = str(DEFAULT_DATA)
    out = tmp_path_factory.mktemp("runs") / "smoke"
    t = time.perf_counter()
    code = main(["run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(out), "--quiet"])
    first = time.perf_counter() - t
    yield out, code, first, settings.cache_dir
    settings._cache_dir, settings._data_dir = old


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_smoke_run_outputs(smoke_run):
    out, code, first, _ = smoke_run
    assert code == 0
    for f in ("config.toml", "manifest.json", "leaderboard.parquet", "report.html", "curves.parquet",
              "realism.json", "knockout.parquet"):
        assert (out / f).exists(), f
    lb = pd.read_parquet(out / "leaderboard.parquet")
    assert len(lb) == len(all_methods()) * 4 * 2 * 2  # methods x sources (GRouNdGAN at x1 and inf) x controls x reps
    assert set(lb["simulator"]) == {"groundgan", "groundgan-inf", "real", "scgan"}
    assert set(lb["ground_truth"]) == {"pos-control", "neg-control"}
    assert set(lb["replicate"]) == {0, 1}
    assert set(lb["status"]) <= {"ok", "failed", "timeout"}
    failed = lb[lb["status"] != "ok"]
    assert failed.empty, f"methods failed in the smoke run: {failed[['method', 'simulator', 'error']].to_dict('records')}"
    ok = lb[lb["status"] == "ok"]
    assert ok["auprc"].between(0, 1).all() and (ok["universe"] == "imposed").all()
    assert (lb["input_transform"] == "log1p").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stage_seconds"]) == set(STAGES)
    assert manifest["paper_comparison"]["claims"]
    assert all(c["verdict"] in ("holds", "fails", "inconclusive") for c in manifest["paper_comparison"]["claims"])
    assert manifest["replicates"]["n_replicates"] == 2 and manifest["verdicts"]["n_boot"] == 1000
    html = (out / "report.html").read_text()
    assert "<table" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert 'id="verdict"' in html and 'id="ranks-groundgan"' in html


def test_smoke_run_replicates_and_verdicts(smoke_run):
    """Replicates are different data (fresh cells, real subsamples); CIs, baselines and gates are all there."""
    import anndata as ad
    import numpy as np

    out, *_ = smoke_run
    a, b = (ad.read_h5ad(out / "simulate" / f) for f in ("groundgan.h5ad", "groundgan-rep1.h5ad"))
    assert a.shape == b.shape and not np.array_equal(np.asarray(a.X), np.asarray(b.X))
    real = [pd.read_csv(out / "pseudotime" / f)["cell"] for f in ("real.csv", "real-rep1.csv")]
    assert len(real[0]) == len(real[1]) == 300 and set(real[0]) != set(real[1])  # seeded subsamples
    s = pd.read_parquet(out / "summary.parquet")
    assert len(s) == len(all_methods()) * 4 * 2 and set(s["n_replicates"]) == {2}
    ok = s[s["auprc_ratio"].notna()]
    assert ((ok["auprc_ratio_ci_low"] <= ok["auprc_ratio"] + 1e-9)
            & (ok["auprc_ratio"] <= ok["auprc_ratio_ci_high"] + 1e-9)).all()
    assert set(s.loc[s["baseline"], "method"]) == {"random", "pearson"} and ok["tied_group"].notna().all()
    pw = pd.read_parquet(out / "pairwise.parquet")
    assert pw["p_a_beats_b"].between(0, 1).all() and set(pw["simulator"]) == {"groundgan", "groundgan-inf", "real", "scgan"}
    qc = pd.read_parquet(out / "qc.parquet")
    assert {"uninformative", "unrealistic", "not-imposed"} <= set(qc["gate"])
    assert set(qc.loc[qc["gate"] == "not-imposed", "simulator"]) == {"groundgan", "groundgan-inf"}
    lb = pd.read_parquet(out / "leaderboard.parquet")
    assert lb["qc"].notna().all()
    st = pd.read_parquet(out / "stability.parquet")
    assert st["spearman_median"].notna().any() and (st["n_pairs"] <= 1).all()


def test_smoke_run_depth_axis(smoke_run):
    """One GRouNdGAN, two measurement depths: the same cells, a depth column, realism and claims per depth."""
    import anndata as ad

    out, code, *_ = smoke_run
    assert code == 0
    lb = pd.read_parquet(out / "leaderboard.parquet")
    depth = lb.drop_duplicates("simulator").set_index("simulator")["depth"]
    assert depth["groundgan"] == 1.0 and np.isinf(depth["groundgan-inf"]) and depth["real"] == 1.0
    assert set(lb["protocol"]) == {"fast"}
    x1, exp = (ad.read_h5ad(out / "simulate" / f"{s}.h5ad") for s in ("groundgan", "groundgan-inf"))
    assert list(x1.obs_names) == list(exp.obs_names)
    assert np.isinf(exp.obs["depth"]).all() and exp.uns["simulator"]["measurement"]["kind"] == "expected"
    # the same cells: each sampled cell is closer to its own expected profile than to most others
    lx, le = np.log1p(x1.X), np.log1p(exp.X)
    own = ((lx - le) ** 2).sum(1)
    other = ((lx - np.roll(le, 1, axis=0)) ** 2).sum(1)
    assert (own < other).mean() > 0.8
    groundgan_info = json.loads((out / "groundgan" / "_stage.json").read_text())
    assert groundgan_info["info"]  # trained once; the depths only re-measure its cells
    realism = json.loads((out / "realism.json").read_text())["entries"]
    assert {e["simulator"] for e in realism} == {"groundgan", "groundgan-inf", "scgan"}
    manifest = json.loads((out / "manifest.json").read_text())
    claims = pd.DataFrame(manifest["depth_claims"])
    assert set(claims["depth"]) == {"1", "inf"} and len(claims) == 8
    assert set(claims["verdict"]) <= {"holds", "fails", "inconclusive"}
    assert 'id="depth"' in (out / "report.html").read_text()


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_rerun_is_cached_and_identical(smoke_run):
    out, _, first, _ = smoke_run
    before = pd.read_parquet(out / "leaderboard.parquet")
    verdicts_before = [pd.read_parquet(out / f) for f in ("summary.parquet", "pairwise.parquet")]
    assert main(["run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(manifest["stage_cached"][s] for s in STAGES)
    # recompute the scores from the cached inference: same seed, same numbers
    assert main(["run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(out), "--quiet",
                 "--force", "score"]) == 0
    after = pd.read_parquet(out / "leaderboard.parquet")
    cols = ["method", "simulator", "ground_truth", "replicate", "auprc", "auroc", "epr", "precision_at_k", "qc"]
    key = ["method", "simulator", "ground_truth", "replicate"]
    pd.testing.assert_frame_equal(before[cols].sort_values(key).reset_index(drop=True),
                                  after[cols].sort_values(key).reset_index(drop=True))
    for f, b in zip(("summary.parquet", "pairwise.parquet"), verdicts_before):  # same seed: identical CIs and P
        pd.testing.assert_frame_equal(pd.read_parquet(out / f), b)


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_resume_recomputes_only_what_is_missing(smoke_run):
    out, *_ = smoke_run
    victim = out / "infer" / "real" / "ppcor"
    edges_before = pd.read_parquet(victim / "edges.parquet")
    other = out / "infer" / "groundgan" / "pidc" / "record.json"
    mtime = other.stat().st_mtime
    # as if the run had been killed while PPCOR ran on the real cells
    shutil.rmtree(victim)
    (out / "infer" / "_stage.json").unlink()
    assert main(["run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(out), "--quiet"]) == 0
    assert other.stat().st_mtime == mtime  # finished methods were not re-run
    pd.testing.assert_frame_equal(pd.read_parquet(victim / "edges.parquet"), edges_before)  # seeded


def _spy_infer(adata, *, pseudotime=None, tfs=None, seed=0):
    """Fails when handed a TF list, so that its record says what the method function was called with."""
    if tfs is not None:
        raise RuntimeError(f"called with a TF list of {len(tfs)} genes")
    X = np.asarray(adata.X, dtype=float)
    C = np.nan_to_num(np.corrcoef(X.T))
    g = list(map(str, adata.var_names))
    return make_edges(*zip(*[(g[i], g[j], abs(C[i, j])) for i in range(len(g)) for j in range(len(g)) if i != j]))


def test_paper_protocol_gives_no_method_a_tf_list(smoke_run, tmp_path, monkeypatch):
    from methods import base

    base.all_methods()
    spy = base.Method(base.MethodInfo("TfSpy", "fails when given a TF list", "none", "none", accepts_tfs=True),
                      _spy_infer)
    monkeypatch.setitem(base._registry, "tfspy", spy)
    out = tmp_path / "run"
    shutil.copytree(smoke_run[0], out)  # data, GRNs and simulators are reused from the smoke run
    cfg = tmp_path / "spy.toml"  # only the spy, on the real and the x1 cells; no knockouts
    cfg.write_text('dataset = "bonemarrow"\npreset = "smoke"\nmethods = ["tfspy"]\nsources = ["real", "groundgan"]\n'
                   'depths = [1]\nknockout_tfs = 0\n')
    args = ["run", "--config", str(cfg), "--out", str(out), "--quiet"]
    assert main([*args, "--protocol", "paper"]) == 0
    lb = pd.read_parquet(out / "leaderboard.parquet")
    # 2 sources x 2 ground truths x the smoke preset's 2 replicates
    assert len(lb) == 2 * 2 * 2 and sorted(set(lb["replicate"])) == [0, 1]
    assert (lb["status"] == "ok").all() and set(lb["protocol"]) == {"paper"}
    for src in ("real", "groundgan"):
        assert json.loads((out / "infer" / src / "tfspy" / "record.json").read_text())["used_tfs"] is False
    # the fast protocol hands it the TF list
    assert main([*args, "--protocol", "fast"]) == 0
    lb = pd.read_parquet(out / "leaderboard.parquet")
    assert (lb["status"] == "failed").all() and lb["error"].str.contains("called with a TF list").all()
    assert set(lb["protocol"]) == {"fast"}


def test_force_marks_downstream():
    assert downstream(["simulate"]) == {"simulate", "pseudotime", "infer", "score", "report"}
    assert downstream(["data"]) == set(STAGES)


def test_config_toml_round_trip(tmp_path):
    cfg = load_config(None, dataset="bonemarrow", preset="smoke", seed=3)
    p = tmp_path / "c.toml"
    p.write_text(to_toml(cfg))
    again = load_config(p)
    assert again.hash() == cfg.hash() and again.seed == 3
    assert load_config(p, seed=4).seed == 4  # flags override the file
    assert set(PRESETS) == {"smoke", "default", "paper"}


@pytest.mark.parametrize("args,msg", [
    (["--methods", "pidc,nosuch"], "unknown method"),
    (["--dataset", "nosuch"], "unknown dataset"),
    (["--preset", "huge"], "unknown preset"),
    (["--config", "/nonexistent/c.toml"], "config file not found"),
    (["--force", "everything"], "unknown stage"),
    (["--replicates", "0"], "n_replicates must be at least 1"),
    (["--depths", "1,0"], "bad depth"),
    (["--preset", "paper", "--depths", "4"], "need a simulator with count sampling"),
    (["--protocol", "beeline"], "unknown protocol"),
    (["--reference-method", "aracne"], "unknown reference method"),
])
def test_bad_input(args, msg, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--out", str(out), "--quiet", *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and msg in err and len(err.splitlines()) == 1
    assert not (out / "leaderboard.parquet").exists()


def test_config_unknown_key(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('dataset = "bonemarrow"\nwat = 1\n')
    with pytest.raises(BenchError, match="unknown key"):
        load_config(p)
    assert RunConfig().preset == "default"


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_bench_infer_reproduces_the_runs_edges(smoke_run, tmp_path):
    """`bench infer` on a run's simulated cells gives exactly the run's edges (one input rule, one runner)."""
    out, *_ = smoke_run
    from bench.pipeline.infer import method_preset, n_workers
    from methods.base import get_method

    cfg = load_config(out / "config.toml")
    names = ["pidc", "ppcor", "genie3", "scode"]  # a tree method, TF-list users and a pseudotime method
    tfs = tmp_path / "tfs.txt"
    tfs.write_text("\n".join(_run_tfs(out)))
    presets = {n: method_preset(cfg, get_method(n)) for n in names}
    # the same cores per method as the run (BLAS sums in another order with more threads: last-digit changes)
    code = main(["infer", "--dataset", str(out / "simulate" / "groundgan.h5ad"), "--methods", ",".join(names),
                 "--tfs", str(tfs), "--preset", ",".join(f"{n}={p}" for n, p in presets.items() if p),
                 "--seed", str(cfg.seed), "--pseudotime", str(out / "pseudotime" / "groundgan.csv"),
                 "--workers", str(n_workers(cfg)), "--out", str(tmp_path / "infer")])
    assert code == 0
    for name in names:
        record = json.loads((tmp_path / "infer" / name / "record.json").read_text())
        assert record["input_transform"] == "log1p"
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "infer" / name / "edges.parquet"),
                                      pd.read_parquet(out / "infer" / "groundgan" / name / "edges.parquet"))


def _run_tfs(out) -> list[str]:
    """The TFs the run gave the methods: the dataset's TFs among the simulated genes."""
    import anndata as ad

    from datasets import dataset_tfs

    genes = set(ad.read_h5ad(out / "simulate" / "groundgan.h5ad", backed="r").var_names)
    return [t for t in dataset_tfs(ad.read_h5ad(out / "data" / "prepared.h5ad", backed="r")) if t in genes]
