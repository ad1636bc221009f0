"""Preprocessing, splits, TF lists and dataset bad input."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

from bench.errors import BenchError
from bench.cli import main
from datasets import get_split, prepare_dataset
from datasets.preprocess import preprocess, split_cells
from datasets.tfs import guess_species, load_tfs


def _raw(n_cells=120, n_genes=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.poisson(rng.gamma(1.0, 2.0, size=n_genes), size=(n_cells, n_genes)).astype(np.float32)
    X[0, :] = 0
    X[0, :5] = 1  # cell 0: 5 detected genes < 10 -> dropped
    X[:, 7] = 0
    X[1:3, 7] = 4  # gene 7: detected in 2 cells < 3 -> dropped
    a = ad.AnnData(sp.csr_matrix(X))
    a.var_names = [f"g{i:03d}" for i in range(n_genes)]
    a.obs_names = [f"c{i}" for i in range(n_cells)]
    return a


def test_preprocess_numbers():
    raw = _raw()
    out = preprocess(raw, n_genes=30, n_test=20, n_validation=10, seed=1)
    assert out.n_vars == 30
    assert "c0" not in out.obs_names and "g007" not in out.var_names
    assert list(out.var_names) == sorted(out.var_names)
    np.testing.assert_allclose(out.X.sum(axis=1), 20000.0, rtol=1e-5)
    counts = out.layers["counts"].toarray()
    np.testing.assert_array_equal(counts, raw[out.obs_names, out.var_names].X.toarray())
    np.testing.assert_allclose(out.X, counts / counts.sum(1, keepdims=True) * 20000, rtol=1e-5)
    assert out.obs["split"].value_counts().to_dict() == {"train": out.n_obs - 30, "test": 20, "validation": 10}


def test_hvgs_are_scanpy_seurat_on_lognormalised():
    import scanpy as sc

    raw = _raw(seed=3)
    out = preprocess(raw, n_genes=25, n_test=10, n_validation=0, seed=0)
    ref = raw.copy()
    sc.pp.filter_cells(ref, min_genes=10)
    sc.pp.filter_genes(ref, min_cells=3)
    sc.pp.normalize_total(ref, target_sum=20000)
    sc.pp.log1p(ref)
    sc.pp.highly_variable_genes(ref, n_top_genes=25, flavor="seurat")
    assert set(out.var_names) == set(ref.var_names[ref.var["highly_variable"]])


def test_split_determinism():
    a = split_cells(500, 100, 50, seed=7)
    b = split_cells(500, 100, 50, seed=7)
    c = split_cells(500, 100, 50, seed=8)
    assert (a == b).all() and not (a == c).all()
    assert (a == "test").sum() == 100 and (a == "validation").sum() == 50


def test_prepare_bonemarrow_real(data_dir):
    a = prepare_dataset("bonemarrow")
    assert a.shape == (2660, 1000)
    assert a.obs["split"].value_counts().to_dict() == {"train": 1960, "test": 500, "validation": 200}
    tfs = list(a.uns["tfs"])
    assert 50 < len(tfs) < 150 and "Gata1" in tfs and set(tfs) <= set(a.var_names)
    assert a.uns["provenance"]["source_sha256"].startswith("6d5fdf4b")
    b = prepare_dataset("bonemarrow")  # from the cache
    assert (a.obs_names == b.obs_names).all() and (a.obs["split"] == b.obs["split"]).all()
    assert get_split(a, "test").n_obs == 500


def test_tf_lists(data_dir):
    mouse, human = load_tfs("mouse"), load_tfs("human")
    assert "Gata1" in mouse and "GATA1" in human and len(mouse) > 1000
    assert guess_species(["Gata1", "Cebpa", "Klf1"]) == "mouse"
    assert guess_species(["GATA1", "CEBPA", "KLF1"]) == "human"


def _write(path, X, genes=None):
    a = ad.AnnData(np.asarray(X, dtype=np.float32))
    a.var_names = genes or [f"G{i}" for i in range(a.n_vars)]
    a.write_h5ad(path)
    return path


@pytest.mark.parametrize("case", ["missing", "corrupt", "negative", "nan", "too_few_genes", "no_tf_overlap",
                                  "unknown"])
def test_bad_input_cli(case, tmp_path, capsys, data_dir):
    rng = np.random.default_rng(0)
    good = rng.poisson(3, size=(60, 40)).astype(float)
    out = tmp_path / "out.h5ad"
    if case == "missing":
        spec = f"h5ad:{tmp_path / 'nope.h5ad'}"
    elif case == "corrupt":
        p = tmp_path / "bad.h5ad"
        p.write_bytes(b"not an hdf5 file")
        spec = f"h5ad:{p}"
    elif case == "negative":
        good[3, 3] = -1
        spec = f"h5ad:{_write(tmp_path / 'x.h5ad', good)}"
    elif case == "nan":
        good[3, 3] = np.nan
        spec = f"h5ad:{_write(tmp_path / 'x.h5ad', good)}"
    elif case == "too_few_genes":
        spec = f"h5ad:{_write(tmp_path / 'x.h5ad', good, ['Gata1'] + [f'G{i}' for i in range(39)])}"
    elif case == "no_tf_overlap":
        spec = f"h5ad:{_write(tmp_path / 'x.h5ad', good)}"
    else:
        spec = "no-such-dataset"
    args = ["datasets", "prepare", spec, "--out", str(out), "--tfs", "mouse"]
    if case == "too_few_genes":
        args += ["--n-genes", "500"]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.h5ad*"))  # no half-written temporary either


def test_bad_input_raises_benchError_in_api(tmp_path):
    with pytest.raises(BenchError, match="unknown dataset"):
        prepare_dataset("nope")
