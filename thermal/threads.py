"""One-thread sections for native thread pools (OpenBLAS, OpenMP).

On a 2-core machine a second BLAS or OpenMP thread competing with any other process made CG's
vector operations 20x and the trees' prediction 5-10x slower, so those sections run on one
thread. ``threadpoolctl.threadpool_limits`` rescans the loaded libraries on every call (5 ms
here, as long as an adaptive mesh's whole solve), so the scan is done once per API.
"""
from __future__ import annotations

from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=None)
def _controller(user_api: str) -> ThreadpoolController:
    # Scanned at the first use of each API: by then its library is loaded (numpy's BLAS at
    # import, scikit-learn's OpenMP once a model exists).
    return ThreadpoolController().select(user_api=user_api)


def one_thread(user_api: str):
    """Context manager limiting ``user_api`` ("blas" or "openmp") pools to one thread."""
    return _controller(user_api).limit(limits=1)
