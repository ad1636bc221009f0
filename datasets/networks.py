"""GRN preparation: the GRNBoost2 reference GRN and the networks imposed on (or withheld from) the simulator.

From the reference GRN every target gene gets its TFs ranked by importance. Strategies (k = ranks considered):

- ``top``: ranks 1..k.
- ``pos-control``: ranks 1, 3, 5, ... (imposed on the simulator; the paper's positive control).
- ``neg-control``: ranks 2, 4, 6, ... (not imposed; the paper's negative control).
- ``random``: for every target as many TFs as the positive control gives it, drawn uniformly (seeded) from the
  regulator set.

Invariants (as the paper needs a bipartite DAG): a gene that regulates anything among the top-k lists is never a
target (such targets are dropped, as the reference code does), so regulators are never targets; positive and
negative controls have the same targets, are disjoint, and give each target the same in-degree (a target with an
odd number of ranked TFs below k loses its last one).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from bench.arrays import dense
from bench import io as bio
from bench.edges import EDGE_COLUMNS, empty_edges, rank_edges, read_edges
from bench.errors import BenchError
from bench.settings import settings
from methods.native.trees import GRNBOOST2_DEFAULTS, grnboost2

STRATEGIES = ("top", "pos-control", "neg-control", "random")


def reference_grn(train: ad.AnnData, tfs, *, seed: int = 0, n_jobs: int | None = None, cache: bool = True,
                  scheduler: str | None = None, **params) -> pd.DataFrame:
    """GRNBoost2 on the training cells with the TF list as candidate regulators (cached on disk).

    The input is the library-size-normalised, non-log expression, as in the paper's code. ``scheduler`` (a Dask
    scheduler address) spreads the targets over that cluster's workers; the result does not depend on it.
    """
    X = dense(train.X)
    if X.dtype.kind != "f":  # keep float input's precision: GRNBoost2's targets stay in it (as arboreto)
        X = X.astype(np.float64)
    tfs = sorted(set(map(str, tfs)) & set(map(str, train.var_names)))
    if not tfs:
        raise BenchError("no TF of the list is among the data's genes.", "Give the TF list of the data's species.")
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X).tobytes())
    # The resolved parameters (seeding included) key the cache, so a change of defaults never reuses old GRNs.
    h.update(json.dumps({"genes": list(map(str, train.var_names)), "tfs": tfs, "seed": seed,
                         "params": {**GRNBOOST2_DEFAULTS, **params}}, sort_keys=True).encode())
    path = Path(settings.cache_dir) / "grn" / f"grnboost2-{h.hexdigest()[:16]}.parquet"
    if cache and path.exists():
        return pd.read_parquet(path)
    edges = grnboost2(X, list(map(str, train.var_names)), tfs, seed=seed, n_jobs=n_jobs, scheduler=scheduler,
                      **params)
    if cache:
        bio.write_parquet(path, edges)
    return edges


def ranked_tfs(reference: pd.DataFrame) -> dict[str, list[str]]:
    """``{target: [TFs by decreasing importance]}`` (ties broken by name, deterministically)."""
    ref = rank_edges(reference[["regulator", "target", "weight"]].copy())
    ref = ref[ref["regulator"] != ref["target"]]
    out: dict[str, list[str]] = {}
    for reg, tgt in zip(ref["regulator"], ref["target"]):
        out.setdefault(tgt, []).append(reg)
    return out


def build_grn(reference: pd.DataFrame, strategy: str, k: int = 10, seed: int = 0) -> pd.DataFrame:
    """Derive a GRN from a reference GRN by one of :data:`STRATEGIES` (see the module docstring).

    Edge weights are the reference importances (``random``: 1.0). Returns the edge schema.
    """
    if strategy not in STRATEGIES:
        raise BenchError(f"unknown GRN strategy {strategy!r}.", f"Choose one of {', '.join(STRATEGIES)}.")
    if k < 1 or (strategy in ("pos-control", "neg-control") and k < 2):
        raise BenchError(f"k = {k} is too small for strategy {strategy}.", "Use --k 2 or more (the paper uses 10).")
    if reference.empty:
        raise BenchError("the reference GRN is empty.", "Check the TF list and the data.")
    ranked = {t: regs[:k] for t, regs in ranked_tfs(reference).items()}
    regulators = {r for regs in ranked.values() for r in regs}
    ranked = {t: regs for t, regs in ranked.items() if t not in regulators}
    if strategy in ("pos-control", "neg-control", "random"):
        ranked = {t: regs[: len(regs) - len(regs) % 2] for t, regs in ranked.items()}
        ranked = {t: regs for t, regs in ranked.items() if regs}
    weight = {(r, t): w for r, t, w in zip(reference["regulator"], reference["target"], reference["weight"])}
    rows = []
    if strategy == "random":
        rng = np.random.default_rng(seed)
        pool = np.asarray(sorted(regulators), dtype=object)
        for t in sorted(ranked):
            n = len(ranked[t]) // 2
            for r in rng.choice(pool, size=min(n, len(pool)), replace=False):
                rows.append((r, t, 1.0))
    else:
        sl = {"top": slice(0, k), "pos-control": slice(0, k, 2), "neg-control": slice(1, k, 2)}[strategy]
        for t in sorted(ranked):
            for r in ranked[t][sl]:
                rows.append((r, t, float(weight[(r, t)])))
    if not rows:
        return empty_edges()
    return rank_edges(pd.DataFrame(rows, columns=["regulator", "target", "weight"]))


def grn_summary(edges: pd.DataFrame) -> dict:
    indeg = edges.groupby("target").size() if len(edges) else pd.Series(dtype=int)
    return {
        "edges": int(len(edges)),
        "regulators": int(edges["regulator"].nunique()),
        "targets": int(edges["target"].nunique()),
        "in_degree_min": int(indeg.min()) if len(indeg) else 0,
        "in_degree_median": float(indeg.median()) if len(indeg) else 0.0,
        "in_degree_max": int(indeg.max()) if len(indeg) else 0,
        "bipartite": not (set(edges["regulator"]) & set(edges["target"])),
        "self_loops": int((edges["regulator"] == edges["target"]).sum()),
    }


__all__ = ["STRATEGIES", "EDGE_COLUMNS", "build_grn", "grn_summary", "ranked_tfs", "read_edges", "reference_grn"]
