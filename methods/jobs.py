"""A method job: one method, its prepared input and its resolved arguments, ready to run anywhere.

:func:`make_jobs` is the one place where a dataset becomes a method's input (:func:`methods.inputs.prepare_input`,
applied once per dataset), pseudotime is resolved (once, when a method needs it), parameters are resolved
(defaults, preset, overrides) and the TF list and pseudotime are handed only to the methods that take them.
``bench run``, ``bench infer`` (through :func:`methods.runner.run_jobs`) and the contract checks
(:meth:`Job.call`, in-process) all build their jobs here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.errors import BenchError
from methods.base import Method, get_method
from methods.inputs import check_transform, prepare_input
from methods.params import per_method, resolve_params
from methods.pseudotime_input import resolve_pseudotime


@dataclass
class Job:
    """Everything one method run needs; ``adata`` is already the method's input."""

    method: Method
    adata: Any  # AnnData: prepare_input(dataset)
    seed: int
    params: dict[str, Any]  # resolved: defaults, preset, overrides
    preset: str | None
    input_transform: str
    pseudotime: np.ndarray | None = None  # only for methods that need it
    tfs: list[str] | None = None  # only for methods that accept a TF list
    label: str = ""  # e.g. "groundgan/pidc": where the caller files the result

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``method.infer`` besides ``adata`` and ``seed``."""
        kw = dict(self.params)
        if self.pseudotime is not None:
            kw["pseudotime"] = self.pseudotime
        if self.tfs is not None:
            kw["tfs"] = list(self.tfs)
        return kw

    def call(self):
        """Run the method in this process (the contract checks); returns its edge table."""
        return self.method.infer(self.adata, seed=self.seed, **self.kwargs())


def resolve_methods(methods: Sequence[str | Method] | str) -> list[Method]:
    """Method objects from names, objects or a comma-separated string; each at most once."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    resolved = [m if isinstance(m, Method) else get_method(m) for m in methods]
    if not resolved:
        raise BenchError("no methods given.", "Name at least one, e.g. --methods pidc,genie3 (see bench methods list).")
    names = [m.name for m in resolved]
    if len(set(n.lower() for n in names)) != len(names):
        raise BenchError(f"a method is listed twice: {', '.join(names)}.", "List each method once.")
    return resolved


def make_jobs(adata, methods: Sequence[str | Method] | str, *, pseudotime=None, tfs=None, seed: int = 0,
              params: dict | None = None, preset: str | dict | None = None, input_transform: str | None = None,
              label: str = "") -> list[Job]:
    """One :class:`Job` per method on one dataset.

    Parameters
    ----------
    adata
        Cells x genes, ``X`` = library-size-normalised expression (the benchmark's datasets).
    methods
        Names, :class:`~methods.base.Method` objects, or a comma-separated string.
    pseudotime
        See :func:`methods.pseudotime_input.resolve_pseudotime`; resolved on ``adata`` only if a method needs it.
    tfs
        Candidate regulators, given only to methods with ``accepts_tfs`` (``None`` = every gene may regulate).
    params, preset
        One for all methods or ``{method: ...}``; an unknown preset is an error (raised here, before any run).
    input_transform
        The input rule (:data:`methods.inputs.INPUT_TRANSFORMS`); ``None`` = ``log1p``.
    label
        Prefix of each job's label (``f"{label}/{method}"``, or the method name).
    """
    resolved = resolve_methods(methods)
    transform = check_transform(input_transform)
    resolved_params = {m.name: resolve_params(m, per_method(preset, m.name), per_method(params, m.name))
                       for m in resolved}
    pt = None
    if any(m.info.pseudotime != "none" for m in resolved):
        pt = resolve_pseudotime(adata, pseudotime, seed=seed)
    data = prepare_input(adata, transform)  # the one input rule, once per dataset
    return [Job(method=m, adata=data, seed=int(seed), params=resolved_params[m.name],
                preset=per_method(preset, m.name), input_transform=transform,
                pseudotime=pt if m.info.pseudotime != "none" else None,
                tfs=[str(t) for t in tfs] if tfs is not None and m.info.accepts_tfs else None,
                label=f"{label}/{m.name}" if label else m.name)
            for m in resolved]
