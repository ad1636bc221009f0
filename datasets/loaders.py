"""Load raw counts of a reference dataset: named (data dir, then scanpy download) or user files."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import scipy.sparse as sp

from bench.errors import BenchError
from bench.settings import settings
from datasets.registry import get_dataset_info


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _read_h5ad(path: Path) -> ad.AnnData:
    if not path.exists():
        raise BenchError(f"file not found: {path}.", "Check the path after 'h5ad:'.")
    try:
        with warnings.catch_warnings():  # duplicate names get our one-line error (or --make-unique) instead
            warnings.filterwarnings("ignore", message=".*names are not unique")
            return ad.read_h5ad(path)
    except Exception as exc:
        raise BenchError(f"cannot read {path} as h5ad ({type(exc).__name__}); the file is corrupt or not an h5ad.",
                         "Re-download or re-export it with anndata's write_h5ad.") from None


def _read_10x(path: Path) -> ad.AnnData:
    import scanpy as sc

    if not path.exists():
        raise BenchError(f"10x directory or file not found: {path}.", "Check the path after '10x:'.")
    try:
        if path.is_file() and path.suffix == ".h5":
            return sc.read_10x_h5(path)
        return sc.read_10x_mtx(path, make_unique=True, gex_only=True)
    except Exception as exc:
        raise BenchError(f"cannot read {path} as 10x output ({type(exc).__name__}: {str(exc)[:80]}).",
                         "Point at the folder holding matrix.mtx(.gz), features.tsv(.gz) and barcodes.tsv(.gz), "
                         "or at a filtered_feature_bc_matrix.h5.") from None


def _source_hash(path: Path) -> str:
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.iterdir() if p.is_file()):
        h.update(f.name.encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def resolve_source(name: str) -> tuple[Path | None, str]:
    """Where the raw data of ``name`` lives: (path or None for a scanpy download, kind)."""
    if name.startswith("h5ad:"):
        return Path(name[5:]).expanduser(), "h5ad"
    if name.startswith("10x:"):
        return Path(name[4:]).expanduser(), "10x"
    info = get_dataset_info(name)
    for d in settings.data_search_path():
        p = d / info.filename
        if p.exists():
            return p, "h5ad"
    if info.scanpy_loader:
        return None, "scanpy"
    raise BenchError(f"{info.filename} not found in {settings.data_dir}.",
                     f"Put it there or set BENCH_DATA_DIR to the folder holding it.")


def load_raw(name: str, *, layer: str | None = None, make_unique: bool = False) -> tuple[ad.AnnData, dict]:
    """Raw counts (cells x genes) and a provenance record (source path, sha256).

    ``layer`` takes the counts from ``adata.layers[layer]`` instead of ``X``. Duplicate gene or cell names are
    refused unless ``make_unique`` (then renamed ``name-1``, ``name-2``, ... as anndata does).
    """
    path, kind = resolve_source(name)
    if kind == "h5ad":
        adata = _read_h5ad(path)
    elif kind == "10x":
        adata = _read_10x(path)
    else:
        info = get_dataset_info(name)
        import scanpy as sc

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                adata = getattr(sc.datasets, info.scanpy_loader)()
        except Exception as exc:
            raise BenchError(f"{info.filename} is not in {settings.data_dir} and scanpy's download failed "
                             f"({type(exc).__name__}).",
                             f"Put {info.filename} in that folder or set BENCH_DATA_DIR.") from None
        path = Path(sc.settings.datasetdir) / f"{info.scanpy_loader}.h5"
    provenance = {"source": str(path), "source_kind": kind,
                  "source_sha256": _source_hash(path) if path is not None and path.exists() else "unknown"}
    if layer is not None:
        if layer not in adata.layers:
            have = ", ".join(adata.layers) or "none"
            raise BenchError(f"{name} has no layer {layer!r} (layers: {have}).",
                             "Name a layer that holds raw counts, or leave --layer out to use X.")
        adata = ad.AnnData(adata.layers[layer], obs=adata.obs, var=adata.var)
        provenance["layer"] = layer
    _check_names(adata, name, make_unique)
    return adata, provenance


def source_fingerprint(name: str) -> str:
    """Content hash of a dataset's source file or folder (a cache key part: a replaced file is new data)."""
    path, kind = resolve_source(name)
    if path is None:
        return "scanpy-download"
    if not path.exists():
        raise BenchError(f"file not found: {path}.", "Check the path of the dataset.")
    return _source_hash(path)


def _check_names(adata: ad.AnnData, source: str, make_unique: bool) -> None:
    for axis, names in (("gene", adata.var_names), ("cell", adata.obs_names)):
        if names.is_unique:
            continue
        if not make_unique:
            dup = names[names.duplicated()].unique()
            raise BenchError(f"{source} has {len(dup)} duplicate {axis} name(s) (e.g. {dup[0]!r}).",
                             "Make the names unique in the file, or pass --make-unique to rename them.")
    if make_unique:
        adata.var_names_make_unique()
        adata.obs_names_make_unique()


MIN_CELLS = 20  # fewer cells cannot be split into train/validation/test and still train a simulator


def check_counts(adata: ad.AnnData, source: str, *, layer: str | None = None) -> None:
    """Raise unless ``adata`` holds raw counts: finite, non-negative integers, enough cells, some genes."""
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise BenchError(f"{source} is empty ({adata.n_obs} cells x {adata.n_vars} genes).", "Give a non-empty matrix.")
    data = adata.X.data if sp.issparse(adata.X) else np.asarray(adata.X)
    where = f"layer {layer!r} of {source}" if layer else source
    if data.size and not np.issubdtype(data.dtype, np.number):
        raise BenchError(f"{where} holds {data.dtype} values, not numbers.", "Give raw counts.")
    if data.size and not np.isfinite(data).all():
        raise BenchError(f"{where} contains NaN or infinite values.", "Give raw counts without missing values.")
    if data.size and data.min() < 0:
        raise BenchError(f"{where} contains negative values; these are not raw counts.",
                         "Give raw UMI/read counts (not log-normalised or scaled data).")
    if data.size and not np.array_equal(data, np.round(data)):
        counts_layers = [k for k in adata.layers if "count" in k.lower() or k.lower() == "raw"] if not layer else []
        looks_log = float(data.max()) < 30
        hint = (f"Use --layer {counts_layers[0]} (this file has a {counts_layers[0]!r} layer)." if counts_layers else
                "Give raw counts, or name the layer that holds them with --layer NAME.")
        raise BenchError(f"{where} holds non-integer values{' that look log-transformed' if looks_log else ''} "
                         f"(max {float(data.max()):.3g}); raw counts are required.", hint)
    if adata.n_obs < MIN_CELLS:
        raise BenchError(f"{source} has {adata.n_obs} cell(s); at least {MIN_CELLS} are needed to split it and "
                         "train a simulator.", "Give more cells.")
