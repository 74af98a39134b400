"""Settings of the deep DP generators (dp-ctgan, dp-tvae): an immutable value type read from the dbt/CLI config.

Every field is public configuration; none is derived from private data. Units: learning rates per optimizer step,
`max_grad_norm` is the per-row L2 clipping norm C, `batch_size` is the *expected* Poisson batch (q = batch_size / N with
N public or DP-estimated).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import ClassVar

from dpsynth_core.accounting.dpsgd import ACCOUNTANTS
from dpsynth_core.generators.base import GeneratorOptions
from dpsynth_core.validation import Interval, Param, validate_params

DEVICES = ("auto", "cpu", "cuda")


def _widths(dims: tuple) -> str | None:
    if not dims or not all(isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in dims):
        return "must be a non-empty list of positive layer widths"
    return None


def _no_packing(pac: int) -> str | None:
    if pac != 1:
        return ("is refused: under DP the discriminator must see one row per sample (pac=1); packing rows of a "
                "Poisson batch lets one row change other rows' packs, so its influence is not bounded by the "
                "clipping norm")
    return None


@dataclass(frozen=True)
class DeepConfig(GeneratorOptions):
    """Training settings. Defaults are small networks that train on a CPU in minutes.

    secure_mode: Opacus secure mode (noise from torchcsprng with the 2n-draw trick against floating-point attacks on
        the Gaussian sampler, Poisson sampling from /dev/urandom). It is NOT a complete floating-point-safe
        implementation (Opacus issues #616, #538) and needs the unmaintained `torchcsprng`; off, Opacus warns
        "Secure RNG turned off" and we never silence that warning. Off, training is deterministic given `seed` and
        the caller's noise seed; on, it is not reproducible.
    pac: PacGAN packing. Under DP it must be 1: with Poisson sampling, packing rows of one batch together makes one
        row's presence reshuffle other rows' packs, so its influence is no longer bounded by C (see ctgan.py).
        Any other value is refused.
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

    constraints: ClassVar[dict[str, Param]] = {
        "epochs": Param(int, Interval(1, None), example=10),
        "batch_size": Param(int, Interval(1, None), example=500),
        "max_grad_norm": Param(float, Interval(0, None, "neither"), example=1.0),
        "accountant": Param(str, choices=ACCOUNTANTS, example="rdp"),
        "device": Param(str, choices=DEVICES, example="auto"),
        "secure_mode": Param(bool, example=False),
        "preprocessing_share": Param(float, Interval(0, 1, "neither"), example=0.1),
        "n_modes": Param(int, Interval(1, None), example=10),
        "max_noise_multiplier": Param(float, Interval(0, None, "neither"), example=20.0),
        "cpu_threads": Param(int, Interval(0, None), example=1),
        "embedding_dim": Param(int, Interval(1, None), example=64),
        "generator_dims": Param(list, check=_widths, example=[128, 128]),
        "discriminator_dims": Param(list, check=_widths, example=[128, 128]),
        "generator_lr": Param(float, Interval(0, None, "neither"), example=2e-4),
        "discriminator_lr": Param(float, Interval(0, None, "neither"), example=2e-4),
        "pac": Param(int, check=_no_packing, example=1),
        "latent_dim": Param(int, Interval(1, None), example=64),
        "encoder_dims": Param(list, check=_widths, example=[128, 128]),
        "decoder_dims": Param(list, check=_widths, example=[128, 128]),
        "tvae_lr": Param(float, Interval(0, None, "neither"), example=1e-3),
        "loss_factor": Param(float, Interval(0, None, "neither"), example=2.0),
    }

    @classmethod
    def from_dict(cls, values: dict | None, *, table: str | None = None) -> "DeepConfig":
        """Build from a config mapping; unknown keys and wrong values raise ConfigError naming the key and the fix."""
        checked = validate_params(values, cls.constraints, what="deep-generator setting", table=table)
        return cls(**{k: tuple(int(x) for x in v) if k.endswith("_dims") else v for k, v in checked.items()})

    def to_dict(self) -> dict:
        out = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def with_(self, **changes) -> "DeepConfig":
        return replace(self, **changes)
