"""`dpsynth synthesize INPUT --out OUTPUT --epsilon 1 [--delta D] [--generator aim|mst|copula|dp-tvae|dp-ctgan]
[--spec spec.yml] [--rows N] [--seed S] [--privacy-unit KEY [--max-rows-per-unit K]]`: a DP synthetic copy of a
CSV/Parquet file, through the same DuckDB engine and accounting as dbt.

Writes OUTPUT (CSV or Parquet, by extension) and OUTPUT.release.json (the release record: top-level epsilon, delta,
generator, rows, rho, accountant and the spend breakdown), then prints a one-line summary.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from dpsynth_core.errors import InputError, SpecError

from .progress import ProgressLine

_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synthesize", help="write a DP synthetic copy of a CSV/Parquet table",
        description=__doc__.split("\n\n")[0],
        epilog="Without --spec, each column's kind comes from its type (for CSV, the type DuckDB's sniffer picks from "
               "the file, which depends on the values: declare kinds in --spec when that matters) and every domain "
               "(categories, numeric bounds) is found with a DP mechanism charged to the same epsilon. The row count "
               "is estimated with DP unless --rows is given.")
    p.add_argument("input", help="input table (.csv, .parquet)")
    p.add_argument("--out", required=True, help="output table (.csv or .parquet); the record goes to OUT.release.json")
    p.add_argument("--epsilon", required=True, type=float,
                   help="total epsilon of the release (per privacy unit: one source row unless --privacy-unit)")
    p.add_argument("--delta", type=float, default=None,
                   help="total delta (default: min(1e-6, 1/(n ln n)) with n = --max-rows when given, else 1e-6)")
    p.add_argument("--generator", default=None, help="generator name (default: aim; see dpsynth_core.generators)")
    p.add_argument("--spec", default=None, help="YAML column specs `columns: {col: {kind: ..., categories: [...]}}`")
    p.add_argument("--rows", type=int, default=None, help="rows to generate (default: DP estimate of the input's)")
    p.add_argument("--max-rows", type=int, default=None, help="public upper bound on the input's rows (sets delta)")
    p.add_argument("--seed", type=int, default=None, help="seed of the sampling step only (never of the noise)")
    p.add_argument("--privacy-unit", default=None, metavar="KEY",
                   help="key column of the individual protected (e.g. patient_id): neighbours differ by all its rows")
    p.add_argument("--max-rows-per-unit", type=int, default=None, metavar="K",
                   help="at most K rows per unit, chosen at random before any measurement (default 1)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="generator option, value parsed as JSON when possible (e.g. --option iters=200)")
    p.set_defaults(func=run)


def _format(path: str, role: str) -> str:
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"{role} {path!r} has an unsupported extension.", table=Path(path).stem,
                         fix=f"use one of {sorted(_FORMATS)}.")
    return fmt


def _options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--option {pair!r} is not KEY=VALUE.", fix="write e.g. --option iters=200.")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _load_spec(path: str, table: str) -> dict[str, Any]:
    """The `columns:` mapping of a spec file (checked before any data is read)."""
    import yaml

    try:
        with open(path) as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise SpecError(f"spec file {path!r} does not exist.", table=table, fix="check the --spec path.") from None
    except OSError as err:
        raise SpecError(f"spec file {path!r} cannot be read ({type(err).__name__}).", table=table,
                        fix="check the --spec path and its permissions.") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise SpecError(f"spec file {path!r} is not valid YAML{where}.", table=table,
                        fix="fix the YAML syntax (e.g. `columns: {age: {kind: integer}}`).") from None
    columns = raw.get("columns", raw) if isinstance(raw, dict) else None
    if not isinstance(columns, dict) or not all(v is None or isinstance(v, dict) for v in columns.values()):
        raise SpecError(f"spec file {path} is not a mapping of columns.", table=table,
                        fix="write `columns: {col: {kind: categorical, categories: [a, b]}}`.")
    return columns


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run(args) -> int:
    import duckdb

    from dbt_dpsynth.config import align_to_schema
    from dbt_dpsynth.engines import engine_for
    from dbt_dpsynth.extras import require_for_generator
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.measurement.guard import guarded
    from dpsynth_core.schema import TableSpec

    from ._input import check_paths, open_csv

    in_path, out_path = str(args.input), str(args.out)
    table = Path(in_path).stem
    in_fmt, out_fmt = _format(in_path, "INPUT"), _format(out_path, "--out")
    # Everything checkable without data is checked before the first read of a value.
    check_paths(in_path, out_path, table)
    settings = {"epsilon": args.epsilon, "delta": args.delta, "rows": args.rows, "max_rows": args.max_rows,
                "seed": args.seed, "options": _options(args.option)}
    if args.generator is not None:
        settings["generator"] = args.generator
    if args.privacy_unit is not None:
        settings["privacy_unit"] = args.privacy_unit
    if args.max_rows_per_unit is not None:
        settings["max_rows_per_unit"] = args.max_rows_per_unit
    if in_fmt == "csv":     # every CSV column is text: a DP decision (charged) picks the kind of each undeclared one
        settings["preprocess"] = {"infer_text_kinds": True}
    config = SynthesisConfig.from_dict(settings, table=table)
    require_for_generator(config.generator, table=table)
    raw_columns = _load_spec(args.spec, table) if args.spec else {}
    con = duckdb.connect()
    if in_fmt == "csv":
        relation = open_csv(con, in_path, table)
    else:
        relation = guarded(lambda: con.read_parquet(in_path), step="read Parquet schema", table=table)
    engine = engine_for(relation, con, relation_name=table)
    schema = guarded(engine.schema, step="schema", table=table)
    spec = TableSpec.from_dict(table, align_to_schema(raw_columns, schema, table), schema)
    progress = ProgressLine()
    try:
        release = synthesize_table(engine, spec, config, progress=progress)
    finally:
        progress.close()

    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    # the source's types (Parquet in, Parquet out: INTEGER stays INTEGER), the decided kind's for text columns
    engine.model_output(con, release.data, release.model.domain, decided_kinds=True).create_view("__dpsynth_out")
    options = "FORMAT csv, HEADER" if out_fmt == "csv" else "FORMAT parquet"
    con.execute(f"COPY __dpsynth_out TO {_sql_string(out_path)} ({options})")
    record = release.record.to_dict()
    record_path = out_path + ".release.json"
    with open(record_path, "w") as fh:
        json.dump({**record, "input": in_path, "output": out_path}, fh, indent=2, default=str)
    r = release.record
    for warning in r.warnings:     # public (names and settings only); also in the release record
        print(f"dpsynth: warning: {warning}", file=sys.stderr)
    print(f"dpsynth: wrote {r.rows} rows to {out_path} ({r.generator}, epsilon={r.epsilon:g} delta={r.delta:.3g}, "
          f"rho={r.rho:.4g}, accountant={r.accountant}, {len(r.spend)} charged steps); record {record_path}")
    return 0
