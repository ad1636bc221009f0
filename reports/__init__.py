"""Leaderboards, HTML reports and the published site.

- :mod:`reports.leaderboard`: the versioned leaderboard schema and its Parquet I/O.
- :mod:`reports.rundir`: the run-directory files the report reads (``RUN_DIR_LAYOUT.md``) and their writers.
- :mod:`reports.figures`: matplotlib figures as embeddable data URIs.
- :mod:`reports.html`: ``bench report`` (one self-contained HTML file per run).
- :mod:`reports.publish`: ``bench publish`` (a static site over many runs).
- :mod:`reports.synthetic`: a synthetic run directory for tests, demos and benchmarks.
"""
