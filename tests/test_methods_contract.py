"""The method contract, checked over EVERY registered method (built-ins, entry points), so a new method is
tested without writing a test. Also checks that the contract checks themselves catch broken methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.edges import make_edges
from methods.base import Method, MethodInfo, all_methods
from methods.contract import check_method, make_tiny_dataset, validate_edges

CHECKS = ["edge table", "genes", "self-loops", "determinism", "tfs", "constant gene"]
METHOD_NAMES = sorted(all_methods())
_cache: dict[str, dict] = {}


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_dataset()


def _results(name, tiny):
    if name not in _cache:
        _cache[name] = {r.name: r for r in check_method(all_methods()[name], tiny)}
    return _cache[name]


def test_registry_is_not_empty():
    assert {"genie3", "grnboost2"} <= set(METHOD_NAMES)


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("name", METHOD_NAMES)
def test_contract(name, check, tiny):
    r = _results(name, tiny)[check]
    if r.skipped:  # e.g. the TF check of a method that takes no TF list: it cannot fail, so it does not pass
        pytest.skip(f"{name}: {check}: {r.detail}")
    assert r.passed, f"{name}: {check}: {r.detail}"


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_metadata_record(name):
    info = all_methods()[name].info
    assert info.name and info.summary and info.paper and info.code_url and info.license
    assert info.pseudotime in ("none", "ordering", "values")
    for preset, values in info.presets.items():
        unknown = set(values) - set(info.defaults)
        assert not unknown, f"{name} preset {preset} sets parameters without defaults: {unknown}"


# ------------------------------------------------------------------------------- the checks can fail

def _corr_edges(adata, **_):
    X = np.asarray(adata.X, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        C = np.nan_to_num(np.corrcoef(X.T))
    g = list(adata.var_names)
    i, j = np.where(~np.eye(len(g), dtype=bool))
    return make_edges([g[a] for a in i], [g[b] for b in j], np.abs(C[i, j]))


def _method(infer, accepts_tfs=False):
    return Method(MethodInfo("Broken", "a deliberately broken method", "none", "none", accepts_tfs=accepts_tfs), infer)


def _failed(method, tiny):
    return {r.name for r in check_method(method, tiny) if r.failed}


def test_good_reference_method_passes(tiny):
    assert _failed(_method(lambda a, seed=0, **k: _corr_edges(a)), tiny) == set()


def test_catches_self_loops(tiny):
    def infer(a, seed=0, **k):
        e = _corr_edges(a)
        return make_edges(list(e.regulator) + ["TF0"], list(e.target) + ["TF0"], list(e.weight) + [5.0])
    failed = _failed(_method(infer), tiny)
    assert "self-loops" in failed and "edge table" not in failed and "genes" not in failed


def test_catches_nondeterminism(tiny):
    rng = np.random.default_rng()

    def infer(a, seed=0, **k):
        e = _corr_edges(a)
        return make_edges(e.regulator, e.target, e.weight + rng.random(len(e)))
    assert "determinism" in _failed(_method(infer), tiny)


def test_catches_unknown_genes_and_bad_schema(tiny):
    bad_gene = _method(lambda a, seed=0, **k: make_edges(["TF0", "NOPE"], ["G1", "G2"], [2.0, 1.0]))
    failed = _failed(bad_gene, tiny)
    assert "genes" in failed and "edge table" not in failed and "self-loops" not in failed
    unsorted = _method(lambda a, seed=0, **k: pd.DataFrame({"regulator": ["TF0", "TF1"], "target": ["G1", "G2"],
                                                            "weight": [1.0, 2.0], "rank": [1, 2]}))
    assert "edge table" in _failed(unsorted, tiny)
    wrong_cols = _method(lambda a, seed=0, **k: pd.DataFrame({"a": [1]}))
    assert _failed(wrong_cols, tiny) == set(CHECKS)


def test_catches_ignored_tf_list(tiny):
    assert _failed(_method(lambda a, seed=0, tfs=None, **k: _corr_edges(a), accepts_tfs=True), tiny) == {"tfs"}


def test_catches_constant_gene_crash(tiny):
    def infer(a, seed=0, **k):
        if (np.asarray(a.X).std(axis=0) == 0).any():
            raise ValueError("constant gene")
        return _corr_edges(a)
    assert _failed(_method(infer), tiny) == {"constant gene"}


def test_validate_edges_reports_nan():
    e = make_edges(["A", "B"], ["B", "A"], [1.0, 0.5])
    e.loc[0, "weight"] = np.nan
    assert any("NaN" in p for p in validate_edges(e, ["A", "B"]))


def test_tiny_dataset_is_seeded_and_shaped():
    a, b = make_tiny_dataset(seed=3), make_tiny_dataset(seed=3)
    assert a.shape == (100, 15)
    np.testing.assert_array_equal(a.X, b.X)
    assert np.all(np.diff(a.obs["pseudotime"]) >= 0)
    assert set(a.uns["tfs"]) == {"TF0", "TF1", "TF2", "TF3"}
