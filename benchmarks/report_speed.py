"""Time `bench report` (and `bench publish`) on a synthetic run directory of realistic size.

Realistic = the paper's BoneMarrow setting: 8 methods x 3 data sources (real, GRouNdGAN, scGAN) x 2 ground
truths, 100 TFs x 900 targets (90,000 candidate pairs, 5 imposed TFs per target), 500 real + 500 simulated
cells in each embedding, 20 knocked-out TFs. Prints seconds and the report's size; numbers only, no asserts.

    .venv/bin/python benchmarks/report_speed.py [--small] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="a small run (for a quick check)")
    ap.add_argument("--keep", type=Path, help="build the run directory here and keep it")
    args = ap.parse_args()

    from reports.synthetic import make_synthetic_run

    size = (dict(n_methods=3, n_tfs=20, n_targets=100, n_cells=150, n_ko_tfs=5) if args.small else
            dict(n_methods=8, n_tfs=100, n_targets=900, n_cells=500, n_ko_tfs=20))
    tmp = Path(tempfile.mkdtemp(prefix="report-speed-"))
    run = args.keep or tmp / "run"
    if run.exists():
        shutil.rmtree(run)
    t0 = time.perf_counter()
    make_synthetic_run(run, **size)
    t_make = time.perf_counter() - t0
    print(f"synthetic run dir ({size}): built in {t_make:.1f} s")
    for f in sorted(run.iterdir()):
        print(f"  {f.name:22s} {f.stat().st_size / 1e3:9.1f} kB")

    # The CLI end to end, in a fresh process (includes imports), as a user runs it.
    out = run / "report.html"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench.cli", "report", str(run), "--out", str(out)], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)
    t_cli = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"bench report (CLI, fresh process): {t_cli:.2f} s, report {out.stat().st_size / 1e6:.2f} MB, "
          f"peak RSS {rss:.0f} MB")

    # In-process, warm imports: where the time goes.
    from reports import html as rh

    t0 = time.perf_counter()
    ctx = rh.report_context(run)
    t_ctx = time.perf_counter() - t0
    t0 = time.perf_counter()
    rh.render("report.html", ctx)
    t_render = time.perf_counter() - t0
    print(f"in process: read + figures {t_ctx:.2f} s, template {t_render:.3f} s")

    from reports.publish import publish

    t0 = time.perf_counter()
    publish([run], tmp / "site")
    print(f"bench publish (1 run, with its report): {time.perf_counter() - t0:.2f} s")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
