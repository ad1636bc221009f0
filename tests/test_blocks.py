"""Per-target blocks: the same edges serially, on local processes and on Dask clusters of 1 and 2 workers."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from methods.blocks import blocks, item_seed, map_blocks
from methods.native import trees


def _square(shared, block):
    return [shared["offset"] + x * x for x in block]


def test_item_seed_is_stable_and_name_based():
    # A fixed value: the seed must not change across processes, machines or Python versions.
    assert item_seed(0, "Gata1") == item_seed(0, "Gata1")
    assert item_seed(0, "Gata1") != item_seed(1, "Gata1")
    assert item_seed(0, "Gata1") != item_seed(0, "Gata2")
    assert 0 <= item_seed(123, "x") < 2**32
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "from methods.blocks import item_seed; print(item_seed(7, 'Spi1'))"],
                         capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "99", **_path_env()})
    assert int(out.stdout) == item_seed(7, "Spi1")


def _path_env():
    import os
    import sys

    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ":".join(p for p in sys.path if p)}


def test_blocks_and_local_map_keep_order():
    assert blocks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    stats = {}
    out = map_blocks(_square, {"offset": 1}, range(10), block_size=3, n_jobs=1, stats=stats)
    assert [x for b in out for x in b] == [1 + x * x for x in range(10)]
    assert stats["tasks"] == 4 and stats["where"] == "serial"


@pytest.fixture(scope="module")
def expression():
    from tests.conftest import make_counts

    adata, tfs, _ = make_counts(n_cells=200, n_genes=30, n_tfs=5, seed=3)
    return np.log1p(adata.X), list(adata.var_names), tfs


@pytest.mark.parametrize("kind", ["genie3", "grnboost2"])
def test_block_size_and_local_processes_do_not_change_edges(expression, kind):
    X, genes, tfs = expression
    fn = getattr(trees, kind)
    params = {"n_estimators": 8} if kind == "genie3" else {"learning_rate": 0.1, "n_estimators": 40,
                                                           "early_stop_window": 10}
    ref = fn(X, genes, tfs, seed=5, n_jobs=1, block_size=len(genes), **params)
    for size in (1, 7):
        pd.testing.assert_frame_equal(fn(X, genes, tfs, seed=5, n_jobs=1, block_size=size, **params), ref)
    # Force loky processes even on this small problem (the size heuristic would run it serially).
    shared = trees.block_inputs(kind, np.asarray(X, dtype=np.float64), sorted(genes.index(t) for t in tfs), params)
    items = list(zip(range(len(genes)), trees.target_seeds(genes, list(range(len(genes))), 5, "per-target")))
    serial = map_blocks(trees._fit_block, shared, items, block_size=4, n_jobs=1)
    procs = map_blocks(trees._fit_block, shared, items, block_size=3, n_jobs=2)
    flat = lambda res: [(t, c.tolist(), i.tolist(), n) for b in res for t, c, i, n in b]  # noqa: E731
    assert flat(serial) == flat(procs)
    # A target's result does not depend on the other targets either.
    one = fn(X, genes, tfs, seed=5, n_jobs=1, targets=[genes[-1]], **params)
    pd.testing.assert_frame_equal(one.drop(columns="rank").reset_index(drop=True),
                                  ref[ref["target"] == genes[-1]].drop(columns="rank").reset_index(drop=True))


def test_seeding_is_a_named_option(expression):
    X, genes, tfs = expression
    per_target = trees.genie3(X, genes, tfs, seed=0, n_jobs=1, n_estimators=5, seeding="per-target")
    shared = trees.genie3(X, genes, tfs, seed=0, n_jobs=1, n_estimators=5)
    assert not per_target["weight"].equals(shared["weight"])
    # arboreto's scheme (one seed for every target) is the default: it is worker-invariant too, and faithful
    assert trees.GENIE3_DEFAULTS["seeding"] == trees.GRNBOOST2_DEFAULTS["seeding"] == "shared"
    from bench.errors import BenchError

    with pytest.raises(BenchError, match="seeding"):
        trees.genie3(X, genes, tfs, n_jobs=1, n_estimators=5, seeding="random")


def test_dask_clusters_of_one_and_two_workers_give_the_serial_edges(expression):
    from distributed import LocalCluster

    X, genes, tfs = expression
    params = {"learning_rate": 0.1, "n_estimators": 40, "early_stop_window": 10}
    serial_g3 = trees.genie3(X, genes, None, seed=2, n_jobs=1, n_estimators=6)
    serial_gb = trees.grnboost2(X, genes, tfs, seed=2, n_jobs=1, **params)
    for n_workers in (1, 2):
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster:
            addr = cluster.scheduler_address
            stats = {}
            out = map_blocks(_square, {"offset": 0}, range(9), scheduler=addr, stats=stats)
            assert [x for b in out for x in b] == [x * x for x in range(9)]
            assert stats["tasks"] == {1: 3, 2: 5}[n_workers]  # about four blocks per worker thread
            pd.testing.assert_frame_equal(trees.genie3(X, genes, None, seed=2, scheduler=addr, n_estimators=6),
                                          serial_g3)
            pd.testing.assert_frame_equal(trees.grnboost2(X, genes, tfs, seed=2, scheduler=addr, block_size=2,
                                                          **params), serial_gb)


def test_cespgrn_chunks_as_dask_tasks_give_the_serial_consensus():
    from distributed import LocalCluster

    from methods.native import cespgrn as ce
    from tests.conftest import make_counts

    adata, _, _ = make_counts(n_cells=60, n_genes=12, n_tfs=3, seed=5)
    X = np.asarray(adata.X, dtype=float)
    params = dict(batchsize=8, max_iters=200, memory_gb=2e-5)  # several chunks of several ADMM batches
    serial, stats = ce.cespgrn_consensus(X, seed=0, **params)
    assert stats["chunks"] > 2
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        dist, dstats = ce.cespgrn_consensus(X, seed=0, scheduler=cluster.scheduler_address, **params)
    np.testing.assert_array_equal(dist, serial)
    assert dstats["admm_iterations"] == stats["admm_iterations"]
