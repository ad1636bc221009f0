"""GENIE3 as BEELINE runs it: arboreto's random forest per target gene, every gene a candidate regulator.

BEELINE calls ``arboreto.algo.genie3(expression, gene_names=...)`` with no TF list and no seed
(``grnbeeline/arboreto:base``); the tree ensembles live in :mod:`methods.native.trees`. Here every target's
forest gets the run seed, as arboreto does when given one (``seeding="shared"``; ``"per-target"`` derives it
from the target's name instead); either way a run is reproducible whatever the number of workers. The faithful setting (1000 trees per target) costs hours at 1000 genes, so
cheaper named presets exist; the preset is recorded with every result by :mod:`methods.execution`.
"""

from __future__ import annotations

import numpy as np

from bench.arrays import dense
from methods.base import Method, MethodInfo
from methods.native import trees

INFO = MethodInfo(
    name="genie3",
    label="GENIE3",
    summary="Random forest per target gene; edge weight = impurity importance of the regulator (arboreto).",
    paper="Huynh-Thu et al. (2010) PLoS ONE 5:e12776, doi:10.1371/journal.pone.0012776",
    code_url="https://github.com/aertslab/arboreto",
    pseudotime="none",
    directed=True,
    signed=False,
    accepts_tfs=True,
    dask_tasks=True,
    defaults=dict(trees.GENIE3_DEFAULTS),
    license="BSD-3-Clause (arboreto)",
    presets={
        # BEELINE / arboreto defaults, spelled out so that the record names them.
        "beeline": dict(trees.GENIE3_DEFAULTS),
        # 10x fewer trees: importances are noisier but ~10x cheaper (deviates from BEELINE).
        "fast": {"n_estimators": 100},
        # Only for contract checks on toy data.
        "test": {"n_estimators": 10},
    },
)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, n_jobs: int | None = None, **params):
    """Run GENIE3 on ``adata.X`` (cells x genes); ``tfs=None`` = every gene may regulate every other gene.

    ``params`` are passed to :class:`sklearn.ensemble.RandomForestRegressor` (``n_estimators``,
    ``max_features``, ...).
    """
    return trees.genie3(dense(adata.X, np.float64), list(map(str, adata.var_names)), tfs=tfs, seed=seed,
                        n_jobs=n_jobs, **params)


METHOD = Method(INFO, infer)
