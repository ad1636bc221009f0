"""BEELINE's per-algorithm contract: input files, the command run in the image, output parsing.

This mirrors the runners of BEELINE commit 79775f09 (the one pinned by GRouNdGAN, i.e. what the paper ran),
written from the description in ``docs/methods-spec.md``:

==============  ==========================  ===========================================================
method          image (default)             command inside the image (WORKDIR holds the script)
==============  ==========================  ===========================================================
GENIE3          grnbeeline/arboreto:base    python runArboreto.py --algo=GENIE3 --inFile=IN --outFile=OUT
GRNBoost2       grnbeeline/arboreto:base    python runArboreto.py --algo=GRNBoost2 --inFile=IN --outFile=OUT
PPCOR           grnbeeline/ppcor:base       Rscript runPPCOR.R IN OUT
PIDC            grnbeeline/pidc:base        julia runPIDC.jl IN OUT
LEAP            grnbeeline/leap:base        Rscript runLeap.R IN0 maxLag OUT0
SCODE           grnbeeline/scode:base       ruby run_R.rb IN0 PT0 OUTDIR0 nGenes z nCells nIter nRep
SINCERITIES     grnbeeline/sincerities:base Rscript MAIN.R IN0 OUT0
==============  ==========================  ===========================================================

The run folder is mounted where BEELINE mounts it (``/data``; ``/SCODE/data`` and ``/SINCERITIES/data`` for the
images whose scripts expect it there) and paths are passed absolute. Trajectory methods get one set of
files per lineage (``ExpressionData{idx}.csv``, ... for lineage ``idx`` = 0, 1, ..., its cells only), one
command per lineage (joined with ``&&`` in one container), and the lineages' edges are merged by the maximum
weight per pair, as BEELINE's parsers do. Parsers return ``regulator, target, weight`` with ``weight = |EdgeWeight|`` (BEELINE's evaluation
takes the absolute value), self-pairs dropped and duplicate pairs merged by their maximum.

GENIE3 and GRNBoost2 also get the run's seed and TF list, as container environment (``ARBORETO_SEED``,
``ARBORETO_TF_FILE`` naming ``TFs.txt`` in the run folder). BEELINE's own image ignores both (it is unseeded and
uses every gene as a regulator); the local image built by ``.ci/build-arboreto-image.sh`` honours them and says
so in ``outFile.txt.info.json``, which the executor reads into the run record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import json

import numpy as np
import pandas as pd

from bench.errors import BenchError


@dataclass(frozen=True)
class Algorithm:
    """How BEELINE runs one method in docker."""

    name: str
    image: str
    mount: str
    write_inputs: Callable[..., None]
    command: Callable[..., str]
    parse: Callable[..., pd.DataFrame]
    needs_pseudotime: bool = False
    defaults: dict = field(default_factory=dict)
    # (run folder, mount, seed, tfs) -> container environment; may write extra input files
    extras: Callable[..., dict] | None = None
    # run folder -> what the image reports about the run (empty when it reports nothing)
    run_info: Callable[[Path], dict] | None = None


# BEELINE's parameter names -> the native modules' names for the same setting (either is accepted).
ALIASES = {"pVal": "p_value", "maxLag": "max_lag", "nIter": "n_iter", "nRep": "n_rep", "nBins": "n_bins"}


def beeline_params(algo: Algorithm, params: dict | None) -> dict:
    """The parameters the image actually uses, under BEELINE's names (others, e.g. tree counts, do not apply)."""
    params = params or {}
    return {k: _param(params, (k, ALIASES.get(k, k)), v) for k, v in algo.defaults.items()}


def _param(params: dict, keys: tuple[str, ...], default):
    """A parameter under BEELINE's name or the native module's snake_case name."""
    for k in keys:
        if params.get(k) is not None:
            return params[k]
    return default


def _finish(reg, tgt, w) -> pd.DataFrame:
    df = pd.DataFrame({"regulator": pd.Series(reg, dtype=str).to_numpy(),
                       "target": pd.Series(tgt, dtype=str).to_numpy(),
                       "weight": np.abs(pd.to_numeric(pd.Series(w), errors="coerce").to_numpy(dtype=float))})
    df = df[(df["regulator"] != df["target"]) & np.isfinite(df["weight"])]
    return df.groupby(["regulator", "target"], as_index=False, sort=True)["weight"].max()


def _require(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"the container wrote no {path.name}")
    return path


# ----------------------------------------------------------------------------------------------- writers
# ``expr`` is genes x cells (index = genes, columns = cells), as BEELINE's ExpressionData.csv.
def _write_arboreto(d: Path, expr: pd.DataFrame, pt, params, idx=0) -> None:
    expr.T.to_csv(d / "ExpressionData.csv", sep="\t", header=True, index=True)  # cells x genes, TSV


def _write_ppcor(d: Path, expr, pt, params, idx=0) -> None:
    expr.to_csv(d / "ExpressionData.csv", sep=",", header=True, index=True)


def _write_pidc(d: Path, expr, pt, params, idx=0) -> None:
    expr.to_csv(d / "ExpressionData.csv", sep="\t", header=True, index=True)


def _write_leap(d: Path, expr, pt, params, idx=0) -> None:
    from methods.pseudotime import order_cells

    order = pt.index[order_cells(pt.to_numpy(), "beeline")]  # BEELINE: pandas' default sort_values()
    sub = expr[order].copy()
    sub.insert(0, "GENES", sub.index)
    sub.to_csv(d / f"ExpressionData{idx}.csv", sep=",", header=True, index=False)


def _write_scode(d: Path, expr, pt, params, idx=0) -> None:
    expr[pt.index].to_csv(d / f"ExpressionData{idx}.csv", sep="\t", header=False, index=False)
    pt.rename("PseudoTime").to_frame().to_csv(d / f"PseudoTime{idx}.csv", sep="\t", header=False)
    (d / f"out{idx}").mkdir(exist_ok=True)


def _write_sincerities(d: Path, expr, pt, params, idx=0) -> None:
    n_bins = int(_param(params, ("nBins", "n_bins"), 10))
    sub = expr[pt.index].T.copy()
    bins = pd.qcut(pt, q=n_bins, duplicates="drop")
    sub["Time"] = [(iv.left + iv.right) / 2 for iv in bins]
    sub.to_csv(d / f"ExpressionData{idx}.csv", sep=",", header=True, index=False)


def _extras_arboreto(d: Path, mount: str, seed: int, tfs) -> dict:
    env = {"ARBORETO_SEED": str(int(seed))}
    if tfs is not None:
        (d / "TFs.txt").write_text("".join(f"{t}\n" for t in tfs))
        env["ARBORETO_TF_FILE"] = f"{mount}/TFs.txt"
    return env


def _info_arboreto(d: Path) -> dict:
    p = d / "outFile.txt.info.json"
    try:
        return json.loads(p.read_text()) if p.exists() else {}
    except ValueError:
        return {}


# ----------------------------------------------------------------------------------------------- commands


def _cmd_arboreto(algo: str):
    def cmd(m: str, params, n_genes: int, n_cells: int, idx: int = 0) -> str:
        return f"python runArboreto.py --algo={algo} --inFile={m}/ExpressionData.csv --outFile={m}/outFile.txt"
    return cmd


def _cmd_ppcor(m, params, n_genes, n_cells, idx=0) -> str:
    return f"Rscript runPPCOR.R {m}/ExpressionData.csv {m}/outFile.txt"


def _cmd_pidc(m, params, n_genes, n_cells, idx=0) -> str:
    return f"julia runPIDC.jl {m}/ExpressionData.csv {m}/outFile.txt"


def _cmd_leap(m, params, n_genes, n_cells, idx=0) -> str:
    max_lag = float(_param(params, ("maxLag", "max_lag"), 0.33))
    return f"Rscript runLeap.R {m}/ExpressionData{idx}.csv {max_lag:g} {m}/outFile{idx}.txt"


def _cmd_scode(m, params, n_genes, n_cells, idx=0) -> str:
    z = int(_param(params, ("z", "D"), 10))
    n_iter = int(_param(params, ("nIter", "n_iter"), 1000))
    n_rep = int(_param(params, ("nRep", "n_rep"), 6))
    return (f"ruby run_R.rb {m}/ExpressionData{idx}.csv {m}/PseudoTime{idx}.csv {m}/out{idx} "
            f"{n_genes} {z} {n_cells} {n_iter} {n_rep}")


def _cmd_sincerities(m, params, n_genes, n_cells, idx=0) -> str:
    return f"Rscript MAIN.R {m}/ExpressionData{idx}.csv {m}/outFile{idx}.txt"


# ----------------------------------------------------------------------------------------------- parsers


def _parse_arboreto(d: Path, genes, params, idx=0) -> pd.DataFrame:
    df = pd.read_csv(_require(d / "outFile.txt"), sep="\t", header=0)
    return _finish(df["TF"], df["target"], df["importance"])


def _parse_ppcor(d: Path, genes, params, idx=0) -> pd.DataFrame:
    df = pd.read_csv(_require(d / "outFile.txt"), sep="\t", header=0)
    p_max = float(_param(params, ("pVal", "p_value"), 0.01))
    # BEELINE: significant pairs keep |corVal|, the others get 0, NaN p-values fall out of both groups.
    keep = df["pValue"].notna()
    w = np.where(df["pValue"] <= p_max, df["corVal"].abs(), 0.0)
    return _finish(df["Gene1"][keep], df["Gene2"][keep], w[keep.to_numpy()])


def _parse_pidc(d: Path, genes, params, idx=0) -> pd.DataFrame:
    df = pd.read_csv(_require(d / "outFile.txt"), sep="\t", header=None)
    return _finish(df[0], df[1], df[2])


def _parse_leap(d: Path, genes, params, idx=0) -> pd.DataFrame:
    df = pd.read_csv(_require(d / f"outFile{idx}.txt"), sep="\t", header=0)
    return _finish(df["Gene1"], df["Gene2"], df["Score"])


def _parse_scode(d: Path, genes, params, idx=0) -> pd.DataFrame:
    A = pd.read_csv(_require(d / f"out{idx}" / "meanA.txt"), sep="\t", header=None).to_numpy(dtype=float)
    genes = np.asarray(genes, dtype=object)
    if A.shape != (len(genes), len(genes)):
        raise ValueError(f"meanA.txt is {A.shape[0]}x{A.shape[1]}, expected {len(genes)}x{len(genes)}")
    rows, cols = np.indices(A.shape)
    # BEELINE: Gene1 = row gene, Gene2 = column gene (SCODE's own convention is the reverse, see the spec).
    return _finish(genes[rows.ravel()], genes[cols.ravel()], A.ravel())


def _parse_sincerities(d: Path, genes, params, idx=0) -> pd.DataFrame:
    df = pd.read_csv(_require(d / f"outFile{idx}.txt"), sep=",", header=0)
    # SINCERITIES writes the target in SourceGENES and the regulator in TargetGENES; BEELINE swaps them back.
    return _finish(df["TargetGENES"], df["SourceGENES"], df["Interaction"])


ALGORITHMS: dict[str, Algorithm] = {a.name.lower(): a for a in [
    Algorithm("GENIE3", "grnbeeline/arboreto:base", "/data", _write_arboreto, _cmd_arboreto("GENIE3"),
              _parse_arboreto, extras=_extras_arboreto, run_info=_info_arboreto),
    Algorithm("GRNBoost2", "grnbeeline/arboreto:base", "/data", _write_arboreto, _cmd_arboreto("GRNBoost2"),
              _parse_arboreto, extras=_extras_arboreto, run_info=_info_arboreto),
    Algorithm("PPCOR", "grnbeeline/ppcor:base", "/data", _write_ppcor, _cmd_ppcor, _parse_ppcor,
              defaults={"pVal": 0.01}),
    Algorithm("PIDC", "grnbeeline/pidc:base", "/data", _write_pidc, _cmd_pidc, _parse_pidc),
    Algorithm("LEAP", "grnbeeline/leap:base", "/data", _write_leap, _cmd_leap, _parse_leap,
              needs_pseudotime=True, defaults={"maxLag": 0.33}),
    Algorithm("SCODE", "grnbeeline/scode:base", "/SCODE/data", _write_scode, _cmd_scode, _parse_scode,
              needs_pseudotime=True, defaults={"z": 10, "nIter": 1000, "nRep": 6}),
    Algorithm("SINCERITIES", "grnbeeline/sincerities:base", "/SINCERITIES/data", _write_sincerities,
              _cmd_sincerities, _parse_sincerities, needs_pseudotime=True, defaults={"nBins": 10}),
]}


def get_algorithm(name: str) -> Algorithm:
    key = name.lower()
    if key not in ALGORITHMS:
        raise BenchError(f"method {name} has no BEELINE docker image.",
                         f"Use --executor native for it (docker covers: {', '.join(a.name for a in ALGORITHMS.values())}).")
    return ALGORITHMS[key]
