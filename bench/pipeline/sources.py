"""Data sources: where the cells that the methods run on come from.

A :class:`Source` has a name (its folder under ``simulate/`` and ``infer/``), the trained model that generates
its cells (``None`` for the reference data itself), metadata (e.g. sequencing depth, replicate) and a function
that produces its cells. :func:`run_sources` is the one place that turns a config into the list of sources; add a
new kind of source there (and a ``generate`` function here).

Replicates: every source comes ``n_replicates`` times (:func:`with_replicates`). Replicate ``r`` of source ``s``
is named ``s`` for ``r = 0`` and ``s-rep<r>`` otherwise; its leaderboard ``simulator`` is ``s`` and its
``replicate`` is ``r``. Simulated replicates are fresh cells from the same trained model with generation seed
``seed + r`` (:func:`generation_seed`); real replicates are seeded subsamples of ``real_fraction`` of the training
cells (all of them when there is a single replicate). Methods run on replicate ``r`` with seed ``seed + r``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import anndata as ad
import numpy as np

from bench.config import RunConfig
from simulators import GRouNdGAN, ScGAN
from simulators.groundgan.depths import EXPECTED, depth_label
from simulators.run_depths import count_sampling, run_depths  # noqa: F401 (run_depths: part of this API)

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
    replicate: int = 0  # replicate dataset of its data source
    of: str | None = None  # the data source this is a replicate of (None: itself)

    @property
    def simulated(self) -> bool:
        return self.model is not None

    @property
    def simulator(self) -> str:
        """The data source (leaderboard ``simulator``, verdict block) this replicate belongs to."""
        return self.of or self.name

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


def generation_seed(ctx: "RunContext", source: Source) -> int:
    """Seed of a source's cells and of the methods run on them: the run's seed plus the replicate."""
    return int(ctx.cfg.seed) + int(source.replicate)


def generate_from_model(ctx: "RunContext", source: Source) -> ad.AnnData:
    """``n_cells`` cells from the source's trained model, with the replicate's generation seed."""
    return load_model(ctx, source.model).generate(n_simulated_cells(ctx), seed=generation_seed(ctx, source))


def with_replicates(sources: list[Source], n_replicates: int) -> list[Source]:
    """Each source followed by its replicates 1 .. n-1 (replicate 0 keeps the source's name)."""
    out = []
    for s in sources:
        out.append(s)
        for r in range(1, int(n_replicates)):
            out.append(replace(s, name=f"{s.name}-rep{r}", meta={**s.meta, "replicate": r}, replicate=r,
                               of=s.name))
    return out


def generate_at_depth(ctx: "RunContext", source: Source) -> ad.AnnData:
    """The run's GRouNdGAN cells measured at ``source.meta["depth"]`` (the same cells at every depth: replicate
    ``r`` of every depth shares the generation seed, so the depths differ only in the measurement)."""
    m = source.meta["depth"]
    return load_model(ctx, "groundgan").generate(n_simulated_cells(ctx), seed=generation_seed(ctx, source),
                                                 depths=[m])[m]


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
    """The run's data sources with their replicates, in the config's order (the one place they are enumerated)."""
    known = {
        "real": [Source("real")],
        "groundgan": groundgan_sources(cfg),
        "scgan": [Source("scgan", model="scgan", generate=generate_from_model)],
    }
    return with_replicates([s for name in cfg.sources for s in known[name]], cfg.n_replicates or 1)


def replicate_plan(cfg: RunConfig) -> dict[str, Any]:
    """What is replicated, for the manifest."""
    n = int(cfg.n_replicates or 1)
    return {"n_replicates": n,
            "simulated": f"{n} x {cfg.n_cells or 'as many as the training'} cells from the same trained model, "
                         f"generation seeds {cfg.seed}..{cfg.seed + n - 1}; the GAN is trained once",
            "real": (f"{n} seeded subsamples of {cfg.real_fraction:.0%} of the training cells" if n > 1 else
                     "the training cells") + (f", at most {cfg.real_cells} cells" if cfg.real_cells else ""),
            "methods": f"method seed = run seed + replicate ({cfg.seed}..{cfg.seed + n - 1})",
            "not_replicated": "data preparation, reference GRN, GAN training (see benchmarks/training_variance.py)"}


def sources_to_simulate(cfg: RunConfig) -> list[Source]:
    """Simulated sources of the run; GRouNdGAN's is always made (its genes define every source's genes)."""
    sources = [s for s in run_sources(cfg) if s.simulated]
    if not any(s.name == "groundgan" for s in sources):  # replicate 0 of groundgan
        sources.insert(0, Source("groundgan", model="groundgan", generate=generate_from_model))
    return sources


def source_cells(ctx: "RunContext", source: Source) -> ad.AnnData:
    """Cells x genes of a source, restricted to the simulated genes so that every source is comparable."""
    if not source.simulated:
        cfg = ctx.cfg
        a = ctx.splits["train"][:, ctx.genes].copy()
        n = a.n_obs
        if (cfg.n_replicates or 1) > 1:  # each replicate: a seeded subsample of real_fraction of the cells
            n = max(2, int(round(cfg.real_fraction * a.n_obs)))
        if cfg.real_cells:
            n = min(n, int(cfg.real_cells))
        if n < a.n_obs:
            seed = cfg.seed if (cfg.n_replicates or 1) == 1 else [cfg.seed, source.replicate]
            keep = np.sort(np.random.default_rng(seed).choice(a.n_obs, n, replace=False))
            a = a[keep].copy()
        return a
    a = ad.read_h5ad(ctx.stage_dir("simulate") / f"{source.name}.h5ad")
    present = set(a.var_names)
    return a[:, [g for g in ctx.genes if g in present]].copy()
