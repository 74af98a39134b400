"""Empirical lower bounds on epsilon from a distinguishing score computed on many runs of two neighbouring worlds.

A mechanism M is (epsilon, delta)-DP only if, for every output set S and both orders of the neighbours D, D',
P[M(D') in S] <= e^epsilon P[M(D) in S] + delta. An audit runs M many times on each world ("out": D without the
canary, "in": D' with it), reduces every output to a score, takes S = {score >= t} (or its complement) and bounds both
probabilities with Clopper-Pearson: with probability >= `confidence`,

    epsilon >= eps_LB = ln((TPR_lo - delta) / FPR_hi)

(Jagielski et al. 2020; Nasr et al. 2021). The two bounds share the error budget, each at (1 - confidence) / 2, so a
perfect attack on n runs per world reaches at most `perfect_attack_ceiling(n)` (2.57 at 50, 4.91 at 500 at 95%).

Choosing the threshold (and the score) from the same runs that are then bounded would overstate eps_LB. Two honest
ways are offered:
- `split_audit`: choose on one half of the runs, bound on the other half (one test, so no correction);
- `scan_audit`: try a grid of thresholds fixed in advance on all runs, with a Bonferroni correction over every test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .bounds import lower_bound, upper_bound

# Each candidate set is tested in the order that can show a violation: the world whose probability is bounded below
# is the one the set favours.
_SETS = ("in_high", "in_low")


def epsilon_lower_bound(hits_num: int, runs_num: int, hits_den: int, runs_den: int, delta: float = 0.0,
                        confidence: float = 0.95, tests: int = 1) -> float:
    """ln((P_num_lo - delta) / P_den_hi) from hit counts of one output set in two worlds.

    Args:
        hits_num, runs_num: runs of the numerator world whose output fell in the set (e.g. true positives).
        hits_den, runs_den: the same for the denominator world (e.g. false positives).
        delta: the delta of the claim being tested.
        confidence: joint confidence of the two bounds (each bound takes (1 - confidence) / (2 tests)).
        tests: number of (threshold, set, order) combinations tried (Bonferroni).

    Returns:
        The lower bound (natural-log units); -inf when the numerator's lower bound does not exceed delta.
    """
    tail = (1 - confidence) / (2 * tests)
    numerator = lower_bound(hits_num, runs_num, tail) - delta
    denominator = upper_bound(hits_den, runs_den, tail)
    if numerator <= 0:
        return -math.inf
    return math.log(numerator / denominator)


def perfect_attack_ceiling(runs: int, confidence: float = 0.95, tests: int = 1, delta: float = 0.0) -> float:
    """The largest eps_LB any attack can show with `runs` runs per world (every run classified correctly)."""
    return epsilon_lower_bound(runs, runs, 0, runs, delta, confidence, tests)


@dataclass(frozen=True)
class EpsilonAudit:
    """Outcome of one threshold audit.

    epsilon: the lower bound, clipped at 0 (0 means "no evidence of any privacy loss"); `raw` is before clipping.
    score/threshold/output_set: the chosen test (output_set "in_high" = {score >= threshold} favours the canary world).
    tpr/fpr: point estimates in the evaluated runs; runs_in/runs_out: runs per world the bound was computed on.
    tests: Bonferroni count; ceiling: what a perfect attack would reach with the same runs and correction.
    """

    epsilon: float
    raw: float
    score: str
    threshold: float
    output_set: str
    tpr: float
    fpr: float
    runs_in: int
    runs_out: int
    tests: int
    ceiling: float
    method: str
    confidence: float
    delta: float

    def exceeds(self, claimed_epsilon: float) -> bool:
        return self.epsilon > claimed_epsilon

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _in_set(scores: np.ndarray, threshold: float, output_set: str) -> np.ndarray:
    return scores >= threshold if output_set == "in_high" else scores < threshold


def _bound(out_scores, in_scores, threshold, output_set, delta, confidence, tests) -> tuple[float, float, float]:
    """(eps_LB, tpr, fpr) of one test: the favoured world's rate is the numerator."""
    hits_in = int(_in_set(in_scores, threshold, output_set).sum())
    hits_out = int(_in_set(out_scores, threshold, output_set).sum())
    n_in, n_out = len(in_scores), len(out_scores)
    if output_set == "in_high":
        eps = epsilon_lower_bound(hits_in, n_in, hits_out, n_out, delta, confidence, tests)
    else:  # {score < t} favours the world without the canary: P_out(S) <= e^eps P_in(S) + delta
        eps = epsilon_lower_bound(hits_out, n_out, hits_in, n_in, delta, confidence, tests)
    return eps, hits_in / n_in, hits_out / n_out


def candidate_thresholds(scores: np.ndarray, max_thresholds: int = 64) -> np.ndarray:
    """Midpoints between consecutive distinct values (thinned to at most `max_thresholds` by quantiles)."""
    values = np.unique(scores[np.isfinite(scores)])
    if values.size < 2:
        return values.astype(float)
    mids = (values[:-1] + values[1:]) / 2
    if mids.size > max_thresholds:
        mids = np.unique(np.quantile(mids, np.linspace(0, 1, max_thresholds)))
    return mids


def scan_audit(out_scores: Sequence[float], in_scores: Sequence[float], thresholds: Sequence[float],
               delta: float = 0.0, confidence: float = 0.95, output_sets: Sequence[str] = _SETS,
               score: str = "score") -> EpsilonAudit:
    """Best eps_LB over a grid of thresholds FIXED BEFORE LOOKING AT THE RUNS, Bonferroni-corrected over every
    (threshold, set) tried. Use for scores with a small natural grid (0/1 indicators, small counts)."""
    out_scores, in_scores = np.asarray(out_scores, float), np.asarray(in_scores, float)
    tests = max(len(thresholds) * len(output_sets), 1)
    best = None
    for t in thresholds:
        for output_set in output_sets:
            eps, tpr, fpr = _bound(out_scores, in_scores, float(t), output_set, delta, confidence, tests)
            if best is None or eps > best[0]:
                best = (eps, float(t), output_set, tpr, fpr)
    if best is None:
        best = (-math.inf, math.nan, output_sets[0], math.nan, math.nan)
    eps, t, output_set, tpr, fpr = best
    runs = min(len(in_scores), len(out_scores))
    return EpsilonAudit(max(eps, 0.0), eps, score, t, output_set, tpr, fpr, len(in_scores), len(out_scores), tests,
                        perfect_attack_ceiling(runs, confidence, tests, delta), "scan", confidence, delta)


def linear_projection(out_vectors: np.ndarray, in_vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre, weights) of a diagonal linear discriminant fitted on some runs: score = (x - centre) . weights.

    Turns a vector of outputs (e.g. every cell of the 1-way marginals) into one score whose direction is learned
    from the selection half only.
    """
    out_vectors, in_vectors = np.asarray(out_vectors, float), np.asarray(in_vectors, float)
    mean_out, mean_in = out_vectors.mean(axis=0), in_vectors.mean(axis=0)
    pooled = np.concatenate([out_vectors - mean_out, in_vectors - mean_in])
    variance = pooled.var(axis=0)
    floor = max(float(np.median(variance)) * 1e-3, 1e-12)
    return (mean_out + mean_in) / 2, (mean_in - mean_out) / np.maximum(variance, floor)


def _scalar_scores(out_a, in_a, out_b, in_b):
    """Vector scores -> scalars with the projection learned on half A (scalars pass through)."""
    if out_a.ndim == 1:
        return out_a, in_a, out_b, in_b
    centre, weights = linear_projection(out_a, in_a)
    project = lambda x: (x - centre) @ weights  # noqa: E731
    return project(out_a), project(in_a), project(out_b), project(in_b)


def split_audit(out_scores: Mapping[str, np.ndarray], in_scores: Mapping[str, np.ndarray], delta: float = 0.0,
                confidence: float = 0.95, max_thresholds: int = 64) -> EpsilonAudit:
    """Choose (score, threshold, set) on half of the runs, bound eps on the other half.

    Args:
        out_scores, in_scores: {score name: array (runs,) or (runs, k)} for the world without / with the canary.
            Vector scores are reduced to one number by a linear discriminant fitted on the selection half.
        delta, confidence: as in `epsilon_lower_bound`.

    Runs are independent and identically distributed within a world, so the even-numbered runs select and the
    odd-numbered runs are bounded. The bound is a single test: no multiple-comparison correction is needed.
    """
    best = None
    for name in out_scores:
        out_all, in_all = np.asarray(out_scores[name], float), np.asarray(in_scores[name], float)
        oa, ia, ob, ib = _scalar_scores(out_all[0::2], in_all[0::2], out_all[1::2], in_all[1::2])
        pooled = np.concatenate([oa, ia])
        for t in candidate_thresholds(pooled, max_thresholds):
            for output_set in _SETS:
                eps, _, _ = _bound(oa, ia, float(t), output_set, delta, confidence, 1)
                key = (eps, -abs(float(np.mean(_in_set(pooled, t, output_set))) - 0.5))
                if best is None or key > best[0]:
                    best = (key, name, float(t), output_set, ob, ib)
    runs_in = min(len(np.asarray(v)[1::2]) for v in in_scores.values())
    runs_out = min(len(np.asarray(v)[1::2]) for v in out_scores.values())
    ceiling = perfect_attack_ceiling(min(runs_in, runs_out), confidence, 1, delta)
    if best is None:
        return EpsilonAudit(0.0, -math.inf, "", math.nan, "in_high", math.nan, math.nan, runs_in, runs_out, 1,
                            ceiling, "split", confidence, delta)
    _, name, t, output_set, ob, ib = best
    eps, tpr, fpr = _bound(ob, ib, t, output_set, delta, confidence, 1)
    return EpsilonAudit(max(eps, 0.0), eps, name, t, output_set, tpr, fpr, len(ib), len(ob), 1, ceiling, "split",
                        confidence, delta)
