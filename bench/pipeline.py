"""``bench run``: the whole benchmark as a chain of cached, resumable stages.

Stages (each writes into its own folder of the run directory, atomically, and records a ``_stage.json`` with the
content hash of its inputs and parameters; a stage whose hash matches is skipped):

1. ``data``       prepare the dataset (filter, HVGs, library size, split)            -> data/prepared.h5ad
2. ``grn``        GRNBoost2 on the training cells; positive / negative control GRNs  -> grn/*.parquet
3. ``groundgan``  train GRouNdGAN imposing the positive control (checkpoints resume) -> groundgan/
4. ``scgan``      train the scGAN baseline (no GRN)                                  -> scgan/
5. ``simulate``   as many cells as the training split from each simulator            -> simulate/*.h5ad
6. ``pseudotime`` diffusion pseudotime with a PAGA root, per data source              -> pseudotime/*.csv
7. ``infer``      every method on every source (one process each, through Dask)      -> infer/<source>/<method>/
8. ``score``      AUPRC & co. against both controls, realism, knockouts              -> leaderboard.parquet, ...
9. ``report``     the self-contained HTML report                                      -> report.html

``force`` recomputes the named stages and everything downstream of them. The ``infer`` stage caches each
(source, method) separately, so an interrupted run resumes at the first method that had not finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import io as bio
from bench.config import RunConfig, to_toml
from bench.errors import BenchError
from bench.settings import settings

STAGES = ["data", "grn", "groundgan", "scgan", "simulate", "pseudotime", "infer", "score", "report"]
DEPENDS = {
    "data": [], "grn": ["data"], "groundgan": ["grn"], "scgan": ["data"], "simulate": ["groundgan", "scgan"],
    "pseudotime": ["simulate"], "infer": ["simulate", "pseudotime"], "score": ["infer"], "report": ["score"],
}

# What the paper reports for BoneMarrow (Fig. 5G-H, Supplementary Data 3, text of "Benchmarking GRN inference").
PAPER_BONEMARROW = {
    "order_claims": [("pidc", "genie3"), ("genie3", "grnboost2")],
    "pseudotime_last": ["leap", "scode", "sincerities"],
    "text": ("PIDC > GENIE3 > GRNBoost2; LEAP, SCODE and SINCERITIES (pseudotime methods) last; imposed edges "
             "recovered far better than on real data, unimposed (negative-control) edges close to random."),
}


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def downstream(stages: list[str]) -> set[str]:
    """The given stages and every stage that depends on them."""
    out = set(stages)
    changed = True
    while changed:
        changed = False
        for s, deps in DEPENDS.items():
            if s not in out and out & set(deps):
                out.add(s)
                changed = True
    return out


class Progress:
    """A plain, line-based live view: stage starts/ends with timings and an ETA for the remaining stages."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def say(self, msg: str) -> None:
        if not self.quiet:
            el = time.perf_counter() - self.t0
            print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


@dataclass
class Run:
    cfg: RunConfig
    out: Path
    force: set[str] = field(default_factory=set)
    progress: Progress = field(default_factory=Progress)
    keys: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    cached: dict[str, bool] = field(default_factory=dict)

    # -- stage bookkeeping ---------------------------------------------------------------------------
    def stage_dir(self, stage: str) -> Path:
        return self.out / stage

    def _done(self, stage: str, key: str) -> bool:
        f = self.stage_dir(stage) / "_stage.json"
        if stage in self.force or not f.exists():
            return False
        with contextlib.suppress(Exception):
            return json.loads(f.read_text()).get("key") == key
        return False

    def stage(self, stage: str, key: str, fn: Callable[[Path], dict | None], n: int) -> dict:
        """Run ``fn(stage_dir)`` unless the stage already finished with the same key."""
        self.keys[stage] = key
        d = self.stage_dir(stage)
        meta_file = d / "_stage.json"
        if self._done(stage, key):
            meta = json.loads(meta_file.read_text())
            self.cached[stage] = True
            self.timings[stage] = meta.get("seconds", 0.0)
            self.progress.say(f"stage {n}/{len(STAGES)} {stage:<10} cached ({meta.get('seconds', 0):.0f} s originally)")
            return meta.get("info", {})
        d.mkdir(parents=True, exist_ok=True)
        self.progress.say(f"stage {n}/{len(STAGES)} {stage:<10} running")
        t = time.perf_counter()
        info = fn(d) or {}
        sec = time.perf_counter() - t
        bio.write_json(meta_file, {"key": key, "seconds": sec, "info": info, "finished": time.time()})
        self.timings[stage] = sec
        self.cached[stage] = False
        self.progress.say(f"stage {n}/{len(STAGES)} {stage:<10} done in {sec:.1f} s")
        self.write_manifest()
        return info

    def write_manifest(self, **extra: Any) -> None:
        from datasets.prepare import package_versions

        path = self.out / "manifest.json"
        old = {}
        with contextlib.suppress(Exception):
            old = json.loads(path.read_text())
        import datetime as dt
        import platform
        import sys

        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        manifest = {"created": now, **old, "run_id": self.out.name, "updated": now,
                    "command": " ".join(["bench", *sys.argv[1:]]) if sys.argv[0].endswith("bench") else None,
                    "dataset": self.cfg.dataset, "preset": self.cfg.preset,
                    "config": self.cfg.as_dict(), "config_hash": self.cfg.hash(), "seed": self.cfg.seed,
                    "package_versions": package_versions(),
                    "host": {"python": platform.python_version(), "platform": platform.platform(),
                             "cpu_count": os.cpu_count(), "gpu": _gpu_name()},
                    "stages": {k: {"status": "cached" if self.cached.get(k) else "done", "seconds": round(v, 2)}
                               for k, v in self.timings.items()},
                    "stage_keys": self.keys, "stage_seconds": self.timings, "stage_cached": self.cached, **extra}
        bio.write_json(path, manifest)


def _gpu_name() -> str | None:
    try:
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:
        return None


def _dense(X) -> np.ndarray:
    return np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)


def method_input(adata):
    """What a method sees: log1p of the library-size-normalised expression (as BEELINE's real-data inputs)."""
    import anndata as ad

    out = ad.AnnData(np.log1p(_dense(adata.X)), obs=pd.DataFrame(index=adata.obs_names.astype(str)),
                     var=pd.DataFrame(index=adata.var_names.astype(str)))
    return out


def run_pipeline(cfg: RunConfig, out: str | Path | None = None, force: list[str] | None = None,
                 quiet: bool = False) -> Path:
    """Run (or resume) the benchmark described by ``cfg``; return the run directory."""
    cfg = cfg.resolved()
    force = list(force or [])
    unknown = sorted(set(force) - set(STAGES) - {"all"})
    if unknown:
        raise BenchError(f"unknown stage(s) for --force: {', '.join(unknown)}.", f"Stages: {', '.join(STAGES)}.")
    out = Path(out or cfg.out or Path("runs") / f"{cfg.dataset.replace(':', '_').replace('/', '_')}-{cfg.preset}"
               f"-seed{cfg.seed}")
    out.mkdir(parents=True, exist_ok=True)
    run = Run(cfg=cfg, out=out, force=downstream(STAGES if "all" in force else force),
              progress=Progress(quiet))
    bio.write_text(out / "config.toml", to_toml(cfg))
    run.progress.say(f"grn-bench run -> {out} (preset {cfg.preset}, seed {cfg.seed}, config {cfg.hash()})")
    t_all = time.perf_counter()

    from datasets import dataset_tfs, get_split, prepare_dataset
    from datasets.networks import build_grn, grn_summary, reference_grn

    # 1. data ---------------------------------------------------------------------------------------
    k_data = _hash("data", cfg.dataset, cfg.n_genes, cfg.seed)

    def do_data(d: Path) -> dict:
        adata = prepare_dataset(cfg.dataset, n_genes=cfg.n_genes, seed=cfg.seed)
        bio.write_h5ad(d / "prepared.h5ad", adata)
        counts = adata.obs["split"].value_counts()
        return {"cells": int(adata.n_obs), "genes": int(adata.n_vars), "tfs": len(dataset_tfs(adata)),
                **{f"n_{s}": int(counts.get(s, 0)) for s in ("train", "validation", "test")},
                "source_sha256": adata.uns["provenance"]["source_sha256"]}

    data_info = run.stage("data", k_data, do_data, 1)
    import anndata as ad

    adata = ad.read_h5ad(run.stage_dir("data") / "prepared.h5ad")
    train, val, test = (get_split(adata, s) for s in ("train", "validation", "test"))
    tfs = dataset_tfs(adata)
    run.progress.say(f"  {cfg.dataset}: {adata.n_obs} cells x {adata.n_vars} genes, {len(tfs)} TFs; "
                     f"train {train.n_obs}, validation {val.n_obs}, test {test.n_obs}")

    # 2. grn ----------------------------------------------------------------------------------------
    k_grn = _hash("grn", k_data, cfg.k, cfg.seed, cfg.grn_params, cfg.reference_method)

    def do_grn(d: Path) -> dict:
        from bench.edges import write_edges

        # grn_params tune GRNBoost2 only; the other reference methods have no parameters
        params = (cfg.grn_params or {}) if cfg.reference_method == "grnboost2" else {}
        ref = reference_grn(train, tfs, method=cfg.reference_method, seed=cfg.seed, **params)
        write_edges(d / "reference.parquet", ref)
        info = {"reference_method": cfg.reference_method, "reference_edges": int(len(ref))}
        for strat in ("pos-control", "neg-control"):
            g = build_grn(ref, strat, k=cfg.k, seed=cfg.seed)
            write_edges(d / f"{strat}.parquet", g)
            info[strat] = grn_summary(g)
        return info

    run.stage("grn", k_grn, do_grn, 2)
    pos = pd.read_parquet(run.stage_dir("grn") / "pos-control.parquet")
    neg = pd.read_parquet(run.stage_dir("grn") / "neg-control.parquet")
    run.progress.say(f"  positive control {len(pos)} edges, negative control {len(neg)} edges, "
                     f"{pos['regulator'].nunique()} TFs -> {pos['target'].nunique()} targets")

    from simulators import GRouNdGAN, ScGAN

    sim_over = cfg.simulator_overrides or {}
    preset = {**_sim_preset(cfg.simulator_preset), **sim_over} if sim_over else cfg.simulator_preset

    # 3. groundgan ----------------------------------------------------------------------------------
    k_gg = _hash("groundgan", k_grn, cfg.simulator_preset, sim_over, cfg.seed)

    def do_groundgan(d: Path) -> dict:
        model = GRouNdGAN(pos, preset=preset, seed=cfg.seed, device=cfg.device)
        model.fit(train, validation=val if val.n_obs else None, checkpoint_dir=d / "checkpoints",
                  progress=not quiet)
        model.save(d / "model")
        return {"genes": len(model.genes), "info": _jsonable(getattr(model, "info", {}))}

    run.stage("groundgan", k_gg, do_groundgan, 3)

    # 4. scgan --------------------------------------------------------------------------------------
    k_sc = _hash("scgan", k_data, k_gg, cfg.simulator_preset, sim_over, cfg.seed)
    if "scgan" in cfg.sources:
        def do_scgan(d: Path) -> dict:
            gg = GRouNdGAN.load(run.stage_dir("groundgan") / "model", device=cfg.device)
            if gg.genes == [str(g) for g in train.var_names]:
                # GRouNdGAN kept every gene: its stage 1 is exactly this baseline (same preset and seed)
                model = ScGAN.from_groundgan(gg)
                run.progress.say("  scGAN = GRouNdGAN's causal controller (same genes, preset, seed): not retrained")
            else:
                model = ScGAN(preset=preset, seed=cfg.seed, device=cfg.device)
                model.fit(train, validation=val if val.n_obs else None, checkpoint_dir=d / "checkpoints",
                          progress=not quiet)
            model.save(d / "model")
            return {"info": _jsonable(getattr(model, "info", {}))}

        run.stage("scgan", k_sc, do_scgan, 4)

    # 5. simulate -----------------------------------------------------------------------------------
    n_cells = int(cfg.n_cells or train.n_obs)
    k_sim = _hash("simulate", k_gg, k_sc if "scgan" in cfg.sources else None, n_cells, cfg.seed)

    def do_simulate(d: Path) -> dict:
        gg = GRouNdGAN.load(run.stage_dir("groundgan") / "model", device=cfg.device)
        bio.write_h5ad(d / "groundgan.h5ad", gg.generate(n_cells, seed=cfg.seed))
        if "scgan" in cfg.sources:
            sc_model = ScGAN.load(run.stage_dir("scgan") / "model", device=cfg.device)
            bio.write_h5ad(d / "scgan.h5ad", sc_model.generate(n_cells, seed=cfg.seed))
        return {"n_cells": n_cells}

    run.stage("simulate", k_sim, do_simulate, 5)
    gg_genes = list(ad.read_h5ad(run.stage_dir("simulate") / "groundgan.h5ad", backed="r").var_names)

    def source_data(source: str):
        """Cells x genes of a data source, restricted to the GRN's genes so that every source is comparable."""
        if source == "real":
            a = train[:, gg_genes].copy()
            if cfg.real_cells and a.n_obs > cfg.real_cells:
                keep = np.sort(np.random.default_rng(cfg.seed).choice(a.n_obs, cfg.real_cells, replace=False))
                a = a[keep].copy()
        else:
            a = ad.read_h5ad(run.stage_dir("simulate") / f"{source}.h5ad")
            a = a[:, [g for g in gg_genes if g in set(a.var_names)]].copy()
        return a

    from methods.base import get_method

    methods = [get_method(m) for m in cfg.methods]
    need_pt = any(m.info.pseudotime != "none" for m in methods)

    # 6. pseudotime ---------------------------------------------------------------------------------
    k_pt = _hash("pseudotime", k_sim, k_data, cfg.seed, need_pt, cfg.sources, cfg.real_cells)

    def do_pseudotime(d: Path) -> dict:
        from methods.pseudotime import compute_pseudotime

        info = {}
        if not need_pt:
            return {"skipped": "no selected method needs pseudotime"}
        for source in cfg.sources:
            t = time.perf_counter()
            pt = compute_pseudotime(source_data(source), seed=cfg.seed)
            frame = pd.DataFrame({"cell": pt.index.astype(str), "pseudotime": pt.to_numpy(float)})
            bio.write_csv(d / f"{source}.csv", frame)
            info[source] = round(time.perf_counter() - t, 2)
        return {"seconds": info}

    run.stage("pseudotime", k_pt, do_pseudotime, 6)

    # 7. infer --------------------------------------------------------------------------------------
    k_inf = _hash("infer", k_pt, cfg.methods, cfg.method_preset, cfg.method_params, cfg.give_tfs, cfg.executor,
                  cfg.seed, cfg.protocol_deviations)

    def do_infer(d: Path) -> dict:
        from concurrent.futures import ThreadPoolExecutor

        from methods.execution import run_methods, save_runs

        summary = {}
        jobs = []  # (source, method, data, pseudotime) still to run; finished ones have a marker
        for source in cfg.sources:
            data = method_input(source_data(source))
            pt = None
            if need_pt:
                ptf = pd.read_csv(run.stage_dir("pseudotime") / f"{source}.csv")
                pt = ptf["pseudotime"].to_numpy(float)
            for m in methods:
                marker = d / source / m.name / "_done.json"
                if marker.exists() and "infer" not in run.force and \
                        json.loads(marker.read_text()).get("key") == _hash(k_inf, source, m.name):
                    run.progress.say(f"  {source:<9} {m.name:<12} cached")
                    continue
                jobs.append((source, m, data, pt))
        # n_workers methods at a time, each with its share of the cores (one each on a 2-core machine)
        workers = _n_workers(cfg)
        n_jobs = max(1, settings.n_jobs // workers) if not cfg.scheduler else None

        def one(job):
            source, m, data, pt = job
            tf_arg = [t for t in tfs if t in set(data.var_names)] if cfg.give_tfs else None
            [res] = run_methods(data, [m.name], pseudotime=pt, tfs=tf_arg, seed=cfg.seed,
                                executor=cfg.executor, timeout=cfg.method_timeout,
                                memory_limit=cfg.method_memory_gb * 2**30, scheduler=address,
                                params=cfg.method_params.get(m.name), preset=method_preset(cfg, m),
                                n_jobs=n_jobs)
            save_runs([res], d / source, summary=False)  # methods finish concurrently: no shared runs.json
            bio.write_json(d / source / m.name / "_done.json", {"key": _hash(k_inf, source, m.name)})
            r = res.record
            run.progress.say(f"  {source:<9} {m.name:<12} {res.status:<8} {r.get('wall_s') or 0:7.1f} s "
                             f"{r.get('peak_rss_mb') or 0:7.0f} MB  {len(res.edges)} edges")
            return f"{source}/{m.name}", res.status

        with _cluster(cfg) as address, ThreadPoolExecutor(max_workers=workers) as pool:
            for key, status in pool.map(one, jobs):
                summary[key] = status
        return summary

    run.stage("infer", k_inf, do_infer, 7)

    # 8. score --------------------------------------------------------------------------------------
    k_score = _hash("score", k_inf, cfg.k_max, cfg.knockout_tfs, cfg.knockout_cells, cfg.seed,
                    cfg.realism_rf_trees, cfg.realism_max_cells, 2)

    def do_score(d: Path) -> dict:
        return _score(run, cfg, pos, neg, test, tfs, methods, data_info)

    run.stage("score", k_score, do_score, 8)

    # 9. report -------------------------------------------------------------------------------------
    def do_report(d: Path) -> dict:
        from reports.html import build_report

        path = build_report(out, out / "report.html")
        return {"report": str(path)}

    run.stage("report", _hash("report", k_score, _report_version()), do_report, 9)
    run.write_manifest(total_seconds=time.perf_counter() - t_all)
    _print_summary(run)
    return out


# A run preset asks each method for the first of these presets it has (none = the method's defaults).
METHOD_PRESET_CHOICES = {"smoke": ["smoke", "test", "fast"], "fast": ["fast"], "beeline": ["beeline"]}


def method_preset(cfg: RunConfig, method) -> str | None:
    """The preset of ``method`` used under the run's ``method_preset`` (recorded with every result)."""
    from bench.protocol import deviation_preset

    if deviation_preset(cfg, method.name):
        return deviation_preset(cfg, method.name)
    if not cfg.method_preset:
        return None
    for name in METHOD_PRESET_CHOICES.get(cfg.method_preset, [cfg.method_preset]):
        if name in method.info.presets:
            return name
    return None


def _report_version() -> str:
    """Changes when the report code changes, so a new grn-bench version re-renders a cached run."""
    from reports.html import code_version

    return code_version()


def _sim_preset(name: str) -> dict:
    from simulators import get_preset

    return dict(get_preset(name))


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def _n_workers(cfg: RunConfig) -> int:
    """Methods run at the same time: ``n_workers`` if set, else one per core (``settings.n_jobs``)."""
    return max(1, int(cfg.n_workers or settings.n_jobs))


@contextlib.contextmanager
def _cluster(cfg: RunConfig):
    """One Dask cluster for the whole inference stage (``--scheduler`` = use a running one)."""
    if cfg.scheduler:
        yield cfg.scheduler
        return
    import logging

    from distributed import LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=_n_workers(cfg), threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster:
        yield cluster.scheduler_address


def _score(run: Run, cfg: RunConfig, pos, neg, test, tfs, methods, data_info) -> dict:
    import anndata as ad

    from bench.scoring.grn import control_universe, evaluate_grn
    from bench.scoring.knockout import fraction_significant, knockout_study
    from bench.scoring.realism import realism_with_control
    from datasets.prepare import package_versions
    from reports.rundir import RunDir

    rd = RunDir(run.out)
    for f in ("leaderboard", "curves", "realism", "embedding", "knockout"):  # scores are rebuilt whole
        with contextlib.suppress(FileNotFoundError):
            rd.file(f).unlink()
    regs, tgts = control_universe(pos, neg)
    versions = package_versions()
    rows = 0
    for source in cfg.sources:
        for m in methods:
            mdir = run.stage_dir("infer") / source / m.name
            rec = json.loads((mdir / "record.json").read_text()) if (mdir / "record.json").exists() else {}
            status = rec.get("status", "failed")
            common = dict(method=m.name, dataset=cfg.dataset, simulator=source, seed=cfg.seed,
                          runtime_s=rec.get("wall_s"), cpu_time_s=rec.get("cpu_s"),
                          peak_memory_mb=rec.get("peak_rss_mb"), preset=rec.get("preset") or method_preset(cfg, m),
                          parameters=rec.get("params"), config_hash=cfg.hash(), package_versions=versions,
                          run_id=run.out.name, n_genes=len(set(pos.regulator) | set(pos.target)),
                          protocol=cfg.protocol)
            for gt_name, truth in (("pos-control", pos), ("neg-control", neg)):
                if status == "ok" and (mdir / "edges.parquet").exists():
                    pred = pd.read_parquet(mdir / "edges.parquet")
                    ev = evaluate_grn(pred, truth, universe="imposed", k_max=cfg.k_max,
                                      candidate_regulators=regs, candidate_targets=tgts)
                    rd.add_scores(ev, ground_truth=gt_name, n_edges_predicted=len(pred), **common)
                else:
                    from reports.leaderboard import make_row

                    rd.add_rows([make_row(ground_truth=gt_name, status=status if status in ("failed", "timeout")
                                          else "failed", error=rec.get("error"), stderr_tail=rec.get("stderr_tail"),
                                          universe="imposed", **common)])
                rows += 1
    run.progress.say(f"  scored {rows} leaderboard rows")

    realism = {}
    test_X = _dense(test.X)
    for source in [s for s in ("groundgan", "scgan") if s in cfg.sources]:
        sim = ad.read_h5ad(run.stage_dir("simulate") / f"{source}.h5ad")
        genes = [g for g in sim.var_names if g in set(test.var_names)]
        res = realism_with_control(_dense(test[:, genes].X), _dense(sim[:, genes].X), seed=cfg.seed,
                                   rf_trees=int(cfg.realism_rf_trees or 1000), max_cells=cfg.realism_max_cells)
        rd.add_realism(res, dataset=cfg.dataset, simulator=source)
        realism[source] = {"simulated": res.simulated, "control": res.control}
        run.progress.say(f"  realism {source}: RF AUROC {res.simulated['rf_auroc']:.3f} "
                         f"(control {res.control['rf_auroc']:.3f}), miLISI {res.simulated['milisi']:.3f} "
                         f"(control {res.control['milisi']:.3f})")

    ko_info = {}
    if cfg.knockout_tfs > 0:
        from simulators import GRouNdGAN

        model = GRouNdGAN.load(run.stage_dir("groundgan") / "model", device=cfg.device)
        top_tfs = pos.groupby("regulator").size().sort_values(ascending=False, kind="mergesort")
        chosen = list(top_tfs.index[: cfg.knockout_tfs])
        ko_by_tf, base = {}, None
        for tf in chosen:
            # deterministic mode: the same seed gives the same control cells for every knockout
            base, ko = model.perturb(cfg.knockout_cells, {tf: 0.0}, seed=cfg.seed)
            ko_by_tf[tf] = ko
        stats = knockout_study(base, ko_by_tf, pos)
        rd.add_knockout(stats, dataset=cfg.dataset, simulator="groundgan")
        ko_info = {"tfs": chosen, "edges_tested": int(len(stats)),
                   "fraction_significant": float(fraction_significant(stats))}
        run.progress.say(f"  knockouts of {', '.join(chosen)}: {ko_info['fraction_significant']:.0%} of "
                         f"{len(stats)} edges change significantly (BH < 0.05)")
    comparison = paper_comparison(rd.read_leaderboard())
    run.write_manifest(paper_comparison=comparison, realism=realism, knockout=ko_info, data=data_info)
    return {"rows": rows, "knockout": ko_info, "paper_comparison": comparison}


def paper_comparison(lb: pd.DataFrame | None) -> dict:
    """This run's GRouNdGAN results next to the paper's BoneMarrow findings."""
    if lb is None or lb.empty:
        return {}
    g = lb[(lb["simulator"] == "groundgan") & (lb["status"] == "ok")].assign(method=lambda d: d["method"].str.lower())
    piv = g.pivot_table(index="method", columns="ground_truth", values="auprc_ratio", aggfunc="first")
    per_method = {}
    for m, r in piv.iterrows():
        p, n = r.get("pos-control", np.nan), r.get("neg-control", np.nan)
        per_method[m] = {"pos_auprc_ratio": _f(p), "neg_auprc_ratio": _f(n), "pos_over_neg": _f(p / n) if n else None}
    order = list(piv["pos-control"].sort_values(ascending=False).index) if "pos-control" in piv else []
    claims = []
    for a, b in PAPER_BONEMARROW["order_claims"]:
        if a in order and b in order:
            claims.append({"claim": f"{a} > {b}", "holds": order.index(a) < order.index(b)})
    pt = [m for m in PAPER_BONEMARROW["pseudotime_last"] if m in order]
    others = [m for m in order if m not in PAPER_BONEMARROW["pseudotime_last"]]
    if pt and others:
        claims.append({"claim": "pseudotime methods (LEAP, SCODE, SINCERITIES) below the others",
                       "holds": max(order.index(m) for m in others) < min(order.index(m) for m in pt)})
    negs = [v["neg_auprc_ratio"] for v in per_method.values() if v["neg_auprc_ratio"] is not None]
    poss = [v["pos_auprc_ratio"] for v in per_method.values() if v["pos_auprc_ratio"] is not None]
    if negs and poss:
        claims.append({"claim": "imposed edges recovered better than unimposed for every method",
                       "holds": all((v["pos_auprc_ratio"] or 0) > (v["neg_auprc_ratio"] or 0)
                                    for v in per_method.values())})
    return {"paper": PAPER_BONEMARROW["text"], "order": order, "per_method": per_method, "claims": claims}


def _f(x) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), 4)


def _print_summary(run: Run) -> None:
    if run.progress.quiet:
        return
    m = json.loads((run.out / "manifest.json").read_text())
    comp = m.get("paper_comparison") or {}
    print("\nstage timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in run.timings.items()))
    if comp.get("per_method"):
        print("\nGRouNdGAN-simulated data, AUPRC / random (imposed = positive control, unimposed = negative):")
        print(f"  {'method':<12}{'imposed':>9}{'unimposed':>11}{'ratio':>8}")
        for meth in comp["order"]:
            v = comp["per_method"][meth]
            fmt = lambda x: f"{x:.2f}" if x is not None else "n/a"  # noqa: E731
            print(f"  {meth:<12}{fmt(v['pos_auprc_ratio']):>9}{fmt(v['neg_auprc_ratio']):>11}"
                  f"{fmt(v['pos_over_neg']):>8}")
        print(f"\npaper (BoneMarrow): {comp['paper']}")
        for c in comp["claims"]:
            print(f"  {'agrees ' if c['holds'] else 'differs'}  {c['claim']}")
    print(f"\nreport: {run.out / 'report.html'}")
