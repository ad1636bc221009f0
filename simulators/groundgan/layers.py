"""Building blocks of GRouNdGAN: the library-size normalisation layer and the per-gene grouped MLP.

The target generators are one small MLP per target gene. The reference implementation stores them as one
dense ``H x H`` matrix with a mask (H = width x (edges + genes)); here every group of genes with the same
number of parents stores its weights as a ``(genes, in, out)`` tensor and runs them with one batched matrix
product, so memory and FLOPs grow with the number of edges, not with ``H**2``.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LSN(nn.Module):
    """Library-size normalisation: scale every cell so that its values sum to ``library_size``.

    ``forward(x, scale=None)`` returns ``(x * s, s)`` with ``s_i = library_size / sum_j x_ij`` (0 for an
    all-zero cell). Passing a frozen ``scale`` (deterministic mode) reuses it instead of recomputing it.
    """

    def __init__(self, library_size: float):
        super().__init__()
        self.library_size = float(library_size)

    def forward(self, x: torch.Tensor, scale: torch.Tensor | None = None):
        if scale is None:
            total = x.sum(dim=1, keepdim=True)
            # an all-zero cell would give 0/0; the reference maps that NaN to 0, so do we.
            scale = torch.where(total > 0, self.library_size / total.clamp_min(1e-30), torch.zeros_like(total))
        return x * scale, scale


class GroupedLinear(nn.Module):
    """``G`` independent linear maps applied at once: input ``(G, B, in)`` -> output ``(G, B, out)``."""

    def __init__(self, groups: int, in_features: int, out_features: int, init: str = "he"):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(groups, in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(groups, 1, out_features))
        self.reset_parameters(init)

    def reset_parameters(self, init: str = "he", dense_fan: tuple[int, int] | None = None) -> None:
        """``he`` (ReLU layers, the paper), ``xavier``, or the reference code's dense-shape fans.

        ``dense_fan=(fan_in, fan_out)`` reproduces the reference's initialisation of the masked dense
        matrix, whose fans are those of the whole ``H x H`` layer (weights ~25-35x smaller).
        """
        fan_in, fan_out = dense_fan if dense_fan else (self.weight.shape[1], self.weight.shape[2])
        with torch.no_grad():
            if init == "he":
                self.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
            elif init == "xavier":
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                self.weight.uniform_(-bound, bound)
            else:
                raise ValueError(f"unknown init {init!r}")
            self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class GroupedBatchNorm(nn.Module):
    """BatchNorm over the batch axis of a ``(G, B, F)`` tensor: one (gamma, beta, mean, var) per (gene, unit).

    Equivalent to ``nn.BatchNorm1d(G * F)`` on the ``(B, G*F)`` view. ``momentum=None`` in
    :meth:`recalibrating` mode accumulates an exact average, used to re-estimate the population statistics
    after training so that eval-mode generation matches the training distribution.
    """

    def __init__(self, groups: int, features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(groups, 1, features))
        self.bias = nn.Parameter(torch.zeros(groups, 1, features))
        self.register_buffer("running_mean", torch.zeros(groups, 1, features))
        self.register_buffer("running_var", torch.ones(groups, 1, features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            var, mean = torch.var_mean(x, dim=1, keepdim=True, unbiased=False)
            with torch.no_grad():
                n = x.shape[1]
                unbiased = var * (n / max(n - 1, 1))
                self.num_batches_tracked += 1
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean, m)
                self.running_var.lerp_(unbiased, m)
        else:
            mean, var = self.running_mean, self.running_var
        # fold the normalisation into one multiply-add over the big tensor (the stats are tiny)
        scale = self.weight * torch.rsqrt(var + self.eps)
        return torch.addcmul(self.bias - mean * scale, x, scale)


def mlp(sizes, *, batchnorm: bool, final_activation: bool | str, init_hidden: str = "he", init_last: str = "xavier"):
    """A plain MLP ``sizes[0] -> ... -> sizes[-1]`` with ReLU (and BatchNorm) on hidden layers.

    ``final_activation``: False (none), True or ``"relu"``, or ``"softplus"``.
    """
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        init = init_last if last else init_hidden
        if init == "he":
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(lin.weight)
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            if batchnorm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(nn.ReLU())
        elif final_activation == "softplus":
            layers.append(nn.Softplus())
        elif final_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def recalibrate_batchnorm(module: nn.Module, sample_batch, n_batches: int) -> None:
    """Re-estimate every BatchNorm's running statistics as an exact average over ``n_batches`` batches.

    ``sample_batch()`` must run a forward pass of ``module`` on a fresh batch. Parameters are untouched.
    """
    bns = [m for m in module.modules() if isinstance(m, (nn.modules.batchnorm._BatchNorm, GroupedBatchNorm))]
    if not bns or n_batches <= 0:
        return
    was_training = module.training
    saved = [m.momentum for m in bns]
    for m in bns:
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
        m.num_batches_tracked.zero_()
        m.momentum = None
    module.train()
    with torch.no_grad():
        for _ in range(n_batches):
            sample_batch()
    for m, mom in zip(bns, saved):
        m.momentum = mom
    module.train(was_training)
