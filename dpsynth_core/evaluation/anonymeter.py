"""Singling-out and linkability risk, and the risk formula, after Giomi et al. 2022 ("A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023; the `anonymeter` method). Our own implementation: the
`anonymeter` package pins an older numpy.

Each attack uses the synthetic table to make guesses about records; it is run against the train sample ("main") and
against the holdout ("control", records the generator never saw) of the same size. Risk = (main - control) / (1 -
control): the success the attacker owes to the records being in the training data, beyond what the population alone
gives. Rates carry Wilson 95% intervals; the risk interval combines their extremes (conservative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import InputError
from .encoding import encode, nearest, subsample_rows
from .prepared import Prepared
from .stats import wilson_interval


@dataclass(frozen=True)
class RiskEstimate:
    value: float
    ci: tuple[float, float]
    main_rate: float
    control_rate: float
    n_attacks: int

    @property
    def significant(self) -> bool:
        """True when the main rate's Wilson interval lies wholly above the control's (risk > 0 with evidence)."""
        return self.ci[0] > 0.0


def risk(main_successes: int, control_successes: int, n_main: int, n_control: int) -> RiskEstimate:
    """Giomi et al. risk = (main - control) / (1 - control), clipped at 0 below; 0 when control == 1."""
    main, control = main_successes / max(n_main, 1), control_successes / max(n_control, 1)
    main_lo, main_hi = wilson_interval(main_successes, n_main)
    ctrl_lo, ctrl_hi = wilson_interval(control_successes, n_control)

    def formula(m: float, c: float) -> float:
        return 0.0 if c >= 1.0 else max(0.0, (m - c) / (1.0 - c))

    return RiskEstimate(formula(main, control), (formula(main_lo, ctrl_hi), formula(main_hi, ctrl_lo)),
                        main, control, n_main)


def _attack_sets(prepared: Prepared, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions of equally sized train (main) / holdout (control) / synthetic samples."""
    if prepared.holdout is None:
        raise InputError("anonymeter-style risks need a holdout (the control set).", fix="pass holdout=.")
    size = min(n, len(prepared.real), len(prepared.holdout), len(prepared.synthetic))
    return (subsample_rows(len(prepared.real), size, rng), subsample_rows(len(prepared.holdout), size, rng),
            subsample_rows(len(prepared.synthetic), size, rng))


# ---------------------------------------------------------------- singling out (multivariate predicates)
@dataclass(frozen=True)
class Predicate:
    """Conjunction of conditions `(column position, op, value)`; op in '==', '<=', '>='; NaN value == null."""

    conditions: tuple[tuple[int, str, float], ...]

    def matches(self, table: np.ndarray) -> np.ndarray:
        hit = np.ones(len(table), dtype=bool)
        for j, op, v in self.conditions:
            x = table[:, j]
            if np.isnan(v):
                hit &= np.isnan(x)
            elif op == "==":
                hit &= x == v
            elif op == "<=":
                hit &= x <= v
            else:
                hit &= x >= v
        return hit


def _value_table(prepared: Prepared, which: str) -> np.ndarray:
    """Categorical columns as bin codes (null -> NaN), numerics as values."""
    codes, frame = getattr(prepared, f"{which}_codes"), getattr(prepared, which)
    cols = []
    for j, b in enumerate(prepared.discretizer.bins):
        if b.kind == "categorical":
            c = codes[:, j].astype("float64")
            c[c == b.size - 1] = np.nan
            cols.append(c)
        else:
            cols.append(frame[b.column].to_numpy("float64"))
    return np.column_stack(cols)


def singling_out_predicates(synthetic: np.ndarray, numeric: Sequence[bool], n_attacks: int, n_cols: int,
                            rng: np.random.Generator, max_tries_per_attack: int = 20) -> list[Predicate]:
    """Up to `n_attacks` distinct predicates built from random synthetic rows on `n_cols` random columns (numeric
    conditions `<=`/`>=` the row's value, at random) that match exactly one synthetic row."""
    found: dict[tuple, Predicate] = {}
    d = synthetic.shape[1]
    for _ in range(n_attacks * max_tries_per_attack):
        if len(found) >= n_attacks:
            break
        row = synthetic[rng.integers(len(synthetic))]
        cols = np.sort(rng.choice(d, size=min(n_cols, d), replace=False))
        conditions = tuple(
            (int(j), ("<=" if rng.random() < 0.5 else ">=") if numeric[j] and not np.isnan(row[j]) else "==",
             float(row[j]))
            for j in cols)
        key = tuple((j, op, "nan" if np.isnan(v) else v) for j, op, v in conditions)
        if key in found:
            continue
        predicate = Predicate(conditions)
        if int(predicate.matches(synthetic).sum()) == 1:
            found[key] = predicate
    return list(found.values())


def singling_out_risk(prepared: Prepared, n_attacks: int = 500, n_cols: int = 3, seed: int = 0) -> RiskEstimate:
    """Share of synthetic-derived singling-out predicates that isolate exactly one train record (main) vs one holdout
    record (control), with train, holdout and synthetic samples of equal size. Predicates use `n_cols` columns, more
    (up to all) while fewer than `n_attacks` distinct predicates single out a synthetic row (mostly-categorical
    tables need more columns to single anyone out)."""
    rng = np.random.default_rng(seed)
    size = max(n_attacks * 4, 2000)
    main_rows, control_rows, synth_rows = _attack_sets(prepared, size, rng)
    numeric = [b.kind != "categorical" for b in prepared.discretizer.bins]
    synth = _value_table(prepared, "synthetic")[synth_rows]
    predicates: list[Predicate] = []
    for k in range(min(n_cols, synth.shape[1]), synth.shape[1] + 1):
        predicates += singling_out_predicates(synth, numeric, n_attacks - len(predicates), k, rng,
                                              max_tries_per_attack=4)
        if len(predicates) >= n_attacks:
            break
    main = _value_table(prepared, "real")[main_rows]
    control = _value_table(prepared, "holdout")[control_rows]
    main_hits = sum(int(p.matches(main).sum()) == 1 for p in predicates)
    control_hits = sum(int(p.matches(control).sum()) == 1 for p in predicates)
    return risk(main_hits, control_hits, len(predicates), len(predicates))


# ---------------------------------------------------------------- linkability
def default_link_columns(columns: Sequence[str]) -> tuple[list[str], list[str]]:
    half = len(columns) // 2
    return list(columns[:half]), list(columns[half:])


def linkability_risk(prepared: Prepared, columns_a: Sequence[str] | None = None,
                     columns_b: Sequence[str] | None = None, n_attacks: int = 500, n_neighbors: int = 1,
                     seed: int = 0) -> RiskEstimate:
    """For each target record, the synthetic rows nearest on columns A and nearest on columns B are looked up; the
    attack succeeds when the two sets share a row (the synthetic data links the two halves of the record)."""
    if columns_a is None or columns_b is None:
        columns_a, columns_b = default_link_columns(prepared.columns)
    if not columns_a or not columns_b:
        raise InputError("linkability needs two non-empty column sets.", fix="pass link_columns with two lists.")
    rng = np.random.default_rng(seed)
    main_rows, control_rows, _ = _attack_sets(prepared, n_attacks, rng)
    syn_a, syn_b = encode(prepared, "synthetic", columns_a), encode(prepared, "synthetic", columns_b)

    def successes(which: str, rows: np.ndarray) -> int:
        ia = nearest(syn_a, encode(prepared, which, columns_a)[rows], n_neighbors)[1]
        ib = nearest(syn_b, encode(prepared, which, columns_b)[rows], n_neighbors)[1]
        return sum(bool(set(a) & set(b)) for a, b in zip(ia, ib, strict=True))

    return risk(successes("real", main_rows), successes("holdout", control_rows), len(main_rows), len(control_rows))
