"""Column domains: how each column is coded for the generators and decoded back into values of the source's type.

A `TableDomain` is what DP domain resolution (`preprocessing.resolve`) released: per column its binning (the code
layout of `measurement/binning.py`) and how to decode codes back into values. Decoding round-trips the source's
representation, from public information and DP outputs only:
- categorical values are the released values, spelled exactly as the source holds them (a text `yes`/`no` column
  stays `yes`/`no`; booleans are booleans only when the source type is BOOLEAN);
- integer-family columns (and columns whose kind DP decided is integer) decode to pandas `Int64`, never to floats;
  float columns to float64; DATE columns to `datetime.date` objects, TIMESTAMP to naive datetime64 and
  TIMESTAMP WITH TIME ZONE to tz-aware UTC datetime64;
- numeric atoms (DP-detected point masses such as 0) decode to exactly their value; bins decode to a value drawn
  inside the bin from the DP fine histogram;
- a category (or numeric code) DP discovery did not release is coded `other`. It is never decoded as null: by
  default it is re-spread over the released values (drawn like the batch's in-domain rows), so every output value is
  one the source has (a synthetic table passes the source's `accepted_values` tests; no spelling outside the released
  values exists in a typed column anyway); with `PreprocessOptions.other_label` set (e.g. `"__other__"`), text columns
  spell it with that label instead, which keeps the released categories' frequencies and makes the loss queryable.
  The release record reports the DP estimate of the share pooled (`pooled_share`) and how it was decoded.
`TableDomain.source_types` carries each column's public source type and family, so writers (dbt glue, CLI) can cast
the output relation to the exact source types (INTEGER vs BIGINT, DECIMAL(p, s), DATE, TIMESTAMPTZ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..measurement.binning import Binning, CategoricalBinning, NumericBinning
from ..measurement.engine import TypeFamily
from ..schema import ColumnKind

DEFAULT_OTHER_LABEL = "__other__"     # the suggested label of an explicit `other` bucket (`other_label`; default off)
INT64_LIMIT = float(2 ** 63 - 1024)     # the largest double below 2^63 (every int64 output fits within +-this)
UINT64_LIMIT = float(2 ** 64 - 2048)    # the largest double below 2^64


@dataclass(frozen=True)
class ColumnDomain:
    """One modelled column: its binning (engine-facing) and how to decode codes back into values.

    Attributes:
        source_type, source_family: the public type name and family of the source column (engine dialect).
        value_type_family: family of the decoded values when it differs from the source's (a text column whose kind
            DP decided, e.g. "integer"); empty means the source family.
        fine_edges, fine_weights: public-or-DP fine grid inside the model bins and its DP (noisy, cleaned) counts.
        discovered: the domain came from a DP mechanism.
        integral: a float column that holds integers (declared or DP-measured): decoded values are rounded.
        decimals: a float column whose values need at most this many decimals (DP-measured; 0 = integral): decoded
            values are rounded to them (tenths stay tenths).
        other_label: spelling of the `other` code (text columns), or None to re-spread it over the released values.
        kind_source: where the kind came from: "spec", "type" (the public type) or "dp" (a charged DP decision).
        report: what DP could and could not keep, for the release record (DP estimates and public numbers only).
    """

    name: str
    kind: ColumnKind
    binning: Binning
    source_type: str = ""
    source_family: str = TypeFamily.OTHER.value
    fine_edges: tuple[float, ...] | None = None
    fine_weights: tuple[float, ...] | None = None
    discovered: bool = False
    integral: bool = False
    value_type_family: str = ""
    other_label: str | None = None
    kind_source: str = "type"
    report: dict = field(default_factory=dict, hash=False)
    decimals: int | None = None

    @property
    def value_family(self) -> TypeFamily:
        """Family of the decoded values: the source's, or the one a DP kind decision picked."""
        return TypeFamily(self.value_type_family or self.source_family)

    @property
    def rounds(self) -> bool:
        return self.kind == ColumnKind.INTEGER or self.integral or self.value_family.is_integer

    @property
    def size(self) -> int:
        return self.binning.size

    @property
    def labels(self) -> list[str]:
        b = self.binning
        if isinstance(b, CategoricalBinning):
            out = [str(v) for v in b.values]
            if b.other_code is not None:
                out.append("<other>")
        else:
            bins, atoms = b.cell_codes()
            out = [""] * b.n_values
            for i, code in enumerate(bins):
                out[code] = f"[{b.edges[i]:g},{b.edges[i + 1]:g})"
            for a, code in zip(b.atoms, atoms, strict=True):
                out[code] = f"={a:g}"
        if b.null_code is not None:
            out.append("<null>")
        return out

    # ------------------------------------------------------------------------------------------------ decoding
    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        codes = np.asarray(codes, dtype=np.int64)
        b = self.binning
        if isinstance(b, CategoricalBinning):
            return self._decode_categorical(codes, rng)
        is_null = codes == b.null_code if b.null_code is not None else np.zeros(len(codes), dtype=bool)
        value_codes = np.clip(np.where(is_null, 0, codes), 0, b.n_values - 1)
        bin_of = b.bin_of_code()[value_codes]
        is_atom = (bin_of < 0) & ~is_null
        x = self._within_bin(np.where(bin_of < 0, 0, bin_of), rng)
        if is_atom.any():
            _, atom_codes = b.cell_codes()
            atom_value = np.full(b.n_values, np.nan)
            atom_value[list(atom_codes)] = b.atoms
            x[is_atom] = atom_value[value_codes[is_atom]]
        return self.typed_values(x, is_null, exact=is_atom)

    def _decode_categorical(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        b = self.binning
        n = len(codes)
        values = np.empty(n, dtype=object)
        in_domain = codes < len(b.values)
        values[in_domain] = np.asarray(b.values, dtype=object)[codes[in_domain]]
        is_null = codes == b.null_code if b.null_code is not None else np.zeros(n, dtype=bool)
        is_other = codes == b.other_code if b.other_code is not None else np.zeros(n, dtype=bool)
        values[is_null] = None
        if is_other.any():
            if self.other_label is not None:
                values[is_other] = self.other_label
            elif in_domain.any():      # re-spread: drawn like the batch's in-domain rows (never a null, never new)
                values[is_other] = rng.choice(values[in_domain], size=int(is_other.sum()))
            elif b.values:
                values[is_other] = rng.choice(np.asarray(b.values, dtype=object), size=int(is_other.sum()))
            else:                      # nothing was released and there is no label: nothing to spell it with
                values[is_other] = None
        return self._typed_objects(values)

    def _typed_objects(self, values: np.ndarray) -> pd.Series:
        """Decoded categorical values (objects, None for null) as the column's output dtype."""
        family = self.value_family
        present = np.array([v is not None for v in values], dtype=bool)
        if family == TypeFamily.BOOLEAN and all(isinstance(v, (bool, np.bool_)) for v in values[present]):
            return pd.Series(pd.array(list(values), dtype="boolean"), name=self.name)
        integer = family.is_integer or (self.kind == ColumnKind.INTEGER and self.binning.numeric)
        if integer and self.other_label is None:
            out = pd.array([int(round(float(v))) if v is not None else None for v in values], dtype="Int64")
            return pd.Series(out, name=self.name)
        if family in (TypeFamily.FLOAT, TypeFamily.DECIMAL) or getattr(self.binning, "numeric", False):
            return pd.Series([float(v) if v is not None else np.nan for v in values], name=self.name, dtype=float)
        return pd.Series(values, name=self.name, dtype=object)

    def typed_values(self, x: np.ndarray, is_null: np.ndarray, exact: np.ndarray | None = None) -> pd.Series:
        """Numeric values (in the binning's unit) -> the column's output type: clipped into the domain's bounds and
        rounded for integer and integral columns (except `exact` values: atoms, decoded as they are), datetimes from
        epoch seconds, nulls where `is_null`."""
        b = self.binning
        x = np.asarray(x, dtype=float)
        lo, hi = b.edges[0], b.edges[-1]
        if self.rounds:
            moved = np.clip(np.round(x), math.ceil(lo), max(math.floor(hi), math.ceil(lo)))
        else:
            moved = np.clip(x, lo, hi)
        if not self.rounds and self.decimals:
            moved = np.round(moved, self.decimals)
        x = moved if exact is None else np.where(exact, x, moved)
        if self.kind == ColumnKind.DATETIME:
            return self._datetimes(x, is_null)
        if self.rounds and (self.kind == ColumnKind.INTEGER or self.value_family.is_integer):
            # a double read of a 64-bit integer can exceed the output type (an UBIGINT near 2^64): the nearest value
            unsigned = self.value_family == TypeFamily.UNSIGNED
            x = np.clip(x, 0.0, UINT64_LIMIT) if unsigned else np.clip(x, -INT64_LIMIT, INT64_LIMIT)
            series = pd.Series(np.where(is_null, 0, x), name=self.name).astype("UInt64" if unsigned else "Int64")
            series[is_null] = pd.NA
            return series
        return pd.Series(np.where(is_null, np.nan, x), name=self.name, dtype=float)

    def _datetimes(self, seconds: np.ndarray, is_null: np.ndarray) -> pd.Series:
        ts = pd.to_datetime(pd.Series(np.where(is_null, np.nan, seconds)), unit="s", utc=True)
        family = self.value_family
        if family == TypeFamily.DATE:
            days = ts.dt.floor("D")
            return pd.Series([d.date() if not pd.isna(d) else None for d in days], name=self.name, dtype=object)
        if family == TypeFamily.TIMESTAMP_TZ:
            return ts.rename(self.name)
        return ts.dt.tz_localize(None).rename(self.name)

    def _within_bin(self, bins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a value inside each model bin: from the DP fine histogram when there is one, else uniformly."""
        edges = np.asarray(self.binning.edges, dtype=float)
        lo, hi = edges[bins], edges[bins + 1]
        if self.fine_edges is None:
            if self.rounds:  # uniform over the integers inside the bin
                a = np.ceil(lo)
                c = np.maximum(np.floor(hi - 1e-9), a)
                return a + np.floor(rng.random(len(bins)) * (c - a + 1))
            return lo + rng.random(len(bins)) * (hi - lo)
        fe = np.asarray(self.fine_edges, dtype=float)
        fw = np.asarray(self.fine_weights, dtype=float)
        fine_mid = (fe[:-1] + fe[1:]) / 2
        fine_bin_of = np.searchsorted(edges[1:-1], fine_mid, side="right")  # which model bin each fine bin is in
        out = np.empty(len(bins))
        for model_bin in np.unique(bins):
            rows = np.flatnonzero(bins == model_bin)
            members = np.flatnonzero(fine_bin_of == model_bin)
            weights = fw[members] if members.size else np.array([])
            if members.size == 0 or weights.sum() <= 0:
                out[rows] = edges[model_bin] + rng.random(rows.size) * (edges[model_bin + 1] - edges[model_bin])
                continue
            pick = members[rng.choice(members.size, size=rows.size, p=weights / weights.sum())]
            out[rows] = fe[pick] + rng.random(rows.size) * (fe[pick + 1] - fe[pick])
        return out

    # ------------------------------------------------------------------------------------------------ state
    def to_state(self) -> dict[str, Any]:
        b = self.binning
        state: dict[str, Any] = {"name": self.name, "kind": self.kind.value, "source_type": self.source_type,
                                 "source_family": self.source_family, "discovered": self.discovered,
                                 "integral": self.integral, "value_type_family": self.value_type_family,
                                 "other_label": self.other_label, "kind_source": self.kind_source,
                                 "report": dict(self.report), "decimals": self.decimals}
        if isinstance(b, CategoricalBinning):
            state["binning"] = {"type": "categorical", "values": list(b.values), "has_other": b.has_other,
                                "nullable": b.nullable, "numeric": b.numeric}
        else:
            state["binning"] = {"type": "numeric", "edges": list(b.edges), "nullable": b.nullable,
                                "datetime": b.datetime, "atoms": list(b.atoms)}
        if self.fine_edges is not None:
            state["fine_edges"], state["fine_weights"] = list(self.fine_edges), list(self.fine_weights)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "ColumnDomain":
        raw = state["binning"]
        if raw["type"] == "categorical":
            binning: Binning = CategoricalBinning(state["name"], tuple(raw["values"]), raw["has_other"],
                                                  raw["nullable"], bool(raw.get("numeric", False)))
        else:
            binning = NumericBinning(state["name"], tuple(raw["edges"]), raw["nullable"], raw["datetime"],
                                     atoms=tuple(float(a) for a in raw.get("atoms", ())))
        fine_e = state.get("fine_edges")
        return cls(state["name"], ColumnKind(state["kind"]), binning, state.get("source_type", ""),
                   state.get("source_family", TypeFamily.OTHER.value),
                   tuple(fine_e) if fine_e is not None else None,
                   tuple(state["fine_weights"]) if fine_e is not None else None, state.get("discovered", False),
                   state.get("integral", False), state.get("value_type_family", ""), state.get("other_label"),
                   state.get("kind_source", "type"), dict(state.get("report", {})), state.get("decimals"))


@dataclass(frozen=True)
class TableDomain:
    """Modelled columns (in relation order) plus identifier columns (never learned, filled with surrogate keys).

    `source_types`: (name, public type, public family) of every relation column, in relation order — what a writer
    casts the output relation to.
    """

    relation: str
    columns: tuple[ColumnDomain, ...]
    identifiers: tuple[tuple[str, str], ...] = ()   # (name, source type family)
    column_order: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    source_types: tuple[tuple[str, str, str], ...] = ()

    @property
    def attrs(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(c.size for c in self.columns)

    def column(self, name: str) -> ColumnDomain:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def output_types(self) -> dict[str, dict[str, str]]:
        """{column: {"source_type", "source_family", "value_family"}} in relation order: the type to cast each
        output column to (`source_type`, public) and the family its decoded values have (differs from the source's
        only for a text column whose kind DP decided)."""
        values = {c.name: c.value_family.value for c in self.columns}
        return {name: {"source_type": type_, "source_family": family, "value_family": values.get(name, family)}
                for name, type_, family in self.source_types}

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Codes (n, d) in `attrs` order -> a DataFrame in the relation's column order with surrogate identifiers."""
        n = codes.shape[0]
        data = {c.name: c.decode(codes[:, j], rng).reset_index(drop=True) for j, c in enumerate(self.columns)}
        for name, family in self.identifiers:  # fresh surrogate keys: nothing from the source identifiers survives
            data[name] = surrogate_keys(TypeFamily(family), 1, n)
        order = self.column_order or tuple(data)
        return pd.DataFrame({name: data[name] for name in order})

    def to_state(self) -> dict[str, Any]:
        return {"relation": self.relation, "columns": [c.to_state() for c in self.columns],
                "identifiers": [list(i) for i in self.identifiers], "column_order": list(self.column_order),
                "warnings": list(self.warnings), "source_types": [list(t) for t in self.source_types]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "TableDomain":
        return cls(state["relation"], tuple(ColumnDomain.from_state(c) for c in state["columns"]),
                   tuple(tuple(i) for i in state["identifiers"]), tuple(state["column_order"]),
                   tuple(state.get("warnings", ())), tuple(tuple(t) for t in state.get("source_types", ())))


def surrogate_keys(family: TypeFamily, first: int, n: int) -> pd.Series:
    """Surrogate keys first, first+1, ..., first+n-1 for an identifier column: integers for an integer family, else
    text "syn-00000001"... (chunked samplers pass each chunk's first row so keys stay unique across chunks)."""
    if family.is_integer:
        return pd.Series(np.arange(first, first + n), dtype="Int64")
    return pd.Series([f"syn-{i:08d}" for i in range(first, first + n)], dtype=object)



def __getattr__(name: str):
    """`resolve_domains` and `PreprocessOptions` moved to `preprocessing.resolve`; still importable from here."""
    if name in ("resolve_domains", "PreprocessOptions"):
        from . import resolve

        return getattr(resolve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
