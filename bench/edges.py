"""The one edge-list schema of grn-bench: ``regulator, target, weight, rank``.

Every network in the project (reference GRN, control GRNs, method output) is a :class:`pandas.DataFrame`
with these columns. ``rank`` is 1 for the strongest edge; it is derived from ``weight`` (descending, ties
broken by ``regulator`` then ``target`` so that the order is deterministic) when a file does not carry it.

Weights are rounded to :data:`WEIGHT_DIGITS` (12) significant digits where edges are ranked
(:func:`rank_edges`, which every edge table passes through, method outputs included). Scores that are equal in
exact arithmetic but not in floating point (PPCOR's and LEAP's symmetric pairs differ by ~1e-16) then tie, as
they do in BEELINE, whose R runners print 15 digits; ties are then ordered by regulator and target name.

Readers accept the project's Parquet/CSV/TSV, BEELINE's ``refNetwork.csv`` (``Gene1,Gene2[,Type]``) and
``rankedEdges.csv`` (``Gene1 Gene2 EdgeWeight``, tab-separated), and GRNBoost2/GRouNdGAN-style TSV
(``TF target importance``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench import io as bio

EDGE_COLUMNS = ["regulator", "target", "weight", "rank"]

#: Significant digits kept of every edge weight (see the module docstring).
WEIGHT_DIGITS = 12

_ALIASES = {
    "regulator": ("regulator", "tf", "gene1", "source", "from"),
    "target": ("target", "gene2", "to"),
    "weight": ("weight", "importance", "edgeweight", "score", "value"),
}


def make_edges(regulators: Iterable, targets: Iterable, weights: Iterable | None = None) -> pd.DataFrame:
    """Build a schema-conforming, ranked edge table."""
    reg = np.asarray(list(regulators), dtype=object)
    tgt = np.asarray(list(targets), dtype=object)
    w = np.ones(len(reg)) if weights is None else np.asarray(list(weights), dtype=float)
    df = pd.DataFrame({"regulator": reg.astype(str), "target": tgt.astype(str), "weight": w.astype(float)})
    return rank_edges(df)


def round_significant(values, digits: int = WEIGHT_DIGITS) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits, as ``float(f"{x:.{digits}g}")`` (0, NaN, inf kept).

    Vectorised: scaling by an exactly representable power of ten (10^0..10^22) and rounding gives the same
    float as formatting except where the scaled value lands on a half (about 1 weight in 40,000 rounds the
    other way, the same way every time); weights outside that range (below ~1e-11 or above ~1e33) are formatted.
    """
    w = np.array(values, dtype=float)
    ok = np.flatnonzero(np.isfinite(w) & (w != 0))
    if ok.size:
        v = w[ok]
        k = digits - 1 - np.floor(np.log10(np.abs(v))).astype(np.int64)
        fast = np.abs(k) <= 22
        p = 10.0 ** np.abs(k[fast])
        v_fast = v[fast]
        w[ok[fast]] = np.where(k[fast] >= 0, np.round(v_fast * p) / p, np.round(v_fast / p) * p)
        w[ok[~fast]] = [float(f"{x:.{digits}g}") for x in v[~fast]]
    return w


def rank_edges(df: pd.DataFrame) -> pd.DataFrame:
    """Round weights to :data:`WEIGHT_DIGITS` significant digits, sort them (descending; ties by regulator, then
    target) and set ``rank`` = 1..n."""
    df = df.assign(weight=round_significant(df["weight"].to_numpy(dtype=float)))
    df = df.sort_values(["weight", "regulator", "target"], ascending=[False, True, True], kind="mergesort")
    df = df.reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1, dtype=np.int64)
    return df[EDGE_COLUMNS]


def empty_edges() -> pd.DataFrame:
    return pd.DataFrame({"regulator": pd.Series(dtype=str), "target": pd.Series(dtype=str),
                         "weight": pd.Series(dtype=float), "rank": pd.Series(dtype=np.int64)})


def standardize(df: pd.DataFrame, source: str = "edge table") -> pd.DataFrame:
    """Map known column names onto the schema, check types, and (re)rank."""
    lower = {str(c).lower().replace("_", "").replace(" ", ""): c for c in df.columns}
    cols = {}
    for key, aliases in _ALIASES.items():
        for a in aliases:
            if a in lower:
                cols[key] = lower[a]
                break
    if "regulator" not in cols or "target" not in cols:
        if df.shape[1] >= 2 and all(isinstance(c, int) for c in df.columns):
            cols = {"regulator": df.columns[0], "target": df.columns[1]}
            if df.shape[1] >= 3:
                cols["weight"] = df.columns[2]
        else:
            raise BenchError(f"{source} has columns {list(df.columns)}, not regulator/target(/weight).",
                             "Give a table with columns regulator,target,weight (or BEELINE's Gene1,Gene2).")
    out = pd.DataFrame({"regulator": df[cols["regulator"]].astype(str).str.strip(),
                        "target": df[cols["target"]].astype(str).str.strip()})
    if "weight" in cols:
        w = pd.to_numeric(df[cols["weight"]], errors="coerce")
        if w.isna().any():
            raise BenchError(f"{source} has {int(w.isna().sum())} NaN, missing or non-numeric weights.",
                             "Fix or drop those rows.")
        out["weight"] = w.astype(float).to_numpy()
    else:
        out["weight"] = 1.0
    return rank_edges(out)


def read_edges(path: str | os.PathLike) -> pd.DataFrame:
    """Read an edge list from Parquet, CSV or TSV (project schema, BEELINE or GRNBoost2 style)."""
    path = Path(path)
    if not path.exists():
        raise BenchError(f"GRN file not found: {path}.", "Check the path.")
    try:
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            with open(path) as fh:
                head = fh.readline()
            sep = "\t" if "\t" in head else ","
            if sep == "," and "," not in head and " " in head.strip():
                sep = r"\s+"
            first = [h.strip().lower() for h in (head.split("\t") if sep == "\t" else head.replace(" ", ",").split(","))]
            known = {a for al in _ALIASES.values() for a in al}
            header = 0 if any(f.replace("_", "") in known for f in first) else None
            df = pd.read_csv(path, sep=sep, header=header, engine="python")
    except BenchError:
        raise
    except Exception as exc:  # corrupt or unreadable file
        raise BenchError(f"cannot read GRN file {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                         "Give a Parquet/CSV/TSV edge list (regulator,target,weight).") from None
    return standardize(df, source=str(path))


def write_edges(path: str | os.PathLike, df: pd.DataFrame) -> Path:
    """Write atomically: Parquet for ``.parquet``, else CSV (TSV for ``.tsv``)."""
    path = Path(path)
    df = df[EDGE_COLUMNS]
    if path.suffix == ".parquet":
        return bio.write_parquet(path, df)
    sep = "\t" if path.suffix == ".tsv" else ","
    with bio.atomic_path(path) as tmp:
        df.to_csv(tmp, sep=sep, index=False)
    return path


def check_bipartite(df: pd.DataFrame, source: str = "GRN") -> None:
    """Raise if a gene is both a regulator and a target, or if an edge is a self-loop."""
    both = sorted(set(df["regulator"]) & set(df["target"]))
    if both:
        raise BenchError(f"{source} is not bipartite: {len(both)} gene(s) are both regulator and target "
                         f"(e.g. {', '.join(both[:3])}).",
                         "Drop edges into regulators (grn-bench's GRN strategies never produce them).")


def check_genes(df: pd.DataFrame, genes: Iterable[str], source: str = "GRN") -> None:
    """Raise if the GRN names genes absent from the data."""
    gs = set(genes)
    missing = sorted((set(df["regulator"]) | set(df["target"])) - gs)
    if missing:
        raise BenchError(f"{source} names {len(missing)} gene(s) absent from the data (e.g. {', '.join(missing[:3])}).",
                         "Build the GRN from the same prepared dataset, or drop those edges.")


def to_parents(df: pd.DataFrame) -> dict[str, list[str]]:
    """``{target: [regulators in rank order]}``."""
    out: dict[str, list[str]] = {}
    for reg, tgt in zip(df["regulator"], df["target"]):
        out.setdefault(tgt, []).append(reg)
    return out
