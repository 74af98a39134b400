"""Gate thresholds (`GateConfig`) and evaluation options (`EvaluationOptions`), loadable from `gates.yml`.

One vocabulary: a threshold is named by its metric (`marginal_tvd_2way`, `membership_auc_distance`, ...), the same
name in `GateConfig`, in `dpsynth.gates.thresholds`, in the dbt gate tests' `thresholds` argument and in docs/gates.md.
Parameters of a rule keep their own names (`dcr_z`, `nndr_z`, `noise_floor_factor`). Every built-in metric is an
upper bound (passes when value <= its threshold); the rule that turns the configured value into the threshold applied
(e.g. `exact_copy_rate`: the holdout's own rate + 0.01) is in docs/gates.md and in each result's `rule`. A threshold
set to null (None) keeps the metric in the report without gating on it.

gates.yml:
    thresholds:            # any GateConfig field
      membership_auc_distance: 0.6
    options:               # any EvaluationOptions field
      target: dead
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError

# Names before the one-vocabulary rename (refused with the new name in the fix, never silently mapped).
RENAMED = {
    "exact_copy_margin": "exact_copy_rate", "membership_auc_max": "membership_auc_distance and "
    "membership_auc_density", "singling_out_risk_max": "singling_out_risk", "linkability_risk_max":
    "linkability_risk", "attribute_inference_risk_max": "attribute_inference_risk", "marginal_tvd_1way_max":
    "marginal_tvd_1way", "marginal_tvd_2way_max": "marginal_tvd_2way", "marginal_tvd_3way_max": "marginal_tvd_3way",
    "dependence_diff_max": "dependence_diff", "tstr_auc_gap_max": "tstr_auc_gap", "subgroup_tvd_max": "subgroup_tvd",
    "range_violation_max": "range_violation_rate", "null_rate_diff_max": "null_rate_diff",
    "rare_category_miss_max": "rare_category_miss_rate", "novel_category_rate_max": "novel_category_rate",
}


@dataclass(frozen=True)
class GateConfig:
    """Configured thresholds, by metric name, and the parameters of the rules (see docs/gates.md)."""

    # ---- privacy
    exact_copy_rate: float | None = 0.01         # rule: value <= holdout's own copy rate + this
    dcr_z: float | None = 2.33                   # dcr_share <= 0.5 + z sqrt(0.25 / n_eff)
    nndr_z: float | None = 2.33                  # nndr_below_holdout_p05 <= 0.05 + z sqrt(0.05 * 0.95 / n_eff)
    membership_auc_distance: float | None = 0.6
    membership_auc_density: float | None = 0.6
    singling_out_risk: float | None = 0.09       # fail only when significantly above (see docs/gates.md)
    linkability_risk: float | None = 0.09
    attribute_inference_risk: float | None = 0.09
    # ---- utility
    marginal_tvd_1way: float | None = 0.05       # never below noise_floor_factor x (train vs holdout)
    marginal_tvd_2way: float | None = 0.06
    marginal_tvd_3way: float | None = 0.12
    dependence_diff: float | None = 0.10
    tstr_auc_gap: float | None = 0.15
    subgroup_tvd: float | None = 0.10
    range_violation_rate: float | None = 0.05
    null_rate_diff: float | None = 0.10          # DP discovery drops rare categories: their rows decode to null
    noise_floor_factor: float | None = 2.0
    rare_category_miss_rate: float | None = None  # reported only: DP domain discovery drops rare categories by design
    novel_category_rate: float | None = None      # reported only

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, source: str = "gates") -> "GateConfig":
        values = _checked(raw or {}, cls, source, "thresholds")
        for name, value in values.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ConfigError(f"threshold {name}={value!r} in {source} must be a number or null.",
                                  fix=f"write e.g. `{name}: {getattr(cls(), name)}`.")
        return replace(cls(), **{k: None if v is None else float(v) for k, v in values.items()})

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
    renamed = sorted(k for k in raw if k in RENAMED and k not in known)
    if renamed:
        raise ConfigError(f"{section} key(s) {renamed} in {source} were renamed to the metric names.",
                          fix="use " + "; ".join(f"{k} -> {RENAMED[k]}" for k in renamed) + " (see docs/gates.md).")
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
