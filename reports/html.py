"""``bench report``: one self-contained HTML file from a run directory.

Figures are embedded as base64 PNG, CSS and the table-sorting script are inline, and nothing is loaded from
the network, so the file can be mailed or archived as is. Every string that comes from the run (method names,
parameters, stderr, config) goes through Jinja2's autoescaping. Sections whose input file is missing are
replaced by a note saying which file was missing (layout: ``reports/RUN_DIR_LAYOUT.md``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.errors import BenchError
from reports import figures
from reports.rundir import FILES, RunDir

TEMPLATES = Path(__file__).parent / "templates"

# (column, header, number kind, first sort direction, tooltip)
LEADERBOARD_VIEW = [
    ("method", "method", None, None, None),
    ("dataset", "dataset", None, None, None),
    ("simulator", "data", None, None, "source of the expression data: a simulator, or real"),
    ("ground_truth", "ground truth", None, None, None),
    ("universe", "universe", None, None, "candidate edges scored"),
    ("replicate", "replicate", "i", None, "replicate dataset of the data source"),
    ("status", "status", None, None, None),
    ("qc", "QC gates fired", None, None, "QC gates fired for this data source and ground truth (see Verdict)"),
    ("auprc", "AUPRC", "f", "desc", "average precision"),
    ("auprc_ratio", "AUPRC ratio", "f", "desc", "AUPRC / edge density"),
    ("auprc_groundgan", "AUPRC (GRouNdGAN)", "f", "desc", "trapezoid over 1000 cut-offs, rounded"),
    ("auprc_beeline", "AUPRC (BEELINE)", "f", "desc", "trapezoid on precision_recall_curve"),
    ("auroc", "AUROC", "f", "desc", None),
    ("epr", "EPR", "f", "desc", "early precision ratio"),
    ("precision_at_k", "P@k", "f", "desc", "precision of each target's top-k regulators"),
    ("precision_at_k_random", "P@k random", "f", "desc", "expected P@k of a random predictor"),
    ("k", "k", "i", None, None),
    ("n_true", "true edges", "i", None, None),
    ("n_universe", "universe size", "i", None, None),
    ("runtime_s", "time (s)", "f", None, "wall-clock inference time"),
    ("cpu_time_s", "CPU (s)", "f", None, None),
    ("peak_memory_mb", "peak MB", "f", None, "peak resident memory"),
    ("preset", "preset", None, None, "the method's preset (parameters recorded in the leaderboard file)"),
    ("warnings", "warnings", None, None, "what was dropped from the method's output (self-loops, duplicates)"),
    ("seed", "seed", "i", None, None),
]
#: columns hidden until the reader asks for all of them, so that the table fits the page
SECONDARY_COLUMNS = {"dataset", "universe", "auprc_groundgan", "auprc_beeline", "precision_at_k_random", "k",
                     "n_true", "n_universe", "cpu_time_s", "peak_memory_mb", "seed", "warnings"}


def _env():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    return env


def _missing(x) -> bool:
    if x is None or x is pd.NA:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def fmt_number(x, kind: str = "f") -> str:
    """Short human form of a number; missing -> en dash."""
    if _missing(x):
        return "\u2013"
    x = float(x)
    if kind == "i":
        return f"{int(round(x)):,}"
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.3f}"
    if a >= 1e-3:
        return f"{x:.4f}"
    return f"{x:.2e}"


def cell(value, kind: str | None = None, href: str | None = None, cls: str | None = None) -> dict:
    """A table cell: shown text, sort key (numbers sort numerically; missing sorts last), optional link."""
    if kind:
        sort = "" if _missing(value) else repr(float(value))
        return {"text": fmt_number(value, kind), "sort": sort, "cls": cls or "num", "href": href}
    text = "" if _missing(value) else str(value)
    return {"text": text, "sort": None, "cls": cls, "href": href}


def make_table(columns: list[tuple], rows: list[list[dict]], *, id: str | None = None,
               sortable: bool = True, secondary: set[int] | None = None) -> dict:
    """``columns`` = [(header, first_sort_dir_or_None, tooltip_or_None)]; ``secondary`` = indices of the
    columns hidden until "show all columns" is ticked."""
    secondary = secondary or set()
    cols = [{"name": c[0], "first": c[1] if len(c) > 1 else None, "help": c[2] if len(c) > 2 else None,
             "sec": i in secondary} for i, c in enumerate(columns)]
    return {"id": id, "columns": cols, "rows": rows, "sortable": sortable, "secondary": bool(secondary)}


def leaderboard_table(df: pd.DataFrame, *, id: str = "leaderboard-table", view=LEADERBOARD_VIEW,
                      extra: list[tuple] | None = None) -> dict:
    view = [v for v in view if v[0] in df.columns] + list(extra or [])
    rows = []
    for rec in df.to_dict("records"):
        row = []
        for col, _, kind, _, _ in view:
            v = rec.get(col)
            if col == "status":
                row.append(cell(v, cls=f"status-{v}" if v in ("ok", "failed", "timeout", "skipped") else None))
            else:
                row.append(cell(v, kind))
        rows.append(row)
    secondary = {i for i, v in enumerate(view) if v[0] in SECONDARY_COLUMNS}
    return make_table([(h, first, tip) for _, h, _, first, tip in view], rows, id=id, secondary=secondary)


def controls_table(df: pd.DataFrame) -> dict | None:
    """Per method x data source x universe: AUPRC ratio on the positive and the negative control."""
    ok = df[df["status"] == "ok"]
    if ok.empty or not {"pos-control", "neg-control"} & set(ok["ground_truth"]):
        return None
    keys = ["dataset", "simulator", "universe", "method"]
    piv = ok.pivot_table(index=keys, columns="ground_truth", values=["auprc", "auprc_ratio"], aggfunc="mean",
                         dropna=False)
    rows = []
    for idx, r in piv.iterrows():
        get = lambda m, g: r.get((m, g), np.nan)  # noqa: E731
        pos, neg = get("auprc_ratio", "pos-control"), get("auprc_ratio", "neg-control")
        sep = pos / neg if not (_missing(pos) or _missing(neg)) and neg else np.nan
        rows.append([cell(idx[3]), cell(idx[0]), cell(idx[1]), cell(idx[2]),
                     cell(get("auprc", "pos-control"), "f"), cell(pos, "f"),
                     cell(get("auprc", "neg-control"), "f"), cell(neg, "f"), cell(sep, "f")])
    cols = [("method",), ("dataset",), ("data",), ("universe",), ("AUPRC pos", "desc"), ("ratio pos", "desc"),
            ("AUPRC neg", "desc"), ("ratio neg", "desc"),
            ("pos / neg", "desc", "ratio-to-random on the imposed edges over that on the unimposed ones")]
    return make_table(cols, rows, id="controls-table")


def realism_tables(entries: list[dict]) -> list[dict]:
    from bench.scoring.realism import REALISM_METRICS

    out = []
    for e in entries:
        metrics = e.get("metrics", {})
        rows = []
        known = [m for m in REALISM_METRICS if m in metrics]  # fixed order; JSON files sort their keys
        for name in known + sorted(m for m in metrics if m not in REALISM_METRICS):
            vals = metrics[name]
            if name.endswith("_std"):
                continue
            lab, better, meaning = REALISM_METRICS.get(name, (name, "", ""))
            vals = vals if isinstance(vals, dict) else {"simulated": vals}
            sim, ctl = vals.get("simulated"), vals.get("control")
            sd = metrics.get(f"{name}_std", {})
            sd = sd if isinstance(sd, dict) else {}
            rows.append([cell(lab), cell(sim, "f"), cell(sd.get("simulated"), "f") if sd else cell(None, "f"),
                         cell(ctl, "f"), cell(better), cell(meaning)])
        title = f"{e.get('dataset', '?')}: {e.get('simulator', '?')} (n real = {e.get('n_real', '?')}, " \
                f"n simulated = {e.get('n_simulated', '?')})"
        out.append({"title": title, "table": make_table(
            [("metric",), ("simulated",), ("\u00b1 sd",), ("control (real vs real)",), ("better",), ("meaning",)],
            rows, id=None)})
    return out


def knockout_tables(ko: pd.DataFrame, alpha: float = 0.05, top: int = 200) -> tuple[dict, dict]:
    rows = []
    for (ds, sim), g in ko.groupby(["dataset", "simulator"], sort=True):
        rows.append([cell(ds), cell(sim), cell(g["tf"].nunique(), "i"), cell(len(g), "i"),
                     cell(float((g["padj"] < alpha).mean()) if len(g) else np.nan, "f"),
                     cell(float(g["padj"].median()) if len(g) else np.nan, "f")])
    summary = make_table([("dataset",), ("data",), ("TFs knocked out",), ("edges tested",),
                          (f"fraction significant (adj. p < {alpha})", "desc"), ("median adj. p",)],
                         rows, id="knockout-table")
    edges = ko.sort_values("padj", kind="mergesort").head(top)
    erows = [[cell(r["dataset"]), cell(r["simulator"]), cell(r["tf"]), cell(r["target"]),
              cell(r["mean_base"], "f"), cell(r["mean_ko"], "f"), cell(r["statistic"], "f"),
              cell(r["pvalue"], "f"), cell(r["padj"], "f")] for r in edges.to_dict("records")]
    etable = make_table([("dataset",), ("data",), ("TF",), ("target",), ("mean before",), ("mean after",),
                         ("W",), ("p",), ("adj. p",)], erows, id="knockout-edges")
    return summary, etable


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v and key != "package_versions":
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v, default=str)))
    return out


def paper_section(comp) -> dict | None:
    """The manifest's ``paper_comparison`` (written by the pipeline): the paper's claims and whether they hold."""
    if not isinstance(comp, dict) or not (comp.get("claims") or comp.get("per_method")):
        return None
    claims = make_table([("claim",), ("in this run",), ("evidence",)],
                        [[cell(c.get("claim")), _claim_cell(c), cell(c.get("evidence"))]
                         for c in comp.get("claims", []) if isinstance(c, dict)], id="paper-claims")
    per = comp.get("per_method") or {}
    rows = [[cell(m), cell(v.get("pos_auprc_ratio"), "f"), cell(v.get("neg_auprc_ratio"), "f"),
             cell(v.get("pos_over_neg"), "f")] for m, v in per.items() if isinstance(v, dict)]
    methods = make_table([("method",), ("AUPRC ratio, imposed", "desc"), ("AUPRC ratio, unimposed", "desc"),
                          ("imposed / unimposed", "desc")], rows, id="paper-methods")
    return {"text": comp.get("paper"), "claims": claims, "methods": methods if rows else None}


def _claim_cell(c: dict) -> dict:
    """``holds`` / ``fails`` / ``inconclusive`` (CI-based verdicts), or yes / no (point estimates, older runs)."""
    v = c.get("verdict") or ("holds" if c.get("holds") else "fails")
    cls = {"holds": "status-ok", "fails": "status-failed"}.get(v, "status-skipped")
    return cell(v, cls=cls)


def code_version() -> str:
    """Hash of the report code and templates: a cached report is stale when this changes."""
    import hashlib

    h = hashlib.sha256()
    here = Path(__file__).parent
    for f in sorted([*here.glob("*.py"), *TEMPLATES.iterdir()]):
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:12]


def kv_table(pairs: list[tuple[str, Any]], id: str | None = None) -> dict:
    return make_table([("key",), ("value",)], [[cell(k), cell(v)] for k, v in pairs], id=id, sortable=False)


def _versions(manifest: dict | None, lb: pd.DataFrame | None) -> dict | None:
    versions = (manifest or {}).get("package_versions")
    if not versions and lb is not None and "package_versions" in lb and lb["package_versions"].notna().any():
        try:
            versions = json.loads(lb["package_versions"].dropna().iloc[0])
        except ValueError:
            versions = None
    if isinstance(versions, str):
        try:
            versions = json.loads(versions)
        except ValueError:
            return kv_table([("package_versions", versions)])
    if not isinstance(versions, dict) or not versions:
        return None
    return kv_table(sorted(versions.items()))


def page_context(title: str, subtitle: str | None = None, toc: list[tuple[str, str]] | None = None,
                 banner: str | None = None) -> dict:
    from markupsafe import Markup

    try:
        from importlib.metadata import version

        v = version("grn-bench")
    except Exception:  # not installed (running from a checkout)
        v = "dev"
    return {"title": title, "subtitle": subtitle, "toc": toc or [], "version": v, "banner": banner,
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "css": Markup((TEMPLATES / "style.css").read_text()),
            "js": Markup((TEMPLATES / "table.js").read_text())}


def render(template: str, context: dict) -> str:
    return _env().get_template(template).render(**context)


def report_context(run_dir: str | os.PathLike, public: bool = False) -> dict:
    """Everything the report template needs (exposed for tests and custom templates).

    ``public`` (a report for a published site): absolute local paths are reduced to their last part.
    """
    rd = RunDir(run_dir)
    if not rd.path.is_dir():
        raise BenchError(f"run directory not found: {rd.path}.", "Give the folder `bench run` wrote.")
    if not any(rd.exists(part) for part in ("manifest", "leaderboard", "config")):
        raise BenchError(f"{rd.path} is not a run directory (no manifest.json, leaderboard.parquet or config.toml).",
                         "Give the folder `bench run` wrote (its --out).")
    manifest = rd.read_manifest()
    lb = rd.read_leaderboard()
    curves = rd.read_curves()
    realism = rd.read_realism()
    emb = rd.read_embedding()
    ko = rd.read_knockout()
    config = rd.read_config()
    if public:
        from reports.public import strip_paths, strip_paths_deep

        manifest, realism, config = strip_paths_deep(manifest), strip_paths_deep(realism), strip_paths(config)
        for frame in (lb, curves, emb, ko):
            for col in ("dataset", "error", "stderr_tail", "parameters"):
                if frame is not None and col in frame:
                    frame[col] = frame[col].map(strip_paths)

    def why(part: str, section: str) -> str:
        return f"No {FILES[part]} in this run directory: {section} omitted."

    missing = {"leaderboard": why("leaderboard", "leaderboard"), "controls": why("leaderboard", "comparison"),
               "curves": why("curves", "curves"), "realism": why("realism", "realism metrics"),
               "embedding": why("embedding", "embedding plot"), "knockout": why("knockout", "knockout results"),
               "manifest": why("manifest", "run metadata"), "config": why("config", "configuration")}

    methods = set()
    if lb is not None:
        methods |= set(lb["method"].dropna())
    if curves is not None:
        methods |= set(curves["method"].dropna())
    colors = figures.method_colors(methods)

    from reports.verdicts import verdict_context

    verdicts = rd.read_verdicts()
    ctx: dict[str, Any] = {"verdict": verdict_context(verdicts, colors), "missing": missing,
                           "leaderboard": None, "controls": None, "control_figures": [],
                           "curve_figures": [], "realism": None, "embedding_figure": None, "knockout": None,
                           "knockout_figure": None, "knockout_edges": None, "failures": [], "metadata": None,
                           "versions": None, "config": config, "paper": None}
    if lb is not None:
        from reports.leaderboard import sort_for_display

        lb = sort_for_display(lb)
        ctx["leaderboard"] = leaderboard_table(lb)
        ctx["controls"] = controls_table(lb)
        if ctx["controls"] is None:
            missing["controls"] = "No successful rows scored against a control network."
        for (ds, uni), g in lb.groupby(["dataset", "universe"], sort=True, dropna=False):
            uri = figures.auprc_bars(g, colors)
            if uri:
                ctx["control_figures"].append({"title": f"{ds}: AUPRC / random, universe {uni}", "uri": uri})
        # one entry per failed run of a method: its rows against both controls share the same error
        bad = lb[lb["status"] != "ok"].drop_duplicates(["method", "dataset", "simulator"])
        for r in bad.to_dict("records"):
            ctx["failures"].append({
                "title": f"{r['method']} on {r['dataset']} / {r['simulator']}: {r['status']}",
                "error": r.get("error") if not _missing(r.get("error")) else "(no error message)",
                "stderr": r.get("stderr_tail") if not _missing(r.get("stderr_tail")) else ""})
    if curves is not None and not curves.empty:
        for (ds, sim, uni), g in curves.groupby(["dataset", "simulator", "universe"], sort=True):
            for kind, name in (("pr", "precision-recall"), ("precision_at_k", "precision@k per gene")):
                uri = figures.curve_figure(g, kind, colors)
                if uri:
                    ctx["curve_figures"].append({"title": f"{ds} / {sim} ({uni} universe): {name}", "uri": uri})
    if realism:
        ctx["realism"] = realism_tables(realism)
    if emb is not None and not emb.empty:
        ctx["embedding_figure"] = figures.embedding_figure(emb)
    if ko is not None and not ko.empty:
        ctx["knockout"], ctx["knockout_edges"] = knockout_tables(ko)
        ctx["knockout_figure"] = figures.knockout_figure(ko)
    if manifest is not None:
        shown_elsewhere = ("package_versions", "paper_comparison", "realism", "knockout", "depth_claims")
        ctx["metadata"] = kv_table([kv for kv in _flatten({k: v for k, v in manifest.items()
                                                           if k not in shown_elsewhere})],
                                   id="metadata-table")
        ctx["paper"] = paper_section(manifest.get("paper_comparison"))
    ctx["versions"] = _versions(manifest, lb)
    from reports.depth import depth_section

    ctx["depth"] = depth_section(lb, realism, colors, summary=(verdicts or {}).get("summary"))  # CIs, as the manifest

    run_id = (manifest or {}).get("run_id") or rd.path.resolve().name
    datasets = sorted(set(lb["dataset"])) if lb is not None else []
    n_failed = len(ctx["failures"])
    sub = [f"run {run_id}"]
    if datasets:
        sub.append("dataset " + ", ".join(datasets))
    if lb is not None:
        sub.append(f"{lb['method'].nunique()} method(s), {len(lb)} row(s), {n_failed} failed")
    toc = ([("verdict", "Verdict")] if ctx["verdict"] else []) + [("leaderboard", "Leaderboard"), ("controls", "Pos vs neg control")] + \
          ([("paper", "vs the paper")] if ctx["paper"] else []) + \
          ([("depth", "Measurement depth")] if ctx["depth"] else []) + [("curves", "Curves"),
           ("realism", "Realism"), ("knockout", "Knockouts"), ("failures", f"Failures ({n_failed})"),
           ("metadata", "Run metadata")]
    preset = (manifest or {}).get("preset")
    if preset:
        sub.append(f"run preset {preset}")
    ctx.update(page_context("grn-bench report", " \u00b7 ".join(sub), toc, banner=preset_banner(preset)))
    return ctx


def preset_banner(preset: str | None) -> str | None:
    """The warning shown at the top of a page built from smoke runs."""
    if preset == "smoke":
        return ("smoke preset: numbers are meaningless. This run only checks that the installation works "
                "(100 genes, a simulator trained for seconds, cheap method settings).")
    return None


def build_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, public: bool = False) -> Path:
    """Write the run's HTML report (default ``RUN_DIR/report.html``) atomically and return its path.

    Examples
    --------
    >>> build_report("runs/bonemarrow")          # doctest: +SKIP
    PosixPath('runs/bonemarrow/report.html')
    """
    from bench import io as bio

    html = render("report.html", report_context(run_dir, public=public))
    out = Path(out) if out is not None else RunDir(run_dir).file("report")
    return bio.write_text(out, html)
