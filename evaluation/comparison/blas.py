"""Limit the BLAS thread pool while the comparison runs.

Every matrix in the comparison is small (tens to hundreds of columns), and a
multi-threaded OpenBLAS spends more time synchronising its threads than
computing; on a loaded two-core machine the ``compare`` stage ran four times
slower with the default thread pool (43 s against 10 s on the demo).
:func:`blas_threads` sets the pool of numpy's bundled OpenBLAS for the
duration of a block, through ``threadpoolctl`` when it is installed and
otherwise through OpenBLAS's own ``*openblas_set_num_threads*`` entry point;
when neither is found it does nothing.  Results do not depend on the number
of threads beyond floating-point rounding.
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np


def _openblas() -> tuple[ctypes.CDLL, str, str] | None:
    """numpy's bundled OpenBLAS and the names of its thread-count setter and getter."""
    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                if hasattr(lib, f"{prefix}_set_num_threads{suffix}"):
                    return lib, f"{prefix}_set_num_threads{suffix}", f"{prefix}_get_num_threads{suffix}"
    return None


@contextmanager
def blas_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with at most ``n_threads`` BLAS threads (``None``: leave the pool as it is)."""
    if n_threads is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        found = _openblas()
        if found is None:
            yield
            return
        lib, setter, getter = found
        before = int(getattr(lib, getter)())
        getattr(lib, setter)(int(n_threads))
        try:
            yield
        finally:
            getattr(lib, setter)(before)
        return
    with threadpool_limits(limits=n_threads, user_api="blas"):
        yield
