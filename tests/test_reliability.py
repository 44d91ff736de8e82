"""Reliability (issue 14): no crash, no hang, no half-fitted estimator, clear errors on bad input."""

import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, convex_relu_path
from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements
from sklearn_convexrelu.program.losses import get_loss
from sklearn_convexrelu.solvers.polish import convex_objective, polish

# tiny unscaled data on which a default classifier fit used to crash (issue 14, item 1)
X_UNSCALED = np.array([[0.07, 0.88, -49.1], [1.05, 0.06, -51.2], [-1.15, 1.47, 142.2]])
Y_UNSCALED = np.array([1, 0, 1])


# ---------------------------------------------------------------------------------------------
# Item 1: polishing must not ruin a good solve


def test_optimal_intercept_of_saturated_log_loss():
    """Newton from c = 0 stalls where the logistic loss is saturated; the intercept is still optimal."""
    loss = get_loss("log_loss", 1)
    F = np.array([[-227.4], [-240.8], [0.0]])
    Y = np.array([[1.0], [-1.0], [1.0]])
    s = np.ones(3)
    c = loss.optimal_intercept(F, Y, s)
    assert 227.4 < c[0] < 240.8  # the only intercept that separates the three samples
    assert loss.value(F + c, Y, s) < 1e-2


def test_polish_never_raises_the_objective_of_an_exact_point():
    X_aug = _augment(X_UNSCALED, True)
    patterns = enumerate_arrangements(X_UNSCALED, hidden_bias=True).patterns
    Y, s, loss = np.where(Y_UNSCALED == 1, 1.0, -1.0)[:, None], np.ones(3), get_loss("log_loss", 1)
    # one block in its cone with a large intercept: the optimum of this data (found by the solver)
    i = next(i for i in range(patterns.shape[1]) if patterns[:, i].tolist() == [False, True, False])
    blocks_pos, blocks_neg = np.zeros((1, 4, patterns.shape[1])), np.zeros((1, 4, patterns.shape[1]))
    u = np.linalg.lstsq(X_aug, np.array([-5.0, 6.7, -5.0]), rcond=None)[0]
    if not np.all((X_aug @ u >= 0) == patterns[:, i]):
        pytest.skip("constructed direction is not in the pattern's cone")
    blocks_neg[0, :, i] = u
    intercept = np.array([234.0])
    before = convex_objective(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, 1e-3)[0]
    after = convex_objective(
        X_aug, patterns, *polish(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, fit_intercept=True, alpha=1e-3),
        Y, s, loss, 1e-3,
    )[0]
    assert after <= before * (1 + 1e-12)


def test_default_classifier_on_tiny_unscaled_data_is_certified():
    clf = ConvexReLUClassifier(random_state=0).fit(X_UNSCALED, Y_UNSCALED)  # warnings are errors
    assert clf.certificate_.certified
    assert np.isfinite(clf.objective_) and clf.objective_ < 0.05
    assert clf.n_neurons_ > 0
    np.testing.assert_array_equal(clf.predict(X_UNSCALED), Y_UNSCALED)


def test_path_objective_decreases_as_alpha_falls_on_unscaled_data():
    path = convex_relu_path(X_UNSCALED, Y_UNSCALED, loss="log_loss", alphas=10)
    assert np.all(np.diff(path.objectives) <= 1e-12 * path.objectives[:-1])
    assert np.all(path.n_neurons[1:] > 0)
    assert all(c.certified for c in path.certificates)


# ---------------------------------------------------------------------------------------------
# Item 3: a fit is atomic


def _binary(seed=0, labels=(0, 1), n=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, np.where(X[:, 0] * X[:, 1] > 0, labels[1], labels[0])


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("__")}


@pytest.mark.parametrize("failure", [RuntimeError("solver exploded"), KeyboardInterrupt()])
def test_failed_classifier_refit_keeps_the_previous_fit(monkeypatch, failure):
    X, y = _binary()
    clf = ConvexReLUClassifier(alpha=1e-2, random_state=0).fit(X, y)
    before = _fitted_state(clf)
    expected = clf.predict(X)

    def explode(*args, **kwargs):
        raise failure

    import sklearn_convexrelu._base as base

    monkeypatch.setattr(base, "solve_convex_program", explode)
    X_new, y_new = _binary(seed=1, labels=(5, 9), n=10)
    with pytest.raises(type(failure)):
        clf.fit(np.column_stack([X_new, X_new[:, :1]]), y_new)  # new classes, new n_features
    assert _fitted_state(clf).keys() == before.keys()
    assert all(_fitted_state(clf)[k] is v for k, v in before.items())
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    np.testing.assert_array_equal(clf.predict(X), expected)


def test_failed_first_fit_leaves_the_estimator_unfitted(monkeypatch):
    from sklearn.exceptions import NotFittedError

    import sklearn_convexrelu._base as base

    monkeypatch.setattr(base, "solve_convex_program", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    X, y = _binary()
    for est in (ConvexReLUClassifier(alpha=1e-2), ConvexReLURegressor(alpha=1e-2)):
        with pytest.raises(RuntimeError, match="boom"):
            est.fit(X, y.astype(float))
        assert _fitted_state(est) == {}
        with pytest.raises(NotFittedError):
            est.predict(X)


def test_failed_regressor_refit_keeps_output_shape(monkeypatch):
    X, y = _binary()
    reg = ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y.astype(float))
    expected = reg.predict(X)

    import sklearn_convexrelu._base as base

    monkeypatch.setattr(base, "solve_convex_program", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        reg.fit(X, np.column_stack([y, y]).astype(float))
    np.testing.assert_array_equal(reg.predict(X), expected)


# ---------------------------------------------------------------------------------------------
# Item 4: size guards before enumeration and allocation


def _large(n=200, p=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, X[:, 0] + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize("solver", ["auto", "first_order", "cvxpy"])
def test_exact_enumeration_refused_before_it_starts(solver):
    X, y = _large()
    with pytest.raises(ValueError, match=r"(?s)Exact enumeration.*arrangements='search'"):
        ConvexReLURegressor(arrangements="exact", solver=solver).fit(X, y)
    with pytest.raises(ValueError, match="Exact enumeration"):
        ConvexReLUClassifier(arrangements="exact", solver=solver).fit(X, y > 0)


def test_exact_enumeration_refused_in_the_path_and_the_landscape_tools():
    from sklearn_convexrelu.landscape import no_spurious_valleys_width, optimality_certificate

    X, y = _large()
    network = ConvexReLURegressor(arrangements="sample", n_arrangements=5, random_state=0).fit(X, y).network_
    with pytest.raises(ValueError, match="Exact enumeration"):
        optimality_certificate(network, X, y, 1e-3, arrangements="exact")
    with pytest.raises(ValueError, match="Exact enumeration"):
        no_spurious_valleys_width(X, y, 1e-3, arrangements="exact")
    with pytest.raises(ValueError, match="Exact enumeration"):
        convex_relu_path(X, y, arrangements="exact", alphas=3)


def test_sampling_refused_beyond_memory(monkeypatch):
    import sklearn_convexrelu._preparation as preparation

    monkeypatch.setattr(preparation, "_available_memory", lambda: 2 * 10**9)
    X, y = _large(n=20, p=3)
    for arrangements in ("sample", "search"):
        with pytest.raises(ValueError, match="n_arrangements=100,000,000"):
            ConvexReLURegressor(arrangements=arrangements, n_arrangements=10**8).fit(X, y)
    with pytest.raises(ValueError, match="n_arrangements="):
        convex_relu_path(X, y, arrangements="sample", n_arrangements=10**8, alphas=2)
