"""Run one method job in a fresh child process, watched for time and memory.

Every native method run happens in its own child process (``python -m methods._child``, so nothing leaks between
methods and a crash, a hang or a memory blow-up only ends that run). The parent watches the child:

- **timeout**: after ``timeout`` seconds the child's whole process group is killed -> status ``timeout``;
- **memory limit**: an RSS watchdog sums the resident memory of the child and its descendants every few tens of
  milliseconds and kills the group above ``memory_limit`` -> status ``failed``. ``RLIMIT_AS`` is not used: it
  caps *virtual* memory, and numpy/torch/OpenMP reserve far more address space (thread stacks, allocator arenas)
  than they touch, so a useful limit would fail healthy runs;
- the record (:class:`methods.record.RunRecord`) keeps status (ok / failed / timeout), the error, the tail of
  stderr, wall and CPU time (``wait4``'s total for the child and its reaped descendants, or the watchdog's
  per-process samples when larger, e.g. after a kill), peak RSS (the largest of the watchdog's samples of the
  whole process tree and the child's own ``VmHWM``), the resolved parameters, the preset and the input rule.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd
import psutil

from bench.edges import EDGE_COLUMNS, empty_edges
from methods.base import Method
from methods.jobs import Job, make_jobs
from methods.record import MethodRun, RunRecord

STDERR_TAIL_CHARS = 4000


def _tree_usage(proc, cpu_seen: dict[int, float]) -> int:
    """Resident memory of a psutil process and all its descendants (bytes; 0 if it is gone).

    Also records each process's CPU time in ``cpu_seen`` (pid -> seconds), so that the CPU time of pool workers
    that are killed, and therefore never reaped into ``wait4``'s totals, is still counted.
    """
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            with p.oneshot():
                total += p.memory_info().rss
                t = p.cpu_times()
                cpu_seen[p.pid] = t.user + t.system
    return total


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _tail(path: Path, n: int = STDERR_TAIL_CHARS) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - n))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _child_env(n_jobs: int | None, seed: int) -> dict[str, str]:
    env = dict(os.environ)
    if n_jobs:
        # Cap every thread pool at the cores this task may use, so concurrent methods do not oversubscribe.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            env[var] = str(n_jobs)
        env["BENCH_N_JOBS"] = str(n_jobs)
    env["PYTHONHASHSEED"] = str(seed)
    env.setdefault("PYTHONWARNINGS", "ignore")
    env["BENCH_VERBOSITY"] = "0"
    # The child must import the same code as the parent (tests, plugins and user files included).
    env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_isolated(method: Method, adata, *, pseudotime=None, tfs=None, seed: int = 0, params: dict | None = None,
                 preset: str | None = None, input_transform: str | None = None, timeout: float | None = None,
                 memory_limit: float | None = None, n_jobs: int | None = None,
                 workdir: str | os.PathLike | None = None, poll_interval: float = 0.05) -> MethodRun:
    """Run one method on a dataset in a fresh child process with a timeout and a memory limit.

    ``adata`` is a benchmark dataset: it goes through :func:`methods.jobs.make_jobs` (the input rule, parameter
    and pseudotime resolution) like every other run; see :func:`run_job_in_child` for the other arguments.
    """
    [job] = make_jobs(adata, [method], pseudotime=pseudotime, tfs=tfs, seed=seed, params=params, preset=preset,
                      input_transform=input_transform)
    return run_job_in_child(job, timeout=timeout, memory_limit=memory_limit, n_jobs=n_jobs, workdir=workdir,
                            poll_interval=poll_interval)


def new_record(job: Job, executor: str, timeout: float | None, memory_limit: float | None) -> RunRecord:
    """The record of a job about to run (status ``failed`` until it succeeds)."""
    return RunRecord(method=job.method.name, executor=executor, parameters=job.params, preset=job.preset,
                     seed=job.seed, input_transform=job.input_transform, n_cells=int(job.adata.n_obs),
                     n_genes=int(job.adata.n_vars), used_tfs=job.tfs is not None, timeout_s=timeout,
                     memory_limit_mb=None if memory_limit is None else round(memory_limit / 2**20, 1))


def run_job_in_child(job: Job, *, timeout: float | None = None, memory_limit: float | None = None,
                     n_jobs: int | None = None, workdir: str | os.PathLike | None = None,
                     poll_interval: float = 0.05) -> MethodRun:
    """Run ``job`` in a fresh child process.

    Parameters
    ----------
    job
        From :func:`methods.jobs.make_jobs` (any :class:`~methods.base.Method`, including one defined in a test or
        a user file: it is shipped to the child with cloudpickle).
    timeout
        Seconds before the child's process group is killed (``None`` = no limit).
    memory_limit
        Bytes of resident memory (child plus descendants) before it is killed (``None`` = no limit).
    n_jobs
        Cores the method may use (thread pools and ``settings.n_jobs`` in the child).
    workdir
        Where the task files and ``stderr.log`` go; a temporary folder (removed afterwards) by default.
    """
    record = new_record(job, "native", timeout, memory_limit)
    tmp_ctx = tempfile.TemporaryDirectory(prefix=f"bench-{job.method.name.lower()}-") if workdir is None else None
    task_dir = Path(tmp_ctx.name if tmp_ctx else workdir)
    task_dir.mkdir(parents=True, exist_ok=True)
    try:
        _write_task(job, n_jobs, task_dir)
        stderr_path = task_dir / "stderr.log"
        with open(stderr_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "methods._child", str(task_dir)],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=str(task_dir),
                                    env=_child_env(n_jobs, job.seed), start_new_session=True)
            try:
                peak, killed_for, status, cpu = _watch(proc, psutil.Process(proc.pid), t0, timeout, memory_limit,
                                                          poll_interval)
            except BaseException:  # interrupted (Ctrl-C, a cancelled Dask task): never leave the child running
                _kill_group(proc.pid)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, 0)
                raise
            returncode = os.waitstatus_to_exitcode(status)
        record.runtime_s = round(time.perf_counter() - t0, 3)
        record.cpu_time_s = round(cpu, 3)
        record.stderr_tail = _tail(stderr_path)
        return _collect(job, record, task_dir, peak, killed_for, returncode, timeout, memory_limit)
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


def _write_task(job: Job, n_jobs: int | None, task_dir: Path) -> None:
    """The child's inputs: the prepared data, the pickled method, its arguments."""
    job.adata.write_h5ad(task_dir / "adata.h5ad")  # uncompressed: a scratch copy, read once by the child
    if job.pseudotime is not None:
        np.save(task_dir / "pseudotime.npy", np.asarray(job.pseudotime, dtype=float))
    (task_dir / "method.pkl").write_bytes(cloudpickle.dumps(job.method))
    task = {"seed": job.seed, "params": job.params, "n_jobs": n_jobs, "tfs": job.tfs,
            "pseudotime": job.pseudotime is not None}
    (task_dir / "task.json").write_text(json.dumps(task, default=str))


def _collect(job: Job, record: RunRecord, task_dir: Path, peak: int, killed_for, returncode: int, timeout,
             memory_limit) -> MethodRun:
    """The run's outcome from the child's result files and the watchdog's findings."""
    result_path = task_dir / "result.json"
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    # Not wait4's ru_maxrss: Linux carries the forking parent's peak over the exec, so it would report the
    # parent's size. The child reports its own VmHWM and its finished children's peak instead.
    peak = max(peak, result.get("self_peak_rss_bytes", 0), result.get("children_peak_rss_bytes", 0))
    record.peak_memory_mb = round(peak / 2**20, 1)
    edges = empty_edges()
    if killed_for == "timeout":
        record.status = "timeout"
        record.error = f"timed out after {timeout:g} s and was killed"
    elif killed_for == "memory":
        record.error = f"exceeded the memory limit ({memory_limit / 2**20:.0f} MB resident) and was killed"
    elif returncode != 0 or not result.get("ok"):
        record.error = result.get("error") or _last_line(record.stderr_tail) or \
            f"child exited with code {returncode}"
    else:
        edges = pd.read_parquet(task_dir / "edges.parquet")[EDGE_COLUMNS]
        record.status = "ok"
        record.n_edges_predicted = int(len(edges))
    if result.get("notes"):
        record.details["notes"] = result["notes"]
    return MethodRun(job.method.name, edges, record)


def _watch(proc, ps, t0: float, timeout, memory_limit, poll_interval: float):
    """Wait for the child, killing its process group at the timeout or above the memory limit.

    Returns (peak tree RSS seen, "timeout" | "memory" | None, wait status, CPU seconds).
    """
    peak, killed_for, cpu_seen = 0, None, {}
    interval = 0.005
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - t0 > timeout and killed_for is None:
            killed_for = "timeout"
            _kill_group(proc.pid)
        rss = _tree_usage(ps, cpu_seen)
        peak = max(peak, rss)
        if memory_limit is not None and rss > memory_limit and killed_for is None:
            killed_for = "memory"
            _kill_group(proc.pid)
        time.sleep(interval)
        interval = min(poll_interval, interval * 1.5)  # sample often at the start, then every poll_interval
    _kill_group(proc.pid)  # leftovers (e.g. orphaned pool workers) die with the group
    # wait4 counts the child and the descendants it reaped; the samples also count killed ones (last sample).
    cpu = max(rusage.ru_utime + rusage.ru_stime, sum(cpu_seen.values()))
    return peak, killed_for, status, cpu


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""

