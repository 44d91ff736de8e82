"""The preparation layer (user input → the program's inputs), checked against independent computations
and for one behaviour across the estimators, the path, the CV estimators and the landscape tools."""

import numpy as np
import pytest

from sklearn_convexrelu import (
    Arrangements,
    ConvexReLUClassifier,
    ConvexReLURegressor,
    ConvexReLURegressorCV,
    arrangement_count_bound,
    convex_relu_path,
    sample_arrangements,
)
from sklearn_convexrelu._preparation import encode_classes, encode_labels, positive_rows
from sklearn_convexrelu.landscape import optimality_certificate
from sklearn_convexrelu.landscape._problem import get_arrangements, make_problem


@pytest.fixture
def weighted_1d():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(14, 1))
    y = np.abs(X[:, 0]) + 0.1 * rng.randn(14)
    weights = np.ones(14)
    weights[[1, 4, 9]] = 0.0
    return X, y, weights, weights > 0


def test_positive_rows_by_hand():
    X = np.arange(10.0).reshape(5, 2)
    Y = np.arange(5.0)[:, None]
    X_fit, Y_fit, s = positive_rows(X, Y, [0.0, 2.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(X_fit, X[[1, 3, 4]])
    np.testing.assert_array_equal(Y_fit, Y[[1, 3, 4]])
    np.testing.assert_allclose(s, [1.5, 0.75, 0.75])  # [2, 1, 1] scaled to sum to 3
    np.testing.assert_allclose(positive_rows(X, Y, None)[2], np.ones(5))
    for bad, message in (([0.0] * 5, "non-zero"), ([1.0, -1.0, 1.0, 1.0, 1.0], "[Nn]egative"), ([1.0] * 4, "shape|samples")):
        with pytest.raises(ValueError, match=message):
            positive_rows(X, Y, bad)


def test_zero_weight_rows_are_the_same_as_no_rows(weighted_1d):
    X, y, weights, keep = weighted_1d
    alpha = 1e-2
    weighted = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y, sample_weight=weights)
    dropped = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X[keep], y[keep])
    assert weighted.objective_ == pytest.approx(dropped.objective_, rel=1e-9)
    np.testing.assert_array_equal(weighted.arrangements_.patterns, dropped.arrangements_.patterns)
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), atol=1e-8)
    path = convex_relu_path(X, y, alphas=[0.1, alpha], sample_weight=weights, arrangements="exact")
    path_dropped = convex_relu_path(X[keep], y[keep], alphas=[0.1, alpha], arrangements="exact")
    np.testing.assert_allclose(path.objectives, path_dropped.objectives, rtol=1e-9)
    assert path.objectives[-1] == pytest.approx(weighted.objective_, rel=1e-7)
    # the landscape examines the same objective: the certificate of the same network agrees
    certificate = optimality_certificate(weighted.network_, X, y, alpha, sample_weight=weights)
    certificate_dropped = optimality_certificate(weighted.network_, X[keep], y[keep], alpha)
    assert certificate.primal == pytest.approx(certificate_dropped.primal, rel=1e-12)
    assert certificate.primal == pytest.approx(weighted.objective_, rel=1e-9)
    assert certificate.dual_gap == pytest.approx(certificate_dropped.dual_gap, rel=1e-9, abs=1e-14)


def test_weights_are_rescaled_to_sum_to_n(weighted_1d):
    X, y, weights, keep = weighted_1d
    scaled = weights * 7.3
    a = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y, sample_weight=weights)
    b = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y, sample_weight=scaled)
    assert a.objective_ == pytest.approx(b.objective_, rel=1e-9)
    problem = make_problem(X, y[:, None], scaled, alpha=1e-2, loss="squared_error", hidden_bias=True,
                           penalize_hidden_bias=True, fit_intercept=True, source="test")
    np.testing.assert_allclose(problem.s, np.ones(keep.sum()))
    np.testing.assert_array_equal(problem.X, X[keep])


def test_class_encoding_by_hand():
    classes, Y = encode_classes(np.array(["b", "a", "c", "a"]))
    np.testing.assert_array_equal(classes, ["a", "b", "c"])
    np.testing.assert_array_equal(Y, [[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]])
    classes, Y = encode_classes(np.array(["yes", "no", "no"]))
    np.testing.assert_array_equal(Y[:, 0], [1, -1, -1])  # the second class is positive
    np.testing.assert_array_equal(encode_labels(np.array(["no", "yes"]), classes)[:, 0], [-1, 1])
    with pytest.raises(ValueError, match="only one class"):
        encode_classes(np.array([3, 3, 3]))
    with pytest.raises(ValueError, match="not among the classes"):
        encode_labels(np.array(["maybe"]), classes)


def test_classifier_and_path_encode_classes_alike():
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, size=(16, 1))
    y = np.where(np.abs(X[:, 0]) > 0.5, "out", "in")
    alpha = 0.1
    clf = ConvexReLUClassifier(alpha=alpha, loss="squared_error", arrangements="exact").fit(X, y)
    path = convex_relu_path(X, np.where(y == "out", 1.0, -1.0), alphas=[alpha], arrangements="exact")  # by hand
    assert clf.objective_ == pytest.approx(path.objectives[0], rel=1e-7)
    assert clf.network_.objective(X, np.where(y == "out", 1.0, -1.0), alpha) == pytest.approx(clf.objective_, rel=1e-9)


def test_arrangements_auto_rule_is_one_rule():
    rng = np.random.RandomState(3)
    X = rng.uniform(-1, 1, size=(12, 2))
    y = X[:, 0] * X[:, 1]
    bound = arrangement_count_bound(X, hidden_bias=True)
    below, above = int(bound), int(bound) - 1  # "auto" enumerates iff bound <= max_arrangements
    # estimators: enumerate below, search above
    assert ConvexReLURegressor(alpha=0.05, max_arrangements=below).fit(X, y).arrangements_.exact
    searched = ConvexReLURegressor(alpha=0.05, max_arrangements=above, n_arrangements=20, random_state=0).fit(X, y)
    assert searched.pattern_search_ is not None
    # path, CV estimators and landscape tools: enumerate below, sample above
    assert convex_relu_path(X, y, alphas=1, max_arrangements=below).arrangements.exact
    sampled = convex_relu_path(X, y, alphas=1, max_arrangements=above, n_arrangements=20, random_state=0).arrangements
    assert not sampled.exact and sampled.n_sampled == 20
    expected = sample_arrangements(X, 20, hidden_bias=True, random_state=0)
    np.testing.assert_array_equal(sampled.generators, expected.generators)
    cv = ConvexReLURegressorCV(alphas=2, cv=2, max_arrangements=above, n_arrangements=20, random_state=0).fit(X, y)
    np.testing.assert_array_equal(cv.arrangements_.generators, expected.generators)
    problem = make_problem(X, y[:, None], None, alpha=0.05, loss="squared_error", hidden_bias=True,
                           penalize_hidden_bias=True, fit_intercept=True, source="test")
    assert get_arrangements(problem, max_arrangements=below).exact
    landscape = get_arrangements(problem, max_arrangements=above, random_state=0)
    assert landscape.n_sampled == 200  # the landscape tools' documented default
    np.testing.assert_array_equal(
        landscape.generators, sample_arrangements(X, 200, hidden_bias=True, random_state=0).generators,
    )


def test_solver_auto_rule_is_one_rule():
    rng = np.random.RandomState(4)
    X = rng.uniform(-1, 1, size=(14, 1))
    labels = (np.abs(X[:, 0]) > 0.5).astype(int)
    y = np.abs(X[:, 0])
    for loss, target, expected in (("squared_error", y, "cvxpy"), ("log_loss", labels, "first_order")):
        assert convex_relu_path(X, target, alphas=1, loss=loss, arrangements="exact").alpha_max > 0.05
        model = (ConvexReLURegressor if loss == "squared_error" else ConvexReLUClassifier)
        fitted = model(alpha=0.05, loss=loss, arrangements="exact").fit(X, target)
        assert fitted.solver_.startswith(expected)
        path = convex_relu_path(X, target, alphas=[0.05], loss=loss, arrangements="exact")
        assert path.solvers[0].startswith(expected)


def test_warm_start_reapplies_generators_without_duplicates():
    rng = np.random.RandomState(5)
    X = rng.uniform(-1, 1, size=(10, 1))
    reg = ConvexReLURegressor(alpha=0.05, arrangements="sample", n_arrangements=30, warm_start=True, random_state=0)
    reg.fit(X, np.abs(X[:, 0]))
    generators = reg.arrangements_.generators
    X_new = np.vstack([X[:4] * 0.1, [[5.0]]])  # fewer, clustered points: generators now collide
    reg.fit(X_new, np.abs(X_new[:, 0]))
    # independent: the generators on the new rows, first occurrence of each nonzero pattern
    patterns = np.column_stack([X_new, np.ones(5)]) @ generators >= 0
    seen, expected = set(), []
    for j in range(patterns.shape[1]):
        key = patterns[:, j].tobytes()
        if patterns[:, j].any() and key not in seen:
            seen.add(key)
            expected.append(j)
    np.testing.assert_array_equal(reg.arrangements_.generators, generators[:, expected])
    np.testing.assert_array_equal(reg.arrangements_.patterns, patterns[:, expected])
    assert not reg.arrangements_.exact and isinstance(reg.arrangements_, Arrangements)
