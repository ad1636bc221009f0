"""``bench report`` and ``bench publish``: HTML from run directories."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "report",
        help=(
            "Build one self-contained HTML report (figures embedded, no network access needed) from a run "
            "directory: sortable leaderboard, PR and precision@k curves, positive vs negative control, realism "
            "metrics with their real-vs-real control, real vs simulated cells, knockouts, failed methods with "
            "their stderr, and run metadata. Sections whose files are missing are noted, not fatal. The files "
            "read are listed in reports/RUN_DIR_LAYOUT.md.\n\n"
            "Examples:\n\n"
            "  bench report runs/bonemarrow                 # writes runs/bonemarrow/report.html\n\n"
            "  bench report runs/bonemarrow --out /tmp/r.html"
        ),
    )
    def report(
        run_dir: Path = typer.Argument(..., help="Run directory (contains leaderboard.parquet, manifest.json, ...)."),
        out: Path = typer.Option(None, "--out", "-o", help="Output HTML file [default: RUN_DIR/report.html]."),
    ) -> None:
        import time

        from reports.html import build_report

        t0 = time.perf_counter()
        path = build_report(run_dir, out)
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")

    @app.command(
        "publish",
        help=(
            "Aggregate run directories into a static leaderboard site: index.html, one page per dataset, each "
            "run's report, and the combined leaderboard as Parquet and CSV under data/. Ready for GitHub "
            "Pages (push SITE, or point Pages at it).\n\n"
            "Examples:\n\n"
            "  bench publish runs/bm-seed0 runs/bm-seed1 runs/pbmc --out site\n\n"
            "  bench publish runs/* --out docs/leaderboard --no-reports"
        ),
    )
    def publish(
        run_dirs: list[Path] = typer.Argument(..., help="One or more run directories."),
        out: Path = typer.Option(..., "--out", "-o", help="Folder to write the site into (created if needed)."),
        reports: bool = typer.Option(True, "--reports/--no-reports",
                                     help="Also build and link each run's full HTML report."),
    ) -> None:
        import time

        from reports.publish import publish as _publish

        t0 = time.perf_counter()
        index = _publish(run_dirs, out, include_reports=reports)
        typer.echo(f"wrote {index} ({len(run_dirs)} run(s)) in {time.perf_counter() - t0:.1f} s")
