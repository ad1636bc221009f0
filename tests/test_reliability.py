"""Issue #11: every usage error one line with exit 2; Ctrl-C and concurrent runs lose nothing; caches keyed on
input content; input validated before work starts; method output validated where it is recorded; an honest
report and site.

Fault tests use real processes and signals: a ``bench`` subprocess is started, sent SIGINT or raced by a second
run, and what it leaves behind is inspected.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import psutil
import pytest

from bench.cli import main
from bench.errors import BenchError
from conftest import REPO, make_counts
from conftest import write_counts_h5ad as _h5ad

# ----------------------------------------------------------------------------------------------- helpers


def one_line_error(err: str) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def run_cli(args, capsys) -> tuple[int, str, str]:
    code = main(list(map(str, args)))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def bench_env(tmp_path: Path, **extra) -> dict:
    from bench import settings

    env = dict(os.environ)
    env.update(BENCH_DATA_DIR=str(settings.data_dir), BENCH_CACHE_DIR=str(settings.cache_dir), BENCH_N_JOBS="2",
               TMPDIR=str(tmp_path / "tmp"), PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def bench_proc(args, env, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *map(str, args)], env=env, cwd=str(REPO),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def wait_for(pred, timeout: float, what: str, proc: subprocess.Popen | None = None):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        v = pred()
        if v:
            return v
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"process ended (code {proc.returncode}) before {what}: {err[-2000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def write_counts(path: Path, n_cells=200, n_genes=40, seed=0, **layers) -> Path:
    adata, tfs, _ = make_counts(n_cells=n_cells, n_genes=n_genes, n_tfs=6, seed=seed)
    for k, v in layers.items():
        adata.layers[k] = v
    adata.write_h5ad(path)
    return path


@pytest.fixture
def counts_file(tmp_path):
    return write_counts(tmp_path / "counts.h5ad")


@pytest.fixture
def tf_file(tmp_path):
    p = tmp_path / "tfs.txt"
    p.write_text("\n".join(f"TF{i}" for i in range(6)) + "\n")
    return p


HANG_METHOD = textwrap.dedent('''
    import os, time
    from pathlib import Path
    from methods.base import Method, MethodInfo

    def infer(adata, *, seed=0, **params):
        Path(os.environ["HANG_PID_FILE"]).write_text(str(os.getpid()))
        time.sleep(3600)

    METHOD = Method(MethodInfo(name="hanger", summary="never returns", paper="-", code_url="-"), infer)
''')


# ----------------------------------------------------------------------------------------------- CLI contract


@pytest.mark.parametrize("args,expect", [
    (["run", "--bogus"], "No such option: --bogus"),
    (["infer", "--dataset", "x.h5ad"], "Missing option '--methods'"),
    (["run", "--seed", "abc"], "Invalid value for '--seed'"),
    (["datasets", "prepare"], "Missing argument"),
    (["nosuchcommand"], "No such command"),
])
def test_usage_errors_are_one_line_with_exit_2(args, expect, capsys):
    code, _, err = run_cli(args, capsys)
    line = one_line_error(err)
    assert code == 2 and expect in line and "--help" in line  # what is wrong, and where the usage is


def test_usage_error_in_a_real_process(tmp_path):
    p = bench_proc(["run", "--bogus"], bench_env(tmp_path))
    out, err = p.communicate(timeout=120)
    assert p.returncode == 2 and "No such option" in one_line_error(err)


def test_version(capsys):
    from importlib.metadata import version

    code, out, _ = run_cli(["--version"], capsys)
    assert code == 0 and out.strip() == f"grn-bench {version('grn-bench')}"


def test_failing_methods_test_and_infer_exit_1(tmp_path, capsys, fresh_registry):
    bad = tmp_path / "loops.py"
    bad.write_text(textwrap.dedent('''
        from bench.edges import make_edges
        from methods.base import Method, MethodInfo

        def infer(adata, *, seed=0, **params):
            g = list(map(str, adata.var_names))
            return make_edges(g, g, [1.0] * len(g))   # only self-loops: breaks the contract

        def crash(adata, *, seed=0, **params):
            raise RuntimeError("boom")

        METHODS = [Method(MethodInfo(name="loops", summary="-", paper="-", code_url="-"), infer),
                   Method(MethodInfo(name="crash", summary="-", paper="-", code_url="-"), crash)]
    '''))
    code, out, _ = run_cli(["methods", "test", "loops", "--method-file", bad], capsys)
    assert code == 1 and "FAIL  self-loops" in out
    from methods.contract import make_tiny_dataset

    data = tmp_path / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(data)
    code, out, err = run_cli(["infer", "--dataset", data, "--methods", "crash", "--method-file", bad,
                              "--out", tmp_path / "inf"], capsys)
    assert code == 1 and "crash: failed: RuntimeError: boom" in err
    rec = json.loads((tmp_path / "inf" / "crash" / "record.json").read_text())
    # bench infer limits a method exactly as bench run does
    assert rec["timeout_s"] == 1800.0 and rec["memory_limit_mb"] == 8 * 1024.0
    assert rec["implementation"]["origin"].startswith("method file")


def test_methods_test_runs_isolated_with_a_timeout(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HANG_PID_FILE", str(tmp_path / "hang.pid"))
    f = tmp_path / "hang.py"
    f.write_text(HANG_METHOD)
    t = time.monotonic()
    code = main(["methods", "test", "hanger", "--method-file", str(f), "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 1 and "timed out after 5 s" in out
    assert time.monotonic() - t < 60


# ----------------------------------------------------------------------------------------------- validation


BAD_CONFIGS = [
    ("seed = -1", "seed must be between 0 and"),
    ("seed = 1.5", "seed must be an integer"),
    ('method_timeout = "abc"', "method_timeout (seconds) must be a finite number"),
    ("method_timeout = -5", "method_timeout (seconds) must be positive"),
    ("method_memory_gb = 0", "method_memory_gb must be positive"),
    ('method_memory_gb = "lots"', "method_memory_gb must be a finite number"),
    ('methods = "pidc,genie3"', "methods must be a list of names, got the string"),
    ("methods = []", "methods is empty"),
    ("sources = []", "sources is empty"),
    ("n_cells = 0", "n_cells must be >= 1"),
    ("n_cells = -5", "n_cells must be >= 1"),
    ("k = 0", "k must be >= 1"),
    ("k = -3", "k must be >= 1"),
    ("simulator_overrides = {bogus_option = 1}", "unknown simulator option(s): bogus_option"),
    ('method_params = {nosuch = {x = 1}}', "unknown method 'nosuch'"),
    ("seed = = 1", "is not valid TOML"),
    (b"\x00\xff\xfe\x80binary", "is not a text file"),
    ("wat = 1", "unknown key(s): wat"),
]


@pytest.mark.parametrize("text,expect", BAD_CONFIGS, ids=[str(c[0])[:30] for c in BAD_CONFIGS])
def test_bad_config_fails_before_anything_is_written(text, expect, tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "run"
    code, _, err = run_cli(["run", "--config", cfg, "--preset", "smoke", "--out", out, "--quiet"], capsys)
    assert code == 2 and expect in one_line_error(err)
    assert not out.exists()  # no config.toml, no data/


@pytest.mark.parametrize("args,expect", [
    (["--n-test", "-5"], "--n-test must be >= 0"),
    (["--n-genes", "0"], "--n-genes must be >= 2"),
    (["--library-size", "-1"], "--library-size must be positive"),
    (["--hvg-on", "nope"], "--hvg-on must be one of all, train"),
    (["--n-validation", "-1"], "--n-validation must be >= 0"),
])
def test_bad_prepare_options(args, expect, tmp_path, capsys):
    out = tmp_path / "prep.h5ad"
    code, _, err = run_cli(["datasets", "prepare", "bonemarrow", "--out", out, *args], capsys)
    assert code == 2 and expect in one_line_error(err) and not out.exists()


@pytest.mark.parametrize("var,value,expect", [
    ("BENCH_N_JOBS", "abc", "bad environment variable: BENCH_N_JOBS='abc' is not an integer"),
    ("BENCH_N_JOBS", "-2", "BENCH_N_JOBS='-2' is not an integer >= 0"),
    ("BENCH_CACHE_DIR", "{file}/cache", "is not writable"),
])
def test_bad_environment(var, value, expect, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("")
    out = tmp_path / "run"
    env = bench_env(tmp_path, **{var: value.format(file=f)})
    p = bench_proc(["run", "--preset", "smoke", "--out", out], env)
    _, err = p.communicate(timeout=300)
    assert p.returncode == 2 and expect in one_line_error(err)
    assert not out.exists()


def bad_data_cases(tmp_path) -> dict:
    base, _, _ = make_counts(n_cells=200, n_genes=40, n_tfs=6, seed=0)
    X = base.X
    genes, cells = list(base.var_names), list(base.obs_names)
    dup_genes = genes[:-1] + [genes[0]]
    dup_cells = cells[:-1] + [cells[0]]
    logged = np.log1p(X)
    nan = X.copy()
    nan[3, 4] = np.nan
    inf = X.copy()
    inf[0, 0] = np.inf
    return {
        "duplicate genes": (_h5ad(tmp_path, "dupg", X, dup_genes, cells), "duplicate gene name(s)", "--make-unique"),
        "duplicate cells": (_h5ad(tmp_path, "dupc", X, genes, dup_cells), "duplicate cell name(s)", "--make-unique"),
        "log data": (_h5ad(tmp_path, "log", logged, genes, cells, counts=X), "look log-transformed",
                     "--layer counts"),
        "non-integer": (_h5ad(tmp_path, "frac", X * 10.5 + 0.25, genes, cells), "non-integer values", None),
        "one cell": (_h5ad(tmp_path, "one", X[:1], genes, cells[:1]), "1 cell(s); at least 20", None),
        "NaN": (_h5ad(tmp_path, "nan", nan, genes, cells), "NaN or infinite", None),
        "inf": (_h5ad(tmp_path, "inf", inf, genes, cells), "NaN or infinite", None),
        "0 genes": (_h5ad(tmp_path, "nogenes", np.zeros((200, 0)), None, cells), "is empty", None),
        "negative": (_h5ad(tmp_path, "neg", -X, genes, cells), "negative values", None),
    }


@pytest.mark.parametrize("case", ["duplicate genes", "duplicate cells", "log data", "non-integer", "one cell", "NaN",
                                  "inf", "0 genes", "negative"])
def test_bad_data_is_refused_with_a_way_out(case, tmp_path, tf_file, capsys):
    spec, expect, fix = bad_data_cases(tmp_path)[case]
    args = ["datasets", "prepare", spec, "--tfs", tf_file, "--n-genes", "20", "--out", tmp_path / "p.h5ad"]
    code, _, err = run_cli(args, capsys)
    line = one_line_error(err)
    assert code == 2 and expect in line, line
    if fix:  # the option the message names makes the same data work
        assert fix in line
        code, out, err = run_cli(args + fix.split(), capsys)
        assert code == 0, err
        assert ad.read_h5ad(tmp_path / "p.h5ad").n_vars == 20


def test_bad_data_in_bench_run_leaves_no_run_dir(tmp_path, capsys):
    spec, expect, _ = bad_data_cases(tmp_path)["NaN"]
    out = tmp_path / "run"
    code, _, err = run_cli(["run", "--dataset", spec, "--preset", "smoke", "--out", out, "--quiet"], capsys)
    assert code == 2 and expect in one_line_error(err) and not out.exists()


@pytest.mark.parametrize("content,expect", [
    (b"", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "is a binary file"),
    (b"Gata1\nSpi1\nKlf1\n", "shares no gene"),
])
def test_bad_tf_lists(content, expect, tmp_path, counts_file, capsys):
    tfs = tmp_path / "tfs.txt"
    tfs.write_bytes(content)
    code, _, err = run_cli(["datasets", "prepare", f"h5ad:{counts_file}", "--tfs", tfs, "--n-genes", "20"], capsys)
    assert code == 2 and expect in one_line_error(err)
    from methods.contract import make_tiny_dataset

    data = tmp_path / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(data)
    code, _, err = run_cli(["infer", "--dataset", data, "--methods", "ppcor", "--tfs", tfs,
                            "--out", tmp_path / "inf"], capsys)
    assert code == 2 and expect in one_line_error(err) and not (tmp_path / "inf").exists()


@pytest.mark.parametrize("value,units,expect", [
    ("nan", "data", "--value must be a finite number"),
    ("inf", "data", "--value must be a finite number"),
    ("-inf", "controller", "--value must be a finite number"),
    ("-1", "data", "is negative, but expression is non-negative"),
    ("0", "bogus", "--units must be one of data, controller"),
])
def test_bad_knockout_values(value, units, expect, tmp_path, capsys):
    code, _, err = run_cli(["knockout", tmp_path, "--tf", "Gata1", "--value", value, "--units", units], capsys)
    assert code == 2 and expect in one_line_error(err)


def test_negative_knockout_allowed_in_controller_units(tmp_path, capsys):
    code, _, err = run_cli(["knockout", tmp_path, "--tf", "Gata1", "--value", "-1", "--units", "controller"], capsys)
    assert code == 2 and "no fitted simulator" in one_line_error(err)  # past the value check


def test_bad_infer_input(tmp_path, capsys):
    from methods.contract import make_tiny_dataset

    a = make_tiny_dataset()
    a.X[0, 0] = np.nan
    data = tmp_path / "nan.h5ad"
    a.write_h5ad(data)
    code, _, err = run_cli(["infer", "--dataset", data, "--methods", "ppcor", "--out", tmp_path / "o"], capsys)
    assert code == 2 and "NaN or infinite" in one_line_error(err) and not (tmp_path / "o").exists()
    code, _, err = run_cli(["infer", "--dataset", data, "--methods", "ppcor", "--timeout", "-3"], capsys)
    assert code == 2 and "--timeout must be zero or more" in one_line_error(err)


# ----------------------------------------------------------------------------------------------- caches


def test_cache_key_covers_input_content(tmp_path, tf_file):
    from datasets import prepare_dataset
    from datasets.loaders import source_fingerprint

    path = tmp_path / "data.h5ad"
    write_counts(path, n_cells=200, seed=0)
    spec = f"h5ad:{path}"
    key0 = source_fingerprint(spec)
    a = prepare_dataset(spec, n_genes=20, tfs=str(tf_file))
    write_counts(path, n_cells=150, seed=1)  # same path, new content
    assert source_fingerprint(spec) != key0
    b = prepare_dataset(spec, n_genes=20, tfs=str(tf_file))
    assert a.n_obs == 200 and b.n_obs == 150
    assert a.uns["provenance"]["cache_key"] != b.uns["provenance"]["cache_key"]
    # a 10x folder is hashed file by file
    d = tmp_path / "tenx"
    d.mkdir()
    (d / "matrix.mtx").write_text("1")
    k1 = source_fingerprint(f"10x:{d}")
    (d / "matrix.mtx").write_text("2")
    assert source_fingerprint(f"10x:{d}") != k1


# ----------------------------------------------------------------------------------------------- safe ids, plugins


@pytest.fixture
def fresh_registry(monkeypatch):
    from methods import base

    monkeypatch.setattr(base, "_registry", {})
    monkeypatch.setattr(base, "_origins", {})
    monkeypatch.setattr(base, "_loaded", False)
    yield base


PLUGIN = textwrap.dedent('''
    from bench.edges import make_edges
    from methods.base import Method, MethodInfo

    def infer(adata, *, seed=0, **params):
        g = list(map(str, adata.var_names))
        return make_edges([g[0]] * (len(g) - 1), g[1:], range(len(g) - 1, 0, -1))

    METHOD = Method(MethodInfo(name={name!r}, summary="plugin", paper="-", code_url="-"), infer{extra})
''')


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", ".hidden", "x" * 65, "name with space", ""])
def test_unsafe_method_names_are_refused(name, tmp_path, capsys, fresh_registry):
    f = tmp_path / "m.py"
    f.write_text(PLUGIN.format(name=name, extra=""))
    code, _, err = run_cli(["methods", "list", "--method-file", f], capsys)
    assert code == 2 and "is not a safe id" in one_line_error(err)
    assert not any(tmp_path.parent.glob("evil*"))


def test_no_method_name_writes_outside_the_output_folder(tmp_path):
    from bench.edges import empty_edges
    from methods.execution import MethodRun, save_runs

    with pytest.raises(BenchError, match="outside"):
        save_runs([MethodRun("../../escaped", empty_edges(), {"status": "failed"})], tmp_path / "out")
    assert not (tmp_path / "escaped").exists()


def test_plugin_cannot_silently_replace_a_builtin(tmp_path, capsys, fresh_registry):
    f = tmp_path / "g.py"
    f.write_text(PLUGIN.format(name="GENIE3", extra=""))
    code, _, err = run_cli(["methods", "list", "--method-file", f], capsys)
    assert code == 2 and "already provides" in one_line_error(err) and "replace=True" in err
    fresh_registry._registry.clear()
    fresh_registry._loaded = False
    f.write_text(PLUGIN.format(name="GENIE3", extra=", replace=True"))
    code, out, err = run_cli(["methods", "show", "genie3", "--method-file", f], capsys)
    assert code == 0 and "plugin" in out
    impl = fresh_registry.implementation(fresh_registry.get_method("genie3"))
    assert impl["origin"].startswith("method file") and impl["replaces_builtin"] is True
    builtin = fresh_registry.implementation(fresh_registry.get_method("pidc"))
    assert builtin["origin"] == "built-in methods.native.pidc"


# ----------------------------------------------------------------------------------------------- method output


def test_method_output_is_validated_where_it_is_recorded(tmp_path):
    from bench.edges import make_edges
    from methods.base import Method, MethodInfo
    from methods.contract import make_tiny_dataset
    from methods.execution import run_methods

    def nan_weights(adata, *, seed=0, **p):
        g = list(map(str, adata.var_names))
        return make_edges(g[:2], g[2:4], [np.nan, 1.0])

    def inf_weights(adata, *, seed=0, **p):
        g = list(map(str, adata.var_names))
        return make_edges(g[:2], g[2:4], [np.inf, 1.0])

    def unknown_gene(adata, *, seed=0, **p):
        return make_edges(["NotAGene"], [str(adata.var_names[0])], [1.0])

    def loops_and_dups(adata, *, seed=0, **p):
        g = list(map(str, adata.var_names))
        return pd.DataFrame({"regulator": [g[0], g[1], g[0], g[0], g[2]], "target": [g[0], g[1], g[3], g[3], g[3]],
                             "weight": [9.0, 8.0, 3.0, 1.0, 2.0], "rank": [1, 2, 3, 4, 5]})

    def info(name):
        return MethodInfo(name=name, summary="-", paper="-", code_url="-")

    ms = [Method(info(n), f) for n, f in [("nanw", nan_weights), ("infw", inf_weights), ("unknowng", unknown_gene),
                                          ("loopy", loops_and_dups)]]
    runs = {r.method: r for r in run_methods(make_tiny_dataset(), ms, timeout=120, out_dir=tmp_path / "o")}
    assert runs["nanw"].status == "failed" and "NaN" in runs["nanw"].record["error"]
    assert runs["infw"].status == "failed" and "NaN or infinite" in runs["infw"].record["error"]
    assert runs["unknowng"].status == "failed" and "absent from the data" in runs["unknowng"].record["error"]
    loopy = runs["loopy"]
    assert loopy.ok and loopy.record["warnings"] == "dropped 2 self-loop(s), 1 duplicate edge(s)"
    assert len(loopy.edges) == 2 and loopy.edges["weight"].tolist() == [3.0, 2.0]  # strongest copy kept
    assert not (tmp_path / "o" / "nanw" / "edges.parquet").exists()
    assert json.loads((tmp_path / "o" / "loopy" / "record.json").read_text())["warnings"].startswith("dropped 2")


# ----------------------------------------------------------------------------------------------- report and site


def _synthetic(path, **kw):
    from reports.synthetic import make_synthetic_run

    return make_synthetic_run(path, n_methods=3, n_tfs=8, n_targets=30, per_gene=2, n_cells=40, **kw)


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = run_cli(["report", tmp_path], capsys)
    assert code == 2 and "is not a run directory" in one_line_error(err)
    assert not (tmp_path / "report.html").exists()


def test_smoke_banner_preset_column_and_collapsible_columns(tmp_path):
    from reports.html import build_report
    from reports.rundir import RunDir

    rd = _synthetic(tmp_path / "smoke")
    rd.update_manifest(preset="smoke")
    html = build_report(rd.path).read_text()
    assert 'id="banner"' in html and "smoke preset: numbers are meaningless" in html
    assert ">preset</th>" in html and "run preset smoke" in html
    assert 'class="cols-toggle"' in html and '<th class="sec"' in html and "has-sec" in html
    rd2 = _synthetic(tmp_path / "default")
    rd2.update_manifest(preset="default")
    assert 'id="banner"' not in build_report(rd2.path).read_text()
    assert RunDir(rd.path).read_leaderboard() is not None


def test_publish_keeps_incomparable_runs_apart(tmp_path):
    from reports.publish import publish

    a = _synthetic(tmp_path / "a", seed=0)
    b = _synthetic(tmp_path / "b", seed=1)
    s = _synthetic(tmp_path / "s", seed=2)
    for rd, preset, seed in ((a, "default", 0), (b, "default", 1), (s, "smoke", 2)):
        rd.update_manifest(preset=preset, config={"preset": preset, "seed": seed, "n_genes": 300, "k": 10,
                                                  "out": str(rd.path)})
    site = tmp_path / "site"
    html = publish([a.path, b.path, s.path], site).read_text()
    assert "preset default, protocol" in html and "preset smoke, protocol" in html
    assert "2 run(s)" in html and "smoke preset: numbers are meaningless" in html
    # positive-control rows come first in every board
    import re

    body = html[html.index('id="summary-table"'):]
    first_gt = re.findall(r"<td>(pos-control|neg-control)</td>", body)
    assert first_gt[0] == "pos-control"
    # no absolute local path anywhere in the site (run dirs, config, tracebacks, data files)
    for f in site.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".csv"):
            text = f.read_text()
            assert str(tmp_path) not in text and "/tmp/" not in text, f


def test_strip_paths():
    from reports.public import strip_paths

    assert strip_paths("h5ad:/home/me/data/x.h5ad") == "h5ad:\u2026/x.h5ad"
    assert strip_paths('File "/usr/lib/python3/x.py", line 3') == 'File "\u2026/x.py", line 3'
    assert strip_paths("see https://github.com/a/b and 3/4") == "see https://github.com/a/b and 3/4"


def test_tied_scores_are_drawn_as_the_expected_curve():
    from bench.scoring.grn import evaluate_grn

    truth = pd.DataFrame({"regulator": ["A", "B"], "target": ["x", "y"]})
    pairs = [(r, t) for r in "AB" for t in "xyz"]
    const = pd.DataFrame({"regulator": [p[0] for p in pairs], "target": [p[1] for p in pairs], "weight": 1.0})
    pr = evaluate_grn(const, truth).pr_curve  # universe: {A, B} x {x, y}, 2 of 4 true
    assert np.allclose(pr["precision"], 0.5)  # a constant predictor is flat at the density, not from (0, 1)
    assert pr["recall"].iloc[0] == 0 and pr["recall"].iloc[-1] == 1
    # one true edge on top, then a block of ties: the block is interpolated, not a straight chord from its ends
    top = const.assign(weight=[2.0 if p == ("A", "x") else 1.0 for p in pairs])
    pr = evaluate_grn(top, truth).pr_curve
    assert tuple(pr.iloc[0]) == (0.0, 1.0) and len(pr) > 3
    inside = pr[(pr["recall"] > 0.5) & (pr["recall"] < 1)]  # then 1 true + 2 false tied: a = 2 recall - 1
    a = 2 * inside["recall"] - 1
    assert len(inside) and np.allclose(inside["precision"], (1 + a) / (1 + 3 * a))


def test_figures_legend_outside_and_no_method_in_the_random_colour(tmp_path, monkeypatch):
    import matplotlib.colors as mcolors

    from reports import figures
    from reports.rundir import RunDir

    captured = []
    monkeypatch.setattr(figures, "to_data_uri", lambda fig: captured.append(fig) or "data:")
    rd = _synthetic(tmp_path / "r")
    lb, curves = RunDir(rd.path).read_leaderboard(), RunDir(rd.path).read_curves()
    colors = figures.method_colors(lb["method"].unique())
    figures.auprc_bars(lb, colors)
    figures.curve_figure(curves, "pr", colors)
    figures.curve_figure(curves, "precision_at_k", colors)
    assert len(captured) == 3
    for fig in captured:
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        assert legends
        for leg in legends:
            box = leg.get_window_extent(r)
            for ax in fig.axes:  # the legend covers no panel
                assert not box.overlaps(ax.get_window_extent(r)), "legend covers a panel"
            assert box.x1 <= fig.bbox.x1 + 1  # and is inside the figure
    random_rgb = mcolors.to_rgb(figures.RANDOM_COLOR)
    grey = mcolors.to_rgb("grey")
    many = figures.method_colors([f"m{i}" for i in range(25)])
    for c in list(colors.values()) + list(many.values()):
        assert max(abs(x - y) for x, y in zip(mcolors.to_rgb(c), random_rgb)) > 0.1
        assert max(abs(x - y) for x, y in zip(mcolors.to_rgb(c), grey)) > 0.1


# ----------------------------------------------------------------------------------------------- README and --help


def test_readme_and_help_agree(capsys):
    import re

    readme = (REPO / "README.md").read_text()
    code, run_help, _ = run_cli(["run", "--help"], capsys)
    # the default preset's total time is the same number in the README and in --help
    total = re.search(r"~(\d+) min in all", readme)
    assert total and f"~{total.group(1)} min" in " ".join(run_help.split())
    code, sim_help, _ = run_cli(["simulate", "--help"], capsys)
    gan = re.search(r"`default` \| 300 \| CPU recipe[^|]*~(\d+) min", readme)
    assert gan and f"~{gan.group(1)} min" in " ".join(sim_help.split())
    # grn build and simulate share bench run's gene count
    code, grn_help, _ = run_cli(["grn", "build", "--help"], capsys)
    assert "default: as `bench run`'s default preset" in " ".join(grn_help.split()) and "300" in grn_help
    assert "smoke 100, default 300, paper 1000" in " ".join(sim_help.split())


def test_readme_knockout_example_uses_a_tf_of_the_default_run(data_dir):
    import re

    from bench.config import PRESETS
    from datasets import dataset_tfs, prepare_dataset

    tf = re.search(r"bench knockout SIM_DIR --tf (\S+)", (REPO / "README.md").read_text()).group(1)
    # every TF of the default run's genes is a regulator of its GRN (GRNBoost2 scores every TF for every target)
    adata = prepare_dataset("bonemarrow", n_genes=PRESETS["default"]["n_genes"], seed=0)
    assert tf in dataset_tfs(adata)


# ----------------------------------------------------------------------------------------------- faults


def _alive(procs) -> list[int]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except psutil.Error:
            pass
    return out


def test_ctrl_c_in_infer_kills_children_records_nothing_and_cleans_up(tmp_path):
    from methods.contract import make_tiny_dataset

    data = tmp_path / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(data)
    (tmp_path / "hang.py").write_text(HANG_METHOD)
    pid_file = tmp_path / "hanger.pid"
    env = bench_env(tmp_path, HANG_PID_FILE=pid_file)
    out = tmp_path / "out"
    p = bench_proc(["infer", "--dataset", data, "--methods", "hanger,ppcor", "--method-file", tmp_path / "hang.py",
                    "--out", out, "--workers", "2"], env)
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), 300, "the hanging method to start", p)
    hanger = int(pid_file.read_text())
    tree = psutil.Process(p.pid).children(recursive=True)
    assert hanger in {c.pid for c in tree}
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=180)
    assert p.returncode == 130
    line = one_line_error(err)
    assert line.startswith("interrupted:") and "re-run `bench infer" in line
    time.sleep(0.5)
    assert not psutil.pid_exists(hanger) or psutil.Process(hanger).status() == psutil.STATUS_ZOMBIE
    assert _alive(tree) == []  # every process it started is gone
    assert not (out / "hanger" / "record.json").exists()  # the interrupted method is not recorded as failed
    assert [f.name for f in (tmp_path / "tmp").iterdir() if f.name.startswith(("bench-", "dask"))] == []


def test_second_run_is_refused_and_ctrl_c_stops_a_run_cleanly(tmp_path, data_dir):
    env = bench_env(tmp_path)
    out = tmp_path / "run"
    args = ["run", "--preset", "smoke", "--out", out, "--methods", "ppcor", "--sources", "real", "--quiet"]
    first = bench_proc(args, env)
    lock = out / ".lock"
    wait_for(lambda: lock.exists() and lock.read_text(), 600, "the first run to lock its directory", first)
    second = bench_proc(args, env)
    _, err = second.communicate(timeout=600)
    line = one_line_error(err)
    assert second.returncode == 2 and f"is in use by process {first.pid}" in line and "--out" in line
    tree = psutil.Process(first.pid).children(recursive=True)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=180)
    assert first.returncode == 130, err
    line = one_line_error(err)
    assert "re-run `bench run --preset smoke" in line
    assert not lock.exists()  # released
    time.sleep(0.5)
    assert _alive(tree) == []
    # nothing unfinished was recorded: every recorded stage is complete, no method was filed as failed
    manifest = json.loads((out / "manifest.json").read_text()) if (out / "manifest.json").exists() else {}
    for stage_file in out.glob("*/_stage.json"):
        assert stage_file.parent.name in manifest.get("stage_seconds", {})
    for rec in out.glob("infer/*/*/record.json"):
        assert json.loads(rec.read_text())["status"] == "ok"
    assert [f.name for f in (tmp_path / "tmp").iterdir() if f.name.startswith("bench-")] == []


def test_a_lock_left_by_a_killed_run_is_stale(tmp_path):
    from bench.lock import RunLock

    d = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from bench.lock import RunLock; "
                               f"RunLock({str(d)!r}).acquire(); print('locked', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True, cwd=str(REPO))
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(BenchError, match=f"in use by process {holder.pid}"):
        RunLock(d).acquire()
    holder.kill()  # kill -9: no clean-up ran
    holder.wait()
    assert (d / ".lock").exists()
    with RunLock(d):  # taken over at once, not blocked forever
        assert json.loads((d / ".lock").read_text())["pid"] == os.getpid()
    assert not (d / ".lock").exists()


@pytest.mark.parametrize("preset", ["smoke", "default", "paper"])
def test_every_preset_passes_validation_with_defaults(preset):
    from bench.config import load_config
    from bench.validate import validate_run

    cfg = validate_run(load_config(None, dataset="bonemarrow", preset=preset))  # methods = None: every method
    assert cfg.methods and all(isinstance(m, str) for m in cfg.methods)
