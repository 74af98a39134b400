"""The input and output files of `dpsynth synthesize`: checks that need no data, and a CSV reader that never aborts on
(or quotes) a row.

Checked before anything is read: the output is not the input, its folder can be written, the input exists and is not
empty. CSV: the header line is the schema (names must be distinct, also ignoring case, as DuckDB's identifiers are);
DuckDB's sniffer picks the dialect (delimiter, header) only. Every column is read as text: the types a sniffer would
pick are a function of the values (issue 8 hole 2), so a column's kind comes from the spec or from a DP decision
charged to the budget (`preprocess: {infer_text_kinds: true}`: noisy counts of values per text class), never from the
rows. Sniffer and reader errors go through the measurement layer's scrubbing (`dpsynth_core.measurement.guard`).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from dpsynth_core.errors import InputError
from dpsynth_core.measurement.guard import guarded


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_paths(in_path: str, out_path: str, table: str) -> None:
    """Refuse, before any read, an output that would overwrite the input or cannot be written.

    Raises:
        InputError: the input is missing or empty, OUTPUT is the input (or its release record would be), or the
            output folder cannot be created or written.
    """
    source = Path(in_path)
    if not source.is_file():
        raise InputError(f"input file {in_path!r} does not exist.", table=table, fix="check the path.")
    if source.stat().st_size == 0:
        raise InputError("the input file is empty (not even a header line).", table=table,
                         fix="export the table with a header line and at least one row.")
    out = Path(out_path)
    for target in (out, Path(out_path + ".release.json")):
        if target.exists() and (target.resolve() == source.resolve() or os.path.samefile(target, source)):
            raise InputError(f"--out {out_path!r} would overwrite the input file.", table=table,
                             fix="write the synthetic table to another path (never over the private input).")
    if out.is_dir():
        raise InputError(f"--out {out_path!r} is a folder.", table=table, fix="give a file path ending in .csv or "
                         ".parquet.")
    folder = out.parent if str(out.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".dpsynth-write-check-"):
            pass
    except OSError as err:
        raise InputError(f"the output folder {str(folder)!r} cannot be written ({type(err).__name__}).", table=table,
                         fix="choose a writable --out path.") from None


def _header(path: str, delimiter: str) -> list[str]:
    """The header line's fields (the public schema of a CSV file), BOM stripped."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline()
    return next(csv.reader([first], delimiter=delimiter), [])


def open_csv(con, path: str, table: str):
    """A DuckDB relation over the CSV file: sniffed dialect, every column VARCHAR (no type from the values).

    Raises:
        InputError: duplicate header names; EngineError (scrubbed) when the file cannot be parsed.
    """
    sniffed = guarded(lambda: con.execute(f"SELECT Delimiter, Columns, SkipRows FROM "
                                          f"sniff_csv({_sql_string(path)}, header = true)").fetchall()[0],
                      step="read CSV header", table=table)
    delimiter, columns, skipped = sniffed
    names = [c["name"] for c in columns]
    header = _header(path, delimiter)
    lowered = [h.strip().lower() for h in header]
    dupes = sorted({h for h, low in zip(header, lowered, strict=True) if lowered.count(low) > 1})
    if dupes:
        raise InputError(f"the header repeats column name(s) {dupes} (DuckDB names are case-insensitive).",
                         table=table, fix="give every column a distinct name in the header line.")
    if len(names) == 1 and any(d in names[0] for d in ",;\t|"):
        raise InputError("the delimiter could not be detected: the header reads as one column.", table=table,
                         fix="check that every row has as many fields as the header (a ragged file), or convert "
                             "the file to Parquet.")
    if skipped or [h.strip() for h in header] != [n.strip() for n in names]:
        # the sniffer took another line for the header (a ragged file) or renamed a field: never use its names,
        # they may be data
        raise InputError(f"the rows do not match the header line ({len(header)} fields).", table=table,
                         fix="check the delimiter, that every column has a non-empty name, and that every row has "
                             "as many fields as the header (or convert the file to Parquet).")
    # every column is read as text: the sniffer's types are a function of the values (one row `26.5` among integer
    # ages would make the column continuous), so they are never used; a column's kind comes from the spec or from a
    # DP decision charged to the budget (`preprocess: {infer_text_kinds: true}`, set by `run`)
    parts = [_quote(c["name"]) for c in columns]
    # DuckDB's `type_pushdown` optimizer turns a TRY_CAST over a CSV column (the engine's reads of a text column as a
    # number or date) into the reader's strict column type, which aborts on the first bad row and quotes it (measured
    # on DuckDB 2.0.1): off for this connection.
    con.execute("SET disabled_optimizers = 'type_pushdown'")
    scan = f"read_csv({_sql_string(path)}, header = true, delim = {_sql_string(delimiter)}, all_varchar = true)"
    return guarded(lambda: con.sql(f"SELECT {', '.join(parts)} FROM {scan}"), step="read CSV rows", table=table)
