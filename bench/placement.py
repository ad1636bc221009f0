"""Where GAN training runs: on a cluster worker that declares a GPU, else in this process.

``dask worker ... --resources GPU=1`` declares a GPU. When ``bench run --scheduler`` points at a cluster with such a
worker, the GRouNdGAN (and scGAN) training stage is submitted there with ``resources={"GPU": 1}`` (so only that
worker takes it, one training at a time per GPU), while the CPU workers run the methods. Without a GPU worker,
or without a cluster, training runs where it always did: in the ``bench run`` process, on its ``--device``.
The stage writes its model into the run directory, so the GPU worker must see it (a shared filesystem).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

GPU_RESOURCE = "GPU"


def gpu_workers(client) -> list[str]:
    """Addresses of the workers that declare at least one ``GPU`` resource."""
    workers = client.scheduler_info().get("workers", {})
    return sorted(a for a, w in workers.items() if (w.get("resources") or {}).get(GPU_RESOURCE, 0) >= 1)


def where_to_train(scheduler: str | None) -> str:
    """``"gpu-worker"`` when the cluster at ``scheduler`` has a GPU worker, else ``"here"``."""
    if not scheduler:
        return "here"
    from methods.blocks import connect

    with connect(scheduler) as client:
        return "gpu-worker" if gpu_workers(client) else "here"


def run_training(fn: Callable[..., Any], *args: Any, scheduler: str | None = None, name: str = "gan",
                 **kwargs: Any) -> tuple[Any, str]:
    """``fn(*args, **kwargs)`` on a GPU worker of the cluster if there is one, else here.

    Returns (the result, where it ran: ``"here"`` or the worker's address).
    """
    if scheduler:
        from methods.blocks import connect

        with connect(scheduler) as client:
            if gpu_workers(client):
                fut = client.submit(_on_worker, fn, args, kwargs, resources={GPU_RESOURCE: 1}, pure=False,
                                    key=f"bench-{name}-{time.monotonic_ns()}")
                return fut.result()
    return fn(*args, **kwargs), "here"


def _on_worker(fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[Any, str]:
    from distributed import get_worker

    return fn(*args, **kwargs), get_worker().address
