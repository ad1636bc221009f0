"""Names that become file or folder names: method ids, slugs, and paths that must stay inside a folder.

A method name becomes ``infer/<source>/<name>/``, so ``../x`` would write outside the run directory. Names are
checked once, when a method is registered (:func:`check_id`), and every path built from user input is checked
to stay under its root (:func:`inside`).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from bench.errors import BenchError

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+-]{0,63}$")


def check_id(name: object, what: str = "method name") -> str:
    """``name`` if it is a safe id (letters, digits, ``_ + -``; starts with a letter or digit; <= 64 chars)."""
    if not isinstance(name, str) or not ID_PATTERN.match(name):
        raise BenchError(f"{what} {name!r} is not a safe id (it becomes a folder name).",
                         "Use letters, digits, '_', '+' or '-' (start with a letter or digit, at most 64).")
    return name


def slug(text: str, max_len: int = 40) -> str:
    """A file-name-safe form of ``text``; a short hash keeps different texts apart when characters were replaced."""
    base = re.sub(r"[^A-Za-z0-9_.+-]+", "_", str(text)).strip("._")[:max_len] or "x"
    if base == str(text):
        return base
    return f"{base}-{hashlib.sha1(str(text).encode()).hexdigest()[:6]}"


def inside(root: str | os.PathLike, *parts: str) -> Path:
    """``root / parts...``, refused if it would resolve outside ``root`` (``..``, absolute parts, symlinks)."""
    root_p = Path(root).resolve()
    path = Path(root).joinpath(*parts)
    if path.resolve() != root_p and root_p not in path.resolve().parents:
        raise BenchError(f"{'/'.join(parts)!r} would write outside {root}.", "Use a plain name without '/' or '..'.")
    return path
