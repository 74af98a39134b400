"""Keyed, verifiable watermark of a synthetic table: post-processing only, so it costs no privacy budget.

Scheme `dpsynth-wm-1`. Synthetic continuous values (and timestamps) are drawn uniformly inside a DP bin (see
`preprocessing.domains.ColumnDomain._within_bin`); their trailing digits carry no information about anyone. The
watermark re-chooses those digits with a secret key:

* a float's **cell** is its first 4 significant digits (sign and decade included); the 5th significant digit picks one
  of 10 **sub-cells**. A timestamp's cell is its minute (UTC), its sub-cells are the minute's ten 6-second slots.
* a keyed PRF (BLAKE2b under a key derived from the secret) makes each sub-cell of each cell independently "green" with
  probability 1/2;
* `embed` moves every value that sits in a non-green sub-cell to a green sub-cell of the same cell (chosen uniformly),
  keeping its position inside the sub-cell but squeezed into the sub-cell's middle 80% (so re-rounding to 6
  significant digits, float32, or timestamps truncated to the second keep the sub-cell).
* `detect` counts, over the table's distinct (cell, sub-cell) pairs, how many are green. Without the watermark (or
  under another key) each is green independently with probability 1/2 whatever the table, so the count is
  Binomial(n, 1/2) and the exact binomial tail is the p-value (= the false-positive rate at that score); a
  watermarked table has all of them green.

Properties:
* **Distortion.** A value moves by less than one cell, i.e. by under 1e-3 of its own magnitude (timestamps: within their
  minute), and never changes its bin unless a bin edge lies inside its cell. Averaged over keys the within-cell
  distribution is exactly the unwatermarked one. Categorical, boolean, integer and integer-valued columns are never
  touched; nor are values that are "round" at 5 significant digits (zero, declared bounds such as 0 or 100, dates).
* **Robustness.** Every marked value is evidence on its own: detection needs no row order, no row ids and no column
  names, so it survives shuffling, subsets (a few dozen marked values suffice; 10% of a few thousand rows is
  overwhelming), renamed or reordered columns, CSV/Parquet/DuckDB round trips, float32 and 6-significant-digit
  rounding.
* **Limits (what removes it).** Rounding continuous values to 4 significant digits or fewer (or to a resolution
  coarser than the sub-cell, e.g. 2 decimals on values below 100), truncating timestamps to the minute, adding noise,
  replacing or dropping the continuous/timestamp columns, or re-synthesising (fitting any model to the table and
  sampling from it). Tables without a continuous or timestamp column cannot be marked. Anyone holding the key can
  remove the mark precisely or forge it, so the key never goes to the warehouse or to recipients. Recipients who
  compare differently keyed copies of the same rows see which values differ: give each its own sample of the model.
  The watermark is a tracing aid for copies passed on as received, not proof against a deliberate remover. A positive
  detection says
  "these values were post-processed with this key", and its p-value is the chance of that score without the key.

Keys: bytes from an environment variable (`DPSYNTH_WATERMARK_KEY` by default) or a secrets file (`load_key`), at
least 16 bytes. Use one key per recipient (or `derive_key(master, recipient)`) so that a found copy names its
recipient; the ledger keeps only `key_fingerprint(key)`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import special, stats

from .errors import ConfigError, InputError

SCHEME = "dpsynth-wm-1"
SIGNIFICANT_DIGITS = 4            # a float's cell = its first 4 significant digits
SUBCELLS = 10                     # the 5th significant digit (a timestamp's 6-second slot) picks the sub-cell
DATETIME_CELL_NS = 60 * 10 ** 9   # a timestamp's cell = its minute
MARGIN = 0.1                      # marked values sit in the middle 80% of their sub-cell
MIN_KEY_BYTES = 16
DEFAULT_KEY_ENV = "DPSYNTH_WATERMARK_KEY"
DEFAULT_ALPHA = 1e-6              # default false-positive rate of a positive detection
_ROUND = 1e-6                     # a value within this fraction of a sub-cell edge is "round": never marked or counted
_SUBCELL_NS = DATETIME_CELL_NS // SUBCELLS


# ---------------------------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------------------------

def _key_bytes(key: bytes | str) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(f"the watermark key has {len(raw)} bytes; it needs at least {MIN_KEY_BYTES}.",
                          fix="generate one with `dpsynth watermark new-key` (or `python -c \"import secrets; "
                              "print(secrets.token_hex(32))\"`) and keep it in a secrets store.")
    return raw


def load_key(env_var: str | None = DEFAULT_KEY_ENV, path: str | os.PathLike | None = None) -> bytes:
    """The watermark key from a secrets file (when `path` is given) or an environment variable; never from the
    warehouse. Surrounding whitespace (a trailing newline) is stripped. Raises ConfigError when it is missing or short.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"watermark key file {str(p)!r} does not exist.",
                              fix="pass the path of the secrets file holding the key.")
        return _key_bytes(p.read_bytes().strip())
    value = os.environ.get(env_var or DEFAULT_KEY_ENV)
    if not value:
        raise ConfigError(f"environment variable {env_var!r} holding the watermark key is not set.",
                          fix=f"export {env_var}=<key> from your secrets store (never keep it in the warehouse).")
    return _key_bytes(value.strip())


def key_fingerprint(key: bytes | str) -> str:
    """A public, one-way fingerprint of a key for the ledger and release records (`wm1:` + 16 hex digits)."""
    digest = hmac.new(_key_bytes(key), b"dpsynth watermark key fingerprint v1", hashlib.sha256).hexdigest()
    return "wm1:" + digest[:16]


def derive_key(master: bytes | str, label: str) -> bytes:
    """A per-recipient (or per-release) key derived from one master secret: HMAC-SHA256(master, label)."""
    return hmac.new(_key_bytes(master), b"dpsynth watermark recipient:" + label.encode("utf-8"),
                    hashlib.sha256).digest()


def new_key() -> str:
    """A fresh random key (64 hex characters = 32 bytes of entropy)."""
    import secrets

    return secrets.token_hex(32)


class _GreenBits:
    """Keyed PRF: cell code -> 10 independent fair bits (bit s = sub-cell s is green), cached per distinct cell.

    The PRF is keyed BLAKE2b (a cryptographic PRF) on the 9-byte encoding domain + cell code, under a key derived
    from the secret, so a table's green pattern reveals nothing about other cells or about the secret.
    """

    def __init__(self, key: bytes | str):
        self._prf_key = hmac.new(_key_bytes(key), SCHEME.encode() + b" green", hashlib.sha256).digest()
        self._cache: dict[tuple[bytes, int], int] = {}

    def bits(self, domain: bytes, codes: np.ndarray) -> np.ndarray:
        """The green bits (int64, low 10 bits) of each cell code of `domain` (b"f" floats, b"t" timestamps)."""
        out = np.empty(len(codes), dtype=np.int64)
        mask = (1 << SUBCELLS) - 1
        cache, key = self._cache, self._prf_key
        for i, code in enumerate(codes.tolist()):
            bits = cache.get((domain, code))
            if bits is None:
                digest = hashlib.blake2b(domain + code.to_bytes(8, "little", signed=True), key=key,
                                         digest_size=8).digest()
                bits = cache[(domain, code)] = int.from_bytes(digest, "little") & mask
            out[i] = bits
        return out


# ---------------------------------------------------------------------------------------------------------------------
# Cells: value -> (cell id, sub-cell, offset inside the sub-cell) and back
# ---------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Cells:
    """Decomposition of the eligible values of one column: `index` = positions in the column; a value is
    `sign * (anchor + (subcell + offset) * width)` with `offset` in (0, 1)."""

    domain: bytes               # b"f" (floats) or b"t" (timestamps): separates the two kinds of cell codes
    index: np.ndarray
    codes: np.ndarray           # int64 cell code (sign, decade and 4 leading digits; or the minute)
    subcell: np.ndarray
    offset: np.ndarray
    anchor: np.ndarray
    width: np.ndarray
    sign: np.ndarray

    def values(self, target_subcell: np.ndarray) -> np.ndarray:
        """The values moved to `target_subcell`, each squeezed into the middle of its sub-cell."""
        inner = MARGIN + (1 - 2 * MARGIN) * self.offset
        return self.sign * (self.anchor + (target_subcell + inner) * self.width)


def _decade(a: np.ndarray) -> np.ndarray:
    exp = np.floor(np.log10(a)).astype(np.int64)
    exp += (a >= 10.0 ** (exp + 1)).astype(np.int64)   # log10 round-off at decade edges
    exp -= (a < 10.0 ** exp).astype(np.int64)
    return exp


def _float_cells(values: np.ndarray) -> _Cells:
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x) & (x != 0)
    with np.errstate(invalid="ignore"):
        integral = finite & (x == np.round(x))
    idx = np.flatnonzero(finite & ~integral)          # integers (and integer-valued floats) are never marked
    a = np.abs(x[idx])
    exp = _decade(a)
    cell_unit = 10.0 ** (exp - SIGNIFICANT_DIGITS + 1)
    scaled = a / cell_unit                             # in [10^(S-1), 10^S)
    cell = np.floor(scaled)
    pos = (scaled - cell) * SUBCELLS
    sub = np.minimum(np.floor(pos), SUBCELLS - 1)
    offset = pos - sub
    keep = (offset > _ROUND) & (offset < 1 - _ROUND)   # values round at 5 significant digits carry no mark
    negative = x[idx] < 0
    # code = ((decade + 400) * 2 + sign) * 10^S + leading digits: unique per cell, float decades span -324..308
    codes = ((exp + 400) * 2 + negative) * 10 ** SIGNIFICANT_DIGITS + cell.astype(np.int64)
    return _Cells(b"f", idx[keep], codes[keep], sub[keep].astype(np.int64), offset[keep], (cell * cell_unit)[keep],
                  (cell_unit / SUBCELLS)[keep], np.where(negative, -1.0, 1.0)[keep])


def _datetime_ns(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 epoch nanoseconds in UTC, not-null mask)."""
    s = series
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    s = s.astype("datetime64[ns]")
    return s.to_numpy().view(np.int64), s.notna().to_numpy()


def _datetime_cells(ns: np.ndarray, mask: np.ndarray) -> _Cells:
    idx = np.flatnonzero(mask)
    v = ns[idx]
    cell = np.floor_divide(v, DATETIME_CELL_NS)
    within = v - cell * DATETIME_CELL_NS
    sub = within // _SUBCELL_NS
    offset = (within - sub * _SUBCELL_NS) / _SUBCELL_NS
    keep = (offset > _ROUND) & (offset < 1 - _ROUND)   # whole 6-second instants (dates, midnights) carry no mark
    k = int(keep.sum())
    return _Cells(b"t", idx[keep], cell[keep].astype(np.int64), sub[keep].astype(np.int64), offset[keep],
                  (cell * DATETIME_CELL_NS)[keep].astype(float), np.full(k, float(_SUBCELL_NS)), np.ones(k))


def _datetime_values(cells: _Cells, target_sub: np.ndarray) -> np.ndarray:
    """Marked epoch nanoseconds, exact in integers (floats would lose nanoseconds), rounded to microseconds."""
    anchor = cells.anchor.astype(np.int64)
    inner = MARGIN + (1 - 2 * MARGIN) * cells.offset
    out = anchor + target_sub * _SUBCELL_NS + np.round(inner * _SUBCELL_NS).astype(np.int64)
    return (out // 1000) * 1000


def _is_float(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series.dtype)


# ---------------------------------------------------------------------------------------------------------------------
# Embed and detect
# ---------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WatermarkStamp:
    """What `embed` did, for the ledger and the release record (no secret in it)."""

    scheme: str
    key_fingerprint: str
    columns: tuple[str, ...]        # columns that received marks
    values_marked: int              # values now in a green sub-cell (moved or already green)
    values_moved: int

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "key_fingerprint": self.key_fingerprint, "columns": list(self.columns),
                "values_marked": self.values_marked, "values_moved": self.values_moved,
                "privacy_cost": "none (post-processing of the synthetic table)"}


@dataclass(frozen=True)
class Detection:
    """Result of `detect`: `green` of `cells` distinct (cell, sub-cell) pairs were green under the key.

    `p_value` is the exact probability of at least that many green pairs in a table the key never marked: the
    false-positive rate of calling this table watermarked. `score` is the z-score 2(green - cells/2)/sqrt(cells).
    """

    scheme: str
    key_fingerprint: str
    cells: int
    green: int
    score: float
    p_value: float
    alpha: float
    columns: tuple[str, ...]
    log10_p_value: float = 0.0      # stays finite where p_value underflows to 0

    @property
    def detected(self) -> bool:
        return self.cells > 0 and self.p_value <= self.alpha

    @property
    def green_fraction(self) -> float:
        return self.green / self.cells if self.cells else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "key_fingerprint": self.key_fingerprint, "cells": self.cells,
                "green": self.green, "green_fraction": self.green_fraction, "score": self.score,
                "p_value": self.p_value, "log10_p_value": self.log10_p_value, "alpha": self.alpha,
                "detected": self.detected, "columns": list(self.columns)}


def _candidate_columns(frame: pd.DataFrame, columns: Iterable[str] | None) -> list[str]:
    if columns is None:
        return [c for c in frame.columns if _is_float(frame[c]) or _is_datetime(frame[c])]
    names = list(columns)
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise InputError(f"watermark columns {missing} are not in the table.", column=missing[0],
                         fix=f"choose among {list(frame.columns)}.")
    wrong = [c for c in names if not (_is_float(frame[c]) or _is_datetime(frame[c]))]
    if wrong:
        raise InputError(f"column {wrong[0]!r} has type {frame[wrong[0]].dtype}; only float and timestamp columns "
                         f"can carry the watermark.", column=wrong[0], fix="leave it out of `columns`.")
    return names


def embed(frame: pd.DataFrame, key: bytes | str, *, columns: Iterable[str] | None = None,
          bounds: Mapping[str, tuple[float, float]] | None = None,
          rng: np.random.Generator | int | None = None) -> tuple[pd.DataFrame, WatermarkStamp]:
    """Watermark a synthetic table (post-processing: no privacy cost). The input frame is not modified.

    Args:
        frame: the synthetic table.
        key: the secret key (>= 16 bytes; see `load_key`).
        columns: float / timestamp columns to mark (default: every float and timestamp column). Pass the continuous
            and timestamp columns of the model (`columns_from_domain`) so categorical codes stored as floats are
            never touched.
        bounds: optional `{column: (lower, upper)}` (epoch seconds for timestamps); a value whose mark would leave
            its bounds is left unmarked.
        rng: randomness for the choice among green sub-cells (independent of any data).

    Returns:
        (watermarked copy, WatermarkStamp).
    """
    green_bits = _GreenBits(key)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    out = frame.copy()
    marked_cols: list[str] = []
    marked = moved = 0
    for name in _candidate_columns(frame, columns):
        series = frame[name]
        if _is_datetime(series):
            ns, mask = _datetime_ns(series)
            cells = _datetime_cells(ns, mask)
        else:
            values = series.to_numpy(dtype=float, na_value=np.nan)
            cells = _float_cells(values)
        if not len(cells.codes):
            continue
        bits = green_bits.bits(cells.domain, cells.codes)
        is_green = ((bits >> cells.subcell) & 1).astype(bool)
        # a red value moves to one of its cell's green sub-cells, chosen uniformly: the k-th set bit, k uniform
        green_matrix = ((bits[:, None] >> np.arange(SUBCELLS)) & 1).astype(bool)
        n_green = green_matrix.sum(axis=1)
        k = np.floor(rng.random(len(bits)) * n_green).astype(np.int64)
        chosen = np.argmax(np.cumsum(green_matrix, axis=1) > k[:, None], axis=1)
        target = np.where(is_green | (n_green == 0), cells.subcell, chosen)
        if _is_datetime(series):
            new = _datetime_values(cells, target)
            ok = np.ones(len(new), dtype=bool)
            if bounds and name in bounds:
                lo_ns, hi_ns = (round(float(b) * 1e9) for b in bounds[name])
                ok = (new >= lo_ns) & (new <= hi_ns)
            ok &= bits != 0                  # a cell without a green sub-cell (1 in 1024) is left as it is
            result_ns = ns.copy()
            result_ns[cells.index[ok]] = new[ok]
            converted = pd.Series(result_ns.view("datetime64[ns]"), index=series.index, name=name)
            converted[~mask] = pd.NaT
            if getattr(series.dt, "tz", None) is not None:
                converted = converted.dt.tz_localize("UTC").dt.tz_convert(series.dt.tz)
            out[name] = converted.astype(series.dtype)
        else:
            new = cells.values(target)
            ok = np.ones(len(new), dtype=bool)
            if bounds and name in bounds:
                lo, hi = bounds[name]
                ok = (new >= lo) & (new <= hi)
            ok &= bits != 0                  # a cell without a green sub-cell (1 in 1024) is left as it is
            result = values.copy()
            result[cells.index[ok]] = new[ok]
            out[name] = pd.Series(result, index=series.index, name=name).astype(series.dtype)
        marked += int(ok.sum())
        moved += int((ok & ~is_green).sum())
        if ok.any():
            marked_cols.append(name)
    return out, WatermarkStamp(SCHEME, key_fingerprint(key), tuple(marked_cols), marked, moved)


def _observations(frame: pd.DataFrame, columns: list[str], green_bits: _GreenBits) -> tuple[int, int]:
    """(distinct (cell, sub-cell) pairs of the eligible values, how many are green): the trials of the test and
    their successes. Repeated pairs count once (they would not be independent trials)."""
    n = green = 0
    for domain in (b"f", b"t"):
        parts = []
        for name in columns:
            series = frame[name]
            if _is_datetime(series) == (domain == b"t"):
                cells = (_datetime_cells(*_datetime_ns(series)) if domain == b"t"
                         else _float_cells(series.to_numpy(dtype=float, na_value=np.nan)))
                parts.append(cells.codes * SUBCELLS + cells.subcell)
        if not parts:
            continue
        pairs = np.unique(np.concatenate(parts))
        codes, subcells = np.divmod(pairs, SUBCELLS)
        n += len(pairs)
        green += int(((green_bits.bits(domain, codes) >> subcells) & 1).sum())
    return n, green


def _log10_tail(k: int, n: int) -> float:
    """log10 P(Binomial(n, 1/2) >= k), exact in log space (the p-value underflows for large green counts)."""
    j = np.arange(k, n + 1)
    log_terms = special.gammaln(n + 1) - special.gammaln(j + 1) - special.gammaln(n - j + 1) - n * math.log(2)
    return float(special.logsumexp(log_terms)) / math.log(10) if j.size else -math.inf


def detect(frame: pd.DataFrame, key: bytes | str, *, columns: Iterable[str] | None = None,
           alpha: float = DEFAULT_ALPHA) -> Detection:
    """Test a table for the watermark of `key`. Needs only the table and the key (no release metadata).

    Args:
        frame: any table (row order, subsets, column names do not matter).
        key: the key to test.
        columns: columns to read (default: every float and timestamp column).
        alpha: false-positive rate at which `Detection.detected` is true (default 1e-6; divide it by the number of
            keys when testing many recipients' keys against one found table).

    Returns:
        Detection with the green count, its z-score and the exact binomial p-value (the false-positive rate).
    """
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r} must be in (0, 1).", fix="use e.g. alpha=1e-6.")
    green_bits = _GreenBits(key)
    names = _candidate_columns(frame, columns)
    n, green = _observations(frame, names, green_bits)
    p_value = float(stats.binom.sf(green - 1, n, 0.5)) if n else 1.0
    log10_p = (math.log10(p_value) if p_value > 1e-300 else _log10_tail(green, n)) if n else 0.0
    score = (2 * green - n) / math.sqrt(n) if n else 0.0
    return Detection(SCHEME, key_fingerprint(key), n, int(green), float(score), p_value, float(alpha), tuple(names),
                     log10_p)


def columns_from_domain(domain) -> tuple[list[str], dict[str, tuple[float, float]]]:
    """(columns to mark, their bounds) from a fitted model's `TableDomain`: continuous columns that are not
    integer-valued and timestamp (not date) columns, with the domain's outer bin edges as bounds (public or DP)."""
    from .measurement.engine import TypeFamily
    from .schema import ColumnKind

    names: list[str] = []
    bounds: dict[str, tuple[float, float]] = {}
    for column in domain.columns:
        continuous = column.kind == ColumnKind.CONTINUOUS and not column.integral
        timestamp = column.kind == ColumnKind.DATETIME and column.source_family != TypeFamily.DATE.value
        if not (continuous or timestamp) or not hasattr(column.binning, "edges"):
            continue                  # numeric code columns (categorical over released values) are decoded exactly
        names.append(column.name)
        edges = column.binning.edges
        bounds[column.name] = (float(edges[0]), float(edges[-1]))
    return names, bounds
