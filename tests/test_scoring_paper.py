"""The comparison of a run's GRouNdGAN results with the paper's BoneMarrow findings."""

from __future__ import annotations

import pandas as pd

from bench.scoring.paper import PAPER_BONEMARROW, paper_comparison
from reports.leaderboard import make_row


def _board(ratios: dict[str, tuple[float, float]], simulator: str = "groundgan") -> pd.DataFrame:
    rows = []
    for method, (pos, neg) in ratios.items():
        for gt, r in (("pos-control", pos), ("neg-control", neg)):
            rows.append(make_row(method=method, dataset="bonemarrow", simulator=simulator, ground_truth=gt,
                                 metrics={"auprc_ratio": r, "universe": "imposed"}))
    return pd.DataFrame(rows)


def test_claims_that_hold():
    board = _board({"PIDC": (3.0, 1.0), "GENIE3": (2.5, 1.1), "GRNBoost2": (2.0, 0.9), "LEAP": (1.5, 1.0),
                    "SCODE": (1.2, 1.0)})
    comp = paper_comparison(board)
    assert comp["paper"] == PAPER_BONEMARROW["text"]
    assert comp["order"] == ["pidc", "genie3", "grnboost2", "leap", "scode"]
    assert comp["per_method"]["pidc"] == {"pos_auprc_ratio": 3.0, "neg_auprc_ratio": 1.0, "pos_over_neg": 3.0}
    claims = {c["claim"]: c["holds"] for c in comp["claims"]}
    assert claims == {"pidc > genie3": True, "genie3 > grnboost2": True,
                      "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others": True,
                      "imposed edges recovered better than unimposed for every method": True}


def test_claims_that_fail_and_rows_that_do_not_count():
    board = _board({"PIDC": (1.0, 1.2), "GENIE3": (2.0, 1.0), "SINCERITIES": (3.0, 1.0)})
    # other sources and failed rows are not part of the comparison
    other = _board({"PIDC": (9.0, 1.0)}, simulator="real")
    failed = pd.DataFrame([make_row(method="GRNBoost2", dataset="bonemarrow", simulator="groundgan",
                                    ground_truth="pos-control", status="failed", universe="imposed")])
    comp = paper_comparison(pd.concat([board, other, failed], ignore_index=True))
    assert comp["order"] == ["sincerities", "genie3", "pidc"]
    claims = {c["claim"]: c["holds"] for c in comp["claims"]}
    assert claims == {"pidc > genie3": False,
                      "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others": False,
                      "imposed edges recovered better than unimposed for every method": False}


def test_no_leaderboard_no_comparison():
    assert paper_comparison(None) == {} and paper_comparison(pd.DataFrame()) == {}
