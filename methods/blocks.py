"""Split a per-target (or per-cell) computation into blocks and run them serially, on local processes or as Dask
tasks on a cluster, with the same result whichever is used.

The heavy methods (GENIE3, GRNBoost2, the reference-GRN builder, CeSpGRN) are loops over independent items
(target genes, target cells). :func:`map_blocks` runs ``fn(shared, block)`` for consecutive blocks of those items:

- ``scheduler`` given (``tcp://host:8786``): every block is one Dask task on that cluster, as arboreto does, so one
  method run spreads over every worker. ``shared`` (the expression matrix) is scattered once, replicated on every
  worker (``broadcast=True``: a worker that dies does not take the only copy with it, and Dask reschedules its
  blocks elsewhere), and tasks refer to it by key instead of carrying it.
- otherwise: ``n_jobs`` local processes (joblib/loky, which memory-maps large arrays), or a plain loop.

Determinism does not depend on the split: every random draw of an item is seeded by :func:`item_seed` (the run seed
and the item's *name*, through SHA-256, not Python's salted ``hash()``), and the caller combines block results in
block order. So serial, 1 worker, 2 workers and any block size give identical results.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

#: Blocks per worker thread when the caller leaves the block size open: enough to even out uneven per-item costs
#: (and to lose little when a worker dies), few enough that the per-task overhead (~ms) stays negligible.
BLOCKS_PER_THREAD = 4


def item_seed(seed: int, name: str) -> int:
    """A 32-bit seed for one item (a target gene, a cell), from the run seed and the item's name.

    Stable across processes, machines and Python versions (SHA-256, not ``hash()``), and independent of the
    item's position, of the other items and of how the items are split into tasks.
    """
    digest = hashlib.sha256(f"{int(seed)}\x00{name}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def blocks(items: Sequence, block_size: int) -> list[list]:
    """Consecutive blocks of ``block_size`` items (the last may be shorter)."""
    block_size = max(1, int(block_size))
    return [list(items[i:i + block_size]) for i in range(0, len(items), block_size)]


@contextlib.contextmanager
def connect(scheduler: str):
    """A quiet client of the running scheduler at ``scheduler`` (:func:`methods.dispatch.dask_client`)."""
    from methods.dispatch import dask_client

    with dask_client(scheduler, 1) as client:
        yield client


def cluster_threads(client) -> int:
    """Worker threads of the cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def default_block_size(n_items: int, n_threads: int) -> int:
    return max(1, math.ceil(n_items / max(1, BLOCKS_PER_THREAD * n_threads)))


def scheduler_from_env() -> str | None:
    """The cluster a method's child process should send its blocks to (``$BENCH_SCHEDULER``), if any."""
    return os.environ.get("BENCH_SCHEDULER") or None


def map_blocks(fn: Callable[[Any, list], Any], shared: Any, items: Sequence, *, block_size: int | None = None,
               scheduler: str | None = None, n_jobs: int = 1, name: str = "block",
               stats: dict | None = None) -> list:
    """``[fn(shared, block) for block in blocks(items, block_size)]``, computed where the caller asks.

    Parameters
    ----------
    fn
        A module-level function (it is pickled to the workers by reference: workers need grn-bench installed).
    shared
        Read-only data every block needs (the expression matrix); shipped once, never with each task.
    items
        What is split (target indices, cell indices, ...); blocks keep their order.
    block_size
        Items per block; default: about :data:`BLOCKS_PER_THREAD` blocks per worker thread (per local job).
    scheduler
        Address of a running Dask scheduler; ``None`` = local (``n_jobs`` processes, or a loop when 1).
    n_jobs
        Local worker processes when no scheduler is given.
    name
        Prefix of the Dask task keys (shows in the dashboard).
    stats
        If a dict is given, filled with ``tasks``, ``block_size``, ``where`` and ``seconds``.

    Returns
    -------
    The block results, in block order.
    """
    t0 = time.perf_counter()
    items = list(items)
    if scheduler:
        with connect(scheduler) as client:
            size = int(block_size or default_block_size(len(items), cluster_threads(client)))
            parts = blocks(items, size)
            # One copy per worker, sent once; tasks name it by key (arboreto does the same).
            shared_f = scatter_everywhere(client, shared)
            token = uuid.uuid4().hex[:12]
            futures = [client.submit(fn, shared_f, part, key=f"{name}-{token}-{i}", pure=False)
                       for i, part in enumerate(parts)]
            results = client.gather(futures)
            where = f"dask {scheduler}"
    else:
        n_jobs = max(1, int(n_jobs or 1))
        size = int(block_size or default_block_size(len(items), n_jobs))
        parts = blocks(items, size)
        if n_jobs == 1 or len(parts) == 1:
            results = [fn(shared, part) for part in parts]
            where = "serial"
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=n_jobs, backend="loky")(delayed(fn)(shared, part) for part in parts)
            where = f"{n_jobs} local processes"
    if stats is not None:
        stats.update(tasks=len(parts), block_size=size, where=where, seconds=time.perf_counter() - t0)
    return results


@contextlib.contextmanager
def while_seceded(active: bool = True):
    """Inside a Dask task: give the worker thread back for the duration (``distributed.secede``), then rejoin.

    For a task that only waits on other tasks it submitted (a method coordinating its per-target tasks): holding
    the thread would idle it, and with every thread held that way the cluster would deadlock.
    """
    if not active:
        yield
        return
    from distributed import rejoin, secede

    try:
        secede()
    except ValueError:  # not inside a Dask task
        yield
        return
    try:
        yield
    finally:
        rejoin()


def scatter_everywhere(client, obj):
    """Put ``obj`` on the cluster once, for many tasks to read, so that losing a worker never loses it.

    Not ``client.scatter``: scattered data cannot be recomputed, and Dask's memory manager keeps a single replica
    even after ``broadcast=True`` (measured: killing the worker holding it made Dask forget every task that needed
    it). As the result of a task, ``obj`` is sent once, copied to the workers that read it, and recomputed from
    the task (which the scheduler keeps) when the worker holding it dies.
    """
    return client.submit(_identity, obj, pure=False, key=f"bench-data-{uuid.uuid4().hex[:12]}")


def _identity(obj):
    return obj
