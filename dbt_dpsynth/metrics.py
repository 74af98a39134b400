"""Release evaluation in the warehouse: metrics of a release with a holdout land in `dpsynth_metrics`.

The metrics are computed on raw rows (the training part and the holdout, read through the engine) and are NOT
differentially private: they are evidence for the people who approve a release. They live in a PRIVATE schema, apart
from the synthetic tables and the ledger (`<ledger schema>_dpsynth_private` by default, var `dpsynth_private_schema`;
the on-run-start hook records it in `dpsynth_locations`), and are read by the gate tests
(`dbt_dpsynth.dpsynth_privacy_gate` / `dpsynth_utility_gate`). A gate decision is a non-DP function of the data.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from dpsynth_core.errors import ConfigError

from .ledger import LedgerLocation
from .stores import store_for
from .tables import LOCATIONS, METRICS

METRICS_TABLE = METRICS.table
LOCATIONS_TABLE = LOCATIONS.table
PRIVATE_SUFFIX = "_dpsynth_private"
EVALUATION_KEYS = ("gates",)


class GateSettings(NamedTuple):
    """`dpsynth.gates`: evidence thresholds and options (non-DP evaluation), and the optional DP gate."""

    thresholds: Any            # dpsynth_core.evaluation.GateConfig
    options: Any               # dpsynth_core.evaluation.EvaluationOptions
    dp: Any = None             # dpsynth_core.dp_gate.DpGateConfig, or None
    evidence: bool = True      # compute the non-DP evidence metrics (false: the DP gate only)


def gate_settings(raw: Mapping[str, Any] | None, table: str) -> GateSettings:
    """`dpsynth.gates: {thresholds: {...}, options: {...}, dp: {...}, evidence: true}` -> GateSettings, validated
    before anything is read."""
    from dpsynth_core.dp_gate import DpGateConfig
    from dpsynth_core.evaluation.gates import EvaluationOptions, GateConfig

    raw = dict(raw or {})
    unknown = sorted(set(raw) - {"thresholds", "options", "dp", "evidence"})
    if unknown:
        raise ConfigError(f"unknown dpsynth.gates key(s) {unknown}.", table=table,
                          fix="write gates: {thresholds: {...}, options: {...}, dp: {...}} (see docs/gates.md).")
    evidence = raw.get("evidence", True)
    if not isinstance(evidence, bool):
        raise ConfigError(f"dpsynth.gates.evidence={evidence!r} must be true or false.", table=table,
                          fix="write `evidence: false` to run the DP gate only.")
    dp = DpGateConfig.from_mapping(raw["dp"], table) if raw.get("dp") is not None else None
    if not evidence and dp is None:
        raise ConfigError("dpsynth.gates.evidence is false and no DP gate is configured: nothing would gate the "
                          "release.", table=table, fix="add `dp: {threshold: 0.1}` or drop `evidence: false`.")
    return GateSettings(GateConfig.from_mapping(raw.get("thresholds"), "dpsynth.gates"),
                        EvaluationOptions.from_mapping(raw.get("options"), "dpsynth.gates"), dp, evidence)


def check_gate_columns(gates: GateSettings, spec) -> None:
    """The evaluation options that name columns (target, sensitive, subgroup, quasi_identifiers, link_columns) name
    modelled columns of the spec: checked before anything is read."""
    from dpsynth_core.api import check_named_column

    o = gates.options
    named = [("gates.options.target", o.target), ("gates.options.sensitive", o.sensitive),
             ("gates.options.subgroup", o.subgroup)]
    named += [("gates.options.quasi_identifiers", c) for c in (o.quasi_identifiers or ())]
    named += [("gates.options.link_columns", c) for part in (o.link_columns or ()) for c in part]
    for setting, column in named:
        check_named_column(column, spec, setting)


def evaluate_release(release, spec, target: str | None, gates, options, details: bool = False):
    """Evaluate a release against the rows its generator saw and its holdout (`release.evaluation`, NOT DP);
    `details=True` also returns the report's plot data (`EvaluationReport.details`)."""
    from dpsynth_core.evaluation import evaluate
    from dpsynth_core.evaluation.columns import kinds_from_table_spec

    rows = release.evaluation
    return evaluate(rows.train, rows.holdout, release.data,
                    kinds=kinds_from_table_spec(spec), target=target, gates=gates, options=options,
                    table=release.record.relation, details=details)


def private_location(con, ledger: LedgerLocation, invocation_id: str | None = None) -> LedgerLocation:
    """The private schema of the metrics and evaluation details.

    The one the on-run-start hook recorded in `dpsynth_locations` for `invocation_id` (for None: the newest
    recorded), else `<ledger schema>_dpsynth_private` in the ledger's database.
    """
    default = LedgerLocation(ledger.schema + PRIVATE_SUFFIX, ledger.database)
    store = store_for(con)
    if not store.has_table(ledger, LOCATIONS_TABLE):
        return default
    where = {"role": "private", **({"invocation_id": invocation_id} if invocation_id else {})}
    rows = store.select(ledger, LOCATIONS_TABLE, ["database_name", "schema_name"], where, order_by=["recorded_at"],
                        descending=True, limit=1)
    if not rows:
        return default
    database, schema = rows[0]
    return LedgerLocation(schema, database or ledger.database)


GATE_STATEMENT = ("The gate decision (whether this release passes its privacy and utility gates) is a NON-DP "
                  "function of the data: the metrics are exact statistics of the training rows and the holdout. "
                  "Whether a gated table appears, and any metric value, reveals information about real rows beyond "
                  "this release's epsilon; keep the metrics with the people who approve releases.")


DP_GATE_STATEMENT = ("The gate decision is the DP gate's noisy threshold test, charged to this release's budget "
                     "(budget tree node `dp_gate`): the decision and its noisy value are covered by the release's "
                     "epsilon.")


def evaluation_statement(metrics_relation: str, evidence: bool = True) -> dict[str, Any]:
    """What the release record says about its evaluation (non-DP evidence metrics, or the DP gate only)."""
    return {"differentially_private": not evidence, "metrics_relation": metrics_relation,
            "statement": GATE_STATEMENT if evidence else DP_GATE_STATEMENT}


def dp_gate_record(record, model: str) -> dict[str, Any]:
    """The DP gate's `dpsynth_metrics` row, from the release record."""
    import datetime as _dt

    from dpsynth_core.dp_gate import DpGateResult

    result = DpGateResult(**record.dp_gate)
    return result.to_record(record.release_id, model, _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))


def write_metrics(con, location, records: list[dict[str, Any]], table: str = METRICS_TABLE) -> int:
    """Append metric rows to `table` in the private schema (`location`: `private_location(...)`); creates the schema
    and table when missing. Returns the number of rows written."""
    store = store_for(con)
    store.ensure_table(location, METRICS, name=table)
    store.insert(location, METRICS, records, name=table)
    return len(records)
