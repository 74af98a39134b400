"""Where raw rows live: the `Engine` ABC, its public schema types and the SQL `Dialect` each engine speaks.

An engine gives exact (private!) answers about one relation and pushes the work down to where the data lives (DuckDB
SQL, Snowpark or Spark DataFrames, pandas), so marginal methods never pull the whole table into Python. Only the
measurement layer (`dpsynth_core/measurement/`) may call an engine's raw-row methods (`count_cells`, `count_values`,
`fetch_rows`, `partition_rows`, `bound_rows_per_unit`); everything else sees only noisy, charged answers through
`PrivateTable`. A test greps for calls outside this package.

The schema is public: column names and warehouse types. Each engine's `Dialect` maps its type names to a
`TypeFamily` in one table, so kind inference, category coercion and decoding never parse type strings themselves.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from enum import Enum
from typing import Any, ClassVar, NamedTuple, Sequence

import numpy as np
import pandas as pd

from .binning import Binning


class TypeFamily(str, Enum):
    """Engine-independent family of a column's public type."""

    BOOLEAN = "boolean"
    INTEGER = "integer"
    UNSIGNED = "unsigned"
    FLOAT = "float"
    DECIMAL = "decimal"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIMESTAMP_TZ = "timestamp_tz"
    TIME = "time"
    STRING = "string"
    BINARY = "binary"
    NESTED = "nested"
    OTHER = "other"

    @property
    def is_integer(self) -> bool:
        return self in (TypeFamily.INTEGER, TypeFamily.UNSIGNED)

    @property
    def is_numeric(self) -> bool:
        return self in (TypeFamily.INTEGER, TypeFamily.UNSIGNED, TypeFamily.FLOAT, TypeFamily.DECIMAL)

    @property
    def is_temporal(self) -> bool:
        return self in (TypeFamily.DATE, TypeFamily.TIMESTAMP, TypeFamily.TIMESTAMP_TZ)


class SourceColumn(NamedTuple):
    """One column of an engine's public schema."""

    name: str
    type: str
    family: TypeFamily


class Dialect:
    """How one engine names types, quotes identifiers, writes literals and creates tables.

    Subclasses set `name`, `type_families` (ordered (upper-case type-name prefix, family) pairs; first match wins, so
    longer prefixes go first) and `sql_types` (logical type -> SQL type for the package's own tables).
    """

    name: ClassVar[str] = "generic"
    type_families: ClassVar[tuple[tuple[str, TypeFamily], ...]] = (
        ("BOOL", TypeFamily.BOOLEAN),
        ("UTINYINT", TypeFamily.UNSIGNED), ("USMALLINT", TypeFamily.UNSIGNED), ("UINTEGER", TypeFamily.UNSIGNED),
        ("UBIGINT", TypeFamily.UNSIGNED), ("UHUGEINT", TypeFamily.UNSIGNED), ("UINT", TypeFamily.UNSIGNED),
        ("TINYINT", TypeFamily.INTEGER), ("SMALLINT", TypeFamily.INTEGER), ("INTEGER", TypeFamily.INTEGER),
        ("BIGINT", TypeFamily.INTEGER), ("HUGEINT", TypeFamily.INTEGER), ("INT", TypeFamily.INTEGER),
        ("LONG", TypeFamily.INTEGER), ("SHORT", TypeFamily.INTEGER), ("BYTE", TypeFamily.INTEGER),
        ("DOUBLE", TypeFamily.FLOAT), ("FLOAT", TypeFamily.FLOAT), ("REAL", TypeFamily.FLOAT),
        ("DECIMAL", TypeFamily.DECIMAL), ("NUMERIC", TypeFamily.DECIMAL), ("NUMBER", TypeFamily.DECIMAL),
        ("TIMESTAMP WITH TIME ZONE", TypeFamily.TIMESTAMP_TZ), ("TIMESTAMPTZ", TypeFamily.TIMESTAMP_TZ),
        ("TIMESTAMP_TZ", TypeFamily.TIMESTAMP_TZ), ("TIMESTAMP", TypeFamily.TIMESTAMP),
        ("DATETIME", TypeFamily.TIMESTAMP), ("DATE", TypeFamily.DATE), ("TIME", TypeFamily.TIME),
        ("VARCHAR", TypeFamily.STRING), ("STRING", TypeFamily.STRING), ("TEXT", TypeFamily.STRING),
        ("CHAR", TypeFamily.STRING), ("ENUM", TypeFamily.STRING), ("UUID", TypeFamily.STRING),
        ("BLOB", TypeFamily.BINARY), ("BINARY", TypeFamily.BINARY), ("BYTEA", TypeFamily.BINARY),
        ("STRUCT", TypeFamily.NESTED), ("MAP", TypeFamily.NESTED), ("LIST", TypeFamily.NESTED),
        ("ARRAY", TypeFamily.NESTED), ("UNION", TypeFamily.NESTED), ("VARIANT", TypeFamily.NESTED),
        ("OBJECT", TypeFamily.NESTED),
    )
    sql_types: ClassVar[dict[str, str]] = {"string": "VARCHAR", "double": "DOUBLE", "bigint": "BIGINT",
                                           "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}

    def family(self, type_string: str) -> TypeFamily:
        """The family of a public type name (`OTHER` when no prefix matches)."""
        t = " ".join(str(type_string).strip().upper().split())
        if t.endswith("[]"):
            return TypeFamily.NESTED
        # DECIMAL(p, 0) / NUMBER(p, 0) hold integers
        if t.startswith(("DECIMAL", "NUMERIC", "NUMBER")) and t.replace(" ", "").endswith(",0)"):
            return TypeFamily.INTEGER
        for prefix, family in self.type_families:
            if t.startswith(prefix):
                return family
        return TypeFamily.OTHER

    def column(self, name: str, type_string: str) -> SourceColumn:
        return SourceColumn(str(name), str(type_string), self.family(type_string))

    def quote(self, identifier: str) -> str:
        """A quoted identifier; embedded double quotes are doubled."""
        return '"' + str(identifier).replace('"', '""') + '"'

    def literal(self, value: Any) -> str:
        """A SQL literal for a category value or bound (strings escaped)."""
        if value is None:
            return "NULL"
        if isinstance(value, (bool, np.bool_)):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, np.integer)):
            return str(int(value))
        if isinstance(value, (float, np.floating)):
            x = float(value)
            if math.isnan(x):                # repr() would give the identifier `nan` (a binder error)
                return "CAST('NaN' AS DOUBLE)"
            if math.isinf(x):
                return f"CAST('{'-' if x < 0 else ''}Infinity' AS DOUBLE)"
            return repr(x)
        return "'" + str(value).replace("'", "''") + "'"

    def create_table_sql(self, qualified_name: str, columns: Sequence[tuple[str, str]]) -> str:
        """`CREATE TABLE IF NOT EXISTS` for the package's own tables; `columns` = [(name, logical type)]."""
        cols = ", ".join(f"{self.quote(n)} {self.sql_types[t]}" for n, t in columns)
        return f"CREATE TABLE IF NOT EXISTS {qualified_name} ({cols})"


class Engine(ABC):
    """Exact (private) answers from one relation. Only `dpsynth_core.measurement` may call the raw-row methods.

    Attributes:
        relation_name: the relation's name, used in every error message (public).
        dialect: the engine's `Dialect`.
    """

    relation_name: str
    dialect: ClassVar[Dialect] = Dialect()

    @abstractmethod
    def schema(self) -> list[SourceColumn]:
        """Public schema: one `SourceColumn` per column, in relation order."""

    @abstractmethod
    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        """Exact contingency table over the binned columns: int64 array of shape [b.size for b in binnings]
        (a 0-d array holding the row count when `binnings` is empty)."""

    @abstractmethod
    def count_values(self, column: str, min_count: int = 1, numeric: bool = False) -> list[tuple[object, int]]:
        """Exact count of each distinct non-null value of `column`, only values held by at least `min_count` rows
        (push the filter down: `GROUP BY v HAVING count(*) >= min_count`, so a high-cardinality column does not
        send every value to Python). `numeric=True` groups the value read as a DOUBLE (`TRY_CAST`, text trimmed
        first, as `NumericBinning` reads it; values that do not parse, and NaN, are left out) and returns floats."""

    @abstractmethod
    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        """Raw rows of `columns`."""

    @abstractmethod
    def partition_rows(self, fraction: float, salt: bytes, unit: str | None = None) -> tuple["Engine", "Engine"]:
        """(rest, part) engines: a row belongs to `part` iff a keyed hash of (salt, the row's values) / 2^64 is below
        `fraction`. Each row's side depends on that row and the secret salt only, so removing one row never moves
        another row between sides; nothing is materialised.

        With `unit` (the privacy unit's key column) the hash is of (salt, the row's key) only, so all rows of one
        unit land on the same side (rows with a null key are one unit) and removing one unit moves no other unit."""

    @abstractmethod
    def bound_rows_per_unit(self, unit: str, max_rows: int, salt: bytes) -> "Engine":
        """Contribution bounding: the engine over at most `max_rows` rows of each value of the key column `unit`
        (rows with a null key form one unit), the others dropped.

        Within a unit, rows are ranked by a keyed hash of (salt, the row's values, its occurrence number among
        identical rows) and the first `max_rows` are kept: `row_number() OVER (PARTITION BY unit ORDER BY hash) <=
        max_rows`. Which rows of a unit are kept depends on that unit's rows and the secret salt only, so removing one
        unit never changes which rows of another unit are kept; nothing is materialised."""


def dense_from_groups(shape: tuple[int, ...], codes: Sequence[np.ndarray], counts: np.ndarray) -> np.ndarray:
    """Scatter GROUP BY results (one code array per binning, plus counts) into a dense contingency array."""
    out = np.zeros(shape, dtype=np.int64)
    if len(shape) == 0:
        return np.asarray(int(np.sum(counts)), dtype=np.int64)
    np.add.at(out, tuple(np.asarray(c, dtype=np.int64) for c in codes), np.asarray(counts, dtype=np.int64))
    return out
