"""Third-party methods: a ``bench.methods`` entry point of an installed distribution, and ``--method-file``."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest

from bench.cli import main
from methods import base
from methods.contract import check_method, make_tiny_dataset

PLUGIN_SOURCE = textwrap.dedent('''
    """A third-party method package, as a user would write it."""
    import numpy as np
    from bench.edges import make_edges
    from methods.base import Method, MethodInfo

    def infer(adata, *, pseudotime=None, tfs=None, seed=0, power=1.0):
        X = np.asarray(adata.X, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            C = np.nan_to_num(np.corrcoef(X.T))
        genes = list(map(str, adata.var_names))
        regs = genes if tfs is None else [g for g in genes if g in set(tfs)]
        rows = [(r, t, abs(C[genes.index(r), j]) ** power) for r in regs for j, t in enumerate(genes) if r != t]
        return make_edges(*zip(*rows))

    def _info(name):
        return MethodInfo(name, "absolute Pearson correlation", "none", "https://example.org", accepts_tfs=True,
                          defaults={"power": 1.0}, presets={"test": {"power": 2.0}}, license="MIT")

    METHOD = Method(_info("{name}"), infer)

    def make_methods():
        return [Method(_info("{name}Sq"), infer)]
''')


@pytest.fixture
def fresh_registry(monkeypatch):
    """An empty registry that reloads built-ins and entry points; the real one is restored afterwards."""
    monkeypatch.setattr(base, "_registry", {})
    monkeypatch.setattr(base, "_loaded", False)
    yield


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch, fresh_registry):
    """A fake installed distribution (module + dist-info with entry points) on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "bench_fake_plugin.py").write_text(PLUGIN_SOURCE.replace("{name}", "FakeCorr"))
    info = site / "bench_fake_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bench-fake-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[bench.methods]\nfakecorr = bench_fake_plugin:METHOD\n"
                                          "fakecorr_sq = bench_fake_plugin:make_methods\n")
    monkeypatch.syspath_prepend(str(site))
    yield site
    import sys

    sys.modules.pop("bench_fake_plugin", None)


@pytest.fixture
def method_file(tmp_path):
    path = tmp_path / "my_method.py"
    path.write_text(PLUGIN_SOURCE.replace("{name}", "FileCorr"))
    return path


def test_entry_point_methods_are_registered_and_pass_the_contract(installed_plugin):
    ms = base.all_methods()
    assert {"fakecorr", "fakecorrsq"} <= set(ms)
    assert "genie3" in ms  # built-ins are still there
    assert all(r.passed for r in check_method(ms["fakecorr"])), check_method(ms["fakecorr"])


def test_entry_point_method_runs_in_a_child_process(installed_plugin):
    from methods.execution import run_isolated

    run = run_isolated(base.get_method("FakeCorr"), make_tiny_dataset(), preset="test", timeout=60)
    assert run.ok, run.record["error"]
    assert run.record.parameters == {"power": 2.0}


def test_bad_entry_point_is_a_clear_error(tmp_path, monkeypatch, fresh_registry):
    site = tmp_path / "site2"
    (site / "badplug-0.1.dist-info").mkdir(parents=True)
    (site / "badplug.py").write_text("METHOD = 42\n")
    (site / "badplug-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: badplug\nVersion: 0.1\n")
    (site / "badplug-0.1.dist-info" / "entry_points.txt").write_text("[bench.methods]\nbad = badplug:METHOD\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(base.BenchError, match="does not provide a methods.base.Method"):
        base.all_methods()


def test_method_file_in_list_show_and_test(method_file, fresh_registry, capsys):
    assert main(["methods", "list", "--method-file", str(method_file)]) == 0
    out = capsys.readouterr().out
    assert "FileCorr" in out and "GENIE3" in out and "absolute Pearson correlation" in out
    assert main(["methods", "show", "filecorr", "--method-file", str(method_file)]) == 0
    assert '"power": 2.0' in capsys.readouterr().out
    assert main(["methods", "test", "FileCorr", "--method-file", str(method_file)]) == 0
    out = capsys.readouterr().out
    assert "FileCorr: 6/6 checks passed" in out


def test_method_file_json_listing(method_file, fresh_registry, capsys):
    assert main(["methods", "list", "--json", "--method-file", str(method_file)]) == 0
    records = json.loads(capsys.readouterr().out)
    rec = next(r for r in records if r["name"] == "FileCorr")
    assert rec["accepts_tfs"] is True and rec["defaults"] == {"power": 1.0} and rec["license"] == "MIT"


def test_bad_method_file_is_one_line(tmp_path, fresh_registry, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    assert main(["methods", "list", "--method-file", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "defines neither METHOD nor METHODS" in err and len(err.splitlines()) == 1
    assert main(["methods", "test", "x", "--method-file", str(tmp_path / "missing.py")]) == 2
    assert "method file not found" in capsys.readouterr().err


def test_infer_cli_with_a_method_file(method_file, fresh_registry, tmp_path, capsys):
    data = tmp_path / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(data)
    out = tmp_path / "out"
    code = main(["infer", "--dataset", str(data), "--methods", "filecorr,ppcor", "--method-file", str(method_file),
                 "--out", str(out), "--preset", "filecorr=test", "--timeout", "120", "--memory-limit", "4G"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    edges = pd.read_parquet(out / "FileCorr" / "edges.parquet")
    assert list(edges.columns) == ["regulator", "target", "weight", "rank"] and len(edges) == 15 * 14
    rec = json.loads((out / "FileCorr" / "record.json").read_text())
    assert rec["status"] == "ok" and rec["preset"] == "test" and rec["memory_limit_mb"] == 4096.0
    assert [r["method"] for r in json.loads((out / "runs.json").read_text())] == ["FileCorr", "PPCOR"]
    assert "FileCorr" in captured.out and "ok" in captured.out


def test_infer_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["infer", "--dataset", str(tmp_path / "nope.h5ad"), "--methods", "ppcor"]) == 2
    assert "dataset file not found" in capsys.readouterr().err
    data = tmp_path / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(data)
    assert main(["infer", "--dataset", str(data), "--methods", "nosuchmethod"]) == 2
    assert "unknown method 'nosuchmethod'" in capsys.readouterr().err
    assert main(["infer", "--dataset", str(data), "--methods", "ppcor", "--memory-limit", "lots"]) == 2
    assert "cannot read the memory size" in capsys.readouterr().err
