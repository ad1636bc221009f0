"""PIDC against a second implementation written from the paper's definitions (tests/_pidc_independent.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import _pidc_independent as independent
from conftest import beeline_dir, beeline_example
from methods.native import pidc


def test_bayesian_blocks_agree_on_tied_and_spread_values():
    rng = np.random.default_rng(0)
    cases = [rng.normal(size=300), rng.poisson(3.0, size=400).astype(float),
             np.concatenate([rng.normal(0, 1, 200), rng.normal(8, 0.3, 100)]), np.array([1.0, 1.0, 2.0, 5.0])]
    for x in cases:
        np.testing.assert_allclose(independent.bayesian_block_edges(x), pidc.bayesian_blocks_edges(x), rtol=0,
                                   atol=1e-12)


def test_pidc_matches_the_independent_implementation_on_beeline_example():
    beeline_example()  # skips when the example is missing
    expr = pd.read_csv(beeline_dir() / "ExpressionData.csv", index_col=0)
    x = expr.T.to_numpy(dtype=np.float64)  # as BEELINE's runPIDC.jl reads it
    ours = pidc.pidc_matrix(x)
    theirs = independent.pidc_weights(x)
    iu = np.triu_indices(x.shape[1], 1)
    np.testing.assert_allclose(ours[iu], theirs[iu], rtol=0, atol=1e-10)
    # same ranking of every pair
    assert (np.argsort(-ours[iu], kind="stable") == np.argsort(-theirs[iu], kind="stable")).mean() > 0.99


def test_pidc_constant_gene_and_clr_fallback_agree():
    rng = np.random.default_rng(2)
    x = rng.gamma(2.0, 1.0, size=(150, 6))
    x[:, 2] = 1.5  # a constant gene: one bin, zero PUC with everything, so every pair takes the CLR fallback
    ours = pidc.pidc_matrix(x)
    theirs = independent.pidc_weights(x)
    iu = np.triu_indices(6, 1)
    np.testing.assert_allclose(ours[iu], theirs[iu], rtol=0, atol=1e-10)
