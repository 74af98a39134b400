"""What DP-CTGAN and DP-TVAE share: validation before reading data, DP preprocessing, calibration, the fitted model.

Budget contract (see `split_budget`): the caller gives the generator
- `rho` in `fit` (zCDP, through `private.budget`): spent here on noisy 1-way histograms of every column over the
  domain's binning (Gaussian, L2 sensitivity 1 each, rho split evenly). They fit the transform, give DP category
  frequencies for conditional vectors and a DP row count N (inverse-variance mean of the histograms' totals);
- `sgd_epsilon`, `sgd_delta` (options): DP-SGD's share, tracked by an Opacus accountant (RDP or PRV).
The fitted model's `training_spend` is the DP-SGD line of the release's spend breakdown; the preprocessing lines are
in `private.budget`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import pandas as pd
import torch

from dpsynth_core.accounting.dpsgd import DpSgdPlan, calibrate_noise_multiplier
from dpsynth_core.accounting.zcdp import sigma_for_rho
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.base import FittedSynthesizer
from dpsynth_core.generators.deep.config import DeepConfig
from dpsynth_core.generators.deep.training import ProgressCallback, resolve_device, seeded
from dpsynth_core.generators.deep.transform import DataTransformer
from dpsynth_core.generators.deep.validation import planned_steps, validate_deep_config
from dpsynth_core.measurement.private_table import PrivateTable
from dpsynth_core.preprocessing.domains import TableDomain


def dp_row_count(histograms: dict[str, np.ndarray]) -> float:
    """DP estimate of N (at least 1): inverse-variance weighted mean of equal-sigma noisy histograms' totals.

    A histogram of `size` cells with noise std sigma per cell has a total with variance size * sigma^2.
    """
    weights = np.array([1.0 / h.size for h in histograms.values()])
    totals = np.array([float(h.sum()) for h in histograms.values()])
    return float(max((weights * totals).sum() / weights.sum(), 1.0))


class DeepGenerator:
    """Base of the DP-SGD generators. Options are `DeepConfig` fields plus the budget share and run controls.

    Args:
        sgd_epsilon, sgd_delta: DP-SGD's share of the release's (epsilon, delta) (required).
        rows: public/declared table size; when given, the config is validated now, before any data is read, and the
            sampling rate uses it. Otherwise the DP row count from the preprocessing histograms is used.
        seed: the user's seed: weight initialisation, dropout and latent draws (never the privacy noise).
        noise_seed: seed of the noise and Poisson sampling (tests only). Default: drawn from the `rng` given to
            `fit` (the release's noise generator) or, without one, from OS entropy. Refused in secure mode.
        progress: callback `progress('epoch', {...})` with epsilon spent so far and losses.
    """

    name = "deep"

    def __init__(self, *, sgd_epsilon: float | None = None, sgd_delta: float | None = None, rows: int | None = None,
                 seed: int | None = None, noise_seed: int | None = None, progress: ProgressCallback | None = None,
                 table: str | None = None,
                 **options: Any):
        if sgd_epsilon is None or sgd_delta is None:
            raise ConfigError(f"{self.name} needs its DP-SGD share of the budget (sgd_epsilon, sgd_delta).",
                              table=table, fix="Call it through synthesize_table, or pass both options.")
        self.config = DeepConfig.from_dict(options, table=table)
        self.sgd_epsilon, self.sgd_delta = float(sgd_epsilon), float(sgd_delta)
        self.rows = int(rows) if rows is not None else None
        self.seed = seed
        self.noise_seed = noise_seed
        self.progress = progress
        self.device = resolve_device(self.config.device)
        if self.rows is not None:   # validation before any data is read
            self.validate(self.rows).raise_if_errors(table)

    def validate(self, rows: int | None):
        total_eps = self.sgd_epsilon / (1 - self.config.preprocessing_share)
        total_delta = self.sgd_delta / (1 - self.config.preprocessing_share)
        return validate_deep_config(self.config, generator=self.name, epsilon=total_eps, delta=total_delta,
                                    rows=rows, sgd_budget=(self.sgd_epsilon, self.sgd_delta))

    # ------------------------------------------------------------------------------------------------ fit
    def fit(self, private: PrivateTable, domain: TableDomain, rho: float, rng: np.random.Generator | None = None
            ) -> "FittedDeepSynthesizer":
        table = private.relation_name
        if not domain.columns:
            raise ConfigError("No modelled columns (only identifiers?).", table=table,
                              fix="Declare at least one non-identifier column.")
        if not rho > 0:
            raise ConfigError(f"{self.name} needs a positive preprocessing rho for its DP histograms.", table=table,
                              fix="Give the deep generator a preprocessing share (preprocessing_share > 0).")
        sigma = sigma_for_rho(rho / len(domain.columns))
        histograms = {c.name: private.measure([c.binning], sigma, step=f"{self.name}:preprocess:1way:{c.name}")
                      .astype(float) for c in domain.columns}
        dp_rows = dp_row_count(histograms)
        rows = self.rows if self.rows is not None else max(int(round(dp_rows)), 1)
        report = self.validate(rows).raise_if_errors(table)
        transformer = DataTransformer.from_histograms(domain, histograms, self.config.n_modes, dp_rows)
        frame = private.rows_for_training(domain.attrs, step=f"{self.name}:training")
        data, cat_codes = transformer.transform(frame)
        del frame
        sample_rate = self.config.batch_size / rows
        plan = calibrate_noise_multiplier(target_epsilon=self.sgd_epsilon, delta=self.sgd_delta,
                                          sample_rate=sample_rate, steps=planned_steps(self.config.epochs,
                                                                                       sample_rate),
                                          accountant=self.config.accountant)
        noise_seed = self.noise_seed
        if noise_seed is None and rng is not None and not self.config.secure_mode:
            noise_seed = int(rng.integers(2 ** 63 - 1))
        with seeded(self.seed, self.config.cpu_threads):
            arrays, trainer = self._train(torch.from_numpy(data), torch.from_numpy(cat_codes), transformer, plan,
                                          noise_seed)
        achieved = trainer.epsilon_spent()
        if trainer.accountant.steps != plan.steps or achieved > plan.target_epsilon * (1 + 1e-9):
            raise RuntimeError(f"internal error: DP-SGD took {trainer.accountant.steps} steps (planned {plan.steps})"
                               f" and spent epsilon {achieved} (target {plan.target_epsilon})")
        training = {
            "step": f"{self.name}:training", "mechanism": f"dp-sgd (opacus {plan.accountant})",
            "epsilon": achieved, "delta": plan.delta, "epsilon_target": plan.target_epsilon,
            "epsilon_other_accountant": trainer.accountant.epsilon_other(plan.delta),
            "rdp_order_at_edge": trainer.accountant.order_at_edge(plan.delta),
            "noise_multiplier": plan.noise_multiplier, "max_grad_norm": self.config.max_grad_norm,
            "sample_rate": plan.sample_rate, "steps": trainer.accountant.steps, "batch_size": self.config.batch_size,
            "epochs": self.config.epochs, "rows_for_sample_rate": rows,
            "rows_source": "declared" if self.rows is not None else "dp_estimate",
            "secure_mode": self.config.secure_mode, "device": str(self.device),
            "warnings": list(report.warnings),
        }
        return FittedDeepSynthesizer(self.name, transformer, self.config, arrays, training, dp_rows)

    @abstractmethod
    def _train(self, data: torch.Tensor, cat_codes: torch.Tensor, transformer: DataTransformer, plan: DpSgdPlan,
               noise_seed: int | None):
        """Train with DP-SGD; return (numpy arrays of the sampling network, the PrivateTrainer)."""


class FittedDeepSynthesizer(FittedSynthesizer):
    """A fitted DP-CTGAN (generator weights) or DP-TVAE (decoder weights) plus the DP transform.

    Holds no training rows and none of the networks that saw them directly (discriminator / encoder are dropped).
    """

    def __init__(self, generator: str, transformer: DataTransformer, config: DeepConfig,
                 arrays: dict[str, np.ndarray], training: dict, estimated_rows: float):
        self.generator = generator
        self.transformer = transformer
        self.domain = transformer.domain
        self.config = config
        self.arrays = {k: np.asarray(v) for k, v in arrays.items()}
        self.training = training
        self._estimated_rows = float(estimated_rows)

    @property
    def estimated_rows(self) -> float:
        return self._estimated_rows

    @property
    def training_spend(self) -> dict:
        """The DP-SGD line for the release's spend breakdown (epsilon, delta from the Opacus accountant)."""
        return dict(self.training)

    @property
    def extra_spend(self) -> list[dict]:
        """Spend lines outside the zCDP budget (read by `api.synthesize_table`): the DP-SGD training."""
        return [self.training_spend]

    @property
    def epsilon_other(self) -> float:
        """Epsilon of DP-SGD (Opacus accountant, at `training['delta']`), composed with the zCDP part by the caller."""
        return float(self.training["epsilon"])

    @property
    def accountant(self) -> str:
        return f"zcdp (preprocessing) + opacus-{self.config.accountant} (dp-sgd)"

    def _sampler(self):
        from dpsynth_core.generators.deep.sampling import sampler_for

        return sampler_for(self)

    def _raw(self, n: int, rng: np.random.Generator) -> tuple[dict, dict]:
        return self._sampler()(n, rng)

    def sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        frame = self.sample(n, int(rng.integers(2 ** 63 - 1)))
        codes = [self._codes_of(frame[c.name], c) for c in self.domain.columns]
        return np.stack(codes, axis=1) if codes else np.zeros((n, 0), dtype=np.int64)

    @staticmethod
    def _codes_of(series: pd.Series, column) -> np.ndarray:
        from dpsynth_core.measurement.pandas_engine import codes_of

        return codes_of(series, column.binning)

    def sample(self, n: int, seed: int | None = None) -> pd.DataFrame:
        if n < 0:
            raise ConfigError(f"rows={n} is negative.", fix="ask for rows >= 0.")
        rng = np.random.default_rng(seed)
        alphas, choices = self._raw(n, rng)
        return self.transformer.decode(alphas, choices, rng)

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {"generator": self.generator, "config": self.config.to_dict(),
                "transformer": self.transformer.to_state(), "training": self.training,
                "estimated_rows": self._estimated_rows}
        return meta, dict(self.arrays)

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FittedDeepSynthesizer":
        config = DeepConfig.from_dict(meta["config"])
        return cls(meta["generator"], DataTransformer.from_state(meta["transformer"]), config, arrays,
                   meta["training"], meta["estimated_rows"])


def state_arrays(module: torch.nn.Module, prefix: str) -> dict[str, np.ndarray]:
    """A module's parameters and buffers as float64-safe numpy arrays keyed `prefix.name` (no pickle)."""
    return {f"{prefix}.{k}": v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_arrays(module: torch.nn.Module, arrays: dict[str, np.ndarray], prefix: str) -> torch.nn.Module:
    state = {k[len(prefix) + 1:]: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
             if k.startswith(prefix + ".")}
    module.load_state_dict(state)
    return module

