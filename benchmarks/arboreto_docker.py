"""Native vs docker (the local arboreto image): wall time, CPU time and agreement of GRNBoost2 and GENIE3.

Usage: BENCH_DATA_DIR=../shared/data python benchmarks/arboreto_docker.py [--targets 20] [--methods grnboost2,genie3]

Input: bonemarrow as the default preset hands it to methods (300 HVGs, training split, log1p of the library-size
normalised expression, float32) with the TF list. With a TF list every target's regressors are the TFs, so a run
on the TFs plus ``--targets`` sampled other genes does, per target, exactly the work (and gives exactly the edges)
of the full run: the full-run time is extrapolated as time per target x all targets, after subtracting the fixed
start-up cost (container start and imports for docker, process start for native). ``--targets 0`` runs all.
Needs a docker daemon and the image of ``.ci/build-arboreto-image.sh``.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy.stats import spearmanr


def bonemarrow_default_input(seed: int = 0):
    from datasets import dataset_tfs, get_split, prepare_dataset
    from methods.inputs import prepare_input

    adata = prepare_dataset("bonemarrow", n_genes=300, seed=seed)
    train = prepare_input(get_split(adata, "train"))  # log1p, float32: what every method gets
    tfs = [t for t in dataset_tfs(adata) if t in set(train.var_names)]
    return train, tfs


def agreement(a: pd.DataFrame, b: pd.DataFrame, top: int = 20) -> dict:
    """Spearman on the union of edges (a missing edge weighs 0) and how the two top-``top`` lists compare."""
    wa = a.set_index(["regulator", "target"])["weight"]
    wb = b.set_index(["regulator", "target"])["weight"]
    union = wa.index.union(wb.index)
    rho = spearmanr(wa.reindex(union, fill_value=0).to_numpy(), wb.reindex(union, fill_value=0).to_numpy()).statistic
    ta, tb = list(zip(a.regulator[:top], a.target[:top])), list(zip(b.regulator[:top], b.target[:top]))
    swaps = [(i + 1, ta[i], tb[i], float(wa[ta[i]]), float(wa[tb[i]]) if tb[i] in wa.index else float("nan"))
             for i in range(min(len(ta), len(tb))) if ta[i] != tb[i]]
    return {"rho": float(rho), "union": len(union), "same_order": ta == tb, "same_set": set(ta) == set(tb),
            "differing_ranks": swaps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--targets", type=int, default=20, help="non-TF targets sampled (0 = every gene)")
    ap.add_argument("--methods", default="grnboost2,genie3")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args()

    from methods.base import get_method
    from methods.beeline import run_docker
    from methods.execution import run_isolated

    full, tfs = bonemarrow_default_input(args.seed)
    others = [g for g in full.var_names if g not in set(tfs)]
    if args.targets:
        pick = set(np.random.default_rng(args.seed).choice(others, args.targets, replace=False))
        adata = full[:, [g for g in full.var_names if g in set(tfs) or g in pick]].copy()
    else:
        adata = full
    print(f"input: bonemarrow train {full.n_obs} cells x {full.n_vars} genes (log1p, float32), {len(tfs)} TFs; "
          f"run on {adata.n_vars} targets ({len(tfs)} TFs + {adata.n_vars - len(tfs)} others)")
    for name in args.methods.split(","):
        method = get_method(name)
        d = run_docker(name, adata, tfs=tfs, seed=args.seed, timeout=6 * 3600)
        n = run_isolated(method, adata, tfs=tfs, seed=args.seed, n_jobs=args.n_jobs, timeout=6 * 3600,
                         input_transform="none")  # already transformed, as run_docker gets it
        if not (d.ok and n.ok):
            print(name, "docker:", d.status, d.record.get("error"), "native:", n.status, n.record.get("error"))
            continue
        # Fixed costs: docker = everything but arboreto's own time (the image reports it); native = a run of one
        # target with one tree (process start, input file, imports).
        one = adata[:, tfs[:2]].copy()
        tiny = run_isolated(method, one, tfs=tfs[:2], seed=args.seed, n_jobs=args.n_jobs, params={"n_estimators": 1},
                            input_transform="none")
        fixed = {"docker": d.record.runtime_s - d.record["image_runtime_s"], "native": tiny.record.runtime_s}
        agree = agreement(d.edges, n.edges)
        scale = full.n_vars / adata.n_vars
        print(f"{name}: edges docker {len(d.edges)}, native {len(n.edges)}, union {agree['union']}; "
              f"Spearman {agree['rho']:.6f}; top-20 same order: {agree['same_order']}, same set: {agree['same_set']}")
        for rank, e_docker, e_native, w_docker, w_native in agree["differing_ranks"]:
            # the docker weights of both edges: a swap of near-equal weights is a tie broken differently
            print(f"  rank {rank}: docker {e_docker} ({w_docker:.6g}), native {e_native} (docker weight {w_native:.6g})")
        for path, r in (("docker", d.record), ("native", n.record)):
            est = fixed[path] + (r.runtime_s - fixed[path]) * scale
            print(f"  {path:<6} wall {r.runtime_s:8.1f} s (fixed {fixed[path]:5.1f} s)  cpu {r.cpu_time_s or 0:8.1f} s  "
                  f"peak {r.peak_memory_mb or 0:6.0f} MB  -> all {full.n_vars} targets ~{est:7.0f} s wall")
        print(f"  image {d.record.image} {d.record.image_id} build {d.record['image_build']}")


if __name__ == "__main__":
    main()
