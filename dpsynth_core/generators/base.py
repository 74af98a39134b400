"""The generator contract and the one registry of generators.

A `Generator` is built from its typed `Options` (validated by `dpsynth_core.validation` against the class's
constraint table) and a `GeneratorContext` (public facts about the release). `fit(private, domain, budget)` spends its
own node of the release's budget tree — splitting it into its stages with `budget.child(...)` — through `private` (a
PrivateTable: the only door to raw rows) and returns a `FittedSynthesizer`. Sampling is post-processing and may be
seeded freely. Fitted models serialise to a JSON-able dict plus named numpy arrays (`to_state`/`from_state`),
never pickle.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, Callable, ClassVar, Mapping

import numpy as np
import pandas as pd

from ..accounting.budget import PrivacyBudget
from ..errors import ConfigError
from ..measurement.private_table import PrivateTable
from ..preprocessing.domains import TableDomain
from ..validation import Param, build_options

ProgressCallback = Callable[[str, dict], None]

@dataclass(frozen=True)
class GeneratorEntry:
    """A registry entry: the class as "module:Class" (imported lazily, so torch loads only for the deep generators)
    and the pip extra whose modules it needs, if any."""

    path: str
    extra: str | None = None


# The pip extras of dbt-dpsynth that generators may need -> the modules they provide.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {"deep": ("torch", "opacus")}
# The one list of generators.
GENERATORS: dict[str, GeneratorEntry] = {
    "aim": GeneratorEntry("dpsynth_core.generators.aim:AIM"),
    "mst": GeneratorEntry("dpsynth_core.generators.mst:MST"),
    "copula": GeneratorEntry("dpsynth_core.generators.copula:GaussianCopula"),
    "dp-ctgan": GeneratorEntry("dpsynth_core.generators.deep.ctgan:DPCTGAN", extra="deep"),
    "dp-tvae": GeneratorEntry("dpsynth_core.generators.deep.tvae:DPTVAE", extra="deep"),
}


@dataclass(frozen=True)
class GeneratorContext:
    """Public facts about the release a generator may use (never data-dependent).

    Attributes:
        table: relation name for messages.
        max_rows: public upper bound on the source's rows (None when not declared).
        seed: the user's sampling seed (never the privacy noise).
        target: the column the release should serve best (e.g. AIM's 3-way workload), if any.
        progress: callback `progress(event, info)` for progress lines (info is post-processing of DP outputs only).
    """

    table: str = ""
    max_rows: int | None = None
    seed: int | None = None
    target: str | None = None
    progress: ProgressCallback | None = None

    def report(self, event: str, **info: Any) -> None:
        if self.progress is not None:
            self.progress(event, info)


@dataclass(frozen=True)
class NoisePlan:
    """What a marginal generator plans to measure before any data is read (from d columns and its rho alone): the
    split of its rho into stages and the noise std of its 1-way and (first) 2-way measurements. Its `fit` uses the
    same plan, so a forecast (`dpsynth_core.forecast`) cannot drift from what runs."""

    split: tuple[tuple[str, float], ...]
    sigma_one_way: float
    sigma_two_way: float | None = None

    def for_unit(self, max_rows_per_unit: int) -> "NoisePlan":
        """The plan under a privacy unit of at most k rows: the same split of rho, every sigma k times larger (the
        measurement layer's `PrivateTable.sigma_for` calibrates the same way)."""
        k = float(max_rows_per_unit)
        return NoisePlan(self.split, self.sigma_one_way * k,
                         None if self.sigma_two_way is None else self.sigma_two_way * k)


@dataclass(frozen=True)
class GeneratorOptions:
    """Base of the generators' options dataclasses; subclasses declare `constraints`."""

    constraints: ClassVar[dict[str, Param]] = {}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Generator(ABC):
    """A DP synthesizer before fitting.

    Class attributes:
        name: the registry name.
        Options: the options dataclass (validated from `dpsynth.options`).
        zcdp_share: the share of (epsilon, delta) accounted in zCDP (1.0 unless part is trained with DP-SGD).
        domain_share: the most of the zCDP rho DP domain discovery may spend when the config does not say.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""           # how messages name it (default: `name`)
    Options: ClassVar[type[GeneratorOptions]] = GeneratorOptions
    domain_share: ClassVar[float] = 0.1

    def __init__(self, options: Mapping[str, Any] | GeneratorOptions | None = None,
                 context: GeneratorContext | None = None, **option_values: Any):
        """Args:
            options: the options mapping (`dpsynth.options`) or an Options instance.
            context: public facts about the release.
            **option_values: options as keywords (merged over `options`), e.g. `MST(iters=200)`.
        """
        context = context if context is not None else GeneratorContext()
        if isinstance(options, GeneratorOptions) and not option_values:
            self.options = options
        else:
            raw = options.to_dict() if isinstance(options, GeneratorOptions) else dict(options or {})
            self.options = build_options(self.Options, {**raw, **option_values},
                                         what=f"{self.title or self.name} option", table=context.table or None)
        self.context = context

    def zcdp_share(self) -> float:
        """Share of the release's (epsilon, delta) accounted in zCDP (DP-SGD generators keep the rest)."""
        return 1.0

    def noise_plan(self, d: int, rho: float) -> NoisePlan | None:
        """The planned stages and noise for `d` modelled columns and `rho` (None for generators without one)."""
        return None

    def check_before_read(self, plan) -> None:
        """Optional hook: refuse, before any data is read, a configuration that cannot work with this budget plan
        (public facts only). Subclasses override it as needed; the default checks nothing."""
        return None

    @abstractmethod
    def fit(self, private: PrivateTable, domain: TableDomain, budget: PrivacyBudget) -> "FittedSynthesizer":
        """Fit on `private`, spending at most `budget` (this generator's node of the release budget tree).

        Args:
            private: the measurement layer's front door (noisy, charged answers only).
            domain: the released domain of every modelled column.
            budget: the generator's zCDP budget node; DP-SGD generators also get `budget.dpsgd`.
        Returns:
            The fitted synthesizer.
        """


class FittedSynthesizer(ABC):
    """A fitted generator. `sample` decodes codes/values through the TableDomain (identifiers get surrogate keys).

    `accountant`, `epsilon_other` and `extra_spend` describe spend outside the zCDP budget tree (DP-SGD).
    """

    generator: str
    domain: TableDomain
    accountant: str = "zcdp"
    epsilon_other: float = 0.0          # epsilon accounted outside zCDP, composed by adding

    @property
    def extra_spend(self) -> list[dict]:
        """Spend lines outside the zCDP budget tree (for the release record)."""
        return []

    @property
    @abstractmethod
    def estimated_rows(self) -> float:
        """DP estimate of the source's row count (post-processing of noisy measurements)."""

    @abstractmethod
    def sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, d) integer codes in `domain.attrs` order."""

    def sample(self, n: int, seed: int | None = None) -> pd.DataFrame:
        if n < 0:
            raise ConfigError(f"rows={n} is negative.", fix="ask for rows >= 0.")
        rng = np.random.default_rng(seed)
        return self.domain.decode(self.sample_codes(n, rng), rng)

    @abstractmethod
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        ...

    @classmethod
    @abstractmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FittedSynthesizer":
        ...


def _require_extra(name: str, entry: GeneratorEntry) -> None:
    """ConfigError naming the pip extra when a module the generator needs cannot be imported."""
    for module in EXTRA_MODULES.get(entry.extra or "", ()):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ConfigError(f"generator {name!r} needs {module} (not installed here; the [{entry.extra}] extra of "
                              "dbt-dpsynth).",
                              fix=f'pip install "torch==2.13.0" (the CPU wheel) then pip install '
                                  f'"dbt-dpsynth[{entry.extra}]", or use a marginal generator (aim, mst, '
                                  "copula).") from None


def _load(path: str):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def available_generators() -> list[str]:
    return sorted(GENERATORS)


def register(name: str, path: str, extra: str | None = None) -> None:
    """Register a generator class by import path ("module:Class") and the pip extra it needs."""
    GENERATORS[name] = GeneratorEntry(path, extra)


def generator_class(name: str, table: str | None = None) -> type[Generator]:
    """The generator class registered as `name` (ConfigError for unknown names or a missing pip extra)."""
    if name not in GENERATORS:
        raise ConfigError(f"unknown generator {name!r}.", table=table, fix=f"use one of {available_generators()}.")
    _require_extra(name, GENERATORS[name])
    return _load(GENERATORS[name].path)


def get_generator(name: str, options: Mapping[str, Any] | None = None,
                  context: GeneratorContext = GeneratorContext()) -> Generator:
    """A generator instance by registry name, its options validated."""
    return generator_class(name, context.table or None)(options, context)


def load_fitted(meta: dict, arrays: dict[str, np.ndarray]) -> FittedSynthesizer:
    """A fitted synthesizer from its saved state (the generator class names its fitted class)."""
    name = meta.get("generator")
    if name not in GENERATORS:
        raise ConfigError(f"saved model names unknown generator {name!r}.", fix="upgrade dbt-dpsynth or re-fit.")
    return generator_class(name).Fitted.from_state(meta, arrays)
