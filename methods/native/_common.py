"""Small helpers shared by the native method modules (expression matrix extraction)."""

from __future__ import annotations

import numpy as np


def expression_matrix(adata) -> np.ndarray:
    """``adata.X`` as a dense float64 cells x genes array.

    float64, not float32: the tree methods take their regression targets from it, and arboreto keeps the
    target in the input's precision (scikit-learn casts only the regressors to float32). float32 input stays
    exact under the cast.
    """
    X = adata.X
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.asarray(X, dtype=np.float64)
