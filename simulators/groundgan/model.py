"""GRouNdGAN: a causal GAN that simulates scRNA-seq data imposing a user-given TF -> target GRN.

Stage 1 trains a WGAN-GP (the causal controller, CC) on all genes. Stage 2 freezes the CC, keeps only its TF
outputs, and trains one small MLP per target gene (input: its parent TFs + its own noise) against a critic,
with a labeler and an anti-labeler that predict TF values from target genes.

Semantics chosen here (and how they differ from the official code):

* **Genes.** The model covers TFs ∪ targets of the GRN, in the data's column order. Genes of the data that are
  neither regulator nor target are dropped (as the reference does); if any are dropped, training cells are
  re-normalised over the kept genes to the data's library size (median cell total, 20,000 for prepared data).
  They are listed in ``uns['simulator']['dropped_genes']``.
* **BatchNorm at generation.** Generation and perturbation run every network in eval mode, with BatchNorm
  population statistics re-estimated after training (``bn_recalibration`` batches, exact average). A generated
  cell therefore depends only on its own noise, never on which other cells share its batch. The official code
  generates in train mode (batch statistics, batches of 1024).
* **The frozen CC in stage 2** runs in eval mode with the statistics recalibrated at the end of stage 1 (the
  official code keeps it in train mode, so TF values depend on the batch).
* **Deterministic mode** (:meth:`GRouNdGAN.perturb`): for any number of cells, the CC noise, TF values,
  target-generator noise and per-cell LSN scale are frozen; a perturbation sets TF columns and re-runs only the
  target generators. Genes not downstream of a perturbed TF are bit-identical; because BatchNorm uses fixed
  statistics the effect depends on the value set (in the official code "knock out to 0" and "set to 100" give
  identical targets). Values are in the data's units (library-size-normalised expression) and are converted
  per cell through the frozen LSN scale, so the perturbed TF column equals the value exactly;
  ``units="controller"`` sets the raw CC value instead (the official behaviour).
* **Count sampling** (``count_sampling="poisson"``, the default preset; see ``counts.py``): the LSN output is the
  expected profile, the observed cell is Poisson counts at a depth drawn from the training cells, scaled back to
  the library size (straight-through gradients in training). Target generators see unsampled TF values.
* **Labeler targets** are the LSN-normalised TF columns of the generated cell (official code) so that the
  labeler's real-data update uses the same scale.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from bench.errors import BenchError
from bench import io as bio
from simulators import base
from simulators.groundgan import networks
from simulators.groundgan.counts import CountSampler, training_depths
from simulators.groundgan.layers import LSN, recalibrate_batchnorm
from simulators.groundgan.presets import STAGE2_ONLY, get_preset
from simulators.groundgan.training import (KnnMixing, StageLoop, config_hash, ema_update, env_threads, exp_lr,
                                           gradient_penalty_loss, make_optimizer, remaining_deadline,
                                           critic_width, inverse_sd, requires_grad, set_lr, transform)

EVAL_SEED = 12345


def inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    """x with softplus(x) = y (y clamped to >= 1e-4): y + log(1 - exp(-y))."""
    y = y.clamp_min(1e-4)
    return y + torch.log(-torch.expm1(-y))


def _seeded(seed: int):
    return torch.Generator().manual_seed(int(seed))


def _prepare_validation(train_X, val_adata, cols_by_name, L, renorm, cfg, seed):
    """Real validation cells on the model's genes; a subset of training cells when none are given."""
    if val_adata is None:
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(train_X), size=min(len(train_X), int(cfg["eval_cells"])), replace=False)
        return train_X[np.sort(idx)]
    Xv = base.dense_matrix(val_adata, "validation data")
    names = list(map(str, val_adata.var_names))
    missing = [g for g in cols_by_name if g not in set(names)]
    if missing:
        raise BenchError(f"validation data lacks {len(missing)} model gene(s) (e.g. {', '.join(missing[:3])}).",
                         "Use the validation split of the same prepared dataset.")
    pos = {g: i for i, g in enumerate(names)}
    Xv = Xv[:, [pos[g] for g in cols_by_name]]
    if renorm:
        Xv = Xv * (L / np.maximum(Xv.sum(1, keepdims=True), 1e-12))
    return Xv


class WGANStage1:
    """Stage 1 of GRouNdGAN and the whole of scGAN: a WGAN-GP generator of all genes with an LSN output."""

    def __init__(self, n_genes: int, cfg: dict, library: float, device: torch.device,
                 sampler: CountSampler | None = None):
        self.cfg, self.device = cfg, device
        self.n_genes = n_genes
        self.gen = networks.causal_controller(cfg["latent_dim"], cfg["cc_layers"], n_genes,
                                              cfg["output_activation"]).to(device)
        self.critic = networks.critic(critic_width(n_genes, cfg["critic_transform"]), cfg["critic_layers"]).to(device)
        self.lsn = LSN(library)
        self.sampler = sampler.to(device) if sampler is not None else None

    def sample(self, gen: nn.Module, n: int, seed: int = EVAL_SEED) -> np.ndarray:
        rng = _seeded(seed)
        z = torch.randn(n, self.cfg["latent_dim"], generator=rng)
        u = self.sampler.uniforms(n, self.n_genes, rng) if self.sampler is not None else None
        out = []
        bs = int(self.cfg["generation_batch"])
        with torch.no_grad():
            for i in range(0, n, bs):
                x = self.lsn(gen(z[i:i + bs].to(self.device)))[0]
                if u is not None:
                    x = self.sampler.frozen_sample(x, u[i:i + bs].to(self.device))[0]
                out.append(x.cpu())
        return torch.cat(out).numpy()

    def observe(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """LSN output -> what the critic sees: sampled counts when count sampling is on."""
        return self.sampler.train_sample(x, rng) if self.sampler is not None else x

    def recalibrate(self, gen: nn.Module) -> None:
        rng = _seeded(EVAL_SEED + 1)
        B = int(self.cfg["cc_batch"])
        recalibrate_batchnorm(gen, lambda: gen(torch.randn(B, self.cfg["latent_dim"], generator=rng)
                                              .to(self.device)), int(self.cfg["bn_recalibration"]))

    def init_output_bias(self, X: torch.Tensor) -> None:
        """``cc_output_bias="mean"``: start the generator at the mean cell (final bias = mean profile / its mean).

        The LSN layer makes the output scale arbitrary; with the bias at the relative mean expression, the
        first samples are mean cells plus He-initialised noise, and lowly expressed genes start near zero.
        """
        if self.cfg["cc_output_bias"] == "mean":
            m = X.mean(0)
            target = m / m.mean().clamp_min(1e-12)
            if self.cfg["output_activation"] == "softplus":
                target = inverse_softplus(target)
            with torch.no_grad():
                self.gen[-2].bias.copy_(target)

    def train(self, X: torch.Tensor, *, scorer, rng, checkpoint_dir, fingerprint, progress, deadline,
              name="stage1") -> nn.Module:
        cfg, dev = self.cfg, self.device
        gen, critic = self.gen, self.critic
        self.init_output_bias(X)
        n_steps, B = int(cfg["cc_steps"]), int(cfg["cc_batch"])
        opt_g = make_optimizer(gen.parameters(), cfg["cc_lr_g"][0], cfg)
        opt_c = make_optimizer(critic.parameters(), cfg["cc_lr_c"][0], cfg)
        ema = copy.deepcopy(gen) if cfg["ema_decay"] else None
        tr, isd = cfg["critic_transform"], inverse_sd(X)
        stateful = {"gen": gen, "critic": critic, "opt_g": opt_g, "opt_c": opt_c}
        if ema is not None:
            stateful["ema"] = ema
        n = X.shape[0]

        def real_batch():
            return transform(X[torch.randint(n, (B,), generator=rng, device=dev)], tr, isd)

        def step(t: int) -> dict:
            set_lr(opt_g, exp_lr(cfg["cc_lr_g"], t, n_steps))
            set_lr(opt_c, exp_lr(cfg["cc_lr_c"], t, n_steps))
            gen.train()
            real = real_batch()
            for i in range(int(cfg["cc_critic_iters"])):
                if i and cfg["fresh_real_batch"]:
                    real = real_batch()
                with torch.no_grad():
                    fake = self.lsn(gen(torch.randn(B, cfg["latent_dim"], generator=rng, device=dev)))[0]
                    fake = transform(self.observe(fake, rng), tr, isd)
                loss_c, w = gradient_penalty_loss(critic, real, fake, cfg["gp_lambda"], rng)
                opt_c.zero_grad(set_to_none=True)
                loss_c.backward()
                opt_c.step()
            requires_grad(critic, False)
            fake = self.observe(self.lsn(gen(torch.randn(B, cfg["latent_dim"], generator=rng, device=dev)))[0], rng)
            loss_g = -critic(transform(fake, tr, isd)).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            requires_grad(critic, True)
            if ema is not None:
                ema_update(ema, gen, cfg["ema_decay"], t)
            return {"W": w.item(), "g": loss_g.item()}

        loop = StageLoop(name, n_steps, cfg, stateful=stateful, rng=rng, sampler=ema if ema is not None else gen,
                         recalibrate=self.recalibrate, sample=lambda m, k: self.sample(m, k), scorer=scorer,
                         checkpoint_dir=checkpoint_dir, fingerprint=fingerprint, progress=progress,
                         deadline=deadline, keep={"critic": critic})
        final = loop.run(step, dev)
        self.loop = loop
        for p in final.parameters():
            p.requires_grad_(False)
        return final


class GRouNdGAN:
    """GRN-guided causal GAN simulator.

    Parameters
    ----------
    grn_edges
        Edge table with ``regulator, target`` columns (the project's edge schema). Must be bipartite
        (regulators are never targets), non-empty, without self-loops.
    genes
        Optional gene names of the training data; by default they are taken from ``train_adata.var_names``.
    preset
        ``"default"`` (CPU, ~15 min), ``"paper"`` (the paper's values; GPU), ``"smoke"`` (tests), or a dict of
        overrides (see :mod:`simulators.groundgan.presets`).
    seed
        Seeds initialisation and every random draw of training.
    device
        ``"auto"`` (cuda if available), ``"cpu"`` or ``"cuda"``.

    Examples
    --------
    >>> model = GRouNdGAN(edges, preset="default", seed=0)
    >>> model.fit(train, validation=val, checkpoint_dir="run/simulator")   # re-run to resume
    >>> sim = model.generate(2000, seed=0)
    >>> base, ko = model.perturb(1000, {"Gata1": 0.0}, seed=0)
    """

    name = "groundgan"

    def __init__(self, grn_edges: pd.DataFrame, genes=None, preset="default", seed: int = 0, device="auto"):
        self.cfg = get_preset(preset)
        self.seed = int(seed)
        self.device = base.resolve_device(device)
        if grn_edges is None or len(grn_edges) == 0:
            base.check_grn(grn_edges if grn_edges is not None else pd.DataFrame(), [])
        self.grn = grn_edges
        self.data_genes = [str(g) for g in genes] if genes is not None else None
        if self.data_genes is not None:
            self._setup_graph(self.data_genes)
        self.cc = self.tg = None
        self.info: dict = {}

    # ------------------------------------------------------------------ graph
    def _setup_graph(self, data_genes: list[str]) -> None:
        e = base.check_grn(self.grn, data_genes)
        regs, tgts = set(e["regulator"]), set(e["target"])
        self.genes = [g for g in data_genes if g in regs or g in tgts]
        self.dropped_genes = [g for g in data_genes if g not in regs and g not in tgts]
        self.tfs = [g for g in self.genes if g in regs]
        self.targets = [g for g in self.genes if g in tgts]
        tf_pos = {g: i for i, g in enumerate(self.tfs)}
        par: dict[str, list[int]] = {}
        for r, t in zip(e["regulator"], e["target"]):
            par.setdefault(t, []).append(tf_pos[r])
        self.parents = [sorted(par[t]) for t in self.targets]
        self.edges = e
        gpos = {g: i for i, g in enumerate(self.genes)}
        self._tf_cols = torch.tensor([gpos[g] for g in self.tfs], dtype=torch.long)
        self._tgt_cols = torch.tensor([gpos[g] for g in self.targets], dtype=torch.long)
        # canvas = cat([tf, targets])[:, perm] puts every value in its data column
        src = {g: i for i, g in enumerate(self.tfs)}
        src.update({g: len(self.tfs) + i for i, g in enumerate(self.targets)})
        self._canvas_perm = torch.tensor([src[g] for g in self.genes], dtype=torch.long)

    def _build(self, library: float, depths=None) -> None:
        cfg = self.cfg
        self.depths = depths
        self.sampler = CountSampler(depths, library).to(self.device) if depths is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.stage1 = WGANStage1(len(self.genes), cfg, library, self.device, sampler=self.sampler)
            self.tg = networks.TargetGenerators(self.parents, len(self.tfs), cfg["noise_per_gene"], cfg["tg_width"],
                                                cfg["tg_depth"], init="dense-fan" if cfg["tg_init"] == "dense-fan"
                                                else "he", output=cfg["output_activation"]).to(self.device)
            self.critic2 = networks.critic(critic_width(len(self.genes), cfg["critic_transform"]),
                                           cfg["critic_layers"]).to(self.device)
            self.lab = networks.labeler(len(self.targets), cfg["labeler_layers"], len(self.tfs)).to(self.device)
            self.anti = networks.labeler(len(self.targets), cfg["labeler_layers"], len(self.tfs)).to(self.device)
        self.lsn = LSN(library)
        self.library_size = library
        dev = self.device
        self._tf_cols, self._tgt_cols, self._canvas_perm = (self._tf_cols.to(dev), self._tgt_cols.to(dev),
                                                            self._canvas_perm.to(dev))

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
        return self._run(tg, *self._noise(n, _seeded(seed)))[0].numpy()

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
        rng = _seeded(EVAL_SEED + 2)
        B = int(self.cfg["batch"])
        lat, nz = self._noise_sizes()

        def one():
            tf_raw = self._tf_values(torch.randn(B, lat, generator=rng).to(self.device))
            tg(tf_raw, torch.randn(B, nz, generator=rng).to(self.device))

        recalibrate_batchnorm(tg, one, int(self.cfg["bn_recalibration"]))

    # ------------------------------------------------------------------ training
    def fit(self, train_adata, validation=None, checkpoint_dir=None, progress: bool = True,
            max_minutes: float | None = None) -> "GRouNdGAN":
        """Train both stages (resuming from ``checkpoint_dir`` when it holds a run with the same inputs).

        ``max_minutes`` bounds the wall time: stage 1 gets ``time_share_stage1`` of it, stage 2 the rest;
        a stage that runs out of time ends early (its best checkpoint is still used).
        """
        env_threads()
        t0 = time.monotonic()
        cfg, dev = self.cfg, self.device
        X_all = base.dense_matrix(train_adata, "training data")
        data_genes = [str(g) for g in train_adata.var_names]
        if self.data_genes is not None and self.data_genes != data_genes:
            missing = [g for g in self.data_genes if g not in set(data_genes)]
            if missing:
                raise BenchError(f"training data lacks {len(missing)} of the given genes (e.g. {missing[0]}).")
        self.data_genes = data_genes
        self._setup_graph(data_genes)
        L = base.library_size(X_all)
        pos = {g: i for i, g in enumerate(data_genes)}
        X = X_all[:, [pos[g] for g in self.genes]]
        renorm = bool(self.dropped_genes)
        if renorm:
            X = X * (L / np.maximum(X.sum(1, keepdims=True), 1e-12))
        Xv = _prepare_validation(X, validation, self.genes, L, renorm, cfg, self.seed)
        scorer = KnnMixing(Xv) if cfg["eval_every"] else None
        depths = training_depths(train_adata, self.genes, X) if cfg["count_sampling"] == "poisson" else None
        self._build(L, depths)
        fp = config_hash({"cfg": cfg, "seed": self.seed, "data": base.sha256_array(X), "genes": self.genes,
                          "grn": base.sha256_edges(self.edges), "val": base.sha256_array(Xv)})
        # stage 1 does not depend on the GRN's edges or on stage-2 options: changing those reuses its checkpoint
        fp1 = config_hash({"cfg": {k: v for k, v in cfg.items() if k not in STAGE2_ONLY}, "seed": self.seed,
                           "data": base.sha256_array(X), "genes": self.genes, "val": base.sha256_array(Xv)})
        ckpt = Path(checkpoint_dir) if checkpoint_dir else None
        Xt = torch.from_numpy(np.ascontiguousarray(X)).to(dev)
        rng = torch.Generator(device=dev).manual_seed(self.seed)

        # ---- stage 1: causal controller
        self.cc = self.stage1.train(Xt, scorer=scorer, rng=rng, checkpoint_dir=ckpt, fingerprint=fp1 + "-s1",
                                    progress=progress, deadline=remaining_deadline(t0, max_minutes,
                                                                                   cfg["time_share_stage1"]),
                                    name="stage1")
        loop1 = self.stage1.loop
        cc_score = None
        if scorer is not None:
            cc_score = scorer(self.stage1.sample(self.cc, int(cfg["eval_cells"])))
        # ---- stage 2: target generators
        loop2 = self._train_stage2(Xt, scorer, rng, ckpt, fp + "-s2", progress,
                                   remaining_deadline(t0, max_minutes, 1.0))
        self.info = {"stage1_steps": loop1.step, "stage2_steps": loop2.step,
                     "stage1_best_step": loop1.best_step, "stage2_best_step": loop2.best_step,
                     "stage1_val_score": cc_score, "stage2_val_score": loop2.best_score if scorer else None,
                     "val_history_stage1": loop1.history, "val_history_stage2": loop2.history,
                     "fit_seconds": round(time.monotonic() - t0, 1), "library_size": L,
                     "train_cells": int(X.shape[0]), "train_sha256": base.sha256_array(X)}
        return self

    def _match_moments(self, tg, n: int = 4096) -> None:
        """Start each target MLP's output at the causal controller's mean and spread of that gene.

        The output layer's weights are scaled by the gene's standard deviation under the controller and its bias
        set to the gene's mean (unnormalised controller units). At He initialisation every output has a spread of
        about 1 around 0, while a highly expressed gene (Mpo on bonemarrow) has mean ~11 and sd ~10: the
        warm start would spend its steps growing the scale instead of learning the conditional distribution.
        """
        with torch.no_grad():
            z = torch.randn(n, int(self.cfg["latent_dim"]), generator=_seeded(EVAL_SEED + 3)).to(self.device)
            raw = self.cc(z)[:, self._tgt_cols]
            mean, sd = raw.mean(0), raw.std(0)
            scale, bias = sd, mean
            if self.cfg["output_activation"] == "softplus":
                # softplus(b + s * N(0, 1)): linear above a mean of 1, log-normal (moments matched) below it
                m = mean.clamp_min(1e-4)
                s_log = torch.sqrt(torch.log1p((sd / m) ** 2)).clamp_max(2.0)
                small = m < 1.0
                scale = torch.where(small, s_log, sd)
                bias = torch.where(small, torch.log(m) - 0.5 * s_log ** 2, inverse_softplus(m))
            for i, bucket in enumerate(tg.buckets):
                genes = getattr(tg, f"genes_{i}")
                bucket.out.weight.mul_(scale[genes].view(-1, 1, 1))
                bucket.out.bias.copy_(bias[genes].view(-1, 1, 1))

    def _train_stage2(self, Xt, scorer, rng, ckpt, fp, progress, deadline) -> StageLoop:
        cfg, dev = self.cfg, self.device
        tg, critic, lab, anti = self.tg, self.critic2, self.lab, self.anti
        if cfg["critic_init"] == "stage1":
            critic.load_state_dict(self.stage1.critic.state_dict())
        warm = int(cfg["tg_warmup_steps"]) if cfg["tg_init"] == "distill" else 0
        if cfg["tg_init"] == "distill":
            self._match_moments(tg)
        n_adv, B = int(cfg["steps"]), int(cfg["batch"])
        n_steps = warm + n_adv
        opt_g = make_optimizer(tg.parameters(), cfg["lr_g"][0], cfg)
        opt_c = make_optimizer(critic.parameters(), cfg["lr_c"][0], cfg)
        opt_l = make_optimizer(lab.parameters(), cfg["lr_labeler"], cfg)
        opt_a = make_optimizer(anti.parameters(), cfg["lr_labeler"], cfg)
        opt_w = torch.optim.Adam(tg.parameters(), lr=1e-3)
        ema = copy.deepcopy(tg) if cfg["ema_decay"] else None
        stateful = {"tg": tg, "critic": critic, "lab": lab, "anti": anti, "opt_g": opt_g, "opt_c": opt_c,
                    "opt_l": opt_l, "opt_a": opt_a, "opt_w": opt_w}
        if ema is not None:
            stateful["ema"] = ema
        tr, tl, isd = cfg["critic_transform"], cfg["labeler_transform"], inverse_sd(Xt)
        lat, nz = self._noise_sizes()
        n = Xt.shape[0]
        mse = nn.functional.mse_loss
        tfc, tgc = self._tf_cols, self._tgt_cols

        def real_batch():
            return Xt[torch.randint(n, (B,), generator=rng, device=dev)]

        def warm_step() -> dict:
            # Distil the causal controller's conditional distribution of each target given its parents into
            # that gene's MLP: energy score (CRPS) on log1p of LSN-scaled values, two noise draws per cell.
            z = torch.randn(B, lat, generator=rng, device=dev)
            with torch.no_grad():
                out = self.cc(z)
                _, s = self.lsn(out)
                y = torch.log1p(out[:, tgc] * s)
                tf = out[:, tfc]
            pred = tg(torch.cat([tf, tf]), torch.randn(2 * B, nz, generator=rng, device=dev))
            p1, p2 = torch.log1p(pred[:B] * s), torch.log1p(pred[B:] * s)
            loss = 0.5 * ((p1 - y).abs().mean() + (p2 - y).abs().mean()) - 0.5 * (p1 - p2).abs().mean()
            opt_w.zero_grad(set_to_none=True)
            loss.backward()
            opt_w.step()
            if ema is not None:
                ema.load_state_dict(tg.state_dict())
            return {"crps": loss.item()}

        def step(t: int) -> dict:
            tg.train(); lab.train(); anti.train()
            if t < warm:
                return warm_step()
            s = t - warm
            set_lr(opt_g, exp_lr(cfg["lr_g"], s, n_adv))
            set_lr(opt_c, exp_lr(cfg["lr_c"], s, n_adv))
            real = real_batch()
            for i in range(int(cfg["critic_iters"])):
                if i and cfg["fresh_real_batch"]:
                    real = real_batch()
                with torch.no_grad():
                    fake = self._fake(tg, B, rng)
                loss_c, w = gradient_penalty_loss(critic, transform(real, tr, isd), transform(fake, tr, isd),
                                                  cfg["gp_lambda"], rng)
                opt_c.zero_grad(set_to_none=True)
                loss_c.backward()
                opt_c.step()
            for m in (critic, lab, anti):
                requires_grad(m, False)
            fake = self._fake(tg, B, rng)
            adv = -critic(transform(fake, tr, isd)).mean()
            x_t, y_t = transform(fake[:, tgc], tl), transform(fake[:, tfc], tl)
            l_lab, l_anti = mse(lab(x_t), y_t), mse(anti(x_t), y_t)
            loss_g = adv + cfg["labeler_weight"] * l_lab + cfg["antilabeler_weight"] * l_anti
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            for m in (critic, lab, anti):
                requires_grad(m, True)
            if ema is not None:
                ema_update(ema, tg, cfg["ema_decay"], s)
            if s % int(cfg["labeler_interval"]) == 0:
                with torch.no_grad():
                    f2 = self._fake(tg, B, rng)
                fx, fy = transform(f2[:, tgc], tl), transform(f2[:, tfc], tl)
                rx, ry = transform(real[:, tgc], tl), transform(real[:, tfc], tl)
                for net, opt, x, y in ((anti, opt_a, fx, fy), (lab, opt_l, fx, fy), (lab, opt_l, rx, ry)):
                    loss = mse(net(x), y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
            return {"W": w.item(), "adv": adv.item(), "lab": l_lab.item(), "anti": l_anti.item()}

        loop = StageLoop("stage2", n_steps, cfg, stateful=stateful, rng=rng,
                         sampler=ema if ema is not None else tg, recalibrate=self._recal2,
                         sample=lambda m, k: self._sample2(m, k), scorer=scorer, checkpoint_dir=ckpt,
                         fingerprint=fp, progress=progress, deadline=deadline)
        self.tg = loop.run(step, dev)
        self._last_loop = loop
        for p in self.tg.parameters():
            p.requires_grad_(False)
        return loop

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
        return self._noise(int(n), _seeded(seed))

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

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the fitted model to directory ``path`` (``model.pt`` + ``simulator.json``), atomically."""
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"name": self.name, "version": base.SIMULATOR_VERSION, "cfg": self.cfg, "seed": self.seed,
                "data_genes": self.data_genes, "library_size": self.library_size, "info": self.info,
                "edges": self.edges[["regulator", "target"]].values.tolist()}
        with bio.atomic_path(path / "model.pt", suffix=".pt") as tmp:
            torch.save({"cc": self.cc.state_dict(), "tg": self.tg.state_dict(),
                        "depths": None if self.depths is None else torch.as_tensor(self.depths)}, tmp)
        bio.write_json(path / "simulator.json", meta)
        return path

    @classmethod
    def load(cls, path, device="auto") -> "GRouNdGAN":
        path = Path(path)
        if not (path / "simulator.json").exists() or not (path / "model.pt").exists():
            raise BenchError(f"no saved GRouNdGAN model in {path}.", "Give the directory written by save().")
        meta = json.loads((path / "simulator.json").read_text())
        if meta.get("name") != cls.name:
            raise BenchError(f"{path} holds a {meta.get('name')!r} model, not {cls.name!r}.")
        edges = pd.DataFrame(meta["edges"], columns=["regulator", "target"])
        cfg = dict(meta["cfg"])
        cfg.pop("preset", None)
        model = cls(edges, genes=meta["data_genes"], preset={"preset": "paper", **cfg}, seed=meta["seed"],
                    device=device)
        model.cfg = meta["cfg"]
        st = torch.load(path / "model.pt", map_location=model.device, weights_only=True)
        depths = st.get("depths")
        model._build(meta["library_size"], None if depths is None else depths.cpu().numpy())
        model.cc = model.stage1.gen
        model.cc.load_state_dict(st["cc"])
        model.tg.load_state_dict(st["tg"])
        for m in (model.cc, model.tg):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)
        model.info = meta.get("info", {})
        return model
