"""
Convex ReLU networks next to scikit-learn's usual models
========================================================

Five-fold ``cross_validate`` of :class:`~sklearn_convexrelu.ConvexReLURegressor` /
:class:`~sklearn_convexrelu.ConvexReLUClassifier` against ``MLPRegressor`` / ``MLPClassifier``
(the same model trained by gradient descent), ``Ridge`` / ``LogisticRegression``, ``SVR`` / ``SVC``
and random forests, on two data sets bundled with scikit-learn: diabetes (regression, R²) and
wine (3 classes, accuracy). Every model is a pipeline with ``StandardScaler`` and mostly default
parameters; the convex networks use 20 sampled activation patterns and a fixed ``alpha`` (see
``plot_regularization_path.py`` for choosing it by cross-validation). The table and the figure
show the mean ± standard deviation over the folds of the test score and of the fit time.
"""

import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor

PATTERNS = dict(arrangements="sample", n_arrangements=20, random_state=0)
TASKS = {
    "diabetes (R²)": (
        load_diabetes,
        KFold(5, shuffle=True, random_state=0),
        {
            "ConvexReLU": ConvexReLURegressor(alpha=1.0, **PATTERNS),
            "MLP": MLPRegressor(hidden_layer_sizes=(100,), learning_rate_init=0.01, max_iter=500, random_state=0),
            "Ridge": Ridge(),
            "SVR": SVR(C=50.0),
            "RandomForest": RandomForestRegressor(n_estimators=100, random_state=0),
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
            "RandomForest": RandomForestClassifier(n_estimators=100, random_state=0),
        },
    ),
}

results = {}
start = time.perf_counter()
for task, (load, folds, models) in TASKS.items():
    X, y = load(return_X_y=True)
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # MLPs at max_iter, inexact solves
            scores = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=folds)
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
fig.savefig(Path(__file__).with_suffix(".png"), dpi=100)
