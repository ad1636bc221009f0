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
    print(f"\nreport: {run_dir / 'report.html'}")
