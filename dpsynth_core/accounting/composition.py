"""Composition across releases (the ledger's arithmetic). Privacy accounting lives here and in `budget.py` only.

zCDP releases compose by adding rho (tighter than adding epsilons); their conversion deltas and any approximate-DP
deltas (thresholding) add. Releases accounted another way (DP-SGD with an RDP/PRV accountant, reported as (eps, delta))
are added with basic composition on top — conservative, and said so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .zcdp import cdp_eps


@dataclass(frozen=True)
class Composition:
    epsilon: float             # composed epsilon (rho-composition for zCDP parts + basic for the rest)
    delta: float               # total delta
    rho: float                 # summed rho of the zCDP parts
    epsilon_naive_sum: float   # plain sum of the releases' epsilons, for comparison
    releases: int


def compose(releases: Iterable[Mapping[str, Any]]) -> Composition:
    """Compose release records given as mappings with keys rho, delta, delta_conversion, epsilon, accountant.

    A record's `rho` covers its zCDP part; `epsilon_other` (optional) is an (eps, delta) part accounted outside zCDP.
    """
    rho = 0.0
    delta_conv = 0.0
    delta_total = 0.0
    eps_other = 0.0
    naive = 0.0
    n = 0
    for r in releases:
        n += 1
        rho += float(r.get("rho") or 0.0)
        delta_total += float(r.get("delta") or 0.0)
        conv = r.get("delta_conversion")
        delta_conv += float(r.get("delta") or 0.0) if conv is None else float(conv)
        eps_other += float(r.get("epsilon_other") or 0.0)
        naive += float(r.get("epsilon") or 0.0)
    eps_zcdp = cdp_eps(rho, min(delta_conv, 0.5)) if rho > 0 and delta_conv > 0 else (math.inf if rho > 0 else 0.0)
    # Both rho-composition and basic composition are valid bounds: report the tighter one.
    return Composition(epsilon=min(eps_zcdp + eps_other, naive) if n else 0.0, delta=delta_total, rho=rho,
                       epsilon_naive_sum=naive, releases=n)
