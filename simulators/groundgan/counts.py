"""Count sampling: the measurement step of scRNA-seq, as an optional output layer of the generators.

Prepared data are UMI counts scaled to a common library size ``L``: a cell with ``D`` UMIs on the model's genes
holds values ``count * L / D``, so every non-zero value is at least ``L / D`` (on bonemarrow at 300 genes the
median cell has D = 210 UMIs, so the smallest non-zero value is ~95 and log1p(values) has a gap between 0 and
~4.6). A generator with continuous outputs fills that gap; a random forest on log1p data needs nothing else to
tell its cells apart (one feature, "number of non-zero values below 50", gives AUROC 0.84 on scGAN cells).

With ``count_sampling="poisson"`` the generator's LSN output is read as the cell's *expected* expression
profile. Each generated cell draws a depth ``D`` from the training cells' depths, its counts are
``Poisson(value * D / L)``, and the counts are scaled back to ``L``. Training passes gradients straight through
the sampling (the straight-through estimator), so the generator learns expression rates whose sampled cells
match the real ones, rather than learning to imitate sampling noise itself.

Regulation is unchanged: target generators still see the *unsampled* values of their parent TFs (sampling is
measurement noise, not biology). In deterministic mode the depth and the uniform numbers of every (cell, gene)
are frozen and counts are drawn by inverse CDF, so a gene whose expected value does not change keeps exactly its
count.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import pdtr

from bench.arrays import dense
from bench.errors import BenchError

#: largest Poisson mean handled by the inverse-CDF search (values above use a normal approximation).
_EXACT_MAX = 1000.0


def cell_depths(X: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """UMI depth of every cell on the model's genes.

    From ``counts`` (the raw counts of the same cells and genes) when given; otherwise estimated from the
    normalised values as ``row sum / smallest non-zero value``, which is exact whenever a cell has a gene with
    one UMI. Raises when the values do not look like scaled counts.
    """
    if counts is not None:
        d = np.asarray(counts, dtype=np.float64).sum(axis=1)
    else:
        X = np.asarray(X, dtype=np.float64)
        nz = np.where(X > 0, X, np.inf)
        unit = nz.min(axis=1)
        ok = np.isfinite(unit)
        d = np.zeros(len(X))
        d[ok] = X[ok].sum(axis=1) / unit[ok]
        ratios = X[ok] / unit[ok, None]
        frac = np.abs(ratios - np.round(ratios))[X[ok] > 0]
        if frac.size and np.median(frac) > 0.01:
            raise BenchError("count_sampling='poisson' needs count data, but these values are not scaled counts.",
                             "Keep raw counts in layers['counts'], or set the simulator option count_sampling=none.")
    d = d[d > 0]
    if d.size == 0:
        raise BenchError("cannot estimate cell depths: every training cell is empty.")
    return np.sort(d)


def training_depths(adata, genes, X: np.ndarray) -> np.ndarray:
    """Depths of the training cells on ``genes``: from ``layers['counts']`` when present, else estimated."""
    counts = None
    if "counts" in getattr(adata, "layers", {}):
        pos = {str(g): i for i, g in enumerate(adata.var_names)}
        c = adata.layers["counts"][:, [pos[g] for g in genes]]
        counts = dense(c)
    return cell_depths(X, counts)


class CountSampler:
    """Poisson sampling of a cell's counts at a depth drawn from the training depths; see the module doc."""

    def __init__(self, depths, library: float):
        self.depths = torch.as_tensor(np.sort(np.asarray(depths, dtype=np.float64)), dtype=torch.float32)
        self.library = float(library)

    def to(self, device) -> "CountSampler":
        self.depths = self.depths.to(device)
        return self

    def _renormalise(self, c: torch.Tensor):
        tot = c.sum(dim=1, keepdim=True)
        scale = torch.where(tot > 0, self.library / tot.clamp_min(1e-30), torch.zeros_like(tot))
        return c * scale, scale

    def train_sample(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Sampled cells, with the gradient of ``x`` (straight-through)."""
        idx = torch.randint(len(self.depths), (x.shape[0], 1), generator=rng, device=x.device)
        rate = x.detach() * (self.depths[idx] / self.library)
        y, _ = self._renormalise(torch.poisson(rate, generator=rng))
        return x + (y - x.detach())

    def uniforms(self, n: int, n_genes: int, rng: torch.Generator) -> torch.Tensor:
        """The frozen random numbers of ``n`` cells: column 0 picks the depth, the rest the counts."""
        return torch.rand(n, n_genes + 1, generator=rng)

    def cell_depth(self, u: torch.Tensor, multiplier: float = 1.0) -> torch.Tensor:
        """``(n, 1)`` UMI depth of each cell: the training depth picked by ``u[:, 0]``, times ``multiplier``."""
        idx = (u[:, :1] * len(self.depths)).long().clamp_(0, len(self.depths) - 1)
        return self.depths[idx] * float(multiplier)

    def expected_counts(self, x: torch.Tensor, u: torch.Tensor, multiplier: float = 1.0) -> torch.Tensor:
        return x * (self.cell_depth(u, multiplier) / self.library)

    def frozen_sample(self, x: torch.Tensor, u: torch.Tensor, scale: torch.Tensor | None = None,
                      multiplier: float = 1.0):
        """Counts by inverse CDF from frozen uniforms ``u``; returns (cells, scale).

        With ``scale`` given (deterministic mode) the counts are multiplied by it instead of being re-normalised,
        so genes whose expected value is unchanged keep their values bit for bit. ``multiplier`` scales every
        cell's depth (the measurement-depth axis, :mod:`simulators.groundgan.depths`); the same ``u`` at several
        multipliers measures the same cells more or less deeply.
        """
        rate = self.expected_counts(x, u, multiplier).double().cpu().numpy()
        c = torch.from_numpy(poisson_ppf(u[:, 1:].double().cpu().numpy(), rate)).to(x.device, x.dtype)
        if scale is None:
            return self._renormalise(c)
        return c * scale, scale


def poisson_ppf(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Smallest k with P(Poisson(rate) <= k) >= u, elementwise (vectorised search; exact for rate <= 1000)."""
    u = np.asarray(u, dtype=np.float64)
    rate = np.maximum(np.asarray(rate, dtype=np.float64), 0.0)
    out = np.zeros(rate.shape)
    big = rate > _EXACT_MAX
    if big.any():  # normal approximation with continuity correction for very large means
        from scipy.special import ndtri
        out[big] = np.maximum(0.0, np.round(rate[big] + np.sqrt(rate[big]) * ndtri(np.clip(u[big], 1e-12, 1 - 1e-12))))
    small = ~big & (rate > 0)
    if small.any():
        r, uu = rate[small], u[small]
        lo = np.zeros_like(r)
        hi = np.ceil(r + 12.0 * np.sqrt(r) + 20.0)
        # binary search on k: pdtr(k, r) = P(X <= k) is increasing in k
        while True:
            active = lo < hi
            if not active.any():
                break
            mid = np.floor((lo + hi) / 2.0)
            ge = pdtr(mid, r) >= uu
            hi = np.where(active & ge, mid, hi)
            lo = np.where(active & ~ge, mid + 1.0, lo)
        out[small] = lo
    return out
