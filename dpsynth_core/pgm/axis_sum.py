"""Fast sums of an array over a fixed set of axes.

numpy's ``sum(axis=...)`` is slow over short or non-adjacent axes (a 472k-cell table summed over
its last axis of 8 took 0.18 ms, against 0.02 ms as a matrix-vector product), and those sums are
the inner loop of belief propagation.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


class AxisSum:
    """Sum of a C-ordered array of fixed ``shape`` over ``axes``, keeping them as size-1 axes.

    numpy's ``sum(axis=...)`` is slow over short or non-adjacent axes, so adjacent axes with the
    same fate are merged and each summed block is contracted with a vector of ones (BLAS).
    """

    def __init__(self, shape: Sequence[int], axes: Sequence[int]):
        summed = set(axes)
        self.out_shape = tuple(1 if i in summed else n for i, n in enumerate(shape))
        blocks: list[list] = []
        for i, n in enumerate(shape):
            if n == 1:
                continue
            if blocks and blocks[-1][1] == (i in summed):
                blocks[-1][0] *= n
            else:
                blocks.append([n, i in summed])
        self.block_shape = tuple(n for n, _ in blocks)
        self.steps: list[tuple[int, int, int]] = []  # (before, size, after), last block first
        sizes = [n for n, _ in blocks]
        for j in reversed(range(len(blocks))):
            if blocks[j][1]:
                before = int(np.prod(sizes[:j], dtype=np.int64))
                after = int(np.prod(sizes[j + 1 :], dtype=np.int64))
                self.steps.append((before, sizes[j], after))
                del sizes[j]
        self._ones = {size: np.ones(size) for _, size, _ in self.steps}

    def __call__(self, values: np.ndarray) -> np.ndarray:
        out = values
        for before, size, after in self.steps:
            ones = self._ones[size]
            if after == 1:
                out = out.reshape(before, size) @ ones
            elif before == 1:
                out = ones @ out.reshape(size, after)
            else:
                out = ones @ out.reshape(before, size, after)
        return out.reshape(self.out_shape)
