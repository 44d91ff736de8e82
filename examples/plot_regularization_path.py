"""
Regularisation path and cross-validated choice of ``alpha``
===========================================================

:func:`~sklearn_convexrelu.convex_relu_path` solves the convex program of a two-layer ReLU network
for a decreasing grid of ``alpha`` values on one pattern set, starting at ``alpha_max``: the exact
smallest ``alpha`` at which the zero network is optimal, read off the dual. Here the data are 1-D,
so all activation patterns are enumerated and every point of the path is a certified global
minimum over networks of any width.

:class:`~sklearn_convexrelu.ConvexReLURegressorCV` computes the same path on every training fold,
picks the ``alpha`` with the best mean test score (R²) and refits on all the data. The figure
shows the number of neurons (nonzero blocks of the solver's solution), the training objective
and the cross-validated score against ``alpha``, with the chosen ``alpha`` marked, and the fitted
functions at a few points of the path.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import KFold

from sklearn_convexrelu import ConvexReLURegressorCV, convex_relu_path

rng = np.random.RandomState(0)
X = rng.uniform(-2, 2, size=(40, 1))
y = np.sin(2 * X[:, 0]) + 0.3 * rng.randn(40)

start = time.perf_counter()
path = convex_relu_path(X, y, alphas=30, eps=1e-3)
path_seconds = time.perf_counter() - start

start = time.perf_counter()
cv = ConvexReLURegressorCV(alphas=30, eps=1e-3, cv=KFold(5, shuffle=True, random_state=0)).fit(X, y)
cv_seconds = time.perf_counter() - start
assert np.allclose(cv.alphas_, path.alphas)  # the same data-driven grid

mean_score, std_score = cv.score_path_.mean(axis=1), cv.score_path_.std(axis=1)
print(f"alpha_max = {path.alpha_max:.4g} ({path.arrangements.n_patterns} patterns, exact={path.arrangements.exact})")
print(f"path of {path.alphas.size} alphas: {path_seconds:.1f} s; 5-fold CV + refit: {cv_seconds:.1f} s")
print(f"chosen alpha_ = {cv.alpha_:.4g}: {cv.n_neurons_} neurons, mean CV R² {mean_score.max():.3f}, {cv.certificate_}")
print(f"{'alpha':>10} {'neurons':>8} {'objective':>10} {'rel. gap':>9} {'CV R²':>14}")
for i in range(0, path.alphas.size, 5):
    print(f"{path.alphas[i]:10.3e} {path.n_neurons[i]:8d} {path.objectives[i]:10.5f} "
          f"{path.dual_gaps[i] / path.objectives[i]:9.1e} {mean_score[i]:7.3f} ± {std_score[i]:.3f}")

fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
axes[0].plot(path.alphas, path.n_neurons, "o-", ms=3)
axes[0].set_ylabel("neurons (nonzero blocks)")
axes[1].plot(path.alphas, path.objectives, "o-", ms=3)
axes[1].set_ylabel("training objective")
axes[2].plot(path.alphas, mean_score, "o-", ms=3)
axes[2].fill_between(path.alphas, mean_score - std_score, mean_score + std_score, alpha=0.2)
axes[2].set_ylabel("5-fold CV R²")
axes[2].set_ylim(max(-0.2, mean_score.min() - 0.1), 1)
for ax in axes[:3]:
    ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.axvline(cv.alpha_, color="k", ls="--", lw=1, label=f"alpha_ = {cv.alpha_:.2g}")
axes[0].legend()
grid = np.linspace(-2.2, 2.2, 400)[:, None]
axes[3].scatter(X[:, 0], y, s=12, color="0.4", label="data")
for index in (path.alphas.size // 3, 2 * path.alphas.size // 3, path.alphas.size - 1):
    axes[3].plot(grid[:, 0], path.networks[index].predict(grid), lw=1, label=f"alpha = {path.alphas[index]:.1e}")
axes[3].plot(grid[:, 0], cv.predict(grid), "k", lw=2, label="CV choice")
axes[3].legend(fontsize=7)
axes[3].set_xlabel("x")
fig.tight_layout()
plt.show()
