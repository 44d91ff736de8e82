"""scikit-learn's estimator checks for the cross-validated estimators (kept apart: ~35 s of CPU)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_convexrelu import ConvexReLUClassifierCV, ConvexReLURegressorCV

# Fast instances: a 2-point grid, 2 folds, few sampled patterns; the classifier uses the squared
# loss (conic programs without exponential cones solve faster and to full accuracy).
_CHECK_PARAMS = dict(alphas=2, eps=0.1, cv=2, arrangements="sample", n_arrangements=10, random_state=0)
# Folds change with sample weights and with repeated samples, so the two fits differ
# (as for LassoCV); the base estimators are only equivalent to solver precision anyway.
_WEIGHT_EQUIVALENCE = {"check_sample_weight_equivalence_on_dense_data": "CV folds differ between weights and repeats"}


@parametrize_with_checks(
    [ConvexReLURegressorCV(**_CHECK_PARAMS), ConvexReLUClassifierCV(loss="squared_error", **_CHECK_PARAMS)],
    expected_failed_checks=lambda estimator: _WEIGHT_EQUIVALENCE,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
