"""DP kind decision for text columns (a CSV read as all-VARCHAR): which kind a column is, from noisy counts only.

The engine counts the rows of each text class (`TextClassBinning`: integer, decimal, date, timestamp, boolean-like,
other, null; one histogram, sensitivity 1) and this module picks the kind by post-processing the noisy counts: the
first of integer, number (integer or decimal), date, timestamp (date or timestamp) whose classes hold all non-null
values but at most `tolerance` of them (allowing for the noise); otherwise categorical. Boolean-like text (`yes`/`no`,
`True`/`False`) stays categorical: its values are released by category discovery and spelled as the source spells
them. No value ever picks the representation: the kind is a DP output, and the decoded values follow from it by a
public rule (integers as Int64, numbers as float, dates as dates, timestamps as naive UTC timestamps). Values of a
numeric or datetime column that do not parse as its kind are read as null.
"""

from __future__ import annotations

import math

import numpy as np

from ..measurement.binning import TEXT_CLASSES
from ..measurement.engine import TypeFamily
from ..schema import ColumnKind
from .grids import SIGNIFICANT_SIGMAS

# Noise allowance on the rows outside a candidate's classes: 3 sigma, so a clean integer column is taken for text
# with probability ~3e-4 (at 2 sigma it was ~1%: one column in a 30-numeric-column benchmark run).
REST_SIGMAS = 3.0
_CLASS = {name: k for k, (name, _) in enumerate(TEXT_CLASSES)}
# (kind, value family, the text classes that make it) in decision order
_CANDIDATES = (
    (ColumnKind.INTEGER, TypeFamily.INTEGER, ("integer",)),
    (ColumnKind.CONTINUOUS, TypeFamily.FLOAT, ("integer", "decimal")),
    (ColumnKind.DATETIME, TypeFamily.DATE, ("date",)),
    (ColumnKind.DATETIME, TypeFamily.TIMESTAMP, ("date", "timestamp")),
)


def decide_text_kind(noisy_counts: np.ndarray, sigma: float, tolerance: float
                     ) -> tuple[ColumnKind, TypeFamily] | None:
    """(kind, value family) for a text column from its noisy text-class counts (`TextClassBinning` layout; the null
    cell is ignored), or None when the counts are too noisy to tell (the column stays categorical).

    A candidate wins when its classes' noisy count clears 4 sigma and the noisy count of the rows outside its classes
    (unclipped: unbiased) is at most `tolerance` of the noisy non-null total plus `REST_SIGMAS` noise standard
    deviations of that count.
    """
    counts = np.asarray(noisy_counts, dtype=float)[:len(TEXT_CLASSES) + 1]
    total = float(counts.sum())
    for kind, family, classes in _CANDIDATES:
        inside = [_CLASS[c] for c in classes]
        outside = [k for k in range(len(counts)) if k not in inside]
        held, rest = float(counts[inside].sum()), float(counts[outside].sum())
        if held > SIGNIFICANT_SIGMAS * sigma * math.sqrt(len(inside)) and \
                rest <= tolerance * total + REST_SIGMAS * sigma * math.sqrt(len(outside)):
            return kind, family
    if total <= SIGNIFICANT_SIGMAS * sigma * math.sqrt(len(counts)):
        return None
    return ColumnKind.CATEGORICAL, TypeFamily.STRING
