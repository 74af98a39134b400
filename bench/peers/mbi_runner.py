"""Run the private-pgm authors' MST or AIM on a coded table with the `mbi` 2.0 wheel's estimation API.

Executed with bench/.venv-mbi/bin/python (see setup.sh). The wheel ships only the estimation library; the
mechanisms live as scripts in the authors' repositories (github.com/ryan112358/private-pgm and its successor
github.com/ryan112358/mbi, `mechanisms/mst.py`, `mechanisms/aim.py`, `mechanisms/cdp2adp.py`; Apache-2.0), written
against an older API (`estimate(..., potentials=...)`). The functions below follow those scripts step by step,
with the 2.0 calls (`MirrorDescent().estimate(..., warm_start=...)`, `WeightedQuery`) and a seeded-from-OS numpy
Generator instead of the global RNG. Nothing else is changed: the same sigmas, budget splits, domain compression
(MST), workload (all 2-way marginals with at most `max_cells` cells, weight 1), model-size schedule and
sigma-halving rule (AIM), and iteration counts (MST 2,500 for selection and 10,000 for the final fit; AIM 1,000).

Usage: mbi_runner.py CONFIG.json

CONFIG: {"codes_npy", "out_npy", "attrs": [...], "sizes": [...], "mechanism": "mst"|"aim", "epsilon", "delta",
         "rows", "options": {...}}

The input is the train table already coded on the public domain of our own release (bench/domain_codes.py), so the
peer and our generator model exactly the same attributes and cells; the caller decodes the peer's codes with our
decoder. Writes the synthetic codes (int64 .npy) and prints one JSON line {"ok", "fit_s", "rows", "rho", "selected",
"mbi", "jax"} (versions).
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def _jax_setup() -> None:
    import jax

    jax.config.update("jax_enable_x64", True)   # the wheel warns that float32 can stall estimation
    jax.config.update("jax_enable_compilation_cache", False)


# --------------------------------------------------------------------------------------------------------------------
# cdp2adp.py (Steinke 2020, via the authors' repository): the smallest rho with rho-zCDP => (epsilon, delta)-DP
# --------------------------------------------------------------------------------------------------------------------

def cdp_delta(rho: float, eps: float) -> float:
    if rho == 0:
        return 0.0
    amin, amax = 1.01, (eps + 1) / (2 * rho) + 2
    for _ in range(1000):
        alpha = (amin + amax) / 2
        derivative = (2 * alpha - 1) * rho - eps + math.log1p(-1.0 / alpha)
        if derivative < 0:
            amin = alpha
        else:
            amax = alpha
    delta = math.exp((alpha - 1) * (alpha * rho - eps) + alpha * math.log1p(-1 / alpha)) / (alpha - 1.0)
    return min(delta, 1.0)


def cdp_rho(eps: float, delta: float) -> float:
    if delta >= 1:
        return 0.0
    rhomin, rhomax = 0.0, eps + 1
    for _ in range(1000):
        rho = (rhomin + rhomax) / 2
        if cdp_delta(rho, eps) <= delta:
            rhomin = rho
        else:
            rhomax = rho
    return rhomin


def exponential_mechanism(q: np.ndarray, eps: float, sensitivity: float, rng: np.random.Generator,
                          monotonic: bool = False) -> int:
    from scipy.special import logsumexp

    coef = 1.0 if monotonic else 0.5
    scores = coef * eps / sensitivity * q
    probas = np.exp(scores - logsumexp(scores))
    return int(rng.choice(q.size, p=probas))


# --------------------------------------------------------------------------------------------------------------------
# mst.py
# --------------------------------------------------------------------------------------------------------------------

def mst(data, epsilon: float, delta: float, rows: int, rng: np.random.Generator, iters: int = 10000,
        select_iters: int = 2500):
    from mbi import estimation

    rho = cdp_rho(epsilon, delta)
    sigma = np.sqrt(3 / (2 * rho))
    cliques = [(col,) for col in data.domain]
    log1 = _measure(data, cliques, sigma, rng)
    data, log1, supports = _compress_domain(data, log1)
    selected = _select(data, rho / 3.0, log1, rng, select_iters)
    log2 = _measure(data, selected, sigma, rng)
    est = estimation.MirrorDescent().estimate(data.domain, log1 + log2, iters=iters)
    synth = est.synthetic_data(rows=rows)
    return _reverse_data(synth, supports, rng), rho, [list(c) for c in selected]


def _measure(data, cliques, sigma, rng, weights=None):
    from mbi import LinearMeasurement

    if weights is None:
        weights = np.ones(len(cliques))
    weights = np.array(weights) / np.linalg.norm(weights)
    out = []
    for proj, wgt in zip(cliques, weights, strict=True):
        x = data.project(proj).datavector()
        y = x + rng.normal(loc=0, scale=sigma / wgt, size=x.size)
        out.append(LinearMeasurement(y, proj, sigma / wgt))
    return out


def _compress_domain(data, measurements):
    from mbi import LinearMeasurement, WeightedQuery

    supports, new = {}, []
    for m in measurements:
        col = m.clique[0]
        y = np.asarray(m.noisy_measurement)
        sup = y >= 3 * m.stddev
        supports[col] = sup
        if sup.all():
            new.append(m)
        else:   # re-express the measurement over the compressed domain (the script's "temporary hack" query)
            y2 = np.append(y[sup], y[~sup].sum())
            weights = np.ones(y2.size)
            weights[-1] = 1.0 / np.sqrt(y.size - y2.size + 1.0)
            y2[-1] /= np.sqrt(y.size - y2.size + 1.0)
            new.append(LinearMeasurement(y2, m.clique, m.stddev, query=WeightedQuery(weights)))
    return _transform_data(data, supports), new, supports


def _select(data, rho, measurement_log, rng, iters, cliques=()):
    import networkx as nx
    from mbi import estimation
    from scipy.cluster.hierarchy import DisjointSet

    est = estimation.MirrorDescent().estimate(data.domain, measurement_log, iters=iters)
    weights = {}
    candidates = list(itertools.combinations(data.domain.attributes, 2))
    for a, b in candidates:
        xhat = np.asarray(est.project([a, b]).datavector())
        x = np.asarray(data.project([a, b]).datavector())
        weights[a, b] = np.linalg.norm(x - xhat, 1)
    tree = nx.Graph()
    tree.add_nodes_from(data.domain.attributes)
    ds = DisjointSet(data.domain.attributes)
    for e in cliques:
        tree.add_edge(*e)
        ds.merge(*e)
    r = len(list(nx.connected_components(tree)))
    epsilon = np.sqrt(8 * rho / (r - 1))
    for _ in range(r - 1):
        candidates = [e for e in candidates if not ds.connected(*e)]
        wgts = np.array([weights[e] for e in candidates])
        e = candidates[exponential_mechanism(wgts, epsilon, 1.0, rng)]
        tree.add_edge(*e)
        ds.merge(*e)
    return list(tree.edges)


def _transform_data(data, supports):
    from mbi import Dataset, Domain

    newdom, columns = {}, {}
    for col in data.domain:
        support = supports[col]
        size = int(support.sum())
        newdom[col] = size + int(size < support.size)
        mapping = np.full(support.size, size, dtype=np.int64)
        mapping[support] = np.arange(size)
        columns[col] = mapping[np.asarray(data.data[col], dtype=np.int64)]
    return Dataset(columns, Domain.fromdict(newdom))


def _reverse_data(data, supports, rng):
    from mbi import Dataset, Domain

    newdom, columns = {}, {}
    for col in data.domain:
        support = supports[col]
        mx = int(support.sum())
        newdom[col] = int(support.size)
        idx, extra = np.where(support)[0], np.where(~support)[0]
        codes = np.asarray(data.data[col], dtype=np.int64)
        out = np.empty_like(codes)
        mask = codes == mx
        if extra.size:
            out[mask] = rng.choice(extra, int(mask.sum()))
        out[~mask] = idx[codes[~mask]]
        columns[col] = out
    return Dataset(columns, Domain.fromdict(newdom))


# --------------------------------------------------------------------------------------------------------------------
# aim.py
# --------------------------------------------------------------------------------------------------------------------

def _powerset(iterable):
    s = list(iterable)
    return itertools.chain.from_iterable(itertools.combinations(s, r) for r in range(1, len(s) + 1))


def _downward_closure(ws):
    ans = set()
    for proj in ws:
        ans.update(_powerset(proj))
    return list(sorted(ans, key=len))


def _compile_workload(workload):
    weights = {cl: wt for (cl, wt) in workload}

    def score(cl):
        return sum(weights[w] * len(set(cl) & set(w)) for w in weights)

    return {cl: score(cl) for cl in _downward_closure(weights)}


def _filter_candidates(candidates, model, size_limit):
    from mbi import junction_tree

    free = _downward_closure(model.cliques)
    return {cl: w for cl, w in candidates.items()
            if junction_tree.hypothetical_model_size(model.domain, list(model.cliques) + [cl]) <= size_limit
            or cl in free}


def aim(data, epsilon: float, delta: float, rows: int, rng: np.random.Generator, max_model_size: float = 80,
        max_iters: int = 1000, rounds: int | None = None, max_cells: int = 10000, degree: int = 2):
    from mbi import LinearMeasurement, estimation

    rho = cdp_rho(epsilon, delta)
    workload = [cl for cl in itertools.combinations(data.domain.attributes, degree)
                if data.domain.size(cl) <= max_cells]
    candidates = _compile_workload([(cl, 1.0) for cl in workload])
    rounds = rounds or 16 * len(data.domain)
    answers = {cl: np.asarray(data.project(cl).datavector()) for cl in candidates}
    oneway = [cl for cl in candidates if len(cl) == 1]
    sigma = np.sqrt(rounds / (2 * 0.9 * rho))
    epsilon_round = np.sqrt(8 * 0.1 * rho / rounds)
    rho_used = len(oneway) * 0.5 / sigma ** 2
    measurements = []
    for cl in oneway:
        x = answers[cl]
        measurements.append(LinearMeasurement(x + rng.normal(0, sigma, x.size), cl, stddev=sigma))
    md = estimation.MirrorDescent()
    model = md.estimate(data.domain, measurements, iters=max_iters)
    selected, terminate = [], False
    potentials = None
    while not terminate:
        if rho - rho_used < 2 * (0.5 / sigma ** 2 + 1.0 / 8 * epsilon_round ** 2):
            remaining = rho - rho_used   # use up what is left in one last round
            sigma = np.sqrt(1 / (2 * 0.9 * remaining))
            epsilon_round = np.sqrt(8 * 0.1 * remaining)
            terminate = True
        rho_used += 1.0 / 8 * epsilon_round ** 2 + 0.5 / sigma ** 2
        size_limit = max_model_size * rho_used / rho
        small = _filter_candidates(candidates, model, size_limit)
        errors, sensitivity = {}, {}
        for cl, wgt in small.items():
            bias = np.sqrt(2 / np.pi) * sigma * model.domain.size(cl)
            xest = np.asarray(model.project(cl).datavector())
            errors[cl] = wgt * (np.linalg.norm(answers[cl] - xest, 1) - bias)
            sensitivity[cl] = abs(wgt)
        keys = list(errors)
        q = np.array([errors[k] for k in keys])
        # Mechanism.exponential_mechanism: softmax(0.5 * eps / sensitivity * (q - max q))
        from scipy.special import softmax

        p = softmax(0.5 * epsilon_round / max(sensitivity.values()) * (q - q.max()))
        cl = keys[int(rng.choice(p.size, p=p))]
        selected.append(list(cl))
        n = data.domain.size(cl)
        x = answers[cl] if cl in answers else np.asarray(data.project(cl).datavector())
        measurements.append(LinearMeasurement(x + rng.normal(0, sigma, n), cl, stddev=sigma))
        z = np.asarray(model.project(cl).datavector())
        pcliques = list(set(m.clique for m in measurements))
        potentials = model.potentials.expand(pcliques)
        model = md.estimate(data.domain, measurements, iters=max_iters, warm_start=potentials)
        w = np.asarray(model.project(cl).datavector())
        if np.linalg.norm(w - z, 1) <= sigma * np.sqrt(2 / np.pi) * n:
            sigma /= 2
            epsilon_round *= 2
    model = md.estimate(data.domain, measurements, iters=max_iters, warm_start=potentials)
    return model.synthetic_data(rows=rows), rho, selected


def main(path: str) -> None:
    _jax_setup()
    from mbi import Dataset, Domain

    cfg = json.load(open(path))
    codes = np.load(cfg["codes_npy"], allow_pickle=False)
    attrs, sizes = list(cfg["attrs"]), [int(s) for s in cfg["sizes"]]
    domain = Domain(attrs, sizes)
    data = Dataset({a: codes[:, j] for j, a in enumerate(attrs)}, domain)
    rng = np.random.default_rng()   # privacy noise from OS entropy, never seeded
    options = dict(cfg.get("options", {}))
    t0 = time.perf_counter()
    if cfg["mechanism"] == "mst":
        synth, rho, selected = mst(data, float(cfg["epsilon"]), float(cfg["delta"]), int(cfg["rows"]), rng, **options)
    elif cfg["mechanism"] == "aim":
        synth, rho, selected = aim(data, float(cfg["epsilon"]), float(cfg["delta"]), int(cfg["rows"]), rng, **options)
    else:
        raise SystemExit(f"unknown mechanism {cfg['mechanism']!r}; use mst or aim")
    fit_s = time.perf_counter() - t0
    out = np.column_stack([np.asarray(synth.data[a], dtype=np.int64) for a in attrs])
    np.save(cfg["out_npy"], out, allow_pickle=False)
    import importlib.metadata as metadata

    print(json.dumps({"ok": True, "fit_s": fit_s, "rows": int(out.shape[0]), "rho": rho, "selected": selected,
                      "mbi": metadata.version("mbi"), "jax": metadata.version("jax")}))


if __name__ == "__main__":
    main(sys.argv[1])
