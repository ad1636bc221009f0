"""What a published site may show: comparable runs grouped into boards, and no local file paths.

``bench publish`` averages runs only when they measure the same thing: the same dataset, run preset and
protocol (the rest of the run config: genes, k, simulator and method presets and options, limits). Runs that
differ only by seed (or by methods, sources, machine, output folder) share a board; any other difference gives
a separate board. Everything shown on the site goes through :func:`strip_paths`, so that no absolute path of
the machine that built it (home folders, temporary folders, tracebacks) is published.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

#: config keys that do not change what a number means (seeds are averaged; the rest is bookkeeping)
NOT_PROTOCOL = {"dataset", "preset", "seed", "out", "scheduler", "device", "n_workers", "methods", "sources"}

_ABS_PATH = re.compile(r"(?<![\w./~-])(?:~|/(?!/))(?:[^\s/\"'<>,;:=()\[\]{}]+/)+([^\s/\"'<>,;:=()\[\]{}]*)")


def strip_paths(text: Any) -> Any:
    """``text`` with every absolute (or ``~``) path reduced to ``…/<last part>``; other values unchanged."""
    if not isinstance(text, str):
        return text
    return _ABS_PATH.sub(lambda m: "\u2026/" + m.group(1), text)


def strip_paths_deep(obj: Any) -> Any:
    """:func:`strip_paths` on every string inside dicts and lists."""
    if isinstance(obj, dict):
        return {k: strip_paths_deep(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strip_paths_deep(v) for v in obj]
    return strip_paths(obj)


def protocol_of(manifest: dict | None) -> str:
    """A short hash of the run config without the keys in :data:`NOT_PROTOCOL` (``unrecorded`` if unknown)."""
    cfg = (manifest or {}).get("config")
    if not isinstance(cfg, dict):
        return "unrecorded"
    rest = {k: v for k, v in cfg.items() if k not in NOT_PROTOCOL}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()[:8]


def board_of(manifest: dict | None) -> str:
    """The board a run's rows go to (with its dataset): ``preset <name>, protocol <hash>``."""
    m = manifest or {}
    preset = m.get("preset") or (m.get("config") or {}).get("preset") or "unknown"
    return f"preset {preset}, protocol {protocol_of(m)}"
