"""The one evaluator every result goes through: `dpsynth_core.evaluation` (bins fixed on the real train table).

- mean TVD of all 1-, 2- and 3-way marginals (numerics in 10 quantile bins of the real train table, nulls their own
  bin; a seeded sample of at most `max_sets` column sets per order on wide tables);
- TSTR: HistGradientBoosting trained on the synthetic table, AUC on the holdout, against the same model trained on the
  real train table (`auc_real`).
Not DP (exact statistics of real rows): benchmark output only.
"""

from __future__ import annotations

import math

import pandas as pd

from dpsynth_core.evaluation import prepare
from dpsynth_core.evaluation.marginals import mean_marginal_tvd
from dpsynth_core.evaluation.tstr import train_synthetic_test_real


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, kinds: dict[str, str],
             target: str | None, max_sets: int | None = None, orders=(1, 2, 3)) -> dict:
    prepared = prepare(real, synthetic, holdout, kinds=kinds, n_bins=10)
    out = {f"tvd{k}": _clean(mean_marginal_tvd(prepared, k, max_sets=max_sets)[0]) for k in orders}
    if target is not None:
        tstr = train_synthetic_test_real(prepared, target, seed=0)
        out.update(auc=_clean(tstr.auc_synthetic), auc_real=_clean(tstr.auc_real))
    return out


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)
