"""Full-batch Adam: the one trainer behind the pattern search's seed networks and the landscape's
non-convex trainer (SPEC §6, §7).

Kingma & Ba's update with bias correction, on a list of parameter arrays. A batch of independent
networks (first axis of every array) can be trained at once, each one stopping when the caller says
it has converged.
"""

import numpy as np

__all__ = []

_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8
# 1 − β written as literals: ``1 - 0.9`` is 0.09999999999999998 in floating point, and the seed
# networks of the pattern search have always been trained with 0.1 (their results stay bit-identical)
_STEP1, _STEP2 = 0.1, 0.001


def adam(value_and_grad, params, n_steps, learning_rate, *, active=None):
    """Run at most ``n_steps`` Adam steps from ``params``.

    Parameters
    ----------
    value_and_grad : callable
        ``value_and_grad(params) -> (value, grads)``: the objective (a float, or one value per
        network of a batch) and one gradient array per parameter array.
    params : list of ndarray
        The start (copied).
    n_steps : int
    learning_rate : float
    active : callable, default=None
        ``active(grads) -> ndarray of shape (n_networks,), dtype bool``: which networks of a batch
        (first axis of every parameter array) are still to be trained. A network stops for good
        the first time it is inactive; the run stops when none is left. ``None``: all
        ``n_steps`` steps on every parameter.

    Returns
    -------
    params : list of ndarray
    history : list
        The value at the start and after every step.
    n_iter : int
        Steps taken.
    stopped : ndarray of shape (n_networks,), dtype bool, or None
        Networks that stopped because ``active`` said so (``None`` without ``active``).
    """
    params = [np.array(p, dtype=float) for p in params]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    value, grads = value_and_grad(params)
    history = [value]
    running = None if active is None else np.asarray(active(grads), dtype=bool)
    n_iter = 0
    for n_iter in range(1, n_steps + 1):
        if running is not None and not running.any():
            n_iter -= 1
            break
        for p, g, m1, m2 in zip(params, grads, first, second):
            m1 *= _BETA1
            m1 += _STEP1 * g
            m2 *= _BETA2
            m2 += _STEP2 * g**2
            update = learning_rate * (m1 / (1 - _BETA1**n_iter)) / (np.sqrt(m2 / (1 - _BETA2**n_iter)) + _EPS)
            if running is None:
                p -= update
            else:
                p -= running.astype(float).reshape((-1,) + (1,) * (p.ndim - 1)) * update
        value, grads = value_and_grad(params)
        if running is not None:
            running = running & np.asarray(active(grads), dtype=bool)
        history.append(value)
    return params, history, n_iter, None if running is None else ~running
