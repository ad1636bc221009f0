"""The depth axis in scoring and the report: difficulty table, claims x depth, the report section."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.scoring.depth import CLAIMS, claims_by_depth, claims_matrix, difficulty_table, groundgan_depths

METHODS = ["pidc", "genie3", "grnboost2", "ppcor", "leap", "scode", "sincerities"]


def _lb(pos_by_source: dict, neg_by_source: dict, depths: dict) -> pd.DataFrame:
    rows = []
    for source, vals in pos_by_source.items():
        for gt, table in (("pos-control", vals), ("neg-control", neg_by_source[source])):
            for m, v in table.items():
                rows.append({"method": m, "simulator": source, "ground_truth": gt, "status": "ok",
                             "auprc_ratio": v, "depth": depths[source]})
    return pd.DataFrame(rows)


def _paper_like(scale: float) -> dict:
    """PIDC > GENIE3 > GRNBoost2 > PPCOR > pseudotime methods, all multiplied by ``scale``."""
    base = dict(zip(METHODS, [5.0, 4.0, 3.0, 2.5, 1.2, 1.1, 1.0]))
    return {m: v * scale for m, v in base.items()}


def test_claims_by_depth_point_values():
    depths = {"groundgan": 1.0, "groundgan-x4": 4.0, "groundgan-inf": math.inf, "real": 1.0}
    real = {m: 2.0 for m in METHODS}
    pos = {"real": real, "groundgan": {m: 2.0 - 0.1 * i for i, m in enumerate(METHODS)},
           "groundgan-x4": _paper_like(1.0), "groundgan-inf": _paper_like(2.5)}
    neg = {"real": real, "groundgan": {m: 1.1 for m in METHODS}, "groundgan-x4": {m: 1.2 for m in METHODS},
           "groundgan-inf": {m: 1.2 for m in METHODS} | {"pidc": 2.5}}
    lb = _lb(pos, neg, depths)
    assert groundgan_depths(lb) == [("groundgan", 1.0), ("groundgan-x4", 4.0), ("groundgan-inf", math.inf)]
    claims = claims_by_depth(lb)
    mat = claims_matrix(claims)
    assert list(mat.columns) == ["1", "4", "inf"] and list(mat.index) == list(CLAIMS)
    # x1: imposed below the real cells for some methods, order GENIE3 < PIDC ... (decreasing list)
    assert mat.loc[CLAIMS[0], "1"] == "fails"
    assert mat.loc[CLAIMS[1], "1"] == "holds"
    assert mat.loc[CLAIMS[2], "1"] == "holds"  # 2.0 > 1.9 > 1.8: PIDC > GENIE3 > GRNBoost2 by point values
    # x4: ordered as the paper, but SINCERITIES etc. below the real cells -> imposed-vs-real fails
    assert mat.loc[CLAIMS[2], "4"] == "holds" and mat.loc[CLAIMS[3], "4"] == "holds"
    assert mat.loc[CLAIMS[0], "4"] == "fails"
    # inf: every imposed ratio x2.5 (above real for all), but PIDC's unimposed is far from random
    assert mat.loc[CLAIMS[0], "inf"] == "holds"
    assert mat.loc[CLAIMS[1], "inf"] == "fails"
    assert "pidc" in claims.set_index(["depth", "claim"]).loc[("inf", CLAIMS[1]), "evidence"]
    table = difficulty_table(lb)
    assert table.loc["pidc", ("inf", "pos-control")] == 12.5 and table.loc["pidc", ("real", "neg-control")] == 2.0


def test_claims_with_confidence_intervals_can_be_inconclusive():
    depths = {"groundgan": 1.0, "groundgan-inf": math.inf, "real": 1.0}
    pos = {"real": {m: 2.0 for m in METHODS}, "groundgan": _paper_like(1.0), "groundgan-inf": _paper_like(3.0)}
    neg = {"real": {m: 2.0 for m in METHODS}, "groundgan": {m: 1.0 for m in METHODS},
           "groundgan-inf": {m: 1.0 for m in METHODS}}
    lb = _lb(pos, neg, depths)
    summary = lb.rename(columns={}).copy()
    summary["baseline"] = False
    wide = summary["simulator"] == "groundgan"  # wide CIs at x1: every comparison overlaps
    half = np.where(wide, 3.0, 0.05)
    summary["auprc_ratio_ci_low"] = summary["auprc_ratio"] - half
    summary["auprc_ratio_ci_high"] = summary["auprc_ratio"] + half
    mat = claims_matrix(claims_by_depth(lb, summary=summary))
    assert (mat["1"] == "inconclusive").all()
    assert mat.loc[CLAIMS[2], "inf"] == "holds" and mat.loc[CLAIMS[1], "inf"] == "holds"
    # without the summary the same point values decide
    assert claims_matrix(claims_by_depth(lb)).loc[CLAIMS[2], "1"] == "holds"


def test_no_depths_no_claims():
    assert claims_by_depth(None).empty
    lb = _lb({"real": {"pidc": 1.0}}, {"real": {"pidc": 1.0}}, {"real": 1.0})
    assert claims_by_depth(lb).empty and groundgan_depths(lb) == []


def test_report_depth_section_with_confidence_intervals():
    from reports.depth import depth_section
    from reports.figures import method_colors

    depths = {"groundgan": 1.0, "groundgan-inf": math.inf, "real": 1.0}
    pos = {"real": {m: 2.0 for m in METHODS}, "groundgan": _paper_like(1.0), "groundgan-inf": _paper_like(3.0)}
    neg = {s: {m: 1.0 for m in METHODS} for s in pos}
    lb = _lb(pos, neg, depths).assign(method=lambda d: d["method"].str.upper())  # leaderboard labels
    summary = lb.assign(baseline=False, auprc_ratio_ci_low=lb["auprc_ratio"] - 0.1,
                        auprc_ratio_ci_high=lb["auprc_ratio"] + 0.1)
    realism = [{"simulator": "groundgan", "metrics": {"rf_auroc": {"simulated": 0.76}, "milisi": {"simulated": 1.8}}},
               {"simulator": "groundgan-inf", "metrics": {"rf_auroc": {"simulated": 0.99}}}]
    sec = depth_section(lb, realism, method_colors(lb["method"]), summary=summary)
    assert sec["with_ci"] and sec["figure"].startswith("data:image/png;base64,")
    texts = [c["text"] for row in sec["difficulty"]["rows"] for c in row]
    assert "15.00 [14.90, 15.10]" in texts  # PIDC imposed at depth inf, with its CI
    verdicts = {c["text"] for row in sec["claims"]["rows"] for c in row[1:]}
    assert verdicts <= {"holds", "fails", "inconclusive"}
    assert [c["text"] for c in sec["realism"]["rows"][1]][:2] == ["inf", "groundgan-inf"]
    assert depth_section(lb[lb["simulator"] != "groundgan-inf"], realism, {}) is None  # one depth: no section
