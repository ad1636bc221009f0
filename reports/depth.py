"""The report's depth section: difficulty curves, the difficulty table, realism per depth, claims x depth.

Built from the run directory's tables (leaderboard with its ``depth`` column, the verdict ``summary``/``pairwise``
when present, ``realism.json``); the numbers come from :mod:`bench.scoring.depth`. Empty (``None``) for a run
with a single GRouNdGAN depth.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from bench.scoring.depth import (NEAR_RANDOM_MAX, NEG, POS, claims_by_depth, claims_matrix, depth_label,
                                 groundgan_depths, ratio_frame)
from reports import figures


def realism_by_source(entries: list[dict] | None) -> dict[str, dict[str, float]]:
    """``{source: {"rf_auroc": x, "milisi": y}}`` of the simulated values in ``realism.json`` entries."""
    out = {}
    for e in entries or []:
        m = e.get("metrics", {})
        val = {k: (m[k].get("simulated") if isinstance(m.get(k), dict) else m.get(k)) for k in ("rf_auroc", "milisi")}
        out[str(e.get("simulator"))] = {k: float(v) for k, v in val.items() if v is not None}
    return out


def difficulty_figure(rf: pd.DataFrame, depths: list[tuple[str, float]], realism: dict, colors: dict) -> str | None:
    """One panel per method: AUPRC / random against depth (imposed solid, unimposed dashed, 95 % CI bars), the
    real cells as horizontal reference lines; a last panel with the realism of each depth."""
    if not depths or rf.empty:
        return None
    plt = figures._plt()
    methods = sorted(rf.loc[rf["simulator"].isin([s for s, _ in depths]), "method"].unique())
    if not methods:
        return None
    n = len(methods) + 1
    ncol = min(4, n)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.1 * ncol, 2.6 * nrow), squeeze=False)
    x = np.arange(len(depths))
    labels = [depth_label(d) for _, d in depths]
    lower_colors = {str(k).lower(): v for k, v in colors.items()}  # the leaderboard's labels, lowercased here
    for ax, m in zip(axes.flat, methods):
        color = lower_colors.get(m)
        for gt, ls, name in ((POS, "-", "imposed"), (NEG, "--", "unimposed")):
            blk = rf[(rf["method"] == m) & (rf["ground_truth"] == gt)].set_index("simulator")
            v = np.array([blk["value"].get(s, np.nan) for s, _ in depths], dtype=float)
            lo = np.array([blk["ci_low"].get(s, np.nan) for s, _ in depths], dtype=float)
            hi = np.array([blk["ci_high"].get(s, np.nan) for s, _ in depths], dtype=float)
            ax.errorbar(x, v, yerr=[np.nan_to_num(v - lo), np.nan_to_num(hi - v)], color=color, ls=ls, marker="o",
                        ms=3.5, lw=1.4, capsize=2, label=name)
            real = rf[(rf["simulator"] == "real") & (rf["method"] == m) & (rf["ground_truth"] == gt)]
            if len(real):
                ax.axhline(float(real["value"].iloc[0]), color="grey", ls=ls, lw=1,
                           label=f"real cells, {name}")
        ax.axhline(1.0, color="lightgrey", ls=":", lw=1)
        ax.set_xticks(x, labels)
        ax.set_title(figures.label(m))
        ax.set_xlabel("depth (x training depth)")
        ax.set_ylabel("AUPRC / random")
    axes.flat[0].legend(fontsize=6, frameon=False)
    ax = axes.flat[len(methods)]
    rf_auc = [realism.get(s, {}).get("rf_auroc", np.nan) for s, _ in depths]
    lisi = [realism.get(s, {}).get("milisi", np.nan) for s, _ in depths]
    ax.plot(x, rf_auc, marker="o", color="#d62728", label="RF AUROC (0.5 ideal)")
    ax.plot(x, lisi, marker="s", color="#1f77b4", label="miLISI (2 ideal)")
    ax.set_xticks(x, labels)
    ax.set_title("realism vs the real test cells")
    ax.set_xlabel("depth (x training depth)")
    ax.legend(fontsize=6, frameon=False)
    for extra in list(axes.flat)[len(methods) + 1:]:
        extra.axis("off")
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.12 / nrow ** 0.5, top=1 - 0.12 / nrow ** 0.5,
                        wspace=0.35, hspace=0.6)
    return figures.to_data_uri(fig)


def _ci_text(v, lo, hi, with_ci: bool) -> str:
    if v is None or not np.isfinite(v):
        return ""
    return f"{v:.2f} [{lo:.2f}, {hi:.2f}]" if with_ci and hi > lo else f"{v:.2f}"


def depth_section(lb: pd.DataFrame | None, realism_entries: list[dict] | None, colors: dict, *,
                  summary: pd.DataFrame | None = None) -> dict | None:
    """Template context of the depth section, or None when the run has fewer than two GRouNdGAN depths."""
    from reports.html import cell, make_table

    if lb is None or lb.empty:
        return None
    depths = groundgan_depths(lb)
    if len(depths) < 2:
        return None
    rf = ratio_frame(lb, summary)
    realism = realism_by_source(realism_entries)
    sources = [s for s, _ in depths] + (["real"] if "real" in set(rf["simulator"]) else [])
    heads = [depth_label(d) for _, d in depths] + (["real"] if "real" in sources else [])
    cols = [("method",)] + [(f"{h} {g}",) for h in heads for g in ("imposed", "unimposed")]
    rows = []
    for m in sorted(rf.loc[rf["simulator"].isin(sources), "method"].unique()):
        row = [cell(m)]
        for s in sources:
            for gt in (POS, NEG):
                r = rf[(rf["simulator"] == s) & (rf["method"] == m) & (rf["ground_truth"] == gt)]
                if r.empty:
                    row.append(cell(None))
                else:
                    r = r.iloc[0]
                    row.append({"text": _ci_text(float(r["value"]), float(r["ci_low"]), float(r["ci_high"]),
                                                 bool(r["with_ci"])), "sort": repr(float(r["value"])),
                                "cls": "num", "href": None})
        rows.append(row)
    difficulty = make_table(cols, rows, id="depth-difficulty")
    real_rows = [[cell(depth_label(d)), cell(s), cell(realism.get(s, {}).get("rf_auroc"), "f"),
                  cell(realism.get(s, {}).get("milisi"), "f")] for s, d in depths]
    realism_table = make_table([("depth",), ("source",), ("RF AUROC (0.5 ideal)",), ("miLISI (2 ideal)",)],
                               real_rows, id="depth-realism", sortable=False)
    claims = claims_by_depth(lb, summary)
    mat = claims_matrix(claims)
    claim_rows = [[cell(c)] + [cell(mat.loc[c, d], cls=f"verdict-{mat.loc[c, d]}") for d in mat.columns]
                  for c in mat.index]
    claims_table = make_table([("claim",)] + [(f"depth {d}",) for d in mat.columns], claim_rows, id="depth-claims",
                              sortable=False)
    evidence = make_table([("depth",), ("claim",), ("verdict",), ("evidence",)],
                          [[cell(r["depth"]), cell(r["claim"]), cell(r["verdict"]), cell(r["evidence"])]
                           for r in claims.to_dict("records")], id="depth-evidence", sortable=False)
    return {"figure": difficulty_figure(rf, depths, realism, colors), "difficulty": difficulty,
            "realism": realism_table, "claims": claims_table, "evidence": evidence,
            "with_ci": bool(rf["with_ci"].any()), "near_random": NEAR_RANDOM_MAX}
