"""The baseline methods: random scores sit at the random expectation, |Pearson| finds planted co-expression."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.scoring.grn import score_grn
from methods.base import all_methods, get_method
from methods.contract import make_tiny_dataset


def test_baselines_are_flagged_and_run_by_default():
    from bench.config import RunConfig

    flagged = {n for n, m in all_methods().items() if m.info.baseline}
    assert flagged == {"random", "pearson"}
    assert flagged <= set(RunConfig(preset="default").resolved().methods)  # None = every registered method


def test_random_baseline_is_seeded_noise():
    a = make_tiny_dataset(n_cells=200, n_genes=40, n_tfs=8, seed=1)
    truth = pd.DataFrame(a.uns["true_edges"], columns=["regulator", "target"])
    rnd = get_method("random")
    e0, e1 = rnd.infer(a, tfs=a.uns["tfs"], seed=0), rnd.infer(a, tfs=a.uns["tfs"], seed=1)
    pd.testing.assert_frame_equal(e0, rnd.infer(a, tfs=a.uns["tfs"], seed=0))
    assert not np.array_equal(e0["weight"], e1["weight"]) and (e0["weight"] > 0).all()
    assert set(e0["regulator"]) == set(a.uns["tfs"])
    ratios = [score_grn(rnd.infer(a, tfs=a.uns["tfs"], seed=s), truth)["auprc_ratio"] for s in range(30)]
    assert abs(np.mean(ratios) - 1.0) < 0.15  # mean over seeds at the random expectation


def test_pearson_baseline_finds_coexpression():
    import anndata as ad

    # 6 independent TFs; each of 20 targets follows one TF plus noise
    rng = np.random.default_rng(0)
    tf = rng.gamma(2.0, 1.0, size=(300, 6))
    parent = np.arange(20) % 6
    tg = tf[:, parent] + rng.normal(scale=0.7, size=(300, 20))
    X = np.log1p(np.clip(np.hstack([tf, tg]), 0, None))
    X[:, -1] = 1.0  # a constant gene scores 0, not NaN
    genes = [f"TF{i}" for i in range(6)] + [f"g{j}" for j in range(20)]
    a = ad.AnnData(X.astype(np.float32), var=pd.DataFrame(index=genes))
    truth = pd.DataFrame({"regulator": [f"TF{p}" for p in parent[:-1]], "target": genes[6:-1]})
    e = get_method("pearson").infer(a, tfs=genes[:6])
    top = e.iloc[0]
    i, j = genes.index(top["regulator"]), genes.index(top["target"])
    assert np.isclose(top["weight"], abs(np.corrcoef(X[:, i], X[:, j])[0, 1]))
    assert (e.loc[e["target"] == "g19", "weight"] == 0).all() and np.isfinite(e["weight"]).all()
    m = score_grn(e, truth)
    assert m["auroc"] > 0.95 and m["auprc_ratio"] > 3
