"""scGAN baseline: the stage-1 WGAN-GP of GRouNdGAN alone, generating every gene, with no GRN.

It uses the ``cc_*`` keys of a GRouNdGAN preset (same networks, schedule and named deviations), so that
"GRouNdGAN without the imposed GRN" is compared like for like.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch

from bench.errors import BenchError
from simulators import base
from simulators.groundgan.counts import CountSampler, training_depths
from simulators.groundgan.presets import get_preset
from simulators.groundgan.stage1 import WGANStage1, prepare_validation
from simulators.groundgan.training import KnnMixing, config_hash, env_threads, remaining_deadline
from simulators.persistence import depths_array, depths_tensor, read_saved, saved_preset, write_saved


class ScGAN:
    """WGAN-GP simulator of all genes (the paper's scGAN baseline).

    >>> sim = ScGAN(preset="default", seed=0).fit(train).generate(1000, seed=0)
    """

    name = "scgan"

    def __init__(self, preset="default", seed: int = 0, device="auto"):
        self.cfg = get_preset(preset)
        self.seed = int(seed)
        self.device = base.resolve_device(device)
        self.gen = None
        self.info: dict = {}

    def _build(self, n_genes: int, library: float, depths=None) -> None:
        sampler = CountSampler(depths, library) if depths is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.stage = WGANStage1(n_genes, self.cfg, library, self.device, sampler=sampler)
        self.library_size = library
        self.depths = depths

    def fit(self, train_adata, validation=None, checkpoint_dir=None, progress: bool = True,
            max_minutes: float | None = None) -> "ScGAN":
        """Train (resumable from ``checkpoint_dir``); ``max_minutes`` bounds the wall time."""
        env_threads()
        t0 = time.monotonic()
        X = base.dense_matrix(train_adata, "training data")
        self.genes = [str(g) for g in train_adata.var_names]
        L = base.library_size(X)
        Xv = prepare_validation(X, validation, self.genes, L, False, self.cfg, self.seed)
        scorer = KnnMixing(Xv) if self.cfg["eval_every"] else None
        depths = (training_depths(train_adata, self.genes, X) if self.cfg["count_sampling"] == "poisson"
                  else None)
        self._build(len(self.genes), L, depths)
        fp = config_hash({"cfg": self.cfg, "seed": self.seed, "data": base.sha256_array(X), "genes": self.genes,
                          "val": base.sha256_array(Xv), "model": self.name})
        rng = torch.Generator(device=self.device).manual_seed(self.seed)
        Xt = torch.from_numpy(np.ascontiguousarray(X)).to(self.device)
        self.gen = self.stage.train(Xt, scorer=scorer, rng=rng, checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir
                                    else None, fingerprint=fp, progress=progress,
                                    deadline=remaining_deadline(t0, max_minutes, 1.0), name="scgan")
        loop = self.stage.loop
        self.info = {"steps": loop.step, "best_step": loop.best_step,
                     "val_score": loop.best_score if scorer else None,
                     "fit_seconds": round(time.monotonic() - t0, 1), "library_size": L}
        return self

    @classmethod
    def from_groundgan(cls, model) -> "ScGAN":
        """The scGAN baseline taken from a fitted GRouNdGAN's causal controller, without training again.

        Stage 1 of GRouNdGAN is this very model (same networks, initialisation, random stream and schedule),
        so when GRouNdGAN kept every gene of the training data its causal controller is bit for bit the scGAN
        that :meth:`fit` would train with the same preset and seed. Raises when genes were dropped.
        """
        if model.cc is None:
            raise BenchError("the GRouNdGAN model is not fitted.", "Fit or load it first.")
        if model.dropped_genes or model.genes != model.data_genes:
            raise BenchError("GRouNdGAN dropped genes outside the GRN, so its causal controller is not the scGAN "
                             "of the full data.", "Train ScGAN with fit() instead.")
        sc = cls(preset={"preset": "paper", **{k: v for k, v in model.cfg.items() if k != "preset"}},
                 seed=model.seed, device=model.device)
        sc.cfg = copy.deepcopy(model.cfg)
        sc.genes = list(model.genes)
        sc._build(len(sc.genes), model.library_size, model.depths)
        sc.gen = sc.stage.gen
        sc.gen.load_state_dict(model.cc.state_dict())
        sc.gen.eval()
        for p in sc.gen.parameters():
            p.requires_grad_(False)
        info = model.info or {}
        sc.info = {"steps": info.get("stage1_steps"), "best_step": info.get("stage1_best_step"),
                   "val_score": info.get("stage1_val_score"), "fit_seconds": None,
                   "library_size": model.library_size, "from": "groundgan stage 1"}
        return sc

    def generate(self, n_cells: int, seed: int = 0):
        if self.gen is None:
            raise BenchError("the simulator is not fitted.", "Call fit() or ScGAN.load() first.")
        if int(n_cells) <= 0:
            raise BenchError(f"number of cells must be positive, got {n_cells}.")
        cells = self.stage.sample(self.gen, int(n_cells), seed=int(seed))
        prov = {"name": self.name, "version": base.SIMULATOR_VERSION, "preset": self.cfg["preset"],
                "params": self.cfg, "fit_seed": self.seed, "seed": int(seed), "n_cells": int(n_cells),
                "library_size": self.library_size, "training": self.info, "versions": base.versions()}
        return base.make_anndata(cells, self.genes, "sim", prov)

    def save(self, path) -> Path:
        if self.gen is None:
            raise BenchError("the simulator is not fitted.")
        meta = {"name": self.name, "cfg": self.cfg, "seed": self.seed, "genes": self.genes,
                "library_size": self.library_size, "info": self.info}
        return write_saved(path, meta, {"gen": self.gen.state_dict(), "depths": depths_tensor(self.depths)})

    @classmethod
    def load(cls, path, device="auto") -> "ScGAN":
        """A model written by :meth:`save`, rebuilt from its recorded constructor arguments."""
        meta, st = read_saved(path, cls.name)
        model = cls(preset=saved_preset(meta["cfg"]), seed=meta["seed"], device=device)
        model.cfg = meta["cfg"]
        model.genes = meta["genes"]
        model._build(len(model.genes), meta["library_size"], depths_array(st.get("depths")))
        model.gen = model.stage.gen
        model.gen.load_state_dict({k: v.to(model.device) for k, v in st["gen"].items()})
        model.gen.eval()
        model.info = meta.get("info", {})
        return model
