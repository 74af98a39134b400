"""Release evaluation in the warehouse: metrics of a release with a holdout land in `dpsynth_metrics`.

The metrics are computed on raw rows (the training part and the holdout, read through the engine) and are NOT
differentially private: they are evidence for the people who approve a release, stored beside the ledger in the
same (private) schema, and read by the gate tests (`dbt_dpsynth.dpsynth_privacy_gate` / `dpsynth_utility_gate`).
"""

from __future__ import annotations

from typing import Any, Mapping

from dpsynth_core.errors import ConfigError

from .tables import METRICS

METRICS_TABLE = METRICS.table
EVALUATION_KEYS = ("gates",)


def gate_settings(raw: Mapping[str, Any] | None, table: str):
    """`dpsynth.gates: {thresholds: {...}, options: {...}}` -> (GateConfig, EvaluationOptions), validated up front."""
    from dpsynth_core.evaluation.gates import EvaluationOptions, GateConfig

    raw = dict(raw or {})
    unknown = sorted(set(raw) - {"thresholds", "options"})
    if unknown:
        raise ConfigError(f"unknown dpsynth.gates key(s) {unknown}.", table=table,
                          fix="write gates: {thresholds: {...}, options: {...}} (see docs/gates.md).")
    return (GateConfig.from_mapping(raw.get("thresholds"), "dpsynth.gates"),
            EvaluationOptions.from_mapping(raw.get("options"), "dpsynth.gates"))


def evaluate_release(release, spec, target: str | None, gates, options, details: bool = False):
    """Evaluate a release against the rows its generator saw and its holdout (`release.evaluation`, NOT DP);
    `details=True` also returns the report's plot data (`EvaluationReport.details`)."""
    from dpsynth_core.evaluation import evaluate
    from dpsynth_core.evaluation.columns import kinds_from_table_spec

    rows = release.evaluation
    return evaluate(rows.train, rows.holdout, release.data,
                    kinds=kinds_from_table_spec(spec), target=target, gates=gates, options=options,
                    table=release.record.relation, details=details)


def write_metrics(con, location, records: list[dict[str, Any]], table: str = METRICS_TABLE) -> int:
    """Append metric rows to `table` beside the ledger (`location`: a `ledger.LedgerLocation`); creates the table
    when missing. Returns the number of rows written."""
    qualified = location.qualify(table)
    con.execute(METRICS.create_sql(location.dialect, qualified))
    if not records:
        return 0
    names = METRICS.names
    marks = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO {qualified} ({', '.join(location.quote(n) for n in names)}) VALUES ({marks})",
                    [[r.get(n) for n in names] for r in records])
    return len(records)
