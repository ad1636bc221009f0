"""The method contract, as executable checks.

Every registered method (built-in, entry point or ``--method-file``) must pass these on a tiny dataset:

1. ``edge table``   returns a valid ranked edge table (schema columns, finite weights, sorted, rank = 1..n,
                    no duplicate pairs, not empty);
2. ``genes``        names only genes from the data;
3. ``self-loops``   has no self-loops;
4. ``determinism``  gives the same table twice with the same seed;
5. ``tfs``          uses only the given TFs as regulators (methods with ``accepts_tfs``);
6. ``constant gene`` runs on data with a constant gene and still returns a valid table.

``bench methods test NAME`` and ``tests/test_methods_contract.py`` both call :func:`check_method`. Methods run
in-process and single-core here (the checks are about the function, not the execution layer; pools cost more
than the work on toy data), with the method's ``test`` preset when it has one (else ``fast``), so that all
methods together stay near a minute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.edges import EDGE_COLUMNS
from methods.base import Method
from methods.jobs import make_jobs

TEST_PRESET = "test"


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str = ""


def make_tiny_dataset(n_cells: int = 100, n_genes: int = 15, n_tfs: int = 4, seed: int = 0):
    """A small trajectory dataset with planted TF -> target regulation.

    Cells sit along a pseudotime ``t`` in [0, 1]; each TF switches on at its own time, each target follows
    one or two TFs. Counts are Poisson and library-size normalised (like the benchmark's ``X``, no log).
    Returns an AnnData with ``obs['pseudotime']``, ``uns['tfs']`` and ``uns['true_edges']`` (list of pairs).
    """
    import anndata as ad

    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 1, n_cells))
    onsets = np.linspace(0.1, 0.7, n_tfs)
    tf_level = 1.0 / (1.0 + np.exp(-(t[:, None] - onsets[None, :]) * 12.0))  # cells x tfs, switching on in turn
    n_targets = n_genes - n_tfs
    parents = [rng.choice(n_tfs, size=1 + (j % 2), replace=False) for j in range(n_targets)]
    lam = np.empty((n_cells, n_genes))
    lam[:, :n_tfs] = 1.0 + 12.0 * tf_level
    for j, ps in enumerate(parents):
        lam[:, n_tfs + j] = 0.5 + 10.0 * tf_level[:, ps].mean(axis=1)
    counts = rng.poisson(lam).astype(np.float32)
    lib = counts.sum(axis=1, keepdims=True)
    X = (counts / np.maximum(lib, 1) * lib.mean()).astype(np.float32)
    genes = [f"TF{i}" for i in range(n_tfs)] + [f"G{j}" for j in range(n_targets)]
    adata = ad.AnnData(X)
    adata.var_names = genes
    adata.obs_names = [f"cell{i}" for i in range(n_cells)]
    adata.obs["pseudotime"] = t
    adata.layers["counts"] = counts
    adata.uns["tfs"] = genes[:n_tfs]
    adata.uns["true_edges"] = [[genes[p], genes[n_tfs + j]] for j, ps in enumerate(parents) for p in ps]
    return adata


def with_constant_gene(adata, gene_index: int = -1, value: float = 0.0):
    """A copy of ``adata`` where one gene has the same value in every cell."""
    out = adata.copy()
    X = np.array(out.X, dtype=np.float32)
    X[:, gene_index] = value
    out.X = X
    return out


def contract_preset(method: Method, preset: str | None = TEST_PRESET) -> str | None:
    """The preset the checks use: ``preset`` if the method has it; for ``test``, else ``fast``; else defaults."""
    if preset in method.info.presets:
        return preset
    if preset == TEST_PRESET and "fast" in method.info.presets:
        return "fast"
    return None


def call_method(method: Method, adata, *, tfs=None, seed: int = 0, preset: str | None = TEST_PRESET, **params):
    """Call ``method.infer`` in this process on the job every runner builds (:func:`methods.jobs.make_jobs`: the
    input rule, the pseudotime from ``obs['pseudotime']`` and the TFs only when the method takes them)."""
    [job] = make_jobs(adata, [method], tfs=tfs, seed=seed, params=params or None,
                      preset=contract_preset(method, preset))
    return job.call()


def validate_edges(edges, genes) -> list[str]:
    """Problems with an edge table (empty list = valid): schema, ranks, order, weights, genes, self-loops."""
    problems: list[str] = []
    if not isinstance(edges, pd.DataFrame):
        return [f"returned {type(edges).__name__}, not a pandas DataFrame"]
    if list(edges.columns) != EDGE_COLUMNS:
        return [f"columns are {list(edges.columns)}, expected {EDGE_COLUMNS}"]
    if len(edges) == 0:
        problems.append("edge table is empty")
        return problems
    w = pd.to_numeric(edges["weight"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(w).all():
        problems.append(f"{int((~np.isfinite(w)).sum())} weights are NaN or infinite")
    elif np.any(np.diff(w) > 0):
        problems.append("rows are not sorted by weight (descending)")
    if not np.array_equal(edges["rank"].to_numpy(), np.arange(1, len(edges) + 1)):
        problems.append("rank is not 1..n in row order")
    if edges.duplicated(["regulator", "target"]).any():
        problems.append(f"{int(edges.duplicated(['regulator', 'target']).sum())} duplicate (regulator, target) pairs")
    gs = set(map(str, genes))
    unknown = sorted((set(edges["regulator"].astype(str)) | set(edges["target"].astype(str))) - gs)
    if unknown:
        problems.append(f"names {len(unknown)} gene(s) not in the data (e.g. {unknown[0]})")
    loops = int((edges["regulator"] == edges["target"]).sum())
    if loops:
        problems.append(f"{loops} self-loop(s)")
    return problems


def _check(name: str, fn: Callable[[], str | None]) -> CheckResult:
    try:
        problem = fn()
    except Exception as exc:  # a crash is a failed check, reported in one line
        msg = str(exc).strip().splitlines()
        return CheckResult(name, False, f"raised {type(exc).__name__}: {msg[0] if msg else ''}")
    return CheckResult(name, problem is None, problem or "")


def check_method(method: Method, adata=None, *, seed: int = 0, preset: str | None = TEST_PRESET) -> list[CheckResult]:
    """Run the contract checks on ``method``; returns one :class:`CheckResult` per check (never raises)."""
    from bench.settings import settings

    saved_n_jobs = settings.n_jobs
    settings.n_jobs = 1
    try:
        return _check_method(method, make_tiny_dataset(seed=seed) if adata is None else adata, seed, preset)
    finally:
        settings.n_jobs = saved_n_jobs


def _check_method(method: Method, adata, seed: int, preset: str | None) -> list[CheckResult]:
    genes = list(map(str, adata.var_names))
    results: list[CheckResult] = []
    first: dict = {}

    def run_base():
        first["edges"] = call_method(method, adata, seed=seed, preset=preset)
        probs = [p for p in validate_edges(first["edges"], genes) if "gene" not in p and "self-loop" not in p]
        return "; ".join(probs) or None

    results.append(_check("edge table", run_base))
    base = first.get("edges")
    if not isinstance(base, pd.DataFrame) or list(base.columns) != EDGE_COLUMNS:
        for name in ("genes", "self-loops", "determinism", "tfs", "constant gene"):
            results.append(CheckResult(name, False, "skipped: no valid edge table"))
        return results

    def genes_only():
        probs = [p for p in validate_edges(base, genes) if "not in the data" in p]
        return probs[0] if probs else None

    def no_loops():
        n = int((base["regulator"] == base["target"]).sum())
        return f"{n} self-loop(s)" if n else None

    def deterministic():
        again = call_method(method, adata, seed=seed, preset=preset)
        try:
            pd.testing.assert_frame_equal(base.reset_index(drop=True), again.reset_index(drop=True), check_exact=True)
        except AssertionError as exc:
            return "two runs with the same seed differ: " + " ".join(str(exc).split())[:200]
        return None

    results += [_check("genes", genes_only), _check("self-loops", no_loops), _check("determinism", deterministic)]

    if method.info.accepts_tfs:
        tfs = list(adata.uns.get("tfs", genes[:3]))[:3]

        def respects_tfs():
            edges = call_method(method, adata, tfs=tfs, seed=seed, preset=preset)
            probs = validate_edges(edges, genes)
            if probs:
                return "; ".join(probs)
            extra = sorted(set(edges["regulator"]) - set(tfs))
            return f"regulators outside the TF list: {', '.join(extra[:3])}" if extra else None

        results.append(_check("tfs", respects_tfs))
    else:
        results.append(CheckResult("tfs", True, "not applicable (accepts_tfs=False)"))

    def constant_gene():
        edges = call_method(method, with_constant_gene(adata), seed=seed, preset=preset)
        probs = validate_edges(edges, genes)
        return "; ".join(probs) if probs else None

    results.append(_check("constant gene", constant_gene))
    return results


def format_results(method_name: str, results: list[CheckResult]) -> str:
    lines = [f"{method_name}: {sum(r.passed for r in results)}/{len(results)} checks passed"]
    for r in results:
        lines.append(f"  {'PASS' if r.passed else 'FAIL'}  {r.name:<14} {r.detail}")
    return "\n".join(lines)
