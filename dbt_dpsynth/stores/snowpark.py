"""`SnowparkStore`: the warehouse store on a Snowpark Session (dbt-snowflake runs a Python model as a stored procedure
with one), through DataFrames only, so the same code runs in Snowpark's local testing mode (no `session.sql()`).

Names: tables, schemas and columns are unquoted, so Snowflake stores them upper-case, as the `snowflake__` macros of
the on-run-start hook create them and as plain SQL (`select release_id from dpsynth_ledger`) reads them.

Serialisation (`serialised`) on a real account: a dbt-snowflake model runs in its own stored procedure, so a Python
lock cannot serialise two models; the step runs in an explicit transaction that first updates the one row of
`dpsynth_ledger_lock` (`BEGIN; UPDATE ... SET n = n + 1; <cap check, reserved row>; COMMIT`). An UPDATE holds the
table's lock until COMMIT, so a second reservation waits at its UPDATE (up to the session's LOCK_TIMEOUT) and then,
under READ COMMITTED, reads the first one's committed row before it checks its cap. In local testing mode there is
no `session.sql()` and no transaction: the step runs under a process-wide lock only, which is all one emulated
process needs. Local mode therefore cannot show the lock wait, the rollback of a failed step, or that DDL (which
Snowflake commits implicitly) stays outside the step (`ensure_table` is never called inside one).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Sequence, TypeVar

from ..engines.snowpark import DIALECT, is_local_testing
from ..tables import WarehouseTable
from .base import NOT_NULL, WarehouseStore, Where

T = TypeVar("T")
LOCK_TABLE = "dpsynth_ledger_lock"
_LOCAL_LOCK = threading.Lock()


def _struct(table: WarehouseTable):
    from snowflake.snowpark.types import (
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampType,
    )

    types = {"string": StringType, "double": DoubleType, "bigint": LongType, "boolean": BooleanType,
             "timestamp": TimestampType}
    return StructType([StructField(n, types[t]()) for n, t in table.columns])


class SnowparkStore(WarehouseStore):
    """Store on a Snowpark Session (a real account or `Session.builder.config("local_testing", True)`)."""

    def __init__(self, session):
        self.session = session
        self.dialect = DIALECT
        self.local = is_local_testing(session)

    def _name(self, location, table: str) -> str:
        return ".".join(p for p in (location.database, location.schema, table) if p)

    def _filtered(self, location, table: str, where: Where | None):
        frame = self.session.table(self._name(location, table))
        for column, value in (where or {}).items():
            frame = frame.filter(_term(column, value))
        return frame

    def schemas_with(self, table: str, database: str | None) -> list[str]:
        if self.local:   # local mode has no INFORMATION_SCHEMA: the ledger is found in the model's schema only
            return []
        from snowflake.snowpark.functions import col, lit

        tables = self.session.table(".".join(p for p in (database, "INFORMATION_SCHEMA", "TABLES") if p))
        rows = tables.filter(col("TABLE_NAME") == lit(table.upper())).select("TABLE_SCHEMA").distinct().collect()
        return sorted(str(r[0]) for r in rows)

    def has_table(self, location, table: str) -> bool:
        return bool(self.columns_of(location, table))

    def columns_of(self, location, table: str) -> set[str]:
        from snowflake.snowpark.exceptions import SnowparkClientException, SnowparkSQLException

        try:
            return {n.strip('"').lower() for n in self.session.table(self._name(location, table)).schema.names}
        except (SnowparkSQLException, SnowparkClientException):   # local mode raises a SnowparkClientException kind
            return set()

    def ensure_table(self, location, table: WarehouseTable, name: str | None = None, comment: str | None = None
                     ) -> None:
        name = name or table.table
        existing = self.columns_of(location, name)
        if not existing:
            if not self.local:   # local mode creates schemas on first write; Snowflake needs them first
                self.session.sql(f"CREATE SCHEMA IF NOT EXISTS {self._name(location, '')[:-1]}").collect()
            empty = self.session.create_dataframe([], schema=_struct(table))
            empty.write.save_as_table(self._name(location, name), mode="append", comment=comment)
            return
        missing = [(n, t) for n, t in table.columns if n.lower() not in existing]
        if missing and not self.local:   # local mode only ever sees tables this version created
            for column, kind in missing:
                self.session.sql(f"ALTER TABLE {self._name(location, name)} ADD COLUMN {column} "
                                 f"{self.dialect.sql_types[kind]}").collect()

    def select(self, location, table: str, columns: Sequence[str], where: Where | None = None,
               order_by: Sequence[str] = (), descending: bool = False, limit: int | None = None) -> list[tuple]:
        from snowflake.snowpark.functions import col

        frame = self._filtered(location, table, where)
        if order_by:   # before the projection: the order columns need not be selected (local mode needs that)
            frame = frame.sort(*[(col(c).desc_nulls_last() if descending else col(c).asc_nulls_last())
                                 for c in order_by])
        frame = frame.select(*columns)
        if limit is not None:
            frame = frame.limit(int(limit))
        return [tuple(row) for row in frame.collect()]

    def insert(self, location, table: WarehouseTable, rows: Sequence[Mapping[str, Any]],
               name: str | None = None) -> None:
        if not rows:
            return
        data = [[row.get(n) for n in table.names] for row in rows]
        frame = self.session.create_dataframe(data, schema=_struct(table))
        frame.write.save_as_table(self._name(location, name or table.table), mode="append")

    def update(self, location, table: str, values: Mapping[str, Any], where: Where) -> None:
        from snowflake.snowpark.functions import lit

        terms = [_term(column, value) for column, value in where.items()]
        condition = terms[0]
        for term in terms[1:]:
            condition = condition & term
        self.session.table(self._name(location, table)).update({k: lit(v) for k, v in values.items()}, condition)

    def serialised(self, work: Callable[[WarehouseStore], T], location=None) -> T:
        if self.local:
            with _LOCAL_LOCK:
                return work(self)
        return self._in_locked_transaction(work, location)

    def _in_locked_transaction(self, work: Callable[[WarehouseStore], T], location) -> T:
        """BEGIN; take the lock table's lock; work; COMMIT (ROLLBACK on any error). See the module docstring."""
        lock = self._name(location, LOCK_TABLE) if location is not None else LOCK_TABLE
        # DDL commits implicitly in Snowflake: the lock table is made (once) before the transaction opens
        self.session.sql(f"CREATE TABLE IF NOT EXISTS {lock} (n NUMBER(38,0))").collect()
        self.session.sql(f"INSERT INTO {lock} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {lock})").collect()
        self.session.sql("BEGIN").collect()
        try:
            self.session.sql(f"UPDATE {lock} SET n = n + 1").collect()
            result = work(self)
            self.session.sql("COMMIT").collect()
            return result
        except BaseException:
            self.session.sql("ROLLBACK").collect()
            raise


def _term(column: str, value: Any):
    """One store filter term as a Snowpark Column condition."""
    from snowflake.snowpark.functions import col, lit

    if value is None:
        return col(column).is_null()
    if value is NOT_NULL:
        return col(column).is_not_null()
    if isinstance(value, tuple):
        return col(column).isin([lit(v) for v in value])
    return col(column) == lit(value)
