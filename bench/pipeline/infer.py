"""The ``infer`` stage: every method on every source, through the one runner (:func:`methods.runner.run_jobs`).

Each (source, method) is cached on its own: ``infer/<source>/<method>/_done.json`` holds its key, so an
interrupted run resumes at the first method that had not finished. Results are saved as they come back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench import io as bio
from bench.config import RunConfig
from bench.pipeline.context import RunContext, stable_hash
from bench.pipeline.sources import Source, generation_seed, run_sources, source_cells
from bench.settings import settings
from methods.base import Method
from methods.jobs import Job, make_jobs
from methods.record import MethodRun
from methods.runner import Execution, run_jobs, save_run

# A run preset asks each method for the first of these presets it has (none = the method's defaults).
METHOD_PRESET_CHOICES = {"smoke": ["smoke", "test", "fast"], "fast": ["fast"], "beeline": ["beeline"]}


def method_preset(cfg: RunConfig, method: Method) -> str | None:
    """The preset of ``method`` used under the run's ``method_preset`` (recorded with every result); a named
    deviation of the protocol (``protocol_deviations``) wins."""
    from bench.protocol import deviation_preset

    if deviation_preset(cfg, method.name):
        return deviation_preset(cfg, method.name)
    if not cfg.method_preset:
        return None
    for name in METHOD_PRESET_CHOICES.get(cfg.method_preset, [cfg.method_preset]):
        if name in method.info.presets:
            return name
    return None


def n_workers(cfg: RunConfig) -> int:
    """Methods run at the same time: ``n_workers`` if set, else one per core (``settings.n_jobs``)."""
    return max(1, int(cfg.n_workers or settings.n_jobs))


def _marker(d: Path, source: str, method: str) -> Path:
    return d / source / method / "_done.json"


def source_jobs(ctx: RunContext, d: Path, source: Source, key: str) -> list[Job]:
    """Jobs of the methods that have not finished on ``source`` under this stage key."""
    cfg = ctx.cfg
    pending = []
    for m in ctx.methods:
        marker = _marker(d, source.name, m.name)
        if marker.exists() and "infer" not in ctx.force and \
                json.loads(marker.read_text()).get("key") == stable_hash(key, source.name, m.name):
            ctx.progress.say(f"  {source.name:<9} {m.label:<12} cached")
        else:
            pending.append(m)
    if not pending:
        return []
    cells = source_cells(ctx, source)
    pt = None
    if any(m.info.pseudotime != "none" for m in pending):
        pt = pd.read_csv(ctx.stage_dir("pseudotime") / f"{source.name}.csv")["pseudotime"].to_numpy(float)
    tfs = [t for t in ctx.tfs if t in set(cells.var_names)] if cfg.give_tfs else None
    return make_jobs(cells, pending, pseudotime=pt, tfs=tfs, seed=generation_seed(ctx, source),
                     params=cfg.method_params,
                     preset={m.name: method_preset(cfg, m) for m in pending}, input_transform=ctx.input_transform,
                     group=source.name)


def run_infer_stage(ctx: RunContext, d: Path) -> dict:
    cfg, key = ctx.cfg, ctx.keys["infer"]
    jobs = [j for s in run_sources(cfg) for j in source_jobs(ctx, d, s, key)]
    summary = {}

    def finished(job: Job, run: MethodRun) -> None:
        source = job.group
        save_run(run, d / source)
        bio.write_json(_marker(d, source, job.method.name), {"key": stable_hash(key, source, job.method.name)})
        r = run.record
        ctx.progress.say(f"  {source:<9} {job.method.label:<12} {run.status:<8} {r.runtime_s or 0:7.1f} s "
                         f"{r.peak_memory_mb or 0:7.0f} MB  {len(run.edges)} edges")
        summary[f"{source}/{job.method.name}"] = run.status

    how = Execution(cfg.executor, cfg.method_timeout, cfg.method_memory_gb * 2**30)
    run_jobs(jobs, how, scheduler=cfg.scheduler, n_workers=n_workers(cfg), on_result=finished)
    return dict(sorted(summary.items()))
