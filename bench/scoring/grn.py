"""Score a ranked edge list against a ground-truth network.

Two candidate universes (every output names the one it used):

``"imposed"`` (default, GRouNdGAN's benchmark)
    imposed regulators x imposed targets: every (TF, target) pair with the TF among the ground truth's
    regulators and the target among its targets that are not themselves regulators. Edge direction and sign are
    ignored, as the GRouNdGAN paper does ("to be consistent among models"): a predicted ``target -> TF`` edge
    scores the pair (TF, target), and a weight counts by its absolute value. (GRouNdGAN's *code* drops reversed
    edges instead; the paper's text is what we follow.)
``"beeline"`` (BEELINE's BLEval, v1.1)
    all ordered pairs of distinct ground-truth genes (self-loops excluded), directed: ``a -> b`` scores only the
    pair (a, b). Duplicated predictions keep the largest |weight|.

In both, a pair the prediction does not list scores 0, predicted edges outside the universe are ignored, and
duplicated or self-loop rows in either table are harmless. Pass ``candidate_regulators`` / ``candidate_targets``
to fix the universe independently of the ground truth (use :func:`control_universe` so that the positive and
negative controls of one simulation are scored on the same pairs).

Metrics (all computed from one sort of the universe):

``auprc``
    average precision (sklearn's ``average_precision_score`` definition; tied scores enter together, so it
    does not depend on tie order). The primary metric.
``auprc_random``, ``auprc_ratio``
    edge density |true| / |universe| (the expected AUPRC of a random ranking) and auprc / density.
``auprc_groundgan``
    GRouNdGAN's variant: precision and recall of the top ``int(N*f)`` pairs for f = 0.001 .. 1.000, trapezoid
    over those 1000 points (no (0, 1) anchor), rounded to 2 decimals. Cut-offs of 0 pairs (N < 1000) are skipped.
``auprc_beeline``
    BEELINE's variant: trapezoid (``sklearn.metrics.auc``) over ``precision_recall_curve`` points, anchor
    (recall 0, precision 1) included. The straight line through a block of tied zeros inflates it.
``auroc``
    area under the ROC curve, tie-aware.
``ep``, ``epr``
    BEELINE's early precision: with k = |true|, keep every pair scoring at least max(k-th best score, smallest
    non-zero score) (ties widen the set, zero scores are never kept); EP = precision of that set, EPR = EP /
    density.
``precision_at_k`` (+ ``_random``, ``_ratio``, ``_expected``)
    GRouNdGAN's precision@k per gene at ``k = k_max``: each target's k best regulators, pooled. The random
    baseline is the expected precision of choosing k candidates at random: a gene with t true regulators among
    T candidates contributes t/T whatever k is (GRouNdGAN prints k/|TFs|, which is not a random predictor's
    precision; it is kept in the curve as ``baseline_groundgan``). ``_expected`` is the expectation over a
    random order of tied scores.

Ties are broken deterministically wherever an order is needed (``auprc_groundgan``, ``precision_at_k``):
higher score first, then regulator name, then target name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench.edges import standardize

Universe = Literal["imposed", "beeline"]
UNIVERSES: tuple[str, ...] = ("imposed", "beeline")

#: Scalar metric names produced by :func:`score_grn`, in a stable order (the leaderboard uses them).
METRIC_NAMES: tuple[str, ...] = (
    "auprc", "auprc_random", "auprc_ratio", "auprc_groundgan", "auprc_beeline", "auroc", "ep", "epr",
    "precision_at_k", "precision_at_k_random", "precision_at_k_ratio", "precision_at_k_expected",
)
#: Counts describing the universe, also in every result.
COUNT_NAMES: tuple[str, ...] = (
    "k", "n_true", "n_universe", "n_regulators", "n_targets", "n_predicted", "n_true_outside_universe",
)


@dataclass
class GRNEvaluation:
    """Everything :func:`evaluate_grn` computes.

    Attributes
    ----------
    metrics
        Scalar metrics, counts and the universe name (what :func:`score_grn` returns).
    pr_curve
        ``recall, precision`` points of the expected PR curve (tied scores interpolated as their expected value
        over random orders, see :func:`expected_pr_curve`), recall 0 first; at most ``max_curve_points`` rows
        (evenly thinned when longer).
    precision_at_k
        One row per k = 1..k_max: ``k, precision, precision_expected, baseline`` (random predictor),
        ``baseline_groundgan`` (k / number of candidate regulators), ``n_edges`` (pooled edges).
    """

    metrics: dict
    pr_curve: pd.DataFrame
    precision_at_k: pd.DataFrame = field(repr=False)


@dataclass
class _Flat:
    """The universe as flat arrays; regulator/target indices follow sorted names."""

    scores: np.ndarray
    labels: np.ndarray
    reg: np.ndarray
    tgt: np.ndarray
    n_regulators: int
    n_targets: int
    n_true_outside: int


def control_universe(*truths: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Candidate regulators and targets shared by several ground truths (e.g. positive and negative control).

    Regulators = the union of their regulators; targets = the union of their targets that are not regulators.
    Pass them as ``candidate_regulators`` / ``candidate_targets`` so both controls are scored on the same pairs.
    """
    regs: set[str] = set()
    tgts: set[str] = set()
    for t in truths:
        t = _edge_frame(t, "ground truth")
        keep = t["regulator"] != t["target"]
        regs |= set(t.loc[keep, "regulator"])
        tgts |= set(t.loc[keep, "target"])
    return sorted(regs), sorted(tgts - regs)


def _edge_frame(df: pd.DataFrame, what: str, weights: bool = False) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise BenchError(f"{what} must be a pandas DataFrame with columns regulator,target"
                         f"{',weight' if weights else ''}, not {type(df).__name__}.",
                         "Read it with bench.edges.read_edges().")
    if not {"regulator", "target"} <= set(df.columns):
        df = standardize(df, source=what)
    out = pd.DataFrame({"regulator": df["regulator"].astype(str).to_numpy(),
                        "target": df["target"].astype(str).to_numpy()})
    if weights:
        if "weight" in df.columns:
            w = pd.to_numeric(df["weight"], errors="coerce").to_numpy(dtype=float)
        elif "rank" in df.columns:  # only a ranking: earlier = stronger
            w = 1.0 / pd.to_numeric(df["rank"], errors="coerce").to_numpy(dtype=float)
        else:
            w = np.ones(len(df))
        out["weight"] = np.abs(np.nan_to_num(w, nan=0.0))  # sign ignored
    return out


def _index(names: pd.Series, lookup: dict[str, int]) -> np.ndarray:
    return names.map(lookup).fillna(-1).to_numpy(dtype=np.int64)


def _flatten(pred: pd.DataFrame, truth: pd.DataFrame, universe: str,
             candidate_regulators: Iterable[str] | None, candidate_targets: Iterable[str] | None) -> _Flat:
    pred = _edge_frame(pred, "prediction", weights=True)
    truth = _edge_frame(truth, "ground truth")
    pred = pred[pred["regulator"] != pred["target"]]
    truth = truth[truth["regulator"] != truth["target"]].drop_duplicates()

    if universe == "imposed":
        regs = sorted(set(candidate_regulators) if candidate_regulators is not None else set(truth["regulator"]))
        tg = set(candidate_targets) if candidate_targets is not None else set(truth["target"])
        tgts = sorted(tg - set(regs))  # targets that are TFs are not candidates (GRouNdGAN)
        ri, ti = {g: i for i, g in enumerate(regs)}, {g: i for i, g in enumerate(tgts)}
        shape = (len(regs), len(tgts))

        def fill(df: pd.DataFrame, values: np.ndarray) -> np.ndarray:
            m = np.zeros(shape)
            for a, b in (("regulator", "target"), ("target", "regulator")):  # direction ignored
                r, t = _index(df[a], ri), _index(df[b], ti)
                ok = (r >= 0) & (t >= 0)
                np.maximum.at(m, (r[ok], t[ok]), values[ok])
            return m

        S = fill(pred, pred["weight"].to_numpy())
        Y = fill(truth, np.ones(len(truth))) > 0
        n_true_outside = len(truth) - _count_direct(truth, ri, ti)
        rr, tt = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
        flat = _Flat(S.ravel(), Y.ravel(), rr.ravel(), tt.ravel(), len(regs), len(tgts), n_true_outside)
    elif universe == "beeline":
        if candidate_regulators is not None or candidate_targets is not None:
            genes = sorted(set(candidate_regulators or ()) | set(candidate_targets or ()))
        else:
            genes = sorted(set(truth["regulator"]) | set(truth["target"]))
        gi = {g: i for i, g in enumerate(genes)}
        n = len(genes)
        S = np.zeros((n, n))
        r, t = _index(pred["regulator"], gi), _index(pred["target"], gi)
        ok = (r >= 0) & (t >= 0)
        np.maximum.at(S, (r[ok], t[ok]), pred["weight"].to_numpy()[ok])
        Y = np.zeros((n, n), dtype=bool)
        r, t = _index(truth["regulator"], gi), _index(truth["target"], gi)
        ok = (r >= 0) & (t >= 0)
        Y[r[ok], t[ok]] = True
        off = ~np.eye(n, dtype=bool)
        rr, tt = np.nonzero(off)
        flat = _Flat(S[off], Y[off], rr, tt, n, n, int((~ok).sum()))
    else:
        raise BenchError(f"unknown universe {universe!r}.", f"Use one of {', '.join(UNIVERSES)}.")
    return flat


def _count_direct(truth: pd.DataFrame, ri: dict, ti: dict) -> int:
    """Ground-truth rows that land in the imposed universe (either orientation)."""
    a = (_index(truth["regulator"], ri) >= 0) & (_index(truth["target"], ti) >= 0)
    b = (_index(truth["target"], ri) >= 0) & (_index(truth["regulator"], ti) >= 0)
    return int((a | b).sum())


def _thin(df: pd.DataFrame, max_points: int) -> pd.DataFrame:
    if len(df) <= max_points:
        return df.reset_index(drop=True)
    idx = np.unique(np.linspace(0, len(df) - 1, max_points).round().astype(int))
    return df.iloc[idx].reset_index(drop=True)


def evaluate_grn(pred_edges: pd.DataFrame, truth_edges: pd.DataFrame, *, universe: Universe = "imposed",
                 k_max: int = 10, candidate_regulators: Iterable[str] | None = None,
                 candidate_targets: Iterable[str] | None = None, max_curve_points: int = 2000) -> GRNEvaluation:
    """Score ``pred_edges`` against ``truth_edges``; return metrics and the curves the report draws.

    Parameters
    ----------
    pred_edges
        Edge table (``regulator, target, weight``; :mod:`bench.edges` schema). Weights are used by absolute
        value; a table with only ``rank`` is scored by 1/rank.
    truth_edges
        Ground-truth edges (``regulator, target``; other columns ignored).
    universe
        ``"imposed"`` (TF x target, direction ignored) or ``"beeline"`` (ordered pairs of ground-truth genes).
        See the module docstring.
    k_max
        Largest k for precision@k per gene (curve for k = 1..k_max; scalar at k_max).
    candidate_regulators, candidate_targets
        Fix the universe instead of deriving it from ``truth_edges`` (see :func:`control_universe`).
    max_curve_points
        Thin the PR curve to at most this many points (drawing only; metrics use every point).

    Returns
    -------
    GRNEvaluation
    """
    if k_max < 1:
        raise BenchError(f"k_max must be at least 1, got {k_max}.", "Pass k_max=10 (the default).")
    f = _flatten(pred_edges, truth_edges, universe, candidate_regulators, candidate_targets)
    s, y = f.scores, f.labels
    n, n_pos = len(s), int(y.sum())
    metrics: dict = {"universe": universe, "k": int(k_max), "n_true": n_pos, "n_universe": n,
                     "n_regulators": f.n_regulators, "n_targets": f.n_targets,
                     "n_predicted": int((s > 0).sum()), "n_true_outside_universe": f.n_true_outside}
    metrics.update({name: float("nan") for name in METRIC_NAMES})
    empty_pk = pd.DataFrame({c: pd.Series(dtype=float) for c in
                             ("k", "precision", "precision_expected", "baseline", "baseline_groundgan", "n_edges")})
    if n == 0 or n_pos == 0:
        # Like BEELINE: nothing to find (or nowhere to look) -> metrics are undefined, not zero.
        return GRNEvaluation(_ordered(metrics), pd.DataFrame({"recall": [], "precision": []}), empty_pk)

    # One deterministic order: score descending, then regulator name, then target name.
    order = np.lexsort((f.tgt, f.reg, -s))
    s_sorted, y_sorted = s[order], y[order]
    cum_tp = np.cumsum(y_sorted)

    # Tie-aware curve points: one per distinct score (block of ties enters at once).
    ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    tp = cum_tp[ends].astype(float)
    fp = (ends + 1) - tp
    precision = tp / (ends + 1)
    recall = tp / n_pos
    density = n_pos / n
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    n_neg = n - n_pos
    if n_neg > 0:
        auroc = float(np.trapezoid(np.r_[0.0, tp / n_pos], np.r_[0.0, fp / n_neg]))
    else:
        auroc = float("nan")
    auprc_beeline = float(np.trapezoid(np.r_[1.0, precision], np.r_[0.0, recall]))

    # GRouNdGAN: top int(N*f) pairs for f = 0.001..1.000 in the deterministic order.
    cts = (n * np.arange(1, 1001)) // 1000
    cts = cts[cts > 0]
    hits = cum_tp[cts - 1].astype(float)
    auprc_gg = round(float(np.trapezoid(hits / cts, hits / n_pos)), 2)

    # BEELINE early precision (tie-aware cut-off, zero scores never selected).
    nonzero = s_sorted[s_sorted > 0]
    if len(nonzero):
        thr = max(s_sorted[min(n_pos, n) - 1], nonzero[-1])
        sel = s_sorted >= thr
        ep = float(y_sorted[sel].mean())
    else:
        ep = 0.0

    pk = _precision_at_k(f, order, k_max, universe)
    last = pk.iloc[-1]
    metrics.update({
        "auprc": ap, "auprc_random": density, "auprc_ratio": ap / density,
        "auprc_groundgan": auprc_gg, "auprc_beeline": auprc_beeline, "auroc": auroc,
        "ep": ep, "epr": ep / density,
        "precision_at_k": float(last["precision"]), "precision_at_k_random": float(last["baseline"]),
        "precision_at_k_ratio": (float(last["precision"]) / float(last["baseline"])
                                 if last["baseline"] > 0 else float("nan")),
        "precision_at_k_expected": float(last["precision_expected"]),
    })
    pr = expected_pr_curve(tp, fp, n_pos)
    return GRNEvaluation(_ordered(metrics), _thin(pr, max_curve_points), pk)


def expected_pr_curve(tp: np.ndarray, fp: np.ndarray, n_pos: int, points_per_block: int = 16) -> pd.DataFrame:
    """The PR curve a reader should see when scores tie: the expected curve over random orders of each tie.

    ``tp``, ``fp`` are cumulative counts at the end of each block of tied scores (best block first). Inside a
    block of ``dtp`` true and ``dfp`` false pairs taken in random order, the expected counts grow linearly, so the
    expected precision at a fraction ``a`` of the block is ``(tp0 + a dtp) / (tp0 + fp0 + a (dtp + dfp))``
    (Davis & Goadrich's interpolation). The curve starts at recall 0 with the first block's precision: a
    constant predictor is a flat line at the edge density, not a line from (0, 1).
    """
    tp0 = np.r_[0.0, tp[:-1]]
    fp0 = np.r_[0.0, fp[:-1]]
    dtp, dfp = tp - tp0, fp - fp0
    recall, precision = [0.0], [float(dtp[0] / (dtp[0] + dfp[0]))]
    for a0, b0, da, db in zip(tp0, fp0, dtp, dfp):
        m = 1 if da + db <= 1 else min(points_per_block, int(da + db))
        frac = np.arange(1, m + 1) / m
        t, f = a0 + frac * da, b0 + frac * db
        recall.extend((t / n_pos).tolist())
        precision.extend((t / (t + f)).tolist())
    return pd.DataFrame({"recall": recall, "precision": precision})


def _ordered(metrics: dict) -> dict:
    keys = ("universe",) + METRIC_NAMES + COUNT_NAMES
    return {k: metrics[k] for k in keys}


def _precision_at_k(f: _Flat, order: np.ndarray, k_max: int, universe: str) -> pd.DataFrame:
    """Pooled precision of each target's top-k regulators, k = 1..k_max, with the random baseline."""
    # Regroup the global order by target, keeping the score order inside each target.
    o = order[np.argsort(f.tgt[order], kind="stable")]
    t, y, s = f.tgt[o], f.labels[o].astype(float), f.scores[o]
    sizes = np.bincount(f.tgt, minlength=f.n_targets)
    pos = np.bincount(f.tgt, weights=f.labels.astype(float), minlength=f.n_targets)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    rank = np.arange(len(o)) - starts[t]
    ks = np.arange(1, k_max + 1)
    has = sizes > 0
    take = np.minimum(ks[:, None], sizes[None, has])  # (k, genes): edges taken per gene
    n_edges = take.sum(axis=1).astype(float)
    in_top = rank < k_max
    hits_by_rank = np.bincount(rank[in_top], weights=y[in_top], minlength=k_max)[:k_max]
    precision = np.cumsum(hits_by_rank) / n_edges
    baseline = (take * (pos[has] / sizes[has])[None, :]).sum(axis=1) / n_edges

    # Expected hits when tied scores inside a gene come in random order: a block of m tied pairs holding p
    # true ones, starting at rank st, contributes p * clip(k - st, 0, m) / m.
    new_block = np.r_[True, (t[1:] != t[:-1]) | (s[1:] != s[:-1])]
    b_start = np.flatnonzero(new_block)
    b_size = np.diff(np.r_[b_start, len(o)])
    b_pos = np.add.reduceat(y, b_start)
    b_rank = rank[b_start]
    near = b_rank < k_max
    b_rank, b_size, b_pos = b_rank[near], b_size[near], b_pos[near]
    slots = np.clip(ks[:, None] - b_rank[None, :], 0, b_size[None, :])
    expected = (slots * (b_pos / b_size)[None, :]).sum(axis=1) / n_edges

    n_candidates = f.n_regulators if universe == "imposed" else max(f.n_regulators - 1, 1)
    return pd.DataFrame({"k": ks, "precision": precision, "precision_expected": expected, "baseline": baseline,
                         "baseline_groundgan": ks / n_candidates, "n_edges": n_edges.astype(np.int64)})


def score_grn(pred_edges: pd.DataFrame, truth_edges: pd.DataFrame, *, universe: Universe = "imposed",
              k_max: int = 10, candidate_regulators: Iterable[str] | None = None,
              candidate_targets: Iterable[str] | None = None) -> dict:
    """Scalar metrics of ``pred_edges`` against ``truth_edges`` (see the module docstring).

    Returns a dict with ``universe``, the metrics in :data:`METRIC_NAMES` and the counts in
    :data:`COUNT_NAMES`. Metrics are NaN when the ground truth has no edge in the universe.

    Examples
    --------
    >>> from bench.edges import make_edges
    >>> truth = make_edges(["TF1", "TF2"], ["G1", "G2"])
    >>> pred = make_edges(["TF1", "TF2", "TF1"], ["G1", "G2", "G2"], [0.9, 0.8, 0.1])
    >>> score_grn(pred, truth)["auprc"]
    1.0
    """
    return evaluate_grn(pred_edges, truth_edges, universe=universe, k_max=k_max,
                        candidate_regulators=candidate_regulators, candidate_targets=candidate_targets).metrics


def grn_curves(pred_edges: pd.DataFrame, truth_edges: pd.DataFrame, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(pr_curve, precision_at_k)`` frames of :func:`evaluate_grn` (same keyword arguments)."""
    ev = evaluate_grn(pred_edges, truth_edges, **kwargs)
    return ev.pr_curve, ev.precision_at_k
