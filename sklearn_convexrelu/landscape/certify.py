"""Polynomial-time global-optimality check of any two-layer ReLU network (SPEC §4, §6 (ii))."""

from dataclasses import dataclass

import numpy as np

from ..arrangements import Arrangements
from ..network import TwoLayerReLUNetwork
from ..program.certificate import Certificate, describe_coverage
from ._problem import get_arrangements, own_patterns, resolve, with_patterns
from .._sklearn_compat import validate_params
from ._params import NETWORK_CONSTRAINTS

__all__ = ["EscapeDirection", "NetworkCertificate", "is_global_minimum", "optimality_certificate"]


@dataclass(frozen=True, eq=False)
class EscapeDirection:
    """A neuron whose addition lowers the objective: the most violated dual constraint (SPEC §4).

    With ``r`` the dual vector of the network (its output intercept re-optimised) and
    ``κ = σ rᵀ(X̃u)_+ > alpha`` for the unit direction ``u`` (``‖u‖ = 1`` over the penalised
    coordinates), adding the neuron ``(ε u, σ ε)`` changes the objective by
    ``−ε² (κ − alpha) + O(ε⁴)``: a descent direction of (NC) from the network with the
    re-optimised intercept, even at a stationary point.

    Attributes
    ----------
    hidden_weights : ndarray of shape (n_features,)
    hidden_bias : float
    output : int
        Output the new neuron feeds.
    sign : float
        ``σ``: +1 for a positive neuron, −1 for a negative one.
    pattern : ndarray of shape (n_samples,), dtype bool
        The activation pattern ``D_i`` of the violated constraint.
    kappa_ratio : float
        ``κ / alpha`` (> 1).
    intercept_shift : ndarray of shape (n_outputs,)
        Change of the output intercept that makes it optimal (zero without intercept).
    """

    hidden_weights: np.ndarray
    hidden_bias: float
    output: int
    sign: float
    pattern: np.ndarray
    kappa_ratio: float
    intercept_shift: np.ndarray

    def apply(self, network, step):
        """The network with the intercept shifted and the neuron ``(step·u, σ·step)`` appended.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        step : float
            ``ε`` above; the objective decreases for small enough ``step > 0``.

        Returns
        -------
        TwoLayerReLUNetwork
        """
        row = np.zeros((1, network.n_outputs))
        row[0, self.output] = self.sign * step
        return TwoLayerReLUNetwork(
            np.hstack([network.hidden_weights, step * self.hidden_weights[:, None]]),
            np.append(network.hidden_bias, step * self.hidden_bias),
            np.vstack([network.output_weights, row]),
            network.output_bias + self.intercept_shift,
        )


@dataclass(frozen=True, eq=False)
class NetworkCertificate(Certificate):
    """:class:`~sklearn_convexrelu.Certificate` of a given network, with what it certifies.

    Attributes
    ----------
    primal, lower_bound, dual_gap, relative_gap, kappa_ratio, exact, n_patterns, coverage, tol, most_violated
        As in :class:`~sklearn_convexrelu.Certificate`; ``lower_bound`` is a lower bound on the
        objective of *every* two-layer ReLU network of any width when ``exact``.
    objective : str
        The objective (NC) that was checked, in words.
    alpha : float
        ``alpha`` of that objective (for an MLP: its ``alpha`` divided by the number of samples).
    escape : EscapeDirection or None
        The most violated constraint when ``kappa_ratio > 1 + tol``, a neuron to add that lowers
        the objective; ``None`` when the dual vector is feasible up to ``tol``.
    arrangements : Arrangements
        The activation patterns the check covered.
    """

    objective: str = ""
    alpha: float = np.nan
    escape: EscapeDirection | None = None
    arrangements: Arrangements | None = None


def _dual_check(problem, patterns, prediction, tol=0.0):
    """Lower bound, κ/alpha and escape direction of the dual point of a prediction (SPEC §4).

    ``r = −∇`` at the prediction with the output intercept re-optimised, scaled by
    ``min(1, alpha/κ)`` to be dual feasible. An escape direction is reported when
    ``κ > (1 + tol) alpha``.

    Returns
    -------
    lower_bound : float
    kappa_ratio : float
    escape : EscapeDirection or None
    most_violated : tuple or None
    """
    alpha = problem.alpha
    point = problem.dual_point(patterns, prediction)
    kappas, directions, _ = point.scan
    lower, kappa, shift = point.lower_bound, point.kappa, point.intercept_shift
    if not (kappa > alpha * (1 + tol) and np.isfinite(kappa)):
        return lower, kappa / alpha, None, None
    k, i, side = np.unravel_index(np.argmax(kappas), kappas.shape)
    u = directions[k, :, i, side] / kappa
    p = problem.X.shape[1]
    escape = EscapeDirection(
        u[:p].copy(), float(u[p]) if problem.hidden_bias else 0.0, int(k), 1.0 if side == 0 else -1.0,
        patterns[:, i].copy(), kappa / alpha, shift,
    )
    return lower, kappa / alpha, escape, (int(k), int(i), 1 if side == 0 else -1)


def _certify_prediction(problem, arrangements, prediction, primal, tol, coverage=None):
    """:class:`NetworkCertificate` of a point with this prediction and objective."""
    lower, ratio, escape, most_violated = _dual_check(problem, arrangements.patterns, prediction, tol)
    gap = primal - lower
    return NetworkCertificate(
        primal=float(primal), lower_bound=float(lower), dual_gap=float(gap),
        relative_gap=float(gap / max(abs(primal), np.finfo(float).tiny)), kappa_ratio=float(ratio),
        exact=bool(arrangements.exact), n_patterns=int(arrangements.n_patterns),
        coverage=coverage or describe_coverage(arrangements.n_patterns, arrangements.exact), tol=float(tol),
        most_violated=most_violated, objective=problem.describe(), alpha=problem.alpha, escape=escape,
        arrangements=arrangements,
    )


@validate_params(NETWORK_CONSTRAINTS, prefer_skip_nested_validation=True)
def optimality_certificate(
    network, X, y, alpha=None, *, loss=None, sample_weight=None, hidden_bias=None, penalize_hidden_bias=None,
    fit_intercept=None, arrangements="auto", max_arrangements=2000, n_arrangements=200, random_state=None, tol=1e-6,
):
    """Certify (or refute) that a two-layer ReLU network is a global minimum of its objective.

    Computes the duality gap of SPEC §4: the network's objective minus the dual objective at the
    dual point of its prediction, scaled to feasibility. With all activation patterns
    (``exact``; polynomial in n for data of fixed rank, SPEC §2.1) the dual objective is a lower
    bound on the objective of every two-layer ReLU network of any width, so a gap ``≤ tol``
    (relative) proves global optimality; a dual vector that is not feasible (``kappa_ratio > 1``)
    gives a neuron whose addition lowers the objective (:class:`EscapeDirection`). With sampled
    patterns the statement holds relative to those patterns (plus the network's own).

    Inputs and the objective checked:

    - a :class:`~sklearn_convexrelu.TwoLayerReLUNetwork`: ``alpha`` is required; by default the
      hidden bias is penalised (inside ``‖w_j‖``) and the output intercept is free;
    - a fitted ``ConvexReLURegressor`` / ``ConvexReLUClassifier``: its ``network_``, ``alpha``,
      ``loss``, ``hidden_bias`` and ``fit_intercept``;
    - a fitted ``MLPRegressor(hidden_layer_sizes=(m,), activation="relu")`` or binary
      ``MLPClassifier``: the objective it minimises, ``(1/Σs) Σ s_i ℓ_i + (A/2Σs) (‖W‖² + ‖a‖²)``
      with both biases unpenalised, i.e. (NC) with ``alpha = A / n_samples`` (``A / Σ s`` with
      sample weights) and an **unpenalised hidden bias**. Its convex program excludes the bias
      coordinate from the group norm, and the dual constraint becomes
      ``max {σ rᵀD_iX̃u : u ∈ K_i, ‖u_{1:p}‖ ≤ 1} ≤ alpha`` (:meth:`~sklearn_convexrelu.program.GroupNormPenalty.kappas`). The lower
      bound then holds for every network of any width with unpenalised biases, so the check
      certifies the MLP as a global minimum of its own training loss (``MLP.loss_``).

    Explicit keyword arguments override the values read from the model.

    Parameters
    ----------
    network : TwoLayerReLUNetwork, fitted ConvexReLURegressor, ConvexReLUClassifier, ConvexReLURegressorCV, ConvexReLUClassifierCV, MLPRegressor or MLPClassifier
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets: values for regression; class labels for the classifiers; for a
        ``TwoLayerReLUNetwork`` with ``loss="log_loss"``, labels in {-1, +1}.
    alpha : float, default=None
        Regularisation of (NC); read from the estimator when ``None`` (a CV estimator's
        ``alpha_``, the ``alpha`` of its refitted ``network_``).
    loss : {"squared_error", "log_loss"}, default=None
    sample_weight : array-like of shape (n_samples,), default=None
    hidden_bias, penalize_hidden_bias, fit_intercept : bool, default=None
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        ``"auto"`` enumerates all patterns when their number is bounded by ``max_arrangements``.
    max_arrangements : int, default=2000
    n_arrangements : int, default=200
        Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None, default=None
    tol : float, default=1e-6
        Relative gap below which the network counts as certified.

    Returns
    -------
    NetworkCertificate

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> from sklearn_convexrelu.landscape import optimality_certificate
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, y)
    >>> optimality_certificate(reg, X, y).certified
    True
    """
    net, problem = resolve(
        network, X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept,
    )
    arr = get_arrangements(problem, arrangements, max_arrangements=max_arrangements,
                           n_arrangements=n_arrangements, random_state=random_state)
    coverage = None
    if not arr.exact:
        coverage = f"{arr.n_patterns} sampled activation patterns plus the network's own (relative to these only)"
        arr = with_patterns(arr, *own_patterns(problem, net))
    return _certify_prediction(problem, arr, net.output(problem.X), problem.objective(net), tol, coverage)


@validate_params(NETWORK_CONSTRAINTS, prefer_skip_nested_validation=True)
def is_global_minimum(network, X, y, alpha=None, *, tol=1e-6, **kwargs):
    """Whether the network is proven to be a global minimum of its objective (SPEC §6 (ii)).

    ``True`` only when all activation patterns were enumerated and the relative duality gap is at
    most ``tol``; see :func:`optimality_certificate` for the inputs and keyword arguments.

    Parameters
    ----------
    network : TwoLayerReLUNetwork, fitted ConvexReLURegressor, ConvexReLUClassifier, ConvexReLURegressorCV, ConvexReLUClassifierCV, MLPRegressor or MLPClassifier
        The network to check.
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, as for :func:`optimality_certificate`.
    alpha : float, default=None
        Regularisation of (NC); read from the estimator when ``None`` (a CV estimator's
        ``alpha_``, the ``alpha`` of its refitted ``network_``).
    tol : float, default=1e-6
        Relative gap below which the network counts as certified.
    **kwargs : dict
        The other keyword arguments of :func:`optimality_certificate`.

    Returns
    -------
    bool
        ``NetworkCertificate.certified``.
    """
    return optimality_certificate(network, X, y, alpha, tol=tol, **kwargs).certified
