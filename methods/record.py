"""The outcome of one method run: a typed record whose field names are the leaderboard's columns.

:class:`RunRecord` is what every executor (native child process, BEELINE docker image) fills in, what
``record.json`` holds and what the scoring copies into leaderboard rows without renaming
(:meth:`RunRecord.leaderboard_fields`). Executor-specific facts (docker image, command, container user, notes)
go into ``details``.
"""

from __future__ import annotations

import datetime as _dt
import platform
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import pandas as pd

STATUSES = ("ok", "failed", "timeout")

# record.json files written before the record was typed used these names.
_LEGACY_NAMES = {"wall_s": "runtime_s", "cpu_s": "cpu_time_s", "peak_rss_mb": "peak_memory_mb",
                 "params": "parameters", "n_edges": "n_edges_predicted"}

#: Record fields that are also leaderboard columns (same names, same meaning).
LEADERBOARD_FIELDS = ("status", "error", "stderr_tail", "runtime_s", "cpu_time_s", "peak_memory_mb", "parameters",
                      "preset", "input_transform", "n_edges_predicted")


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    """What happened when one method ran on one dataset.

    ``runtime_s`` is wall-clock seconds, ``cpu_time_s`` user + system CPU seconds (children included),
    ``peak_memory_mb`` the peak resident memory of the run's process tree (or container), ``parameters`` the
    resolved parameters, ``input_transform`` the rule that turned the dataset's ``X`` into the method's input
    (:mod:`methods.inputs`).
    """

    method: str
    executor: str = "native"
    status: str = "failed"
    error: str | None = None
    stderr_tail: str = ""
    runtime_s: float | None = None
    cpu_time_s: float | None = None
    peak_memory_mb: float | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None
    seed: int = 0
    input_transform: str | None = None
    n_cells: int | None = None
    n_genes: int | None = None
    n_edges_predicted: int = 0
    used_tfs: bool = False
    timeout_s: float | None = None
    memory_limit_mb: float | None = None
    started_at: str = field(default_factory=_now)
    host: str = field(default_factory=platform.node)
    details: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        """Read a field or an executor detail by name (``record["command"]``)."""
        if key in _FIELD_NAMES:
            return getattr(self, key)
        return self.details[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def as_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict (``details`` merged in), as written to ``record.json``."""
        d = asdict(self)
        return {**{k: v for k, v in d.items() if k != "details"}, **d["details"]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunRecord":
        """Read a ``record.json`` dict (older files' field names are mapped to the current ones)."""
        known, details = {}, {}
        for k, v in data.items():
            k = _LEGACY_NAMES.get(k, k)
            (known if k in _FIELD_NAMES and k != "details" else details)[k] = v
        return cls(**known, details={**details, **(data.get("details") or {})})

    def leaderboard_fields(self) -> dict[str, Any]:
        """The fields that are leaderboard columns, under their (shared) names."""
        return {k: getattr(self, k) for k in LEADERBOARD_FIELDS}


_FIELD_NAMES = frozenset(f.name for f in fields(RunRecord))


@dataclass
class MethodRun:
    """The outcome of one method run: the ranked edges (empty unless ``ok``) and the run record."""

    method: str
    edges: pd.DataFrame
    record: RunRecord

    @property
    def status(self) -> str:
        return self.record.status

    @property
    def ok(self) -> bool:
        return self.record.status == "ok"

    def __repr__(self) -> str:
        r = self.record
        return (f"MethodRun({self.method!r}, status={self.status!r}, edges={len(self.edges)}, "
                f"runtime_s={r.runtime_s}, peak_memory_mb={r.peak_memory_mb})")
