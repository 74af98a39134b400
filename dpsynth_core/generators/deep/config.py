"""Settings of the deep DP generators (dp-ctgan, dp-tvae): an immutable value type read from the dbt/CLI config.

Every field is public configuration; none is derived from private data. Units: learning rates per optimizer step,
`max_grad_norm` is the per-row L2 clipping norm C, `batch_size` is the *expected* Poisson batch (q = batch_size / N with
N public or DP-estimated).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from dpsynth_core.accounting.dpsgd import ACCOUNTANTS
from dpsynth_core.errors import ConfigError

DEEP_GENERATORS = ("dp-ctgan", "dp-tvae")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class DeepConfig:
    """Training settings. Defaults are small networks that train on a CPU in minutes.

    secure_mode: Opacus secure mode (noise from torchcsprng with the 2n-draw trick against floating-point attacks on
        the Gaussian sampler, Poisson sampling from /dev/urandom). It is NOT a complete floating-point-safe
        implementation (Opacus issues #616, #538) and needs the unmaintained `torchcsprng`; off, Opacus warns
        "Secure RNG turned off" and we never silence that warning. Off, training is deterministic given `seed` and
        the caller's noise seed; on, it is not reproducible.
    pac: PacGAN packing. Under DP it must be 1: with Poisson sampling, packing rows of one batch together makes one
        row's presence reshuffle other rows' packs, so its influence is no longer bounded by C (see ctgan.py).
    preprocessing_share: fraction of the deep generator's (epsilon, delta) spent on the DP 1-way histograms that fit
        the data transform and the conditional-vector frequencies (and give the DP row count); the rest goes to DP-SGD.
    max_noise_multiplier: a calibrated sigma above this is refused as 'epsilon unreachable for a useful model'.
    cpu_threads: torch intra-op threads while training (restored after); 0 keeps torch's setting. Default 1: these
        networks are small, extra threads mostly spin, and dbt may run several models at once.
    """

    epochs: int = 10
    batch_size: int = 500
    max_grad_norm: float = 1.0
    accountant: str = "rdp"
    device: str = "auto"
    secure_mode: bool = False
    preprocessing_share: float = 0.1
    n_modes: int = 10
    max_noise_multiplier: float = 20.0
    cpu_threads: int = 1
    # CTGAN
    embedding_dim: int = 64
    generator_dims: tuple[int, ...] = (128, 128)
    discriminator_dims: tuple[int, ...] = (128, 128)
    generator_lr: float = 2e-4
    discriminator_lr: float = 2e-4
    pac: int = 1
    # TVAE
    latent_dim: int = 64
    encoder_dims: tuple[int, ...] = (128, 128)
    decoder_dims: tuple[int, ...] = (128, 128)
    tvae_lr: float = 1e-3
    loss_factor: float = 2.0

    @classmethod
    def from_dict(cls, values: dict | None, *, table: str | None = None) -> "DeepConfig":
        """Build from a config mapping; unknown keys and wrong types raise ConfigError naming the key."""
        values = dict(values or {})
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"Unknown deep-generator setting(s) {unknown}.", table=table,
                              fix=f"Use only: {', '.join(sorted(known))}.")
        defaults = cls()
        kwargs = {}
        for name, value in values.items():
            default = getattr(defaults, name)
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise TypeError
                    kwargs[name] = value
                elif isinstance(default, tuple):
                    kwargs[name] = tuple(int(v) for v in value)
                elif isinstance(default, int):
                    if isinstance(value, bool) or float(value) != int(value):
                        raise TypeError
                    kwargs[name] = int(value)
                elif isinstance(default, float):
                    kwargs[name] = float(value)
                else:
                    kwargs[name] = str(value)
            except (TypeError, ValueError):
                raise ConfigError(f"Setting {name!r} has an invalid value {value!r}.", table=table,
                                  fix=f"Give a value of the same type as the default {default!r}.") from None
        return cls(**kwargs).checked(table=table)

    def to_dict(self) -> dict:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def with_(self, **changes) -> "DeepConfig":
        return replace(self, **changes)

    def checked(self, *, table: str | None = None) -> "DeepConfig":
        """Return self after checking value ranges that need no data (ConfigError otherwise)."""
        def bad(name: str, fix: str):
            raise ConfigError(f"Setting {name}={getattr(self, name)!r} is invalid.", table=table, fix=fix)

        if self.epochs < 1:
            bad("epochs", "Use at least 1 epoch.")
        if self.batch_size < 1:
            bad("batch_size", "Use a positive expected batch size.")
        if not (self.max_grad_norm > 0 and math.isfinite(self.max_grad_norm)):
            bad("max_grad_norm", "Use a positive clipping norm, e.g. 1.0.")
        if self.accountant not in ACCOUNTANTS:
            bad("accountant", f"Use one of {', '.join(ACCOUNTANTS)}.")
        if self.device not in DEVICES:
            bad("device", f"Use one of {', '.join(DEVICES)}.")
        if not (0 < self.preprocessing_share < 1):
            bad("preprocessing_share", "Use a fraction strictly between 0 and 1, e.g. 0.1.")
        if self.cpu_threads < 0:
            bad("cpu_threads", "Use 0 (torch default) or a positive thread count.")
        if self.n_modes < 1:
            bad("n_modes", "Use at least 1 mode per numeric column.")
        if self.pac != 1:
            bad("pac", "Under DP the discriminator must see one row per sample (pac=1): packing rows of a Poisson "
                       "batch lets one row change other rows' packs, so its influence is not bounded by the "
                       "clipping norm.")
        for name in ("generator_lr", "discriminator_lr", "tvae_lr", "loss_factor", "max_noise_multiplier"):
            if not getattr(self, name) > 0:
                bad(name, "Use a positive number.")
        for name in ("embedding_dim", "latent_dim"):
            if getattr(self, name) < 1:
                bad(name, "Use a positive width.")
        for name in ("generator_dims", "discriminator_dims", "encoder_dims", "decoder_dims"):
            if not getattr(self, name) or min(getattr(self, name)) < 1:
                bad(name, "Give a non-empty list of positive layer widths.")
        return self


def split_budget(epsilon: float, delta: float, preprocessing_share: float) -> dict:
    """Split a deep generator's (epsilon, delta) into preprocessing and DP-SGD shares (basic composition).

    epsilon = preprocessing_epsilon + sgd_epsilon and delta = preprocessing_delta + sgd_delta. The preprocessing share
    is then spent in zCDP (Gaussian histograms) by converting (preprocessing_epsilon, preprocessing_delta) to rho.
    """
    if not (epsilon > 0 and 0 < delta < 1):
        raise ConfigError(f"Deep generators need epsilon > 0 and 0 < delta < 1 (got {epsilon}, {delta}).",
                          fix="Set a positive epsilon and a delta well below 1/N.")
    return {
        "preprocessing_epsilon": epsilon * preprocessing_share,
        "preprocessing_delta": delta * preprocessing_share,
        "sgd_epsilon": epsilon * (1 - preprocessing_share),
        "sgd_delta": delta * (1 - preprocessing_share),
    }


def default_delta(rows: int) -> float:
    """A conservative delta for a table of about `rows` rows: min(1e-6, 1 / (n ln n)) (dp-correctness.md, item 8)."""
    n = max(int(rows), 3)
    return min(1e-6, 1.0 / (n * math.log(n)))
