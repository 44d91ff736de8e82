"""The Newton system of (C-ReLU) over a few blocks, each moving in a linear subspace (SPEC §3, §5).

Two routines take Newton steps on the group lasso restricted to a handful of blocks:
the first-order solver's direction polish (each active block on the face of its cone it lies on)
and the optimal set's refinement (each atom on the face that holds its dual direction). Both write
the blocks as ``w_b = w_b⁰ + N_b z_b`` with ``N_b`` an orthonormal basis of the subspace, so the
prediction is ``Z = Σ_b σ_b D_b X̃ w_b + c``, linear in ``z`` with one *fit* column
``σ_b D_b X̃ N_b e_j`` per coordinate feeding the block's output, and minimise

    L(Z) + alpha Σ_b ‖P w_b‖

in ``(z, c)``. This module is the one place that differentiates it: the loss through its oracles
(``residual``, ``sample_hessians``), the penalty through
:meth:`~sklearn_convexrelu.program.GroupNormPenalty.subspace_gradient` and
:meth:`~sklearn_convexrelu.program.GroupNormPenalty.subspace_hessian`. The step rules (a single
guarded step inside column generation; Newton's method to convergence with groups leaving at zero)
stay with their callers.
"""

import numpy as np

__all__ = []


def fit_hessian(fits, outputs, W, fit_intercept, gram=None):
    """Hessian of ``L(F x + c)`` in ``(x, c)``, column ``j`` of ``F`` feeding output ``outputs[j]``.

    Parameters
    ----------
    fits : ndarray of shape (n_samples, n_columns)
    outputs : ndarray of shape (n_columns,)
    W : ndarray of shape (n_samples, n_outputs, n_outputs)
        Per-sample Hessians of the loss in the prediction (``loss.sample_hessians``).
    fit_intercept : bool
        Whether ``c`` is a variable (its rows and columns come last).
    gram : ndarray of shape (n_columns, n_columns), default=None
        ``Fᵀ diag(w) F`` for a quadratic loss (``W = w I`` with ``w`` fixed), e.g. cached by the
        caller across solves; used when ``W`` has that form. ``None``: one product per pair of
        outputs.

    Returns
    -------
    ndarray of shape (n_columns [+ n_outputs], n_columns [+ n_outputs])
    """
    m, K = fits.shape[1], W.shape[1]
    size = m + (K if fit_intercept else 0)
    H = np.zeros((size, size))
    by_output = [np.flatnonzero(outputs == k) for k in range(K)]
    diagonal = gram is not None and np.array_equal(W, W[:, :1, :1] * np.eye(K))  # W = w I: zero across outputs
    if diagonal:
        np.multiply(gram, outputs[:, None] == outputs[None, :], out=H[:m, :m])
    for k, rows in enumerate(by_output):
        for l, cols in enumerate(by_output[k:], start=k):  # W is symmetric in (k, l): half the products
            if rows.size and cols.size and not diagonal:
                block = fits[:, rows].T @ (W[:, k, l][:, None] * fits[:, cols])
                H[np.ix_(rows, cols)] = block
                if l > k:
                    H[np.ix_(cols, rows)] = block.T
        if fit_intercept and rows.size:
            H[rows, m:] = fits[:, rows].T @ W[:, k, :]
            H[m:, rows] = H[rows, m:].T
    if fit_intercept:
        H[m:, m:] = W.sum(axis=0)
    return H


def subspace_gradient(loss, penalty, alpha, Y, s, Z, fits, outputs, W, spans, owner, fit_intercept):
    """Gradient of the objective in ``(z, c)`` (see the module docstring).

    Parameters
    ----------
    loss, penalty : loss object, GroupNormPenalty
    alpha : float
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    Z : ndarray of shape (n_samples, n_outputs)
        The prediction at the point.
    fits : ndarray of shape (n_samples, n_columns)
        ``σ_b D_b X̃ N_b e_j``, one column per coordinate of ``z``.
    outputs : ndarray of shape (n_columns,)
        Output fed by each column.
    W : ndarray of shape (n_dims, n_blocks)
        The blocks at the point (``P w_b ≠ 0``).
    spans : ndarray of shape (n_dims, n_columns)
        The columns of every ``N_b``, side by side.
    owner : ndarray of shape (n_columns,)
        The block of each column.
    fit_intercept : bool

    Returns
    -------
    ndarray of shape (n_columns [+ n_outputs],)
    """
    R = loss.residual(Z, Y, s)  # −∂L/∂Z
    g = -(fits.T @ R)[np.arange(owner.size), outputs]
    g += penalty.subspace_gradient(alpha, W, spans, owner)
    return np.r_[g, -R.sum(axis=0)] if fit_intercept else g


def add_ridge(H, ridge):
    """``H`` with ``ridge · |H_jj|`` added to each diagonal entry (scale-free damping), in place."""
    H[np.diag_indices(H.shape[0])] += ridge * np.maximum(np.abs(np.diag(H)), np.finfo(float).tiny)
    return H


def subspace_hessian(loss, penalty, alpha, Y, s, Z, fits, outputs, W, spans, owner, fit_intercept, ridge=0.0):
    """Hessian of the objective in ``(z, c)``; arguments as :func:`subspace_gradient`.

    ``ridge`` adds ``ridge · |H_jj|`` to each diagonal entry of the loss part (scale-free damping).
    """
    curvature = loss.sample_hessians(Z, Y, s)
    gram = fits.T @ (curvature[:, 0, 0][:, None] * fits) if loss.is_quadratic else None
    H = add_ridge(fit_hessian(fits, outputs, curvature, fit_intercept, gram), ridge)
    rows, cols, values = penalty.subspace_hessian(alpha, W, spans, owner)  # block diagonal
    H[rows, cols] += values
    return H
