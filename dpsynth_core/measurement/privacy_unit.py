"""The privacy unit and contribution bounding: what "one individual" means for a release, and how its influence is
capped before anything is measured.

Default unit: one source row (add/remove one row). With a key column (`privacy_unit: patient_id`), neighbouring tables
differ by adding or removing one unit: all rows sharing a key value (rows with a null key are one unit). Before any
measurement the table is bounded to at most k = `max_rows_per_unit` rows per unit, chosen at random with a secret salt
drawn from OS entropy per release (`Engine.bound_rows_per_unit`): within a unit, rows are ranked by a keyed hash of
(salt, row values, occurrence number) and the first k kept. Which rows of a unit survive depends on that unit's rows
and the salt only, so for every salt the bounded tables of two neighbours differ by the at most k kept rows of one
unit. Every mechanism of `PrivateTable` then charges for a change of up to k rows (the sensitivities are listed in
`private_table.py`); the guarantee is per unit, at the requested (epsilon, delta).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .engine import Engine

SALT_BYTES = 16


@dataclass(frozen=True)
class PrivacyUnit:
    """Who is protected: one row (`column=None`) or one value of a key column, with at most `max_rows` rows each.

    Attributes:
        column: the key column naming the unit (e.g. `patient_id`), or None for one source row. Public.
        max_rows: k, the most rows one unit may contribute (public; rows beyond it are dropped at random).
    """

    column: str | None = None
    max_rows: int = 1

    def __post_init__(self):
        if int(self.max_rows) != self.max_rows or self.max_rows < 1:
            raise ValueError(f"max_rows per unit must be an integer >= 1, got {self.max_rows!r}")
        if self.column is None and self.max_rows != 1:
            raise ValueError("max_rows per unit > 1 needs a unit column")

    @property
    def is_row(self) -> bool:
        return self.column is None

    @property
    def neighbouring(self) -> str:
        """The neighbouring relation in words (the release record's `neighbouring`)."""
        if self.column is None:
            return "add/remove one source row"
        rows = "1 row" if self.max_rows == 1 else f"{self.max_rows} rows"
        return f"add/remove one {self.column} (all its rows), at most {rows} each"

    def to_record(self) -> dict[str, Any]:
        """The release record's `privacy_unit` entry (public settings only)."""
        if self.column is None:
            return {"unit": "row", "column": None, "max_rows_per_unit": 1, "bounding": None}
        return {"unit": self.column, "column": self.column, "max_rows_per_unit": self.max_rows,
                "bounding": "at most max_rows_per_unit rows per unit, chosen by a keyed hash with a secret salt "
                            "before any measurement; rows with a null key form one unit",
                "sensitivity_factor": self.max_rows}


ROW = PrivacyUnit()


def bound_contributions(engine: Engine, unit: PrivacyUnit) -> Engine:
    """The engine over at most `unit.max_rows` rows per unit (unchanged when the unit is one row). The salt is drawn
    from OS entropy and never stored."""
    if unit.is_row:
        return engine
    return engine.bound_rows_per_unit(unit.column, unit.max_rows, secrets.token_bytes(SALT_BYTES))
