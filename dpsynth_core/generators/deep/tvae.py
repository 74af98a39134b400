"""DP-TVAE: TVAE (Xu et al. 2019) whose encoder and decoder are trained together with DP-SGD (Opacus).

Each step draws a Poisson batch (rate q = batch_size / N, N public or DP-estimated); each row's loss
(reconstruction * loss_factor + KL) has its gradient over encoder + decoder clipped to C, and Gaussian noise sigma*C is
added. Only the decoder is kept for sampling (post-processing).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from dpsynth_core.accounting.dpsgd import DpSgdPlan
from dpsynth_core.generators.deep.common import DeepGenerator, FittedDeepSynthesizer, state_arrays
from dpsynth_core.generators.deep.networks import TVAE
from dpsynth_core.generators.deep.outputs import scalar_positions, softmax_blocks
from dpsynth_core.generators.deep.training import make_private_trainer, quiet_hook_notice, report_epoch
from dpsynth_core.generators.deep.transform import DataTransformer

SIGMA_RANGE = (0.01, 1.0)


def per_row_loss(x: torch.Tensor, recon: torch.Tensor, sigma: torch.Tensor, mu: torch.Tensor,
                 logvar: torch.Tensor, transformer: DataTransformer, loss_factor: float) -> torch.Tensor:
    """TVAE's loss, one value per row.

    loss_factor * (Gaussian NLL of scalars + CE of one-hots) + KL(q(z|x) || N(0,I)).
    """
    loss = torch.zeros(x.shape[0], device=x.device)
    for k, position in enumerate(scalar_positions(transformer)):
        std = sigma[:, k]
        loss = loss + (x[:, position] - torch.tanh(recon[:, position])) ** 2 / (2 * std ** 2) + torch.log(std)
    for start, size in softmax_blocks(transformer):
        target = x[:, start:start + size].argmax(dim=1)
        loss = loss + F.cross_entropy(recon[:, start:start + size], target, reduction="none")
    kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(dim=1)
    return loss_factor * loss + kl


class DPTVAE(DeepGenerator):
    name = "dp-tvae"
    Fitted = FittedDeepSynthesizer

    def build_network(self, transformer: DataTransformer) -> TVAE:
        cfg = self.config
        return TVAE(transformer.dim, cfg.encoder_dims, cfg.decoder_dims, cfg.latent_dim,
                    len(scalar_positions(transformer))).to(self.device)

    def _train(self, data: torch.Tensor, cat_codes: torch.Tensor, transformer: DataTransformer, plan: DpSgdPlan,
               noise_seed: int | None):
        cfg, device = self.config, self.device
        model = self.build_network(transformer)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.tvae_lr, weight_decay=1e-5)
        trainer = make_private_trainer(model, optimizer, plan=plan, max_grad_norm=cfg.max_grad_norm,
                                       expected_batch_size=cfg.batch_size, secure_mode=cfg.secure_mode,
                                       noise_seed=noise_seed, device=device)
        with quiet_hook_notice():
            self._loop(data, transformer, plan, trainer, model)
        return state_arrays(model.decoder, "decoder"), trainer

    def _loop(self, data, transformer, plan, trainer, model) -> None:
        cfg, device, n_rows = self.config, self.device, data.shape[0]
        for step in range(1, plan.steps + 1):
            index = trainer.poisson_indices(n_rows)
            x = data[index].to(device)
            eps = torch.randn(len(x), cfg.latent_dim, device=device)
            trainer.optimizer.zero_grad(set_to_none=True)
            recon, sigma, mu, logvar = trainer.module(x, eps)
            loss = per_row_loss(x, recon, sigma, mu, logvar, transformer, cfg.loss_factor).sum()
            loss.backward()
            trainer.optimizer.step()
            with torch.no_grad():  # post-processing of the released parameters
                model.decoder.sigma.weight.clamp_(*SIGMA_RANGE)
            # no loss in the progress line: it is an exact, unclipped function of the private batch
            report_epoch(self.progress, trainer, generator=self.name, step=step, epochs=cfg.epochs)
