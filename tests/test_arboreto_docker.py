"""GENIE3 and GRNBoost2 through the local arboreto image (the real arboreto 0.1.6) agree with the native methods.

Needs a docker daemon and the image built by ``.ci/build-arboreto-image.sh`` (``.ci/run`` builds or reuses it);
skipped with the reason otherwise, failing instead with ``--docker``. Both paths get the same float32 data, seed
and TF list through the same call (:func:`methods.execution.run_methods`, only ``executor`` differs); the native
code follows arboreto 0.1.6 (scikit-learn 1.2.2 in the image), so the weights must agree to Spearman >= 0.9999
on the union of edges and the 20 strongest edges must be the same, in the same order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from bench.errors import BenchError
from methods.beeline import executor as bex
from methods.execution import run_methods

SEED = 7
TOP = 20


@pytest.fixture(scope="module")
def arboreto_image(request):
    def skip(why):
        if request.config.getoption("--docker"):
            pytest.fail(f"--docker given but {why}")
        pytest.skip(f"arboreto docker test skipped: {why}")

    image = bex.image_for("grnboost2")
    try:
        client = bex.docker_client()
        image_id, build = bex.image_identity(bex.check_image(client, image))
    except BenchError as exc:
        skip(f"{exc.problem} (build it: bash .ci/build-arboreto-image.sh)")
    if build is None:
        skip(f"{image} is not grn-bench's local build (no {bex.BUILD_LABEL} label; BEELINE's own image is "
             "unseeded, so it cannot be compared run for run): bash .ci/build-arboreto-image.sh")
    return image, image_id, build


@pytest.fixture(scope="module")
def small():
    """Continuous expression with planted TF -> target edges (both paths get log1p of it as float32).

    Continuous on purpose: with count-like data two candidate splits can improve the loss by exactly the same
    amount, and scikit-learn 1.2.2 (in the image) and the host's version may break such a tie differently (one
    GRNBoost2 target then stops early at another round). That is version noise, not the harness under test.
    """
    import anndata as ad

    rng = np.random.default_rng(3)
    n_cells, n_tfs, n_targets = 100, 5, 5
    tf = rng.gamma(2.0, 1.0, (n_cells, n_tfs))
    W = rng.normal(0.0, 1.0, (n_tfs, n_targets)) * (rng.random((n_tfs, n_targets)) < 0.6)
    targets = tf @ W + rng.normal(0.0, 0.5, (n_cells, n_targets))
    X = np.abs(np.hstack([tf, targets])).astype(np.float32)
    tfs = [f"TF{i}" for i in range(n_tfs)]
    adata = ad.AnnData(X)
    adata.var_names = tfs + [f"G{j}" for j in range(n_targets)]
    adata.obs_names = [f"c{i}" for i in range(n_cells)]
    return adata, tfs


def _weights(edges: pd.DataFrame) -> pd.Series:
    return edges.set_index(["regulator", "target"])["weight"]


@pytest.mark.docker
def test_docker_arboreto_matches_native(arboreto_image, small):
    image, image_id, build = arboreto_image
    adata, tfs = small
    common = dict(tfs=tfs, seed=SEED, n_workers=2, timeout=900)
    docker_runs = run_methods(adata, ["grnboost2", "genie3"], executor="docker", **common)
    native_runs = run_methods(adata, ["grnboost2", "genie3"], executor="native", **common)
    for d, n in zip(docker_runs, native_runs):
        assert d.ok, d.record.get("error") or d.record.get("stderr_tail")
        assert n.ok, n.record.get("error") or n.record.get("stderr_tail")
        r = d.record
        assert r.executor == "docker" and r.image == image and r.image_id == image_id
        assert r["image_build"] == build and r["seeded"] and r["used_tfs"]
        assert r["image_versions"]["scikit-learn"] == "1.2.2" and r.parameters == {}
        assert n.record.executor == "native" and n.record.preset is None  # arboreto's own settings
        lb_d, lb_n = r.leaderboard_fields(), n.record.leaderboard_fields()  # what the leaderboard rows get
        assert (lb_d["executor"], lb_d["image"], lb_d["image_id"]) == ("docker", image, image_id)
        assert (lb_n["executor"], lb_n["image"], lb_n["image_id"]) == ("native", None, None)
        assert set(d.edges["regulator"]) <= set(tfs)

        wd, wn = _weights(d.edges), _weights(n.edges)
        union = wd.index.union(wn.index)
        a, b = wd.reindex(union, fill_value=0.0), wn.reindex(union, fill_value=0.0)
        rho = spearmanr(a.to_numpy(), b.to_numpy()).statistic
        assert rho >= 0.9999, f"{d.method}: Spearman {rho:.6f} between docker and native weights"
        top_d = list(zip(d.edges["regulator"][:TOP], d.edges["target"][:TOP]))
        top_n = list(zip(n.edges["regulator"][:TOP], n.edges["target"][:TOP]))
        assert top_d == top_n, f"{d.method}: the top-{TOP} edges differ"
