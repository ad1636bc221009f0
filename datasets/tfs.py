"""Transcription-factor lists (AnimalTFDB 3.0), resolved through the data dir."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.errors import BenchError
from bench.settings import settings

_FILES = {
    "mouse": ("tfs_mouse.txt", "animaltfdb3/Mus_musculus_TF.csv"),
    "human": ("tfs_human.txt", "animaltfdb3/Homo_sapiens_TF.csv"),
}


def tf_list_fingerprint(path: str | os.PathLike) -> str | None:
    """Content hash of a TF list file (a cache key part), ``None`` if it does not exist."""
    import hashlib

    p = Path(path).expanduser()
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def _check_text(path: Path) -> None:
    try:
        head = path.read_bytes()[:65536]
    except OSError as exc:
        raise BenchError(f"cannot read TF list {path}: {exc.strerror or exc}.", "Give a readable text file.") from None
    try:
        head.decode("utf-8")
        binary = b"\x00" in head
    except UnicodeDecodeError as exc:
        binary = exc.start < len(head) - 4  # a multi-byte character cut at the end of the sample is fine
    if binary:
        raise BenchError(f"TF list {path} is a binary file, not text.",
                         "Give one gene symbol per line, or AnimalTFDB's table with a Symbol column.")


def check_tf_overlap(tfs, genes, source: str = "the data", what: str = "TF list") -> list[str]:
    """The TFs that are genes of the data; raise when there are none (a run would find 0 edges)."""
    gs = set(map(str, genes))
    kept = [t for t in tfs if t in gs]
    if not kept:
        example = ", ".join(list(tfs)[:3])
        raise BenchError(f"the {what} shares no gene with {source} (e.g. {example} are not among its "
                         f"{len(gs)} genes).", "Give the TF list of the data's species and gene naming.")
    return kept


def _read_tf_file(path: Path) -> list[str]:
    _check_text(path)
    try:
        if path.suffix in (".csv", ".tsv") or path.name.endswith("_TF.csv"):
            # AnimalTFDB's download is tab-separated despite the .csv name; it has a "Symbol" column.
            df = pd.read_csv(path, sep=None, engine="python")
            col = next((c for c in df.columns if c.lower() in ("symbol", "gene", "tf", "name")), df.columns[0])
            names = df[col]
        else:
            names = pd.Series(path.read_text().split())
    except Exception as exc:
        raise BenchError(f"cannot read TF list {path}: {type(exc).__name__}.",
                         "Give one gene symbol per line, or AnimalTFDB's table with a Symbol column.") from None
    out = sorted({str(n).strip() for n in names.dropna() if str(n).strip()})
    if not out:
        raise BenchError(f"TF list {path} is empty.", "Give one gene symbol per line.")
    return out


def load_tfs(species_or_path: str | os.PathLike) -> list[str]:
    """TF symbols for ``"mouse"``/``"human"`` (AnimalTFDB 3.0 from the data dir), or from a file path."""
    key = str(species_or_path)
    if key in _FILES:
        for d in settings.data_search_path():
            for fname in _FILES[key]:
                p = d / fname
                if p.exists():
                    return _read_tf_file(p)
        raise BenchError(f"no {key} TF list found in {settings.data_dir}.",
                         f"Put AnimalTFDB's {_FILES[key][1].split('/')[-1]} or {_FILES[key][0]} there, "
                         "or set BENCH_DATA_DIR.")
    p = Path(key).expanduser()
    if not p.exists():
        raise BenchError(f"TF list not found: {p}.", "Give 'mouse', 'human' or a path to a file of TF symbols.")
    return _read_tf_file(p)


def guess_species(genes) -> str:
    """'human' if most symbols are upper case (GATA1), else 'mouse' (Gata1)."""
    genes = [g for g in map(str, genes) if g[:1].isalpha()]
    if not genes:
        return "human"
    upper = sum(g == g.upper() for g in genes)
    return "human" if upper >= 0.5 * len(genes) else "mouse"
