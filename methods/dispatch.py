"""The one owner of the Dask client that runs method tasks (a quiet local cluster, or a running scheduler)."""

from __future__ import annotations

import contextlib
import logging
import warnings

import dask
from distributed import Client, LocalCluster

from bench.errors import BenchError
from bench.interrupt import scratch_dir

SCHEDULER_CONNECT_TIMEOUT = "20s"
_DASK_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.http.proxy")


@contextlib.contextmanager
def dask_client(scheduler: str | None, n_workers: int):
    """A quiet Dask client: an existing scheduler, or a local process cluster with the dashboard off.

    Each local worker has one thread, so ``n_workers`` methods run at the same time.
    """
    # Dask's own chatter (cluster start, worker restarts, a second cluster's port) must not reach the terminal.
    for name in _DASK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    # Workers inherit $BENCH_SCRATCH_DIR (made here, before they start) and keep their own files under it, so
    # that Ctrl-C or the end of the command removes every temporary folder.
    with dask.config.set({"distributed.worker.daemon": False, "distributed.admin.tick.limit": "1h",
                          "distributed.logging.distributed": "error", "temporary-directory": str(scratch_dir())}):
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
