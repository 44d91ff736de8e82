"""Polynomial-time global-optimality check of any two-layer ReLU network (SPEC §4, §6 (ii))."""

from dataclasses import dataclass, replace

import numpy as np

from ..arrangements import Arrangements
from ..network import TwoLayerReLUNetwork
from ..program.certificate import Certificate, best_dual_point, most_violated
from .._tolerances import ACCURACY_FLOOR, REFINE_GAP_FACTOR
from ._problem import dual_predictions, get_arrangements, own_patterns, resolve, with_patterns
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
        The input weights of ``u``.
    hidden_bias : float
        The bias coordinate of ``u`` (0 without hidden bias).
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

    See Also
    --------
    optimality_certificate : Finds the escape direction of a network that is not optimal.

    Examples
    --------
    The zero network is not optimal for ``y = |x|``; the certificate's escape direction is the
    neuron ``(−x)_+`` (with the intercept moved to the mean of ``y``), and adding it lowers the
    objective:

    >>> import numpy as np
    >>> from sklearn_convexrelu import TwoLayerReLUNetwork
    >>> from sklearn_convexrelu.landscape import optimality_certificate
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> zero = TwoLayerReLUNetwork(np.zeros((1, 1)), np.zeros(1), np.zeros(1), 0.0)
    >>> certificate = optimality_certificate(zero, X, y, alpha=0.01)
    >>> escape = certificate.escape
    >>> np.round(escape.hidden_weights, 6), escape.sign
    (array([-1.]), 1.0)
    >>> round(escape.kappa_ratio, 4)
    5.4012
    >>> better = escape.apply(zero, step=0.1)
    >>> better.n_neurons
    2
    >>> bool(better.objective(X, y, 0.01) < zero.objective(X, y, 0.01))
    True
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
            The network that was certified.
        step : float
            ``ε`` above; the objective decreases for small enough ``step > 0``.

        Returns
        -------
        network : TwoLayerReLUNetwork
            ``network`` with the new neuron appended (one more neuron) and its intercept shifted
            by ``intercept_shift``.
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

    Returned by :func:`optimality_certificate`: the duality gap of any two-layer ReLU network
    (not only a fitted estimator's), the objective it was checked against, and, when the network
    is not optimal, a neuron whose addition lowers its objective.

    Attributes
    ----------
    primal, lower_bound, dual_gap, relative_gap, kappa_ratio, exact, n_patterns, coverage, tol, most_violated
        As in :class:`~sklearn_convexrelu.Certificate`; ``lower_bound`` is a lower bound on the
        objective of *every* two-layer ReLU network of any width when ``exact``: the larger dual
        objective of the network's own dual point and, when that one does not certify the
        network, of the dual points of the program solved over the same patterns (``kappa_ratio``
        and ``most_violated`` are those of the dual point that gave the bound).
    objective : str
        The objective (NC) that was checked, in words.
    alpha : float
        ``alpha`` of that objective (for an MLP: its ``alpha`` divided by the number of samples).
    escape : EscapeDirection or None
        When the network is not certified to ``tol``: the most violated constraint of the
        network's *own* dual vector (its ``kappa_ratio > 1 + tol``), a neuron to add that lowers
        the objective; ``None`` when that vector is feasible up to ``tol`` or the gap is at most
        ``tol``.
    arrangements : Arrangements
        The activation patterns the check covered.

    See Also
    --------
    optimality_certificate : Computes it.
    sklearn_convexrelu.Certificate : The certificate of a fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import TwoLayerReLUNetwork
    >>> from sklearn_convexrelu.landscape import optimality_certificate
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> zero = TwoLayerReLUNetwork(np.zeros((1, 1)), np.zeros(1), np.zeros(1), 0.0)
    >>> certificate = optimality_certificate(zero, X, y, alpha=0.01)
    >>> certificate.certified, certificate.exact
    (False, True)
    >>> certificate.escape is not None  # a neuron that lowers the objective
    True
    """

    objective: str = ""
    alpha: float = np.nan
    escape: EscapeDirection | None = None
    arrangements: Arrangements | None = None


def _escape(problem, patterns, point):
    """The :class:`EscapeDirection` of the largest κ of the network's own dual point."""
    k, i, sign = most_violated(point, problem.alpha)
    u = point.scan[1][k, :, i, int(sign < 0)] / point.kappa
    p = problem.X.shape[1]
    return EscapeDirection(
        u[:p].copy(), float(u[p]) if problem.hidden_bias else 0.0, k, float(sign), patterns[:, i].copy(),
        point.kappa / problem.alpha, point.intercept_shift,
    )


def _certify_prediction(problem, arrangements, prediction, primal, tol, coverage=None, network=None):
    """:class:`NetworkCertificate` of a point with this prediction and objective (SPEC §4).

    The lower bound is the best of the dual point of the prediction itself and, when that one
    does not certify the point to ``tol``, the dual points of the program over the same patterns
    solved to a relative gap of ``REFINE_GAP_FACTOR · tol`` (:func:`dual_predictions`; the
    first-order solver starts from ``network``). The prediction's own dual point is accurate
    only to the square root of the point's gap, blown up near interpolation, so an optimal
    network can look far from optimal by it; a solve's dual point is tight to the solve's gap.
    The escape direction is always the network's own (the neuron that lowers *its* objective).
    """
    patterns = arrangements.patterns
    own = problem.dual_point(patterns, prediction)
    def candidates():  # the program is solved only when the network's own point does not certify
        yield own
        gap_wanted = max(REFINE_GAP_FACTOR * tol, ACCURACY_FLOOR)
        for candidate in dual_predictions(problem, arrangements, gap_wanted, network):
            yield problem.dual_point(patterns, candidate)

    best = best_dual_point(candidates(), primal, tol)
    certificate = NetworkCertificate._from_dual_point(
        primal, best, problem.alpha, exact=arrangements.exact, n_patterns=arrangements.n_patterns, coverage=coverage,
        tol=tol, objective=problem.describe(), alpha=problem.alpha, arrangements=arrangements,
    )
    if not certificate.relative_gap <= tol and own.kappa > problem.alpha * (1 + tol) and np.isfinite(own.kappa):
        certificate = replace(certificate, escape=_escape(problem, patterns, own))
    return certificate


@validate_params(NETWORK_CONSTRAINTS, prefer_skip_nested_validation=True)
def optimality_certificate(
    network, X, y, alpha=None, *, loss=None, sample_weight=None, hidden_bias=None, penalize_hidden_bias=None,
    fit_intercept=None, arrangements="auto", max_arrangements=2000, n_arrangements=200, random_state=None, tol=1e-6,
):
    """Certify (or refute) that a two-layer ReLU network is a global minimum of its objective.

    Computes the duality gap of SPEC §4: the network's objective minus the dual objective at the
    dual point of its prediction, scaled to feasibility. A network's own dual point is only as
    accurate as its prediction (off by the square root of its gap, and near interpolation an
    error of 1e-8 in the objective can put ``κ`` several times above ``alpha``); when it does not
    certify the network, the convex program over the same patterns is solved (first-order
    solver warm-started from the network, then cvxpy) to a gap of ``tol / 100`` and the largest
    dual objective is kept, so a network within ``ε`` of the optimum has a gap of about ``ε``. With all activation patterns
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
        The network, or the fitted model whose network and objective are checked (see above).
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets: values for regression; class labels for the classifiers; for a
        ``TwoLayerReLUNetwork`` with ``loss="log_loss"``, labels in {-1, +1}.
    alpha : float, default=None
        Regularisation of (NC); read from the estimator when ``None`` (a CV estimator's
        ``alpha_``, the ``alpha`` of its refitted ``network_``).
    loss : {"squared_error", "log_loss"}, default=None
        Loss of (NC); read from the model when ``None``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the data term of (NC).
    hidden_bias : bool, default=None
        Whether the hidden neurons have a bias; read from the model when ``None``.
    penalize_hidden_bias : bool, default=None
        Whether the hidden bias is penalised (inside ``‖w_j‖``); read from the model when
        ``None`` (``False`` for an MLP).
    fit_intercept : bool, default=None
        Whether the output intercept is fitted (free, unpenalised); read from the model when
        ``None``.
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        ``"auto"`` enumerates all patterns when their number is bounded by ``max_arrangements``.
    max_arrangements : int, default=2000
        With ``"auto"``, the largest bound on the number of patterns for which they are
        enumerated exactly (they are sampled beyond).
    n_arrangements : int, default=200
        Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling.
    tol : float, default=1e-6
        Relative gap below which the network counts as certified.

    Returns
    -------
    certificate : NetworkCertificate
        The duality gap, the patterns it covers and, when the network is not optimal, an
        escape direction.

    See Also
    --------
    is_global_minimum : The verdict alone.
    stationary_subproblem : Optimality relative to the network's own patterns.
    sklearn_convexrelu.Certificate : The certificate of a fitted estimator (``certificate_``).

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
    return _certify_prediction(problem, arr, net.output(problem.X), problem.objective(net), tol, coverage, net)


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

    See Also
    --------
    optimality_certificate : The certificate itself, with the gap and an escape direction.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor, TwoLayerReLUNetwork
    >>> from sklearn_convexrelu.landscape import is_global_minimum
    >>> X = np.linspace(-1, 1, 9)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> reg = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y)
    >>> is_global_minimum(reg, X, y)
    True
    >>> zero = TwoLayerReLUNetwork(np.zeros((1, 1)), np.zeros(1), np.zeros(1), 0.0)
    >>> is_global_minimum(zero, X, y, alpha=1e-2)
    False
    """
    return optimality_certificate(network, X, y, alpha, tol=tol, **kwargs).certified
