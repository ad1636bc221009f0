"""Report figures (matplotlib/seaborn, Agg backend), returned as ``data:`` URIs ready to embed in HTML.

Every function takes the run directory's tables (see ``RUN_DIR_LAYOUT.md``) and returns a PNG data URI, or
``None`` when there is nothing to draw. Colours are fixed per method (sorted order), so a method has the same
colour in every figure of a report.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd

GT_ORDER = ["pos-control", "neg-control"]
GT_TITLE = {"pos-control": "positive control (imposed edges)", "neg-control": "negative control (unimposed edges)"}
SIM_ORDER = ["real", "groundgan", "scgan"]
DPI = 96


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "grn-bench", "figure.max_open_warning": 0})
    return plt


#: the random predictor's line (and every other baseline line); no method is ever drawn in this colour
RANDOM_COLOR = "#222222"
LEGEND_WIDTH = 1.7  # inches to the right of the panels, so that the legend never covers data


def _layout(fig, legend: bool = False) -> None:
    # Fixed margins instead of tight_layout / bbox_inches="tight": those measure every tick label and took
    # about 60 % of the report's build time.
    w, h = fig.get_size_inches()
    right = 0.15 + (LEGEND_WIDTH if legend else 0.0)
    fig.subplots_adjust(left=0.75 / w, right=1 - right / w, bottom=0.6 / h, top=1 - 0.4 / h, wspace=0.15)


def _legend_outside(ax) -> None:
    """The legend to the right of the last panel (the figure was widened for it by the caller)."""
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)


def label(text) -> str:
    """Text safe for matplotlib (a ``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def to_data_uri(fig) -> str:
    """Render ``fig`` to a base64 PNG data URI and close it."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def method_colors(methods) -> dict:
    import seaborn as sns

    methods = sorted({str(m) for m in methods})
    # tab10 without its grey (kept for baselines); more methods get evenly spaced, saturated hues
    tab = [c for i, c in enumerate(sns.color_palette("tab10", 10)) if i != 7]
    palette = tab if len(methods) <= len(tab) else sns.color_palette("husl", len(methods))
    return {m: palette[i] for i, m in enumerate(methods)}


def _ordered(values, order):
    values = list(dict.fromkeys(values))
    return [v for v in order if v in values] + sorted(v for v in values if v not in order)


def curve_figure(curves: pd.DataFrame, curve: str, colors: dict) -> str | None:
    """PR curves (``curve='pr'``) or precision@k (``'precision_at_k'``): one panel per ground truth, side by side."""
    df = curves[curves["curve"] == curve]
    if df.empty:
        return None
    plt = _plt()
    gts = _ordered(df["ground_truth"], GT_ORDER)
    fig, axes = plt.subplots(1, len(gts), figsize=(5.2 * len(gts) + LEGEND_WIDTH, 3.8), sharey=True, squeeze=False)
    for ax, gt in zip(axes[0], gts):
        sub = df[df["ground_truth"] == gt]
        for method, g in sub.groupby("method", sort=True):
            g = g.sort_values("x")
            if curve == "pr":
                # The expected curve: tied scores (e.g. a block of zeros) are interpolated over random orders
                # by the scoring code, so a constant predictor is a flat line at the random level.
                ax.plot(g["x"], g["y"], color=colors.get(method), lw=1.4, label=label(method))
            else:
                ax.plot(g["x"], g["y"], marker="o", ms=3, color=colors.get(method), lw=1.4, label=label(method))
        base = sub.groupby("x")["baseline"].mean().sort_index()
        if curve == "pr":
            ax.axhline(float(base.mean()), ls="--", color=RANDOM_COLOR, lw=1, label="random (density)")
            ax.set_xlabel("recall")
            ax.set_ylabel("precision")
            ax.set_xlim(0, 1)
        else:
            ax.plot(base.index, base.to_numpy(), ls="--", color=RANDOM_COLOR, lw=1, label="random (t/T per gene)")
            ax.set_xlabel("k (top-k regulators per target gene)")
            ax.set_ylabel("precision@k")
        ax.set_ylim(0, 1.02)
        ax.set_title(label(GT_TITLE.get(gt, gt)))
    _legend_outside(axes[0][-1])
    _layout(fig, legend=True)
    return to_data_uri(fig)


def auprc_bars(lb: pd.DataFrame, colors: dict, metric: str = "auprc_ratio") -> str | None:
    """Bars of ``metric`` per method, grouped by data source, positive and negative control side by side."""
    df = lb[(lb["status"] == "ok") & lb[metric].notna()]
    if df.empty:
        return None
    plt = _plt()
    gts = _ordered(df["ground_truth"], GT_ORDER)
    sims = _ordered(df["simulator"], SIM_ORDER)
    methods = sorted(df["method"].unique())
    width = max(4.5, 1.1 * len(sims) * len(methods) ** 0.5 + 3) * len(gts) / 1.3 + LEGEND_WIDTH
    fig, axes = plt.subplots(1, len(gts), figsize=(width, 3.6), sharey=True, squeeze=False)
    width = 0.8 / max(len(methods), 1)
    for ax, gt in zip(axes[0], gts):
        sub = df[df["ground_truth"] == gt]
        for j, m in enumerate(methods):
            vals = [sub.loc[(sub["simulator"] == s) & (sub["method"] == m), metric].mean() for s in sims]
            ax.bar(np.arange(len(sims)) + (j - (len(methods) - 1) / 2) * width, vals, width,
                   color=colors.get(m), label=label(m))
        if metric == "auprc_ratio":
            ax.axhline(1.0, ls="--", color=RANDOM_COLOR, lw=1, label="random")
        ax.set_xticks(np.arange(len(sims)), [label(s) for s in sims])
        ax.set_title(label(GT_TITLE.get(gt, gt)))
        ax.set_ylabel({"auprc_ratio": "AUPRC / random", "auprc": "AUPRC"}.get(metric, metric))
    _legend_outside(axes[0][-1])
    _layout(fig, legend=True)
    return to_data_uri(fig)


def embedding_figure(emb: pd.DataFrame) -> str | None:
    """Real (blue) and simulated (red) cells in the 2-D embedding, one panel per simulator."""
    if emb is None or emb.empty:
        return None
    plt = _plt()
    sims = _ordered(emb["simulator"], SIM_ORDER)
    fig, axes = plt.subplots(1, len(sims), figsize=(4.2 * len(sims), 4.0), squeeze=False)
    for ax, sim in zip(axes[0], sims):
        sub = emb[emb["simulator"] == sim]
        name = str(sub["embedding"].iloc[0]).upper().replace("TSNE", "t-SNE")
        for lab, color in (("real", "#1f77b4"), ("simulated", "#d62728")):
            s = sub[sub["label"] == lab]
            ax.scatter(s["x"], s["y"], s=4, alpha=0.55, color=color, lw=0, label=f"{lab} ({len(s)})")
        ax.set_title(f"{label(sim)}: {name}")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, frameon=False, markerscale=3)
    _layout(fig)
    return to_data_uri(fig)


def knockout_figure(ko: pd.DataFrame, alpha: float = 0.05) -> str | None:
    """Distribution of BH-adjusted p-values per simulator (the paper's Fig. 2F), threshold marked."""
    if ko is None or ko.empty:
        return None
    plt = _plt()
    sims = _ordered(ko["simulator"], SIM_ORDER)
    fig, axes = plt.subplots(1, len(sims), figsize=(4.4 * len(sims), 3.2), squeeze=False)
    for ax, sim in zip(axes[0], sims):
        p = ko.loc[ko["simulator"] == sim, "padj"].dropna().to_numpy()
        lp = -np.log10(np.clip(p, 1e-300, 1))
        ax.hist(lp, bins=40, color="#4c72b0")
        ax.axvline(-np.log10(alpha), color="#d62728", ls="--", lw=1, label=f"adj. p = {alpha}")
        frac = float((p < alpha).mean()) if len(p) else float("nan")
        ax.set_title(f"{label(sim)}: {frac:.1%} of {len(p)} edges significant")
        ax.set_xlabel("-log10 BH-adjusted p (Wilcoxon signed-rank)")
        ax.set_ylabel("edges")
        ax.legend(fontsize=7, frameon=False)
    _layout(fig)
    return to_data_uri(fig)
