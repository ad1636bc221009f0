"""The one dense-matrix helper: an AnnData ``X`` (dense or scipy-sparse) as a numpy array."""

from __future__ import annotations

import numpy as np


def dense(X, dtype=None) -> np.ndarray:
    """``X`` as a dense numpy array (of ``dtype`` when given; a dense input of that dtype is not copied)."""
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=dtype)
