"""One ``bench run`` per run directory: a lock on ``RUN_DIR/.lock``, which names its owner.

Two runs writing into the same directory interleave their stages and leave a leaderboard that neither run
produced. :class:`RunLock` takes an exclusive ``flock`` on ``RUN_DIR/.lock`` and writes the owner's pid, host,
start time and command into it; a second run finds the lock taken and stops with exit code 2, naming that
process. The kernel drops the lock when its process dies (``kill -9``, a crash), so a lock file left by a dead
run is stale by construction and never blocks the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path

from bench.errors import BenchError

LOCK_NAME = ".lock"


class RunLock:
    """Exclusive lock on a run directory; use as a context manager.

    Re-entrant within one process (a test calling ``run_pipeline`` twice), exclusive between processes.
    """

    _held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, nesting depth), in this process

    def __init__(self, run_dir: str | os.PathLike):
        self.path = Path(run_dir) / LOCK_NAME

    def owner(self) -> dict:
        """What the lock file says about its owner (may be stale or empty)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (ValueError, OSError):
            return {}

    def acquire(self) -> "RunLock":
        import fcntl

        key = self.path.absolute()
        if key in self._held:
            fd, depth = self._held[key]
            self._held[key] = (fd, depth + 1)
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                time.sleep(0.1)  # the owner may still be writing its name
                o = self.owner()
                raise BenchError(
                    f"run directory {self.path.parent} is in use by process {o.get('pid', '?')} "
                    f"(`{o.get('command', 'bench run')}`, started {o.get('started', '?')}).",
                    "Wait for it to finish, stop it, or give another --out.") from None
            # the previous owner may have removed the file between our open and our lock: lock the live file
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "command": " ".join(["bench", *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        self._held[key] = (fd, 1)
        return self

    def release(self) -> None:
        key = self.path.absolute()
        if key not in self._held:
            return
        fd, depth = self._held[key]
        if depth > 1:
            self._held[key] = (fd, depth - 1)
            return
        del self._held[key]
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # before unlocking: a waiting run then locks a fresh file
        os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
