"""CeSpGRN: a cell-specific graphical lasso per cell, summarised as the mean absolute edge weight over cells.

Faithful to CeSpGRN (PeterZZQ/CeSpGRN ``src/kernel.py``, ``src/g_admm.py``, ``demo.py``) with its demo defaults,
rewritten in numpy/torch so that it runs at 2,230 cells x 1,000 genes in bounded memory:

1. **Expression**: ``counts / rowsum * median(rowsum)``, ``log1p``; PCA with 20 components.
2. **Kernel** (``calc_kernel_neigh``): the smallest ``k >= 5`` whose symmetrised kNN graph is connected, geodesic
   distances on it, ``D /= max(D)``, ``K = exp(-D^2 / (0.5 * bandwidth * median(D)))``; ``K_trun`` keeps each row's
   ``n_neigh`` (30) largest entries (ties included). Both are row-normalised.
3. **Per-cell covariance** (``weighted_kt=True``): weighted Kendall tau over the cell's ``K_trun`` neighbours with
   zeros treated as missing, ``sin(pi/2 tau)``, unit diagonal, eigenvalues <= 0 raised to 1e-3 when the matrix is
   not PSD (eigenvalue < -1e-5).
4. **Smoothed covariance** ``S_t = sum_s K[t, s] Sigma_s`` with the full kernel.
5. **Graphical lasso** per cell by CeSpGRN's ADMM (rho = 1.7 fixed, over-relaxation alpha = 2, L1 on every entry
   including the diagonal, start ``Z = diag(1 / (diag(S) + 0.1))``, stop when the primal and dual residuals are
   < 1e-3, checked every 100 iterations, at most 1000 iterations); the Theta-step uses ``eigh`` (CeSpGRN: sqrtm).
6. **Output**: partial correlations ``G = -theta_ij / sqrt(theta_ii theta_jj)`` (CeSpGRN >= 2024-04; set
   ``output="theta"`` for the precision matrix of older versions) and the consensus ``mean_t |G_t|`` (the
   paper's "averaged the total absolute edge weights across all cells"); undirected, both orientations returned.

Speed and memory (the original keeps four cells x genes^2 tensors, ~53 GB at 2,230 x 1,000):

* The consensus is accumulated one cell at a time; the smoothed covariances are built for ``chunk`` target cells at
  a time (``memory_gb`` bounds them), so memory does not grow with cells x genes^2.
* ADMM runs on batches of up to 120 cells (CeSpGRN's ``batchsize``) with CeSpGRN's batch stopping rule; the
  batch shrinks when its work arrays would not fit in a quarter of ``memory_gb``.
* Per-cell Kendall matrices are eigen-decomposed only on the genes with a non-zero tau (the rest is an identity
  block, so the PSD repair is unchanged).
* Preset ``"fast"`` (a named deviation, recorded with results): graphical lasso at ``anchors`` landmark cells
  (cells nearest to seeded k-means centres in PCA space) instead of every cell, each cell counted in the consensus
  through the landmark most similar to it under the kernel; the smoothing ``S_t`` summed over ``sources`` landmark
  covariances, each weighted by the kernel mass of the cells it stands for (fewer eigen-decompositions); ADMM
  warm-started from the previous landmark along a nearest-neighbour path and checked every 10 iterations.

Cost at 2,230 cells x 1,000 genes on a busy 2-core machine (``benchmarks/cespgrn_memory.py``, extrapolated from
sampled cells, peak memory measured): defaults ~25 h (ADMM ~200 iterations x 2,230 cells), peak RSS 4.7 GB;
preset ``fast`` ~0.5 h, peak RSS 1.5 GB.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path
from scipy.spatial.distance import pdist, squareform
from threadpoolctl import threadpool_limits

from bench.arrays import dense
from bench.errors import BenchError
from methods.base import Method, MethodInfo
from methods.blocks import scheduler_from_env
from methods.native._kernels import edges_from_matrix
from bench.settings import settings

log = logging.getLogger(__name__)

DEFAULTS = {
    "n_pcs": 20,
    "k": 5,
    "bandwidth": 0.1,
    "n_neigh": 30,
    "lamb": 0.1,
    "max_iters": 1000,
    "n_intervals": 100,
    "rho": 1.7,
    "alpha": 2.0,
    "tol": 1e-3,
    "theta_init_offset": 0.1,
    "output": "partial_correlation",
    "anchors": None,
    "sources": None,
    "batchsize": 120,
    "warm_start": False,
    "memory_gb": 4.0,
}

INFO = MethodInfo(
    name="cespgrn",
    label="CeSpGRN",
    summary="Cell-specific graphical lasso on kernel-smoothed Kendall covariances; consensus = mean |weight| over cells.",
    paper="Zhang, Stumpf & Zhang (2023) PLoS Comput. Biol., doi:10.1371/journal.pcbi.1011436",
    code_url="https://github.com/PeterZZQ/CeSpGRN",
    pseudotime="none",
    directed=False,
    signed=False,
    accepts_tfs=True,
    dask_tasks=True,
    defaults=dict(DEFAULTS),
    license="unknown (CeSpGRN repository has no license file)",
    presets={
        "paper": dict(DEFAULTS),
        # Deviates from CeSpGRN (named, recorded with results): graphical lasso at 100 landmark cells, the
        # kernel smoothing over 300 landmark covariances, warm-started ADMM checked every 10 iterations.
        "fast": {"anchors": 100, "sources": 300, "warm_start": True, "n_intervals": 10},
    },
)


# ---------------------------------------------------------------------------------------------------------------
# Preprocessing and kernel
# ---------------------------------------------------------------------------------------------------------------

def log_normalize(X: np.ndarray) -> np.ndarray:
    """CeSpGRN demo: ``log1p(counts / rowsum * median(rowsum))``."""
    X = np.asarray(X, dtype=np.float64)
    lib = X.sum(axis=1, keepdims=True)
    lib[lib == 0] = 1.0
    return np.log1p(X / lib * np.median(lib))


def pca(X: np.ndarray, n_pcs: int, seed: int) -> np.ndarray:
    from sklearn.decomposition import PCA

    n_pcs = int(min(n_pcs, X.shape[0] - 1, X.shape[1]))
    return PCA(n_components=n_pcs, svd_solver="full", random_state=seed).fit_transform(X)


def kernels(X_pca: np.ndarray, k: int = 5, bandwidth: float = 0.1, n_neigh: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """``calc_kernel_neigh(X, k, bandwidth, truncate=True, truncate_param=n_neigh)``: (K, K_trun), row-normalised."""
    D = squareform(pdist(X_pca))
    C = D.shape[0]
    graph = None
    Dsorted = np.sort(D, axis=1)
    for kk in range(min(k, C - 1), C):
        kth = Dsorted[:, kk - 1]  # the cell itself (distance 0) is one of the kk
        knn = D <= kth[:, None]
        knn |= knn.T
        graph = csr_matrix(np.where(knn, D, 0.0))  # zero distances carry no edge, as networkx.from_numpy_array
        if connected_components(graph, directed=False)[0] == 1:
            break
    Dg = shortest_path(graph, directed=False)
    if not np.isfinite(Dg).all():
        raise BenchError("CeSpGRN: the cell kNN graph is not connected (duplicate cells?).", "Remove duplicate cells.")
    Dg /= Dg.max()
    mdis = 0.5 * bandwidth * np.median(Dg)
    K = np.exp(-(Dg**2) / mdis)
    n_neigh = min(n_neigh, C)
    kth = -np.partition(-K, n_neigh - 1, axis=1)[:, n_neigh - 1]
    Kt = np.where(K >= kth[:, None], K, 0.0)
    return K / K.sum(axis=1, keepdims=True), Kt / Kt.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------------------------
# Per-cell weighted Kendall covariance
# ---------------------------------------------------------------------------------------------------------------

def _eigh(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric eigen-decomposition (batched over leading axes): LAPACK through torch for large matrices
    (measured ~3x faster than numpy at 1,000 genes in float32), numpy for small ones (torch's per-call overhead)."""
    if A.shape[-1] >= 256:
        import torch  # imported here: listing methods should not pay for torch

        lam, V = torch.linalg.eigh(torch.from_numpy(np.ascontiguousarray(A)))
        return lam.numpy(), V.numpy()
    return np.linalg.eigh(A)


def weighted_kendall_tau(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted Kendall tau of every gene pair over neighbours ``x`` (m x G) with weights ``w`` (CeSpGRN ``est_cov``).

    ``tau_ij = sum_{a!=b} sgn(x_ia - x_ib) sgn(x_ja - x_jb) m_ab w_a w_b / (sum_{a!=b} m_ab w_a w_b + 1e-12)`` with
    ``m_ab`` = 1 when ``x_ia, x_ja, x_ib, x_jb`` are all non-zero (zeros are treated as missing). Vectorised:
    the numerator is ``T^T T`` over neighbour pairs, the denominator ``(sum_a m w_a)^2 - sum_a m w_a^2``.
    """
    x = np.asarray(x, dtype=np.float32)
    w = np.asarray(w, dtype=np.float32)
    m = x.shape[0]
    nz = x != 0
    a, b = np.triu_indices(m, 1)
    T = np.sign(x[a] - x[b]) * (nz[a] & nz[b]) * np.sqrt(w[a] * w[b])[:, None]  # pairs x genes
    num = 2.0 * (T.T @ T)  # a < b and b < a
    nzf = nz.astype(np.float32)
    s1 = (nzf * w[:, None]).T @ nzf
    s2 = (nzf * (w**2)[:, None]).T @ nzf
    return num / (s1 * s1 - s2 + np.float32(1e-12))


def kendall_covariance(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One cell's covariance: ``sin(pi/2 tau)`` with a unit diagonal, made PSD as CeSpGRN does (eigenvalues
    <= 0 raised to 1e-3 when the smallest is < -1e-5)."""
    cov = np.sin(np.float32(np.pi / 2) * weighted_kendall_tau(x, w))
    G = cov.shape[0]
    np.fill_diagonal(cov, 1.0)
    # Genes with no non-zero tau form an identity block; the eigen-decomposition is only needed on the others.
    act = np.flatnonzero(np.abs(cov - np.eye(G, dtype=np.float32)).max(axis=0) > 0)
    if act.size:
        sub = cov[np.ix_(act, act)]
        lam, V = _eigh(sub)
        if lam.min() < -1e-5:
            lam = np.where(lam <= 0, np.float32(1e-3), lam)
            cov[np.ix_(act, act)] = (V * lam) @ V.T
    return cov


def _cell_covariances(Xn: np.ndarray, Kt: np.ndarray, cells: np.ndarray) -> np.ndarray:
    out = np.empty((len(cells), Xn.shape[1], Xn.shape[1]), dtype=np.float32)
    for r, s in enumerate(cells):
        nb = np.flatnonzero(Kt[s] > 0)
        out[r] = kendall_covariance(Xn[nb], Kt[s, nb])
    return out


# ---------------------------------------------------------------------------------------------------------------
# Graphical lasso (CeSpGRN's ADMM), batched over cells
# ---------------------------------------------------------------------------------------------------------------

def admm_glasso(S: np.ndarray, lamb: float, *, rho: float = 1.7, alpha: float = 2.0, max_iters: int = 1000,
                n_intervals: int = 100, tol: float = 1e-3, theta_init_offset: float = 0.1,
                init: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """CeSpGRN's ADMM for ``min -logdet(T) + tr(S T) + lamb |T|_1`` on a batch of matrices (B x G x G).

    As ``G_admm_minibatch.train``: float32, fixed ``rho``, over-relaxation ``alpha``, soft-threshold on every
    entry, and the batch stops when the largest primal and dual residuals are < ``tol`` (checked every
    ``n_intervals`` iterations). ``init`` = (Z, U) warm start. Returns (Z, U, iterations).
    """
    S = np.array(S, dtype=np.float32, ndmin=3)
    if init is None:
        Z = np.zeros_like(S)
        d = np.arange(S.shape[-1])
        Z[:, d, d] = 1.0 / (S[:, d, d] + theta_init_offset)
        U = np.zeros_like(S)
    else:
        Z = np.array(init[0], dtype=np.float32).reshape(S.shape)
        U = np.array(init[1], dtype=np.float32).reshape(S.shape)
    rho, alpha, lamb = np.float32(rho), np.float32(alpha), np.float32(lamb)
    it = 0
    while it < max_iters:
        Y = U - Z + S / rho
        Y = 0.5 * (Y + Y.transpose(0, 2, 1))  # symmetric in exact arithmetic; keeps eigh on a symmetric input
        lam, V = _eigh(Y)
        # theta = -Y/2 + sqrtm(Y'Y/4 + I/rho), in Y's eigenbasis
        theta = (V * (0.5 * (-lam + np.sqrt(lam * lam + 4.0 / rho)))[:, None, :]) @ V.transpose(0, 2, 1)
        Z_pre = Z
        theta = alpha * theta + (1.0 - alpha) * Z_pre
        A = theta + U
        Z = np.sign(A) * np.maximum((rho * np.abs(A) - lamb) / rho, 0.0)
        U = U + theta - Z
        it += 1
        if it % n_intervals == 0:
            primal = np.sqrt(((theta - Z) ** 2).sum(axis=(1, 2))).max()
            dual = rho * np.sqrt(((Z - Z_pre) ** 2).sum(axis=(1, 2))).max()
            if primal < tol and dual < tol:
                break
    return Z, U, it


def partial_correlation(theta: np.ndarray) -> np.ndarray:
    """``-theta_ij / sqrt(theta_ii theta_jj)`` where theta_ij != 0, zero diagonal (CeSpGRN ``construct_weighted_G``)."""
    d = np.sqrt(np.abs(np.diagonal(theta)))
    with np.errstate(divide="ignore", invalid="ignore"):
        Gm = -theta / np.outer(d, d)
    Gm[~np.isfinite(Gm) | (theta == 0)] = 0.0
    np.fill_diagonal(Gm, 0.0)
    return Gm


# ---------------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------------

def landmarks(X_pca: np.ndarray, K: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` landmark cells (nearest to seeded k-means centres) and, per cell, the index of the landmark it is
    counted as (the landmark most similar to it under the kernel)."""
    from sklearn.cluster import KMeans

    C = X_pca.shape[0]
    if n >= C:
        return np.arange(C), np.arange(C)
    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(X_pca)
    d = ((X_pca[:, None, :] - km.cluster_centers_[None, :, :]) ** 2).sum(-1)
    marks = np.unique(np.argmin(d, axis=0))
    return marks, np.argmax(K[:, marks], axis=1)


def _path_order(X_pca: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Greedy nearest-neighbour path through ``cells`` (so warm starts come from a similar cell)."""
    P = X_pca[cells]
    left = list(range(1, len(cells)))
    order = [0]
    while left:
        d = ((P[left] - P[order[-1]]) ** 2).sum(1)
        order.append(left.pop(int(np.argmin(d))))
    return cells[np.array(order)], np.array(order)


def cespgrn_consensus(X: np.ndarray, *, seed: int = 0, n_jobs: int | None = None, progress: bool = False,
                      scheduler: str | None = None, **params) -> tuple[np.ndarray, dict]:
    """Consensus network (genes x genes, symmetric, zero diagonal) and run statistics.

    ``n_jobs`` = BLAS/LAPACK threads (default ``bench.settings.n_jobs``); small problems always use one thread
    (a multi-threaded LAPACK call on a 30 x 30 matrix was measured 150x slower on a busy 2-core machine, and a
    1,000 x 1,000 ``eigh`` 3x slower with 2 threads than with 1 there).

    ``scheduler`` (a Dask scheduler address; default ``$BENCH_SCHEDULER``): without warm starts, each chunk of target
    cells (``memory_gb`` sets its size: 512 cells at 1,000 genes and 4 GB) is one task on that cluster, using one
    thread; a smaller ``memory_gb`` gives more, smaller tasks. Warm-started ADMM (preset ``fast``) is one sequential
    pass and stays in this process.
    """
    import torch

    threads = 1 if np.shape(X)[1] < 256 else max(1, int(n_jobs or settings.n_jobs))
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            return _consensus(X, seed=seed, progress=progress, threads=threads,
                              scheduler=scheduler if scheduler is not None else scheduler_from_env(), **params)
    finally:
        torch.set_num_threads(saved)


def _consensus(X, *, seed, progress, threads=1, scheduler=None, **params):
    p = dict(DEFAULTS)
    unknown = set(params) - set(p)
    if unknown:
        raise BenchError(f"CeSpGRN: unknown parameter(s) {sorted(unknown)}.", f"Use: {', '.join(sorted(p))}.")
    p.update(params)
    if p["output"] not in ("partial_correlation", "theta"):
        raise BenchError(f"CeSpGRN output must be 'partial_correlation' or 'theta', not {p['output']!r}.",
                         "Fix the parameter.")
    Xn = log_normalize(X)
    C, G = Xn.shape
    if C < 3 or G < 2:
        raise BenchError(f"CeSpGRN needs at least 3 cells and 2 genes, got {C} x {G}.", "Give more data.")
    X_pca = pca(Xn, p["n_pcs"], seed)
    K, Kt = kernels(X_pca, k=p["k"], bandwidth=p["bandwidth"], n_neigh=p["n_neigh"])
    Xn32 = Xn.astype(np.float32)
    if p["anchors"]:
        targets, owner = landmarks(X_pca, K, int(p["anchors"]), seed)
        weights = np.bincount(owner, minlength=len(targets)).astype(np.float64)
    else:
        targets, weights = np.arange(C), np.ones(C)
    if p["sources"]:
        # S_t = sum_l (sum of K[t, s] over the cells s that landmark l stands for) Sigma_l
        src_cells, src_owner = landmarks(X_pca, K, int(p["sources"]), seed + 1)
        Ksrc = np.zeros((C, len(src_cells)))
        np.add.at(Ksrc.T, src_owner, K.T)
    else:
        src_cells, Ksrc = np.arange(C), K
    if p["warm_start"]:
        targets, perm = _path_order(X_pca, targets)
        weights = weights[perm]
    admm = {k: p[k] for k in ("rho", "alpha", "max_iters", "n_intervals", "tol", "theta_init_offset")}
    per_cell_bytes = 4 * G * G
    # half of the budget holds the smoothed covariances of a chunk of target cells
    chunk = max(1, int(p["memory_gb"] * 2**30 // (2 * per_cell_bytes)))
    # ADMM batch: CeSpGRN's 120 cells, fewer when 8 batch-sized work arrays would exceed a quarter of the budget;
    # one cell at a time when warm-starting from the previous cell.
    admm_batch = 1 if p["warm_start"] else max(1, min(int(p["batchsize"]), int(p["memory_gb"] * 2**30 / 4
                                                                                 // (8 * per_cell_bytes))))
    if scheduler and not p["warm_start"]:
        threads = 1  # one task per worker thread
    shared = {"Xn32": Xn32, "Kt": Kt, "Ksrc": Ksrc, "src_cells": src_cells, "targets": targets, "weights": weights,
              "chunk": chunk, "admm_batch": admm_batch, "lamb": p["lamb"], "admm": admm, "output": p["output"],
              "threads": threads, "progress": progress, "warm_start": bool(p["warm_start"])}
    starts = list(range(0, len(targets), chunk))
    stats = {"cells": C, "targets": len(targets), "sources": len(src_cells), "chunks": len(starts),
             "admm_iterations": []}
    consensus = np.zeros((G, G))
    if p["warm_start"]:
        # Each cell starts from the previous one's solution: one sequential pass (cannot be split into tasks
        # without changing the result).
        warm = None
        for start in starts:
            partial, its, warm = _chunk_consensus(shared, start, warm)
            consensus += partial
            stats["admm_iterations"] += its
    else:
        # Chunks are independent: on a cluster each is one Dask task (it recomputes the source covariances it
        # needs, as the serial loop does per chunk); partial sums are added in chunk order either way, so the
        # result does not depend on where the chunks ran.
        from methods.blocks import map_blocks

        for block in map_blocks(_chunk_task, shared, starts, block_size=1, scheduler=scheduler, n_jobs=1,
                                name="bench-cespgrn"):
            for partial, its in block:
                consensus += partial
                stats["admm_iterations"] += its
    consensus /= weights.sum()
    np.fill_diagonal(consensus, 0.0)
    return consensus, stats


def _chunk_task(shared: dict, starts: list[int]) -> list[tuple[np.ndarray, list[int]]]:
    """A block of chunks without warm starts (what one Dask task runs), under the caller's thread limits."""
    import torch
    from threadpoolctl import threadpool_limits

    saved = torch.get_num_threads()
    torch.set_num_threads(shared["threads"])
    try:
        with threadpool_limits(limits=shared["threads"], user_api="blas"):
            return [_chunk_consensus(shared, start, None)[:2] for start in starts]
    finally:
        torch.set_num_threads(saved)


def _chunk_consensus(shared: dict, start: int, warm):
    """One chunk of target cells: smoothed covariances, ADMM in batches, and the weighted sum of their |G_t|.

    Returns (partial consensus sum, ADMM iterations per batch, last (Z, U) for a warm start).
    """
    Xn32, Kt, Ksrc, src_cells = shared["Xn32"], shared["Kt"], shared["Ksrc"], shared["src_cells"]
    targets, weights, admm_batch = shared["targets"], shared["weights"], shared["admm_batch"]
    G = Xn32.shape[1]
    batch = 32  # per-cell covariances computed together (32 x 4 MB at 1,000 genes)
    tgt = targets[start:start + shared["chunk"]]
    Kc = Ksrc[tgt].astype(np.float32)
    used = np.flatnonzero(Kc.max(axis=0) > 0)  # a zero (underflowed) weight contributes nothing
    S = np.zeros((len(tgt), G * G), dtype=np.float32)
    for b0 in range(0, len(used), batch):
        src = used[b0:b0 + batch]
        covs = _cell_covariances(Xn32, Kt, src_cells[src]).reshape(len(src), G * G)
        S += Kc[:, src] @ covs  # S_t = sum_s K[t, s] Sigma_s
    S = S.reshape(len(tgt), G, G)
    partial = np.zeros((G, G))
    its = []
    for r0 in range(0, len(tgt), admm_batch):
        Sb = S[r0:r0 + admm_batch]
        Sb = 0.5 * (Sb + Sb.transpose(0, 2, 1))
        theta, U, it = admm_glasso(Sb, shared["lamb"], init=warm if shared["warm_start"] else None,
                                   **shared["admm"])
        warm = (theta, U)
        its.append(it)
        for r in range(theta.shape[0]):
            Gt = partial_correlation(theta[r]) if shared["output"] == "partial_correlation" else theta[r]
            partial += weights[start + r0 + r] * np.abs(Gt)
        if shared["progress"]:
            log.info("CeSpGRN: cells %d-%d of %d, %d ADMM iterations", start + r0 + 1,
                     start + r0 + theta.shape[0], len(targets), it)
    return partial, its, warm


def infer(adata, *, pseudotime=None, tfs=None, seed: int = 0, n_jobs: int | None = None, **params):
    """CeSpGRN consensus edges for ``adata`` (cells x genes).

    ``params`` override the defaults in ``DEFAULTS`` (``lamb``, ``bandwidth``, ``n_neigh``, ``anchors``, ...).
    ``tfs``, when given, keeps only edges whose regulator is in ``tfs`` (the model uses all genes).
    """
    W, _ = cespgrn_consensus(dense(adata.X, np.float64), seed=seed, n_jobs=n_jobs, **params)
    return edges_from_matrix(W, adata.var_names, tfs=tfs)


METHOD = Method(INFO, infer)
