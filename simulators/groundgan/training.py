"""Resumable WGAN-GP training loops for the two stages of GRouNdGAN (stage 1 is also the scGAN baseline).

Checkpoints (``<checkpoint_dir>/<stage>/``):

``last.pt``   everything needed to continue: networks, optimisers, EMA, step, RNG state, best metric;
              written atomically every ``checkpoint_every`` steps and at least once a minute, so a killed run
              loses at most that much work; re-running ``fit`` with the same directory resumes from it.
``best.pt``   the generator (EMA weights when enabled, BatchNorm statistics recalibrated) with the best
              validation score so far; it becomes the stage's result when the stage ends.
``done.pt``   the stage's final generator; a finished stage is never retrained.

Validation score: k-nearest-neighbour label agreement between generated and real validation cells on a PCA
of log1p expression (0.5 = perfectly mixed, 1 = separable). It is cheap enough to run every few hundred steps
and tracks the RF-AUROC / miLISI realism metrics.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from bench.errors import BenchError
from bench.io import atomic_path

CHECKPOINT_SECONDS = 60.0


def _hook(stage: str, step: int) -> None:
    """Called after every finished step; tests replace it to simulate a kill."""


# --------------------------------------------------------------------------------------------- utilities
def make_optimizer(params, lr: float, cfg: dict) -> torch.optim.Optimizer:
    betas = tuple(cfg["betas"])
    if cfg["optimizer"] == "adamw":  # the official code: AdamW's default weight decay 0.01, amsgrad on
        return torch.optim.AdamW(params, lr=lr, betas=betas, amsgrad=True, weight_decay=0.01)
    return torch.optim.Adam(params, lr=lr, betas=betas, amsgrad=True)


def exp_lr(lr_pair, step: int, n_steps: int) -> float:
    """lr_t = lr_0 (lr_end / lr_0)^(t / n_steps): the reference's ExponentialLR, as a function of the step."""
    a, b = float(lr_pair[0]), float(lr_pair[1])
    return a * (b / a) ** (min(step, n_steps) / max(n_steps, 1))


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for g in opt.param_groups:
        g["lr"] = lr


def transform(x: torch.Tensor, kind: str, inv_sd: torch.Tensor | None = None) -> torch.Tensor:
    """What the critic (or labeler) sees: ``none`` x, ``log1p``, or ``log1p+linear`` = [log1p(x), x / sd_gene].

    ``inv_sd`` (per-gene 1 / standard deviation of the training cells) puts the linear half on a unit scale, so
    that highly expressed genes (which dominate distances between cells) are seen linearly without swamping
    the gradient penalty.
    """
    if kind == "log1p":
        return torch.log1p(x)
    if kind == "log1p+linear":
        return torch.cat([torch.log1p(x), x * inv_sd], dim=1)
    return x


def critic_width(n_genes: int, kind: str) -> int:
    return 2 * n_genes if kind == "log1p+linear" else n_genes


def inverse_sd(X: torch.Tensor) -> torch.Tensor:
    sd = X.std(dim=0)
    return torch.where(sd > 0, 1.0 / sd.clamp_min(1e-12), torch.zeros_like(sd))


def gradient_penalty_loss(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, lam: float,
                          rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """WGAN-GP critic loss ``mean D(fake) - mean D(real) + lam * mean (|grad D(x_hat)| - 1)^2``.

    One forward pass over [real; fake; x_hat] (cheaper than three on a CPU); eps ~ U(0, 1) per cell.
    Returns (loss, wasserstein estimate).
    """
    B = real.shape[0]
    eps = torch.rand(B, 1, generator=rng, device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    out = critic(torch.cat([real, fake, x_hat], dim=0)).squeeze(1)
    d_real, d_fake, d_hat = out[:B].mean(), out[B:2 * B].mean(), out[2 * B:]
    grad = torch.autograd.grad(d_hat.sum(), x_hat, create_graph=True)[0]
    gp = ((grad.norm(2, dim=1) - 1.0) ** 2).mean()
    return d_fake - d_real + lam * gp, (d_real - d_fake).detach()


def requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class KnnMixing:
    """Validation score: mean fraction of a cell's k nearest neighbours that share its origin (real/fake).

    Computed on the top principal components of log1p expression of the real validation cells; equal numbers
    of real and generated cells. 0.5 means perfectly mixed.
    """

    def __init__(self, real: np.ndarray, n_pcs: int = 20, k: int = 10):
        x = np.log1p(np.asarray(real, dtype=np.float64))
        self.mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - self.mean, full_matrices=False)
        self.components = vt[: min(n_pcs, vt.shape[0])].T
        self.real = (x - self.mean) @ self.components
        self.k = k

    def __call__(self, fake: np.ndarray) -> float:
        f = (np.log1p(np.asarray(fake, dtype=np.float64)) - self.mean) @ self.components
        n = min(len(f), len(self.real))
        pts = np.concatenate([self.real[:n], f[:n]])
        lab = np.r_[np.zeros(n), np.ones(n)]
        sq = (pts ** 2).sum(1)
        d = sq[:, None] + sq[None, :] - 2 * pts @ pts.T
        np.fill_diagonal(d, np.inf)
        k = min(self.k, 2 * n - 1)
        nn_idx = np.argpartition(d, k, axis=1)[:, :k]
        return float((lab[nn_idx] == lab[:, None]).mean())


def config_hash(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _save(path: Path, obj) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(obj, tmp)


def _load(path: Path, device) -> dict:
    try:
        return torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:
        raise BenchError(f"cannot read checkpoint {path}: {type(exc).__name__}.",
                         "Delete the checkpoint directory to start over.") from None


# --------------------------------------------------------------------------------------------- the loop
class StageLoop:
    """Runs ``n_steps`` of ``step_fn`` with checkpoints, evaluation, best-model selection and a progress bar.

    ``sampler`` is the module that generates (the generator, or its EMA copy); ``recalibrate(module)``
    re-estimates its BatchNorm statistics; ``sample(module, n)`` returns ``n`` linear-scale cells (numpy) in
    eval mode. ``stateful`` maps names to objects with ``state_dict`` / ``load_state_dict`` (networks,
    optimisers) that make up the resumable state.
    """

    def __init__(self, name: str, n_steps: int, cfg: dict, *, stateful: dict, rng: torch.Generator,
                 sampler: nn.Module, recalibrate: Callable, sample: Callable, scorer: KnnMixing | None,
                 checkpoint_dir: Path | None, fingerprint: str, progress: bool, deadline: float | None,
                 keep: dict | None = None):
        self.keep = keep or {}  # modules (besides the generator) stored with the finished stage
        self.name, self.n_steps, self.cfg = name, n_steps, cfg
        self.stateful, self.rng, self.sampler = stateful, rng, sampler
        self.recalibrate, self.sample, self.scorer = recalibrate, sample, scorer
        self.dir = Path(checkpoint_dir) / name if checkpoint_dir else None
        self.fingerprint, self.progress, self.deadline = fingerprint, progress, deadline
        self.step = 0
        self.best_score = math.inf
        self.best_step = -1
        self.history: list[dict] = []
        self.step_seconds: list[float] = []  # wall time of each step run in this process (benchmarks)

    # -- checkpoint I/O
    def _state(self) -> dict:
        return {"fingerprint": self.fingerprint, "step": self.step, "best_score": self.best_score,
                "best_step": self.best_step, "history": self.history, "rng": self.rng.get_state(),
                "stateful": {k: v.state_dict() for k, v in self.stateful.items()}}

    def save_last(self) -> None:
        if self.dir:
            _save(self.dir / "last.pt", self._state())

    def try_resume(self, device) -> bool:
        if not self.dir or not (self.dir / "last.pt").exists():
            return False
        st = _load(self.dir / "last.pt", device)
        if st.get("fingerprint") != self.fingerprint:
            raise BenchError(f"checkpoint {self.dir / 'last.pt'} belongs to a different data/GRN/preset/seed.",
                             "Use another --checkpoint-dir, or delete this one to start over.")
        for k, v in self.stateful.items():
            v.load_state_dict(st["stateful"][k])
        self.rng.set_state(st["rng"].cpu())  # generator states are CPU byte tensors, even for CUDA generators
        self.step, self.best_score, self.best_step = st["step"], st["best_score"], st["best_step"]
        self.history = st["history"]
        return True

    # -- evaluation
    def evaluated_copy(self) -> nn.Module:
        m = copy.deepcopy(self.sampler)
        self.recalibrate(m)
        m.eval()
        return m

    def evaluate(self) -> None:
        m = self.evaluated_copy()
        score = self.scorer(self.sample(m, self.cfg["eval_cells"]))
        self.history.append({"step": self.step, "score": score})
        if score < self.best_score:
            self.best_score, self.best_step = score, self.step
            if self.dir:
                _save(self.dir / "best.pt", {"fingerprint": self.fingerprint, "step": self.step, "score": score,
                                             "generator": m.state_dict()})
            self._best_state = copy.deepcopy(m.state_dict())

    # -- main
    def run(self, step_fn: Callable[[int], dict], device) -> nn.Module:
        """Train (or resume) and return the stage's final generator, eval mode, recalibrated."""
        if self.dir and (self.dir / "done.pt").exists():
            st = _load(self.dir / "done.pt", device)
            if st.get("fingerprint") != self.fingerprint:
                raise BenchError(f"checkpoint {self.dir / 'done.pt'} belongs to a different data/GRN/preset/seed.",
                                 "Use another --checkpoint-dir, or delete this one to start over.")
            m = copy.deepcopy(self.sampler)
            m.load_state_dict(st["generator"])
            self.step, self.best_score, self.best_step = st["step"], st["best_score"], st["best_step"]
            self.history = st.get("history", [])
            for k, mod in self.keep.items():
                mod.load_state_dict(st["keep"][k])
            return m.eval()
        self._best_state = None
        resumed = self.try_resume(device)
        if resumed and self.dir and (self.dir / "best.pt").exists():
            self._best_state = _load(self.dir / "best.pt", device)["generator"]
        bar = None
        if self.progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.n_steps, initial=self.step, desc=self.name, dynamic_ncols=True, leave=True)
        eval_every, ckpt_every = int(self.cfg["eval_every"]), int(self.cfg["checkpoint_every"])
        last_save = time.monotonic()
        try:
            while self.step < self.n_steps:
                t_step = time.perf_counter()
                losses = step_fn(self.step)
                self.step_seconds.append(time.perf_counter() - t_step)
                self.step += 1
                if self.scorer is not None and eval_every and (self.step % eval_every == 0):
                    self.evaluate()
                    losses["val"] = self.history[-1]["score"]
                if bar is not None:
                    bar.update(1)
                    if self.step % 10 == 0 or self.step == self.n_steps:
                        bar.set_postfix({k: f"{v:.3g}" for k, v in losses.items()}, refresh=False)
                out_of_time = self.deadline is not None and time.monotonic() > self.deadline
                if (ckpt_every and self.step % ckpt_every == 0) or time.monotonic() - last_save > CHECKPOINT_SECONDS:
                    self.save_last()
                    last_save = time.monotonic()
                _hook(self.name, self.step)
                if out_of_time:
                    break
        finally:
            if bar is not None:
                bar.close()
        # end of stage: final evaluation, then keep the best generator
        if self.scorer is not None and (not self.history or self.history[-1]["step"] != self.step):
            self.evaluate()
        final = self.evaluated_copy()
        if self._best_state is not None:
            final.load_state_dict(self._best_state)
        if self.dir:
            _save(self.dir / "done.pt", {"fingerprint": self.fingerprint, "step": self.step,
                                         "best_score": self.best_score, "best_step": self.best_step,
                                         "history": self.history, "generator": final.state_dict(),
                                         "keep": {k: v.state_dict() for k, v in self.keep.items()}})
            self.save_last()
        return final.eval()


def ema_update(ema: nn.Module, live: nn.Module, decay: float, step: int | None = None) -> None:
    """``ema <- d * ema + (1 - d) * live`` with ``d = min(decay, (1 + step) / (10 + step))``.

    The warm-up of ``d`` keeps the average from dragging in the (bad) weights of the first steps when a run
    is short.
    """
    if step is not None:
        decay = min(decay, (1.0 + step) / (10.0 + step))
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), live.parameters()):
            pe.lerp_(p, 1.0 - decay)


def remaining_deadline(start: float, max_minutes: float | None, share: float) -> float | None:
    if max_minutes is None:
        return None
    return start + 60.0 * max_minutes * share


def env_threads() -> None:
    """Respect ``bench.settings.n_jobs`` for torch's intra-op threads on CPU."""
    from bench import settings

    n = max(1, int(settings.n_jobs))
    if torch.get_num_threads() != n and not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(n)
