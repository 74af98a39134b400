"""Private-PGM estimation: fit a graphical model to noisy marginals by mirror descent.

Given noisy marginals ``y_i`` of cliques ``c_i`` with Gaussian noise of std ``σ_i``, find the model
whose marginals ``μ`` minimise

    L(μ) = Σ_i ||μ_{c_i} − y_i||² / σ_i²

over the marginal polytope (McKenna, Sheldon, Miklau 2019, Alg. 1). Mirror descent with the entropy
mirror map is a gradient step on the log-potentials, ``θ ← θ − α ∇_μ L(μ(θ))``, where ``μ(θ)`` comes
from belief propagation; ``α`` follows an Armijo line search (doubled every iteration, halved until
the loss decreases enough), as in the authors' ``mbi`` library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from ..measurement.estimates import dp_row_count
from .belief_propagation import CalibrationPlan, broadcast_shape
from .domain import Domain
from .factor import Factor
from .junction_tree import build_junction_tree
from .marginal_plan import MarginalPlan
from .model import GraphicalModel
from .threads import single_threaded_blas

MAX_BACKTRACKS = 25
RAMP_GROWTH = 2.0  # step-size growth per iteration until the first backtrack
STEADY_GROWTH = 1.2  # afterwards: a gentle increase, so most iterations need one evaluation
TOL_WINDOW = 20  # iterations over which `tol` measures progress


@dataclass(frozen=True, eq=False)
class Measurement:
    """Noisy counts ``noisy`` of the marginal on ``clique`` (axes in ``clique`` order), noise std ``sigma``."""

    clique: tuple[str, ...]
    noisy: np.ndarray
    sigma: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "clique", tuple(self.clique))
        object.__setattr__(self, "noisy", np.asarray(self.noisy, dtype=float))
        if not (np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"Measurement of {self.clique} needs a positive finite sigma, got {self.sigma}")
        object.__setattr__(self, "sigma", float(self.sigma))

    @property
    def weight(self) -> float:
        """``1 / σ``: how much this measurement counts in the loss."""
        return 1.0 / self.sigma

    def canonical(self, domain: Domain) -> tuple[tuple[str, ...], np.ndarray]:
        """The clique in domain order and the counts transposed to match; checks the shape."""
        expected = domain.project(self.clique).shape
        if self.noisy.shape != expected:
            raise ValueError(f"Measurement of {self.clique} has shape {self.noisy.shape}; the domain needs {expected}")
        clique = domain.canonical(self.clique)
        if len(clique) != len(self.clique):
            raise ValueError(f"Measurement clique {self.clique} repeats an attribute")
        return clique, np.transpose(self.noisy, [self.clique.index(a) for a in clique])


def estimate_total(measurements: Sequence[Measurement]) -> float:
    """Inverse-variance weighted mean of the measurements' sums (each sum has variance σ²·cells); at least 1."""
    if not measurements:
        raise ValueError("estimate_total needs at least one measurement")
    return dp_row_count([m.noisy for m in measurements], [m.sigma for m in measurements])


@dataclass(frozen=True)
class _Target:
    """All measurements of one clique, pooled: Σ_i w_i ||μ − y_i||² = W ||μ − ȳ||² + const."""

    clique: tuple[str, ...]
    mean: np.ndarray  # ȳ = Σ w_i y_i / W
    weight: float  # W = Σ 1/σ_i²
    constant: float  # Σ w_i ||y_i||² − W ||ȳ||²


class _Objective:
    """The loss of clique marginals, evaluated through belief propagation on the junction tree.

    Optimisation runs on log-potentials summed per junction-tree clique: the model only depends on
    that sum, so a gradient step on a measured clique's potential is the same step added to any
    junction-tree clique that contains it.
    """

    def __init__(self, domain: Domain, measurements: Sequence[Measurement], cliques: tuple[tuple[str, ...], ...],
                 total: float):
        self.total = total
        self.tree = build_junction_tree(domain, cliques)
        self.calibration = CalibrationPlan(self.tree, cliques)
        pooled: dict[tuple[str, ...], list[tuple[np.ndarray, float]]] = {}
        for m in measurements:
            clique, counts = m.canonical(domain)
            pooled.setdefault(clique, []).append((counts, 1.0 / m.sigma**2))
        self.targets: list[_Target] = []
        for clique, parts in pooled.items():
            weight = sum(w for _, w in parts)
            mean = sum(w * y for y, w in parts) / weight
            constant = sum(w * float((y * y).sum()) for y, w in parts) - weight * float((mean * mean).sum())
            self.targets.append(_Target(clique, mean, weight, constant))
        self.marginal_plan = MarginalPlan(domain, self.tree, [t.clique for t in self.targets])
        self.weight_sum = sum(t.weight for t in self.targets)

    def evaluate(self, log_potentials: list[np.ndarray]):
        """Loss, measured-clique marginals, their gradients, and junction-tree marginals."""
        marginals = self.calibration.calibrate_cliques(log_potentials, self.total)
        mus = self.marginal_plan.marginals(marginals)
        loss = 0.0
        grads = []
        for t, mu in zip(self.targets, mus, strict=True):
            diff = mu - t.mean
            loss += t.weight * float((diff * diff).sum()) + t.constant
            grads.append((2.0 * t.weight) * diff)
        return loss, mus, grads, marginals

    def clique_gradient(self, grads: list[np.ndarray]) -> list[Optional[np.ndarray]]:
        return self.marginal_plan.adjoint(grads, len(self.tree.cliques))


def model_cliques(domain: Domain, measurements: Sequence[Measurement]) -> tuple[tuple[str, ...], ...]:
    """The measured cliques not contained in another measured clique (domain order)."""
    cliques = list(dict.fromkeys(domain.canonical(m.clique) for m in measurements))
    return tuple(c for c in cliques if not any(set(c) < set(o) for o in cliques))


def estimate(
    domain: Domain,
    measurements: Sequence[Measurement],
    total: Optional[float] = None,
    iters: int = 1000,
    warm_start: Optional[GraphicalModel] = None,
    callback: Optional[Callable[[int, float], None]] = None,
    tol: Optional[float] = None,
) -> GraphicalModel:
    """Fit log-potentials on the maximal measured cliques to the measurements.

    ``total`` is the number of records the model represents; when None it is estimated from the
    measurements themselves (`estimate_total`), never from data. ``warm_start`` starts from the
    potentials of an earlier model whose cliques are each contained in one of the new cliques.
    ``callback(iteration, loss)`` is called after every iteration. With ``tol``, iterations stop
    early once the loss fell by less than ``tol`` (relative) per iteration over the last
    ``TOL_WINDOW`` iterations; the result then depends only on the inputs, never on timing.
    """
    if not measurements:
        raise ValueError("estimate needs at least one measurement")
    with single_threaded_blas():
        return _estimate(domain, measurements, total, iters, warm_start, callback, tol)


def _estimate(
    domain: Domain,
    measurements: Sequence[Measurement],
    total: Optional[float],
    iters: int,
    warm_start: Optional[GraphicalModel],
    callback: Optional[Callable[[int, float], None]],
    tol: Optional[float],
) -> GraphicalModel:
    if total is None:
        total = estimate_total(measurements)
    if not (np.isfinite(total) and total > 0):
        raise ValueError(f"estimate needs a positive total number of records, got {total}")
    cliques = model_cliques(domain, measurements)
    objective = _Objective(domain, measurements, cliques, float(total))
    theta = _initial_potentials(domain, cliques, warm_start)
    log_potentials = objective.calibration.clique_log_potentials(theta)
    taken = [np.zeros_like(t.mean) for t in objective.targets]  # Σ α·gradient, per measured clique

    loss, mus, grads, marginals = objective.evaluate(log_potentials)
    # 1/L for the entropy mirror map on N·simplex: L ≤ 2 N Σ W (each marginal map is 1-Lipschitz in L1).
    alpha = 1.0 / (2.0 * total * objective.weight_sum)
    growth = RAMP_GROWTH
    history = [loss]
    for iteration in range(iters):
        alpha *= growth
        step = objective.clique_gradient(grads)
        for _ in range(MAX_BACKTRACKS):
            candidate = [lp if g is None else lp - alpha * g for lp, g in zip(log_potentials, step, strict=True)]
            c_loss, c_mus, c_grads, c_marginals = objective.evaluate(candidate)
            predicted = sum(float((g * (mu - cm)).sum()) for g, mu, cm in zip(grads, mus, c_mus, strict=True))
            if loss - c_loss >= 0.5 * alpha * predicted:
                break
            alpha *= 0.5
            growth = STEADY_GROWTH
        else:
            if c_loss > loss:
                break  # no step decreased the loss: we are at the optimum up to rounding
        for acc, g in zip(taken, grads, strict=True):
            acc += alpha * g
        log_potentials, loss, mus, grads, marginals = candidate, c_loss, c_mus, c_grads, c_marginals
        if callback is not None:
            callback(iteration, loss)
        history.append(loss)
        if tol is not None and len(history) > TOL_WINDOW:
            earlier = history[-1 - TOL_WINDOW]
            if earlier - loss < tol * TOL_WINDOW * abs(loss):
                break

    for target, acc in zip(objective.targets, taken, strict=True):
        k = _smallest_superset(domain, cliques, target.clique)
        theta[k] -= acc.reshape(broadcast_shape(domain, target.clique, cliques[k]))
    potentials = tuple(Factor(domain.project(c), t) for c, t in zip(cliques, theta, strict=True))
    model = GraphicalModel(domain, cliques, potentials, total)
    model.__dict__["clique_marginals"] = tuple(
        Factor(domain.project(c), m) for c, m in zip(objective.tree.cliques, marginals, strict=True)
    )
    return model


def _smallest_superset(domain: Domain, cliques: Sequence[tuple[str, ...]], attrs: Sequence[str]) -> int:
    hosts = [k for k, c in enumerate(cliques) if set(attrs) <= set(c)]
    if not hosts:
        raise ValueError(f"no clique contains {tuple(attrs)}")
    return min(hosts, key=lambda k: domain.size(cliques[k]))


def _initial_potentials(
    domain: Domain, cliques: tuple[tuple[str, ...], ...], warm_start: Optional[GraphicalModel]
) -> list[np.ndarray]:
    theta = [np.zeros(domain.project(c).shape) for c in cliques]
    if warm_start is None:
        return theta
    if warm_start.domain != domain:
        raise ValueError(f"warm_start model has domain {warm_start.domain.attrs}, expected {domain.attrs}")
    for old, factor in zip(warm_start.cliques, warm_start.potentials, strict=True):
        if not any(set(old) <= set(c) for c in cliques):
            raise ValueError(f"warm_start clique {old} is in no clique of the new model; "
                             "measure it again or start cold")
        k = _smallest_superset(domain, cliques, old)
        theta[k] += factor.values.reshape(broadcast_shape(domain, old, cliques[k]))
    return theta
