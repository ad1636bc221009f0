"""``bench simulate`` and ``bench knockout``: train GRouNdGAN (or scGAN), generate cells, in-silico knockouts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

GRN_STRATEGIES = ("top", "pos-control", "neg-control", "random")


def _overrides(items: list[str] | None) -> dict:
    from bench.errors import BenchError

    out = {}
    for it in items or []:
        if "=" not in it:
            raise BenchError(f"--set expects KEY=VALUE, got {it!r}.", "Example: --set steps=500")
        k, v = it.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        dataset: str = typer.Option("bonemarrow", "--dataset", help="dataset name, h5ad:PATH or 10x:DIR"),
        grn: str = typer.Option("pos-control", "--grn",
                                help="GRN to impose: top | pos-control | neg-control | random (built from the "
                                     "GRNBoost2 reference of the training split), or a GRN file"),
        k: int = typer.Option(10, "--k", help="TF ranks per gene for the GRN strategies (paper: 10; top: 15)"),
        simulator: str = typer.Option("groundgan", "--simulator", help="groundgan | scgan (no GRN)"),
        preset: str = typer.Option("default", "--preset", help="default (2-core CPU, ~6 min) | paper (GPU) | smoke"),
        option: Optional[List[str]] = typer.Option(None, "--set", help="override a preset option, KEY=VALUE "
                                                   "(repeatable; see simulators/groundgan/presets.py)"),
        cells: Optional[int] = typer.Option(None, "--cells", help="cells to generate (default: as many as the "
                                            "training split)"),
        n_genes: Optional[int] = typer.Option(None, "--n-genes", help="highly variable genes to keep (default: "
                                              "as `bench run` with the same --preset: smoke 100, default 300, "
                                              "paper 1000)"),
        seed: int = typer.Option(0, "--seed", help="seed of the split, GRN, training and generation"),
        max_minutes: Optional[float] = typer.Option(None, "--max-minutes", help="wall-time budget of training"),
        device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
        out: Optional[Path] = typer.Option(None, "--out", help="run folder (default runs/sim-<dataset>-<grn>-"
                                           "<preset>-s<seed>)"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
    ) -> None:
        """Train a simulator on a dataset's training split and write simulated cells.

        The data are prepared as by `bench run` with the same --preset (smoke 100, default 300, paper 1000
        highly variable genes), so `bench simulate --preset default` simulates the genes of `bench run`'s
        default run.

        The run folder holds grn.parquet, checkpoints/ (re-run the same command after an interruption to
        resume), model/ (the fitted simulator, for `bench knockout`) and simulated.h5ad.

        Examples:

          bench simulate --dataset bonemarrow --grn pos-control

          bench simulate --dataset bonemarrow --grn top --k 15 --preset paper --device cuda

          bench simulate --dataset bonemarrow --simulator scgan --cells 2000

          bench simulate --dataset bonemarrow --grn my_grn.parquet --set steps=500 --out runs/mine
        """
        import time

        from bench.edges import read_edges, write_edges
        from bench.errors import BenchError
        from bench.io import write_h5ad, write_json
        from datasets import dataset_tfs, get_split, prepare_dataset
        from simulators import get_simulator

        from bench.config import PRESETS as RUN_PRESETS
        from bench.validate import check_int, check_number

        check_int(k, "--k", minimum=1)
        check_int(cells, "--cells", minimum=1, optional=True)
        check_number(max_minutes, "--max-minutes", optional=True, fix="Give minutes of training, e.g. 10.")
        cls = get_simulator(simulator)
        over = _overrides(option)
        pre = {"preset": preset, **over} if over else preset
        from simulators import get_preset

        get_preset(pre)  # unknown presets and options fail before the data is prepared
        # the same genes as `bench run --preset <preset>`, so a simulated folder and a run are comparable
        n_genes = n_genes if n_genes is not None else RUN_PRESETS.get(preset, RUN_PRESETS["default"])["n_genes"]
        adata = prepare_dataset(dataset, seed=seed, n_genes=n_genes)
        train, val = get_split(adata, "train"), get_split(adata, "validation")
        if val.n_obs == 0:
            val = None
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in dataset)[-40:]
        gname = grn if grn in GRN_STRATEGIES else Path(grn).stem
        run = out or Path("runs") / f"sim-{safe}-{gname if simulator == 'groundgan' else 'scgan'}-{preset}-s{seed}"
        run.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if simulator == "groundgan":
            if grn in GRN_STRATEGIES:
                from datasets.networks import build_grn, reference_grn

                edges = build_grn(reference_grn(train, dataset_tfs(adata), seed=seed), grn, k=k, seed=seed)
            elif Path(grn).exists():
                edges = read_edges(grn)
            else:
                raise BenchError(f"--grn {grn!r} is neither a strategy ({', '.join(GRN_STRATEGIES)}) nor a file.")
            write_edges(run / "grn.parquet", edges)
            model = cls(edges, preset=pre, seed=seed, device=device)
        else:
            model = cls(preset=pre, seed=seed, device=device)
        model.fit(train, validation=val, checkpoint_dir=run / "checkpoints", progress=not quiet,
                  max_minutes=max_minutes)
        model.save(run / "model")
        n = cells or train.n_obs
        sim = model.generate(n, seed=seed)
        sim.uns["simulator"]["dataset"] = dataset
        write_h5ad(run / "simulated.h5ad", sim)
        write_json(run / "simulate.json", {"dataset": dataset, "grn": grn, "k": k, "simulator": simulator,
                                           "preset": preset, "overrides": over, "seed": seed, "cells": n,
                                           "seconds": round(time.perf_counter() - t0, 1)})
        typer.echo(f"{simulator}: {sim.n_obs} cells x {sim.n_vars} genes -> {run / 'simulated.h5ad'} "
                   f"({time.perf_counter() - t0:.0f} s)")

    @app.command("knockout")
    def knockout_cmd(
        run: Path = typer.Argument(..., help="folder written by `bench simulate` or `bench run`, or a saved model folder"),
        tf: List[str] = typer.Option(..., "--tf", help="TF to perturb (repeatable: all are set together)"),
        value: float = typer.Option(0.0, "--value", help="value to set, in library-normalised expression "
                                    "(0 = knockout; finite, >= 0 unless --units controller)"),
        cells: int = typer.Option(1000, "--cells", help="matched control/perturbed cells"),
        seed: int = typer.Option(0, "--seed", help="seed of the frozen noise"),
        units: str = typer.Option("data", "--units", help="data (library-normalised) | controller (raw CC scale, "
                                  "the official code's semantics)"),
        out: Optional[Path] = typer.Option(None, "--out", help="output folder (default RUN/knockout-<tfs>-<value>)"),
    ) -> None:
        """In-silico perturbation of TFs on matched cells (GRouNdGAN's deterministic mode).

        Writes control.h5ad and perturbed.h5ad (same cells, same obs_names) and prints how many target
        genes changed. Genes not downstream of the TFs are bit-identical by construction.

        Examples:

          bench knockout runs/sim-bonemarrow-pos-control-default-s0 --tf Gata2

          bench knockout runs/sim-bonemarrow-pos-control-default-s0 --tf Gata2 --tf Klf1 --value 50
        """
        import numpy as np

        from bench.errors import BenchError
        from bench.io import write_h5ad, write_json
        from bench.validate import check_choice, check_int, check_knockout_value
        from simulators import GRouNdGAN

        check_choice(units, "--units", ("data", "controller"))
        check_knockout_value(value, units)
        check_int(cells, "--cells", minimum=2)
        # a `bench simulate` folder, a `bench run` folder (its GRouNdGAN stage), or a saved model folder
        candidates = [run / "model", run / "groundgan" / "model", run]
        model_dir = next((c for c in candidates if (c / "simulator.json").exists()), None)
        if model_dir is None:
            raise BenchError(f"no fitted simulator in {run}.",
                             "Pass a folder written by `bench simulate` or `bench run`, or a saved model folder.")
        model = GRouNdGAN.load(model_dir)
        control, pert = model.perturb(cells, {t: value for t in tf}, seed=seed, units=units)
        down = sorted({g for t in tf for g in model.downstream(t)})
        genes = list(control.var_names)
        d_idx = [genes.index(g) for g in down]
        o_idx = [i for i, g in enumerate(genes) if g not in set(down) | set(tf)]
        diff = pert.X - control.X
        changed = int((np.abs(diff[:, d_idx]).max(axis=0) > 0).sum()) if d_idx else 0
        leak = float(np.abs(diff[:, o_idx]).max()) if o_idx else 0.0
        from bench.safeid import slug

        tag = slug("-".join(tf))  # TF names are user input: never path parts as they are
        dest = out or run / f"knockout-{tag}-{value:g}"
        write_h5ad(dest / "control.h5ad", control)
        write_h5ad(dest / "perturbed.h5ad", pert)
        summary = {"tfs": tf, "value": value, "units": units, "cells": cells, "seed": seed,
                   "downstream_targets": len(down), "targets_changed": changed,
                   "mean_abs_change_downstream": float(np.abs(diff[:, d_idx]).mean()) if d_idx else 0.0,
                   "max_abs_change_other_genes": leak}
        write_json(dest / "knockout.json", summary)
        typer.echo(f"{tag} := {value:g}: {changed}/{len(down)} downstream targets changed "
                   f"(mean |change| {summary['mean_abs_change_downstream']:.3g}); other genes max |change| "
                   f"{leak:g} -> {dest}")
