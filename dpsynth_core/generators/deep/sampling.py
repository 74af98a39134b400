"""Sampling from fitted deep generators (post-processing): rebuild the kept network from arrays and draw rows."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from dpsynth_core.generators.deep.common import FittedDeepSynthesizer, load_arrays
from dpsynth_core.generators.deep.networks import CTGANGenerator, TVAEDecoder
from dpsynth_core.generators.deep.outputs import sample_choices, scalar_positions

_CHUNK = 10_000


def _torch_generator(rng: np.random.Generator) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(int(rng.integers(2 ** 63 - 1)))
    return generator


def _ctgan(fitted: FittedDeepSynthesizer) -> Callable:
    cfg, tf = fitted.config, fitted.transformer
    net = load_arrays(CTGANGenerator(cfg.embedding_dim + tf.cond_dim, cfg.generator_dims, tf.dim), fitted.arrays,
                      "generator").eval()
    spans = [span for _, span in tf.categorical]

    def conditions(n: int, rng: np.random.Generator) -> np.ndarray:
        cond = np.zeros((n, tf.cond_dim), dtype=np.float32)
        if not spans:
            return cond
        columns = rng.integers(len(spans), size=n)
        offsets = np.cumsum([0] + [s.size for s in spans[:-1]])
        for k, span in enumerate(spans):
            rows = np.flatnonzero(columns == k)
            cond[rows, offsets[k] + rng.choice(span.size, size=rows.size, p=np.asarray(span.frequencies))] = 1.0
        return cond

    def draw(n: int, rng: np.random.Generator):
        raws = []
        gen = _torch_generator(rng)
        for start in range(0, n, _CHUNK):
            m = min(_CHUNK, n - start)
            cond = torch.from_numpy(conditions(m, rng))
            with torch.no_grad():
                noise = torch.randn(m, cfg.embedding_dim, generator=gen)
                raws.append(net(torch.cat([noise, cond], dim=1)).numpy())
        raw = np.concatenate(raws) if raws else np.zeros((0, tf.dim), dtype=np.float32)
        return sample_choices(tf, raw, rng)

    return draw


def _tvae(fitted: FittedDeepSynthesizer) -> Callable:
    cfg, tf = fitted.config, fitted.transformer
    n_scalars = len(scalar_positions(tf))
    net = load_arrays(TVAEDecoder(cfg.latent_dim, cfg.decoder_dims, tf.dim, n_scalars), fitted.arrays,
                      "decoder").eval()
    sigmas = net.sigma.weight.detach().numpy().reshape(-1)[:n_scalars]

    def draw(n: int, rng: np.random.Generator):
        raws = []
        gen = _torch_generator(rng)
        for start in range(0, n, _CHUNK):
            m = min(_CHUNK, n - start)
            with torch.no_grad():
                raws.append(net(torch.randn(m, cfg.latent_dim, generator=gen))[0].numpy())
        raw = np.concatenate(raws) if raws else np.zeros((0, tf.dim), dtype=np.float32)
        return sample_choices(tf, raw, rng, alpha_noise=sigmas)

    return draw


_SAMPLERS = {"dp-ctgan": _ctgan, "dp-tvae": _tvae}


def sampler_for(fitted: FittedDeepSynthesizer) -> Callable:
    return _SAMPLERS[fitted.generator](fitted)

