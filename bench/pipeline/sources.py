"""Data sources: where the cells that the methods run on come from.

A :class:`Source` has a name (its folder under ``simulate/`` and ``infer/``, the leaderboard's ``simulator``
column), the trained model that generates its cells (``None`` for the reference data itself), metadata (e.g.
sequencing depth, replicate) and a function that produces its cells. :func:`run_sources` is the one place that
turns a config into the list of sources; add a new kind of source there (and a ``generate`` function here).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anndata as ad
import numpy as np

from bench.config import RunConfig
from bench.errors import BenchError
from simulators import GRouNdGAN, ScGAN, get_preset
from simulators.groundgan.depths import EXPECTED, depth_label, parse_depths

if TYPE_CHECKING:
    from bench.pipeline.context import RunContext

#: trained simulators (stage name -> class); their models live in ``RUN_DIR/<stage>/model``
MODELS = {"groundgan": GRouNdGAN, "scgan": ScGAN}


@dataclass(frozen=True)
class Source:
    """One data source of a run."""

    name: str
    model: str | None = None  # a key of MODELS; None = the reference (real) cells
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"depth": 0.5, "replicate": 1}; recorded
    generate: Callable[["RunContext", "Source"], ad.AnnData] | None = None  # simulated cells (simulate stage)

    @property
    def simulated(self) -> bool:
        return self.model is not None

    def spec(self) -> dict[str, Any]:
        """What identifies the source's cells (part of the simulate and infer cache keys)."""
        return {"name": self.name, "model": self.model, "meta": self.meta}


def load_model(ctx: "RunContext", name: str):
    """A trained simulator of this run, loaded once per run."""
    if name not in ctx.models:
        ctx.models[name] = MODELS[name].load(ctx.stage_dir(name) / "model", device=ctx.cfg.device)
    return ctx.models[name]


def n_simulated_cells(ctx: "RunContext") -> int:
    """Simulated cells per source: ``n_cells``, else as many as the training split."""
    return int(ctx.cfg.n_cells or ctx.splits["train"].n_obs)


def generate_from_model(ctx: "RunContext", source: Source) -> ad.AnnData:
    """``n_cells`` cells from the source's trained model, with the run's seed."""
    return load_model(ctx, source.model).generate(n_simulated_cells(ctx), seed=ctx.cfg.seed)


def generate_at_depth(ctx: "RunContext", source: Source) -> ad.AnnData:
    """The run's GRouNdGAN cells measured at ``source.meta["depth"]`` (the same cells at every depth)."""
    m = source.meta["depth"]
    return load_model(ctx, "groundgan").generate(n_simulated_cells(ctx), seed=ctx.cfg.seed, depths=[m])[m]


def count_sampling(cfg: RunConfig) -> bool:
    """Whether the run's simulators sample counts (``count_sampling="poisson"``) or output expected profiles."""
    over = cfg.simulator_overrides or {}
    return (over.get("count_sampling") or get_preset(cfg.simulator_preset or "default")["count_sampling"]) \
        == "poisson"


def run_depths(cfg: RunConfig) -> list[float]:
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


def source_name(depth: float, count_sampled: bool = True) -> str:
    """``groundgan`` for the simulator's usual output, else ``groundgan-x<m>`` / ``groundgan-inf``."""
    usual = 1.0 if count_sampled else EXPECTED
    return "groundgan" if depth == usual else f"groundgan-{'inf' if math.isinf(depth) else 'x' + depth_label(depth)}"


def groundgan_sources(cfg: RunConfig) -> list[Source]:
    """One GRouNdGAN source per measurement depth (:func:`run_depths`); ``meta["depth"]`` is the multiplier.

    The same cells (same noise) at every depth: only the measurement differs, nothing is retrained.
    """
    sampled = count_sampling(cfg)
    return [Source(source_name(m, sampled), model="groundgan", meta={"depth": m},
                   generate=generate_from_model if source_name(m, sampled) == "groundgan" else generate_at_depth)
            for m in run_depths(cfg)]


def source_depth(cfg: RunConfig, source: Source) -> float:
    """The leaderboard's ``depth`` of a source: its multiplier; the real cells and scGAN are measured at the
    training depths (1), or scGAN gives expected profiles (inf) without count sampling."""
    if "depth" in source.meta:
        return float(source.meta["depth"])
    return 1.0 if source.name == "real" or count_sampling(cfg) else EXPECTED


def run_sources(cfg: RunConfig) -> list[Source]:
    """The run's data sources, in the config's order (the one place they are enumerated)."""
    known = {
        "real": [Source("real")],
        "groundgan": groundgan_sources(cfg),
        "scgan": [Source("scgan", model="scgan", generate=generate_from_model)],
    }
    return [s for name in cfg.sources for s in known[name]]


def sources_to_simulate(cfg: RunConfig) -> list[Source]:
    """Simulated sources of the run; GRouNdGAN's is always made (its genes define every source's genes)."""
    sources = [s for s in run_sources(cfg) if s.simulated]
    if not any(s.name == "groundgan" for s in sources):
        sources.insert(0, Source("groundgan", model="groundgan", generate=generate_from_model))
    return sources


def source_cells(ctx: "RunContext", source: Source) -> ad.AnnData:
    """Cells x genes of a source, restricted to the simulated genes so that every source is comparable."""
    if not source.simulated:
        a = ctx.splits["train"][:, ctx.genes].copy()
        if ctx.cfg.real_cells and a.n_obs > ctx.cfg.real_cells:
            keep = np.sort(np.random.default_rng(ctx.cfg.seed).choice(a.n_obs, ctx.cfg.real_cells, replace=False))
            a = a[keep].copy()
        return a
    a = ad.read_h5ad(ctx.stage_dir("simulate") / f"{source.name}.h5ad")
    present = set(a.var_names)
    return a[:, [g for g in ctx.genes if g in present]].copy()
