"""Value-fidelity check (issue 11): does a synthetic table look like its source, column by column?

Runs one generator (default AIM) at epsilon 1 on the real tables in ../shared/data with no spec beyond what the README
tells a user to declare (identifiers are found by name; nothing else is declared), writes the synthetic table to CSV
the way the CLI does (DuckDB COPY) and compares, per column, the CSV text of the output with the CSV text of the source:

- tvd1: 1-way TVD. Numeric columns (every source value parses as a number): each value holding >= 10% of the source
  rows is its own bin, the rest go to 10 quantile bins of the remaining source values, nulls are their own bin.
  Other columns: the exact spellings (and null) are the bins.
- novel: share of synthetic rows holding a spelling the source column never has (categorical columns), or a value
  that does not parse as a number (numeric columns). `other` is the share of them spelled as the pooling label.
- integral: for columns whose source values are all integers, the share of synthetic values written as integers
  (`35`, not `35.0`, and no fractional part).
- null: null share of the synthetic column minus the source's, in percentage points.

Not DP: exact statistics of real rows, for the benchmark only.

    .venv/bin/python bench/fidelity_check.py [--tables NMES1988,CreditCard] [--source text|sniffed] [--epsilon 1]

`--source text` reads the CSV as all-VARCHAR and lets DP decide the column kinds (`infer_text_kinds`, the CLI path);
`--source sniffed` lets DuckDB's sniffer type the columns (the pre-issue-8 CLI path); `--source text-plain` reads
all-VARCHAR without the kind decision (every column categorical: what a text source got before it).
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dbt_dpsynth.engines.duckdb_engine import DuckDBEngine  # noqa: E402
from dpsynth_core.api import synthesize_table  # noqa: E402
from dpsynth_core.config import SynthesisConfig  # noqa: E402
from dpsynth_core.evaluation import prepare  # noqa: E402
from dpsynth_core.evaluation.marginals import mean_marginal_tvd  # noqa: E402
from dpsynth_core.preprocessing import PreprocessOptions  # noqa: E402

# ../shared/data next to the checkout (a worktree under /work/wt/<name> looks two levels up), or $DPSYNTH_DATA
DATA = next((p for p in [Path(os.environ.get("DPSYNTH_DATA", "/nonexistent")), ROOT.parent / "shared" / "data",
                         ROOT.parents[1] / "shared" / "data"] if p.is_dir()), ROOT.parent / "shared" / "data")
TABLES = ["NMES1988", "CreditCard", "acs12", "yrbss", "Treatment", "nassCDS", "HealthInsurance"]
OTHER_LABEL = "__other__"
_INTEGER_TEXT = re.compile(r"^[+-]?[0-9]+$")


def read_text(path: Path) -> pd.DataFrame:
    """The CSV as the exact strings it holds (empty fields are null)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def numeric_columns(text: pd.DataFrame) -> dict[str, bool]:
    """{column: holds only integers} for the columns whose every non-null source value is a number."""
    out = {}
    for c in text.columns:
        values = text[c].dropna()
        parsed = pd.to_numeric(values, errors="coerce")
        if len(values) and parsed.notna().all():
            out[c] = bool((parsed == np.round(parsed)).all())
    return out


def tvd_numeric(real: pd.Series, synth: pd.Series) -> float:
    r, s = pd.to_numeric(real, errors="coerce"), pd.to_numeric(synth, errors="coerce")
    shares = r.value_counts(normalize=True, dropna=True) * r.notna().mean()
    atoms = [float(v) for v, p in shares.items() if p >= 0.10]
    rest = r[r.notna() & ~r.isin(atoms)]
    edges = np.unique(np.quantile(rest, np.linspace(0, 1, 11)[1:-1])) if len(rest) else np.array([])

    def bins(x: pd.Series) -> pd.Series:
        out = pd.Series(np.searchsorted(edges, x.to_numpy(dtype=float), side="right"), index=x.index).astype(object)
        for k, a in enumerate(atoms):
            out[x == a] = f"atom{k}"
        out[x.isna()] = "null"
        return out

    p, q = bins(r).value_counts(normalize=True), bins(s).value_counts(normalize=True)
    return float(0.5 * p.subtract(q, fill_value=0).abs().sum())


def tvd_categorical(real: pd.Series, synth: pd.Series) -> float:
    p = real.fillna("<null>").value_counts(normalize=True)
    q = synth.fillna("<null>").value_counts(normalize=True)
    return float(0.5 * p.subtract(q, fill_value=0).abs().sum())


def mean_two_way_tvd(real: pd.DataFrame, synth: pd.DataFrame, numeric: dict[str, bool], columns: dict) -> float:
    """The bench's 2-way metric (dpsynth_core.evaluation: 10 quantile bins fixed on the real table) on the CSV text
    of both tables, numbers parsed."""
    kinds = {c: "identifier" if columns.get(c, {}).get("kind") == "identifier" else
             "numeric" if c in numeric else "categorical" for c in real.columns}

    def typed(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce") if kinds[c] == "numeric" else frame[c]
                             for c in real.columns})

    prepared = prepare(typed(real), typed(synth), kinds=kinds, n_bins=10)
    return float(mean_marginal_tvd(prepared, 2)[0])


def check_table(name: str, source: str, epsilon: float, seed: int, generator: str,
                domain_share: float | None = None) -> list[dict]:
    path = DATA / f"{name}.csv"
    con = duckdb.connect()
    relation = con.read_csv(str(path), all_varchar=True) if source.startswith("text") else con.read_csv(str(path))
    engine = DuckDBEngine(relation, name, connection=con)
    preprocess = {}
    if source == "text":
        if "infer_text_kinds" not in inspect.signature(PreprocessOptions).parameters:
            raise SystemExit("--source text needs PreprocessOptions(infer_text_kinds=...) (not in this version)")
        preprocess["preprocess"] = PreprocessOptions(infer_text_kinds=True)
    config = SynthesisConfig(epsilon=epsilon, generator=generator, seed=seed, domain_share=domain_share)
    started = time.perf_counter()
    release = synthesize_table(engine, None, config, **preprocess)
    elapsed = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.csv"
        con.register("__out", release.data)
        con.execute(f"COPY __out TO '{out}' (FORMAT csv, HEADER)")
        synth = read_text(out)
    real = read_text(path)
    numeric = numeric_columns(real)
    tvd2 = mean_two_way_tvd(real, synth, numeric, release.record.columns)
    rows = []
    for c in real.columns:
        r, s = real[c], synth[c] if c in synth.columns else pd.Series([None] * len(synth), dtype=object)
        kind = release.record.columns.get(c, {}).get("kind", "?")
        row = {"table": name, "column": c, "kind": kind, "seconds": elapsed, "table_tvd2": tvd2}
        if kind == "identifier":
            continue
        if c in numeric:
            row["tvd1"] = tvd_numeric(r, s)
            bad = s.notna() & pd.to_numeric(s, errors="coerce").isna()
            row["novel"], row["other"] = float(bad.mean()), float((s == OTHER_LABEL).mean())
            if numeric[c]:      # integer values, written as integers where the source writes them so
                written = s.dropna()
                values = pd.to_numeric(written, errors="coerce")
                ok = values.notna() & (values == np.round(values))
                if r.dropna().str.fullmatch(_INTEGER_TEXT).all():
                    ok &= written.str.fullmatch(_INTEGER_TEXT)
                row["integral"] = float(ok.mean()) if len(written) else 1.0
        else:
            row["tvd1"] = tvd_categorical(r, s)
            known = set(r.dropna())
            row["novel"] = float((s.notna() & ~s.isin(known)).mean())
            row["other"] = float((s == OTHER_LABEL).mean())
        row["null_pts"] = 100 * (float(s.isna().mean()) - float(r.isna().mean()))
        row["src_null"] = 100 * float(r.isna().mean())
        rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--source", choices=["text", "text-plain", "sniffed"], default="text")
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generator", default="aim")
    parser.add_argument("--domain-share", type=float, default=None, help="default: the generator's")
    args = parser.parse_args(argv)
    rows = []
    for name in args.tables.split(","):
        if not (DATA / f"{name}.csv").is_file():
            print(f"skip {name}: {DATA / name}.csv not found", file=sys.stderr)
            continue
        table_rows = check_table(name, args.source, args.epsilon, args.seed, args.generator, args.domain_share)
        rows.extend(table_rows)
        print(f"{name}: {table_rows[0]['seconds']:.0f}s", file=sys.stderr, flush=True)
    if not rows:
        return 0
    frame = pd.DataFrame(rows).drop(columns=["seconds", "table_tvd2"])
    tables = pd.DataFrame(rows).groupby("table", sort=False)["table_tvd2"].first()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    integral = frame["integral"].dropna() if "integral" in frame else pd.Series(dtype=float)
    tv = frame["tvd1"]
    print("\nmean 2-way TVD (10 quantile bins): " + ", ".join(f"{t} {v:.3f}" for t, v in tables.items()))
    print(f"columns: {len(frame)}; tvd1 <= 0.05: {int((tv <= 0.05).sum())}; mean tvd1 {tv.mean():.3f}, "
          f"max {tv.max():.3f}; novel > 0: {int((frame['novel'] > 0).sum())} (of which only the other label: "
          f"{int(((frame['novel'] > 0) & (frame['novel'] <= frame['other'] + 1e-12)).sum())}); "
          f"integer columns written integral: {int((integral >= 1).sum())}/{len(integral)}; "
          f"|null pts| <= 0.5: {int((frame['null_pts'].abs() <= 0.5).sum())}; invented nulls (source 0): "
          f"{int(((frame['src_null'] == 0) & (frame['null_pts'] > 0)).sum())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
