"""The five networks of GRouNdGAN: causal controller, target generators, critic, labeler, anti-labeler.

Shapes: ``N`` genes in the model (TFs and targets), ``T`` TFs (regulators), ``G`` target genes, ``B`` cells.
"""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from simulators.groundgan.layers import GroupedBatchNorm, GroupedLinear, mlp


def causal_controller(latent_dim: int, layers, n_genes: int, output: str = "relu") -> nn.Sequential:
    """The stage-1 generator without its LSN layer: ``latent -> layers (Linear, BatchNorm, ReLU) -> N -> output``.

    He initialisation for every layer, as the paper says. ``output`` is ``relu`` (paper) or ``softplus``.
    """
    return mlp([latent_dim, *layers, n_genes], batchnorm=True, final_activation=output,
               init_hidden="he", init_last="he")


def critic(n_genes: int, layers) -> nn.Sequential:
    """WGAN critic ``N -> layers (Linear, ReLU) -> 1``; no BatchNorm (it would break the gradient penalty)."""
    return mlp([n_genes, *layers, 1], batchnorm=False, final_activation=False, init_hidden="he", init_last="xavier")


def labeler(n_targets: int, layers, n_tfs: int) -> nn.Sequential:
    """Labeler / anti-labeler: target-gene expression -> TF expression (Linear, BatchNorm, ReLU blocks)."""
    return mlp([n_targets, *layers, n_tfs], batchnorm=True, final_activation=False, init_hidden="he",
               init_last="xavier")


class _Bucket(nn.Module):
    """The MLPs of all target genes that have the same number of parents ``k``."""

    def __init__(self, n_genes: int, k: int, noise: int, width: int, depth: int, output: str = "relu"):
        super().__init__()
        self.output = output
        d_in = k + noise
        hidden = width * d_in
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        sizes = [d_in] + [hidden] * depth
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.linears.append(GroupedLinear(n_genes, a, b))
            self.norms.append(GroupedBatchNorm(n_genes, b))
        self.out = GroupedLinear(n_genes, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (G_b, B, k+n) -> (G_b, B)
        for lin, bn in zip(self.linears, self.norms):
            x = torch.relu(bn(lin(x)))
        y = self.out(x)
        return (nn.functional.softplus(y) if self.output == "softplus" else torch.relu(y)).squeeze(-1)


class TargetGenerators(nn.Module):
    """One MLP per target gene, run as batched matrix products over groups of genes with equal in-degree.

    Gene ``g`` sees only ``tf[:, parents[g]]`` and its own ``noise_per_gene`` noise values, so its output
    cannot depend on any other TF or on another gene's noise. Each per-gene MLP has ``depth`` hidden layers of
    width ``width x (k_g + noise_per_gene)`` (Linear, BatchNorm, ReLU), then ``Linear -> 1 -> ReLU``: the
    reference's ReLU on target outputs is kept so that genes can be exactly zero.

    Parameters
    ----------
    parents
        For each target gene (output column order), the indices of its parent TFs in the TF vector.
    """

    def __init__(self, parents: list[list[int]], n_tfs: int, noise_per_gene: int = 1, width: int = 2,
                 depth: int = 3, init: str = "he", output: str = "relu"):
        super().__init__()
        self.n_targets = len(parents)
        self.n_tfs = n_tfs
        self.noise_per_gene = noise_per_gene
        by_k: dict[int, list[int]] = defaultdict(list)
        for g, pa in enumerate(parents):
            if not pa:
                raise ValueError(f"target {g} has no parents")
            by_k[len(pa)].append(g)
        self.ks = sorted(by_k)
        self.buckets = nn.ModuleList()
        order: list[int] = []
        for i, k in enumerate(self.ks):
            genes = by_k[k]
            order += genes
            self.register_buffer(f"genes_{i}", torch.tensor(genes, dtype=torch.long), persistent=False)
            self.register_buffer(f"parents_{i}", torch.tensor([parents[g] for g in genes], dtype=torch.long),
                                 persistent=False)
            self.buckets.append(_Bucket(len(genes), k, noise_per_gene, width, depth, output))
        inv = torch.empty(len(order), dtype=torch.long)
        inv[torch.tensor(order)] = torch.arange(len(order))
        self.register_buffer("inverse_order", inv, persistent=False)
        self.n_edges = sum(len(p) for p in parents)
        self.reinitialize(init)

    def reinitialize(self, init: str = "he") -> None:
        """``he``: per-gene He init (the paper); ``dense-fan``: the reference code's masked-dense fans."""
        if init == "dense-fan":
            # Fans of the reference's dense masked layers: H = width * (E + G * n) wide.
            w = self.buckets[0].linears[0].weight.shape[2] // (self.ks[0] + self.noise_per_gene)
            H = w * (self.n_edges + self.n_targets * self.noise_per_gene)
            d_in = self.n_tfs + self.n_targets * self.noise_per_gene
            for b in self.buckets:
                for j, lin in enumerate(b.linears):
                    lin.reset_parameters("xavier", dense_fan=(d_in if j == 0 else H, H))
                b.out.reset_parameters("he", dense_fan=(H, self.n_targets))
        else:
            for b in self.buckets:
                for lin in b.linears:
                    lin.reset_parameters("he")
                b.out.reset_parameters("he")

    def forward(self, tf: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``tf`` (B, T) unnormalised TF values, ``noise`` (B, G * n) -> target values (B, G)."""
        B = tf.shape[0]
        noise = noise.view(B, self.n_targets, self.noise_per_gene)
        outs = []
        for i, bucket in enumerate(self.buckets):
            genes = getattr(self, f"genes_{i}")
            pa = getattr(self, f"parents_{i}")
            x_tf = tf[:, pa].permute(1, 0, 2)            # (G_b, B, k)
            x_nz = noise[:, genes].permute(1, 0, 2)      # (G_b, B, n)
            outs.append(bucket(torch.cat([x_tf, x_nz], dim=2)))  # (G_b, B)
        return torch.cat(outs, dim=0).t()[:, self.inverse_order]
