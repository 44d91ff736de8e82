"""
Quick start: globally optimal two-layer ReLU networks next to scikit-learn's MLPs
================================================================================

Fits :class:`~sklearn_convexrelu.ConvexReLURegressorCV` on the diabetes data (the recommended
path: scaled features, a standardised target, ``alpha`` chosen by cross-validation) and
:class:`~sklearn_convexrelu.ConvexReLUClassifier` on the breast-cancer data (both bundled with
scikit-learn), and prints the test score, the number of neurons, what the certificate proves,
and the same scores for ``MLPRegressor`` / ``MLPClassifier`` side by side.
"""

import time
import warnings

from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressorCV


def report(name, model, X_train, X_test, y_train, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # MLPs stop at max_iter
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    print(f"  {name:<22} test score {model.score(X_test, y_test):.3f}   fit {seconds:5.1f} s")
    pipeline = model.regressor_ if isinstance(model, TransformedTargetRegressor) else model
    return pipeline[-1]


def standardised_target(pipeline):
    """Regression on a standardised target: ``alpha`` is in units of the target."""
    return TransformedTargetRegressor(pipeline, transformer=StandardScaler())


for title, load, convex, mlp in [
    (
        "diabetes regression (R²)",
        load_diabetes,
        # alpha chosen by 5-fold cross-validation on a path of 20 values relative to alpha_max
        ConvexReLURegressorCV(alphas=20, eps=1e-2, arrangements="sample", n_arrangements=100, solver="first_order",
                              random_state=0),
        MLPRegressor(hidden_layer_sizes=(100,), max_iter=2000, random_state=0),
    ),
    (
        "breast-cancer classification (accuracy)",
        load_breast_cancer,
        ConvexReLUClassifier(alpha=1e-2, random_state=0),
        MLPClassifier(hidden_layer_sizes=(100,), max_iter=2000, random_state=0),
    ),
]:
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    print(title)
    wrap = standardised_target if load is load_diabetes else (lambda pipeline: pipeline)
    fitted = report(type(convex).__name__, wrap(make_pipeline(StandardScaler(), convex)), X_train, X_test, y_train, y_test)
    report(type(mlp).__name__, wrap(make_pipeline(StandardScaler(), mlp)), X_train, X_test, y_train, y_test)
    print(f"  neurons of the convex fit: {fitted.n_neurons_}, training objective {fitted.objective_:.6g}")
    print(f"  certificate: {fitted.certificate_}\n")
