"""The method contract and registry.

A method is a function plus a metadata record::

    def infer(adata, *, pseudotime=None, tfs=None, seed=0, **params) -> pandas.DataFrame  # edge schema

``adata`` is cells x genes (``var_names`` = gene symbols, ``X`` = log1p of the library-size-normalised expression:
the one input rule of :mod:`methods.inputs`, applied by every command);
``pseudotime`` is a 1-D array aligned with the cells (given when ``info.pseudotime != "none"``); ``tfs`` is a
list of candidate regulators (given only when ``info.accepts_tfs`` and the caller asks for it). The return value
is a ranked edge table (:mod:`bench.edges`).

Methods are collected from the built-in ``methods.native`` modules, the ``bench.methods`` entry point group
(value: a :class:`Method` or a zero-argument callable returning one or a list of them), and single files
(``--method-file my_method.py``, defining ``METHOD`` or ``METHODS``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.errors import BenchError

PseudotimeNeed = Literal["none", "ordering", "values"]


@dataclass(frozen=True)
class MethodInfo:
    """Metadata of an inference method (Open Problems / decoupler style)."""

    name: str
    summary: str
    paper: str
    code_url: str
    pseudotime: PseudotimeNeed = "none"
    directed: bool = True
    signed: bool = False
    accepts_tfs: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    license: str = "unknown"
    presets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Method:
    info: MethodInfo
    infer: Callable[..., Any]

    @property
    def name(self) -> str:
        return self.info.name

    def params(self, preset: str | None = None, **overrides: Any) -> dict[str, Any]:
        """Default parameters, then the named preset, then explicit overrides."""
        p = dict(self.info.defaults)
        if preset and preset in self.info.presets:
            p.update(self.info.presets[preset])
        p.update(overrides)
        return p


# Built-in modules: each defines METHOD (a Method).
BUILTIN_MODULES = [
    "methods.native.genie3",
    "methods.native.grnboost2",
    "methods.native.ppcor",
    "methods.native.pidc",
    "methods.native.leap",
    "methods.native.scode",
    "methods.native.sincerities",
    "methods.native.cespgrn",
]

_registry: dict[str, Method] = {}
_loaded = False


def register(method: Method, *, replace: bool = False) -> Method:
    key = method.info.name.lower()
    if key in _registry and not replace and _registry[key] is not method:
        raise BenchError(f"a method named {method.info.name!r} is already registered.", "Choose another name.")
    _registry[key] = method
    return method


def _coerce(obj: Any, origin: str) -> list[Method]:
    if isinstance(obj, Method):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [m for o in obj for m in _coerce(o, origin)]
    if callable(obj):
        return _coerce(obj(), origin)
    raise BenchError(f"{origin} does not provide a methods.base.Method.", "Define METHOD = Method(info, infer).")


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in BUILTIN_MODULES:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name == mod:  # not written yet
                continue
            raise
        register(m.METHOD, replace=True)
    for ep in importlib.metadata.entry_points(group="bench.methods"):
        for m in _coerce(ep.load(), f"entry point {ep.name}"):
            register(m, replace=True)


def load_method_file(path: str | Path) -> list[Method]:
    """Register the methods defined in a single Python file (``METHOD`` or ``METHODS``)."""
    path = Path(path)
    if not path.exists():
        raise BenchError(f"method file not found: {path}.", "Check the path given to --method-file.")
    spec = importlib.util.spec_from_file_location(f"bench_user_method_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise BenchError(f"method file {path} failed to import: {type(exc).__name__}: {exc}",
                         "Fix the file; it must define METHOD or METHODS.") from None
    obj = getattr(module, "METHODS", None) or getattr(module, "METHOD", None)
    if obj is None:
        raise BenchError(f"method file {path} defines neither METHOD nor METHODS.",
                         "Add METHOD = Method(MethodInfo(...), infer).")
    methods = _coerce(obj, str(path))
    _load_builtins()
    for m in methods:
        register(m, replace=True)
    return methods


def all_methods() -> dict[str, Method]:
    _load_builtins()
    return dict(sorted(_registry.items()))


def get_method(name: str) -> Method:
    methods = all_methods()
    key = name.lower()
    if key not in methods:
        raise BenchError(f"unknown method {name!r}.", f"Choose one of: {', '.join(m.name for m in methods.values())}.")
    return methods[key]
