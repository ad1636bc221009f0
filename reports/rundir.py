"""Read and write the files of a run directory that ``bench report`` and ``bench publish`` consume.

The layout is documented in ``reports/RUN_DIR_LAYOUT.md``. The pipeline writes through :class:`RunDir` so that the
files always match what the report reads; every write is atomic, and the ``add_*`` methods merge into what is
already there (a re-run of one method replaces that method's rows, nothing else).

Examples
--------
>>> rd = RunDir("runs/2026-11-24_bonemarrow")                          # doctest: +SKIP
>>> ev = evaluate_grn(pred, truth)                                        # doctest: +SKIP
>>> rd.add_scores(ev, method="grnboost2", dataset="bonemarrow", simulator="groundgan",
...               ground_truth="pos-control", runtime_s=12.3, seed=0)    # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import io as bio
from bench.errors import BenchError
from reports import leaderboard as lb
from bench.scoring.knockout import KNOCKOUT_COLUMNS

RUN_DIR_SCHEMA_VERSION = 1

CURVE_COLUMNS = ["method", "dataset", "simulator", "ground_truth", "universe", "curve", "x", "y", "y_expected",
                 "baseline", "baseline_groundgan"]
EMBEDDING_COLUMNS = ["dataset", "simulator", "embedding", "x", "y", "label"]
KNOCKOUT_KEYS = ["dataset", "simulator"]

FILES = {
    "manifest": "manifest.json",
    "config": "config.toml",
    "leaderboard": "leaderboard.parquet",
    "curves": "curves.parquet",
    "realism": "realism.json",
    "embedding": "embedding.parquet",
    "knockout": "knockout.parquet",
    "summary": "summary.parquet",
    "pairwise": "pairwise.parquet",
    "stability": "stability.parquet",
    "qc": "qc.parquet",
    "report": "report.html",
}
#: the verdict tables of :class:`bench.scoring.verdicts.Verdicts`, one Parquet file each
VERDICT_PARTS = ("summary", "pairwise", "stability", "qc")
#: curves are drawn for one replicate (the first): one block per key without the replicate
CURVE_KEY = ["method", "dataset", "simulator", "ground_truth", "universe"]


def curves_frame(evaluation, *, method: str, dataset: str, simulator: str, ground_truth: str) -> pd.DataFrame:
    """Long-form curve rows (``curves.parquet`` schema) from a :class:`bench.scoring.grn.GRNEvaluation`."""
    universe = evaluation.metrics["universe"]
    density = evaluation.metrics.get("auprc_random", np.nan)
    pr = evaluation.pr_curve
    pk = evaluation.precision_at_k
    a = pd.DataFrame({"curve": "pr", "x": pr["recall"].to_numpy(float), "y": pr["precision"].to_numpy(float),
                      "y_expected": np.nan, "baseline": density, "baseline_groundgan": np.nan})
    b = pd.DataFrame({"curve": "precision_at_k", "x": pk["k"].to_numpy(float), "y": pk["precision"].to_numpy(float),
                      "y_expected": pk["precision_expected"].to_numpy(float),
                      "baseline": pk["baseline"].to_numpy(float),
                      "baseline_groundgan": pk["baseline_groundgan"].to_numpy(float)})
    df = pd.concat([a, b], ignore_index=True)
    for k, v in (("method", method), ("dataset", dataset), ("simulator", simulator),
                 ("ground_truth", ground_truth), ("universe", universe)):
        df[k] = v
    return df[CURVE_COLUMNS]


def _check_columns(df: pd.DataFrame, columns: list[str], what: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BenchError(f"{what} lacks column(s) {', '.join(missing)}.", f"Expected: {', '.join(columns)}.")
    return df


def _merge(old: pd.DataFrame | None, new: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``new`` replaces every row of ``old`` with the same key values."""
    if old is None or old.empty:
        return new.reset_index(drop=True)
    if new.empty:
        return old.reset_index(drop=True)
    new_keys = set(map(tuple, new[keys].astype(str).to_numpy()))
    keep = [tuple(r) not in new_keys for r in old[keys].astype(str).to_numpy()]
    return pd.concat([old[keep], new], ignore_index=True)


class RunDir:
    """A run directory: paths, readers (``None`` when a part is missing) and atomic writers."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, part: str) -> Path:
        return self.path / FILES[part]

    def exists(self, part: str) -> bool:
        return self.file(part).exists()

    # ---- manifest and config -------------------------------------------------------------------------
    def read_manifest(self) -> dict | None:
        if not self.exists("manifest"):
            return None
        try:
            return json.loads(self.file("manifest").read_text())
        except (ValueError, OSError) as exc:
            raise BenchError(f"cannot read {self.file('manifest')}: {exc}.", "Fix or delete the file.") from None

    def write_manifest(self, manifest: dict) -> Path:
        data = {"run_dir_schema": RUN_DIR_SCHEMA_VERSION, **manifest}
        return bio.write_json(self.file("manifest"), data)

    def update_manifest(self, **fields: Any) -> Path:
        m = self.read_manifest() or {}
        m.update(fields)
        return self.write_manifest(m)

    def read_config(self) -> str | None:
        return self.file("config").read_text() if self.exists("config") else None

    def write_config(self, text: str) -> Path:
        return bio.write_text(self.file("config"), text)

    # ---- leaderboard -----------------------------------------------------------------------------------
    def read_leaderboard(self) -> pd.DataFrame | None:
        return lb.read_leaderboard(self.file("leaderboard")) if self.exists("leaderboard") else None

    def write_leaderboard(self, df: pd.DataFrame) -> Path:
        return lb.write_leaderboard(df, self.file("leaderboard"))

    def add_rows(self, rows: list[dict] | pd.DataFrame) -> Path:
        """Merge rows (from :func:`reports.leaderboard.make_row`) into the leaderboard, replacing same keys."""
        new = lb.validate_leaderboard(pd.DataFrame(rows) if not isinstance(rows, pd.DataFrame) else rows)
        return self.write_leaderboard(_merge(self.read_leaderboard(), new, lb.ROW_KEY))

    # ---- curves ----------------------------------------------------------------------------------------
    def read_curves(self) -> pd.DataFrame | None:
        if not self.exists("curves"):
            return None
        return _check_columns(pd.read_parquet(self.file("curves")), CURVE_COLUMNS, str(self.file("curves")))

    def write_curves(self, df: pd.DataFrame) -> Path:
        _check_columns(df, CURVE_COLUMNS, "curves table")
        return bio.write_parquet(self.file("curves"), df[CURVE_COLUMNS])

    def add_curves(self, df: pd.DataFrame) -> Path:
        _check_columns(df, CURVE_COLUMNS, "curves table")
        return self.write_curves(_merge(self.read_curves(), df[CURVE_COLUMNS], CURVE_KEY))

    def add_scores(self, evaluation, *, method: str, dataset: str, simulator: str, ground_truth: str,
                   **row_fields: Any) -> None:
        """Record one scored method: its leaderboard row (metrics from ``evaluation``) and its curves."""
        keys = dict(method=method, dataset=dataset, simulator=simulator, ground_truth=ground_truth)
        self.add_rows([lb.make_row(metrics=evaluation.metrics, **keys, **row_fields)])
        self.add_curves(curves_frame(evaluation, **keys))

    # ---- verdicts (CIs, win probabilities, stability, QC gates) ------------------------------------------
    def write_verdicts(self, verdicts, *, dataset: str, universe: str = "imposed") -> None:
        """Write the four tables of a :class:`bench.scoring.verdicts.Verdicts` (replacing earlier ones) and fill
        the leaderboard's ``qc`` column with the gates fired for each row's source and ground truth."""
        from bench.scoring.verdicts import qc_labels

        for part in VERDICT_PARTS:
            df = getattr(verdicts, part).copy()
            df.insert(0, "dataset", dataset)
            if part != "stability":
                df.insert(1, "universe", universe)
            bio.write_parquet(self.file(part), df)
        board = self.read_leaderboard()
        if board is not None and not board.empty:
            labels = qc_labels(verdicts.qc)
            mine = (board["dataset"] == dataset) & (board["universe"].fillna(universe) == universe)
            board.loc[mine, "qc"] = [labels.get((s, g)) for s, g in
                                     zip(board.loc[mine, "simulator"], board.loc[mine, "ground_truth"])]
            self.write_leaderboard(board)

    def read_verdicts(self) -> dict[str, pd.DataFrame] | None:
        """``{summary, pairwise, stability, qc}`` frames, or ``None`` when the run has no summary."""
        if not self.exists("summary"):
            return None
        return {p: pd.read_parquet(self.file(p)) if self.exists(p) else None for p in VERDICT_PARTS}

    # ---- realism ---------------------------------------------------------------------------------------
    def read_realism(self) -> list[dict] | None:
        if not self.exists("realism"):
            return None
        try:
            data = json.loads(self.file("realism").read_text())
        except ValueError as exc:
            raise BenchError(f"cannot read {self.file('realism')}: {exc}.", "Fix or delete the file.") from None
        return list(data.get("entries", []))

    def write_realism(self, entries: list[dict]) -> Path:
        for e in entries:
            if not {"dataset", "simulator", "metrics"} <= set(e):
                raise BenchError("a realism entry needs dataset, simulator and metrics.", "See RUN_DIR_LAYOUT.md.")
        return bio.write_json(self.file("realism"), {"schema_version": RUN_DIR_SCHEMA_VERSION, "entries": entries})

    def add_realism(self, result, *, dataset: str, simulator: str, embedding: str = "tsne") -> None:
        """Record a :class:`bench.scoring.realism.RealismResult` (metrics + its t-SNE embedding)."""
        entry = {"dataset": dataset, "simulator": simulator, **result.to_dict()}
        entries = [e for e in (self.read_realism() or [])
                   if (e.get("dataset"), e.get("simulator")) != (dataset, simulator)]
        self.write_realism(entries + [entry])
        emb = result.embedding.assign(dataset=dataset, simulator=simulator, embedding=embedding)
        self.add_embedding(emb)

    # ---- embedding -------------------------------------------------------------------------------------
    def read_embedding(self) -> pd.DataFrame | None:
        if not self.exists("embedding"):
            return None
        return _check_columns(pd.read_parquet(self.file("embedding")), EMBEDDING_COLUMNS, str(self.file("embedding")))

    def add_embedding(self, df: pd.DataFrame) -> Path:
        _check_columns(df, EMBEDDING_COLUMNS, "embedding table")
        merged = _merge(self.read_embedding(), df[EMBEDDING_COLUMNS], ["dataset", "simulator"])
        return bio.write_parquet(self.file("embedding"), merged)

    # ---- knockout --------------------------------------------------------------------------------------
    def read_knockout(self) -> pd.DataFrame | None:
        if not self.exists("knockout"):
            return None
        return _check_columns(pd.read_parquet(self.file("knockout")), KNOCKOUT_KEYS + KNOCKOUT_COLUMNS,
                              str(self.file("knockout")))

    def add_knockout(self, stats: pd.DataFrame, *, dataset: str, simulator: str) -> Path:
        """Record :func:`bench.scoring.knockout.knockout_study` output for one dataset and simulator."""
        _check_columns(stats, KNOCKOUT_COLUMNS, "knockout table")
        new = stats[KNOCKOUT_COLUMNS].assign(dataset=dataset, simulator=simulator)[KNOCKOUT_KEYS + KNOCKOUT_COLUMNS]
        return bio.write_parquet(self.file("knockout"), _merge(self.read_knockout(), new, KNOCKOUT_KEYS))
