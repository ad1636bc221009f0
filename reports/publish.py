"""``bench publish``: many run directories -> one static leaderboard site (GitHub Pages ready).

Site layout::

    SITE/
      index.html                  datasets, mean-over-runs leaderboard, downloads
      datasets/<slug>.html        one page per dataset: summary, pos vs neg bars, realism, every row, runs
      runs/<slug>/report.html     each run's full report (``bench report``), unless include_reports=False
      data/leaderboard.parquet    every row of every run (leaderboard schema), and .csv
      data/<dataset-slug>.parquet / .csv
      .nojekyll                   serve files as they are on GitHub Pages

All pages are self-contained (inline CSS/JS, figures as data URIs) and every user-controlled string (method,
dataset and run names, parameters, errors) is HTML-escaped by the templates. File names come from
:func:`slugify`, never from raw user strings.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bench import io as bio
from bench.errors import BenchError
from reports import figures
from reports import html as rh
from reports import leaderboard as lbm
from reports.public import board_of, strip_paths, strip_paths_deep
from reports.rundir import RunDir

PUBLIC_TEXT_COLUMNS = ("dataset", "error", "stderr_tail", "parameters", "run_id")

SUMMARY_METRICS = [("auprc", "AUPRC"), ("auprc_ratio", "AUPRC ratio"), ("auroc", "AUROC"), ("epr", "EPR"),
                   ("precision_at_k", "P@k"), ("precision_at_k_random", "P@k random"), ("runtime_s", "time (s)")]


def slugify(text: str) -> str:
    """A safe, stable file name: lowercase ASCII letters, digits and dashes, plus a short hash of the original."""
    base = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40] or "x"
    return f"{base}-{hashlib.sha1(str(text).encode()).hexdigest()[:6]}"


def _load(run_dirs: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, list[dict]]:
    frames, runs = [], []
    for p in run_dirs:
        rd = RunDir(p)
        lb = rd.read_leaderboard()
        if lb is None:
            raise BenchError(f"{rd.path} has no leaderboard.parquet.",
                             "Give run directories written by `bench run` (or check the path).")
        manifest = strip_paths_deep(rd.read_manifest() or {})
        run_id = str(manifest.get("run_id") or rd.path.resolve().name)
        lb["run_id"] = lb["run_id"].fillna(run_id)
        for col in PUBLIC_TEXT_COLUMNS:  # no local paths on a public site (user data sets, tracebacks)
            if col in lb:
                lb[col] = lb[col].map(strip_paths)
        frames.append(lb)
        runs.append({"path": rd.path, "run_id": run_id, "manifest": manifest,
                     "realism": strip_paths_deep(rd.read_realism() or []), "board": board_of(manifest),
                     "preset": manifest.get("preset"), "datasets": sorted(set(lb["dataset"])), "n_rows": len(lb),
                     "n_failed": int((lb["status"] != "ok").sum())})
    if not frames:
        raise BenchError("no run directories given.", "Example: bench publish runs/a runs/b --out site")
    ids = [r["run_id"] for r in runs]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise BenchError(f"run id(s) given twice: {', '.join(dup)}.", "Publish each run directory once.")
    df = lbm.validate_leaderboard(pd.concat(frames, ignore_index=True))
    return df, runs


def _boards(df: pd.DataFrame, runs: list[dict]) -> pd.Series:
    """Each row's board: runs are averaged only within the same dataset, run preset and protocol."""
    return df["run_id"].map({r["run_id"]: r["board"] for r in runs}).fillna("unknown")


def summary_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Mean of each metric over runs, successful rows only, per board x method x dataset x simulator x truth x
    universe (``board`` = run preset and protocol, when the frame has that column). Positive-control rows first."""
    ok = df[df["status"] == "ok"]
    keys = (["board"] if "board" in df else []) + ["method", "dataset", "simulator", "ground_truth", "universe"]
    if ok.empty:
        return pd.DataFrame(columns=keys + [m for m, _ in SUMMARY_METRICS] + ["n_runs"])
    agg = ok.groupby(keys, dropna=False)[[m for m, _ in SUMMARY_METRICS]].mean().reset_index()
    agg["n_runs"] = ok.groupby(keys, dropna=False)["run_id"].nunique().to_numpy()
    gt_rank = agg["ground_truth"].map({g: i for i, g in enumerate(lbm.GROUND_TRUTHS)}).fillna(len(lbm.GROUND_TRUTHS))
    order = ["dataset"] + (["board"] if "board" in agg else []) + ["simulator", "_gt", "auprc"]
    return agg.assign(_gt=gt_rank).sort_values(order, ascending=[True] * (len(order) - 1) + [False],
                                               kind="mergesort").drop(columns="_gt").reset_index(drop=True)


def _summary_table(agg: pd.DataFrame, dataset_href: dict | None = None, id: str = "summary-table") -> dict:
    rows = []
    for r in agg.to_dict("records"):
        href = dataset_href.get(r["dataset"]) if dataset_href else None
        rows.append([rh.cell(r["method"]), rh.cell(r["dataset"], href=href), rh.cell(r["simulator"]),
                     rh.cell(r["ground_truth"]), rh.cell(r["universe"])]
                    + [rh.cell(r[m], "f") for m, _ in SUMMARY_METRICS] + [rh.cell(r["n_runs"], "i")])
    cols = [("method",), ("dataset",), ("data",), ("ground truth",), ("universe",)] + \
           [(h, "desc") for _, h in SUMMARY_METRICS] + [("runs", "desc")]
    return rh.make_table(cols, rows, id=id)


def _board_tables(agg: pd.DataFrame, dataset_href: dict | None = None, id: str = "summary-table") -> list[dict]:
    """One summary table per dataset x board (first id ``id``, then ``id-2``, ...)."""
    out = []
    for i, ((ds, board), g) in enumerate(agg.groupby(["dataset", "board"], sort=True)):
        title = f"{ds} \u00b7 {board} \u00b7 {g['n_runs'].max()} run(s)"
        out.append({"title": title, "table": _summary_table(g, dataset_href, id=id if i == 0 else f"{id}-{i + 1}")})
    return out


def _site_banner(runs: list[dict]) -> str | None:
    smoke = [r["run_id"] for r in runs if r.get("preset") == "smoke"]
    if not smoke:
        return None
    return (f"smoke preset: numbers are meaningless. {len(smoke)} of these {len(runs)} run(s) only check an "
            "installation; their boards are kept apart from the others.")


def _write_data(df: pd.DataFrame, stem: Path) -> list[dict]:
    df = df.drop(columns=["board"], errors="ignore")
    lbm.write_leaderboard(df, stem.with_suffix(".parquet"))
    bio.write_csv(stem.with_suffix(".csv"), lbm.to_csv_frame(df))
    return [{"name": stem.name + ".parquet", "path": stem.with_suffix(".parquet")},
            {"name": stem.name + ".csv", "path": stem.with_suffix(".csv")}]


def publish(run_dirs: Iterable[str | os.PathLike], out_dir: str | os.PathLike, *,
            include_reports: bool = True) -> Path:
    """Build the static site in ``out_dir`` from the given run directories; return the index path.

    Examples
    --------
    >>> publish(["runs/bonemarrow-1", "runs/bonemarrow-2"], "site")     # doctest: +SKIP
    PosixPath('site/index.html')
    """
    df, runs = _load(list(run_dirs))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BenchError(f"{out} exists and is not a folder.", "Give a folder for the site.")
    out.mkdir(parents=True, exist_ok=True)
    bio.write_text(out / ".nojekyll", "")

    run_href: dict[str, str] = {}
    if include_reports:
        for r in runs:
            slug = slugify(r["run_id"])
            rh.build_report(r["path"], out / "runs" / slug / "report.html", public=True)
            run_href[r["run_id"]] = f"runs/{slug}/report.html"

    all_dl = _write_data(df, out / "data" / "leaderboard")
    df = df.assign(board=_boards(df, runs))
    datasets = sorted(set(df["dataset"]))
    ds_slug = {d: slugify(d) for d in datasets}
    ds_href = {d: f"datasets/{ds_slug[d]}.html" for d in datasets}
    agg = summary_frame(df)

    ds_rows = []
    for d in datasets:
        sub = df[df["dataset"] == d]
        best = agg[(agg["dataset"] == d) & (agg["ground_truth"] == "pos-control")
                   & (agg["simulator"] == "groundgan")].sort_values("auprc_ratio", ascending=False)
        best_txt = f"{best.iloc[0]['method']} ({rh.fmt_number(best.iloc[0]['auprc_ratio'])}x random)" \
            if len(best) and not rh._missing(best.iloc[0]["auprc_ratio"]) else ""
        ds_rows.append([rh.cell(d, href=ds_href[d]), rh.cell(sub["run_id"].nunique(), "i"),
                        rh.cell(sub["method"].nunique(), "i"), rh.cell(len(sub), "i"),
                        rh.cell(int((sub["status"] != "ok").sum()), "i"), rh.cell(best_txt)])
        _dataset_page(out, d, ds_slug[d], sub, agg[agg["dataset"] == d], runs, run_href)
    ds_table = rh.make_table([("dataset",), ("runs", "desc"), ("methods", "desc"), ("rows", "desc"),
                              ("failed", "desc"), ("best on GRouNdGAN pos-control (AUPRC ratio)",)],
                             ds_rows, id="datasets-table")
    ctx = rh.page_context("grn-bench leaderboard",
                          "GRN inference methods scored on GRouNdGAN-simulated data with a known imposed network",
                          [("datasets", "Datasets"), ("summary", "Leaderboard"), ("downloads", "Downloads")],
                          banner=_site_banner(runs))
    ctx.update({"datasets": ds_table, "boards": _board_tables(agg, ds_href) if len(agg) else [],
                "downloads": [{"name": d["name"], "href": d["path"].relative_to(out).as_posix()} for d in all_dl],
                "n_runs": len(runs), "n_rows": len(df), "schema_version": lbm.LEADERBOARD_SCHEMA_VERSION})
    return bio.write_text(out / "index.html", rh.render("site_index.html", ctx))


def _dataset_page(out: Path, dataset: str, slug: str, rows: pd.DataFrame, agg: pd.DataFrame, runs: list[dict],
                  run_href: dict[str, str]) -> Path:
    dl = _write_data(rows, out / "data" / slug)
    colors = figures.method_colors(rows["method"].unique())
    bars = [{"title": board, "uri": figures.auprc_bars(g.assign(status="ok"), colors)}
            for board, g in agg.groupby("board", sort=True)] if len(agg) else []
    realism = []
    for r in runs:
        for e in r["realism"]:
            if e.get("dataset") == dataset:
                realism.extend({"title": f"run {r['run_id']} \u00b7 {t['title']}", "table": t["table"]}
                               for t in rh.realism_tables([e]))
    run_rows = []
    for r in runs:
        if dataset not in r["datasets"]:
            continue
        m = r["manifest"]
        href = f"../{run_href[r['run_id']]}" if r["run_id"] in run_href else None
        run_rows.append([rh.cell(r["run_id"], href=href), rh.cell(m.get("created") or m.get("started")),
                         rh.cell(m.get("preset")), rh.cell(r["board"]), rh.cell(m.get("seed")),
                         rh.cell(r["n_rows"], "i"), rh.cell(r["n_failed"], "i")])
    runs_table = rh.make_table([("run",), ("created",), ("preset",), ("board",), ("seed",), ("rows", "desc"),
                                ("failed", "desc")], run_rows, id="runs-table")
    full = rh.leaderboard_table(lbm.sort_for_display(rows.drop(columns=["board"], errors="ignore")), id="rows-table",
                                extra=[("run_id", "run", None, None, None)])
    page_runs = [r for r in runs if dataset in r["datasets"]]
    ctx = rh.page_context(f"Dataset: {dataset}", f"{rows['run_id'].nunique()} run(s), {len(rows)} rows",
                          [("summary", "Summary"), ("realism", "Realism"), ("rows", "All rows"), ("runs", "Runs")],
                          banner=_site_banner(page_runs))
    ctx.update({"boards": _board_tables(agg) if len(agg) else [], "bars": bars, "realism": realism,
                "rows": full, "runs": runs_table,
                "downloads": [{"name": d["name"], "href": "../" + d["path"].relative_to(out).as_posix()}
                              for d in dl]})
    return bio.write_text(out / "datasets" / f"{slug}.html", rh.render("site_dataset.html", ctx))
