"""Privacy-budget ledger: one warehouse row per release, checked and reserved BEFORE any private data is read.

Tables (same schema; created by the `dbt_dpsynth.on_run_start` hook, or here as a fallback for the CLI and for projects
that run without the package's hooks):

* `dpsynth_ledger`        one row per release attempt: status 'reserved' -> 'released' | 'failed'. Every such row is
                          charged, whatever its status: once data may have been read, errors and logs are outputs too.
                          A 'reused' row records that a stored release was re-materialised (same release_id as the
                          released row it serves, zero epsilon): never charged, never composed.
* `dpsynth_budget_caps`   the caps history: one row each time a key's cap (epsilon) or budget policy is set or
                          changed (by the var `dpsynth_budgets` at the start of an invocation, or a model config), with
                          the previous cap, the source and who; `policy_json` holds the key's policy when it is more
                          than a lifetime cap (windows, release types: `dpsynth_core.accounting.policy`). The newest
                          row of a key is its cap and policy in force; a key never loses them because an invocation
                          does not name it (`caps_in_force`, `policies_in_force`).
* `dpsynth_invocations`   one row per invocation that ran the hook: Python models find the ledger by it and read the
                          vars they cannot see (`dpsynth_refresh`).
* `dpsynth_models`        the fitted model of each release (`dbt_dpsynth.model_store`), written in the same
                          transaction that marks the ledger row released.
* `dpsynth_approvals`     append-only approvals of releases (`dbt_dpsynth.approvals`).

Governance events are ledger rows too, never charged: 'published' (a `dpsynth_release` model now carries a release),
'dropped' (an expired release's table was dropped by `dpsynth_drop_expired`) and 'withdrawn' (a release withdrawn by
`dpsynth_withdraw`: its tables dropped, and it is never served again).

Composition across releases is done in rho (zCDP adds rho; conversion deltas add), with
`dpsynth_core.accounting.composition.compose`, and reported both ways (composed epsilon and the plain sum).

I/O goes through a warehouse store (`dbt_dpsynth.stores`): every function takes a DB-API connection (DuckDB: the CLI,
dbt-duckdb) or a Snowpark Session (dbt-snowflake), or a store (`store_for`). No SQL text is written here.

Atomicity: the cap check and the reserved row are one `WarehouseStore.serialised` step, so no other reservation
interleaves with them (DuckDB: a process-wide lock around BEGIN ... COMMIT, because snapshot isolation alone admits
write skew; Snowflake: a transaction holding the lock table's lock; see `stores/sql.py` and `stores/snowpark.py`).

Columns: one list for this module and the on-run-start hook, `dbt_dpsynth/macros/dpsynth_warehouse_tables.sql`
(read here through `dbt_dpsynth.tables`); the DDL comes from it through the connection's `Dialect`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dpsynth_core.accounting.composition import compose
from dpsynth_core.accounting.policy import BudgetPolicy, Charge, evaluate_policy, refusal_error
from dpsynth_core.errors import BudgetExceededError, ConfigError, public_message
from dpsynth_core.measurement.engine import Dialect

from .engines import dialect as engine_dialect
from .stores import NOT_NULL, store_for
from .tables import APPROVALS, CAPS, INVOCATIONS, LEDGER, LOCATIONS, MODELS

LEDGER_TABLE = LEDGER.table
CAPS_TABLE = CAPS.table
INVOCATIONS_TABLE = INVOCATIONS.table
MODELS_TABLE = MODELS.table
APPROVALS_TABLE = APPROVALS.table

# Every status of a release attempt is charged: a reservation whose job died, a failure after data was read, a release.
CHARGED_STATUSES = ("reserved", "released", "failed")
# A stored release re-materialised without reading the source: recorded, not charged.
REUSED_STATUS = "reused"
# Governance events (never charged): a released model now carries a release; an expired release's table was dropped.
PUBLISHED_STATUS = "published"
DROPPED_STATUS = "dropped"
WITHDRAWN_STATUS = "withdrawn"    # a release withdrawn (`dpsynth_withdraw`): its tables dropped, never served again
EVENT_STATUSES = (PUBLISHED_STATUS, DROPPED_STATUS, WITHDRAWN_STATUS)
# `Ledger.reserve(request)` without an explicit cap reads the key's cap in force inside the reservation transaction.
CAP_IN_FORCE = object()
# what composition and the policy read of a charged ledger row
_CHARGE_KEYS = ("rho", "delta", "delta_conversion", "epsilon", "accountant", "epsilon_other", "started_at",
                "release_type")
_CAP_TOLERANCE = 1e-9          # float round-off when a release lands exactly on its cap


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def _duckdb_dialect() -> Dialect:
    return engine_dialect("duckdb")


@dataclass(frozen=True)
class LedgerLocation:
    """Where the ledger tables live: `database.schema` (database None = the connection's default).

    `dialect` quotes names and writes the DDL (the ledger is kept on a DuckDB connection today).
    """

    schema: str
    database: str | None = None
    dialect: Dialect = field(default_factory=_duckdb_dialect, compare=False, repr=False)

    def quote(self, identifier: str) -> str:
        return self.dialect.quote(identifier)

    def qualify(self, table: str) -> str:
        parts = ([self.database] if self.database else []) + [self.schema, table]
        return ".".join(self.quote(p) for p in parts)

    @property
    def schema_name(self) -> str:
        """`database.schema`, quoted."""
        return ".".join(self.quote(p) for p in ([self.database] if self.database else []) + [self.schema])

    @property
    def ledger(self) -> str:
        return self.qualify(LEDGER_TABLE)

    @property
    def caps(self) -> str:
        return self.qualify(CAPS_TABLE)

    @property
    def invocations(self) -> str:
        return self.qualify(INVOCATIONS_TABLE)

    @property
    def models(self) -> str:
        return self.qualify(MODELS_TABLE)

    @property
    def approvals(self) -> str:
        return self.qualify(APPROVALS_TABLE)


def governance_columns(governance: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ledger's governance columns from a governance block (`dpsynth_core.governance.Governance.to_record`)."""
    if not governance:
        return {}
    mark = governance.get("watermark") or {}
    expires = governance.get("expires_at")
    return {"release_type": governance.get("release_type"),
            "expires_at": _dt.datetime.fromisoformat(str(expires)) if expires else None,
            "governance_json": json.dumps(dict(governance), sort_keys=True, default=str),
            "watermark_fingerprint": mark.get("key_fingerprint")}


def _columns_of(con, location: LedgerLocation, table: str) -> set[str]:
    return store_for(con).columns_of(location, table)


def ensure_tables(con, location: LedgerLocation) -> None:
    """Create the ledger tables if missing and add the columns an older version's tables lack (Python fallback of
    the `on_run_start` hook; idempotent)."""
    store = store_for(con)
    for table in (LEDGER, CAPS, INVOCATIONS, MODELS, LOCATIONS, APPROVALS):
        store.ensure_table(location, table)


def locate(con, *, invocation_id: str | None, database: str | None, default_schema: str,
           explicit_schema: str | None = None) -> LedgerLocation:
    """Find the ledger for this dbt invocation.

    Order: an explicit `ledger_schema` setting; else the schema whose invocations table has this invocation's row
    (written by the package's `on_run_start` hook, which knows `target.schema`); else the only existing ledger in the
    database; else `default_schema` (the tables are then created there).
    """
    if explicit_schema:
        return LedgerLocation(explicit_schema, database)
    schemas = _schemas_with(con, LEDGER_TABLE, database)
    if invocation_id:
        for schema in _schemas_with(con, INVOCATIONS_TABLE, database):
            if invocation_recorded(con, LedgerLocation(schema, database), invocation_id):
                return LedgerLocation(schema, database)
    if len(schemas) == 1:
        return LedgerLocation(schemas[0], database)
    if len(schemas) > 1:
        if default_schema in schemas:
            return LedgerLocation(default_schema, database)
        raise ConfigError(f"found dpsynth ledgers in several schemas {schemas} and none is marked by this invocation.",
                          fix="set `ledger_schema` in the model's dpsynth config, or run through `dbt build/run` "
                              "so the package's on-run-start hook marks the ledger.")
    return LedgerLocation(default_schema, database)


def _schemas_with(con, table: str, database: str | None) -> list[str]:
    return store_for(con).schemas_with(table, database)


def _has_table(con, location: LedgerLocation, table: str) -> bool:
    return store_for(con).has_table(location, table)


def invocation_recorded(con, location: LedgerLocation, invocation_id: str | None) -> bool:
    """Whether the package's on-run-start hook (or `record_invocation`) recorded this invocation here."""
    if not invocation_id or not _has_table(con, location, INVOCATIONS_TABLE):
        return False
    return bool(store_for(con).select(location, INVOCATIONS_TABLE, ["invocation_id"], {"invocation_id": invocation_id},
                                      limit=1))


def record_invocation(con, location: LedgerLocation, invocation_id: str, refresh: Sequence[str] = (),
                      recorded_by: str | None = None) -> None:
    """Python equivalent of the hook's invocation row (tests, non-dbt callers): id, time, who, `dpsynth_refresh`."""
    row = {"invocation_id": invocation_id, "started_at": _now(), "recorded_by": recorded_by,
           "refresh_json": json.dumps(list(refresh))}
    store_for(con).serialised(lambda s: s.insert(location, INVOCATIONS, [row]), location)


def refresh_requests(con, location: LedgerLocation, invocation_id: str | None) -> list[str]:
    """The model names var `dpsynth_refresh` listed for this invocation ('*' = every model); [] when none."""
    if not invocation_recorded(con, location, invocation_id):
        return []
    out: list[str] = []
    for (text,) in store_for(con).select(location, INVOCATIONS_TABLE, ["refresh_json"],
                                         {"invocation_id": invocation_id}):
        out += [str(n) for n in json.loads(text or "[]")]
    return out


@dataclass(frozen=True)
class CapChange:
    """One row of the caps history: `budget_key` got `cap_epsilon` (was `previous_cap_epsilon`) at `recorded_at`."""

    budget_key: str
    cap_epsilon: float
    previous_cap_epsilon: float | None
    recorded_at: _dt.datetime | None
    source: str | None
    recorded_by: str | None
    invocation_id: str | None
    policy_json: str | None = None      # the key's policy when it is more than a lifetime cap (raw, as configured)

    @property
    def policy(self) -> BudgetPolicy:
        """The policy this row put in force (ConfigError when a stored policy no longer validates)."""
        if self.policy_json:
            return BudgetPolicy.from_dict(self.budget_key, json.loads(self.policy_json))
        return BudgetPolicy(self.budget_key, self.cap_epsilon)


def cap_history(con, location: LedgerLocation) -> list[CapChange]:
    """Every recorded cap change, oldest first."""
    if not _has_table(con, location, CAPS_TABLE):
        return []
    store = store_for(con)
    have = store.columns_of(location, CAPS_TABLE)   # a caps table an older version made lacks the optional columns
    names = ["budget_key", "cap_epsilon", "previous_cap_epsilon", "source", "recorded_by", "policy_json",
             "recorded_at", "invocation_id"]
    present = [n for n in names if n in have]
    rows = store.select(location, CAPS_TABLE, present, {"budget_key": NOT_NULL, "cap_epsilon": NOT_NULL},
                        order_by=["recorded_at"])
    full = [dict(zip(present, r, strict=True)) for r in rows]
    return [CapChange(str(r["budget_key"]), float(r["cap_epsilon"]),
                      None if r.get("previous_cap_epsilon") is None else float(r["previous_cap_epsilon"]),
                      r.get("recorded_at"), r.get("source"), r.get("recorded_by"), r.get("invocation_id"),
                      r.get("policy_json")) for r in full]


def _ledger_caps(con, location: LedgerLocation) -> list[tuple[str, float]]:
    """(budget_key, cap) of every ledger row that carries a cap, oldest first."""
    if not _has_table(con, location, LEDGER_TABLE):
        return []
    rows = store_for(con).select(location, LEDGER_TABLE, ["budget_key", "cap_epsilon"],
                                 {"budget_key": NOT_NULL, "cap_epsilon": NOT_NULL}, order_by=["started_at"])
    return [(str(k), float(c)) for k, c in rows]


def caps_in_force(con, location: LedgerLocation) -> dict[str, float]:
    """`{budget_key: cap}`: each key's newest cap in the caps history. A key with no history row but a cap on one of
    its ledger rows (a release capped by an older version, or by a config the history never saw) keeps that cap: a
    key that has ever had a cap is never treated as uncapped."""
    caps: dict[str, float] = {}
    for key, cap in _ledger_caps(con, location):
        caps[key] = cap
    for change in cap_history(con, location):
        caps[change.budget_key] = change.cap_epsilon   # later rows win
    return caps


def policies_in_force(con, location: LedgerLocation) -> dict[str, BudgetPolicy]:
    """`{budget_key: BudgetPolicy}` in force, by the same rules as `caps_in_force`: the key's newest caps-history row
    (its `policy_json`, or a lifetime cap when it has none), else the newest cap on one of its ledger rows. A key that
    has ever had a policy keeps it until a later row for that key replaces it."""
    policies: dict[str, BudgetPolicy] = {}
    for key, cap in _ledger_caps(con, location):
        policies[key] = BudgetPolicy(key, cap)
    for change in cap_history(con, location):
        policies[change.budget_key] = change.policy   # later rows win
    return policies


def read_caps(con, location: LedgerLocation, invocation_id: str | None) -> dict[str, float] | None:
    """The caps in force, or None when the package's hook did not record this invocation (then a model config's
    caps are recorded first, see `dbt_dpsynth.synthesize`)."""
    if not invocation_recorded(con, location, invocation_id):
        return None
    return caps_in_force(con, location)


def _policy_of(key: str, value: Any) -> tuple[BudgetPolicy, str | None]:
    """(validated policy, the JSON to store in `policy_json`: None for a plain lifetime cap)."""
    if isinstance(value, BudgetPolicy):
        policy = value
    else:
        policy = BudgetPolicy.parse(key, dict(value) if isinstance(value, Mapping) else value)
    plain = not policy.windows and not policy.release_types
    return policy, None if plain else json.dumps(policy.to_dict(), sort_keys=True)


def record_caps(con, location: LedgerLocation, invocation_id: str | None, caps: Mapping[str, Any], *,
                source: str = "record_caps", recorded_by: str | None = None) -> list[CapChange]:
    """Record in the caps history each key of `caps` whose cap or policy is new or differs from the one in force (the
    hook does the same for var `dpsynth_budgets`). A value is a lifetime cap (a number), a policy mapping or a
    `BudgetPolicy`. Keys not named keep their caps and policies. Returns the changes written."""
    parsed = {str(k): _policy_of(str(k), v) for k, v in caps.items()}

    def work(c) -> list[CapChange]:
        in_force = policies_in_force(c, location)
        now = _now()
        changes = []
        for key, (policy, text) in parsed.items():
            old = in_force.get(key)
            if old is None or old.to_dict() != policy.to_dict():
                changes.append(CapChange(key, policy.lifetime, old.lifetime if old else None, now, source,
                                         recorded_by, invocation_id, text))
        c.insert(location, CAPS, [{f.name: getattr(ch, f.name) for f in dataclasses.fields(ch)}
                                  for ch in changes])
        return changes

    return store_for(con).serialised(work, location)


def validate_caps(caps: Mapping[str, Any] | None, *, where: str) -> dict[str, Any]:
    """`{budget_key: epsilon cap or policy mapping}`, each checked (`BudgetPolicy.parse`: positive finite caps, a
    known policy vocabulary); errors name the key and the fix. Plain numbers come back as floats."""
    out: dict[str, Any] = {}
    if caps is None:
        return out
    if not isinstance(caps, Mapping):
        raise ConfigError(f"budget caps from {where} must be a mapping {{budget_key: epsilon}}, got {caps!r}.",
                          fix="write e.g. `vars: {dpsynth_budgets: {patients: 3.0}}` in dbt_project.yml.")
    for key, value in caps.items():
        if isinstance(value, Mapping):
            BudgetPolicy.parse(str(key), value, where=where)
            out[str(key)] = dict(value)
            continue
        try:
            cap = float(value)
        except (TypeError, ValueError):
            cap = math.nan
        if isinstance(value, bool) or not (cap > 0 and math.isfinite(cap)):
            raise ConfigError(f"budget cap for key {key!r} from {where} is {value!r}; it must be a positive number "
                              f"(epsilon) or a policy mapping.", fix=f"write `{key}: 3.0` (or `{key}: {{lifetime: "
                              f"3.0, per_quarter: 1}}`) under dpsynth_budgets.")
        out[str(key)] = cap
    return out


@dataclass(frozen=True)
class ReleaseRequest:
    """What a release asks for, known before any data is read."""

    source_relation: str
    model: str | None
    target_relation: str | None
    budget_key: str | None
    generator: str
    epsilon: float
    delta: float
    delta_conversion: float
    rho: float
    accountant: str
    seed: int | None
    rows: int | None
    invocation_id: str | None

    epsilon_other: float = 0.0   # the part accounted outside zCDP (DP-SGD), composed basically
    release_type: str | None = None   # the model's `release_type` (per-release caps of the key's policy)

    def composition_entry(self) -> dict[str, Any]:
        return {"rho": self.rho, "delta": self.delta, "delta_conversion": self.delta_conversion,
                "epsilon": self.epsilon, "accountant": self.accountant, "epsilon_other": self.epsilon_other}

    def charge(self) -> Charge:
        """This request as a policy `Charge` (charged now)."""
        return Charge(epsilon=self.epsilon, rho=self.rho, delta=self.delta, delta_conversion=self.delta_conversion,
                      epsilon_other=self.epsilon_other, accountant=self.accountant, release_type=self.release_type)


@dataclass(frozen=True)
class Reservation:
    release_id: str
    request: ReleaseRequest
    cap_epsilon: float | None
    cumulative_epsilon: float
    cumulative_epsilon_naive: float
    cumulative_rho: float
    decision: Any = None          # the policy decision (`PolicyDecision`: every level's numbers), None without a cap


@dataclass(frozen=True)
class Reuse:
    """A recorded reuse: the release served, the key's cap in force and its composed spend (both unchanged)."""

    release_id: str
    cap_epsilon: float | None
    cumulative_epsilon: float


class Ledger:
    """Ledger I/O on one warehouse session (a DuckDB connection: use a dedicated cursor, each call commits on its own;
    a Snowpark Session; or a store). `con` is what was passed, `store` the warehouse store on it."""

    def __init__(self, con, location: LedgerLocation):
        self.store = store_for(con)
        self.con = self.store.session   # the raw connection or Session (reports and tests read through it)
        self.location = location

    def charged(self, budget_key: str) -> list[dict[str, Any]]:
        """Every charged row of `budget_key` (all statuses count), as composition entries."""
        return self._charged(self.store, budget_key)

    def _charged(self, con, budget_key: str) -> list[dict[str, Any]]:
        rows = store_for(con).select(self.location, LEDGER_TABLE, _CHARGE_KEYS,
                                     {"budget_key": budget_key, "status": CHARGED_STATUSES})
        return [dict(zip(_CHARGE_KEYS, r, strict=True)) for r in rows]

    def _policy(self, con, budget_key: str | None, cap_epsilon: Any) -> BudgetPolicy | None:
        if not budget_key:
            return None
        if cap_epsilon is CAP_IN_FORCE:
            return policies_in_force(con, self.location).get(budget_key)
        return None if cap_epsilon is None else BudgetPolicy(budget_key, float(cap_epsilon))

    def reserve(self, request: ReleaseRequest, cap_epsilon: Any = CAP_IN_FORCE) -> Reservation:
        """Check the key's budget policy and insert a 'reserved' row in one serialised transaction.

        Args:
            request: what the release asks for (its `release_type` picks the policy's per-release caps).
            cap_epsilon: a lifetime cap to check against instead; default: the key's policy in force
                (`policies_in_force`: lifetime cap, windows, release types), read inside the same transaction, so a
                cap recorded, or a window filled, by a concurrent model is seen.
        Raises BudgetExceededError (and writes nothing) when composing the key's charged releases with this request
        exceeds the lifetime cap (the message as before), BudgetPolicyExceededError (a subclass) when a window or a
        release-type cap refuses, ConfigError when the policy declares release types and the request's is missing or
        unknown. Without a cap (or without a budget_key) the row is recorded and nothing is refused.
        """
        release_id = str(uuid.uuid4())

        def work(c) -> Reservation:
            policy = self._policy(c, request.budget_key, cap_epsilon)
            prior = self._charged(c, request.budget_key) if request.budget_key else []
            spent = compose(prior)
            total = compose(prior + [request.composition_entry()])
            decision = None
            if policy is not None:
                decision = evaluate_policy(policy, prior, request.charge(), _now())
                if not decision.lifetime.allowed:   # the lifetime cap: the same refusal as before policies existed
                    raise BudgetExceededError(request.budget_key, spent.epsilon, request.epsilon, policy.lifetime,
                                              total.epsilon)
                if not decision.allowed:
                    raise refusal_error(decision)
            res = Reservation(release_id, request, policy.lifetime if policy else None, total.epsilon,
                              total.epsilon_naive_sum, total.rho, decision)
            self._insert(c, res)
            return res

        return self.store.serialised(work, self.location)

    def _insert(self, con, res: Reservation) -> None:
        r = res.request
        self._insert_row(con, {
            "release_id": res.release_id, "source_relation": r.source_relation, "model": r.model,
            "target_relation": r.target_relation, "budget_key": r.budget_key, "generator": r.generator,
            "epsilon": r.epsilon, "delta": r.delta, "delta_conversion": r.delta_conversion, "rho": r.rho,
            "epsilon_other": r.epsilon_other, "accountant": r.accountant, "cap_epsilon": res.cap_epsilon,
            "cumulative_epsilon": res.cumulative_epsilon,
            "cumulative_epsilon_naive": res.cumulative_epsilon_naive, "cumulative_rho": res.cumulative_rho,
            "spend_json": None, "record_json": None, "rows": r.rows, "seed": r.seed, "invocation_id": r.invocation_id,
            "started_at": _now(), "finished_at": None, "status": "reserved", "error": None,
            "release_type": r.release_type,
        })

    def _insert_row(self, con, values: Mapping[str, Any]) -> None:
        store_for(con).insert(self.location, LEDGER, [values])

    def finish_released(self, reservation: Reservation, record: Mapping[str, Any], stored_model=None) -> str:
        """Mark the reservation released with the record's spend breakdown; returns the release id kept.

        Args:
            reservation: the 'reserved' row.
            record: the release record (`ReleaseRecord.to_dict()`).
            stored_model: the fitted model to keep for reuse (`model_store.StoredModel`); it is inserted in the SAME
                transaction as the update, so a model row exists exactly when its ledger row is released.
        The charge stays the reserved rho (the release's whole allocation), even if a step spent less.
        """
        from . import model_store

        release_id = str(record.get("release_id") or reservation.release_id)
        rows = record.get("rows")
        values = {
            "release_id": release_id, "status": "released", "finished_at": _now(),
            "spend_json": json.dumps(record.get("spend", []), default=str),
            "record_json": json.dumps(dict(record), default=str),
            "rows": int(rows) if rows is not None else None,
            "accountant": record.get("accountant") or reservation.request.accountant,
            **governance_columns(record.get("governance")),
        }

        def work(c):
            if stored_model is not None:
                model_store.insert(c, self.location, stored_model)
            c.update(self.location, LEDGER_TABLE, values, {"release_id": reservation.release_id})

        self.store.serialised(work, self.location)
        return release_id

    def record_reuse(self, request: ReleaseRequest, release_id: str, rows: int, sample_seed: int | None,
                     governance: Mapping[str, Any] | None = None) -> Reuse:
        """Record that stored release `release_id` was re-materialised for `request` without reading the source: a
        'reused' row with the same release_id, zero epsilon/delta/rho, and the key's cap and composed spend as they
        stand (unchanged by this row: 'reused' is not a charged status). `governance` is the block in force for this
        row (`Governance.to_record`: terms, expiry, watermark fingerprint).

        A reuse is not charged, so windows do not apply; but when the request's `release_type` differs from the one
        the stored release was made under, the stored release's epsilon and delta are checked against the new type's
        per-release caps (BudgetPolicyExceededError / ConfigError, nothing written): relabelling a release never
        passes a cap it would not have passed."""
        def work(c) -> Reuse:
            policy = self._policy(c, request.budget_key, CAP_IN_FORCE)
            cap = policy.lifetime if policy else None
            prior = self._charged(c, request.budget_key) if request.budget_key else []
            total = compose(prior)
            self._check_relabel(c, policy, request, release_id)
            now = _now()
            r = request
            self._insert_row(c, {
                "release_id": release_id, "source_relation": r.source_relation, "model": r.model,
                "target_relation": r.target_relation, "budget_key": r.budget_key, "generator": r.generator,
                "epsilon": 0.0, "delta": 0.0, "delta_conversion": 0.0, "rho": 0.0, "epsilon_other": 0.0,
                "accountant": r.accountant, "cap_epsilon": cap, "cumulative_epsilon": total.epsilon,
                "cumulative_epsilon_naive": total.epsilon_naive_sum, "cumulative_rho": total.rho,
                "rows": int(rows), "seed": sample_seed, "invocation_id": r.invocation_id, "started_at": now,
                "finished_at": now, "status": REUSED_STATUS, "release_type": r.release_type,
                **governance_columns(governance),
            })
            return Reuse(release_id, cap, total.epsilon)

        return self.store.serialised(work, self.location)

    def _check_relabel(self, con, policy: BudgetPolicy | None, request: ReleaseRequest, release_id: str) -> None:
        """Per-release caps of the new release type for a stored release served under another type."""
        rows = store_for(con).select(self.location, LEDGER_TABLE, _CHARGE_KEYS,
                                     {"release_id": release_id, "status": "released"})
        if policy is None or not rows or rows[0][7] == request.release_type:
            return
        stored = dict(zip(_CHARGE_KEYS, rows[0], strict=True))
        stored["release_type"] = request.release_type
        decision = evaluate_policy(policy, [], stored, _now())
        refused = tuple(lv for lv in decision.refusals if lv.level.startswith("release_type"))
        if refused:   # only the per-release caps: a reuse charges nothing, so windows and the lifetime do not apply
            lifetime = dataclasses.replace(decision.lifetime, allowed=True)
            raise refusal_error(dataclasses.replace(decision, levels=(lifetime, *refused)))

    def record_event(self, status: str, release_id: str, *, model: str | None, target_relation: str | None,
                     budget_key: str | None = None, note: str | None = None,
                     governance: Mapping[str, Any] | None = None) -> None:
        """Append a governance event row (EVENT_STATUSES): zero epsilon, never charged."""
        if status not in EVENT_STATUSES:
            raise ValueError(f"not a governance event: {status!r}")

        def work(c):
            now = _now()
            self._insert_row(c, {"release_id": release_id, "model": model, "target_relation": target_relation,
                                 "budget_key": budget_key, "epsilon": 0.0, "delta": 0.0, "delta_conversion": 0.0,
                                 "rho": 0.0, "epsilon_other": 0.0, "started_at": now, "finished_at": now,
                                 "status": status, "error": note, **governance_columns(governance)})

        self.store.serialised(work, self.location)

    def finish_failed(self, reservation: Reservation, error: BaseException | str) -> None:
        """Mark the reservation failed; it stays charged (data may have been read). The `error` column gets the
        scrubbed text only (`public_message`: our own messages, else the exception's type — never a value)."""
        message = error if isinstance(error, str) else public_message(error)
        self._update(reservation.release_id, {"status": "failed", "finished_at": _now(), "error": message[:4000]})

    def _update(self, release_id: str, values: Mapping[str, Any]) -> None:
        self.store.serialised(lambda c: c.update(self.location, LEDGER_TABLE, values, {"release_id": release_id}),
                              self.location)

    def rows_for(self, columns: Sequence[str] = ("release_id", "budget_key", "status", "epsilon", "rho")
                 ) -> list[tuple]:
        return self.store.select(self.location, LEDGER_TABLE, list(columns), order_by=["started_at"])
