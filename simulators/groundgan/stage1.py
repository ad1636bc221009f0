"""Stage 1 of GRouNdGAN (the causal controller) and the whole of the scGAN baseline: a WGAN-GP of all genes."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from bench.errors import BenchError
from simulators import base
from simulators.groundgan import networks
from simulators.groundgan.counts import CountSampler
from simulators.groundgan.layers import LSN, recalibrate_batchnorm
from simulators.groundgan.training import (StageLoop, critic_width, ema_update, exp_lr, gradient_penalty_loss,
                                           inverse_sd, make_optimizer, requires_grad, set_lr, transform)

EVAL_SEED = 12345


def inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    """x with softplus(x) = y (y clamped to >= 1e-4): y + log(1 - exp(-y))."""
    y = y.clamp_min(1e-4)
    return y + torch.log(-torch.expm1(-y))


def seeded(seed: int):
    return torch.Generator().manual_seed(int(seed))


def prepare_validation(train_X, val_adata, cols_by_name, L, renorm, cfg, seed):
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
        rng = seeded(seed)
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
        rng = seeded(EVAL_SEED + 1)
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

