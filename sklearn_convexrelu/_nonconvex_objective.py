"""The non-convex objective (NC) of SPEC §1 and its gradient in the parameter arrays.

One routine for both trainers of (NC): the pattern search's seed networks (one network, several
outputs, each neuron feeding one output) and the landscape's gradient descent and Adam (many
one-output networks at once). Parameters are in ``X̃`` coordinates: hidden blocks ``W`` of shape
(S, d, m) (the hidden bias is the last row when ``X̃ = [X, 1]``), output weights ``a`` (S, m) and
intercepts ``c`` (S, K), for S networks of width m; neuron ``j`` feeds output ``outputs[j]``.

    F_s = (X̃ W_s)_+ (a_s ⊙ E) + c_s,     value_s = L(F_s) + (alpha/2) (‖P W_s‖² + ‖a_s‖²),

``E`` the (m, K) one-hot map of ``outputs`` and ``P`` the penalised coordinates of a block
(:meth:`~sklearn_convexrelu.program.GroupNormPenalty.mask`). The loss couples the outputs of one
network, never two networks, so either ``K = 1`` (the S predictions are evaluated as the columns of
one residual) or ``S = 1``.
"""

import numpy as np

__all__ = []


def _data_term(loss, Y, s, F):
    """Values (S,) and ``−∂L/∂F`` (S, n, K) of the predictions ``F`` (S, n, K)."""
    S, _, K = F.shape
    if K == 1:  # separable over samples: one column per network
        columns = F[:, :, 0].T
        return loss.sample_values(columns, Y, s).sum(axis=0), loss.residual(columns, Y, s).T[:, :, None]
    if S != 1:
        raise ValueError(f"Several networks ({S}) need one output; got {K}.")
    return np.array([loss.value(F[0], Y, s)]), loss.residual(F[0], Y, s)[None]


def _per_network(product, *arrays):
    """``product`` applied to each network's 2-D slices, stacked: plain matrix products (BLAS) for
    every network, so one network gets the same arithmetic alone as in a batch."""
    return np.stack([product(*slices) for slices in zip(*arrays)])


def weight_decay(alpha, W, a, penalized):
    """The penalty of (NC), ``(alpha/2) (‖P W_s‖² + ‖a_s‖²)`` for each network (SPEC §1).

    Parameters
    ----------
    alpha : float
    W : ndarray of shape (n_networks, n_dims, n_neurons)
    a : ndarray of shape (n_networks, n_neurons) or (n_networks, n_neurons, n_outputs)
    penalized : ndarray of shape (n_dims,)

    Returns
    -------
    ndarray of shape (n_networks,)
    """
    output = np.sum(a * a, axis=tuple(range(1, a.ndim)))
    return 0.5 * alpha * (np.sum((W * W) * penalized[:, None], axis=(1, 2)) + output)


def nonconvex_value(X_aug, loss, Y, s, alpha, W, a, c, outputs, penalized):
    """(NC) of each network (see the module docstring).

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    loss : loss object
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    alpha : float
    W : ndarray of shape (n_networks, n_dims, n_neurons)
    a : ndarray of shape (n_networks, n_neurons)
    c : ndarray of shape (n_networks, n_outputs)
    outputs : ndarray of shape (n_neurons,)
    penalized : ndarray of shape (n_dims,)
        0/1 weights of the block coordinates in the penalty.

    Returns
    -------
    ndarray of shape (n_networks,)
    """
    onehot = np.eye(Y.shape[1])[outputs]  # (m, K)
    F = _per_network(lambda W, a, c: np.maximum(X_aug @ W, 0.0) @ (a[:, None] * onehot) + c, W, a, c)
    return _data_term(loss, Y, s, F)[0] + weight_decay(alpha, W, a, penalized)


def nonconvex_value_and_gradient(X_aug, loss, Y, s, alpha, W, a, c, outputs, penalized, fit_intercept):
    """(NC) and its gradient in ``(W, a, c)``; arguments as :func:`nonconvex_value`.

    At a kink (``x̃_kᵀw_j = 0``) the ReLU's derivative is taken as 0.

    Returns
    -------
    values : ndarray of shape (n_networks,)
    gradients : tuple of ndarray
        ``∂/∂W`` (S, d, m), ``∂/∂a`` (S, m), ``∂/∂c`` (S, K) (zero without ``fit_intercept``).
    pre_activations : ndarray of shape (n_networks, n_samples, n_neurons)
        ``X̃ W``.
    residual : ndarray of shape (n_networks, n_samples, n_outputs)
        ``−∂L/∂F``.
    """
    S, m, K = a.shape[0], a.shape[1], Y.shape[1]
    onehot = np.eye(K)[outputs]
    Z = _per_network(lambda W: X_aug @ W, W)
    relu = np.maximum(Z, 0.0)
    values, R = _data_term(loss, Y, s, _per_network(lambda h, a, c: h @ (a[:, None] * onehot) + c, relu, a, c))
    back = R[:, :, outputs]  # −∂L/∂(a_j relu_j), (S, n, m)
    M = back * a[:, None, :]
    M *= Z > 0
    grad_W = _per_network(lambda W, M: alpha * penalized[:, None] * W - X_aug.T @ M, W, M)
    grad_a = _per_network(lambda a, R, h: alpha * a - (R.T @ h)[outputs, np.arange(m)], a, R, relu)
    grad_c = -R.sum(axis=1) if fit_intercept else np.zeros((S, K))
    return values + weight_decay(alpha, W, a, penalized), (grad_W, grad_a, grad_c), Z, R
