"""Shared helpers for the deep-generator tests (tiny tables, tiny networks: seconds per test)."""

import numpy as np
import pandas as pd

from dpsynth_core.accounting.budget import DpSgdAllowance, PrivacyBudget
from dpsynth_core.accounting.plan import BudgetPlan, DpSgdBudget
from dpsynth_core.generators.base import GeneratorContext
from dpsynth_core.measurement.pandas_engine import PandasEngine
from dpsynth_core.measurement.private_table import PrivateTable
from dpsynth_core.preprocessing.domains import resolve_domains
from dpsynth_core.schema import TableSpec

SPEC = {
    "colour": {"kind": "categorical", "categories": ["red", "green", "blue"], "nullable": False},
    "size": {"kind": "continuous", "lower": 0.0, "upper": 100.0, "nullable": False},
    "age": {"kind": "integer", "lower": 0, "upper": 99, "nullable": True},
    "flag": {"kind": "boolean", "nullable": False},
    "id": {"kind": "identifier"},
}
TINY = {"epochs": 2, "batch_size": 40, "embedding_dim": 8, "generator_dims": [16], "discriminator_dims": [16],
        "latent_dim": 4, "encoder_dims": [16], "decoder_dims": [16], "n_modes": 4}


def make_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], size=n, p=[0.6, 0.3, 0.1])
    size = np.where(colour == "red", rng.normal(20, 5, n), rng.normal(70, 10, n)).clip(0, 100)
    age = rng.integers(18, 90, n).astype(float)
    age[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"colour": colour, "size": size, "age": pd.array(age, dtype="Int64"),
                         "flag": rng.random(n) < 0.3, "id": np.arange(n)})


def private_and_domain(frame: pd.DataFrame, rho: float = 1.0, noise_seed: int = 0, spec: dict = SPEC):
    engine = PandasEngine(frame, "toy")
    table_spec = TableSpec.from_dict("toy", spec, engine.schema())
    private = PrivateTable(engine, PrivacyBudget(rho, 1e-7), np.random.default_rng(noise_seed))
    domain = resolve_domains(private, table_spec, private.budget.child("domains", share=0.1), 1e-8)
    return private, domain


def deep_generator(cls, *, sgd=(2.0, 1e-6), seed=None, progress=None, max_rows=None, **options):
    """A deep generator that has seen its (test) budget plan: DP-SGD share `sgd` = (epsilon, delta)."""
    generator = cls(options, GeneratorContext(table="toy", seed=seed, progress=progress, max_rows=max_rows))
    plan = BudgetPlan(epsilon=sgd[0] / 0.9, delta=sgd[1] / 0.9, rho=1.0, delta_conversion=1e-7, delta_threshold=1e-8,
                      domain_share=0.5, dpsgd=DpSgdBudget(*sgd))
    generator.check_before_read(plan)
    return generator


def generator_budget(private, rho, sgd=(2.0, 1e-6)):
    """The generator's node of `private`'s budget tree: `rho` of zCDP plus a DP-SGD allowance `sgd`."""
    return private.budget.child("generator", rho=rho, dpsgd=DpSgdAllowance(*sgd))
