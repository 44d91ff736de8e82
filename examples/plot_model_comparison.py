"""
Convex ReLU networks next to scikit-learn's usual models
========================================================

Five-fold ``cross_validate`` of the convex networks against ``MLPRegressor`` / ``MLPClassifier``
(the same model class trained by gradient descent), ``RidgeCV`` / ``LogisticRegression``, ``SVR`` /
``SVC`` and gradient boosting, on two data sets bundled with scikit-learn: diabetes (regression,
R²) and wine (3 classes, accuracy). Every model is a pipeline with ``StandardScaler`` and mostly
default parameters; every regressor sees a standardised target (``TransformedTargetRegressor``).
The convex regressor chooses ``alpha`` by inner cross-validation on a path
(:class:`~sklearn_convexrelu.ConvexReLURegressorCV`, 50 sampled activation patterns); the
classifier uses a fixed ``alpha`` and 20 sampled patterns. The table and the figure show the
mean ± standard deviation over the folds of the test score and of the fit time (for the convex
regressor, the fit time includes its search over 20 values of ``alpha``), every model on one
thread.

What it teaches: on small tabular data a convex ReLU network is a competitive, deterministic
neural network (no seed, learning rate or number of epochs to tune), not a magic one: on these
nearly linear data it ties with the linear models.
"""

import time
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes, load_wine
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from threadpoolctl import threadpool_limits

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressorCV

PATTERNS = dict(arrangements="sample", n_arrangements=20, random_state=0)
TASKS = {
    "diabetes (R²)": (
        load_diabetes,
        KFold(5, shuffle=True, random_state=0),
        {
            "ConvexReLU": ConvexReLURegressorCV(alphas=20, eps=1e-2, arrangements="sample", n_arrangements=50,
                                                solver="first_order", random_state=0),
            "MLP": MLPRegressor(hidden_layer_sizes=(100,), learning_rate_init=0.01, max_iter=500, random_state=0),
            "RidgeCV": RidgeCV(),
            "SVR": SVR(),
            "Boosting": HistGradientBoostingRegressor(max_iter=50, random_state=0),
        },
    ),
    "wine (accuracy)": (
        load_wine,
        StratifiedKFold(5, shuffle=True, random_state=0),
        {
            "ConvexReLU": ConvexReLUClassifier(alpha=1e-2, **PATTERNS),
            "MLP": MLPClassifier(hidden_layer_sizes=(100,), max_iter=1000, random_state=0),
            "Logistic": LogisticRegression(),
            "SVC": SVC(),
            "Boosting": HistGradientBoostingClassifier(max_iter=50, random_state=0),
        },
    ),
}

results = {}
start = time.perf_counter()
for task, (load, folds, models) in TASKS.items():
    X, y = load(return_X_y=True)
    for name, model in models.items():
        # one thread each (BLAS, OpenMP), so that the fit times compare like with like
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)  # MLPs at max_iter, inexact solves
            pipeline = make_pipeline(StandardScaler(), model)
            if task.startswith("diabetes"):
                pipeline = TransformedTargetRegressor(pipeline, transformer=StandardScaler())
            scores = cross_validate(pipeline, X, y, cv=folds)
        results[task, name] = scores["test_score"], scores["fit_time"]

print(f"{'data set':<16} {'model':<13} {'test score':>15} {'fit time (s)':>16}")
for (task, name), (score, seconds) in results.items():
    print(f"{task:<16} {name:<13} {score.mean():7.3f} ± {score.std():.3f} {seconds.mean():8.3f} ± {seconds.std():.3f}")
print(f"total {time.perf_counter() - start:.0f} s")

fig, axes = plt.subplots(2, len(TASKS), figsize=(11, 6), sharey="row")
for column, (task, (_, _, models)) in enumerate(TASKS.items()):
    names = list(models)
    for row, (index, label) in enumerate([(0, "test score"), (1, "fit time (s)")]):
        values = [results[task, name][index] for name in names]
        ax = axes[row, column]
        ax.bar(names, [v.mean() for v in values], yerr=[v.std() for v in values], capsize=3,
               color=["C3"] + ["C0"] * (len(names) - 1))
        ax.set_ylabel(label if column == 0 else "")
        ax.tick_params(axis="x", labelsize=8)
        if row == 0:
            ax.set_title(task)
        else:
            ax.set_yscale("log")
fig.tight_layout()
plt.show()
