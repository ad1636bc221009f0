"""Ctrl-C: stop cleanly, record nothing for unfinished work, leave no process or temporary folder behind.

Every process a command starts (Dask workers, method children, their pools) descends from the ``bench``
process, and every temporary folder it makes lives under one scratch folder of this process
(:func:`scratch_dir`). On an interrupt :func:`cleanup` kills every descendant process group and removes the
scratch folder; :func:`interrupted` tells the code that records results that the outcome it holds comes from the
interrupt (a killed method), so that it is not recorded as a failure and a re-run redoes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

_flag = threading.Event()
_scratch: Path | None = None
_scratch_lock = threading.Lock()
SCRATCH_ENV = "BENCH_SCRATCH_DIR"


class Interrupted(KeyboardInterrupt):
    """Raised where work is abandoned because the user pressed Ctrl-C (or the process got SIGINT/SIGTERM)."""


def interrupted() -> bool:
    """True once this process has been interrupted."""
    return _flag.is_set()


def mark_interrupted() -> None:
    _flag.set()


def reset() -> None:
    """Forget an earlier interrupt (tests run several commands in one process)."""
    import logging

    if _flag.is_set():
        logging.disable(logging.NOTSET)
    _flag.clear()


def scratch_dir() -> Path:
    """This process tree's temporary folder (created on first use, removed by :func:`cleanup`).

    Child processes inherit it through ``$BENCH_SCRATCH_DIR``, so the temporary folders of method runs in Dask
    workers land in the folder of the ``bench`` process that started them.
    """
    global _scratch
    inherited = os.environ.get(SCRATCH_ENV)
    if inherited and Path(inherited).is_dir():
        return Path(inherited)
    with _scratch_lock:
        if _scratch is None or not _scratch.is_dir():
            _scratch = Path(tempfile.mkdtemp(prefix=f"bench-{os.getpid()}-"))
            os.environ[SCRATCH_ENV] = str(_scratch)
            import atexit

            atexit.register(cleanup)  # library use (no CLI): removed when this process exits
        return _scratch


def quiet_shutdown() -> None:
    """Silence library logs and warnings while we unwind (Dask complains about the workers we killed): the
    user gets one line saying how to resume, nothing else.

    Also points file descriptor 2 at /dev/null, keeping the real stderr for our own messages (``sys.stderr``):
    processes started from now on inherit the null device. Dask's nanny restarts a worker we just killed, and that
    child prints a traceback (``EOFError`` in ``spawn_main``) when we exit under it."""
    import logging
    import sys
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
        real = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        sys.stderr = os.fdopen(real, "w", buffering=1)


def check() -> None:
    """Raise :class:`Interrupted` if this process was interrupted (call before recording a result)."""
    if interrupted():
        raise Interrupted


def descendants() -> list:
    """Every live process started (directly or not) by this one."""
    import psutil

    try:
        return psutil.Process().children(recursive=True)
    except psutil.Error:
        return []


def kill_descendants(rounds: int = 3) -> int:
    """SIGKILL every descendant and every process group a descendant leads; return how many were found.

    Repeated while new ones appear (a pool may spawn a worker while we kill its siblings).
    """
    total = 0
    for _ in range(rounds):
        n = _kill_once()
        total += n
        if not n:
            break
    return total


def _own_resource_tracker(p) -> bool:
    """multiprocessing's resource tracker of this very process: killing it only makes Python relaunch it (with
    a traceback per semaphore it then does not know); it exits by itself when this process exits."""
    import psutil

    try:
        return p.ppid() == os.getpid() and "multiprocessing.resource_tracker" in " ".join(p.cmdline())
    except psutil.Error:
        return False


def _kill_once() -> int:
    import psutil

    procs = [p for p in descendants() if not _own_resource_tracker(p)]
    own_group = os.getpgid(0)
    groups = set()
    for p in procs:
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            g = os.getpgid(p.pid)
            if g != own_group:
                groups.add(g)
    for g in groups:  # method children run in their own session: their pools die with the group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(g, signal.SIGKILL)
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(procs, timeout=5)
    return len(procs)


def _skip_dask_exit_hook() -> None:
    """Dask closes its live clusters at exit; after an interrupt their workers are already killed, so that close
    fails with a traceback ("Exception ignored in atexit callback ... Status.running"). Nothing is left to close."""
    import atexit
    import sys

    spec = sys.modules.get("distributed.deploy.spec")
    if spec is not None and hasattr(spec, "close_clusters"):
        atexit.unregister(spec.close_clusters)


def cleanup() -> None:
    """After an interrupt: kill what is left of the process tree. Always: remove this process's scratch folder."""
    global _scratch
    if interrupted():
        kill_descendants()
        _skip_dask_exit_hook()
    with _scratch_lock:
        if _scratch is not None:
            shutil.rmtree(_scratch, ignore_errors=True)
            if os.environ.get(SCRATCH_ENV) == str(_scratch):
                del os.environ[SCRATCH_ENV]
            _scratch = None


def resume_hint(argv: list[str] | None) -> str:
    """The one line printed on Ctrl-C."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    cmd = " ".join(["bench", *args]) if args else "the same command"
    if args[:1] == ["run"]:
        return f"interrupted: unfinished stages and methods were not recorded; re-run `{cmd}` to resume."
    return f"interrupted: nothing unfinished was recorded; re-run `{cmd}` to start again."


@contextlib.contextmanager
def handle_sigint():
    """While the block runs, SIGINT marks the process interrupted before raising KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum, frame):
        # Kill the children first: a method child runs in its own session, and if its Dask worker died first
        # it would be orphaned (and its temporary folder with it). Then unwind, recording nothing.
        mark_interrupted()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up
        quiet_shutdown()
        kill_descendants()
        raise Interrupted

    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
