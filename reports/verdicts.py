"""The verdict section of the report and the console summary: CIs, tied ranks, win probabilities, stability, QC.

Reads the verdict tables of a run directory (``summary``, ``pairwise``, ``stability``, ``qc``: see
``RUN_DIR_LAYOUT.md`` and :mod:`bench.scoring.verdicts`) and returns figures (PNG data URIs), table dicts for
the report template, and plain text for the console.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reports import figures as fg

METRIC = "auprc_ratio"
GTS = ("pos-control", "neg-control")
BASELINE_COLOR = "#7f7f7f"


#: the simulator that imposes the network first: its block carries the benchmark's verdict
VERDICT_ORDER = ["groundgan", "real", "scgan"]


def _sources(summary: pd.DataFrame) -> list[str]:
    return fg._ordered(summary["simulator"], VERDICT_ORDER)


def ci_text(mean, lo, hi) -> str:
    """``1.23 [1.10, 1.35]``; an en dash when missing."""
    if mean is None or not np.isfinite(mean):
        return "\u2013"
    if lo is None or not np.isfinite(lo):
        return f"{mean:.2f}"
    return f"{mean:.2f} [{lo:.2f}, {hi:.2f}]"


def _row_ci(r, metric: str = METRIC) -> str:
    return ci_text(r.get(metric), r.get(f"{metric}_ci_low"), r.get(f"{metric}_ci_high"))


def ranked(summary: pd.DataFrame, source: str, gt: str = "pos-control", metric: str = METRIC) -> pd.DataFrame:
    """The rows of one block, best mean first (methods that never finished last)."""
    blk = summary[(summary["simulator"] == source) & (summary["ground_truth"] == gt)]
    return blk.sort_values([metric, "method"], ascending=[False, True], na_position="last").reset_index(drop=True)


def _p_lookup(pairwise: pd.DataFrame | None, source: str, gt: str, metric: str = METRIC) -> dict:
    if pairwise is None or pairwise.empty:
        return {}
    pw = pairwise[(pairwise["simulator"] == source) & (pairwise["ground_truth"] == gt) & (pairwise["metric"] == metric)]
    return {(a, b): p for a, b, p in zip(pw["method_a"], pw["method_b"], pw["p_a_beats_b"])}


# ---------------------------------------------------------------------------------------------- figures

def forest_figure(summary: pd.DataFrame, source: str, colors: dict, metric: str = METRIC) -> str | None:
    """Each method's mean and 95 % CI, positive and negative control side by side; baselines grey and hollow."""
    pos = ranked(summary, source, "pos-control", metric)
    if pos.empty or not pos[metric].notna().any():
        return None
    plt = fg._plt()
    order = list(pos["method"])
    gts = [g for g in GTS if ((summary["simulator"] == source) & (summary["ground_truth"] == g)).any()]
    fig, axes = plt.subplots(1, len(gts), figsize=(4.6 * len(gts) + 1.0, 0.32 * len(order) + 1.3), sharey=True,
                             squeeze=False)
    y = np.arange(len(order))[::-1]
    for ax, gt in zip(axes[0], gts):
        blk = summary[(summary["simulator"] == source) & (summary["ground_truth"] == gt)].set_index("method")
        rnd = blk[blk["baseline"].astype(bool) & (blk.index == "random")]
        if len(rnd) and np.isfinite(rnd[f"{metric}_ci_low"].iloc[0]):
            ax.axvspan(rnd[f"{metric}_ci_low"].iloc[0], rnd[f"{metric}_ci_high"].iloc[0], color="#dddddd",
                       zorder=0, label="random baseline's CI")
        ax.axvline(1.0, ls="--", color="grey", lw=1, label="random expectation")
        for yi, m in zip(y, order):
            if m not in blk.index or not np.isfinite(blk.loc[m, metric]):
                continue
            r = blk.loc[m]
            base = bool(r["baseline"])
            c = BASELINE_COLOR if base else colors.get(m)
            lo, hi = r[f"{metric}_ci_low"], r[f"{metric}_ci_high"]
            xerr = [[max(r[metric] - lo, 0)], [max(hi - r[metric], 0)]] if np.isfinite(lo) else None
            ax.errorbar(r[metric], yi, xerr=xerr, fmt="D" if base else "o", ms=5, color=c, ecolor=c, capsize=3,
                        mfc="white" if base else c, lw=1.4)
        ax.set_title(fg.label(fg.GT_TITLE.get(gt, gt)))
        ax.set_xlabel("AUPRC / random, mean and 95 % CI" if metric == "auprc_ratio" else metric)
    groups = pos.set_index("method")["tied_group"] if "tied_group" in pos else pd.Series(dtype=float)
    labels = [fg.label(f"{m}{' (baseline)' if bool(pos.set_index('method').loc[m, 'baseline']) else ''}"
                       f"  [{int(groups[m])}]" if m in groups and pd.notna(groups[m]) else m) for m in order]
    axes[0][0].set_yticks(y, labels)
    axes[0][-1].legend(fontsize=7, frameon=False, loc="lower right")
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=2.2 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - 0.35 / h, wspace=0.08)
    return fg.to_data_uri(fig)


def pairwise_heatmap(summary: pd.DataFrame, pairwise: pd.DataFrame, source: str, gt: str = "pos-control",
                     metric: str = METRIC) -> str | None:
    """P(row method beats column method), methods in ranking order."""
    r = ranked(summary, source, gt, metric)
    order = list(r.loc[r[metric].notna(), "method"])
    p = _p_lookup(pairwise, source, gt, metric)
    if len(order) < 2 or not p:
        return None
    plt = fg._plt()
    M = np.full((len(order), len(order)), np.nan)
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            if a != b:
                M[i, j] = p.get((a, b), np.nan)
    n = len(order)
    fig, ax = plt.subplots(figsize=(0.55 * n + 2.6, 0.45 * n + 1.4))
    im = ax.imshow(M, cmap="RdBu_r", vmin=0, vmax=1)
    if n <= 14:
        for i in range(n):
            for j in range(n):
                if np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if abs(M[i, j] - 0.5) > 0.35 else "black")
    ax.set_xticks(range(n), [fg.label(m) for m in order], rotation=45, ha="right")
    ax.set_yticks(range(n), [fg.label(m) for m in order])
    ax.set_title(fg.label(f"{source} ({gt}): P(row beats column)"), fontsize=8)
    ax.spines[:].set_visible(False)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=1.5 / w, right=1 - 0.3 / w, bottom=1.2 / h, top=1 - 0.35 / h)
    return fg.to_data_uri(fig)


def summary_heatmap(summary: pd.DataFrame, metric: str = METRIC) -> str | None:
    """Methods x data sources, mean AUPRC ratio with the tied group (BEELINE's summary figure); one panel per truth."""
    ok = summary[summary[metric].notna()]
    if ok.empty:
        return None
    plt = fg._plt()
    from matplotlib.colors import TwoSlopeNorm

    sources = _sources(ok)
    gts = [g for g in GTS if g in set(ok["ground_truth"])]
    pos = ok[ok["ground_truth"] == gts[0]]
    order = list(pos.groupby("method")[metric].mean().sort_values(ascending=False).index)
    order += sorted(set(ok["method"]) - set(order))
    vals = ok[metric].to_numpy(float)
    norm = TwoSlopeNorm(vcenter=1.0, vmin=min(0.5, np.nanmin(vals)), vmax=max(1.5, np.nanmax(vals)))
    n, k = len(order), len(sources)
    fig, axes = plt.subplots(1, len(gts), figsize=(len(gts) * (0.9 * k + 1.0) + 1.6, 0.34 * n + 1.4),
                             squeeze=False, sharey=True)
    for ax, gt in zip(axes[0], gts):
        blk = ok[ok["ground_truth"] == gt].set_index(["method", "simulator"])
        M = np.full((n, k), np.nan)
        for i, m in enumerate(order):
            for j, s in enumerate(sources):
                if (m, s) in blk.index:
                    M[i, j] = blk.loc[(m, s), metric]
        im = ax.imshow(M, cmap="RdBu_r", norm=norm, aspect="auto")
        for i, m in enumerate(order):
            for j, s in enumerate(sources):
                if np.isfinite(M[i, j]):
                    g = blk.loc[(m, s), "tied_group"] if "tied_group" in blk else None
                    txt = f"{M[i, j]:.2f}" + (f" ({int(g)})" if g is not None and pd.notna(g) else "")
                    r, gr, b, _ = im.cmap(norm(M[i, j]))
                    dark = 0.299 * r + 0.587 * gr + 0.114 * b < 0.5
                    ax.text(j, i, txt, ha="center", va="center", fontsize=7, color="white" if dark else "black")
        ax.set_xticks(range(k), [fg.label(s) for s in sources], rotation=30, ha="right")
        ax.set_title(fg.label(fg.GT_TITLE.get(gt, gt)), fontsize=8)
        ax.spines[:].set_visible(False)
    axes[0][0].set_yticks(range(n), [fg.label(m) for m in order])
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=1.3 / w, right=1 - 1.4 / w, bottom=1.0 / h, top=1 - 0.35 / h, wspace=0.05)
    cax = fig.add_axes([1 - 1.2 / w, 1.0 / h, 0.15 / w, 1 - 1.35 / h])
    fig.colorbar(im, cax=cax, label="AUPRC / random (tied group)")
    return fg.to_data_uri(fig)


# ---------------------------------------------------------------------------------------------- tables

def rank_table(summary: pd.DataFrame, pairwise: pd.DataFrame | None, source: str, *, cell, make_table) -> dict:
    """Tied-rank table of one source: group, method, AUPRC ratio on both controls, P(beats the next method)."""
    pos = ranked(summary, source, "pos-control")
    neg = summary[(summary["simulator"] == source) & (summary["ground_truth"] == "neg-control")].set_index("method")
    p = _p_lookup(pairwise, source, "pos-control")
    rows = []
    recs = pos.to_dict("records")
    for i, r in enumerate(recs):
        nxt = recs[i + 1]["method"] if i + 1 < len(recs) and np.isfinite(recs[i + 1][METRIC]) else None
        pn = p.get((r["method"], nxt), np.nan) if nxt else np.nan
        nr = neg.loc[r["method"]].to_dict() if r["method"] in neg.index else {}
        g = r.get("tied_group")
        rows.append([cell(g if pd.notna(g) else None, "i"), cell(r["method"]),
                     cell("baseline" if r["baseline"] else "", cls="muted" if r["baseline"] else None),
                     cell(r[METRIC], "f"), cell(_row_ci(r)), cell(nr.get(METRIC), "f"), cell(_row_ci(nr)),
                     cell(pn, "f"), cell(_row_ci(r, "auroc")), cell(_row_ci(r, "epr")),
                     cell(f"{int(r['n_ok'])}/{int(r['n_replicates'])}")])
    cols = [("group", None, "tied group: not decisively worse (P < 0.95) than the group's first method"),
            ("method",), ("",), ("ratio pos", "desc", "mean AUPRC / random on the imposed edges"),
            ("95% CI pos",), ("ratio neg", "desc", "on the unimposed edges"), ("95% CI neg",),
            ("P(beats next)", "desc", "P that this method beats the next one down (paired bootstrap)"),
            ("AUROC pos",), ("EPR pos",), ("replicates ok",)]
    return make_table(cols, rows, id=f"ranks-{source}")


def stability_table(stab: pd.DataFrame, *, cell, make_table) -> dict | None:
    if stab is None or stab.empty:
        return None
    rows = [[cell(r["simulator"]), cell(r["method"]), cell("baseline" if r["baseline"] else ""),
             cell(r["spearman_median"], "f"), cell(r["jaccard_median"], "f"), cell(r["k"], "i"),
             cell(r["n_replicates"], "i")] for r in stab.to_dict("records")]
    cols = [("data",), ("method",), ("",), ("Spearman (median)", "desc", "median pairwise Spearman correlation of "
                                            "the edge scores between replicates"),
            ("Jaccard top-k (median)", "desc", "median pairwise Jaccard index of the top-k edges"), ("k",),
            ("replicates",)]
    return make_table(cols, rows, id="stability-table")


def qc_table(qc: pd.DataFrame, *, cell, make_table) -> dict | None:
    if qc is None or qc.empty:
        return None
    rows = [[cell(r["simulator"]), cell(r["ground_truth"]), cell(r["gate"]),
             cell("FIRED" if r["fired"] else "passed", cls="status-failed" if r["fired"] else "status-ok"),
             cell(r["detail"])] for r in qc.to_dict("records")]
    return make_table([("data",), ("ground truth",), ("gate",), ("result",), ("detail",)], rows, id="qc-table")


def verdict_context(tables: dict | None, colors: dict) -> dict | None:
    """Everything the report's verdict section shows, or ``None`` when the run has no verdict tables."""
    if not tables or tables.get("summary") is None or tables["summary"].empty:
        return None
    from reports.html import cell, make_table

    summary, pairwise = tables["summary"], tables.get("pairwise")
    blocks = []
    for src in _sources(summary):
        blocks.append({"source": src, "forest": forest_figure(summary, src, colors),
                       "ranks": rank_table(summary, pairwise, src, cell=cell, make_table=make_table),
                       "heatmap": pairwise_heatmap(summary, pairwise, src) if pairwise is not None else None})
    qc = tables.get("qc")
    fired = [] if qc is None or qc.empty else [f"{r['simulator']} / {r['ground_truth']}: {r['gate']} ({r['detail']})"
                                               for r in qc[qc["fired"]].to_dict("records")]
    s0 = summary.iloc[0]
    return {"blocks": blocks, "summary_heatmap": summary_heatmap(summary),
            "stability": stability_table(tables.get("stability"), cell=cell, make_table=make_table),
            "qc": qc_table(qc, cell=cell, make_table=make_table), "fired": fired,
            "n_boot": int(s0.get("n_boot", 0) or 0), "level": float(s0.get("ci_level", 0.95) or 0.95),
            "n_replicates": int(summary["n_replicates"].max())}


# ---------------------------------------------------------------------------------------------- console

def verdict_text(tables: dict | None) -> str:
    """The console summary: per source the verdict table, adjacent win probabilities, stability, gates fired."""
    if not tables or tables.get("summary") is None or tables["summary"].empty:
        return ""
    summary, pairwise, stab, qc = (tables.get(k) for k in ("summary", "pairwise", "stability", "qc"))
    s0 = summary.iloc[0]
    out = [f"Verdicts: AUPRC / random, mean over {int(summary['n_replicates'].max())} replicate(s) and 95% CI "
           f"(hierarchical bootstrap, {int(s0['n_boot'])} resamples); group = tied group (1 = best)"]
    for src in _sources(summary):
        pos = ranked(summary, src, "pos-control")
        neg = summary[(summary["simulator"] == src) & (summary["ground_truth"] == "neg-control")].set_index("method")
        p = _p_lookup(pairwise, src, "pos-control")
        out.append(f"\n  {src}:")
        out.append(f"    {'group':<6}{'method':<13}{'imposed (pos)':<24}{'unimposed (neg)':<24}P(beats next)")
        recs = pos.to_dict("records")
        for i, r in enumerate(recs):
            nxt = recs[i + 1]["method"] if i + 1 < len(recs) else None
            pn = p.get((r["method"], nxt), np.nan) if nxt else np.nan
            nr = neg.loc[r["method"]].to_dict() if r["method"] in neg.index else {}
            g = r.get("tied_group")
            name = r["method"] + ("*" if r["baseline"] else "")
            out.append(f"    {str(int(g)) if pd.notna(g) else '-':<6}{name:<13}{_row_ci(r):<24}{_row_ci(nr):<24}"
                       + (f"{pn:.3f} vs {nxt}" if nxt and np.isfinite(pn) else ""))
    out.append("  (* = baseline method)")
    if stab is not None and not stab.empty:
        out.append("\n  Stability across replicates (median pairwise Spearman of edge scores / Jaccard of top-k):")
        for src, g in stab.groupby("simulator", sort=False):
            out.append(f"    {src}: " + ", ".join(f"{r['method']} {r['spearman_median']:.2f}/{r['jaccard_median']:.2f}"
                                                for r in g.to_dict("records")))
    if qc is not None and not qc.empty:
        fired = qc[qc["fired"]]
        out.append(f"\n  QC gates: {len(fired)} of {len(qc)} fired" + (":" if len(fired) else ""))
        for r in fired.to_dict("records"):
            out.append(f"    {r['simulator']} / {r['ground_truth']}: {r['gate']} ({r['detail']})")
    return "\n".join(out)
