"""Pattern search beyond a fixed sample (SPEC §6 (i), §7)."""

import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, TwoLayerReLUNetwork
from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements
from sklearn_convexrelu.arrangements import pattern_keys
from sklearn_convexrelu.pattern_search import _ascent, _violated_patterns, search_arrangements
from sklearn_convexrelu.program.cones import cone_kappas
from sklearn_convexrelu.program.losses import get_loss
from sklearn_convexrelu.solvers import solve_convex_program


def _wave(n=14, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.standard_normal(n)


def _exact_optimum(X, y, alpha, loss_name="squared_error"):
    arrangements = enumerate_arrangements(X)
    Y = y[:, None]
    fit = solve_convex_program(
        _augment(X, True), arrangements, Y, np.ones(len(y)), get_loss(loss_name, 1), alpha,
        fit_intercept=True, hidden_bias=True, tol=1e-8, max_iter=1000, solver="cvxpy",
    )
    return fit.objective, arrangements


def test_search_from_a_tiny_sample_finds_the_exact_optimum():
    X, y = _wave()
    alpha = 1e-2
    optimum, exact = _exact_optimum(X, y, alpha)
    loss = get_loss("squared_error", 1)
    arrangements, solver, report = search_arrangements(
        X, y[:, None], np.ones(len(y)), loss, alpha, n_arrangements=3, seed_width=0, random_state=0,
    )
    assert report.n_sampled <= 3 and report.n_found > 0
    assert set(pattern_keys(arrangements.patterns)) <= set(pattern_keys(exact.patterns))  # real patterns of the data
    fit = solve_convex_program(
        _augment(X, True), arrangements, y[:, None], np.ones(len(y)), loss, alpha,
        fit_intercept=True, hidden_bias=True, tol=1e-8, max_iter=1000, solver="cvxpy",
    )
    assert fit.objective <= optimum * (1 + 1e-6)


def test_violated_patterns_have_the_kappa_of_an_independent_computation():
    X, y = _wave(n=20)
    alpha = 1e-2
    loss = get_loss("squared_error", 1)
    _, solver, _ = search_arrangements(X, y[:, None], np.ones(len(y)), loss, alpha, n_arrangements=5,
                                       seed_width=0, random_state=0)
    R = np.random.default_rng(1).standard_normal((len(y), 1)) * 0.05  # any dual vector
    X_aug = _augment(X, True)
    starts = {(0, 1): np.random.default_rng(2).standard_normal((3, 50)), (0, -1): np.random.default_rng(3).standard_normal((3, 50))}
    gates = _ascent(X_aug, R, starts, 50)
    patterns, generators, ratios = _violated_patterns(X_aug, R, gates, set(), alpha, 1.0)
    assert ratios.size > 0
    np.testing.assert_array_equal(X_aug @ generators >= 0, patterns)
    kappas, _, _ = cone_kappas(X_aug, patterns, R)
    np.testing.assert_allclose(ratios, kappas.max(axis=(0, 2)) / alpha, rtol=1e-9)
    assert np.all(np.diff(ratios) <= 0)


@pytest.mark.parametrize("loss_name", ["squared_error", "log_loss"])
def test_default_fit_is_never_worse_than_its_seed_network(loss_name):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    score = np.maximum(X @ rng.standard_normal(6), 0) - np.maximum(X @ rng.standard_normal(6), 0)
    y = score if loss_name == "squared_error" else np.where(score > np.median(score), 1.0, -1.0)
    alpha = 1e-2
    loss = get_loss(loss_name, 1)
    s = np.ones(len(y))
    _, solver, report = search_arrangements(X, y[:, None], s, loss, alpha, n_arrangements=10, seed_width=8,
                                            random_state=0)
    assert report.seed_objective is not None
    assert solver.objective_ <= report.seed_objective


def test_seed_objective_is_the_objective_of_a_network():
    # the seed objective reported is (NC) of a real network: recompute it independently
    from sklearn_convexrelu.pattern_search import _seed_network

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = np.abs(X[:, 0]) - X[:, 1]
    loss = get_loss("squared_error", 1)
    X_aug = _augment(X, True)
    W, a, outputs, c, objective = _seed_network(X_aug, y[:, None], np.ones(30), loss, 1e-2, 6, True,
                                                np.random.RandomState(0))
    network = TwoLayerReLUNetwork(W[:-1], W[-1], a, c)
    assert np.isclose(network.objective(X, y, 1e-2), objective, rtol=1e-10)


def test_search_reports_what_it_covered():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 8))
    y = np.maximum(X[:, 0] + X[:, 1], 0) - np.maximum(X[:, 2], 0)
    reg = ConvexReLURegressor(
        alpha=1e-2, arrangements="search", n_arrangements=10, max_arrangements=200, random_state=0
    ).fit(X, y)
    assert reg.solver_ == "first_order"  # solver="auto" keeps the search's warm solution
    assert not reg.arrangements_.exact and not reg.certificate_.certified
    assert "pattern search" in reg.certificate_.coverage
    assert reg.arrangements_.description == reg.certificate_.coverage
    assert reg.n_arrangements_ <= 200
    assert reg.certificate_.relative_gap <= reg.tol
    np.testing.assert_array_equal(reg.arrangements_.patterns_on(X), reg.arrangements_.patterns)


def test_classifier_search_several_classes():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((36, 5))
    y = np.argmax(X[:, :3], axis=1)
    clf = ConvexReLUClassifier(alpha=1e-2, arrangements="search", n_arrangements=10, max_arrangements=150,
                               random_state=0).fit(X, y)
    assert clf.solver_ == "first_order"
    assert "pattern search" in clf.certificate_.coverage and clf.certificate_.relative_gap <= clf.tol
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, ConvexReLUClassifier])
def test_default_estimator_searches_and_never_loses_to_its_seed(Estimator):
    # six features: exact enumeration is far beyond max_arrangements, so "auto" runs the search
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 6))
    score = np.maximum(X @ rng.standard_normal(6), 0) - np.maximum(X @ rng.standard_normal(6), 0)
    y = score if Estimator is ConvexReLURegressor else (score > np.median(score)).astype(int)
    model = Estimator(alpha=1e-2, random_state=0).fit(X, y)
    search = model.pattern_search_
    assert search is not None and search.seed_objective is not None
    assert "pattern search" in model.certificate_.coverage
    # the seed's objective is that of a network the fit was warm-started from (SPEC §3.1)
    target = y if Estimator is ConvexReLURegressor else np.where(y == 1, 1.0, -1.0)
    assert np.isclose(model.network_.objective(X, target, 1e-2, loss=model.loss), model.objective_, rtol=1e-9)
    assert model.objective_ <= search.seed_objective * (1 + model.tol)  # network_ is optimal to tol
    assert ConvexReLURegressor(arrangements="sample").fit(X[:, :1], y).pattern_search_ is None


def test_ill_conditioned_features_stop_the_search_with_the_reason():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = np.sin(X[:, 0]) + X[:, 1]
    X[:, 2] *= 1e6
    _, solver, report = search_arrangements(X, y[:, None], np.ones(30), get_loss("squared_error", 1), 1e-3,
                                            n_arrangements=20, random_state=0)
    assert report.n_rounds == 0 and report.stopped.startswith("ill-conditioned X")
    assert "standardise X (StandardScaler) or raise alpha" in str(report)
