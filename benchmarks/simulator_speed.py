"""Training-step time and peak memory of GRouNdGAN's stage 2 (the target generators' adversarial step).

One step = ``critic_iters`` critic updates with gradient penalty + one generator update (WGAN + labeler +
anti-labeler losses) + the labeler/anti-labeler updates, at batch 1024, paper architecture (width x2,
3 hidden layers per gene, labelers 3 x 2000, critic 1024-512-256, 5 critic iterations), on synthetic data.

Configurations:

``300``    300 genes: 30 TFs, 270 targets, 10 TFs per target (the official code: 41-56 s per step on this
           2-core CPU, reference spec section 5.2)
``paper``  1000 genes: 100 TFs, 900 targets, 15 TFs per target (the official code cannot be built in 24 GB)

Each configuration runs in its own process so that peak RSS (``ru_maxrss``) is its own. Usage::

    .venv/bin/python benchmarks/simulator_speed.py [--configs 300,paper] [--steps 3] [--device auto]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

CONFIGS = {"300": (300, 30, 10), "paper": (1000, 100, 15)}


def one(name: str, steps: int, device: str) -> dict:
    import numpy as np
    import anndata as ad
    import pandas as pd
    import torch

    from simulators import GRouNdGAN

    n_genes, n_tfs, k = CONFIGS[name]
    rng = np.random.default_rng(0)
    X = rng.gamma(0.5, 1.0, size=(2048, n_genes)).astype(np.float32)
    X = X / X.sum(1, keepdims=True) * 20000
    genes = [f"g{i}" for i in range(n_genes)]
    adata = ad.AnnData(X)
    adata.var_names = genes
    tfs, targets = genes[:n_tfs], genes[n_tfs:]
    edges = pd.DataFrame([(tfs[j], t) for t in targets for j in rng.choice(n_tfs, k, replace=False)],
                         columns=["regulator", "target"])
    preset = {"preset": "paper", "cc_steps": 1, "steps": steps + 1, "eval_every": 0, "checkpoint_every": 0,
              "bn_recalibration": 1}
    model = GRouNdGAN(edges, preset=preset, seed=0, device=device)
    t0 = time.perf_counter()
    model.fit(adata, progress=False)
    total = time.perf_counter() - t0
    # step_seconds of the last stage loop: skip the first (allocations, warm-up)
    loop_times = model._last_loop.step_seconds[1:]
    n_params = sum(p.numel() for p in model.tg.parameters())
    # the part this implementation changes: target generators alone, forward and forward+backward, B=1024
    from simulators.groundgan.networks import TargetGenerators

    tg = TargetGenerators(model.parents, len(model.tfs), 1, 2, 3).to(model.device).train()
    tf = torch.rand(1024, len(model.tfs), device=model.device)
    nz = torch.randn(1024, len(model.targets), device=model.device)

    def timed(fn, n=3):
        fn()
        t = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t) / n

    with torch.no_grad():
        tg_fwd = timed(lambda: tg(tf, nz))
    tg_fb = timed(lambda: tg(tf, nz).sum().backward())
    return {"config": name, "genes": n_genes, "tfs": n_tfs, "tfs_per_target": k, "edges": len(edges),
            "batch": 1024, "device": str(model.device), "threads": torch.get_num_threads(),
            "step_seconds_median": round(statistics.median(loop_times), 3),
            "step_seconds_all": [round(t, 3) for t in loop_times],
            "target_generator_parameters": n_params,
            "target_generator_forward_ms": round(1000 * tg_fwd, 1),
            "target_generator_forward_backward_ms": round(1000 * tg_fb, 1),
            "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
            "fit_seconds_incl_setup": round(total, 1), "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default="300,paper")
    ap.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up step)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(one(a.child, a.steps, a.device)), flush=True)
        return
    for name in a.configs.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", name, "--steps", str(a.steps), "--device",
                              a.device], capture_output=True, text=True)
        if out.returncode:
            print(f"{name}: failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:>6}: {r['genes']} genes, {r['tfs']} TFs, {r['tfs_per_target']} TFs/target, batch 1024, "
              f"{r['device']} x{r['threads']} threads: {r['step_seconds_median']:.2f} s/step "
              f"(steps {r['step_seconds_all']}), peak RSS {r['peak_rss_gb']:.2f} GB, "
              f"target-generator params {r['target_generator_parameters']:,} (forward {r['target_generator_forward_ms']} ms, "
              f"forward+backward {r['target_generator_forward_backward_ms']} ms), load avg {r['load_average']}")
        print(json.dumps(r))


if __name__ == "__main__":
    main()
