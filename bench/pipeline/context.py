"""The run context: one object that every stage of ``bench run`` reads and fills.

It holds the resolved config, the run directory, the live progress view, the stage bookkeeping (cache keys,
timings, cached or not) and the artifacts loaded from finished stages (the prepared data and its splits, the
control GRNs, the methods), so that stages are plain module-level functions of the context.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench import io as bio
from bench.config import RunConfig
from datasets.prepare import package_versions
from methods.base import Method
from methods.inputs import DEFAULT_INPUT_TRANSFORM
from reports.rundir import RunDir


def stable_hash(*parts: Any) -> str:
    """A short content hash of JSON-able parts (the cache key of a stage)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Progress:
    """A plain, line-based live view: stage starts/ends with timings."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def say(self, msg: str) -> None:
        if not self.quiet:
            el = time.perf_counter() - self.t0
            print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


@dataclass
class RunContext:
    """Config, run directory, progress, stage bookkeeping and loaded artifacts of one ``bench run``."""

    cfg: RunConfig
    out: Path
    force: set[str] = field(default_factory=set)
    progress: Progress = field(default_factory=Progress)
    keys: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)
    # artifacts, filled by the stages' loaders (see bench.pipeline.stages)
    adata: Any = None  # prepared dataset (AnnData)
    splits: dict[str, Any] = field(default_factory=dict)  # train / validation / test AnnData views
    tfs: list[str] = field(default_factory=list)
    pos: pd.DataFrame | None = None  # positive control GRN (imposed)
    neg: pd.DataFrame | None = None  # negative control GRN (not imposed)
    genes: list[str] = field(default_factory=list)  # the simulated genes every source is restricted to
    info: dict[str, dict] = field(default_factory=dict)  # what each stage reported
    methods: list[Method] = field(default_factory=list)  # the config's methods, resolved
    input_transform: str = DEFAULT_INPUT_TRANSFORM  # what methods get (methods.inputs), recorded per result
    models: dict[str, Any] = field(default_factory=dict)  # trained simulators, loaded once (sources.load_model)

    @property
    def rundir(self) -> RunDir:
        return RunDir(self.out)

    def stage_dir(self, stage: str) -> Path:
        return self.out / stage

    def is_done(self, stage: str, key: str) -> bool:
        """The stage finished before with the same key (and is not forced)."""
        f = self.stage_dir(stage) / "_stage.json"
        if stage in self.force or not f.exists():
            return False
        with contextlib.suppress(Exception):
            return json.loads(f.read_text()).get("key") == key
        return False

    def write_manifest(self, **extra: Any) -> None:
        """Merge this run's metadata (and ``extra``) into ``manifest.json`` through :class:`RunDir`."""
        rd = self.rundir
        old = {}
        with contextlib.suppress(Exception):
            old = rd.read_manifest() or {}
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        cfg = self.cfg
        rd.write_manifest({
            "created": now, **old, "run_id": self.out.name, "updated": now,
            "command": " ".join(["bench", *sys.argv[1:]]) if sys.argv[0].endswith("bench") else None,
            "dataset": cfg.dataset, "preset": cfg.preset, "config": cfg.as_dict(), "config_hash": cfg.hash(),
            "seed": cfg.seed, "package_versions": package_versions(),
            "host": {"python": platform.python_version(), "platform": platform.platform(),
                     "cpu_count": os.cpu_count(), "gpu": _gpu_name()},
            "stages": {k: {"status": "cached" if self.cached.get(k) else "done", "seconds": round(v, 2)}
                       for k, v in self.timings.items()},
            "stage_keys": self.keys, "stage_seconds": self.timings, "stage_cached": self.cached, **extra})

    def record_stage(self, stage: str, key: str, seconds: float, info: dict) -> None:
        bio.write_json(self.stage_dir(stage) / "_stage.json",
                       {"key": key, "seconds": seconds, "info": info, "finished": time.time()})


def _gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:
        return None
