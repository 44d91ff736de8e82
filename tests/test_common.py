"""scikit-learn's own estimator checks on every estimator of the package."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor

ESTIMATORS = [ConvexReLURegressor(), ConvexReLUClassifier()]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
