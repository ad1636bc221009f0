"""Fast PIDC (sorted-minimum PUC) vs the brute-force O(G^3) triple loop, at bonemarrow size.

    .venv/bin/python benchmarks/pidc_speed.py [--cells 2230] [--genes 1000] [--outer 8] [--threads 1]

Both paths share the Bayesian-blocks discretisation and the context step; they differ in the PUC step: the fast
path streams joint tables one target at a time and uses one sort per (target, state); the brute force builds
every pair's joint table and specific information, then loops over all C(G,3) triples as NetworkInference.jl
does (compiled with numba, single-threaded). The triple loop is timed on the first ``--outer`` outer indices
and extrapolated to all triples by their count (the work per triple is constant); this is stated in the output.
Data: the bonemarrow (Paul et al. 2015) counts from the data dir, ``--cells`` cells, the ``--genes`` most variable
genes, library-size normalised to 20,000; synthetic Poisson data if the file is missing.
"""

from __future__ import annotations

import argparse
import time
from math import comb

import numpy as np
from _data import load_expression  # noqa: E402  (benchmarks/ is on sys.path when run as a script)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=2230)
    ap.add_argument("--genes", type=int, default=1000)
    ap.add_argument("--outer", type=int, default=8, help="outer triple-loop indices timed for the extrapolation")
    ap.add_argument("--threads", type=int, default=1, help="numba threads for the fast path (brute force: 1)")
    args = ap.parse_args()

    import numba

    from methods.native import _pidc_reference as ref
    from methods.native import pidc

    numba.set_num_threads(args.threads)
    X, source = load_expression(args.cells, args.genes)
    varying = X.max(0) > X.min(0)
    X = X[:, varying]
    G = X.shape[1]
    print(f"data: {source}: {X.shape[0]} cells x {G} non-constant genes")

    # compile everything first (numba), on tiny data
    tb, tn = pidc.discretize(np.random.default_rng(0).normal(size=(30, 5)))
    pidc.puc_scores(tb, tn)
    mi, si = ref.pairwise_information(np.ascontiguousarray(tb.T), tn)
    ref.puc_triple_loop(mi, si, ref.marginals(tb, tn), tn, 1)

    t = time.perf_counter()
    bins, nbins = pidc.discretize(X)
    t_disc = time.perf_counter() - t
    t = time.perf_counter()
    puc, _ = pidc.puc_scores(bins, nbins)
    t_fast = time.perf_counter() - t
    t = time.perf_counter()
    pidc.context_weights(puc)
    t_ctx = time.perf_counter() - t
    print(f"bins per gene: mean {nbins.mean():.1f}, max {nbins.max()}")

    bins32 = np.ascontiguousarray(bins, dtype=np.int32)
    t = time.perf_counter()
    mi, si = ref.pairwise_information(np.ascontiguousarray(bins32.T), nbins)
    mi = np.triu(mi) + np.triu(mi, 1).T
    t_pairs = time.perf_counter() - t
    pz = ref.marginals(bins32, nbins)
    k = min(args.outer, G - 2)
    t = time.perf_counter()
    ref.puc_triple_loop(mi, si, pz, nbins, k)
    t_sub = time.perf_counter() - t
    done = sum(comb(G - 1 - i, 2) for i in range(k))
    t_triples = t_sub * comb(G, 3) / done

    brute_puc = t_pairs + t_triples
    print(f"shared: Bayesian blocks {t_disc:.1f} s, context {t_ctx:.2f} s")
    print(f"fast PUC ({args.threads} thread(s)): {t_fast:.2f} s")
    print(f"brute-force PUC: pair tables {t_pairs:.1f} s + triple loop {t_triples:.0f} s "
          f"(EXTRAPOLATED from {done:,} of {comb(G, 3):,} triples, measured {t_sub:.1f} s) = {brute_puc:.0f} s")
    print(f"ratio, PUC step: {brute_puc / t_fast:.1f}x")
    print(f"ratio, end to end: {(t_disc + brute_puc + t_ctx) / (t_disc + t_fast + t_ctx):.1f}x "
          f"(fast total {t_disc + t_fast + t_ctx:.1f} s)")


if __name__ == "__main__":
    main()
