"""Small helpers shared by the native method modules (expression matrix extraction)."""

from __future__ import annotations

import numpy as np


def expression_matrix(adata) -> np.ndarray:
    """``adata.X`` as a dense float32 cells x genes array (the expression the benchmark hands out)."""
    X = adata.X
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=np.float32)
