"""Wall time and peak memory of the reference-GRN step: GRNBoost2 on the bonemarrow training split.

Usage: BENCH_DATA_DIR=../shared/data python benchmarks/grnboost2_bonemarrow.py [--n-jobs 2]
Goal: under 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import psutil


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from bench import settings
    from datasets import dataset_tfs, get_split, prepare_dataset

    settings.cache_dir = tempfile.mkdtemp(prefix="grnb-bench-")  # no cached result
    adata = prepare_dataset("bonemarrow", seed=args.seed)
    train = get_split(adata, "train")
    tfs = dataset_tfs(adata)
    proc = psutil.Process()
    t0, c0 = time.perf_counter(), time.process_time()
    from methods.native.trees import grnboost2

    edges, info = grnboost2(train.X, list(train.var_names), tfs, seed=args.seed, n_jobs=args.n_jobs, return_info=True)
    wall = time.perf_counter() - t0
    # Peak RSS of this process and of the (finished) worker processes.
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"GRNBoost2 on bonemarrow train: {train.n_obs} cells x {train.n_vars} genes, {len(tfs)} TFs, "
          f"n_jobs={args.n_jobs}")
    print(f"wall time            {wall:8.1f} s")
    print(f"main-process CPU     {time.process_time() - c0:8.1f} s")
    print(f"peak RSS main        {self_peak:8.0f} MB")
    print(f"peak RSS worker      {child_peak:8.0f} MB (largest single worker; loky workers may still be alive)")
    print(f"current RSS          {proc.memory_info().rss / 2**20:8.0f} MB")
    print(f"edges                {len(edges):8d}")
    q = info["n_estimators"].quantile([0, 0.5, 1]).tolist()
    print(f"boosting rounds      min {q[0]:.0f}, median {q[1]:.0f}, max {q[2]:.0f} (arboreto+sklearn>=1.3: ~25)")


if __name__ == "__main__":
    main()
