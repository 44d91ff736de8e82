"""BLAS thread limits of a fit (``n_jobs``): one process-wide limit, held while any fit runs.

BLAS results depend on the thread count in the last digits (LAPACK's blocked factorisations split
their sums differently: a Cholesky factor differs by ~1e-14 between 1 and 2 threads, which a solve
amplifies to ~1e-12 in the objective and, through a different solver path, to 6e-5 in single
weights). A fit therefore runs all of its BLAS calls under one count, and fits running
concurrently in threads (``joblib.Parallel(backend="threading")``, a threaded grid search) must
share it: BLAS has one count for the whole process. The contexts are counted across threads: the
first to enter applies its limit, nested and concurrent ones change nothing, the last to leave
restores what was there before (concurrent fits run under the first one's ``n_jobs``).

How the limit is set matters with the OpenBLAS that numpy and scipy ship (0.3.30, 0.3.31):
``openblas_set_num_threads`` called from a thread other than the main one is ignored once the main
thread has set a count, so a fit in a worker thread ran on two threads. Its
``openblas_set_num_threads_local`` takes effect from any thread (and, in these builds, for every
thread: it is no per-thread setting, one more reason for a single count held by all fits), and
``0`` returns to the process-wide count. A BLAS without it (MKL, BLIS, an older OpenBLAS) gets
threadpoolctl's limit.

``n_jobs=None`` means one thread, as ``n_jobs=None`` means one job in scikit-learn: the solvers'
dense algebra is small and sequential (Newton steps on the active blocks, products over the
patterns), and on a shared 2-core machine a default fit ran 1.3-2.3× the CPU time with two BLAS
threads (teacher data, n = 250-1000, 10-20 features). ``n_jobs=-1`` leaves BLAS's own default.
"""

import ctypes
import sys
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads"]

# names of OpenBLAS's "local" setter, most specific first (numpy's 64-bit build exports the plain one)
_LOCAL_SETTERS = (
    "scipy_openblas_set_num_threads_local64_", "openblas_set_num_threads_local64_",
    "scipy_openblas_set_num_threads_local", "openblas_set_num_threads_local",
)
_LOCK = threading.Lock()
_STATE = {"n_modules": -1, "local": [], "shared": None}
_ACTIVE = {"count": 0, "local": [], "limiter": None}  # contexts active in all threads, and what the first set


def _local_setter(library):
    """OpenBLAS's ``openblas_set_num_threads_local`` of a threadpoolctl library controller, or ``None``."""
    if library.internal_api != "openblas":
        return None
    for name in _LOCAL_SETTERS:
        setter = getattr(library.dynlib, name, None)
        if setter is not None:
            setter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
            return setter
    return None


def _libraries():
    """``(local setters, controller of the other BLAS libraries or None)``, inspected again after an
    import (a solver can load its own BLAS, e.g. SCS's OpenBLAS; inspecting takes ~2 ms). Called
    under ``_LOCK``."""
    if _STATE["n_modules"] != len(sys.modules):
        controller = ThreadpoolController()
        blas = [library for library in controller.lib_controllers if library.user_api == "blas"]
        setters = [_local_setter(library) for library in blas]
        others = [library.filepath for library, setter in zip(blas, setters) if setter is None]
        _STATE.update(
            n_modules=len(sys.modules), local=[setter for setter in setters if setter is not None],
            # only these: restoring a controller's limits sets every library it holds
            shared=controller.select(filepath=others) if others else None,
        )
    return _STATE["local"], _STATE["shared"]


@contextmanager
def blas_threads(n_jobs):
    """Context manager running BLAS on ``n_jobs`` threads (``None``: one, ``-1``: BLAS's default);
    also a decorator.

    The limit is process-wide: it is applied by a context entered while no other is active (in any
    thread) and lifted when the last active context exits; the others run under it.
    """
    limit = 1 if n_jobs is None else (None if n_jobs == -1 else max(int(n_jobs), 1))
    with _LOCK:
        if _ACTIVE["count"] == 0 and limit is not None:
            local, shared = _libraries()
            for setter in local:
                setter(limit)
            _ACTIVE["local"] = local
            _ACTIVE["limiter"] = None if shared is None else shared.limit(limits=limit)
        _ACTIVE["count"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _ACTIVE["count"] -= 1
            if _ACTIVE["count"] == 0:
                for setter in _ACTIVE["local"]:
                    setter(0)  # back to the process-wide count
                if _ACTIVE["limiter"] is not None:
                    _ACTIVE["limiter"].restore_original_limits()
                _ACTIVE.update(local=[], limiter=None)
