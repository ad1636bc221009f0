"""Benchmark protocols (``bench.protocol``): what the methods are called with, and how it is recorded."""

from __future__ import annotations

import pytest

from bench.config import DEFAULT_DEVIATIONS, RunConfig
from bench.errors import BenchError


def test_presets_resolve_to_protocols():
    d = RunConfig(preset="default").resolved()
    assert d.protocol == "paper" and d.give_tfs is False and d.method_preset == "beeline"
    assert d.protocol_deviations == DEFAULT_DEVIATIONS
    s = RunConfig(preset="smoke").resolved()
    assert s.protocol == "fast" and s.give_tfs is True and s.method_preset == "smoke"
    f = RunConfig(preset="default", protocol="fast").resolved()
    assert f.give_tfs is True and f.method_preset == "fast"
    assert RunConfig(preset="paper").resolved().protocol_deviations == {}


def test_protocol_bad_input():
    with pytest.raises(BenchError, match="unknown protocol"):
        RunConfig(protocol="beeline").resolved()
    with pytest.raises(BenchError, match="paper protocol gives no TF list"):
        RunConfig(protocol="paper", give_tfs=True).resolved()
    with pytest.raises(BenchError, match="unknown method"):
        RunConfig(protocol_deviations={"aracne": "fast"}).resolved()


def test_deviation_overrides_the_protocol_preset():
    from bench.pipeline.infer import method_preset
    from methods.base import get_method

    cfg = RunConfig(preset="default").resolved()
    assert method_preset(cfg, get_method("genie3")) == "fast"  # named deviation
    assert method_preset(cfg, get_method("grnboost2")) == "beeline"
    assert method_preset(RunConfig(preset="default", protocol_deviations={}).resolved(),
                         get_method("genie3")) == "beeline"
