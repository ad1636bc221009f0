"""Hyper-parameter presets of GRouNdGAN (and of the scGAN baseline, which uses the ``cc_*`` keys).

``paper``
    The paper's architecture and schedule (Supplementary Tables 1-2 as reproduced by the official config):
    stage 1 batch 128, 5 critic iterations, 200k steps, lr 1e-4 -> 1e-5; stage 2 batch 1024, 5 critic
    iterations, 1M steps, generator lr 1e-3 -> 1e-4, critic lr 1e-3, labelers 1e-4 with 3 x 2000 units;
    target generators with 3 hidden layers of width 2 x (parents + noise); AMSGrad with betas (0.5, 0.9).
    For a GPU: about 1.2 M steps.
``default``
    A CPU recipe: 3500 stage-1 and 400 + 1500 stage-2 steps, about 10 minutes on 2 idle cores at 300 genes
    (what ``bench run`` uses). Every deviation from ``paper`` is one of the named options below.
``smoke``
    Tiny networks and a few steps: seconds, for tests.

Options that are deviations from the paper (the ``paper`` preset keeps the paper's value, shown first):

``optimizer``               "amsgrad" (paper) | "adamw" (the official code: AdamW + amsgrad, weight decay 0.01)
``fresh_real_batch``        False (official code: one real batch reused by all critic iterations of a step) |
                            True (standard WGAN-GP: a new real batch per critic iteration)
``critic_transform``        "none" (critic sees library-normalised values) | "log1p" (critic sees log1p of them;
                            the generator still outputs linear values) | "log1p+linear" (both: log1p values and
                            linear values divided by each gene's standard deviation in the training cells)
``labeler_transform``       "none" | "log1p": the same for the labeler/anti-labeler inputs and targets; on the
                            linear scale their MSE is in counts^2 and swamps the Wasserstein term
``labeler_weight``, ``antilabeler_weight``   1.0 | any weight on the two auxiliary losses in the generator loss
``tg_init``                 "he" (paper) | "dense-fan" (official code's masked-dense fans) | "distill" (He, output
                            layer scaled to the controller's mean and sd of each gene, then a warm start: fit each target MLP to the causal controller's conditional distribution of
                            that gene given its parents, by the energy score / CRPS on log1p values with two noise
                            draws per cell; then train adversarially. The causal structure is unchanged: each
                            gene still sees only its parents and its noise)
``tg_warmup_steps``         steps of that warm start (only with ``tg_init="distill"``)
``cc_output_bias``          "zero" (paper) | "mean": the causal controller's output bias starts at the training
                            cells' mean profile (divided by its mean), so the first samples are mean cells
``critic_init``             "fresh" (paper) | "stage1" (start the stage-2 critic from the trained stage-1 critic)
``ema_decay``               0 (off, paper) | d: generate with an exponential moving average of generator weights
                            (effective decay min(d, (1+t)/(10+t)) at step t, so short runs are not dragged back)
``count_sampling``          "none" (paper: the LSN output is the cell) | "poisson": the LSN output is the cell's
                            expected profile; counts are drawn at a depth taken from the training cells and
                            scaled back to the library size, with straight-through gradients in training
                            (simulators/groundgan/counts.py explains why: real cells are scaled counts)
``output_activation``       "relu" (paper: genes can be exactly 0) | "softplus": the causal controller's and target
                            generators' outputs are positive rates; with count sampling the zeros come from the
                            sampling, and no gene can die (a ReLU output stuck below 0 gave 56 of 300 genes that
                            were 0 in every simulated cell, genes real cells express in ~1 % of cells)
``bn_recalibration``        batches used to re-estimate BatchNorm population statistics before generation
                            (always on: generation runs BatchNorm in eval mode, see simulators/README.md)
``eval_every``              steps between validation evaluations (best checkpoint); 0 disables them
"""

from __future__ import annotations

import copy

from bench.errors import BenchError

PAPER: dict = dict(
    # stage 1: causal controller (WGAN-GP over all genes)
    latent_dim=128,
    cc_layers=[256, 512, 1024],
    critic_layers=[1024, 512, 256],
    gp_lambda=10.0,
    cc_batch=128,
    cc_critic_iters=5,
    cc_steps=200_000,
    cc_lr_g=[1e-4, 1e-5],
    cc_lr_c=[1e-4, 1e-5],
    cc_output_bias="zero",
    # stage 2: target generators
    noise_per_gene=1,
    tg_width=2,
    tg_depth=3,
    labeler_layers=[2000, 2000, 2000],
    batch=1024,
    critic_iters=5,
    steps=1_000_000,
    lr_g=[1e-3, 1e-4],
    lr_c=[1e-3, 1e-3],
    lr_labeler=1e-4,
    labeler_interval=1,
    # optimiser
    optimizer="amsgrad",
    betas=[0.5, 0.9],
    # named deviations (paper values)
    fresh_real_batch=False,
    critic_transform="none",
    labeler_transform="none",
    labeler_weight=1.0,
    antilabeler_weight=1.0,
    tg_init="he",
    tg_warmup_steps=0,
    critic_init="fresh",
    ema_decay=0.0,
    count_sampling="none",
    output_activation="relu",
    # bookkeeping
    bn_recalibration=20,
    eval_every=10_000,
    eval_cells=1000,
    checkpoint_every=10_000,
    time_share_stage1=0.4,
    generation_batch=4096,
)

DEFAULT: dict = {
    **PAPER,
    "cc_batch": 128,
    "cc_critic_iters": 2,       # the prototype: 5 -> 2 lost nothing
    "cc_steps": 3500,
    "cc_lr_g": [1e-3, 1e-4],
    "cc_lr_c": [1e-3, 1e-4],
    "cc_output_bias": "mean",
    "time_share_stage1": 0.5,
    "tg_depth": 2,
    "labeler_layers": [256, 256, 256],
    "batch": 128,
    "critic_iters": 2,
    "steps": 1500,
    "lr_g": [5e-4, 5e-5],
    "lr_c": [5e-4, 5e-5],
    "lr_labeler": 5e-4,
    "fresh_real_batch": True,
    "labeler_transform": "log1p",
    "tg_init": "distill",
    "tg_warmup_steps": 400,
    "critic_init": "stage1",
    "ema_decay": 0.995,
    "count_sampling": "poisson",
    "output_activation": "softplus",
    "eval_every": 250,
    "eval_cells": 500,
    "checkpoint_every": 250,
}

SMOKE: dict = {
    **PAPER,
    "latent_dim": 8,
    "cc_layers": [16, 16],
    "critic_layers": [16, 16],
    "cc_batch": 16,
    "cc_critic_iters": 1,
    "cc_steps": 6,
    "tg_depth": 1,
    "labeler_layers": [8],
    "batch": 16,
    "critic_iters": 1,
    "steps": 6,
    "bn_recalibration": 2,
    "eval_every": 3,
    "eval_cells": 32,
    "checkpoint_every": 2,
    "generation_batch": 64,
}

PRESETS = {"paper": PAPER, "default": DEFAULT, "smoke": SMOKE}

#: options that only stage 2 reads; stage 1 (and its checkpoint) is the same whatever their values
STAGE2_ONLY = frozenset({"noise_per_gene", "tg_width", "tg_depth", "labeler_layers", "batch", "critic_iters", "steps",
                         "lr_g", "lr_c", "lr_labeler", "labeler_interval", "labeler_transform", "labeler_weight",
                         "antilabeler_weight", "tg_init", "tg_warmup_steps", "critic_init", "preset"})

_CHOICES = {
    "optimizer": {"amsgrad", "adamw"},
    "critic_transform": {"none", "log1p", "log1p+linear"},
    "labeler_transform": {"none", "log1p"},
    "tg_init": {"he", "dense-fan", "distill"},
    "critic_init": {"fresh", "stage1"},
    "cc_output_bias": {"zero", "mean"},
    "count_sampling": {"none", "poisson"},
    "output_activation": {"relu", "softplus"},
}


def get_preset(preset: str | dict | None = "default") -> dict:
    """Return a full hyper-parameter dict.

    ``preset`` is a name (``paper``, ``default``, ``smoke``), or a dict of overrides applied on top of the
    preset named by its optional ``"preset"`` key (``default`` when absent).
    """
    if preset is None:
        preset = "default"
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise BenchError(f"unknown simulator preset {preset!r}.", f"Use one of: {', '.join(PRESETS)}.")
        out = copy.deepcopy(PRESETS[preset])
        out["preset"] = preset
        return out
    if not isinstance(preset, dict):
        raise BenchError(f"preset must be a name or a dict, got {type(preset).__name__}.")
    over = dict(preset)
    base = get_preset(over.pop("preset", "default"))
    unknown = sorted(set(over) - set(base))
    if unknown:
        raise BenchError(f"unknown simulator option(s): {', '.join(unknown)}.",
                         "See simulators/groundgan/presets.py for the option names.")
    for k, v in over.items():
        if k in _CHOICES and v not in _CHOICES[k]:
            raise BenchError(f"option {k}={v!r} is not one of {sorted(_CHOICES[k])}.")
        base[k] = copy.deepcopy(v)
    base["preset"] = base["preset"] + "+custom"
    return base
