"""GRouNdGAN, written from the paper and a written specification of the official code (see simulators/README.md)."""

from simulators.groundgan.model import GRouNdGAN
from simulators.groundgan.presets import PRESETS, get_preset

__all__ = ["GRouNdGAN", "get_preset", "PRESETS"]
