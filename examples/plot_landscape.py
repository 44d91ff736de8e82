"""
Certifying networks, walking to the global minimum, and how wide is wide enough
===============================================================================

The convex reformulation turns four facts about the non-convex loss landscape of two-layer
ReLU networks into tools (SPEC §6). On a small 2-D regression problem we

1. train a scikit-learn ``MLPRegressor`` (L-BFGS) and a network by plain gradient descent on
   the same objective, and check both against the certified global optimum;
2. follow an explicit path from the gradient-descent network to a global minimum along which
   the objective never increases;
3. compare the objective gradient descent reaches at each width with ``m*`` (the fewest
   neurons of an optimal network) and the width from which there are no spurious valleys.
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from sklearn_convexrelu.landscape import (
    gradient_descent_experiment,
    no_spurious_valleys_width,
    optimality_certificate,
    path_to_global_minimum,
    train_nonconvex,
)

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(12, 2))
y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
alpha, width = 0.05, 6

# %%
# An MLP and gradient descent, certified
# --------------------------------------
# ``MLPRegressor(alpha=A)`` minimises (NC) with ``alpha = A / n`` and unpenalised biases; the
# certificate checks exactly that objective. Our gradient descent penalises the hidden bias.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    mlp = MLPRegressor(hidden_layer_sizes=(width,), solver="lbfgs", alpha=alpha * len(y), max_iter=5000,
                       tol=1e-10, random_state=0).fit(X, y)
gd = train_nonconvex(X, y, alpha, width, max_iter=5000, random_state=0)
for name, model, kwargs in [("MLPRegressor", mlp, {}), ("gradient descent", gd.network, {"alpha": alpha})]:
    certificate = optimality_certificate(model, X, y, **kwargs)
    print(f"{name:>16}: objective {certificate.primal:.6f}, certified lower bound "
          f"{certificate.lower_bound:.6f} -> {certificate}")

# %%
# A path to the global minimum
# ----------------------------
path = path_to_global_minimum(gd.network, X, y, alpha, n_neurons=len(y) + 1)
print(f"path: {path}; largest increase {np.diff(path.objectives).max():.1e}")

# %%
# Gradient descent against the width
# ----------------------------------
report = no_spurious_valleys_width(X, y, alpha)
print(report)
widths = sorted({1, max(report.m_star - 1, 1), report.m_star, (report.m_star + report.threshold) // 2,
                 report.threshold, 2 * report.threshold})
experiment = gradient_descent_experiment(X, y, alpha, widths, n_starts=20, rtol=1e-3, max_iter=2000, random_state=0)
for w, rate, gaps in zip(experiment.widths, experiment.success_rate, experiment.relative_gaps):
    print(f"width {w:>2}: {rate:4.0%} of 20 gradient-descent runs within {experiment.rtol:.0e} of the optimum "
          f"(median relative gap {np.median(gaps):.1e})")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for stage in ("balance", "merge", "prune", "convex"):
    index = np.flatnonzero(path.stages == stage)
    left.plot(index, path.objectives[index], ".", ms=3, label=stage)
left.axhline(path.optimum, color="k", ls=":", label="global optimum")
left.set(xlabel="point on the path", ylabel="objective (NC)", title="Path from gradient descent to the optimum")
left.legend()
for w, gaps in zip(experiment.widths, experiment.relative_gaps):
    right.plot(np.full(gaps.size, w), np.maximum(gaps, 1e-10), "o", color="C0", alpha=0.4)
right.axvline(report.m_star, color="C1", ls="--", label=f"m* = {report.m_star}")
right.axvline(report.threshold, color="C2", ls="--", label=f"no spurious valleys = {report.threshold}")
right.set(xlabel="width", ylabel="(objective − optimum) / optimum", yscale="log",
          title="Gradient descent from 20 random starts")
right.legend()
fig.tight_layout()
fig.savefig(__file__.replace(".py", ".png"), dpi=100)
