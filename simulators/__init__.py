"""Simulators of single-cell expression: GRouNdGAN (imposes a GRN) and the scGAN baseline.

>>> from simulators import GRouNdGAN, ScGAN, get_preset
>>> model = GRouNdGAN(edges, preset="default", seed=0).fit(train, validation=val, checkpoint_dir="ckpt")
>>> sim = model.generate(1000, seed=0)
>>> control, knockout = model.perturb(1000, {"Gata1": 0.0}, seed=0)

See simulators/README.md for the semantics and every deviation from the paper.
"""

from simulators.groundgan import GRouNdGAN, PRESETS, get_preset
from simulators.scgan import ScGAN

SIMULATORS = {"groundgan": GRouNdGAN, "scgan": ScGAN}


def get_simulator(name: str):
    """The simulator class registered as ``name`` (``groundgan`` or ``scgan``)."""
    from bench.errors import BenchError

    if name not in SIMULATORS:
        raise BenchError(f"unknown simulator {name!r}.", f"Use one of: {', '.join(SIMULATORS)}.")
    return SIMULATORS[name]


__all__ = ["GRouNdGAN", "ScGAN", "get_preset", "get_simulator", "PRESETS", "SIMULATORS"]
