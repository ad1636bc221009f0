"""The child process of :func:`methods.isolation.run_job_in_child` (``python -m methods._child TASK_DIR``).

Reads the task written by the parent (``adata.h5ad``, ``method.pkl``, ``task.json``, optional
``pseudotime.npy``), runs ``method.infer`` and writes ``edges.parquet`` plus ``result.json``
(``{"ok": bool, "error": str}``). Anything printed goes to the parent's ``stderr.log``.
"""

from __future__ import annotations

import json
import random
import sys
import traceback
from pathlib import Path


def _peak_memory() -> dict:
    """This process's own peak RSS (``VmHWM``, which starts afresh at exec, unlike ``ru_maxrss``, which keeps the
    forking parent's size) and the largest finished child's (``RUSAGE_CHILDREN``, e.g. pool workers)."""
    import resource

    out = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    out["self_peak_rss_bytes"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    out["children_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return out


def _die_with_parent() -> None:
    """Linux: be killed when the process that started us dies (a Dask worker killed mid-task must not leave its
    method running, orphaned, while Dask reruns the task elsewhere)."""
    import ctypes
    import os
    import signal

    parent = int(os.environ.get("BENCH_PARENT_PID", "0"))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if parent and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(task_dir: str) -> int:
    _die_with_parent()
    d = Path(task_dir)
    result: dict = {"ok": False, "error": None}
    try:
        task = json.loads((d / "task.json").read_text())
        seed = int(task["seed"])
        import numpy as np

        random.seed(seed)
        np.random.seed(seed % 2**32)
        import anndata
        import cloudpickle

        from bench.edges import EDGE_COLUMNS, standardize

        method = cloudpickle.loads((d / "method.pkl").read_bytes())
        if "torch" in sys.modules:  # seed torch only when the method already uses it (importing it costs seconds)
            sys.modules["torch"].manual_seed(seed)
        adata = anndata.read_h5ad(d / "adata.h5ad")
        kwargs = dict(task["params"])
        if task.get("pseudotime"):
            kwargs["pseudotime"] = np.load(d / "pseudotime.npy")
        if task.get("tfs") is not None:
            kwargs["tfs"] = task["tfs"]
        edges = method.infer(adata, seed=seed, **kwargs)
        # always re-ranked: weights rounded to 12 significant digits, ties ordered by name (bench.edges)
        edges = standardize(edges, source=f"output of {method.name}")
        edges[EDGE_COLUMNS].to_parquet(d / "edges.parquet", index=False)
        result["ok"] = True
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a record
        traceback.print_exc()
        msg = str(exc).strip().splitlines()
        result["error"] = f"{type(exc).__name__}: {msg[0] if msg else ''}".rstrip(": ")
    result.update(_peak_memory())
    (d / "result.json").write_text(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
