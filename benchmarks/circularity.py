"""Circularity control: does a GRNBoost2-derived ground truth favour tree methods?

The default benchmark derives its positive/negative control GRNs from GRNBoost2's ranking of TFs per target on
the real training cells, then asks GRNBoost2 (and GENIE3, another tree ensemble) to recover them. This script
repeats the benchmark with the controls derived from another reference method (``pearson`` or ``pidc``,
:data:`datasets.networks.REFERENCE_METHODS`) and prints the method order under each truth source:

1. prepare bonemarrow as ``bench run`` does (300 HVGs, seeded split);
2. per reference method: its ranking on the training cells -> positive/negative control (k = 10); GRouNdGAN
   (the default preset) imposing the positive control. Stage 1 does not depend on the GRN, so it is trained
   once and its checkpoint is copied to the other references (the stage-1 checkpoint mechanism); only stage 2
   is trained per truth;
3. the simulated cells (as many as the training cells, depth x1) and the real training cells go to every method
   under the run's protocol (``paper``: no TF list, BEELINE's parameters with the default run's named
   deviations), each method once per source;
4. every prediction is scored against every truth source's controls (AUPRC / random on the controls' universe).

On the real cells, the same predictions scored against each truth show the circularity directly (GRNBoost2 on the
cells its own truth came from); on the simulated cells, each truth is scored on the cells that imposed it.

Usage (several CPU minutes per stage 2; run it in the background)::

    BENCH_DATA_DIR=../shared/data nice -n 10 .venv/bin/python benchmarks/circularity.py \
        --references grnboost2,pearson --ckpt /tmp/circ --out circularity.txt [--run RUN_DIR]

``--run RUN_DIR`` (a finished ``bench run`` of the default preset) reuses its stage-1 checkpoint and its
GRNBoost2-truth model instead of training them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def scaled_preset(name: str, scale: float) -> str | dict:
    """The simulator preset with both stages shortened by ``scale`` (a named, printed deviation)."""
    from simulators import get_preset

    if scale == 1.0:
        return name
    p = dict(get_preset(name))
    for k in ("cc_steps", "steps", "tg_warmup_steps"):
        p[k] = max(1, int(round(p[k] * scale)))
    return p


def train_model(ref_method: str, pos, train, val, ckpt_root: Path, seed: int, run_dir: Path | None,
                preset: str | dict = "default", stage1_from: Path | None = None):
    """GRouNdGAN imposing ``pos``; stage 1 shared across references through the checkpoint folder."""
    from simulators import GRouNdGAN

    if run_dir is not None and ref_method == "grnboost2":
        model_dir = run_dir / "groundgan" / "model"
        if model_dir.exists():
            log(f"{ref_method}: model reused from {model_dir}")
            return GRouNdGAN.load(model_dir, device="cpu"), 0.0
    ckpt = ckpt_root / ref_method
    if not (ckpt / "stage1").exists():
        sources = [run_dir / "groundgan" / "checkpoints"] if run_dir is not None else []
        sources += [stage1_from] if stage1_from is not None else []
        sources += [d for d in ckpt_root.iterdir() if d.is_dir() and d != ckpt] if ckpt_root.exists() else []
        for src in sources:
            if (src / "stage1").exists():
                ckpt.mkdir(parents=True, exist_ok=True)
                shutil.copytree(src / "stage1", ckpt / "stage1")
                log(f"{ref_method}: stage-1 checkpoint copied from {src}")
                break
    t = time.perf_counter()
    model = GRouNdGAN(pos, preset=preset, seed=seed, device="cpu")
    model.fit(train, validation=val, checkpoint_dir=ckpt, progress=False)
    sec = time.perf_counter() - t
    log(f"{ref_method}: GRouNdGAN fitted in {sec:.0f} s (stage-1 steps run here: "
        f"{model.info.get('stage1_steps')}, stage 2: {model.info.get('stage2_steps')})")
    return model, sec


def run_on(source: str, cells, method_names, cfg, seed: int, out_dir: Path) -> dict:
    """Every method on ``cells`` under the config's protocol -> {method: edges or None}."""
    from bench.pipeline.infer import method_preset
    from methods.base import get_method
    from methods.pseudotime import compute_pseudotime
    from methods.runner import run_methods

    methods = [get_method(m) for m in method_names]
    pt = None
    if any(m.info.pseudotime != "none" for m in methods):
        pt = compute_pseudotime(cells, seed=seed).to_numpy(float)
    preds = {}
    for m in methods:
        # the methods get log1p of the cells, as in bench run (methods.inputs)
        [res] = run_methods(cells, [m.name], pseudotime=pt, tfs=None, seed=seed, timeout=cfg.method_timeout,
                            preset=method_preset(cfg, m), n_jobs=1)
        r = res.record
        log(f"  {source:<22} {m.name:<12} {res.status:<8} {r.runtime_s or 0:7.1f} s  {r.cpu_time_s or 0:7.1f} cpu s"
            f"  preset {r.preset}")
        preds[m.name.lower()] = res.edges if res.status == "ok" else None
        if res.status == "ok":
            (out_dir / source).mkdir(parents=True, exist_ok=True)
            res.edges.to_parquet(out_dir / source / f"{m.name.lower()}.parquet")
    return preds


def score(preds: dict, pos, neg) -> dict:
    from bench.scoring.grn import control_universe, evaluate_grn

    regs, tgts = control_universe(pos, neg)
    out = {}
    for m, e in preds.items():
        if e is None:
            out[m] = {"pos": None, "neg": None}
            continue
        r = [evaluate_grn(e, t, universe="imposed", candidate_regulators=regs, candidate_targets=tgts)
             .metrics["auprc_ratio"] for t in (pos, neg)]
        out[m] = {"pos": round(float(r[0]), 3), "neg": round(float(r[1]), 3)}
    return out


def order(scores: dict) -> list[str]:
    ok = {m: v["pos"] for m, v in scores.items() if v["pos"] is not None}
    return sorted(ok, key=lambda m: (-ok[m], m))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--references", default="grnboost2,pearson", help="comma-separated reference methods")
    ap.add_argument("--methods", default="pidc,genie3,grnboost2,ppcor,leap,scode,sincerities",
                    help="comma-separated methods (default: every method of the paper's claims, and PPCOR)")
    ap.add_argument("--protocol", default="paper", help="paper | fast")
    ap.add_argument("--n-genes", type=int, default=300)
    ap.add_argument("--cells", type=int, default=0,
                    help="cells per source: simulated, and a seeded subsample of the real training cells "
                         "(default: as many as the training cells)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--simulator-preset", default="default", help="GRouNdGAN preset (smoke: a quick check)")
    ap.add_argument("--steps-scale", type=float, default=1.0,
                    help="shorten both GAN stages by this factor (a deviation from the default recipe, printed)")
    ap.add_argument("--real-only", action="store_true",
                    help="no simulator: score the methods' predictions on the real cells against each truth only")
    ap.add_argument("--stage1-from", default=None, help="a checkpoint folder whose stage1/ to start from (resume)")
    ap.add_argument("--ckpt", default="circularity-ckpt", help="checkpoint folder (resumable)")
    ap.add_argument("--run", default=None, help="a finished default bench run to reuse (stage 1, GRNBoost2 model)")
    ap.add_argument("--out", default=None, help="also write the result here (text; JSON next to it)")
    args = ap.parse_args()

    from bench.config import RunConfig
    from datasets import dataset_tfs, get_split, prepare_dataset
    from datasets.networks import build_grn, grn_summary, reference_grn

    t_all = time.perf_counter()
    refs = [r.strip() for r in args.references.split(",") if r.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    cfg = RunConfig(preset="default", protocol=args.protocol, methods=methods).resolved()
    adata = prepare_dataset("bonemarrow", n_genes=args.n_genes, seed=args.seed)
    train, val = get_split(adata, "train"), get_split(adata, "validation")
    tfs = dataset_tfs(adata)
    ckpt_root = Path(args.ckpt)
    n_cells = int(args.cells or train.n_obs)
    run_dir = Path(args.run) if args.run else None
    work = ckpt_root / "predictions"
    log(f"bonemarrow: {train.n_obs} training cells x {train.n_vars} genes, {len(tfs)} TFs; references {refs}; "
        f"protocol {cfg.protocol} (deviations {cfg.protocol_deviations})")

    truths, sims, fit_s, grn_info = {}, {}, {}, {}
    for ref in refs:
        t = time.perf_counter()
        r = reference_grn(train, tfs, method=ref, seed=args.seed)
        pos, neg = (build_grn(r, s, k=args.k, seed=args.seed) for s in ("pos-control", "neg-control"))
        truths[ref] = (pos, neg)
        grn_info[ref] = {**grn_summary(pos), "seconds": round(time.perf_counter() - t, 1)}
        log(f"{ref}: positive control {len(pos)} edges ({pos.regulator.nunique()} TFs -> {pos.target.nunique()} "
            f"targets), reference in {grn_info[ref]['seconds']} s")
        if args.real_only:
            continue
        model, fit_s[ref] = train_model(ref, pos, train, val if val.n_obs else None, ckpt_root, args.seed, run_dir,
                                        scaled_preset(args.simulator_preset, args.steps_scale),
                                        Path(args.stage1_from) if args.stage1_from else None)
        sims[ref] = model.generate(n_cells, seed=args.seed)

    # every source once through the methods
    preds = {}
    for ref in [] if args.real_only else refs:
        preds[f"groundgan[{ref} truth]"] = run_on(f"groundgan[{ref} truth]", sims[ref], methods, cfg, args.seed, work)
    keep = np.sort(np.random.default_rng(args.seed).choice(train.n_obs, min(n_cells, train.n_obs), replace=False))
    preds["real"] = run_on("real", train[keep].copy(), methods, cfg, args.seed, work)

    result = {"references": refs, "protocol": cfg.protocol, "deviations": cfg.protocol_deviations,
              "n_cells": n_cells, "steps_scale": args.steps_scale,
              "methods": methods, "grn": grn_info, "fit_seconds": fit_s, "scores": {}}
    lines = [f"Circularity control (benchmarks/circularity.py), bonemarrow {args.n_genes} HVGs, seed {args.seed}, "
             f"protocol {cfg.protocol} (deviations: {cfg.protocol_deviations or 'none'}), {n_cells} cells per "
             f"source, GAN preset {args.simulator_preset}" + (f" with both stages x {args.steps_scale}"
                                                                if args.steps_scale != 1.0 else ""), ""]
    for ref in refs:
        pos, neg = truths[ref]
        for source in [s for s in (f"groundgan[{ref} truth]", "real") if s in preds]:
            sc = score(preds[source], pos, neg)
            result["scores"][f"{ref}|{source}"] = {"scores": sc, "order": order(sc)}
            lines.append(f"truth from {ref}, cells: {source}")
            lines.append(f"  {'method':<12}{'pos AUPRC/rand':>16}{'neg AUPRC/rand':>16}")
            for m in order(sc) + [m for m in sc if sc[m]["pos"] is None]:
                f = lambda x: "failed" if x is None else f"{x:.2f}"  # noqa: E731
                lines.append(f"  {m:<12}{f(sc[m]['pos']):>16}{f(sc[m]['neg']):>16}")
            lines.append(f"  order: {' > '.join(order(sc))}")
            lines.append("")
    lines.append(f"total {time.perf_counter() - t_all:.0f} s; GAN fits (s): {fit_s}")
    text = "\n".join(lines)
    print(text, flush=True)
    if args.out:
        from bench import io as bio

        bio.write_text(Path(args.out), text + "\n")
        bio.write_json(Path(args.out).with_suffix(".json"), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
