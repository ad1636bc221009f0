"""The execution layer's public names in one place (kept for existing imports).

- :mod:`methods.inputs`           the one input rule (log1p of library-size-normalised expression)
- :mod:`methods.params`           defaults, presets, overrides
- :mod:`methods.jobs`             a method job: prepared input + resolved arguments (``make_jobs``)
- :mod:`methods.isolation`        one job in a watched child process (timeout, memory limit, record)
- :mod:`methods.dispatch`         the one owner of the Dask client
- :mod:`methods.runner`           jobs through Dask, results streamed to a callback; ``run_methods``
- :mod:`methods.pseudotime_input` the pseudotime handed to methods
- :mod:`methods.record`           the typed run record (leaderboard field names)
"""

from methods.isolation import run_isolated, run_job_in_child
from methods.jobs import Job, make_jobs
from methods.params import resolve_params
from methods.pseudotime_input import resolve_pseudotime
from methods.record import STATUSES, MethodRun, RunRecord
from methods.runner import Execution, records_table, run_jobs, run_methods, save_run, save_runs

__all__ = ["STATUSES", "Execution", "Job", "MethodRun", "RunRecord", "make_jobs", "records_table", "resolve_params",
           "resolve_pseudotime", "run_isolated", "run_job_in_child", "run_jobs", "run_methods", "save_run",
           "save_runs"]
