"""Vectorised hierarchical bootstrap of the headline GRN metrics.

A *block* is one data source scored against one or more ground truths on one fixed candidate universe (see
:func:`bench.scoring.grn.control_universe`): every method of the block was run on the same ``R`` replicate
datasets. One bootstrap resample is

1. ``R`` replicates drawn with replacement, then
2. the ``T`` target genes of the universe drawn with replacement, each keeping all its candidate edges.

Targets are crossed with replicates (the same genes in every replicate), so one target draw serves every
replicate of the resample. Every method and every ground truth of a block uses the *same* resamples (a paired
bootstrap), which is what makes ``P(A beats B)`` meaningful.

A target draw is a vector of multiplicities ``w`` (how often each target was drawn). No metric is recomputed
from scratch: each (method, replicate, truth) is sorted once (:func:`edge_statistics`), and a resample only
re-weights that fixed order. With ``W`` = the ``B x T`` multiplicities and the edges in score order:

- weighted cumulative counts ``N = cumsum(W[:, target_of_edge])`` (one ``B x E`` pass) and the same over the
  positives alone give precision at the end of each positive's tie block, so
  ``AP = sum_p w_p * TP_p / N_p / sum_p w_p`` (sklearn's definition; tied scores enter together);
- AUROC from the weighted negatives below and tied with each positive;
- EPR and precision@k from per-target counts (``W @ counts``): the selected set (EP's score cut-off, each
  target's top-k regulators) is the one of the full data, re-weighted.

With ``W = 1`` every metric equals :func:`bench.scoring.grn.score_grn` (the tests check it).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: metrics with a bootstrap distribution, in display order
BOOT_METRICS: tuple[str, ...] = ("auprc", "auprc_ratio", "auroc", "epr", "precision_at_k", "precision_at_k_ratio")

# Largest B x E block materialised at once (float32 elements); larger universes are done in chunks of resamples.
_MAX_CELLS = 8_000_000


@dataclass
class EdgeStats:
    """One prediction against one truth, reduced to what the weighted metrics need (see the module docstring).

    Edge positions follow the deterministic score order (score descending, regulator, target). The edges are
    cut into segments at the end of each positive's tie block and just before its start; ``segment_counts``
    holds the edges of each target in each segment, so a cumulative sum over segments of ``segment_counts @ w``
    is the weighted number of edges up to each cut.
    """

    segment_counts: "object"  # (C, T) scipy.sparse CSR: edges of each target between consecutive cuts
    pos_tgt: np.ndarray       # (P,) target of each positive, in score order
    pos_last: np.ndarray      # (P,) index (among positives) of the last positive in this positive's tie block
    pos_before: np.ndarray    # (P,) number of positives before this positive's tie block
    end_cut: np.ndarray       # (P,) cut at the end of this positive's tie block
    before_cut: np.ndarray    # (P,) cut just before the block's start (-1: the block starts the list)
    n_t: np.ndarray           # (T,) candidate edges per target
    pos_t: np.ndarray         # (T,) true edges per target
    sel_t: np.ndarray         # (T,) edges in EP's selected set per target
    selpos_t: np.ndarray      # (T,) true edges in EP's selected set per target
    hits_t: np.ndarray        # (T,) true edges among each target's top-k
    take_t: np.ndarray        # (T,) edges taken per target at k (min(k, candidates))
    base_t: np.ndarray        # (T,) random predictor's expected hits per target at k
    n_targets: int


def edge_statistics(scores: np.ndarray, labels: np.ndarray, reg: np.ndarray, tgt: np.ndarray, n_targets: int,
                    k_max: int = 10) -> EdgeStats:
    """Sort one scored universe once and keep the per-positive and per-target counts.

    Parameters
    ----------
    scores, labels, reg, tgt
        The flattened universe (one entry per candidate pair): score, truth label, regulator index and target
        index (indices follow sorted names, as :func:`bench.scoring.grn.evaluate_grn`).
    n_targets
        Number of targets (resampling units).
    k_max
        k of precision@k per target.
    """
    import scipy.sparse as sp

    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=bool)
    tgt = np.asarray(tgt, dtype=np.int64)
    order = np.lexsort((tgt, reg, -scores))
    s, y, t = scores[order], labels[order], tgt[order]
    n, T = len(s), int(n_targets)
    # tie blocks of equal scores: start and end position of the block holding each position
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if n else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[first, n])
    start_of = np.repeat(first, sizes)
    end_of = np.repeat(first + sizes - 1, sizes)
    pos_idx = np.flatnonzero(y)
    b_end, b_start = end_of[pos_idx], start_of[pos_idx]
    pos_last = np.searchsorted(pos_idx, b_end, side="right") - 1
    pos_before = np.searchsorted(pos_idx, b_start, side="left")
    cuts = np.unique(np.r_[b_end, b_start[b_start > 0] - 1])
    keep = np.arange(n) <= (cuts[-1] if len(cuts) else -1)
    seg = np.searchsorted(cuts, np.arange(n)[keep], side="left")
    counts = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (seg, t[keep])), shape=(len(cuts), T))
    end_cut = np.searchsorted(cuts, b_end)
    before_cut = np.where(b_start > 0, np.searchsorted(cuts, b_start - 1), -1)

    n_t = np.bincount(tgt, minlength=T).astype(float)
    pos_t = np.bincount(tgt, weights=labels.astype(float), minlength=T)

    # BEELINE's early precision: k = |true|, cut at max(k-th score, smallest non-zero score), zeros never kept.
    n_pos = len(pos_idx)
    nonzero = s[s > 0]
    if n_pos and len(nonzero):
        thr = max(s[min(n_pos, n) - 1], nonzero[-1])
        sel = s >= thr
    else:
        sel = np.zeros(n, bool)
    sel_t = np.bincount(t[sel], minlength=T).astype(float)
    selpos_t = np.bincount(t[sel & y], minlength=T).astype(float)

    # precision@k: each target's top-k regulators in the same deterministic order
    by_t = np.argsort(t, kind="stable")
    t_sizes = np.bincount(t, minlength=T)
    t_starts = np.r_[0, np.cumsum(t_sizes)[:-1]]
    rank = np.empty(n, np.int64)
    rank[by_t] = np.arange(n) - t_starts[t[by_t]]
    top = rank < k_max
    hits_t = np.bincount(t[top], weights=y[top].astype(float), minlength=T)
    take_t = np.minimum(k_max, t_sizes).astype(float)
    base_t = np.where(t_sizes > 0, take_t * pos_t / np.maximum(t_sizes, 1), 0.0)
    return EdgeStats(counts, t[pos_idx], pos_last, pos_before, end_cut, before_cut,
                     n_t, pos_t, sel_t, selpos_t, hits_t, take_t, base_t, T)


def weighted_metrics(st: EdgeStats, W: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of :data:`BOOT_METRICS` for each row of target multiplicities ``W`` (``B x T``).

    Returns a dict of arrays of length ``B``; NaN where a resample holds no true edge.
    """
    W = np.asarray(W, dtype=np.float32)
    B = W.shape[0]
    Wd = W.astype(np.float64)
    pos_w, n_w = Wd @ st.pos_t, Wd @ st.n_t
    rows = max(st.segment_counts.shape[0], len(st.pos_tgt), 1)
    chunk = max(1, _MAX_CELLS // rows)
    parts = [_ranking_metrics(st, W[i:i + chunk], pos_w[i:i + chunk], n_w[i:i + chunk]) for i in range(0, B, chunk)]
    ap = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    auroc = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)

    with np.errstate(divide="ignore", invalid="ignore"):
        density = pos_w / n_w
        sel_w = Wd @ st.sel_t
        ep = np.where(sel_w > 0, (Wd @ st.selpos_t) / np.where(sel_w > 0, sel_w, 1), 0.0)
        take_w, hits_w, base_w = Wd @ st.take_t, Wd @ st.hits_t, Wd @ st.base_t
        out = {"auprc": ap, "auprc_ratio": ap / density, "auroc": auroc, "epr": ep / density,
               "precision_at_k": hits_w / take_w, "precision_at_k_ratio": hits_w / base_w}
    nothing = ~(pos_w > 0)
    for v in out.values():
        v[nothing] = np.nan
    return out


def _cumsum_rows(X: np.ndarray) -> np.ndarray:
    """Cumulative sum down the rows, in place (numpy's cumsum along axis 0 is several times slower here)."""
    for i in range(1, X.shape[0]):
        X[i] += X[i - 1]
    return X


def _dot_cols(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise dot products of two (rows, B) arrays, in float64."""
    return np.einsum("pb,pb->b", a, b, dtype=np.float64)


def _ranking_metrics(st: EdgeStats, W: np.ndarray, pos_w: np.ndarray, n_w: np.ndarray):
    """Weighted average precision and AUROC for a chunk of resamples (rows of ``W``); arrays are (rows, B).

    Multiplicities and their cumulative sums are integers, exact in float32 (up to 2**24), so resamples run in
    float32; a single row of ones (the point estimate) runs in float64 to match :func:`score_grn` exactly.
    """
    B = W.shape[0]
    if len(st.pos_tgt) == 0:
        return np.full(B, np.nan), np.full(B, np.nan)
    dtype = np.float64 if B == 1 else np.float32
    WT = np.ascontiguousarray(W.T, dtype=dtype)                            # T x B
    n_cut = _cumsum_rows(np.asarray(st.segment_counts @ WT, dtype=dtype))  # weighted edges up to each cut
    wp = WT[st.pos_tgt]                                                    # weight of each positive
    tp = _cumsum_rows(wp.copy())                                           # weighted positives up to each one
    tp_end = tp[st.pos_last]
    n_end = n_cut[st.end_cut]
    prec = np.divide(tp_end, n_end, out=np.zeros_like(tp_end), where=n_end > 0)
    neg_w = n_w - pos_w
    # AUROC: each positive against the negatives below it, plus half those tied with it
    m = st.pos_before > 0
    tp_before = _dot_cols(wp[m], tp[st.pos_before[m] - 1])
    m = st.before_cut >= 0
    n_before = _dot_cols(wp[m], n_cut[st.before_cut[m]])
    neg_mid = 0.5 * (_dot_cols(wp, n_end - tp_end) + n_before - tp_before)
    with np.errstate(divide="ignore", invalid="ignore"):
        ap = _dot_cols(wp, prec) / pos_w
        auroc = (pos_w * neg_w - neg_mid) / (pos_w * neg_w)
    return ap, np.where(neg_w > 0, auroc, np.nan)


@dataclass
class Resamples:
    """The resamples shared by every method and truth of one block.

    Attributes
    ----------
    replicates
        ``B x R`` replicate indices drawn with replacement.
    targets
        ``B x T`` target multiplicities (a multinomial draw of ``T`` targets).
    """

    replicates: np.ndarray
    targets: np.ndarray

    @property
    def n_boot(self) -> int:
        return self.targets.shape[0]


def block_seed(seed: int, *key: str) -> list[int]:
    """A seed for one block, stable across processes (``hash()`` of a string is salted per process)."""
    return [int(seed)] + [zlib.crc32(str(k).encode()) for k in key]


def draw_resamples(n_replicates: int, n_targets: int, n_boot: int, seed) -> Resamples:
    """Seeded hierarchical resamples: replicates, then targets (see the module docstring)."""
    rng = np.random.default_rng(seed)
    reps = rng.integers(0, n_replicates, size=(n_boot, n_replicates))
    tw = rng.multinomial(n_targets, np.full(n_targets, 1.0 / n_targets), size=n_boot) if n_targets else \
        np.zeros((n_boot, 0), np.int64)
    return Resamples(reps, tw.astype(np.float32))


def bootstrap_distribution(stats: list[EdgeStats | None], resamples: Resamples) -> dict[str, np.ndarray]:
    """Bootstrap distribution of each metric of one method over its replicates.

    Parameters
    ----------
    stats
        One :class:`EdgeStats` per replicate (``None`` = the method failed on that replicate).
    resamples
        The block's shared resamples.

    Returns
    -------
    ``{metric: array of length 1 + B}``: element 0 is the point estimate (mean over the replicates that
    finished, each scored on every target once), elements 1.. the resamples (mean over the drawn replicates).
    """
    R, B = len(stats), resamples.n_boot
    per_rep = {m: np.full((R, 1 + B), np.nan) for m in BOOT_METRICS}
    for r, st in enumerate(stats):
        if st is None:
            continue
        W = np.vstack([np.ones((1, st.n_targets), np.float32), resamples.targets])
        for m, v in weighted_metrics(st, W).items():
            per_rep[m][r] = v
    out = {}
    rows = np.arange(B)[:, None]
    for m, a in per_rep.items():
        with np.errstate(all="ignore"), _quiet_nanmean():
            point = np.nanmean(a[:, 0]) if np.isfinite(a[:, 0]).any() else np.nan
            drawn = a[:, 1:][resamples.replicates, rows] if R else np.zeros((B, 0))
            boot = np.nanmean(drawn, axis=1) if R else np.full(B, np.nan)
        out[m] = np.r_[point, boot]
    return out


class _quiet_nanmean:
    """Silence numpy's 'Mean of empty slice' (a resample drawing only failed replicates is NaN, by design)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", category=RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def percentile_ci(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the finite resamples (NaN when none is finite)."""
    d = draws[np.isfinite(draws)]
    if not len(d):
        return float("nan"), float("nan")
    a = (1 - level) / 2
    lo, hi = np.quantile(d, [a, 1 - a])
    return float(lo), float(hi)


def win_probability(a: np.ndarray, b: np.ndarray) -> float:
    """P(A beats B) over paired resamples: the fraction where A scores higher, ties counting one half."""
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return float("nan")
    a, b = a[ok], b[ok]
    return float(((a > b).sum() + 0.5 * (a == b).sum()) / len(a))


def distributions_frame(dists: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """``{method: {metric: draws}}`` as a long frame (method, metric, draw, value); for debugging and tests."""
    rows = [pd.DataFrame({"method": m, "metric": k, "draw": np.arange(len(v)), "value": v})
            for m, d in dists.items() for k, v in d.items()]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["method", "metric", "draw", "value"])
