"""
Certifying networks, walking to the global minimum, and how wide is wide enough
===============================================================================

The convex reformulation turns four facts about the non-convex loss landscape of two-layer
ReLU networks into tools (SPEC §6). On a small 2-D regression problem we

1. train a scikit-learn ``MLPRegressor`` (L-BFGS) and a network by plain gradient descent on
   the same objective, and check both against the certified global optimum;
2. follow an explicit path from the gradient-descent network to a global minimum along which
   the objective never increases;
3. run gradient descent at several widths around ``m*`` (the fewest neurons of an optimal
   network) and the width from which there are no spurious valleys, and ask, for each run,
   whether it has found the global minimum's valley.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from sklearn_convexrelu.landscape import (
    gradient_descent_experiment,
    no_spurious_valleys_width,
    optimality_certificate,
    path_to_global_minimum,
    stationary_subproblem,
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
# ``m*`` is the fewest neurons of an optimal network; from the ``threshold`` width on there are
# no spurious valleys: from every network a non-increasing path leads to a global minimum.
# Gradient descent (with Armijo steps, sliding along kinks) runs from 10 random starts at each
# width. It slows down near the optimum: optimal neurons sit on *kinks* (their hyperplanes pass
# through data points), where the objective is not differentiable and first-order steps only
# creep, so the runs stop at the iteration limit a little above the optimum. Where they stop
# is what matters. Result (i) says what a run has found: the convex program over the run's own
# activation patterns (:func:`~sklearn_convexrelu.landscape.stationary_subproblem`). When its
# optimum is the global optimum, the run is in the global minimum's valley, and finishing the
# descent is a convex problem.
report = no_spurious_valleys_width(X, y, alpha)
print(report)
widths = sorted({1, report.m_star, (report.m_star + report.threshold) // 2, report.threshold, 2 * report.threshold})
experiment = gradient_descent_experiment(X, y, alpha, widths, n_starts=10, rtol=1e-6, max_iter=4000, random_state=0)
subproblems = [[stationary_subproblem(net, X, y, alpha) for net in runs] for runs in experiment.networks]
own_gaps = np.array([[sub.subproblem_objective / experiment.optimum - 1 for sub in runs] for runs in subproblems])
for w, gaps, own, runs in zip(experiment.widths, experiment.relative_gaps, own_gaps, subproblems):
    in_valley = own <= 1e-6
    escaping = sum(sub.n_escapes > 0 for sub, ok in zip(runs, in_valley) if not ok)
    print(f"width {w:>2}: gradient descent stops {np.median(gaps):.1e} above the optimum (median); "
          f"in {in_valley.sum():>2}/10 runs the program over its patterns reaches the global optimum, "
          f"{escaping} of the others have escape directions")

# %%
# Below ``m*`` no run can be optimal: its escape directions are neurons it has no room for. From
# ``m*`` on, more and more runs stop in the global minimum's valley; from the threshold on, the
# runs that have not reached it yet have escape directions, i.e. they are not stuck at a
# spurious stationary point but still descending. The left panel shows the same thing for one run: the path of
# result (iii) from where gradient descent stopped to the global minimum never goes up.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for stage in ("balance", "merge", "prune", "convex"):
    index = np.flatnonzero(path.stages == stage)
    left.plot(index, path.objectives[index], ".", ms=3, label=stage)
left.axhline(path.optimum, color="k", ls=":", label="global optimum")
left.set(xlabel="point on the path", ylabel="objective (NC)", title="Path from gradient descent to the optimum")
left.legend()
floor = 1e-10  # relative gaps below this are the solvers' accuracy
for k, (w, gaps, own) in enumerate(zip(experiment.widths, experiment.relative_gaps, own_gaps)):
    right.plot(np.full(gaps.size, w) - 0.15, np.maximum(gaps, floor), "o", mfc="none", color="C0",
               label="gradient descent, where it stopped" if k == 0 else None)
    right.plot(np.full(own.size, w) + 0.15, np.maximum(own, floor), "o", color="C3", alpha=0.6,
               label="convex program over its patterns" if k == 0 else None)
right.axvline(report.m_star, color="C1", ls="--", label=f"m* = {report.m_star}")
right.axvline(report.threshold, color="C2", ls="--", label=f"no spurious valleys = {report.threshold}")
right.set(xlabel="width", ylabel="(objective − optimum) / optimum\n(gaps below 1e-10 drawn at 1e-10)",
          yscale="log", title="10 random starts per width")
right.legend(fontsize=7)
fig.tight_layout()
plt.show()
