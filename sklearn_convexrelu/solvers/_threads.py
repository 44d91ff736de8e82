"""BLAS thread limits for the solvers (``n_jobs``), with one cached controller."""

from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads"]

_CONTROLLER = []


def blas_threads(n_jobs):
    """Context manager limiting BLAS to ``n_jobs`` threads (``None`` or ``-1``: no limit).

    Small dense problems run with ``n_jobs=1``: on a busy machine, BLAS threads contending for
    cores make them many times slower.
    """
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())  # inspecting the loaded libraries is slow: once
    limit = None if n_jobs is None or n_jobs == -1 else max(int(n_jobs), 1)
    return _CONTROLLER[0].limit(limits=limit, user_api="blas")
