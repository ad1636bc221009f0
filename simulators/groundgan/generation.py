"""GRouNdGAN's forward pass, generation and in-silico perturbation (a mixin of
:class:`~simulators.groundgan.model.GRouNdGAN`).

Generation runs every network in eval mode with recalibrated BatchNorm statistics, in chunks of
``generation_batch`` cells, so a cell depends only on its own noise. With count sampling the LSN output is the
expected profile and the observed cell is Poisson counts at a depth drawn from the training cells.
"""

from __future__ import annotations

import numpy as np
import torch

from bench.errors import BenchError
from simulators import base
from simulators.groundgan.layers import recalibrate_batchnorm
from simulators.groundgan.stage1 import EVAL_SEED, seeded


class GeneratorMixin:
    """Forward pieces, :meth:`generate`, :meth:`perturb` and :meth:`downstream` of a built GRouNdGAN."""

    # ------------------------------------------------------------------ forward pieces
    def _noise_sizes(self):
        return int(self.cfg["latent_dim"]), len(self.targets) * int(self.cfg["noise_per_gene"])

    def _tf_values(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.cc(z)[:, self._tf_cols]

    def _canvas(self, tf_raw, tgt_raw):
        return torch.cat([tf_raw, tgt_raw], dim=1)[:, self._canvas_perm]

    def _fake(self, tg, B, rng):
        lat, nz = self._noise_sizes()
        tf_raw = self._tf_values(torch.randn(B, lat, generator=rng, device=self.device))
        tgt = tg(tf_raw, torch.randn(B, nz, generator=rng, device=self.device))
        return self.stage1.observe(self.lsn(self._canvas(tf_raw, tgt))[0], rng)

    def _sample2(self, tg, n, seed=EVAL_SEED) -> np.ndarray:
        return self._run(tg, *self._noise(n, seeded(seed)))[0].numpy()

    def _noise(self, n: int, rng: torch.Generator):
        """All random inputs of ``n`` cells: CC latent, target noise, count-sampling uniforms (or None)."""
        lat, nz = self._noise_sizes()
        z, noise = torch.randn(n, lat, generator=rng), torch.randn(n, nz, generator=rng)
        u = self.sampler.uniforms(n, len(self.genes), rng) if self.sampler is not None else None
        return z, noise, u

    def _run(self, tg, z, noise, u=None):
        """Eval-mode forward in chunks. Returns (cells, tf_raw, lsn_scale, count_scale) on the CPU.

        ``count_scale`` is the per-cell factor from sampled counts to cells (None without count sampling).
        """
        cells, tfs, scales, cscales = [], [], [], []
        bs = int(self.cfg["generation_batch"])
        with torch.no_grad():
            for i in range(0, z.shape[0], bs):
                zc, nc = z[i:i + bs].to(self.device), noise[i:i + bs].to(self.device)
                tf_raw = self._tf_values(zc)
                c, s = self.lsn(self._canvas(tf_raw, tg(tf_raw, nc)))
                if u is not None:
                    c, cs = self.sampler.frozen_sample(c, u[i:i + bs].to(self.device))
                    cscales.append(cs.cpu())
                cells.append(c.cpu()); tfs.append(tf_raw.cpu()); scales.append(s.cpu())
        return torch.cat(cells), torch.cat(tfs), torch.cat(scales), (torch.cat(cscales) if cscales else None)

    def _recal2(self, tg):
        rng = seeded(EVAL_SEED + 2)
        B = int(self.cfg["batch"])
        lat, nz = self._noise_sizes()

        def one():
            tf_raw = self._tf_values(torch.randn(B, lat, generator=rng).to(self.device))
            tg(tf_raw, torch.randn(B, nz, generator=rng).to(self.device))

        recalibrate_batchnorm(tg, one, int(self.cfg["bn_recalibration"]))


    # ------------------------------------------------------------------ generation
    def _check_fitted(self):
        if self.tg is None or self.cc is None:
            raise BenchError("the simulator is not fitted.", "Call fit() or GRouNdGAN.load() first.")

    def _provenance(self, **extra) -> dict:
        return {"name": self.name, "version": base.SIMULATOR_VERSION, "preset": self.cfg["preset"],
                "params": self.cfg, "fit_seed": self.seed, "n_tfs": len(self.tfs),
                "n_targets": len(self.targets), "n_edges": int(len(self.edges)),
                "grn_sha256": base.sha256_edges(self.edges), "dropped_genes": self.dropped_genes,
                "batchnorm": "eval (recalibrated population statistics)", "library_size": self.library_size,
                "training": {k: v for k, v in self.info.items() if not k.startswith("val_history")},
                "versions": base.versions(), **extra}

    def _draw(self, n: int, seed: int):
        if int(n) <= 0:
            raise BenchError(f"number of cells must be positive, got {n}.")
        return self._noise(int(n), seeded(seed))

    def generate(self, n_cells: int, seed: int = 0, depths=None):
        """Simulate ``n_cells`` cells -> AnnData (``var_names`` = model genes, ``uns['simulator']``).

        With ``depths`` (multipliers of the training cells' depths, ``inf`` = the expected profile), the same
        cells measured at each depth -> ``{multiplier: AnnData}``; see :mod:`simulators.groundgan.depths`.
        """
        self._check_fitted()
        if depths is not None:
            from simulators.groundgan.depths import generate_at_depths

            return generate_at_depths(self, n_cells, seed, depths)
        cells = self._run(self.tg, *self._draw(n_cells, seed))[0].numpy()
        return base.make_anndata(cells, self.genes, "sim", self._provenance(seed=int(seed), n_cells=int(n_cells)))

    def perturb(self, n_cells: int, perturbations: dict, seed: int = 0, units: str = "data"):
        """Matched control/perturbed cells in deterministic mode.

        Parameters
        ----------
        perturbations
            ``{tf_name: value}``; 0 is a knockout. ``value`` is in the data's units (library-normalised
            expression) unless ``units="controller"`` (the raw causal-controller scale, official semantics).

        Returns
        -------
        (control, perturbed)
            Two AnnData with the same obs_names (cell i of one is cell i of the other). Genes not downstream of
            a perturbed TF are bit-identical; cells are not re-normalised (the LSN scale is frozen).

        With count sampling (``count_sampling="poisson"``) ``value`` sets the TF's *expected* expression; the
        cell's depth, the uniform numbers of its counts and its count-to-cell factor are frozen too, so a
        knockout (0) gives exactly 0 and genes whose expected value is unchanged keep their counts.
        """
        self._check_fitted()
        if units not in ("data", "controller"):
            raise BenchError(f"units must be 'data' or 'controller', got {units!r}.")
        if not perturbations:
            raise BenchError("no perturbation given.", "Pass e.g. {'Gata1': 0.0}.")
        tf_pos = {g: i for i, g in enumerate(self.tfs)}
        bad = [g for g in perturbations if g not in tf_pos]
        if bad:
            hint = "it is a target, not a regulator" if bad[0] in set(self.targets) else "it is not in the model"
            raise BenchError(f"cannot perturb {bad[0]!r}: {hint}.",
                             f"Perturb one of the GRN's {len(self.tfs)} regulators (e.g. {self.tfs[0]}).")
        z, noise, u = self._draw(n_cells, seed)
        cells, tf_raw, scale, cscale = self._run(self.tg, z, noise, u)
        tf_new = tf_raw.clone()
        for g, v in perturbations.items():
            v = float(v)
            if units == "data":
                col = torch.where(scale[:, 0] > 0, v / scale[:, 0].clamp_min(1e-30), torch.zeros_like(scale[:, 0]))
            else:
                col = torch.full_like(tf_new[:, 0], v)
            tf_new[:, tf_pos[g]] = col
        out = []
        bs = int(self.cfg["generation_batch"])
        with torch.no_grad():
            for i in range(0, z.shape[0], bs):
                tfc = tf_new[i:i + bs].to(self.device)
                tgt = self.tg(tfc, noise[i:i + bs].to(self.device))
                x = self._canvas(tfc, tgt) * scale[i:i + bs].to(self.device)
                if u is not None:  # same depth, same uniforms, same count-to-cell factor: unchanged genes agree
                    x = self.sampler.frozen_sample(x, u[i:i + bs].to(self.device),
                                                   scale=cscale[i:i + bs].to(self.device))[0]
                out.append(x.cpu())
        pert = torch.cat(out).numpy()
        prov = dict(seed=int(seed), n_cells=int(n_cells), deterministic_mode=True)
        ctrl = base.make_anndata(cells.numpy(), self.genes, "cell", self._provenance(**prov, perturbation={}))
        pdict = {str(k): float(v) for k, v in perturbations.items()}
        ko = base.make_anndata(pert, self.genes, "cell", self._provenance(**prov, perturbation=pdict,
                                                                            perturbation_units=units))
        return ctrl, ko

    def downstream(self, tf: str) -> list[str]:
        """Target genes regulated by ``tf`` in the imposed GRN."""
        return sorted(self.edges.loc[self.edges["regulator"] == tf, "target"])

