"""``bench run --plan``: every stage and method run of a run with an estimated time, before computing anything.

Estimates come from measured per-unit costs (:data:`COSTS`: seconds per random-forest tree, per boosting round,
per GAN step, per method at a reference size, ...) scaled to the run's sizes (cells, genes, regulators, trees,
steps) by each algorithm's complexity, then scheduled on the workers:

- **local** (no ``--scheduler``): ``n_workers`` method runs at a time, each whole on one worker; the reference GRN
  uses every core.
- **cluster** (``--scheduler``, or ``n_workers`` given for a cluster that does not exist yet): GENIE3, GRNBoost2, the
  reference GRN and CeSpGRN (without warm starts) are split into their Dask tasks, so they spread over every worker;
  GAN training goes to a GPU worker when there is one.

Method runs and tasks are placed by longest-processing-time-first list scheduling (what Dask's queue does, roughly).
The per-unit costs were measured on the 2-core development machine (one core per task); a faster or slower CPU
scales every number by the same factor. On a finished run directory, :func:`actual_from_run` reads the measured
stage and method times, and :func:`format_plan` prints the estimate next to them with their ratio.
"""

from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.plan_costs import COSTS  # the measured per-unit costs (re-exported)

TREE_METHODS = ("genie3", "grnboost2")


@dataclass
class Sizes:
    """What the estimate scales with; from the run directory when it has them, else from the dataset's size."""

    cells: int = 2660
    train: int = 1960
    test: int = 500
    genes: int = 1000
    tfs: int = 100
    grn_genes: int | None = None  # genes the methods see (those of the imposed GRN); default: genes
    source: str = "dataset sizes (not yet prepared)"


DATASET_SIZES = {"bonemarrow": (2660, 200, 500), "pbmc68k-reduced": (700, 50, 100)}
TF_FRACTION = 0.1  # share of TFs among highly variable genes when the data is not prepared yet (bonemarrow: ~8-10 %)


@dataclass
class Item:
    stage: str
    name: str
    work_s: float  # single-core seconds
    tasks: list[float] = field(default_factory=list)  # when split into Dask tasks: each task's seconds
    where: str = "cpu"
    note: str = ""


@dataclass
class Plan:
    items: list[Item]
    stages: dict[str, float]
    total_s: float
    n_workers: int
    mode: str  # local | cluster
    device: str
    notes: list[str]


def rf_tree_units(cells: int, regulators: int, max_features) -> float:
    return cells * math.log2(max(cells, 2)) * _n_features(regulators, max_features)


def gbm_round_units(cells: int, regulators: int, max_features, subsample: float) -> float:
    return subsample * cells * math.log2(max(cells, 2)) * _n_features(regulators, max_features)


def _n_features(regulators: int, max_features) -> float:
    if max_features in (None, "auto", 1.0):
        return float(regulators)
    if max_features == "sqrt":
        return max(1.0, math.sqrt(regulators))
    if max_features == "log2":
        return max(1.0, math.log2(max(regulators, 2)))
    if isinstance(max_features, float):
        return max(1.0, max_features * regulators)
    return float(min(int(max_features), regulators))


def tree_target_s(kind: str, params: dict, cells: int, regulators: int, costs: dict) -> float:
    """Seconds to fit one target of GENIE3 / GRNBoost2 with ``params`` (one core)."""
    if kind == "genie3":
        return int(params.get("n_estimators", 1000)) * costs["rf_unit_s"] * \
            rf_tree_units(cells, regulators, params.get("max_features", "sqrt"))
    lr = float(params.get("learning_rate", 0.01))
    known = costs["gbm_rounds"]
    # rounds until early stopping scale about inversely with the learning rate
    ref_lr = min(known, key=lambda k: abs(math.log(k) - math.log(lr)))
    rounds = known[ref_lr] * ref_lr / lr
    if not params.get("early_stop_window", 25):
        rounds = float(params.get("n_estimators", 5000))
    rounds = min(rounds, float(params.get("n_estimators", 5000)))
    return rounds * costs["gbm_unit_s"] * gbm_round_units(cells, regulators, params.get("max_features", 0.1),
                                                          float(params.get("subsample", 0.9)))


def method_run_s(name: str, preset: str | None, params: dict, cells: int, genes: int, tfs: int | None,
                 costs: dict) -> float:
    """Single-core seconds of one method run (without the child's start-up)."""
    key = name.lower()
    if key in TREE_METHODS:
        regs = tfs if tfs else genes - 1
        return genes * tree_target_s(key, params, cells, regs, costs)
    table = costs["methods"].get(key)
    if table is None:
        return 60.0  # a plug-in method: unknown cost
    t0, c0, g0, a, b = table.get(preset or "", table["*"])
    if key == "leap":  # lags = max_lag x cells, each costs cells x genes^2
        a = 2.0
    return t0 * (cells / c0) ** a * (genes / g0) ** b


def splittable(name: str, params: dict) -> bool:
    return name.lower() in TREE_METHODS or (name.lower() == "cespgrn" and not params.get("warm_start"))


def _lpt(durations: list[float], workers: int) -> float:
    """Makespan of longest-processing-time-first list scheduling on ``workers`` identical workers."""
    if not durations:
        return 0.0
    loads = [0.0] * max(1, workers)
    heapq.heapify(loads)
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)


def sizes_for(cfg, run_dir: str | Path | None = None) -> Sizes:
    """Sizes from a run directory's finished stages when present, else from the dataset's known size."""
    total, val, test = DATASET_SIZES.get(cfg.dataset, (2660, 200, 500))
    genes = int(cfg.n_genes or 1000)
    s = Sizes(cells=total, train=total - val - test, test=test, genes=genes, tfs=int(round(TF_FRACTION * genes)))
    if run_dir is not None:
        meta = Path(run_dir) / "data" / "_stage.json"
        if meta.exists():
            info = json.loads(meta.read_text()).get("info", {})
            s.cells, s.genes = int(info.get("cells", s.cells)), int(info.get("genes", s.genes))
            s.train, s.test = int(info.get("n_train", s.train)), int(info.get("n_test", s.test))
            s.tfs = int(info.get("tfs", s.tfs))
            s.source = f"{run_dir} (data stage)"
        grn = Path(run_dir) / "grn" / "pos-control.parquet"
        if grn.exists():
            import pandas as pd

            g = pd.read_parquet(grn, columns=["regulator", "target"])
            s.grn_genes = len(set(g["regulator"]) | set(g["target"]))
    return s


def estimate_run(cfg, *, n_workers: int | None = None, cluster: bool | None = None, device: str | None = None,
                 gpu_workers: int = 0, costs: dict | None = None, sizes: Sizes | None = None,
                 run_dir: str | Path | None = None, n_cells: int | None = None) -> Plan:
    """Estimate every stage and method run of ``cfg`` (a resolved :class:`~bench.config.RunConfig`).

    Parameters
    ----------
    n_workers
        Workers (one core each). Default: ``cfg.n_workers`` or ``settings.n_jobs``.
    cluster
        Whether methods split into Dask tasks over the workers (default: ``cfg.scheduler`` is set).
    device
        Where the GAN trains: ``cpu`` or ``cuda`` (default: a GPU worker or a local GPU, else the CPU).
    gpu_workers
        Workers that declare a ``GPU`` resource (the GAN goes there).
    costs
        Overrides of :data:`COSTS` (e.g. freshly measured).
    run_dir
        A run directory whose finished stages give the real sizes.
    n_cells
        Training cells, overriding the dataset's known size (e.g. a benchmark's subsample).
    """
    from bench.settings import settings
    from methods.base import get_method

    costs = {**COSTS, **(costs or {})}
    cluster = bool(cfg.scheduler) if cluster is None else cluster
    W = max(1, int(n_workers or cfg.n_workers or settings.n_jobs))
    sz = sizes or sizes_for(cfg, run_dir)
    if n_cells:
        sz.train = int(n_cells)
    if device is None:
        device = "cuda" if (gpu_workers or cfg.device == "cuda" or (cfg.device == "auto" and _local_gpu())) else "cpu"
    notes = [f"sizes from {sz.source}: {sz.train} training cells, {sz.genes} genes, {sz.tfs} TFs",
             f"{W} worker(s), {'methods split into Dask tasks' if cluster else 'one method run per worker'}"]
    items: list[Item] = []
    stages: dict[str, float] = {}

    stages["data"] = costs["data_s"]
    items.append(Item("data", "prepare", costs["data_s"]))

    # Reference GRN: GRNBoost2 with the TFs as regulators, every gene a target, on the training cells.
    from methods.native.trees import GRNBOOST2_DEFAULTS

    gp = {**GRNBOOST2_DEFAULTS, **(cfg.grn_params or {})}
    per_target = tree_target_s("grnboost2", gp, sz.train, max(1, sz.tfs), costs)
    grn_tasks = [per_target] * sz.genes
    stages["grn"] = _lpt(grn_tasks, W if cluster else settings.n_jobs)
    items.append(Item("grn", "reference GRNBoost2", per_target * sz.genes, grn_tasks,
                      note=f"{sz.genes} targets x {per_target:.2f} s"))

    # GAN training.
    from simulators import get_preset

    sp = dict(get_preset(cfg.simulator_preset))
    sp.update(cfg.simulator_overrides or {})
    name = cfg.simulator_preset if cfg.simulator_preset in costs["gan_step_s"] else "default"
    s1, s2, g_ref = costs["gan_step_s"][name]
    scale = sz.genes / g_ref
    steps1 = int(sp.get("cc_steps", 0))
    steps2 = int(sp.get("steps", 0)) + (int(sp.get("tg_warmup_steps", 0)) if sp.get("tg_init") == "distill" else 0)
    if device == "cuda":
        s1 = max(costs["gpu_min_step_s"], s1 / costs["gpu_speedup"])
        s2 = max(costs["gpu_min_step_s"], s2 / costs["gpu_speedup"])
        notes.append(f"GAN on a GPU: step times ASSUMED {costs['gpu_speedup']:g}x faster than the measured CPU ones "
                     f"(no GPU measured)")
    gan = costs["gan_fixed_s"] + scale * (steps1 * s1 + steps2 * s2)
    stages["groundgan"] = gan
    items.append(Item("groundgan", f"GRouNdGAN {steps1} + {steps2} steps", gan, where=device,
                      note=f"{scale * s1:.3g} s / {scale * s2:.3g} s per stage-1 / stage-2 step"))
    if "scgan" in cfg.sources:
        # reused from GRouNdGAN's controller when every gene is kept (the usual case)
        stages["scgan"] = 1.0
        items.append(Item("scgan", "scGAN = GRouNdGAN's controller (not retrained)", 1.0))
    stages["simulate"] = costs["simulate_s"]
    items.append(Item("simulate", "generate", costs["simulate_s"]))

    from bench.pipeline.sources import run_sources

    sources = run_sources(cfg)  # every data source: replicates and measurement depths included
    methods = [get_method(m) for m in cfg.methods]
    need_pt = any(m.info.pseudotime != "none" for m in methods)
    stages["pseudotime"] = costs["pseudotime_s"] * len(sources) if need_pt else 0.0
    items.append(Item("pseudotime", f"{len(sources)} source(s)", stages["pseudotime"]))

    # Inference: every (source, method).
    from bench.pipeline.infer import method_preset
    from methods.params import resolve_params

    genes = sz.grn_genes or sz.genes
    sim_cells = int(cfg.n_cells or sz.train)
    durations: list[float] = []
    for src in sources:
        source, real = src.name, not src.simulated
        real_n = int(sz.train * (cfg.real_fraction if (cfg.n_replicates or 1) > 1 else 1.0))
        cells = min(real_n, cfg.real_cells) if (real and cfg.real_cells) else (real_n if real else sim_cells)
        for m in methods:
            preset = method_preset(cfg, m)
            params = resolve_params(m, preset, cfg.method_params.get(m.name))
            tfs = min(sz.tfs, genes - 1) if (cfg.give_tfs and m.info.accepts_tfs) else None
            work = method_run_s(m.name, preset, params, cells, genes, tfs, costs)
            start = costs["method_start_s"] + costs["method_extra_start_s"].get(m.name.lower(), 0.0)
            if cluster and splittable(m.name, params):
                n_tasks = genes if m.name.lower() in TREE_METHODS else max(1, math.ceil(cells / 512))
                per_task = work / n_tasks
                tasks = [per_task] * n_tasks
                durations.extend(tasks)
                items.append(Item("infer", f"{source}/{m.name}", work + start, tasks,
                                  note=f"preset {preset}; {n_tasks} tasks x {per_task:.2f} s"))
            else:
                if not cluster and m.name.lower() in TREE_METHODS:  # local processes: the method's share of cores
                    work /= max(1, settings.n_jobs // W)
                durations.append(work + start)
                items.append(Item("infer", f"{source}/{m.name}", work + start, note=f"preset {preset}"))
    stages["infer"] = _lpt(durations, W)

    rows = 2 * len(sources) * len(methods)
    score = rows * costs["score_row_s"] + \
        sum(1 for s in sources if s.simulated and s.replicate == 0) * int(cfg.realism_rf_trees or 1000) * \
        costs["realism_tree_s"] + \
        cfg.knockout_tfs * costs["knockout_tf_s"]
    stages["score"] = score
    items.append(Item("score", f"{rows} leaderboard rows, realism, {cfg.knockout_tfs} knockouts", score))
    stages["report"] = costs["report_s"]
    items.append(Item("report", "report.html", costs["report_s"]))
    return Plan(items, stages, sum(stages.values()), W, "cluster" if cluster else "local", device, notes)


def _local_gpu() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - torch missing or broken
        return False


def actual_from_run(run_dir: str | Path) -> dict[str, Any]:
    """Measured times of a finished (or partial) run: ``{"stages": {stage: s}, "methods": {source/method: wall s},
    "methods_cpu": {source/method: CPU s}}`` (stages restored from cache are left out)."""
    run_dir = Path(run_dir)
    out: dict[str, Any] = {"stages": {}, "methods": {}, "methods_cpu": {}}
    man = run_dir / "manifest.json"
    if man.exists():
        m = json.loads(man.read_text())
        for k, v in (m.get("stages") or {}).items():
            if isinstance(v, dict) and v.get("status") != "cached":
                out["stages"][k] = float(v.get("seconds", 0.0))
    for rec in sorted((run_dir / "infer").glob("*/*/record.json")):
        r = json.loads(rec.read_text())
        key = f"{rec.parent.parent.name}/{rec.parent.name}"
        wall, cpu = r.get("runtime_s", r.get("wall_s")), r.get("cpu_time_s", r.get("cpu_s"))  # older records: *_s
        if wall is not None:
            out["methods"][key] = float(wall)
        if cpu is not None:
            out["methods_cpu"][key] = float(cpu)
    return out


def _fmt(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 2 * 86400:
        return f"{s / 86400:.1f} d"
    if s >= 5400:
        return f"{s / 3600:.1f} h"
    if s >= 90:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def format_plan(plan: Plan, actual: dict | None = None) -> str:
    """The plan as text: per stage and per method run, with the measured time and estimate/actual when given."""
    act_st = (actual or {}).get("stages", {})
    act_m = (actual or {}).get("methods", {})
    act_c = (actual or {}).get("methods_cpu", {})
    lines = [f"run plan ({plan.mode}, {plan.n_workers} worker(s), GAN on {plan.device}):"]
    if actual:
        lines.append("  (actual: wall seconds as measured, so a loaded machine reads slower; cpu: the method's own CPU "
                     "seconds, which the load does not inflate)")
    lines += [f"  note: {n}" for n in plan.notes]
    head = f"  {'stage':<11}{'run':<34}{'estimate':>11}"
    if actual:
        head += f"{'actual':>11}{'est/act':>9}{'cpu':>11}{'est/cpu':>9}"
    lines.append(head)
    for st, sec in plan.stages.items():
        row = f"  {st:<11}{'(stage wall time)':<34}{_fmt(sec):>11}"
        if actual:
            a = act_st.get(st)
            row += f"{_fmt(a):>11}{_ratio(sec, a):>9}"
        lines.append(row)
        for it in plan.items:
            if it.stage != st or st != "infer":
                continue
            row = f"  {'':<11}{it.name:<34}{_fmt(it.work_s):>11}"
            if actual:
                a, c = act_m.get(it.name), act_c.get(it.name)
                row += f"{_fmt(a):>11}{_ratio(it.work_s, a):>9}{_fmt(c):>11}{_ratio(it.work_s, c):>9}"
            lines.append(row + (f"   {it.note}" if it.note else ""))
    total = f"  {'total':<45}{_fmt(plan.total_s):>11}"
    if actual and act_st:
        a = sum(act_st.values())
        total += f"{_fmt(a):>11}{_ratio(plan.total_s, a):>9}"
    lines.append(total)
    return "\n".join(lines)


def _median(values: list[float]) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


def _ratio(est: float | None, act: float | None) -> str:
    if not est or not act:
        return "-"
    return f"{est / act:.2f}"


def ratios(plan: Plan, actual: dict) -> dict[str, float]:
    """estimate / actual per stage (stages that ran), and for the total."""
    out = {k: plan.stages[k] / v for k, v in actual.get("stages", {}).items() if v and k in plan.stages}
    tot = sum(actual.get("stages", {}).values())
    if tot:
        out["total"] = plan.total_s / tot
    return out


def cluster_workers(scheduler: str) -> tuple[int, int]:
    """(worker threads, workers declaring a ``GPU`` resource) of a running cluster."""
    from methods.blocks import connect

    with connect(scheduler) as client:
        info = client.scheduler_info()
    workers = info.get("workers", {}).values()
    return (max(1, sum(int(w.get("nthreads", 1)) for w in workers)),
            sum(1 for w in workers if (w.get("resources") or {}).get("GPU", 0) >= 1))


def plan_command(cfg, run_dir: str | Path | None) -> str:
    """What ``bench run --plan`` prints: the plan of ``cfg``, and estimate vs actual when ``run_dir`` has run."""
    cfg = cfg.resolved()
    from bench.settings import settings

    gpu_workers, n_workers, cluster = 0, None, None
    if cfg.scheduler:
        n_workers, gpu_workers = cluster_workers(cfg.scheduler)
    elif cfg.n_workers and cfg.n_workers > settings.n_jobs:
        cluster = True  # more workers than this machine has cores: planning for a cluster
    has_run = run_dir is not None and (Path(run_dir) / "manifest.json").exists()
    plan = estimate_run(cfg, n_workers=n_workers, cluster=cluster, gpu_workers=gpu_workers,
                        run_dir=run_dir if has_run else None)
    actual = actual_from_run(run_dir) if has_run else None
    text = format_plan(plan, actual)
    if actual:
        r = ratios(plan, actual)
        text += "\n  estimate / actual: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items())
        est = {it.name: it.work_s for it in plan.items if it.stage == "infer"}
        both = [k for k in actual["methods_cpu"] if k in est and actual["methods_cpu"][k] > 0]
        if both:
            text += (f"\n  method runs, estimate / own CPU time: median "
                     f"{_median([est[k] / actual['methods_cpu'][k] for k in both]):.2f} over {len(both)} runs")
    return text


__all__ = ["COSTS", "Plan", "Sizes", "actual_from_run", "estimate_run", "format_plan", "plan_command", "ratios",
           "sizes_for"]
