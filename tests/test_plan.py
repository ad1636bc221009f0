"""bench run --plan: estimates scale with the work, shrink with workers, and compare with a finished run."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bench.config import RunConfig
from bench.plan import _lpt, actual_from_run, estimate_run, format_plan, method_run_s, ratios, tree_target_s


def test_costs_scale_with_the_work():
    c = {"rf_unit_s": 1e-8, "gbm_unit_s": 1e-8, "gbm_rounds": {0.01: 1000.0, 0.1: 100.0}}
    one = tree_target_s("genie3", {"n_estimators": 100}, 1000, 100, c)
    assert tree_target_s("genie3", {"n_estimators": 200}, 1000, 100, c) == pytest.approx(2 * one)
    assert tree_target_s("genie3", {"n_estimators": 100}, 1000, 400, c) == pytest.approx(2 * one)  # sqrt(regs)
    # boosting: rounds ~ 1 / learning rate, capped by n_estimators
    slow = tree_target_s("grnboost2", {"learning_rate": 0.01, "n_estimators": 5000}, 1000, 100, c)
    fast = tree_target_s("grnboost2", {"learning_rate": 0.1, "n_estimators": 5000}, 1000, 100, c)
    assert slow == pytest.approx(10 * fast)
    capped = tree_target_s("grnboost2", {"learning_rate": 0.01, "n_estimators": 50}, 1000, 100, c)
    assert capped == pytest.approx(slow / 20)
    from bench.plan import COSTS

    assert method_run_s("pidc", None, {}, 2000, 200, None, COSTS) == pytest.approx(
        8 * method_run_s("pidc", None, {}, 2000, 100, None, COSTS))


def test_list_scheduling():
    assert _lpt([], 4) == 0
    assert _lpt([3, 3, 3, 3], 2) == 6
    assert _lpt([10, 1, 1, 1], 4) == 10
    assert _lpt([5, 4, 3, 3, 3], 2) == 10  # greedy, not optimal (9): what a queue does


def test_more_workers_shorten_a_cluster_plan_but_not_the_gan():
    trees = RunConfig(preset="paper", methods=["genie3", "grnboost2"]).resolved()
    assert estimate_run(trees, n_workers=64, cluster=True).stages["infer"] < \
        estimate_run(trees, n_workers=2, cluster=True).stages["infer"] / 20  # 1000 tasks per method run
    cfg = RunConfig(preset="paper").resolved()
    p2 = estimate_run(cfg, n_workers=2, cluster=True, device="cpu")
    p64 = estimate_run(cfg, n_workers=64, cluster=True, device="cpu")
    # CeSpGRN's few chunk tasks bound the stage
    ce = next(i for i in p64.items if i.name == "groundgan/cespgrn")
    assert p64.stages["infer"] == pytest.approx(max(ce.tasks)) and p64.stages["infer"] < p2.stages["infer"] / 5
    assert p64.stages["groundgan"] == p2.stages["groundgan"]
    gpu = estimate_run(cfg, n_workers=64, cluster=True, gpu_workers=1)
    assert gpu.device == "cuda" and gpu.stages["groundgan"] < p64.stages["groundgan"]
    assert any("ASSUMED" in n for n in gpu.notes)
    # split methods appear with their tasks
    g3 = next(i for i in p64.items if i.name == "groundgan/genie3")
    assert len(g3.tasks) == 1000 and sum(g3.tasks) == pytest.approx(g3.work_s - 3.0, rel=1e-6)
    assert "genie3" in format_plan(p64).lower()


def test_plan_cli_computes_nothing_and_compares_with_a_finished_run(tmp_path):
    from bench.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "--preset", "smoke", "--plan", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "infer" in res.output and "total" in res.output and not out.exists()
    # A finished run (its files as bench run writes them): stage times in the manifest, method records.
    out.mkdir()
    (out / "config.toml").write_text('preset = "smoke"\ndataset = "bonemarrow"\n')
    (out / "manifest.json").write_text(json.dumps({"stages": {"grn": {"status": "done", "seconds": 10.0},
                                                              "infer": {"status": "done", "seconds": 100.0},
                                                              "data": {"status": "cached", "seconds": 5.0}}}))
    plan = estimate_run(RunConfig(preset="smoke").resolved())
    name = next(i.name for i in plan.items if i.stage == "infer")  # <source>/<method>, as the run's folders
    rec = out / "infer" / name / "record.json"
    rec.parent.mkdir(parents=True)
    rec.write_text(json.dumps({"runtime_s": 7.5, "cpu_time_s": 6.0, "status": "ok"}))
    actual = actual_from_run(out)
    assert actual == {"stages": {"grn": 10.0, "infer": 100.0}, "methods": {name: 7.5}, "methods_cpu": {name: 6.0}}
    res = CliRunner().invoke(app, ["run", "--plan", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "est/act" in res.output and "estimate / actual:" in res.output and "7.5 s" in res.output
    assert "estimate / own CPU time: median" in res.output
    r = ratios(plan, actual)
    assert set(r) == {"grn", "infer", "total"} and r["infer"] == pytest.approx(plan.stages["infer"] / 100.0)
