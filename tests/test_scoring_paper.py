"""The comparison of a run's results with the paper's BoneMarrow findings: every stated claim is tested."""

from __future__ import annotations

import pandas as pd

from bench.scoring.paper import paper_comparison
from reports.leaderboard import make_row


def _board(ratios: dict[str, tuple[float, float]], simulator: str = "groundgan",
           dataset: str = "bonemarrow") -> pd.DataFrame:
    rows = []
    for method, (pos, neg) in ratios.items():
        for gt, r in (("pos-control", pos), ("neg-control", neg)):
            rows.append(make_row(method=method, dataset=dataset, simulator=simulator, ground_truth=gt,
                                 metrics={"auprc_ratio": r, "universe": "imposed"}))
    return pd.DataFrame(rows)


def _claims(comp) -> dict[str, bool]:
    return {c["finding"]: c["holds"] for c in comp["claims"]}


def test_claims_that_hold():
    board = _board({"PIDC": (3.0, 1.0), "GENIE3": (2.5, 1.1), "GRNBoost2": (2.0, 0.9), "LEAP": (1.5, 1.0),
                    "SCODE": (1.2, 1.0)})
    real = _board({"PIDC": (1.2, 1.1), "GENIE3": (1.1, 1.0), "GRNBoost2": (1.0, 1.0), "LEAP": (1.0, 1.0),
                   "SCODE": (0.9, 1.0)}, simulator="real")
    comp = paper_comparison(pd.concat([board, real], ignore_index=True))
    assert comp["order"] == ["pidc", "genie3", "grnboost2", "leap", "scode"]
    assert comp["per_method"]["pidc"] == {"pos_auprc_ratio": 3.0, "neg_auprc_ratio": 1.0, "pos_over_neg": 3.0,
                                          "real_pos_auprc_ratio": 1.2}
    assert _claims(comp) == {"pidc > genie3": True, "genie3 > grnboost2": True,
                             "pseudotime methods (LEAP, SCODE, SINCERITIES) last": True,
                             "imposed edges recovered far better than on real data": True,
                             "unimposed (negative-control) edges close to random": True,
                             "imposed edges recovered better than unimposed ones": True}
    # the paper's text states exactly the findings that were tested, each claim says how
    assert comp["paper"] == "The paper reports for BoneMarrow: " + "; ".join(_claims(comp)) + "."
    gain = next(c["claim"] for c in comp["claims"] if c["finding"].endswith("than on real data"))
    assert "at least 1.5x" in gain and "here 2.00x" in gain  # median of 2.5, 2.27, 2.0, 1.5, 1.33


def test_claims_that_fail_and_rows_that_do_not_count():
    board = _board({"PIDC": (1.0, 1.2), "GENIE3": (2.0, 1.0), "SINCERITIES": (3.0, 2.0)})
    # failed rows are not part of the comparison; without real rows the real-data claim is not stated
    failed = pd.DataFrame([make_row(method="GRNBoost2", dataset="bonemarrow", simulator="groundgan",
                                    ground_truth="pos-control", status="failed", universe="imposed")])
    comp = paper_comparison(pd.concat([board, failed], ignore_index=True))
    assert comp["order"] == ["sincerities", "genie3", "pidc"]
    assert _claims(comp) == {"pidc > genie3": False, "pseudotime methods (LEAP, SCODE, SINCERITIES) last": False,
                             "unimposed (negative-control) edges close to random": False,
                             "imposed edges recovered better than unimposed ones": False}
    assert "real data" not in comp["paper"]


def test_only_for_bonemarrow():
    assert paper_comparison(None) == {} and paper_comparison(pd.DataFrame()) == {}
    assert paper_comparison(_board({"PIDC": (3.0, 1.0), "GENIE3": (2.0, 1.0)}, dataset="pbmc68k-reduced")) == {}
