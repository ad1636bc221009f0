"""Knockout statistics: Wilcoxon signed-rank on matched cells, Benjamini-Hochberg, fraction significant."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from bench.errors import BenchError
from bench.scoring.knockout import (bh_adjust, fraction_significant, knockout_stats, knockout_study,
                                    offtarget_max_change)


def test_bh_golden():
    adj = bh_adjust([0.01, 0.04, 0.03, 0.2])
    # sorted .01 .03 .04 .2 -> x4/rank .04 .06 .0533 .2 -> running min from the top .04 .0533 .0533 .2
    assert adj == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])
    from scipy.stats import false_discovery_control

    p = np.random.default_rng(0).random(50) ** 3
    assert bh_adjust(p) == pytest.approx(false_discovery_control(p))
    assert np.isnan(bh_adjust([np.nan, 0.5])[0])


def _adata(x, genes):
    a = ad.AnnData(np.asarray(x, dtype=np.float32))
    a.var_names = genes
    return a


def test_toy_knockout():
    genes = ["TF1", "TF2", "g1", "g2", "g3", "g4"]
    rng = np.random.default_rng(0)
    base = rng.gamma(2.0, 10.0, size=(60, 6))
    ko = base.copy()
    ko[:, 0] = 0.0                       # TF1 knocked out
    ko[:, 2] *= 0.5                      # g1: strong, consistent drop
    ko[:, 3] += rng.normal(0, 1e-3, 60)  # g2: symmetric noise only
    # g3 unchanged although regulated; g4 not regulated by TF1 and unchanged
    edges = pd.DataFrame({"regulator": ["TF1", "TF1", "TF1", "TF2"], "target": ["g1", "g2", "g3", "g4"]})
    df = knockout_stats(_adata(base, genes), _adata(ko, genes), edges, "TF1")
    assert df["target"].tolist() == ["g1", "g2", "g3"]
    r = df.set_index("target")
    assert r.loc["g1", "pvalue"] < 1e-8 and r.loc["g1", "significant"]
    assert r.loc["g2", "pvalue"] > 0.01
    assert r.loc["g3", "pvalue"] == 1.0 and r.loc["g3", "n_changed"] == 0
    assert r.loc["g1", "mean_diff"] < 0
    assert fraction_significant(df) == pytest.approx(1 / 3)
    assert offtarget_max_change(_adata(base, genes), _adata(ko, genes), edges, "TF1") == 0.0


def test_exact_small_sample_pvalue():
    # 5 positive differences 1..5: exact two-sided signed-rank p = 2 / 2^5.
    genes = ["TF", "g"]
    base = np.zeros((5, 2))
    ko = base.copy()
    ko[:, 1] = [1, 2, 3, 4, 5]
    df = knockout_stats(_adata(base, genes), _adata(ko, genes), pd.DataFrame({"regulator": ["TF"], "target": ["g"]}),
                        "TF")
    assert df["pvalue"].iloc[0] == pytest.approx(2 / 32)


def test_study_adjusts_over_all_edges():
    genes = ["A", "B", "x", "y"]
    rng = np.random.default_rng(1)
    base = rng.gamma(2.0, 5.0, size=(30, 4))
    ko_a, ko_b = base.copy(), base.copy()
    ko_a[:, 2] *= 1.3
    ko_b[:, 3] += rng.normal(0, 0.01, 30)
    edges = pd.DataFrame({"regulator": ["A", "B"], "target": ["x", "y"]})
    df = knockout_study(_adata(base, genes), {"A": _adata(ko_a, genes), "B": _adata(ko_b, genes)}, edges)
    assert df["padj"].tolist() == pytest.approx(bh_adjust(df["pvalue"]).tolist())
    assert df["tf"].tolist() == ["A", "B"]


def test_mismatched_or_unknown_inputs_raise():
    genes = ["TF", "g"]
    a = _adata(np.ones((4, 2)), genes)
    with pytest.raises(BenchError):
        knockout_stats(a, _adata(np.ones((3, 2)), genes), pd.DataFrame({"regulator": ["TF"], "target": ["g"]}), "TF")
    with pytest.raises(BenchError):
        knockout_stats(a, a, pd.DataFrame({"regulator": ["TF"], "target": ["zz"]}), "TF")
    empty = knockout_stats(a, a, pd.DataFrame({"regulator": ["X"], "target": ["g"]}), "TF")
    assert len(empty) == 0 and np.isnan(fraction_significant(empty))
