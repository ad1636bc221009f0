"""Execution layer: one child process per run, timeout, memory limit, records, Dask dispatch, pseudotime input."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest

from bench.edges import make_edges
from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.contract import make_tiny_dataset
from methods.execution import (MethodRun, RunRecord, records_table, resolve_params, resolve_pseudotime,
                               run_isolated, run_methods)
from methods.inputs import prepare_input


# Module-level functions: the child process imports this module to unpickle them.
def _corr_infer(adata, *, seed=0, scale=1.0, **_):
    X = np.asarray(adata.X, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = np.nan_to_num(np.corrcoef(X.T))
    g = list(adata.var_names)
    i, j = np.where(~np.eye(len(g), dtype=bool))
    return make_edges([g[a] for a in i], [g[b] for b in j], scale * np.abs(C[i, j]))


def _raising_infer(adata, **_):
    raise ValueError("deliberate failure for the test")


def _sleeping_infer(adata, **_):
    time.sleep(120)


def _hungry_infer(adata, **_):
    blocks = []
    for _ in range(40):  # up to ~2 GB, touched page by page
        blocks.append(np.ones(50 * 2**20 // 8))
        time.sleep(0.02)
    return _corr_infer(adata)


def _exiting_infer(adata, **_):
    os._exit(7)


def _pt_infer(adata, *, pseudotime=None, **_):
    order = np.argsort(pseudotime)
    g = list(adata.var_names)
    return make_edges([g[0]], [g[1]], [float(order[0])])


def _m(name, infer, **kw):
    return Method(MethodInfo(name, "test method", "none", "none", defaults={"scale": 1.0},
                             presets={"double": {"scale": 2.0}}, **kw), infer)


CORR = _m("Corr", _corr_infer)


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_dataset()


def test_ok_run_records_everything(tiny):
    run = run_isolated(CORR, tiny, preset="double", timeout=60, memory_limit=2 * 2**30)
    assert run.ok and isinstance(run, MethodRun)
    r = run.record
    assert isinstance(r, RunRecord) and r.status == "ok" and r.error is None
    assert r.parameters == {"scale": 2.0} and r.preset == "double" and r.input_transform == "log1p"
    assert r.runtime_s > 0 and r.cpu_time_s > 0 and r.peak_memory_mb > 20  # a python with numpy/anndata loaded
    assert r.n_edges_predicted == len(run.edges) == 15 * 14
    # same numbers as in-process, on the one method input (log1p of the normalised expression)
    pd.testing.assert_frame_equal(run.edges, _corr_infer(prepare_input(tiny), scale=2.0))


def test_failure_is_a_record_with_the_error_and_stderr(tiny):
    run = run_isolated(_m("Boom", _raising_infer), tiny, timeout=60)
    assert run.status == "failed" and run.edges.empty
    assert run.record["error"] == "ValueError: deliberate failure for the test"
    assert "Traceback" in run.record["stderr_tail"] and "deliberate failure" in run.record["stderr_tail"]


def test_hard_exit_is_failed(tiny):
    run = run_isolated(_m("Exit", _exiting_infer), tiny, timeout=60)
    assert run.status == "failed" and "7" in run.record["error"]


def test_timeout_kills_the_child(tiny):
    t0 = time.perf_counter()
    run = run_isolated(_m("Sleepy", _sleeping_infer), tiny, timeout=2)
    assert run.status == "timeout" and "timed out after 2 s" in run.record["error"]
    assert time.perf_counter() - t0 < 30 and run.record.runtime_s < 30


def test_memory_limit_kills_the_child(tiny):
    run = run_isolated(_m("Hungry", _hungry_infer), tiny, timeout=120, memory_limit=500 * 2**20)
    assert run.status == "failed" and "memory limit" in run.record["error"]
    assert run.record.peak_memory_mb > 500


def test_unknown_preset_is_a_bench_error():
    with pytest.raises(BenchError, match="no preset 'nope'"):
        resolve_params(CORR, "nope")


def test_pseudotime_inputs(tiny, tmp_path):
    pt = tiny.obs["pseudotime"].to_numpy()
    np.testing.assert_array_equal(resolve_pseudotime(tiny, pt), pt)
    np.testing.assert_array_equal(resolve_pseudotime(tiny), pt)  # from obs['pseudotime']
    shuffled = tiny.obs["pseudotime"].sample(frac=1.0, random_state=0)
    np.testing.assert_array_equal(resolve_pseudotime(tiny, shuffled), pt)  # aligned by cell name
    csv = tmp_path / "PseudoTime.csv"
    shuffled.rename("PseudoTime1").to_csv(csv)
    np.testing.assert_allclose(resolve_pseudotime(tiny, str(csv)), pt, rtol=1e-12)
    with pytest.raises(BenchError, match="for 100 cells"):
        resolve_pseudotime(tiny, pt[:-1])
    with pytest.raises(BenchError, match="infinite"):
        resolve_pseudotime(tiny, np.where(np.arange(100) == 3, np.inf, pt))
    with pytest.raises(BenchError, match="lacks 1 of"):
        resolve_pseudotime(tiny, shuffled.iloc[1:])
    # NaN = a cell off the lineage; two lineages = two columns (BEELINE's PseudoTime.csv).
    two = np.column_stack([np.where(pt < 0.5, pt, np.nan), np.where(pt >= 0.3, pt, np.nan)])
    np.testing.assert_array_equal(resolve_pseudotime(tiny, two), two)
    beeline = tmp_path / "PseudoTime2.csv"
    pd.DataFrame(two, index=tiny.obs_names, columns=["PseudoTime1", "PseudoTime2"]).to_csv(beeline, na_rep="NA")
    np.testing.assert_allclose(resolve_pseudotime(tiny, str(beeline)), two, rtol=1e-12)


def test_run_methods_through_dask(tiny, tmp_path, capfd):
    methods = [CORR, _m("Boom", _raising_infer), _m("PT", _pt_infer, pseudotime="ordering")]
    runs = run_methods(tiny, methods, seed=3, timeout=60, n_workers=2, out_dir=tmp_path / "out",
                       preset={"corr": "double"})
    out, err = capfd.readouterr()
    assert out == "" and err == "", "run_methods must be quiet"
    assert [r.method for r in runs] == ["Corr", "Boom", "PT"]  # the order given
    assert [r.status for r in runs] == ["ok", "failed", "ok"]  # one failure does not stop the others
    assert runs[0].record.preset == "double" and runs[0].record.seed == 3
    pd.testing.assert_frame_equal(runs[0].edges, _corr_infer(prepare_input(tiny), scale=2.0))
    assert runs[2].edges["weight"].iloc[0] == float(np.argsort(tiny.obs["pseudotime"].to_numpy())[0])
    assert (tmp_path / "out" / "Corr" / "edges.parquet").exists()
    assert (tmp_path / "out" / "Boom" / "record.json").exists()
    assert not (tmp_path / "out" / "Boom" / "edges.parquet").exists()
    table = records_table(runs)
    assert list(table["status"]) == ["ok", "failed", "ok"]


def test_run_methods_rejects_bad_input_before_starting(tiny):
    with pytest.raises(BenchError, match="unknown method"):
        run_methods(tiny, "nope")
    with pytest.raises(BenchError, match="unknown executor"):
        run_methods(tiny, [CORR], executor="k8s")
    with pytest.raises(BenchError, match="listed twice"):
        run_methods(tiny, [CORR, CORR])


def test_run_methods_on_a_running_scheduler(tiny):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        runs = run_methods(tiny, [CORR], scheduler=cluster.scheduler_address, timeout=60)
    assert runs[0].ok
    pd.testing.assert_frame_equal(runs[0].edges, _corr_infer(prepare_input(tiny)))


def test_unreachable_scheduler_is_a_bench_error(tiny, monkeypatch):
    import methods.dispatch as dispatch

    monkeypatch.setattr(dispatch, "SCHEDULER_CONNECT_TIMEOUT", "1s")
    with pytest.raises(BenchError, match="cannot reach the Dask scheduler"):
        run_methods(tiny, [CORR], scheduler="tcp://127.0.0.1:1")


def _busy_pool_infer(adata, **_):
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(1) as pool:
        pool.apply(_spin, (600,))


def _spin(seconds):
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        pass


def test_killed_pool_workers_still_count_cpu_time(tiny):
    idle = run_isolated(_m("Sleepy", _sleeping_infer), tiny, timeout=6)  # the child's own start-up CPU only
    busy = run_isolated(_m("Busy", _busy_pool_infer), tiny, timeout=6)
    assert idle.status == busy.status == "timeout"
    # The spinning worker's CPU time counts although it was killed and never reaped.
    assert busy.record.cpu_time_s > idle.record.cpu_time_s + 0.5
