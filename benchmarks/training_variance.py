"""How much do GAN trainings move the verdicts, compared with generation replicates of one trained model?

Usage: BENCH_DATA_DIR=../shared/data python benchmarks/training_variance.py [--trainings 3] [--replicates 3]
           [--n-cells 1000] [--steps-scale 1.0] [--methods genie3,grnboost2,...] [--work DIR]

What it does (bonemarrow as the ``default`` preset of ``bench run`` prepares it: 300 genes, seed-0 split,
positive / negative control GRNs with k = 10):

1. trains the default GRouNdGAN recipe ``--trainings`` times with training seeds 0, 1, 2, ... (data, split and
   GRN fixed; ``--steps-scale`` < 1 shortens both stages proportionally: a named, printed deviation);
2. from each trained model generates ``--replicates`` datasets of ``--n-cells`` cells (generation seeds 1000+r,
   as ``bench run``'s replicates), runs each method on each (in-process, the methods' ``fast`` presets, TF list
   given, method seed = replicate), and
3. prints, per method, the positive-control AUPRC ratio: the mean and 95 % CI of each training (hierarchical
   bootstrap over its generation replicates and the target genes, :mod:`bench.scoring.verdicts`); the SD of
   the training means (between trainings) against the bootstrap SE of one training's mean (within); whether
   another training's mean falls inside a training's CI; and Kendall's tau of the method order between
   trainings vs between the generation replicates of one training.

Everything is cached under ``--work`` (models, generated cells' edges), so a re-run resumes; the comparison
is printed after every finished training.
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

# imported up front: the study runs for an hour and must not pick up half-edited modules later
from bench.scoring.grn import control_universe, score_grn
from bench.scoring.verdicts import VerdictSettings, compute_verdicts
from methods.base import get_method
from methods.inputs import prepare_input

DEFAULT_METHODS = "genie3,grnboost2,ppcor,pidc,leap,scode,sincerities,random,pearson"
T0 = time.perf_counter()


def say(msg: str) -> None:
    el = time.perf_counter() - T0
    print(f"[{int(el) // 60:03d}:{int(el) % 60:02d}] {msg}", flush=True)


def scaled_preset(scale: float) -> dict:
    from simulators import get_preset

    p = dict(get_preset("default"))
    if scale != 1.0:
        for k in ("cc_steps", "steps", "tg_warmup_steps"):
            p[k] = max(1, int(round(p[k] * scale)))
    return p


def run_methods_on(data, pseudotime, tfs, names, seed, folder: Path) -> dict[str, pd.DataFrame | None]:
    out = {}
    x = prepare_input(data, "log1p")  # what the methods get in bench run
    for name in names:
        f = folder / f"{name}.parquet"
        if f.exists():
            out[name] = pd.read_parquet(f)
            continue
        if (folder / f"{name}.failed").exists():
            out[name] = None
            continue
        m = get_method(name)
        params = m.params("fast" if "fast" in m.info.presets else None)
        t = time.perf_counter()
        try:
            e = m.infer(x, pseudotime=pseudotime if m.info.pseudotime != "none" else None,
                        tfs=[g for g in tfs if g in set(x.var_names)] if m.info.accepts_tfs else None,
                        seed=seed, **params)
        except Exception as exc:  # recorded, the study goes on
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.failed").write_text(f"{type(exc).__name__}: {exc}")
            say(f"    {name:<12} FAILED {type(exc).__name__}: {exc}")
            out[name] = None
            continue
        folder.mkdir(parents=True, exist_ok=True)
        e.to_parquet(f)
        say(f"    {name:<12} {time.perf_counter() - t:6.1f} s, {len(e)} edges")
        out[name] = e
    return out


def compare(preds: dict[int, dict[str, list]], pos, neg, n_boot: int) -> None:
    """Print the between-training vs between-replicate comparison for the finished trainings."""
    from scipy.stats import kendalltau

    regs, tgts = control_universe(pos, neg)
    sources = {f"train{s}": p for s, p in preds.items()}
    v = compute_verdicts(sources, {"pos-control": pos, "neg-control": neg}, candidate_regulators=regs,
                         candidate_targets=tgts, settings=VerdictSettings(n_boot=n_boot),
                         baselines=["random", "pearson"])
    s = v.summary[v.summary["ground_truth"] == "pos-control"]
    tab = s.pivot(index="method", columns="simulator", values="auprc_ratio")
    lo = s.pivot(index="method", columns="simulator", values="auprc_ratio_ci_low")
    hi = s.pivot(index="method", columns="simulator", values="auprc_ratio_ci_high")
    trains = list(sources)
    n_rep = max(len(reps) for p in preds.values() for reps in p.values())
    print(f"\n=== {len(trains)} training(s) x {n_rep} generation replicates: positive-control AUPRC ratio, "
          f"mean [95% CI] per training ===")
    print(f"{'method':<12}" + "".join(f"{t:>24}" for t in trains) + f"{'SD between':>12}{'SE within':>11}{'ratio':>7}")
    between_all, within_all, inside, pairs_n = [], [], 0, 0
    for m in tab.sort_values(trains[0], ascending=False).index:
        means = tab.loc[m, trains].to_numpy(float)
        se = ((hi.loc[m, trains] - lo.loc[m, trains]) / 3.92).to_numpy(float)
        sd_b = float(np.std(means, ddof=1)) if len(trains) > 1 else float("nan")
        se_w = float(np.nanmean(se))
        between_all.append(sd_b)
        within_all.append(se_w)
        for i, j in ((i, j) for i in range(len(trains)) for j in range(len(trains)) if i != j):
            pairs_n += 1
            inside += int(lo.loc[m, trains[i]] <= means[j] <= hi.loc[m, trains[i]])
        cells = "".join(f"{tab.loc[m, t]:>8.2f} [{lo.loc[m, t]:.2f},{hi.loc[m, t]:.2f}]".rjust(24) for t in trains)
        print(f"{m:<12}{cells}{sd_b:>12.3f}{se_w:>11.3f}{sd_b / se_w if se_w else float('nan'):>7.2f}")
    if len(trains) > 1:
        b, w = np.nanmedian(between_all), np.nanmedian(within_all)
        print(f"median over methods: SD between trainings {b:.3f}, bootstrap SE within one training {w:.3f} "
              f"(ratio {b / w:.2f}); another training's mean inside a training's 95% CI: {inside}/{pairs_n} "
              f"({inside / pairs_n:.0%})")
        taus = [kendalltau(tab[a], tab[c]).statistic for a, c in combinations(trains, 2)]
        print(f"method order (mean ratio): Kendall tau between trainings: "
              + ", ".join(f"{t:.2f}" for t in taus) + f" (mean {np.mean(taus):.2f})")
    # order between generation replicates of one training
    rep_taus = []
    for p in preds.values():
        n_rep = len(next(iter(p.values())))
        per_rep = pd.DataFrame({m: [score_grn(e, pos, candidate_regulators=regs, candidate_targets=tgts)["auprc_ratio"]
                                    if e is not None else np.nan for e in reps] for m, reps in p.items()})
        for a, c in combinations(range(n_rep), 2):
            rep_taus.append(kendalltau(per_rep.iloc[a], per_rep.iloc[c], nan_policy="omit").statistic)
    print(f"method order: Kendall tau between generation replicates of one training: mean {np.mean(rep_taus):.2f} "
          f"over {len(rep_taus)} pairs (min {np.min(rep_taus):.2f})")
    groups = s.pivot(index="method", columns="simulator", values="tied_group")
    print("tied groups per training:\n" + groups.to_string())
    pw = v.pairwise[(v.pairwise["ground_truth"] == "pos-control") & (v.pairwise["metric"] == "auprc_ratio")]
    dec = pw[pw["decisive"]]
    flips = 0
    for (a, b), g in dec.groupby(["method_a", "method_b"]):
        rev = dec[(dec["method_a"] == b) & (dec["method_b"] == a)]
        flips += int(len(rev) > 0)
    print(f"decisive verdicts (P >= 0.95) reversed decisively by another training: {flips} ordered pairs; "
          f"decisive pairs per training: " + ", ".join(f"{t} {int((dec['simulator'] == t).sum())}" for t in trains))
    neg_s = v.summary[v.summary["ground_truth"] == "neg-control"].pivot(index="method", columns="simulator",
                                                                          values="auprc_ratio")
    print("negative-control AUPRC ratio means per training:\n" + neg_s.round(2).to_string(), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trainings", type=int, default=3)
    ap.add_argument("--replicates", type=int, default=3)
    ap.add_argument("--n-cells", type=int, default=1000)
    ap.add_argument("--steps-scale", type=float, default=1.0)
    ap.add_argument("--methods", default=DEFAULT_METHODS)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--work", default=None, help="cache folder (default: $BENCH_CACHE_DIR/training_variance)")
    ap.add_argument("--only-training", type=int, default=None,
                    help="train and run the methods for this training seed only (run several processes side by "
                         "side, then once without it for the comparison from the cache)")
    args = ap.parse_args()

    from bench import settings
    from datasets import dataset_tfs, get_split, prepare_dataset
    from datasets.networks import build_grn, reference_grn
    from methods.pseudotime import compute_pseudotime
    from simulators import GRouNdGAN

    work = Path(args.work or Path(settings.cache_dir) / "training_variance")
    work.mkdir(parents=True, exist_ok=True)
    names = [m.strip() for m in args.methods.split(",") if m.strip()]
    need_pt = any(get_method(m).info.pseudotime != "none" for m in names)
    preset = scaled_preset(args.steps_scale)
    say(f"training variance: {args.trainings} trainings x {args.replicates} replicates x {args.n_cells} cells, "
        f"methods {', '.join(names)}; simulator = default preset"
        + (f" with steps x {args.steps_scale} (cc_steps {preset['cc_steps']}, steps {preset['steps']}, "
           f"tg_warmup_steps {preset['tg_warmup_steps']})" if args.steps_scale != 1.0 else "")
        + f"; work dir {work}")
    adata = prepare_dataset("bonemarrow", n_genes=300, seed=0)
    train, val = get_split(adata, "train"), get_split(adata, "validation")
    tfs = dataset_tfs(adata)
    ref = reference_grn(train, tfs, seed=0)
    pos, neg = build_grn(ref, "pos-control", k=10, seed=0), build_grn(ref, "neg-control", k=10, seed=0)
    say(f"data {adata.n_obs} cells x {adata.n_vars} genes, train {train.n_obs}; pos {len(pos)} / neg {len(neg)} edges")
    preds: dict[int, dict[str, list]] = {}
    seeds = [args.only_training] if args.only_training is not None else list(range(args.trainings))
    for s in seeds:
        mdir = work / f"train{s}-scale{args.steps_scale}"
        if (mdir / "model").exists():
            model = GRouNdGAN.load(mdir / "model")
            # a model put here by hand (e.g. a default bench run's, for training 0) must impose this very GRN
            same = set(map(tuple, model.edges[["regulator", "target"]].values)) == \
                set(map(tuple, pos[["regulator", "target"]].values))
            if not same or model.seed != s:
                raise SystemExit(f"{mdir / 'model'} imposes another GRN or has seed {model.seed}, not {s}")
            say(f"training {s}: cached model")
        else:
            t = time.perf_counter()
            model = GRouNdGAN(pos, preset=preset, seed=s)
            model.fit(train, validation=val, checkpoint_dir=mdir / "checkpoints", progress=False)
            model.save(mdir / "model")
            say(f"training {s}: trained in {time.perf_counter() - t:.0f} s")
            (mdir / "info.json").write_text(json.dumps({"seconds": time.perf_counter() - t}, default=str))
        per_method = {m: [] for m in names}
        for r in range(args.replicates):
            say(f"  training {s}, replicate {r}: generating {args.n_cells} cells (generation seed {1000 + r})")
            cells = model.generate(args.n_cells, seed=1000 + r)
            pt = None
            if need_pt:
                ptf = mdir / f"rep{r}" / "pseudotime.npy"
                if ptf.exists():
                    pt = np.load(ptf)
                else:
                    pt = compute_pseudotime(cells, seed=r).to_numpy(float)
                    ptf.parent.mkdir(parents=True, exist_ok=True)
                    np.save(ptf, pt)
            edges = run_methods_on(cells, pt, tfs, names, r, mdir / f"rep{r}")
            for m in names:
                per_method[m].append(edges[m])
        preds[s] = per_method
        compare(preds, pos, neg, args.n_boot)
    say("done")


if __name__ == "__main__":
    main()
