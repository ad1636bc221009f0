"""This run's GRouNdGAN results next to what the paper reports for BoneMarrow.

With the run's verdict tables (:mod:`bench.scoring.verdicts`) every claim is decided on the 95 % CIs over the
replicates: ``holds``, ``fails`` or ``inconclusive`` (overlapping CIs), with the numbers as evidence. Without them
(older runs) the point estimates are compared (``holds`` true or false).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# What the paper reports for BoneMarrow (Fig. 5G-H, Supplementary Data 3, text of "Benchmarking GRN inference").
PAPER_BONEMARROW = {
    "order_claims": [("pidc", "genie3"), ("genie3", "grnboost2")],
    "pseudotime_last": ["leap", "scode", "sincerities"],
    "text": ("PIDC > GENIE3 > GRNBoost2; LEAP, SCODE and SINCERITIES (pseudotime methods) last; imposed edges "
             "recovered far better than on real data, unimposed (negative-control) edges close to random."),
}

PSEUDOTIME_CLAIM = "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others"


def _f(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def per_method_ratios(lb: pd.DataFrame) -> tuple[dict, list[str]]:
    """AUPRC ratios of the GRouNdGAN rows per method, and the methods ordered by the imposed-edge ratio."""
    g = lb[(lb["simulator"] == "groundgan") & (lb["status"] == "ok")].assign(method=lambda d: d["method"].str.lower())
    piv = g.pivot_table(index="method", columns="ground_truth", values="auprc_ratio", aggfunc="mean")
    per_method = {}
    for m, r in piv.iterrows():
        p, n = r.get("pos-control", np.nan), r.get("neg-control", np.nan)
        per_method[m] = {"pos_auprc_ratio": _f(p), "neg_auprc_ratio": _f(n), "pos_over_neg": _f(p / n) if n else None}
    order = list(piv["pos-control"].sort_values(ascending=False).index) if "pos-control" in piv else []
    return per_method, order


def paper_claims(per_method: dict, order: list[str]) -> list[dict]:
    """Each of the paper's findings that this run can test, and whether it holds here."""
    claims = []
    for a, b in PAPER_BONEMARROW["order_claims"]:
        if a in order and b in order:
            claims.append({"claim": f"{a} > {b}", "holds": order.index(a) < order.index(b)})
    pt = [m for m in PAPER_BONEMARROW["pseudotime_last"] if m in order]
    others = [m for m in order if m not in PAPER_BONEMARROW["pseudotime_last"]]
    if pt and others:
        claims.append({"claim": PSEUDOTIME_CLAIM,
                       "holds": max(order.index(m) for m in others) < min(order.index(m) for m in pt)})
    negs = [v["neg_auprc_ratio"] for v in per_method.values() if v["neg_auprc_ratio"] is not None]
    poss = [v["pos_auprc_ratio"] for v in per_method.values() if v["pos_auprc_ratio"] is not None]
    if negs and poss:
        claims.append({"claim": "imposed edges recovered better than unimposed for every method",
                       "holds": all((v["pos_auprc_ratio"] or 0) > (v["neg_auprc_ratio"] or 0)
                                    for v in per_method.values())})
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
    if summary is not None and not summary.empty and (summary["simulator"] == "groundgan").any():
        from bench.scoring.verdicts import compare_claims

        summary = summary.assign(method=summary["method"].str.lower())  # the paper's names are lowercase ids
        if pairwise is not None:
            pairwise = pairwise.assign(method_a=pairwise["method_a"].str.lower(),
                                       method_b=pairwise["method_b"].str.lower())
        per_method, order = per_method_cis(summary)
        claims = compare_claims(summary, pairwise, source="groundgan", order_claims=PAPER_BONEMARROW["order_claims"],
                                last_group=PAPER_BONEMARROW["pseudotime_last"], last_label=PSEUDOTIME_CLAIM)
        return {"paper": PAPER_BONEMARROW["text"], "order": order, "per_method": per_method, "claims": claims,
                "decided_on": "95% CIs over the replicates"}
    if lb is None or lb.empty:
        return {}
    per_method, order = per_method_ratios(lb)
    return {"paper": PAPER_BONEMARROW["text"], "order": order, "per_method": per_method,
            "claims": paper_claims(per_method, order), "decided_on": "point estimates"}
