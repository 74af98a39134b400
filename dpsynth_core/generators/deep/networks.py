"""CTGAN (Xu et al. 2019, "Modeling Tabular Data using Conditional GAN") and TVAE networks, written on plain torch.

Differences from the reference implementation, all for DP-SGD with Opacus:
- no BatchNorm anywhere (it mixes rows of a batch, so per-row clipping would not bound one row's influence, and
  Opacus refuses it): the generator's residual blocks use LayerNorm, the discriminator none;
- TVAE's learned output scales are a bias-free Linear applied to a constant 1 (a layer Opacus computes per-sample
  gradients for) instead of a bare nn.Parameter.
Every module here passes `opacus.validators.ModuleValidator.validate(strict=True)`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class Residual(nn.Module):
    """CTGAN residual block: Linear -> LayerNorm -> ReLU, output concatenated with the input."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.norm = nn.LayerNorm(out_dim)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.relu(self.norm(self.fc(x))), x], dim=1)


class CTGANGenerator(nn.Module):
    """Noise (embedding_dim) + conditional vector -> raw outputs (activations applied by the caller)."""

    def __init__(self, input_dim: int, hidden: Sequence[int], data_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden:
            layers.append(Residual(width, size))
            width += size
        layers.append(nn.Linear(width, data_dim))
        self.seq = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(x)


class CTGANDiscriminator(nn.Module):
    """PacGAN discriminator: `pac` rows (each row + its conditional vector) are judged together.

    Input (batch, input_dim) is reshaped to (batch / pac, pac * input_dim). Under DP we use pac = 1 (see config.py).
    """

    def __init__(self, input_dim: int, hidden: Sequence[int], pac: int = 1, dropout: float = 0.5):
        super().__init__()
        self.pac = pac
        self.pack_dim = input_dim * pac
        layers: list[nn.Module] = []
        width = self.pack_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 1))
        self.seq = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.pac:
            raise ValueError(f"batch of {x.shape[0]} rows is not a multiple of pac={self.pac}")
        return self.seq(x.reshape(-1, self.pack_dim))


class TVAEEncoder(nn.Module):
    """Row -> (mu, logvar) of a diagonal Gaussian over the latent space."""

    def __init__(self, data_dim: int, hidden: Sequence[int], latent_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = data_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.seq = nn.Sequential(*layers)
        self.mu = nn.Linear(width, latent_dim)
        self.logvar = nn.Linear(width, latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.seq(x)
        return self.mu(hidden), self.logvar(hidden)


class TVAEDecoder(nn.Module):
    """Latent -> raw outputs, plus per-scalar output scales sigma (shared by all rows, clamped by the trainer)."""

    def __init__(self, latent_dim: int, hidden: Sequence[int], data_dim: int, n_scalars: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = latent_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, data_dim))
        self.seq = nn.Sequential(*layers)
        self.sigma = nn.Linear(1, max(n_scalars, 1), bias=False)
        nn.init.constant_(self.sigma.weight, 0.1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ones = torch.ones(z.shape[0], 1, dtype=z.dtype, device=z.device)
        return self.seq(z), self.sigma(ones)


class TVAE(nn.Module):
    """Encoder + decoder as one module, so DP-SGD clips each row's gradient over both together."""

    def __init__(self, data_dim: int, encoder_dims: Sequence[int], decoder_dims: Sequence[int], latent_dim: int,
                 n_scalars: int):
        super().__init__()
        self.encoder = TVAEEncoder(data_dim, encoder_dims, latent_dim)
        self.decoder = TVAEDecoder(latent_dim, decoder_dims, data_dim, n_scalars)

    def forward(self, x: torch.Tensor, eps: torch.Tensor):
        mu, logvar = self.encoder(x)
        z = mu + eps * torch.exp(0.5 * logvar)
        recon, sigma = self.decoder(z)
        return recon, sigma, mu, logvar
