"""Wall time and peak memory of the pseudotime step, SCODE and SINCERITIES at BoneMarrow size.

Synthetic data (2,230 cells x 1,000 genes by default): TF pulses along a true time drive their targets with a lag;
counts are Poisson and library-size normalised like grn-bench's ``X``. Each step runs in its own process so that
its peak RSS is its own. Prints one line per step plus the average precision of the planted edges vs. their
density (a sanity check that the run did something).

    .venv/bin/python benchmarks/pseudotime_methods_speed.py [--cells 2230] [--genes 1000] [--n-iter 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time

import numpy as np


def make_data(n_cells: int, n_genes: int, seed: int = 0):
    import anndata as ad

    rng = np.random.default_rng(seed)
    n_tfs = max(2, n_genes // 20)
    n_ramps = max(2, n_genes // 10)  # monotone "maturation" genes make the time course a curve, not a loop
    n_targets = n_genes - n_tfs - n_ramps
    tau = rng.uniform(0, 1, n_cells)
    centres = rng.uniform(0.1, 0.8, n_tfs)
    width, lag = 0.07, 0.04
    tf = np.exp(-((tau[:, None] - centres) ** 2) / (2 * width**2))
    parent = rng.integers(n_tfs, size=n_targets)
    tg = np.exp(-((tau[:, None] - centres[parent] - lag) ** 2) / (2 * width**2))
    up = np.arange(n_ramps) % 2 == 0
    ramps = np.where(up, tau[:, None], 1 - tau[:, None]) ** rng.uniform(1, 3, n_ramps)
    counts = rng.poisson(np.hstack([0.3 + 6 * tf, 0.3 + 6 * tg, 0.3 + 6 * ramps])).astype(np.float32)
    x = counts / np.maximum(counts.sum(1, keepdims=True), 1) * 20000
    genes = ([f"TF{i}" for i in range(n_tfs)] + [f"G{j}" for j in range(n_targets)]
             + [f"R{k}" for k in range(n_ramps)])
    a = ad.AnnData(x.astype(np.float32))
    a.var_names = genes
    a.obs_names = [f"c{i}" for i in range(n_cells)]
    a.layers["counts"] = counts
    truth = {(f"TF{p}", f"G{j}") for j, p in enumerate(parent)}
    return a, tau, truth


def _ap(edges, truth):
    from sklearn.metrics import average_precision_score

    y = np.array([(r, t) in truth for r, t in zip(edges["regulator"], edges["target"])])
    return average_precision_score(y, edges["weight"]), y.mean()


def _run(step: str, n_cells: int, n_genes: int, n_iter: int, queue) -> None:
    from scipy.stats import spearmanr

    from bench import settings

    a, tau, truth = make_data(n_cells, n_genes)
    settings.cache_dir = "/tmp/grn-bench-speed-cache"
    t0 = time.perf_counter()
    extra = ""
    if step == "pseudotime":
        from methods.pseudotime import compute_pseudotime

        pt = compute_pseudotime(a, root="c%d" % int(np.argmin(tau)), cache=False)
        extra = f"spearman vs true time {spearmanr(pt, tau, nan_policy='omit').statistic:.3f}"
    else:
        pt = tau  # the true time, so the method's own cost is measured
        if step.startswith("scode"):
            from methods.native import scode

            orientation = "scode"  # planted edges are TF -> target in the model's sense
            e = scode.infer(a, pseudotime=pt, n_iter=n_iter, orientation=orientation,
                            optimizer="fixed-d481cd8" if step == "scode-fixed" else "beeline-a0512f8")
        else:
            from methods.native import sincerities

            e = sincerities.infer(a, pseudotime=pt)
        ap, dens = _ap(e, truth)
        extra = f"AP {ap:.4f} vs density {dens:.4f}"
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(f"{step:12s} {n_cells} x {n_genes}: {wall:8.1f} s wall, peak RSS {peak:7.0f} MiB  {extra}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cells", type=int, default=2230)
    p.add_argument("--genes", type=int, default=1000)
    p.add_argument("--n-iter", type=int, default=1000, help="SCODE iterations per replicate (BEELINE: 1000)")
    p.add_argument("--steps", default="pseudotime,scode,scode-fixed,sincerities")
    args = p.parse_args()
    ctx = mp.get_context("spawn")
    for step in args.steps.split(","):
        q = ctx.Queue()
        proc = ctx.Process(target=_run, args=(step, args.cells, args.genes, args.n_iter, q))
        proc.start()
        proc.join()
        print(q.get() if proc.exitcode == 0 else f"{step}: failed (exit {proc.exitcode})", flush=True)


if __name__ == "__main__":
    main()
