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

import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from bench.errors import BenchError
from simulators import base
from simulators.groundgan import networks
from simulators.groundgan.counts import CountSampler, training_depths
from simulators.groundgan.generation import GeneratorMixin
from simulators.groundgan.layers import LSN
from simulators.groundgan.presets import STAGE2_ONLY, get_preset
from simulators.groundgan.stage1 import WGANStage1, prepare_validation
from simulators.groundgan.stage2 import Stage2Trainer
from simulators.groundgan.training import KnnMixing, config_hash, critic_width, env_threads, remaining_deadline
from simulators.persistence import depths_array, depths_tensor, read_saved, saved_preset, write_saved


class GRouNdGAN(GeneratorMixin):
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


    # ------------------------------------------------------------------ training
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
        Xv = prepare_validation(X, validation, self.genes, L, renorm, cfg, self.seed)
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
        loop2 = Stage2Trainer(self, Xt, rng).run(scorer, ckpt, fp + "-s2", progress,
                                                 remaining_deadline(t0, max_minutes, 1.0))
        self.info = {"stage1_steps": loop1.step, "stage2_steps": loop2.step,
                     "stage1_best_step": loop1.best_step, "stage2_best_step": loop2.best_step,
                     "stage1_val_score": cc_score, "stage2_val_score": loop2.best_score if scorer else None,
                     "val_history_stage1": loop1.history, "val_history_stage2": loop2.history,
                     "fit_seconds": round(time.monotonic() - t0, 1), "library_size": L,
                     "train_cells": int(X.shape[0]), "train_sha256": base.sha256_array(X)}
        return self

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the fitted model to directory ``path`` (``model.pt`` + ``simulator.json``), atomically."""
        self._check_fitted()
        meta = {"name": self.name, "version": base.SIMULATOR_VERSION, "cfg": self.cfg, "seed": self.seed,
                "data_genes": self.data_genes, "library_size": self.library_size, "info": self.info,
                "edges": self.edges[["regulator", "target"]].values.tolist()}
        return write_saved(path, meta, {"cc": self.cc.state_dict(), "tg": self.tg.state_dict(),
                                        "depths": depths_tensor(self.depths)})

    @classmethod
    def load(cls, path, device="auto") -> "GRouNdGAN":
        """A model written by :meth:`save`, rebuilt from its recorded constructor arguments."""
        device = base.resolve_device(device)
        meta, st = read_saved(path, cls.name, map_location=device)
        model = cls(pd.DataFrame(meta["edges"], columns=["regulator", "target"]), genes=meta["data_genes"],
                    preset=saved_preset(meta["cfg"]), seed=meta["seed"], device=device)
        model.cfg = meta["cfg"]
        model._build(meta["library_size"], depths_array(st.get("depths")))
        model.cc = model.stage1.gen
        model.cc.load_state_dict(st["cc"])
        model.tg.load_state_dict(st["tg"])
        for m in (model.cc, model.tg):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)
        model.info = meta.get("info", {})
        return model
