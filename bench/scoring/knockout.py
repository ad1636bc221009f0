"""In-silico knockout statistics (the GRouNdGAN paper's Fig. 2F analysis).

A simulator generates the same cells twice: once as is (``base``) and once with one TF knocked out (``ko``),
everything else frozen, so cell i of ``base`` and cell i of ``ko`` are a matched pair. For every edge TF -> gene
of the imposed network, a two-sided Wilcoxon signed-rank test compares the gene across the matched cells;
p-values are Benjamini-Hochberg adjusted; the headline number is the fraction of edges whose adjusted p-value is
below ``alpha`` (66.5 % in the paper for PBMC-CTL).

Zero differences are dropped before ranking (scipy's ``zero_method="wilcox"``, the classical test); a gene that
does not change in any cell gets p = 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from bench.arrays import dense
from bench.errors import BenchError

KNOCKOUT_COLUMNS = ["tf", "target", "n_cells", "n_changed", "mean_base", "mean_ko", "mean_diff", "statistic",
                    "pvalue", "padj", "significant"]


def bh_adjust(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (monotone, capped at 1; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    n = len(q)
    if n == 0:
        return out
    order = np.argsort(q)
    ranked = q[order] * n / np.arange(1, n + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(n)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def _matrix_and_genes(adata, what: str) -> tuple[np.ndarray, list[str]]:
    if not (hasattr(adata, "X") and hasattr(adata, "var_names")):
        raise BenchError(f"{what} must be an AnnData with gene names.", "Pass the simulator's AnnData output.")
    return dense(adata.X, np.float64), [str(g) for g in adata.var_names]


def knockout_stats(base_adata, ko_adata, edges: pd.DataFrame, tf: str, *, alpha: float = 0.05) -> pd.DataFrame:
    """Wilcoxon signed-rank test for each edge ``tf -> target`` of ``edges`` on matched cells.

    Parameters
    ----------
    base_adata, ko_adata
        The same cells before and after knocking out ``tf`` (same shape, same gene order; row i matched).
    edges
        The imposed network (``regulator, target``); only rows with ``regulator == tf`` are tested.
    tf
        The knocked-out regulator.
    alpha
        Significance level for the ``significant`` column (on BH-adjusted p-values).

    Returns
    -------
    DataFrame with :data:`KNOCKOUT_COLUMNS`, one row per target of ``tf``. ``padj`` is adjusted over this
    TF's edges; :func:`knockout_study` re-adjusts over all knocked-out TFs.
    """
    xb, genes = _matrix_and_genes(base_adata, "base_adata")
    xk, genes_k = _matrix_and_genes(ko_adata, "ko_adata")
    if xb.shape != xk.shape or genes != genes_k:
        raise BenchError(f"base {xb.shape} and knockout {xk.shape} data do not match cell for cell.",
                         "Generate both with the simulator's deterministic (frozen-noise) mode.")
    gi = {g: i for i, g in enumerate(genes)}
    targets = [str(t) for t in edges.loc[edges["regulator"].astype(str) == str(tf), "target"]]
    targets = list(dict.fromkeys(t for t in targets if t != str(tf)))
    missing = [t for t in targets if t not in gi]
    if missing:
        raise BenchError(f"{len(missing)} target(s) of {tf} are not in the data (e.g. {missing[0]}).",
                         "Use the network the simulator was trained with.")
    if not targets:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("tf", "target") else float)
                             for c in KNOCKOUT_COLUMNS})
    cols = np.array([gi[t] for t in targets])
    diff = xk[:, cols] - xb[:, cols]
    changed = (diff != 0).sum(axis=0)
    stat = np.zeros(len(cols))
    pval = np.ones(len(cols))
    test = changed > 0
    if test.any():
        res = wilcoxon(diff[:, test], axis=0, zero_method="wilcox", alternative="two-sided")
        stat[test] = res.statistic
        pval[test] = np.nan_to_num(res.pvalue, nan=1.0)
    padj = bh_adjust(pval)
    return pd.DataFrame({
        "tf": str(tf), "target": targets, "n_cells": xb.shape[0], "n_changed": changed.astype(np.int64),
        "mean_base": xb[:, cols].mean(axis=0), "mean_ko": xk[:, cols].mean(axis=0),
        "mean_diff": diff.mean(axis=0), "statistic": stat, "pvalue": pval, "padj": padj,
        "significant": padj < alpha,
    })[KNOCKOUT_COLUMNS]


def knockout_study(base_adata, ko_by_tf: dict, edges: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """:func:`knockout_stats` for every knocked-out TF, BH-adjusted over all tested edges together."""
    frames = [knockout_stats(base_adata, ko, edges, tf, alpha=alpha) for tf, ko in ko_by_tf.items()]
    frames = [f for f in frames if len(f)]
    if not frames:
        return knockout_stats(base_adata, base_adata, edges.iloc[:0], "", alpha=alpha)
    df = pd.concat(frames, ignore_index=True)
    df["padj"] = bh_adjust(df["pvalue"].to_numpy())
    df["significant"] = df["padj"] < alpha
    return df


def fraction_significant(stats: pd.DataFrame, alpha: float = 0.05) -> float:
    """Fraction of tested edges with BH-adjusted p-value below ``alpha`` (NaN if none were tested)."""
    if len(stats) == 0:
        return float("nan")
    return float((stats["padj"] < alpha).mean())


def offtarget_max_change(base_adata, ko_adata, edges: pd.DataFrame, tf: str) -> float:
    """Largest absolute change of a gene that ``tf`` does not regulate (should be 0: the paper's sanity check)."""
    xb, genes = _matrix_and_genes(base_adata, "base_adata")
    xk, _ = _matrix_and_genes(ko_adata, "ko_adata")
    regulated = set(edges.loc[edges["regulator"].astype(str) == str(tf), "target"].astype(str)) | {str(tf)}
    cols = [i for i, g in enumerate(genes) if g not in regulated]
    if not cols:
        return 0.0
    return float(np.abs(xk[:, cols] - xb[:, cols]).max())
