"""`SqlStore`: the warehouse store on a DB-API connection (DuckDB: the CLI, dbt-duckdb), parameterised SQL.

Serialisation: DuckDB's snapshot isolation lets two concurrent appends both commit, so a cap check inside a
transaction is not enough on its own (write skew). A DuckDB file has one writing process, and dbt runs models as
threads of that process, so a process-wide lock around BEGIN ... COMMIT serialises every `serialised` step;
write-write conflicts (catalog changes by other threads) are retried with a short backoff.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Mapping, Sequence, TypeVar

from ..engines import dialect as engine_dialect
from ..tables import WarehouseTable
from .base import NOT_NULL, WarehouseStore, Where

T = TypeVar("T")
_RETRIES = 8
_LOCK = threading.Lock()     # one per process: see the module docstring


def _is_retryable(err: Exception) -> bool:
    import duckdb

    return isinstance(err, duckdb.TransactionException) or "conflict" in str(err).lower()


def in_transaction(con, work: Callable[[Any], T]) -> T:
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
    raise AssertionError("unreachable")


def _conditions(location, where: Where | None) -> tuple[str, list[Any]]:
    """(` WHERE ...` or "", parameters) for a store filter."""
    terms, params = [], []
    for column, value in (where or {}).items():
        name = location.quote(column)
        if value is None:
            terms.append(f"{name} IS NULL")
        elif value is NOT_NULL:
            terms.append(f"{name} IS NOT NULL")
        elif isinstance(value, tuple):
            terms.append(f"{name} IN ({', '.join('?' for _ in value)})")
            params += list(value)
        else:
            terms.append(f"{name} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(terms) if terms else ""), params


class SqlStore(WarehouseStore):
    """Store on a DB-API connection (`execute(sql, params)`, `fetchall()`); DuckDB SQL.

    Args:
        con: the connection (a dedicated cursor: each `serialised` step commits on its own).
        owned: close `con` in `close()` (True when `open_store` made the cursor).
    """

    def __init__(self, con, owned: bool = False):
        self.session = con
        self.con = con
        self.owned = owned
        self.dialect = engine_dialect("duckdb")

    def schemas_with(self, table: str, database: str | None) -> list[str]:
        catalog = "AND table_catalog = ?" if database else ""
        return [r[0] for r in self.con.execute(
            f"SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = ? {catalog} ORDER BY 1",
            [table] + ([database] if database else [])).fetchall()]

    def has_table(self, location, table: str) -> bool:
        return location.schema in self.schemas_with(table, location.database)

    def columns_of(self, location, table: str) -> set[str]:
        catalog = "AND table_catalog = ?" if location.database else ""
        rows = self.con.execute(
            f"SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? {catalog}",
            [location.schema, table] + ([location.database] if location.database else []))
        return {str(r[0]).lower() for r in rows.fetchall()}

    def ensure_table(self, location, table: WarehouseTable, name: str | None = None, comment: str | None = None
                     ) -> None:
        name = name or table.table
        qualified = location.qualify(name)

        def create(con):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {location.schema_name}")
            con.execute(table.create_sql(location.dialect, qualified))
            for statement in table.add_columns_sql(location.dialect, qualified, self.columns_of(location, name)):
                con.execute(statement)
            if comment is not None:
                con.execute(f"COMMENT ON TABLE {qualified} IS {location.dialect.literal(comment)}")

        with _LOCK:   # concurrent CREATE ... IF NOT EXISTS conflicts on DuckDB's catalog: retried
            in_transaction(self.con, create)

    def select(self, location, table: str, columns: Sequence[str], where: Where | None = None,
               order_by: Sequence[str] = (), descending: bool = False, limit: int | None = None) -> list[tuple]:
        condition, params = _conditions(location, where)
        order = (" ORDER BY " + ", ".join(f"{location.quote(c)} {'DESC' if descending else 'ASC'} NULLS LAST"
                                          for c in order_by)) if order_by else ""
        bound = f" LIMIT {int(limit)}" if limit is not None else ""
        sql = (f"SELECT {', '.join(location.quote(c) for c in columns)} FROM {location.qualify(table)}"
               f"{condition}{order}{bound}")
        return [tuple(r) for r in self.con.execute(sql, params).fetchall()]

    def insert(self, location, table: WarehouseTable, rows: Sequence[Mapping[str, Any]],
               name: str | None = None) -> None:
        if not rows:
            return
        names = table.names
        self.con.executemany(
            f"INSERT INTO {location.qualify(name or table.table)} ({', '.join(location.quote(n) for n in names)}) "
            f"VALUES ({', '.join('?' for _ in names)})", [[row.get(n) for n in names] for row in rows])

    def update(self, location, table: str, values: Mapping[str, Any], where: Where) -> None:
        sets = ", ".join(f"{location.quote(k)} = ?" for k in values)
        condition, params = _conditions(location, where)
        self.con.execute(f"UPDATE {location.qualify(table)} SET {sets}{condition}", [*values.values(), *params])

    def serialised(self, work: Callable[[WarehouseStore], T], location=None) -> T:
        with _LOCK:
            return in_transaction(self.con, lambda _con: work(self))

    def close(self) -> None:
        if self.owned:
            self.con.close()
