"""Validation of a method's output, in the one path that records it.

Every edge table a method returns goes through :func:`validate_output` before it is recorded or scored:

- weights that are NaN or infinite, or genes that are not in the data the method got, make the run ``failed``
  with the reason (a table like that cannot be scored honestly);
- self-loops and repeated (regulator, target) pairs are dropped (the first, i.e. strongest, copy of a pair is
  kept) and counted; the counts go into the run record and the leaderboard row (``warnings``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.edges import empty_edges, rank_edges


@dataclass
class OutputCheck:
    """The edges to record (empty when ``error``), why the output is unusable, and what was dropped."""

    edges: pd.DataFrame
    error: str | None = None
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def warning(self) -> str | None:
        """One line for the record and the leaderboard, e.g. ``dropped 3 self-loop(s), 2 duplicate edge(s)``."""
        parts = [f"{n} {what}" for what, n in self.dropped.items() if n]
        return "dropped " + ", ".join(parts) if parts else None


def validate_output(edges: pd.DataFrame, genes: Iterable[str]) -> OutputCheck:
    """Check a method's edge table against the genes it was given (see the module docstring)."""
    if not isinstance(edges, pd.DataFrame) or not {"regulator", "target", "weight"} <= set(edges.columns):
        return OutputCheck(empty_edges(), "output is not an edge table with columns regulator, target, weight")
    w = pd.to_numeric(edges["weight"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w)
    if bad.any():
        return OutputCheck(empty_edges(), f"output has {int(bad.sum())} NaN or infinite weight(s)")
    reg, tgt = edges["regulator"].astype(str), edges["target"].astype(str)
    known = set(map(str, genes))
    unknown = sorted((set(reg) | set(tgt)) - known)
    if unknown:
        return OutputCheck(empty_edges(), f"output names {len(unknown)} gene(s) absent from the data "
                                          f"(e.g. {unknown[0]!r})")
    table = pd.DataFrame({"regulator": reg.to_numpy(), "target": tgt.to_numpy(), "weight": w})
    loops = (table["regulator"] == table["target"]).to_numpy()
    table = table[~loops]
    table = rank_edges(table)  # strongest first, so the kept copy of a repeated pair is its best one
    dup = table.duplicated(["regulator", "target"], keep="first").to_numpy()
    table = rank_edges(table[~dup])
    return OutputCheck(table, None, {"self-loop(s)": int(loops.sum()), "duplicate edge(s)": int(dup.sum())})


def check_run_output(run, genes):
    """Validate an ``ok`` run's edges (:func:`validate_output`) before it is recorded: unusable output makes the
    run ``failed`` with the reason; dropped self-loops and duplicates are counted in ``record.warnings``."""
    from methods.record import MethodRun

    if not run.ok:
        return run
    check = validate_output(run.edges, genes)
    if check.error:
        run.record.status, run.record.error, run.record.n_edges_predicted = "failed", check.error, 0
    else:
        run.record.n_edges_predicted = int(len(check.edges))
        run.record.warnings = check.warning
    return MethodRun(run.method, check.edges, run.record)
