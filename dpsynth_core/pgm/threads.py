"""Keep BLAS single-threaded inside the graphical-model kernels.

The kernels run thousands of small matrix-vector products (sums over table axes). A multi-threaded
BLAS gains nothing on them and, on a busy machine, its threads spin and wait: we measured a 60k×8
product going from 0.2 ms to 16 ms. ``threadpoolctl`` (a scikit-learn dependency) limits the pool;
without it this is a no-op.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import ContextManager


@lru_cache(maxsize=1)
def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        return None
    return ThreadpoolController()


def single_threaded_blas() -> ContextManager:
    """Context manager: BLAS limited to one thread for its duration."""
    controller = _controller()
    if controller is None:  # pragma: no cover
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")
