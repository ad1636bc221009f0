"""A method's parameters: defaults, then a named preset, then explicit overrides."""

from __future__ import annotations

from typing import Any

from bench.errors import BenchError
from methods.base import Method


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
