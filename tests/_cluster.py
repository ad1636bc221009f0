"""A real Dask cluster for tests: ``dask scheduler`` and ``dask worker`` processes on localhost."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_dir() -> Path:
    """``$BENCH_DATA_DIR``, else ``../shared/data`` next to the checkout (as tests/conftest.py)."""
    return Path(os.environ.get("BENCH_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data")


def bench_env(cache: Path, n_jobs: int = 2) -> dict[str, str]:
    env = dict(os.environ)
    # A worker runs one task per thread: one core per method child, one BLAS thread.
    env.update(BENCH_DATA_DIR=str(data_dir()), BENCH_CACHE_DIR=str(cache), BENCH_N_JOBS=str(n_jobs),
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    env["PYTHONPATH"] = os.pathsep.join([p for p in sys.path if p])
    return env


def kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)


class Cluster:
    """A scheduler and worker processes, each in its own process group (a worker's nanny and worker die together).

    ``resources``: one ``--resources`` value (or None) per worker.
    """

    def __init__(self, tmp: Path, n_workers: int = 2, resources: list[str | None] | None = None):
        tmp.mkdir(parents=True, exist_ok=True)
        self.tmp = tmp
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = bench_env(tmp / "cache", n_jobs=1)
        self.procs: list[subprocess.Popen] = []
        self.workers: list[subprocess.Popen] = []
        try:
            self._start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                         "--no-dashboard"], "scheduler")
            for i in range(n_workers):
                cmd = [str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                       "--no-dashboard", "--memory-limit", "0", "--local-directory", str(tmp / f"worker{i}")]
                if resources and resources[i]:
                    cmd += ["--resources", resources[i]]
                self.workers.append(self._start(cmd, f"worker{i}"))
            self.wait_for_workers(n_workers)
        except BaseException:
            self.close()
            raise

    def _start(self, cmd: list[str], name: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def client(self):
        from distributed import Client

        return Client(self.address, timeout="30s", set_as_default=False)

    def wait_for_workers(self, n: int, timeout: float = 180) -> None:
        t0 = time.time()
        while True:
            with contextlib.suppress(OSError, TimeoutError):
                with self.client() as c:
                    c.wait_for_workers(n, timeout=max(1.0, timeout - (time.time() - t0)))
                    return
            if time.time() - t0 > timeout:
                logs = "\n".join((self.tmp / f).read_text(errors="replace")[-2000:]
                                 for f in os.listdir(self.tmp) if f.endswith(".log"))
                raise RuntimeError(f"the Dask cluster did not start in {timeout:.0f} s:\n{logs}")
            time.sleep(0.5)

    def close(self) -> None:
        for proc in reversed(self.procs):
            kill_group(proc)
