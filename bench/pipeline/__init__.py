"""``bench run``: the whole benchmark as a table of cached, resumable stages (:mod:`bench.pipeline.stages`).

=============  =================================================================  ===============================
stage          what                                                               writes
=============  =================================================================  ===============================
``data``       prepare the dataset (filter, HVGs, library size, split)            data/prepared.h5ad
``grn``        GRNBoost2 on the training cells; positive / negative control GRNs  grn/*.parquet
``groundgan``  train GRouNdGAN imposing the positive control (checkpoints resume) groundgan/
``scgan``      the scGAN baseline (no GRN)                                        scgan/
``simulate``   cells of every simulated source (:mod:`bench.pipeline.sources`)    simulate/<source>.h5ad
``pseudotime`` diffusion pseudotime with a PAGA root, per data source             pseudotime/<source>.csv
``infer``      every method on every source, through :mod:`methods.runner`        infer/<source>/<method>/
``score``      AUPRC & co. against both controls, realism, knockouts              leaderboard.parquet, ...
``report``     the self-contained HTML report                                     report.html
=============  =================================================================  ===============================

Each stage writes into its own folder of the run directory, atomically, and records a ``_stage.json`` with its
cache key; a stage whose key matches is skipped. ``force`` recomputes the named stages and everything downstream
of them. The ``infer`` stage caches each (source, method) separately, so an interrupted run resumes at the first
method that had not finished.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.config import RunConfig, to_toml
from bench.lock import RunLock
from bench.validate import check_inputs, validate_run
from bench.pipeline.context import Progress, RunContext
from bench.pipeline.stages import STAGES_TABLE, Stage
from methods.base import get_method
from reports.console import print_run_summary

STAGES: list[str] = [s.name for s in STAGES_TABLE]
DEPENDS: dict[str, list[str]] = {s.name: list(s.depends) for s in STAGES_TABLE}

__all__ = ["DEPENDS", "STAGES", "RunContext", "Stage", "downstream", "run_pipeline"]


def downstream(stages: list[str]) -> set[str]:
    """The given stages and every stage that depends on them."""
    out = set(stages)
    for s in STAGES_TABLE:  # the table is in run order, so one pass reaches every descendant
        if out & set(s.depends):
            out.add(s.name)
    return out


def run_stage(ctx: RunContext, stage: Stage, n: int) -> None:
    """Run ``stage`` unless it finished before with the same key; then load its artifacts."""
    key = ctx.keys[stage.name] = stage.key(ctx)
    label = f"stage {n}/{len(STAGES)} {stage.name:<10}"
    if ctx.is_done(stage.name, key):
        meta = json.loads((ctx.stage_dir(stage.name) / "_stage.json").read_text())
        ctx.cached[stage.name], ctx.timings[stage.name] = True, meta.get("seconds", 0.0)
        ctx.info[stage.name] = meta.get("info", {})
        ctx.progress.say(f"{label} cached ({meta.get('seconds', 0):.0f} s originally)")
    else:
        d = ctx.stage_dir(stage.name)
        d.mkdir(parents=True, exist_ok=True)
        ctx.progress.say(f"{label} running")
        t = time.perf_counter()
        info = stage.run(ctx, d) or {}
        sec = time.perf_counter() - t
        ctx.record_stage(stage.name, key, sec, info)
        ctx.cached[stage.name], ctx.timings[stage.name], ctx.info[stage.name] = False, sec, info
        ctx.progress.say(f"{label} done in {sec:.1f} s")
        ctx.write_manifest()
        # Keys name inputs, not their content: a stage that ran (resumed, forced, or re-running a method) may have
        # new artifacts, so what depends on it runs again instead of serving results made from the old ones.
        ctx.force |= downstream([stage.name]) - {stage.name}
    if stage.load is not None:
        stage.load(ctx)


def run_dir_for(cfg: RunConfig, out: str | Path | None) -> Path:
    """``out``, else the config's ``out``, else ``runs/<dataset>-<preset>-seed<seed>``."""
    name = f"{cfg.dataset.replace(':', '_').replace('/', '_')}-{cfg.preset}-seed{cfg.seed}"
    return Path(out or cfg.out or Path("runs") / name)


def run_pipeline(cfg: RunConfig, out: str | Path | None = None, force: list[str] | None = None,
                 quiet: bool = False) -> Path:
    """Run (or resume) the benchmark described by ``cfg``; return the run directory.

    The whole config and the inputs are checked before anything is written (:mod:`bench.validate`), and the
    run directory is locked for the run (:mod:`bench.lock`): a second run on it stops with exit code 2.
    """
    cfg = validate_run(cfg, force, STAGES)
    force = list(force or [])
    out = run_dir_for(cfg, out)
    check_inputs(cfg)
    with RunLock(out):
        return _run(cfg, out, force, quiet)


def _run(cfg: RunConfig, out: Path, force: list[str], quiet: bool) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(cfg=cfg, out=out, force=downstream(STAGES if "all" in force else force),
                     progress=Progress(quiet), methods=[get_method(m) for m in cfg.methods])
    ctx.rundir.write_config(to_toml(cfg))
    ctx.progress.say(f"grn-bench run -> {out} (preset {cfg.preset}, seed {cfg.seed}, config {cfg.hash()})")
    t_all = time.perf_counter()
    for n, stage in enumerate(STAGES_TABLE, 1):
        if stage.applies(ctx):
            run_stage(ctx, stage, n)
    ctx.write_manifest(total_seconds=time.perf_counter() - t_all)
    if not quiet:
        print_run_summary(out, ctx.timings)
    return out
