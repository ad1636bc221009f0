"""The measurement-depth axis: difficulty per depth and the GRouNdGAN paper's claims at each depth.

A run with depths has one GRouNdGAN data source per measurement depth (``groundgan`` = the training cells'
depths, ``groundgan-x4`` = four times deeper, ``groundgan-inf`` = the noise-free expected profile; see
:mod:`simulators.groundgan.depths`), each a ``simulator`` of the leaderboard with its ``depth`` column.

* :func:`ratio_frame`: AUPRC / random per source x method x control, with a 95 % CI when the run has verdict
  tables (``summary.parquet``) and the point value as a zero-width interval otherwise. The real cells are
  the reference line of the difficulty curves.
* :func:`claims_by_depth`: the paper's four BoneMarrow claims at each depth, each ``holds``, ``fails`` or
  ``inconclusive`` (intervals overlap, or nothing to compare):

  1. *imposed edges recovered better than on real data*: every method's positive-control interval on the
     simulated cells lies above its interval on the real cells (fails: one lies below);
  2. *unimposed edges near random*: every method's negative-control interval lies at or below
     :data:`NEAR_RANDOM_MAX` (fails: one lies above it);
  3. *PIDC > GENIE3 > GRNBoost2*: each method's positive-control interval above the next one's (fails: one
     below);
  4. *pseudotime methods last*: every interval of LEAP, SCODE and SINCERITIES below every other method's
     (fails: one lies above another method's).

  Without CIs an interval is its point value, so ties are inconclusive and anything else decides.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: a negative-control AUPRC ratio at most this far above random counts as "near random" (the paper's Fig. 5:
#: unimposed edges recovered about as well as a random ranking)
NEAR_RANDOM_MAX = 1.5
PAPER_ORDER = ("pidc", "genie3", "grnboost2")
PSEUDOTIME_METHODS = ("leap", "scode", "sincerities")
CLAIMS = ("imposed better than on real data", "unimposed near random", "PIDC > GENIE3 > GRNBoost2",
          "pseudotime methods last")
POS, NEG = "pos-control", "neg-control"


def depth_label(depth) -> str:
    """``inf``, ``1``, ``4``, ... (``-`` when the source has no depth)."""
    if depth is None or (isinstance(depth, float) and math.isnan(depth)):
        return "-"
    return "inf" if math.isinf(float(depth)) else f"{float(depth):g}"


def groundgan_depths(lb: pd.DataFrame) -> list[tuple[str, float]]:
    """``[(source, depth)]`` of the GRouNdGAN sources, shallow to deep (the expected profile last)."""
    g = lb[lb["simulator"].astype(str).str.startswith("groundgan")]
    if g.empty:
        return []
    if "depth" not in g or g["depth"].isna().all():
        return [(s, 1.0) for s in sorted(g["simulator"].unique())]
    pairs = g[["simulator", "depth"]].drop_duplicates("simulator")
    return sorted(((str(s), float(d)) for s, d in pairs.to_numpy()), key=lambda p: (p[1], p[0]))


def ratio_frame(lb: pd.DataFrame, summary: pd.DataFrame | None = None, metric: str = "auprc_ratio") -> pd.DataFrame:
    """One row per source x control x method: ``value``, ``ci_low``, ``ci_high``, ``depth``, ``baseline``.

    Values come from the verdict ``summary`` (mean over replicates, bootstrap CI) when it has the block, else from
    the leaderboard's ``ok`` rows (point value, zero-width interval).
    """
    ok = lb[lb["status"] == "ok"].copy()
    ok["method"] = ok["method"].astype(str).str.lower()
    depth = ok.drop_duplicates("simulator").set_index("simulator")["depth"] if "depth" in ok else pd.Series(dtype=float)
    point = (ok.groupby(["simulator", "ground_truth", "method"], as_index=False)[metric].mean()
             .rename(columns={metric: "value"}))
    point["ci_low"] = point["ci_high"] = point["value"]
    point["baseline"] = False
    point["with_ci"] = False
    frames = [point]
    if summary is not None and not summary.empty and f"{metric}_ci_low" in summary:
        s = summary.assign(method=summary["method"].astype(str).str.lower())
        s = s.rename(columns={metric: "value", f"{metric}_ci_low": "ci_low", f"{metric}_ci_high": "ci_high"})
        s = s[["simulator", "ground_truth", "method", "value", "ci_low", "ci_high"]
              + (["baseline"] if "baseline" in s else [])].assign(with_ci=True)
        if "baseline" not in s:
            s["baseline"] = False
        frames = [s, point]  # the summary wins where it has the block
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["simulator", "ground_truth", "method"], keep="first")
    out = out[np.isfinite(out["value"].astype(float))]
    out["depth"] = out["simulator"].map(depth).astype(float)
    return out.reset_index(drop=True)


def difficulty_table(lb: pd.DataFrame, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """Method x (depth, control) table of AUPRC ratios, with the real cells as the last columns.

    Columns are ``(label, control)``: depth labels shallow to deep, then ``real``. Values are floats; the CIs are
    in :func:`ratio_frame`.
    """
    rf = ratio_frame(lb, summary)
    cols = [(depth_label(d), s) for s, d in groundgan_depths(lb)]
    if "real" in set(rf["simulator"]):
        cols.append(("real", "real"))
    data = {}
    for label, source in cols:
        for gt in (POS, NEG):
            blk = rf[(rf["simulator"] == source) & (rf["ground_truth"] == gt)].set_index("method")["value"]
            data[(label, gt)] = blk
    table = pd.DataFrame(data)
    table.index.name = "method"
    return table.sort_index()


def _verdict(above: list, below: list, n: int) -> str:
    if n == 0:
        return "inconclusive"
    return "holds" if len(above) == n else "fails" if below else "inconclusive"


def _imposed_vs_real(rf: pd.DataFrame, source: str, real: str) -> dict:
    sim = rf[(rf["simulator"] == source) & (rf["ground_truth"] == POS) & ~rf["baseline"]].set_index("method")
    ref = rf[(rf["simulator"] == real) & (rf["ground_truth"] == POS)].set_index("method")
    both = [m for m in sim.index if m in ref.index]
    above = [m for m in both if sim.loc[m, "ci_low"] > ref.loc[m, "ci_high"]]
    below = [m for m in both if sim.loc[m, "ci_high"] < ref.loc[m, "ci_low"]]
    ev = f"above the real cells for {len(above)} of {len(both)} methods" + (
        f"; below for {', '.join(below)}" if below else "")
    return {"claim": CLAIMS[0], "verdict": _verdict(above, below, len(both)), "evidence": ev}


def _near_random(rf: pd.DataFrame, source: str) -> dict:
    neg = rf[(rf["simulator"] == source) & (rf["ground_truth"] == NEG) & ~rf["baseline"]].set_index("method")
    near = [m for m in neg.index if neg.loc[m, "ci_high"] <= NEAR_RANDOM_MAX]
    far = [m for m in neg.index if neg.loc[m, "ci_low"] > NEAR_RANDOM_MAX]
    ev = f"negative control <= {NEAR_RANDOM_MAX:g}x random for {len(near)} of {len(neg)} methods" + (
        f"; above it: {', '.join(far)}" if far else "")
    return {"claim": CLAIMS[1], "verdict": _verdict(near, far, len(neg)), "evidence": ev}


def _fmt(r) -> str:
    return f"{r['value']:.2f}" + (f" [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" if r["with_ci"] else "")


def _order_claims(rf: pd.DataFrame, source: str) -> list[dict]:
    """Claims 3 and 4 on one source: positive-control intervals compared (above, below, or overlapping)."""
    blk = rf[(rf["simulator"] == source) & (rf["ground_truth"] == POS) & ~rf["baseline"]].set_index("method")
    chain = [m for m in PAPER_ORDER if m in blk.index]
    out = []
    if len(chain) == len(PAPER_ORDER):
        pairs = list(zip(chain, chain[1:]))
        above = [(a, b) for a, b in pairs if blk.loc[a, "ci_low"] > blk.loc[b, "ci_high"]]
        below = [(a, b) for a, b in pairs if blk.loc[a, "ci_high"] < blk.loc[b, "ci_low"]]
        ev = ", ".join(f"{m} {_fmt(blk.loc[m])}" for m in chain)
        out.append({"claim": CLAIMS[2], "verdict": _verdict(above, below, len(pairs)), "evidence": ev})
    else:
        out.append({"claim": CLAIMS[2], "verdict": "inconclusive", "evidence": "PIDC, GENIE3, GRNBoost2 not all ran"})
    group = [m for m in PSEUDOTIME_METHODS if m in blk.index]
    others = [m for m in blk.index if m not in PSEUDOTIME_METHODS]
    if group and others:
        top, low = blk.loc[group, "ci_high"].idxmax(), blk.loc[others, "ci_low"].idxmin()
        above = [(g, o) for g in group for o in others if blk.loc[g, "ci_low"] > blk.loc[o, "ci_high"]]
        v = "holds" if blk.loc[top, "ci_high"] < blk.loc[low, "ci_low"] else "fails" if above else "inconclusive"
        ev = f"best pseudotime method {top} {_fmt(blk.loc[top])}, lowest other {low} {_fmt(blk.loc[low])}"
        out.append({"claim": CLAIMS[3], "verdict": v, "evidence": ev + (
            f"; {above[0][0]} above {above[0][1]}" if above else "")})
    else:
        out.append({"claim": CLAIMS[3], "verdict": "inconclusive",
                    "evidence": "no pseudotime method (or no other method) ran"})
    return out


def claims_by_depth(lb: pd.DataFrame | None, summary: pd.DataFrame | None = None, real: str = "real") -> pd.DataFrame:
    """The paper's four claims at each GRouNdGAN depth: columns claim, depth, simulator, verdict, evidence."""
    cols = ["claim", "depth", "simulator", "verdict", "evidence"]
    if lb is None or lb.empty:
        return pd.DataFrame(columns=cols)
    rf = ratio_frame(lb, summary)
    rows = []
    for source, depth in groundgan_depths(lb):
        claims = [_imposed_vs_real(rf, source, real), _near_random(rf, source), *_order_claims(rf, source)]
        rows += [{**c, "depth": depth_label(depth), "simulator": source} for c in claims]
    return pd.DataFrame(rows, columns=cols)


def claims_matrix(claims: pd.DataFrame) -> pd.DataFrame:
    """Claims x depth table of verdicts (depths in their run order), for the console and the report."""
    if claims.empty:
        return pd.DataFrame()
    order = list(dict.fromkeys(claims["depth"]))
    m = claims.pivot(index="claim", columns="depth", values="verdict")
    return m.reindex(index=[c for c in CLAIMS if c in m.index], columns=order)
