"""Tests of the regularisation path (SPEC §4, §7, §8)."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sklearn_convexrelu._path as path_module
from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, convex_relu_path, enumerate_arrangements


@pytest.fixture
def data_1d():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(12, 1))
    return X, np.abs(X[:, 0]) + 0.1 * rng.randn(12)


def _brute_force_alpha_max(X, r0):
    """``max_σ max_{‖u‖=1} σ r₀ᵀ(X̃u)_+`` on a fine grid of the unit circle (1-D data, hidden bias)."""
    X_aug = np.column_stack([X, np.ones(len(X))])
    angles = np.linspace(0, 2 * np.pi, 400_001)
    values = r0 @ np.maximum(X_aug @ np.stack([np.cos(angles), np.sin(angles)]), 0)
    return max(values.max(), -values.min())


def test_path_equals_independent_fits(data_1d):
    X, y = data_1d
    path = convex_relu_path(X, y, alphas=5, eps=1e-3, arrangements="exact")
    assert np.all(np.diff(path.alphas) < 0) and path.alphas[0] == path.alpha_max
    for alpha, objective, network in zip(path.alphas, path.objectives, path.networks):
        reg = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y)  # certified: no warning
        assert objective == pytest.approx(reg.objective_, rel=1e-6)
        # the optimal prediction is unique (strictly convex loss), the network need not be
        np.testing.assert_allclose(network.predict(X), reg.predict(X), atol=1e-4)
        assert network.objective(X, y, alpha) == pytest.approx(objective, rel=1e-9)
    assert np.all(path.dual_gaps <= 1e-6 * path.objectives)
    assert all(certificate.certified for certificate in path.certificates)


def test_path_equals_independent_fits_log_loss_with_weights():
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, size=(16, 1))
    y = np.where(np.abs(X[:, 0]) > 0.5, "out", "in")
    weights = rng.uniform(0.5, 2, size=16)
    weights[:2] = 0  # dropped before the patterns are built, as in the estimator
    alphas = [0.2, 0.1, 0.05]
    # solver="auto" is the estimators' rule: first-order for log_loss (predictions to about √tol)
    path = convex_relu_path(X, y, alphas=alphas, loss="log_loss", sample_weight=weights, arrangements="exact", tol=1e-7)
    for alpha, objective, solution, solver in zip(path.alphas, path.objectives, path.solutions, path.solvers):
        clf = ConvexReLUClassifier(alpha=alpha, arrangements="exact", tol=1e-7).fit(X, y, sample_weight=weights)
        assert clf.solver_ == "first_order" and solver in ("alpha_max", "first_order")
        assert objective == pytest.approx(clf.objective_, rel=1e-5)
        np.testing.assert_allclose(solution.output(X)[:, 0], clf.decision_function(X), atol=1e-3)


def test_alpha_max_is_the_exact_threshold(data_1d):
    X, y = data_1d
    path = convex_relu_path(X, y, alphas=1, arrangements="exact")
    alpha_max = path.alpha_max
    # an independent computation of max κ: dense search over the unit circle (a lower bound)
    brute = _brute_force_alpha_max(X, (y - y.mean()) / len(y))  # r₀ of the zero network, intercept ȳ
    assert brute <= alpha_max * (1 + 1e-12)
    assert brute == pytest.approx(alpha_max, rel=1e-6)
    # at alpha_max the zero network is optimal: certified by duality, and the solver cannot beat it
    zero_objective = 0.5 * np.mean((y - y.mean()) ** 2)
    assert path.n_neurons[0] == 0 and path.objectives[0] == pytest.approx(zero_objective, rel=1e-12)
    assert path.certificates[0].certified and path.certificates[0].kappa_ratio <= 1 + 1e-12
    at = ConvexReLURegressor(alpha=alpha_max, arrangements="exact").fit(X, y)
    assert at.objective_ >= zero_objective * (1 - 1e-7)
    # just below it the zero network is not optimal: dual infeasible, and the solver does better
    below = alpha_max * (1 - 1e-2)
    fit = ConvexReLURegressor(alpha=below, arrangements="exact").fit(X, y)
    assert fit.objective_ < zero_objective * (1 - 1e-5)
    assert fit.n_neurons_ > 0
    zero_below = convex_relu_path(X, y, alphas=[below], arrangements="exact")
    assert zero_below.n_neurons[0] > 0


def test_alpha_max_log_loss():
    rng = np.random.RandomState(6)
    X = rng.uniform(-1, 1, size=(14, 1))
    labels = (np.abs(X[:, 0]) > 0.4).astype(int)
    path = convex_relu_path(X, labels, alphas=1, loss="log_loss", arrangements="exact")
    # zero network: intercept log(p / (1 - p)), so r₀ = (1 - p)/n on positives and -p/n on negatives
    p = labels.mean()
    brute = _brute_force_alpha_max(X, np.where(labels == 1, 1 - p, -p) / len(labels))
    assert brute <= path.alpha_max * (1 + 1e-12) and brute == pytest.approx(path.alpha_max, rel=1e-6)
    zero_objective = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    assert path.objectives[0] == pytest.approx(zero_objective, rel=1e-12)
    below = ConvexReLUClassifier(alpha=path.alpha_max * 0.98, arrangements="exact", tol=1e-5).fit(X, labels)
    assert below.objective_ < zero_objective * (1 - 1e-5) and below.n_neurons_ > 0


def test_explicit_grid_is_sorted_and_points_above_alpha_max_are_not_solved(data_1d):
    X, y = data_1d
    alpha_max = convex_relu_path(X, y, alphas=1, arrangements="exact").alpha_max
    path = convex_relu_path(X, y, alphas=[0.1 * alpha_max, 3 * alpha_max], arrangements="exact")
    np.testing.assert_array_equal(path.alphas, [3 * alpha_max, 0.1 * alpha_max])
    assert path.solvers[0] == "alpha_max" and path.n_iter[0] == 0 and path.n_neurons[0] == 0
    assert path.solvers[1].startswith("cvxpy") and path.n_neurons[1] > 0


def test_constant_targets_give_the_zero_network(data_1d):
    X, _ = data_1d
    path = convex_relu_path(X, np.full(len(X), 2.0), alphas=3)
    assert path.alpha_max == 0 and np.all(path.n_neurons == 0)
    np.testing.assert_allclose(path.networks[-1].predict(X), 2.0)


def test_fixed_arrangements_are_shared_by_every_point(data_1d):
    X, y = data_1d
    arrangements = enumerate_arrangements(X)
    given = convex_relu_path(X, y, alphas=3, arrangements=arrangements)
    exact = convex_relu_path(X, y, alphas=3, arrangements="exact")
    assert given.arrangements.exact
    np.testing.assert_array_equal(given.arrangements.patterns, arrangements.patterns)
    for solution in given.solutions:
        np.testing.assert_array_equal(solution.gates, arrangements.generators)
    np.testing.assert_allclose(given.objectives, exact.objectives, rtol=1e-9)


def test_sampled_path_is_relative_to_its_patterns():
    rng = np.random.RandomState(2)
    X = rng.uniform(-1, 1, size=(20, 2))
    y = X[:, 0] ** 2 - X[:, 1]
    path = convex_relu_path(X, y, alphas=3, eps=1e-2, arrangements="sample", n_arrangements=15, random_state=0)
    assert not path.arrangements.exact and not any(c.exact for c in path.certificates)
    reg = ConvexReLURegressor(alpha=path.alphas[-1], arrangements="sample", n_arrangements=15, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.arrangements_.generators, path.arrangements.generators)
    assert path.objectives[-1] == pytest.approx(reg.objective_, rel=1e-6)


def test_n_jobs_two_equals_one(data_1d):
    X, y = data_1d
    serial = convex_relu_path(X, y, alphas=5, eps=1e-2, arrangements="exact")
    parallel = convex_relu_path(X, y, alphas=5, eps=1e-2, arrangements="exact", n_jobs=2)
    np.testing.assert_array_equal(parallel.alphas, serial.alphas)
    np.testing.assert_allclose(parallel.objectives, serial.objectives, rtol=1e-8)
    np.testing.assert_array_equal(parallel.n_neurons, serial.n_neurons)


@pytest.mark.parametrize("solver", ["cvxpy", "first_order"])
def test_one_program_and_warm_starts_along_the_path(data_1d, monkeypatch, solver):
    X, y = data_1d
    calls, solutions = [], []
    solve = path_module.solve_convex_program

    def recording(*args, **kwargs):
        calls.append(kwargs)
        fit = solve(*args, **kwargs)
        solutions.append(fit.solution)
        return fit

    monkeypatch.setattr(path_module, "solve_convex_program", recording)
    convex_relu_path(X, y, alphas=4, solver=solver, arrangements="exact")
    assert [call["solver"] for call in calls] == [solver] * 3  # alpha_max needs no solve
    assert len({id(call["program"]) for call in calls}) == 1  # one program for the whole path
    assert calls[0]["init"] is None
    assert all(call["init"] is previous for call, previous in zip(calls[1:], solutions))


def test_first_order_path_equals_cvxpy_path(data_1d):
    X, y = data_1d
    cvxpy_path = convex_relu_path(X, y, alphas=6, eps=1e-3, arrangements="exact", solver="cvxpy")
    first_order = convex_relu_path(X, y, alphas=6, eps=1e-3, arrangements="exact", solver="first_order")
    np.testing.assert_allclose(first_order.objectives, cvxpy_path.objectives, rtol=2e-6)
    for a, b in zip(first_order.networks, cvxpy_path.networks):
        np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-3)


def test_unconverged_points_warn(data_1d):
    X, y = data_1d
    with pytest.warns(ConvergenceWarning, match="points of the path did not reach"):
        convex_relu_path(X, y, alphas=3, max_iter=1, arrangements="exact")


def test_invalid_alphas(data_1d):
    X, y = data_1d
    for alphas in ([0.1, -1.0], [], 0):
        with pytest.raises(ValueError, match="alphas"):
            convex_relu_path(X, y, alphas=alphas)


@pytest.fixture
def data_3d():
    """120 samples in 3 dimensions, 40 sampled gates: beyond the cvxpy size of ``solver="auto"``."""
    rng = np.random.RandomState(7)
    X = rng.uniform(-1, 1, size=(120, 3))
    return X, np.abs(X[:, 0]) - X[:, 1] * X[:, 2] + 0.05 * rng.randn(120)


def test_auto_path_is_first_order_and_equals_independent_fits(data_3d):
    X, y = data_3d
    params = dict(arrangements="sample", n_arrangements=40, random_state=0)
    path = convex_relu_path(X, y, alphas=5, eps=1e-2, **params)
    assert 2 * 120 * path.arrangements.n_patterns > 8000  # so the measured crossover picks first-order
    assert set(path.solvers) <= {"alpha_max", "first_order"} and path.solvers[-1] == "first_order"
    assert np.all(path.dual_gaps <= 1e-6 * path.objectives)
    for alpha, objective in zip(path.alphas, path.objectives):
        reference = ConvexReLURegressor(alpha=alpha, solver="cvxpy", **params).fit(X, y)  # cold, interior point
        assert objective == pytest.approx(reference.objective_, rel=2e-6)


def test_warm_and_cold_first_order_paths_give_the_same_objectives(data_3d, monkeypatch):
    X, y = data_3d
    params = dict(arrangements="sample", n_arrangements=40, random_state=0, solver="first_order")
    inits = []
    solve = path_module.solve_convex_program

    def recording(*args, **kwargs):
        inits.append(kwargs["init"])
        return solve(*args, **kwargs)

    monkeypatch.setattr(path_module, "solve_convex_program", recording)
    warm = convex_relu_path(X, y, alphas=6, eps=1e-2, **params)
    assert inits[0] is None and all(init is not None for init in inits[1:])  # warm-started along the grid
    cold = [convex_relu_path(X, y, alphas=[alpha], **params) for alpha in warm.alphas]
    np.testing.assert_allclose(warm.objectives, [c.objectives[0] for c in cold], rtol=2e-6)
    np.testing.assert_array_equal(warm.n_neurons > 0, [c.n_neurons[0] > 0 for c in cold])


def test_auto_path_falls_back_to_cvxpy_where_first_order_misses_tol(data_3d, monkeypatch):
    X, y = data_3d
    solve = path_module.solve_convex_program

    def starved(*args, **kwargs):  # the first-order solver stops after one iteration, uncertified
        if kwargs["solver"] == "first_order":
            kwargs["max_iter"] = 1
        return solve(*args, **kwargs)

    monkeypatch.setattr(path_module, "solve_convex_program", starved)
    path = convex_relu_path(X, y, alphas=4, eps=1e-2, arrangements="sample", n_arrangements=40, random_state=0)
    assert all(solver.startswith("cvxpy") for solver in path.solvers[1:])
    assert all(certificate.relative_gap <= 1e-6 for certificate in path.certificates)
    # an explicit solver is never replaced
    with pytest.warns(ConvergenceWarning):
        explicit = convex_relu_path(X, y, alphas=4, eps=1e-2, arrangements="sample", n_arrangements=40,
                                    random_state=0, solver="first_order")
    assert set(explicit.solvers[1:]) == {"first_order"}
