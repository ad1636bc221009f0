"""``bench run``: the whole benchmark, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _split(value: Optional[str]) -> Optional[list[str]]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        dataset: Optional[str] = typer.Option(None, "--dataset", help="bonemarrow, pbmc68k-reduced, h5ad:PATH, 10x:DIR"),
        preset: Optional[str] = typer.Option(None, "--preset", help="default (2-core CPU, ~30 min) | paper (GPU, hours) | smoke (minutes, numbers meaningless)"),
        methods: Optional[str] = typer.Option(None, "--methods",
                                              help="comma-separated method ids (default: every registered method)"),
        sources: Optional[str] = typer.Option(None, "--sources", help="data to run methods on: groundgan,real,scgan"),
        executor: Optional[str] = typer.Option(None, "--executor", help="native (default) | docker (BEELINE images)"),
        device: Optional[str] = typer.Option(None, "--device", help="auto | cpu | cuda (for the GAN)"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
        out: Optional[Path] = typer.Option(None, "--out", help="run directory (default runs/<dataset>-<preset>-seed<N>)"),
        seed: Optional[int] = typer.Option(None, "--seed", help="seed of everything (default 0)"),
        replicates: Optional[int] = typer.Option(None, "--replicates", help="replicate datasets per data source "
                                                 "(fresh simulated cells, real subsamples); default preset 3"),
        protocol: Optional[str] = typer.Option(None, "--protocol", help="paper (no TF list, BEELINE's parameters; "
                                               "the default) | fast (fast presets, TF list given)"),
        depths: Optional[str] = typer.Option(None, "--depths", help="measurement depths of the GRouNdGAN sources: "
                                             "multipliers of the training depths and inf (expected profile), "
                                             "e.g. 1,4,16,inf"),
        reference_method: Optional[str] = typer.Option(None, "--reference-method",
                                                       help="whose TF ranking defines the control GRNs: grnboost2 "
                                                            "(default) | pidc | pearson"),
        config: Optional[Path] = typer.Option(None, "--config", help="TOML file with the same keys as these flags"),
        force: list[str] = typer.Option([], "--force", help="recompute a stage and what depends on it (repeatable): "
                                        "data, grn, groundgan, scgan, simulate, pseudotime, infer, score, report, all"),
        quiet: bool = typer.Option(False, "--quiet", help="no progress output"),
        layer: Optional[str] = typer.Option(None, "--layer", help="AnnData layer holding raw counts (default: X)"),
        make_unique: Optional[bool] = typer.Option(None, "--make-unique", help="rename duplicate gene/cell names "
                                                   "instead of refusing the data"),
        param: list[str] = typer.Option([], "--param", help="a method parameter, METHOD.KEY=VALUE (repeatable); "
                                        "over the config's [method_params]"),
        n_workers: Optional[int] = typer.Option(None, "--n-workers", help="method runs at a time (default: one per "
                                                "core); with --plan, the cluster size to plan for"),
        plan: bool = typer.Option(False, "--plan", help="compute nothing: print every stage and method run with an "
                                  "estimated time; on a finished run directory (--out), also the measured times"),
    ) -> None:
        """Run the whole benchmark: prepare data, build the control GRNs, train GRouNdGAN and scGAN, simulate,
        run the inference methods on simulated and real cells, score, and write the leaderboard and report.

        Every stage is cached by a hash of its inputs: re-running a finished run takes seconds, and re-running
        an interrupted one resumes where it stopped.

        \b
        Examples:
          bench run --dataset bonemarrow
          bench run --dataset bonemarrow --preset smoke --out runs/smoke
          bench run --dataset bonemarrow --methods pidc,genie3 --force infer
          bench run --config my_run.toml --seed 1
          bench run --dataset bonemarrow --param leap.tie_order=beeline --param sincerities.cv_alignment=fraction
          bench run --preset paper --plan --n-workers 64        # how long, before starting
          bench run --plan --out runs/smoke                     # estimate vs actual of a finished run
          bench run --dataset bonemarrow --protocol fast --reference-method pidc
          bench run --dataset bonemarrow --depths 1,4,16,inf
        """
        from bench.config import load_config
        from bench.pipeline import run_pipeline
        from methods.params import merge_params, parse_param_overrides

        if plan and config is None and out is not None and (out / "config.toml").exists():
            config = out / "config.toml"  # plan the run that is there, to compare with what it measured
        cfg = load_config(config, dataset=dataset, preset=preset, methods=_split(methods), sources=_split(sources),
                          executor=executor, device=device, scheduler=scheduler,
                          out=str(out) if out else None, seed=seed, layer=layer, make_unique=make_unique,
                          n_workers=n_workers, n_replicates=replicates, protocol=protocol,
                          reference_method=reference_method, depths=_split(depths))
        cfg.method_params = merge_params(cfg.method_params, parse_param_overrides(param))
        from bench.validate import check_config_types

        check_config_types(cfg)  # types and ranges first: resolving a wrong type would fail less clearly
        cfg.resolved()  # bad input ends here, before anything is written
        if plan:
            from bench.plan import plan_command

            typer.echo(plan_command(cfg, out))
            return
        run_pipeline(cfg, force=force, quiet=quiet)
