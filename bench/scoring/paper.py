"""This run's GRouNdGAN results next to what the paper reports for BoneMarrow."""

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


def _f(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def per_method_ratios(lb: pd.DataFrame) -> tuple[dict, list[str]]:
    """AUPRC ratios of the GRouNdGAN rows per method, and the methods ordered by the imposed-edge ratio."""
    g = lb[(lb["simulator"] == "groundgan") & (lb["status"] == "ok")].assign(method=lambda d: d["method"].str.lower())
    piv = g.pivot_table(index="method", columns="ground_truth", values="auprc_ratio", aggfunc="first")
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
        claims.append({"claim": "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others",
                       "holds": max(order.index(m) for m in others) < min(order.index(m) for m in pt)})
    negs = [v["neg_auprc_ratio"] for v in per_method.values() if v["neg_auprc_ratio"] is not None]
    poss = [v["pos_auprc_ratio"] for v in per_method.values() if v["pos_auprc_ratio"] is not None]
    if negs and poss:
        claims.append({"claim": "imposed edges recovered better than unimposed for every method",
                       "holds": all((v["pos_auprc_ratio"] or 0) > (v["neg_auprc_ratio"] or 0)
                                    for v in per_method.values())})
    return claims


def paper_comparison(lb: pd.DataFrame | None) -> dict:
    """This run's GRouNdGAN results next to the paper's BoneMarrow findings (``{}`` without a leaderboard)."""
    if lb is None or lb.empty:
        return {}
    per_method, order = per_method_ratios(lb)
    return {"paper": PAPER_BONEMARROW["text"], "order": order, "per_method": per_method,
            "claims": paper_claims(per_method, order)}
