"""This run's results next to what the GRouNdGAN paper reports for BoneMarrow (only for the bonemarrow dataset).

Every claim the comparison states is tested on this run's leaderboard, with its threshold written in the claim;
claims that the run cannot test (a method or the real-data source missing) are left out rather than stated.

With the run's verdict tables (:mod:`bench.scoring.verdicts`) every claim is decided on the 95 % CIs over the
replicates: ``holds``, ``fails`` or ``inconclusive`` (overlapping CIs), with the numbers as evidence. Without them
(older runs) the point estimates are compared (``holds`` true or false).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# What the paper reports for BoneMarrow (Fig. 5G-H, Supplementary Data 3, text of "Benchmarking GRN inference").
PAPER_BONEMARROW = {
    "dataset": "bonemarrow",
    "order_claims": [("pidc", "genie3"), ("genie3", "grnboost2")],
    "pseudotime_last": ["leap", "scode", "sincerities"],
    # "imposed edges recovered far better than on real data": the median method's AUPRC ratio on the imposed
    # edges of GRouNdGAN data is at least this multiple of its ratio on the same edges of the real data
    "far_better": 1.5,
    # "unimposed edges close to random": every method's AUPRC ratio on the negative control below this
    "near_random": 1.5,
}

PSEUDOTIME_CLAIM = "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others"


def _f(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _ratios(lb: pd.DataFrame, simulator: str) -> pd.DataFrame:
    g = lb[(lb["simulator"] == simulator) & (lb["status"] == "ok")].assign(method=lambda d: d["method"].str.lower())
    return g.pivot_table(index="method", columns="ground_truth", values="auprc_ratio", aggfunc="mean")


def per_method_ratios(lb: pd.DataFrame) -> tuple[dict, list[str]]:
    """AUPRC ratios of the GRouNdGAN rows per method, and the methods ordered by the imposed-edge ratio."""
    piv = _ratios(lb, "groundgan")
    real = _ratios(lb, "real")
    per_method = {}
    for m, r in piv.iterrows():
        p, n = r.get("pos-control", np.nan), r.get("neg-control", np.nan)
        rp = real["pos-control"].get(m, np.nan) if "pos-control" in real else np.nan
        per_method[m] = {"pos_auprc_ratio": _f(p), "neg_auprc_ratio": _f(n), "pos_over_neg": _f(p / n) if n else None,
                         "real_pos_auprc_ratio": _f(rp)}
    order = list(piv["pos-control"].dropna().sort_values(ascending=False).index) if "pos-control" in piv else []
    return per_method, order


def _claim(finding: str, test: str, holds: bool) -> dict:
    return {"finding": finding, "claim": f"{finding} ({test})", "holds": bool(holds)}


def paper_claims(per_method: dict, order: list[str]) -> list[dict]:
    """Each of the paper's BoneMarrow findings that this run can test: the finding in the paper's words, how it
    is tested here, and whether it holds."""
    P = PAPER_BONEMARROW
    on_imposed = "AUPRC ratio on the imposed edges, GRouNdGAN data"
    claims = []
    for a, b in P["order_claims"]:
        if a in order and b in order:
            claims.append(_claim(f"{a} > {b}", on_imposed, order.index(a) < order.index(b)))
    pt = [m for m in P["pseudotime_last"] if m in order]
    others = [m for m in order if m not in P["pseudotime_last"]]
    if pt and others:
        claims.append(_claim("pseudotime methods (LEAP, SCODE, SINCERITIES) last",
                             "every one ranks below every other method, " + on_imposed,
                             max(order.index(m) for m in others) < min(order.index(m) for m in pt)))
    both = {m: v for m, v in per_method.items() if v["pos_auprc_ratio"] is not None
            and v["real_pos_auprc_ratio"] is not None and v["real_pos_auprc_ratio"] > 0}
    if both:
        gain = float(np.median([v["pos_auprc_ratio"] / v["real_pos_auprc_ratio"] for v in both.values()]))
        claims.append(_claim("imposed edges recovered far better than on real data",
                             f"the median method's AUPRC ratio on GRouNdGAN data is at least {P['far_better']:g}x "
                             f"its ratio on the real data; here {gain:.2f}x", gain >= P["far_better"]))
    negs = {m: v["neg_auprc_ratio"] for m, v in per_method.items() if v["neg_auprc_ratio"] is not None}
    if negs:
        worst = max(negs.values())
        claims.append(_claim("unimposed (negative-control) edges close to random",
                             f"AUPRC ratio below {P['near_random']:g} for every method, GRouNdGAN data; here at "
                             f"most {worst:.2f}", worst < P["near_random"]))
    pairs = [v for v in per_method.values() if v["pos_auprc_ratio"] is not None and v["neg_auprc_ratio"] is not None]
    if pairs:
        claims.append(_claim("imposed edges recovered better than unimposed ones", "every method, GRouNdGAN data",
                             all(v["pos_auprc_ratio"] > v["neg_auprc_ratio"] for v in pairs)))
    return claims


def per_method_cis(summary: pd.DataFrame, source: str = "groundgan") -> tuple[dict, list[str]]:
    """Mean AUPRC ratios with their 95 % CIs per method on ``source``, and the methods by imposed-edge mean."""
    blk = summary[summary["simulator"] == source]
    per_method = {}
    for m, g in blk.groupby("method", sort=False):
        r = {gt: row for gt, row in zip(g["ground_truth"], g.to_dict("records"))}
        p, n = r.get("pos-control", {}), r.get("neg-control", {})
        pm, nm = p.get("auprc_ratio", np.nan), n.get("auprc_ratio", np.nan)
        per_method[m] = {"pos_auprc_ratio": _f(pm), "neg_auprc_ratio": _f(nm),
                         "pos_over_neg": _f(pm / nm) if nm and np.isfinite(nm) else None,
                         "pos_ci": [_f(p.get("auprc_ratio_ci_low", np.nan)), _f(p.get("auprc_ratio_ci_high", np.nan))],
                         "neg_ci": [_f(n.get("auprc_ratio_ci_low", np.nan)), _f(n.get("auprc_ratio_ci_high", np.nan))],
                         "tied_group": None if pd.isna(p.get("tied_group")) else int(p.get("tied_group")),
                         "baseline": bool(p.get("baseline", False))}
    pos = blk[(blk["ground_truth"] == "pos-control") & blk["auprc_ratio"].notna()]
    order = list(pos.sort_values(["auprc_ratio", "method"], ascending=[False, True])["method"])
    return per_method, order


def paper_comparison(lb: pd.DataFrame | None, summary: pd.DataFrame | None = None,
                     pairwise: pd.DataFrame | None = None) -> dict:
    """This run's GRouNdGAN results next to the paper's BoneMarrow findings (``{}`` without a leaderboard).

    With ``summary`` (and ``pairwise``) from :func:`bench.scoring.verdicts.compute_verdicts` the claims are
    decided on the CIs (:func:`bench.scoring.verdicts.compare_claims`).
    """
    if lb is None or lb.empty:
        return {}
    lb = lb[lb["dataset"].astype(str).str.lower() == PAPER_BONEMARROW["dataset"]]
    if lb.empty:
        return {}
    if summary is not None and not summary.empty and (summary["simulator"] == "groundgan").any():
        from bench.scoring.verdicts import compare_claims

        summary = summary.assign(method=summary["method"].str.lower())  # the paper's names are lowercase ids
        if pairwise is not None:
            pairwise = pairwise.assign(method_a=pairwise["method_a"].str.lower(),
                                       method_b=pairwise["method_b"].str.lower())
        per_method, order = per_method_cis(summary)
        claims = compare_claims(summary, pairwise, source="groundgan", order_claims=PAPER_BONEMARROW["order_claims"],
                                last_group=PAPER_BONEMARROW["pseudotime_last"], last_label=PSEUDOTIME_CLAIM)
        claims += ci_claims(summary)
        return {"paper": _text(claims), "order": order, "per_method": per_method, "claims": claims,
                "decided_on": "95% CIs over the replicates"}
    per_method, order = per_method_ratios(lb)
    claims = paper_claims(per_method, order)
    if not claims:
        return {}
    return {"paper": _text(claims), "order": order, "per_method": per_method, "claims": claims,
            "decided_on": "point estimates"}


def _text(claims: list[dict]) -> str:
    return "The paper reports for BoneMarrow: " + "; ".join(c.get("finding", c["claim"]) for c in claims) + "."


def ci_claims(summary: pd.DataFrame, source: str = "groundgan", metric: str = "auprc_ratio") -> list[dict]:
    """The two claims about absolute levels, decided on the 95 % CIs of the non-baseline methods.

    *Imposed edges far better than on real data*: holds when the median method's lower bound on GRouNdGAN data is
    at least ``far_better`` x its upper bound on the real data, fails when even the median of the most favourable
    ratios (upper / lower) is below it. *Unimposed edges near random*: holds when every negative-control upper bound
    is below ``near_random``, fails when a lower bound is at or above it.
    """
    P, lo, hi = PAPER_BONEMARROW, f"{metric}_ci_low", f"{metric}_ci_high"
    s = summary[~summary.get("baseline", pd.Series(False, index=summary.index)).astype(bool)]
    s = s.assign(method=s["method"].astype(str).str.lower())

    def block(sim: str, gt: str) -> pd.DataFrame:
        return s[(s["simulator"] == sim) & (s["ground_truth"] == gt) & s[metric].notna()].set_index("method")

    claims = []
    sim, real = block(source, "pos-control"), block("real", "pos-control")
    both = [m for m in sim.index if m in real.index and real.loc[m, hi] > 0 and real.loc[m, lo] > 0]
    if both:
        worst = float(np.median([sim.loc[m, lo] / real.loc[m, hi] for m in both]))
        best = float(np.median([sim.loc[m, hi] / real.loc[m, lo] for m in both]))
        verdict = "holds" if worst >= P["far_better"] else "fails" if best < P["far_better"] else "inconclusive"
        claims.append({"finding": "imposed edges recovered far better than on real data",
                       "claim": f"imposed edges recovered far better than on real data (median method's ratio "
                                f">= {P['far_better']:g}x the real data's)", "verdict": verdict,
                       "holds": verdict == "holds",
                       "evidence": f"median gain between {worst:.2f}x (CI bounds against) and {best:.2f}x (for)"})
    neg = block(source, "neg-control")
    if not neg.empty:
        verdict = ("holds" if (neg[hi] < P["near_random"]).all() else
                   "fails" if (neg[lo] >= P["near_random"]).any() else "inconclusive")
        top = neg[metric].idxmax()
        claims.append({"finding": "unimposed (negative-control) edges close to random",
                       "claim": f"unimposed edges close to random (every method's ratio < {P['near_random']:g})",
                       "verdict": verdict, "holds": verdict == "holds",
                       "evidence": f"highest {top} {neg.loc[top, metric]:.2f} [{neg.loc[top, lo]:.2f}, "
                                   f"{neg.loc[top, hi]:.2f}]"})
    return claims
