"""Per-target Dask tasks for GENIE3 and GRNBoost2: 1 vs 2 workers here, scheduling overhead, projected wall times.

    nice -n 10 .venv/bin/python benchmarks/scale_trees.py [--genie3-targets 4] [--grnboost2-targets 16]
        [--trees 1000] [--cells 2230] [--genes 1000] [--overhead-tasks 200]

On the prepared bonemarrow data (2,230 cells x 1,000 HVGs, log1p as the methods see it) it times a SUBSET of
targets and EXTRAPOLATES (and says so):

1. GENIE3 with the paper's 1000 trees, every gene a candidate regulator: the same ``--genie3-targets`` targets as
   one-target Dask tasks on a local cluster of 1 worker, then of 2 workers (separate processes, 1 thread each);
   speedup = wall(1) / wall(2). The per-target cost is wall(1) / targets.
2. The same for GRNBoost2 without a TF list (BEELINE's setting), ``--grnboost2-targets`` targets.
3. Scheduling overhead per task: ``--overhead-tasks`` no-op tasks that read the scattered matrix, minus one such
   task (connect + scatter), divided by the number of tasks.
4. Projected wall time of all 1,000 targets on W workers:
   ``fixed + tasks x overhead + ceil(tasks / W) x targets_per_task x cost_per_target``, with the default blocks
   (about four tasks per worker).
5. The paper preset's projected total on 64 CPU workers + 1 GPU, from :mod:`bench.plan` with the per-target costs
   measured here. No GPU is lent on this machine: the GAN step time is the measured CPU step time at the paper
   configuration divided by an ASSUMED GPU speed-up (``--gpu-speedup``, printed).

Runs take a few minutes on an idle 2-core machine. Per-target costs are CPU seconds measured inside each task (what a
dedicated core takes, whatever the load); speedups are wall-clock ratios; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _data import load_expression  # noqa: E402


def _noop(shared, block):
    return [float(shared["X"][0, 0]) for _ in block]


def _timed_fit(shared, block):
    """The method's block function, plus the CPU seconds the block took (a dedicated core's time, whatever the
    machine's load)."""
    from methods.native.trees import _fit_block

    from distributed import get_worker

    t = time.thread_time()
    out = _fit_block(shared, block)
    return out, time.thread_time() - t, get_worker().address


def timed_tasks(fn, shared, items, n_workers: int) -> tuple[float, dict]:
    """Wall time of ``items`` as one-item Dask tasks on a fresh local cluster of ``n_workers`` processes."""
    from distributed import LocalCluster

    from methods.blocks import map_blocks

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        map_blocks(_noop, {"X": np.zeros((1, 1))}, [0], scheduler=cluster.scheduler_address)  # warm the workers
        stats = {}
        t = time.perf_counter()
        out = map_blocks(fn, shared, items, block_size=1, scheduler=cluster.scheduler_address, stats=stats)
        return time.perf_counter() - t, {"stats": stats, "out": out}


def overhead_per_task(shared, n_tasks: int) -> tuple[float, float, float]:
    """(fixed wall of one call: connect + scatter + 1 task, extra wall per task, scheduler + client CPU per task) on a
    2-worker cluster (its scheduler runs in this process)."""
    from distributed import LocalCluster

    from methods.blocks import map_blocks

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:
        addr = cluster.scheduler_address
        map_blocks(_noop, shared, [0], scheduler=addr)  # warm
        t = time.perf_counter()
        map_blocks(_noop, shared, [0], scheduler=addr, block_size=1)
        one = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        map_blocks(_noop, shared, list(range(n_tasks)), scheduler=addr, block_size=1)
        many, cpu = time.perf_counter() - t, time.process_time() - c
    return one, max(0.0, (many - one) / (n_tasks - 1)), cpu / n_tasks


def project(n_targets: int, cost: float, overhead: float, fixed: float, workers: int) -> float:
    from methods.blocks import default_block_size

    size = default_block_size(n_targets, workers)
    tasks = math.ceil(n_targets / size)
    return fixed + tasks * overhead + math.ceil(tasks / workers) * size * cost


def tree_case(name: str, kind: str, X, genes, n_sub: int, params: dict, overhead: float, fixed: float) -> dict:
    from methods.native import trees

    G = len(genes)
    tgt = [int(i) for i in np.linspace(0, G - 1, n_sub).round()]
    shared = trees.block_inputs(kind, X, np.arange(G), params)
    items = list(zip(tgt, trees.target_seeds(genes, tgt, 0, "per-target")))
    w1, r1 = timed_tasks(_timed_fit, shared, items, 1)
    w2, r2 = timed_tasks(_timed_fit, shared, items, 2)
    same = all(np.array_equal(a[0][0][2], b[0][0][2]) for a, b in zip(r1["out"], r2["out"]))
    cpu1 = [c for _, c, _ in r1["out"]]
    cpu2 = [c for _, c, _ in r2["out"]]
    per_worker = {}
    for _, c, w in r2["out"]:
        per_worker[w] = per_worker.get(w, 0.0) + c
    cost = float(np.mean(cpu1))  # CPU seconds per target: a dedicated core's wall time
    rounds = [n for block, _, _ in r1["out"] for _, _, _, n in block]
    print(f"\n{name}: {n_sub} of {G} targets (every gene a candidate regulator), {X.shape[0]} cells, "
          f"params {params}")
    print(f"  per target: {cost:.2f} CPU s (min {min(cpu1):.2f}, max {max(cpu1):.2f}); trees/rounds per target: "
          f"mean {np.mean(rounds):.0f}")
    print(f"  1 worker : {w1:7.1f} s wall, {sum(cpu1):7.1f} CPU s ({sum(cpu1) / w1:.0%} of a core)")
    print(f"  2 workers: {w2:7.1f} s wall, {sum(cpu2):7.1f} CPU s ({sum(cpu2) / w2 / 2:.0%} of two cores) -> "
          f"speedup {w1 / w2:.2f}x (goal >= 1.8x); identical importances: {same}")
    # On dedicated cores a worker's wall time is its tasks' CPU time: the busiest worker sets the makespan.
    print(f"  on dedicated cores (CPU time per worker; the wall speedup above is the machine's load): 2 workers "
          f"{sum(cpu1) / max(per_worker.values()):.2f}x faster than 1 ({len(per_worker)} workers got tasks: "
          + ", ".join(f"{v:.1f} CPU s" for v in per_worker.values()) + ")")
    proj = {w: project(G, cost, overhead, fixed, w) for w in (1, 2, 16, 64)}
    print("  projected wall for all targets on dedicated cores (EXTRAPOLATED from the subset's CPU time): "
          + ", ".join(f"{w} workers {_hms(s)}" for w, s in proj.items()))
    return {"cost_per_target_s": cost, "speedup_2": w1 / w2, "projected": proj, "mean_rounds": float(np.mean(rounds))}


def _hms(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 5400 else f"{s / 60:.1f} min" if s >= 90 else f"{s:.0f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=2230)
    ap.add_argument("--genes", type=int, default=1000)
    ap.add_argument("--trees", type=int, default=1000)
    ap.add_argument("--genie3-targets", type=int, default=4)
    ap.add_argument("--grnboost2-targets", type=int, default=16)
    ap.add_argument("--overhead-tasks", type=int, default=200)
    ap.add_argument("--gpu-speedup", type=float, default=None,
                    help="ASSUMED GPU/CPU speed-up of a GAN step at the paper configuration (no GPU here)")
    args = ap.parse_args()

    from methods.native.trees import GRNBOOST2_DEFAULTS

    Xraw, source = load_expression(args.cells, args.genes)
    X = np.log1p(np.asarray(Xraw, dtype=np.float64))  # float64 targets, as the methods (trees.block_inputs)
    genes = [f"g{i}" for i in range(X.shape[1])]
    print(f"data: {source}: {X.shape[0]} cells x {X.shape[1]} genes (log1p, as methods see it); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")

    fixed, overhead, sched_cpu = overhead_per_task({"X": X}, args.overhead_tasks)
    print(f"scheduling: connect + scatter + 1 task {fixed:.2f} s; per extra task {overhead * 1e3:.1f} ms wall, "
          f"{sched_cpu * 1e3:.1f} ms CPU of scheduler + client ({args.overhead_tasks} no-op tasks on 2 workers)")

    g3 = tree_case("GENIE3", "genie3", X, genes, args.genie3_targets,
                   {"n_estimators": args.trees, "max_features": "sqrt"}, overhead, fixed)
    gb = tree_case("GRNBoost2", "grnboost2", X, genes, args.grnboost2_targets,
                   {k: v for k, v in GRNBOOST2_DEFAULTS.items() if k != "seeding"}, overhead, fixed)

    from bench.config import RunConfig
    from bench.plan import estimate_run, format_plan

    costs = calibrate_trees(g3, gb, X.shape[0], X.shape[1], args.trees)
    from bench.plan import COSTS

    args.gpu_speedup = args.gpu_speedup or COSTS["gpu_speedup"]
    costs["gpu_speedup"] = args.gpu_speedup
    print("\nper-unit costs measured here (bench.plan.COSTS keeps the values measured for the plan): "
          + ", ".join(f"{k} {v if isinstance(v, dict) else f'{v:.3g}'}" for k, v in costs.items()))
    cfg = RunConfig(preset="paper").resolved()
    plan = estimate_run(cfg, n_workers=64, cluster=True, device="cuda", gpu_workers=1, costs=costs)
    print(f"\npaper preset on 64 CPU workers + 1 GPU (GAN step ASSUMED {args.gpu_speedup:g}x faster on the GPU than "
          f"the measured CPU step; no GPU here):")
    print(format_plan(plan))
    load = os.getloadavg()[0]
    print(f"\nload average at the end: {load:.1f} (shared 2-core machine: timings include contention)")


def calibrate_trees(g3: dict, gb: dict, cells: int, genes: int, trees: int) -> dict:
    from bench.plan import COSTS, gbm_round_units, rf_tree_units

    return {"rf_unit_s": g3["cost_per_target_s"] / trees / rf_tree_units(cells, genes - 1, "sqrt"),
            "gbm_unit_s": gb["cost_per_target_s"] / gb["mean_rounds"] / gbm_round_units(cells, genes - 1, 0.1, 0.9),
            "gbm_rounds": {**COSTS["gbm_rounds"], 0.01: gb["mean_rounds"]}}


if __name__ == "__main__":
    main()
