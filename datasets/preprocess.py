"""Preprocessing as the GRouNdGAN paper (following scGAN) and the seeded train/validation/test split.

1. drop cells with nonzero counts in fewer than ``min_genes`` genes, then genes detected in fewer than
   ``min_cells`` cells;
2. choose the top ``n_genes`` highly variable genes with the dispersion-based method of Satija et al.
   (scanpy's ``flavor="seurat"``) on a log-normalised copy (library size ``library_size``, ``log1p``);
3. keep the raw counts of those genes and library-size normalise every cell to ``library_size`` over them
   (no log: GRouNdGAN trains on this linear scale). Cells left with no counts are dropped (as scanpy's
   ``normalize_per_cell`` does in the reference code).

As in the paper's code the genes are chosen on all cells (held-out cells included); ``hvg_on="train"`` picks them on
the training cells only, which avoids that mild leak.
"""

from __future__ import annotations

import warnings

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from bench.arrays import dense
from bench.errors import BenchError

MIN_TRAIN_CELLS = 10  # the simulator and the methods need a few cells to learn from

PREPROCESS_DEFAULTS = {"min_genes": 10, "min_cells": 3, "n_genes": 1000, "library_size": 20000.0,
                       "hvg_flavor": "seurat", "hvg_on": "all"}


def split_cells(n_cells: int, n_test: int, n_validation: int, seed: int) -> np.ndarray:
    """Labels ``train``/``validation``/``test`` for ``n_cells`` cells, from a seeded permutation."""
    if n_test < 0 or n_validation < 0:
        raise BenchError(f"held-out cell counts must be >= 0, got {n_test} test and {n_validation} validation.",
                         "Give --n-test and --n-validation as 0 or more.")
    if n_cells - n_test - n_validation < MIN_TRAIN_CELLS:
        raise BenchError(f"cannot hold out {n_test} test + {n_validation} validation cells from {n_cells} cells "
                         f"and keep {MIN_TRAIN_CELLS} for training.", "Lower --n-test/--n-validation or give more cells.")
    order = np.random.default_rng(seed).permutation(n_cells)
    labels = np.full(n_cells, "train", dtype=object)
    labels[order[:n_test]] = "test"
    labels[order[n_test:n_test + n_validation]] = "validation"
    return labels


def _normalise(counts, library_size: float) -> np.ndarray:
    X = dense(counts, np.float64)
    totals = X.sum(axis=1, keepdims=True)
    return (X / totals * library_size).astype(np.float32)


def preprocess(raw: ad.AnnData, *, n_genes: int = 1000, min_genes: int = 10, min_cells: int = 3,
               library_size: float = 20000.0, hvg_flavor: str = "seurat", hvg_on: str = "all",
               n_test: int = 500, n_validation: int = 200, seed: int = 0) -> ad.AnnData:
    """Filter, select HVGs, normalise and split a raw-count AnnData.

    Returns an AnnData with ``X`` = library-size-normalised expression (dense float32, no log),
    ``layers['counts']`` = raw counts of the kept genes, ``obs['split']`` and the parameters in
    ``uns['preprocessing']``. Genes are sorted by name (as the reference), cells keep the input order.
    """
    import scanpy as sc

    adata = raw.copy()
    adata.X = sp.csr_matrix(adata.X, dtype=np.float32) if not sp.issparse(adata.X) else adata.X.astype(np.float32)
    n0_cells, n0_genes = adata.shape
    detected_genes = np.asarray((adata.X > 0).sum(axis=1)).ravel()
    adata = adata[detected_genes >= min_genes].copy()
    detected_cells = np.asarray((adata.X > 0).sum(axis=0)).ravel()
    adata = adata[:, detected_cells >= min_cells].copy()
    if adata.n_obs == 0:
        raise BenchError(f"no cell has nonzero counts in >= {min_genes} genes.", "Lower --min-genes or check the data.")
    if adata.n_vars < n_genes:
        raise BenchError(f"only {adata.n_vars} genes pass filtering but {n_genes} highly variable genes were requested.",
                         f"Use --n-genes {adata.n_vars} or fewer.")

    labels = split_cells(adata.n_obs, n_test, n_validation, seed)
    adata.obs["split"] = pd.Categorical(labels, categories=["train", "validation", "test"])

    hv = adata if hvg_on == "all" else adata[labels == "train"]
    lognorm = ad.AnnData(sp.csr_matrix(hv.X))
    lognorm.var_names = hv.var_names
    sc.pp.normalize_total(lognorm, target_sum=library_size)
    sc.pp.log1p(lognorm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.pp.highly_variable_genes(lognorm, n_top_genes=n_genes, flavor=hvg_flavor)
    keep = np.sort(lognorm.var_names[lognorm.var["highly_variable"].to_numpy()].to_numpy())
    adata = adata[:, keep].copy()

    totals = np.asarray(adata.X.sum(axis=1)).ravel()
    n_empty = int((totals == 0).sum())
    if n_empty:
        adata = adata[totals > 0].copy()
    out = ad.AnnData(_normalise(adata.X, library_size), obs=adata.obs.copy(), var=pd.DataFrame(index=adata.var_names))
    out.layers["counts"] = sp.csr_matrix(adata.X)
    out.uns["preprocessing"] = {
        "n_genes": n_genes, "min_genes": min_genes, "min_cells": min_cells, "library_size": library_size,
        "hvg_flavor": hvg_flavor, "hvg_on": hvg_on, "n_test": n_test, "n_validation": n_validation, "seed": seed,
        "cells_in": n0_cells, "genes_in": n0_genes, "cells_dropped_empty_after_hvg": n_empty,
    }
    return out
