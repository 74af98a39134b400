"""Network outputs <-> transformer blocks: activations for training, sampling for generation (post-processing)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from dpsynth_core.generators.deep.transform import CategoricalSpan, DataTransformer

GUMBEL_TAU = 0.2


def activate(transformer: DataTransformer, raw: torch.Tensor) -> torch.Tensor:
    """CTGAN's output activation: tanh for scalars, Gumbel-softmax (tau 0.2) for one-hot blocks."""
    parts, start = [], 0
    for dim, kind in transformer.blocks:
        block = raw[:, start:start + dim]
        parts.append(torch.tanh(block) if kind == "tanh" else F.gumbel_softmax(block, tau=GUMBEL_TAU))
        start += dim
    return torch.cat(parts, dim=1)


def _sample_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row from row-wise probabilities (inverse CDF)."""
    cumulative = np.cumsum(probabilities, axis=1)
    cumulative[:, -1] = 1.0
    draws = rng.random((probabilities.shape[0], 1))
    return (draws > cumulative).sum(axis=1).astype(np.int64)


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def sample_choices(transformer: DataTransformer, raw: np.ndarray, rng: np.random.Generator,
                   alpha_noise: np.ndarray | None = None) -> tuple[dict, dict]:
    """(alphas, choices) for `DataTransformer.decode`: categories/modes drawn from softmax(raw), alphas = tanh(raw).

    `alpha_noise` (TVAE): per-scalar std added to the tanh outputs before clipping, as in TVAE's sampler.
    """
    alphas, choices = {}, {}
    scalar = 0
    for span, start in zip(transformer.spans, transformer.offsets, strict=True):
        if isinstance(span, CategoricalSpan):
            choices[span.column] = _sample_rows(_softmax(raw[:, start:start + span.size]), rng)
            continue
        alpha = np.tanh(raw[:, start])
        if alpha_noise is not None:
            alpha = alpha + rng.normal(0.0, alpha_noise[scalar], size=alpha.shape)
        alphas[span.column] = np.clip(alpha, -1.0, 1.0)
        choices[span.column] = _sample_rows(_softmax(raw[:, start + 1:start + span.dim]), rng)
        scalar += 1
    return alphas, choices


def scalar_positions(transformer: DataTransformer) -> list[int]:
    """Column indices (in the transformed vector) of the tanh scalars, in span order."""
    return [start for span, start in zip(transformer.spans, transformer.offsets, strict=True)
            if not isinstance(span, CategoricalSpan)]


def softmax_blocks(transformer: DataTransformer) -> list[tuple[int, int]]:
    """(start, size) of every one-hot block, in order."""
    out, start = [], 0
    for dim, kind in transformer.blocks:
        if kind == "softmax":
            out.append((start, dim))
        start += dim
    return out
