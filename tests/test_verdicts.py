"""Bootstrap CIs, win probabilities, tied groups, stability and QC gates on synthetic predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.scoring.bootstrap import (BOOT_METRICS, bootstrap_distribution, draw_resamples, edge_statistics,
                                     percentile_ci, weighted_metrics)
from bench.scoring.grn import _flatten, control_universe, score_grn
from bench.scoring.verdicts import VerdictSettings, adjacent_pairs, compute_verdicts, tied_groups

REGS = [f"TF{i}" for i in range(10)]
TGTS = [f"g{i:02d}" for i in range(40)]


def truth_edges(seed: int, k: int = 3, regs=REGS, tgts=TGTS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(r, t) for t in tgts for r in rng.choice(regs, k, replace=False)]
    return pd.DataFrame(rows, columns=["regulator", "target"])


def predict(truth: pd.DataFrame, signal: float, seed: int, regs=REGS, tgts=TGTS) -> pd.DataFrame:
    """Scores for every TF x target pair: N(0, 1) noise plus ``signal`` on the true pairs (made non-negative)."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame([(r, t) for r in regs for t in tgts], columns=["regulator", "target"])
    true = set(zip(truth["regulator"], truth["target"]))
    y = np.array([(r, t) in true for r, t in zip(pairs["regulator"], pairs["target"])])
    s = rng.normal(size=len(pairs)) + signal * y
    return pairs.assign(weight=s - s.min() + 1e-3)


def flat_stats(pred, truth, k_max=10, regs=REGS, tgts=TGTS):
    f = _flatten(pred, truth, "imposed", regs, tgts)
    return edge_statistics(f.scores, f.labels, f.reg, f.tgt, f.n_targets, k_max)


@pytest.mark.parametrize("ties", [False, True])
def test_unit_weights_equal_score_grn(ties):
    truth = truth_edges(0)
    pred = predict(truth, 1.0, 1)
    if ties:  # coarse scores and a block of zeros: tie handling must match
        pred = pred.assign(weight=np.where(pred["weight"] < pred["weight"].median(), 0.0,
                                           np.round(pred["weight"] * 2) / 2))
    m = weighted_metrics(flat_stats(pred, truth, k_max=3), np.ones((1, len(TGTS))))
    ref = score_grn(pred, truth, k_max=3, candidate_regulators=REGS, candidate_targets=TGTS)
    for k in BOOT_METRICS:
        assert m[k][0] == pytest.approx(ref[k], rel=1e-9, abs=1e-12), k


def test_integer_weights_equal_duplicated_targets():
    """A resample with multiplicities w scores like the data with each target copied w times."""
    truth = truth_edges(2)
    pred = predict(truth, 0.8, 3)
    pred = pred.assign(weight=np.round(pred["weight"], 1))  # ties across copies and within genes
    w = np.random.default_rng(4).multinomial(len(TGTS), np.full(len(TGTS), 1 / len(TGTS)))
    copies = {t: [f"{t}_{c}" for c in range(n)] for t, n in zip(TGTS, w)}
    dup_t = [c for t in TGTS for c in copies[t]]

    def dup(df):
        return pd.DataFrame([(r, c, *rest) for r, t, *rest in df.itertuples(index=False) for c in copies[t]],
                            columns=df.columns)

    ref = score_grn(dup(pred), dup(truth), k_max=3, candidate_regulators=REGS, candidate_targets=dup_t)
    m = weighted_metrics(flat_stats(pred, truth, k_max=3), w[None, :].astype(float))
    for k in ("auprc", "auprc_ratio", "auroc", "precision_at_k", "precision_at_k_ratio"):
        assert m[k][0] == pytest.approx(ref[k], rel=1e-9), k


def test_ci_covers_known_expected_ap():
    """95 % CI of the mean AP over 3 replicates covers the expected AP in >= 90 of 100 seeded trials."""
    truth = truth_edges(7)
    f = _flatten(predict(truth, 1.0, 0), truth, "imposed", REGS, TGTS)

    def stats(rng):
        s = rng.normal(size=len(f.labels)) + 1.0 * f.labels
        return edge_statistics(s, f.labels, f.reg, f.tgt, f.n_targets)

    # the expected AP of this design, by Monte Carlo over 3000 independent datasets (s.e. ~ 0.0008)
    rng = np.random.default_rng(12345)
    ones = np.ones((1, f.n_targets))
    expected = np.mean([weighted_metrics(stats(rng), ones)["auprc"][0] for _ in range(3000)])
    covered = 0
    for trial in range(100):
        rng = np.random.default_rng(trial)
        d = bootstrap_distribution([stats(rng) for _ in range(3)], draw_resamples(3, f.n_targets, 1000, trial))
        lo, hi = percentile_ci(d["auprc"][1:])
        covered += lo <= expected <= hi
    assert covered >= 90


def _block(specs: dict[str, tuple[float, int]], truth, n_rep=3, source="sim"):
    """{method: (signal, seed)} -> predictions of one source with n_rep replicates."""
    return {source: {m: [predict(truth, sig, 1000 * seed + r) for r in range(n_rep)]
                     for m, (sig, seed) in specs.items()}}


def _verdicts(preds, truths, **kw):
    regs, tgts = control_universe(*truths.values())
    return compute_verdicts(preds, truths, candidate_regulators=regs, candidate_targets=tgts,
                            settings=kw.pop("settings", VerdictSettings(n_boot=1000, seed=0)), **kw)


def test_copies_tie_and_planted_method_wins():
    pos, neg = truth_edges(1), truth_edges(2)
    truths = {"pos-control": pos, "neg-control": neg}
    preds = _block({"copy_a": (0.7, 1), "copy_b": (0.7, 2), "strong": (2.5, 3), "random": (0.0, 4)}, pos)
    v = _verdicts(preds, truths, baselines=["random"])
    pw = v.pairwise[(v.pairwise["ground_truth"] == "pos-control") & (v.pairwise["metric"] == "auprc_ratio")]
    p = {(a, b): x for a, b, x in zip(pw["method_a"], pw["method_b"], pw["p_a_beats_b"])}
    assert p[("copy_a", "copy_b")] < 0.95 and p[("copy_b", "copy_a")] < 0.95
    assert p[("copy_a", "copy_b")] + p[("copy_b", "copy_a")] == pytest.approx(1.0)
    assert p[("strong", "random")] > 0.99 and p[("strong", "copy_a")] > 0.99
    s = v.summary[v.summary["ground_truth"] == "pos-control"].set_index("method")
    assert s.loc["copy_a", "tied_group"] == s.loc["copy_b", "tied_group"] == 2
    assert s.loc["strong", "tied_group"] == 1 and s.loc["random", "tied_group"] == 3
    assert bool(s.loc["random", "baseline"]) and not bool(s.loc["strong", "baseline"])
    # the random baseline sits at 1 with a CI around it; the strong method's CI lies far above
    assert s.loc["random", "auprc_ratio_ci_low"] < 1 < s.loc["random", "auprc_ratio_ci_high"]
    assert s.loc["strong", "auprc_ratio_ci_low"] > s.loc["random", "auprc_ratio_ci_high"]
    for m in BOOT_METRICS:
        assert (s[f"{m}_ci_low"] <= s[f"{m}_ci_high"]).all()
    adj = adjacent_pairs(v.summary, v.pairwise, "sim", "pos-control")
    assert list(adj["method_a"])[0] == "strong" and len(adj) == 3
    assert v.qc[v.qc["fired"]].empty or set(v.qc[v.qc["fired"]]["ground_truth"]) == {"neg-control"}


def test_copies_of_one_method():
    """20 pairs of copies of one method (different seeds): P(A beats B) is a null probability, roughly uniform,
    so it lies in [0.2, 0.8] for most pairs (60 % expected) and is decisive (>= 0.95) for few (5 % expected)."""
    pos = truth_edges(1)
    ps = []
    for seed in range(20):
        preds = _block({"a": (0.7, 2 * seed + 10), "b": (0.7, 2 * seed + 11)}, pos)
        v = _verdicts(preds, {"pos-control": pos}, settings=VerdictSettings(n_boot=400, seed=seed))
        pw = v.pairwise[(v.pairwise["metric"] == "auprc_ratio") & (v.pairwise["method_a"] == "a")]
        ps.append(float(pw["p_a_beats_b"].iloc[0]))
        groups = v.summary.set_index("method")["tied_group"]
        assert (groups["a"] == groups["b"]) == (max(ps[-1], 1 - ps[-1]) < 0.95)
    ps = np.array(ps)
    assert ((ps >= 0.2) & (ps <= 0.8)).sum() >= 11
    assert (np.maximum(ps, 1 - ps) >= 0.95).sum() <= 2


def test_gates_fire():
    pos, neg = truth_edges(1), truth_edges(2)
    truths = {"pos-control": pos, "neg-control": neg}
    # every method random: uninformative on both truths, and the positive control was not imposed
    preds = _block({"m1": (0.0, 1), "m2": (0.0, 2), "random": (0.0, 3)}, pos)
    v = _verdicts(preds, truths, baselines=["random"], imposing={"sim": "pos-control"},
                  realism_auroc={"sim": 0.97})
    fired = {(g, t) for g, t in zip(v.gates_fired()["gate"], v.gates_fired()["ground_truth"])}
    assert {("uninformative", "pos-control"), ("uninformative", "neg-control"), ("not-imposed", "pos-control"),
            ("unrealistic", "pos-control")} <= fired
    assert set(v.summary["qc"]) >= {"uninformative,not-imposed,unrealistic"}
    # the positive control imposed (methods see it), the negative not: no not-imposed flag, pos informative
    preds = _block({"m1": (2.0, 1), "m2": (1.0, 2), "random": (0.0, 3)}, pos)
    v = _verdicts(preds, truths, baselines=["random"], imposing={"sim": "pos-control"},
                  realism_auroc={"sim": 0.6})
    g = v.qc.set_index(["gate", "ground_truth"])["fired"]
    assert not g[("not-imposed", "pos-control")] and not g[("uninformative", "pos-control")]
    assert g[("uninformative", "neg-control")] and not g[("unrealistic", "pos-control")]
    # no random baseline: the floor is the random expectation, 1
    v = _verdicts(_block({"m1": (0.0, 1)}, pos), {"pos-control": pos})
    assert v.qc.set_index("gate")["fired"]["uninformative"] and "no random baseline" in v.qc["detail"].iloc[0]


def test_same_seed_same_numbers_and_failed_replicates():
    pos, neg = truth_edges(1), truth_edges(2)
    truths = {"pos-control": pos, "neg-control": neg}
    preds = _block({"a": (1.0, 1), "b": (0.5, 2)}, pos)
    preds["sim"]["b"][1] = None  # failed on one replicate
    v1, v2 = _verdicts(preds, truths), _verdicts(preds, truths)
    pd.testing.assert_frame_equal(v1.summary, v2.summary)
    pd.testing.assert_frame_equal(v1.pairwise, v2.pairwise)
    v3 = _verdicts(preds, truths, settings=VerdictSettings(n_boot=1000, seed=1))
    assert not np.allclose(v1.summary["auprc_ci_low"], v3.summary["auprc_ci_low"])
    b = v1.summary.set_index(["ground_truth", "method"]).loc[("pos-control", "b")]
    assert b["n_ok"] == 2 and b["n_replicates"] == 3 and np.isfinite(b["auprc_ci_low"])
    # the point estimate is the mean over the replicates that finished
    f = [score_grn(p, pos, candidate_regulators=REGS, candidate_targets=TGTS)["auprc"]
         for p in preds["sim"]["b"] if p is not None]
    assert b["auprc"] == pytest.approx(np.mean(f))


def test_stability():
    pos = truth_edges(1)
    same = predict(pos, 1.0, 5)
    preds = {"sim": {"fixed": [same, same, same], "noisy": [predict(pos, 0.3, s) for s in range(3)]}}
    v = _verdicts(preds, {"pos-control": pos})
    st = v.stability.set_index("method")
    assert st.loc["fixed", "spearman_median"] == pytest.approx(1.0) and st.loc["fixed", "jaccard_median"] == 1.0
    assert st.loc["noisy", "spearman_median"] < 0.5 and st.loc["noisy", "jaccard_median"] < 0.5
    assert st.loc["fixed", "n_pairs"] == 3 and st.loc["fixed", "k"] == len(pos)


def test_tied_groups_rule():
    means = {"a": 3.0, "b": 2.9, "c": 2.0, "d": float("nan")}
    p = {("a", "b"): 0.6, ("a", "c"): 0.99, ("b", "c"): 0.97}
    assert tied_groups(means, p) == {"a": 1, "b": 1, "c": 2}


def test_paper_claims_use_the_cis():
    from bench.scoring.verdicts import compare_claims

    pos, neg = truth_edges(1), truth_edges(2)
    preds = _block({"pidc": (2.5, 1), "genie3": (1.0, 2), "grnboost2": (1.0, 3), "leap": (0.2, 4),
                    "random": (0.0, 5)}, pos)
    v = _verdicts(preds, {"pos-control": pos, "neg-control": neg}, baselines=["random"])
    claims = {c["claim"]: c for c in compare_claims(
        v.summary, v.pairwise, source="sim", order_claims=[("pidc", "genie3"), ("genie3", "grnboost2"),
                                                           ("leap", "pidc"), ("absent", "pidc")],
        last_group=["leap", "scode"])}
    assert claims["pidc > genie3"]["verdict"] == "holds" and claims["pidc > genie3"]["p_a_beats_b"] > 0.99
    assert claims["genie3 > grnboost2"]["verdict"] == "inconclusive"  # same signal: CIs overlap
    assert claims["leap > pidc"]["verdict"] == "fails" and not claims["leap > pidc"]["holds"]
    assert "absent > pidc" not in claims
    assert claims["leap below the other methods"]["verdict"] == "holds"
    every = claims["imposed edges recovered better than unimposed for every method"]
    assert every["verdict"] == "inconclusive" and "for 3 of 4 methods" in every["evidence"]  # leap: weak signal
