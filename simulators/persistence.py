"""Save and load a fitted simulator: ``model.pt`` (tensors) + ``simulator.json`` (what rebuilds it).

``simulator.json`` records the simulator's name, its resolved config and the arguments its constructor and
``_build`` need (seed, genes, GRN edges, library size), so :func:`read_saved` + the class's constructor give
back the same model; both simulators (GRouNdGAN and scGAN) load through this one mechanism.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bench import io as bio
from bench.errors import BenchError


def write_saved(path, meta: dict, tensors: dict) -> Path:
    """Write ``tensors`` to ``path/model.pt`` and ``meta`` to ``path/simulator.json``, atomically."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with bio.atomic_path(path / "model.pt", suffix=".pt") as tmp:
        torch.save(tensors, tmp)
    bio.write_json(path / "simulator.json", meta)
    return path


def read_saved(path, name: str, map_location="cpu") -> tuple[dict, dict]:
    """``(meta, tensors)`` of a model saved by :func:`write_saved`; a folder without it, or with another
    simulator's model, is a :class:`~bench.errors.BenchError`."""
    path = Path(path)
    if not (path / "simulator.json").exists() or not (path / "model.pt").exists():
        raise BenchError(f"no saved {name} model in {path}.", "Give the directory written by save().")
    meta = json.loads((path / "simulator.json").read_text())
    if meta.get("name") != name:
        raise BenchError(f"{path} holds a {meta.get('name')!r} model, not {name!r}.")
    return meta, torch.load(path / "model.pt", map_location=map_location, weights_only=True)


def saved_preset(cfg: dict) -> dict:
    """The constructor's ``preset`` argument that gives back the recorded config (``cfg`` is then set as is)."""
    return {"preset": "paper", **{k: v for k, v in cfg.items() if k != "preset"}}


def depths_tensor(depths):
    return None if depths is None else torch.as_tensor(depths)


def depths_array(tensor):
    return None if tensor is None else tensor.cpu().numpy()
