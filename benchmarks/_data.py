"""Benchmark input: the prepared bonemarrow data (as the pipeline prepares it), or synthetic counts without it."""

from __future__ import annotations

import numpy as np


def load_expression(n_cells: int, n_genes: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """``n_cells`` x ``n_genes`` library-size-normalised bonemarrow expression (seeded cell subsample)."""
    from bench.errors import BenchError
    from datasets import prepare_dataset

    rng = np.random.default_rng(seed)
    try:
        a = prepare_dataset("bonemarrow", n_genes=n_genes, seed=seed)
    except BenchError as exc:
        lam = rng.gamma(0.5, 4.0, size=(1, n_genes)) * rng.gamma(2.0, 0.5, size=(n_cells, 1))
        return rng.poisson(lam).astype(np.float64), f"synthetic Poisson (bonemarrow unavailable: {exc})"
    X = np.asarray(a.X, dtype=np.float64)[rng.permutation(a.n_obs)[:n_cells]]
    return X, f"bonemarrow, prepared ({a.n_vars} HVGs, library size 20,000)"
