"""Gate thresholds (`GateConfig`) and evaluation options (`EvaluationOptions`), loadable from `gates.yml`.

Every built-in threshold is an upper bound (the metric passes when value <= threshold). A threshold set to null
(None) keeps the metric in the report without gating on it. Sources of the defaults: docs/gates.md.

gates.yml:
    thresholds:            # any GateConfig field
      membership_auc_max: 0.6
    options:               # any EvaluationOptions field
      target: dead
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError


@dataclass(frozen=True)
class GateConfig:
    # ---- privacy
    exact_copy_margin: float | None = 0.01       # threshold = holdout-vs-train copy rate + margin
    dcr_z: float | None = 2.33                   # threshold = 0.5 + z * sqrt(0.25 / n)
    nndr_z: float | None = 2.33                  # threshold = 0.05 + z * sqrt(0.05 * 0.95 / n_eff)
    membership_auc_max: float | None = 0.6       # distance and density-ratio attacks
    singling_out_risk_max: float | None = 0.09
    linkability_risk_max: float | None = 0.09
    attribute_inference_risk_max: float | None = 0.09
    # ---- utility
    marginal_tvd_1way_max: float | None = 0.05
    marginal_tvd_2way_max: float | None = 0.06
    marginal_tvd_3way_max: float | None = 0.12
    dependence_diff_max: float | None = 0.10
    tstr_auc_gap_max: float | None = 0.15
    subgroup_tvd_max: float | None = 0.10
    range_violation_max: float | None = 0.05
    null_rate_diff_max: float | None = 0.05
    noise_floor_factor: float | None = 2.0       # TVD/dependence thresholds never below factor * (train vs holdout)
    rare_category_miss_max: float | None = None  # reported only: DP domain discovery drops rare categories by design
    novel_category_rate_max: float | None = None  # reported only

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, source: str = "gates") -> "GateConfig":
        return replace(cls(), **_checked(raw or {}, cls, source, "thresholds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvaluationOptions:
    target: str | None = None                    # TSTR target (categorical/binary best)
    sensitive: str | None = None                 # attribute inference; defaults to target
    quasi_identifiers: tuple[str, ...] | None = None
    subgroup: str | None = None                  # subgroup fidelity column; defaults to target
    link_columns: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    n_bins: int = 10
    max_distance_rows: int = 10000               # synthetic rows queried in nearest-neighbour metrics
    n_attacks: int = 500                         # singling-out / linkability attacks
    max_3way_sets: int = 1000
    seed: int = 0

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, source: str = "gates") -> "EvaluationOptions":
        values = _checked(raw or {}, cls, source, "options")
        if values.get("quasi_identifiers") is not None:
            values["quasi_identifiers"] = tuple(values["quasi_identifiers"])
        if values.get("link_columns") is not None:
            a, b = values["link_columns"]
            values["link_columns"] = (tuple(a), tuple(b))
        return replace(cls(), **values)


def _checked(raw: Mapping[str, Any], cls, source: str, section: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"`{section}` in {source} must be a mapping.", fix=f"write `{section}: {{key: value}}`.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown {section} key(s) {unknown} in {source}.", fix=f"use any of {sorted(known)}.")
    return dict(raw)


def load_gates(path: str | Path) -> tuple[GateConfig, EvaluationOptions]:
    """Read `gates.yml` (sections `thresholds` and `options`, both optional)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"gates file {str(path)!r} does not exist.", fix="pass an existing --gates file.") from None
    if not isinstance(raw, Mapping) or set(raw) - {"thresholds", "options"}:
        raise ConfigError(f"{path} must be a mapping with `thresholds:` and/or `options:` only.",
                          fix="see docs/gates.md for the format.")
    return (GateConfig.from_mapping(raw.get("thresholds"), str(path)),
            EvaluationOptions.from_mapping(raw.get("options"), str(path)))
