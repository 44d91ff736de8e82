"""A plain numpy trainer for the non-convex objective (NC) of SPEC §1.

Full-batch gradient descent with an Armijo backtracking step, or Adam, on exactly the objective the
convex program solves, so its stationary points can be compared with the convex optimum
(SPEC §6 (i), (iv)). Several random starts are trained at once as one batch of arrays.
"""

from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from .._adam import adam
from .._nonconvex_objective import nonconvex_value, nonconvex_value_and_gradient
from ..network import TwoLayerReLUNetwork
from ._problem import _check_network, data_problem, neuron_blocks
from .._sklearn_compat import Interval, validate_params
from ._params import COUNT, DATA_CONSTRAINTS, TRAINING_CONSTRAINTS

__all__ = ["NonconvexFit", "train_nonconvex"]

# Armijo sufficient-decrease constant and step adaptation of gradient descent.
_ARMIJO = 1e-4
_GROW, _SHRINK, _MAX_HALVINGS, _MAX_DECAY = 2.0, 0.5, 60, 0.5
# A sample within this relative distance of a neuron's kink is on it. The λ problem is solved by
# Gauss-Seidel sweeps until no λ moves by more than _KINK_LAMBDA_ATOL: 5 fixed sweeps left the
# least-norm gradient at 1e-5 at an exact optimum (4e-14 after 50) and the descent crept 3e-4
# above the optimum after 4,000 iterations (1e-7 with converged sweeps).
_KINK_RTOL, _KINK_SWEEPS, _KINK_LAMBDA_ATOL = 1e-6, 500, 1e-13


@dataclass(frozen=True, eq=False)
class NonconvexFit:
    """Result of :func:`train_nonconvex`.

    The network gradient descent (or Adam) reached, its objective and the objective after every
    iteration: an approximate stationary point when ``converged``, not necessarily a global
    minimum.

    Attributes
    ----------
    network : TwoLayerReLUNetwork
    objective : float
        Objective (NC) of ``network``.
    n_iter : int
    converged : bool
        Whether the largest entry of the (least-norm) gradient fell below ``tol``.
    history : ndarray of shape (n_iter + 1,)
        Objective after every iteration (the first entry at the initial point).
    gradient_norm : float
        Largest entry of the least-norm (Clarke) gradient at ``network``: the stationarity
        ``converged`` compares with ``tol``.

    See Also
    --------
    train_nonconvex : Computes it.
    optimality_certificate : Whether the network reached is a global minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import train_nonconvex
    >>> X = np.linspace(-1, 1, 8)[:, None]
    >>> fit = train_nonconvex(X, np.abs(X[:, 0]), 1e-2, 4, random_state=0)
    >>> fit.network.n_neurons, fit.converged
    (4, True)
    >>> fit.history.shape == (fit.n_iter + 1,)
    True
    >>> bool(fit.objective == fit.history[-1])
    True
    """

    network: TwoLayerReLUNetwork
    objective: float
    n_iter: int
    converged: bool
    history: np.ndarray
    gradient_norm: float = np.nan


class _Batch:
    """Objective and gradient of (NC) for S networks of width m at once (one output): those of
    :mod:`sklearn_convexrelu._nonconvex_objective`, with the least-norm derivative at kinks.

    Parameters are ``W`` (S, d, m) in ``X̃`` coordinates, ``a`` (S, m) and ``c`` (S,).
    """

    def __init__(self, problem):
        self.X_aug = problem.X_aug
        self.loss, self.Y, self.s = problem.loss, problem.Y, problem.s
        self.alpha = problem.alpha
        self.fit_intercept = problem.fit_intercept
        self.row_norms = np.linalg.norm(self.X_aug, axis=1)
        self.penalized = problem.penalty.mask(self.X_aug.shape[1])  # coordinates inside ‖w̃_j‖

    def value(self, W, a, c):
        return nonconvex_value(self.X_aug, self.loss, self.Y, self.s, self.alpha, W, a, c[:, None],
                               np.zeros(W.shape[2], dtype=int), self.penalized)

    def value_and_grad(self, W, a, c, reach=None):
        value, (grad_W, grad_a, grad_c), Z, R = nonconvex_value_and_gradient(
            self.X_aug, self.loss, self.Y, self.s, self.alpha, W, a, c[:, None], np.zeros(W.shape[2], dtype=int),
            self.penalized, self.fit_intercept,
        )
        grad_W = self._min_norm_over_kinks(W, Z, -R[:, :, 0], a, grad_W, reach)
        return value, (grad_W, grad_a, grad_c[:, 0])

    def _min_norm_over_kinks(self, W, Z, G, a, grad_W, reach):
        """Smallest hidden-weight gradient over the ReLU derivatives ``λ ∈ [0, 1]`` at near-kinks.

        Sample ``k`` is on neuron j's kink when ``|x̃_kᵀw̃_j| ≤ ‖x̃_k‖ max(_KINK_RTOL ‖w̃_j‖,
        reach_j)``: exactly on it up to rounding, or close enough for a move of ``w̃_j`` by
        ``reach_j`` to cross it. The derivative there is any ``λ ∈ [0, 1]``.
        Taking the λ of least gradient norm (projected Gauss-Seidel sweeps, one kink per neuron
        at a time) gives the steepest descent direction of the ε-subdifferential, which slides
        along kinks instead of zigzagging across them with ever smaller steps.
        """
        reach = np.maximum(_KINK_RTOL * np.sqrt(np.sum(W * W, axis=1)), 0.0 if reach is None else reach)  # (S, m)
        scale = self.row_norms[None, :, None] * reach[:, None, :]
        s, k, j = np.nonzero((np.abs(Z) <= scale) & (scale > 0) & (a != 0)[:, None, :])
        if s.size == 0:
            return grad_W
        h = (G[s, k] * a[s, j])[:, None] * self.X_aug[k]  # (T, d): one kink's gradient at λ = 1
        sq = np.maximum(np.sum(h * h, axis=1), np.finfo(float).tiny)
        lam = (Z[s, k, j] > 0).astype(float)
        keys, first, group = np.unique(s * W.shape[2] + j, return_index=True, return_inverse=True)
        group = group.reshape(-1)
        g = grad_W[s[first], :, j[first]]  # (n_groups, d): gradient of each neuron on a kink
        order = np.argsort(group, kind="stable")
        layer = np.empty_like(order)
        layer[order] = np.arange(order.size) - np.searchsorted(group[order], group[order])
        layers = [np.flatnonzero(layer == value) for value in range(layer.max() + 1)]
        for _ in range(_KINK_SWEEPS if len(layers) > 1 else 1):
            change = 0.0
            for idx in layers:
                rows = group[idx]
                new = np.clip(lam[idx] - np.sum(g[rows] * h[idx], axis=1) / sq[idx], 0.0, 1.0)
                g[rows] += (new - lam[idx])[:, None] * h[idx]
                change = max(change, float(np.max(np.abs(new - lam[idx]), initial=0.0)))
                lam[idx] = new
            if change <= _KINK_LAMBDA_ATOL:
                break
        grad_W = grad_W.copy()
        grad_W[s[first], :, j[first]] = g
        return grad_W


def _sup_norm(grads):
    return np.max(np.stack([np.abs(g).reshape(g.shape[0], -1).max(axis=1) for g in grads]), axis=0)


def _gradient_descent(batch, params, max_iter, tol, learning_rate):
    """Armijo backtracking (``learning_rate="auto"``) or fixed-step gradient descent per network.

    The direction is the least-norm gradient over the kinks within reach of the next step,
    estimated by the last move of each neuron (see ``_Batch._min_norm_over_kinks``): the
    iterates slide along kinks, and as the moves shrink the reach does too, so they settle on
    the kinks of a stationary point rather than near them.
    """
    S = params[0].shape[0]
    step = np.ones(S) if learning_rate == "auto" else np.full(S, float(learning_rate))
    value, grads = batch.value_and_grad(*params)
    history, active = [value], _sup_norm(grads) > tol
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if not active.any():
            n_iter -= 1
            break
        sq = sum(np.sum(g.reshape(S, -1) ** 2, axis=1) for g in grads)
        trial_step = np.where(active, step, 0.0)
        first_try = active.copy()
        for _ in range(_MAX_HALVINGS if learning_rate == "auto" else 1):
            trial = [p - _expand(trial_step, p) * g for p, g in zip(params, grads)]
            new_value = batch.value(*trial)
            failed = active & (new_value > value - _ARMIJO * trial_step * sq)
            if learning_rate != "auto" or not failed.any():
                break
            trial_step = np.where(failed, _SHRINK * trial_step, trial_step)
            first_try &= ~failed
        else:  # no decrease even with a tiny step: stay (numerically stationary) and stop
            trial = [np.where(_expand(failed, p), p, t) for p, t in zip(params, trial)]
            active = active & ~failed
        params = trial
        if learning_rate == "auto":
            # the weight decay alone would overshoot zero beyond 1/alpha: cap the step there
            step = np.where(active, np.minimum(np.where(first_try, _GROW, 1.0) * trial_step, _MAX_DECAY / batch.alpha), step)
        reach = _GROW * trial_step[:, None] * np.sqrt(np.sum(grads[0] ** 2, axis=1))  # (S, m)
        value, grads = batch.value_and_grad(*params, reach=reach)
        active = active & (_sup_norm(grads) > tol)
        history.append(value)
    return params, np.array(history), n_iter, _sup_norm(batch.value_and_grad(*params)[1]) <= tol


def _adam(batch, params, max_iter, tol, learning_rate):
    """Adam with a fixed learning rate (:func:`sklearn_convexrelu._adam.adam`), per network."""
    lr = 1e-2 if learning_rate == "auto" else float(learning_rate)
    params, history, n_iter, stopped = adam(
        lambda p: batch.value_and_grad(*p), params, max_iter, lr, active=lambda grads: _sup_norm(grads) > tol
    )
    return params, np.array(history), n_iter, stopped


def _expand(per_network, array):
    return per_network.reshape((-1,) + (1,) * (array.ndim - 1))


def _initial_params(problem, n_neurons, n_starts, init, init_scale, random_state):
    """Gaussian starts (``N(0, init_scale²/d)`` hidden, ``N(0, init_scale²/m)`` output) or ``init``."""
    d = problem.X_aug.shape[1]
    if init is not None:
        W = neuron_blocks(problem, init).T[None].repeat(n_starts, axis=0)
        return [W.copy(), np.repeat(init.output_weights[None, :, 0], n_starts, axis=0), np.repeat(init.output_bias[:1], n_starts)]
    rng = check_random_state(random_state)
    W = rng.standard_normal((n_starts, d, n_neurons)) * init_scale / np.sqrt(d)
    a = rng.standard_normal((n_starts, n_neurons)) * init_scale / np.sqrt(n_neurons)
    return [W, a, np.zeros(n_starts)]


def _to_network(problem, W, a, c):
    p = problem.X.shape[1]
    bias = W[p] if problem.hidden_bias else np.zeros(W.shape[1])
    return TwoLayerReLUNetwork(W[:p], bias, a[:, None], [c if problem.fit_intercept else 0.0])


def _train_batch(problem, n_neurons, n_starts, *, optimizer="gd", learning_rate="auto", max_iter=10_000, tol=1e-8,
                init=None, init_scale=1.0, random_state=None):
    """Train ``n_starts`` networks of width ``n_neurons`` on ``problem`` at once.

    Returns
    -------
    list of NonconvexFit
    """
    batch = _Batch(problem)
    params = _initial_params(problem, n_neurons, n_starts, init, init_scale, random_state)
    run = {"gd": _gradient_descent, "adam": _adam}.get(optimizer)
    if run is None:
        raise ValueError(f"optimizer must be 'gd' or 'adam'; got {optimizer!r}.")
    (W, a, c), history, n_iter, converged = run(batch, params, max_iter, tol, learning_rate)
    gradient_norms = _sup_norm(batch.value_and_grad(W, a, c)[1])
    fits = []
    for j in range(n_starts):
        network = _to_network(problem, W[j], a[j], c[j])
        fits.append(NonconvexFit(network, problem.objective(network), n_iter, bool(converged[j]), history[:, j],
                                 float(gradient_norms[j])))
    return fits


@validate_params(
    {
        **DATA_CONSTRAINTS, **TRAINING_CONSTRAINTS, "n_neurons": [COUNT], "init": [TwoLayerReLUNetwork, None],
        "tol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def train_nonconvex(
    X, y, alpha, n_neurons, *, optimizer="gd", learning_rate="auto", max_iter=10_000, tol=1e-8,
    loss="squared_error", sample_weight=None, hidden_bias=True, penalize_hidden_bias=True, fit_intercept=True,
    init=None, init_scale=1.0, random_state=None,
):
    """Train a two-layer ReLU network on the objective (NC) with full-batch gradient methods.

    Minimises ``(1/n) Σ s_i ℓ(f(x_i), y_i) + (alpha/2) Σ_j (‖w_j‖² + a_j²)`` (SPEC §1) over the
    weights of a width-``n_neurons`` network with one output, using the ReLU derivative
    ``1[z > 0]``. Gradient descent stops where the largest gradient entry is below ``tol``: an
    approximate stationary point (SPEC §6 (i)), not necessarily a global minimum.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,)
        Values for ``"squared_error"``, labels in {-1, +1} for ``"log_loss"``.
    alpha : float or fitted estimator
        Regularisation strength; or a fitted ``ConvexReLURegressor``/``ConvexReLUClassifier`` or CV
        estimator, whose ``alpha`` (``alpha_``), ``loss``, ``hidden_bias`` and ``fit_intercept``
        define the objective and whose class encoding applies to ``y`` (switches left at their
        defaults take its values; others must agree with them).
    n_neurons : int
        Width of the network (the width of ``init`` when it is given).
    optimizer : {"gd", "adam"}, default="gd"
        ``"gd"``: gradient descent; with ``learning_rate="auto"`` each step is found by Armijo
        backtracking (the objective decreases monotonically) and the next trial step doubles.
        Where a sample lies on (or within one step of) a neuron's kink, the ReLU derivative there
        is chosen in ``[0, 1]`` to make the gradient smallest — the steepest descent direction of
        the nonsmooth objective — so the iterates slide along kinks instead of stalling at
        them, and stop at (Clarke) stationary points. ``"adam"``: Adam on the same gradient
        (``learning_rate="auto"`` means 1e-2), not monotone.
    learning_rate : float or "auto", default="auto"
        Step size; ``"auto"`` searches it by backtracking for ``"gd"`` and means 1e-2 for ``"adam"``.
    max_iter : int, default=10000
        Maximum number of iterations.
    tol : float, default=1e-8
        Stop when every gradient entry is at most ``tol`` in absolute value.
    loss : {"squared_error", "log_loss"}, default="squared_error"
        Loss of (NC).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the data term of (NC).
    hidden_bias : bool, default=True
        Whether the hidden neurons have a bias.
    penalize_hidden_bias : bool, default=True
        ``False`` gives scikit-learn's MLP objective (with ``alpha = A / n_samples``).
    fit_intercept : bool, default=True
        Whether to fit the unpenalised output intercept.
    init : TwoLayerReLUNetwork, default=None
        Start from this network instead of a random one (its width overrides ``n_neurons``).
    init_scale : float, default=1.0
        Scale of the Gaussian initialisation.
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation.

    Returns
    -------
    fit : NonconvexFit
        The network reached, its objective and the objective history.

    See Also
    --------
    gradient_descent_experiment : Many runs, per width, against the global optimum.
    optimality_certificate : Whether the network reached is a global minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import train_nonconvex
    >>> X = np.linspace(-1, 1, 8)[:, None]
    >>> fit = train_nonconvex(X, np.abs(X[:, 0]), 1e-2, 4, random_state=0)
    >>> bool(fit.history[-1] <= fit.history[0])
    True
    """
    problem = data_problem(
        X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept, source="train_nonconvex",
    )
    if init is not None:
        if init.n_features != problem.X.shape[1] or init.n_outputs != 1:
            raise ValueError(
                f"init has {init.n_features} feature(s) and {init.n_outputs} output(s); X has "
                f"{problem.X.shape[1]} feature(s) and this tool trains one output."
            )
        _check_network(init, problem.hidden_bias, problem.fit_intercept)
    n_neurons = init.n_neurons if init is not None else n_neurons
    return _train_batch(problem, n_neurons, 1, optimizer=optimizer, learning_rate=learning_rate, max_iter=max_iter,
                       tol=tol, init=init, init_scale=init_scale, random_state=random_state)[0]
