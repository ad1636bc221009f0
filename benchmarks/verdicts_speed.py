"""Wall time of the verdicts (bootstrap CIs, win probabilities, tied groups, stability, QC) for a default-sized run.

Usage: python benchmarks/verdicts_speed.py [--sources 6] [--replicates 3] [--methods 10] [--n-boot 1000]
                                           [--regulators 25] [--targets 275] [--in-degree 5]
Target: <= 60 s for 6 sources x 3 replicates x 10 methods x 2 ground truths, n_boot = 1000 (issue #13).

Predictions are synthetic (every TF x target pair scored, noise plus a method-specific signal on the positive
control), on a universe of the default preset's size: about 25 TFs x 275 targets of the 300 genes, 5 edges per
target in each control.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=int, default=6)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--methods", type=int, default=10)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--regulators", type=int, default=25)
    ap.add_argument("--targets", type=int, default=275)
    ap.add_argument("--in-degree", type=int, default=5)
    args = ap.parse_args()

    from bench.scoring.grn import control_universe
    from bench.scoring.verdicts import VerdictSettings, compute_verdicts

    rng = np.random.default_rng(0)
    regs = [f"TF{i}" for i in range(args.regulators)]
    tgts = [f"g{i}" for i in range(args.targets)]
    pairs = pd.DataFrame([(r, t) for r in regs for t in tgts], columns=["regulator", "target"])
    truths = {}
    for gt in ("pos-control", "neg-control"):
        rows = [(r, t) for t in tgts for r in rng.choice(regs, args.in_degree, replace=False)]
        truths[gt] = pd.DataFrame(rows, columns=["regulator", "target"])
    pos = set(map(tuple, truths["pos-control"].to_numpy()))
    y = np.array([(r, t) in pos for r, t in pairs.to_numpy()])
    preds = {f"source{s}": {f"method{m}": [pairs.assign(weight=np.abs(rng.normal(size=len(pairs)) + 0.2 * m * y))
                                          for _ in range(args.replicates)]
                            for m in range(args.methods)}
             for s in range(args.sources)}
    r, t = control_universe(*truths.values())
    t0, c0 = time.perf_counter(), time.process_time()
    v = compute_verdicts(preds, truths, candidate_regulators=r, candidate_targets=t,
                         settings=VerdictSettings(n_boot=args.n_boot), baselines=["method0"],
                         imposing={s: "pos-control" for s in preds})
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = args.sources * args.replicates * args.methods * len(truths)
    print(f"verdicts: {args.sources} sources x {args.replicates} replicates x {args.methods} methods x "
          f"{len(truths)} truths = {n} scored predictions, universe {len(r)} x {len(t)} = {len(r) * len(t)} pairs, "
          f"n_boot {args.n_boot}")
    print(f"  total {sec:.1f} s wall, {cpu:.1f} s CPU ({1000 * sec / n:.0f} ms wall per prediction); "
          f"{len(v.summary)} summary rows, {len(v.pairwise)} pairwise rows; target <= 60 s")


if __name__ == "__main__":
    main()
