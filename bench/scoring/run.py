"""Score a run: every (source, method) against both controls, realism of the simulated cells, knockouts, and the
verdicts (CIs over the replicates, win probabilities, stability, QC gates: :mod:`bench.scoring.verdicts`).

Rows and curves are collected first and the leaderboard and curves files written once per scoring, through
:class:`reports.rundir.RunDir`. Every row copies the method's run record fields under their shared names
(:meth:`methods.record.RunRecord.leaderboard_fields`). Sources are :class:`bench.pipeline.sources.Source`-like
objects (``name`` = folder, ``simulator`` = data source, ``replicate``, ``model``); curves are kept for replicate 0.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from bench.arrays import dense
from bench.config import RunConfig
from bench.scoring.depth import claims_by_depth, groundgan_depths
from bench.scoring.grn import control_universe, evaluate_grn
from bench.scoring.knockout import fraction_significant, knockout_study
from bench.scoring.paper import paper_comparison
from bench.scoring.realism import realism_with_control
from bench.scoring.verdicts import Verdicts, VerdictSettings, compute_verdicts
from datasets.prepare import package_versions
from methods.base import Method
from methods.record import RunRecord
from reports.leaderboard import make_row
from reports.rundir import RunDir, curves_frame

CONTROLS = ("pos-control", "neg-control")
SIMULATED = ("groundgan", "scgan")  # sources whose cells are compared with the held-out real cells


def read_record(method_dir) -> RunRecord | None:
    f = method_dir / "record.json"
    return RunRecord.from_dict(json.loads(f.read_text())) if f.exists() else None


def method_rows(rd: RunDir, *, cfg: RunConfig, source, method: Method, pos, neg, universe_genes,
                default_preset: str | None, common: dict[str, Any]
                ) -> tuple[list[dict], list[pd.DataFrame], pd.DataFrame | None]:
    """Leaderboard rows (one per control), curves (replicate 0) and predicted edges of one method on one source."""
    mdir = rd.path / "infer" / source.name / method.name
    rec = read_record(mdir) or RunRecord(method=method.name)
    fields = {**rec.leaderboard_fields(), "preset": rec.preset or default_preset}
    keys = dict(method=method.label, dataset=cfg.dataset, simulator=source.simulator)  # display label
    ok = rec.status == "ok" and (mdir / "edges.parquet").exists()
    pred = pd.read_parquet(mdir / "edges.parquet") if ok else None
    rows, curves = [], []
    for gt, truth in zip(CONTROLS, (pos, neg)):
        if ok:
            ev = evaluate_grn(pred, truth, universe="imposed", k_max=cfg.k_max,
                              candidate_regulators=universe_genes[0], candidate_targets=universe_genes[1])
            row = {**fields, "error": None, "stderr_tail": None, "n_edges_predicted": len(pred)}
            rows.append(make_row(metrics=ev.metrics, ground_truth=gt, replicate=source.replicate, **keys, **common,
                                 **row))
            if source.replicate == 0:
                curves.append(curves_frame(ev, ground_truth=gt, **keys))
        else:
            row = {**fields, "status": rec.status if rec.status in ("failed", "timeout") else "failed",
                   "n_edges_predicted": None}
            rows.append(make_row(ground_truth=gt, universe="imposed", replicate=source.replicate, **keys, **common,
                                 **row))
    return rows, curves, pred


def score_edges(rd: RunDir, *, cfg: RunConfig, sources: Sequence, methods: Sequence[Method], pos, neg,
                preset_of: Callable[[Method], str | None], depth_of: Mapping[str, float] | None = None
                ) -> tuple[int, dict]:
    """Write the leaderboard and the curves (once each); returns the number of rows and the predictions
    ``{simulator: {method: [edges or None per replicate]}}`` for :func:`bench.scoring.verdicts.compute_verdicts`.
    ``depth_of`` gives each data source's measurement depth (the leaderboard's ``depth`` column)."""
    universe_genes = control_universe(pos, neg)
    base = dict(seed=cfg.seed, config_hash=cfg.hash(), package_versions=package_versions(), run_id=rd.path.name,
                n_genes=len(set(pos.regulator) | set(pos.target)), protocol=cfg.protocol)
    rows, curves = [], []
    preds: dict[str, dict[str, list]] = {}
    for source in sorted(sources, key=lambda s: s.replicate):
        for m in methods:
            r, c, pred = method_rows(rd, cfg=cfg, source=source, method=m, pos=pos, neg=neg,
                                     universe_genes=universe_genes, default_preset=preset_of(m),
                                     common={**base, "depth": (depth_of or {}).get(source.simulator)})
            rows += r
            curves += c
            preds.setdefault(source.simulator, {}).setdefault(m.name, []).append(pred)
    rd.write_leaderboard(pd.DataFrame(rows))
    if curves:
        rd.write_curves(pd.concat(curves, ignore_index=True))
    return len(rows), preds


def score_verdicts(rd: RunDir, *, cfg: RunConfig, sources: Sequence, methods: Sequence[Method], preds: dict, pos,
                   neg, realism: dict, say: Callable[[str], None]) -> Verdicts:
    """CIs, win probabilities, tied groups, stability and QC gates over the replicates; written to the run dir."""
    import time

    t = time.perf_counter()
    settings = VerdictSettings(n_boot=int(cfg.n_boot), seed=cfg.seed, k_max=cfg.k_max,
                               rf_auroc_max=float(cfg.rf_auroc_max))
    regs, tgts = control_universe(pos, neg)
    imposing = {s.simulator: "pos-control" for s in sources if s.model == "groundgan"}  # GRouNdGAN imposes it
    v = compute_verdicts(preds, dict(zip(CONTROLS, (pos, neg))), candidate_regulators=regs, candidate_targets=tgts,
                         settings=settings, baselines=[m.name for m in methods if m.info.baseline],
                         imposing=imposing,
                         realism_auroc={s: r["simulated"].get("rf_auroc") for s, r in realism.items()})
    rd.write_verdicts(v, dataset=cfg.dataset)
    fired = v.gates_fired()
    say(f"  verdicts: {len(v.summary)} CIs, {len(v.pairwise)} win probabilities ({settings.n_boot} resamples) in "
        f"{time.perf_counter() - t:.1f} s; QC gates fired: "
        + (", ".join(f"{r.simulator}/{r.ground_truth} {r.gate}" for r in fired.itertuples()) or "none"))
    return v


def score_realism(rd: RunDir, *, cfg: RunConfig, sources: Sequence[str], test, say: Callable[[str], None],
                  simulated: Sequence[str] = SIMULATED) -> dict:
    """Simulated cells (the ``simulated`` sources, e.g. every GRouNdGAN depth) against the held-out real cells,
    with a real-vs-real control."""
    realism = {}
    for source in [s for s in sources if s in simulated]:
        sim = ad.read_h5ad(rd.path / "simulate" / f"{source}.h5ad")
        genes = [g for g in sim.var_names if g in set(test.var_names)]
        real_x, sim_x = dense(test[:, genes].X, np.float32), dense(sim[:, genes].X, np.float32)
        res = realism_with_control(real_x, sim_x, seed=cfg.seed, rf_trees=int(cfg.realism_rf_trees or 1000),
                                   max_cells=cfg.realism_max_cells)
        rd.add_realism(res, dataset=cfg.dataset, simulator=source)
        realism[source] = {"simulated": res.simulated, "control": res.control}
        say(f"  realism {source}: RF AUROC {res.simulated['rf_auroc']:.3f} (control {res.control['rf_auroc']:.3f}), "
            f"miLISI {res.simulated['milisi']:.3f} (control {res.control['milisi']:.3f})")
    return realism


def score_knockouts(rd: RunDir, *, cfg: RunConfig, pos, model, say: Callable[[str], None]) -> dict:
    """Knock out the TFs with the most imposed targets; how many of their edges change significantly."""
    top_tfs = pos.groupby("regulator").size().sort_values(ascending=False, kind="mergesort")
    chosen = list(top_tfs.index[: cfg.knockout_tfs])
    ko_by_tf, base = {}, None
    for tf in chosen:
        # deterministic mode: the same seed gives the same control cells for every knockout
        base, ko_by_tf[tf] = model.perturb(cfg.knockout_cells, {tf: 0.0}, seed=cfg.seed)
    stats = knockout_study(base, ko_by_tf, pos)
    rd.add_knockout(stats, dataset=cfg.dataset, simulator="groundgan")
    info = {"tfs": chosen, "edges_tested": int(len(stats)), "fraction_significant": float(fraction_significant(stats))}
    say(f"  knockouts of {', '.join(chosen)}: {info['fraction_significant']:.0%} of {len(stats)} edges change "
        f"significantly (BH < 0.05)")
    return info


def score_run(rd: RunDir, *, cfg: RunConfig, sources: Sequence, methods: Sequence[Method], pos, neg, test,
              preset_of: Callable[[Method], str | None], load_groundgan: Callable[[], Any],
              say: Callable[[str], None] = lambda msg: None, depth_of: Mapping[str, float] | None = None,
              simulated: Sequence[str] = SIMULATED) -> dict:
    """Rebuild every score file of the run; returns rows, realism, knockout, verdict settings and the paper
    comparison. ``sources``: the run's sources with their replicates (see the module docstring)."""
    from reports.rundir import VERDICT_PARTS

    for part in ("leaderboard", "curves", "realism", "embedding", "knockout", *VERDICT_PARTS):  # rebuilt whole
        with contextlib.suppress(FileNotFoundError):
            rd.file(part).unlink()
    rows, preds = score_edges(rd, cfg=cfg, sources=sources, methods=methods, pos=pos, neg=neg, preset_of=preset_of,
                              depth_of=depth_of)
    say(f"  scored {rows} leaderboard rows")
    realism = score_realism(rd, cfg=cfg, sources=[s.name for s in sources if s.replicate == 0], test=test, say=say,
                            simulated=simulated)
    v = score_verdicts(rd, cfg=cfg, sources=sources, methods=methods, preds=preds, pos=pos, neg=neg,
                       realism=realism, say=say)
    knockout = score_knockouts(rd, cfg=cfg, pos=pos, model=load_groundgan(), say=say) if cfg.knockout_tfs > 0 else {}
    lb = rd.read_leaderboard()
    claims = claims_by_depth(lb, v.summary) if len(groundgan_depths(lb)) > 1 else None
    return {"rows": rows, "knockout": knockout, "realism": realism, "verdicts": v.settings.as_dict(),
            "paper_comparison": paper_comparison(lb, v.summary, v.pairwise),
            "depth_claims": None if claims is None else claims.to_dict("records")}
