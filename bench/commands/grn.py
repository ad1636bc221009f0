"""``bench grn``: build the reference GRN and control GRNs, inspect a GRN file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from bench.config import PRESETS as RUN_PRESETS


def register(app: typer.Typer) -> None:
    grn = typer.Typer(help="GRN preparation: GRNBoost2 reference GRN, positive/negative control and random GRNs.",
                      no_args_is_help=True)
    app.add_typer(grn, name="grn")

    @grn.command("build")
    def build_cmd(
        name: str = typer.Argument(..., help="dataset name, h5ad:PATH or 10x:DIR"),
        strategy: str = typer.Option("pos-control", "--strategy",
                                     help="top | pos-control (ranks 1,3,5..) | neg-control (2,4,6..) | random"),
        k: int = typer.Option(10, "--k", help="TF ranks per gene considered (paper: 10)"),
        seed: int = typer.Option(0, "--seed", help="seed of the split, GRNBoost2 and the random strategy"),
        n_genes: int = typer.Option(RUN_PRESETS["default"]["n_genes"], "--n-genes",
                                    help="highly variable genes to keep (default: as `bench run`'s default preset; "
                                         "the paper and --preset paper use 1000)"),
        tfs: Optional[str] = typer.Option(None, "--tfs", help="mouse, human or a TF list file"),
        reference_method: str = typer.Option("grnboost2", "--reference-method",
                                             help="grnboost2 (the paper) | pidc | pearson: whose ranking of TFs "
                                                  "per target defines the GRNs"),
        out: Optional[Path] = typer.Option(None, "--out", help="output .parquet/.csv/.tsv "
                                           "(default grn_<dataset>_<strategy>_k<k>.parquet)"),
    ) -> None:
        """Rank TFs per target on the training split (GRNBoost2 by default; cached) and derive a GRN by a strategy.

        The data are prepared as by `bench run`'s default preset (300 highly variable genes; --n-genes 1000 for
        the paper's setting), so with the same --seed and --k this is the GRN that `bench run` imposes.

        Examples:

          bench grn build bonemarrow --strategy pos-control --k 10

          bench grn build bonemarrow --strategy pos-control --reference-method pidc

          bench grn build bonemarrow --strategy neg-control --k 10 --out neg.csv
        """
        import time

        from bench.validate import check_choice, check_int

        check_choice(strategy, "--strategy", ("top", "pos-control", "neg-control", "random"))
        check_int(k, "--k", minimum=1)
        from bench.edges import write_edges
        from bench.errors import BenchError
        from datasets import dataset_tfs, get_split, prepare_dataset
        from datasets.networks import REFERENCE_METHODS, build_grn, grn_summary, reference_grn

        if reference_method not in REFERENCE_METHODS:  # before the (slow) preparation
            raise BenchError(f"unknown reference method {reference_method!r}.",
                             f"Choose one of {', '.join(REFERENCE_METHODS)}.")
        adata = prepare_dataset(name, n_genes=n_genes, seed=seed, tfs=tfs)
        t0 = time.perf_counter()
        ref = reference_grn(get_split(adata, "train"), dataset_tfs(adata), method=reference_method, seed=seed)
        typer.echo(f"reference GRN ({reference_method}, training split): {len(ref)} edges in "
                   f"{time.perf_counter() - t0:.1f} s")
        edges = build_grn(ref, strategy, k=k, seed=seed)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[-40:]
        out = out or Path(f"grn_{safe}_{strategy}_k{k}.parquet")
        write_edges(out, edges)
        s = grn_summary(edges)
        typer.echo(f"{strategy}: {s['edges']} edges, {s['regulators']} regulators, {s['targets']} targets, "
                   f"in-degree {s['in_degree_min']}-{s['in_degree_max']} -> {out}")

    @grn.command("show")
    def show_cmd(path: Path = typer.Argument(..., help="GRN file: .parquet, .csv, .tsv, or BEELINE refNetwork.csv"),
                 n: int = typer.Option(10, "--n", help="edges to print")) -> None:
        """Summarise a GRN file and print its strongest edges.

        Example: bench grn show grn_bonemarrow_pos-control_k10.parquet
        """
        from bench.edges import read_edges
        from datasets.networks import grn_summary

        edges = read_edges(path)
        for key, val in grn_summary(edges).items():
            typer.echo(f"{key:<17}{val}")
        typer.echo(edges.head(n).to_string(index=False))
