"""Release evaluation in the warehouse: metrics of a release with a holdout land in `dpsynth_metrics`.

The metrics are computed on raw rows (the training part and the holdout, read through the engine) and are NOT
differentially private: they are evidence for the people who approve a release. They live in a PRIVATE schema, apart
from the synthetic tables and the ledger (`<ledger schema>_dpsynth_private` by default, var `dpsynth_private_schema`;
the on-run-start hook records it in `dpsynth_locations`), and are read by the gate tests
(`dbt_dpsynth.dpsynth_privacy_gate` / `dpsynth_utility_gate`). A gate decision is a non-DP function of the data.
"""

from __future__ import annotations

from typing import Any, Mapping

from dpsynth_core.errors import ConfigError

from .ledger import LedgerLocation
from .tables import LOCATIONS, METRICS

METRICS_TABLE = METRICS.table
LOCATIONS_TABLE = LOCATIONS.table
PRIVATE_SUFFIX = "_dpsynth_private"
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


def evaluate_release(release, spec, target: str | None, gates, options):
    """Evaluate a release against the rows its generator saw and its holdout (`release.evaluation`, NOT DP)."""
    from dpsynth_core.evaluation import evaluate
    from dpsynth_core.evaluation.columns import kinds_from_table_spec

    rows = release.evaluation
    return evaluate(rows.train, rows.holdout, release.data,
                    kinds=kinds_from_table_spec(spec), target=target, gates=gates, options=options,
                    table=release.record.relation)


def private_location(con, ledger: LedgerLocation, invocation_id: str | None = None) -> LedgerLocation:
    """The private schema of the metrics and evaluation details.

    The one the on-run-start hook recorded in `dpsynth_locations` for `invocation_id` (for None: the newest
    recorded), else `<ledger schema>_dpsynth_private` in the ledger's database.
    """
    default = LedgerLocation(ledger.schema + PRIVATE_SUFFIX, ledger.database)
    catalog_filter = "AND table_catalog = ?" if ledger.database else ""
    params = [ledger.schema, LOCATIONS_TABLE] + ([ledger.database] if ledger.database else [])
    if not con.execute(f"SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ? "
                       f"{catalog_filter}", params).fetchall()[0][0]:
        return default
    where, args = ("AND invocation_id = ?", [invocation_id]) if invocation_id else ("", [])
    rows = con.execute(f"SELECT database_name, schema_name FROM {ledger.qualify(LOCATIONS_TABLE)} WHERE role = "
                       f"'private' {where} ORDER BY recorded_at DESC LIMIT 1", args).fetchall()
    if not rows:
        return default
    database, schema = rows[0]
    return LedgerLocation(schema, database or ledger.database)


GATE_STATEMENT = ("The gate decision (whether this release passes its privacy and utility gates) is a NON-DP "
                  "function of the data: the metrics are exact statistics of the training rows and the holdout. "
                  "Whether a gated table appears, and any metric value, reveals information about real rows beyond "
                  "this release's epsilon; keep the metrics with the people who approve releases.")


def evaluation_statement(metrics_relation: str) -> dict[str, Any]:
    """What the release record says about its (non-DP) evaluation."""
    return {"differentially_private": False, "metrics_relation": metrics_relation, "statement": GATE_STATEMENT}


def write_metrics(con, location, records: list[dict[str, Any]], table: str = METRICS_TABLE) -> int:
    """Append metric rows to `table` in the private schema (`location`: `private_location(...)`); creates the schema
    and table when missing. Returns the number of rows written."""
    qualified = location.qualify(table)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {location.schema_name}")
    con.execute(METRICS.create_sql(location.dialect, qualified))
    if not records:
        return 0
    names = METRICS.names
    marks = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO {qualified} ({', '.join(location.quote(n) for n in names)}) VALUES ({marks})",
                    [[r.get(n) for n in names] for r in records])
    return len(records)
