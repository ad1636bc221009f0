"""Shared fixtures and the flags --docker, --gpu.

Tests marked ``slow`` (the bonemarrow end-to-end run, Dask clusters, the synthetic pipeline) run by default, so the
README's test command (what CI runs) covers them; ``-m "not slow"`` skips them while developing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="no-op: slow tests run by default (-m 'not slow' skips them)")
    parser.addoption("--docker", action="store_true", help="require docker tests to run (fail instead of skip)")
    parser.addoption("--gpu", action="store_true", help="run GPU tests")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "gpu" in item.keywords and not config.getoption("--gpu"):
            item.add_marker(pytest.mark.skip(reason="GPU test: enable with --gpu"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own cache dir; the data dir comes from BENCH_DATA_DIR or ../shared/data."""
    from bench import settings

    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setattr(settings, "_cache_dir", str(cache))
    if not os.environ.get("BENCH_DATA_DIR") and DEFAULT_DATA.exists():
        monkeypatch.setattr(settings, "_data_dir", str(DEFAULT_DATA))
    yield


@pytest.fixture
def data_dir():
    from bench import settings

    d = settings.data_dir
    if not (d / "bonemarrow_paul15.h5ad").exists():
        pytest.skip(f"real data not found in {d}: set BENCH_DATA_DIR")
    return d


def write_counts_h5ad(folder, name, X, genes=None, cells=None, **layers) -> str:
    """Write ``X`` (cells x genes; optional names and layers) to ``folder/name.h5ad``; returns the ``h5ad:`` spec.
    Shared by the reliability tests and ``benchmarks/reliability_cases.py``."""
    import anndata as ad

    a = ad.AnnData(np.asarray(X, dtype=np.float32))
    if genes is not None:
        a.var_names = genes
    if cells is not None:
        a.obs_names = cells
    for k, v in layers.items():
        a.layers[k] = v
    path = Path(folder) / f"{name}.h5ad"
    a.write_h5ad(path)
    return f"h5ad:{path}"


def make_counts(n_cells=300, n_genes=60, n_tfs=8, seed=0, density=0.3):
    """Synthetic counts with planted TF->target regulation.

    Returns (AnnData of raw counts, list of TF names, set of true (tf, target) edges).
    """
    import anndata as ad

    rng = np.random.default_rng(seed)
    tf_act = rng.gamma(2.0, 1.0, size=(n_cells, n_tfs))
    n_targets = n_genes - n_tfs
    W = (rng.random((n_tfs, n_targets)) < density) * rng.uniform(0.5, 2.0, (n_tfs, n_targets))
    for j in range(n_targets):  # every target has at least one parent
        if not W[:, j].any():
            W[rng.integers(n_tfs), j] = 1.0
    lam_t = 0.3 + tf_act @ W
    lam = np.concatenate([tf_act * 2.0, lam_t], axis=1)
    counts = rng.poisson(lam).astype(np.float32)
    genes = [f"TF{i}" for i in range(n_tfs)] + [f"G{j}" for j in range(n_targets)]
    adata = ad.AnnData(counts)
    adata.var_names = genes
    adata.obs_names = [f"c{i}" for i in range(n_cells)]
    truth = {(genes[i], genes[n_tfs + j]) for i in range(n_tfs) for j in range(n_targets) if W[i, j] > 0}
    return adata, genes[:n_tfs], truth


@pytest.fixture
def synthetic():
    return make_counts()


def average_precision(edges, truth, universe):
    """AP of an edge table's weights over `universe` (ordered pairs; missing pairs score 0) against `truth`.

    Returns (average precision, positive rate = the AP of a random ranking).
    """
    from sklearn.metrics import average_precision_score

    score = dict(zip(zip(edges["regulator"], edges["target"]), edges["weight"]))
    y = np.array([p in truth for p in universe])
    return average_precision_score(y, [score.get(p, 0.0) for p in universe]), y.mean()


def beeline_dir():
    """BEELINE's example folder under the data dir (BENCH_DATA_DIR or ../shared/data); may not exist."""
    from bench import settings

    return settings.data_dir / "beeline_example"


def beeline_example():
    """BEELINE's example: (AnnData cells x genes float32, truth without self-pairs, all ordered non-self pairs).

    Skips the test when ExpressionData.csv is missing.
    """
    import anndata as ad
    import pandas as pd

    d = beeline_dir()
    if not (d / "ExpressionData.csv").exists():
        pytest.skip(f"BEELINE example not found in {d}")
    expr = pd.read_csv(d / "ExpressionData.csv", index_col=0)
    adata = ad.AnnData(expr.T.to_numpy(dtype=np.float32))
    adata.var_names, adata.obs_names = list(expr.index), list(expr.columns)
    ref = pd.read_csv(d / "refNetwork.csv")
    truth = {(a, b) for a, b in zip(ref["Gene1"], ref["Gene2"]) if a != b}
    universe = [(a, b) for a in adata.var_names for b in adata.var_names if a != b]
    return adata, truth, universe
