"""The measured per-unit costs behind ``bench run --plan`` (:mod:`bench.plan`), each with its provenance."""

from __future__ import annotations

from typing import Any

#: Measured per-unit costs (seconds, one core of the 2-core development machine). Each has its provenance.
COSTS: dict[str, Any] = {
    # One RandomForestRegressor tree (bootstrap, max_features of the regulators) per unit of
    # cells * log2(cells) * max_features. benchmarks/scale_trees.py: GENIE3, 1000 trees, 2230 cells x 1000 genes,
    # 14.9 CPU s per target.
    "rf_unit_s": 1.9e-8,
    # One boosting round (depth-3 tree on subsample * cells, max_features of the regulators) per unit of
    # subsample * cells * log2(cells) * max_features. benchmarks/scale_trees.py: GRNBoost2 without a TF list,
    # 1.74 CPU s per target.
    "gbm_unit_s": 4.8e-9,
    # Mean boosting rounds per target until early stopping, by learning rate (bonemarrow, benchmarks/scale_trees.py;
    # other learning rates scale as 1 / learning rate).
    "gbm_rounds": {0.01: 163.0},
    # Other methods: (seconds at the reference size, reference cells, reference genes, cell exponent, gene
    # exponent), per method preset ("*" = any). benchmarks/methods_speed.py at 1960 x 300, BEELINE defaults: each
    # run's CPU seconds minus ~1.5 s of child start-up (this session, load ~20; CPU time is not inflated by load).
    "methods": {
        "ppcor": {"*": (0.7, 1960, 300, 1.0, 2.0)},
        "pidc": {"*": (1.0, 1960, 300, 1.0, 3.0)},
        "leap": {"*": (4.4, 1960, 300, 2.0, 2.0)},
        "scode": {"*": (6.2, 1960, 300, 1.0, 1.0), "fast": (0.2, 1960, 300, 1.0, 1.0)},
        "sincerities": {"*": (4.0, 1960, 300, 1.0, 2.0)},
        # methods/native/cespgrn.py docstring (benchmarks/cespgrn_memory.py, 2230 x 1000): defaults ~25 h, fast ~0.5 h
        "cespgrn": {"*": (25 * 3600.0, 2230, 1000, 1.0, 3.0), "fast": (0.5 * 3600.0, 2230, 1000, 0.0, 3.0)},
        # the baselines: one correlation matrix, or random numbers per pair
        "pearson": {"*": (0.1, 1960, 300, 1.0, 2.0)},
        "random": {"*": (0.05, 1960, 300, 0.0, 2.0)},
    },
    # Start-up of a method's child process (interpreter, imports, reading the data), per method run; CeSpGRN also
    # imports torch and clusters the cells (smoke run: ~1.5 CPU s for most methods, ~8 for CeSpGRN at 100 genes).
    "method_start_s": 3.0,
    "method_extra_start_s": {"cespgrn": 5.0},
    # GAN training step, by simulator preset: (stage-1 s, stage-2 s, reference genes), on the CPU.
    # paper: stage 2 measured (simulators/README.md, 9.68 s at 1000 genes); stage 1 = 5 critic iterations at batch 128
    # (~1/8 of stage 2's 1.17 s at batch 1024) + generator, ESTIMATED 0.25 s. default: the default run on an idle
    # 2-core machine (2026-12-01): 3500 stage-1 steps at ~17/s, 1900 stage-2 steps at ~11/s, 369 s in all. smoke: tiny.
    "gan_step_s": {"paper": (0.25, 9.68, 1000), "default": (0.058, 0.091, 300), "smoke": (0.05, 0.05, 100)},
    # Fixed cost of a GAN stage (torch import, checkpoints, validation, generation).
    "gan_fixed_s": 2.0,
    # No GPU was lent while measuring: a GPU step is ASSUMED this many times faster than the CPU step, at least
    # gpu_min_step_s (kernel launches).
    "gpu_speedup": 100.0,
    "gpu_min_step_s": 0.005,
    # Other stages: data (prepare, cached), simulate, pseudotime (per source), score (per leaderboard row and per
    # realism forest tree), report. Idle 2-core machine, default run: data 0.2 s, simulate 1.1 s, pseudotime 5.8 s for
    # 12 sources; smoke: 0.1 s, 0.3 s, 4.1 s for 8 sources.
    "data_s": 1.0,
    "simulate_s": 1.0,
    "pseudotime_s": 0.5,
    "score_row_s": 0.2,
    "realism_tree_s": 0.01,
    "knockout_tf_s": 2.0,
    "report_s": 5.0,
}
