"""Tests of m*, the no-spurious-valleys width and the gradient-descent experiment (SPEC §6 (iv))."""

import itertools
import warnings

import cvxpy as cp
import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLURegressor, enumerate_arrangements
from sklearn_convexrelu.arrangements import _augment
from sklearn_convexrelu.landscape import (
    gradient_descent_experiment,
    no_spurious_valleys_width,
    optimality_certificate,
    path_to_global_minimum,
)


@pytest.fixture(scope="module")
def two_neurons():
    """Tiny 1-D problem whose optimum needs exactly two neurons."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(5, 1))
    return X, np.sin(4 * X[:, 0]), 0.05


def _restricted_value(X_aug, y, alpha, patterns, signs):
    """Optimum of the convex program with one block per given (pattern, sign): plain cvxpy."""
    B = cp.Variable((X_aug.shape[1], len(signs)))
    c = cp.Variable()
    pred = cp.sum(cp.multiply(patterns * signs, X_aug @ B), axis=1) + c
    objective = cp.sum_squares(pred - y) / (2 * len(y)) + alpha * cp.sum(cp.norm(B, 2, axis=0))
    problem = cp.Problem(cp.Minimize(objective), [cp.multiply(2.0 * patterns - 1, X_aug @ B) >= 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver="CLARABEL")
    return problem.value


def test_m_star_against_brute_force(two_neurons):
    X, y, alpha = two_neurons
    report = no_spurious_valleys_width(X, y, alpha)
    assert report.exact and report.m_star_proven and report.m_star == 2
    network = report.minimal_network
    assert network.n_neurons == report.m_star
    assert optimality_certificate(network, X, y, alpha, tol=1e-6).certified
    assert network.objective(X, y, alpha) == pytest.approx(report.optimum, rel=1e-7)
    # no single neuron, on any pattern with any sign, reaches the optimum (m* > 1)
    X_aug = _augment(X, True)
    patterns = enumerate_arrangements(X).patterns
    for i, sign in itertools.product(range(patterns.shape[1]), (1.0, -1.0)):
        assert _restricted_value(X_aug, y, alpha, patterns[:, [i]], np.array([sign])) > report.optimum * (1 + 1e-4)


def test_m_star_when_a_small_neuron_makes_the_optimal_set_a_segment():
    # Regression (issue 13): m* comes from the optimal set's vertices. Its atoms pointed along the
    # solution's blocks, and a block of 4e-4 next to ones of 1 (direction accurate only to the
    # primal's 1e-9 gap) hid a dependence of four atom fits: the set came out as a point and m* as
    # 4, where a three-neuron network is optimal (the subset search of the previous version found it)
    r = np.random.default_rng(5)
    X = r.uniform(-1, 1, size=(10, 1))
    y = np.sin(3 * X[:, 0])
    report = no_spurious_valleys_width(X, y, 0.01)
    network = report.minimal_network
    assert report.m_star_proven and report.m_star == network.n_neurons == 3
    assert optimality_certificate(network, X, y, 0.01, tol=1e-8).certified
    assert network.objective(X, y, 0.01) == pytest.approx(report.optimum, rel=1e-9)
    # no two of the optimal neuron directions reach the optimum (plain cvxpy on each pair's
    # patterns and signs): m* = 3, as the subset search of the previous version found
    atoms = ConvexReLURegressor(alpha=0.01, arrangements="exact").fit(X, y).optimal_set_
    assert atoms.n_atoms == 4
    X_aug = _augment(X, True)
    patterns = X_aug @ atoms.directions.T >= 0
    for pair in itertools.combinations(range(atoms.n_atoms), 2):
        pair = list(pair)
        value = _restricted_value(X_aug, y, 0.01, patterns[:, pair], atoms.signs[pair].astype(float))
        assert value > report.optimum * (1 + 1e-4)


def test_fit_dimension_and_threshold():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(9, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    report = no_spurious_valleys_width(X, y, 0.02)
    # the fits a neuron can produce: span of (X̃g)_+ over many random gates, modulo constants
    features = np.maximum(_augment(X, True) @ rng.standard_normal((3, 5000)), 0.0)
    rank = np.linalg.matrix_rank(features - features.mean(axis=0), tol=1e-9)
    assert report.fit_dimension == rank
    assert report.threshold == report.fit_dimension + 1 <= X.shape[0] + 1
    assert report.m_star <= report.fit_dimension
    without_intercept = no_spurious_valleys_width(X, y, 0.02, fit_intercept=False)
    assert without_intercept.fit_dimension == np.linalg.matrix_rank(features, tol=1e-9)


def test_zero_network_optimal_means_any_width():
    X = np.linspace(-1, 1, 4)[:, None]
    report = no_spurious_valleys_width(X, np.maximum(0, 1 - 2 * np.abs(X[:, 0])), 0.03)
    assert report.m_star == 0 and report.m_star_proven and report.threshold == 1


def test_gradient_descent_reaches_the_optimum_above_the_threshold():
    X = np.random.default_rng(0).uniform(-1, 1, size=(6, 1))
    y = np.abs(X[:, 0])
    report = no_spurious_valleys_width(X, y, 0.05)
    widths = [report.threshold, 3 * report.threshold]
    experiment = gradient_descent_experiment(X, y, 0.05, widths, n_starts=20, max_iter=2000, random_state=0)
    assert experiment.optimum == pytest.approx(report.optimum, rel=1e-7)
    assert np.all(experiment.objectives >= experiment.optimum * (1 - 1e-8))  # SPEC §10.5
    # no spurious valleys does not rule out flat stationary points (all neurons nearly dead),
    # where gradient descent can stop at the threshold; with three times the width all 20 runs
    # of this tiny problem reach the optimum
    assert experiment.success_rate[0] >= 0.5
    assert experiment.success_rate[1] == 1.0


def test_below_m_star_gradient_descent_cannot_and_above_the_threshold_no_valleys(two_neurons):
    X, y, alpha = two_neurons
    report = no_spurious_valleys_width(X, y, alpha)
    widths = [report.m_star - 1, report.threshold]
    experiment = gradient_descent_experiment(X, y, alpha, widths, n_starts=20, max_iter=2000, random_state=0)
    assert experiment.success_rate[0] == 0.0
    assert experiment.relative_gaps[0].min() > 1e-3
    assert experiment.success_rate[1] > 0
    # every run at the threshold that stopped above the optimum is not in a valley: a
    # non-increasing path at the same width leads to the optimum
    failed = np.flatnonzero(experiment.relative_gaps[1] > experiment.rtol)
    for run in failed[:3]:
        path = path_to_global_minimum(experiment.networks[1][run], X, y, alpha, n_points=20)
        assert path.width == report.threshold
        assert np.all(np.diff(path.objectives) <= 1e-9)
        assert path.objectives[-1] == pytest.approx(report.optimum, rel=1e-7)
