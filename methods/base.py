"""The method contract and registry.

A method is a function plus a metadata record::

    def infer(adata, *, pseudotime=None, tfs=None, seed=0, **params) -> pandas.DataFrame  # edge schema

``adata`` is cells x genes (``var_names`` = gene symbols, ``X`` = log1p of the library-size-normalised expression:
the one input rule of :mod:`methods.inputs`, applied by every command);
``pseudotime`` is a 1-D array aligned with the cells (given when ``info.pseudotime != "none"``); ``tfs`` is a
list of candidate regulators (given only when ``info.accepts_tfs`` and the caller asks for it). The return value
is a ranked edge table (:mod:`bench.edges`).

Methods are collected from the built-in ``methods.native`` modules (every module there that defines ``METHOD``;
no list to edit), the ``bench.methods`` entry point group
(value: a :class:`Method` or a zero-argument callable returning one or a list of them), and single files
(``--method-file my_method.py``, defining ``METHOD`` or ``METHODS``).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.errors import BenchError

PseudotimeNeed = Literal["none", "ordering", "values"]


@dataclass(frozen=True)
class MethodInfo:
    """Metadata of an inference method (Open Problems / decoupler style).

    ``name`` is the method's id: lowercase (``"GENIE3"`` becomes ``"genie3"``), used in folders, configs, the CLI
    and the registry. ``label`` is how it is displayed (leaderboard ``method`` column, reports); it defaults to
    ``name`` as given.
    """

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
    #: splits its work into Dask tasks on the run's cluster when one is given (:mod:`methods.blocks`)
    dask_tasks: bool = False
    label: str = ""
    baseline: bool = False  # a control method (random, correlation): drawn apart, never "the best method"

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", self.label or self.name)
        object.__setattr__(self, "name", self.name.lower())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Method:
    info: MethodInfo
    infer: Callable[..., Any]
    #: a plugin may take over the name of a method registered before it (a built-in) only by saying so
    replace: bool = False

    @property
    def name(self) -> str:
        """The lowercase id."""
        return self.info.name

    @property
    def label(self) -> str:
        """The display name."""
        return self.info.label

    def params(self, preset: str | None = None, **overrides: Any) -> dict[str, Any]:
        """Default parameters, then the named preset, then explicit overrides."""
        p = dict(self.info.defaults)
        if preset and preset in self.info.presets:
            p.update(self.info.presets[preset])
        p.update(overrides)
        return p


BUILTIN_PACKAGE = "methods.native"  # every module in it that defines METHOD is a built-in method

_registry: dict[str, Method] = {}
_origins: dict[str, str] = {}  # registry key -> where the method came from (built-in, entry point, file)
_loaded = False


def register(method: Method, *, replace: bool = False, origin: str = "python code") -> Method:
    """Add ``method`` to the registry under its (safe, case-insensitive) name.

    A name already taken by another source (a plugin reusing a built-in's name) is refused unless
    ``replace=True`` here or ``Method(..., replace=True)``; the same source may register again (a reload).
    """
    from bench.safeid import check_id

    key = check_id(method.info.name).lower()
    old = _registry.get(key)
    if old is not None and old is not method and not (replace or method.replace) and _origins.get(key) != origin:
        raise BenchError(f"{origin} registers a method named {method.info.name!r}, which {_origins.get(key)} "
                         "already provides.", "Rename it, or build it with Method(..., replace=True) to replace "
                         "that method on purpose.")
    _registry[key] = method
    _origins[key] = origin
    return method


def implementation(method: Method) -> dict[str, str]:
    """Which code a method's results come from (recorded with each run): its origin and infer function."""
    fn = method.infer
    return {"origin": _origins.get(method.name.lower(), "unregistered"),
            "function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}",
            "replaces_builtin": bool(method.replace)}


def _coerce(obj: Any, origin: str) -> list[Method]:
    if isinstance(obj, Method):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [m for o in obj for m in _coerce(o, origin)]
    if callable(obj):
        return _coerce(obj(), origin)
    raise BenchError(f"{origin} does not provide a methods.base.Method.", "Define METHOD = Method(info, infer).")


def builtin_modules() -> list[str]:
    """The modules of :data:`BUILTIN_PACKAGE` (``_private`` ones are helpers), sorted: found, not listed."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    return sorted(f"{BUILTIN_PACKAGE}.{m.name}" for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_"))


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in builtin_modules():
        module = importlib.import_module(name)
        if isinstance(getattr(module, "METHOD", None), Method):  # kernels and helpers define none
            register(module.METHOD, origin=f"built-in {name}")
    for ep in importlib.metadata.entry_points(group="bench.methods"):
        for m in _coerce(ep.load(), f"entry point {ep.name}"):
            register(m, origin=f"entry point {ep.name} = {ep.value}")


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
        register(m, origin=f"method file {path.resolve()}")
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
