"""How close simulated cells are to held-out real cells (GRouNdGAN's data-quality metrics).

Inputs are cells x genes matrices (or AnnData, whose ``X`` is used) that are **library-size normalised and not
log-transformed** (what :func:`datasets.prepare_dataset` and the simulators produce). The same genes, in the same
order, in both. Transforms applied, following GRouNdGAN's evaluation code (reference spec section 4.1):

========================  =================================================================================
metric                    computed on
========================  =================================================================================
``centroid_euclidean``    raw normalised values: Euclidean distance between the per-gene means
``centroid_cosine``       raw normalised values: cosine distance between the per-gene means
``mmd``                   raw normalised values: biased MMD^2 (V-statistic, as the reference reports it)
                          with k(x, y) = sum over s in {m/2, m, 2m} of exp(-|x - y|^2 / s^2), m = median
                          distance of a real cell to its 25 nearest real neighbours (paper eq. 4). The
                          reference code multiplies the kernel by 3; multiply by 3 to compare with its tables.
``mmd_unbiased``          as ``mmd`` but the unbiased U-statistic (diagonals excluded). The biased form grows
                          as samples shrink, which penalises the half-size real-vs-real control.
``milisi``                a seeded 2-D t-SNE of the raw normalised values (perplexity 30, init 'random',
                          learning rate 200, 1000 iterations: the sklearn 1.0 defaults the reference ran
                          with, made explicit); iLISI with 90 neighbours (self dropped), perplexity 30,
                          mean over all cells. 1 = no mixing, 2 = perfect mixing.
``rf_auroc``              log1p of the values, PCA (50 components, fitted on each training fold), random
                          forest (1000 trees, Gini, seeded), stratified 5-fold cross-validation, mean AUROC
                          over folds (``rf_auroc_std`` = spread). 0.5 = indistinguishable. The reference used
                          raw values and one unseeded 70/30 split.
========================  =================================================================================

:func:`realism_with_control` adds GRouNdGAN's calibration: the same metrics between two random halves of the
real test set. The MMD bandwidth always comes from the (whole) real test set, for the control as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.arrays import dense
from bench.errors import BenchError

#: metric -> (label, which direction is better, one-line meaning). Used by the report.
REALISM_METRICS: dict[str, tuple[str, str, str]] = {
    "centroid_euclidean": ("Centroid Euclidean", "lower", "distance between mean expression profiles"),
    "centroid_cosine": ("Centroid cosine", "lower", "cosine distance between mean expression profiles"),
    "mmd": ("MMD (biased)", "lower", "maximum mean discrepancy, 3 Gaussian kernels, V-statistic"),
    "mmd_unbiased": ("MMD (unbiased)", "lower", "maximum mean discrepancy, U-statistic"),
    "milisi": ("miLISI", "higher", "mixing of real and simulated cells in a 2-D t-SNE (1 to 2)"),
    "rf_auroc": ("RF AUROC", "0.5", "random forest telling real from simulated (0.5 = cannot)"),
}

TSNE_PARAMS = {"perplexity": 30.0, "init": "random", "learning_rate": 200.0, "max_iter": 1000,
               "early_exaggeration": 12.0, "metric": "euclidean", "method": "barnes_hut", "angle": 0.5}
LISI_PARAMS = {"n_neighbors": 90, "perplexity": 30.0, "tol": 1e-5, "max_tries": 50}


@dataclass
class RealismResult:
    """Output of :func:`realism_with_control`.

    ``simulated`` and ``control`` map metric names to values; ``embedding`` holds the 2-D t-SNE of real and
    simulated cells (``x, y, label`` with label ``real``/``simulated``) used for miLISI, ready to plot.
    """

    simulated: dict
    control: dict
    n_real: int
    n_simulated: int
    parameters: dict
    embedding: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-ready form (what the run directory's ``realism.json`` stores per simulator)."""
        return {"metrics": {k: {"simulated": self.simulated.get(k), "control": self.control.get(k)}
                            for k in self.simulated},
                "n_real": self.n_real, "n_simulated": self.n_simulated, "parameters": self.parameters}

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"metric": list(self.simulated), "simulated": list(self.simulated.values()),
                             "control": [self.control.get(k) for k in self.simulated]})


def _matrix(x, what: str) -> np.ndarray:
    if hasattr(x, "X") and hasattr(x, "obs"):  # AnnData
        x = x.X
    x = dense(x, np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise BenchError(f"{what} must be a cells x genes matrix with at least 2 cells, got shape {x.shape}.",
                         "Pass an AnnData or a 2-D array.")
    if not np.isfinite(x).all():
        raise BenchError(f"{what} contains NaN or infinite values.", "Fix the simulated/real matrix first.")
    return x


def centroid_distances(real: np.ndarray, sim: np.ndarray) -> tuple[float, float]:
    """Euclidean and cosine distance between the mean profiles (raw normalised values)."""
    a, b = real.mean(axis=0), sim.mean(axis=0)
    eu = float(np.linalg.norm(a - b))
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    cos = float(1.0 - a @ b / denom) if denom > 0 else float("nan")
    return eu, max(cos, 0.0)


def mmd_bandwidth(real: np.ndarray, n_neighbors: int = 25) -> float:
    """Median distance from a real cell to its ``n_neighbors`` nearest other real cells."""
    from sklearn.neighbors import NearestNeighbors

    k = min(n_neighbors + 1, len(real))
    dist, _ = NearestNeighbors(n_neighbors=k).fit(real).kneighbors(real)
    m = float(np.median(dist[:, 1:]))
    return m if m > 0 else 1.0  # identical cells: any positive bandwidth gives the same (zero) MMD


def _kernel_sum(a: np.ndarray, b: np.ndarray, sigmas: np.ndarray, block: int = 2048) -> float:
    """Sum over all pairs of the multi-bandwidth Gaussian kernel; squared distances by GEMM, in row blocks."""
    bb = np.einsum("ij,ij->i", b, b)
    inv = 1.0 / sigmas**2
    total = 0.0
    for i in range(0, len(a), block):
        x = a[i:i + block]
        d2 = np.einsum("ij,ij->i", x, x)[:, None] + bb[None, :] - 2.0 * (x @ b.T)
        np.maximum(d2, 0.0, out=d2)
        for w in inv:
            total += float(np.exp(-d2 * w).sum())
    return total


def mmd(real: np.ndarray, sim: np.ndarray, bandwidth: float | None = None) -> tuple[float, float]:
    """``(biased MMD^2, unbiased MMD^2)`` with the three-Gaussian kernel (see module docstring)."""
    m = mmd_bandwidth(real) if bandwidth is None else float(bandwidth)
    sigmas = np.array([m / 2, m, 2 * m])
    na, nb = len(real), len(sim)
    kaa, kbb, kab = _kernel_sum(real, real, sigmas), _kernel_sum(sim, sim, sigmas), _kernel_sum(real, sim, sigmas)
    biased = kaa / na**2 + kbb / nb**2 - 2 * kab / (na * nb)
    diag = len(sigmas)  # k(x, x) = one per kernel
    unbiased = (kaa - na * diag) / (na * (na - 1)) + (kbb - nb * diag) / (nb * (nb - 1)) - 2 * kab / (na * nb)
    return float(max(biased, 0.0)), float(unbiased)


def embed(real: np.ndarray, sim: np.ndarray, seed: int = 0, method: str = "tsne",
          n_jobs: int | None = None) -> np.ndarray:
    """Seeded 2-D embedding of the stacked cells (real first). ``tsne`` uses :data:`TSNE_PARAMS`.

    ``n_jobs`` (default ``settings.n_jobs``) caps the OpenMP threads: t-SNE's threads spin-wait, and on a busy
    machine more threads than free cores made it 8x slower in our measurements.
    """
    from threadpoolctl import threadpool_limits

    from bench import settings

    x = np.vstack([real, sim]).astype(np.float32)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(TSNE_PARAMS["perplexity"], (len(x) - 1) / 3.0)
        params = dict(TSNE_PARAMS, perplexity=perplexity)
        with threadpool_limits(limits=n_jobs or settings.n_jobs, user_api="openmp"):
            return TSNE(n_components=2, random_state=seed, **params).fit_transform(x)
    if method == "umap":
        import umap

        return umap.UMAP(n_components=2, n_neighbors=15, random_state=seed).fit_transform(x)
    raise BenchError(f"unknown embedding {method!r}.", "Use 'tsne' or 'umap'.")


def lisi(coords: np.ndarray, labels: np.ndarray, n_neighbors: int = 90, perplexity: float = 30.0,
         tol: float = 1e-5, max_tries: int = 50) -> np.ndarray:
    """Per-cell inverse Simpson's index of ``labels`` in the neighbourhood of each point.

    Neighbour weights are exp(-beta * distance) over the ``n_neighbors - 1`` nearest other points, with beta
    found by bisection (for all cells at once) so that their entropy equals log(perplexity).
    """
    from sklearn.neighbors import NearestNeighbors

    coords = np.asarray(coords, dtype=np.float64)
    k = min(n_neighbors, len(coords))
    dist, idx = NearestNeighbors(n_neighbors=k).fit(coords).kneighbors(coords)
    dist, idx = dist[:, 1:], idx[:, 1:]
    # Shifting each row's distances by its minimum leaves the normalised weights unchanged and avoids underflow.
    d = dist - dist[:, :1]
    n = len(d)
    log_u = np.log(perplexity)
    beta = np.ones(n)
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)

    def entropy(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = np.exp(-d * b[:, None])
        s = p.sum(axis=1)
        h = np.log(s) + b * (d * p).sum(axis=1) / s
        return h, p / s[:, None]

    h, p = entropy(beta)
    for _ in range(max_tries):
        diff = h - log_u
        todo = np.abs(diff) >= tol
        if not todo.any():
            break
        up = todo & (diff > 0)  # entropy too high: sharpen (raise beta)
        down = todo & (diff <= 0)
        lo[up] = beta[up]
        beta[up] = np.where(np.isinf(hi[up]), beta[up] * 2, (beta[up] + hi[up]) / 2)
        hi[down] = beta[down]
        beta[down] = np.where(np.isinf(lo[down]), beta[down] / 2, (beta[down] + lo[down]) / 2)
        h, p = entropy(beta)
    lab = np.asarray(labels)[idx]
    simpson = np.zeros(n)
    for c in np.unique(labels):
        simpson += ((lab == c) * p).sum(axis=1) ** 2
    return 1.0 / simpson


def rf_auroc(real: np.ndarray, sim: np.ndarray, seed: int = 0, n_trees: int = 1000, n_pcs: int = 50,
             folds: int = 5, n_jobs: int | None = None) -> tuple[float, float]:
    """``(mean, std)`` over stratified folds of a random forest's AUROC separating real (1) from simulated (0)."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from bench import settings

    x = np.log1p(np.vstack([real, sim]))
    y = np.r_[np.ones(len(real), dtype=int), np.zeros(len(sim), dtype=int)]
    folds = max(2, min(folds, len(real), len(sim)))
    scores = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        n_comp = min(n_pcs, len(train) - 1, x.shape[1])
        pca = PCA(n_components=n_comp, random_state=seed).fit(x[train])
        rf = RandomForestClassifier(n_estimators=n_trees, criterion="gini", random_state=seed,
                                    n_jobs=n_jobs or settings.n_jobs)
        rf.fit(pca.transform(x[train]), y[train])
        scores.append(roc_auc_score(y[test], rf.predict_proba(pca.transform(x[test]))[:, 1]))
    return float(np.mean(scores)), float(np.std(scores))


def realism_metrics(real_adata_or_X, sim_adata_or_X, *, seed: int = 0, bandwidth: float | None = None,
                    rf_trees: int = 1000, rf_folds: int = 5, embedding: np.ndarray | None = None) -> dict:
    """All realism metrics of simulated cells against real cells (see the module docstring for transforms).

    Parameters
    ----------
    real_adata_or_X, sim_adata_or_X
        Library-size-normalised, non-log cells x genes (AnnData or array), same genes in the same order.
    seed
        Seeds the t-SNE, the cross-validation folds and the random forest.
    bandwidth
        MMD bandwidth m; default: :func:`mmd_bandwidth` of the real cells.
    rf_trees, rf_folds
        Random-forest size and number of cross-validation folds (1000 and 5 in the benchmark).
    embedding
        Precomputed 2-D coordinates of the stacked cells (real first); default: :func:`embed`.

    Returns
    -------
    dict with ``centroid_euclidean, centroid_cosine, mmd, mmd_unbiased, milisi, rf_auroc, rf_auroc_std``.
    """
    from threadpoolctl import threadpool_limits

    from bench import settings

    with threadpool_limits(limits=settings.n_jobs):  # BLAS/OpenMP threads beyond free cores spin and crawl
        return _realism_metrics(real_adata_or_X, sim_adata_or_X, seed=seed, bandwidth=bandwidth,
                                rf_trees=rf_trees, rf_folds=rf_folds, embedding=embedding)


def _realism_metrics(real_adata_or_X, sim_adata_or_X, *, seed, bandwidth, rf_trees, rf_folds, embedding) -> dict:
    real = _matrix(real_adata_or_X, "real cells")
    sim = _matrix(sim_adata_or_X, "simulated cells")
    if real.shape[1] != sim.shape[1]:
        raise BenchError(f"real cells have {real.shape[1]} genes but simulated cells have {sim.shape[1]}.",
                         "Simulate from the same prepared dataset (same genes, same order).")
    eu, cos = centroid_distances(real, sim)
    mmd_b, mmd_u = mmd(real, sim, bandwidth)
    coords = embed(real, sim, seed) if embedding is None else np.asarray(embedding)
    labels = np.r_[np.zeros(len(real), dtype=int), np.ones(len(sim), dtype=int)]
    milisi = float(lisi(coords, labels, **LISI_PARAMS).mean())
    auc, auc_sd = rf_auroc(real, sim, seed=seed, n_trees=rf_trees, folds=rf_folds)
    return {"centroid_euclidean": eu, "centroid_cosine": cos, "mmd": mmd_b, "mmd_unbiased": mmd_u,
            "milisi": milisi, "rf_auroc": auc, "rf_auroc_std": auc_sd}


def realism_with_control(test_X, sim_X, seed: int = 0, *, rf_trees: int = 1000, rf_folds: int = 5,
                         max_cells: int | None = None) -> RealismResult:
    """Realism metrics of ``sim_X`` against the real ``test_X``, plus the real-vs-real control.

    The simulated cells are subsampled (seeded) to the number of test cells, as the reference compares equal
    numbers. The control compares two random halves of the test cells. ``max_cells`` caps the number of test
    cells used (seeded subsample) to bound the cost.
    """
    test = _matrix(test_X, "real test cells")
    sim = _matrix(sim_X, "simulated cells")
    rng = np.random.default_rng(seed)
    if max_cells is not None and len(test) > max_cells:
        test = test[np.sort(rng.choice(len(test), max_cells, replace=False))]
    if len(sim) > len(test):
        sim = sim[np.sort(rng.choice(len(sim), len(test), replace=False))]
    if len(test) < 4:
        raise BenchError(f"only {len(test)} real test cells; the control needs at least 4.",
                         "Use a dataset with a larger test split.")
    from threadpoolctl import threadpool_limits

    from bench import settings

    with threadpool_limits(limits=settings.n_jobs):
        m = mmd_bandwidth(test)
        coords = embed(test, sim, seed)
    simulated = realism_metrics(test, sim, seed=seed, bandwidth=m, rf_trees=rf_trees, rf_folds=rf_folds,
                                embedding=coords)
    # The halves come from their own stream, so the control does not depend on the simulated cells.
    perm = np.random.default_rng([seed, 1]).permutation(len(test))
    half = len(test) // 2
    control = realism_metrics(test[perm[:half]], test[perm[half:2 * half]], seed=seed, bandwidth=m,
                              rf_trees=rf_trees, rf_folds=rf_folds)
    emb = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1],
                        "label": np.r_[np.full(len(test), "real"), np.full(len(sim), "simulated")]})
    params = {"seed": seed, "mmd_bandwidth": m, "mmd_scales": [m / 2, m, 2 * m], "tsne": TSNE_PARAMS,
              "lisi": LISI_PARAMS, "rf": {"n_trees": rf_trees, "folds": rf_folds, "n_pcs": 50,
                                          "transform": "log1p"},
              "control": f"two random halves of the test set ({half} vs {half} cells)"}
    return RealismResult(simulated, control, len(test), len(sim), params, emb)
