"""dbt glue: a dbt Python model calls `dbt_dpsynth.synthesize(dbt, session, dbt.ref("source"))`.

    import dbt_dpsynth
    def model(dbt, session):
        dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "mst", "budget_key": "patients"})
        return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))

Flow (nothing private is read before step 4):
1. settings from the node (config + column meta) and keyword overrides -> SynthesisConfig + column specs (validated);
2. the ledger for this invocation is located and the caps recorded by the `on_run_start` hook are read;
3. cap check and a 'reserved' ledger row, in one serialised, committed transaction (over the cap: BudgetExceededError,
   nothing written);
4. the release is synthesised (reads the source through its engine, `engines.engine_for`: push-down);
5. the row becomes 'released' with the spend breakdown (or 'failed' with the error; the charge stays);
6. the synthetic DataFrame is returned for dbt to materialise.
"""

from __future__ import annotations

import logging
from typing import Any

__version__ = "0.1.0"
__all__ = ["budget_status_table", "release_catalogue_table", "synthesize", "__version__"]


def _logger():
    try:
        from dbt.adapters.events.logging import AdapterLogger

        return AdapterLogger("dpsynth")   # reaches the console and logs/dbt.log
    except Exception:  # noqa: BLE001 - outside dbt (plain Python), use logging
        return logging.getLogger("dpsynth")


def _invocation_id() -> str | None:
    try:
        from dbt_common.invocation import get_invocation_id

        return get_invocation_id()   # live id (a `{{ invocation_id }}` in config is frozen at parse time)
    except Exception:  # noqa: BLE001
        return None


def _progress_logger(log, model_name: str):
    """Per-epoch DP-SGD progress (epsilon spent so far, losses) into the dbt log."""

    def report(event: str, info: dict) -> None:
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in info.items()
                          if not isinstance(v, (dict, list)))
        log.info(f"dpsynth: {model_name}: {event}: {shown}")

    return report


def _this(dbt) -> tuple[str | None, str | None, str | None]:
    """(rendered target relation, database, schema) of the model being built."""
    this = getattr(dbt, "this", None)
    if this is None:
        return None, None, None
    return repr(this), getattr(this, "database", None) or None, getattr(this, "schema", None) or None


def synthesize(dbt, session, relation, *, relation_name: str | None = None, **overrides: Any):
    """Build a DP synthetic version of `relation` (what `dbt.ref`/`dbt.source` returns); returns a DataFrame.

    Keyword overrides take precedence over the model's `dpsynth` config (epsilon, delta, generator, rows, seed,
    budget_key, target, holdout, options, columns, ledger_schema). `relation_name` names the source when the model
    reads several relations.

    Our errors (table, column, fix; never a value) leave without the frames they passed through: dbt-duckdb prints
    a failed Python model's traceback, and ours would bury the one-line message.
    """
    from dpsynth_core.errors import DpsynthError

    try:
        return _synthesize(dbt, session, relation, relation_name=relation_name, **overrides)
    except DpsynthError as err:
        raise err.with_traceback(None) from None


def _synthesize(dbt, session, relation, *, relation_name: str | None = None, **overrides: Any):
    from dpsynth_core.api import check_named_column
    from dpsynth_core.errors import ConfigError
    from dpsynth_core.schema import TableSpec

    from . import config as cfgmod
    from . import metrics as metricsmod
    from .engines import engine_for
    from .extras import require_for_generator

    log = _logger()
    node = cfgmod.find_node()
    model_name = str((node or {}).get("name") or getattr(getattr(dbt, "this", None), "identifier", "model"))
    short_name, source_id = cfgmod.source_identity(node, relation, relation_name)
    settings = cfgmod.model_settings(cfgmod.raw_settings(node, dbt, overrides), node, short_name, model_name)
    require_for_generator(settings.synthesis.generator, table=short_name)   # a missing [deep] extra: nothing charged

    # a warehouse relation only (a pandas frame would pull the table into the Python process): InputError otherwise
    engine = engine_for(relation, session, relation_name=short_name, pushdown_only=True)
    schema = engine.schema()                                   # public: column names and types
    columns = cfgmod.align_to_schema(settings.columns, schema, short_name)
    spec = TableSpec.from_dict(short_name, columns, schema)    # spec errors surface before anything is charged
    gates = metricsmod.gate_settings(settings.gates, short_name) if settings.synthesis.holdout > 0 else None
    if settings.gates and settings.synthesis.holdout <= 0:
        raise ConfigError("dpsynth.gates is set but holdout is 0: the gates compare the release with a holdout.",
                          table=short_name, fix="set `holdout: 0.2` or drop `gates`.")
    check_named_column(settings.synthesis.target, spec, "target")        # before anything is reserved
    if gates is not None:
        metricsmod.check_gate_columns(gates, spec)

    target, database, default_schema = _this(dbt)
    con = session.cursor()                                     # own connection: ledger commits are independent
    try:
        evaluate = (lambda release, location: _evaluate_release(con, release, spec, settings, gates, location,
                                                                 model_name, log)) if gates is not None else None
        options = ({"dp_gate": gates.dp, "evaluation_rows": gates.evidence} if gates is not None else {})
        release, _ = _release_with_ledger(con, engine, spec, settings, node, model_name, source_id, target,
                                          database, default_schema, log, evaluate=evaluate,
                                          synthesis_options=options)
    finally:
        con.close()
    return release.data


def _evaluate_release(con, release, spec, settings, gates, location, model_name, log) -> dict:
    """Evaluate a release with a holdout and store its metrics (NOT DP) in the private schema, before its ledger row
    is finished: an evaluation error fails the release (charged, scrubbed message) instead of leaving 'released' with
    no table. Returns what the release record says about the evaluation. Logs where the metrics went and the
    thresholds the evaluation used, never which metric passed or failed (that is a non-DP function of the data)."""
    from dpsynth_core.measurement.guard import guarded

    from . import metrics as metricsmod

    private = metricsmod.private_location(con, location, _invocation_id())
    records = []
    if gates.evidence:
        report = guarded(lambda: metricsmod.evaluate_release(release, spec, settings.synthesis.target,
                                                             gates.thresholds, gates.options),
                         step="evaluation", table=release.record.relation)
        records = report.to_records(release.record.release_id, model_name)
    if release.record.dp_gate is not None:    # DP: its value and decision may be published with the table
        records.append(metricsmod.dp_gate_record(release.record, model_name))
    n = metricsmod.write_metrics(con, private, records)
    thresholds = {k: v for k, v in gates.thresholds.to_dict().items() if v is not None} if gates.evidence else {}
    log.info(f"dpsynth: {model_name}: {n} evaluation metrics"
             + (" (NOT DP)" if gates.evidence else " (the DP gate)")
             + f" written to {private.qualify(metricsmod.METRICS_TABLE)}; the gate tests decide"
             + (f", with these thresholds unless a test overrides them: {thresholds}" if thresholds else ""))
    return metricsmod.evaluation_statement(private.qualify(metricsmod.METRICS_TABLE), gates.evidence)


def _release_with_ledger(con, engine, spec, settings, node, model_name, source_id, target, database, default_schema,
                         log, evaluate=None, synthesis_options=None):
    """Cap check + reservation (committed) -> synthesis (-> `evaluate(release, location)`, whose result the record
    keeps under `evaluation`) -> released/failed row. Returns (Release, LedgerLocation)."""
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.measurement.guard import guarded

    from . import config as cfgmod
    from . import ledger as ledgermod

    synthesis = settings.synthesis
    invocation_id = _invocation_id()
    location = ledgermod.locate(con, invocation_id=invocation_id, database=database,
                                default_schema=default_schema or "main", explicit_schema=settings.ledger_schema)
    ledgermod.ensure_tables(con, location)
    caps = ledgermod.read_caps(con, location, invocation_id)
    caps_where = "var 'dpsynth_budgets' (recorded by on-run-start)"
    if caps is None:
        caps = ledgermod.validate_caps(settings.caps_from_config, where=f"model config {cfgmod.CAPS_CONFIG_KEY!r}")
        caps_where = f"model config {cfgmod.CAPS_CONFIG_KEY!r}"
    cap = caps.get(settings.budget_key)
    if cap is None:
        log.warning(f"dpsynth: budget_key {settings.budget_key!r} has no cap in {caps_where}; this release is "
                    "recorded in the ledger but no cap limits the key's cumulative spend.")

    plan = synthesis.budget_plan()
    request = ledgermod.ReleaseRequest(
        source_relation=source_id, model=(node or {}).get("unique_id") or model_name, target_relation=target,
        budget_key=settings.budget_key, generator=synthesis.generator, epsilon=synthesis.epsilon,
        delta=synthesis.resolved_delta(), delta_conversion=plan.delta_conversion, rho=plan.rho,
        accountant=plan.accountant, seed=synthesis.seed, rows=synthesis.rows, invocation_id=invocation_id,
        epsilon_other=plan.epsilon_other)
    book = ledgermod.Ledger(con, location)
    reservation = book.reserve(request, cap)                   # raises BudgetExceededError; nothing charged then
    log.info(f"dpsynth: reserved epsilon={synthesis.epsilon:g} (rho={request.rho:.4g}) on budget_key "
             f"{settings.budget_key!r} for {model_name}; cumulative epsilon={reservation.cumulative_epsilon:.4g}"
             + (f" of cap {cap:g}" if cap is not None else " (no cap)"))
    def release_and_evaluate():
        release = synthesize_table(engine, spec, synthesis, progress=_progress_logger(log, model_name),
                                   **(synthesis_options or {}))
        record = release.record.to_dict()
        if evaluate is not None:
            record["evaluation"] = evaluate(release, location)
        return release, record

    try:
        # anything but our own errors leaves scrubbed (type and step only) towards dbt's log and console
        release, record = guarded(release_and_evaluate, step="release", table=request.source_relation)
    except BaseException as err:
        book.finish_failed(reservation, err)     # the scrubbed text only (ledger.public_message)
        raise
    for warning in release.record.warnings:      # public (names and settings); also in the release record
        log.warning(f"dpsynth: {model_name}: {warning}")
    release_id = book.finish_released(reservation, record)
    log.info(f"dpsynth: {model_name}: {release.record.summary()}; ledger {location.ledger} release_id={release_id}")
    return release, location


def _ledger_of_model(dbt, session):
    """(cursor, LedgerLocation) of this invocation's ledger, for the package's own models."""
    from . import ledger as ledgermod

    _, database, default_schema = _this(dbt)
    con = session.cursor()
    location = ledgermod.locate(con, invocation_id=_invocation_id(), database=database,
                                default_schema=default_schema or "main")
    ledgermod.ensure_tables(con, location)
    return con, location


def budget_status_table(dbt, session):
    """The package model `dpsynth_budget_status`: one row per budget key (cap, composed spend, remaining, releases,
    last release) from this invocation's ledger, as of now. Same numbers as `dpsynth budget FILE`."""
    from .budget_status import status_frame

    con, location = _ledger_of_model(dbt, session)
    try:
        return status_frame(con, location)
    finally:
        con.close()


def release_catalogue_table(dbt, session):
    """The package model `dpsynth_release_catalogue`: one row per ledger row (release id, model, target relation,
    generator, epsilon, delta, status, rows, times), as of now."""
    from .budget_status import catalogue_frame

    con, location = _ledger_of_model(dbt, session)
    try:
        return catalogue_frame(con, location)
    finally:
        con.close()
