"""Factors: arrays indexed by the cells of a `Domain`.

A `Factor` is either a table of (non-negative) counts or, in log space, a table of log-potentials.
Binary operations broadcast over the union of the two domains, the way potentials combine in a
graphical model: ``(f * g)[x] = f[x_f] * g[x_g]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

from .axis_sum import AxisSum
from .domain import AttrsLike, Domain, as_attrs

Operand = Union["Factor", float, int]


def logsumexp(values: np.ndarray, axis: tuple[int, ...] | None = None) -> np.ndarray:
    """Stable ``log(sum(exp(values)))`` over ``axis`` (all axes when None); -inf slices stay -inf."""
    if axis is None:
        axis = tuple(range(values.ndim))
    if not axis:
        return values.copy()
    peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(values - peak), axis=axis, keepdims=True)) + peak
    return np.squeeze(out, axis=axis)


@dataclass(frozen=True, eq=False)
class Factor:
    """An array ``values`` with one axis per attribute of ``domain`` (same order)."""

    domain: Domain
    values: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        if values.shape != self.domain.shape:
            raise ValueError(f"Factor values have shape {values.shape}, "
                             f"domain {self.domain.attrs} needs {self.domain.shape}")
        object.__setattr__(self, "values", values)

    # --- constructors ------------------------------------------------------------------------
    @classmethod
    def zeros(cls, domain: Domain) -> "Factor":
        return cls(domain, np.zeros(domain.shape))

    @classmethod
    def ones(cls, domain: Domain) -> "Factor":
        return cls(domain, np.ones(domain.shape))

    @classmethod
    def uniform(cls, domain: Domain) -> "Factor":
        return cls(domain, np.full(domain.shape, 1.0 / domain.size()))

    # --- reshaping -----------------------------------------------------------------------------
    def transpose(self, attrs: AttrsLike) -> "Factor":
        """The same factor with axes in the order ``attrs`` (a permutation of the domain)."""
        attrs = as_attrs(attrs)
        if sorted(attrs) != sorted(self.domain.attrs):
            raise ValueError(f"transpose needs a permutation of {self.domain.attrs}, got {attrs}")
        return Factor(self.domain.project(attrs), np.transpose(self.values, self.domain.axes(attrs)))

    def expand(self, domain: Domain) -> "Factor":
        """Broadcast to a larger ``domain`` (constant along the new attributes)."""
        if not domain.contains(self.domain):
            raise ValueError(f"cannot expand {self.domain.attrs} to {domain.attrs}: attributes missing")
        own = domain.canonical(self.domain.attrs)
        values = np.transpose(self.values, self.domain.axes(own))
        shape = [domain[a] if a in self.domain else 1 for a in domain.attrs]
        return Factor(domain, np.broadcast_to(values.reshape(shape), domain.shape).copy())

    def project(self, attrs: AttrsLike, log: bool = False) -> "Factor":
        """Marginalise onto ``attrs`` (in that order): sum of the other axes, or logsumexp when ``log``."""
        attrs = as_attrs(attrs)
        drop = self.domain.axes(self.domain.invert(attrs))
        if log:
            values = logsumexp(self.values, drop)
        elif drop:
            kept_shape = self.domain.project(self.domain.canonical(attrs)).shape
            values = AxisSum(self.values.shape, drop)(self.values).reshape(kept_shape)
        else:
            values = self.values
        kept = Factor(self.domain.project(self.domain.canonical(attrs)), values)
        return kept.transpose(attrs)

    def sum(self) -> float:
        return float(self.values.sum())

    def logsumexp(self) -> float:
        return float(logsumexp(self.values))

    def normalize(self, total: float = 1.0, log: bool = False) -> "Factor":
        """Scale to sum ``total``; with ``log``, shift log-values so that they logsumexp to ``log(total)``."""
        if log:
            return Factor(self.domain, self.values + np.log(total) - self.logsumexp())
        return Factor(self.domain, self.values * (total / self.sum()))

    def exp(self) -> "Factor":
        return Factor(self.domain, np.exp(self.values))

    def log(self) -> "Factor":
        with np.errstate(divide="ignore"):
            return Factor(self.domain, np.log(self.values))

    def copy(self) -> "Factor":
        return Factor(self.domain, self.values.copy())

    def datavector(self, flatten: bool = True) -> np.ndarray:
        return self.values.ravel() if flatten else self.values

    # --- arithmetic ----------------------------------------------------------------------------
    def _binary(self, other: Operand, op) -> "Factor":
        if not isinstance(other, Factor):
            return Factor(self.domain, op(self.values, float(other)))
        domain = self.domain.merge(other.domain)
        return Factor(domain, op(self._broadcast_to(domain), other._broadcast_to(domain)))

    def _broadcast_to(self, domain: Domain) -> np.ndarray:
        """A view of ``values`` with singleton axes so it broadcasts against ``domain``."""
        own = domain.canonical(self.domain.attrs)
        values = np.transpose(self.values, self.domain.axes(own))
        return values.reshape([domain[a] if a in self.domain else 1 for a in domain.attrs])

    def __add__(self, other: Operand) -> "Factor":
        return self._binary(other, np.add)

    def __sub__(self, other: Operand) -> "Factor":
        return self._binary(other, np.subtract)

    def __mul__(self, other: Operand) -> "Factor":
        return self._binary(other, np.multiply)

    def __truediv__(self, other: Operand) -> "Factor":
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._binary(other, _safe_divide)

    def __radd__(self, other: Operand) -> "Factor":
        return self + other

    def __rmul__(self, other: Operand) -> "Factor":
        return self * other

    def __rsub__(self, other: Operand) -> "Factor":
        return Factor(self.domain, float(other) - self.values)

    def __neg__(self) -> "Factor":
        return Factor(self.domain, -self.values)


def _safe_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b`` with ``0 / 0 = 0`` (an empty cell divided by an empty marginal)."""
    out = np.divide(a, b)
    return np.where((a == 0) & (b == 0), 0.0, out)
