"""Named reference datasets and their metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.errors import BenchError


@dataclass(frozen=True)
class DatasetInfo:
    """What grn-bench knows about a reference dataset.

    ``n_test`` / ``n_validation`` are held-out cell counts (the paper holds out 500 BoneMarrow cells);
    ``n_genes`` is the default number of highly variable genes kept.
    """

    name: str
    description: str
    species: str  # "mouse" or "human"
    citation: str
    filename: str | None = None  # looked up in the data dir
    scanpy_loader: str | None = None  # scanpy.datasets function used as a download fallback
    n_test: int = 1000
    n_validation: int = 500
    n_genes: int = 1000
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DATASETS: dict[str, DatasetInfo] = {
    "bonemarrow": DatasetInfo(
        name="bonemarrow",
        description=("Mouse bone marrow myeloid progenitors, MARS-seq, raw UMI counts of GEO GSE72857 "
                     "(2660 cells x 3004 genes in the shipped file; scanpy's paul15 as a download fallback)."),
        species="mouse",
        citation=("Paul F. et al. Transcriptional heterogeneity and lineage commitment in myeloid progenitors. "
                  "Cell 163, 1663-1677 (2015). doi:10.1016/j.cell.2015.11.013"),
        filename="bonemarrow_paul15.h5ad",
        scanpy_loader="paul15",
        n_test=500,
        n_validation=200,
        n_genes=1000,
    ),
    "pbmc68k-reduced": DatasetInfo(
        name="pbmc68k-reduced",
        description="Human PBMCs, 10x Chromium, 700 cells x 765 genes of raw counts (a subset of 10x pbmc68k).",
        species="human",
        citation=("Zheng G.X.Y. et al. Massively parallel digital transcriptional profiling of single cells. "
                  "Nat. Commun. 8, 14049 (2017). doi:10.1038/ncomms14049"),
        filename="pbmc68k_reduced_counts.h5ad",
        n_test=100,
        n_validation=50,
        n_genes=500,
    ),
}

USER_PREFIXES = ("h5ad:", "10x:")


def user_dataset_info(spec: str, species: str | None = None) -> DatasetInfo:
    kind, _, path = spec.partition(":")
    return DatasetInfo(name=spec, description=f"user data ({kind}) from {path}", species=species or "auto",
                       citation="user-supplied", n_test=-1, n_validation=-1, n_genes=1000)


def get_dataset_info(name: str, species: str | None = None) -> DatasetInfo:
    """Metadata for a named dataset or a user spec (``h5ad:PATH``, ``10x:DIR``)."""
    if name.startswith(USER_PREFIXES):
        return user_dataset_info(name, species)
    key = name.lower()
    if key not in DATASETS:
        raise BenchError(f"unknown dataset {name!r}.",
                         f"Choose one of {', '.join(DATASETS)}, or give your own as h5ad:PATH or 10x:DIR.")
    return DATASETS[key]


def list_datasets() -> list[DatasetInfo]:
    return list(DATASETS.values())
