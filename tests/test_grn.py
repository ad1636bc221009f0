"""GRNBoost2 (early stopping), GRN strategies and their invariants, the edge schema and GRN bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.edges import check_bipartite, check_genes, read_edges, write_edges
from bench.errors import BenchError
from conftest import make_counts
from datasets.networks import STRATEGIES, build_grn, ranked_tfs, reference_grn
from methods.native.trees import genie3, grnboost2


def _reference(n_targets=40, n_tfs=12, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(n_targets):
        n = rng.integers(3, 12)  # some genes have fewer than k ranked TFs, some an odd number
        for tf in rng.choice(n_tfs, size=n, replace=False):
            rows.append((f"TF{tf}", f"G{t}", float(rng.random())))
    rows.append(("TF0", "TF1", 5.0))  # a TF as target: must be dropped as a target
    return pd.DataFrame(rows, columns=["regulator", "target", "weight"])


def test_strategies_invariants():
    ref = _reference()
    ranked = ranked_tfs(ref)
    pos = build_grn(ref, "pos-control", k=10)
    neg = build_grn(ref, "neg-control", k=10)
    top = build_grn(ref, "top", k=10)
    rnd = build_grn(ref, "random", k=10, seed=3)
    for g in (pos, neg, top, rnd):
        check_bipartite(g)
        assert "TF1" not in set(g["target"])
        assert list(g.columns) == ["regulator", "target", "weight", "rank"]
    assert not set(zip(pos.regulator, pos.target)) & set(zip(neg.regulator, neg.target))
    deg_pos, deg_neg = pos.groupby("target").size(), neg.groupby("target").size()
    pd.testing.assert_series_equal(deg_pos, deg_neg)
    pd.testing.assert_series_equal(deg_pos, rnd.groupby("target").size())
    for t, regs in ranked.items():
        if t == "TF1":
            continue
        regs = regs[:10]
        regs = regs[: len(regs) - len(regs) % 2]
        assert set(pos[pos.target == t].regulator) == set(regs[0::2])
        assert set(neg[neg.target == t].regulator) == set(regs[1::2])
        assert set(top[top.target == t].regulator) == set(ranked[t][:10])
    # ranks 1,3,5: the strongest TF of each gene is imposed
    for t, regs in ranked.items():
        if t != "TF1":
            assert regs[0] in set(pos[pos.target == t].regulator)
    assert rnd.equals(build_grn(ref, "random", k=10, seed=3))
    assert not rnd.equals(build_grn(ref, "random", k=10, seed=4))


def test_unknown_strategy():
    with pytest.raises(BenchError, match="unknown GRN strategy"):
        build_grn(_reference(), "best")
    assert set(STRATEGIES) == {"top", "pos-control", "neg-control", "random"}


def _structured(n_cells=600, seed=0):
    rng = np.random.default_rng(seed)
    tfs = rng.normal(size=(n_cells, 5))
    targets = np.column_stack([tfs[:, 0] * 2 + tfs[:, 1], np.sin(tfs[:, 2]) * 3, 2 * tfs[:, 3] + tfs[:, 4] ** 2])
    X = np.column_stack([tfs, targets + 0.1 * rng.normal(size=targets.shape)])
    return X, [f"TF{i}" for i in range(5)] + ["A", "B", "C"]


def test_grnboost2_early_stopping_runs_far_beyond_25_trees():
    X, genes = _structured()
    edges, info = grnboost2(X, genes, genes[:5], seed=0, n_jobs=1, targets=["A", "B", "C"], return_info=True)
    # sklearn >= 1.3 with arboreto's monitor stops at ~25-30 trees; faithful GRNBoost2 runs hundreds.
    assert info["n_estimators"].min() > 200
    top = edges.groupby("target").head(1).set_index("target")["regulator"].to_dict()
    assert top["A"] == "TF0" and top["B"] == "TF2" and top["C"] == "TF3"
    again = grnboost2(X, genes, genes[:5], seed=0, n_jobs=2, targets=["A", "B", "C"])
    pd.testing.assert_frame_equal(edges, again)  # seeded, independent of parallelism


def test_genie3_recovers_planted_edges():
    X, genes = _structured(300)
    edges = genie3(X, genes, genes[:5], seed=0, n_jobs=1, targets=["A", "B"], n_estimators=100)
    top = edges.groupby("target").head(1).set_index("target")["regulator"].to_dict()
    assert top == {"A": "TF0", "B": "TF2"}


def test_edge_readers(tmp_path):
    (tmp_path / "refNetwork.csv").write_text("Gene1,Gene2,Type\ng1,g2,+\ng1,g3,-\n")
    e = read_edges(tmp_path / "refNetwork.csv")
    assert set(zip(e.regulator, e.target)) == {("g1", "g2"), ("g1", "g3")}
    (tmp_path / "grn.tsv").write_text("TF\ttarget\timportance\ng1\tg2\t0.5\ng4\tg2\t2.0\n")
    e = read_edges(tmp_path / "grn.tsv")
    assert e.iloc[0].tolist() == ["g4", "g2", 2.0, 1]
    write_edges(tmp_path / "x.parquet", e)
    pd.testing.assert_frame_equal(read_edges(tmp_path / "x.parquet"), e)


def test_grn_bad_input(tmp_path):
    cyc = pd.DataFrame({"regulator": ["a", "b"], "target": ["b", "c"], "weight": [1.0, 1.0]})
    with pytest.raises(BenchError, match="not bipartite"):
        check_bipartite(cyc)
    with pytest.raises(BenchError, match="absent from the data"):
        check_genes(cyc, ["a", "b"])
    (tmp_path / "bad.csv").write_text("only_one_column\na\nb\n")
    with pytest.raises(BenchError):
        read_edges(tmp_path / "bad.csv")
    with pytest.raises(BenchError, match="not found"):
        read_edges(tmp_path / "none.csv")


def test_cli_grn_build_real_data(tmp_path, data_dir, capsys):
    out = tmp_path / "pos.parquet"
    assert main(["grn", "build", "pbmc68k-reduced", "--n-genes", "150", "--strategy", "pos-control",
                 "--out", str(out)]) == 0
    pos = read_edges(out)
    check_bipartite(pos)
    assert len(pos) > 50
    out2 = tmp_path / "neg.parquet"
    assert main(["grn", "build", "pbmc68k-reduced", "--n-genes", "150", "--strategy", "neg-control",
                 "--out", str(out2)]) == 0
    neg = read_edges(out2)
    assert len(neg) == len(pos) and not set(zip(pos.regulator, pos.target)) & set(zip(neg.regulator, neg.target))
    assert main(["grn", "show", str(out)]) == 0
    assert "bipartite        True" in capsys.readouterr().out


def _check_controls(pos, neg):
    """Today's invariants of the control GRNs: bipartite, disjoint, same targets with equal in-degree."""
    for g in (pos, neg):
        check_bipartite(g)
        assert list(g.columns) == ["regulator", "target", "weight", "rank"]
    assert not set(zip(pos.regulator, pos.target)) & set(zip(neg.regulator, neg.target))
    pd.testing.assert_series_equal(pos.groupby("target").size(), neg.groupby("target").size())


@pytest.mark.parametrize("method", ["pidc", "pearson"])
def test_reference_methods_keep_the_control_invariants(method):
    adata, tfs, truth = make_counts(n_cells=300, n_genes=40, n_tfs=8, seed=4)
    adata.X = (adata.X / adata.X.sum(1, keepdims=True) * 20000).astype(np.float32)
    ref = reference_grn(adata, tfs, method=method, seed=0)
    assert set(ref["regulator"]) <= set(tfs) and not (ref["regulator"] == ref["target"]).any()
    pos, neg = build_grn(ref, "pos-control", k=6), build_grn(ref, "neg-control", k=6)
    _check_controls(pos, neg)
    assert len(pos) > 40
    # the planted regulation is what the ranking finds: the strongest TF of most targets is a true parent
    top = build_grn(ref, "top", k=1)
    assert np.mean([(r, t) in truth for r, t in zip(top.regulator, top.target)]) > 0.6
    again = reference_grn(adata, tfs, method=method, seed=0, cache=False)
    pd.testing.assert_frame_equal(ref, again)


def test_reference_method_bad_input(capsys):
    adata, tfs, _ = make_counts(n_cells=40, n_genes=10, n_tfs=3, seed=0)
    with pytest.raises(BenchError, match="unknown reference method"):
        reference_grn(adata, tfs, method="genie3")
    with pytest.raises(BenchError, match="no parameters"):
        reference_grn(adata, tfs, method="pearson", n_estimators=10)
    assert main(["grn", "build", "bonemarrow", "--reference-method", "aracne"]) == 2
    err = capsys.readouterr().err
    assert "unknown reference method" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_grn_build_pearson_reference_real_data(tmp_path, data_dir):
    pos_out, neg_out = tmp_path / "pos.parquet", tmp_path / "neg.parquet"
    for strat, out in (("pos-control", pos_out), ("neg-control", neg_out)):
        assert main(["grn", "build", "pbmc68k-reduced", "--n-genes", "150", "--strategy", strat,
                     "--reference-method", "pearson", "--out", str(out)]) == 0
    pos, neg = read_edges(pos_out), read_edges(neg_out)
    _check_controls(pos, neg)
    assert len(pos) > 50
