"""Realism, GRN imposition and knockout quality of GRouNdGAN on a prepared dataset (default: bonemarrow).

Prints (and writes as JSON with --out):

* realism against the held-out test cells (RF AUROC on PCA-50 of log1p, 5-fold CV; miLISI on a seeded t-SNE)
  for the causal controller alone (stage 1), for GRouNdGAN (stage 2), and the real-vs-real control;
* GRN imposition (--imposition): GRNBoost2 on the simulated cells, AUPRC / random on the imposed
  (positive-control) and unimposed (negative-control) edges, for the trained model and for the same model
  with an untrained stage 2 (target generators at initialisation);
* knockouts (--knockouts N): N single-TF knockouts on 1000 cells; per edge a two-sided Wilcoxon signed-rank
  test, Benjamini-Hochberg; fraction of edges with q < 0.05; max |change| of non-downstream genes (must be 0).

Usage::

    BENCH_DATA_DIR=../shared/data .venv/bin/python benchmarks/simulator_quality.py --ckpt /tmp/gg \
        [--grn pos-control] [--preset default] [--set steps=1000 --set batch=512] [--imposition] [--knockouts 20]

The realism metrics come from ``bench.scoring.realism`` (the project's official implementation).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd


def parse_set(items):
    out = {}
    for it in items or []:
        k, v = it.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def realism(test, sim, seed=0, trees=1000):
    from bench.scoring.realism import realism_with_control

    r = realism_with_control(test, sim, seed=seed, rf_trees=trees)
    keep = ("rf_auroc", "milisi", "centroid_euclidean", "mmd_unbiased")
    return {k: round(r.simulated[k], 4) for k in keep}, {k: round(r.control[k], 4) for k in keep}


def knockout_stats(model, n_tfs, n_cells=1000, seed=0):
    from scipy.stats import false_discovery_control, wilcoxon

    rng = np.random.default_rng(seed)
    tfs = sorted(rng.choice(model.tfs, size=min(n_tfs, len(model.tfs)), replace=False))
    pvals, leak = [], 0.0
    for tf in tfs:
        base, ko = model.perturb(n_cells, {tf: 0.0}, seed=seed)
        down = set(model.downstream(tf))
        diff = ko.X - base.X
        others = [i for i, g in enumerate(base.var_names) if g not in down and g != tf]
        leak = max(leak, float(np.abs(diff[:, others]).max()))
        for g in down:
            j = base.var_names.get_loc(g)
            d = diff[:, j]
            pvals.append(1.0 if not np.any(d) else float(wilcoxon(base.X[:, j], ko.X[:, j]).pvalue))
    q = false_discovery_control(np.asarray(pvals))
    return {"tfs": len(tfs), "edges": len(pvals), "significant_fraction": round(float((q < 0.05).mean()), 4),
            "max_abs_change_non_downstream": leak}


def imposition(model, sim, pos, neg, seed=0):
    from bench.scoring.grn import control_universe, score_grn
    from methods.native.trees import grnboost2

    # candidate regulators = the model's TFs (the universe scored is TFs x targets anyway; much faster)
    pred = grnboost2(np.asarray(sim.X), list(sim.var_names), list(model.tfs), seed=seed)
    regs, tgts = control_universe(pos, neg)
    out = {}
    for name, truth in (("pos", pos), ("neg", neg)):
        m = score_grn(pred, truth, candidate_regulators=regs, candidate_targets=tgts)
        out[name] = round(float(m["auprc_ratio"]), 3)
    out["pos_over_neg"] = round(out["pos"] / out["neg"], 2)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="bonemarrow")
    ap.add_argument("--grn", default="pos-control")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--n-genes", type=int, default=None, help="HVGs to keep (default: the dataset's; bench run uses 300)")
    ap.add_argument("--save", default=None, help="write the fitted model to this directory")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--set", action="append", help="override a preset option, e.g. --set steps=1000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ckpt", default=None, help="checkpoint dir (resumes)")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--imposition", action="store_true")
    ap.add_argument("--imposition-real", action="store_true", help="also GRNBoost2 on the real training cells")
    ap.add_argument("--knockouts", type=int, default=0)
    ap.add_argument("--skip-realism", action="store_true")
    ap.add_argument("--trees", type=int, default=1000)
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args()

    from datasets import dataset_tfs, get_split, prepare_dataset
    from datasets.networks import build_grn, reference_grn
    from simulators import GRouNdGAN

    t0 = time.time()
    adata = prepare_dataset(a.dataset, n_genes=a.n_genes) if a.n_genes else prepare_dataset(a.dataset)
    train, val, test = (get_split(adata, s) for s in ("train", "validation", "test"))
    ref = reference_grn(train, dataset_tfs(adata), seed=0)
    grn = build_grn(ref, a.grn, k=a.k)
    print(f"data+GRN ready in {time.time() - t0:.0f}s: {train.n_obs} train, {test.n_obs} test, {len(grn)} edges",
          flush=True)
    preset = {"preset": a.preset, **parse_set(a.set)} if a.set else a.preset
    model = GRouNdGAN(grn, preset=preset, seed=a.seed)
    t1 = time.time()
    model.fit(train, validation=val, checkpoint_dir=a.ckpt, progress=not a.no_progress, max_minutes=a.max_minutes)
    fit_s = time.time() - t1
    if a.save:
        model.save(a.save)
    info = {k: v for k, v in model.info.items() if not k.startswith("val_history")}
    print(f"fit: {fit_s:.0f}s (this call; resumed stages count only their remaining steps)", info, flush=True)
    print("val history s1:", [(h['step'], round(h['score'], 3)) for h in model.info["val_history_stage1"]])
    print("val history s2:", [(h['step'], round(h['score'], 3)) for h in model.info["val_history_stage2"]])
    genes = model.genes
    test_X = np.asarray(test[:, genes].X, dtype=np.float32)
    n = test.n_obs
    res = {"config": {"dataset": a.dataset, "grn": a.grn, "preset": preset, "seed": a.seed},
           "fit_seconds": round(fit_s, 1), "training": info, "load_average": os.getloadavg()}
    if not a.skip_realism:
        cc_cells = model.stage1.sample(model.cc, n, seed=1)
        res["realism_cc"], res["realism_control"] = realism(test_X, cc_cells, trees=a.trees)
        print("causal controller:", res["realism_cc"], "control:", res["realism_control"], flush=True)
        sim = model.generate(n, seed=1)
        res["realism_groundgan"], _ = realism(test_X, sim.X, trees=a.trees)
        print("GRouNdGAN        :", res["realism_groundgan"], flush=True)
    if a.knockouts:
        res["knockouts"] = knockout_stats(model, a.knockouts)
        print("knockouts:", res["knockouts"], flush=True)
    if a.imposition:
        pos, neg = build_grn(ref, "pos-control", k=a.k), build_grn(ref, "neg-control", k=a.k)
        n_sim = train.n_obs
        res["imposition_trained"] = imposition(model, model.generate(n_sim, seed=2), pos, neg)
        print("imposition (trained):", res["imposition_trained"], flush=True)
        untrained = GRouNdGAN(grn, preset={"preset": a.preset, **parse_set(a.set), "steps": 0, "tg_warmup_steps": 0},
                              seed=a.seed)
        # untrained stage 2 = same causal controller, target generators at initialisation (BN recalibrated)
        untrained.data_genes = model.data_genes
        untrained._setup_graph(model.data_genes)
        untrained._build(model.library_size, model.depths)
        untrained.cc = model.cc
        untrained._recal2(untrained.tg)
        untrained.tg.eval()
        res["imposition_untrained"] = imposition(untrained, untrained.generate(n_sim, seed=2), pos, neg)
        print("imposition (untrained stage 2):", res["imposition_untrained"], flush=True)
    if a.imposition_real:
        pos, neg = build_grn(ref, "pos-control", k=a.k), build_grn(ref, "neg-control", k=a.k)
        res["imposition_real"] = imposition(model, train[:, genes], pos, neg)
        print("imposition (real train cells):", res["imposition_real"], flush=True)
    if a.out:
        from bench.io import write_json
        write_json(a.out, res)
    print(json.dumps(res, default=str))


if __name__ == "__main__":
    main()
