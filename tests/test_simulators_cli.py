"""`bench simulate` and `bench knockout` (smoke preset)."""

from __future__ import annotations

import json

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from conftest import make_counts
from simulators import GRouNdGAN


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    adata, tfs, truth = make_counts(n_cells=120, n_genes=20, n_tfs=4, seed=2)
    adata.X = (adata.X / adata.X.sum(1, keepdims=True) * 20000).astype(np.float32)
    edges = pd.DataFrame(sorted(truth), columns=["regulator", "target"])
    run = tmp_path_factory.mktemp("run")
    GRouNdGAN(edges, preset="smoke", seed=0).fit(adata, progress=False).save(run / "model")
    return run


def test_knockout_command(run_dir, tmp_path):
    model = GRouNdGAN.load(run_dir / "model")
    tf = model.tfs[0]
    rc = main(["knockout", str(run_dir), "--tf", tf, "--cells", "40", "--out", str(tmp_path / "ko")])
    assert rc == 0
    summary = json.loads((tmp_path / "ko" / "knockout.json").read_text())
    assert summary["max_abs_change_other_genes"] == 0.0
    assert summary["downstream_targets"] == len(model.downstream(tf))
    c, p = ad.read_h5ad(tmp_path / "ko" / "control.h5ad"), ad.read_h5ad(tmp_path / "ko" / "perturbed.h5ad")
    assert c.shape == p.shape == (40, len(model.genes))
    assert (p[:, tf].X == 0).all()


def test_knockout_command_errors(run_dir, tmp_path, capsys):
    model = GRouNdGAN.load(run_dir / "model")
    assert main(["knockout", str(run_dir), "--tf", model.targets[0]]) == 2
    assert main(["knockout", str(tmp_path), "--tf", "X"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)


def test_simulate_command_on_bonemarrow(data_dir, tmp_path):
    from datasets import dataset_tfs, prepare_dataset

    adata = prepare_dataset("bonemarrow", n_genes=100)  # the genes `bench simulate --preset smoke` uses (bench run's)
    tfs = dataset_tfs(adata)[:3]
    targets = [g for g in adata.var_names if g not in set(dataset_tfs(adata))][:12]
    grn = tmp_path / "grn.csv"
    pd.DataFrame([(tfs[i % 3], t) for i, t in enumerate(targets)] + [(tfs[0], targets[1])],
                 columns=["regulator", "target"]).to_csv(grn, index=False)
    run = tmp_path / "run"
    args = ["simulate", "--dataset", "bonemarrow", "--grn", str(grn), "--preset", "smoke", "--cells", "25",
            "--out", str(run), "--quiet"]
    assert main(args) == 0
    sim = ad.read_h5ad(run / "simulated.h5ad")
    assert sim.shape == (25, 15) and set(sim.var_names) == set(tfs) | set(targets)
    assert (run / "checkpoints" / "stage2" / "done.pt").exists()
    assert main(args) == 0  # finished stages are reused, same cells
    np.testing.assert_array_equal(ad.read_h5ad(run / "simulated.h5ad").X, sim.X)
    bad = tmp_path / "bad.csv"
    pd.DataFrame([(tfs[0], "NotAGene")], columns=["regulator", "target"]).to_csv(bad, index=False)
    assert main(["simulate", "--dataset", "bonemarrow", "--grn", str(bad), "--preset", "smoke",
                 "--out", str(tmp_path / "r2"), "--quiet"]) == 2


def test_knockout_accepts_a_bench_run_folder(run_dir, tmp_path):
    import shutil

    shutil.copytree(run_dir / "model", tmp_path / "run" / "groundgan" / "model")  # the layout `bench run` writes
    tf = GRouNdGAN.load(run_dir / "model").tfs[0]
    assert main(["knockout", str(tmp_path / "run"), "--tf", tf, "--cells", "10", "--out", str(tmp_path / "ko")]) == 0
    assert (tmp_path / "ko" / "perturbed.h5ad").exists()
