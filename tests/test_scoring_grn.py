"""Golden values for GRN scoring on small hand-worked examples, plus perfect / random / reversed predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.edges import make_edges
from bench.errors import BenchError
from bench.scoring.grn import control_universe, evaluate_grn, score_grn


def edges(rows):
    return pd.DataFrame(rows, columns=["regulator", "target", "weight"][: len(rows[0])] if rows else
                        ["regulator", "target", "weight"])


# Hand-worked example 1 (imposed universe): TFs {A, B} x targets {x, y, z} = 6 pairs, truth A->x, B->y.
# Scores: Ax .9 (T), Bx .8, By .7 (T), Ay .1, Az 0, Bz 0 (missing).
TRUTH = edges([("A", "x"), ("B", "y"), ("A", "z")])[["regulator", "target"]].iloc[:2]
TRUTH_Z = pd.DataFrame({"regulator": ["A", "B", "B"], "target": ["x", "y", "z"]})  # z only as a candidate
PRED = edges([("A", "x", 0.9), ("B", "x", 0.8), ("B", "y", 0.7), ("A", "y", 0.1)])
CANDS = dict(candidate_regulators=["A", "B"], candidate_targets=["x", "y", "z"])


def test_golden_example_imposed():
    m = score_grn(PRED, TRUTH, k_max=2, **CANDS)
    assert m["universe"] == "imposed"
    assert (m["n_universe"], m["n_true"], m["n_predicted"]) == (6, 2, 4)
    assert m["auprc_random"] == pytest.approx(1 / 3)
    assert m["auprc"] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)           # AP: steps at recall .5 (P=1), 1 (P=2/3)
    assert m["auprc_ratio"] == pytest.approx((0.5 + 1 / 3) * 3)
    assert m["auroc"] == pytest.approx(7 / 8)                           # 7 of 8 (pos, neg) pairs ordered right
    assert m["auprc_beeline"] == pytest.approx(0.5 + 0.5 * (0.5 + 2 / 3) / 2)  # trapezoid incl. (0, 1) anchor
    assert m["auprc_groundgan"] == 0.29                                 # no anchor: only the .5 -> 1 recall segment
    assert m["ep"] == pytest.approx(0.5)                                # top-2 scores: Ax (T), Bx (F)
    assert m["epr"] == pytest.approx(1.5)
    # precision@k per gene (x: Ax, Bx; y: By, Ay; z: Az, Bz tied at 0 -> A first); k=2 takes everything.
    ev = evaluate_grn(PRED, TRUTH, k_max=2, **CANDS)
    pk = ev.precision_at_k
    assert pk["precision"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert pk["baseline"].tolist() == pytest.approx([1 / 3, 1 / 3])     # t/T per gene: 1/2, 1/2, 0/2, whatever k
    assert pk["baseline_groundgan"].tolist() == pytest.approx([0.5, 1.0])  # GRouNdGAN's k/|TFs|
    assert m["precision_at_k"] == pytest.approx(1 / 3) and m["precision_at_k_ratio"] == pytest.approx(1.0)
    # PR curve starts at the (0, 1) anchor and ends at (1, density).
    assert tuple(ev.pr_curve.iloc[0]) == (0.0, 1.0)
    assert tuple(ev.pr_curve.iloc[-1]) == pytest.approx((1.0, 1 / 3))


def test_universe_from_truth_drops_targets_that_are_tfs():
    # Without candidates the universe is truth regulators x truth targets; z enters via B->z.
    m = score_grn(PRED, TRUTH_Z)
    assert (m["n_regulators"], m["n_targets"], m["n_universe"], m["n_true"]) == (2, 3, 6, 3)
    # A TF->TF truth edge is outside the imposed universe and is counted, not scored.
    t = pd.concat([TRUTH, pd.DataFrame({"regulator": ["A"], "target": ["B"]})], ignore_index=True)
    m2 = score_grn(PRED, t, **CANDS)
    assert m2["n_true"] == 2 and m2["n_true_outside_universe"] == 1


def test_reversed_signed_duplicated_selfloop_and_unknown_edges_score_like_the_clean_example():
    messy = edges([
        ("x", "A", 0.9),     # reversed: direction ignored -> pair (A, x)
        ("A", "A", 5.0),     # self-loop: ignored
        ("B", "x", -0.8),    # sign ignored
        ("B", "y", 0.3),     # duplicated pair: the largest |weight| counts
        ("B", "y", 0.7),
        ("y", "A", 0.1),     # reversed (A, y)
        ("C", "x", 10.0),    # regulator outside the universe: ignored
    ])
    truth = pd.DataFrame({"regulator": ["A", "A", "B", "B"], "target": ["x", "x", "y", "B"]})  # dup + self-loop
    clean = score_grn(PRED, TRUTH, k_max=2, **CANDS)
    got = score_grn(messy, truth, k_max=2, **CANDS)
    for k, v in clean.items():
        if k == "n_true_outside_universe":
            continue
        assert got[k] == pytest.approx(v) if isinstance(v, float) else got[k] == v, k


def test_all_tied_scores():
    everything = edges([(a, b, 1.0) for a in "AB" for b in "xyz"])
    ev = evaluate_grn(everything, TRUTH, k_max=2, **CANDS)
    m = ev.metrics
    assert m["auprc"] == pytest.approx(1 / 3)            # one block: AP = density, whatever the tie order
    assert m["auroc"] == pytest.approx(0.5)
    assert m["auprc_beeline"] == pytest.approx((1 + 1 / 3) / 2)  # straight line from (0, 1) to (1, 1/3)
    assert m["ep"] == pytest.approx(1 / 3) and m["epr"] == pytest.approx(1.0)  # ties widen the early set
    # k=1: deterministic order takes A for each gene: Ax (T), Ay (F), Az (F); expectation over tie order: 1/3.
    assert ev.precision_at_k["precision"].iloc[0] == pytest.approx(1 / 3)
    assert ev.precision_at_k["precision_expected"].tolist() == pytest.approx([1 / 3, 1 / 3])


def test_tie_expectation_differs_from_deterministic_order():
    truth = pd.DataFrame({"regulator": ["B"], "target": ["x"]})
    tied = edges([("A", "x", 1.0), ("B", "x", 1.0)])
    ev = evaluate_grn(tied, truth, k_max=2, candidate_regulators=["A", "B"], candidate_targets=["x"])
    assert ev.precision_at_k["precision"].tolist() == pytest.approx([0.0, 0.5])  # A wins the tie by name
    assert ev.precision_at_k["precision_expected"].tolist() == pytest.approx([0.5, 0.5])
    assert ev.metrics["auprc"] == pytest.approx(0.5)  # AP is tie-aware: independent of the name order


def test_missing_prediction_scores_as_zero():
    empty = edges([("A", "x", 1.0)]).iloc[:0]
    m = score_grn(empty, TRUTH, **CANDS)
    assert m["n_predicted"] == 0
    assert m["auprc"] == pytest.approx(1 / 3) and m["auprc_ratio"] == pytest.approx(1.0)
    assert m["auroc"] == pytest.approx(0.5)
    assert m["ep"] == 0.0


def test_beeline_universe_is_directed():
    # Genes {A, B, x, y}: 12 ordered pairs. x->A is a false positive here (it is not folded onto A->x).
    pred = edges([("A", "x", 0.9), ("x", "A", 0.95), ("B", "y", 0.7), ("A", "A", 3.0)])
    m = score_grn(pred, TRUTH, universe="beeline")
    assert (m["universe"], m["n_universe"], m["n_true"]) == ("beeline", 12, 2)
    assert m["auprc"] == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert m["auroc"] == pytest.approx(18 / 20)
    assert m["auprc_random"] == pytest.approx(1 / 6)


def test_no_true_edge_gives_nan_not_zero():
    m = score_grn(PRED, TRUTH, candidate_regulators=["A"], candidate_targets=["z"])
    assert m["n_true"] == 0 and np.isnan(m["auprc"])


def test_bad_universe_and_k_raise():
    with pytest.raises(BenchError):
        score_grn(PRED, TRUTH, universe="nope")
    with pytest.raises(BenchError):
        score_grn(PRED, TRUTH, k_max=0)


def _random_network(seed=0, n_tfs=40, n_targets=300, density=0.1):
    rng = np.random.default_rng(seed)
    tfs = [f"TF{i}" for i in range(n_tfs)]
    tg = [f"G{i}" for i in range(n_targets)]
    pairs = [(a, b) for a in tfs for b in tg]
    truth_mask = rng.random(len(pairs)) < density
    truth = pd.DataFrame([p for p, t in zip(pairs, truth_mask) if t], columns=["regulator", "target"])
    return pairs, truth_mask, truth, rng


def test_perfect_prediction_ratio_is_inverse_density():
    pairs, mask, truth, _ = _random_network()
    pred = make_edges([p[0] for p in pairs], [p[1] for p in pairs], mask.astype(float))
    cands = dict(candidate_regulators={a for a, _ in pairs}, candidate_targets={b for _, b in pairs})
    m = score_grn(pred, truth, **cands)
    density = mask.sum() / len(pairs)
    assert m["n_universe"] == len(pairs)
    assert m["auprc"] == pytest.approx(1.0)
    assert m["auprc_ratio"] == pytest.approx(1 / density)
    assert m["auroc"] == pytest.approx(1.0)
    assert m["epr"] == pytest.approx(1 / density)
    assert m["auprc_beeline"] == pytest.approx(1.0)
    assert 0.98 <= m["auprc_groundgan"] <= 1.0  # no (0, 1) anchor: the area before the first cut-off is lost


def test_random_prediction_ratio_is_about_one():
    ratios, aurocs = [], []
    for seed in range(3):
        pairs, mask, truth, rng = _random_network(seed)
        pred = make_edges([p[0] for p in pairs], [p[1] for p in pairs], rng.random(len(pairs)))
        m = score_grn(pred, truth, k_max=5)
        ratios.append(m["auprc_ratio"])
        aurocs.append(m["auroc"])
        assert 0.6 < m["precision_at_k_ratio"] < 1.4
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.1)
    assert np.mean(aurocs) == pytest.approx(0.5, abs=0.03)


def test_reversed_ranking_is_worse_than_random():
    pairs, mask, truth, rng = _random_network()
    u = rng.random(len(pairs))  # every false pair above every true one, with distinct scores
    pred = make_edges([p[0] for p in pairs], [p[1] for p in pairs], np.where(mask, u, 1.0 + u))
    m = score_grn(pred, truth, k_max=3)
    assert m["auroc"] == pytest.approx(0.0)
    assert m["auprc_ratio"] < 1.0
    assert m["ep"] == 0.0
    assert m["precision_at_k"] == 0.0  # every gene has more than 3 false candidates ranked first


def test_matches_sklearn_on_random_data():
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score

    from bench.scoring.grn import _flatten

    pairs, mask, truth, rng = _random_network(5, n_tfs=15, n_targets=80)
    w = np.round(rng.random(len(pairs)), 1)  # many ties
    w[rng.random(len(pairs)) < 0.5] = 0
    pred = make_edges([p[0] for p in pairs], [p[1] for p in pairs], w)
    for universe in ("imposed", "beeline"):
        m = score_grn(pred, truth, universe=universe)
        f = _flatten(pred, truth, universe, None, None)
        p, r, _ = precision_recall_curve(f.labels, f.scores)
        assert m["auprc"] == pytest.approx(average_precision_score(f.labels, f.scores))
        assert m["auroc"] == pytest.approx(roc_auc_score(f.labels, f.scores))
        assert m["auprc_beeline"] == pytest.approx(auc(r, p))


def test_control_universe_is_shared():
    pos = pd.DataFrame({"regulator": ["A", "B"], "target": ["x", "y"]})
    neg = pd.DataFrame({"regulator": ["C", "A"], "target": ["x", "z"]})
    regs, tgts = control_universe(pos, neg)
    assert regs == ["A", "B", "C"] and tgts == ["x", "y", "z"]
    a = score_grn(PRED, pos, candidate_regulators=regs, candidate_targets=tgts)
    b = score_grn(PRED, neg, candidate_regulators=regs, candidate_targets=tgts)
    assert a["n_universe"] == b["n_universe"] == 9


def test_deterministic():
    pairs, mask, truth, rng = _random_network(2, n_tfs=10, n_targets=50)
    w = np.round(rng.random(len(pairs)), 1)
    pred = make_edges([p[0] for p in pairs], [p[1] for p in pairs], w)
    shuffled = pred.sample(frac=1.0, random_state=1)
    assert score_grn(pred, truth) == score_grn(shuffled, truth)
