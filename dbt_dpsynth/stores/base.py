"""The warehouse store: the row-level I/O the ledger, the model store and the metrics need, behind one interface.

The bookkeeping modules (`ledger`, `model_store`, `metrics`, `evidence`) say *what* they read and write (a table of
`dbt_dpsynth.tables`, equality filters, an order); a store says *how* on one kind of session:

* `SqlStore` (`stores/sql.py`): a DB-API connection (DuckDB; the CLI and dbt-duckdb), parameterised SQL;
* `SnowparkStore` (`stores/snowpark.py`): a Snowpark Session (dbt-snowflake's stored procedure), DataFrames only
  (`create_dataframe`, `save_as_table`, `table().filter()`, `Table.update`), so it also runs in Snowpark's local
  testing mode, which has no `session.sql()`.

`store_for(session)` (`stores/__init__.py`) picks the implementation by the session's type.

Filters (`where`): `{column: value}` means equality, `None` means IS NULL, a tuple means IN, `NOT_NULL` means
IS NOT NULL; all terms are ANDed. That is everything the bookkeeping asks, so no SQL text crosses this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Mapping, Sequence, TypeVar

from dpsynth_core.measurement.engine import Dialect

from ..tables import WarehouseTable

T = TypeVar("T")


class _NotNull:
    def __repr__(self) -> str:
        return "NOT_NULL"


NOT_NULL = _NotNull()   # a filter value: the column IS NOT NULL

Where = Mapping[str, Any]


class WarehouseStore(ABC):
    """Row I/O on the package's own tables in one warehouse session.

    Locations are `dbt_dpsynth.ledger.LedgerLocation` (schema, database); tables are named by their default name
    (`WarehouseTable.table`, or a caller's override such as var `dpsynth_metrics_table`).
    """

    dialect: Dialect
    session: Any          # what the store was built on (a DB-API connection, a Snowpark Session)

    @abstractmethod
    def schemas_with(self, table: str, database: str | None) -> list[str]:
        """The schemas (sorted) holding a table named `table` in `database` (None: the session's default)."""

    @abstractmethod
    def has_table(self, location, table: str) -> bool:
        """Whether `location` holds `table`."""

    @abstractmethod
    def columns_of(self, location, table: str) -> set[str]:
        """The lower-case column names of `table` in `location` (empty when it does not exist)."""

    @abstractmethod
    def ensure_table(self, location, table: WarehouseTable, name: str | None = None, comment: str | None = None
                     ) -> None:
        """Create the schema and `table` (under `name`, default `table.table`) if missing, and add the columns an
        older package version's table lacks. `comment` becomes the table's comment where the store can set it."""

    @abstractmethod
    def select(self, location, table: str, columns: Sequence[str], where: Where | None = None,
               order_by: Sequence[str] = (), descending: bool = False, limit: int | None = None) -> list[tuple]:
        """Rows of `columns` (tuples, in that order) matching `where`, ordered by `order_by` (nulls last)."""

    @abstractmethod
    def insert(self, location, table: WarehouseTable, rows: Sequence[Mapping[str, Any]],
               name: str | None = None) -> None:
        """Append `rows` (a value per column name; missing columns are null) to `table`."""

    @abstractmethod
    def update(self, location, table: str, values: Mapping[str, Any], where: Where) -> None:
        """Set `values` on the rows matching `where`."""

    @abstractmethod
    def serialised(self, work: Callable[[WarehouseStore], T], location=None) -> T:
        """Run `work(self)` as one serialised, committed step: no other step on the ledger at `location` interleaves
        with it, and either all its writes commit or none do. Each implementation documents how (and what its test
        mode cannot show). Never create tables inside a step (Snowflake commits DDL implicitly)."""

    def close(self) -> None:
        """Release what the store opened (nothing by default: the session belongs to the caller)."""
        return None
