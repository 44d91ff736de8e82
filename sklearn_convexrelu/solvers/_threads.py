"""BLAS thread limits of a fit (``n_jobs``): taken once, by the outermost context of a thread.

BLAS results depend on the thread count in the last digits (LAPACK's blocked factorisations split
their sums differently: a Cholesky factor differs by ~1e-14 between 1 and 2 threads, which a solve
amplifies to ~1e-12 in the objective). A fit therefore runs all of its BLAS calls under one count.

OpenBLAS (≥ 0.3.27, the build numpy and scipy ship) sets a count *for the calling thread*
(``openblas_set_num_threads_local``): the limit is taken there, so fits running concurrently in
threads (``joblib.Parallel(backend="threading")``, a threaded grid search) neither see nor change
each other's, and give bitwise the results of sequential fits. The process-wide setting is not
reliable for this: after the main thread has changed it, ``openblas_set_num_threads`` called from
another thread is ignored (measured on OpenBLAS 0.3.30 and 0.3.31), so such a thread's fit ran with
the default count and differed from the same fit in the main thread by 4e-14.

A BLAS without a per-thread setting (MKL, BLIS, an older OpenBLAS) gets threadpoolctl's
process-wide limit, counted across threads: the first context to enter applies it, nested and
concurrent ones change nothing, the last to leave restores what the first found.

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

# names of OpenBLAS's per-thread setter, most specific first (numpy's 64-bit build exports the plain one)
_LOCAL_SETTERS = (
    "scipy_openblas_set_num_threads_local64_", "openblas_set_num_threads_local64_",
    "scipy_openblas_set_num_threads_local", "openblas_set_num_threads_local",
)
_LOCK = threading.Lock()
_STATE = {"n_modules": -1, "local": [], "shared": None}
_SHARED = {"count": 0, "limiter": None}  # process-wide limit of the libraries without a local setter
_THREAD = threading.local()  # depth of this thread's contexts


def _local_setter(library):
    """OpenBLAS's ``set_num_threads_local`` of a threadpoolctl library controller, or ``None``."""
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
    import (a solver can load its own BLAS, e.g. SCS's OpenBLAS; inspecting takes ~2 ms)."""
    with _LOCK:
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
    """Context manager running BLAS on ``n_jobs`` threads in this thread (``None``: one, ``-1``:
    BLAS's default); also a decorator.

    A context entered inside another one of the same thread runs under the outer one's limit.
    """
    depth = getattr(_THREAD, "depth", 0)
    limit = 1 if n_jobs is None else (None if n_jobs == -1 else max(int(n_jobs), 1))
    if depth or limit is None:
        _THREAD.depth = depth + 1
        try:
            yield
        finally:
            _THREAD.depth = depth
        return
    local, shared = _libraries()
    for setter in local:
        setter(limit)
    if shared is not None:
        with _LOCK:
            if _SHARED["count"] == 0:
                _SHARED["limiter"] = shared.limit(limits=limit)
            _SHARED["count"] += 1
    _THREAD.depth = 1
    try:
        yield
    finally:
        _THREAD.depth = 0
        for setter in local:
            setter(0)  # back to the process-wide count
        if shared is not None:
            with _LOCK:
                _SHARED["count"] -= 1
                if _SHARED["count"] == 0:
                    limiter, _SHARED["limiter"] = _SHARED["limiter"], None
                    limiter.restore_original_limits()
