"""GRN inference methods: the registry, the contract checks and the execution layer.

>>> import methods
>>> sorted(methods.all_methods())                                   # doctest: +SKIP
['cespgrn', 'genie3', 'grnboost2', 'leap', 'pidc', 'ppcor', 'scode', 'sincerities']
>>> runs = methods.run_methods(adata, ["pidc", "genie3"], preset={"genie3": "fast"}, timeout=3600)  # doctest: +SKIP
>>> methods.records_table(runs)                                     # doctest: +SKIP

A method is ``infer(adata, *, pseudotime=None, tfs=None, seed=0, **params) -> edges`` plus a
:class:`MethodInfo`; add one with :func:`register`, a ``bench.methods`` entry point, or
:func:`load_method_file`. :func:`check_method` runs the contract checks on it.
"""

from __future__ import annotations

import importlib

# name -> module; imported on first use, so that ``import methods.base`` (the registry) or a native kernel does not
# pull in Dask, docker and the execution layer.
_EXPORTS = {
    "Method": "methods.base", "MethodInfo": "methods.base", "all_methods": "methods.base",
    "get_method": "methods.base", "load_method_file": "methods.base", "register": "methods.base",
    "check_method": "methods.contract", "make_tiny_dataset": "methods.contract",
    "run_isolated": "methods.isolation", "Job": "methods.jobs", "make_jobs": "methods.jobs",
    "resolve_pseudotime": "methods.pseudotime_input", "MethodRun": "methods.record", "RunRecord": "methods.record",
    "records_table": "methods.runner", "run_jobs": "methods.runner", "run_methods": "methods.runner",
    "save_runs": "methods.runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'methods' has no attribute {name!r}")
