"""dbt glue: a dbt Python model calls `dbt_dpsynth.synthesize(dbt, session, dbt.ref("source"))`.

    import dbt_dpsynth
    def model(dbt, session):
        dbt.config(materialized="table", dpsynth={"epsilon": 1.0, "generator": "mst", "budget_key": "patients"})
        return dbt_dpsynth.synthesize(dbt, session, dbt.ref("patients"))

Flow (nothing private is read before step 5):
1. settings from the node (config + column meta) and keyword overrides -> SynthesisConfig + column specs (validated),
   and the release's fingerprint (`fingerprint.py`: everything public that defines it);
2. the ledger for this invocation is located (the `on_run_start` hook's invocation row);
3. reuse: when the model's newest released row with this fingerprint has a stored model and neither the model's
   `refresh` policy nor var `dpsynth_refresh` asks for a new release, the stored model is re-sampled with its stored
   seed (same rows, same release id; watermarked when a key is configured), a 'reused' ledger row (not a charge) is
   written, and the frame is returned; a stored release that expired or was withdrawn is refused instead;
4. otherwise: cap check and a 'reserved' ledger row, in one serialised, committed transaction (over the cap in force:
   BudgetExceededError, nothing written);
5. the release is synthesised (reads the source through its engine, `engines.engine_for`: push-down);
6. the row becomes 'released' with the spend breakdown, and the fitted model is stored, in one transaction (or the
   row becomes 'failed' with the error; the charge stays);
7. the synthetic DataFrame is returned for dbt to materialise.
Errors raised on purpose reach dbt as one line (`errors.one_line`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from dpsynth_core.errors import DpsynthError

__version__ = "0.1.0"
__all__ = ["synthesize", "__version__"]


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


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _progress_logger(log, model_name: str):
    """Progress events (AIM rounds, MST stages, DP-SGD epochs, sampling) into the dbt log at info level. The events
    carry public facts and DP outputs only (see GeneratorContext.report)."""

    def report(event: str, info: dict) -> None:
        shown = ", ".join(f"{k}={_shown(v)}" for k, v in info.items() if not isinstance(v, (dict, list)))
        log.info(f"dpsynth: {model_name}: {event}: {shown}")

    return report


def _this(dbt) -> tuple[str | None, str | None, str | None]:
    """(rendered target relation, database, schema) of the model being built."""
    this = getattr(dbt, "this", None)
    if this is None:
        return None, None, None
    return repr(this), getattr(this, "database", None) or None, getattr(this, "schema", None) or None


@dataclass(frozen=True)
class _Model:
    """Who is releasing: the dbt model (public names only)."""

    name: str                   # the model's name (messages, metrics rows, var dpsynth_refresh)
    unique_id: str              # the node's unique_id (ledger `model`); the name outside dbt
    source_id: str              # the source's identity (ledger `source_relation`)
    target: str | None          # rendered target relation (ledger `target_relation`)
    database: str | None
    default_schema: str | None


def synthesize(dbt, session, relation, *, relation_name: str | None = None, **overrides: Any):
    """Build a DP synthetic version of `relation` (what `dbt.ref`/`dbt.source` returns); returns a DataFrame.

    Keyword overrides take precedence over the model's `dpsynth` config (epsilon, delta, generator, rows, seed,
    budget_key, target, holdout, privacy_unit, max_rows_per_unit, options, columns, ledger_schema, refresh).
    `relation_name` names the source when the model reads several relations. A rebuild whose release fingerprint is
    unchanged serves the stored release (no new charge) unless the `refresh` policy or var `dpsynth_refresh` asks for
    a new one.
    """
    from dpsynth_core.progress import reporting

    label = str(getattr(getattr(dbt, "this", None), "identifier", None) or "model")
    try:
        with reporting(_progress_logger(_logger(), label)):   # evaluation stages reach the dbt log too
            return _synthesize(dbt, session, relation, relation_name, overrides)
    except DpsynthError as err:
        from .errors import one_line

        raise one_line(err) from None   # dbt shows its one-line message, not a Python traceback


def _synthesize(dbt, session, relation, relation_name: str | None, overrides: dict[str, Any]):
    from dpsynth_core.api import check_named_column, with_unit_identifier
    from dpsynth_core.errors import ConfigError
    from dpsynth_core.schema import TableSpec

    from . import config as cfgmod
    from . import evidence
    from . import metrics as metricsmod
    from .engines import engine_for
    from .extras import require_for_generator
    from .fingerprint import release_fingerprint
    from .governance import ReleaseGovernance
    from .stores import open_store

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
    spec = with_unit_identifier(spec, settings.synthesis.unit)  # the privacy unit's key: an identifier
    if settings.gates and settings.synthesis.holdout <= 0:
        raise ConfigError("dpsynth.gates is set but holdout is 0: the gates compare the release with a holdout.",
                          table=short_name, fix="set `holdout: 0.2` or drop `gates`.")
    gates = metricsmod.gate_settings(settings.gates, short_name) if settings.synthesis.holdout > 0 else None
    check_named_column(settings.synthesis.target, spec, "target")        # before anything is reserved
    if gates is not None:
        metricsmod.check_gate_columns(gates, spec)
    fingerprint = release_fingerprint(source=source_id, schema=[(c.name, c.type) for c in schema], spec=spec,
                                      synthesis=settings.synthesis,
                                      dp_gate=gates.dp.to_dict() if gates is not None and gates.dp else None)

    target, database, default_schema = _this(dbt)
    who = _Model(model_name, str((node or {}).get("unique_id") or model_name), source_id, target, database,
                 default_schema)
    # the ledger's I/O: DuckDB through its own cursor (commits independent of the model's), Snowpark via DataFrames
    store = open_store(session)
    try:
        book = _open_ledger(store, settings, who, log)
        governance = ReleaseGovernance(settings.governance).prepare()   # watermark key: before anything is charged
        reusable = _reusable_release(book, settings, who, fingerprint, log)
        if reusable is not None:
            data, domain = _serve_stored_release(book, reusable, settings, who, log, governance)
            evidence.write_for_model(book, reusable.release_id, who.unique_id, who.name, node, _invocation_id(), log)
            return engine.model_output(session, data, domain)   # the source's types
        evaluate = ((lambda release: _evaluate_release(store, release, spec, settings, gates, book.location, who.name,
                                                       log)) if gates is not None else None)
        options = {"dp_gate": gates.dp, "evaluation_rows": gates.evidence} if gates is not None else {}
        release = _release_with_ledger(book, engine, spec, settings, who, fingerprint, log, governance,
                                       evaluate=evaluate, synthesis_options=options)
        evidence.write_for_model(book, release.record.release_id, who.unique_id, who.name, node, _invocation_id(), log)
    finally:
        store.close()
    return engine.model_output(session, release.data, release.model.domain)


def _evaluate_release(con, release, spec, settings, gates, location, model_name, log) -> dict:
    """Evaluate a release with a holdout and store its metrics and plot data (NOT DP) in the private schema, before
    its ledger row is finished: an evaluation error fails the release (charged, scrubbed message) instead of leaving
    'released' with no table. Returns what the release record says about the evaluation. Logs where the metrics went
    and the thresholds the evaluation used, never which metric passed or failed (a non-DP function of the data)."""
    from dpsynth_core.measurement.guard import guarded

    from . import evidence
    from . import metrics as metricsmod

    private = metricsmod.private_location(con, location, _invocation_id())
    records = []
    if gates.evidence:
        report = guarded(lambda: metricsmod.evaluate_release(release, spec, settings.synthesis.target,
                                                             gates.thresholds, gates.options, details=True),
                         step="evaluation", table=release.record.relation)
        records = report.to_records(release.record.release_id, model_name)
        evidence.store_details(con, private, release.record.release_id, model_name, report, log)
    if release.record.dp_gate is not None:    # DP: its value and decision may be published with the table
        records.append(metricsmod.dp_gate_record(release.record, model_name))
    n = metricsmod.write_metrics(con, private, records)
    thresholds = {k: v for k, v in gates.thresholds.to_dict().items() if v is not None} if gates.evidence else {}
    log.info(f"dpsynth: {model_name}: {n} evaluation metrics"
             + (" (NOT DP)" if gates.evidence else " (the DP gate)")
             + f" written to {private.qualify(metricsmod.METRICS_TABLE)}; the gate tests decide"
             + (f", with these thresholds unless a test overrides them: {thresholds}" if thresholds else ""))
    return metricsmod.evaluation_statement(private.qualify(metricsmod.METRICS_TABLE), gates.evidence)


def _open_ledger(con, settings, who: _Model, log):
    """The invocation's Ledger (tables ensured). Without the package's on-run-start hook, caps from the model config
    are recorded in the caps history first (keys it names only; the others keep the caps they have)."""
    from . import config as cfgmod
    from . import ledger as ledgermod

    invocation_id = _invocation_id()
    location = ledgermod.locate(con, invocation_id=invocation_id, database=who.database,
                                default_schema=who.default_schema or "main", explicit_schema=settings.ledger_schema)
    ledgermod.ensure_tables(con, location)
    if not ledgermod.invocation_recorded(con, location, invocation_id) and settings.caps_from_config:
        caps = ledgermod.validate_caps(settings.caps_from_config, where=f"model config {cfgmod.CAPS_CONFIG_KEY!r}")
        for change in ledgermod.record_caps(con, location, invocation_id, caps, recorded_by=None,
                                            source=f"model config {cfgmod.CAPS_CONFIG_KEY} of {who.name}"):
            log.info(f"dpsynth: cap of budget_key {change.budget_key!r} set to {change.cap_epsilon:g} (was "
                     f"{change.previous_cap_epsilon}) from the model config of {who.name}")
    return ledgermod.Ledger(con, location)


def _release_request(settings, who: _Model):
    from . import ledger as ledgermod

    synthesis = settings.synthesis
    plan = synthesis.budget_plan()
    return ledgermod.ReleaseRequest(
        source_relation=who.source_id, model=who.unique_id, target_relation=who.target,
        budget_key=settings.budget_key, generator=synthesis.generator, epsilon=synthesis.epsilon,
        delta=synthesis.resolved_delta(), delta_conversion=plan.delta_conversion, rho=plan.rho,
        accountant=plan.accountant, seed=synthesis.seed, rows=synthesis.rows, invocation_id=_invocation_id(),
        epsilon_other=plan.epsilon_other, release_type=settings.governance.release_type)


def _reusable_release(book, settings, who: _Model, fingerprint, log):
    """The stored release to serve instead of a new one, or None (then the log says why a new release is made)."""
    from . import ledger as ledgermod
    from . import model_store, refresh
    from .governance import refuse_unservable

    stored = model_store.find_reusable(book.store, book.location, model=who.unique_id, target_relation=who.target,
                                       fingerprint=fingerprint.digest)
    asked = refresh.requested(ledgermod.refresh_requests(book.store, book.location, _invocation_id()), who.name,
                              who.unique_id)
    decision = refresh.decide(settings.refresh, asked=asked, stored_at=stored.released_at if stored else None,
                              now=ledgermod._now())
    if decision.reuse:
        refuse_unservable(book, stored, settings.governance, who.name)   # expired or withdrawn: nothing charged
        return stored
    log.info(f"dpsynth: {who.name}: a new release (fingerprint {fingerprint.short}): {decision.reason}")
    return None


def _serve_stored_release(book, stored, settings, who: _Model, log, governance):
    """Re-sample the stored model with its stored seed (post-processing: no new privacy cost) and record a 'reused'
    ledger row; the same rows (watermarked with the same key: the same marked rows) as when it was released."""
    from . import model_store

    fitted = model_store.load(book.store, book.location, stored)
    progress = _progress_logger(log, who.name)
    progress("sample", {"rows": stored.rows, "reused_release": stored.release_id})
    seed = governance.sample_seed(stored.sample_seed)
    data, block = governance.finish(fitted.sample(stored.rows, seed), fitted, seed, stored.released_at)
    reuse = book.record_reuse(_release_request(settings, who), stored.release_id, stored.rows, stored.sample_seed,
                              governance=block)
    cap = f" of cap {reuse.cap_epsilon:g}" if reuse.cap_epsilon is not None else " (no cap)"
    log.info(f"dpsynth: {who.name}: reused release {stored.release_id} (fingerprint {stored.fingerprint[:12]} "
             f"unchanged, released {stored.released_at:%Y-%m-%d %H:%M:%S} UTC): {stored.rows} rows re-sampled from "
             f"its stored model; no new charge (budget_key {settings.budget_key!r} stays at composed epsilon="
             f"{reuse.cumulative_epsilon:.4g}{cap}). A data refresh upstream needs a new release: "
             f"--vars '{{dpsynth_refresh: [{who.name}]}}'.")
    return data, fitted.domain


def _release_with_ledger(book, engine, spec, settings, who: _Model, fingerprint, log, governance, evaluate=None,
                         synthesis_options=None):
    """Cap check + reservation (committed) -> synthesis (-> watermark and governance block -> `evaluate(release)`,
    whose result the record keeps under `evaluation`) -> released row + stored model (one transaction) or a failed
    row. Returns the Release."""
    from dpsynth_core import __version__ as core_version
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.measurement.guard import guarded
    from dpsynth_core.serialization import model_to_text

    from . import ledger as ledgermod
    from . import model_store

    synthesis = settings.synthesis
    if ledgermod.caps_in_force(book.store, book.location).get(settings.budget_key) is None:
        log.warning(f"dpsynth: budget_key {settings.budget_key!r} has never had a cap (var 'dpsynth_budgets'); this "
                    "release is recorded in the ledger but no cap limits the key's cumulative spend.")
    request = _release_request(settings, who)
    reservation = book.reserve(request)                   # cap in force; BudgetExceededError: nothing charged then
    cap = reservation.cap_epsilon
    log.info(f"dpsynth: reserved epsilon={synthesis.epsilon:g} (rho={request.rho:.4g}) on budget_key "
             f"{settings.budget_key!r} for {who.name}; cumulative epsilon={reservation.cumulative_epsilon:.4g}"
             + (f" of cap {cap:g}" if cap is not None else " (no cap)")
             + "".join(f"; {lv.level}: {lv.would_be:.4g} of {lv.cap:g}" for lv in (
                 reservation.decision.levels[1:] if reservation.decision else ())))
    # the seed the rows are sampled with is stored with the model, so a reuse serves the same rows
    sample_seed = synthesis.seed if synthesis.seed is not None else secrets.randbits(62)

    def release_and_evaluate():
        seed = governance.sample_seed(sample_seed)   # differs from sample_seed only under a watermark key
        release = synthesize_table(engine, spec, synthesis, progress=_progress_logger(log, who.name),
                                   sample_seed=seed, **(synthesis_options or {}))
        release.data, release.record.governance = governance.finish(release.data, release.model, seed,
                                                                    ledgermod._now())
        record = release.record.to_dict()
        if evaluate is not None:                 # the rows as released (watermarked) are what is evaluated
            record["evaluation"] = evaluate(release)
        return release, record

    try:
        # anything but our own errors leaves scrubbed (type and step only) towards dbt's log and console
        release, record = guarded(release_and_evaluate, step="release", table=who.source_id)
        stored = model_store.StoredModel(
            release_id=release.record.release_id, model=who.unique_id, target_relation=who.target,
            fingerprint=fingerprint.digest, fingerprint_json=fingerprint.document, generator=synthesis.generator,
            library_version=core_version, sample_seed=sample_seed, rows=len(release.data),
            state_text=model_to_text(release.model))
        release_id = book.finish_released(reservation, record, stored)
    except BaseException as err:
        book.finish_failed(reservation, err)     # the scrubbed text only (ledger.public_message)
        raise
    for warning in release.record.warnings:      # public (names and settings); also in the release record
        log.warning(f"dpsynth: {who.name}: {warning}")
    log.info(f"dpsynth: {who.name}: {release.record.summary()}; ledger {book.location.ledger} "
             f"release_id={release_id}")
    return release
