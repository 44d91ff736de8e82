"""Every landscape tool accepts a fitted CV estimator and examines the objective at its ``alpha_``."""

import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLUClassifierCV, ConvexReLURegressor, ConvexReLURegressorCV
from sklearn_convexrelu.landscape import (
    gradient_descent_experiment,
    is_global_minimum,
    no_spurious_valleys_width,
    optimality_certificate,
    path_to_global_minimum,
    stationary_subproblem,
    train_nonconvex,
)


@pytest.fixture(scope="module")
def fitted_cv():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(12, 1))
    y = np.abs(X[:, 0]) + 0.1 * rng.randn(12)
    cv = ConvexReLURegressorCV(alphas=4, eps=1e-2, cv=3, arrangements="exact").fit(X, y)
    return cv, X, y


def _alpha_of_objective(network, X, y, objective, candidates):
    """The candidate ``alpha`` whose objective (NC) of ``network`` matches ``objective``."""
    values = np.array([network.objective(X, y, alpha) for alpha in candidates])
    return candidates[int(np.argmin(np.abs(values - objective)))]


def test_certificate_of_the_cv_estimator_is_that_of_its_network_at_alpha_(fitted_cv):
    cv, X, y = fitted_cv
    certificate = optimality_certificate(cv, X, y)
    reference = optimality_certificate(cv.network_, X, y, cv.alpha_)
    assert certificate.alpha == cv.alpha_
    assert certificate.primal == pytest.approx(reference.primal, rel=1e-12)
    assert certificate.dual_gap == pytest.approx(reference.dual_gap, rel=1e-9, abs=1e-14)
    # the objective examined is the one at alpha_ (computed by the network itself, over the grid)
    assert _alpha_of_objective(cv.network_, X, y, certificate.primal, cv.alphas_) == cv.alpha_
    # and it is the fixed-alpha estimator's optimum at alpha_, fitted independently
    independent = ConvexReLURegressor(alpha=cv.alpha_, arrangements="exact").fit(X, y)
    assert certificate.primal == pytest.approx(optimality_certificate(independent, X, y).primal, rel=1e-7)
    assert certificate.certified and is_global_minimum(cv, X, y)
    assert is_global_minimum(cv.estimator_, X, y)


def test_stationary_subproblem_and_path_accept_the_cv_estimator(fitted_cv):
    cv, X, y = fitted_cv
    report = stationary_subproblem(cv, X, y)
    reference = stationary_subproblem(cv.network_, X, y, cv.alpha_)
    assert report.network_objective == pytest.approx(reference.network_objective, rel=1e-12)
    assert report.subproblem_objective == pytest.approx(reference.subproblem_objective, rel=1e-9)
    assert report.network_objective == pytest.approx(cv.network_.objective(X, y, cv.alpha_), rel=1e-12)
    path = path_to_global_minimum(cv, X, y)
    reference_path = path_to_global_minimum(cv.network_, X, y, cv.alpha_)
    np.testing.assert_allclose(path.objectives, reference_path.objectives, rtol=1e-9)
    assert path.optimum == pytest.approx(cv.objective_, rel=1e-7)


def test_data_tools_accept_the_cv_estimator_as_alpha(fitted_cv):
    cv, X, y = fitted_cv
    report = no_spurious_valleys_width(X, y, cv)
    reference = no_spurious_valleys_width(X, y, cv.alpha_)
    assert (report.m_star, report.threshold, report.fit_dimension) == (
        reference.m_star, reference.threshold, reference.fit_dimension,
    )
    assert report.optimum == pytest.approx(reference.optimum, rel=1e-9)
    assert report.optimum == pytest.approx(cv.objective_, rel=1e-7)
    fit = train_nonconvex(X, y, cv, 3, max_iter=200, random_state=0)
    reference_fit = train_nonconvex(X, y, cv.alpha_, 3, max_iter=200, random_state=0)
    np.testing.assert_allclose(fit.history, reference_fit.history, rtol=1e-12)
    assert fit.objective == pytest.approx(fit.network.objective(X, y, cv.alpha_), rel=1e-9)
    experiment = gradient_descent_experiment(X, y, cv, [2], n_starts=2, max_iter=100, random_state=0)
    reference_experiment = gradient_descent_experiment(X, y, cv.alpha_, [2], n_starts=2, max_iter=100, random_state=0)
    np.testing.assert_allclose(experiment.objectives, reference_experiment.objectives, rtol=1e-12)
    assert experiment.optimum == pytest.approx(cv.objective_, rel=1e-7)


def test_conflicting_objective_switches_are_rejected(fitted_cv):
    cv, X, y = fitted_cv
    with pytest.raises(ValueError, match="hidden_bias=False disagrees"):
        no_spurious_valleys_width(X, y, cv, hidden_bias=False)
    with pytest.raises(ValueError, match="not fitted"):
        optimality_certificate(ConvexReLURegressorCV(), X, y)


def test_classifier_cv_is_examined_with_its_classes():
    rng = np.random.RandomState(2)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.where(np.abs(X[:, 0]) > 0.5, "out", "in")
    clf = ConvexReLUClassifierCV(alphas=[0.2, 0.05], cv=2, loss="squared_error", arrangements="exact").fit(X, y)
    certificate = optimality_certificate(clf, X, y)
    signed = np.where(y == "out", 1.0, -1.0)  # classes_ = ["in", "out"]: the second is positive
    reference = optimality_certificate(clf.network_, X, signed, clf.alpha_)
    assert certificate.primal == pytest.approx(reference.primal, rel=1e-12)
    assert certificate.dual_gap == pytest.approx(reference.dual_gap, rel=1e-9, abs=1e-14)
    assert certificate.certified
    assert no_spurious_valleys_width(X, y, clf).optimum == pytest.approx(clf.objective_, rel=1e-7)
