"""Checks of a whole run configuration and its inputs, done before the first stage writes anything.

A bad value must fail in the first second with one line saying what is wrong and what to do (exit code 2),
never after minutes of training and never with ``config.toml`` or ``data/`` left behind. ``bench run`` calls
:func:`validate_run`; the other commands call the pieces they need (:func:`check_int`, :func:`check_number`,
:func:`check_prepare_params`).
"""

from __future__ import annotations

import math
from typing import Any

from bench.errors import BenchError

HVG_ON_CHOICES = ("all", "train")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding accepts 0 .. 2**32 - 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value: Any, name: str, *, minimum: int = 1, maximum: int | None = None, optional: bool = False,
              fix: str | None = None) -> None:
    """``value`` must be an integer in ``[minimum, maximum]`` (or ``None`` when ``optional``)."""
    if value is None and optional:
        return
    if not _is_int(value):
        raise BenchError(f"{name} must be an integer, got {value!r}.", fix or f"Give a whole number >= {minimum}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise BenchError(f"{name} must be {bound}, got {value}.", fix or f"Give a whole number {bound}.")


def check_number(value: Any, name: str, *, positive: bool = True, optional: bool = False,
                 fix: str | None = None) -> None:
    """``value`` must be a finite real number (> 0 when ``positive``, else >= 0)."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BenchError(f"{name} must be a finite number, got {value!r}.", fix or "Give a number such as 1800.")
    if value < 0 or (positive and value == 0):
        raise BenchError(f"{name} must be {'positive' if positive else 'zero or more'}, got {value:g}.",
                         fix or "Give a number above 0.")


def check_choice(value: Any, name: str, choices) -> None:
    if value not in choices:
        raise BenchError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}.",
                         f"Use one of: {', '.join(map(str, choices))}.")


def _check_str_list(value: Any, name: str) -> None:
    if isinstance(value, str):
        raise BenchError(f"{name} must be a list of names, got the string {value!r}.",
                         f"In a config file write {name} = [\"pidc\", \"genie3\"]; on the command line "
                         f"--{name} pidc,genie3.")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BenchError(f"{name} must be a list of names, got {value!r}.", f"Example: {name} = [\"pidc\", \"genie3\"].")
    if not value:
        raise BenchError(f"{name} is empty.", f"Name at least one (see `bench run --help`).")
    dup = sorted({v for v in value if list(value).count(v) > 1})
    if dup:
        raise BenchError(f"{name} lists {', '.join(dup)} more than once.", "List each name once.")


def _check_dict(value: Any, name: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, dict):
        raise BenchError(f"{name} must be a table of KEY = VALUE, got {value!r}.",
                         f"In a config file write [{name}] followed by KEY = VALUE lines.")


def check_config_types(cfg) -> None:
    """Types and ranges of every field of a :class:`bench.config.RunConfig` (before presets are filled in)."""
    for name in ("dataset", "preset", "executor", "device"):
        v = getattr(cfg, name)
        if not isinstance(v, str) or not v.strip():
            raise BenchError(f"{name} must be a non-empty string, got {v!r}.", "See `bench run --help`.")
    for name in ("scheduler", "out", "simulator_preset", "method_preset"):
        v = getattr(cfg, name)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise BenchError(f"{name} must be a non-empty string, got {v!r}.", "See `bench run --help`.")
    check_int(cfg.seed, "seed", minimum=0, maximum=MAX_SEED)
    if cfg.methods is not None:  # None = every registered method
        _check_str_list(cfg.methods, "methods")
    _check_str_list(cfg.sources, "sources")
    check_int(cfg.n_genes, "n_genes", minimum=2, optional=True, fix="Give the number of highly variable genes, e.g. 300.")
    check_int(cfg.k, "k", minimum=1, fix="Give the TF ranks per gene, e.g. 10 (the paper's value).")
    _check_dict(cfg.simulator_overrides, "simulator_overrides", optional=True)
    check_int(cfg.n_cells, "n_cells", minimum=1, optional=True,
              fix="Give the number of cells to simulate, or leave it out (= as many as the training cells).")
    _check_dict(cfg.method_params, "method_params")
    for m, p in cfg.method_params.items():
        _check_dict(p, f"method_params.{m}")
    if cfg.give_tfs is not None and not isinstance(cfg.give_tfs, bool):
        raise BenchError(f"give_tfs must be true or false, got {cfg.give_tfs!r}.", "Write give_tfs = true.")
    check_number(cfg.method_timeout, "method_timeout (seconds)", fix="Give seconds per method, e.g. 1800.")
    check_number(cfg.method_memory_gb, "method_memory_gb", fix="Give GB of memory per method, e.g. 8.")
    check_int(cfg.n_workers, "n_workers", minimum=1, optional=True)
    _check_dict(cfg.grn_params, "grn_params", optional=True)
    check_int(cfg.real_cells, "real_cells", minimum=2, optional=True)
    check_int(cfg.realism_rf_trees, "realism_rf_trees", minimum=1, optional=True)
    check_int(cfg.realism_max_cells, "realism_max_cells", minimum=4, optional=True)
    check_int(cfg.k_max, "k_max", minimum=1)
    for name in ("reference_method",):
        v = getattr(cfg, name, "x")
        if not isinstance(v, str) or not v.strip():
            raise BenchError(f"{name} must be a non-empty string, got {v!r}.", "See `bench run --help`.")
    if getattr(cfg, "protocol", None) is not None and not isinstance(cfg.protocol, str):
        raise BenchError(f"protocol must be a name, got {cfg.protocol!r}.", "Use paper or fast.")
    _check_dict(getattr(cfg, "protocol_deviations", None), "protocol_deviations", optional=True)
    if getattr(cfg, "depths", None) is not None and not isinstance(cfg.depths, (list, tuple)):
        raise BenchError(f"depths must be a list, got {cfg.depths!r}.", 'Example: depths = [1.0, "inf"].')
    n_rep = getattr(cfg, "n_replicates", None)
    if n_rep is not None and not _is_int(n_rep):  # its range is checked (and worded) by RunConfig.resolved
        raise BenchError(f"n_replicates must be an integer, got {n_rep!r}.", "Use --replicates 3 (default).")
    check_number(getattr(cfg, "real_fraction", 0.8), "real_fraction", fix="Give a fraction in (0, 1], e.g. 0.8.")
    check_int(getattr(cfg, "n_boot", 1000), "n_boot", minimum=100)
    check_number(getattr(cfg, "rf_auroc_max", 0.85), "rf_auroc_max", fix="Give an AUROC, e.g. 0.85.")
    check_int(cfg.knockout_tfs, "knockout_tfs", minimum=0)
    check_int(cfg.knockout_cells, "knockout_cells", minimum=2)
    for name in ("layer",):
        v = getattr(cfg, name, None)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise BenchError(f"{name} must be a layer name, got {v!r}.", "Example: --layer counts.")
    if not isinstance(getattr(cfg, "make_unique", False), bool):
        raise BenchError(f"make_unique must be true or false, got {cfg.make_unique!r}.", "Write make_unique = true.")


def check_resolved(cfg) -> None:
    """What can only be checked once the preset's values are in: simulator options and method parameters."""
    from simulators import get_preset

    get_preset({"preset": cfg.simulator_preset, **(cfg.simulator_overrides or {})})
    unknown = sorted(set(cfg.method_params or {}) - {m.lower() for m in cfg.methods})
    if unknown:
        raise BenchError(f"method_params names method(s) not in this run: {', '.join(unknown)}.",
                         f"Methods of this run: {', '.join(cfg.methods)}.")


def check_prepare_params(*, n_genes=None, n_test=None, n_validation=None, min_genes=10, min_cells=3,
                         library_size=20000.0, hvg_on="all", seed=0) -> None:
    """The parameters of :func:`datasets.prepare_dataset` (``bench datasets prepare``, ``grn build``, ...)."""
    check_int(n_genes, "--n-genes", minimum=2, optional=True, fix="Give the number of highly variable genes, e.g. 1000.")
    check_int(n_test, "--n-test", minimum=0, optional=True, fix="Give the number of held-out test cells, e.g. 500.")
    check_int(n_validation, "--n-validation", minimum=0, optional=True,
              fix="Give the number of validation cells, e.g. 200 (0 = none).")
    check_int(min_genes, "--min-genes", minimum=0)
    check_int(min_cells, "--min-cells", minimum=0)
    check_number(library_size, "--library-size", fix="Give counts per cell after normalisation, e.g. 20000.")
    check_choice(hvg_on, "--hvg-on", HVG_ON_CHOICES)
    check_int(seed, "--seed", minimum=0, maximum=MAX_SEED)


def validate_run(cfg, force: list[str] | None = None, stages: list[str] | None = None):
    """Check a whole ``bench run`` before anything is written; return the resolved config.

    Config values (types and ranges), the preset's values, simulator options, the environment
    (``BENCH_N_JOBS``, a writable cache dir) and ``--force`` names. The inputs (dataset file, TF list) are checked
    by preparing the dataset, which is cached outside the run directory, so the data stage then reuses it.
    """
    from bench.settings import settings

    check_config_types(cfg)
    cfg = cfg.resolved()
    check_resolved(cfg)
    settings.check_environment()
    if stages is not None:
        unknown = sorted(set(force or []) - set(stages) - {"all"})
        if unknown:
            raise BenchError(f"unknown stage(s) for --force: {', '.join(unknown)}.", f"Stages: {', '.join(stages)}.")
    return cfg


def check_inputs(cfg) -> None:
    """Load and check the dataset and TF list of a run (through the prepared-data cache, outside the run dir)."""
    from datasets import prepare_dataset

    prepare_dataset(cfg.dataset, n_genes=cfg.n_genes, seed=cfg.seed, layer=getattr(cfg, "layer", None),
                    make_unique=getattr(cfg, "make_unique", False))


def check_method_input(adata, source: str) -> None:
    """Cells x genes handed to methods (``bench infer``): non-empty, finite, unique names."""
    import numpy as np
    import scipy.sparse as sp

    if adata.n_obs < 2 or adata.n_vars < 2:
        raise BenchError(f"{source} has {adata.n_obs} cell(s) x {adata.n_vars} gene(s); methods need at least 2 of "
                         "each.", "Give a cells x genes matrix.")
    for axis, names in (("gene", adata.var_names), ("cell", adata.obs_names)):
        if not names.is_unique:
            dup = names[names.duplicated()].unique()
            raise BenchError(f"{source} has {len(dup)} duplicate {axis} name(s) (e.g. {dup[0]!r}).",
                             "Make the names unique (anndata's var_names_make_unique / obs_names_make_unique).")
    data = adata.X.data if sp.issparse(adata.X) else np.asarray(adata.X)
    if not np.issubdtype(data.dtype, np.number):
        raise BenchError(f"{source} holds {data.dtype} values, not numbers.", "Give numeric expression values.")
    if data.size and not np.isfinite(data).all():
        raise BenchError(f"{source} contains {int((~np.isfinite(data)).sum())} NaN or infinite value(s).",
                         "Remove or impute them before inference.")


def check_knockout_value(value: float, units: str) -> None:
    """A perturbation value: finite; not negative in data units (expression is non-negative)."""
    if not math.isfinite(value):
        raise BenchError(f"--value must be a finite number, got {value}.", "Give e.g. --value 0 (a knockout).")
    if value < 0 and units == "data":
        raise BenchError(f"--value {value:g} is negative, but expression is non-negative.",
                         "Give a value >= 0, or --units controller to set the causal controller's raw output.")
