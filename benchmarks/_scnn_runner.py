"""Run scnn's augmented Lagrangian on a problem saved by ``bench_solvers.py`` (own environment).

Usage: ``python _scnn_runner.py problem.npz solution.npz``. scnn's objective is ours with
``lam = alpha``, no output intercept and ``unitize_data=False``; float64 on the CPU.
"""

import sys
import time

import numpy as np
from scnn.metrics import Metrics
from scnn.models import ConvexReLU
from scnn.optimize import optimize_model
from scnn.regularizers import NeuronGL1
from scnn.solvers import AL

source, target = sys.argv[1:3]
problem = np.load(source)
X, y, gates = problem["X"], problem["y"], problem["gates"]
alpha, tol = float(problem["alpha"]), float(problem["tol"])
model = ConvexReLU(gates, c=1)
start = time.perf_counter()
model, _ = optimize_model(model, AL(model, tol=tol, constraint_tol=tol), Metrics(), X, y, regularizer=NeuronGL1(alpha),
                          return_convex=True, unitize_data=False, dtype="float64")
seconds = time.perf_counter() - start
v, w = model.parameters  # (c, p, d) each
np.savez(target, seconds=seconds, blocks_pos=v.transpose(0, 2, 1), blocks_neg=w.transpose(0, 2, 1), intercept=np.zeros(1),
         status=f"scnn AL, tol={tol:g}")
