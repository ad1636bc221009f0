"""GRNBoost2/GENIE3 keep the regression target in float64, as arboreto does (scikit-learn casts only X).

Edge weights are kept to 12 significant digits (bench.edges), hence rtol=1e-11 against direct fits."""

import anndata as ad
import numpy as np
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor

from methods.native import genie3 as genie3_method
from methods.native.trees import grnboost2


def _fine_grained(n_cells=200, seed=0):
    # Targets vary by ~1e-4 around 1000: float32 (spacing 6e-5 there) would flatten them, float64 keeps them.
    rng = np.random.default_rng(seed)
    tfs = rng.normal(size=(n_cells, 4))
    y = 1000.0 + 1e-4 * (tfs[:, 0] + 0.5 * tfs[:, 1] ** 2 + 0.3 * rng.normal(size=n_cells))
    return np.column_stack([tfs, y]), ["TF0", "TF1", "TF2", "TF3", "T"]


def _importances(edges, regs):
    w = edges[edges["target"] == "T"].set_index("regulator")["weight"]
    return np.array([w.get(r, 0.0) for r in regs])


def test_genie3_target_in_float64():
    X, genes = _fine_grained()
    adata = ad.AnnData(X)
    adata.var_names = genes
    edges = genie3_method.infer(adata, tfs=genes[:4], seed=3, n_jobs=1, n_estimators=20)
    got = _importances(edges, genes[:4])

    def sk(y):
        return RandomForestRegressor(n_estimators=20, max_features="sqrt", random_state=3, n_jobs=1).fit(
            X[:, :4].astype(np.float32), y).feature_importances_

    np.testing.assert_allclose(got, sk(X[:, 4]), rtol=1e-11)
    assert np.abs(got - sk(X[:, 4].astype(np.float32))).max() > 1e-3  # float32 targets would give other numbers


def test_grnboost2_target_in_float64():
    X, genes = _fine_grained()
    edges = grnboost2(X, genes, genes[:4], seed=1, n_jobs=1, targets=["T"], learning_rate=0.1, n_estimators=40,
                      early_stop_window=0)
    got = _importances(edges, genes[:4])

    def sk(y):
        reg = GradientBoostingRegressor(learning_rate=0.1, n_estimators=40, max_features=0.1, subsample=0.9,
                                        random_state=1).fit(X[:, :4].astype(np.float32), y)
        return reg.feature_importances_ * len(reg.estimators_)

    np.testing.assert_allclose(got, sk(X[:, 4]), rtol=1e-11)
    assert np.abs(got - sk(X[:, 4].astype(np.float32))).max() > 1e-3
