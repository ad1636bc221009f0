"""The console summary at the end of ``bench run``: stage timings, the verdicts and the comparison with the paper."""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(x) -> str:
    return f"{x:.2f}" if x is not None else "n/a"


def print_run_summary(run_dir: str | Path, timings: dict[str, float]) -> None:
    """Print the stage timings, the verdict tables (CIs, tied groups, adjacent win probabilities, stability, QC
    gates) and the paper's claims, from the run directory."""
    from reports.rundir import RunDir
    from reports.verdicts import verdict_text

    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    comp = manifest.get("paper_comparison") or {}
    print("\nstage timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in timings.items()))
    text = verdict_text(RunDir(run_dir).read_verdicts())
    if text:
        print("\n" + text)
    elif comp.get("per_method"):
        print("\nGRouNdGAN-simulated data, AUPRC / random (imposed = positive control, unimposed = negative):")
        print(f"  {'method':<12}{'imposed':>9}{'unimposed':>11}{'ratio':>8}")
        for meth in comp["order"]:
            v = comp["per_method"][meth]
            print(f"  {meth:<12}{_fmt(v['pos_auprc_ratio']):>9}{_fmt(v['neg_auprc_ratio']):>11}"
                  f"{_fmt(v['pos_over_neg']):>8}")
    if comp.get("claims"):
        print(f"\npaper (BoneMarrow): {comp['paper']}")
        print(f"  decided on {comp.get('decided_on', 'point estimates')}:")
        for c in comp["claims"]:
            verdict = c.get("verdict") or ("holds" if c["holds"] else "fails")
            print(f"  {verdict:<13}{c['claim']}" + (f"  ({c['evidence']})" if c.get("evidence") else ""))
    print_depth_table(run_dir)
    print_depth_claims(manifest.get("depth_claims"))
    print(f"\nreport: {run_dir / 'report.html'}")


def print_depth_table(run_dir: Path) -> None:
    """AUPRC / random per method at each GRouNdGAN depth and on the real cells (imposed / unimposed)."""
    from bench.scoring.depth import difficulty_table, groundgan_depths
    from reports.rundir import RunDir

    lb = RunDir(run_dir).read_leaderboard()
    if lb is None or len(groundgan_depths(lb)) < 2:
        return
    table = difficulty_table(lb)
    heads = list(dict.fromkeys(label for label, _ in table.columns))
    print("\nAUPRC / random by measurement depth (x training depth; inf = expected profile), imposed / unimposed:")
    print(f"  {'method':<12}" + "".join(f"{h:>14}" for h in heads))
    for m, row in table.iterrows():
        cells = [f"{_fmt(_num(row.get((h, 'pos-control'))))}/{_fmt(_num(row.get((h, 'neg-control'))))}"
                 for h in heads]
        print(f"  {m:<12}" + "".join(f"{c:>14}" for c in cells))


def _num(x):
    import math

    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def print_depth_claims(records) -> None:
    """The paper's claims x GRouNdGAN measurement depth (holds / fails / inconclusive)."""
    if not records:
        return
    import pandas as pd

    from bench.scoring.depth import claims_matrix

    mat = claims_matrix(pd.DataFrame(records))
    width = max(len(c) for c in mat.index) + 2
    print("\nthe paper's claims at each measurement depth (x training depth; inf = expected profile):")
    print("  " + " " * width + "".join(f"{d:>14}" for d in mat.columns))
    for claim, row in mat.iterrows():
        print(f"  {claim:<{width}}" + "".join(f"{v:>14}" for v in row))
