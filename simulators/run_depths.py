"""Which measurement depths a run's GRouNdGAN sources have (checked when a config is resolved, before any work).

Functions of a run config (duck-typed: ``depths``, ``simulator_preset``, ``simulator_overrides``), kept below
:mod:`bench.config` so that resolving a config can refuse impossible depths without importing the pipeline.
"""

from __future__ import annotations

import math

from bench.errors import BenchError
from simulators.groundgan.depths import EXPECTED, depth_label, parse_depths
from simulators.groundgan.presets import get_preset


def count_sampling(cfg) -> bool:
    """Whether the run's simulators sample counts (``count_sampling="poisson"``) or output expected profiles."""
    over = cfg.simulator_overrides or {}
    return (over.get("count_sampling") or get_preset(cfg.simulator_preset or "default")["count_sampling"]) \
        == "poisson"


def run_depths(cfg) -> list[float]:
    """The measurement depths of the run's GRouNdGAN sources (multipliers of the training depths, inf = expected).

    Without count sampling the simulator's only output is the expected profile: one source of depth inf.
    """
    if not count_sampling(cfg):
        finite = [m for m in parse_depths(cfg.depths or [EXPECTED]) if math.isfinite(m) and m != 1.0]
        if finite:
            raise BenchError(f"depths {', '.join(depth_label(m) for m in finite)} need a simulator with count "
                             "sampling, but this run's simulator outputs expected profiles.",
                             'Set simulator_overrides = {count_sampling = "poisson"}, or depths = ["inf"].')
        return [EXPECTED]
    return parse_depths(cfg.depths or [1.0])


