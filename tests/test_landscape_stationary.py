"""Tests of stationary points as subsampled convex optima and of the numpy trainer (SPEC §6 (i))."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from sklearn_convexrelu import ConvexReLURegressor, TwoLayerReLUNetwork
from sklearn_convexrelu.landscape import stationary_subproblem, train_nonconvex
from sklearn_convexrelu.landscape._problem import pattern_keys

ALPHA = 0.02


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(8, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1]


def _finite_difference_gradient(network, X, y, alpha, eps=1e-6):
    """Central differences of (NC) in every weight (independent of the trainer's gradient)."""
    parts = [network.hidden_weights, network.hidden_bias, network.output_weights, network.output_bias]
    sizes = np.cumsum([0] + [p.size for p in parts])
    theta = np.concatenate([p.ravel() for p in parts])

    def objective(values):
        arrays = [values[a:b].reshape(p.shape) for a, b, p in zip(sizes[:-1], sizes[1:], parts)]
        return TwoLayerReLUNetwork(*arrays).objective(X, y, alpha)

    return np.array([(objective(theta + eps * e) - objective(theta - eps * e)) / (2 * eps) for e in np.eye(theta.size)])


def test_trainer_decreases_the_objective_and_matches_finite_differences(data):
    X, y = data
    fit = train_nonconvex(X, y, ALPHA, 3, max_iter=200, random_state=0)
    assert np.all(np.diff(fit.history) <= 1e-15)  # Armijo steps: monotone
    assert fit.objective == pytest.approx(fit.network.objective(X, y, ALPHA), rel=1e-12)
    assert fit.history[-1] == pytest.approx(fit.objective, rel=1e-12)
    # one plain step of the trainer from a generic point equals a finite-difference gradient step
    start = train_nonconvex(X, y, ALPHA, 3, max_iter=0, random_state=1).network
    stepped = train_nonconvex(X, y, ALPHA, 3, init=start, optimizer="gd", learning_rate=0.1, max_iter=1).network
    grad = _finite_difference_gradient(start, X, y, ALPHA)
    moved = np.concatenate([stepped.hidden_weights.ravel(), stepped.hidden_bias, stepped.output_weights.ravel(),
                            stepped.output_bias])
    origin = np.concatenate([start.hidden_weights.ravel(), start.hidden_bias, start.output_weights.ravel(),
                             start.output_bias])
    np.testing.assert_allclose((origin - moved) / 0.1, grad, atol=1e-6)
    adam = train_nonconvex(X, y, ALPHA, 3, optimizer="adam", max_iter=300, random_state=0)
    assert adam.objective < adam.history[0]


def test_stationary_points_solve_their_own_subproblem(data):
    X, y = data
    optimum = ConvexReLURegressor(alpha=ALPHA, tol=1e-8).fit(X, y).objective_
    stationary = 0
    for seed in range(6):
        fit = train_nonconvex(X, y, ALPHA, 3, max_iter=3000, tol=1e-8, random_state=seed)
        assert fit.objective >= optimum - 1e-9  # SPEC §10.5
        report = stationary_subproblem(fit.network, X, y, ALPHA)
        assert report.gap >= -1e-8 * report.network_objective
        if fit.converged:
            stationary += 1
            assert report.relative_gap <= 1e-5
            assert report.is_subproblem_optimal or report.relative_gap <= 1e-5
            if fit.objective > optimum * (1 + 1e-4):
                assert report.n_escapes > 0  # a non-optimal stationary point has an escape
                own = set(zip(pattern_keys(report.patterns), report.signs))
                escapes = set(zip(pattern_keys(report.escape_patterns), report.escape_signs))
                assert not own & escapes
                assert np.all(report.escape_kappa_ratios > 1)
    assert stationary >= 3
    early = train_nonconvex(X, y, ALPHA, 3, max_iter=20, random_state=0).network
    assert stationary_subproblem(early, X, y, ALPHA).relative_gap > 1e-3  # not yet stationary


def test_escape_direction_lowers_the_objective(data):
    X, y = data
    fit = train_nonconvex(X, y, ALPHA, 1, max_iter=3000, tol=1e-9, random_state=0)
    report = stationary_subproblem(fit.network, X, y, ALPHA)
    assert report.relative_gap <= 1e-5 and report.n_escapes > 0
    u, sign = report.escape_directions[:, 0], report.escape_signs[0]
    net = fit.network
    shift = np.mean(y - net.predict(X))  # the dual vector's intercept is re-optimised
    for eps in (1e-2, 1e-3):
        wider = TwoLayerReLUNetwork(
            np.hstack([net.hidden_weights, eps * u[:-1, None]]), np.append(net.hidden_bias, eps * u[-1]),
            np.vstack([net.output_weights, [[sign * eps]]]), net.output_bias + shift,
        )
        assert wider.objective(X, y, ALPHA) < fit.objective


def test_the_global_optimum_has_no_escape(data):
    X, y = data
    reg = ConvexReLURegressor(alpha=ALPHA, tol=1e-8).fit(X, y)
    report = stationary_subproblem(reg, X, y, tol=1e-6)
    assert report.escapes_exact and report.n_escapes == 0
    assert abs(report.relative_gap) <= 1e-6


def test_mlp_stationary_point_uses_the_unpenalised_bias_program(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", alpha=ALPHA * len(y), max_iter=20,
                           random_state=0).fit(X, y)
    report = stationary_subproblem(mlp, X, y)
    assert report.network_objective == pytest.approx(mlp.loss_, rel=1e-9)
    assert report.gap >= -1e-8
    assert "unpenalised hidden biases" in report.certificate.objective
