"""The stages of ``bench run``, as a table: name, the stages it depends on, what its cache key covers, and the
module-level functions that run it and load its artifacts into the :class:`~bench.pipeline.context.RunContext`.

A stage's cache key hashes its name, the keys of the stages it depends on, and what :attr:`Stage.covers` returns
(its own config fields); a stage whose ``_stage.json`` holds the same key is skipped. Add a stage by writing its
functions and one :class:`Stage` row in :data:`STAGES` (the order of the table is the order of the run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anndata as ad
import pandas as pd

from bench import io as bio
from bench.edges import write_edges
from bench.pipeline.context import RunContext, stable_hash
from bench.placement import run_training
from bench.pipeline.infer import method_preset, run_infer_stage
from bench.pipeline.sources import (load_model, replicate_plan, run_sources, source_cells, source_depth,
                                    sources_to_simulate)
from bench.scoring.run import score_run
from datasets import dataset_tfs, get_split, prepare_dataset
from datasets.loaders import source_fingerprint  # the content of the input file is in the data stage's key
from datasets.networks import build_grn, grn_summary, reference_grn
from methods.pseudotime import compute_pseudotime
from reports.html import build_report, code_version
from simulators import GRouNdGAN, ScGAN, get_preset

CONTROLS = ("pos-control", "neg-control")


@dataclass(frozen=True)
class Stage:
    """One row of the stage table."""

    name: str
    run: Callable[[RunContext, Path], dict | None]  # writes into its folder, returns info for _stage.json
    depends: tuple[str, ...]
    covers: Callable[[RunContext], tuple]  # config values in the cache key (besides the keys of `depends`)
    load: Callable[[RunContext], None] | None = None  # artifacts for later stages (after it ran or was cached)
    applies: Callable[[RunContext], bool] = lambda ctx: True  # e.g. scgan only when a source needs it

    def key(self, ctx: RunContext) -> str:
        return stable_hash(self.name, [ctx.keys.get(d) for d in self.depends], *self.covers(ctx))


def jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


# -- data ---------------------------------------------------------------------------------------------------
def run_data(ctx: RunContext, d: Path) -> dict:
    cfg = ctx.cfg
    adata = prepare_dataset(cfg.dataset, n_genes=cfg.n_genes, seed=cfg.seed, layer=cfg.layer,
                            make_unique=cfg.make_unique)
    bio.write_h5ad(d / "prepared.h5ad", adata)
    counts = adata.obs["split"].value_counts()
    return {"cells": int(adata.n_obs), "genes": int(adata.n_vars), "tfs": len(dataset_tfs(adata)),
            **{f"n_{s}": int(counts.get(s, 0)) for s in ("train", "validation", "test")},
            "source_sha256": adata.uns["provenance"]["source_sha256"]}


def load_data(ctx: RunContext) -> None:
    ctx.adata = ad.read_h5ad(ctx.stage_dir("data") / "prepared.h5ad")
    ctx.splits = {s: get_split(ctx.adata, s) for s in ("train", "validation", "test")}
    ctx.tfs = dataset_tfs(ctx.adata)
    n = {s: a.n_obs for s, a in ctx.splits.items()}
    ctx.progress.say(f"  {ctx.cfg.dataset}: {ctx.adata.n_obs} cells x {ctx.adata.n_vars} genes, {len(ctx.tfs)} TFs; "
                     f"train {n['train']}, validation {n['validation']}, test {n['test']}")


# -- grn ----------------------------------------------------------------------------------------------------
def run_grn(ctx: RunContext, d: Path) -> dict:
    cfg = ctx.cfg
    # grn_params tune GRNBoost2 only; the other reference methods have no parameters
    params = (cfg.grn_params or {}) if cfg.reference_method == "grnboost2" else {}
    ref = reference_grn(ctx.splits["train"], ctx.tfs, method=cfg.reference_method, seed=cfg.seed,
                        scheduler=cfg.scheduler, **params)
    write_edges(d / "reference.parquet", ref)
    info = {"reference_method": cfg.reference_method, "reference_edges": int(len(ref))}
    for strategy in CONTROLS:
        g = build_grn(ref, strategy, k=cfg.k, seed=cfg.seed)
        write_edges(d / f"{strategy}.parquet", g)
        info[strategy] = grn_summary(g)
    return info


def load_grn(ctx: RunContext) -> None:
    ctx.pos, ctx.neg = (pd.read_parquet(ctx.stage_dir("grn") / f"{s}.parquet") for s in CONTROLS)
    ctx.progress.say(f"  positive control {len(ctx.pos)} edges, negative control {len(ctx.neg)} edges, "
                     f"{ctx.pos['regulator'].nunique()} TFs -> {ctx.pos['target'].nunique()} targets")


# -- simulators ---------------------------------------------------------------------------------------------
def simulator_preset(ctx: RunContext) -> str | dict:
    """The simulator preset name, or the preset with the config's overrides applied."""
    over = ctx.cfg.simulator_overrides or {}
    return {**dict(get_preset(ctx.cfg.simulator_preset)), **over} if over else ctx.cfg.simulator_preset


def _train(kind: str, grn, preset, seed: int, device: str, train, val, d: Path, progress: bool) -> dict:
    """Build, fit and save one simulator into ``d/model`` (module level: it may run on a GPU worker)."""
    model = GRouNdGAN(grn, preset=preset, seed=seed, device=device) if kind == "groundgan" else \
        ScGAN(preset=preset, seed=seed, device=device)
    model.fit(train, validation=val if val.n_obs else None, checkpoint_dir=d / "checkpoints", progress=progress)
    model.save(d / "model")
    return {"genes": len(model.genes), "info": jsonable(getattr(model, "info", {}))}


def _fit(ctx: RunContext, kind: str, d: Path) -> dict:
    """Train on a cluster worker that declares a GPU when there is one (bench.placement), else here."""
    info, where = run_training(_train, kind, ctx.pos if kind == "groundgan" else None, simulator_preset(ctx),
                               ctx.cfg.seed, ctx.cfg.device, ctx.splits["train"], ctx.splits["validation"], d,
                               not ctx.progress.quiet, scheduler=ctx.cfg.scheduler,
                               name=kind)
    if where != "here":
        ctx.progress.say(f"  {kind} trained on the GPU worker {where}")
    return {**info, "trained_on": where}


def run_groundgan(ctx: RunContext, d: Path) -> dict:
    return _fit(ctx, "groundgan", d)


def run_scgan(ctx: RunContext, d: Path) -> dict:
    gg = load_model(ctx, "groundgan")
    if gg.genes == [str(g) for g in ctx.splits["train"].var_names]:
        # GRouNdGAN kept every gene: its stage 1 is exactly this baseline (same preset and seed)
        model = ScGAN.from_groundgan(gg)
        ctx.progress.say("  scGAN = GRouNdGAN's causal controller (same genes, preset, seed): not retrained")
    else:
        return _fit(ctx, "scgan", d)
    model.save(d / "model")
    return {"info": jsonable(getattr(model, "info", {}))}


def run_simulate(ctx: RunContext, d: Path) -> dict:
    for source in sources_to_simulate(ctx.cfg):
        bio.write_h5ad(d / f"{source.name}.h5ad", source.generate(ctx, source))
    return {"n_cells": int(ctx.cfg.n_cells or ctx.splits["train"].n_obs)}


def load_simulate(ctx: RunContext) -> None:
    ctx.genes = list(ad.read_h5ad(ctx.stage_dir("simulate") / "groundgan.h5ad", backed="r").var_names)


# -- pseudotime ---------------------------------------------------------------------------------------------
def needs_pseudotime(ctx: RunContext) -> bool:
    return any(m.info.pseudotime != "none" for m in ctx.methods)


def run_pseudotime(ctx: RunContext, d: Path) -> dict:
    if not needs_pseudotime(ctx):
        return {"skipped": "no selected method needs pseudotime"}
    seconds = {}
    for source in run_sources(ctx.cfg):
        t = time.perf_counter()
        pt = compute_pseudotime(source_cells(ctx, source), seed=ctx.cfg.seed)
        bio.write_csv(d / f"{source.name}.csv",
                      pd.DataFrame({"cell": pt.index.astype(str), "pseudotime": pt.to_numpy(float)}))
        seconds[source.name] = round(time.perf_counter() - t, 2)
    return {"seconds": seconds}


# -- score and report ---------------------------------------------------------------------------------------
def run_score(ctx: RunContext, d: Path) -> dict:
    sources = run_sources(ctx.cfg)
    result = score_run(ctx.rundir, cfg=ctx.cfg, sources=sources, methods=ctx.methods,
                       pos=ctx.pos, neg=ctx.neg, test=ctx.splits["test"],
                       preset_of=lambda m: method_preset(ctx.cfg, m), say=ctx.progress.say,
                       load_groundgan=lambda: GRouNdGAN.load(ctx.stage_dir("groundgan") / "model",
                                                             device=ctx.cfg.device),
                       depth_of={s.simulator: source_depth(ctx.cfg, s) for s in sources},
                       simulated=[s.name for s in sources if s.simulated and s.replicate == 0])
    ctx.write_manifest(paper_comparison=result["paper_comparison"], realism=result.pop("realism"),
                       knockout=result["knockout"], data=ctx.info.get("data", {}),
                       replicates=replicate_plan(ctx.cfg), verdicts=result["verdicts"],
                       depth_claims=result.pop("depth_claims"))
    return result


def run_report(ctx: RunContext, d: Path) -> dict:
    return {"report": str(build_report(ctx.out, ctx.out / "report.html"))}


def _simulated(ctx: RunContext) -> list[dict]:
    return [s.spec() for s in sources_to_simulate(ctx.cfg)]


STAGES_TABLE: list[Stage] = [
    Stage("data", run_data, (), lambda c: (c.cfg.dataset, c.cfg.n_genes, c.cfg.seed, source_fingerprint(c.cfg.dataset),
                                           c.cfg.layer, c.cfg.make_unique), load=load_data),
    Stage("grn", run_grn, ("data",), lambda c: (c.cfg.k, c.cfg.seed, c.cfg.grn_params, c.cfg.reference_method),
          load=load_grn),
    Stage("groundgan", run_groundgan, ("grn",),
          lambda c: (c.cfg.simulator_preset, c.cfg.simulator_overrides or {}, c.cfg.seed)),
    Stage("scgan", run_scgan, ("data", "groundgan"),
          lambda c: (c.cfg.simulator_preset, c.cfg.simulator_overrides or {}, c.cfg.seed),
          applies=lambda c: any(s.model == "scgan" for s in sources_to_simulate(c.cfg))),
    Stage("simulate", run_simulate, ("groundgan", "scgan"), lambda c: (_simulated(c), c.cfg.n_cells, c.cfg.seed),
          load=load_simulate),
    Stage("pseudotime", run_pseudotime, ("simulate", "data"),
          lambda c: (c.cfg.seed, needs_pseudotime(c), c.cfg.sources, c.cfg.real_cells, c.cfg.n_replicates,
                     c.cfg.real_fraction)),
    Stage("infer", run_infer_stage, ("simulate", "pseudotime"),
          lambda c: (c.cfg.methods, c.cfg.method_preset, c.cfg.method_params, c.cfg.give_tfs, c.cfg.executor,
                     c.cfg.seed, c.input_transform, c.cfg.protocol_deviations)),
    Stage("score", run_score, ("infer",),
          lambda c: (c.cfg.k_max, c.cfg.knockout_tfs, c.cfg.knockout_cells, c.cfg.seed, c.cfg.realism_rf_trees,
                     c.cfg.realism_max_cells, c.cfg.n_boot, c.cfg.rf_auroc_max, 4)),
    Stage("report", run_report, ("score",), lambda c: (code_version(),)),
]
