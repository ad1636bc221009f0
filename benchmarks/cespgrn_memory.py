"""CeSpGRN wall time and peak memory at bonemarrow size (2,230 cells x 1,000 genes).

    .venv/bin/python benchmarks/cespgrn_memory.py [--preset fast|paper] [--full]
        [--cells 2230] [--genes 1000] [--sample-sources 8] [--sample-targets 2]

By default it runs every stage on the real problem size but only a sample of the per-cell work, then
EXTRAPOLATES (and says so): the kernel is computed in full; for ``--sample-targets`` target cells (the first ones
the method visits), ``S_t`` is smoothed over the ``--sample-sources`` sources with the largest kernel weight
(renormalised; the output says what share of the weight that is), which times the per-cell Kendall covariances
(PSD repair included) and the smoothing; ADMM is run on those targets (warm-started in sequence when the preset
does). Costs are scaled to the numbers of sources and targets. Peak memory is the
process's measured peak RSS during this run; the buffers are the full-size ones, so it is the real peak, not an
extrapolation. ``--full`` runs ``cespgrn_consensus`` end to end instead (hours on a 2-core machine).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from _data import load_expression  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast", choices=["fast", "paper"])
    ap.add_argument("--cells", type=int, default=2230)
    ap.add_argument("--genes", type=int, default=1000)
    ap.add_argument("--sample-sources", type=int, default=24)
    ap.add_argument("--sample-targets", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/LAPACK threads (1 was fastest on a busy machine)")
    ap.add_argument("--full", action="store_true", help="run the whole method (no extrapolation)")
    args = ap.parse_args()

    from methods.native import cespgrn as ce

    p = ce.METHOD.params(args.preset)
    X, source = load_expression(args.cells, args.genes)
    C, G = X.shape
    changed = ", ".join(f"{k}={v}" for k, v in p.items() if v != ce.DEFAULTS[k])
    print(f"data: {source}: {C} cells x {G} genes; preset {args.preset!r}: {changed or 'CeSpGRN defaults'}")
    print(f"peak RSS after loading: {peak_rss_gb():.2f} GB")
    if args.full:
        t = time.perf_counter()
        _, stats = ce.cespgrn_consensus(X, seed=0, n_jobs=args.threads, **p)
        print(f"FULL RUN: wall {time.perf_counter() - t:.0f} s, peak RSS {peak_rss_gb():.2f} GB, "
              f"ADMM iterations per batch: mean {np.mean(stats['admm_iterations']):.0f}")
        return

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads, user_api="blas")
    t0 = time.perf_counter()
    Xn = ce.log_normalize(X)
    X_pca = ce.pca(Xn, p["n_pcs"], 0)
    K, Kt = ce.kernels(X_pca, k=p["k"], bandwidth=p["bandwidth"], n_neigh=p["n_neigh"])
    if p["anchors"]:
        targets, _ = ce.landmarks(X_pca, K, int(p["anchors"]), 0)
    else:
        targets = np.arange(C)
    sources = ce.landmarks(X_pca, K, int(p["sources"]), 1)[0] if p["sources"] else np.arange(C)
    t_kernel = time.perf_counter() - t0
    print(f"kernel + landmarks (full): {t_kernel:.1f} s; {len(sources)} source cells, {len(targets)} target cells")

    if p["warm_start"]:
        targets, _ = ce._path_order(X_pca, targets)  # the order the method visits them in
    # Kernel weights of each target over the sources (CeSpGRN smooths over every source cell).
    if p["sources"]:
        _, owner = ce.landmarks(X_pca, K, int(p["sources"]), 1)
        Ksrc = np.zeros((C, len(sources)))
        np.add.at(Ksrc.T, owner, K.T)
    else:
        Ksrc = K
    Xn32 = Xn.astype(np.float32)
    chunk = min(len(targets), max(1, int(p["memory_gb"] * 2**30 // (2 * 4 * G * G))))
    S = np.zeros((chunk, G * G), dtype=np.float32)  # the real, full-size chunk buffer
    S[:] = 0.0  # touch it, so that it counts in the RSS
    # For the sampled targets, S_t from the sources carrying the largest kernel weight (renormalised).
    t_cov = 0.0
    n_cov = 0
    rows = np.zeros((args.sample_targets, G * G), dtype=np.float32)
    for r in range(args.sample_targets):
        w = Ksrc[targets[r]]
        top = np.argsort(-w)[: args.sample_sources]
        t = time.perf_counter()
        covs = ce._cell_covariances(Xn32, Kt, sources[top]).reshape(len(top), G * G)
        t_cov += time.perf_counter() - t
        rows[r] = (w[top] / w[top].sum()).astype(np.float32) @ covs
        n_cov += len(top)
        print(f"  target {r}: smoothing over its top {len(top)} sources = {w[top].sum():.0%} of its kernel weight")
    t_cov /= n_cov
    # the smoothing step as the method runs it: a batch of sources into the whole chunk buffer
    t = time.perf_counter()
    S += Ksrc[targets[:chunk]][:, top].astype(np.float32) @ covs
    t_acc = (time.perf_counter() - t) / len(top)
    S[: args.sample_targets] = rows
    n_passes = -(-len(targets) // chunk)
    print(f"per source cell: covariance {t_cov:.2f} s, smoothing into {chunk} targets {t_acc:.3f} s "
          f"(x {len(sources)} sources x {n_passes} chunk pass(es), EXTRAPOLATED)")

    if not p["warm_start"]:
        # the method's ADMM runs batches of cells: hold (and touch) that many work arrays, for the peak RSS
        per_cell = 4 * G * G
        admm_batch = max(1, min(int(p["batchsize"]), int(p["memory_gb"] * 2**30 / 4 // (8 * per_cell))))
        work = np.ones((8, admm_batch, G, G), dtype=np.float32)
        print(f"ADMM batch of {admm_batch} cells: work arrays {work.nbytes / 2**30:.2f} GB held")
    # ADMM on the sampled targets, in visiting order (one at a time here; a batch costs the same per matrix and
    # runs as many iterations as its slowest cell)
    admm = {k: p[k] for k in ("rho", "alpha", "max_iters", "n_intervals", "tol", "theta_init_offset")}
    warm, its = None, []
    t = time.perf_counter()
    for r in range(args.sample_targets):
        St = S[r].reshape(G, G)
        St = 0.5 * (St + St.T)
        Z, U, it = ce.admm_glasso(St, p["lamb"], init=warm if p["warm_start"] else None, **admm)
        warm = (Z, U)
        its.append(it)
        print(f"  target {r}: {it} ADMM iterations")
    t_admm = (time.perf_counter() - t) / args.sample_targets
    total = t_kernel + len(sources) * n_passes * (t_cov + t_acc) + len(targets) * t_admm
    print(f"ADMM per target cell: {t_admm:.1f} s (iterations {its}; x {len(targets)} targets, EXTRAPOLATED)")
    print(f"EXTRAPOLATED wall time: {total / 3600:.2f} h "
          f"(kernel {t_kernel:.0f} s + covariances {len(sources) * n_passes * (t_cov + t_acc):.0f} s "
          f"+ ADMM {len(targets) * t_admm:.0f} s)")
    print(f"MEASURED peak RSS: {peak_rss_gb():.2f} GB (full-size buffers: smoothed-covariance chunk "
          f"{chunk * G * G * 4 / 2**30:.2f} GB; the original code would hold ~{C * G * G * 24 / 2**30:.0f} GB)")


if __name__ == "__main__":
    main()
