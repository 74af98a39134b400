"""What DP-CTGAN and DP-TVAE share: validation before reading data, DP preprocessing, calibration, the fitted model.

Budget contract (the release's `BudgetPlan` splits (epsilon, delta) before any data is read): the generator's node of
the zCDP budget tree pays for noisy 1-way histograms of every column over the domain's binning (Gaussian, L2
sensitivity 1 each, rho split evenly). They fit the transform, give DP category frequencies for conditional vectors
and the DP row count. The node's DP-SGD allowance ((epsilon, delta) for an Opacus accountant) is charged with the
calibrated plan when the training rows are handed out (`PrivateTable.training_rows`). The fitted model's
`training_spend` is the DP-SGD line of the release's spend breakdown.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np
import pandas as pd
import torch

from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.accounting.dpsgd import DpSgdPlan, calibrate_noise_multiplier
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.base import FittedSynthesizer, Generator
from dpsynth_core.generators.deep.config import DeepConfig
from dpsynth_core.generators.deep.training import resolve_device, seeded
from dpsynth_core.generators.deep.transform import DataTransformer
from dpsynth_core.generators.deep.validation import planned_steps, validate_deep_config
from dpsynth_core.measurement.estimates import dp_row_count
from dpsynth_core.measurement.private_table import PrivateTable
from dpsynth_core.preprocessing.domains import TableDomain


class DeepGenerator(Generator):
    """Base of the DP-SGD generators. Options: `DeepConfig` (see its docstring for units).

    The release's public `max_rows` (context) fixes the Poisson rate q = batch_size / N and lets the configuration be
    validated before any data is read; otherwise the DP row count from the preprocessing histograms is used. The
    user's seed drives weight initialisation, dropout and latent draws; the DP-SGD noise and Poisson sampling come
    from the release's noise generator (`PrivateTable.noise_seed`, OS entropy) or, in secure mode, from Opacus.
    """

    name = "deep"
    Options = DeepConfig
    # Of the zCDP part, half pays for DP domains and half for the generator's own 1-way histograms.
    domain_share = 0.5

    def __init__(self, options=None, context=None):
        from dpsynth_core.generators.base import GeneratorContext

        super().__init__(options, context if context is not None else GeneratorContext())
        self.config: DeepConfig = self.options
        self.device = resolve_device(self.config.device)

    def zcdp_share(self) -> float:
        return self.config.preprocessing_share

    def check_before_read(self, plan) -> None:
        """Keep the release's plan (public) and, when `max_rows` is declared, validate the schedule now."""
        if plan.dpsgd is None:
            raise ConfigError(f"{self.name} needs its DP-SGD share of the budget (sgd_epsilon, sgd_delta) in the plan.",
                              table=self.context.table or None,
                              fix="Build the plan with SynthesisConfig.budget_plan() (it asks the generator).")
        self.plan = plan
        if self.context.max_rows is not None:
            self.validate(self.context.max_rows).raise_if_errors(self.context.table or None)

    def validate(self, rows: int | None):
        return validate_deep_config(self.config, generator=self.name, plan=self.plan, rows=rows)

    # ------------------------------------------------------------------------------------------------ fit
    def fit(self, private: PrivateTable, domain: TableDomain, budget: PrivacyBudget) -> "FittedDeepSynthesizer":
        table = private.relation_name
        if not domain.columns:
            raise ConfigError("No modelled columns (only identifiers?).", table=table,
                              fix="Declare at least one non-identifier column.")
        allowance = budget.dpsgd_allowance()
        if not budget.rho_total > 0 or allowance is None or getattr(self, "plan", None) is None:
            raise ConfigError(f"{self.name} needs a positive preprocessing rho, a DP-SGD share and its budget plan.",
                              table=table, fix="Call it through synthesize_table (its budget plan gives all three).")
        histogram_budget = budget.rest("histograms")
        sigma = private.sigma_for(histogram_budget.rho_total / len(domain.columns))
        histograms = {c.name: private.measure([c.binning], sigma, step=f"{self.name}:preprocess:1way:{c.name}",
                                              budget=histogram_budget).astype(float) for c in domain.columns}
        dp_rows = dp_row_count(list(histograms.values()), [sigma] * len(histograms))
        max_rows = self.context.max_rows
        rows = max_rows if max_rows is not None else max(int(round(dp_rows)), 1)
        report = self.validate(rows).raise_if_errors(table)
        transformer = DataTransformer.from_histograms(domain, histograms, self.config.n_modes, dp_rows)
        sample_rate = self.config.batch_size / rows
        plan = calibrate_noise_multiplier(target_epsilon=allowance.epsilon, delta=allowance.delta,
                                          sample_rate=sample_rate, steps=planned_steps(self.config.epochs,
                                                                                       sample_rate),
                                          accountant=self.config.accountant)
        training_rows = private.training_rows(domain.attrs, plan, step=f"{self.name}:training", budget=budget)
        data, cat_codes = transformer.transform(training_rows.take())
        noise_seed = None if self.config.secure_mode else private.noise_seed()
        with seeded(self.context.seed, self.config.cpu_threads):
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
            "rows_source": "declared" if max_rows is not None else "dp_estimate",
            "secure_mode": self.config.secure_mode, "device": str(self.device),
            "warnings": list(report.warnings),
        }
        return FittedDeepSynthesizer(self.name, transformer, self.config, arrays, training, dp_rows)

    @property
    def progress(self):
        return self.context.progress

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
        """Spend lines outside the zCDP budget tree: the DP-SGD training."""
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

