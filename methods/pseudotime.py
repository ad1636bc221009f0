"""Pseudotime for the methods that need it (LEAP, SCODE, SINCERITIES).

Two ways in:

* :func:`compute_pseudotime` -- scanpy's diffusion pseudotime (DPT) with a PAGA-guided root, the way the
  GRouNdGAN paper ordered its BoneMarrow cells (it followed scanpy's ``paga-paul15`` tutorial). The result is
  cached on disk, keyed by a hash of the expression matrix, the cell and gene names and every parameter, so a
  dataset's pseudotime is computed once and every method gets the same one.
* :func:`read_pseudotime` -- a user's own pseudotime: a CSV with a cell column and a time column, or BEELINE's
  ``PseudoTime.csv`` with one column per lineage.

Multiple lineages
-----------------
A pseudotime may be a 1-D array (one lineage) or a table with one column per lineage, ``NaN`` marking cells that
are not on that lineage (BEELINE's ``PseudoTime.csv`` convention, ``NA`` in the file). The pseudotime methods do
what BEELINE's runners do: run once per lineage on that lineage's cells, then keep, for every
(regulator, target) pair, the largest weight across lineages (:func:`merge_lineages`). DPT from
:func:`compute_pseudotime` is one lineage; cells that the neighbour graph does not connect to the root get
``NaN`` and are left out, as a cell off every lineage would be.
"""

from __future__ import annotations

import hashlib
import json
import random
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.arrays import dense
from bench import io as bio
from bench.errors import BenchError
from methods.ordering import TIE_ORDERS, order_cells  # noqa: F401  (re-exported: the shared cell-ordering helper)

CACHE_VERSION = "dpt-paga-v2"  # bump when the computation changes: old cache entries are then ignored

#: Haematopoietic stem/progenitor markers (mouse and human symbols). When ``root_markers`` is not given and at
#: least :data:`MIN_DEFAULT_MARKERS` of these are among the genes (BoneMarrow and data simulated from it), the root
#: is the PAGA node that expresses them most -- the paper's choice of the stem-cell node. Checked on paul15: the
#: node lands in the GMP/MEP progenitors (Paul clusters 9-10), and DPT then orders the erythroid clusters 6Ery ->
#: 1Ery and the myeloid ones GMP -> Mo/Neu, as in the PAGA tutorial.
HSPC_MARKERS = ("Cd34", "Kit", "Ly6a", "Flt3", "Procr", "Hlf", "Mecom", "Meis1", "Hoxa9", "Cd27",
                "CD34", "KIT", "FLT3", "PROCR", "HLF", "MECOM", "MEIS1", "HOXA9", "CRHBP", "AVP")
MIN_DEFAULT_MARKERS = 3

#: Column names taken to hold the cell identifier in a user's pseudotime file (case-insensitive).
CELL_COLUMNS = ("cell", "cells", "cell_id", "cellid", "cell_name", "barcode", "barcodes", "obs_names", "index", "")


# ----------------------------------------------------------------------------------------------------------------
# computing DPT
# ----------------------------------------------------------------------------------------------------------------

def _dense(x) -> np.ndarray:
    return dense(x, np.float64)


def _content_hash(adata, params: dict) -> str:
    h = hashlib.sha256()
    x = np.ascontiguousarray(_dense(adata.X), dtype=np.float64)
    h.update(str(x.shape).encode())
    h.update(x.tobytes())
    h.update("\x1f".join(map(str, adata.obs_names)).encode())
    h.update(b"\x1e")
    h.update("\x1f".join(map(str, adata.var_names)).encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def _louvain(connectivities, resolution: float, seed: int) -> np.ndarray:
    """Louvain communities (igraph's multilevel, modularity with ``resolution``), labelled by decreasing size.

    The ``louvain`` package that ``sc.tl.louvain`` needs does not install next to current igraph/leidenalg
    (see dependency notes); igraph's multilevel optimises the same objective (modularity with a resolution
    parameter). igraph draws its random node order from Python's ``random``, so a private seeded generator is
    installed for the call and the default one restored afterwards.
    """
    import igraph as ig
    import scipy.sparse as sp

    a = sp.triu(sp.csr_matrix(connectivities), k=1).tocoo()
    g = ig.Graph(n=connectivities.shape[0], edges=list(zip(a.row.tolist(), a.col.tolist())), directed=False)
    g.es["weight"] = a.data.tolist()
    ig.set_random_number_generator(random.Random(seed))
    try:
        membership = np.asarray(g.community_multilevel(weights="weight", resolution=resolution).membership)
    finally:
        ig.set_random_number_generator(random)
    # relabel: 0 = largest community, ties by first cell, so labels do not depend on igraph's numbering
    ids, first, counts = np.unique(membership, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda k: (-counts[k], first[k]))
    relabel = {ids[k]: new for new, k in enumerate(order)}
    return np.array([relabel[m] for m in membership])


def _stemness(adata) -> np.ndarray:
    """Genes detected per cell: the CytoTRACE proxy for developmental potential (more genes = less mature)."""
    x = adata.layers["counts"] if "counts" in adata.layers else adata.X
    if hasattr(x, "getnnz"):
        return np.asarray((x > 0).sum(axis=1)).ravel().astype(float)
    return (np.asarray(x) > 0).sum(axis=1).astype(float)


def _marker_score(adata, markers: Sequence[str]) -> np.ndarray:
    present = [g for g in markers if g in adata.var_names]
    if not present:
        raise BenchError(f"none of the root markers ({', '.join(list(markers)[:5])}) is among the genes.",
                         "Give marker genes present in the data, or pass root= a cell name/index.")
    x = np.log1p(_dense(adata[:, present].X))
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    return z.mean(axis=1)


def _resolve_root_cells(adata, root) -> np.ndarray | int:
    """An explicit root: cell index, cell name, or ``"obs_column:value"`` (a group of cells)."""
    if isinstance(root, (int, np.integer)):
        if not 0 <= int(root) < adata.n_obs:
            raise BenchError(f"root cell index {root} is outside 0..{adata.n_obs - 1}.", "Give a valid cell index.")
        return int(root)
    root = str(root)
    if root in adata.obs_names:
        return int(adata.obs_names.get_loc(root))
    if ":" in root:
        key, value = root.split(":", 1)
        if key in adata.obs.columns:
            cells = np.flatnonzero(adata.obs[key].astype(str).to_numpy() == value)
            if len(cells) == 0:
                raise BenchError(f"no cell has obs[{key!r}] == {value!r}.",
                                 f"Choose one of: {', '.join(sorted(map(str, adata.obs[key].unique()))[:8])}.")
            return cells
    raise BenchError(f"root {root!r} is neither a cell name, a cell index nor 'obs_column:value'.",
                     "Pass e.g. root='AAACCTG-1', root=0 or root='paul15_clusters:7MEP'.")


def _tip_cell(dpt_space: np.ndarray, cells: np.ndarray) -> int:
    """The cell of ``cells`` farthest (in DPT space) from the centroid of all other cells: the group's outer tip."""
    if len(cells) == 1:
        return int(cells[0])
    others = np.setdiff1d(np.arange(dpt_space.shape[0]), cells)
    if len(others) == 0:
        centre = dpt_space.mean(axis=0)
    else:
        centre = dpt_space[others].mean(axis=0)
    d = np.linalg.norm(dpt_space[cells] - centre, axis=1)
    return int(cells[np.argmax(d)])


def compute_pseudotime(adata, *, root=None, root_markers: Sequence[str] | None = None, seed: int = 0,
                       n_pcs: int = 20, n_neighbors: int = 4, n_neighbors_denoised: int = 10,
                       n_diffmap: int = 15, n_dcs: int = 10, resolution: float = 0.6,
                       paga_threshold: float = 0.01, log1p: bool = True, cache: bool = True) -> pd.Series:
    """Diffusion pseudotime with a PAGA-guided root, as the GRouNdGAN paper computed it (scanpy ``paga-paul15``).

    Steps (the tutorial's, with the paper's Louvain resolution 0.6):

    1. ``log1p`` of ``X`` (grn-bench's ``X`` is library-size-normalised counts, not logged), genes scaled to zero
       mean and unit variance (``recipe_zheng17``'s last steps; constant genes dropped), PCA with ``n_pcs``
       components (ARPACK, seeded);
    2. a ``n_neighbors``-NN graph on the PCA (4 in the tutorial), its diffusion map (``n_diffmap`` components),
       and the "denoised" ``n_neighbors_denoised``-NN graph on the diffusion map;
    3. Louvain clusters (``resolution``; the paper used 0.6, the tutorial 1.0) on the denoised graph -- igraph's
       multilevel algorithm, the objective of the ``louvain`` package that ``sc.tl.louvain`` needs but which does
       not install next to current igraph -- and PAGA on those clusters;
    4. a root cell (below), then ``sc.tl.dpt`` with ``n_dcs`` diffusion components (it reuses the diffusion map of
       step 2, as the tutorial's call does). Values are DPT distances from the root scaled to [0, 1].

    Root rule. The paper picked the PAGA node of stem cells by marker genes and took a cell of it as root. Here:

    * ``root`` given: a cell index, a cell name, or ``"obs_column:value"`` naming a group of cells;
    * otherwise the root *cluster* is chosen among the PAGA nodes that belong to the main PAGA component
      (the component holding most cells once edges with connectivity below ``paga_threshold`` -- the
      paper's figure threshold -- are dropped), as the node with the highest mean score, where the score is
      the mean z-scored ``log1p`` expression of ``root_markers`` (the paper's marker-based choice of the stem
      node). Without ``root_markers``, the haematopoietic stem/progenitor markers :data:`HSPC_MARKERS` are used
      when at least 3 are among the genes (BoneMarrow); else the score is the number of genes detected per cell
      (CytoTRACE's proxy of developmental potential: less mature cells express more genes). The proxy is a
      fallback only: on paul15 it would pick an erythroid node (MARS-seq erythroid cells have the most UMIs),
      so pass ``root`` or ``root_markers`` for a new kind of data;
    * within the chosen cluster the root cell is the one with the highest score averaged over its neighbours
      in the denoised graph (the most stem-like cell, not the cluster's first cell as in the tutorial, which
      depends on the file order). For a given group of cells (``root="obs_column:value"``) it is the group's
      outer tip: the cell farthest, in DPT's diffusion space (components scaled by ``lambda/(1-lambda)``),
      from the centroid of all cells outside the group.

    Parameters
    ----------
    adata
        Cells x genes; ``X`` is used (``layers['counts']``, if present, only for the genes-detected score).
    root, root_markers
        See the root rule above.
    seed
        Seeds PCA, neighbours, the diffusion map and Louvain; the same seed gives the same pseudotime.
    cache
        Read/write ``settings.cache_dir / "pseudotime" / <hash>.parquet`` (atomic writes).

    Returns
    -------
    :class:`pandas.Series` named ``pseudotime``, indexed by ``obs_names``; ``NaN`` for cells not connected to
    the root. ``.attrs`` holds ``root_cell``, ``root_cluster``, ``root_rule``, ``n_clusters`` and ``cache_key``.
    """
    from bench.settings import settings

    if adata.n_obs < 10:
        raise BenchError(f"pseudotime needs at least 10 cells; the data has {adata.n_obs}.",
                         "Give more cells or supply a pseudotime file.")
    params = dict(version=CACHE_VERSION, root=None if root is None else str(root),
                  root_markers=None if root_markers is None else list(map(str, root_markers)), seed=int(seed),
                  n_pcs=n_pcs, n_neighbors=n_neighbors, n_neighbors_denoised=n_neighbors_denoised,
                  n_diffmap=n_diffmap, n_dcs=n_dcs, resolution=resolution, paga_threshold=paga_threshold,
                  log1p=bool(log1p))
    key = _content_hash(adata, params)
    path = settings.cache_dir / "pseudotime" / f"{key}.parquet"
    meta_path = path.with_suffix(".json")
    if cache and path.exists() and meta_path.exists():
        df = pd.read_parquet(path)
        if list(df["cell"].astype(str)) == list(map(str, adata.obs_names)):
            s = pd.Series(df["pseudotime"].to_numpy(dtype=float), index=adata.obs_names, name="pseudotime")
            s.attrs.update(json.loads(meta_path.read_text()))
            return s

    values, meta = _dpt_with_paga_root(adata, root=root, root_markers=root_markers, seed=seed, n_pcs=n_pcs,
                                       n_neighbors=n_neighbors, n_neighbors_denoised=n_neighbors_denoised,
                                       n_diffmap=n_diffmap, n_dcs=n_dcs, resolution=resolution,
                                       paga_threshold=paga_threshold, log1p=log1p)
    meta["cache_key"] = key
    if cache:
        bio.write_json(meta_path, meta)  # metadata first: the parquet file is what marks a cache hit
        bio.write_parquet(path, pd.DataFrame({"cell": list(map(str, adata.obs_names)), "pseudotime": values}))
    s = pd.Series(values, index=adata.obs_names, name="pseudotime")
    s.attrs.update(meta)
    return s


def _dpt_with_paga_root(adata, *, root, root_markers, seed, n_pcs, n_neighbors, n_neighbors_denoised, n_diffmap,
                        n_dcs, resolution, paga_threshold, log1p) -> tuple[np.ndarray, dict]:
    import anndata as ad
    import scanpy as sc
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    x = _dense(adata.X)
    if not np.isfinite(x).all():
        raise BenchError("the expression matrix has NaN or infinite values.", "Clean the data before pseudotime.")
    if log1p:
        if (x < 0).any():
            raise BenchError("log1p pseudotime preprocessing got negative expression values.",
                             "Pass log1p=False for data that is already log-transformed or centred.")
        x = np.log1p(x)
    sd = x.std(axis=0)
    keep = sd > 0
    if keep.sum() < 2:
        raise BenchError("fewer than 2 genes vary across cells; no trajectory can be inferred.",
                         "Check the expression matrix.")
    x = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    n_obs = x.shape[0]
    work = ad.AnnData(x.astype(np.float32))
    work.obs_names = [str(i) for i in range(n_obs)]
    n_comps = int(min(n_pcs, n_obs - 1, x.shape[1] - 1))
    k1 = int(min(n_neighbors, n_obs - 1))
    k2 = int(min(n_neighbors_denoised, n_obs - 1))
    n_dm = int(min(n_diffmap, n_obs - 2))
    dcs = int(min(n_dcs, n_dm))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.tl.pca(work, n_comps=n_comps, svd_solver="arpack", random_state=seed)
        sc.pp.neighbors(work, n_neighbors=k1, n_pcs=n_comps, random_state=seed)
        sc.tl.diffmap(work, n_comps=n_dm, random_state=seed)
        sc.pp.neighbors(work, n_neighbors=k2, use_rep="X_diffmap", random_state=seed)
        labels = _louvain(work.obsp["connectivities"], resolution, seed)
        work.obs["louvain"] = pd.Categorical(labels.astype(str), categories=[str(i) for i in range(labels.max() + 1)])
        if labels.max() > 0:  # PAGA needs at least two groups
            sc.tl.paga(work, groups="louvain")

    # DPT space (what sc.tl.dpt measures distances in): diffusion components 1..n_dcs scaled by lambda/(1-lambda)
    evals = np.asarray(work.uns["diffmap_evals"])[:dcs]
    basis = np.asarray(work.obsm["X_diffmap"])[:, :dcs]
    use = (np.arange(dcs) > 0) & (evals < 0.9994)
    dpt_space = basis[:, use] * (evals[use] / (1 - evals[use]))

    meta: dict = {"n_clusters": int(labels.max() + 1)}
    if root is not None:
        target = _resolve_root_cells(adata, root)
        cells = np.atleast_1d(target)
        iroot = _tip_cell(dpt_space, cells)
        meta.update(root_rule=f"given root {root!r}", root_cluster=None)
    else:
        n_groups = int(labels.max() + 1)
        conn = sp.csr_matrix(work.uns["paga"]["connectivities"]) if n_groups > 1 else sp.csr_matrix((1, 1))
        strong = conn.multiply(conn >= paga_threshold)
        _, comp = connected_components(strong, directed=False)
        sizes = np.bincount(labels)
        comp_cells = np.bincount(comp, weights=sizes)
        main = np.flatnonzero(comp == np.argmax(comp_cells))
        if root_markers is None:
            present = [g for g in HSPC_MARKERS if g in adata.var_names]
            if len(present) >= MIN_DEFAULT_MARKERS:
                root_markers = present
        if root_markers is not None:
            score = _marker_score(adata, root_markers)
            rule = f"PAGA node with highest mean marker score ({', '.join(list(root_markers)[:6])})"
        else:
            score = _stemness(adata)
            rule = "PAGA node with most genes detected per cell (CytoTRACE proxy)"
        cluster_score = np.array([score[labels == c].mean() for c in range(len(sizes))])
        root_cluster = int(main[np.argmax(cluster_score[main])])
        # root cell: the cluster's cell with the highest score averaged over its graph neighbours (denoises
        # single-cell scores); a geometric "tip" would slide towards one branch when the root node is a branch point
        graph = sp.csr_matrix(work.obsp["connectivities"]) + sp.identity(n_obs, format="csr")
        smooth = np.asarray(graph @ score).ravel() / np.asarray(graph.sum(axis=1)).ravel()
        members = np.flatnonzero(labels == root_cluster)
        iroot = int(members[np.argmax(smooth[members])])
        meta.update(root_rule=rule, root_cluster=root_cluster)

    work.uns["iroot"] = iroot
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sc.tl.dpt(work, n_dcs=dcs)
    values = work.obs["dpt_pseudotime"].to_numpy(dtype=float).copy()
    n_lost = int((~np.isfinite(values)).sum())
    values[~np.isfinite(values)] = np.nan
    meta.update(root_cell=str(adata.obs_names[iroot]), root_index=int(iroot), n_unreached=n_lost)
    return values, meta


# ----------------------------------------------------------------------------------------------------------------
# user-supplied pseudotime
# ----------------------------------------------------------------------------------------------------------------

def read_pseudotime(path, cell_names: Sequence[str]) -> pd.DataFrame:
    """Read a user's pseudotime for the cells ``cell_names``.

    Accepted files (comma- or tab-separated, detected from the header):

    * a cell column plus one time column, e.g. ``cell,pseudotime``;
    * BEELINE's ``PseudoTime.csv``: the first column holds cell IDs (its header cell may be empty or missing),
      then one column per lineage (``PseudoTime1``, ``PseudoTime2``, ...), ``NA`` for cells off a lineage.

    The first column is always the cell ID; every other numeric column is a lineage (non-numeric columns, such as
    a cluster label, are ignored). Cells in the file but not in ``cell_names`` are ignored.

    Returns
    -------
    DataFrame indexed by ``cell_names`` (in that order), one float column per lineage, ``NaN`` for cells off a
    lineage. Methods run once per lineage and merge by the maximum weight (see the module docstring).

    Raises
    ------
    BenchError
        File missing/unreadable, no numeric column, duplicated cell IDs, cells of the data missing from the file,
        or a cell with no finite time (a ``NaN`` in a one-lineage file, ``NaN`` in every lineage otherwise).
    """
    path = Path(path)
    if not path.exists():
        raise BenchError(f"pseudotime file not found: {path}.", "Check the path given for the pseudotime.")
    try:
        with open(path) as fh:
            head = fh.readline()
        sep = "\t" if head.count("\t") > head.count(",") else ","
        df = pd.read_csv(path, sep=sep, index_col=0)
    except Exception as exc:
        raise BenchError(f"cannot read pseudotime file {path}: {type(exc).__name__}.",
                         "Give a CSV with a cell column and a time column (or BEELINE's PseudoTime.csv).") from None
    df.index = df.index.astype(str).str.strip()
    numeric = {c: pd.to_numeric(df[c], errors="coerce") for c in df.columns}
    cols = [c for c in df.columns if numeric[c].notna().any()
            and numeric[c].notna().sum() == df[c].notna().sum()]
    if not cols:
        raise BenchError(f"pseudotime file {path} has no numeric time column.",
                         "Give a CSV with a cell column and a numeric time column.")
    t = pd.DataFrame({str(c): numeric[c].astype(float) for c in cols}, index=df.index)
    if t.index.duplicated().any():
        dup = t.index[t.index.duplicated()].unique()
        raise BenchError(f"pseudotime file {path} lists {len(dup)} cell(s) twice (e.g. {', '.join(dup[:3])}).",
                         "Give one row per cell.")
    cells = pd.Index([str(c) for c in cell_names])
    missing = cells.difference(t.index, sort=False)
    if len(missing):
        raise BenchError(f"pseudotime file {path} lacks {len(missing)} of the {len(cells)} cells "
                         f"(e.g. {', '.join(missing[:3])}).", "Give a time for every cell of the dataset.")
    t = t.reindex(cells)
    if np.isinf(t.to_numpy()).any():
        raise BenchError(f"pseudotime file {path} has infinite values.", "Replace them by finite times.")
    no_time = t.isna().all(axis=1) if t.shape[1] > 1 else t.iloc[:, 0].isna()
    if no_time.any():
        where = "in every lineage column" if t.shape[1] > 1 else ""
        raise BenchError(f"pseudotime file {path} has NaN {where} for {int(no_time.sum())} cell(s) "
                         f"(e.g. {', '.join(t.index[no_time][:3])}).".replace("  ", " "),
                         "Give every cell a time (on at least one lineage), or drop those cells from the data.")
    return t


# ----------------------------------------------------------------------------------------------------------------
# helpers for the pseudotime methods
# ----------------------------------------------------------------------------------------------------------------

def lineages(pseudotime, n_cells: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Split a pseudotime into lineages: ``[(name, cell_indices, times)]``, cells with ``NaN`` left out.

    ``pseudotime`` may be a 1-D array/Series (one lineage) or a 2-D array/DataFrame with one column per lineage.
    """
    if pseudotime is None:
        raise BenchError("this method needs a pseudotime.", "Pass pseudotime= (see methods.pseudotime).")
    if isinstance(pseudotime, pd.DataFrame):
        names = [str(c) for c in pseudotime.columns]
        arr = pseudotime.to_numpy(dtype=float)
    else:
        arr = np.asarray(pseudotime, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        names = [f"PseudoTime{i + 1}" for i in range(arr.shape[1])] if arr.shape[1] > 1 else ["PseudoTime"]
    if arr.ndim != 2 or arr.shape[0] != n_cells:
        raise BenchError(f"pseudotime has shape {arr.shape}; the data has {n_cells} cells.",
                         "Give one time per cell (or one column per lineage).")
    if np.isinf(arr).any():
        raise BenchError("pseudotime has infinite values.", "Replace them by finite times or NaN.")
    out = []
    for j, name in enumerate(names):
        idx = np.flatnonzero(np.isfinite(arr[:, j]))
        if len(idx):
            out.append((name, idx, arr[idx, j]))
    if not out:
        raise BenchError("pseudotime is NaN for every cell.", "Give finite times.")
    return out


def merge_lineages(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """BEELINE's merge across lineages: per (regulator, target) the largest weight; then re-rank."""
    from bench.edges import rank_edges

    if len(tables) == 1:
        return tables[0]
    df = pd.concat([t[["regulator", "target", "weight"]] for t in tables], ignore_index=True)
    best = df.groupby(["regulator", "target"], as_index=False, sort=False)["weight"].max()
    return rank_edges(best)
