"""What a method receives: the one rule that turns a dataset's ``X`` into a method's input.

The benchmark's datasets hold library-size-normalised expression without a log (``X`` of a prepared or simulated
AnnData). Like the paper's benchmark and BEELINE (whose real-data ``ExpressionData.csv`` files are
log-transformed), every method gets ``log1p`` of it: :func:`prepare_input` is applied once per dataset by
:func:`methods.runner.make_jobs`, which ``bench run``, ``bench infer`` and ``bench methods test`` (the contract
checks) all go through. The rule is recorded with each result (``input_transform``).

``"none"`` hands ``X`` over unchanged (for data that is already log-transformed); it is a named option, never a
silent default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.errors import BenchError

#: The rule of the paper's benchmark and BEELINE.
DEFAULT_INPUT_TRANSFORM = "log1p"
INPUT_TRANSFORMS = {
    "log1p": np.log1p,  # log(1 + x) of the library-size-normalised expression
    "none": lambda x: x,  # X as given (already transformed by the user)
}


def dense(X, dtype=np.float32) -> np.ndarray:
    """``X`` (dense or scipy-sparse) as a dense numpy array of ``dtype``."""
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=dtype)


def check_transform(name: str | None) -> str:
    """The transform's name (``None`` = the default); an unknown name is an error."""
    name = name or DEFAULT_INPUT_TRANSFORM
    if name not in INPUT_TRANSFORMS:
        raise BenchError(f"unknown input transform {name!r}.", f"Choose one of: {', '.join(INPUT_TRANSFORMS)}.")
    return name


def prepare_input(adata, transform: str | None = None):
    """A method's input: dense float32 ``transform(X)`` with the cell and gene names (and nothing else).

    Parameters
    ----------
    adata
        Cells x genes; ``X`` is library-size-normalised expression (no log).
    transform
        A name in :data:`INPUT_TRANSFORMS`; ``None`` = :data:`DEFAULT_INPUT_TRANSFORM`.
    """
    import anndata as ad

    fn = INPUT_TRANSFORMS[check_transform(transform)]
    return ad.AnnData(fn(dense(adata.X)).astype(np.float32, copy=False),
                      obs=pd.DataFrame(index=adata.obs_names.astype(str)),
                      var=pd.DataFrame(index=adata.var_names.astype(str)))
