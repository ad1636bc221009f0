"""Run inference methods in isolated processes, dispatched through Dask.

Every method run happens in its own child process (a fresh ``python -m methods._child``, so nothing leaks
between methods and a crash, a hang or a memory blow-up only ends that run). The parent watches the child:

- **timeout**: after ``timeout`` seconds the child's whole process group is killed -> status ``timeout``;
- **memory limit**: an RSS watchdog sums the resident memory of the child and its descendants every few tens of
  milliseconds and kills the group above ``memory_limit`` -> status ``failed``. ``RLIMIT_AS`` is not used: it
  caps *virtual* memory, and numpy/torch/OpenMP reserve far more address space (thread stacks, allocator arenas)
  than they touch, so a useful limit would fail healthy runs;
- the record keeps status (ok / failed / timeout), the error, the tail of stderr, wall and CPU time (``wait4``'s
  total for the child and its reaped descendants, or the watchdog's per-process samples when larger, e.g. after
  a kill), peak RSS (the largest of the watchdog's samples of the whole process
  tree and the child's own ``VmHWM``), the resolved parameters and the preset.

:func:`run_methods` sends one task per method to a Dask cluster: a quiet local one (processes, dashboard off) by
default, or a running scheduler (``scheduler="tcp://host:8786"``). A failing method never stops the others:
failures are records, not exceptions. Results come back in the order the methods were given, and every method
gets the same ``seed``, so a run is deterministic.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import io as bio
from bench.edges import EDGE_COLUMNS, empty_edges, write_edges
from bench.errors import BenchError
from bench.settings import settings
from methods.base import Method, get_method

STDERR_TAIL_CHARS = 4000
STATUSES = ("ok", "failed", "timeout")
SCHEDULER_CONNECT_TIMEOUT = "20s"


@dataclass
class MethodRun:
    """The outcome of one method run: the ranked edges (empty unless ``ok``) and the run record."""

    method: str
    edges: pd.DataFrame
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return self.record.get("status", "failed")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __repr__(self) -> str:
        r = self.record
        return (f"MethodRun({self.method!r}, status={self.status!r}, edges={len(self.edges)}, "
                f"wall_s={r.get('wall_s')}, peak_rss_mb={r.get('peak_rss_mb')})")


# --------------------------------------------------------------------------------------------- parameters


def resolve_params(method: Method, preset: str | None = None, params: dict | None = None) -> dict[str, Any]:
    """Defaults, then the named preset, then explicit ``params``; an unknown preset is an error."""
    if preset and preset not in method.info.presets:
        known = ", ".join(method.info.presets) or "none"
        raise BenchError(f"method {method.name} has no preset {preset!r}.", f"Choose one of: {known}.")
    return method.params(preset, **(params or {}))


def _per_method(value, name: str):
    """``value`` may be one setting for all methods or a ``{method name: setting}`` dict."""
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(name.lower())
    return value


# --------------------------------------------------------------------------------------------- one process


def _tree_usage(proc, cpu_seen: dict[int, float]) -> int:
    """Resident memory of a psutil process and all its descendants (bytes; 0 if it is gone).

    Also records each process's CPU time in ``cpu_seen`` (pid -> seconds), so that the CPU time of pool workers
    that are killed, and therefore never reaped into ``wait4``'s totals, is still counted.
    """
    import psutil

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


def _child_env(n_jobs: int | None, seed: int, scheduler: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if n_jobs:
        # Cap every thread pool at the cores this task may use, so concurrent methods do not oversubscribe.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
            env[var] = str(n_jobs)
        env["BENCH_N_JOBS"] = str(n_jobs)
    env["PYTHONHASHSEED"] = str(seed)
    env.setdefault("PYTHONWARNINGS", "ignore")
    env["BENCH_VERBOSITY"] = "0"
    env["BENCH_PARENT_PID"] = str(os.getpid())
    env.pop("BENCH_SCHEDULER", None)
    if scheduler:  # methods that split into Dask tasks send them there (methods.blocks)
        env["BENCH_SCHEDULER"] = scheduler
    # The child must import the same code as the parent (tests, plugins and user files included).
    env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p] + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_isolated(method: Method, adata, *, pseudotime=None, tfs=None, seed: int = 0, params: dict | None = None,
                 preset: str | None = None, timeout: float | None = None, memory_limit: float | None = None,
                 n_jobs: int | None = None, workdir: str | os.PathLike | None = None,
                 poll_interval: float = 0.05, scheduler: str | None = None) -> MethodRun:
    """Run one method in a fresh child process with a timeout and a memory limit.

    Parameters
    ----------
    method
        The method to run (any :class:`~methods.base.Method`, including one defined in a test or a user file:
        it is shipped to the child with cloudpickle).
    adata, pseudotime, tfs, seed
        Passed to ``method.infer``; ``tfs`` only when ``method.info.accepts_tfs``.
    params, preset
        Resolved with :func:`resolve_params` and recorded.
    timeout
        Seconds before the child's process group is killed (``None`` = no limit).
    memory_limit
        Bytes of resident memory (child plus descendants) before it is killed (``None`` = no limit).
    n_jobs
        Cores the method may use (thread pools and ``settings.n_jobs`` in the child).
    workdir
        Where the task files and ``stderr.log`` go; a temporary folder (removed afterwards) by default.
    scheduler
        A Dask scheduler the method may send its per-target tasks to (``$BENCH_SCHEDULER`` in the child); their
        CPU time and memory are the workers', not counted in this record.
    """
    import cloudpickle
    import psutil

    params_resolved = resolve_params(method, preset, params)
    record: dict[str, Any] = {
        "method": method.name, "executor": "native", "status": "failed", "error": None, "stderr_tail": "",
        "wall_s": None, "cpu_s": None, "peak_rss_mb": None, "params": params_resolved, "preset": preset,
        "seed": int(seed), "timeout_s": timeout, "memory_limit_mb": None if memory_limit is None
        else round(memory_limit / 2**20, 1), "n_cells": int(adata.n_obs), "n_genes": int(adata.n_vars),
        "n_edges": 0, "used_tfs": bool(tfs is not None and method.info.accepts_tfs),
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
    }
    tmp_ctx = tempfile.TemporaryDirectory(prefix=f"bench-{method.name.lower()}-") if workdir is None else None
    task_dir = Path(tmp_ctx.name if tmp_ctx else workdir)
    task_dir.mkdir(parents=True, exist_ok=True)
    try:
        # Uncompressed h5ad: this is a scratch copy, read once by the child.
        adata.write_h5ad(task_dir / "adata.h5ad")
        if pseudotime is not None:
            np.save(task_dir / "pseudotime.npy", np.asarray(pseudotime, dtype=float))
        (task_dir / "method.pkl").write_bytes(cloudpickle.dumps(method))
        task = {"seed": int(seed), "params": params_resolved, "n_jobs": n_jobs,
                "tfs": [str(t) for t in tfs] if (tfs is not None and method.info.accepts_tfs) else None,
                "pseudotime": pseudotime is not None}
        (task_dir / "task.json").write_text(json.dumps(task, default=str))
        stderr_path = task_dir / "stderr.log"
        with open(stderr_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "methods._child", str(task_dir)],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err, cwd=str(task_dir),
                                    env=_child_env(n_jobs, seed, scheduler), start_new_session=True)
            try:
                peak, killed_for, status, cpu = _watch(proc, psutil.Process(proc.pid), t0, timeout, memory_limit,
                                                          poll_interval)
            except BaseException:  # interrupted (Ctrl-C, a cancelled Dask task): never leave the child running
                _kill_group(proc.pid)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(proc.pid, 0)
                proc.returncode = -9
                raise
            proc.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
        record["wall_s"] = round(wall, 3)
        record["cpu_s"] = round(cpu, 3)
        record["stderr_tail"] = _tail(stderr_path)
        result_path = task_dir / "result.json"
        result = json.loads(result_path.read_text()) if result_path.exists() else {}
        # Not wait4's ru_maxrss: Linux carries the forking parent's peak over the exec, so it would report the
        # parent's size. The child reports its own VmHWM and its finished children's peak instead.
        peak = max(peak, result.get("self_peak_rss_bytes", 0), result.get("children_peak_rss_bytes", 0))
        record["peak_rss_mb"] = round(peak / 2**20, 1)
        edges = empty_edges()
        if killed_for == "timeout":
            record["status"] = "timeout"
            record["error"] = f"timed out after {timeout:g} s and was killed"
        elif killed_for == "memory":
            record["error"] = (f"exceeded the memory limit ({memory_limit / 2**20:.0f} MB resident) "
                               f"and was killed")
        elif proc.returncode != 0 or not result.get("ok"):
            record["error"] = result.get("error") or _last_line(record["stderr_tail"]) or \
                f"child exited with code {proc.returncode}"
        else:
            edges = pd.read_parquet(task_dir / "edges.parquet")[EDGE_COLUMNS]
            record["status"] = "ok"
            record["n_edges"] = int(len(edges))
        if result.get("notes"):
            record["notes"] = result["notes"]
        return MethodRun(method.name, edges, record)
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


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


# --------------------------------------------------------------------------------------------- dask dispatch


def _run_task(method_payload: bytes, adata, pseudotime, tfs, seed, params, preset, timeout, memory_limit, n_jobs,
              executor, executor_options, scheduler=None) -> tuple[str, bytes, dict]:
    """What a Dask worker runs for one method; edges travel back as Parquet bytes (exact and compact)."""
    import io

    import cloudpickle

    method = cloudpickle.loads(method_payload)
    try:
        if executor == "docker":
            from methods.beeline import run_docker

            run = run_docker(method.name, adata, pseudotime=pseudotime, seed=seed,
                             params=resolve_params(method, preset, params), preset=preset, timeout=timeout,
                             memory_limit=memory_limit, **(executor_options or {}))
        else:
            from methods.blocks import while_seceded

            # A method that splits into Dask tasks only coordinates them: it gives its worker thread back while it
            # waits, so its own tasks (and other methods) can use it.
            with while_seceded(bool(scheduler and method.info.dask_tasks)):
                run = run_isolated(method, adata, pseudotime=pseudotime, tfs=tfs, seed=seed, params=params,
                                   preset=preset, timeout=timeout, memory_limit=memory_limit, n_jobs=n_jobs,
                                   scheduler=scheduler if method.info.dask_tasks else None)
    except BenchError as exc:  # e.g. no docker daemon: a failed record, the other methods go on
        run = MethodRun(method.name, empty_edges(), {"method": method.name, "executor": executor,
                                                     "status": "failed", "error": str(exc), "params": params,
                                                     "preset": preset, "seed": seed})
    buf = io.BytesIO()
    run.edges.to_parquet(buf, index=False)
    return run.method, buf.getvalue(), run.record


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int):
    """A quiet Dask client: an existing scheduler, or a local process cluster with the dashboard off."""
    import dask
    from distributed import Client, LocalCluster

    # Dask's own chatter (cluster start, worker restarts) must not reach the user's terminal.
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with dask.config.set({"distributed.worker.daemon": False, "distributed.admin.tick.limit": "1h",
                          "distributed.logging.distributed": "error"}):
        if scheduler:
            try:
                client = Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT)
            except OSError as exc:
                raise BenchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                                 "Start it (dask scheduler) or drop --scheduler to use a local cluster.") from None
            try:
                yield client
            finally:
                client.close()
            return
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               memory_limit=0, silence_logs=logging.ERROR)
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()


PSEUDOTIME_OBS_KEYS = ("pseudotime", "dpt_pseudotime")


def resolve_pseudotime(adata, pseudotime=None, *, seed: int = 0) -> np.ndarray:
    """The pseudotime handed to methods: a float array aligned with ``adata``'s cells.

    One lineage gives a 1-D array, several give ``n_cells x n_lineages``; ``NaN`` marks a cell that is not on a
    lineage (BEELINE's ``PseudoTime.csv`` convention; methods run per lineage, see :mod:`methods.pseudotime`).

    ``pseudotime`` may be an array, a Series/DataFrame indexed by cell name, the name of an ``adata.obs`` column,
    or a file path (a ``cell,time`` CSV or BEELINE's ``PseudoTime.csv``, read by
    :func:`methods.pseudotime.read_pseudotime`). ``None`` uses ``adata.obs['pseudotime']`` (or
    ``['dpt_pseudotime']``) when present, else :func:`methods.pseudotime.compute_pseudotime` (diffusion
    pseudotime with a PAGA-chosen root, computed once per dataset and cached).
    """
    from methods.pseudotime import compute_pseudotime, lineages, read_pseudotime

    cells = pd.Index(list(map(str, adata.obs_names)))
    if pseudotime is None:
        key = next((k for k in PSEUDOTIME_OBS_KEYS if k in adata.obs), None)
        pseudotime = adata.obs[key] if key else compute_pseudotime(adata, seed=seed)
    elif isinstance(pseudotime, str) and pseudotime in adata.obs:
        pseudotime = adata.obs[pseudotime]
    elif isinstance(pseudotime, (str, os.PathLike)):
        pseudotime = read_pseudotime(pseudotime, cells)
    if isinstance(pseudotime, (pd.Series, pd.DataFrame)):
        index = pd.Index(pseudotime.index.astype(str))
        missing = cells.difference(index, sort=False)
        if len(missing):
            raise BenchError(f"pseudotime lacks {len(missing)} of the dataset's {len(cells)} cells "
                             f"(e.g. {missing[0]}).", "Give one value per cell, indexed by the dataset's cell names.")
        pseudotime = pseudotime.set_axis(index, axis=0).loc[cells].to_numpy(dtype=float)
    pt = np.asarray(pseudotime, dtype=float)
    if pt.ndim == 2 and pt.shape[1] == 1:
        pt = pt[:, 0]
    if pt.ndim not in (1, 2) or pt.shape[0] != len(cells):
        raise BenchError(f"pseudotime has shape {pt.shape} for {len(cells)} cells.",
                         "Give one value per cell (or one column per lineage).")
    lineages(pt, len(cells))  # raises a BenchError for infinite values or no finite time at all
    return pt


def run_methods(adata, methods: Sequence[str | Method] | str, *, pseudotime=None, tfs=None, seed: int = 0,
                executor: str = "native", timeout: float | None = None, memory_limit: float | None = None,
                scheduler: str | None = None, n_workers: int | None = None, out_dir: str | os.PathLike | None = None,
                params: dict | None = None, preset: str | dict | None = None,
                executor_options: dict | None = None, n_jobs: int | None = None,
                dask_tasks: bool | None = None) -> list[MethodRun]:
    """Run several inference methods on one dataset, each in its own process, through Dask.

    Parameters
    ----------
    adata
        Cells x genes expression (``X`` as the benchmark hands it out).
    methods
        Method names (or :class:`~methods.base.Method` objects); a comma-separated string works too.
    pseudotime
        For methods that need it: an array aligned with the cells, a Series indexed by cell, the name of an
        ``adata.obs`` column, or a BEELINE-style ``PseudoTime.csv`` path. ``None`` = computed once (diffusion
        pseudotime, cached) when a method needs it.
    tfs
        Candidate regulators, given only to methods that accept a TF list. ``None`` (the paper's setting) = every
        gene may regulate every other gene.
    seed
        The same seed for every method.
    executor
        ``"native"`` (Python implementations, in child processes) or ``"docker"`` (BEELINE's images, see
        :mod:`methods.beeline`).
    timeout, memory_limit
        Per method: seconds, and bytes of resident memory. ``None`` = no limit.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); ``None`` = a local cluster.
    n_workers
        Local workers (methods run at the same time); default 1, so that each method gets all cores.
    out_dir
        If given, each method's ``edges.parquet`` and ``record.json`` go to ``out_dir/<method>/`` and all
        records to ``out_dir/runs.json`` (written atomically).
    params, preset
        Parameter overrides and preset name: one for all methods or ``{method: ...}``.
    executor_options
        Extra keyword arguments of :func:`methods.beeline.run_docker` (images, user, ...).
    n_jobs
        Cores each method may use. Default: ``settings.n_jobs // n_workers`` on a local cluster, the method's
        own default on a remote scheduler.
    dask_tasks
        Whether methods with ``info.dask_tasks`` (GENIE3, GRNBoost2, CeSpGRN) split into tasks on the cluster
        (default: when ``scheduler`` is given); otherwise each runs whole in its process.

    Returns
    -------
    One :class:`MethodRun` per method, in the given order. Failures are records with ``status`` ``failed`` or
    ``timeout``; they never raise.
    """
    import cloudpickle

    if executor not in ("native", "docker"):
        raise BenchError(f"unknown executor {executor!r}.", "Use --executor native or --executor docker.")
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    resolved = [m if isinstance(m, Method) else get_method(m) for m in methods]
    if not resolved:
        raise BenchError("no methods given.", "Name at least one, e.g. --methods pidc,genie3 (see bench methods list).")
    names = [m.name for m in resolved]
    if len(set(n.lower() for n in names)) != len(names):
        raise BenchError(f"a method is listed twice: {', '.join(names)}.", "List each method once.")
    for m in resolved:  # fail fast on a bad preset, before starting a cluster
        resolve_params(m, _per_method(preset, m.name), _per_method(params, m.name))
    if executor == "docker":
        from methods.beeline import ALGORITHMS, check_docker_available

        # No daemon or a missing image: one clear error now, rather than one failed record per method.
        check_docker_available([m.name for m in resolved if m.name.lower() in ALGORITHMS],
                               (executor_options or {}).get("images"), client=(executor_options or {}).get("client"))

    pt = None
    if any(m.info.pseudotime != "none" for m in resolved):
        pt = resolve_pseudotime(adata, pseudotime, seed=seed)
    n_workers = max(1, int(n_workers or 1))
    if n_jobs is None:
        n_jobs = None if scheduler else max(1, settings.n_jobs // n_workers)

    runs: list[MethodRun] = []
    with _client(scheduler, n_workers) as client:
        # On every worker: a worker that dies must not take the only copy with it (its tasks are rerun elsewhere).
        [adata_f] = client.scatter([adata], broadcast=True, hash=False)
        futures = []
        for m in resolved:
            futures.append(client.submit(
                _run_task, cloudpickle.dumps(m), adata_f, pt if m.info.pseudotime != "none" else None,
                tfs if m.info.accepts_tfs else None, seed, _per_method(params, m.name),
                _per_method(preset, m.name), timeout, memory_limit, n_jobs, executor, executor_options,
                scheduler if (bool(scheduler) if dask_tasks is None else dask_tasks) else None, pure=False,
                key=f"bench-method-{m.name}-{os.getpid()}-{time.monotonic_ns()}"))
        for m, fut in zip(resolved, futures):
            try:
                name, payload, record = fut.result()
                import io

                edges = pd.read_parquet(io.BytesIO(payload))
                runs.append(MethodRun(name, edges[EDGE_COLUMNS] if len(edges.columns) else empty_edges(), record))
            except Exception as exc:  # a lost worker and the like: still only this method fails
                runs.append(MethodRun(m.name, empty_edges(), {"method": m.name, "executor": executor,
                                                              "status": "failed",
                                                              "error": f"{type(exc).__name__}: {exc}"}))
    if out_dir is not None:
        save_runs(runs, out_dir)
    return runs


def save_runs(runs: Sequence[MethodRun], out_dir: str | os.PathLike, summary: bool = True) -> Path:
    """Write ``<out_dir>/<method>/edges.parquet`` + ``record.json`` and (``summary``) ``<out_dir>/runs.json``.

    ``summary=False`` leaves ``runs.json`` out, for callers that save methods one by one into a shared folder.
    """
    out = Path(out_dir)
    for run in runs:
        d = out / run.method
        if run.ok:
            write_edges(d / "edges.parquet", run.edges)
        bio.write_json(d / "record.json", run.record)
    if summary:
        bio.write_json(out / "runs.json", [r.record for r in runs])
    return out


def records_table(runs: Sequence[MethodRun]) -> pd.DataFrame:
    """One row per run: method, status, n_edges, wall_s, cpu_s, peak_rss_mb, preset, error."""
    cols = ["method", "status", "n_edges", "wall_s", "cpu_s", "peak_rss_mb", "preset", "error"]
    return pd.DataFrame([{c: r.record.get(c) for c in cols} for r in runs], columns=cols)
