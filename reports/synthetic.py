"""A synthetic run directory, written through :class:`reports.rundir.RunDir` with the real scoring code.

Used by the report tests, ``benchmarks/report_speed.py`` and anyone who wants to see what a report looks like
without running the benchmark. Predictions are random scores with a method-specific boost on the imposed
(positive-control) edges of the ``groundgan`` data, so the report shows the pattern the benchmark looks for;
every number in it is computed, none is written by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from bench.edges import make_edges
from bench.scoring.grn import control_universe, evaluate_grn
from bench.scoring.verdicts import VerdictSettings, compute_verdicts
from reports.leaderboard import make_row
from reports.rundir import RunDir


def _controls(rng, tfs, targets, per_gene):
    pos, neg = [], []
    for t in targets:
        chosen = rng.choice(len(tfs), 2 * per_gene, replace=False)
        pos += [(tfs[i], t) for i in chosen[::2]]
        neg += [(tfs[i], t) for i in chosen[1::2]]
    return (pd.DataFrame(pos, columns=["regulator", "target"]), pd.DataFrame(neg, columns=["regulator", "target"]))


def make_synthetic_run(path: str | os.PathLike, *, n_methods: int = 4, n_tfs: int = 30, n_targets: int = 300,
                       per_gene: int = 5, n_cells: int = 400, n_ko_tfs: int = 5, simulators=("real", "groundgan", "scgan"),
                       dataset: str = "toy", failed_method: bool = True, realism: bool = True,
                       seed: int = 0, method_names: list[str] | None = None, n_replicates: int = 2,
                       baseline: bool = True, n_boot: int = 200) -> RunDir:
    """Write a complete run directory at ``path`` and return it.

    Each method runs on ``n_replicates`` replicate datasets per source (fresh noise each); ``baseline`` adds the
    ``random`` baseline method (no signal); the verdict tables come from :func:`bench.scoring.verdicts.compute_verdicts`
    with ``n_boot`` resamples.
    """
    import anndata as ad

    from bench.scoring import knockout as ko
    from bench.scoring import realism as rl

    rng = np.random.default_rng(seed)
    rd = RunDir(path)
    tfs = [f"TF{i:03d}" for i in range(n_tfs)]
    targets = [f"G{i:04d}" for i in range(n_targets)]
    pos, neg = _controls(rng, tfs, targets, per_gene)
    regs, tgts = control_universe(pos, neg)
    names = method_names or ["grnboost2", "genie3", "ppcor", "pidc", "leap", "scode", "sinceritites", "cespgrn"]
    names = (names * (n_methods // len(names) + 1))[:n_methods] if n_methods > len(names) else names[:n_methods]
    ti, gi = {t: i for i, t in enumerate(tfs)}, {g: i for i, g in enumerate(targets)}
    is_pos = np.zeros((n_tfs, n_targets), dtype=bool)
    is_pos[pos["regulator"].map(ti), pos["target"].map(gi)] = True
    is_neg = np.zeros((n_tfs, n_targets), dtype=bool)
    is_neg[neg["regulator"].map(ti), neg["target"].map(gi)] = True
    is_pos, is_neg = is_pos.ravel(), is_neg.ravel()
    reg_col = np.repeat(tfs, n_targets)
    tgt_col = np.tile(targets, n_tfs)
    rows, curves = [], []
    all_names = names + (["random"] if baseline else [])
    preds: dict[str, dict[str, list]] = {sim: {m: [] for m in all_names} for sim in simulators}
    for sim in simulators:
        for mi, method in enumerate(all_names):
            for rep in range(n_replicates):
                if failed_method and mi == len(names) - 1 and sim == "groundgan":
                    preds[sim][method].append(None)
                    for gt in ("pos-control", "neg-control"):
                        rows.append(make_row(method=method, dataset=dataset, simulator=sim, ground_truth=gt,
                                             status="failed", universe="imposed", error="exit code 1",
                                             stderr_tail="Traceback (most recent call last):\n  ...\n"
                                                         "ValueError: matrix is singular\n",
                                             runtime_s=float(rng.uniform(1, 5)), seed=seed, replicate=rep))
                    continue
                skill = 0.0 if mi >= len(names) else 1.5 * (mi + 1) / len(names)
                boost_pos = skill * (2.0 if sim == "groundgan" else 0.6)
                boost_neg = skill * (0.1 if sim == "groundgan" else 0.5 if sim == "real" else 0.2)
                w = rng.random(len(reg_col)) + boost_pos * is_pos + boost_neg * is_neg
                if mi < len(names):
                    w[rng.random(len(w)) < 0.3] = 0.0  # many zero weights, as real methods produce
                pred = make_edges(reg_col, tgt_col, w)
                preds[sim][method].append(pred)
                runtime = float(rng.uniform(2, 400))
                for gt, truth in (("pos-control", pos), ("neg-control", neg)):
                    ev = evaluate_grn(pred, truth, candidate_regulators=regs, candidate_targets=tgts)
                    if rep == 0:
                        curves.append(_curves(ev, method, dataset, sim, gt))
                    rows.append(make_row(method=method, dataset=dataset, simulator=sim, ground_truth=gt,
                                         metrics=ev.metrics, runtime_s=runtime, cpu_time_s=runtime * 1.8,
                                         peak_memory_mb=float(rng.uniform(100, 4000)), seed=seed, preset="ci",
                                         parameters={"seed": seed}, package_versions={"numpy": np.__version__},
                                         n_edges_predicted=len(pred), n_cells=n_cells, n_genes=n_tfs + n_targets,
                                         config_hash="synthetic", run_id=Path(path).name, replicate=rep))
    rd.add_rows(rows)
    rd.add_curves(pd.concat(curves, ignore_index=True))
    verdicts = compute_verdicts(preds, {"pos-control": pos, "neg-control": neg}, candidate_regulators=regs,
                                candidate_targets=tgts, settings=VerdictSettings(n_boot=n_boot, seed=seed),
                                baselines=["random"] if baseline else [], imposing={"groundgan": "pos-control"})

    genes = tfs + targets
    realism_auroc: dict[str, float] = {}
    if realism:
        lam = rng.gamma(1.0, 1.0, size=len(genes))
        def cells(n, shift):  # noqa: E306
            x = rng.poisson(lam * 5 + shift * (np.arange(len(genes)) < 10), size=(n, len(genes))).astype(float)
            return x / np.maximum(x.sum(1, keepdims=True), 1) * 20000
        test = cells(n_cells, 0.0)
        for sim, shift in (("groundgan", 0.5), ("scgan", 3.0)):
            if sim not in simulators:
                continue
            simx = cells(n_cells, shift)
            # Cheap but real: centroid and MMD metrics; a PCA embedding instead of a t-SNE; a small forest.
            from sklearn.decomposition import PCA

            coords = PCA(2, random_state=seed).fit_transform(np.log1p(np.vstack([test, simx])))
            m = rl.mmd_bandwidth(test)
            met = rl.realism_metrics(test, simx, seed=seed, bandwidth=m, rf_trees=20, rf_folds=3, embedding=coords)
            h = n_cells // 2
            ctl_coords = PCA(2, random_state=seed).fit_transform(np.log1p(test))
            ctl = rl.realism_metrics(test[:h], test[h:2 * h], seed=seed, bandwidth=m, rf_trees=20, rf_folds=3,
                                     embedding=ctl_coords[:2 * h])
            emb = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1],
                                "label": ["real"] * n_cells + ["simulated"] * n_cells})
            res = rl.RealismResult(met, ctl, n_cells, n_cells, {"seed": seed, "embedding": "pca (synthetic)"}, emb)
            rd.add_realism(res, dataset=dataset, simulator=sim, embedding="pca")
            realism_auroc[sim] = met["rf_auroc"]

        # Knockouts: targets of a knocked-out TF shift in most cells; other genes stay identical.
        base = ad.AnnData(cells(n_cells, 0.0))
        base.var_names = genes
        ko_by_tf = {}
        for tf in tfs[:n_ko_tfs]:
            x = base.X.copy()
            tcols = [genes.index(t) for t in pos.loc[pos["regulator"] == tf, "target"]]
            x[:, tcols] *= rng.normal(1.0, 0.05, size=(n_cells, len(tcols))) * rng.uniform(0.9, 1.1, len(tcols))
            k = ad.AnnData(x)
            k.var_names = genes
            ko_by_tf[tf] = k
        rd.add_knockout(ko.knockout_study(base, ko_by_tf, pos), dataset=dataset, simulator="groundgan")

    from bench.scoring.verdicts import qc_gates, with_qc

    verdicts = with_qc(verdicts, qc_gates(verdicts.summary, verdicts.settings, imposing={"groundgan": "pos-control"},
                                          realism_auroc=realism_auroc))
    rd.write_verdicts(verdicts, dataset=dataset)
    rd.write_config(f'# synthetic run\n[run]\ndataset = "{dataset}"\nseed = {seed}\npreset = "ci"\n')
    rd.write_manifest({"run_id": Path(path).name, "created": "2026-11-24T00:00:00+00:00", "dataset": dataset,
                       "seed": seed, "preset": "ci", "command": "reports.synthetic.make_synthetic_run",
                       "config_hash": "synthetic", "package_versions": {"numpy": np.__version__,
                                                                        "pandas": pd.__version__},
                       "stages": {"score": {"status": "ok", "seconds": 1.0}}})
    return rd


def _curves(ev, method, dataset, sim, gt):
    from reports.rundir import curves_frame

    return curves_frame(ev, method=method, dataset=dataset, simulator=sim, ground_truth=gt)
