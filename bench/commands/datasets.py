"""``bench datasets``: list, show and prepare reference datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bench.settings import settings


def register(app: typer.Typer) -> None:
    ds = typer.Typer(help="Reference datasets: list them, show one, prepare (preprocess + split) one.",
                     no_args_is_help=True)
    app.add_typer(ds, name="datasets")

    @ds.command("list")
    def list_cmd() -> None:
        """List the named datasets and whether their file is in the data dir.

        Example: bench datasets list
        """
        from datasets.loaders import resolve_source
        from datasets.registry import list_datasets

        typer.echo(f"data dir: {settings.data_dir}  (set BENCH_DATA_DIR to change)")
        typer.echo(f"{'name':<18}{'species':<9}{'test':>6}  {'genes':>6}  source")
        for info in list_datasets():
            try:
                path, kind = resolve_source(info.name)
                src = str(path) if path else f"download via scanpy.datasets.{info.scanpy_loader}()"
            except Exception as exc:
                src = f"missing: {exc}"
            typer.echo(f"{info.name:<18}{info.species:<9}{info.n_test:>6}  {info.n_genes:>6}  {src}")
        typer.echo("user data: h5ad:PATH or 10x:DIR (raw counts)")

    @ds.command("show")
    def show_cmd(name: str = typer.Argument(..., help="dataset name, h5ad:PATH or 10x:DIR")) -> None:
        """Show a dataset's metadata and raw size.

        Example: bench datasets show bonemarrow
        """
        from datasets.loaders import load_raw
        from datasets.registry import get_dataset_info

        info = get_dataset_info(name)
        for k, v in info.as_dict().items():
            if v not in ({}, None):
                typer.echo(f"{k:<13}{v}")
        raw, prov = load_raw(name)
        typer.echo(f"{'raw':<13}{raw.n_obs} cells x {raw.n_vars} genes")
        typer.echo(f"{'source':<13}{prov['source']}")
        typer.echo(f"{'sha256':<13}{prov['source_sha256']}")

    @ds.command("prepare")
    def prepare_cmd(
        name: str = typer.Argument(..., help="dataset name, h5ad:PATH or 10x:DIR"),
        n_genes: Optional[int] = typer.Option(None, "--n-genes", help="highly variable genes to keep (paper: 1000)"),
        seed: int = typer.Option(0, "--seed", help="seed of the train/validation/test split"),
        n_test: Optional[int] = typer.Option(None, "--n-test", help="held-out test cells (bonemarrow: 500)"),
        n_validation: Optional[int] = typer.Option(None, "--n-validation", help="validation cells"),
        min_genes: int = typer.Option(10, "--min-genes", help="drop cells with fewer detected genes"),
        min_cells: int = typer.Option(3, "--min-cells", help="drop genes detected in fewer cells"),
        library_size: float = typer.Option(20000.0, "--library-size", help="counts per cell after normalisation"),
        hvg_on: str = typer.Option("all", "--hvg-on", help="choose HVGs on 'all' cells (paper) or 'train' only"),
        tfs: Optional[str] = typer.Option(None, "--tfs", help="mouse, human or a TF list file"),
        out: Optional[Path] = typer.Option(None, "--out", help="also write the prepared h5ad here"),
        layer: Optional[str] = typer.Option(None, "--layer", help="AnnData layer holding raw counts (default: X)"),
        make_unique: bool = typer.Option(False, "--make-unique", help="rename duplicate gene/cell names instead "
                                         "of refusing the data"),
    ) -> None:
        """Preprocess a dataset as the paper (filter, top HVGs, library size 20,000, no log) and split it.

        The result is cached and reused. Examples:

          bench datasets prepare bonemarrow

          bench datasets prepare h5ad:my_counts.h5ad --n-genes 500 --tfs human --out prepared.h5ad
        """
        from bench import io as bio
        from datasets import prepare_dataset

        adata = prepare_dataset(name, n_genes=n_genes, seed=seed, n_test=n_test, n_validation=n_validation,
                                min_genes=min_genes, min_cells=min_cells, library_size=library_size,
                                hvg_on=hvg_on, tfs=tfs, layer=layer, make_unique=make_unique)
        counts = adata.obs["split"].value_counts()
        tfset = set(adata.uns["tfs"])
        typer.echo(f"{name}: {adata.n_obs} cells x {adata.n_vars} genes, {len(tfset)} TFs among them")
        for split in ("train", "validation", "test"):
            typer.echo(f"  {split:<11}{int(counts.get(split, 0)):>6} cells")
        typer.echo(f"cache key {adata.uns['provenance']['cache_key']} in {settings.cache_dir / 'prepared'}")
        if out:
            bio.write_h5ad(out, adata)
            typer.echo(f"wrote {out}")
