"""The bad-input matrix (issue 8): inputs and settings a user can get wrong, each with the outcome it must have.

Every case ends in either a valid output or a typed error naming the table (and the column, when there is one) and
the fix, with no private value anywhere in what the user sees. Private values are planted as canaries (`CANARIES`):
they must never appear in stdout, stderr, the dbt log, the ledger or the release record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np

CANARIES = ("SSN-123-45-6789", "CANARY_SECRET_42")
ROWS = 300


@dataclass(frozen=True)
class Case:
    """One row of the matrix.

    Args:
        name: the case id.
        make: writes the input under a folder and returns (input path, extra CLI args); the input is named
            `<table>.<ext>`.
        outcome: 'ok' (exit 0, output and record written) or 'error' (exit 2, nothing written).
        says: substrings the message (stderr) must contain.
        before_read: the refusal needs no data (the input is not even opened by DuckDB: checked by the
            dbt twin of the case, where the ledger must stay unchanged).
        slow: a slow case (run with DPSYNTH_SLOW=1).
    """

    name: str
    make: Callable[[Path], tuple[Path, list[str]]]
    outcome: str
    says: tuple[str, ...] = ()
    slow: bool = False
    output_check: Callable[[Path], None] | None = field(default=None, compare=False)


def _csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / f"{name}.csv"
    path.write_bytes(text.encode(encoding))
    return path


def _rows(header: str, row: Callable[[int], str], n: int = ROWS) -> str:
    return header + "\n" + "".join(row(i) + "\n" for i in range(n))


def _plain(folder: Path, name: str = "people") -> Path:
    return _csv(folder, name, _rows("age,sex,city", lambda i: f"{20 + i % 60},{'fm'[i % 2]},{'abc'[i % 3]}"))


def _spec(folder: Path, text: str) -> Path:
    path = folder / "spec.yml"
    path.write_text(text)
    return path


def _parquet(folder: Path, name: str, select: str) -> Path:
    path = folder / f"{name}.parquet"
    duckdb.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


def plain(args: list[str]) -> Callable[[Path], tuple[Path, list[str]]]:
    return lambda folder: (_plain(folder), list(args))


def with_spec(text: str, make=None) -> Callable[[Path], tuple[Path, list[str]]]:
    def build(folder: Path):
        source = (make or _plain)(folder)
        return source, ["--spec", str(_spec(folder, text))]
    return build


def _ssn_text(folder: Path) -> Path:
    """A text column `ssn` holding numbers and one private string (the canary)."""
    return _csv(folder, "ids", _rows("ssn,sex", lambda i: f"{10 + i % 80},{'fm'[i % 2]}") + f"{CANARIES[0]},f\n")


def _late_canary(folder: Path) -> Path:
    """A canary row past DuckDB's CSV sniffer sample (20,480 rows): `age` is sniffed BIGINT, then a text value."""
    rng = np.random.default_rng(0)
    ages, sexes = rng.integers(18, 90, 21_000), rng.choice(["f", "m"], 21_000)
    body = "".join(f"{a},{s}\n" for a, s in zip(ages, sexes, strict=True))
    return _csv(folder, "late", "age,sex\n" + body + f"{CANARIES[1]},f\n")


def _nan_double(folder: Path) -> Path:
    return _parquet(folder, "scores", "SELECT CASE WHEN i % 7 = 0 THEN 'nan'::DOUBLE WHEN i % 11 = 0 THEN "
                    "'inf'::DOUBLE ELSE (i % 3)::DOUBLE END AS score, i % 2 AS k FROM range(300) t(i)")


def _output_has_no_canary(out: Path) -> None:
    for path in (out, Path(str(out) + ".release.json")):
        text = path.read_text(errors="replace")
        assert not any(c in text for c in CANARIES), path


CASES: list[Case] = [
    # ---- shapes of the table
    Case("empty_file", lambda d: (_csv(d, "t", ""), []), "error", ("empty",)),
    # (the "nearly empty" warning depends on the noisy row estimate falling under 10: not asserted)
    Case("header_only", lambda d: (_csv(d, "t", "a,b\n"), []), "ok"),
    Case("one_row", lambda d: (_csv(d, "t", "a,b\n1,x\n"), []), "ok"),
    Case("all_null_column", lambda d: (_csv(d, "t", _rows("a,b", lambda i: f",{'xy'[i % 2]}")), []), "ok"),
    Case("constant_column", lambda d: (_csv(d, "t", _rows("a,b", lambda i: f"7,{'xy'[i % 2]}")), []), "ok"),
    Case("unique_text_not_named_like_an_id",
         lambda d: (_csv(d, "t", _rows("code,b", lambda i: f"v{i * 7919},{'xy'[i % 2]}")), []), "ok",
         ("no category cleared the DP threshold",)),
    Case("300k_categories",
         lambda d: (_csv(d, "t", _rows("code,b", lambda i: f"v{i},{'xy'[i % 2]}", 300_000)), []), "ok", slow=True),
    Case("10kB_strings",
         lambda d: (_csv(d, "t", _rows("s,b", lambda i: "x" * 10_000 + str(i % 3) + f",{'xy'[i % 2]}")), []), "ok"),
    # ---- names
    Case("unicode_names", lambda d: (_csv(d, "t", _rows("âge🚗,名前", lambda i: f"{i % 9},{'ab'[i % 2]}")), []), "ok"),
    Case("duplicate_names", lambda d: (_csv(d, "t", _rows("a,a,b", lambda i: "1,2,3")), []), "error",
         ("repeats column name", "Fix:")),
    Case("case_only_different_names", lambda d: (_csv(d, "t", _rows("Age,age", lambda i: "1,2")), []), "error",
         ("repeats column name",)),
    Case("quote_in_name", lambda d: (_csv(d, "t", _rows('"a""b",c', lambda i: f"{i % 4},{'xy'[i % 2]}")), []), "ok"),
    Case("sql_keyword_names", lambda d: (_csv(d, "t", _rows("select,from,where", lambda i: f"{i % 3},x,{i % 2}")),
                                         []), "ok"),
    # ---- values and types
    Case("dates", lambda d: (_csv(d, "t", _rows("d,k", lambda i: f"2020-01-{1 + i % 28:02d},{i % 2}")), []), "ok"),
    Case("timezones", lambda d: (_csv(d, "t", _rows("ts,k", lambda i: f"2020-03-0{1 + i % 9} 10:00:00+0{i % 5}:00,"
                                                    f"{i % 2}")), []), "ok"),
    Case("year_9999", lambda d: (_csv(d, "t", _rows("d,k", lambda i: ("9999-12-31" if i % 10 == 0 else
                                                                      f"2001-02-{1 + i % 28:02d}") + f",{i % 2}")),
                                 []), "ok"),
    Case("nan_inf_1e300", lambda d: (_csv(d, "t", _rows("x,k", lambda i: (["nan", "inf", "-inf", "1e300"][i % 4]
                                                                          if i % 10 == 0 else str(i / 4))
                                                        + f",{i % 2}")), []), "ok"),
    Case("uint64", lambda d: (_parquet(d, "t", "SELECT 18446744073709551615::UBIGINT - i::UBIGINT AS big, i % 3 AS k "
                                       "FROM range(300) t(i)"), []), "ok"),   # beyond the grid: one atom (as doubles)
    Case("uint64_bounds_beyond_2_53", with_spec("columns: {big: {kind: integer, lower: 0, upper: 1.8e19}}",
                                                lambda d: _parquet(d, "t", "SELECT i::UBIGINT AS big FROM range(9) "
                                                                   "t(i)")), "error", ("2^53", "'big'")),
    Case("nested_parquet", lambda d: (_parquet(d, "t", "SELECT [i, 1] AS lst, i % 3 AS k FROM range(30) t(i)"), []),
         "error", ("'lst'", "no default kind")),
    Case("nested_declared_categorical", with_spec("columns: {lst: {kind: categorical}}", lambda d: _parquet(
        d, "t", "SELECT [i, 1] AS lst, i % 3 AS k FROM range(30) t(i)")), "error", ("'lst'", "cannot be read")),
    Case("nan_on_double_declared_categorical", with_spec("columns: {score: {kind: categorical}}", _nan_double), "ok"),
    # ---- file formats
    Case("ragged_csv", lambda d: (_csv(d, "t", "age,sex,income\n30,m,100\n40,f\n50,m,300,9\n60,f,7\n"), []),
         "error", ("Fix:",)),
    Case("bom", lambda d: (_csv(d, "t", _rows("age,sex", lambda i: f"{i % 50},{'fm'[i % 2]}"), "utf-8-sig"), []),
         "ok", output_check=lambda out: _assert_header(out, "age,sex")),
    Case("semicolon_delimiter", lambda d: (_csv(d, "t", _rows("age;sex;w", lambda i: f"{i % 50};{'fm'[i % 2]};1,5")),
                                           []), "ok", output_check=lambda out: _assert_header(out, "age,sex,w")),
    Case("unsupported_extension", lambda d: ((d / "t.xlsx").write_text("x") and d / "t.xlsx", []), "error",
         ("unsupported extension",)),
    # ---- settings
    Case("epsilon_0", plain(["--epsilon", "0"]), "error", ("epsilon",)),
    Case("epsilon_nan", plain(["--epsilon", "nan"]), "error", ("epsilon", "finite")),
    Case("epsilon_negative", plain(["--epsilon", "-1"]), "error", ("epsilon",)),
    Case("epsilon_1e6", plain(["--epsilon", "1e6"]), "ok"),
    Case("delta_0", plain(["--delta", "0"]), "error", ("delta",)),
    Case("delta_1", plain(["--delta", "1"]), "error", ("delta",)),
    Case("rows_0", plain(["--rows", "0"]), "error", ("rows",)),
    Case("rows_10M", plain(["--rows", "10000000"]), "ok", slow=True),
    Case("unknown_generator", plain(["--generator", "gan9000"]), "error", ("gan9000", "Fix:")),
    Case("option_iters_negative", plain(["--option", "iters=-5"]), "error", ("iters",)),
    Case("option_noise_seed", plain(["--option", "noise_seed=12345"]), "error", ("noise_seed",)),
    # ---- specs
    Case("spec_names_missing_column", with_spec("columns: {salary: {kind: integer}}"), "error",
         ("'salary'", "Fix:")),
    Case("bounds_lower_above_upper", with_spec("columns: {age: {kind: integer, lower: 90, upper: 10}}"), "error",
         ("'age'", "lower")),
    Case("datetime_bounds_year_1_to_9999",
         with_spec("columns: {d: {kind: datetime, lower: '0001-01-01', upper: '9999-12-31'}}",
                   lambda d: _csv(d, "t", _rows("d,k", lambda i: f"2020-01-{1 + i % 28:02d},{i % 2}"))),
         "error", ("'d'", "1678")),
    # spec against a typed source (Parquet; a CSV's columns are all text, which every kind can read)
    Case("string_categories_on_integer_column", with_spec("columns: {age: {kind: categorical, categories: [young, "
                                                           "old]}}", lambda d: _parquet(
        d, "t", "SELECT (18 + i % 60)::INTEGER AS age, i % 2 AS k FROM range(300) t(i)")), "error",
         ("'age'", "'young'")),
    Case("kind_integer_on_date_column", with_spec("columns: {d: {kind: integer}}", lambda d: _parquet(
        d, "t", "SELECT DATE '2020-01-01' + (i % 28)::INTEGER AS d, i % 2 AS k FROM range(300) t(i)")), "error",
         ("'d'", "datetime")),
    Case("malformed_yaml", with_spec("columns: {age: {kind: integer"), "error", ("not valid YAML",)),
    Case("missing_spec_file", lambda d: (_plain(d), ["--spec", str(d / "nope.yml")]), "error", ("does not exist",)),
    # ---- private values: never in a message, a log, a record or the output
    Case("canary_text_declared_continuous", with_spec("columns: {ssn: {kind: continuous, lower: 0, upper: 100}}",
                                                      _ssn_text), "ok", output_check=_output_has_no_canary),
    Case("canary_past_the_csv_sniffer", lambda d: (_late_canary(d), []), "ok", output_check=_output_has_no_canary),
]


def _assert_header(out: Path, header: str) -> None:
    assert out.read_text().splitlines()[0] == header
