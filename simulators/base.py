"""What every simulator shares: device choice, training-data checks, GRN checks, output AnnData.

A simulator is fitted on a training AnnData whose ``X`` is library-size-normalised, non-log expression
(cells x genes) and generates AnnData with the same gene names and ``uns['simulator']`` provenance.
"""

from __future__ import annotations

import hashlib
import platform
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd
import torch
import anndata as ad

from bench.arrays import dense
from bench.errors import BenchError
from bench import edges as bedges

SIMULATOR_VERSION = "1"


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``auto`` -> cuda when available, else cpu."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise BenchError(f"device {device!r} requested but CUDA is not available.", "Use device='auto' or 'cpu'.")
    return dev


def dense_matrix(adata, what: str = "training data") -> np.ndarray:
    """``adata.X`` as a dense float32 array, checked: finite, non-negative, not log-transformed, no empty cells."""
    X = adata.X
    if X is None or adata.n_obs == 0 or adata.n_vars == 0:
        raise BenchError(f"{what} is empty ({adata.n_obs} cells x {adata.n_vars} genes).")
    X = dense(X, np.float32)
    if not np.isfinite(X).all():
        raise BenchError(f"{what} contains NaN or infinite values.", "Clean the matrix first.")
    if (X < 0).any():
        raise BenchError(f"{what} has negative values; the simulators need non-negative, non-log expression.",
                         "Pass library-size-normalised counts (datasets.prepare_dataset does this).")
    totals = X.sum(axis=1)
    if (totals <= 0).any():
        raise BenchError(f"{what} has {int((totals <= 0).sum())} cell(s) with zero total expression.",
                         "Filter empty cells first.")
    return X


def library_size(X: np.ndarray) -> float:
    """The LSN target: the median cell total of the training data (20,000 for prepared datasets)."""
    return float(np.median(X.sum(axis=1)))


def sha256_array(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()


def sha256_edges(edges: pd.DataFrame) -> str:
    txt = "\n".join(f"{r}\t{t}" for r, t in sorted(zip(edges["regulator"], edges["target"])))
    return hashlib.sha256(txt.encode()).hexdigest()


def versions() -> dict:
    def v(pkg):
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "unknown"

    return {"torch": str(torch.__version__), "numpy": np.__version__, "anndata": v("anndata"),
            "python": platform.python_version(), "grn_bench": v("grn-bench")}


def h5ad_safe(obj):
    """Make provenance storable in ``.uns`` (h5ad has no None and no tuples)."""
    if isinstance(obj, dict):
        return {str(k): h5ad_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [h5ad_safe(v) for v in obj]
        if items and all(isinstance(v, (int, float, bool)) for v in items):
            return np.asarray(items)
        return [str(v) if not isinstance(v, (str, int, float, bool)) else v for v in items] if items else np.asarray([])
    if obj is None:
        return "none"
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if isinstance(obj, str) and type(obj) is not str:  # e.g. torch.__version__ (TorchVersion)
        return str(obj)
    return obj


def make_anndata(X: np.ndarray, genes, prefix: str, provenance: dict):
    out = ad.AnnData(np.asarray(X, dtype=np.float32))
    out.var_names = pd.Index([str(g) for g in genes])
    out.obs_names = pd.Index([f"{prefix}-{i}" for i in range(X.shape[0])])
    out.uns["simulator"] = h5ad_safe(provenance)
    return out


def check_grn(edges: pd.DataFrame, genes) -> pd.DataFrame:
    """Validate a GRN for GRouNdGAN and return its ``regulator, target`` pairs (duplicates removed).

    Errors (one line each): empty GRN, self-loops, a gene that is both regulator and target (not bipartite;
    this also rules out cycles, since a bipartite TF -> target graph cannot contain one), genes absent
    from the data.
    """
    if edges is None or not isinstance(edges, pd.DataFrame):
        raise BenchError("the GRN must be an edge table (DataFrame with regulator,target columns).")
    if len(edges) == 0:
        raise BenchError("the GRN is empty: GRouNdGAN needs at least one TF -> target edge.",
                         "Build a GRN first, e.g. `bench grn build DATASET --strategy top`.")
    if not {"regulator", "target"} <= set(edges.columns):
        edges = bedges.standardize(edges, source="GRN")
    e = edges[["regulator", "target"]].astype(str).drop_duplicates().reset_index(drop=True)
    loops = e[e["regulator"] == e["target"]]
    if len(loops):
        raise BenchError(f"the GRN has {len(loops)} self-loop(s) (e.g. {loops['regulator'].iloc[0]} -> itself); "
                         "GRouNdGAN needs an acyclic TF -> target graph.", "Drop self-loops.")
    both = sorted(set(e["regulator"]) & set(e["target"]))
    if both:
        raise BenchError(f"the GRN is not bipartite (so it may be cyclic): {len(both)} gene(s) are both regulator "
                         f"and target (e.g. {', '.join(both[:3])}).",
                         "GRouNdGAN imposes TF -> target edges only; drop edges into regulators.")
    bedges.check_genes(e, genes, source="GRN")
    return e
