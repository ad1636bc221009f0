"""Fidelity options: per-method parameters (--param, [method_params]), BEELINE's tie order, 12-digit weights."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.config import load_config
from bench.edges import WEIGHT_DIGITS, make_edges, round_significant
from bench.errors import BenchError
from methods.params import merge_params, parse_param_overrides, validate_method_params
from methods.pseudotime import order_cells


# ------------------------------------------------------------------------------------------ --param / config

def test_param_overrides_are_typed_from_the_declared_defaults():
    got = parse_param_overrides(["sincerities.cv_alignment=fraction", "LEAP.max_lag=0.25", "genie3.n_estimators=50",
                                 "cespgrn.warm_start=yes", "cespgrn.anchors=none", "leap.max_lag=0.2"])
    # keys are the registry's method ids, whatever case was typed
    assert got == {"sincerities": {"cv_alignment": "fraction"}, "leap": {"max_lag": 0.2},
                   "genie3": {"n_estimators": 50}, "cespgrn": {"warm_start": True, "anchors": None}}
    assert isinstance(got["genie3"]["n_estimators"], int) and isinstance(got["leap"]["max_lag"], float)
    # TOML values are checked the same way; a whole float is accepted for an integer
    assert validate_method_params({"GENIE3": {"n_estimators": 20.0}}) == {"genie3": {"n_estimators": 20}}
    assert merge_params({"GENIE3": {"n_estimators": 5, "max_features": "sqrt"}}, {"genie3": {"n_estimators": 7}}) \
        == {"GENIE3": {"n_estimators": 7, "max_features": "sqrt"}}


@pytest.mark.parametrize("item, message", [
    ("nosuch.x=1", "unknown method 'nosuch'"),
    ("leap.maxlag=1", "has no parameter 'maxlag'"),
    ("genie3.n_estimators=1.5", "is not an integer"),
    ("genie3.n_estimators=many", "is not an integer"),
    ("leap.max_lag=soon", "is not a number"),
    ("cespgrn.warm_start=maybe", "is not a boolean"),
    ("leap.max_lag=none", "cannot be none"),
    ("leap", "is not METHOD.KEY=VALUE"),
    ("leap.=3", "is not METHOD.KEY=VALUE"),
])
def test_param_override_errors(item, message):
    with pytest.raises(BenchError, match=message):
        parse_param_overrides([item])


def _tiny_h5ad(tmp_path):
    rng = np.random.default_rng(0)
    a = ad.AnnData(rng.gamma(2.0, 1.0, size=(60, 6)).astype(np.float32))
    a.var_names = [f"g{i}" for i in range(6)]
    a.obs_names = [f"c{i}" for i in range(60)]
    path = tmp_path / "tiny.h5ad"
    a.write_h5ad(path)
    return path


def test_cli_infer_param_round_trip(tmp_path, capsys):
    data, out = _tiny_h5ad(tmp_path), tmp_path / "out"
    assert main(["infer", "--dataset", str(data), "--methods", "ppcor", "--out", str(out),
                 "--param", "ppcor.p_value=0.5"]) == 0
    record = json.loads((out / "ppcor" / "record.json").read_text())
    assert record["status"] == "ok" and record["parameters"]["p_value"] == 0.5
    assert main(["infer", "--dataset", str(data), "--methods", "ppcor", "--out", str(tmp_path / "out2")]) == 0
    default = json.loads((tmp_path / "out2" / "ppcor" / "record.json").read_text())
    assert default["parameters"]["p_value"] == 0.01
    # a looser p-value cut keeps at least as many non-zero edges
    nz = lambda d: int((pd.read_parquet(d / "ppcor" / "edges.parquet")["weight"] != 0).sum())  # noqa: E731
    assert nz(out) >= nz(tmp_path / "out2")


@pytest.mark.parametrize("item", ["nosuch.x=1", "ppcor.pvalue=0.1", "ppcor.p_value=high", "ppcor"])
def test_cli_param_errors_exit_2_and_write_nothing(tmp_path, capsys, item):
    data, out = _tiny_h5ad(tmp_path), tmp_path / "out"
    assert main(["infer", "--dataset", str(data), "--methods", "ppcor", "--out", str(out), "--param", item]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err
    assert not out.exists()
    assert main(["run", "--dataset", "bonemarrow", "--preset", "smoke", "--out", str(tmp_path / "run"),
                 "--quiet", "--param", item]) == 2
    assert not (tmp_path / "run").exists()


def test_run_config_method_params(tmp_path):
    cfg_file = tmp_path / "run.toml"
    cfg_file.write_text('dataset = "bonemarrow"\n[method_params.sincerities]\ncv_alignment = "fraction"\n'
                        '[method_params.GENIE3]\nn_estimators = 20\n')
    cfg = load_config(cfg_file).resolved()
    assert cfg.method_params == {"sincerities": {"cv_alignment": "fraction"}, "genie3": {"n_estimators": 20}}
    cfg_file.write_text('[method_params.genie3]\nn_trees = 20\n')
    with pytest.raises(BenchError, match="no parameter 'n_trees'"):
        load_config(cfg_file).resolved()
    cfg_file.write_text('[method_params.genie3]\nn_estimators = "lots"\n')
    with pytest.raises(BenchError, match="not an integer"):
        load_config(cfg_file).resolved()


# ------------------------------------------------------------------------------------------ tie order

def _tied_times(n=3000, distinct=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice(np.round(rng.uniform(0, 10, distinct), 3), size=n)


def test_beeline_tie_order_is_pandas_default_sort():
    t = _tied_times()
    # BEELINE's runners: PTData.loc[cells on the lineage, :].sort_values([column]).index
    frame = pd.DataFrame({"PseudoTime": t}, index=[f"cell{i}" for i in range(len(t))])
    expected = frame.index.get_indexer(frame.sort_values(["PseudoTime"]).index)
    np.testing.assert_array_equal(order_cells(t, "beeline"), expected)
    stable = order_cells(t, "stable")
    np.testing.assert_array_equal(stable, np.argsort(t, kind="stable"))
    assert np.all(np.diff(t[stable]) >= 0)
    assert not np.array_equal(stable, expected)  # quicksort does not keep tied cells in file order
    with pytest.raises(BenchError, match="tie order"):
        order_cells(t, "random")


def test_leap_tie_order_follows_the_shared_helper():
    from methods.native import leap

    rng = np.random.default_rng(1)
    t = _tied_times(n=400, distinct=12, seed=1)
    x = rng.normal(size=(400, 5)) + t[:, None] * rng.normal(size=5)  # expression drifts with time
    adata = ad.AnnData(x)
    adata.var_names = [f"g{i}" for i in range(5)]

    def literal(order):  # LEAP on cells in the given order, straight from the definition
        mac, _ = leap.max_lagged_correlation(x[order].T, max_lag=0.33)
        return np.abs(mac)

    for tie_order in ("beeline", "stable"):
        e = leap.infer(adata, pseudotime=t, tie_order=tie_order)
        w = e.set_index(["regulator", "target"])["weight"]
        ref = literal(order_cells(t, tie_order))
        got = np.array([[w.get((f"g{i}", f"g{j}"), np.nan) for j in range(5)] for i in range(5)])
        off = ~np.eye(5, dtype=bool)
        np.testing.assert_allclose(got[off], ref[off], rtol=0, atol=1e-11)
    b = leap.infer(adata, pseudotime=t, tie_order="beeline")
    s = leap.infer(adata, pseudotime=t, tie_order="stable")
    assert not np.allclose(b.sort_values(["regulator", "target"])["weight"],
                           s.sort_values(["regulator", "target"])["weight"])
    assert leap.METHOD.info.presets["beeline"]["tie_order"] == "beeline"


# ------------------------------------------------------------------------------------------ 12-digit weights

def test_round_significant():
    w = np.array([0.1 + 0.2, 1 / 3, -2 / 3, 123456.7890123456, 1e-20 / 3, 0.0, np.inf, np.nan])
    r = round_significant(w)
    assert r[0] == 0.3 and r[1] == float(f"{1 / 3:.12g}") and r[2] == float(f"{-2 / 3:.12g}")
    assert r[3] == float(f"{123456.7890123456:.12g}") and r[4] == float(f"{1e-20 / 3:.12g}")
    assert r[5] == 0.0 and np.isinf(r[6]) and np.isnan(r[7])
    assert WEIGHT_DIGITS == 12


def test_symmetric_pairs_tie_after_rounding():
    # two mathematically equal weights that floating point puts 1 ulp apart
    a = 0.1 * 3
    b = 0.3
    assert a != b
    e = make_edges(["B", "A", "C"], ["A", "B", "A"], [a, b, 0.2])
    assert e["weight"].iloc[0] == e["weight"].iloc[1]
    # the tie is broken by regulator name, then target name: deterministic and documented
    assert list(e["regulator"][:2]) == ["A", "B"]


def test_ppcor_symmetric_pairs_tie_exactly():
    from methods.native import ppcor

    rng = np.random.default_rng(3)
    adata = ad.AnnData(rng.gamma(2.0, 1.0, size=(300, 12)))
    adata.var_names = [f"g{i}" for i in range(12)]
    e = ppcor.METHOD.infer(adata, p_value=1.0)
    w = e.set_index(["regulator", "target"])["weight"]
    pairs = [(r, t) for r, t in w.index if r < t]
    assert pairs and all(w[(r, t)] == w[(t, r)] for r, t in pairs)
