"""Tests of the cross-validated estimators (SPEC §8)."""

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, StratifiedKFold

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor, ConvexReLURegressorCV


@pytest.fixture
def regression_1d():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(24, 1))
    return X, np.abs(X[:, 0]) + 0.2 * rng.randn(24)


@pytest.fixture
def classification_2d():
    rng = np.random.RandomState(3)
    X = rng.uniform(-1, 1, size=(30, 2))
    return X, np.where(X[:, 0] ** 2 + X[:, 1] > 0.3, "a", "b")


def _fitted_attributes(estimator):
    """Public fitted attributes (``name_``), read from the instance, not from the code under test."""
    return {name for name in vars(estimator) if name.endswith("_") and not name.startswith("_")}


def test_regressor_alpha_equals_grid_search(regression_1d):
    X, y = regression_1d
    folds = KFold(3, shuffle=True, random_state=0)
    cv = ConvexReLURegressorCV(alphas=6, cv=folds, arrangements="exact").fit(X, y)
    search = GridSearchCV(ConvexReLURegressor(arrangements="exact"), {"alpha": cv.alphas_}, cv=folds).fit(X, y)
    assert cv.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(cv.score_path_.mean(axis=1), search.cv_results_["mean_test_score"], atol=1e-4)
    # the refit carries every fitted attribute of the base estimator
    best = search.best_estimator_
    assert _fitted_attributes(best) <= set(vars(cv))
    assert cv.objective_ == pytest.approx(best.objective_, rel=1e-9)
    assert cv.n_neurons_ == best.n_neurons_ and cv.certificate_.certified
    np.testing.assert_allclose(cv.predict(X), best.predict(X), atol=1e-10)


def test_classifier_alpha_equals_grid_search_on_sampled_patterns(classification_2d):
    X, y = classification_2d
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    # log_loss: the folds' paths and the refit both use the first-order solver (solver="auto"),
    # whose predictions are accurate to about sqrt(tol): tol=1e-6 for scores within 1e-4
    params = dict(arrangements="sample", n_arrangements=20, random_state=1, tol=1e-6)
    alphas = [0.3, 0.1, 0.03]  # Clarabel is inaccurate on exponential cones at small alpha
    cv = ConvexReLUClassifierCV(alphas=alphas, cv=folds, scoring="neg_log_loss", **params).fit(X, y)
    search = GridSearchCV(ConvexReLUClassifier(**params), {"alpha": alphas}, cv=folds, scoring="neg_log_loss").fit(X, y)
    assert cv.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(cv.score_path_.mean(axis=1), search.cv_results_["mean_test_score"], atol=1e-4)
    np.testing.assert_array_equal(cv.classes_, ["a", "b"])
    np.testing.assert_array_equal(cv.arrangements_.generators, search.best_estimator_.arrangements_.generators)
    np.testing.assert_allclose(cv.predict_proba(X), search.best_estimator_.predict_proba(X), atol=1e-8)


def test_multiclass_and_multioutput_paths():
    rng = np.random.RandomState(4)
    X = rng.uniform(-1, 1, size=(30, 1))
    labels = np.digitize(X[:, 0], [-0.3, 0.3])
    clf = ConvexReLUClassifierCV(alphas=3, eps=0.1, cv=3, loss="squared_error").fit(X, labels)
    assert clf.n_outputs_ == 3 and clf.score_path_.shape == (3, 3)
    Y = np.column_stack([np.abs(X[:, 0]), X[:, 0]])
    reg = ConvexReLURegressorCV(alphas=3, eps=0.1, cv=3).fit(X, Y)
    assert reg.predict(X).shape == (30, 2)


def test_n_jobs_two_equals_one(regression_1d):
    X, y = regression_1d
    serial = ConvexReLURegressorCV(alphas=4, eps=1e-2, cv=3, arrangements="exact").fit(X, y)
    parallel = clone(serial).set_params(n_jobs=2).fit(X, y)
    assert parallel.alpha_ == serial.alpha_
    np.testing.assert_allclose(parallel.score_path_, serial.score_path_, rtol=1e-8)
    np.testing.assert_allclose(parallel.predict(X), serial.predict(X), rtol=1e-10)


def test_dask_cluster_equals_local(regression_1d):
    distributed = pytest.importorskip("distributed")
    X, y = regression_1d
    local = ConvexReLURegressorCV(alphas=4, eps=1e-2, cv=3, arrangements="exact").fit(X, y)
    cluster = distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None)
    with cluster:
        with distributed.Client(cluster) as client, joblib.parallel_backend("dask"):
            with distributed.get_task_stream(client) as tasks:
                remote = clone(local).fit(X, y)
    assert len(tasks.data) >= 3  # the folds ran on the cluster
    assert remote.alpha_ == local.alpha_
    np.testing.assert_allclose(remote.score_path_, local.score_path_, rtol=1e-8)


def test_splitter_metadata_is_routed(regression_1d):
    X, y = regression_1d
    groups = np.repeat(np.arange(6), 4)
    explicit = ConvexReLURegressorCV(alphas=3, eps=0.1, cv=list(GroupKFold(3).split(X, y, groups))).fit(X, y)
    routed_estimator = ConvexReLURegressorCV(alphas=3, eps=0.1, cv=GroupKFold(3))
    with sklearn.config_context(enable_metadata_routing=True):
        routed = routed_estimator.fit(X, y, groups=groups)
    np.testing.assert_allclose(routed.score_path_, explicit.score_path_, rtol=1e-8)
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        clone(routed_estimator).fit(X, y, groups=groups)


def test_sample_weight_reaches_the_folds_and_the_refit(regression_1d):
    X, y = regression_1d
    weights = np.r_[np.zeros(6), np.ones(18)]
    folds = [(np.arange(6, 24)[::2], np.arange(6, 24)[1::2]), (np.arange(6, 24)[1::2], np.arange(6, 24)[::2])]
    weighted = ConvexReLURegressorCV(alphas=3, eps=0.1, cv=folds).fit(X, y, sample_weight=weights)
    kept = [(train - 6, test - 6) for train, test in folds]
    dropped = ConvexReLURegressorCV(alphas=3, eps=0.1, cv=kept).fit(X[6:], y[6:])
    np.testing.assert_allclose(weighted.alphas_, dropped.alphas_, rtol=1e-12)
    np.testing.assert_allclose(weighted.score_path_, dropped.score_path_, rtol=1e-6)
    assert weighted.objective_ == pytest.approx(dropped.objective_, rel=1e-9)


def test_random_state_instance_gives_one_set_of_gates():
    rng = np.random.RandomState(5)
    X = rng.uniform(-1, 1, size=(20, 2))
    y = X[:, 0] - X[:, 1] ** 2
    params = dict(alphas=2, eps=0.1, cv=2, arrangements="sample", n_arrangements=10)
    first = ConvexReLURegressorCV(random_state=np.random.RandomState(0), **params).fit(X, y)
    second = ConvexReLURegressorCV(random_state=np.random.RandomState(0), **params).fit(X, y)
    np.testing.assert_array_equal(first.arrangements_.generators, second.arrangements_.generators)
    np.testing.assert_allclose(first.score_path_, second.score_path_, rtol=1e-10)


def test_regressor_cv_carries_the_base_estimator_refitted_at_alpha_(regression_1d):
    X, y = regression_1d
    cv = ConvexReLURegressorCV(alphas=4, eps=1e-2, cv=3, arrangements="exact").fit(X, y)
    base = ConvexReLURegressor(alpha=cv.alpha_, arrangements="exact").fit(X, y)  # fitted independently
    # composition, not inheritance: the CV estimator has no alpha, its refitted model has alpha_
    assert not isinstance(cv, ConvexReLURegressor) and "alpha" not in cv.get_params()
    assert isinstance(cv.estimator_, ConvexReLURegressor) and cv.estimator_.alpha == cv.alpha_
    assert _fitted_attributes(base) <= _fitted_attributes(cv)
    assert cv.objective_ == pytest.approx(base.objective_, rel=1e-9)
    assert cv.dual_gap_ == pytest.approx(base.dual_gap_, rel=1e-6, abs=1e-12)
    assert (cv.n_neurons_, cv.n_outputs_, cv.n_arrangements_, cv.solver_, cv.n_features_in_) == (
        base.n_neurons_, base.n_outputs_, base.n_arrangements_, base.solver_, base.n_features_in_,
    )
    for mine, theirs in zip(cv.coefs_ + cv.intercepts_, base.coefs_ + base.intercepts_):
        np.testing.assert_allclose(mine, theirs, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(cv.arrangements_.patterns, base.arrangements_.patterns)
    assert cv.optimal_set_.objective == pytest.approx(base.optimal_set_.objective, rel=1e-9)
    assert cv.invariances_.continuous_dimension == base.invariances_.continuous_dimension
    assert cv.certificate_.certified == base.certificate_.certified
    np.testing.assert_allclose(cv.network_.predict(X), base.network_.predict(X), atol=1e-8)
    np.testing.assert_allclose(cv.predict(X), base.predict(X), atol=1e-8)
    assert cv.score(X, y) == pytest.approx(base.score(X, y), rel=1e-8)
    assert cv.__sklearn_tags__().target_tags == base.__sklearn_tags__().target_tags


def test_classifier_cv_carries_the_base_estimator_refitted_at_alpha_(classification_2d):
    X, y = classification_2d
    params = dict(loss="squared_error", arrangements="sample", n_arrangements=15, random_state=0)
    cv = ConvexReLUClassifierCV(alphas=[0.3, 0.1], cv=2, **params).fit(X, y)
    base = ConvexReLUClassifier(alpha=cv.alpha_, **params).fit(X, y)
    assert not isinstance(cv, ConvexReLUClassifier) and is_classifier(cv)
    assert _fitted_attributes(base) <= _fitted_attributes(cv)
    np.testing.assert_array_equal(cv.classes_, base.classes_)
    np.testing.assert_array_equal(cv.arrangements_.generators, base.arrangements_.generators)
    assert cv.objective_ == pytest.approx(base.objective_, rel=1e-9)
    np.testing.assert_allclose(cv.decision_function(X), base.decision_function(X), atol=1e-8)
    np.testing.assert_array_equal(cv.predict(X), base.predict(X))
    assert not hasattr(cv, "predict_proba") and not hasattr(base, "predict_proba")  # squared loss
    assert hasattr(ConvexReLUClassifierCV(), "predict_proba")  # log_loss, the default
    assert cv.__sklearn_tags__().classifier_tags == base.__sklearn_tags__().classifier_tags
    assert cv.__sklearn_tags__().target_tags == base.__sklearn_tags__().target_tags


def test_cv_parameters_and_defaults_are_kept():
    expected = dict(
        alphas=100, eps=1e-3, cv=None, scoring=None, arrangements="auto", n_arrangements=100,
        max_arrangements=2000, hidden_bias=True, fit_intercept=True, solver="auto", tol=1e-6, max_iter=1000,
        random_state=None, verbose=0, n_jobs=None,
    )
    assert ConvexReLURegressorCV().get_params() == dict(expected, loss="squared_error")
    assert ConvexReLUClassifierCV().get_params() == dict(expected, loss="log_loss")


def test_cv_rejects_a_pattern_search():
    # one pattern set serves the whole path; the folds could not search as the refit would
    X = np.linspace(-1, 1, 10)[:, None]
    with pytest.raises(ValueError, match="arrangements"):
        ConvexReLURegressorCV(arrangements="search").fit(X, X[:, 0])


def test_regressor_cv_on_first_order_paths_equals_grid_search():
    # 3 features, 50 gates, 100 rows a fold: beyond the cvxpy size of solver="auto", so the
    # folds solve warm-started first-order paths; the scores agree with independent cold fits
    rng = np.random.RandomState(8)
    X = rng.uniform(-1, 1, size=(150, 3))
    y = np.abs(X[:, 0]) - X[:, 1] * X[:, 2] + 0.1 * rng.randn(150)
    folds = KFold(3, shuffle=True, random_state=0)
    params = dict(arrangements="sample", n_arrangements=50, random_state=0)
    alphas = [0.1, 0.03, 0.01, 0.003]
    cv = ConvexReLURegressorCV(alphas=alphas, cv=folds, **params).fit(X, y)
    search = GridSearchCV(ConvexReLURegressor(solver="cvxpy", **params), {"alpha": alphas}, cv=folds).fit(X, y)
    assert cv.solver_ == "first_order"
    assert cv.alpha_ == search.best_params_["alpha"]
    np.testing.assert_allclose(cv.score_path_.mean(axis=1), search.cv_results_["mean_test_score"], atol=1e-4)
    assert cv.objective_ == pytest.approx(search.best_estimator_.objective_, rel=2e-6)
