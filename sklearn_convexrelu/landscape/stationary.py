"""Stationary points of (NC) as optima of subsampled convex programs (SPEC §6 (i))."""

from dataclasses import dataclass

import numpy as np

from ..arrangements import Arrangements, pattern_keys
from ..network import TwoLayerReLUNetwork
from .certify import NetworkCertificate, _certify_prediction
from ._problem import get_arrangements, own_pairs, own_patterns, resolve, restricted_optimum
from .._sklearn_compat import validate_params
from ._params import NETWORK_CONSTRAINTS

__all__ = ["StationarySubproblem", "stationary_subproblem"]


@dataclass(frozen=True, eq=False)
class StationarySubproblem:
    """The convex program restricted to a network's own activation patterns, and its escapes.

    Returned by :func:`stationary_subproblem`: whether the network is optimal among networks
    using only its own (pattern, sign) pairs, as a stationary point of (NC) is, and the
    patterns through which the objective can still decrease.

    Attributes
    ----------
    network_objective : float
        Objective (NC) of the network.
    subproblem_objective : float
        Optimal value of (C-ReLU) restricted to the network's own (pattern, sign) pairs
        (interior-point accuracy).
    gap : float
        ``network_objective − subproblem_objective`` (≥ 0 up to solver accuracy: the network's
        convex image is feasible for the subproblem with an objective at most its own).
    relative_gap : float
    tol : float
    patterns : ndarray of shape (n_samples, n_pairs), dtype bool
        The patterns ``1[X̃w̃_j ≥ 0]`` of the neurons that compute something, one per distinct
        (pattern, sign, output).
    signs : ndarray of shape (n_pairs,)
        The sign of the output weight of those neurons.
    subproblem_network : TwoLayerReLUNetwork
        An optimal network of the subproblem (balanced, one neuron per nonzero block).
    certificate : NetworkCertificate
        Duality-gap certificate of the network relative to its own patterns, both signs
        (``exact=False`` unless they happen to be all patterns).
    escape_patterns : ndarray of shape (n_samples, n_escapes), dtype bool
        (Pattern, sign) pairs *not* used by the network whose dual constraint the network's dual
        vector violates, ``κ_{i,σ} > (1 + tol) alpha``: adding a small neuron there lowers the
        objective. This includes an own pattern with the opposite sign.
    escape_signs : ndarray of shape (n_escapes,)
    escape_kappa_ratios : ndarray of shape (n_escapes,)
        ``κ_{i,σ} / alpha`` (> 1), largest first.
    escape_directions : ndarray of shape (n_dims, n_escapes)
        Unit directions ``u`` (over the penalised coordinates) of the neurons ``(εu, σε)``.
    escapes_exact : bool
        Whether all activation patterns were searched for escapes.

    See Also
    --------
    stationary_subproblem : Computes it.
    optimality_certificate : Global optimality over all patterns.

    Examples
    --------
    A network found by gradient descent solves the program over its own patterns, yet the
    objective decreases through other patterns:

    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import stationary_subproblem, train_nonconvex
    >>> X = np.linspace(-1, 1, 6)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> network = train_nonconvex(X, y, 0.05, 3, random_state=0).network
    >>> report = stationary_subproblem(network, X, y, 0.05)
    >>> report.is_subproblem_optimal, report.escapes_exact
    (True, True)
    >>> report.n_escapes > 0
    True
    """

    network_objective: float
    subproblem_objective: float
    gap: float
    relative_gap: float
    tol: float
    patterns: np.ndarray
    signs: np.ndarray
    subproblem_network: TwoLayerReLUNetwork
    certificate: NetworkCertificate
    escape_patterns: np.ndarray
    escape_signs: np.ndarray
    escape_kappa_ratios: np.ndarray
    escape_directions: np.ndarray
    escapes_exact: bool

    @property
    def is_subproblem_optimal(self):
        """Whether the network is optimal for its own patterns (``relative_gap ≤ tol``).

        True at (approximate) stationary points of (NC) (SPEC §6 (i)).
        """
        return bool(self.relative_gap <= self.tol)

    @property
    def n_escapes(self):
        """Number of escape (pattern, sign) pairs."""
        return int(self.escape_signs.size)

    def __repr__(self):
        return (
            f"StationarySubproblem(gap={self.gap:.3e}, relative_gap={self.relative_gap:.3e}, "
            f"n_own_pairs={self.patterns.shape[1]}, n_escapes={self.n_escapes})"
        )


def _escapes(problem, arrangements, own, prediction, tol):
    """(Pattern, sign) pairs outside ``own`` whose dual constraint is violated, largest κ first."""
    kappas, directions, _ = problem.dual_point(arrangements.patterns, prediction).scan
    patterns, signs, outputs = own
    mine = set(zip(pattern_keys(patterns), signs, outputs))
    keys = pattern_keys(arrangements.patterns)
    k, i, side = np.nonzero((kappas > problem.alpha * (1 + tol)) & np.isfinite(kappas))
    missing = np.array([(keys[b], 1.0 if c == 0 else -1.0, a) not in mine for a, b, c in zip(k, i, side)], dtype=bool)
    k, i, side = k[missing], i[missing], side[missing]
    order = np.argsort(-kappas[k, i, side], kind="stable")
    k, i, side = k[order], i[order], side[order]
    ratios = kappas[k, i, side] / problem.alpha
    units = directions[k, :, i, side].T / kappas[k, i, side]
    return arrangements.patterns[:, i], np.where(side == 0, 1.0, -1.0), ratios, units


@validate_params(NETWORK_CONSTRAINTS, prefer_skip_nested_validation=True)
def stationary_subproblem(
    network, X, y, alpha=None, *, loss=None, sample_weight=None, hidden_bias=None, penalize_hidden_bias=None,
    fit_intercept=None, arrangements="auto", max_arrangements=2000, n_arrangements=200, random_state=None, tol=1e-6,
):
    """Explain a network as the optimum of the convex program over its own patterns (SPEC §6 (i)).

    A Clarke stationary point of (NC) — e.g. where gradient descent stops — is balanced, and its
    convex image (SPEC §3.1) is a global optimum of (C-ReLU) restricted to the (pattern, sign)
    pairs its own neurons use. This builds that subsampled program (one block per distinct
    pattern ``1[X̃w̃_j ≥ 0]`` and sign of a neuron with nonzero weights; a sample exactly on a
    neuron's kink counts as active), solves it, and reports the gap between the network and the
    subproblem's optimum: about zero at stationary points, positive otherwise. It then searches
    all other (pattern, sign) pairs (all patterns when ``arrangements`` enumerates them) for
    violated dual constraints — the directions along which a new neuron escapes.

    Why the signs: at a stationary point where a sample lies exactly on a neuron's kink (gradient
    descent often stops there), the ReLU derivative at the tie is some ``λ ∈ (0, 1)``, so
    ``‖X̃ᵀD_j r‖`` may exceed ``alpha`` for either resolution of the tie. The own sign stays dual
    feasible (the excess points out of the cone and is projected away), the opposite sign need
    not: a neuron of the opposite sign on the same pattern can be an escape direction. Away from
    kinks both signs are feasible and the subproblem with both signs has the same optimum.

    Parameters
    ----------
    network : TwoLayerReLUNetwork, fitted ConvexReLURegressor, ConvexReLUClassifier, ConvexReLURegressorCV, ConvexReLUClassifierCV, MLPRegressor or MLPClassifier
        See :func:`~sklearn_convexrelu.landscape.optimality_certificate` for the inputs and the
        objective each one defines.
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, as for :func:`~sklearn_convexrelu.landscape.optimality_certificate`.
    alpha : float, default=None
        Regularisation of (NC); read from the model when ``None``.
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
        Patterns searched for escapes.
    max_arrangements : int, default=2000
        With ``"auto"``, the largest bound on the number of patterns for which they are
        enumerated exactly (they are sampled beyond).
    n_arrangements : int, default=200
        Number of Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling.
    tol : float, default=1e-6
        Relative gap below which the network counts as optimal for its patterns.

    Returns
    -------
    report : StationarySubproblem
        The subproblem's optimum, the network's gap to it and the escape patterns.

    See Also
    --------
    optimality_certificate : Global optimality over all patterns.
    path_to_global_minimum : A non-increasing path from the network to a global minimum.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import stationary_subproblem, train_nonconvex
    >>> X = np.linspace(-1, 1, 6)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> fit = train_nonconvex(X, y, 0.05, 3, random_state=0)
    >>> report = stationary_subproblem(fit.network, X, y, 0.05)
    >>> report.relative_gap < 1e-5
    True
    """
    net, problem = resolve(
        network, X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept,
    )
    objective, prediction = problem.objective(net), net.output(problem.X)
    pairs = own_pairs(problem, net)
    if pairs[1].size:
        sub_objective, sub_network = restricted_optimum(problem, *pairs)
    else:  # no neuron computes anything: the subproblem has only the intercept
        sub_network = _intercept_only(problem, net)
        sub_objective = problem.objective(sub_network)
    certificate = _certify_prediction(problem, Arrangements(*own_patterns(problem, net), False, problem.hidden_bias),
                                     prediction, objective, tol, network=net)
    full = get_arrangements(problem, arrangements, max_arrangements=max_arrangements,
                            n_arrangements=n_arrangements, random_state=random_state)
    escape_patterns, signs, ratios, directions = _escapes(problem, full, pairs, prediction, tol)
    gap = objective - sub_objective
    return StationarySubproblem(
        float(objective), float(sub_objective), float(gap), float(gap / max(abs(objective), np.finfo(float).tiny)),
        float(tol), pairs[0], pairs[1], sub_network, certificate, escape_patterns, signs, ratios, directions,
        bool(full.exact),
    )


def _intercept_only(problem, network):
    """The zero-width network with the optimal output intercept."""
    zero = np.zeros((problem.X.shape[0], network.n_outputs))
    c = problem.loss.optimal_intercept(zero, problem.Y, problem.s) if problem.fit_intercept else np.zeros(network.n_outputs)
    return TwoLayerReLUNetwork(np.zeros((problem.X.shape[1], 0)), np.zeros(0), np.zeros((0, network.n_outputs)), c)
