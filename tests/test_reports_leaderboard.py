"""Leaderboard schema, Parquet round trip, run-directory writers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.edges import make_edges
from bench.errors import BenchError
from bench.scoring.grn import evaluate_grn
from reports import leaderboard as lb
from reports.rundir import CURVE_COLUMNS, RunDir, curves_frame


def _row(method="m1", **kw):
    kw.setdefault("metrics", {"auprc": 0.5, "auprc_ratio": 2.0, "universe": "imposed", "n_true": 10})
    return lb.make_row(method=method, dataset="toy", simulator="groundgan", ground_truth="pos-control", **kw)


def test_make_row_has_every_column_and_rejects_unknown():
    r = _row(parameters={"a": 1}, package_versions={"numpy": "2"}, runtime_s=1.5, seed=3)
    assert list(r) == lb.LEADERBOARD_COLUMNS
    assert r["schema_version"] == lb.LEADERBOARD_SCHEMA_VERSION and r["universe"] == "imposed"
    assert json.loads(r["parameters"]) == {"a": 1}
    with pytest.raises(BenchError):
        _row(not_a_column=1)
    with pytest.raises(BenchError):
        _row(status="crashed")


def test_roundtrip_keeps_values_and_dtypes(tmp_path):
    df = pd.DataFrame([_row("a", runtime_s=1.0, seed=0),
                       _row("b", status="failed", metrics={}, universe="imposed", error="boom",
                            stderr_tail="x" * 10000)])
    path = lb.write_leaderboard(df, tmp_path / "lb.parquet")
    back = lb.read_leaderboard(path)
    assert list(back.columns) == lb.LEADERBOARD_COLUMNS
    assert back["auprc"].tolist()[0] == 0.5 and np.isnan(back["auprc"].tolist()[1])
    assert str(back["n_true"].dtype) == "Int64" and back["n_true"].iloc[0] == 10
    assert back["status"].tolist() == ["ok", "failed"]
    assert len(back["stderr_tail"].iloc[1]) == lb.STDERR_TAIL_CHARS
    assert pq.read_schema(path).metadata[b"grn_bench_leaderboard_schema"] == str(lb.LEADERBOARD_SCHEMA_VERSION).encode()
    assert [p.name for p in tmp_path.iterdir()] == ["lb.parquet"]  # no temporary files left


def test_validation_errors(tmp_path):
    with pytest.raises(BenchError):
        lb.write_leaderboard(pd.DataFrame([{**_row(), "extra": 1}]), tmp_path / "x.parquet")
    bad = pd.DataFrame([_row()])
    bad.loc[0, "status"] = "weird"
    with pytest.raises(BenchError):
        lb.write_leaderboard(bad, tmp_path / "x.parquet")
    bad = pd.DataFrame([_row()])
    bad["auprc"] = "high"
    with pytest.raises(BenchError):
        lb.validate_leaderboard(bad)
    assert not (tmp_path / "x.parquet").exists()


def test_newer_schema_is_refused(tmp_path):
    df = lb.validate_leaderboard(pd.DataFrame([_row()]))
    df["schema_version"] = lb.LEADERBOARD_SCHEMA_VERSION + 1
    pq.write_table(pa.Table.from_pandas(df), tmp_path / "new.parquet")
    with pytest.raises(BenchError, match="schema"):
        lb.read_leaderboard(tmp_path / "new.parquet")


def test_older_file_with_missing_columns_is_upgraded(tmp_path):
    old = pd.DataFrame({"method": ["m"], "dataset": ["d"], "simulator": ["real"], "ground_truth": ["neg-control"],
                        "status": ["ok"], "auprc": [0.1]})
    old.to_parquet(tmp_path / "old.parquet")
    back = lb.read_leaderboard(tmp_path / "old.parquet")
    assert list(back.columns) == lb.LEADERBOARD_COLUMNS and back["auprc"].iloc[0] == 0.1
    assert back["replicate"].isna().all() and back["qc"].isna().all()  # v1 files: no replicates, no gates


def test_rundir_add_scores_merges_and_replaces(tmp_path):
    rd = RunDir(tmp_path / "run")
    truth = pd.DataFrame({"regulator": ["A", "B"], "target": ["x", "y"]})
    pred = make_edges(["A", "B", "A"], ["x", "x", "y"], [0.9, 0.5, 0.1])
    ev = evaluate_grn(pred, truth, k_max=2)
    for gt in ("pos-control", "neg-control"):
        rd.add_scores(ev, method="m1", dataset="toy", simulator="groundgan", ground_truth=gt, runtime_s=1.0)
    rd.add_scores(ev, method="m1", dataset="toy", simulator="groundgan", ground_truth="pos-control", runtime_s=2.0)
    board = rd.read_leaderboard()
    assert len(board) == 2
    assert board.set_index("ground_truth").loc["pos-control", "runtime_s"] == 2.0
    curves = rd.read_curves()
    assert list(curves.columns) == CURVE_COLUMNS
    assert len(curves) == 2 * len(curves_frame(ev, method="m1", dataset="toy", simulator="groundgan",
                                               ground_truth="pos-control"))
    assert set(curves["curve"]) == {"pr", "precision_at_k"}
    assert rd.read_realism() is None and rd.read_knockout() is None and rd.read_manifest() is None
    rd.write_manifest({"run_id": "r1"})
    rd.update_manifest(finished="now")
    assert rd.read_manifest()["finished"] == "now" and rd.read_manifest()["run_id"] == "r1"
