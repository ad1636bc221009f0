"""GAN training goes to a worker that declares a GPU resource, else stays in this process."""

from __future__ import annotations

import os
import time

from bench.placement import gpu_workers, run_training, where_to_train
from tests._cluster import Cluster, kill_group


def _whoami(x):
    return os.getpid(), x * 2


def test_training_goes_to_the_gpu_worker_only_when_one_exists(tmp_path):
    assert run_training(_whoami, 3) == ((os.getpid(), 6), "here")
    assert where_to_train(None) == "here"
    # Two CPU workers, the second declaring GPU=1 (a stand-in for a GPU machine: the training runs on its CPU).
    cluster = Cluster(tmp_path / "c", n_workers=2, resources=[None, "GPU=1"])
    try:
        with cluster.client() as client:
            [gpu_addr] = gpu_workers(client)
            pids = client.run(os.getpid)
        assert where_to_train(cluster.address) == "gpu-worker"
        for x in range(3):  # always the GPU worker
            (pid, out), where = run_training(_whoami, x, scheduler=cluster.address)
            assert (where, pid, out) == (gpu_addr, pids[gpu_addr], 2 * x)
        kill_group(cluster.workers[1])
        with cluster.client() as client:
            t0 = time.time()
            while gpu_workers(client) and time.time() - t0 < 60:
                time.sleep(0.2)
        # No GPU worker left: training runs here again.
        assert where_to_train(cluster.address) == "here"
        assert run_training(_whoami, 4, scheduler=cluster.address) == ((os.getpid(), 8), "here")
    finally:
        cluster.close()
