"""Property tests (hypothesis) of the estimators, the optimal set and the landscape tools (issue 14).

Random shapes, column scales from 1e-8 to 1e8, dtypes, sample weights and parameters. Every fit
must end (a per-example alarm: hypothesis's deadline only reports after an example returns), give
finite predictions, report the objective of the network it returns, leave its inputs untouched,
accept read-only inputs, survive a pickle round trip and be bitwise reproducible. A
``ConvergenceWarning`` is an allowed outcome (it says what was achieved), and so is the
``ValueError`` that refuses an alpha negligible next to the data's scale; a crash or a wrong answer
is not. The example counts
keep the whole file under two minutes on one core (``derandomize``: the same examples in CI).
"""

import functools
import os
import pickle
import signal
import tempfile
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, reject, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor  # noqa: E402
from sklearn_convexrelu.exceptions import ConvexReLUWarning  # noqa: E402

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 20)),
    deadline=timedelta(seconds=60),  # no hang: an example (two fits) takes seconds; the first also compiles numba kernels
    derandomize=not os.environ.get("FUZZ_RANDOM"),  # FUZZ_RANDOM=1 FUZZ_EXAMPLES=500: explore
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Hang(Exception):
    pass


def _ends_within(seconds):
    """Fail an example that runs longer than ``seconds`` (SIGALRM: the tests run in the main thread)."""

    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            def alarm(signum, frame):
                raise _Hang(f"an example ran longer than {seconds} s")

            previous = signal.signal(signal.SIGALRM, alarm)
            signal.setitimer(signal.ITIMER_REAL, seconds)
            try:
                return test(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

        return run

    return decorate


@st.composite
def datasets(draw, max_samples=10, max_features=3):
    """``X`` with per-column scales 10^[-8, 8], a dtype, targets and optional sample weights."""
    n = draw(st.integers(2, max_samples))
    p = draw(st.integers(1, max_features))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    scales = 10.0 ** np.array(draw(st.lists(st.integers(-8, 8), min_size=p, max_size=p)))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    X = (rng.standard_normal((n, p)) * scales).astype(dtype)
    if draw(st.booleans()):  # duplicate rows: degenerate arrangements
        X[-1] = X[0]
    y = np.sin(rng.standard_normal(n)) * 10.0 ** draw(st.integers(-3, 3))
    weights = None
    if draw(st.booleans()):
        weights = rng.uniform(0, 2, n)
        weights[rng.random(n) < 0.2] = 0.0
        if not weights.any():
            weights[0] = 1.0
    return X, y, weights


def _fit_quietly(estimator, X, y, weights):
    """Fit; a ConvergenceWarning or the package's warnings are allowed outcomes, errors are not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ConvexReLUWarning)
        try:
            return estimator.fit(X, y, sample_weight=weights)
        except ValueError as error:
            if "is negligible next to the scale of the data" not in str(error):
                raise
            reject()  # the documented refusal (e.g. y × 1e3 with a column × 1e8 at alpha 1e-4)


def _check_fit(estimator, X, y, weights, encoded):
    X0, y0 = X.copy(), y.copy()
    w0 = None if weights is None else weights.copy()
    read_only = [None if a is None else a.copy() for a in (X, y, weights)]
    for a in read_only:
        if a is not None:
            a.setflags(write=False)
    first = _fit_quietly(estimator, *read_only)
    # inputs never modified
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    if weights is not None:
        np.testing.assert_array_equal(weights, w0)
    prediction = first.predict(X)
    assert np.all(np.isfinite(first.network_.output(X)))
    assert np.isfinite(first.objective_)
    # the reported objective is the returned network's
    loss = estimator.loss
    network_objective = first.network_.objective(X.astype(float), encoded, estimator.alpha, sample_weight=weights, loss=loss)
    assert network_objective == pytest.approx(first.objective_, rel=1e-8, abs=1e-300)
    # refits are bitwise identical
    objective, outputs = first.objective_, first.network_.output(X).copy()
    second = _fit_quietly(estimator, X, y, weights)
    assert second.objective_ == objective
    np.testing.assert_array_equal(second.network_.output(X), outputs)
    np.testing.assert_array_equal(second.predict(X), prediction)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(second)).predict(X), prediction)
    return first


def _check_clone_memmap_and_threads(estimator, X, y, weights, tmp_path):
    """A clone fitted on memory-mapped inputs with n_jobs=2 gives bitwise the same network."""
    reference = _fit_quietly(clone(estimator), X, y, weights)
    mapped = []
    for name, array in (("X", X), ("y", y)):
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        mapped.append(np.load(path, mmap_mode="r"))
    other = _fit_quietly(clone(estimator).set_params(n_jobs=2), *mapped, weights)
    assert other.objective_ == reference.objective_
    np.testing.assert_array_equal(other.network_.output(X), reference.network_.output(X))


@FUZZ
@given(
    data=datasets(),
    log_alpha=st.integers(-4, 1),
    arrangements=st.sampled_from(["auto", "exact", "sample"]),
    solver=st.sampled_from(["auto", "cvxpy", "first_order"]),
    hidden_bias=st.booleans(),
    fit_intercept=st.booleans(),
)
@_ends_within(120)
def test_regressor_properties(data, log_alpha, arrangements, solver, hidden_bias, fit_intercept):
    X, y, weights = data
    reg = ConvexReLURegressor(
        alpha=10.0**log_alpha, arrangements=arrangements, n_arrangements=20, solver=solver,
        hidden_bias=hidden_bias, fit_intercept=fit_intercept, random_state=0, max_iter=300,
    )
    reg = _check_fit(reg, X, y, weights, y)
    assert np.all(np.isfinite(reg.predict(X)))
    if log_alpha % 2 == 0:  # on part of the examples (two more fits each)
        with tempfile.TemporaryDirectory() as directory:
            _check_clone_memmap_and_threads(reg, X, y, weights, Path(directory))


@FUZZ
@given(
    data=datasets(),
    log_alpha=st.integers(-4, 1),
    n_classes=st.sampled_from([2, 3]),
    loss=st.sampled_from(["log_loss", "squared_error"]),
    arrangements=st.sampled_from(["auto", "sample"]),
)
@_ends_within(120)
def test_classifier_properties(data, log_alpha, n_classes, loss, arrangements):
    X, y, weights = data
    labels = np.arange(X.shape[0]) % n_classes  # every class present
    labels = labels[np.argsort(y, kind="stable")]
    if weights is not None:
        weights = np.where(weights > 0, weights, 0.5)  # every class keeps a positive weight
    clf = ConvexReLUClassifier(
        alpha=10.0**log_alpha, loss=loss, arrangements=arrangements, n_arrangements=20, random_state=0, max_iter=300,
    )
    n_classes = np.unique(labels).size  # fewer samples than classes: fewer classes
    encoded = np.where(labels == 1, 1.0, -1.0) if n_classes == 2 else labels
    if loss == "squared_error" and n_classes > 2:
        encoded = np.eye(n_classes)[labels]
    clf = _check_fit(clf, X, labels, weights, encoded)
    assert set(clf.predict(X)) <= set(labels)
    if loss == "log_loss":
        proba = clf.predict_proba(X)
        assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1)
        assert np.all(np.isfinite(clf.predict_log_proba(X)))


@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 2))
@given(data=datasets(max_samples=8, max_features=2), log_alpha=st.integers(-3, 0))
@_ends_within(120)
def test_optimal_set_properties(data, log_alpha):
    X, y, weights = data
    reg = _fit_quietly(ConvexReLURegressor(alpha=10.0**log_alpha, arrangements="exact", random_state=0), X, y, weights)
    optimal_set = reg.optimal_set_
    with warnings.catch_warnings():  # a set that does not describe its fit says so again (allowed)
        warnings.simplefilter("ignore", ConvexReLUWarning)
        networks = (optimal_set.min_norm_network(), optimal_set.sample(random_state=0))
    for network in networks:
        assert np.all(np.isfinite(network.output(X)))
        value = network.objective(X.astype(float), y, reg.alpha, sample_weight=weights)
        assert np.isfinite(value)
        assert value >= reg.objective_ * (1 - 1e-6) - 1e-12  # nothing beats the certified optimum


@settings(FUZZ, max_examples=max(1, FUZZ.max_examples // 2))
@given(data=datasets(max_samples=8, max_features=2), log_alpha=st.integers(-3, 0))
@_ends_within(120)
def test_landscape_properties(data, log_alpha):
    from sklearn_convexrelu.landscape import optimality_certificate, path_to_global_minimum, stationary_subproblem

    X, y, weights = data
    X = X.astype(float)
    alpha = 10.0**log_alpha
    reg = _fit_quietly(ConvexReLURegressor(alpha=alpha, arrangements="exact", random_state=0), X, y, weights)
    X0, y0 = X.copy(), y.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ConvexReLUWarning)
        certificate = optimality_certificate(reg.network_, X, y, alpha, sample_weight=weights, arrangements="exact")
        stationary = stationary_subproblem(reg.network_, X, y, alpha, sample_weight=weights, arrangements="exact")
        start = reg.network_.__class__(  # the fitted network perturbed: a path down to the optimum
            reg.network_.hidden_weights * 1.1, reg.network_.hidden_bias, reg.network_.output_weights, reg.network_.output_bias,
        )
        path = path_to_global_minimum(
            start, X, y, alpha, n_neurons=start.n_neurons + X.shape[0] + 2, sample_weight=weights, arrangements="exact",
            n_points=10,
        )
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    # the certificate of the fitted network: its objective, a finite non-negative gap (SPEC §10.3)
    assert certificate.primal == pytest.approx(reg.objective_, rel=1e-8, abs=1e-300)
    assert np.isfinite(certificate.dual_gap) and certificate.dual_gap >= -1e-9 * max(abs(certificate.primal), 1e-300)
    assert certificate.lower_bound <= certificate.primal * (1 + 1e-12) + 1e-300
    # the path never goes up and ends at the optimum (SPEC §6 (iii))
    assert np.all(np.isfinite(path.objectives))
    rise = np.diff(path.objectives)  # up to rounding (an objective of 0 rose by 6e-33 at one sample of weight)
    assert np.all(rise <= 1e-9 * abs(path.objectives[0]) + 1e-15 * np.mean(y**2)), (rise.max(), list(path.stages))
    assert path.objectives[-1] == pytest.approx(path.optimum, rel=1e-6, abs=1e-12)
    assert stationary.network_objective == pytest.approx(reg.objective_, rel=1e-8, abs=1e-300)
    assert np.isfinite(stationary.gap)
