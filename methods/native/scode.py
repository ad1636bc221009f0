"""SCODE (Matsumoto et al. 2017) as BEELINE runs it, in numpy.

Model: expression ``x(t)`` (G genes) follows the linear ODE ``dx/dt = A x``; SCODE writes ``x ~ W z`` with ``z``
(``z`` = D = 10 latent signals) following ``dz/dt = diag(B) z``, so ``z_d(t) = exp(B_d t)``, and returns
``A = W diag(B) W^+``. ``B`` is searched by random single-coordinate proposals (``B_d ~ U(-10, 2)``), ``W`` is the
no-intercept least-squares fit of ``X`` on ``Z`` at each proposal, and a proposal is kept when the residual sum of
squares drops. BEELINE runs ``nRep = 6`` independent replicates of ``nIter = 1000`` proposals and averages the
``A`` matrices (``averageA.R``); pseudotime is divided by its maximum.

Faithfulness (``optimizer``):

* ``"beeline-a0512f8"`` (default): SCODE at commit a0512f8, the one BEELINE's image checks out. There an accepted
  proposal never updates ``old_B``, so a rejected proposal resets the coordinate to its *initial* value and the
  final iteration ("for last calculation") sets ``B`` back to the initial random draw: each replicate returns
  ``A = W(B0) diag(B0) W(B0)^+`` for a random ``B0 ~ U(-10, 2)^10`` and the search is thrown away. The paper's
  SCODE numbers come from this behaviour.
* ``"fixed-d481cd8"``: upstream's fix (accepted proposals update ``old_B``), i.e. the optimiser SCODE intends.

As in R, the Z matrix gets fresh ``U(-0.001, 0.001)`` jitter at every iteration. R's random stream cannot be
reproduced; numpy's seeded generator is used instead (replicate ``r`` draws from ``default_rng([seed, r])``), so
the same seed gives the same edges.

Orientation (``orientation``): in ``dx/dt = A x``, ``A[i, j]`` is the effect of gene ``j`` on gene ``i`` (SCODE's
README: "Aij represents the regulatory relationship from TF j to TF i"). BEELINE's ``parseOutput`` nevertheless
writes ``Gene1 = gene of row i, Gene2 = gene of column j``, so in BEELINE's (and the paper's) output the
"regulator" column holds the *affected* gene. ``"beeline"`` (default) reproduces that: ``regulator = row i``,
``target = column j``. ``"scode"`` follows the model: ``regulator = column j``, ``target = row i``.

Weights are ``|mean A|`` (BEELINE's EdgeWeight); every ordered pair is listed. Self-pairs (the diagonal, which
BEELINE writes and its evaluation drops) are left out unless ``self_loops=True``. Multiple lineages: one run per
lineage on its cells, then the maximum weight per pair (BEELINE's merge).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg as sla
from threadpoolctl import threadpool_limits

from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix, per_lineage

OPTIMIZERS = ("beeline-a0512f8", "fixed-d481cd8")
ORIENTATIONS = ("beeline", "scode")
MIN_B, MAX_B = -10.0, 2.0


def _ols(zt: np.ndarray, xt: np.ndarray, xx: float) -> tuple[np.ndarray, float]:
    """No-intercept least squares of every gene on Z: returns (W, RSS). ``zt`` is C x D, ``xt`` is C x G."""
    q, r = np.linalg.qr(zt)
    qx = q.T @ xt  # D x G: the only O(C*D*G) step
    try:
        wt = sla.solve_triangular(r, qx, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        wt = None
    if wt is None or not np.isfinite(wt).all():  # (near-)collinear Z: R's lm would alias a column; use min-norm
        wt = np.linalg.lstsq(zt, xt, rcond=None)[0]
        rss = float(np.sum((xt - zt @ wt) ** 2))
    else:
        rss = float(xx - np.sum(qx * qx))  # ||X||^2 - ||Q^T X^T||^2: the residual of the projection
    return wt.T, rss


def scode_replicate(x: np.ndarray, t: np.ndarray, *, z: int = 10, n_iter: int = 1000,
                    optimizer: str = "beeline-a0512f8", rng: np.random.Generator) -> dict:
    """One SCODE replicate (``SCODE.R``) on ``x`` (genes x cells) and ``t`` (pseudotime scaled to max 1).

    Returns ``{"A": G x G, "B": final B, "B0": initial B, "W": G x D, "RSS": best RSS seen}``.
    """
    if optimizer not in OPTIMIZERS:
        raise BenchError(f"unknown SCODE optimizer {optimizer!r}.", f"Choose one of: {', '.join(OPTIMIZERS)}.")
    fixed = optimizer == "fixed-d481cd8"
    xt = np.ascontiguousarray(x.T, dtype=np.float64)  # C x G
    xx = float(np.sum(xt * xt))
    new_b = rng.uniform(MIN_B, MAX_B, size=z)
    old_b = new_b.copy()
    b0 = new_b.copy()
    best_rss = np.inf
    w = None
    for ite in range(1, n_iter + 1):
        target = int(rng.integers(z))
        new_b[target] = rng.uniform(MIN_B, MAX_B)
        if ite == n_iter:  # "for last calculation": refit at old_B
            new_b[:] = old_b
        zmat = np.exp(np.outer(t, new_b)) + rng.uniform(-0.001, 0.001, size=(len(t), z))  # C x D (= t(Z))
        w, rss = _ols(zmat, xt, xx)
        if rss < best_rss:
            best_rss = rss
            if fixed:
                old_b[target] = new_b[target]
        else:
            new_b[target] = old_b[target]
    # MASS::ginv keeps singular values > sqrt(eps) * largest
    a = (w * new_b) @ np.linalg.pinv(w, rtol=np.sqrt(np.finfo(float).eps))
    return {"A": a, "B": new_b.copy(), "B0": b0, "W": w, "RSS": best_rss}


def scode_matrix(x: np.ndarray, pseudotime: np.ndarray, *, z: int = 10, n_iter: int = 1000, n_rep: int = 6,
                 optimizer: str = "beeline-a0512f8", seed: int = 0) -> np.ndarray:
    """Mean ``A`` (genes x genes, signed) over ``n_rep`` replicates; ``x`` is genes x cells."""
    t = np.asarray(pseudotime, dtype=float)
    tmax = t.max()
    if not tmax > 0:
        raise BenchError("SCODE divides pseudotime by its maximum, which is not positive here.",
                         "Give a pseudotime with positive values (e.g. shifted to start at 0).")
    if x.shape[1] <= z:
        raise BenchError(f"SCODE with z={z} needs more than {z} cells on a lineage; it has {x.shape[1]}.",
                         "Use more cells or a smaller z.")
    t = t / tmax
    mean_a = np.zeros((x.shape[0], x.shape[0]))
    # thousands of small (C x 10) products: threaded BLAS only adds contention (measured 100x slower on a
    # busy 2-core machine), so one thread; parallelism belongs to the executor (one method per process)
    with threadpool_limits(limits=1):
        for r in range(n_rep):
            rng = np.random.default_rng([int(seed), r])
            mean_a += scode_replicate(x, t, z=z, n_iter=n_iter, optimizer=optimizer, rng=rng)["A"]
    return mean_a / n_rep


def _scode_edges(a: np.ndarray, genes: np.ndarray, orientation: str, self_loops: bool) -> pd.DataFrame:
    # BEELINE: Gene1 = row gene; SCODE's own meaning: column j regulates row i
    w = np.abs(a if orientation == "beeline" else a.T)
    return edges_from_matrix(w, genes, keep=np.ones(w.shape, bool) if self_loops else None)


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, z: int = 10, n_iter: int = 1000, n_rep: int = 6,
          optimizer: str = "beeline-a0512f8", orientation: str = "beeline", self_loops: bool = False,
          **params) -> pd.DataFrame:
    """Run SCODE on ``adata.X`` (cells x genes) along ``pseudotime``; see the module docstring.

    ``pseudotime``: 1-D (one lineage) or one column per lineage with NaN off-lineage; ``None`` computes the
    cached PAGA-rooted DPT (:func:`methods.pseudotime.compute_pseudotime`). ``tfs`` is ignored (SCODE has no
    candidate-regulator option; BEELINE feeds it every gene).
    """
    if params:
        raise BenchError(f"SCODE got unknown parameter(s): {', '.join(sorted(params))}.",
                         "Known: z, n_iter, n_rep, optimizer, orientation, self_loops.")
    if orientation not in ORIENTATIONS:
        raise BenchError(f"unknown SCODE orientation {orientation!r}.", f"Choose one of: {', '.join(ORIENTATIONS)}.")

    def one_lineage(x, t, genes):
        a = scode_matrix(x.T, t, z=z, n_iter=n_iter, n_rep=n_rep, optimizer=optimizer, seed=seed)
        return _scode_edges(a, genes, orientation, self_loops)

    return per_lineage(adata, pseudotime, one_lineage, seed=seed)


METHOD = Method(
    MethodInfo(
        name="scode",
        label="SCODE",
        summary="Linear ODE dx/dt = A x fitted through a low-dimensional exponential basis along pseudotime.",
        paper="Matsumoto et al., Bioinformatics 33(15):2314-2321 (2017), doi:10.1093/bioinformatics/btx194",
        code_url="https://github.com/hmatsu1226/SCODE",
        pseudotime="values",
        directed=True,
        signed=False,
        accepts_tfs=False,
        defaults={"z": 10, "n_iter": 1000, "n_rep": 6, "optimizer": "beeline-a0512f8", "orientation": "beeline",
                  "self_loops": False},
        license="grn-bench reimplementation (MIT); upstream SCODE has no license file",
        presets={"fixed": {"optimizer": "fixed-d481cd8"},
                 "fast": {"n_iter": 100, "n_rep": 2}},
    ),
    infer,
)
