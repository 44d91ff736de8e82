"""Non-negative least squares that fails loudly or not at all.

scipy's :func:`~scipy.optimize.nnls` raises a bare ``RuntimeError("Maximum number of iterations
reached.")`` on hard (nearly dependent) problems. :func:`nnls` retries those with the
bounded-variable least squares of :func:`~scipy.optimize.lsq_linear` and, if that fails too, raises
an error that names both solvers and the status.
"""

import numpy as np
from scipy.optimize import lsq_linear
from scipy.optimize import nnls as _scipy_nnls

__all__ = ["nnls"]


def nnls(A, b):
    """``argmin_{x ≥ 0} ‖A x − b‖`` and the residual norm.

    Parameters
    ----------
    A : ndarray of shape (m, n)
    b : ndarray of shape (m,)

    Returns
    -------
    x : ndarray of shape (n,)
    rnorm : float
        ``‖A x − b‖``.

    Raises
    ------
    RuntimeError
        If neither scipy's NNLS nor BVLS converges.
    """
    limit = 50 * max(A.shape[1], 1)
    try:
        return _scipy_nnls(A, b, maxiter=limit)
    except RuntimeError:  # scipy's iteration limit: retry with another active-set method
        result = lsq_linear(A, b, bounds=(0.0, np.inf), method="bvls", max_iter=limit)
    if result.status < 1:
        raise RuntimeError(
            f"Non-negative least squares of shape {A.shape} failed: scipy's nnls reached its iteration "
            f"limit and lsq_linear (BVLS) stopped with status {result.status} ({result.message})."
        )
    x = np.maximum(result.x, 0.0)
    return x, float(np.linalg.norm(A @ x - b))
