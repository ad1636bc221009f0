"""GRN preparation: the reference GRN (GRNBoost2 by default; PIDC or Pearson as a circularity control) and the
networks imposed on (or withheld from) the simulator.

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


#: methods whose TF-per-target ranking on the training cells can define the controls (``--reference-method``)
REFERENCE_METHODS = ("grnboost2", "pidc", "pearson")


def reference_grn(train: ad.AnnData, tfs, *, method: str = "grnboost2", seed: int = 0, n_jobs: int | None = None,
                  cache: bool = True, scheduler: str | None = None, **params) -> pd.DataFrame:
    """The reference GRN: ``method``'s TF -> gene importances on the training cells (cached on disk).

    ``grnboost2`` (the paper): GRNBoost2 with the TF list as candidate regulators, on the library-size-normalised,
    non-log expression as in the paper's code; ``params`` override its settings. ``pidc`` and ``pearson`` (the
    circularity control: a truth that does not come from a tree method) score every TF -> gene pair on log1p of
    the same expression, as the inference methods see it: PIDC's context-corrected partial information, or the
    absolute Pearson correlation; they take no ``params``. ``scheduler`` (a Dask scheduler address) spreads GRNBoost2's targets over
    that cluster's workers; the result does not depend on it.
    """
    if method not in REFERENCE_METHODS:
        raise BenchError(f"unknown reference method {method!r}.", f"Choose one of {', '.join(REFERENCE_METHODS)}.")
    if params and method != "grnboost2":
        raise BenchError(f"reference method {method} takes no parameters (got {', '.join(sorted(params))}).",
                         "Drop grn_params, or use the grnboost2 reference method.")
    X = dense(train.X)
    if X.dtype.kind != "f":  # keep float input's precision: GRNBoost2's targets stay in it (as arboreto)
        X = X.astype(np.float64)
    genes = list(map(str, train.var_names))
    tfs = sorted(set(map(str, tfs)) & set(genes))
    if not tfs:
        raise BenchError("no TF of the list is among the data's genes.", "Give the TF list of the data's species.")
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X).tobytes())
    # The resolved parameters (seeding included) key the cache, so a change of defaults never reuses old GRNs.
    resolved = {**GRNBOOST2_DEFAULTS, **params} if method == "grnboost2" else params
    h.update(json.dumps({"genes": genes, "tfs": tfs, "seed": seed, "params": resolved}, sort_keys=True).encode())
    path = Path(settings.cache_dir) / "grn" / f"{method}-{h.hexdigest()[:16]}.parquet"
    if cache and path.exists():
        return pd.read_parquet(path)
    if method == "grnboost2":
        edges = grnboost2(X, genes, tfs, seed=seed, n_jobs=n_jobs, scheduler=scheduler, **params)
    else:
        edges = _tf_scores(np.log1p(X.astype(np.float32)), genes, tfs, method)
    if cache:
        bio.write_parquet(path, edges)
    return edges


def _tf_scores(X: np.ndarray, genes: list[str], tfs: list[str], method: str) -> pd.DataFrame:
    """Every TF -> other gene pair scored by PIDC or |Pearson r| (zero scores dropped), as an edge table."""
    from bench.edges import make_edges

    if method == "pidc":
        from methods.native.pidc import infer as pidc

        edges = pidc(ad.AnnData(X, var=pd.DataFrame(index=genes)), tfs=tfs)
        return edges[edges["weight"] > 0].reset_index(drop=True)
    X = np.asarray(X, dtype=np.float64)
    sd = X.std(axis=0)
    Z = np.where(sd > 0, (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0), 0.0)
    pos = {g: i for i, g in enumerate(genes)}
    ti = np.asarray([pos[t] for t in tfs])
    r = np.abs(Z[:, ti].T @ Z) / len(X)  # TFs x genes; a constant gene has r = 0 and gets no edge
    i, j = np.nonzero(r > 0)
    keep = ti[i] != j
    i, j = i[keep], j[keep]
    g = np.asarray(genes, dtype=object)
    return make_edges(g[ti[i]], g[j], r[i, j])


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


__all__ = ["REFERENCE_METHODS", "STRATEGIES", "EDGE_COLUMNS", "build_grn", "grn_summary", "ranked_tfs", "read_edges",
           "reference_grn"]
