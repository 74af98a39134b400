"""The release record: what a synthetic table was made with and how its privacy budget was spent."""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from .measurement.privacy_unit import ROW


def new_release_id() -> str:
    return uuid.uuid4().hex


@dataclass
class ReleaseRecord:
    relation: str
    generator: str
    epsilon: float                 # requested (and never exceeded) epsilon
    delta: float                   # total delta = delta_conversion + delta_threshold
    delta_conversion: float        # delta used to convert rho to epsilon
    delta_threshold: float         # delta reserved for thresholded domain discovery
    rho: float                     # total zCDP budget of the release
    epsilon_spent: float           # cdp_eps(rho actually spent, delta_conversion) (+ non-zCDP parts)
    rho_spent: float
    accountant: str                # "zcdp" (marginal methods) or e.g. "zcdp+rdp" (deep generators)
    rows: int
    rows_source: str               # "config" (public) or "dp_estimate"
    seed: int | None
    spend: list[dict[str, Any]]
    columns: dict[str, Any]
    neighbouring: str = ROW.neighbouring   # e.g. "add/remove one caseid (all its rows), at most 2 rows each"
    holdout: dict[str, Any] = field(default_factory=lambda: {"used": False})
    warnings: list[str] = field(default_factory=list)
    release_id: str = field(default_factory=new_release_id)
    created_at: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat())
    epsilon_other: float = 0.0     # epsilon accounted outside zCDP (DP-SGD), composed by basic composition
    library_version: str = ""
    # every split of the budget: [{label, parent, accountant, rho, epsilon, delta, share, ...}], leaves add up to the
    # request per accountant (zCDP rho; DP-SGD epsilon), see accounting/plan.py
    budget_tree: list[dict[str, Any]] = field(default_factory=list)
    # the privacy unit: {unit, column, max_rows_per_unit, bounding, sensitivity_factor} (PrivacyUnit.to_record)
    privacy_unit: dict[str, Any] = field(default_factory=ROW.to_record)
    # the generator's validated options (public settings, defaults filled in), for the model card
    options: dict[str, Any] = field(default_factory=dict)
    # wall-clock seconds of the generator's fit (measurement + model fitting), None when not measured. Run time is a
    # side channel outside the DP guarantee (docs/threat_model.md); the ledger's started/finished times show as much.
    fit_seconds: float | None = None
    # the DP gate's result (dpsynth_core.dp_gate; DP, charged to this release) when one was asked for
    dp_gate: dict[str, Any] | None = None
    # release type, approval requirement, expiry, usage terms, watermark stamp (`governance.Governance.to_record`);
    # public configuration, no privacy cost, no secret (the watermark key's fingerprint only)
    governance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), default=str, **kwargs)

    def summary(self) -> str:
        return (f"release {self.release_id[:12]}: {self.rows} rows of {self.relation} by {self.generator}, "
                f"epsilon={self.epsilon_spent:.4g} (requested {self.epsilon:g}), delta={self.delta:.3g}, "
                f"accountant={self.accountant}, {len(self.spend)} charged steps, per {self.neighbouring}")
