"""GENIE3 and GRNBoost2: arboreto's per-target tree-ensemble algorithms.

For every target gene a regressor predicts its expression from the candidate regulators (all other genes, or the
TF list minus the target itself); a regulator's importance for that target is the edge weight. This follows
arboreto 0.1.6 (``arboreto.core``): the same regressor settings, importances de-normalised by the number of trees
for GRNBoost2, and zero-importance links dropped. As arboreto, targets are split into blocks that run as Dask
tasks on a cluster when one is given (``scheduler``, or ``$BENCH_SCHEDULER`` in a method's child process), else on
local processes (:func:`methods.blocks.map_blocks`).

Seeding (parameter ``seeding``, recorded with every result): ``shared`` (default) gives every target's regressor
the run seed, as arboreto does when given one; ``per-target`` seeds each from the run seed and the target's
*name* (independent bootstrap draws per target; a named deviation). Both give identical results for any number
of workers and any block size, since a target's seed never depends on where or with whom it is fitted.

Why not call arboreto: 0.1.6 is broken with current dask, and with scikit-learn >= 1.3 its early-stopping
monitor reads ``oob_improvement_``, which since 1.3 compares losses on two *different* out-of-bag sets. That
difference is noise, so GRNBoost2 silently stops after ~25 trees instead of hundreds to thousands. We use a
monitor that restores the pre-1.3 meaning: the loss improvement of each stage measured on that stage's own
out-of-bag rows (see ``SameSetOOBEarlyStop``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

from bench.arrays import dense
from bench.edges import empty_edges, rank_edges
from bench.errors import BenchError
from bench.settings import settings

# arboreto.core.SGBM_KWARGS / RF_KWARGS
# (+ ``seeding``, ours: see the module docstring)
GRNBOOST2_DEFAULTS = {"learning_rate": 0.01, "n_estimators": 5000, "max_features": 0.1, "subsample": 0.9,
                      "early_stop_window": 25, "seeding": "shared"}
GENIE3_DEFAULTS = {"n_estimators": 1000, "max_features": "sqrt", "seeding": "shared"}


class SameSetOOBEarlyStop:
    """arboreto's EarlyStopMonitor with scikit-learn < 1.3 semantics.

    Stops when the mean out-of-bag improvement over the last ``window_length`` stages is negative, where a
    stage's improvement is ``loss(before) - loss(after)`` on *that stage's* out-of-bag rows. It relies on the
    private locals scikit-learn passes to monitors (``raw_predictions``, ``sample_mask``, ``y``), which is why
    scikit-learn is pinned.
    """

    def __init__(self, window_length: int = 25):
        self.window_length = window_length
        self.previous: np.ndarray | None = None
        self.improvements: list[float] = []

    def __call__(self, i: int, regressor, local_vars: dict) -> bool:
        try:
            raw = np.asarray(local_vars["raw_predictions"]).ravel()
            oob = ~local_vars["sample_mask"]
            y = np.asarray(local_vars["y"]).ravel()
        except KeyError as exc:  # pragma: no cover - guards a scikit-learn upgrade
            raise RuntimeError(f"scikit-learn no longer passes {exc} to monitors; pin scikit-learn==1.9.1") from None
        prev = self.previous if self.previous is not None else np.full_like(raw, regressor.init_.constant_.ravel()[0]
                                                                             if hasattr(regressor.init_, "constant_")
                                                                             else y.mean())
        if oob.any():
            self.improvements.append(float(np.mean((y[oob] - prev[oob]) ** 2) - np.mean((y[oob] - raw[oob]) ** 2)))
        else:
            self.improvements.append(0.0)
        self.previous = raw.copy()
        if i >= self.window_length - 1:
            return float(np.mean(self.improvements[-self.window_length:])) < 0
        return False


def _fit_target(kind: str, X_reg: np.ndarray, y: np.ndarray, params: dict, seed: int) -> tuple[np.ndarray, int]:
    if np.all(y == y[0]):  # a constant target has nothing to explain
        return np.zeros(X_reg.shape[1]), 0
    if kind == "grnboost2":
        p = dict(params)
        window = int(p.pop("early_stop_window", 25))
        reg = GradientBoostingRegressor(random_state=seed, **p)
        reg.fit(X_reg, y, monitor=SameSetOOBEarlyStop(window) if window else None)
        n = len(reg.estimators_)
        return reg.feature_importances_ * n, n
    reg = RandomForestRegressor(random_state=seed, n_jobs=1, **params)
    reg.fit(X_reg, y)
    return reg.feature_importances_, len(reg.estimators_)


def _fit_block(shared: dict, block: list[tuple[int, int]]) -> list[tuple[int, np.ndarray, np.ndarray, int]]:
    """Fit the targets of one block: ``block`` = [(target column, seed)]; ``shared`` = X, regulators, settings."""
    X, reg_idx, kind, params = shared["X"], shared["reg_idx"], shared["kind"], shared["params"]
    out = []
    # As arboreto: regressors in float32 (what scikit-learn's trees cast them to anyway), target in float64.
    X_reg = shared["X_reg"]
    for t, seed in block:
        keep = reg_idx != t
        cols = reg_idx[keep]
        imp, n = _fit_target(kind, X_reg[:, cols], X[:, t], params, seed)
        out.append((t, cols, imp, n))
    return out


def block_inputs(kind: str, X: np.ndarray, reg_idx, params: dict) -> dict:
    """What every block of targets reads (scattered once to each worker): the expression, its float32 copy for
    the regressors, the regulator columns, the method and its regressor parameters."""
    return {"X": X, "X_reg": X.astype(np.float32), "reg_idx": np.asarray(reg_idx), "kind": kind, "params": params}


SEEDINGS = ("per-target", "shared")


def target_seeds(genes: list[str], targets: list[int], seed: int, seeding: str) -> list[int]:
    """The ``random_state`` of each target's regressor.

    ``shared`` (default): the run seed for every target, as arboreto does when given a seed (every forest then
    draws the same bootstrap rows); faithful to arboreto/BEELINE. ``per-target``: derived from the run seed and
    the target's name (:func:`methods.blocks.item_seed`), so targets draw independent bootstrap samples and
    feature subsets. Either way a target's result does not depend on which worker fits it, on the block size or
    on the other targets.
    """
    from methods.blocks import item_seed

    if seeding not in SEEDINGS:
        raise BenchError(f"unknown seeding {seeding!r}.", f"Use one of {', '.join(SEEDINGS)}.")
    if seeding == "shared":
        return [int(seed)] * len(targets)
    return [item_seed(seed, genes[t]) for t in targets]


def _infer(kind: str, X, genes, tfs, seed: int, n_jobs: int | None, targets, params: dict,
           return_info: bool, scheduler: str | None = None, block_size: int | None = None):
    from methods.blocks import map_blocks, scheduler_from_env

    X = dense(X, np.float64)
    genes = [str(g) for g in genes]
    if X.ndim != 2 or X.shape[1] != len(genes):
        raise BenchError(f"expression has shape {X.shape} but {len(genes)} gene names were given.",
                         "Pass a cells x genes matrix and one name per column.")
    if not np.isfinite(X).all():
        raise BenchError("expression contains NaN or infinite values.", "Remove or impute them first.")
    params = dict(params)
    seeding = params.pop("seeding", "shared")
    index = {g: i for i, g in enumerate(genes)}
    if tfs is None:
        reg_idx = list(range(len(genes)))
    else:
        reg_idx = sorted(index[t] for t in set(map(str, tfs)) if t in index)
        if not reg_idx:
            raise BenchError("none of the given TFs is among the expression's genes.",
                             "Check the TF list's species and gene-symbol style.")
    tgt_idx = list(range(len(genes))) if targets is None else [index[t] for t in targets if t in index]
    scheduler = scheduler if scheduler is not None else scheduler_from_env()
    n_jobs = n_jobs or settings.n_jobs
    # Small problems: starting worker processes costs more than the fits.
    if len(tgt_idx) * X.shape[0] * len(reg_idx) < 5_000_000:
        n_jobs = 1
    shared = block_inputs(kind, X, reg_idx, params)
    items = list(zip(tgt_idx, target_seeds(genes, tgt_idx, seed, seeding)))
    results = map_blocks(_fit_block, shared, items, block_size=block_size, scheduler=scheduler or None,
                         n_jobs=n_jobs, name=f"bench-{kind}")
    regs, tgts, ws, info = [], [], [], []
    for block in results:
        for t, cols, imp, n in block:
            nz = imp > 0
            regs.extend(genes[c] for c in cols[nz])
            tgts.extend([genes[t]] * int(nz.sum()))
            ws.extend(imp[nz].tolist())
            info.append((genes[t], n))
    edges = rank_edges(pd.DataFrame({"regulator": regs, "target": tgts, "weight": np.asarray(ws, dtype=float)})) \
        if regs else empty_edges()
    if return_info:
        return edges, pd.DataFrame(info, columns=["target", "n_estimators"])
    return edges


def grnboost2(X, genes, tfs=None, *, seed: int = 0, n_jobs: int | None = None, targets=None,
              return_info: bool = False, scheduler: str | None = None, block_size: int | None = None, **params):
    """GRNBoost2 (Moerman et al. 2019): stochastic gradient boosting per target with OOB early stopping.

    Parameters
    ----------
    X
        Cells x genes expression (dense or sparse).
    genes
        Gene names, one per column.
    tfs
        Candidate regulators; ``None`` = every gene (the paper's method benchmark).
    seed
        Run seed; each target's ``random_state`` derives from it (see ``seeding``).
    n_jobs
        Local worker processes when no scheduler is used; default ``settings.n_jobs`` (all cores).
    targets
        Restrict to these target genes (default: all).
    return_info
        Also return a table of boosting rounds per target.
    scheduler
        Address of a running Dask scheduler: targets become Dask tasks there. ``None`` = ``$BENCH_SCHEDULER``
        if set, else local processes.
    block_size
        Targets per task (default: about four tasks per worker); never changes the result.
    **params
        Overrides of ``GRNBOOST2_DEFAULTS`` (``learning_rate``, ``n_estimators``, ``max_features``, ``subsample``,
        ``early_stop_window`` (0 disables early stopping), ``seeding``).
    """
    p = {**GRNBOOST2_DEFAULTS, **params}
    return _infer("grnboost2", X, genes, tfs, seed, n_jobs, targets, p, return_info, scheduler, block_size)


def genie3(X, genes, tfs=None, *, seed: int = 0, n_jobs: int | None = None, targets=None,
           return_info: bool = False, scheduler: str | None = None, block_size: int | None = None, **params):
    """GENIE3 (Huynh-Thu et al. 2010): a random forest per target; weight = impurity importance.

    Parameters are as :func:`grnboost2`; ``**params`` override ``GENIE3_DEFAULTS`` (``n_estimators`` = 1000,
    ``max_features`` = ``"sqrt"``, ``seeding``) and pass on to :class:`sklearn.ensemble.RandomForestRegressor`.
    """
    p = {**GENIE3_DEFAULTS, **params}
    return _infer("genie3", X, genes, tfs, seed, n_jobs, targets, p, return_info, scheduler, block_size)
