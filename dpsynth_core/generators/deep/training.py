"""DP-SGD plumbing shared by DP-CTGAN and DP-TVAE: Opacus PrivacyEngine set-up, Poisson sampling, device, seeds.

We use Opacus's `PrivacyEngine` for its accountant, its secure RNG and its "Secure RNG turned off" warning (never
silenced), and Opacus's `GradSampleModule` + `DPOptimizer` for per-sample clipping and noise. We do NOT use
`make_private`'s data loader: it derives the sample rate and the averaging denominator from `len(dataset)`, the private
row count (Opacus #571/#819). Instead each step draws a Poisson batch with our rate q = batch_size / N (N public or
DP-estimated), the optimizer averages by the public expected batch size, and the accountant is charged at that q.

Randomness: noise and Poisson sampling use a torch generator seeded from `noise_seed` (OS entropy when not given;
tests pass one), never from the user's `seed`, so a published seed cannot reveal the noise or the sampled rows
(docs/ARCHITECTURE.md). The user's `seed` drives weight initialisation, dropout, latent draws and sampling. In secure
mode both noise and sampling use Opacus's torchcsprng generator and training is not reproducible.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator

import torch
from opacus import GradSampleModule, PrivacyEngine
from opacus.optimizers import DPOptimizer
from opacus.validators import ModuleValidator

from dpsynth_core.accounting.dpsgd import DpSgdAccountant, DpSgdPlan
from dpsynth_core.errors import ConfigError

ProgressCallback = Callable[[str, dict], None]


def resolve_device(device: str) -> torch.device:
    """'auto' -> CUDA when available else CPU; 'cuda' without CUDA is a ConfigError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was requested but no CUDA device is available.",
                          fix="Use device: auto or device: cpu.")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"Unknown device {device!r}.", fix="Use auto, cpu or cuda.")
    return torch.device(device)


@contextlib.contextmanager
def seeded(seed: int | None, cpu_threads: int = 0) -> Iterator[None]:
    """Run a block with torch's global RNG seeded from the user's seed (and `cpu_threads` intra-op threads when > 0),
    restoring the caller's RNG state and thread count after."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed if seed is not None else secrets.randbits(63))
        if cpu_threads > 0:
            torch.set_num_threads(cpu_threads)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


@contextlib.contextmanager
def quiet_hook_notice() -> Iterator[None]:
    """Hide only torch's 'Full backward hook is firing ... no inputs require gradients' notice, which Opacus's hooks
    trigger on every step (expected: the data tensors need no gradient). Every other warning still shows."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        yield


@dataclass
class PrivateTrainer:
    """A module trained with DP-SGD: per-sample clipping to C, Gaussian noise sigma*C, Poisson batches at rate q."""

    module: GradSampleModule
    optimizer: DPOptimizer
    accountant: DpSgdAccountant
    plan: DpSgdPlan
    max_grad_norm: float
    sampling_generator: torch.Generator

    def poisson_indices(self, n_rows: int) -> torch.Tensor:
        """Indices of this step's batch: each of the n_rows rows independently with probability q."""
        mask = torch.rand(n_rows, generator=self.sampling_generator) < self.plan.sample_rate
        return torch.nonzero(mask, as_tuple=False).flatten()

    def epsilon_spent(self) -> float:
        return self.accountant.epsilon(self.plan.delta)


def make_private_trainer(module: torch.nn.Module, optimizer: torch.optim.Optimizer, *, plan: DpSgdPlan,
                         max_grad_norm: float, expected_batch_size: int, secure_mode: bool,
                         noise_seed: int | None, device: torch.device) -> PrivateTrainer:
    """Wrap `module`/`optimizer` for DP-SGD. The loss given to backward must be a SUM over the batch's rows.

    Gradient = (sum of per-row gradients clipped to `max_grad_norm` + N(0, (sigma*C)^2)) / expected_batch_size.
    """
    errors = ModuleValidator.validate(module, strict=False)
    if errors:
        raise ConfigError(f"Network not compatible with DP-SGD: {errors}", fix="Use layers without BatchNorm.")
    try:
        engine = PrivacyEngine(accountant=plan.accountant, secure_mode=secure_mode)  # warns when secure_mode is off
    except ImportError as exc:
        raise ConfigError(f"secure_mode needs the torchcsprng package, which is not installed ({exc}).",
                          fix="Install torchcsprng (unmaintained; see Opacus docs) "
                              "or set secure_mode: false.") from None
    if secure_mode:
        if noise_seed is not None:
            raise ConfigError("A noise seed cannot be used in secure mode.", fix="Remove noise_seed.")
        noise_generator = sampling_generator = engine.secure_rng
    else:
        seed = noise_seed if noise_seed is not None else secrets.randbits(63)
        sampling_generator = torch.Generator(device="cpu")
        sampling_generator.manual_seed(seed)
        noise_generator = torch.Generator(device=device)
        noise_generator.manual_seed((seed + 0x9E3779B97F4A7C15) % (2 ** 63))
    gsm = GradSampleModule(module, batch_first=True, loss_reduction="sum")
    dp_optimizer = DPOptimizer(optimizer, noise_multiplier=plan.noise_multiplier, max_grad_norm=max_grad_norm,
                               expected_batch_size=expected_batch_size, loss_reduction="mean",
                               generator=noise_generator, secure_mode=secure_mode)
    tracker = DpSgdAccountant(plan.accountant, engine.accountant)
    dp_optimizer.attach_step_hook(tracker.step_hook(plan.sample_rate))
    return PrivateTrainer(gsm, dp_optimizer, tracker, plan, max_grad_norm, sampling_generator)


def epoch_ends(epochs: int, sample_rate: float) -> dict[int, int]:
    """{step: epoch} for the step that ends each epoch: epoch e ends at step ceil(e / q) (one epoch = 1/q steps)."""
    return {int(math.ceil(e / sample_rate - 1e-9)): e for e in range(1, epochs + 1)}


def report_epoch(progress: ProgressCallback | None, trainer: PrivateTrainer, *, generator: str, step: int,
                 epochs: int, losses: dict[str, float] | None = None) -> None:
    """Call `progress('epoch', {...})` when `step` ends an epoch, with the epsilon spent so far and `losses` —
    which must be post-processing of DP outputs only (e.g. a generator's loss on synthetic rows)."""
    if progress is None:
        return
    epoch = epoch_ends(epochs, trainer.plan.sample_rate).get(step)
    if epoch is None:
        return
    progress("epoch", {
        "generator": generator,
        "epoch": epoch,
        "epochs": epochs,
        "step": step,
        "steps": trainer.plan.steps,
        "epsilon_spent": trainer.epsilon_spent(),
        "epsilon_target": trainer.plan.target_epsilon,
        "delta": trainer.plan.delta,
        **{k: float(v) for k, v in (losses or {}).items()},
    })
