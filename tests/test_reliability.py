"""Reliability (issue 14): no crash, no hang, no half-fitted estimator, clear errors on bad input."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, convex_relu_path
from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements
from sklearn_convexrelu.exceptions import OptimalSetWarning
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


def test_the_public_pattern_functions_refuse_before_the_work():
    """enumerate_arrangements on 200 × 10 hung (4.5e16 patterns); sample_arrangements with 1e10 gates
    raised numpy's MemoryError after allocating; both now refuse first, with advice."""
    from sklearn_convexrelu import enumerate_arrangements, sample_arrangements

    X, _ = _large()
    with pytest.raises(ValueError, match=r"(?s)Exact enumeration.*4.5e\+16"):
        enumerate_arrangements(X)
    with pytest.raises(ValueError, match="exceeds max_patterns=1000"):
        enumerate_arrangements(X, max_patterns=1000)
    with pytest.raises(ValueError, match=r"n_arrangements=10,000,000,000 .* Use a smaller n_arrangements"):
        sample_arrangements(X, 10**10)


def test_sampling_refused_beyond_memory(monkeypatch):
    import sklearn_convexrelu._preparation as preparation

    monkeypatch.setattr(preparation, "_available_memory", lambda: 2 * 10**9)
    X, y = _large(n=20, p=3)
    for arrangements in ("sample", "search"):
        with pytest.raises(ValueError, match="n_arrangements=100,000,000"):
            ConvexReLURegressor(arrangements=arrangements, n_arrangements=10**8).fit(X, y)
    with pytest.raises(ValueError, match="n_arrangements="):
        convex_relu_path(X, y, arrangements="sample", n_arrangements=10**8, alphas=2)


# ---------------------------------------------------------------------------------------------
# Items 5 and 6: no RuntimeError where the answer is known or a fallback exists; no AxisError


def _smooth(n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, np.sin(X[:, 0]) + X[:, 1]


@pytest.mark.parametrize("solver", ["auto", "cvxpy", "first_order"])
def test_huge_alpha_gives_the_zero_network_without_a_solve(solver):
    X, y = _smooth()
    reg = ConvexReLURegressor(alpha=1e12, solver=solver).fit(X, y)
    assert reg.n_neurons_ == 0 and reg.solver_ == "alpha_max" and reg.n_iter_ == 0
    assert reg.certificate_.certified
    np.testing.assert_allclose(reg.predict(X), y.mean())


@pytest.mark.parametrize("scale, name", [(1e150, "y"), (-1e120, "y")])
def test_overflowing_targets_are_refused(scale, name):
    X, y = _smooth()
    with pytest.raises(ValueError, match=f"{name} has values up to .* Rescale y"):
        ConvexReLURegressor(solver="cvxpy").fit(X, y * scale)


def test_overflowing_features_are_refused():
    X, y = _smooth()
    X[:, 1] *= 1e150
    with pytest.raises(ValueError, match="X has values up to .* Standardise X"):
        ConvexReLURegressor().fit(X, y)
    with pytest.raises(ValueError, match="X has values up to"):
        convex_relu_path(X, y, alphas=2)


def _tiny_program():
    """Data whose exact program is small enough for solver='auto' to choose cvxpy."""
    X = np.linspace(-1, 1, 6)[:, None]
    return X, np.abs(X[:, 0])


def test_auto_uses_the_first_order_solver_without_conic_solvers(monkeypatch):
    import sklearn_convexrelu.solvers.cvxpy_solver as cvxpy_solver

    X, y = _tiny_program()
    assert ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y).solver_.startswith("cvxpy")
    monkeypatch.setattr(cvxpy_solver, "_SOLVER_CHAIN", ("NOT_A_SOLVER",))
    reg = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y)
    assert reg.solver_ == "first_order" and reg.certificate_.certified
    with pytest.raises(RuntimeError, match="none of NOT_A_SOLVER is installed"):
        ConvexReLURegressor(alpha=1e-2, arrangements="exact", solver="cvxpy").fit(X, y)


def test_auto_falls_back_to_the_first_order_solver_when_cvxpy_fails(monkeypatch):
    import sklearn_convexrelu.solvers as solvers

    def fail(self, *args, **kwargs):
        raise RuntimeError("The convex program could not be solved: numerical failure")

    X, y = _tiny_program()
    assert ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y).solver_.startswith("cvxpy")
    monkeypatch.setattr(solvers.CvxpyProgram, "solve", fail)
    reg = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y)
    assert reg.solver_ == "first_order" and reg.certificate_.certified
    with pytest.raises(RuntimeError, match="could not be solved"):
        ConvexReLURegressor(alpha=1e-2, arrangements="exact", solver="cvxpy").fit(X, y)


def test_polish_survives_a_failed_projection(monkeypatch):
    import importlib

    polish_module = importlib.import_module("sklearn_convexrelu.solvers.polish")
    X, y = _smooth(n=8)
    X_aug = _augment(X, True)
    patterns = enumerate_arrangements(X, hidden_bias=True).patterns
    rng = np.random.default_rng(0)
    blocks = rng.standard_normal((2, 1, 3, patterns.shape[1]))

    def fail(*args, **kwargs):
        raise RuntimeError("Projection onto an activation cone failed: Clarabel status 'optimal_inaccurate'.")

    monkeypatch.setattr(polish_module, "project_onto_cones", fail)
    V, U, c = polish(X_aug, patterns, blocks[0], blocks[1], np.zeros(1), y[:, None], np.ones(8), get_loss("squared_error", 1), fit_intercept=True)
    for W in (V, U):  # every surviving block lies in its cone
        assert np.all(np.where(patterns, 1, -1) * (X_aug @ W[0]) >= -1e-9)
    assert np.all(np.isfinite(c))


def test_badly_scaled_column_does_not_raise():
    """A column ×1e8: a fit (not certified, a ConvergenceWarning and an OptimalSetWarning say so),
    not a RuntimeError from the cone projection."""
    X, y = _smooth()
    X[:, 1] *= 1e8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", OptimalSetWarning)
        reg = ConvexReLURegressor(solver="cvxpy", random_state=0).fit(X, y)
    assert np.all(np.isfinite(reg.predict(X)))
    assert reg.objective_ == pytest.approx(reg.network_.objective(X, y, reg.alpha), rel=1e-10)


@pytest.mark.parametrize("scale", [1e-6, 1e10, 1e30])
def test_interior_point_fits_are_invariant_to_scaling_y_and_alpha(scale):
    """y and alpha times c is the same program (solution times c, objective times c²). cvxpy's
    absolute tolerances made y × 1e10 uncertified (gap 0.48) and y × 1e15 a RuntimeError advising
    to standardise X; the squared loss is now solved at the scale of y."""
    X, y = _smooth()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reference = ConvexReLURegressor(solver="cvxpy", arrangements="exact").fit(X, y)
        scaled = ConvexReLURegressor(alpha=1e-3 * scale, solver="cvxpy", arrangements="exact").fit(X, y * scale)
    assert reference.certificate_.certified and scaled.certificate_.certified
    assert scaled.objective_ / scale**2 == pytest.approx(reference.objective_, rel=1e-9)
    np.testing.assert_allclose(scaled.predict(X) / scale, reference.predict(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("solver", ["auto", "cvxpy", "first_order"])
@pytest.mark.parametrize("hidden_bias", [True, False])
def test_an_alpha_negligible_next_to_the_data_is_refused(hidden_bias, solver):
    """X ×1e20 (without a hidden bias, alpha / 1e20 on the standardised data): the penalty is below
    rounding. It used to give NaN objectives, RuntimeWarnings from the QP and the logistic loss, and
    an OptimalSetWarning; y ×1e20 on 2,000 samples made the pattern search's solver hang."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    for data in (X * 1e12, X * 1e20, X * 1e99):
        with pytest.raises(ValueError, match=r"alpha=0.001 is negligible .* Standardise X \(StandardScaler\), rescale y "
                                             r"or raise alpha to at least"):
            ConvexReLUClassifier(hidden_bias=hidden_bias, solver=solver, random_state=0).fit(data, y)
    X = rng.standard_normal((2000, 10))
    with pytest.raises(ValueError, match="negligible"):
        ConvexReLURegressor(hidden_bias=hidden_bias, solver=solver, random_state=0).fit(X, X[:, 0] * 1e20)


def test_the_negligible_alpha_cut_is_where_the_message_says():
    from sklearn_convexrelu.program.certificate import check_alpha_resolvable, dual_vector

    rng = np.random.default_rng(0)
    X_aug, Y, s, loss = rng.standard_normal((40, 4)) * 1e15, rng.standard_normal((40, 2)), np.ones(40), get_loss("squared_error", 2)
    R0 = dual_vector(loss, Y, s, np.zeros(Y.shape), fit_intercept=True)[2]
    with pytest.raises(ValueError, match="negligible") as error:
        check_alpha_resolvable(X_aug, R0, 1.0)
    smallest = float(str(error.value).rsplit("at least ", 1)[1].rstrip("."))
    check_alpha_resolvable(X_aug, R0, 1.001 * smallest)
    with pytest.raises(ValueError, match="negligible"):
        check_alpha_resolvable(X_aug, R0, 0.999 * smallest)
    # independent of the check: alpha_max over sampled patterns is below the bound it uses
    from sklearn_convexrelu._path import _alpha_max
    from sklearn_convexrelu.arrangements import sample_arrangements

    patterns = sample_arrangements(X_aug, n_arrangements=50, random_state=0, hidden_bias=False).patterns
    assert _alpha_max(X_aug, patterns, Y, s, loss, True) <= smallest / (100 * np.finfo(float).eps) * (1 + 1e-3)


def test_a_saturated_logistic_loss_emits_no_runtime_warning():
    """X ×1e6 with a hidden bias: the loss saturates and its curvature underflows (Hessian 2e-318);
    the restricted QP divided by it (inf · 0 in the active-set step). The fit says it is not
    certified (ConvergenceWarning) and nothing else."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = ConvexReLUClassifier(random_state=0).fit(X * 1e6, y)
    assert np.all(np.isfinite(clf.decision_function(X * 1e6))) and clf.score(X * 1e6, y) == 1.0


@pytest.mark.parametrize("solver", ["auto", "cvxpy", "first_order"])
def test_no_patterns_gives_the_zero_network(solver):
    """X · 1e-300 has no usable pattern (and X = 0 neither): the zero network, not cvxpy's AxisError."""
    X, y = _smooth()
    for data in (X * 1e-300, np.zeros_like(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy's RuntimeWarnings too, not only the package's
            reg = ConvexReLURegressor(solver=solver, random_state=0).fit(data, y)
        assert reg.n_neurons_ == 0 and np.all(np.isfinite(reg.predict(data)))
        assert np.isfinite(reg.objective_)


@pytest.mark.parametrize("hidden_bias", [True, False])
@pytest.mark.parametrize("scale", [1e-310, 1e-300, 1e-200, 1e-160, 1e-100, 1e100])
def test_arrangements_of_extreme_scales_emit_no_runtime_warning(scale, hidden_bias):
    """X · 1e-300 overflowed squaring the generators in numpy's norm (their feature coordinates are
    ~1e300): the patterns are scale invariant, and so is their computation, without a warning."""
    from sklearn_convexrelu import sample_arrangements

    X, _ = _smooth(n=8)
    reference = enumerate_arrangements(X, hidden_bias=hidden_bias).patterns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = enumerate_arrangements(X * scale, hidden_bias=hidden_bias)
        sampled = sample_arrangements(X * scale, 30, hidden_bias=hidden_bias, random_state=0)
    assert np.all(np.isfinite(exact.generators)) and np.all(np.isfinite(sampled.generators))
    if not hidden_bias:  # without the bias column, scaling X changes no pattern
        np.testing.assert_array_equal(exact.patterns, reference)
    np.testing.assert_array_equal(exact.patterns_on(X * scale), exact.patterns)


# ---------------------------------------------------------------------------------------------
# Low items and argument validation of the public functions


def test_remaining_public_arguments_are_validated():
    """Found by a review: raw numpy errors (or silent acceptance) instead of a clear ValueError."""
    from sklearn_convexrelu import TwoLayerReLUNetwork
    from sklearn_convexrelu.landscape import gradient_descent_experiment, train_nonconvex

    X = np.linspace(-1, 1, 8)[:, None]
    y = np.abs(X[:, 0])
    for widths in ([0], [-2], [1.5], [], [[2, 3]]):
        with pytest.raises(ValueError, match="widths must be a non-empty sequence of positive integers"):
            gradient_descent_experiment(X, y, 1e-2, widths)
    two_features = TwoLayerReLUNetwork(np.ones((2, 3)), np.zeros(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"init has 2 feature\(s\)"):
        train_nonconvex(X, y, 1e-2, 3, init=two_features)
    with pytest.raises(ValueError, match="1-D array"):
        convex_relu_path(X, y, alphas=[[0.1, 0.01]])
    network = TwoLayerReLUNetwork(np.ones((1, 3)), np.zeros(3), np.ones(3), 0.0)
    for alpha in (-1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="alpha must be a non-negative finite float"):
            network.objective(X, y, alpha)
    assert network.objective(X, y, 0.0) == pytest.approx(np.mean((network.output(X)[:, 0] - y) ** 2) / 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(solver="bogus"), "'solver' parameter"),
        (dict(arrangements="bogus"), "'arrangements' parameter"),
        (dict(tol=-1), "'tol' parameter"),
        (dict(tol=1.0), "'tol' parameter"),
        (dict(eps=2), "'eps' parameter"),
        (dict(alphas=0), "'alphas' parameter"),
        (dict(loss="hinge"), "'loss' parameter"),
    ],
)
def test_convex_relu_path_validates_its_arguments(kwargs, match):
    X, y = _smooth(n=8)
    with pytest.raises(ValueError, match=match):
        convex_relu_path(X, y, **{"alphas": 2, **kwargs})


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, ConvexReLUClassifier])
def test_tol_of_one_cannot_certify_anything(Estimator):
    X, y = _binary()
    with pytest.raises(ValueError, match="'tol' parameter"):
        Estimator(tol=1.0).fit(X, y)


def _network_and_data():
    X, y = _smooth(n=10)
    return ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y).network_, X, y


def _landscape_calls(network, X, y, alpha):
    """One call of every landscape tool (name, thunk)."""
    from sklearn_convexrelu.landscape import (
        gradient_descent_experiment, is_global_minimum, no_spurious_valleys_width, optimality_certificate,
        path_to_global_minimum, stationary_subproblem, train_nonconvex,
    )

    return [
        ("optimality_certificate", lambda: optimality_certificate(network, X, y, alpha)),
        ("is_global_minimum", lambda: is_global_minimum(network, X, y, alpha)),
        ("stationary_subproblem", lambda: stationary_subproblem(network, X, y, alpha)),
        ("path_to_global_minimum", lambda: path_to_global_minimum(network, X, y, alpha)),
        ("no_spurious_valleys_width", lambda: no_spurious_valleys_width(X, y, alpha)),
        ("train_nonconvex", lambda: train_nonconvex(X, y, alpha, 3, max_iter=5)),
        ("gradient_descent_experiment", lambda: gradient_descent_experiment(X, y, alpha, [3], n_starts=2, max_iter=5)),
    ]


@pytest.mark.parametrize("alpha", [0.0, -1.0, np.inf, np.nan])
def test_landscape_tools_validate_alpha(alpha):
    """alpha = 0 divided by zero, alpha = inf gave NaN certificates: a clear error instead."""
    network, X, y = _network_and_data()
    for name, call in _landscape_calls(network, X, y, alpha):
        with pytest.raises(ValueError, match=f"'alpha' parameter of {name}"):
            call()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_landscape_tools_refuse_nonfinite_targets(bad):
    """A NaN target gave NaN certificates: a clear error instead."""
    network, X, y = _network_and_data()
    y = y.copy()
    y[3] = bad
    for name, call in _landscape_calls(network, X, y, 1e-2):
        with pytest.raises(ValueError, match="y contains NaN or infinity"):
            call()


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(tol=1.0), "'tol' parameter"), (dict(arrangements="bogus"), "'arrangements' parameter"),
     (dict(n_arrangements=0), "'n_arrangements' parameter"), (dict(loss="hinge"), "'loss' parameter")],
)
def test_landscape_certificate_validates_its_arguments(kwargs, match):
    from sklearn_convexrelu.landscape import optimality_certificate

    network, X, y = _network_and_data()
    with pytest.raises(ValueError, match=match):
        optimality_certificate(network, X, y, 1e-2, **kwargs)


def test_arrangement_functions_validate_their_arguments():
    from sklearn_convexrelu import sample_arrangements

    X, _ = _smooth(n=6)
    with pytest.raises(ValueError, match="'n_arrangements' parameter"):
        sample_arrangements(X, 0)
    with pytest.raises(ValueError, match="'hidden_bias' parameter"):
        enumerate_arrangements(X, hidden_bias="yes")


def test_predict_log_proba_is_finite_far_from_the_data():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    for y in ([0, 0, 1, 1], [0, 1, 2, 2]):
        clf = ConvexReLUClassifier(alpha=1e-4, random_state=0).fit(X, y)
        far = np.array([[-1e4], [1e4], [0.5]])
        log_proba = clf.predict_log_proba(far)
        assert np.all(np.isfinite(log_proba))
        np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(far), atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Persistence: skops loads fitted estimators with its default trust


def _skops_cases():
    from sklearn_convexrelu import ConvexReLUClassifierCV, ConvexReLURegressorCV

    X, y = _smooth(n=16)
    labels3 = np.arange(16) % 3
    return [
        (ConvexReLURegressor(alpha=1e-2, random_state=0), X, y),
        (ConvexReLURegressor(alpha=1e-2, arrangements="search", n_arrangements=10, random_state=0), X, y),
        (ConvexReLUClassifier(alpha=1e-2, random_state=0), X, y > 0),
        (ConvexReLUClassifier(alpha=1e-2, random_state=0), X, labels3),
        (ConvexReLURegressorCV(alphas=3, cv=2, random_state=0), X, y),
        (ConvexReLUClassifierCV(alphas=3, cv=2, random_state=0), X, y > 0),
    ]


def _fitted_skops_cases():
    for estimator, X, y in _skops_cases():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        yield estimator, X, y


def _assert_same_predictions(loaded, estimator, X):
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
        np.testing.assert_array_equal(loaded.decision_function(X), estimator.decision_function(X))
    X_new = np.random.default_rng(7).standard_normal((9, X.shape[1]))  # also off the training rows
    np.testing.assert_array_equal(loaded.predict(X_new), estimator.predict(X_new))


def _numbers_in_skops_file(path):
    """Every float the file holds: its numpy arrays and the numbers of its JSON schema."""
    import io
    import json
    import zipfile

    found = []

    def collect(node):
        if isinstance(node, float):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)
        elif isinstance(node, str):  # reprs of scalars (e.g. numpy floats) are stored as strings
            try:
                found.append(float(node))
            except ValueError:
                pass

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            raw = archive.read(name)
            if name.endswith(".npy"):
                array = np.load(io.BytesIO(raw), allow_pickle=False)
                if array.dtype.kind in "fc":
                    found.extend(np.asarray(array, dtype=complex).real.ravel().tolist())
            elif name.endswith(".json"):
                collect(json.loads(raw))
    return np.array(found, dtype=float)


def test_fitted_estimators_load_with_the_documented_skops_call(tmp_path):
    """``skops.io.load(file, trusted=skops_trusted_types())`` (the user guide's call) loads every
    fitted estimator, after a pattern search too, with bitwise the same predictions; the file
    holds none of the training features (nor the regression targets)."""
    sio = pytest.importorskip("skops.io")
    from sklearn_convexrelu import skops_trusted_types

    for i, (estimator, X, y) in enumerate(_fitted_skops_cases()):
        path = tmp_path / f"model{i}.skops"
        sio.dump(estimator, path)
        assert set(sio.get_untrusted_types(file=path)) <= set(skops_trusted_types())
        loaded = sio.load(path, trusted=skops_trusted_types())
        assert type(loaded) is type(estimator)
        _assert_same_predictions(loaded, estimator, X)
        numbers = _numbers_in_skops_file(path)
        assert numbers.size > 0  # the check below can fail: the file's numbers were read
        targets = [X] if hasattr(estimator, "classes_") else [X, y]
        leaked = [data.size for data in targets if np.isin(data, numbers).any()]
        assert not leaked, (type(estimator).__name__, leaked)


def test_fitted_estimators_load_with_default_skops_trust():
    """Where skops's private default list exists and its loader reads it, the package registers its
    types in it: a plain ``skops.io.loads`` loads a fitted estimator."""
    sio = pytest.importorskip("skops.io")
    from sklearn_convexrelu._skops import register_skops_types

    if not register_skops_types():
        pytest.skip("this skops has no default trusted list that its loader reads")
    for estimator, X, y in _fitted_skops_cases():
        data = sio.dumps(estimator)
        assert sio.get_untrusted_types(data=data) == [], type(estimator).__name__
        _assert_same_predictions(sio.loads(data), estimator, X)


@pytest.mark.parametrize("change", ["list removed", "loader reads another list"])
def test_skops_without_a_usable_default_list_loads_with_trusted(monkeypatch, change):
    """A skops whose private default list is gone or no longer read by its loader: registering says
    so (``False``, no exception), a plain load refuses the package's types, and the documented call
    with ``trusted=skops_trusted_types()`` loads the estimator."""
    sio = pytest.importorskip("skops.io")
    from skops.io import _general, _trusted_types
    from skops.io.exceptions import UntrustedTypesFoundException

    from sklearn_convexrelu import skops_trusted_types
    from sklearn_convexrelu._skops import register_skops_types

    ours = set(skops_trusted_types())
    skops_own = [name for name in _trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES if name not in ours]
    monkeypatch.setattr(_general, "SKLEARN_ESTIMATOR_TYPE_NAMES", skops_own)  # what the loader reads
    if change == "list removed":
        monkeypatch.delattr(_trusted_types, "SKLEARN_ESTIMATOR_TYPE_NAMES")
    assert register_skops_types() is False
    assert "sklearn_convexrelu._regressor.ConvexReLURegressor" not in _general.SKLEARN_ESTIMATOR_TYPE_NAMES
    X, y = _smooth(n=16)
    reg = ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y)
    data = sio.dumps(reg)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted and set(untrusted) <= ours
    with pytest.raises(UntrustedTypesFoundException):
        sio.loads(data)
    _assert_same_predictions(sio.loads(data, trusted=skops_trusted_types()), reg, X)


def test_skops_trusted_types_trust_nothing_else():
    """``trusted=skops_trusted_types()`` is no blanket trust: another untrusted type is refused."""
    sio = pytest.importorskip("skops.io")
    from skops.io.exceptions import UntrustedTypesFoundException

    from sklearn_convexrelu import skops_trusted_types

    from fractions import Fraction

    data = sio.dumps({"model": ConvexReLURegressor(), "other": Fraction(1, 3)})
    assert set(sio.get_untrusted_types(data=data)) >= {"fractions.Fraction"}
    with pytest.raises(UntrustedTypesFoundException, match="Fraction"):
        sio.loads(data, trusted=skops_trusted_types())


def test_skops_trust_is_registered_in_a_fresh_process(tmp_path):
    """A new process that imports skops first, then the package, loads a saved model."""
    pytest.importorskip("skops.io")
    import subprocess
    import sys

    X, y = _smooth(n=12)
    path = tmp_path / "model.skops"
    code = f"""
import numpy as np, skops.io as sio
import sklearn_convexrelu
from sklearn_convexrelu import ConvexReLURegressor
X = np.array({X.tolist()!r}); y = np.array({y.tolist()!r})
sio.dump(ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y), {str(path)!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    check = f"""
import skops.io as sio
import sklearn_convexrelu
assert sio.get_untrusted_types(file={str(path)!r}) == [], sio.get_untrusted_types(file={str(path)!r})
sio.load({str(path)!r})
"""
    subprocess.run([sys.executable, "-c", check], check=True, timeout=300)


def test_fitted_estimator_holds_no_copy_of_the_training_data():
    X, y = _smooth(n=20)
    reg = ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, y)
    found, seen = [], set()

    def walk(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind == "f":
                for name, data in (("X", X), ("y", y)):
                    if obj.size >= data.size // 2 and np.isin(obj, data).mean() > 0.5:
                        found.append((path, name))
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{path}[{key!r}]")
        elif isinstance(obj, (list, tuple)):
            for i, value in enumerate(obj):
                walk(value, f"{path}[{i}]")
        elif hasattr(obj, "__dict__"):
            for key, value in vars(obj).items():
                walk(value, f"{path}.{key}")

    walk(reg, "reg")
    assert not found, found


def test_objective_is_the_returned_networks_on_badly_scaled_data():
    """Found by tests/test_fuzz.py: with a column ×1e6 the reported objective_ was the optimal set's
    value, 1e-4 away from that of network_; it is now evaluated on network_ itself."""
    X = np.array([[-1.04305595e-01, -6.18862562e05], [3.57873924e-02, -7.56844688e04],
                  [4.40856576e-01, -1.01927988e06], [4.40634876e-01, -2.38795725e06]], dtype=np.float32)
    labels = np.array([0, 1, 0, 1])[np.argsort([-0.0993, -0.0993, -0.0982, 0.0443], kind="stable")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not certified: a ConvergenceWarning says so
        clf = ConvexReLUClassifier(alpha=1e-3, n_arrangements=20, random_state=0, max_iter=300).fit(X, labels)
    value = clf.network_.objective(X.astype(float), np.where(labels == 1, 1.0, -1.0), 1e-3, loss="log_loss")
    assert clf.objective_ == pytest.approx(value, rel=1e-12)
    assert clf.certificate_.primal == pytest.approx(value, rel=1e-12)


def test_failed_cv_refit_keeps_the_previous_fit(monkeypatch):
    from sklearn_convexrelu import ConvexReLUClassifierCV

    X, y = _binary(n=16)
    cv = ConvexReLUClassifierCV(alphas=3, cv=2, random_state=0).fit(X, y)
    before, expected = _fitted_state(cv), cv.predict(X)

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    import sklearn_convexrelu._cv as cv_module

    monkeypatch.setattr(cv_module, "_path_encoded", explode)
    X_new, y_new = _binary(seed=1, labels=(5, 9), n=16)
    with pytest.raises(KeyboardInterrupt):
        cv.fit(np.column_stack([X_new, X_new[:, :1]]), y_new)
    assert all(_fitted_state(cv)[k] is v for k, v in before.items()) and _fitted_state(cv).keys() == before.keys()
    np.testing.assert_array_equal(cv.predict(X), expected)
# ---------------------------------------------------------------------------------------------
# Concurrent fits in threads: one BLAS thread count per fit, taken in the fit's own thread


def _blas_limits():
    """``(library, threads)`` of the BLAS libraries loaded, as seen from the calling thread."""
    from threadpoolctl import threadpool_info

    return sorted((info["filepath"], info["num_threads"]) for info in threadpool_info() if info["user_api"] == "blas")


def _skip_without_blas_threads(limits):
    ConvexReLURegressor(solver="cvxpy").fit(*_smooth(n=6))  # load every BLAS a fit loads (the solvers')
    limits[:] = _blas_limits()
    if all(n <= 1 for _, n in limits):
        pytest.skip("BLAS runs one thread here: a limit of 1 cannot be told from none")


def test_blas_limit_is_taken_by_the_outermost_context_and_restored():
    """``n_jobs=None`` is one thread, a nested context keeps the outer limit, ``-1`` keeps BLAS's
    default, and leaving restores the limits found."""
    from sklearn_convexrelu.solvers._threads import blas_threads

    original = _blas_limits()
    _skip_without_blas_threads(original)
    one_thread = sorted((path, 1) for path, _ in original)
    with blas_threads(None):
        assert _blas_limits() == one_thread
        with blas_threads(-1):  # nested: the fit's limit holds
            assert _blas_limits() == one_thread
        assert _blas_limits() == one_thread
    assert _blas_limits() == original
    with blas_threads(-1):
        assert _blas_limits() == original


def test_a_context_leaving_in_another_thread_keeps_the_limit_of_a_running_fit():
    """A fit in another thread that starts and ends while this one runs leaves its limit in place.
    With the limit set per thread through OpenBLAS's ``openblas_set_num_threads_local`` (not per
    thread in numpy's and scipy's builds), the other thread's exit lifted it: concurrent fits then
    ran some Cholesky factors on two threads and differed by up to 6e-5 in single weights."""
    import threading

    from sklearn_convexrelu.solvers._threads import blas_threads

    original = _blas_limits()
    _skip_without_blas_threads(original)
    one_thread = sorted((path, 1) for path, _ in original)
    inside, leave = threading.Event(), threading.Event()

    def other_fit():
        with blas_threads(None):
            inside.set()
            leave.wait()

    with blas_threads(None):
        thread = threading.Thread(target=other_fit)
        thread.start()
        inside.wait()
        leave.set()
        thread.join()
        assert _blas_limits() == one_thread
    assert _blas_limits() == original


def test_a_fit_runs_under_one_blas_limit_throughout():
    """A default fit takes one BLAS thread once, around all its work: the solver's Newton sections
    and the optimal set (outside the solver) see the same limit; the limits found before the fit
    are restored after it."""
    import sklearn_convexrelu._base as base
    import sklearn_convexrelu.solvers.first_order as first_order

    original = _blas_limits()
    _skip_without_blas_threads(original)
    one_thread = sorted((path, 1) for path, _ in original)
    seen, newton, optimal_set_from_fit = [], first_order.FirstOrderSolver._newton, base.optimal_set_from_fit

    def spy_newton(self, *args, **kwargs):
        seen.append(("newton", _blas_limits()))
        return newton(self, *args, **kwargs)

    def spy_optimal_set(*args, **kwargs):
        seen.append(("optimal set", _blas_limits()))
        return optimal_set_from_fit(*args, **kwargs)

    X, y = _smooth(n=30)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(first_order.FirstOrderSolver, "_newton", spy_newton)
        mp.setattr(base, "optimal_set_from_fit", spy_optimal_set)
        ConvexReLURegressor(alpha=1e-2, solver="first_order", random_state=0).fit(X, y)
    assert {where for where, _ in seen} == {"newton", "optimal set"}
    assert all(limits == one_thread for _, limits in seen), seen
    assert _blas_limits() == original


def _concurrent_case():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 5))
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


def _fit_outcome(X, y):
    reg = ConvexReLURegressor(alpha=1e-3, solver="first_order", random_state=0).fit(X, y)
    return (reg.objective_, *reg.coefs_, *reg.intercepts_, reg.predict(X))


def test_concurrent_fits_in_threads_are_bitwise_the_sequential_fit():
    """Fits in ``joblib.Parallel(backend="threading")``, repeated, give bitwise the fit of the main
    thread and leave the limits as found. They differed by 4e-14 in the objective when each fit set
    and restored its own limit through ``openblas_set_num_threads`` (ignored from a worker thread
    once the main thread has set one), and by up to 6e-5 in single weights when each set it
    through ``openblas_set_num_threads_local`` (one fit's exit lifted the others' limit)."""
    from joblib import Parallel, delayed

    X, y = _concurrent_case()
    reference = _fit_outcome(X, y)
    original = _blas_limits()  # after the first fit, which loads the solvers' BLAS (SCS's OpenBLAS)
    outcomes = Parallel(n_jobs=2, backend="threading")(delayed(_fit_outcome)(X, y) for _ in range(12))
    for outcome in outcomes:
        for got, expected in zip(outcome, reference):
            np.testing.assert_array_equal(got, expected)
    assert _blas_limits() == original
