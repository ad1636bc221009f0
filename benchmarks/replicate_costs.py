"""CPU cost of one replicate dataset: every default method at a few cell counts, to size ``n_replicates`` x ``n_cells``.

Usage: BENCH_DATA_DIR=../shared/data python benchmarks/replicate_costs.py [--cells 500,1000] [--methods ...]

Data as ``bench run --preset default`` hands it to the methods: bonemarrow prepared at 300 genes, a seeded
subsample of the training cells, log1p input, the TF list given to methods that accept one, the methods' ``fast``
presets, diffusion pseudotime for the methods that need it. Each method runs in this process; CPU time counts this
process and its finished children (``resource.getrusage``), so it is meaningful on a loaded machine, where wall
time is not. Prints per method and cell count the CPU and wall seconds, and the infer-stage estimate of a run:
CPU per replicate x replicates x sources / cores (methods run one per core at the same time).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

DEFAULT = "genie3,grnboost2,ppcor,pidc,leap,scode,sincerities,cespgrn,random,pearson"


def cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="500,1000")
    ap.add_argument("--methods", default=DEFAULT)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--sources", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()

    from datasets import dataset_tfs, get_split, prepare_dataset
    from methods.base import get_method
    from methods.pseudotime import compute_pseudotime

    try:
        from methods.inputs import prepare_input

        def method_input(a):
            return prepare_input(a, "log1p")
    except ImportError:  # before the methods.inputs module
        from bench.pipeline import method_input

    adata = prepare_dataset("bonemarrow", n_genes=300, seed=0)
    train = get_split(adata, "train")
    tfs = dataset_tfs(adata)
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    sizes = [int(c) for c in args.cells.split(",")]
    table: dict[tuple[str, int], tuple[float, float]] = {}
    print(f"bonemarrow, 300 genes, {len(tfs)} TFs, train {train.n_obs} cells; methods' fast presets", flush=True)
    for n in sizes:
        keep = np.sort(np.random.default_rng(0).choice(train.n_obs, min(n, train.n_obs), replace=False))
        cells = train[keep].copy()
        x = method_input(cells)
        c0, t0 = cpu(), time.perf_counter()
        pt = compute_pseudotime(cells, seed=0, cache=False).to_numpy(float)
        table[("pseudotime", n)] = (cpu() - c0, time.perf_counter() - t0)
        print(f"  {n:5d} cells  {'pseudotime':<12} CPU {table[('pseudotime', n)][0]:7.1f} s  "
              f"wall {table[('pseudotime', n)][1]:7.1f} s", flush=True)
        for name in names:
            m = get_method(name)
            params = m.params("fast" if "fast" in m.info.presets else None)
            c0, t0 = cpu(), time.perf_counter()
            try:
                m.infer(x, pseudotime=pt if m.info.pseudotime != "none" else None,
                        tfs=[g for g in tfs if g in set(x.var_names)] if m.info.accepts_tfs else None, seed=0,
                        **params)
                status = ""
            except Exception as exc:
                status = f"  FAILED {type(exc).__name__}: {exc}"
            table[(name, n)] = (cpu() - c0, time.perf_counter() - t0)
            print(f"  {n:5d} cells  {name:<12} CPU {table[(name, n)][0]:7.1f} s  wall {table[(name, n)][1]:7.1f} s"
                  f"{status}", flush=True)
    print(f"\ninfer + pseudotime stage estimate for {args.replicates} replicates x {args.sources} sources on "
          f"{args.cores} cores (sum of CPU / cores):")
    for n in sizes:
        per_rep = sum(v[0] for (k, c), v in table.items() if c == n)
        est = per_rep * args.replicates * args.sources / args.cores
        print(f"  {n:5d} cells per replicate: {per_rep:7.1f} CPU s per dataset -> {est / 60:5.1f} min")


if __name__ == "__main__":
    main()
