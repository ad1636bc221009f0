"""GRouNdGAN and scGAN with the smoke preset on small synthetic data (seconds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from bench.errors import BenchError
from conftest import make_counts
from simulators import GRouNdGAN, ScGAN, get_preset
from simulators.groundgan import training
from simulators.groundgan.networks import TargetGenerators


@pytest.fixture(scope="module")
def data():
    adata, tfs, truth = make_counts(n_cells=160, n_genes=24, n_tfs=5, seed=1)
    adata.X = (adata.X / adata.X.sum(1, keepdims=True) * 20000).astype(np.float32)
    edges = pd.DataFrame(sorted(truth), columns=["regulator", "target"])
    return adata, edges


@pytest.fixture(scope="module")
def fitted(data):
    adata, edges = data
    return GRouNdGAN(edges, preset="smoke", seed=0, device="cpu").fit(adata, progress=False)


def test_generate_shapes_names_and_provenance(fitted, data):
    adata, edges = data
    sim = fitted.generate(37, seed=3)
    assert sim.shape == (37, adata.n_vars)
    assert list(sim.var_names) == list(adata.var_names)  # every gene is a TF or a target here
    assert np.isfinite(sim.X).all() and (sim.X >= 0).all()
    np.testing.assert_allclose(sim.X.sum(1), 20000, rtol=1e-4)
    prov = sim.uns["simulator"]
    assert prov["name"] == "groundgan" and prov["seed"] == 3 and prov["n_edges"] == len(edges)


def test_seed_determinism_and_batch_independence(fitted, data):
    a = fitted.generate(50, seed=7).X
    b = fitted.generate(50, seed=7).X
    c = fitted.generate(50, seed=8).X
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # a cell does not depend on the other cells of its generation batch (eval-mode BatchNorm)
    bs = fitted.cfg["generation_batch"]
    fitted.cfg["generation_batch"] = 7
    try:
        d = fitted.generate(50, seed=7).X
    finally:
        fitted.cfg["generation_batch"] = bs
    np.testing.assert_allclose(a, d, rtol=1e-5, atol=1e-3)


def test_training_is_seeded(data):
    adata, edges = data
    a = GRouNdGAN(edges, preset="smoke", seed=4).fit(adata, progress=False).generate(20, seed=0).X
    b = GRouNdGAN(edges, preset="smoke", seed=4).fit(adata, progress=False).generate(20, seed=0).X
    c = GRouNdGAN(edges, preset="smoke", seed=5).fit(adata, progress=False).generate(20, seed=0).X
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_target_generator_sees_only_its_parents():
    torch.manual_seed(0)
    parents = [[0, 2], [1], [0, 1, 3], [3, 4]]
    tg = TargetGenerators(parents, n_tfs=5, noise_per_gene=1, width=2, depth=2).eval()
    for b in tg.buckets:  # non-trivial BatchNorm statistics
        for bn in b.norms:
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    tf = torch.rand(64, 5) * 10
    noise = torch.randn(64, 4)
    with torch.no_grad():
        base = tg(tf, noise)
        for t in range(5):
            tf2 = tf.clone()
            tf2[:, t] = tf2[:, t] * 3 + 5
            out = tg(tf2, noise)
            for g, pa in enumerate(parents):
                if t in pa:
                    continue
                assert torch.equal(out[:, g], base[:, g]), (t, g)
        # a gene's own noise matters, another gene's noise does not
        n2 = noise.clone()
        n2[:, 0] += 1.0
        out = tg(tf, n2)
        assert torch.equal(out[:, 1:], base[:, 1:])
    # memory grows with edges: parameters are per-gene blocks, not H x H
    n_params = sum(p.numel() for p in tg.parameters())
    H = 2 * (sum(map(len, parents)) + len(parents))
    assert n_params < H * H


def test_knockout_semantics(fitted, data):
    adata, edges = data
    tf = edges["regulator"].value_counts().index[0]
    down = set(fitted.downstream(tf))
    base, ko = fitted.perturb(60, {tf: 0.0}, seed=2)
    base2, hi = fitted.perturb(60, {tf: 5000.0}, seed=2)
    np.testing.assert_array_equal(base.X, base2.X)  # the control is frozen
    assert list(base.obs_names) == list(ko.obs_names)
    np.testing.assert_allclose(base.X, fitted.generate(60, seed=2).X)  # control = ordinary generation
    col = list(base.var_names).index(tf)
    assert (ko.X[:, col] == 0).all()
    np.testing.assert_allclose(hi.X[:, col], 5000.0, rtol=1e-5)
    others = [i for i, g in enumerate(base.var_names) if g not in down and g != tf]
    assert np.array_equal(ko.X[:, others], base.X[:, others])  # bit-identical
    assert np.array_equal(hi.X[:, others], base.X[:, others])
    d_idx = [i for i, g in enumerate(base.var_names) if g in down]
    assert not np.allclose(ko.X[:, d_idx], hi.X[:, d_idx])  # the effect depends on the value set
    assert ko.uns["simulator"]["perturbation"][tf] == 0.0


def test_perturb_rejects_non_tf(fitted, data):
    adata, edges = data
    target = edges["target"].iloc[0]
    with pytest.raises(BenchError, match="target, not a regulator"):
        fitted.perturb(10, {target: 0.0})
    with pytest.raises(BenchError):
        fitted.perturb(10, {"NOPE": 0.0})


def test_checkpoint_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = GRouNdGAN.load(tmp_path / "m", device="cpu")
    np.testing.assert_array_equal(loaded.generate(30, seed=1).X, fitted.generate(30, seed=1).X)
    b1, k1 = fitted.perturb(20, {fitted.tfs[0]: 0.0}, seed=0)
    b2, k2 = loaded.perturb(20, {fitted.tfs[0]: 0.0}, seed=0)
    np.testing.assert_array_equal(k1.X, k2.X)
    with pytest.raises(BenchError):
        GRouNdGAN.load(tmp_path / "nothing")


class _Killed(Exception):
    pass


def test_resume_after_kill(data, tmp_path, monkeypatch):
    adata, edges = data
    preset = {"preset": "smoke", "cc_steps": 7, "steps": 7, "checkpoint_every": 2}
    ref = GRouNdGAN(edges, preset=preset, seed=1).fit(adata, progress=False).generate(25, seed=0).X

    for stage, at in (("stage1", 5), ("stage2", 3)):
        ck = tmp_path / stage

        def hook(name, step, stage=stage, at=at):
            if name == stage and step == at:
                raise _Killed  # like SIGKILL: nothing is saved at this point

        monkeypatch.setattr(training, "_hook", hook)
        with pytest.raises(_Killed):
            GRouNdGAN(edges, preset=preset, seed=1).fit(adata, checkpoint_dir=ck, progress=False)
        assert (ck / stage / "last.pt").exists()
        monkeypatch.setattr(training, "_hook", lambda name, step: None)
        resumed = GRouNdGAN(edges, preset=preset, seed=1).fit(adata, checkpoint_dir=ck, progress=False)
        np.testing.assert_array_equal(resumed.generate(25, seed=0).X, ref)
        assert (ck / "stage1" / "done.pt").exists() and (ck / "stage2" / "done.pt").exists()
        # a finished run is not retrained
        again = GRouNdGAN(edges, preset=preset, seed=1).fit(adata, checkpoint_dir=ck, progress=False)
        np.testing.assert_array_equal(again.generate(25, seed=0).X, ref)


def test_checkpoint_of_other_run_is_refused(data, tmp_path):
    adata, edges = data
    pre = {"preset": "smoke", "cc_steps": 3, "steps": 2}
    GRouNdGAN(edges, preset=pre, seed=1).fit(adata, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(BenchError, match="different"):
        GRouNdGAN(edges, preset=pre, seed=2).fit(adata, checkpoint_dir=tmp_path, progress=False)


def test_stage1_checkpoint_is_reused_when_only_stage2_changes(data, tmp_path, monkeypatch):
    import shutil

    adata, edges = data
    pre = {"preset": "smoke", "cc_steps": 4, "steps": 2}
    a = GRouNdGAN(edges, preset=pre, seed=1).fit(adata, checkpoint_dir=tmp_path / "a", progress=False)
    shutil.copytree(tmp_path / "a" / "stage1", tmp_path / "b" / "stage1")
    steps = []
    monkeypatch.setattr(training, "_hook", lambda name, step: steps.append(name))
    b = GRouNdGAN(edges, preset={**pre, "labeler_weight": 0.5, "steps": 3}, seed=1).fit(
        adata, checkpoint_dir=tmp_path / "b", progress=False)
    assert steps == ["stage2"] * 3  # stage 1 came from the copied checkpoint
    for pa, pb in zip(a.cc.state_dict().values(), b.cc.state_dict().values()):
        assert torch.equal(pa, pb)
    # a stage-1 option does change stage 1's fingerprint
    shutil.copytree(tmp_path / "a" / "stage1", tmp_path / "c" / "stage1")
    with pytest.raises(BenchError, match="different"):
        GRouNdGAN(edges, preset={**pre, "cc_steps": 5}, seed=1).fit(adata, checkpoint_dir=tmp_path / "c",
                                                                    progress=False)


def test_best_checkpoint_is_kept(data, tmp_path):
    adata, edges = data
    m = GRouNdGAN(edges, preset={"preset": "smoke", "eval_every": 1}, seed=0).fit(
        adata, checkpoint_dir=tmp_path, progress=False)
    hist = m.info["val_history_stage2"]
    assert len(hist) == m.info["stage2_steps"]
    best = min(h["score"] for h in hist)
    assert m.info["stage2_val_score"] == best
    assert (tmp_path / "stage2" / "best.pt").exists()


def test_unregulated_genes_are_dropped(data):
    adata, edges = data
    small = edges[edges["target"].isin(sorted(set(edges["target"]))[:5])]
    m = GRouNdGAN(small, preset="smoke", seed=0).fit(adata, progress=False)
    sim = m.generate(10, seed=0)
    assert set(sim.var_names) == set(small["regulator"]) | set(small["target"])
    assert len(sim.uns["simulator"]["dropped_genes"]) == adata.n_vars - sim.n_vars
    np.testing.assert_allclose(sim.X.sum(1), 20000, rtol=1e-4)


@pytest.mark.parametrize("bad,match", [
    (pd.DataFrame({"regulator": ["TF0"], "target": ["NOTAGENE"]}), "absent from the data"),
    (pd.DataFrame({"regulator": ["TF0", "G1"], "target": ["G1", "G2"]}), "not bipartite"),
    (pd.DataFrame({"regulator": ["TF0", "G1"], "target": ["G1", "TF0"]}), "not bipartite"),
    (pd.DataFrame({"regulator": ["TF0"], "target": ["TF0"]}), "self-loop"),
    (pd.DataFrame({"regulator": pd.Series(dtype=str), "target": pd.Series(dtype=str)}), "empty"),
])
def test_bad_grn_gives_one_line_error(data, bad, match):
    adata, _ = data
    with pytest.raises(BenchError, match=match) as exc:
        GRouNdGAN(bad, preset="smoke").fit(adata, progress=False)
    assert "\n" not in str(exc.value)


def test_bad_data_and_options(data):
    adata, edges = data
    neg = adata.copy()
    neg.X = neg.X.copy()
    neg.X[0, 0] = -1
    with pytest.raises(BenchError, match="negative"):
        GRouNdGAN(edges, preset="smoke").fit(neg, progress=False)
    with pytest.raises(BenchError, match="unknown simulator preset"):
        get_preset("fast")
    with pytest.raises(BenchError, match="unknown simulator option"):
        get_preset({"stepz": 3})
    with pytest.raises(BenchError, match="not fitted"):
        GRouNdGAN(edges, preset="smoke").generate(5)


def test_presets_keep_paper_values():
    p = get_preset("paper")
    assert p["cc_layers"] == [256, 512, 1024] and p["critic_layers"] == [1024, 512, 256]
    assert p["gp_lambda"] == 10 and p["cc_critic_iters"] == 5 and p["critic_iters"] == 5
    assert p["optimizer"] == "amsgrad" and p["betas"] == [0.5, 0.9]
    assert p["tg_width"] == 2 and p["tg_depth"] == 3 and p["labeler_layers"] == [2000] * 3
    assert p["ema_decay"] == 0 and p["critic_transform"] == "none" and p["tg_init"] == "he"


def test_scgan_baseline(data, tmp_path):
    adata, _ = data
    m = ScGAN(preset="smoke", seed=0).fit(adata, progress=False)
    sim = m.generate(33, seed=1)
    assert sim.shape == (33, adata.n_vars) and list(sim.var_names) == list(adata.var_names)
    np.testing.assert_array_equal(sim.X, m.generate(33, seed=1).X)
    m.save(tmp_path / "s")
    np.testing.assert_array_equal(ScGAN.load(tmp_path / "s").generate(33, seed=1).X, sim.X)


def test_scgan_from_groundgan_equals_trained_scgan(data):
    adata, edges = data
    gg = GRouNdGAN(edges, preset="smoke", seed=5, device="cpu").fit(adata, progress=False)
    assert gg.genes == list(adata.var_names)
    trained = ScGAN(preset="smoke", seed=5, device="cpu").fit(adata, progress=False)
    reused = ScGAN.from_groundgan(gg)
    np.testing.assert_array_equal(reused.generate(40, seed=2).X, trained.generate(40, seed=2).X)
