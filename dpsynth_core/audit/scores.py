"""Distinguishing scores of one release: how much of the canary shows in the output (black-box) and in the noisy
measurements captured during the fit (white-box).

Black-box scores read only what a release publishes: the synthetic rows (under a fixed public binning) and the release
record. White-box scores read the `capture` of `PrivateTable` outputs: noisy answers, which are themselves DP releases
internal to the fit.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..measurement.binning import Binning
from ..measurement.pandas_engine import codes_of
from .capture import Capture, MeasurementRecord
from .design import AuditTable, CanaryPool
from .gaussian import standardised_sum


def _declared(column_spec: Mapping[str, Any]) -> bool:
    """A column whose domain the spec declares (its measurement has the same shape in every run)."""
    return column_spec.get("kind") != "categorical" or "categories" in column_spec


def canary_code(value: Any, binning: Binning) -> int:
    """Code of one value under a binning (the engines' code layout)."""
    return int(codes_of(pd.Series([value], dtype=object if isinstance(value, str) else None), binning)[0])


class CanaryScorer:
    """Scores of one `AuditTable`'s canary; exact counts of the world without the canary are cached per binning.

    Args:
        table: the neighbouring pair.
        exact_known: whether the generator saw exactly D or D' (no holdout split); the likelihood-ratio score needs
            each cell's exact count in the world without the canary.
    """

    def __init__(self, table: AuditTable, exact_known: bool = True):
        self.table = table
        self.exact_known = exact_known
        self._reference = {c: (b, canary_code(table.canary[c], b)) for c, b in table.binnings.items()}
        self._out_codes: dict[Binning, np.ndarray] = {}

    # ------------------------------------------------------------------------------------------- black box
    def black_box(self, data: pd.DataFrame, record: Any) -> dict[str, Any]:
        rare = self.table.rare_column
        codes = {c: codes_of(data[c], b) for c, (b, _) in self._reference.items() if c in data}
        match = {c: codes[c] == code for c, (_, code) in self._reference.items() if c in codes}
        rows = max(len(data), 1)
        profile = np.concatenate([np.bincount(codes[c], minlength=b.size) / rows
                                  for c, (b, _) in self._reference.items() if c in codes])
        columns = getattr(record, "columns", {}) or {}
        return {
            "bb_1way": float(match[rare].sum()),
            "bb_2way": float(sum((match[rare] & m).sum() for c, m in match.items() if c != rare)),
            "bb_profile": profile,
            # released domain sizes: the number of released categories where the record gives it (the codes also count
            # the `other` and null codes, whose presence is itself a noisy decision)
            "bb_codes": float(sum(int(v.get("categories", v.get("codes", 0))) for v in columns.values()
                                  if isinstance(v, Mapping))),
        }

    # ------------------------------------------------------------------------------------------- white box
    def _exact_out(self, binnings: Sequence[Binning], cell: tuple[int, ...]) -> int:
        hit = np.ones(len(self.table.base), dtype=bool)
        for b, code in zip(binnings, cell, strict=True):
            if b not in self._out_codes:
                self._out_codes[b] = codes_of(self.table.base[b.column], b)
            hit &= self._out_codes[b] == code
        return int(hit.sum())

    def _cell(self, record: MeasurementRecord) -> tuple[int, ...] | None:
        if any(b.column not in self.table.canary for b in record.binnings):
            return None
        return tuple(canary_code(self.table.canary[b.column], b) for b in record.binnings)

    def white_box(self, capture: Capture, domain_binnings: Mapping[str, Binning]) -> dict[str, Any]:
        """wb_1way: noisy count of the canary's cell in the rare column's 1-way measurement; wb_profile: every
        declared column's 1-way measurement; wb_llr (+ wb_llr_mu, its claimed mean shift): all Gaussian
        measurements of the canary's cells combined by their claimed noise (see `gaussian.standardised_sum`)."""
        rare = self.table.rare_column
        first: dict[str, MeasurementRecord] = {}
        for m in capture.measurements:
            if len(m.binnings) == 1 and domain_binnings.get(m.binnings[0].column) == m.binnings[0]:
                first.setdefault(m.binnings[0].column, m)
        out: dict[str, Any] = {}
        if rare in first:
            out["wb_1way"] = float(first[rare].noisy[self._cell(first[rare])])
        declared = [c for c in self.table.binnings if c in first and _declared(self.table.spec[c])]
        if declared:
            out["wb_profile"] = np.concatenate([np.asarray(first[c].noisy, float).ravel() for c in declared])
        if self.exact_known:
            noisy, exact, sigmas = [], [], []
            for m in capture.measurements:
                cell = self._cell(m)
                if cell is None or not m.rho > 0:
                    continue
                noisy.append(float(m.noisy[cell]))
                exact.append(self._exact_out(m.binnings, cell))
                sigmas.append(1.0 / math.sqrt(2 * m.rho))
            out["wb_llr"], out["wb_llr_mu"] = standardised_sum(noisy, exact, sigmas)
        return out


def _model_frequencies(model: Any, column: str) -> Sequence[float] | None:
    """The DP category frequencies a fitted deep model stores for `column` (part of the released model), if any."""
    for span in getattr(getattr(model, "transformer", None), "spans", ()):
        if getattr(span, "column", None) == column and hasattr(span, "frequencies"):
            return span.frequencies
    return None


def one_run_scores(pool: CanaryPool, release: Any, capture: Capture, tag_binning: Binning | None
                   ) -> dict[str, np.ndarray]:
    """Per-canary scores of one release: synthetic rows carrying the canary's tag (black-box), the tag's frequency in
    the released model (black-box: the saved model is an output) and the noisy count of the tag in the captured
    1-way measurement of `tag` (white-box)."""
    tags = pool.tags
    counts = release.data["tag"].value_counts()
    scores = {"bb_tag": np.array([float(counts.get(t, 0)) for t in tags])}
    if tag_binning is None:
        return scores
    position = {v: i for i, v in enumerate(tag_binning.values)}
    frequencies = _model_frequencies(release.model, "tag")
    if frequencies is not None:
        scores["model_tag"] = np.array([float(frequencies[position[t]]) for t in tags])
    for m in capture.measurements:
        if len(m.binnings) == 1 and m.binnings[0] == tag_binning:
            scores["wb_tag"] = np.array([float(m.noisy[position[t]]) for t in tags])
            break
    return scores
