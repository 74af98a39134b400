"""The holdout split and the raw rows handed to the (non-DP) evaluation.

The split is a keyed-hash partition with a secret salt drawn from OS entropy per release (never from the public
`seed`): each row's side depends only on that row and the salt, so the training part of D and of D minus one row differ
by at most that row, and the generator's guarantee w.r.t. the source is the guarantee w.r.t. its training part.
With a privacy unit the hash is of the unit's key, so all rows of a unit land on one side and the same argument holds
for units.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from .engine import Engine
from .guard import guarded
from .privacy_unit import ROW, SALT_BYTES, PrivacyUnit


def split_holdout(engine: Engine, fraction: float, unit: PrivacyUnit = ROW) -> tuple[Engine, Engine]:
    """(train, holdout) engines; the holdout holds about `fraction` of the rows (of the units, with a unit column),
    every unit whole on one side. The salt is never stored."""
    salt = secrets.token_bytes(SALT_BYTES)
    return guarded(lambda: engine.partition_rows(fraction, salt, unit.column), step="holdout split",
                   table=engine.relation_name)


@dataclass(frozen=True)
class EvaluationRows:
    """Raw rows of the training part and the holdout, for the evaluation only. NOT differentially private.

    Metrics computed from these are evidence for the people who approve a release; they must stay in a private
    schema and must not reach the synthetic table's consumers.
    """

    train: pd.DataFrame
    holdout: pd.DataFrame
    privacy: str = "not differentially private: raw rows for the release evaluation only"


def read_evaluation_rows(train: Engine, holdout: Engine, columns: Sequence[str]) -> EvaluationRows:
    """Fetch the evaluation's raw rows (the only raw read outside a DP mechanism; see `EvaluationRows`)."""
    def read() -> EvaluationRows:
        return EvaluationRows(train.fetch_rows(columns), holdout.fetch_rows(columns))

    return guarded(read, step="evaluation rows", table=train.relation_name, columns=list(columns))
