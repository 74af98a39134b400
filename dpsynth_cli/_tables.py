"""Read a table for the owner-side tools (`dpsynth watermark`, `dpsynth scan`): CSV, Parquet or a DuckDB table."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dpsynth_core.errors import InputError

FILE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _parse_timestamps(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV text columns whose every non-null value is an ISO timestamp become timestamps (as DuckDB would type them)."""
    for name in frame.columns:
        column = frame[name]
        if not (column.dtype == object or pd.api.types.is_string_dtype(column.dtype)) or column.isna().all():
            continue
        sample = column.dropna().astype(str)
        if not sample.str.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}").all():
            continue
        try:
            frame[name] = pd.to_datetime(column, format="ISO8601")
        except (ValueError, TypeError):
            continue
    return frame


def read_table(path: str, table: str | None = None, *, limit: int | None = None) -> pd.DataFrame:
    """The table at `path` (.csv, .parquet, or a DuckDB file with `table` = [schema.]name), at most `limit` rows."""
    fmt = FILE_FORMATS.get(Path(path).suffix.lower())
    name = table or Path(path).stem
    if fmt is None:
        raise InputError(f"{path!r} has an unsupported extension.", table=name,
                         fix=f"use one of {sorted(FILE_FORMATS)} (a DuckDB file needs --table).")
    if not Path(path).is_file():
        raise InputError(f"{path!r} does not exist.", table=name, fix="check the path.")
    if fmt == "csv":
        return _parse_timestamps(pd.read_csv(path, nrows=limit, low_memory=False))
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        return frame.head(limit) if limit else frame
    if not table:
        raise InputError(f"{path!r} is a DuckDB file; which table?", fix="pass --table [schema.]name.")
    import duckdb

    qualified = ".".join(_quote(part) for part in table.split("."))
    con = duckdb.connect(path, read_only=True)
    try:
        sql = f"SELECT * FROM {qualified}" + (f" LIMIT {int(limit)}" if limit else "")
        try:
            return con.execute(sql).df()
        except duckdb.CatalogException:
            raise InputError(f"table {table!r} is not in {path}.", table=table,
                             fix="pass --table [schema.]name of an existing table (see `duckdb FILE .tables`).") \
                from None
    finally:
        con.close()
