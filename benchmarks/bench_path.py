"""Time a 30-alpha regularisation path against 30 cold solves on the same patterns.

The path sets the program up once (cvxpy: compiled once, ``alpha`` a parameter; first-order: one
solver object, each point warm-started from the previous one) and skips points at or above
``alpha_max``; a cold solve sets up, solves, polishes and certifies from scratch
(:func:`~sklearn_convexrelu.solvers.solve_convex_program` without ``program=`` or ``init=``). Same
sampled patterns, solver and tolerance. One run each; prints the machine and versions.

Run: ``python benchmarks/bench_path.py``.
"""

import os
import platform
import time

import cvxpy
import numpy as np
import sklearn

from sklearn_convexrelu import convex_relu_path, sample_arrangements
from sklearn_convexrelu.arrangements import _augment
from sklearn_convexrelu.program.losses import get_loss
from sklearn_convexrelu.solvers import solve_convex_program

N_SAMPLES, N_FEATURES, N_PATTERNS, N_ALPHAS, TOL = 100, 3, 60, 30, 1e-6

rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, size=(N_SAMPLES, N_FEATURES))
y = np.abs(X[:, 0]) - X[:, 1] * X[:, 2] + 0.1 * rng.randn(N_SAMPLES)
arrangements = sample_arrangements(X, N_PATTERNS, random_state=0)

X_aug, Y, s, loss = _augment(X, True), y[:, None], np.ones(N_SAMPLES), get_loss("squared_error", 1)
print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
print(f"versions: python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
      f"cvxpy {cvxpy.__version__}")
print(f"data: n={N_SAMPLES}, p={N_FEATURES}, {arrangements.n_patterns} sampled patterns, {N_ALPHAS} alphas, tol={TOL:g}")
for solver in ("cvxpy", "first_order"):
    start = time.perf_counter()
    path = convex_relu_path(X, y, alphas=N_ALPHAS, eps=1e-3, arrangements=arrangements, solver=solver, tol=TOL)
    path_seconds = time.perf_counter() - start
    start = time.perf_counter()
    cold = [
        solve_convex_program(
            X_aug, path.arrangements, Y, s, loss, alpha, fit_intercept=True, hidden_bias=True, tol=TOL,
            max_iter=1000, solver=solver,
        )
        for alpha in path.alphas
    ]
    cold_seconds = time.perf_counter() - start
    difference = np.max(np.abs(np.array([fit.objective for fit in cold]) - path.objectives) / path.objectives)
    print(f"{solver:>11}: path {path_seconds:6.2f} s ({path.solvers.count('alpha_max')} point at alpha_max, "
          f"{path.n_iter.sum()} iterations), {N_ALPHAS} cold solves {cold_seconds:6.2f} s "
          f"({sum(fit.raw.n_iter for fit in cold)} iterations): speed-up {cold_seconds / path_seconds:.2f}x, "
          f"largest relative objective difference {difference:.1e}")
