"""This run's results next to what the GRouNdGAN paper reports for BoneMarrow (only for the bonemarrow dataset).

Every claim the comparison states is tested on this run's leaderboard, with its threshold written in the claim;
claims that the run cannot test (a method or the real-data source missing) are left out rather than stated.
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


def _f(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _ratios(lb: pd.DataFrame, simulator: str) -> pd.DataFrame:
    g = lb[(lb["simulator"] == simulator) & (lb["status"] == "ok")].assign(method=lambda d: d["method"].str.lower())
    return g.pivot_table(index="method", columns="ground_truth", values="auprc_ratio", aggfunc="first")


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


def paper_comparison(lb: pd.DataFrame | None) -> dict:
    """This run's bonemarrow results next to the paper's BoneMarrow findings (``{}`` for other datasets).

    ``paper`` is the list of the tested claims in words, so the report never states a claim it did not test.
    """
    if lb is None or lb.empty:
        return {}
    lb = lb[lb["dataset"].astype(str).str.lower() == PAPER_BONEMARROW["dataset"]]
    if lb.empty:
        return {}
    per_method, order = per_method_ratios(lb)
    claims = paper_claims(per_method, order)
    if not claims:
        return {}
    text = "The paper reports for BoneMarrow: " + "; ".join(c["finding"] for c in claims) + "."
    return {"paper": text, "order": order, "per_method": per_method, "claims": claims}
