"""A method's parameters: defaults, then a named preset, then explicit overrides.

:func:`resolve_params` merges them for one run. Overrides come from the command line (``--param
METHOD.KEY=VALUE``) and the run config (``[method_params.<method>]``), checked first by
:func:`validate_method_params`: a method declares its parameters in its metadata record (the keys of
``MethodInfo.defaults`` and of its presets); overrides must use those keys and are converted to the type of the
declared value, so that a typo or a bad value is one clear error (exit code 2) before anything runs, not a
failed method later:

* a declared ``int`` takes an integer (``"100"``, or ``1e3`` written as a whole number);
* a ``float`` takes any number; a ``bool`` takes true/false/yes/no/1/0;
* a ``str`` takes the text as given (or a number, for keys like scikit-learn's ``max_features`` that take both);
* a key declared only as ``None`` takes any number, boolean or text; ``none``/``null`` give ``None`` where a
  method declares ``None`` for that key.

Values are recorded with every result like any other parameter (``record.json``, leaderboard ``parameters``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from bench.errors import BenchError
from methods.base import Method

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null"}


def _literal(text: str) -> Any:
    """The value a command-line string stands for: None, a bool, an int, a float, or the text itself."""
    s = text.strip()
    low = s.lower()
    if low in _NONE:
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def declared_params(method) -> dict[str, list[Any]]:
    """``{key: [declared values]}`` from the method's defaults and presets (defaults first)."""
    out: dict[str, list[Any]] = {}
    for source in [method.info.defaults, *method.info.presets.values()]:
        for key, value in source.items():
            out.setdefault(key, []).append(value)
    return out


def _coerce(value: Any, declared: list[Any], where: str) -> Any:
    """Convert ``value`` (text from the command line, or a TOML value) to the declared type of the key."""
    kinds = [type(v) for v in declared if v is not None]
    target = kinds[0] if kinds else None
    if isinstance(value, str):
        value = value.strip()
        if target is bool:
            low = value.lower()
            if low in _TRUE | _FALSE:
                return low in _TRUE
            raise BenchError(f"{where}: {value!r} is not a boolean.", "Write true or false.")
        value = _literal(value)
    if value is None:
        if target is None or any(v is None for v in declared):
            return None
        raise BenchError(f"{where}: this parameter cannot be none.", f"Give a value like {declared[0]!r}.")
    if target is None:
        return value
    if target is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise BenchError(f"{where}: {value!r} is not a boolean.", "Write true or false.")
    if target is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (isinstance(value, float) and not (math.isfinite(value) and value.is_integer())):
            raise BenchError(f"{where}: {value!r} is not an integer.", f"Give a whole number, e.g. {declared[0]!r}.")
        return int(value)
    if target is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BenchError(f"{where}: {value!r} is not a number.", f"Give a number, e.g. {declared[0]!r}.")
        return float(value)
    if target is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value  # keys such as max_features take a name or a number
        raise BenchError(f"{where}: {value!r} is not text.", f"Give a value like {declared[0]!r}.")
    return value  # lists, dicts: taken as given


def validate_method_params(params: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Check ``{method: {key: value}}`` against the methods' declared parameters and convert the values.

    Method names are matched case-insensitively and returned as the registry spells them. Raises a
    :class:`~bench.errors.BenchError` for an unknown method, an undeclared key or a value of the wrong type.
    """
    from methods.base import get_method

    out: dict[str, dict[str, Any]] = {}
    for name, values in (params or {}).items():
        method = get_method(str(name))
        if not isinstance(values, Mapping):
            raise BenchError(f"parameters of {name} must be a table of KEY = VALUE, not {values!r}.",
                             f"Write e.g. [method_params.{method.name.lower()}] with one KEY = VALUE per line.")
        declared = declared_params(method)
        clean = out.setdefault(method.name, {})
        for key, value in values.items():
            if key not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise BenchError(f"method {method.name} has no parameter {key!r}.", f"Its parameters: {known}.")
            clean[key] = _coerce(value, declared[key], f"{method.name}.{key}")
    return out


def parse_param_overrides(items: Iterable[str] | None) -> dict[str, dict[str, Any]]:
    """``["sincerities.cv_alignment=fraction", "leap.max_lag=0.25"]`` -> validated ``{method: {key: value}}``.

    Each item is ``METHOD.KEY=VALUE``; a later item for the same key wins.
    """
    raw: dict[str, dict[str, str]] = {}
    for item in items or []:
        head, sep, value = str(item).partition("=")
        method, dot, key = head.strip().partition(".")
        if not sep or not dot or not method or not key.strip():
            raise BenchError(f"--param {item!r} is not METHOD.KEY=VALUE.",
                             "Example: --param sincerities.cv_alignment=fraction")
        raw.setdefault(method.strip(), {})[key.strip()] = value
    return validate_method_params(raw)


def merge_params(base: Mapping[str, Mapping[str, Any]] | None,
                 override: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Per method and key: ``override`` over ``base`` (e.g. ``--param`` over the config file's table)."""
    out = {str(m): dict(v) for m, v in (base or {}).items()}
    lower = {m.lower(): m for m in out}
    for m, values in (override or {}).items():
        key = lower.get(str(m).lower(), str(m))
        out.setdefault(key, {}).update(values)
    return out


def resolve_params(method: Method, preset: str | None = None, params: dict | None = None) -> dict[str, Any]:
    """Defaults, then the named preset, then explicit ``params``; an unknown preset is an error."""
    if preset and preset not in method.info.presets:
        known = ", ".join(method.info.presets) or "none"
        raise BenchError(f"method {method.name} has no preset {preset!r}.", f"Choose one of: {known}.")
    return method.params(preset, **(params or {}))


def per_method(value, name: str):
    """``value`` may be one setting for all methods or a ``{method name: setting}`` dict (case-insensitive)."""
    if isinstance(value, dict):
        lowered = {str(k).lower(): v for k, v in value.items()}
        return lowered.get(name.lower())
    return value
