"""Tests of the global-optimality check of any network (SPEC §4, §6 (ii))."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, TwoLayerReLUNetwork, enumerate_arrangements
from sklearn_convexrelu.arrangements import _augment
from sklearn_convexrelu.landscape import is_global_minimum, optimality_certificate, train_nonconvex
from sklearn_convexrelu.landscape._mlp_program import bias_free_kappas
from sklearn_convexrelu.landscape._problem import blocks_to_network, resolve
from sklearn_convexrelu.program import GroupNormPenalty
from sklearn_convexrelu.program.losses import get_loss
from sklearn_convexrelu.solvers import CvxpyProgram

ALPHA = 0.02


@pytest.fixture(scope="module")
def data_2d():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(10, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1] ** 2


def _cvxpy_kappa(X_aug, pattern, g):
    """``max gᵀu`` over the cone of ``pattern`` with ``‖u_{1:p}‖ ≤ 1`` (bias unpenalised)."""
    u = cp.Variable(X_aug.shape[1])
    constraints = [cp.multiply(2.0 * pattern - 1, X_aug @ u) >= 0, cp.norm(u[:-1]) <= 1]
    problem = cp.Problem(cp.Maximize(g @ u), constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate" at these tolerances
        problem.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return problem.value


@pytest.mark.parametrize("n_features", [1, 2])
def test_bias_free_kappas_match_cvxpy(n_features):
    rng = np.random.default_rng(n_features)
    X = rng.standard_normal((7, n_features))
    X_aug = _augment(X, True)
    patterns = enumerate_arrangements(X).patterns
    R = rng.standard_normal((7, 1))
    R -= R.mean()  # Σ r = 0, as with a fitted intercept
    kappas, directions, computed = bias_free_kappas(X_aug, patterns, R)
    for i in range(patterns.shape[1]):
        for side, sign in enumerate((1.0, -1.0)):
            g = sign * X_aug.T @ (patterns[:, i] * R[:, 0])
            reference = _cvxpy_kappa(X_aug, patterns[:, i], g)
            kappa = kappas[0, i, side]
            assert kappa >= reference - 1e-8  # an upper bound, never below the maximum
            assert kappa == pytest.approx(reference, abs=1e-7)
            if computed[0, i, side] and kappa > 1e-6:
                u = directions[0, :, i, side] / kappa
                assert np.linalg.norm(u[:-1]) == pytest.approx(1.0)
                assert np.all((2.0 * patterns[:, i] - 1) * (X_aug @ u) >= -1e-9)
                assert g @ u == pytest.approx(kappa, rel=1e-7)


def test_all_ones_pattern_is_unbounded_without_zero_sum():
    X = np.array([[-1.0], [0.5], [2.0]])
    patterns = np.ones((3, 1), dtype=bool)
    kappas, _, _ = bias_free_kappas(_augment(X, True), patterns, np.array([[0.3], [0.1], [0.2]]))
    assert np.isinf(kappas[0, 0, 0])  # σ = +1: g_b = Σ r > 0, the bias grows without bound
    assert np.isfinite(kappas[0, 0, 1])


def test_exact_fit_is_certified_and_lower_bound_is_below_every_network(data_2d):
    X, y = data_2d
    reg = ConvexReLURegressor(alpha=ALPHA, tol=1e-8).fit(X, y)
    certificate = optimality_certificate(reg, X, y, tol=1e-6)
    assert certificate.exact and certificate.certified and certificate.escape is None
    assert is_global_minimum(reg.network_, X, y, ALPHA, tol=1e-6)
    for width, seed in [(1, 0), (3, 1), (10, 2)]:
        network = train_nonconvex(X, y, ALPHA, width, max_iter=300, random_state=seed).network
        other = optimality_certificate(network, X, y, ALPHA)
        assert certificate.lower_bound <= other.primal + 1e-12
        assert other.lower_bound <= reg.objective_ + 1e-9  # a lower bound on the optimum too


def test_the_program_is_solved_only_when_the_networks_own_dual_point_does_not_certify(data_2d, monkeypatch):
    # issue 12: a solve for a better dual point costs far more than the check itself; a certified
    # fit's own dual point is enough (and a network far from optimal does ask for the solve)
    import sklearn_convexrelu.landscape.certify as certify

    X, y = data_2d
    reg = ConvexReLURegressor(alpha=ALPHA, tol=1e-8, arrangements="exact").fit(X, y)
    solved = certify.dual_predictions
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return solved(*args, **kwargs)

    monkeypatch.setattr(certify, "dual_predictions", counted)
    assert optimality_certificate(reg, X, y, tol=1e-6).certified and calls == []
    zero = TwoLayerReLUNetwork(np.zeros((2, 1)), np.zeros(1), np.zeros(1), 0.0)
    assert not optimality_certificate(zero, X, y, ALPHA).certified and calls == [1]


def test_gradient_descent_network_is_refuted_with_a_descent_direction(data_2d):
    X, y = data_2d
    network = train_nonconvex(X, y, ALPHA, 2, max_iter=200, random_state=0).network
    optimum = ConvexReLURegressor(alpha=ALPHA, tol=1e-8).fit(X, y).objective_
    certificate = optimality_certificate(network, X, y, ALPHA)
    assert certificate.primal > optimum * (1 + 1e-3)
    assert not certificate.certified
    # the bound comes from a solve, not from the network's inaccurate residual: it is the optimum
    assert certificate.lower_bound == pytest.approx(optimum, rel=1e-7)
    assert certificate.relative_gap == pytest.approx(1 - optimum / certificate.primal, rel=1e-5)
    escape = certificate.escape  # the network's own most violated constraint
    assert escape.kappa_ratio > 1 + 1e-3
    objective = TwoLayerReLUNetwork.objective
    before = objective(escape.apply(network, 0.0), X, y, ALPHA)  # intercept re-optimised only
    assert before <= certificate.primal + 1e-12
    assert objective(escape.apply(network, 1e-3), X, y, ALPHA) < before


def _mlp_program_optimum(X, y, alpha):
    """Independent cvxpy solve of the MLP objective's convex program on all patterns."""
    arrangements = enumerate_arrangements(X)
    X_aug, Y, s = _augment(X, True), y[:, None], np.ones(len(y))
    program = CvxpyProgram(X_aug, arrangements.patterns, Y, s, get_loss("squared_error", 1),
                           fit_intercept=True, penalty=GroupNormPenalty(penalize_hidden_bias=False))
    raw = program.solve(alpha, tol=1e-9)
    return program.problem.value, raw, X_aug, arrangements.patterns


def test_mlp_certificate_matches_an_independent_cvxpy_solve(data_2d):
    X, y = data_2d
    A = 0.2
    optimum, raw, X_aug, patterns = _mlp_program_optimum(X, y, A / len(y))
    results = []
    for width, max_iter, seed in [(2, 15, 0), (8, 3000, 1), (8, 3000, 2)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mlp = MLPRegressor(hidden_layer_sizes=(width,), solver="lbfgs", alpha=A, tol=1e-12,
                               max_iter=max_iter, random_state=seed).fit(X, y)
        certificate = optimality_certificate(mlp, X, y, tol=1e-6)
        assert certificate.exact and "unpenalised hidden biases" in certificate.objective
        assert certificate.primal == pytest.approx(mlp.loss_, rel=1e-9)  # its own training loss
        assert certificate.lower_bound <= optimum + 1e-8 <= certificate.primal + 2e-8
        gap = (certificate.primal - optimum) / certificate.primal
        assert certificate.certified == (gap < 1e-6) or 1e-7 < gap < 1e-5  # agree away from the edge
        results.append(certificate.certified)
    assert results[0] is False
    # the optimum of the program, as a network with unpenalised biases, is certified
    _, problem = resolve(mlp, X, y)
    blocks = np.concatenate([raw.blocks_pos[0].T, raw.blocks_neg[0].T])
    signs = np.repeat([1.0, -1.0], raw.blocks_pos.shape[2])
    network = blocks_to_network(problem, blocks, signs, raw.intercept)
    certificate = optimality_certificate(network, X, y, A / len(y), penalize_hidden_bias=False, tol=1e-6)
    assert certificate.certified
    assert certificate.primal == pytest.approx(optimum, rel=1e-6)
    # an MLP started there stays there and is certified as a global minimum of its own loss
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(network.n_neurons,), solver="lbfgs", alpha=A, max_iter=1).fit(X, y)
        mlp.coefs_ = [network.hidden_weights.copy(), network.output_weights.copy()]
        mlp.intercepts_ = [network.hidden_bias.copy(), network.output_bias.copy()]
        mlp.set_params(warm_start=True, max_iter=100, tol=1e-12).fit(X, y)
    assert optimality_certificate(mlp, X, y, tol=1e-6).certified


def test_classifiers_are_accepted():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(12, 2))
    labels = np.where(X[:, 0] * X[:, 1] > 0, "a", "b")
    clf = ConvexReLUClassifier(alpha=0.05, tol=1e-6).fit(X, labels)
    assert optimality_certificate(clf, X, labels, tol=1e-5).certified
    mlp = MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", alpha=0.5, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(X, labels)
    certificate = optimality_certificate(mlp, X, labels)
    assert certificate.alpha == pytest.approx(0.5 / 12)
    assert certificate.lower_bound <= certificate.primal
    assert certificate.primal == pytest.approx(mlp.loss_, rel=1e-6)


def test_invalid_inputs():
    X = np.linspace(-1, 1, 5)[:, None]
    network = TwoLayerReLUNetwork([[1.0]], [0.5], [1.0], 0.0)
    with pytest.raises(ValueError, match="alpha"):
        optimality_certificate(network, X, X[:, 0])
    with pytest.raises(ValueError, match="hidden_bias=False"):
        optimality_certificate(network, X, X[:, 0], 0.1, hidden_bias=False)
    with pytest.raises(ValueError, match="fit_intercept=True"):
        optimality_certificate(network, X, X[:, 0], 0.1, penalize_hidden_bias=False, fit_intercept=False)
    with pytest.raises(TypeError, match="TwoLayerReLUNetwork"):
        optimality_certificate("network", X, X[:, 0], 0.1)
    dense = TwoLayerReLUNetwork([[1.0]], [0.0], [[1.0, 1.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match="block-sparse"):
        optimality_certificate(dense, X, np.c_[X, X], 0.1)
