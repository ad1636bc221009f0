"""Shared fixtures and the opt-in flags --slow, --docker, --gpu."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", help="run slow tests")
    parser.addoption("--docker", action="store_true", help="require docker tests to run (fail instead of skip)")
    parser.addoption("--gpu", action="store_true", help="run GPU tests")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "slow" in item.keywords and not config.getoption("--slow"):
            item.add_marker(pytest.mark.skip(reason="slow test: enable with --slow"))
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
