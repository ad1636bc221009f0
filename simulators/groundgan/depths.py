"""Measurement depth: one trained GRouNdGAN observed at several sequencing depths.

GRouNdGAN's output (the LSN layer) is a cell's *expected* expression profile; with count sampling
(``count_sampling="poisson"``, :mod:`simulators.groundgan.counts`) the observed cell is Poisson counts at a UMI
depth drawn from the training cells, scaled back to the library size. Measurement noise is therefore a knob
separate from regulation: the same cells (same causal-controller latent, same target-generator noise, same
training depth picked per cell, same uniforms of the inverse-CDF sampling) can be measured at the training
depths times a multiplier ``m``, or not at all (``m = inf``: the expected profile, the limit of infinite depth).

A depth is a multiplier of the training cells' depths: ``1`` gives cells exactly as :meth:`GRouNdGAN.generate`
does, ``4`` gives cells four times as deeply sequenced, ``inf`` gives the noise-free expected profile. Because the
uniforms are shared, a cell's counts grow monotonically with the multiplier (common random numbers): differences
between depths are measurement only, never a different draw of cells. Nothing is retrained.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from bench.errors import BenchError
from simulators import base

#: the limit of infinite depth: the expected profile, no count sampling
EXPECTED = math.inf
#: depths of ``bench run`` unless configured (multipliers of the training cells' depths)
DEFAULT_DEPTHS = (EXPECTED, 1.0, 4.0, 16.0)


def parse_depth(value) -> float:
    """A depth multiplier from ``inf``/``expected``/a positive number (or its string); raises on anything else."""
    if isinstance(value, str):
        v = value.strip().lower().lstrip("x×")
        if v in ("inf", "expected", "infinity"):
            return EXPECTED
        try:
            value = float(v)
        except ValueError:
            raise BenchError(f"bad depth {value!r}.", "Give a positive multiplier of the training depths "
                             "(e.g. 1, 4, 16) or 'inf' for the expected profile.") from None
    try:
        m = float(value)
    except (TypeError, ValueError):
        raise BenchError(f"bad depth {value!r}.", "Give a positive number or 'inf'.") from None
    if math.isnan(m) or m <= 0:
        raise BenchError(f"bad depth {value!r}: a depth multiplier must be positive.",
                         "Give e.g. 1, 4, 16, or 'inf' for the expected profile.")
    return m


def parse_depths(values) -> list[float]:
    """Depth multipliers in the given order, without duplicates (see :func:`parse_depth`)."""
    if isinstance(values, (str, int, float)):
        values = str(values).split(",") if isinstance(values, str) else [values]
    out: list[float] = []
    for v in values:
        m = parse_depth(v)
        if m not in out:
            out.append(m)
    if not out:
        raise BenchError("no depth given.", "Give at least one depth, e.g. inf,1,4,16.")
    return out


def depth_label(m: float) -> str:
    """``inf`` for the expected profile, else the multiplier as short text (``1``, ``4``, ``0.5``)."""
    return "inf" if math.isinf(m) else f"{m:g}"


def generate_at_depths(model, n_cells: int, seed: int, depths) -> dict[float, "object"]:
    """``{multiplier: AnnData}`` of the same ``n_cells`` cells of ``model`` measured at each depth.

    Every AnnData has the same ``obs_names`` (cell ``i`` is the same simulated cell at every depth) and
    ``obs['depth']`` (the cell's UMI depth: training depth x multiplier; ``inf`` for the expected profile) and
    ``obs['n_umis']`` (the UMIs actually sampled; ``inf`` for the expected profile), and
    ``uns['simulator']['measurement']`` records the depth. At multiplier 1 the cells equal
    ``model.generate(n_cells, seed)`` bit for bit.
    """
    multipliers = parse_depths(depths)
    sampler = model.sampler
    if sampler is None and any(math.isfinite(m) for m in multipliers):
        raise BenchError("sampling at a finite depth needs a model trained with count_sampling='poisson'.",
                         "Ask only for depth inf (the expected profile), or train with count sampling.")
    z, noise, u = model._draw(n_cells, seed)  # the same draws as generate(): x1 reproduces it exactly
    expected = model._run(model.tg, z, noise)[0]  # LSN output: the expected profile, before any sampling
    bs = int(model.cfg["generation_batch"])
    out = {}
    for m in multipliers:
        if math.isinf(m):
            X = expected.numpy()
            depth = umis = np.full(len(X), np.inf)
        else:
            parts, depth, umis = [], [], []
            with torch.no_grad():
                for i in range(0, expected.shape[0], bs):
                    x, uc = expected[i:i + bs].to(model.device), u[i:i + bs].to(model.device)
                    cells, scale = sampler.frozen_sample(x, uc, multiplier=m)
                    parts.append(cells.cpu())
                    depth.append(sampler.cell_depth(uc, m)[:, 0].cpu())
                    # cells = counts * scale (scale = L / total counts), so total counts = L / scale
                    umis.append(torch.where(scale[:, 0] > 0, sampler.library / scale[:, 0].clamp_min(1e-30),
                                            torch.zeros_like(scale[:, 0])).round().cpu())
            X = torch.cat(parts).numpy()
            depth, umis = torch.cat(depth).double().numpy(), torch.cat(umis).double().numpy()
        measurement = {"depth": depth_label(m), "multiplier": "inf" if math.isinf(m) else float(m),
                       "kind": "expected" if math.isinf(m) else "poisson",
                       "median_cell_depth": "inf" if math.isinf(m) else float(np.median(depth))}
        a = base.make_anndata(X, model.genes, "sim", model._provenance(seed=int(seed), n_cells=int(n_cells),
                                                                        measurement=measurement))
        a.obs["depth"] = depth
        a.obs["n_umis"] = umis
        out[m] = a
    return out


__all__ = ["DEFAULT_DEPTHS", "EXPECTED", "depth_label", "generate_at_depths", "parse_depth", "parse_depths"]
