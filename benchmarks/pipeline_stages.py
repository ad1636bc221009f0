"""Per-stage wall time of `bench run` (default: the `default` preset on bonemarrow, fresh cache and run dir).

Usage: BENCH_DATA_DIR=../shared/data python benchmarks/pipeline_stages.py [--preset default] [--out DIR]
Targets: `default` <= 30 min on a 2-core CPU, `smoke` <= 3 min.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--preset", default="default")
    ap.add_argument("--dataset", default="bonemarrow")
    ap.add_argument("--out", default=None, help="run dir (default: a fresh temporary one)")
    ap.add_argument("--keep-cache", action="store_true", help="reuse the user cache (prepared data, GRNs)")
    args = ap.parse_args()

    from bench import settings
    from bench.config import load_config
    from bench.pipeline import run_pipeline

    if not args.keep_cache:
        settings.cache_dir = tempfile.mkdtemp(prefix="grn-bench-cache-")
    out = Path(args.out or tempfile.mkdtemp(prefix=f"grn-bench-{args.preset}-"))
    t = time.perf_counter()
    run_pipeline(load_config(None, dataset=args.dataset, preset=args.preset), out=out)
    total = time.perf_counter() - t
    m = json.loads((out / "manifest.json").read_text())
    print(f"\n{args.dataset}, preset {args.preset}: per-stage wall time")
    for stage, sec in m["stage_seconds"].items():
        cached = " (cached)" if m["stage_cached"].get(stage) else ""
        print(f"  {stage:<11}{sec:8.1f} s{cached}")
    print(f"  {'total':<11}{total:8.1f} s  ({total / 60:.1f} min)")
    print(f"run dir: {out}")


if __name__ == "__main__":
    main()
