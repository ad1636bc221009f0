"""``prepare_dataset``: load, preprocess, split and attach the TF list, cached on disk."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
import importlib.metadata as md

import anndata as ad
import numpy as np

from bench import io as bio
from bench.errors import BenchError
from bench.settings import settings
from datasets.loaders import check_counts, load_raw, resolve_source, source_fingerprint
from datasets.preprocess import preprocess
from datasets.registry import get_dataset_info
from datasets.tfs import guess_species, load_tfs, tf_list_fingerprint

log = logging.getLogger(__name__)
PREPARE_VERSION = 1  # bump when preprocessing changes meaning, to invalidate caches


def package_versions() -> dict[str, str]:
    out = {}
    for pkg in ("grn-bench", "numpy", "scipy", "pandas", "anndata", "scanpy", "scikit-learn", "torch"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _held_out(info, n_cells: int) -> tuple[int, int]:
    if info.n_test >= 0:
        return info.n_test, info.n_validation
    # user data: 1000 test cells as the paper, but never more than 15%; validation up to 10%.
    return min(1000, int(0.15 * n_cells)), min(500, int(0.10 * n_cells))


def prepare_dataset(name: str, *, n_genes: int | None = None, seed: int = 0, n_test: int | None = None,
                    n_validation: int | None = None, min_genes: int = 10, min_cells: int = 3,
                    library_size: float = 20000.0, hvg_on: str = "all", tfs: str | None = None,
                    species: str | None = None, cache: bool = True, layer: str | None = None,
                    make_unique: bool = False) -> ad.AnnData:
    """Preprocessed reference dataset with a seeded train/validation/test split.

    Parameters
    ----------
    name
        A registered name (``bonemarrow``, ``pbmc68k-reduced``) or ``h5ad:PATH`` / ``10x:DIR``.
    n_genes
        Highly variable genes to keep (default: the dataset's, 1000 for bonemarrow as the paper).
    seed
        Seed of the split.
    n_test, n_validation
        Held-out cells (default: the dataset's; bonemarrow 500 test as the paper, 200 validation).
    tfs
        ``"mouse"``, ``"human"`` or a path to a TF list (default: the dataset's species).
    cache
        Reuse / store the result under ``settings.cache_dir / "prepared"``. The key covers the content hash of
        the source file (or every file of a 10x folder), so replacing the file invalidates it.
    layer
        Take the raw counts from ``layers[layer]`` instead of ``X``.
    make_unique
        Rename duplicate gene/cell names instead of refusing the data.

    Returns
    -------
    AnnData with ``X`` library-size-normalised to ``library_size`` (no log), ``layers['counts']``,
    ``obs['split']``, ``uns['tfs']`` (TFs among the kept genes) and ``uns['provenance']``.
    """
    from bench.validate import check_prepare_params

    check_prepare_params(n_genes=n_genes, n_test=n_test, n_validation=n_validation, min_genes=min_genes,
                         min_cells=min_cells, library_size=library_size, hvg_on=hvg_on, seed=seed)
    if cache:
        settings.check_environment()
    info = get_dataset_info(name, species)
    path, kind = resolve_source(name)
    source_hash = source_fingerprint(name)
    tf_hash = tf_list_fingerprint(tfs) if tfs not in (None, "mouse", "human") else None
    params = {"name": name, "n_genes": n_genes or info.n_genes, "seed": seed, "n_test": n_test,
              "n_validation": n_validation, "min_genes": min_genes, "min_cells": min_cells,
              "library_size": library_size, "hvg_on": hvg_on, "tfs": tfs, "species": species,
              "source_sha256": source_hash, "version": PREPARE_VERSION}
    if layer is not None or make_unique or tf_hash:  # only then, so that existing cache keys stay valid
        params.update(layer=layer, make_unique=make_unique, tfs_sha256=tf_hash)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[-60:]
    cache_path = Path(settings.cache_dir) / "prepared" / f"{safe}-{key}.h5ad"
    if cache and cache_path.exists() and path is not None:
        return ad.read_h5ad(cache_path)

    raw, provenance = load_raw(name, layer=layer, make_unique=make_unique)
    check_counts(raw, name, layer=layer)
    species = species or (info.species if info.species != "auto" else guess_species(raw.var_names))
    tf_all = load_tfs(tfs or species)
    if not set(tf_all) & set(map(str, raw.var_names)):
        raise BenchError(f"the {tfs or species} TF list shares no gene with {name}.",
                         "Use the TF list of the data's species (--tfs mouse|human|PATH).")
    nt, nv = _held_out(info, raw.n_obs)
    adata = preprocess(raw, n_genes=params["n_genes"], min_genes=min_genes, min_cells=min_cells,
                       library_size=library_size, hvg_on=hvg_on,
                       n_test=nt if n_test is None else n_test,
                       n_validation=nv if n_validation is None else n_validation, seed=seed)
    kept_tfs = sorted(set(tf_all) & set(adata.var_names))
    if not kept_tfs:
        raise BenchError(f"no TF of the {tfs or species} list is among the {adata.n_vars} kept genes of {name}.",
                         "Keep more genes (--n-genes) or give another TF list (--tfs).")
    adata.uns["tfs"] = np.asarray(kept_tfs, dtype=object)
    adata.uns["dataset"] = name
    adata.uns["provenance"] = {
        **provenance, "dataset": name, "species": species, "tf_list": tfs or species,
        "parameters": json.dumps(params, sort_keys=True), "seed": seed, "cache_key": key,
        "versions": json.dumps(package_versions(), sort_keys=True),
    }
    # Only simple obs columns travel (h5ad cannot store arbitrary objects).
    for col in list(adata.obs.columns):
        if adata.obs[col].dtype == object:
            adata.obs[col] = adata.obs[col].astype(str)
    adata.uns = {k: v for k, v in adata.uns.items() if k in ("tfs", "dataset", "provenance", "preprocessing")}
    if cache:
        bio.write_h5ad(cache_path, adata)
    return adata


def get_split(adata: ad.AnnData, split: str) -> ad.AnnData:
    """The cells of one split (``train``, ``validation`` or ``test``) as a new AnnData."""
    if split not in ("train", "validation", "test"):
        raise BenchError(f"unknown split {split!r}.", "Use train, validation or test.")
    return adata[adata.obs["split"] == split].copy()


def dataset_tfs(adata: ad.AnnData) -> list[str]:
    return [str(t) for t in adata.uns.get("tfs", [])]
