"""Discrete domains: named attributes with a finite number of codes each.

A `Domain` is the set of cells of a contingency table. Attribute ``a`` takes the integer codes
``0 .. shape[a] - 1``. Domains are ordered: the order of ``attrs`` is the axis order of any array
(`Factor`) defined over the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence, Union

AttrsLike = Union[str, Sequence[str]]


def as_attrs(attrs: AttrsLike) -> tuple[str, ...]:
    """Normalise a single attribute name or a sequence of names to a tuple."""
    if isinstance(attrs, str):
        return (attrs,)
    return tuple(attrs)


@dataclass(frozen=True)
class Domain:
    """Attribute names and their number of codes, in axis order.

    ``Domain(("age", "sex"), (10, 2))`` has 20 cells; arrays over it have shape ``(10, 2)``.
    """

    attrs: tuple[str, ...]
    shape: tuple[int, ...]

    def __post_init__(self) -> None:
        attrs = tuple(self.attrs)
        shape = tuple(int(n) for n in self.shape)
        if len(attrs) != len(shape):
            raise ValueError(f"Domain needs one size per attribute: got {len(attrs)} names and {len(shape)} sizes")
        if len(set(attrs)) != len(attrs):
            raise ValueError(f"Domain attribute names must be unique: {attrs}")
        if any(n < 1 for n in shape):
            raise ValueError(f"Domain sizes must be >= 1: {dict(zip(attrs, shape, strict=True))}")
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "shape", shape)

    @classmethod
    def from_dict(cls, sizes: Mapping[str, int]) -> "Domain":
        """Build from ``{attr: size}`` (insertion order is axis order)."""
        return cls(tuple(sizes), tuple(sizes.values()))

    def to_dict(self) -> dict[str, int]:
        return dict(zip(self.attrs, self.shape, strict=True))

    # --- sub-domains -------------------------------------------------------------------------
    def project(self, attrs: AttrsLike) -> "Domain":
        """The sub-domain over ``attrs``, in the order given."""
        attrs = as_attrs(attrs)
        self._check_known(attrs)
        sizes = self.to_dict()
        return Domain(attrs, tuple(sizes[a] for a in attrs))

    def marginalize(self, attrs: AttrsLike) -> "Domain":
        """The sub-domain without ``attrs`` (order of the rest preserved)."""
        drop = set(as_attrs(attrs))
        return self.project(tuple(a for a in self.attrs if a not in drop))

    def canonical(self, attrs: Iterable[str]) -> tuple[str, ...]:
        """``attrs`` sorted into this domain's axis order (duplicates removed)."""
        wanted = set(attrs)
        self._check_known(wanted)
        return tuple(a for a in self.attrs if a in wanted)

    def invert(self, attrs: Iterable[str]) -> tuple[str, ...]:
        """The attributes of this domain that are not in ``attrs``."""
        drop = set(attrs)
        return tuple(a for a in self.attrs if a not in drop)

    def axes(self, attrs: AttrsLike) -> tuple[int, ...]:
        """Axis positions of ``attrs`` in this domain."""
        attrs = as_attrs(attrs)
        self._check_known(attrs)
        return tuple(self.attrs.index(a) for a in attrs)

    def merge(self, other: "Domain") -> "Domain":
        """This domain followed by the attributes of ``other`` it lacks. Shared sizes must agree."""
        for a, n in zip(other.attrs, other.shape, strict=True):
            if a in self and self[a] != n:
                raise ValueError(f"cannot merge domains: attribute {a!r} has size {self[a]} and {n}")
        extra = [(a, n) for a, n in zip(other.attrs, other.shape, strict=True) if a not in self]
        return Domain(self.attrs + tuple(a for a, _ in extra), self.shape + tuple(n for _, n in extra))

    def intersect(self, other: "Domain") -> "Domain":
        """The attributes shared with ``other``, in this domain's order."""
        return self.project(tuple(a for a in self.attrs if a in other))

    def contains(self, other: Union["Domain", Iterable[str]]) -> bool:
        """True when every attribute of ``other`` is in this domain."""
        names = other.attrs if isinstance(other, Domain) else as_attrs(other)  # type: ignore[arg-type]
        return set(names) <= set(self.attrs)

    # --- sizes -------------------------------------------------------------------------------
    def size(self, attrs: AttrsLike | None = None) -> int:
        """Number of cells of the (sub-)domain."""
        dims = self.shape if attrs is None else self.project(attrs).shape
        total = 1
        for n in dims:
            total *= n
        return total

    def __getitem__(self, attr: str) -> int:
        try:
            return self.shape[self.attrs.index(attr)]
        except ValueError:
            raise KeyError(f"attribute {attr!r} is not in the domain {self.attrs}") from None

    def __contains__(self, attr: object) -> bool:
        return attr in self.attrs

    def __iter__(self) -> Iterator[str]:
        return iter(self.attrs)

    def __len__(self) -> int:
        return len(self.attrs)

    def _check_known(self, attrs: Iterable[str]) -> None:
        unknown = [a for a in attrs if a not in self.attrs]
        if unknown:
            raise KeyError(f"attributes {unknown} are not in the domain {self.attrs}")
