"""`bench run` on a small synthetic ``h5ad:`` dataset (no real data needed): every stage, the stage table,
one row per (method, source, control), resume from the cache."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench.config import RunConfig
from bench.pipeline import STAGES, run_pipeline
from conftest import make_counts

TFS = ["Gata1", "Spi1", "Cebpa", "Klf1", "Myb", "Runx1", "Fli1", "Tal1", "Irf8", "Egr1"]


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    from bench import settings

    adata, _, _ = make_counts(n_cells=400, n_genes=120, n_tfs=len(TFS), seed=1)
    adata.var_names = TFS + [f"Gene{j}" for j in range(adata.n_vars - len(TFS))]  # mouse-style symbols
    tmp = tmp_path_factory.mktemp("synthetic")
    tf_file = tmp / "tfs.txt"
    tf_file.write_text("\n".join(TFS) + "\n")
    path = tmp / "cells.h5ad"
    adata.write_h5ad(path)
    old = settings._cache_dir
    settings._cache_dir = str(tmp / "cache")
    cfg = RunConfig(dataset=f"h5ad:{path}", preset="smoke", methods=["pidc", "ppcor", "scode"],
                    sources=["groundgan", "real"], n_cells=200, real_cells=200, knockout_tfs=1, knockout_cells=100,
                    realism_max_cells=100, realism_rf_trees=10)
    import datasets.prepare as prep

    orig = prep.prepare_dataset
    prep_kw = {"tfs": str(tf_file)}

    def prepare_with_tfs(name, **kw):  # the synthetic TFs are the dataset's TF list
        return orig(name, **{**kw, **prep_kw})

    import bench.pipeline.stages as stages

    mp = pytest.MonkeyPatch()
    mp.setattr(stages, "prepare_dataset", prepare_with_tfs)
    out = run_pipeline(cfg, out=tmp / "run", quiet=True)
    yield out, cfg
    mp.undo()
    settings._cache_dir = old


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_every_stage_runs_and_scores(synthetic_run):
    from bench.pipeline.sources import source_name

    out, cfg = synthetic_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stage_seconds"]) == set(STAGES) - {"scgan"}  # no scGAN source: the stage does not apply
    lb = pd.read_parquet(out / "leaderboard.parquet")
    reps, depths = cfg.resolved().n_replicates, cfg.resolved().depths
    # methods x (GRouNdGAN at each depth + real) x controls x replicates
    assert len(lb) == 3 * (len(depths) + 1) * 2 * reps
    assert sorted(set(lb["replicate"])) == list(range(reps))
    assert (lb["status"] == "ok").all(), lb[["method", "simulator", "status", "error"]]
    assert set(lb["method"]) == {"PIDC", "PPCOR", "SCODE"} and set(lb["simulator"]) == {"real"} | {source_name(d) for d in depths}
    assert (lb["input_transform"] == "log1p").all() and lb["auprc"].between(0, 1).all()
    for source in ("groundgan", "real"):
        for m in cfg.methods:
            assert (out / "infer" / source / m / "edges.parquet").exists()
    assert (out / "report.html").exists() and (out / "knockout.parquet").exists()


@pytest.mark.slow
@pytest.mark.timeout(3600)  # includes the run itself (module fixture), minutes on a loaded 2-core machine
def test_rerun_is_cached(synthetic_run):
    out, cfg = synthetic_run
    before = pd.read_parquet(out / "leaderboard.parquet")
    import bench.pipeline.stages as stages

    with pytest.MonkeyPatch.context() as mp:  # a cached run never prepares the data again
        mp.setattr(stages, "prepare_dataset", lambda *a, **k: pytest.fail("data stage re-ran"))
        run_pipeline(cfg, out=out, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(manifest["stage_cached"].values())
    after = pd.read_parquet(out / "leaderboard.parquet")
    np.testing.assert_array_equal(before["auprc"].to_numpy(), after["auprc"].to_numpy())


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_a_stage_that_runs_again_reruns_what_depends_on_it(synthetic_run):
    # Resume after one method's result was dropped: only that method runs, and the leaderboard is scored again
    # from the new edges (the score stage's key alone would call it cached).
    out, cfg = synthetic_run
    (out / "infer" / "_stage.json").unlink()
    (out / "infer" / "real" / "pidc" / "_done.json").unlink()
    before = pd.read_parquet(out / "leaderboard.parquet")
    stamp = (out / "infer" / "real" / "ppcor" / "edges.parquet").stat().st_mtime_ns
    (out / "leaderboard.parquet").unlink()
    run_pipeline(cfg, out=out, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    assert not manifest["stage_cached"]["infer"] and not manifest["stage_cached"]["score"]
    assert manifest["stage_cached"]["groundgan"] and manifest["stage_cached"]["simulate"]
    assert (out / "infer" / "real" / "ppcor" / "edges.parquet").stat().st_mtime_ns == stamp  # not re-run
    after = pd.read_parquet(out / "leaderboard.parquet")
    np.testing.assert_array_equal(before["auprc"].to_numpy(), after["auprc"].to_numpy())
