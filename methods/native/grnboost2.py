"""GRNBoost2 as BEELINE runs it: arboreto's stochastic gradient boosting per target gene, no TF list.

BEELINE calls ``arboreto.algo.grnboost2(expression, gene_names=...)`` with no TF list and no seed. The
implementation (shared with the reference-GRN step of GRN preparation) is :func:`methods.native.trees.grnboost2`,
which restores the working out-of-bag early stopping that scikit-learn >= 1.3 broke in arboreto.
"""

from __future__ import annotations

import numpy as np

from bench.arrays import dense
from methods.base import Method, MethodInfo
from methods.native import trees

INFO = MethodInfo(
    name="grnboost2",
    label="GRNBoost2",
    summary="Gradient boosting per target gene with OOB early stopping; weight = importance x rounds (arboreto).",
    paper="Moerman et al. (2019) Bioinformatics 35:2159, doi:10.1093/bioinformatics/bty916",
    code_url="https://github.com/aertslab/arboreto",
    pseudotime="none",
    directed=True,
    signed=False,
    accepts_tfs=True,
    dask_tasks=True,
    defaults=dict(trees.GRNBOOST2_DEFAULTS),
    license="BSD-3-Clause (arboreto)",
    presets={
        "beeline": dict(trees.GRNBOOST2_DEFAULTS),
        # Larger steps, so early stopping ends ~10x sooner (deviates from BEELINE).
        "fast": {"learning_rate": 0.1, "n_estimators": 500},
        # Only for contract checks on toy data.
        "test": {"learning_rate": 0.1, "n_estimators": 30, "early_stop_window": 10},
    },
)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, n_jobs: int | None = None, **params):
    """Run GRNBoost2 on ``adata.X`` (cells x genes); ``tfs=None`` = every gene is a candidate regulator.

    ``params`` override ``learning_rate``, ``n_estimators``, ``max_features``, ``subsample`` and
    ``early_stop_window`` (0 disables early stopping).
    """
    return trees.grnboost2(dense(adata.X, np.float64), list(map(str, adata.var_names)), tfs=tfs, seed=seed,
                           n_jobs=n_jobs, **params)


METHOD = Method(INFO, infer)
