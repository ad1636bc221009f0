"""grn-bench: benchmark GRN inference methods on GRouNdGAN-simulated cells with a known ground truth."""

from bench.errors import BenchError
from bench.settings import settings

__version__ = "0.1.0"
__all__ = ["BenchError", "settings", "__version__"]
