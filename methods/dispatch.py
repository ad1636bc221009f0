"""The one owner of the Dask client that runs method tasks (a quiet local cluster, or a running scheduler)."""

from __future__ import annotations

import contextlib
import logging

from bench.errors import BenchError

SCHEDULER_CONNECT_TIMEOUT = "20s"
_DASK_LOGGERS = ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.http.proxy")


@contextlib.contextmanager
def dask_client(scheduler: str | None, n_workers: int):
    """A quiet Dask client: an existing scheduler, or a local process cluster with the dashboard off.

    Each local worker has one thread, so ``n_workers`` methods run at the same time.
    """
    import dask
    from distributed import Client, LocalCluster

    # Dask's own chatter (cluster start, worker restarts) must not reach the user's terminal.
    for name in _DASK_LOGGERS:
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
