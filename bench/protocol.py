"""Benchmark protocols: how the inference methods are run, recorded with every result.

- ``paper``: the GRouNdGAN paper's GRN benchmark. No method is given a TF list (every gene may regulate every
  other gene), and each method runs with BEELINE's parameters (its ``beeline`` preset, or its defaults, which are
  BEELINE's, when it has none). A method whose BEELINE parameters do not fit a run's time budget runs with a named
  cheaper preset instead: a *deviation*, listed in the config (``protocol_deviations``), in the manifest and in the
  leaderboard's ``preset`` column.
- ``fast``: cheaper presets (``fast``: fewer trees or iterations) and the TF list given to the methods that accept
  one. Quicker, and easier for the methods; not the paper's setting.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import BenchError


@dataclass(frozen=True)
class Protocol:
    name: str
    give_tfs: bool  # candidate regulators handed to the methods that accept a TF list
    method_preset: str  # the run-level method preset (see bench.pipeline.METHOD_PRESET_CHOICES)
    summary: str


PROTOCOLS: dict[str, Protocol] = {
    "paper": Protocol("paper", give_tfs=False, method_preset="beeline",
                      summary="the paper's benchmark: no TF list for any method, BEELINE's parameters"),
    "fast": Protocol("fast", give_tfs=True, method_preset="fast",
                     summary="fast presets, TF list given to the methods that accept one"),
}


def get_protocol(name: str) -> Protocol:
    if name not in PROTOCOLS:
        raise BenchError(f"unknown protocol {name!r}.", f"Choose one of {', '.join(PROTOCOLS)}.")
    return PROTOCOLS[name]


def resolve_protocol(cfg, known_methods) -> None:
    """Fill ``method_preset`` and ``give_tfs`` of a config from its ``protocol`` (in place); refuse contradictions."""
    p = get_protocol(cfg.protocol)
    if cfg.method_preset is None:
        cfg.method_preset = p.method_preset
    if cfg.give_tfs is None:
        cfg.give_tfs = p.give_tfs
    if p.name == "paper" and cfg.give_tfs:
        raise BenchError("the paper protocol gives no TF list to the methods, but give_tfs is true.",
                         "Drop give_tfs, or use protocol = \"fast\".")
    bad = sorted(set(cfg.protocol_deviations or {}) - {m.lower() for m in known_methods})
    if bad:
        raise BenchError(f"protocol_deviations names unknown method(s): {', '.join(bad)}.",
                         "Name methods by their lowercase ids (see `bench methods list`).")


def deviation_preset(cfg, method_name: str) -> str | None:
    """The preset that replaces the protocol's for ``method_name`` (a named deviation), or None."""
    return (cfg.protocol_deviations or {}).get(method_name.lower())
