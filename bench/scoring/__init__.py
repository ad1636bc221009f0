"""Scoring: inferred networks against a ground truth (:mod:`~bench.scoring.grn`), simulated cells against
held-out real cells (:mod:`~bench.scoring.realism`) and in-silico knockouts (:mod:`~bench.scoring.knockout`).

The submodules are imported lazily: ``realism`` pulls in scikit-learn's t-SNE and random forests, which a caller
that only scores edges should not pay for.
"""

from __future__ import annotations

__all__ = ["grn", "realism", "knockout"]


def __getattr__(name: str):
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(name)
