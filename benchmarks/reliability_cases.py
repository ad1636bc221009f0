"""Run every failure case of issue #11 as a real `bench` process and print the table case -> exit code -> message.

Usage (from a grn-bench worktree with its venv):
    BENCH_DATA_DIR=../shared/data BENCH_N_JOBS=2 .venv/bin/python benchmarks/reliability_cases.py > table.md
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import write_counts_h5ad  # noqa: E402  (the reliability tests' writer)

ROOT = Path(tempfile.mkdtemp(prefix="rel-cases-"))
CACHE = ROOT / "cache"
ENV = dict(os.environ, BENCH_CACHE_DIR=str(CACHE), TMPDIR=str(ROOT / "tmp"))
(ROOT / "tmp").mkdir()
os.environ["BENCH_CACHE_DIR"] = str(CACHE)  # for the cases run in this process
rows: list[tuple[str, int, str]] = []


def bench(args, env=None, timeout=900):
    p = subprocess.run([sys.executable, "-m", "bench.cli", *map(str, args)], env=env or ENV, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    n = len(lines)
    msg = lines[-1] if lines else ""
    return (msg if n <= 1 else f"{msg}  [{n} lines]").replace(str(ROOT), "$TMP").replace("|", "\\|")


def case(label, args, env=None, use="err"):
    """In this process through bench.cli.main (same exit code and output as the console command, without paying
    the interpreter start-up per case); in a subprocess when ``env`` differs."""
    if env is not None:
        code, out, err = bench(args, env)
    else:
        import contextlib
        import io

        from bench.cli import main

        o, e = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(o), contextlib.redirect_stderr(e):
            code = main(list(map(str, args)))
        out, err = o.getvalue(), e.getvalue()
    rows.append((label, code, last_line(err if use == "err" else out)))
    print(f"| {label} | {code} | {rows[-1][2]} |", file=sys.stderr, flush=True)


def counts(name, X, genes=None, cells=None, **layers):
    return write_counts_h5ad(ROOT, name, X, genes, cells, **layers)


def run_all():  # guarded: Dask's spawned workers import this file as __mp_main__
    rng = np.random.default_rng(0)
    X = rng.poisson(3.0, size=(200, 40)).astype(np.float32)
    G = [f"TF{i}" for i in range(6)] + [f"G{i}" for i in range(34)]
    C = [f"c{i}" for i in range(200)]
    tfs = ROOT / "tfs.txt"
    tfs.write_text("\n".join(G[:6]) + "\n")
    smoke = ["--preset", "smoke", "--out", ROOT / "run", "--quiet"]


    def toml(name, text):
        p = ROOT / f"{name}.toml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return p


    # --- CLI contract
    case("unknown option `bench run --bogus`", ["run", "--bogus"])
    case("missing required option `bench infer --dataset x.h5ad`", ["infer", "--dataset", "x.h5ad"])
    case("wrong type `bench run --seed abc`", ["run", "--seed", "abc"])
    case("unknown command `bench nosuch`", ["nosuch"])
    case("`bench --version`", ["--version"], use="out")
    hang = ROOT / "hang.py"
    hang.write_text(textwrap.dedent('''
        import os, time
        from pathlib import Path
        from methods.base import Method, MethodInfo

        def infer(adata, *, seed=0, **params):
            if os.environ.get("HANG_PID_FILE"):
                Path(os.environ["HANG_PID_FILE"]).write_text(str(os.getpid()))
            time.sleep(3600)

        def crash(adata, *, seed=0, **params):
            raise RuntimeError("boom")

        METHODS = [Method(MethodInfo(name="hanger", summary="-", paper="-", code_url="-"), infer),
                   Method(MethodInfo(name="crash", summary="-", paper="-", code_url="-"), crash)]
    '''))
    case("`bench methods test` of a hanging method (--timeout 5)", ["methods", "test", "hanger", "--method-file", hang,
                                                                   "--timeout", "5"], use="out")
    case("`bench methods test` of a crashing method", ["methods", "test", "crash", "--method-file", hang], use="out")
    from methods.contract import make_tiny_dataset  # noqa: E402

    tiny = ROOT / "tiny.h5ad"
    make_tiny_dataset().write_h5ad(tiny)
    case("`bench infer` with a failing method", ["infer", "--dataset", tiny, "--methods", "crash", "--method-file", hang,
                                                "--out", ROOT / "inf"])

    # --- config
    for label, text in [("seed = -1", "seed = -1"), ("seed = 1.5", "seed = 1.5"),
                        ('method_timeout = "abc"', 'method_timeout = "abc"'), ("method_timeout = -5", "method_timeout = -5"),
                        ("method_memory_gb = 0", "method_memory_gb = 0"), ('methods = "pidc,genie3"', 'methods = "pidc,genie3"'),
                        ("methods = []", "methods = []"), ("sources = []", "sources = []"), ("n_cells = 0", "n_cells = 0"),
                        ("n_cells = -5", "n_cells = -5"), ("k = 0", "k = 0"),
                        ("unknown simulator option", "simulator_overrides = {bogus_option = 1}"),
                        ("malformed TOML", "seed = = 1"), ("binary TOML", b"\x00\xff\xfe\x80binary"),
                        ("unknown key", "wat = 1")]:
        case(f"config: {label}", ["run", "--config", toml(label.replace(" ", "_").replace('"', "")[:20], text), *smoke])
    case("`bench run --seed -1`", ["run", "--seed", "-1", *smoke])
    for args in (["--n-test", "-5"], ["--n-genes", "0"], ["--library-size", "-1"], ["--hvg-on", "nope"]):
        case(f"`bench datasets prepare bonemarrow {' '.join(args)}`", ["datasets", "prepare", "bonemarrow", *args])
    case("env BENCH_N_JOBS=abc", ["run", *smoke], env=dict(ENV, BENCH_N_JOBS="abc"))
    (ROOT / "afile").write_text("")
    case("env BENCH_CACHE_DIR unwritable (under a file)", ["run", *smoke], env=dict(ENV, BENCH_CACHE_DIR=str(ROOT / "afile" / "c")))

    # --- data
    nan = X.copy()
    nan[1, 1] = np.nan
    inf = X.copy()
    inf[0, 0] = np.inf
    data_cases = {
        "duplicate gene names": counts("dupg", X, G[:-1] + [G[0]], C),
        "duplicate cell names": counts("dupc", X, G, C[:-1] + [C[0]]),
        "log-transformed data with a counts layer": counts("log", np.log1p(X), G, C, counts=X),
        "non-integer values": counts("frac", X * 10.5 + 0.25, G, C),
        "a single cell": counts("one", X[:1], G, C[:1]),
        "NaN": counts("nan", nan, G, C),
        "inf": counts("inf", inf, G, C),
        "0 genes": counts("zero", np.zeros((200, 0)), None, C),
        "negative values": counts("neg", -X, G, C),
    }
    for label, spec in data_cases.items():
        case(f"data: {label}", ["datasets", "prepare", spec, "--tfs", tfs, "--n-genes", "20"])
    case("data: duplicate gene names with --make-unique", ["datasets", "prepare", data_cases["duplicate gene names"],
                                                            "--tfs", tfs, "--n-genes", "20", "--make-unique"], use="out")
    case("data: log data with --layer counts", ["datasets", "prepare", data_cases["log-transformed data with a counts layer"],
                                                "--tfs", tfs, "--n-genes", "20", "--layer", "counts"], use="out")
    case("data: NaN through `bench run` (run dir not created)", ["run", "--dataset", data_cases["NaN"], *smoke])
    rows[-1] = (rows[-1][0] + f" [run dir exists: {(ROOT / 'run').exists()}]",) + rows[-1][1:]

    # --- TF lists
    for label, content in [("empty", b""), ("binary", b"\x89PNG\r\n\x1a\n\x00\x00"), ("no overlap", b"Gata1\nSpi1\n")]:
        f = ROOT / f"tf_{label.replace(' ', '_')}.txt"
        f.write_bytes(content)
        case(f"TF list {label} (`datasets prepare --tfs`)", ["datasets", "prepare", counts("ok", X, G, C), "--tfs", f,
                                                             "--n-genes", "20"])
        case(f"TF list {label} (`infer --tfs`)", ["infer", "--dataset", tiny, "--methods", "ppcor", "--tfs", f])

    # --- knockouts
    for v, u in [("nan", "data"), ("inf", "data"), ("-1", "data"), ("-1", "controller")]:
        case(f"`bench knockout DIR --value {v} --units {u}`", ["knockout", ROOT, "--tf", "Gata2", "--value", v, "--units", u])

    # --- names, plugins, report
    evil = ROOT / "evil.py"
    evil.write_text("from methods.base import Method, MethodInfo\nMETHOD = Method(MethodInfo(name='../evil', summary='-', "
                    "paper='-', code_url='-'), lambda adata, **k: None)\n")
    case("method named `../evil`", ["methods", "list", "--method-file", evil])
    gen = ROOT / "gen.py"
    gen.write_text("from methods.base import Method, MethodInfo\nMETHOD = Method(MethodInfo(name='genie3', summary='-', "
                   "paper='-', code_url='-'), lambda adata, **k: None)\n")
    case("plugin reusing the built-in name `genie3`", ["methods", "list", "--method-file", gen])
    notrun = ROOT / "notrun"
    notrun.mkdir()
    case("`bench report` on a folder that is not a run", ["report", notrun])

    # --- faults: Ctrl-C in infer, a second run, Ctrl-C in run
    pidf = ROOT / "hang.pid"
    env = dict(ENV, HANG_PID_FILE=str(pidf))
    p = subprocess.Popen([sys.executable, "-m", "bench.cli", "infer", "--dataset", tiny, "--methods", "hanger,ppcor",
                          "--method-file", hang, "--out", ROOT / "inf2", "--workers", "2"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not pidf.exists():
        time.sleep(0.2)
    time.sleep(1)
    t = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    hung = int(pidf.read_text())
    alive = os.path.exists(f"/proc/{hung}")
    print("faults", file=sys.stderr, flush=True)
    rows.append((f"Ctrl-C in `bench infer` with a hung method (exit after {time.monotonic() - t:.1f} s; hung child alive: "
                 f"{alive}; record written: {(ROOT / 'inf2' / 'hanger' / 'record.json').exists()}; bench-* temp left: "
                 f"{[f.name for f in (ROOT / 'tmp').iterdir() if f.name.startswith('bench-')]})", p.returncode, last_line(err)))

    run_args = [sys.executable, "-m", "bench.cli", "run", "--preset", "smoke", "--out", ROOT / "locked", "--methods", "ppcor",
                "--sources", "real"]
    first = subprocess.Popen(run_args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = ROOT / "locked" / ".lock"
    while not (lock.exists() and lock.read_text()):
        time.sleep(0.2)
    second = subprocess.run(run_args, env=ENV, capture_output=True, text=True, timeout=900)
    rows.append((f"second `bench run` on the same --out (first is pid {first.pid})", second.returncode,
                 last_line(second.stderr)))
    time.sleep(5)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=300)
    rows.append((f"Ctrl-C in `bench run` (lock left: {lock.exists()})", first.returncode, last_line(err)))
    holder = subprocess.Popen([sys.executable, "-c", "import time; from bench.lock import RunLock; "
                               f"RunLock({str(ROOT / 'stale')!r}).acquire(); print('x', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    holder.stdout.readline()
    holder.kill()
    holder.wait()
    import json  # noqa: E402

    third = subprocess.Popen(run_args[:6] + [ROOT / "stale"] + run_args[7:], env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    stale = ROOT / "stale" / ".lock"
    t = time.monotonic()
    while time.monotonic() - t < 600 and third.poll() is None:
        try:
            if json.loads(stale.read_text()).get("pid") == third.pid:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    taken = third.poll() is None
    third.send_signal(signal.SIGINT)
    _, err = third.communicate(timeout=300)
    rows.append((f"`bench run` on a dir whose lock holder was killed -9 (stale lock taken over: {taken}; then Ctrl-C)",
                 third.returncode, last_line(err)))

    print("| case | exit code | message (last stderr/stdout line) |")
    print("|---|---|---|")
    for label, code, msg in rows:
        print(f"| {label} | {code} | {msg} |")


if __name__ == "__main__":
    run_all()
