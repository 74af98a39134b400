"""The exponential mechanism (McSherry & Talwar 2007), sampled with the Gumbel-max trick.

Selecting argmax_i (eps * score_i / (2 * sensitivity) + Gumbel_i) is exactly the exponential mechanism. Under zCDP it
costs eps²/8 (bounded-range analysis, Cesar & Rogers 2021) — charged by the caller through PrivacyBudget.
"""

from __future__ import annotations

import numpy as np


def exponential_mechanism(scores, epsilon: float, sensitivity: float, rng: np.random.Generator) -> int:
    """Index chosen with probability ∝ exp(epsilon * score / (2 * sensitivity)). Higher scores are better."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError("scores must be a non-empty 1-d array")
    if sensitivity <= 0:
        raise ValueError(f"sensitivity must be > 0, got {sensitivity}")
    if epsilon <= 0:
        return int(rng.integers(scores.size))
    logits = epsilon * (scores - scores.max()) / (2 * sensitivity)
    return int(np.argmax(logits + rng.gumbel(size=scores.size)))
