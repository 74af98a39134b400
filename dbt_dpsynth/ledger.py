"""Privacy-budget ledger: one warehouse row per release, checked and reserved BEFORE any private data is read.

Tables (same schema; created by the `dbt_dpsynth.on_run_start` hook, or here as a fallback for the CLI and for projects
that run without the package's hooks):

* `dpsynth_ledger`        one row per release attempt: status 'reserved' -> 'released' | 'failed'. Every row is
                          charged, whatever its status: once data may have been read, errors and logs are outputs too.
* `dpsynth_budget_caps`   caps (epsilon) per budget_key as the dbt var `dpsynth_budgets` said at the start of each
                          invocation, plus one marker row (budget_key NULL) that tells Python models where the hook
                          put the ledger.

Composition across releases is done in rho (zCDP adds rho; conversion deltas add), with
`dpsynth_core.accounting.composition.compose`, and reported both ways (composed epsilon and the plain sum).

Atomicity: DuckDB's snapshot isolation lets two concurrent appends both commit, so a cap check inside a transaction is
not enough on its own (write skew). A DuckDB file has one writing process, and dbt runs models as threads of that
process, so a process-wide lock around check-and-insert-and-commit serialises reservations; write-write conflicts
(catalog changes by other threads) are retried.

Columns: one list for this module and the on-run-start hook, `dbt_dpsynth/macros/dpsynth_warehouse_tables.sql`
(read here through `dbt_dpsynth.tables`); the DDL comes from it through the connection's `Dialect`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from dpsynth_core.accounting.composition import compose
from dpsynth_core.errors import BudgetExceededError, ConfigError, public_message
from dpsynth_core.measurement.engine import Dialect

from .engines import dialect as engine_dialect
from .tables import CAPS, LEDGER, LOCATIONS

LEDGER_TABLE = LEDGER.table
CAPS_TABLE = CAPS.table

# Every status is charged: a reservation whose job died, a failure after data was read, a release.
CHARGED_STATUSES = ("reserved", "released", "failed")
_CAP_TOLERANCE = 1e-9          # float round-off when a release lands exactly on its cap
_RETRIES = 8
_LOCK = threading.Lock()


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


def _is_retryable(err: Exception) -> bool:
    import duckdb

    return isinstance(err, duckdb.TransactionException) or "conflict" in str(err).lower()


def _in_transaction(con, work):
    """Run `work(con)` in BEGIN/COMMIT, retrying write-write conflicts with a short backoff."""
    for attempt in range(_RETRIES):
        con.execute("BEGIN TRANSACTION")
        try:
            result = work(con)
            con.execute("COMMIT")
            return result
        except Exception as err:  # noqa: BLE001 - rolled back and re-raised unless it is a retryable conflict
            try:
                con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a failed COMMIT has already ended the transaction
                pass
            if attempt + 1 < _RETRIES and _is_retryable(err):
                time.sleep(0.05 * (2 ** attempt))
                continue
            raise


def ensure_tables(con, location: LedgerLocation) -> None:
    """Create the ledger tables if missing (Python fallback of the `on_run_start` hook; idempotent)."""
    def work(c):
        c.execute(f"CREATE SCHEMA IF NOT EXISTS {location.schema_name}")
        for table, qualified in ((LEDGER, location.ledger), (CAPS, location.caps),
                                 (LOCATIONS, location.qualify(LOCATIONS.table))):
            c.execute(table.create_sql(location.dialect, qualified))

    with _LOCK:
        _in_transaction(con, work)


def locate(con, *, invocation_id: str | None, database: str | None, default_schema: str,
           explicit_schema: str | None = None) -> LedgerLocation:
    """Find the ledger for this dbt invocation.

    Order: an explicit `ledger_schema` setting; else the schema whose caps table has this invocation's marker row
    (written by the package's `on_run_start` hook, which knows `target.schema`); else the only existing ledger in the
    database; else `default_schema` (the tables are then created there).
    """
    if explicit_schema:
        return LedgerLocation(explicit_schema, database)
    catalog_filter = "AND table_catalog = ?" if database else ""
    params: list[Any] = [CAPS_TABLE] + ([database] if database else [])
    schemas = [r[0] for r in con.execute(
        f"SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = ? {catalog_filter} "
        "ORDER BY 1", params).fetchall()]
    if invocation_id:
        for schema in schemas:
            loc = LedgerLocation(schema, database)
            hit = con.execute(f"SELECT count(*) FROM {loc.caps} WHERE invocation_id = ?", [invocation_id]).fetchall()
            if hit[0][0]:
                return loc
    if len(schemas) == 1:
        return LedgerLocation(schemas[0], database)
    if len(schemas) > 1:
        if default_schema in schemas:
            return LedgerLocation(default_schema, database)
        raise ConfigError(f"found dpsynth ledgers in several schemas {schemas} and none is marked by this invocation.",
                          fix="set `ledger_schema` in the model's dpsynth config, or run through `dbt build/run` "
                              "so the package's on-run-start hook marks the ledger.")
    return LedgerLocation(default_schema, database)


def read_caps(con, location: LedgerLocation, invocation_id: str | None) -> dict[str, float] | None:
    """Caps recorded for this invocation by the `on_run_start` hook; None when the hook did not run."""
    if not invocation_id:
        return None
    rows = con.execute(f"SELECT budget_key, cap_epsilon FROM {location.caps} WHERE invocation_id = ?",
                       [invocation_id]).fetchall()
    if not rows:
        return None
    return {k: float(v) for k, v in rows if k is not None}


def record_caps(con, location: LedgerLocation, invocation_id: str, caps: Mapping[str, float]) -> None:
    """Python equivalent of the hook's cap recording (used by tests and by non-dbt callers)."""
    now = _now()
    rows = [(invocation_id, None, None, now)] + [(invocation_id, k, float(v), now) for k, v in caps.items()]

    def work(c):
        c.executemany(f"INSERT INTO {location.caps} VALUES (?, ?, ?, ?)", rows)

    with _LOCK:
        _in_transaction(con, work)


def validate_caps(caps: Mapping[str, Any] | None, *, where: str) -> dict[str, float]:
    """`{budget_key: epsilon cap}` with positive finite caps; errors name the key and the fix."""
    out: dict[str, float] = {}
    if caps is None:
        return out
    if not isinstance(caps, Mapping):
        raise ConfigError(f"budget caps from {where} must be a mapping {{budget_key: epsilon}}, got {caps!r}.",
                          fix="write e.g. `vars: {dpsynth_budgets: {patients: 3.0}}` in dbt_project.yml.")
    for key, value in caps.items():
        try:
            cap = float(value)
        except (TypeError, ValueError):
            cap = math.nan
        if not (cap > 0 and math.isfinite(cap)):
            raise ConfigError(f"budget cap for key {key!r} from {where} is {value!r}; it must be a positive number "
                              f"(epsilon).", fix=f"write `{key}: 3.0` under dpsynth_budgets.")
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

    def composition_entry(self) -> dict[str, Any]:
        return {"rho": self.rho, "delta": self.delta, "delta_conversion": self.delta_conversion,
                "epsilon": self.epsilon, "accountant": self.accountant, "epsilon_other": self.epsilon_other}


@dataclass(frozen=True)
class Reservation:
    release_id: str
    request: ReleaseRequest
    cap_epsilon: float | None
    cumulative_epsilon: float
    cumulative_epsilon_naive: float
    cumulative_rho: float


class Ledger:
    """Ledger I/O on one DuckDB connection (use a dedicated cursor: each call commits on its own)."""

    def __init__(self, con, location: LedgerLocation):
        self.con = con
        self.location = location

    def charged(self, budget_key: str) -> list[dict[str, Any]]:
        """Every charged row of `budget_key` (all statuses count), as composition entries."""
        return self._charged(self.con, budget_key)

    def _charged(self, con, budget_key: str) -> list[dict[str, Any]]:
        marks = ", ".join("?" for _ in CHARGED_STATUSES)
        rows = con.execute(
            f"SELECT rho, delta, delta_conversion, epsilon, accountant, epsilon_other FROM {self.location.ledger} "
            f"WHERE budget_key = ? AND status IN ({marks})", [budget_key, *CHARGED_STATUSES]).fetchall()
        keys = ("rho", "delta", "delta_conversion", "epsilon", "accountant", "epsilon_other")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def reserve(self, request: ReleaseRequest, cap_epsilon: float | None) -> Reservation:
        """Check the cap and insert a 'reserved' row in one serialised transaction.

        Raises BudgetExceededError (and writes nothing) when composing the key's charged releases with this request
        exceeds `cap_epsilon`. Without a cap (or without a budget_key) the row is recorded and nothing is refused.
        """
        release_id = str(uuid.uuid4())

        def work(c) -> Reservation:
            prior = self._charged(c, request.budget_key) if request.budget_key else []
            spent = compose(prior)
            total = compose(prior + [request.composition_entry()])
            if cap_epsilon is not None and total.epsilon > cap_epsilon * (1 + _CAP_TOLERANCE):
                raise BudgetExceededError(request.budget_key, spent.epsilon, request.epsilon, cap_epsilon,
                                          total.epsilon)
            res = Reservation(release_id, request, cap_epsilon, total.epsilon, total.epsilon_naive_sum, total.rho)
            self._insert(c, res)
            return res

        with _LOCK:
            return _in_transaction(self.con, work)

    def _insert(self, con, res: Reservation) -> None:
        r = res.request
        values = {
            "release_id": res.release_id, "source_relation": r.source_relation, "model": r.model,
            "target_relation": r.target_relation, "budget_key": r.budget_key, "generator": r.generator,
            "epsilon": r.epsilon, "delta": r.delta, "delta_conversion": r.delta_conversion, "rho": r.rho,
            "epsilon_other": r.epsilon_other, "accountant": r.accountant, "cap_epsilon": res.cap_epsilon,
            "cumulative_epsilon": res.cumulative_epsilon,
            "cumulative_epsilon_naive": res.cumulative_epsilon_naive, "cumulative_rho": res.cumulative_rho,
            "spend_json": None, "record_json": None, "rows": r.rows, "seed": r.seed, "invocation_id": r.invocation_id,
            "started_at": _now(), "finished_at": None, "status": "reserved", "error": None,
        }
        names = LEDGER.names
        quote = self.location.quote
        con.execute(f"INSERT INTO {self.location.ledger} ({', '.join(quote(n) for n in names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})", [values[n] for n in names])

    def finish_released(self, reservation: Reservation, record: Mapping[str, Any]) -> str:
        """Mark the reservation released with the record's spend breakdown; returns the release id kept.

        The charge stays the reserved rho (the release's whole allocation), even if a step spent less.
        """
        release_id = str(record.get("release_id") or reservation.release_id)
        rows = record.get("rows")
        self._update(reservation.release_id, {
            "release_id": release_id, "status": "released", "finished_at": _now(),
            "spend_json": json.dumps(record.get("spend", []), default=str),
            "record_json": json.dumps(dict(record), default=str),
            "rows": int(rows) if rows is not None else None,
            "accountant": record.get("accountant") or reservation.request.accountant,
        })
        return release_id

    def finish_failed(self, reservation: Reservation, error: BaseException | str) -> None:
        """Mark the reservation failed; it stays charged (data may have been read). The `error` column gets the
        scrubbed text only (`public_message`: our own messages, else the exception's type — never a value)."""
        message = error if isinstance(error, str) else public_message(error)
        self._update(reservation.release_id, {"status": "failed", "finished_at": _now(), "error": message[:4000]})

    def _update(self, release_id: str, values: Mapping[str, Any]) -> None:
        sets = ", ".join(f"{self.location.quote(k)} = ?" for k in values)

        def work(c):
            c.execute(f"UPDATE {self.location.ledger} SET {sets} WHERE release_id = ?", [*values.values(), release_id])

        with _LOCK:
            _in_transaction(self.con, work)

    def rows_for(self, columns: Sequence[str] = ("release_id", "budget_key", "status", "epsilon", "rho")
                 ) -> list[tuple]:
        names = ", ".join(self.location.quote(c) for c in columns)
        return self.con.execute(f"SELECT {names} FROM {self.location.ledger} ORDER BY started_at").fetchall()
