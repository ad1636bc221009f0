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

from methods.base import Method, MethodInfo, all_methods, get_method, load_method_file, register
from methods.contract import check_method, make_tiny_dataset
from methods.isolation import run_isolated
from methods.jobs import Job, make_jobs
from methods.pseudotime_input import resolve_pseudotime
from methods.record import MethodRun, RunRecord
from methods.runner import records_table, run_jobs, run_methods, save_runs

__all__ = ["Job", "Method", "MethodInfo", "MethodRun", "RunRecord", "make_jobs", "run_jobs", "all_methods", "check_method", "get_method", "load_method_file",
           "make_tiny_dataset", "records_table", "register", "resolve_pseudotime", "run_isolated", "run_methods",
           "save_runs"]
