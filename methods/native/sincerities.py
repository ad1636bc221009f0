"""SINCERITIES (Papili Gao et al. 2018) as BEELINE runs it, in numpy.

BEELINE's runner and the R package (``MAIN.R`` with ``distance=1, method=1, noDIAG=0, SIGN=1``):

1. **Time bins.** Cells get the midpoint of their ``pandas.qcut(pseudotime, q=n_bins, duplicates="drop")``
   interval (``(left + right) / 2``; pandas rounds the edges to 3 significant digits and lowers the first left edge
   by 0.1 %, and BEELINE uses those rounded midpoints, so they are used here too). At least 5 distinct bins are
   needed (SINCERITIES' own check).
2. **Distribution distances.** ``D[k, g]`` = the two-sample Kolmogorov-Smirnov statistic between the values of gene
   ``g`` in bins ``k`` and ``k+1`` (R's ``ks.test()$statistic``), divided by the time step ``t[k+1] - t[k]``.
3. **Regression.** For every target ``g``: ``y = D[2:T-1, g]`` on ``X = D[1:T-2, :]`` (every gene, itself included:
   ``noDIAG = 0``) by ``cv.glmnet(alpha = 0, lower.limits = 0, nfolds = T-2, grouped = FALSE)``: a non-negative
   ridge path with leave-one-out CV; the coefficients at ``lambda.min`` form column ``g`` of the adjacency.
   ``adj[i, g]`` is gene ``i`` -> gene ``g`` (BEELINE relabels SINCERITIES' swapped output columns to this).
4. **Sign.** ``adj *= sign(pcor)`` with the Spearman partial correlations of all the lineage's cells (ppcor), then
   ``adj /= max(adj)``; BEELINE's EdgeWeight is ``|adj|``, so the sign never changes the ranking, and the edge
   table (one schema for every method: regulator, target, weight, rank) carries ``|adj|``. The signed matrix
   (SINCERITIES' activation/repression "Edges" column) is what :func:`sincerities_matrix` returns.

glmnet, reproduced (R glmnet's gaussian ``elnet``; ``alpha = 0``):

* x columns centred and scaled by their 1/N standard deviation; **y is standardised too** (centred, divided by
  its 1/N sd ``ys``), and glmnet solves ``1/(2N) ||y~ - X~ b||^2 + (lambda'/2) ||b||^2`` with ``b >= 0``; reported
  lambdas are ``lambda = ys * lambda'`` and coefficients ``beta = ys * b / xs`` (intercept ``ym - xm . beta``).
  For ridge this makes the effective penalty depend on ``ys``, as in glmnet.
* Path: ``lambda'_max = max_j |<x~_j, y~>| / N / max(alpha, 1e-3)``, 100 values down to ``lambda_min_ratio`` x
  that (0.01 when N < p, else 1e-4) on a log scale. The first solution is computed at "infinite" lambda
  (all-zero b) and its lambda reported as ``lambda_2^2 / lambda_3``. The path stops early (from the 5th lambda
  on) when the explained deviance gains less than 1e-5 relative or exceeds 0.999.
* CV: every leave-one-out fold fits its *own* automatic path (cv.glmnet does not hand the full path to the
  folds). ``cv_alignment`` says how a fold's predictions line up with the full path's lambdas:
  ``"lambda"`` (default; glmnet's default since the option exists, 2.0-18): predictions at the full path's
  lambdas, interpolated along the fold's path; ``"fraction"``: the fold's k-th solution is scored against the
  full path's k-th lambda. Which one glmnet 2.0-13 (BEELINE's image) does could not be shown: its NEWS says
  cross-validation has let "each model use its own lambdas, then predict at original set" since 2.0-1, and
  2.0-18 added the ``alignment`` argument (default ``"lambda"``) "for cases when wierd things happen"; the
  only older gaussian ``cv.elnet`` source found predicts by index but seems to predate 2.0-1. So the default
  is glmnet's documented default, and ``"fraction"`` stays a named option. ``cvm`` is the mean squared
  error of the held-out points; ``lambda.min`` is the *largest* lambda with ``cvm == min(cvm)``.
* Checked (dev only, not in the test suite) against R glmnet 4.1-6 ``cv.glmnet(..., thresh=1e-14)`` with both
  alignments on 8 x 30 data: lambda paths equal to 1e-15 (relative), ``cvm`` to 1e-9 (relative), coefficients
  at ``lambda.min`` to 2e-10 (absolute; largest 0.14), same ``lambda.min``; and on BEELINE's example (both
  lineages, default ``thresh``) coefficients within 1.3e-5 of R's, same ``lambda.min`` for every target, with
  either alignment.

The per-lambda problems are solved exactly (not by coordinate descent to glmnet's 1e-7 tolerance): a semismooth
Newton method on the n-dimensional dual (n <= 8 time steps), ``b = (X~' v)_+ / lambda'``, vectorised over all
targets.

Deviations from BEELINE (documented, not hidden): genes constant within a lineage are dropped before the fit
(BEELINE's ppcor then returns NaN and every weight becomes NA); a target whose ``y`` is constant (glmnet: division
by ``ys = 0``) gets all-zero coefficients. Multiple lineages: one run per lineage, then the maximum weight per pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
import scipy.sparse as sp
from scipy.stats import rankdata

from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.native._kernels import edges_from_matrix, per_lineage
from methods.pseudotime import order_cells

# glmnet.control() defaults
_FDEV, _DEVMAX, _MNLAM = 1e-5, 0.999, 5


# ----------------------------------------------------------------------------------------------------------------
# step 1-2: bins and KS distances
# ----------------------------------------------------------------------------------------------------------------

def time_bins(pseudotime: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """BEELINE's ``Time`` column: the midpoint of each cell's ``pd.qcut`` interval (pandas' rounded edges)."""
    cats = pd.qcut(pd.Series(np.asarray(pseudotime, dtype=float)), q=n_bins, duplicates="drop")
    mids = np.array([(iv.left + iv.right) / 2 for iv in cats.cat.categories], dtype=float)
    return mids[cats.cat.codes.to_numpy()]


def ks_statistics(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-sample KS statistic ``D`` for every column (gene) of ``a`` (n1 x G) against ``b`` (n2 x G).

    Same computation as R's ``ks.test``: cumulative sum of +1/n1 (a) and -1/n2 (b) over the pooled values in
    stable sorted order, evaluated at the last position of each run of tied values; ``D = max |.|``.
    """
    n1, n2 = a.shape[0], b.shape[0]
    pooled = np.vstack([a, b])
    w = np.concatenate([np.full(n1, 1.0 / n1), np.full(n2, -1.0 / n2)])
    order = np.argsort(pooled, axis=0, kind="stable")
    srt = np.take_along_axis(pooled, order, axis=0)
    z = np.cumsum(w[order], axis=0)
    last_of_run = np.ones_like(srt, dtype=bool)
    last_of_run[:-1] = srt[1:] != srt[:-1]
    return np.where(last_of_run, np.abs(z), 0.0).max(axis=0)


def distance_matrix(x: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D normalised by delta t, sorted unique times)``; ``x`` is cells x genes, ``times`` the bin midpoints."""
    uniq = np.unique(times)
    groups = [x[times == t] for t in uniq]
    d = np.vstack([ks_statistics(groups[k], groups[k + 1]) for k in range(len(uniq) - 1)])
    return d / np.diff(uniq)[:, None], uniq


# ----------------------------------------------------------------------------------------------------------------
# step 3: glmnet-equivalent non-negative ridge path with leave-one-out CV
# ----------------------------------------------------------------------------------------------------------------

def _standardise(x: np.ndarray, y: np.ndarray):
    """glmnet's ``standard1`` (unit weights): 1/N moments. Returns xt, xm, xs, yt, ym, ys (constant x cols -> 0)."""
    n = x.shape[0]
    xm = x.mean(axis=0)
    xc = x - xm
    xs = np.sqrt((xc * xc).sum(axis=0) / n)
    ok = x.max(axis=0) > x.min(axis=0)  # glmnet's chkvars: exact constancy (xs may be 1e-17, not 0)
    xt = np.where(ok, xc / np.where(ok, xs, 1.0), 0.0)
    ym = y.mean(axis=0)
    yc = y - ym
    ys = np.where(y.max(axis=0) > y.min(axis=0), np.sqrt((yc * yc).sum(axis=0) / n), 0.0)
    yt = np.where(ys > 0, yc / np.where(ys > 0, ys, 1.0), 0.0)
    return xt, xm, np.where(ok, xs, 0.0), yt, ym, ys


def nn_ridge(xt: np.ndarray, yt: np.ndarray, lam: np.ndarray, state: tuple | None = None,
             tol: float = 1e-13, max_iter: int = 100) -> tuple[np.ndarray, tuple]:
    """Exact ``argmin_{b >= 0} 1/(2n) ||y - X b||^2 + lam/2 ||b||^2`` for many right-hand sides at once.

    ``xt``: n x p (shared), ``yt``: n x T, ``lam``: (T,) > 0. Returns ``(B p x T, state)``; pass ``state`` to the
    next call on the same data (a lambda path) as a warm start. Semismooth Newton on the concave dual
    ``D(v) = v.y - n/2 |v|^2 - 1/(2 lam) |(X'v)_+|^2``, whose maximiser gives ``b = (X'v)_+ / lam``. Its Hessian
    is ``-(n I + X_A X_A' / lam)`` over the active genes ``A = {j: (X'v)_j > 0}``; ``K = X_A X_A'`` (upper triangle)
    is updated only for genes that enter or leave ``A``. A Newton step that keeps ``A`` is the exact optimum; one
    that changes it is accepted only with sufficient increase of ``D`` (backtracking otherwise).
    """
    n, p = xt.shape
    ntar = yt.shape[1]
    iu0, iu1 = np.triu_indices(n)
    outer = xt[iu0] * xt[iu1]  # m x p, m = n(n+1)/2: the entries of x_j x_j'
    if state is None:
        v = yt / n
        u = xt.T @ v
        mask = u > 0
        kmat = outer @ mask.astype(np.float64)
    else:
        v, u, mask, kmat = (a.copy() for a in state)

    def dual(vv, uu, ll, yy):
        pos = np.maximum(uu, 0.0)
        return (vv * yy).sum(0) - 0.5 * n * (vv * vv).sum(0) - 0.5 * (pos * pos).sum(0) / ll

    def move(idx, v_new, u_new):  # accept new points for targets idx, keeping K consistent with the mask
        m_new = u_new > 0
        delta = m_new.astype(np.int8) - mask[:, idx].astype(np.int8)
        cols = np.flatnonzero(delta.any(axis=0))
        if cols.size:
            sub = delta[:, cols]
            r, c = np.nonzero(sub)
            upd = sp.csc_matrix((sub[r, c].astype(np.float64), (r, c)), shape=sub.shape).T @ outer.T
            kmat[:, idx[cols]] += np.asarray(upd).T
        v[:, idx], u[:, idx], mask[:, idx] = v_new, u_new, m_new

    scale = np.maximum(np.abs(yt).max(axis=0), 1.0)
    act = np.arange(ntar)
    for _ in range(max_iter):
        if act.size == 0:
            break
        full = act.size == ntar
        la, ya, va = lam[act], (yt if full else yt[:, act]), (v if full else v[:, act])
        ua = u if full else u[:, act]
        grad = ya - n * va - (xt @ np.maximum(ua, 0.0)) / la
        keep = np.abs(grad).max(axis=0) > tol * scale[act]
        if not keep.any():
            break
        if not keep.all():
            act, la, ya, va, ua, grad = act[keep], la[keep], ya[:, keep], va[:, keep], ua[:, keep], grad[:, keep]
        hess = np.empty((act.size, n, n))
        hess[:, iu0, iu1] = kmat[:, act].T
        hess[:, iu1, iu0] = kmat[:, act].T
        hess = hess / la[:, None, None] + n * np.eye(n)
        step = np.linalg.solve(hess, grad.T[:, :, None])[:, :, 0].T  # ascent direction, n x A
        v_new = va + step
        u_new = xt.T @ v_new
        same = ((u_new > 0) == (ua > 0)).all(axis=0)
        if same.any():
            # active set unchanged: the quadratic model is exact on this piece, so v_new is the optimum
            idx = act[same]
            v[:, idx], u[:, idx] = v_new[:, same], u_new[:, same]
        bad = np.flatnonzero(~same)
        if bad.size:  # Armijo backtracking on the dual
            idx = act[bad]
            va_b, ya_b, la_b, step_b = va[:, bad], ya[:, bad], la[bad], step[:, bad]
            d0 = dual(va_b, ua[:, bad], la_b, ya_b)
            slope = (grad[:, bad] * step_b).sum(0)
            s = np.ones(bad.size)
            cand_v, cand_u = v_new[:, bad], u_new[:, bad]
            todo = np.arange(bad.size)
            for _ls in range(50):
                dc = dual(cand_v[:, todo], cand_u[:, todo], la_b[todo], ya_b[:, todo])
                ok = dc >= d0[todo] + 1e-4 * s[todo] * slope[todo] - 1e-15 * np.abs(d0[todo])
                todo = todo[~ok]
                if todo.size == 0:
                    break
                s[todo] *= 0.5
                cand_v[:, todo] = va_b[:, todo] + s[todo] * step_b[:, todo]
                cand_u[:, todo] = xt.T @ cand_v[:, todo]
            move(idx, cand_v, cand_u)
        act = act[bad]  # the others are solved
    b = np.maximum(u, 0.0) / lam
    return b, (v, u, mask, kmat)


def _lambda_path(xt, yt, ys, n, p, nlambda, lambda_min_ratio, alpha=0.0):
    """glmnet's own lambda' sequence (standardised scale) per target: (nlambda x T)."""
    flmin = lambda_min_ratio if lambda_min_ratio is not None else (0.01 if n < p else 1e-4)
    g = np.abs(xt.T @ yt) / n  # p x T
    lmax = g.max(axis=0) / max(alpha, 1e-3)
    alf = flmin ** (1.0 / (nlambda - 1))
    return lmax[None, :] * alf ** np.arange(nlambda)[:, None]


def _path_fit(xt, yt, lam_std, first_is_big: bool, visit) -> None:
    """Solve along a lambda' path (nlam x T), calling ``visit(k, b)`` with each p x T solution (warm starts)."""
    v = None
    for k in range(lam_std.shape[0]):
        if k == 0 and first_is_big:
            visit(k, np.zeros((xt.shape[1], yt.shape[1])))  # glmnet's first lambda is "big": b = 0
            continue
        b, v = nn_ridge(xt, yt, np.maximum(lam_std[k], 1e-300), state=v)
        visit(k, b)


def _auto_path(xt, yt, ys, nlambda, lambda_min_ratio, visit):
    """glmnet's own path on standardised data: ``(lambda' nlam x T, rsq, n_kept (T,))``, calling ``visit(k, b)``."""
    n, p = xt.shape
    lam_std = _lambda_path(xt, yt, ys, n, p, nlambda, lambda_min_ratio)
    lam_std[:, ys <= 0] = 1.0  # constant y: b = 0 at any lambda (glmnet would divide by ys = 0)
    rsq = np.zeros((nlambda, yt.shape[1]))

    def record(k, b):
        r = yt - xt @ b
        rsq[k] = 1.0 - (r * r).sum(0) / n
        visit(k, b)

    _path_fit(xt, yt, lam_std, True, record)
    # glmnet stops an automatic path early (from the mnlam-th lambda on) when the fit saturates
    nkeep = np.full(yt.shape[1], nlambda)
    for k in range(_MNLAM - 1, nlambda):
        stop = ((rsq[k] - rsq[k - 1]) < _FDEV * rsq[k]) | (rsq[k] > _DEVMAX)
        nkeep[stop & (nkeep == nlambda)] = k + 1
    return lam_std, nkeep


def _reported(lam_std, ys):
    """Lambdas as glmnet reports them: ``ys * lambda'``, the first ("big") one replaced by ``lambda_2^2/lambda_3``."""
    lam = lam_std * ys[None, :]
    lam[0] = lam[1] ** 2 / lam[2]
    return lam


ALIGNMENTS = ("fraction", "lambda")


def glmnet_ridge_cv(x: np.ndarray, y: np.ndarray, *, nlambda: int = 100, lambda_min_ratio: float | None = None,
                    alignment: str = "lambda") -> dict:
    """``cv.glmnet(x, y, alpha=0, lower.limits=0, nfolds=N, grouped=FALSE)`` for every column of ``y``.

    Every leave-one-out fold fits its *own* automatic lambda path (glmnet's cv.glmnet does not pass the full
    path to the folds). ``alignment`` says how fold predictions line up with the full path's lambdas:

    * ``"lambda"`` (default; glmnet's ``alignment="lambda"``): fold predictions at the full path's lambdas,
      linearly interpolated in lambda along the fold's path (clamped at its ends), as ``predict(fit, s=lambda)``;
    * ``"fraction"`` (glmnet's ``alignment="fraction"``): the fold's k-th solution is scored against the full
      path's k-th lambda; a fold path that stopped early leaves NA (``cvm`` averages the folds that have a value).

    ``x``: N x p, ``y``: N x T. Returns ``{"beta": p x T at lambda.min, "lambda": list of per-target reported
    lambda paths (truncated as glmnet would), "lambda_min": (T,), "cvm": list of per-target cvm}``.
    """
    if alignment not in ALIGNMENTS:
        raise BenchError(f"unknown glmnet CV alignment {alignment!r}.", f"Choose one of: {', '.join(ALIGNMENTS)}.")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, p = x.shape
    ntar = y.shape[1]
    xt, xm, xs, yt, ym, ys = _standardise(x, y)
    live = np.flatnonzero(ys > 0)  # constant y: glmnet divides by ys = 0; here: all-zero coefficients
    beta = np.zeros((p, ntar))
    lam_min = np.full(ntar, np.nan)
    lambdas: list = [None] * ntar
    cvms: list = [None] * ntar
    if live.size == 0:
        return {"beta": beta, "lambda": lambdas, "lambda_min": lam_min, "cvm": cvms}
    ytl, ysl = yt[:, live], ys[live]
    lam_std, nkeep = _auto_path(xt, ytl, ysl, nlambda, lambda_min_ratio, lambda k, b: None)
    lam_rep = _reported(lam_std, ysl)

    sqerr = np.zeros((nlambda, live.size))
    count = np.zeros((nlambda, live.size))
    for i in range(n):
        tr = np.delete(np.arange(n), i)
        xf, xmf, xsf, yf, ymf, ysf = _standardise(x[tr], y[tr][:, live])
        xi = np.where(xsf > 0, (x[i] - xmf) / np.where(xsf > 0, xsf, 1.0), 0.0)  # held-out row, fold-standardised
        pred = np.empty((nlambda, live.size))

        def record_pred(k, b, xi=xi, ymf=ymf, ysf=ysf, pred=pred):
            pred[k] = ymf + ysf * (xi @ b)  # = b0 + x_i . beta with beta = ys b / xs, b0 = ym - xm . beta

        lam_f, nk_f = _auto_path(xf, yf, ysf, nlambda, lambda_min_ratio, record_pred)
        if alignment == "fraction":
            valid = np.arange(nlambda)[:, None] < nk_f[None, :]
        else:
            lam_f_rep = _reported(lam_f, np.where(ysf > 0, ysf, 1.0))
            for c in range(live.size):
                m = nk_f[c]  # np.interp wants increasing abscissae; clamps at the ends like glmnet
                pred[:, c] = np.interp(lam_rep[:, c], lam_f_rep[:m, c][::-1], pred[:m, c][::-1])
            valid = np.ones((nlambda, live.size), dtype=bool)
        err = (y[i, live][None, :] - pred) ** 2
        sqerr += np.where(valid, err, 0.0)
        count += valid
    with np.errstate(invalid="ignore", divide="ignore"):
        cvm_all = np.where(count > 0, sqerr / np.maximum(count, 1), np.nan)
    kmin = np.zeros(live.size, dtype=int)
    for c, t in enumerate(live):
        m = nkeep[c]
        cvm = cvm_all[:m, c]
        kmin[c] = int(np.flatnonzero(cvm <= np.nanmin(cvm))[0])  # lambdas decrease: first = largest lambda
        lam_min[t] = lam_rep[kmin[c], c]
        lambdas[t] = lam_rep[:m, c]
        cvms[t] = cvm
    # coefficients of the full-data path at lambda.min (k = 0 is the all-zero "big" solution)
    sel = np.flatnonzero(kmin > 0)
    if sel.size:
        b, _ = nn_ridge(xt, ytl[:, sel], lam_std[kmin[sel], sel])
        t_idx = live[sel]
        beta[:, t_idx] = np.where(xs[:, None] > 0, ys[t_idx][None, :] * b / np.where(xs > 0, xs, 1.0)[:, None], 0.0)
    return {"beta": beta, "lambda": lambdas, "lambda_min": lam_min, "cvm": cvms}


# ----------------------------------------------------------------------------------------------------------------
# step 4: sign from Spearman partial correlation (ppcor)
# ----------------------------------------------------------------------------------------------------------------

def spearman_pcor(x: np.ndarray) -> np.ndarray:
    """ppcor's ``pcor(x, method="spearman")$estimate`` (cells x genes): -cov2cor(inverse of the rank covariance).

    ppcor inverts with ``solve`` unless ``det(S) < .Machine$double.eps``, where it uses ``MASS::ginv``; R's ``det``
    is evaluated through the log-determinant here (it over/underflows in R, which decides the branch the same way).
    """
    r = rankdata(x, axis=0)
    s = np.cov(r, rowvar=False)
    sign, logdet = np.linalg.slogdet(s)
    if sign <= 0 or logdet < np.log(np.finfo(float).eps):
        prec = np.linalg.pinv(s, rtol=np.sqrt(np.finfo(float).eps), hermitian=True)
    else:
        prec = np.linalg.inv(s)
    d = np.sqrt(np.abs(np.diag(prec)))
    pc = -prec / np.outer(d, d)
    np.fill_diagonal(pc, 1.0)
    return pc


# ----------------------------------------------------------------------------------------------------------------
# the method
# ----------------------------------------------------------------------------------------------------------------

def sincerities_matrix(x: np.ndarray, pseudotime: np.ndarray, *, n_bins: int = 10, sign: bool = True,
                       nlambda: int = 100, cv_alignment: str = "lambda") -> np.ndarray:
    """SINCERITIES' normalised signed adjacency (``adj[i, g]``: gene i -> gene g) for ``x`` (cells x genes)."""
    times = time_bins(pseudotime, n_bins)
    order = order_cells(times, "stable")  # uploading.R sorts cells by time (R's order() is stable)
    d, uniq = distance_matrix(x[order], times[order])
    if len(uniq) < 5:
        raise BenchError(f"SINCERITIES needs at least 5 distinct pseudotime bins; qcut gave {len(uniq)}.",
                         "Give a pseudotime with more distinct values (or more cells).")
    xm = d[:-1]  # D[1:T-2, :]
    ym = d[1:]   # D[2:T-1, :]: every gene is a target
    with threadpool_limits(limits=1):  # many small products: threads only contend (see scode.py)
        fit = glmnet_ridge_cv(xm, ym, nlambda=nlambda, alignment=cv_alignment)
        adj = fit["beta"]
        if sign:
            adj = adj * np.sign(spearman_pcor(x))
    top = adj.max()
    if top > 0:
        adj = adj / top
    elif np.abs(adj).max() > 0:  # R would divide by a non-positive max; only |adj| matters for the ranking
        adj = adj / np.abs(adj).max()
    return adj


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, n_bins: int = 10, cv_alignment: str = "lambda",
          self_loops: bool = False, **params) -> pd.DataFrame:
    """Run SINCERITIES on ``adata.X`` (cells x genes) along ``pseudotime``; see the module docstring.

    Returns the edge table with weight ``|adj|`` (BEELINE's EdgeWeight). ``pseudotime``: 1-D, or one column per
    lineage (NaN off-lineage); ``None`` computes the cached PAGA-rooted DPT. ``tfs`` is ignored (BEELINE runs
    SINCERITIES on all genes). ``seed`` is unused: the method is deterministic.
    """
    if params:
        raise BenchError(f"SINCERITIES got unknown parameter(s): {', '.join(sorted(params))}.",
                         "Known: n_bins, cv_alignment, self_loops.")

    def one_lineage(x, t, genes):
        varying = np.flatnonzero(x.max(axis=0) > x.min(axis=0))
        if varying.size < 2:
            raise BenchError("SINCERITIES needs at least 2 genes that vary along a lineage.", "Check the data.")
        adj = np.abs(sincerities_matrix(x[:, varying], t, n_bins=n_bins, cv_alignment=cv_alignment))
        return edges_from_matrix(adj, genes[varying], keep=np.ones(adj.shape, bool) if self_loops else None)

    return per_lineage(adata, pseudotime, one_lineage, seed=seed)


METHOD = Method(
    MethodInfo(
        name="sincerities",
        label="SINCERITIES",
        summary="Ridge regression of KS distribution shifts between pseudotime bins; sign from partial correlation.",
        paper="Papili Gao et al., Bioinformatics 34(2):258-266 (2018), doi:10.1093/bioinformatics/btx575",
        code_url="https://github.com/CABSEL/SINCERITIES",
        pseudotime="values",
        directed=True,
        signed=False,
        accepts_tfs=False,
        defaults={"n_bins": 10, "cv_alignment": "lambda", "self_loops": False},
        license="grn-bench reimplementation (MIT); SINCERITIES R code is distributed in BEELINE (GPL-3)",
    ),
    infer,
)
