"""ConvexReLURegressor / ConvexReLUClassifier: optimality, scikit-learn integration, errors."""

import pickle

import cvxpy as cp
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_convexrelu._preparation as preparation
from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor
from sklearn_convexrelu.arrangements import _augment
from sklearn_convexrelu.exceptions import ConvexReLUWarning


def _wave(n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.standard_normal(n)


def _independent_cvxpy_optimum(X, y, alpha, patterns):
    """(C-ReLU) written block by block, without the package's vectorised program."""
    X_aug = _augment(X, True)
    n, d = X_aug.shape
    c = cp.Variable()
    blocks = [(cp.Variable(d), cp.Variable(d)) for _ in range(patterns.shape[1])]
    prediction, penalty, constraints = c, 0, []
    for i, (v, u) in enumerate(blocks):
        D = np.diag(patterns[:, i].astype(float))
        A = (2 * D - np.eye(n)) @ X_aug
        prediction = prediction + D @ X_aug @ (v - u)
        penalty = penalty + cp.norm(v) + cp.norm(u)
        constraints += [A @ v >= 0, A @ u >= 0]
    problem = cp.Problem(cp.Minimize(cp.sum_squares(prediction - y) / (2 * n) + alpha * penalty), constraints)
    problem.solve(solver="CLARABEL")
    return problem.value


def test_exact_fit_is_certified_and_matches_an_independent_solve():
    X, y = _wave()
    alpha = 1e-2
    reg = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y)
    assert reg.arrangements_.exact and reg.certificate_.exact
    assert reg.certificate_.certified, reg.certificate_
    assert reg.certificate_.kappa_ratio <= 1 + 1e-6
    independent = _independent_cvxpy_optimum(X, y, alpha, reg.arrangements_.patterns)
    network_objective = reg.network_.objective(X, y, alpha)
    assert np.isclose(reg.objective_, independent, rtol=1e-6)
    assert np.isclose(network_objective, reg.objective_, rtol=1e-10)
    assert reg.certificate_.lower_bound <= independent + 1e-9


def _gradient_descent(X, y, alpha, width, seed, steps=4000, lr=0.05):
    """Full-batch gradient descent on (NC) with hidden bias and intercept (SPEC §1)."""
    rng = np.random.default_rng(seed)
    X_aug = _augment(X, True)
    n = X.shape[0]
    W = rng.standard_normal((X_aug.shape[1], width)) * 0.5
    a = rng.standard_normal(width) * 0.5
    c = 0.0
    for _ in range(steps):
        H = X_aug @ W
        residual = (np.maximum(H, 0) @ a + c - y) / n
        grad_a = np.maximum(H, 0).T @ residual + alpha * a
        grad_W = X_aug.T @ ((H > 0) * np.outer(residual, a)) + alpha * W
        W -= lr * grad_W
        a -= lr * grad_a
        c -= lr * residual.sum()
    H = np.maximum(X_aug @ W, 0)
    return 0.5 * np.mean((H @ a + c - y) ** 2) + 0.5 * alpha * (np.sum(W**2) + np.sum(a**2))


@pytest.mark.parametrize("width", [3, 20])
def test_gradient_descent_never_beats_the_exact_optimum(width):
    # SPEC §10.5
    X, y = _wave()
    alpha = 1e-2
    reg = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y)
    for seed in range(4):
        assert _gradient_descent(X, y, alpha, width, seed) >= reg.objective_ * (1 - 1e-7)


def test_grid_search_over_alpha_in_a_pipeline_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), ConvexReLURegressor(n_arrangements=20, random_state=0))
    search = GridSearchCV(pipe, {"convexreluregressor__alpha": [0.1, 1.0, 10.0]}, cv=3)
    search.fit(X[:150], y[:150])
    assert search.best_params_["convexreluregressor__alpha"] in (0.1, 1.0, 10.0)
    assert search.best_score_ > 0.2
    assert search.best_estimator_[-1].certificate_.exact is False


def test_grid_search_over_alpha_in_a_pipeline_on_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), ConvexReLUClassifier(n_arrangements=20, random_state=0))
    search = GridSearchCV(pipe, {"convexreluclassifier__alpha": [1e-1, 1.0]}, cv=3)
    search.fit(X[:150], y[:150])
    assert search.best_score_ > 0.85
    proba = search.predict_proba(X[150:200])
    assert np.allclose(proba.sum(axis=1), 1)


def test_pickle_round_trip_keeps_predictions_and_attributes():
    X, y = _wave()
    reg = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y)
    clone = pickle.loads(pickle.dumps(reg))
    assert np.array_equal(clone.predict(X), reg.predict(X))
    assert clone.certificate_ == reg.certificate_


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, ConvexReLUClassifier])
def test_fixed_random_state_gives_bit_identical_refits(Estimator):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((40, 4))
    y = X[:, 0] * X[:, 1] if Estimator is ConvexReLURegressor else (X[:, 0] * X[:, 1] > 0).astype(int)
    first = Estimator(alpha=0.05, arrangements="sample", n_arrangements=30, random_state=7).fit(X, y)
    second = Estimator(alpha=0.05, arrangements="sample", n_arrangements=30, random_state=7).fit(X, y)
    assert np.array_equal(first.arrangements_.generators, second.arrangements_.generators)
    for mine, theirs in zip(first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_):
        assert np.array_equal(mine, theirs)


def test_integer_sample_weights_equal_repeated_samples():
    X, y = _wave(16)
    weights = np.arange(16) % 3  # includes zero weights
    weighted = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y, sample_weight=weights)
    repeated = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(np.repeat(X, weights, 0), np.repeat(y, weights))
    assert np.isclose(weighted.objective_, repeated.objective_, rtol=1e-6)
    assert np.allclose(weighted.predict(X), repeated.predict(X), atol=1e-4)


def test_caller_arrays_are_not_modified():
    X, y = _wave()
    weights = np.ones(len(y))
    copies = X.copy(), y.copy(), weights.copy()
    ConvexReLURegressor(alpha=1e-2).fit(X, y, sample_weight=weights)
    for original, copy in zip((X, y, weights), copies):
        assert np.array_equal(original, copy)


def test_convergence_warning_reports_status_and_gap(monkeypatch):
    import sklearn_convexrelu.optimal_set._set as optimal_set

    X, y = _wave()
    # The optimal set's refinement of the dual (SPEC §5) can finish an unconverged solve (then the
    # fit is certified and silent); without it, the optimal set of an unconverged fit cannot
    # reproduce the solver's objective either, so the fit may also warn about its optimal set; the
    # solver's warning must be among the warnings.
    def fail(*args, **kwargs):
        raise RuntimeError("no re-solve")

    monkeypatch.setattr(optimal_set, "resolve_first_order", fail)
    monkeypatch.setattr(optimal_set, "refine_prediction", lambda *args, **kwargs: None)
    with pytest.warns((ConvergenceWarning, ConvexReLUWarning)) as record:
        ConvexReLURegressor(alpha=1e-2, arrangements="exact", max_iter=2).fit(X, y)
    assert any(
        issubclass(w.category, ConvergenceWarning) and "relative duality gap" in str(w.message) for w in record
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": -1.0}, "alpha"),
        ({"solver": "sgd"}, "solver"),
        ({"arrangements": "all"}, "arrangements"),
    ],
)
def test_invalid_parameters_are_rejected(params, match):
    X, y = _wave()
    with pytest.raises(ValueError, match=match):
        ConvexReLURegressor(**params).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(bad):
    X, y = _wave()
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        ConvexReLURegressor().fit(X, y)


def test_wrong_shapes_and_single_class_are_rejected():
    X, y = _wave()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ConvexReLURegressor().fit(X, y[:-1])
    reg = ConvexReLURegressor(alpha=1e-2).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        reg.predict(X[:, :1])
    with pytest.raises(ValueError, match="only one class"):
        ConvexReLUClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="non-zero"):
        ConvexReLURegressor().fit(X, y, sample_weight=np.zeros(len(y)))


def test_memory_guard_refuses_oversized_programs(monkeypatch):
    X, y = _wave()
    monkeypatch.setattr(preparation, "_available_memory", lambda: 10_000_000)
    with pytest.raises(ValueError, match="needs about .* GB.*first_order"):
        ConvexReLURegressor(arrangements="exact", solver="cvxpy").fit(X, y)


def test_binary_classifier_api():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, "yes", "no")
    clf = ConvexReLUClassifier(alpha=0.05, arrangements="exact").fit(X, y)
    assert list(clf.classes_) == ["no", "yes"]
    scores = clf.decision_function(X)
    assert scores.shape == (30,)
    proba = clf.predict_proba(X)
    assert np.allclose(proba[:, 1], 1 / (1 + np.exp(-scores)))
    assert np.array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
    assert clf.score(X, y) >= 0.8
    squared = ConvexReLUClassifier(alpha=0.05, loss="squared_error", arrangements="exact").fit(X, y)
    assert not hasattr(squared, "predict_proba")
    assert squared.certificate_.certified


def test_multiclass_classifier_one_block_set_per_class():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = ConvexReLUClassifier(alpha=0.05, loss="squared_error", arrangements="exact").fit(X, y)
    assert clf.decision_function(X).shape == (30, 3)
    assert clf.coefs_[1].shape == (clf.n_neurons_, 3)
    assert np.all(np.count_nonzero(clf.coefs_[1], axis=1) == 1)  # every neuron feeds one class
    assert clf.certificate_.certified
    soft = ConvexReLUClassifier(alpha=0.1, arrangements="exact").fit(X, y)
    assert np.allclose(soft.predict_proba(X).sum(axis=1), 1)
    Y = np.eye(3)[y]
    assert np.isclose(soft.network_.objective(X, Y, 0.1, loss="log_loss"), soft.objective_, rtol=1e-10)


def test_fits_that_never_call_cvxpy_do_not_import_it():
    # issue 12: the polish imported cvxpy for its rare fallback, 0.5 s of CPU on every first fit
    # of a process (0.90 s instead of 0.38 s for a default fit on 200 × 5 data); it is loaded only
    # when a solve or a fallback uses it (these fits certify: an uncertified first-order fit would
    # be finished by Clarabel, which imports it legitimately)
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from sklearn_convexrelu import ConvexReLUClassifierCV, ConvexReLURegressor\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((200, 5))\n"
        "ConvexReLURegressor(alpha=1e-2, random_state=0).fit(X, np.sin(X[:, 0]) + X[:, 1])\n"
        "ConvexReLUClassifierCV(alphas=2, cv=2, random_state=0).fit(X, X[:, 0] > 0)\n"
        "assert 'cvxpy' not in sys.modules, 'cvxpy was imported'\n"
        "ConvexReLURegressor(alpha=1e-2, solver='cvxpy', arrangements='sample', n_arrangements=5).fit(X[:30], X[:30, 0])\n"
        "assert 'cvxpy' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
