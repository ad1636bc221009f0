"""A real multi-process Dask cluster: ``dask scheduler`` + two ``dask worker`` processes on localhost.

``bench run --preset smoke --scheduler tcp://127.0.0.1:PORT`` must give the leaderboard of the local run (runtimes
aside), also when one worker is killed in the middle of the infer stage (Dask reruns its tasks on the other one).
Everything started here is shut down by the fixtures' finalizers (whole process groups). Marked ``slow`` and
``cluster`` (three smoke runs, 278 s on 2 idle cores): they run by default, as CI does; ``-m "not slow"`` skips them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from reports.leaderboard import ROW_KEY
from tests._cluster import BIN, Cluster, bench_env, data_dir, kill_group

#: leaderboard columns that measure the machine, not the result
RUNTIME_COLUMNS = ("runtime_s", "cpu_time_s", "peak_memory_mb", "run_id", "timestamp", "stderr_tail")


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path / "cluster")
    yield c
    c.close()


def _bench_run(out: Path, cache: Path, *extra: str) -> subprocess.Popen:
    # The methods that split into Dask tasks and one that does not (all ten would triple the time, within the same
    # code paths).
    cmd = [str(BIN / "bench"), "run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(out), "--quiet",
           "--methods", "genie3,grnboost2,cespgrn,ppcor", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=bench_env(cache),
                            start_new_session=True)


def _finish(proc: subprocess.Popen, timeout: float = 1200) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        kill_group(proc)
    text = out.decode(errors="replace") if out else ""
    assert proc.returncode == 0, text[-3000:]
    return text


def leaderboard(run_dir: Path) -> pd.DataFrame:
    lb = pd.read_parquet(run_dir / "leaderboard.parquet")
    lb = lb.drop(columns=[c for c in RUNTIME_COLUMNS if c in lb.columns])
    keys = [c for c in ROW_KEY + ["depth"] if c in lb.columns]
    return lb.sort_values(keys, kind="mergesort").reset_index(drop=True)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, data_dir_module):
    """The smoke run on the default local cluster, shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("local")
    _finish(_bench_run(tmp / "run", tmp / "cache"))
    return tmp / "run"


@pytest.fixture(scope="module")
def data_dir_module():
    if not (data_dir() / "bonemarrow_paul15.h5ad").exists():
        pytest.skip(f"real data not found in {data_dir()}: set BENCH_DATA_DIR")


def _assert_complete(run_dir: Path, reference: Path) -> None:
    """Every (source, method) of the reference run has one finished record here, and no leaderboard row twice."""
    def records(d: Path) -> list[str]:
        return sorted(str(p.parent.relative_to(d / "infer")) for p in (d / "infer").glob("*/*/record.json"))

    assert records(run_dir) == records(reference)
    lb = pd.read_parquet(run_dir / "leaderboard.parquet")
    assert not lb.duplicated([c for c in ROW_KEY + ["depth"] if c in lb.columns]).any()


@pytest.mark.slow
@pytest.mark.cluster
def test_smoke_run_on_a_two_worker_cluster_matches_the_local_run(cluster, local_run, tmp_path):
    out = tmp_path / "run"
    _finish(_bench_run(out, tmp_path / "cache", "--scheduler", cluster.address))
    _assert_complete(out, local_run)
    pd.testing.assert_frame_equal(leaderboard(out), leaderboard(local_run))
    # Besides one task per method run, GENIE3, GRNBoost2 and the reference GRN ran their per-target blocks there.
    with cluster.client() as client:
        kinds = client.run_on_scheduler(_task_kinds)
    assert {"bench-genie3", "bench-grnboost2"} <= set(kinds), kinds
    # ... and the method runs themselves: one task per (source, method), e.g. bench-groundgan-genie3
    assert any(k.startswith("bench-") and k.endswith("-genie3") and k != "bench-genie3" for k in kinds), kinds


def _task_kinds(dask_scheduler) -> list[str]:
    """Task-key prefixes the scheduler saw (keys are ``<prefix>-<token>-<i>``)."""
    return sorted({str(t[0]).rsplit("-", 2)[0] for t in dask_scheduler.transition_log})


@pytest.mark.slow
@pytest.mark.cluster
def test_a_worker_killed_during_infer_loses_nothing(cluster, local_run, tmp_path):
    # Reuse the local run's finished data/GRN/GAN/simulate/pseudotime stages: only infer (where the worker dies),
    # score and report are recomputed, on the cluster.
    out = tmp_path / "run"
    shutil.copytree(local_run, out, ignore=shutil.ignore_patterns("infer", "leaderboard.parquet", "report.html"))
    proc = _bench_run(out, tmp_path / "cache", "--scheduler", cluster.address, "--force", "infer")
    killed = None
    with cluster.client() as client:
        pids = client.run(os.getpid)  # worker address -> pid
        t0 = time.time()
        while killed is None and proc.poll() is None and time.time() - t0 < 600:
            busy = {w: keys for w, keys in client.processing().items() if any("bench-" in str(k) for k in keys)}
            if busy:
                victim = sorted(busy)[0]
                pgid = os.getpgid(pids[victim])
                killed = next(p for p in cluster.workers if p.pid == pgid)
                kill_group(killed)
            else:
                time.sleep(0.05)
    assert killed is not None, "no method task was seen running on the cluster"
    _finish(proc)
    _assert_complete(out, local_run)
    pd.testing.assert_frame_equal(leaderboard(out), leaderboard(local_run))
