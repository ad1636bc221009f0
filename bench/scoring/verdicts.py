"""Verdicts with their uncertainty: confidence intervals, win probabilities, tied ranks, stability and QC gates.

Input: for each data source, each method's predicted edges on each of ``R`` replicate datasets, and the ground
truths (positive and negative control) on one fixed candidate universe. Output (:class:`Verdicts`), four tables
that the pipeline writes to the run directory:

``summary`` (``summary.parquet``)
    one row per source x ground truth x method: for each metric of
    :data:`bench.scoring.bootstrap.BOOT_METRICS` the mean over replicates and a 95 % CI
    (``<metric>_ci_low`` / ``<metric>_ci_high``) from the hierarchical bootstrap of
    :mod:`bench.scoring.bootstrap`; ``tied_group`` (1 = best), ``baseline``, ``qc``.
``pairwise`` (``pairwise.parquet``)
    P(A beats B) for every ordered pair of methods of a block and every bootstrapped metric, from the paired
    bootstrap (the same resamples for every method); ``decisive`` = P >= ``level``.
``stability``
    BEELINE's stability across replicates, per source x method: the median pairwise Spearman correlation of
    the method's edge scores over the universe, and the median pairwise Jaccard index of its top-k edges
    (k = number of positive-control edges; zero scores never count as predicted).
``qc``
    QC gates per source x ground truth (flags, never drops): ``uninformative`` (the best method's CI does not
    clear the random baseline's), ``not-imposed`` (for a source that imposes the positive control: the best
    method's positive-control CI does not clear its negative-control CI), ``unrealistic`` (a simulated source
    whose real-vs-simulated RF AUROC exceeds ``rf_auroc_max``).

Tied groups: methods in order of their mean (``metric``, default the AUPRC ratio); a method joins the current
group unless the group's first method beats it decisively (P >= ``level``), else it starts the next group. So
two methods share a group exactly when the comparison with the group's leader is not decisive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from bench.scoring.bootstrap import (BOOT_METRICS, block_seed, bootstrap_distribution, draw_resamples,
                                     edge_statistics, percentile_ci, win_probability)

PRIMARY_METRIC = "auprc_ratio"
GATES = ("uninformative", "not-imposed", "unrealistic")
SUMMARY_KEYS = ["simulator", "ground_truth", "method"]

# predictions[source][method] = one edge table (or None = failed) per replicate
Predictions = Mapping[str, Mapping[str, Sequence[pd.DataFrame | None]]]


@dataclass
class VerdictSettings:
    """Knobs of :func:`compute_verdicts` (recorded in the manifest)."""

    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    k_max: int = 10
    metric: str = PRIMARY_METRIC
    rf_auroc_max: float = 0.85
    random_baseline: str = "random"

    def as_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class Verdicts:
    """The four tables described in the module docstring."""

    summary: pd.DataFrame
    pairwise: pd.DataFrame
    stability: pd.DataFrame
    qc: pd.DataFrame
    settings: VerdictSettings = field(default_factory=VerdictSettings)

    def gates_fired(self) -> pd.DataFrame:
        return self.qc[self.qc["fired"]].reset_index(drop=True)


def _universe_arrays(truth: pd.DataFrame, regs: list[str], tgts: list[str]):
    """Flattened labels (and pair indices) of ``truth`` on the fixed universe regs x tgts."""
    from bench.edges import empty_edges
    from bench.scoring.grn import _flatten

    return _flatten(empty_edges(), truth, "imposed", regs, tgts)


def _scores(pred: pd.DataFrame, truth: pd.DataFrame, regs: list[str], tgts: list[str]) -> np.ndarray:
    from bench.scoring.grn import _flatten

    return _flatten(pred, truth, "imposed", regs, tgts).scores


def compute_verdicts(predictions: Predictions, truths: Mapping[str, pd.DataFrame], *,
                     candidate_regulators: Iterable[str], candidate_targets: Iterable[str],
                     settings: VerdictSettings | None = None, baselines: Iterable[str] = (),
                     imposing: Mapping[str, str] | None = None, realism_auroc: Mapping[str, float] | None = None,
                     stability_truth: str | None = None) -> Verdicts:
    """Bootstrap every block and derive the verdict tables.

    Parameters
    ----------
    predictions
        ``{source: {method: [edges or None per replicate]}}``; every method of a source has the same number of
        replicates (``None`` = failed on that replicate).
    truths
        ``{ground_truth_name: edges}`` (e.g. ``pos-control``, ``neg-control``).
    candidate_regulators, candidate_targets
        The fixed universe (:func:`bench.scoring.grn.control_universe` of the truths).
    settings
        :class:`VerdictSettings`.
    baselines
        Method names that are baselines (flagged in the summary, never "the best method" of a gate).
    imposing
        ``{source: (imposed truth, unimposed truth)}``-like mapping ``{source: imposed_truth_name}`` for the
        sources whose simulator imposes a truth; the ``not-imposed`` gate compares it with every other truth.
    realism_auroc
        ``{source: RF AUROC real vs simulated}`` for the simulated sources (``unrealistic`` gate).
    stability_truth
        Truth whose size sets k of the top-k Jaccard index (default: the first truth).
    """
    cfg = settings or VerdictSettings()
    regs, tgts = sorted(candidate_regulators), sorted(candidate_targets)
    baselines = set(baselines)
    truth_names = list(truths)
    flat = {gt: _universe_arrays(t, regs, tgts) for gt, t in truths.items()}
    any_flat = next(iter(flat.values()))
    k_stab = int(flat[stability_truth or truth_names[0]].labels.sum())

    summary, pairwise, stability = [], [], []
    for source, by_method in predictions.items():
        methods = list(by_method)
        n_rep = max((len(v) for v in by_method.values()), default=0)
        res = draw_resamples(n_rep, any_flat.n_targets, cfg.n_boot, block_seed(cfg.seed, source))
        first_truth = truths[truth_names[0]]
        scores = {m: [None if p is None else _scores(p, first_truth, regs, tgts) for p in reps]
                  for m, reps in by_method.items()}
        for m in methods:
            stability.append({"simulator": source, "method": m, "baseline": m in baselines,
                              **_stability(scores[m], k_stab)})
        for gt in truth_names:
            f = flat[gt]
            dists = {}
            for m in methods:
                stats = [None if s is None else edge_statistics(s, f.labels, f.reg, f.tgt, f.n_targets, cfg.k_max)
                         for s in scores[m]]
                dists[m] = bootstrap_distribution(stats, res)
            summary.extend(_summary_rows(source, gt, dists, scores, baselines, cfg))
            pairwise.extend(_pairwise_rows(source, gt, dists, cfg))

    summary_df = pd.DataFrame(summary)
    pairwise_df = pd.DataFrame(pairwise, columns=["simulator", "ground_truth", "metric", "method_a", "method_b",
                                                  "p_a_beats_b", "decisive"])
    if not summary_df.empty:
        summary_df = _assign_groups(summary_df, pairwise_df, cfg)
    qc = qc_gates(summary_df, cfg, imposing=imposing or {}, realism_auroc=realism_auroc or {})
    if not summary_df.empty:
        summary_df["qc"] = [_qc_text(qc, s, g) for s, g in zip(summary_df["simulator"], summary_df["ground_truth"])]
    stab_df = pd.DataFrame(stability, columns=["simulator", "method", "baseline", "n_replicates", "n_pairs", "k",
                                               "spearman_median", "jaccard_median"])
    return Verdicts(summary_df, pairwise_df, stab_df, qc, cfg)


def _summary_rows(source, gt, dists, scores, baselines, cfg) -> list[dict]:
    rows = []
    for m, d in dists.items():
        row = {"simulator": source, "ground_truth": gt, "method": m, "baseline": m in baselines,
               "n_replicates": len(scores[m]), "n_ok": sum(s is not None for s in scores[m]),
               "n_boot": cfg.n_boot, "ci_level": cfg.level}
        for metric in BOOT_METRICS:
            draws = d[metric]
            lo, hi = percentile_ci(draws[1:], cfg.level)
            row[metric] = float(draws[0])
            row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = lo, hi
        row["_draws"] = d[cfg.metric][1:]
        rows.append(row)
    return rows


def _pairwise_rows(source, gt, dists, cfg) -> list[dict]:
    rows = []
    for metric in BOOT_METRICS:
        for a, b in combinations(dists, 2):
            p = win_probability(dists[a][metric][1:], dists[b][metric][1:])
            for x, y, q in ((a, b, p), (b, a, 1 - p if np.isfinite(p) else p)):
                rows.append({"simulator": source, "ground_truth": gt, "metric": metric, "method_a": x, "method_b": y,
                             "p_a_beats_b": q, "decisive": bool(np.isfinite(q) and q >= cfg.level)})
    return rows


def tied_groups(means: Mapping[str, float], p_beats: Mapping[tuple[str, str], float],
                level: float = 0.95) -> dict[str, int]:
    """Tied groups (1 = best) from mean scores and pairwise win probabilities (see the module docstring).

    Methods with a NaN mean get no group (absent from the result).
    """
    order = sorted((m for m, v in means.items() if np.isfinite(v)), key=lambda m: (-means[m], m))
    groups: dict[str, int] = {}
    group, leader = 0, None
    for m in order:
        if leader is None or p_beats.get((leader, m), np.nan) >= level:
            group, leader = group + 1, m
        groups[m] = group
    return groups


def _assign_groups(summary: pd.DataFrame, pairwise: pd.DataFrame, cfg: VerdictSettings) -> pd.DataFrame:
    pw = pairwise[pairwise["metric"] == cfg.metric]
    out = []
    for (src, gt), blk in summary.groupby(["simulator", "ground_truth"], sort=False):
        sub = pw[(pw["simulator"] == src) & (pw["ground_truth"] == gt)]
        p = {(a, b): v for a, b, v in zip(sub["method_a"], sub["method_b"], sub["p_a_beats_b"])}
        g = tied_groups(dict(zip(blk["method"], blk[cfg.metric])), p, cfg.level)
        blk = blk.assign(tied_group=blk["method"].map(g).astype("Int64"))
        blk = blk.assign(rank=blk[cfg.metric].rank(ascending=False, method="min").astype("Int64"))
        out.append(blk)
    return pd.concat(out, ignore_index=True).drop(columns="_draws")


def _stability(scores: list[np.ndarray | None], k: int) -> dict:
    from scipy.stats import rankdata

    ok = [s for s in scores if s is not None]
    ranks = [rankdata(s) for s in ok]  # Spearman = Pearson of the (average-tie) ranks
    tops = [_top_k(s, k) for s in ok]
    rho, jac = [], []
    for i, j in combinations(range(len(ok)), 2):
        if np.ptp(ok[i]) > 0 and np.ptp(ok[j]) > 0:
            rho.append(float(np.corrcoef(ranks[i], ranks[j])[0, 1]))
        ta, tb = tops[i], tops[j]
        union = len(ta | tb)
        jac.append(len(ta & tb) / union if union else np.nan)
    med = lambda v: float(np.nanmedian(v)) if len(v) and np.isfinite(v).any() else np.nan  # noqa: E731
    return {"n_replicates": len(ok), "n_pairs": len(ok) * (len(ok) - 1) // 2, "k": int(k),
            "spearman_median": med(rho), "jaccard_median": med(jac)}


def _top_k(s: np.ndarray, k: int) -> set[int]:
    order = np.lexsort((np.arange(len(s)), -s))[:k]
    return set(int(i) for i in order if s[i] > 0)


def qc_gates(summary: pd.DataFrame, cfg: VerdictSettings, *, imposing: Mapping[str, str],
             realism_auroc: Mapping[str, float]) -> pd.DataFrame:
    """One row per source x ground truth x gate: ``fired`` and a one-line ``detail``."""
    rows = []
    cols = ["simulator", "ground_truth", "gate", "fired", "detail"]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=cols)
    m, lo, hi = cfg.metric, f"{cfg.metric}_ci_low", f"{cfg.metric}_ci_high"
    for (src, gt), blk in summary.groupby(["simulator", "ground_truth"], sort=False):
        cand = blk[~blk["baseline"] & blk[m].notna()]
        best = cand.loc[cand[m].idxmax()] if len(cand) else None
        rnd = blk[blk["method"] == cfg.random_baseline]
        if best is None:
            rows.append((src, gt, "uninformative", True, "no method finished"))
        else:
            if len(rnd) and np.isfinite(rnd[hi].iloc[0]):
                floor, what = float(rnd[hi].iloc[0]), f"the {cfg.random_baseline} baseline's CI high"
            else:
                floor, what = 1.0, "1 (random expectation; no random baseline ran)"
            fired = not (best[lo] > floor)
            rows.append((src, gt, "uninformative", fired,
                         f"best method {best['method']}: {m} CI low {best[lo]:.3f} "
                         f"{'<=' if fired else '>'} {what} {floor:.3f}"))
        if imposing.get(src) == gt and best is not None:
            others = summary[(summary["simulator"] == src) & (summary["ground_truth"] != gt)
                             & (summary["method"] == best["method"])]
            for _, o in others.iterrows():
                fired = not (best[lo] > o[hi])
                rows.append((src, gt, "not-imposed", fired,
                             f"best method {best['method']}: {gt} CI low {best[lo]:.3f} "
                             f"{'<=' if fired else '>'} {o['ground_truth']} CI high {o[hi]:.3f}"))
        if src in realism_auroc and realism_auroc[src] is not None and np.isfinite(realism_auroc[src]):
            a = float(realism_auroc[src])
            fired = a > cfg.rf_auroc_max
            rows.append((src, gt, "unrealistic", fired,
                         f"RF AUROC real vs simulated {a:.3f} {'>' if fired else '<='} {cfg.rf_auroc_max}"))
    return pd.DataFrame(rows, columns=cols)


def _qc_text(qc: pd.DataFrame, source: str, gt: str) -> str:
    fired = qc[(qc["simulator"] == source) & (qc["ground_truth"] == gt) & qc["fired"]]
    return ",".join(dict.fromkeys(fired["gate"]))


def qc_labels(qc: pd.DataFrame) -> dict[tuple[str, str], str]:
    """``{(source, ground_truth): "gate,gate"}`` of the gates fired (empty string: none), for the ``qc`` columns."""
    if qc is None or qc.empty:
        return {}
    return {(s, g): _qc_text(qc, s, g) for s, g in qc[["simulator", "ground_truth"]].drop_duplicates().to_numpy()}


def with_qc(verdicts: Verdicts, qc: pd.DataFrame) -> Verdicts:
    """``verdicts`` with another QC table (e.g. once the realism scores are known) and its summary ``qc`` column."""
    summary = verdicts.summary.copy()
    if not summary.empty:
        summary["qc"] = [_qc_text(qc, s, g) for s, g in zip(summary["simulator"], summary["ground_truth"])]
    return Verdicts(summary, verdicts.pairwise, verdicts.stability, qc, verdicts.settings)


def adjacent_pairs(summary: pd.DataFrame, pairwise: pd.DataFrame, source: str, gt: str,
                   metric: str = PRIMARY_METRIC) -> pd.DataFrame:
    """P(A beats B) for each adjacent pair of the ranking of one block (A ranked just above B)."""
    blk = summary[(summary["simulator"] == source) & (summary["ground_truth"] == gt) & summary[metric].notna()]
    order = list(blk.sort_values([metric, "method"], ascending=[False, True])["method"])
    pw = pairwise[(pairwise["simulator"] == source) & (pairwise["ground_truth"] == gt)
                  & (pairwise["metric"] == metric)].set_index(["method_a", "method_b"])["p_a_beats_b"]
    rows = [{"method_a": a, "method_b": b, "p_a_beats_b": float(pw.get((a, b), np.nan))}
            for a, b in zip(order, order[1:])]
    return pd.DataFrame(rows, columns=["method_a", "method_b", "p_a_beats_b"])


def _ci(summary_block: pd.DataFrame, m: str, metric: str) -> tuple[float, float, float]:
    r = summary_block.loc[m]
    return float(r[metric]), float(r[f"{metric}_ci_low"]), float(r[f"{metric}_ci_high"])


def compare_claims(summary: pd.DataFrame, pairwise: pd.DataFrame | None, *, source: str,
                   order_claims: Sequence[tuple[str, str]] = (), last_group: Sequence[str] = (),
                   last_label: str | None = None, pos: str = "pos-control", neg: str = "neg-control", metric: str = PRIMARY_METRIC) -> list[dict]:
    """Check a paper's claims on one source with the CIs: each claim ``holds``, ``fails`` or is ``inconclusive``.

    ``a > b`` holds when a's CI lies above b's, fails when it lies below, and is inconclusive when they overlap;
    ``last_group`` (e.g. the pseudotime methods) holds when every CI of the group lies below every other
    non-baseline method's CI, fails when one of the group lies above one of the others; "imposed better than
    unimposed" compares each non-baseline method's positive-control CI with its negative-control CI. Each claim
    carries its ``evidence`` (the numbers) and, for ``a > b``, P(a beats b).
    """
    blk = summary[(summary["simulator"] == source) & (summary["ground_truth"] == pos) & summary[metric].notna()]
    blk = blk.set_index("method")
    real = [m for m in blk.index if not bool(blk.loc[m, "baseline"])]
    p = {}
    if pairwise is not None and not pairwise.empty:
        pw = pairwise[(pairwise["simulator"] == source) & (pairwise["ground_truth"] == pos)
                      & (pairwise["metric"] == metric)]
        p = {(a, b): v for a, b, v in zip(pw["method_a"], pw["method_b"], pw["p_a_beats_b"])}
    fmt = lambda m: "{} {:.2f} [{:.2f}, {:.2f}]".format(m, *_ci(blk, m, metric))  # noqa: E731
    claims = []
    for a, b in order_claims:
        if a not in blk.index or b not in blk.index:
            continue
        (_, alo, ahi), (_, blo, bhi) = _ci(blk, a, metric), _ci(blk, b, metric)
        verdict = "holds" if alo > bhi else "fails" if ahi < blo else "inconclusive"
        pab = p.get((a, b), np.nan)
        claims.append({"claim": f"{a} > {b}", "verdict": verdict, "holds": verdict == "holds",
                       "p_a_beats_b": None if not np.isfinite(pab) else round(float(pab), 4),
                       "evidence": f"{fmt(a)} vs {fmt(b)}; P({a} beats {b}) = {pab:.3f}"})
    group = [m for m in last_group if m in real]
    others = [m for m in real if m not in group]
    if group and others:
        top_group = max(group, key=lambda m: blk.loc[m, f"{metric}_ci_high"])
        low_other = min(others, key=lambda m: blk.loc[m, f"{metric}_ci_low"])
        hi_g, lo_o = blk.loc[top_group, f"{metric}_ci_high"], blk.loc[low_other, f"{metric}_ci_low"]
        above = [(g, o) for g in group for o in others
                 if blk.loc[g, f"{metric}_ci_low"] > blk.loc[o, f"{metric}_ci_high"]]
        verdict = "holds" if hi_g < lo_o else "fails" if above else "inconclusive"
        ev = f"highest of the group {fmt(top_group)}, lowest of the others {fmt(low_other)}"
        if above:
            ev += f"; {above[0][0]} lies above {above[0][1]}"
        claims.append({"claim": last_label or f"{', '.join(group)} below the other methods", "verdict": verdict,
                       "holds": verdict == "holds", "evidence": ev})
    nb = summary[(summary["simulator"] == source) & (summary["ground_truth"] == neg)].set_index("method")
    both = [m for m in real if m in nb.index and np.isfinite(nb.loc[m, metric])]
    if both:
        above = [m for m in both if blk.loc[m, f"{metric}_ci_low"] > nb.loc[m, f"{metric}_ci_high"]]
        below = [m for m in both if blk.loc[m, f"{metric}_ci_high"] < nb.loc[m, f"{metric}_ci_low"]]
        verdict = "holds" if len(above) == len(both) else "fails" if below else "inconclusive"
        claims.append({"claim": "imposed edges recovered better than unimposed for every method",
                       "verdict": verdict, "holds": verdict == "holds",
                       "evidence": f"imposed CI above unimposed CI for {len(above)} of {len(both)} methods"
                                   + (f"; below for {', '.join(below)}" if below else "")})
    return claims
