"""DP-CTGAN: CTGAN whose discriminator is trained with DP-SGD (Opacus); the generator is post-processing.

Privacy argument (privacy unit: one source row, add/remove adjacency):
- Each discriminator step draws a Poisson batch (each row independently with probability q = batch_size / N, N public
  or DP-estimated). Every real row is one sample of the discriminator (pac = 1); its gradient is clipped to C, so a
  row changes the summed gradient by at most C; Gaussian noise sigma*C is added (Opacus DPOptimizer).
- The `batch_size` fake rows' gradient is added after the noise, unclipped: fake rows, their conditional vectors and
  the discriminator state they are judged by depend only on public settings, the seed and earlier (already private)
  steps, never on this step's rows, so this term is the same in neighbouring datasets (post-processing).
  Packing (pac > 1) is refused under DP: with Poisson batches, packs of co-sampled rows would let one row's presence
  regroup other rows and change many packs (see DeepConfig.pac).
- A real row's conditional vector is built from that row alone (a uniformly chosen categorical column, the row's own
  category), instead of CTGAN's training-by-sampling, which picks rows by category and would break Poisson sampling.
  Fake conditional vectors use the DP category frequencies, so real and fake conditions match in distribution.
- The generator is updated only through the discriminator's outputs: post-processing of a DP discriminator.
- CTGAN's WGAN-GP loss needs second-order gradients Opacus cannot clip per sample; we use the standard
  (non-saturating) GAN loss, as Opacus's DCGAN example and SmartNoise's DP-CTGAN do.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from dpsynth_core.accounting.dpsgd import DpSgdPlan
from dpsynth_core.generators.deep.common import DeepGenerator, FittedDeepSynthesizer, state_arrays
from dpsynth_core.generators.deep.networks import CTGANDiscriminator, CTGANGenerator
from dpsynth_core.generators.deep.outputs import activate
from dpsynth_core.generators.deep.training import make_private_trainer, quiet_hook_notice, report_epoch
from dpsynth_core.generators.deep.transform import DataTransformer


class ConditionSampler:
    """Conditional vectors over the categorical columns (CTGAN's cond vector; empty without categorical columns)."""

    def __init__(self, transformer: DataTransformer, device: torch.device):
        self.device = device
        self.dim = transformer.cond_dim
        self.sizes = [span.size for _, span in transformer.categorical]
        self.cond_offsets = torch.tensor([0] + list(torch.tensor(self.sizes).cumsum(0)[:-1].tolist()),
                                         dtype=torch.long) if self.sizes else torch.zeros(0, dtype=torch.long)
        self.data_offsets = [transformer.offsets[i] for i, _ in transformer.categorical]
        self.frequencies = [torch.tensor(span.frequencies, dtype=torch.float32) for _, span in transformer.categorical]

    def _one_hot(self, columns: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        cond = torch.zeros(len(columns), self.dim)
        if len(columns):
            cond[torch.arange(len(columns)), self.cond_offsets[columns] + categories] = 1.0
        return cond.to(self.device)

    def for_rows(self, row_codes: torch.Tensor) -> torch.Tensor:
        """Real rows: a uniformly chosen categorical column and the row's own category in it."""
        if not self.dim:
            return torch.zeros(len(row_codes), 0, device=self.device)
        columns = torch.randint(len(self.sizes), (len(row_codes),))
        return self._one_hot(columns, row_codes[torch.arange(len(row_codes)), columns])

    def sample(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Fake rows: column uniform, category from the DP frequencies. Returns (cond, columns, categories)."""
        if not self.dim:
            empty = torch.zeros(n, dtype=torch.long)
            return torch.zeros(n, 0, device=self.device), empty, empty
        columns = torch.randint(len(self.sizes), (n,))
        categories = torch.zeros(n, dtype=torch.long)
        for k, freq in enumerate(self.frequencies):
            rows = torch.nonzero(columns == k).flatten()
            if len(rows):
                categories[rows] = torch.multinomial(freq, len(rows), replacement=True)
        return self._one_hot(columns, categories), columns, categories

    def condition_loss(self, raw: torch.Tensor, columns: torch.Tensor, categories: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy between the generated block of each row's chosen column and its chosen category."""
        if not self.dim or not len(columns):
            return torch.zeros((), device=raw.device)
        total = torch.zeros((), device=raw.device)
        for k, (start, size) in enumerate(zip(self.data_offsets, self.sizes, strict=True)):
            rows = torch.nonzero(columns == k).flatten().to(raw.device)
            if len(rows):
                total = total + F.cross_entropy(raw[rows, start:start + size], categories[rows].to(raw.device),
                                                reduction="sum")
        return total / len(columns)


class DPCTGAN(DeepGenerator):
    name = "dp-ctgan"
    Fitted = FittedDeepSynthesizer

    def build_networks(self, transformer: DataTransformer) -> tuple[CTGANGenerator, CTGANDiscriminator]:
        cfg = self.config
        generator = CTGANGenerator(cfg.embedding_dim + transformer.cond_dim, cfg.generator_dims, transformer.dim)
        discriminator = CTGANDiscriminator(transformer.dim + transformer.cond_dim, cfg.discriminator_dims, pac=cfg.pac)
        return generator.to(self.device), discriminator.to(self.device)

    def _train(self, data: torch.Tensor, cat_codes: torch.Tensor, transformer: DataTransformer, plan: DpSgdPlan,
               noise_seed: int | None):
        cfg, device = self.config, self.device
        generator, discriminator = self.build_networks(transformer)
        conditions = ConditionSampler(transformer, device)
        opt_g = torch.optim.Adam(generator.parameters(), lr=cfg.generator_lr, betas=(0.5, 0.9), weight_decay=1e-6)
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.discriminator_lr, betas=(0.5, 0.9))
        # the optimizer averages by the PUBLIC expected batch size (never the private row count)
        trainer = make_private_trainer(discriminator, opt_d, plan=plan, max_grad_norm=cfg.max_grad_norm,
                                       expected_batch_size=cfg.batch_size, secure_mode=cfg.secure_mode,
                                       noise_seed=noise_seed, device=device)
        with quiet_hook_notice():
            self._loop(data, cat_codes, transformer, plan, trainer, generator, opt_g, conditions)
        return state_arrays(generator, "generator"), trainer

    def _loop(self, data, cat_codes, transformer, plan, trainer, generator, opt_g, conditions) -> None:
        cfg, device, fakes, n_rows = self.config, self.device, self.config.batch_size, data.shape[0]
        d_module, d_optimizer = trainer.module, trainer.optimizer
        d_params = [p for p in d_module.parameters() if p.requires_grad]
        for step in range(1, plan.steps + 1):
            # ---- discriminator, fake half: an ordinary gradient (data-independent: no clipping or noise needed)
            d_optimizer.zero_grad(set_to_none=True)
            fake_cond, _, _ = conditions.sample(fakes)
            with torch.no_grad():
                noise = torch.randn(fakes, cfg.embedding_dim, device=device)
                fake = activate(transformer, generator(torch.cat([noise, fake_cond], dim=1)))
            d_module.disable_hooks()
            fake_logits = d_module(torch.cat([fake, fake_cond], dim=1)).squeeze(1)
            loss_fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits),
                                                           reduction="sum")
            fake_grads = torch.autograd.grad(loss_fake, d_params)
            d_module.enable_hooks()
            # ---- discriminator, real half: DP-SGD on a Poisson batch (per-row clipping to C, noise sigma*C)
            index = trainer.poisson_indices(n_rows)
            real = torch.cat([data[index].to(device), conditions.for_rows(cat_codes[index])], dim=1)
            real_logits = d_module(real).squeeze(1)
            loss_real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits),
                                                           reduction="sum")
            loss_real.backward()
            if d_optimizer.pre_step():      # clip per row, add noise, divide by the public batch size, account
                for param, grad in zip(d_params, fake_grads, strict=True):
                    param.grad.add_(grad / fakes)   # post-processing: depends on no row of this batch
                d_optimizer.original_optimizer.step()
            # ---- generator: post-processing of the private discriminator (its hooks off, its grads discarded)
            d_module.disable_hooks()
            fake_cond, columns, categories = conditions.sample(fakes)
            noise = torch.randn(fakes, cfg.embedding_dim, device=device)
            raw = generator(torch.cat([noise, fake_cond], dim=1))
            logits = d_module(torch.cat([activate(transformer, raw), fake_cond], dim=1)).squeeze(1)
            loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)) \
                + conditions.condition_loss(raw, columns, categories)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            d_optimizer.zero_grad(set_to_none=True)
            d_module.enable_hooks()
            # only the generator's loss on synthetic rows is shown (post-processing of the DP discriminator); the
            # discriminator's loss on the real batch is an exact function of private rows and is never reported
            report_epoch(self.progress, trainer, generator=self.name, step=step, epochs=cfg.epochs,
                         losses={"loss_generator_on_synthetic": loss_g.item()})
