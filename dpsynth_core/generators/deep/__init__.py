"""Deep DP generators (dp-ctgan, dp-tvae) trained with DP-SGD through Opacus. See docs/deep_generators.md.

`release_budget` is how a release splits its (epsilon, delta) for a deep generator: a zCDP part for preprocessing
(DP domains + the generator's histograms) and an (epsilon, delta) part for DP-SGD tracked by an Opacus accountant;
the parts add up to the request (basic composition).
"""

from __future__ import annotations

from typing import Any, Mapping

from dpsynth_core.generators.deep.config import DEEP_GENERATORS, DeepConfig, split_budget

__all__ = ["DEEP_GENERATORS", "release_budget"]

THRESHOLD_DELTA_SHARE = 0.1   # of the preprocessing delta, for thresholded domain discovery (as for marginal methods)


def release_budget(epsilon: float, delta: float, options: Mapping[str, Any] | None = None) -> dict[str, float]:
    """{rho, delta_conversion, delta_threshold, sgd_epsilon, sgd_delta} for a deep release of (epsilon, delta).

    rho (zCDP, converted at delta_conversion) pays for preprocessing; delta_threshold for thresholded discovery;
    sgd_epsilon/sgd_delta go to the generator as options. Known before any data is read.
    """
    from dpsynth_core.accounting.zcdp import cdp_rho

    known = {k: v for k, v in dict(options or {}).items() if k in DeepConfig.__dataclass_fields__}
    shares = split_budget(epsilon, delta, DeepConfig.from_dict(known).preprocessing_share)
    delta_conversion = shares["preprocessing_delta"] * (1 - THRESHOLD_DELTA_SHARE)
    return {"rho": cdp_rho(shares["preprocessing_epsilon"], delta_conversion), "delta_conversion": delta_conversion,
            "delta_threshold": shares["preprocessing_delta"] * THRESHOLD_DELTA_SHARE,
            "sgd_epsilon": shares["sgd_epsilon"], "sgd_delta": shares["sgd_delta"]}
