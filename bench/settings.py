"""Global settings, in the style of ``scanpy.settings``.

Values come from the environment when the package is imported and may be changed at run time::

    from bench import settings
    settings.data_dir = "/path/to/data"
    settings.n_jobs = 4
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


class Settings:
    """Process-wide settings of grn-bench.

    Attributes
    ----------
    data_dir
        Where reference files (``bonemarrow_paul15.h5ad``, TF lists, ...) are looked up first.
        ``$BENCH_DATA_DIR``, else the user data dir (``platformdirs.user_data_dir('grn-bench')``).
    cache_dir
        Where prepared datasets and GRNs are cached. ``$BENCH_CACHE_DIR``, else the user cache dir.
    n_jobs
        Worker processes for parallel work (tree ensembles, methods). ``$BENCH_N_JOBS``, else all cores.
    verbosity
        0 = errors only, 1 = progress, 2 = debug. ``$BENCH_VERBOSITY``, default 1.
    """

    def __init__(self) -> None:
        self._data_dir = os.environ.get("BENCH_DATA_DIR")
        self._cache_dir = os.environ.get("BENCH_CACHE_DIR")
        #: problems with the environment variables, reported (exit 2) by :meth:`check_environment`, not at import
        self.env_errors: list[str] = []
        self.n_jobs = self._int_env("BENCH_N_JOBS", 0, minimum=0) or (os.cpu_count() or 1)
        self.verbosity = self._int_env("BENCH_VERBOSITY", 1, minimum=0)

    def _int_env(self, name: str, default: int, minimum: int) -> int:
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = None
        if value is None or value < minimum:
            self.env_errors.append(f"{name}={raw!r} is not an integer >= {minimum}")
            return default
        return value

    def check_environment(self, cache: bool = True) -> None:
        """Raise a :class:`~bench.errors.BenchError` for a bad environment variable or an unwritable cache dir."""
        from bench.errors import BenchError

        if self.env_errors:
            raise BenchError(f"bad environment variable: {'; '.join(self.env_errors)}.",
                             "Fix or unset it (BENCH_N_JOBS: cores to use, 0 = all).")
        if cache:
            self._check_writable(self.cache_dir, "BENCH_CACHE_DIR")

    @staticmethod
    def _check_writable(path: Path, var: str) -> None:
        import tempfile

        from bench.errors import BenchError

        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
                pass
        except OSError as exc:
            raise BenchError(f"cache dir {path} is not writable ({exc.strerror or type(exc).__name__}).",
                             f"Set {var} to a folder you can write to.") from None

    @property
    def data_dir(self) -> Path:
        if self._data_dir:
            return Path(self._data_dir).expanduser()
        return Path(platformdirs.user_data_dir("grn-bench"))

    @data_dir.setter
    def data_dir(self, value: str | os.PathLike) -> None:
        self._data_dir = str(value)

    @property
    def cache_dir(self) -> Path:
        if self._cache_dir:
            return Path(self._cache_dir).expanduser()
        return Path(platformdirs.user_cache_dir("grn-bench"))

    @cache_dir.setter
    def cache_dir(self, value: str | os.PathLike) -> None:
        self._cache_dir = str(value)

    def data_search_path(self) -> list[Path]:
        """Directories searched for a reference file, in order."""
        paths = [self.data_dir, Path(platformdirs.user_data_dir("grn-bench")), self.cache_dir / "downloads"]
        seen: list[Path] = []
        for p in paths:
            if p not in seen:
                seen.append(p)
        return seen


settings = Settings()
