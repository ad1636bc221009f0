"""The shape of the code base: import layers (import-linter), module and pipeline-function sizes, the registry."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["bench", "methods", "simulators", "datasets", "reports"]
MAX_MODULE_LINES = 450
MAX_PIPELINE_FUNCTION_LINES = 80


def _modules():
    for pkg in PACKAGES:
        yield from sorted((REPO / pkg).rglob("*.py"))


def test_import_layers():
    exe = Path(sys.executable).with_name("lint-imports")
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not found: install the test extra (pip install -e '.[test]')")
    done = subprocess.run([exe, "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_module_over_the_limit():
    sizes = {str(p.relative_to(REPO)): len(p.read_text().splitlines()) for p in _modules()}
    big = {p: n for p, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines (split them along their seams): {big}"


def test_pipeline_functions_are_short():
    long = {}
    for p in sorted((REPO / "bench" / "pipeline").glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_PIPELINE_FUNCTION_LINES:
                    long[f"{p.name}:{node.name}"] = n
    assert not long, f"pipeline functions over {MAX_PIPELINE_FUNCTION_LINES} lines: {long}"


def test_builtin_methods_are_found_not_listed(tmp_path, monkeypatch):
    """A new module in methods/native with a METHOD is registered with no other edit."""
    import methods.base as base
    import methods.native

    pkg = tmp_path / "extra_native"
    pkg.mkdir()
    (pkg / "zzcorr.py").write_text(
        "from bench.edges import make_edges\n"
        "from methods.base import Method, MethodInfo\n"
        "def infer(adata, *, seed=0, **_):\n"
        "    g = list(adata.var_names)\n"
        "    return make_edges(g[:1], g[1:2], [1.0])\n"
        "METHOD = Method(MethodInfo('ZZCorr', 'test', 'none', 'none'), infer)\n")
    monkeypatch.setattr(methods.native, "__path__", [*methods.native.__path__, str(pkg)])
    monkeypatch.setattr(base, "_registry", {})
    monkeypatch.setattr(base, "_loaded", False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "methods.native.zzcorr", None)  # not imported before
    del sys.modules["methods.native.zzcorr"]
    found = base.all_methods()
    assert "zzcorr" in found and found["zzcorr"].label == "ZZCorr"
    assert {"genie3", "pidc", "scode"} <= set(found)
    assert "_kernels" not in found and "trees" not in found  # helpers and kernels are not methods
