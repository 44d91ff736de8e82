"""Run scnn's augmented Lagrangian on a problem saved by ``bench_solvers.py`` (own environment).

Usage: ``python _scnn_runner.py problem.npz solution.npz``. The problem holds ``X`` (= X̃, the bias
column already appended), ``y``, ``gates`` (d × P, our generators, column i generating our pattern i),
``alpha`` and scnn's own stopping options ``scnn_tol``, ``scnn_constraint_tol``,
``scnn_max_primal_iters``. The solution holds the blocks **in our pattern order**, shape (1, d, P).
Paths below are relative to ``site-packages/scnn`` of pyscnn 0.0.10.

Same problem as ours (SPEC §3, no output intercept, unit sample weights):

- Objective. scnn minimises ``squared_error(pred, y) / (2 * n) + lam Σ_i (‖v_i‖ + ‖w_i‖)``:
  ``private/models/convex/al/al_mlp.py:192`` divides the plain sum of squared residuals
  (``private/loss_functions.py:21-22``) by ``2 * len(y)`` (``private/models/model.py:68-69``, c = 1),
  and ``NeuronGL1`` is ``lam * Σ ‖·‖₂`` over the last axis of the (2, c, P, d) weights
  (``private/loss_functions.py:91``, ``al_mlp.py:41``), i.e. one group per block v_i and per block w_i.
  This is SPEC §1/§3's ``(1/n) Σ ½ (ŷ_k − y_k)² + alpha Σ (‖v_i‖ + ‖u_i‖)``, so **lam = alpha**, with no
  rescaling. The bias coordinate is penalised in both (our default).
- Data. ``unitize_data=False`` (else columns are rescaled and lam acts on rescaled weights,
  ``private/interface/data.py:92``) and ``ConvexReLU(..., bias=False)``: X̃ already carries our bias
  column; ``bias=True`` would append another one (``data.py:89``) with bias-free gates.
- Gates. scnn's patterns are ``1[X̃ g > 0]`` (``activations.py:240-241``), ours ``1[X̃ g >= 0]``; they
  coincide for our Gaussian gates (no x̃_kᵀg is exactly 0, X̃ has no zero row). Checked below.

Reading the solution back (this was the bug): ``compute_activation_patterns`` deduplicates the
patterns with ``np.unique(..., axis=1)`` (``activations.py:244``), which *sorts* them
lexicographically, and the public model returned by ``optimize_model`` carries the weights and the
gates ``model.G`` in that sorted order (``private/interface/models.py:176-181``). Block i of
``model.parameters`` therefore belongs to the gate ``model.G[:, i]``, not to our pattern i. We map
each returned gate back to the identical column of our ``gates`` (exact copies, ``activations.py:245``)
and verify that the patterns agree; blocks of patterns scnn dropped stay zero.

Stopping. scnn's ``tol`` is not a relative gap: AL stops when the **squared** norm of the minimum-norm
subgradient of the augmented objective is ≤ ``tol`` and the **squared** l2 norm of all cone violations
(absolute, 2·P·n of them) is ≤ ``constraint_tol`` (``private/interface/solvers.py:136-138``,
``private/methods/termination_criteria.py:102,150,261``). ``max_primal_iters`` also caps the *total*
number of inner FISTA steps over all outer iterations (``solvers.py:154``); reaching it is reported.
The penalty strength is fixed internally (``delta=1000``, ``private/interface/models.py:115``; the
``AL(delta=...)`` argument is not used). Timing covers ``optimize_model`` only, with scnn's default
metrics (objective, gradient norm, time: values it computes anyway). scnn's own objective (its raw,
slightly infeasible blocks with its own patterns) is computed afterwards, outside the timing.
"""

import logging
import sys
import time

import numpy as np
from scnn.metrics import Metrics
from scnn.models import ConvexReLU
from scnn.optimize import optimize_model
from scnn.regularizers import NeuronGL1
from scnn.solvers import AL


class _Warnings(logging.Handler):
    """Collects scnn's warnings ("Max iterations reached ...")."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


source, target = sys.argv[1:3]
problem = np.load(source)
X, y, gates = problem["X"], problem["y"], problem["gates"]
alpha = float(problem["alpha"])
scnn_tol, constraint_tol = float(problem["scnn_tol"]), float(problem["scnn_constraint_tol"])
max_primal_iters = int(problem["scnn_max_primal_iters"])
warnings_seen = _Warnings()
logging.getLogger("scnn").addHandler(warnings_seen)

model = ConvexReLU(gates, c=1)
solver = AL(model, max_primal_iters=max_primal_iters, tol=scnn_tol, constraint_tol=constraint_tol)
start = time.perf_counter()
model, metrics = optimize_model(model, solver, Metrics(), X, y, regularizer=NeuronGL1(alpha), return_convex=True,
                                unitize_data=False, dtype="float64")
seconds = time.perf_counter() - start

# scnn's own view: its gates (sorted order), its raw blocks, its objective
v, w = model.parameters  # (1, P', d) each, in the order of model.G's columns
G = model.G  # (d, P')
scnn_prediction = model(X)[:, 0]
scnn_objective = 0.5 * np.mean((scnn_prediction - y) ** 2) + alpha * (np.linalg.norm(v, axis=-1).sum()
                                                                        + np.linalg.norm(w, axis=-1).sum())

# back to our pattern order
column_of = {gates[:, i].tobytes(): i for i in range(gates.shape[1])}
order = np.array([column_of[G[:, j].tobytes()] for j in range(G.shape[1])])
if not np.array_equal(X @ G > 0, X @ gates[:, order] >= 0):
    raise RuntimeError("scnn's patterns 1[X g > 0] differ from ours 1[X g >= 0] for the same gates")
blocks_pos = np.zeros((1, X.shape[1], gates.shape[1]))
blocks_neg = np.zeros_like(blocks_pos)
blocks_pos[0][:, order] = v[0].T
blocks_neg[0][:, order] = w[0].T

hit_limit = any("Max iterations reached before *outer*" in message for message in warnings_seen.messages)
steps = len(metrics.objective) - 2  # one record per FISTA step, plus the initial and the final one
status = (f"scnn AL tol={scnn_tol:g}, constraint_tol={constraint_tol:g} (its units): "
          f"{'hit max_primal_iters' if hit_limit else 'converged by its criterion'}, ~{steps} FISTA steps; "
          f"its own objective {scnn_objective:.10g}")
np.savez(target, seconds=seconds, blocks_pos=blocks_pos, blocks_neg=blocks_neg, intercept=np.zeros(1),
         scnn_objective=scnn_objective, status=status)
