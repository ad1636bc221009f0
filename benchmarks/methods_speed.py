"""Wall time and peak memory of every inference method at bonemarrow size (2230 cells x 1000 genes).

Each method runs in its own process through :func:`methods.execution.run_isolated`, exactly as ``bench infer``
runs it, so the numbers include process start-up, data loading and the method's own parallelism
(``settings.n_jobs`` cores). Peak memory is the resident memory of the method's process tree (sum over its
processes, sampled every 50 ms, and the kernel's ``ru_maxrss``).

Data: the prepared bonemarrow dataset (top 1000 HVGs, library size 20,000, no log) cut to the first 2230 cells
(train, then validation, then test cells); pseudotime from :func:`methods.pseudotime.compute_pseudotime` (cached).
Without the real data file it falls back to synthetic counts of the same size (``--synthetic``), and says so.

Examples::

    python benchmarks/methods_speed.py                                 # all methods, BEELINE defaults
    python benchmarks/methods_speed.py --preset genie3=fast,cespgrn=fast --timeout 3600
    python benchmarks/methods_speed.py --methods ppcor,pidc,leap --cells 1000 --genes 200 --json out.json

GENIE3 with its BEELINE default (1000 trees per target) takes hours on 2 cores; its ``fast`` preset (100 trees)
is the usual choice here, and the preset is printed with every row. ``--tree-targets N`` times GENIE3/GRNBoost2 on
their first N target genes only and prints the linear extrapolation to all genes (``est_full_s``; it includes
process start-up and data loading once per N targets, so it slightly overestimates).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_data(n_cells: int, n_genes: int, synthetic: bool, seed: int = 0):
    import numpy as np

    if not synthetic:
        try:
            from datasets import prepare_dataset

            adata = prepare_dataset("bonemarrow", n_genes=n_genes, seed=seed)
            order = np.argsort(adata.obs["split"].map({"train": 0, "validation": 1, "test": 2}).to_numpy(),
                               kind="stable")
            sub = adata[order[:n_cells]].copy()
            return sub, f"bonemarrow (prepared, {n_genes} HVGs), first {sub.n_obs} cells"
        except Exception as exc:  # no data file: say so and use synthetic data of the same size
            print(f"# real data unavailable ({type(exc).__name__}: {exc}); using synthetic counts", file=sys.stderr)
    import anndata as ad

    rng = np.random.default_rng(seed)
    n_tfs = max(2, n_genes // 10)
    t = np.sort(rng.uniform(0, 1, n_cells))
    tf = 1 + 10 / (1 + np.exp(-(t[:, None] - rng.uniform(0.1, 0.9, n_tfs)) * 10))
    W = (rng.random((n_tfs, n_genes - n_tfs)) < 0.05) * rng.uniform(0.2, 1.0, (n_tfs, n_genes - n_tfs))
    counts = rng.poisson(np.concatenate([tf, 0.2 + tf @ W], axis=1)).astype(np.float32)
    X = counts / np.maximum(counts.sum(1, keepdims=True), 1) * 20000
    adata = ad.AnnData(X.astype(np.float32))
    adata.var_names = [f"g{i}" for i in range(n_genes)]
    adata.obs_names = [f"c{i}" for i in range(n_cells)]
    adata.obs["pseudotime"] = t
    return adata, f"synthetic Poisson counts, {n_cells} cells x {n_genes} genes"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="all", help="comma-separated names, or all")
    ap.add_argument("--preset", default="", help="PRESET for all methods that have it, or METHOD=PRESET,...")
    ap.add_argument("--cells", type=int, default=2230)
    ap.add_argument("--genes", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=4 * 3600, help="seconds per method")
    ap.add_argument("--memory-limit", type=float, default=None, help="GB per method")
    ap.add_argument("--synthetic", action="store_true", help="use synthetic counts instead of bonemarrow")
    ap.add_argument("--json", default=None, help="also write the records here")
    ap.add_argument("--tree-targets", type=int, default=0,
                    help="GENIE3/GRNBoost2: fit only the first N target genes (all genes still regulate) and "
                         "extrapolate the full time as wall_s x genes / N (for machines where a full run is hours)")
    args = ap.parse_args(argv)

    from bench.settings import settings
    from methods.base import all_methods, get_method
    from methods.execution import resolve_pseudotime, run_isolated

    names = list(all_methods()) if args.methods == "all" else [m.strip() for m in args.methods.split(",")]
    ms = [get_method(n) for n in names]
    presets: dict[str, str] = {}
    for item in filter(None, args.preset.split(",")):
        if "=" in item:
            k, v = item.split("=", 1)
            presets[k.strip().lower()] = v.strip()
        else:
            presets.update({m.name.lower(): item for m in ms if item in m.info.presets})

    adata, source = load_data(args.cells, args.genes, args.synthetic)
    t0 = time.perf_counter()
    pt = resolve_pseudotime(adata) if any(m.info.pseudotime != "none" for m in ms) else None
    pt_s = time.perf_counter() - t0
    print(f"# data: {source}: {adata.n_obs} cells x {adata.n_vars} genes")
    print(f"# machine: {os.cpu_count()} cores, methods use settings.n_jobs = {settings.n_jobs}")
    if pt is not None:
        print(f"# pseudotime (DPT, PAGA root; cached after the first run): {pt_s:.1f} s")
    header = (f"{'method':<12}{'preset':<10}{'status':<9}{'wall_s':>10}{'cpu_s':>10}{'peak_MB':>10}{'edges':>10}"
              f"{'est_full_s':>12}")
    print(header)
    print("-" * len(header))
    records = []
    for m in ms:
        preset = presets.get(m.name.lower())
        params, est = {}, ""
        subset = args.tree_targets and m.name.lower() in ("genie3", "grnboost2")
        if subset:  # trees.genie3/grnboost2 take ``targets``: fit a few targets, extrapolate linearly
            params["targets"] = list(map(str, adata.var_names[:args.tree_targets]))
        run = run_isolated(m, adata, pseudotime=pt if m.info.pseudotime != "none" else None, preset=preset,
                           params=params, timeout=args.timeout, n_jobs=settings.n_jobs,
                           memory_limit=None if args.memory_limit is None else args.memory_limit * 2**30)
        r = run.record
        if subset:
            r.parameters["targets"] = f"first {args.tree_targets} of {adata.n_vars} genes"
            if run.ok:
                est = f"{r.runtime_s * adata.n_vars / args.tree_targets:.0f}"
        records.append(r.as_dict())
        print(f"{m.name:<12}{preset or 'default':<10}{r.status:<9}{r.runtime_s or 0:>10.1f}{r.cpu_time_s or 0:>10.1f}"
              f"{r.peak_memory_mb or 0:>10.0f}{r.n_edges_predicted:>10}{est:>12}", flush=True)
        if not run.ok:
            print(f"#   {m.name}: {r.error}", flush=True)
    if args.json:
        from bench import io as bio

        bio.write_json(args.json, {"data": source, "shape": list(adata.shape), "records": records})
    return 0


if __name__ == "__main__":
    sys.exit(main())
