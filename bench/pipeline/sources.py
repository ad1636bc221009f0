"""Data sources: where the cells that the methods run on come from.

A :class:`Source` has a name (its folder under ``simulate/`` and ``infer/``, the leaderboard's ``simulator``
column), the trained model that generates its cells (``None`` for the reference data itself), metadata (e.g.
sequencing depth, replicate) and a function that produces its cells. :func:`run_sources` is the one place that
turns a config into the list of sources; add a new kind of source there (and a ``generate`` function here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anndata as ad
import numpy as np

from bench.config import RunConfig
from simulators import GRouNdGAN, ScGAN

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


def run_sources(cfg: RunConfig) -> list[Source]:
    """The run's data sources, in the config's order (the one place they are enumerated)."""
    known = {
        "real": Source("real"),
        "groundgan": Source("groundgan", model="groundgan", generate=generate_from_model),
        "scgan": Source("scgan", model="scgan", generate=generate_from_model),
    }
    return [known[name] for name in cfg.sources]


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
