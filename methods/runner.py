"""The one runner from cells to edges: jobs -> Dask -> one child process (or container) each -> records.

:func:`run_jobs` sends one task per :class:`~methods.jobs.Job` to a Dask cluster (:func:`methods.dispatch.dask_client`:
a quiet local one, or a running scheduler) and hands every result to ``on_result`` as soon as it is back, so a
caller can save it at once (``bench run`` files each (source, method) as it finishes). :func:`run_methods` is the
same for one dataset (``bench infer``). A failing method never stops the others: failures are records, not
exceptions, and every method gets the same ``seed``, so a run is deterministic.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cloudpickle
import pandas as pd
from distributed import as_completed

from bench import io as bio
from bench.edges import empty_edges, write_edges
from bench.errors import BenchError
from bench.settings import settings
from bench import interrupt
from bench.safeid import inside
from methods.base import Method, implementation
from methods.beeline import ALGORITHMS, check_docker_available, run_docker
from methods.blocks import scatter_everywhere, while_seceded
from methods.dispatch import dask_client
from methods.isolation import new_record, run_job_in_child
from methods.jobs import Job, make_jobs
from methods.output import check_run_output
from methods.record import MethodRun

EXECUTORS = ("native", "docker")


@dataclass(frozen=True)
class Execution:
    """How jobs run: executor, limits per method, cores per method, docker options."""

    executor: str = "native"
    timeout: float | None = None  # seconds per method
    memory_limit: float | None = None  # bytes of resident memory per method
    n_jobs: int | None = None  # cores per method
    executor_options: dict | None = None  # extra keyword arguments of methods.beeline.run_docker
    # On a running scheduler, methods with info.dask_tasks (GENIE3, GRNBoost2, CeSpGRN) split into tasks there.
    split_tasks: bool = True

    def check(self, methods: Sequence[Method]) -> None:
        """Fail fast (before a cluster starts) on an unknown executor, no docker daemon, a missing image."""
        if self.executor not in EXECUTORS:
            raise BenchError(f"unknown executor {self.executor!r}.", "Use --executor native or --executor docker.")
        if self.executor == "docker":
            opts = self.executor_options or {}
            check_docker_available([m.name for m in methods if m.name in ALGORITHMS], opts.get("images"),
                                   client=opts.get("client"))


def execute(job: Job, how: Execution, scheduler: str | None = None) -> MethodRun:
    """Run one job with the chosen executor (what a Dask worker runs).

    ``scheduler``: the running cluster this job runs on; a method that splits into Dask tasks sends them there
    and, while it only waits for them, gives its worker thread back (:func:`methods.blocks.while_seceded`).
    """
    try:
        if how.executor == "docker":
            run = run_docker(job.method.name, job.adata, pseudotime=job.pseudotime, tfs=job.tfs, seed=job.seed,
                             params=job.params, preset=job.preset, timeout=how.timeout,
                             memory_limit=how.memory_limit, **(how.executor_options or {}))
            run.record.input_transform = job.input_transform
            return run
        split = bool(scheduler and how.split_tasks and job.method.info.dask_tasks)
        with while_seceded(split):
            return run_job_in_child(job, timeout=how.timeout, memory_limit=how.memory_limit, n_jobs=how.n_jobs,
                                    scheduler=scheduler if split else None)
    except BenchError as exc:  # e.g. no docker daemon: a failed record, the other methods go on
        record = new_record(job, how.executor, how.timeout, how.memory_limit)
        record.error = str(exc)
        return MethodRun(job.method.name, empty_edges(), record)


def _lost(job: Job, how: Execution, exc: Exception) -> MethodRun:
    record = new_record(job, how.executor, how.timeout, how.memory_limit)
    record.error = f"{type(exc).__name__}: {exc}"
    return MethodRun(job.method.name, empty_edges(), record)


def run_jobs(jobs: Sequence[Job], how: Execution = Execution(), *, scheduler: str | None = None,
             n_workers: int | None = None, on_result: Callable[[Job, MethodRun], None] | None = None
             ) -> list[MethodRun]:
    """Run ``jobs`` through Dask, ``n_workers`` at a time; return their runs in the order given.

    ``on_result(job, run)`` is called in this process as each run comes back (in completion order).
    ``how.n_jobs=None`` = ``settings.n_jobs // n_workers`` cores per method on a local cluster, the method's own
    default on a remote scheduler.
    """
    how.check([j.method for j in jobs])
    n_workers = max(1, int(n_workers or 1))
    if how.n_jobs is None and not scheduler:
        how = Execution(how.executor, how.timeout, how.memory_limit, max(1, settings.n_jobs // n_workers),
                        how.executor_options)
    runs: dict[int, MethodRun] = {}
    if not jobs:
        return []
    with dask_client(scheduler, n_workers) as client:
        scattered = {}  # one copy of each dataset on the cluster, shared by its methods
        for job in jobs:
            if id(job.adata) not in scattered:
                # on every worker: one that dies must not take the only copy (Dask reruns its tasks elsewhere)
                scattered[id(job.adata)] = scatter_everywhere(client, job.adata)
        futures = {}
        for i, job in enumerate(jobs):
            bare = replace(job, method=None, adata=None)  # the method travels pickled by value, the data scattered
            fut = client.submit(_execute_remote, cloudpickle.dumps(job.method), scattered[id(job.adata)], bare, how,
                                scheduler, pure=False,
                                key=f"bench-{job.group}-{job.method.name}-{os.getpid()}-{time.monotonic_ns()}")
            futures[fut] = i
        for fut in as_completed(futures):
            job = jobs[futures[fut]]
            try:
                run = fut.result()
            except Exception as exc:  # a lost worker and the like: still only this job fails
                interrupt.check()  # ... unless it was lost to Ctrl-C: that is no failure of the method
                run = _lost(job, how, exc)
            interrupt.check()  # after Ctrl-C a result may come from a killed method: record nothing
            run = check_run_output(run, job.adata.var_names)  # every recorded result passes here
            run.record.implementation = implementation(job.method)  # the registry lives in this process
            runs[futures[fut]] = run
            if on_result is not None:
                on_result(job, run)
    return [runs[i] for i in range(len(jobs))]


def _execute_remote(method: bytes, adata, job: Job, how: Execution, scheduler: str | None = None) -> MethodRun:
    """On a worker: the job with its method and its scattered dataset (sent once, not once per method)."""
    return execute(replace(job, method=cloudpickle.loads(method), adata=adata), how, scheduler)


def run_methods(adata, methods: Sequence[str | Method] | str, *, pseudotime=None, tfs=None, seed: int = 0,
                executor: str = "native", timeout: float | None = None, memory_limit: float | None = None,
                scheduler: str | None = None, n_workers: int | None = None, out_dir: str | os.PathLike | None = None,
                params: dict | None = None, preset: str | dict | None = None, input_transform: str | None = None,
                executor_options: dict | None = None, n_jobs: int | None = None) -> list[MethodRun]:
    """Run several inference methods on one dataset, each in its own process, through Dask.

    Parameters
    ----------
    adata
        Cells x genes, ``X`` = library-size-normalised expression; methods get ``input_transform`` of it
        (:mod:`methods.inputs`, default ``log1p``).
    methods, pseudotime, tfs, seed, params, preset, input_transform
        See :func:`methods.jobs.make_jobs`.
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
    executor_options
        Extra keyword arguments of :func:`methods.beeline.run_docker` (images, user, ...).
    n_jobs
        Cores each method may use (default: see :func:`run_jobs`).

    Returns
    -------
    One :class:`~methods.record.MethodRun` per method, in the given order. Failures are records with ``status``
    ``failed`` or ``timeout``; they never raise.
    """
    how = Execution(executor, timeout, memory_limit, n_jobs, executor_options)
    if executor not in EXECUTORS:
        how.check([])
    jobs = make_jobs(adata, methods, pseudotime=pseudotime, tfs=tfs, seed=seed, params=params, preset=preset,
                     input_transform=input_transform)
    runs = run_jobs(jobs, how, scheduler=scheduler, n_workers=n_workers)
    if out_dir is not None:
        save_runs(runs, out_dir)
    return runs


def save_run(run: MethodRun, out_dir: str | os.PathLike) -> Path:
    """Write ``<out_dir>/<method>/edges.parquet`` (when ok) and ``record.json``; returns the method's folder."""
    interrupt.check()  # nothing is recorded after Ctrl-C: a re-run redoes what was running
    d = inside(out_dir, run.method)  # a method name never writes outside out_dir
    if run.ok:
        write_edges(d / "edges.parquet", run.edges)
    bio.write_json(d / "record.json", run.record.as_dict())
    return d


def save_runs(runs: Sequence[MethodRun], out_dir: str | os.PathLike) -> Path:
    """:func:`save_run` for each run, and all records in ``<out_dir>/runs.json``."""
    for run in runs:
        save_run(run, out_dir)
    bio.write_json(Path(out_dir) / "runs.json", [r.record.as_dict() for r in runs])
    return Path(out_dir)


RECORD_TABLE_COLUMNS = ["method", "status", "n_edges_predicted", "runtime_s", "cpu_time_s", "peak_memory_mb",
                        "preset", "input_transform", "error"]


def records_table(runs: Sequence[MethodRun]) -> pd.DataFrame:
    """One row per run with the main record fields (leaderboard names)."""
    return pd.DataFrame([{c: getattr(r.record, c) for c in RECORD_TABLE_COLUMNS} for r in runs],
                        columns=RECORD_TABLE_COLUMNS)
