"""Stage 2 of GRouNdGAN: the target generators against a critic, a labeler and an anti-labeler.

The causal controller (stage 1) is frozen; only its TF outputs are used. With ``tg_init="distill"`` the target
MLPs first start at the controller's moments (:func:`match_moments`) and are warmed up by distilling the
controller's conditional distribution of each target given its parents (``tg_warmup_steps``).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from simulators.groundgan.stage1 import EVAL_SEED, inverse_softplus, seeded
from simulators.groundgan.training import (StageLoop, ema_update, exp_lr, gradient_penalty_loss, inverse_sd,
                                           make_optimizer, requires_grad, set_lr, transform)


def match_moments(model, tg, n: int = 4096) -> None:
    """Start each target MLP's output at the causal controller's mean and spread of that gene.

    The output layer's weights are scaled by the gene's standard deviation under the controller and its bias
    set to the gene's mean (unnormalised controller units). At He initialisation every output has a spread of
    about 1 around 0, while a highly expressed gene (Mpo on bonemarrow) has mean ~11 and sd ~10: the
    warm start would spend its steps growing the scale instead of learning the conditional distribution.
    """
    with torch.no_grad():
        z = torch.randn(n, int(model.cfg["latent_dim"]), generator=seeded(EVAL_SEED + 3)).to(model.device)
        raw = model.cc(z)[:, model._tgt_cols]
        mean, sd = raw.mean(0), raw.std(0)
        scale, bias = sd, mean
        if model.cfg["output_activation"] == "softplus":
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


class Stage2Trainer:
    """One stage-2 training run of a :class:`~simulators.groundgan.model.GRouNdGAN` (its networks are built)."""

    def __init__(self, model, Xt: torch.Tensor, rng: torch.Generator):
        cfg = self.cfg = model.cfg
        self.model, self.Xt, self.rng, self.dev = model, Xt, rng, model.device
        self.tg, self.critic, self.lab, self.anti = model.tg, model.critic2, model.lab, model.anti
        if cfg["critic_init"] == "stage1":
            self.critic.load_state_dict(model.stage1.critic.state_dict())
        self.warm = int(cfg["tg_warmup_steps"]) if cfg["tg_init"] == "distill" else 0
        if cfg["tg_init"] == "distill":
            match_moments(model, self.tg)
        self.n_adv, self.B = int(cfg["steps"]), int(cfg["batch"])
        self.opt_g = make_optimizer(self.tg.parameters(), cfg["lr_g"][0], cfg)
        self.opt_c = make_optimizer(self.critic.parameters(), cfg["lr_c"][0], cfg)
        self.opt_l = make_optimizer(self.lab.parameters(), cfg["lr_labeler"], cfg)
        self.opt_a = make_optimizer(self.anti.parameters(), cfg["lr_labeler"], cfg)
        self.opt_w = torch.optim.Adam(self.tg.parameters(), lr=1e-3)
        self.ema = copy.deepcopy(self.tg) if cfg["ema_decay"] else None
        self.tr, self.tl, self.isd = cfg["critic_transform"], cfg["labeler_transform"], inverse_sd(Xt)
        self.lat, self.nz = model._noise_sizes()
        self.tfc, self.tgc = model._tf_cols, model._tgt_cols

    def stateful(self) -> dict:
        """What a checkpoint holds."""
        s = {"tg": self.tg, "critic": self.critic, "lab": self.lab, "anti": self.anti, "opt_g": self.opt_g,
             "opt_c": self.opt_c, "opt_l": self.opt_l, "opt_a": self.opt_a, "opt_w": self.opt_w}
        if self.ema is not None:
            s["ema"] = self.ema
        return s

    def real_batch(self) -> torch.Tensor:
        return self.Xt[torch.randint(self.Xt.shape[0], (self.B,), generator=self.rng, device=self.dev)]

    def warm_step(self) -> dict:
        # Distil the causal controller's conditional distribution of each target given its parents into
        # that gene's MLP: energy score (CRPS) on log1p of LSN-scaled values, two noise draws per cell.
        B, m = self.B, self.model
        z = torch.randn(B, self.lat, generator=self.rng, device=self.dev)
        with torch.no_grad():
            out = m.cc(z)
            _, s = m.lsn(out)
            y = torch.log1p(out[:, self.tgc] * s)
            tf = out[:, self.tfc]
        pred = self.tg(torch.cat([tf, tf]), torch.randn(2 * B, self.nz, generator=self.rng, device=self.dev))
        p1, p2 = torch.log1p(pred[:B] * s), torch.log1p(pred[B:] * s)
        loss = 0.5 * ((p1 - y).abs().mean() + (p2 - y).abs().mean()) - 0.5 * (p1 - p2).abs().mean()
        self.opt_w.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_w.step()
        if self.ema is not None:
            self.ema.load_state_dict(self.tg.state_dict())
        return {"crps": loss.item()}

    def critic_step(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``critic_iters`` critic updates; returns the last Wasserstein estimate and the last real batch."""
        cfg, tr, isd = self.cfg, self.tr, self.isd
        for i in range(int(cfg["critic_iters"])):
            if i and cfg["fresh_real_batch"]:
                real = self.real_batch()
            with torch.no_grad():
                fake = self.model._fake(self.tg, self.B, self.rng)
            loss_c, w = gradient_penalty_loss(self.critic, transform(real, tr, isd), transform(fake, tr, isd),
                                              cfg["gp_lambda"], self.rng)
            self.opt_c.zero_grad(set_to_none=True)
            loss_c.backward()
            self.opt_c.step()
        return w, real

    def labeler_step(self, real: torch.Tensor) -> None:
        """Anti-labeler on generated cells; labeler on generated and real cells."""
        tl, tfc, tgc = self.tl, self.tfc, self.tgc
        with torch.no_grad():
            f2 = self.model._fake(self.tg, self.B, self.rng)
        fx, fy = transform(f2[:, tgc], tl), transform(f2[:, tfc], tl)
        rx, ry = transform(real[:, tgc], tl), transform(real[:, tfc], tl)
        for net, opt, x, y in ((self.anti, self.opt_a, fx, fy), (self.lab, self.opt_l, fx, fy),
                               (self.lab, self.opt_l, rx, ry)):
            loss = nn.functional.mse_loss(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    def step(self, t: int) -> dict:
        cfg, mse = self.cfg, nn.functional.mse_loss
        self.tg.train(); self.lab.train(); self.anti.train()
        if t < self.warm:
            return self.warm_step()
        s = t - self.warm
        set_lr(self.opt_g, exp_lr(cfg["lr_g"], s, self.n_adv))
        set_lr(self.opt_c, exp_lr(cfg["lr_c"], s, self.n_adv))
        w, real = self.critic_step(self.real_batch())
        for m in (self.critic, self.lab, self.anti):
            requires_grad(m, False)
        fake = self.model._fake(self.tg, self.B, self.rng)
        adv = -self.critic(transform(fake, self.tr, self.isd)).mean()
        x_t, y_t = transform(fake[:, self.tgc], self.tl), transform(fake[:, self.tfc], self.tl)
        l_lab, l_anti = mse(self.lab(x_t), y_t), mse(self.anti(x_t), y_t)
        loss_g = adv + cfg["labeler_weight"] * l_lab + cfg["antilabeler_weight"] * l_anti
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        for m in (self.critic, self.lab, self.anti):
            requires_grad(m, True)
        if self.ema is not None:
            ema_update(self.ema, self.tg, cfg["ema_decay"], s)
        if s % int(cfg["labeler_interval"]) == 0:
            self.labeler_step(real)
        return {"W": w.item(), "adv": adv.item(), "lab": l_lab.item(), "anti": l_anti.item()}

    def run(self, scorer, ckpt, fp, progress, deadline) -> StageLoop:
        """Train (resuming from ``ckpt``); the model's ``tg`` becomes the best (or EMA) target generators."""
        m = self.model
        loop = StageLoop("stage2", self.warm + self.n_adv, self.cfg, stateful=self.stateful(), rng=self.rng,
                         sampler=self.ema if self.ema is not None else self.tg, recalibrate=m._recal2,
                         sample=lambda net, k: m._sample2(net, k), scorer=scorer, checkpoint_dir=ckpt,
                         fingerprint=fp, progress=progress, deadline=deadline)
        m.tg = loop.run(self.step, self.dev)
        m._last_loop = loop
        for p in m.tg.parameters():
            p.requires_grad_(False)
        return loop
