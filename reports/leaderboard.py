"""The leaderboard: one row per method x dataset x simulator x ground truth x replicate, one versioned schema, Parquet
on disk.

``simulator`` names the source of the expression data the method ran on (``groundgan``, ``scgan`` or ``real``
for the reference data itself); ``ground_truth`` is the network it was scored against (``pos-control`` = the
imposed edges, ``neg-control`` = the unimposed ones). Every row states its ``universe`` and its ``replicate``
(the replicate dataset of the source it ran on); means and confidence intervals over the replicates are in the
run's ``summary.parquet`` (:mod:`bench.scoring.verdicts`).

Schema changes bump :data:`LEADERBOARD_SCHEMA_VERSION`; :func:`read_leaderboard` refuses a file written with a
newer schema and upgrades older ones (missing columns filled with nulls).

Examples
--------
>>> from reports.leaderboard import make_row, write_leaderboard, read_leaderboard
>>> row = make_row(method="grnboost2", dataset="bonemarrow", simulator="groundgan",
...                ground_truth="pos-control", metrics={"auprc": 0.41}, runtime_s=12.0)
>>> import pandas as pd
>>> df = pd.DataFrame([row])
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench.errors import BenchError
from bench import io as bio

LEADERBOARD_SCHEMA_VERSION = 2  # 2: replicate, qc

STATUSES = ("ok", "failed", "timeout", "skipped")
GROUND_TRUTHS = ("pos-control", "neg-control")
SIMULATORS = ("groundgan", "scgan", "real")

_METRICS = ["auprc", "auprc_random", "auprc_ratio", "auprc_groundgan", "auprc_beeline", "auroc", "ep", "epr",
            "precision_at_k", "precision_at_k_random", "precision_at_k_ratio", "precision_at_k_expected"]
_COUNTS = ["k", "n_true", "n_universe", "n_regulators", "n_targets", "n_predicted", "n_true_outside_universe"]

#: column -> pandas dtype, in display order. ``string`` columns hold JSON where noted.
LEADERBOARD_DTYPES: dict[str, str] = {
    "schema_version": "int64",
    "run_id": "string",
    "method": "string",
    "dataset": "string",
    "simulator": "string",
    "ground_truth": "string",
    "universe": "string",
    "replicate": "Int64",           # replicate dataset of the data source (0, 1, ...); null in v1 files
    "status": "string",
    "qc": "string",                 # QC gates fired for this row's source x ground truth (comma-separated)
    **{m: "float64" for m in _METRICS},
    **{c: "Int64" for c in _COUNTS},
    "n_edges_predicted": "Int64",   # rows in the method's output (before the universe filter)
    "runtime_s": "float64",         # wall-clock time of the inference
    "cpu_time_s": "float64",        # user + system CPU time, children included
    "peak_memory_mb": "float64",    # peak resident memory of the inference process
    "n_cells": "Int64",
    "n_genes": "Int64",
    "seed": "Int64",
    "preset": "string",
    "protocol": "string",           # paper | fast (bench.protocol): TF list given or not, which presets
    "depth": "float64",             # measurement depth of the source: x training depths; inf = expected profile
    "parameters": "string",         # JSON object of the method's parameters
    "input_transform": "string",    # what the method got: log1p of the normalised expression (methods.inputs)
    "executor": "string",           # native (Python, child process) or docker
    "image": "string",              # docker: the image name
    "image_id": "string",           # docker: the image's content id (sha256:...)
    "config_hash": "string",
    "package_versions": "string",   # JSON object {package: version}
    "error": "string",              # one-line reason when status != ok
    "stderr_tail": "string",        # last lines of the method's stderr
    "warnings": "string",           # what was dropped from the method's output (self-loops, duplicate edges)
    "implementation": "string",     # JSON: where the method came from (built-in, entry point, file) and its function
    "timestamp": "string",          # ISO 8601, UTC
}
LEADERBOARD_COLUMNS: list[str] = list(LEADERBOARD_DTYPES)
METRIC_COLUMNS: list[str] = list(_METRICS)
KEY_COLUMNS = ["method", "dataset", "simulator", "ground_truth"]
#: what makes a row unique (a run may score both universes, and each data source has replicate datasets)
ROW_KEY = KEY_COLUMNS + ["universe", "replicate"]
STDERR_TAIL_CHARS = 4000


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def make_row(*, method: str, dataset: str, simulator: str, ground_truth: str, metrics: dict | None = None,
             status: str = "ok", run_id: str | None = None, universe: str | None = None,
             parameters: dict | str | None = None, package_versions: dict | str | None = None,
             stderr_tail: str | None = None, **fields: Any) -> dict:
    """One leaderboard row as a dict with every column of :data:`LEADERBOARD_COLUMNS`.

    Parameters
    ----------
    method, dataset, simulator, ground_truth
        The row's key. ``simulator`` in :data:`SIMULATORS` (or another simulator name),
        ``ground_truth`` in :data:`GROUND_TRUTHS`.
    metrics
        Output of :func:`bench.scoring.grn.score_grn` (extra keys are ignored; ``universe`` is taken from it).
    status
        ``ok``, ``failed``, ``timeout`` or ``skipped``. Failed rows carry NaN metrics and their ``stderr_tail``.
    parameters, package_versions
        Dicts (stored as JSON text).
    **fields
        Any other column (``runtime_s``, ``cpu_time_s``, ``peak_memory_mb``, ``seed``, ``preset``,
        ``config_hash``, ``error``, ``n_cells``, ...). Unknown names raise.
    """
    unknown = sorted(set(fields) - set(LEADERBOARD_COLUMNS))
    if unknown:
        raise BenchError(f"unknown leaderboard column(s): {', '.join(unknown)}.",
                         f"Known columns: {', '.join(LEADERBOARD_COLUMNS)}.")
    if status not in STATUSES:
        raise BenchError(f"status {status!r} is not one of {', '.join(STATUSES)}.", "Fix the caller.")
    row: dict[str, Any] = {c: None for c in LEADERBOARD_COLUMNS}
    metrics = dict(metrics or {})
    for c in _METRICS + _COUNTS:
        if c in metrics:
            row[c] = metrics[c]
    row.update(fields)
    row.update({
        "schema_version": LEADERBOARD_SCHEMA_VERSION, "run_id": run_id, "method": method, "dataset": dataset,
        "simulator": simulator, "ground_truth": ground_truth, "status": status,
        "universe": universe if universe is not None else metrics.get("universe"),
        "parameters": _json(parameters), "package_versions": _json(package_versions),
        "implementation": _json(row.get("implementation")),
        "stderr_tail": stderr_tail[-STDERR_TAIL_CHARS:] if stderr_tail else stderr_tail,
    })
    if row.get("timestamp") is None:
        row["timestamp"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return row


def validate_leaderboard(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with exactly the schema's columns, order and dtypes; raise on a broken table."""
    if not isinstance(df, pd.DataFrame):
        raise BenchError("a leaderboard must be a pandas DataFrame.", "Build rows with reports.leaderboard.make_row.")
    missing = [c for c in KEY_COLUMNS + ["status"] if c not in df.columns]
    if missing:
        raise BenchError(f"leaderboard lacks column(s) {', '.join(missing)}.",
                         "Build rows with reports.leaderboard.make_row.")
    extra = sorted(set(df.columns) - set(LEADERBOARD_COLUMNS))
    if extra:
        raise BenchError(f"leaderboard has unknown column(s) {', '.join(extra)}.",
                         f"Schema v{LEADERBOARD_SCHEMA_VERSION} columns: {', '.join(LEADERBOARD_COLUMNS)}.")
    out = pd.DataFrame(index=range(len(df)))
    src = df.reset_index(drop=True)
    for col, dtype in LEADERBOARD_DTYPES.items():
        values = src[col] if col in src.columns else pd.Series([None] * len(src), dtype=object)
        try:
            if dtype == "float64":
                out[col] = pd.to_numeric(values, errors="raise").astype("float64")
            elif dtype in ("Int64", "int64"):
                out[col] = pd.to_numeric(values, errors="raise").astype("Int64")
            else:
                out[col] = values.astype(object).where(values.notna(), None).astype("string")
        except (ValueError, TypeError) as exc:
            raise BenchError(f"leaderboard column {col!r} cannot be read as {dtype}: {exc}.",
                             "Fix the values in that column.") from None
    out["schema_version"] = out["schema_version"].fillna(LEADERBOARD_SCHEMA_VERSION).astype("int64")
    bad = sorted(set(out["status"].dropna()) - set(STATUSES))
    if bad or out["status"].isna().any():
        raise BenchError(f"leaderboard has invalid status value(s): {bad or ['<missing>']}.",
                         f"Use one of {', '.join(STATUSES)}.")
    for col in KEY_COLUMNS:
        if out[col].isna().any():
            raise BenchError(f"leaderboard column {col!r} has missing values.", "Every row needs its key.")
    return out


def write_leaderboard(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Validate and write atomically to Parquet (schema version also stored in the file's metadata)."""
    table = pa.Table.from_pandas(validate_leaderboard(df), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"grn_bench_leaderboard_schema"] = str(LEADERBOARD_SCHEMA_VERSION).encode()
    table = table.replace_schema_metadata(meta)
    with bio.atomic_path(path, suffix=".parquet") as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def read_leaderboard(path: str | os.PathLike) -> pd.DataFrame:
    """Read a leaderboard Parquet file, check its schema version, return the validated table."""
    path = Path(path)
    if not path.exists():
        raise BenchError(f"leaderboard not found: {path}.", "Run `bench run` first, or check the run directory.")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # corrupt file
        raise BenchError(f"cannot read leaderboard {path}: {type(exc).__name__}.", "Re-run the scoring stage.") from None
    meta = table.schema.metadata or {}
    version = int(meta.get(b"grn_bench_leaderboard_schema", b"0") or 0)
    df = table.to_pandas()
    if "schema_version" in df.columns and len(df):
        version = max(version, int(pd.to_numeric(df["schema_version"]).max()))
    if version > LEADERBOARD_SCHEMA_VERSION:
        raise BenchError(f"{path} uses leaderboard schema v{version}; this grn-bench reads up to "
                         f"v{LEADERBOARD_SCHEMA_VERSION}.", "Upgrade grn-bench.")
    return validate_leaderboard(df)


def to_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as plain columns for CSV export (same columns, missing values empty)."""
    return validate_leaderboard(df).astype(object).where(lambda d: d.notna(), None)


def sort_for_display(df: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by dataset, simulator, ground truth; best AUPRC first; failed rows last."""
    sim_order = {s: i for i, s in enumerate(("groundgan", "scgan", "real"))}
    gt_order = {g: i for i, g in enumerate(GROUND_TRUTHS)}
    key = df.assign(_failed=(df["status"] != "ok").astype(int), _auprc=-df["auprc"].astype(float).fillna(-np.inf),
                    _sim=df["simulator"].map(lambda s: sim_order.get(s, len(sim_order))),
                    _gt=df["ground_truth"].map(lambda g: gt_order.get(g, len(gt_order))))
    cols = ["dataset", "_sim", "simulator", "universe", "_gt", "ground_truth", "_failed", "_auprc", "method"]
    return key.sort_values(cols, kind="mergesort", na_position="last").drop(
        columns=["_failed", "_auprc", "_sim", "_gt"]).reset_index(drop=True)
