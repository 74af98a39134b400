"""What a release report is built from: plain data, as the warehouse stores it.

`ReleaseEvidence` holds the release record (the ledger's `record_json`, parsed), the ledger rows of the release's
budget key in ledger order (dicts with the columns of `dbt_dpsynth.tables.LEDGER`), the caps per budget key,
the metric rows of the release (`dbt_dpsynth.tables.METRICS`) and the evaluation's plot data
(`dpsynth_core.evaluation.details`, optional). Nothing here reads a warehouse: the glue code does, and hands over
dicts, so dbt, the CLI and tests build reports the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..errors import InputError


def parse_json(value: Any, what: str) -> Any:
    """A JSON column's value (already parsed, a JSON string, or None)."""
    if value is None or isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError) as err:
        raise InputError(f"{what} is not valid JSON ({err}).", fix="check the ledger/metrics rows handed to the "
                         "report; they must be the stored JSON strings.") from None


@dataclass(frozen=True)
class ReleaseEvidence:
    """Inputs of one release report.

    Args:
        record: the release record as a dict (`ReleaseRecord.to_dict()` / the ledger's `record_json`).
        ledger_rows: ledger rows of the release's budget key, oldest first (only the release's own row when it has
            no budget key); each a dict keyed by ledger column names.
        caps: epsilon cap per budget key (the latest recorded).
        metrics: metric rows of this release (release_id, model, metric, kind, value, threshold, passed, computed_at).
        details: evaluation plot data (`EvaluationReport.details`), or None when none was stored.
        written_to: where the report files are written (the report states it next to its sensitivity marking).
        metrics_location: where the metrics came from (e.g. the metrics table), stated in the same place.
    """

    record: Mapping[str, Any]
    ledger_rows: tuple[Mapping[str, Any], ...] = ()
    caps: Mapping[str, float] = field(default_factory=dict)
    metrics: tuple[Mapping[str, Any], ...] = ()
    details: Mapping[str, Any] | None = None
    written_to: str | None = None
    metrics_location: str | None = None

    def __post_init__(self):
        if not isinstance(self.record, Mapping) or "release_id" not in self.record:
            raise InputError("the release record must be a mapping with a release_id.",
                             fix="pass the parsed record_json of a released ledger row.")

    @property
    def release_id(self) -> str:
        return str(self.record["release_id"])

    @property
    def release_row(self) -> Mapping[str, Any] | None:
        """The ledger row of this release (None when the caller gave none)."""
        for row in self.ledger_rows:
            if str(row.get("release_id")) == self.release_id:
                return row
        return None

    @property
    def budget_key(self) -> str | None:
        row = self.release_row
        return None if row is None else row.get("budget_key")

    @property
    def cap(self) -> float | None:
        key = self.budget_key
        if key is not None and key in self.caps:
            return float(self.caps[key])
        row = self.release_row
        return None if row is None or row.get("cap_epsilon") is None else float(row["cap_epsilon"])

    @property
    def evaluated(self) -> bool:
        return bool(self.metrics)

    def metric(self, name: str) -> Mapping[str, Any] | None:
        for m in self.metrics:
            if m.get("metric") == name:
                return m
        return None

    def metric_detail(self, name: str) -> Mapping[str, Any]:
        return dict(((self.details or {}).get("metrics") or {}).get(name) or {})


def evidence_from_rows(release_id: str, ledger_rows: Iterable[Mapping[str, Any]],
                       caps: Mapping[str, float] | None = None, metric_rows: Iterable[Mapping[str, Any]] = (),
                       details: Any = None, **extra: Any) -> ReleaseEvidence:
    """Build the evidence of `release_id` from every ledger row (any key, any order) as the warehouse returns them.

    Keeps the rows of the release's budget key ordered by `started_at`, the release's metric rows, and parses the
    stored JSON (`record_json`, and `details` when it is a string).
    """
    rows = [dict(r) for r in ledger_rows]
    own = [r for r in rows if str(r.get("release_id")) == str(release_id)]
    if not own:
        raise InputError(f"release {release_id!r} is not in the ledger.",
                         fix="pick a release_id from `dpsynth ledger`.")
    # 'reused' rows share the release_id of the released row they serve; the released row holds the record
    row = next((r for r in own if r.get("status") == "released"), own[0])
    record = parse_json(row.get("record_json"), f"record_json of release {release_id}")
    if not record:
        raise InputError(f"release {release_id!r} has no record (status {row.get('status')!r}).",
                         fix="reports exist for released rows only; failed and reserved rows appear in the audit "
                             "narrative of their key's releases.")
    key = row.get("budget_key")
    same_key = [r for r in rows if key is not None and r.get("budget_key") == key] or [row]
    same_key.sort(key=lambda r: (str(r.get("started_at") or ""), str(r.get("release_id"))))
    metrics = tuple(dict(m) for m in metric_rows if str(m.get("release_id")) == str(release_id))
    return ReleaseEvidence(record=record, ledger_rows=tuple(same_key), caps=dict(caps or {}), metrics=metrics,
                           details=parse_json(details, f"evaluation details of release {release_id}"), **extra)
