"""Pattern search beyond a fixed sample: cutting planes on the dual constraints (SPEC §6 (i), §7).

Sampled patterns only give the optimum over those patterns. The dual constraints of the missing
patterns are ``κ_D = max_{u ∈ K_D, ‖u‖ ≤ 1} σ rᵀ D X̃ u ≤ alpha`` (SPEC §4); a pattern that violates
one would lower the objective if added. :func:`search_arrangements`

1. trains a quick non-convex *seed* network (full-batch Adam on the objective (NC), each neuron
   feeding one output) and starts from its activation patterns plus ``n_arrangements`` Gaussian gates,
   warm-started at the seed's convex image (SPEC §3.1): the fitted objective is then never above
   the seed's, and a stationary seed is optimal for its own patterns (SPEC §6 (i));
2. solves (C-ReLU) with the first-order solver;
3. looks for violated patterns by projected gradient ascent on the unit sphere for
   ``u ↦ σ r_kᵀ(X̃u)_+`` from random gates and from the current neurons, and computes the exact
   ``κ`` of the distinct new patterns reached; also takes gradient steps on (NC) from the current
   solution's network (with a few random neurons added) and keeps its new patterns when they lower
   the objective; adds these patterns and re-solves warm;
4. repeats until nothing new is found, a round improves the objective by less than 0.1%, or the
   budget of patterns or rounds is spent.

What was searched is recorded in a :class:`PatternSearch` (and in the arrangements' description).
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._adam import adam
from ._nonconvex_objective import nonconvex_value_and_gradient
from .arrangements import Arrangements, _augment, pattern_keys, sample_arrangements
from .program.cones import largest_bounds_first, project_onto_cones
from .program.operators import adjoint
from .solvers._threads import blas_threads
from .solvers.first_order import _ILL_ADVICE, _ILL_SCALED, FirstOrderSolver

__all__ = ["PatternSearch", "search_arrangements"]

# Search rounds at most; gradient-ascent steps per round and the first step's angle.
_MAX_ROUNDS = 10
_ASCENT_STEPS, _ASCENT_STEP = 50, 0.2
# Random ascent starts per round: max(_MIN_STARTS, _STARTS_PER_DIM · n_dims), fewer when the work
# (multiply-adds) of the ascent would exceed _ASCENT_WORK.
_MIN_STARTS, _STARTS_PER_DIM, _ASCENT_WORK = 64, 4, 1e10
# Adam: steps on the seed network and per refinement round, learning rate (relative to the weights'
# scale in refinements), work budget (multiply-adds) capping the steps, random neurons added.
_SEED_STEPS, _REFINE_STEPS, _SEED_LEARNING_RATE, _SEED_WORK = 500, 200, 1e-2, 2e10
_MIN_NEW_NEURONS = 5
# The search stops when a round lowers the objective by less than this (relative).
_MIN_IMPROVEMENT = 1e-3
# Violated patterns added per round: all found, at most max(_MIN_NEW_PATTERNS, half the patterns so far).
_MIN_NEW_PATTERNS = 64
# A generator needs |x̃_jᵀg| > _MARGIN ‖x̃_j‖ ‖g‖ on every nonzero row to be strictly inside its cone.
_MARGIN = 1e-12


@dataclass(frozen=True)
class PatternSearch:
    """What a pattern search looked at (SPEC §7).

    Attributes
    ----------
    n_sampled : int
        Distinct patterns from the Gaussian sample.
    n_seed : int
        Patterns of the seed network's neurons not already sampled.
    n_found : int
        Patterns added by the search.
    n_rounds : int
        Search rounds run.
    n_starts : int
        Ascent starts per round (per output and sign).
    seed_objective : float or None
        Objective (NC) of the seed network (``None`` without one): the fit's objective is at most this.
    stopped : str
        Why the search stopped: ``"no violated pattern found"`` (neither the ascent nor gradient steps
        from the solution found a better pattern), ``"improvement below tolerance"``, a budget, or
        ``"ill-conditioned X, ..."`` (column scales too far apart for the solver, no rounds run).
    """

    n_sampled: int
    n_seed: int
    n_found: int
    n_rounds: int
    n_starts: int
    seed_objective: float | None
    stopped: str

    @property
    def n_patterns(self):
        """Number of patterns searched: sampled, from the seed network and found."""
        return self.n_sampled + self.n_seed + self.n_found

    def __str__(self):
        seed = "" if self.seed_objective is None else f", {self.n_seed} from a gradient-descent seed network"
        return (
            f"{self.n_patterns} activation patterns: {self.n_sampled} sampled{seed}, {self.n_found} found "
            f"by pattern search in {self.n_rounds} round(s) of {self.n_starts} ascent starts per output "
            f"and sign and gradient steps from the solution (stopped: {self.stopped}; relative to these "
            "patterns only)"
        )


def _adam(X_aug, Y, s, loss, alpha, params, outputs, fit_intercept, steps, learning_rate):
    """Full-batch Adam on (NC) for a network whose neuron j feeds output ``outputs[j]`` only.

    ``params = [W (d, m), a (m,), c (K,)]`` is the start. Returns the trained parameters and
    the objective (NC) (SPEC §1).
    """
    penalized = np.ones(X_aug.shape[1])  # the hidden bias is penalised (SPEC §1)

    def value_and_grad(params):
        W, a, c = params
        values, grads, _, _ = nonconvex_value_and_gradient(
            X_aug, loss, Y, s, alpha, W[None], a[None], c[None], outputs, penalized, fit_intercept,
        )
        return float(values[0]), [g[0] for g in grads]

    params, history, _, _ = adam(value_and_grad, params, steps, learning_rate)
    return params, history[-1]


def _adam_steps(X_aug, width, cap):
    """Adam steps within the work budget ``_SEED_WORK`` (multiply-adds), between 20 and ``cap``."""
    return int(np.clip(_SEED_WORK / (3 * X_aug.size * max(width, 1)), 20, cap))


def _seed_network(X_aug, Y, s, loss, alpha, width, fit_intercept, rng):
    """A width-``width`` network from a random start trained by :func:`_adam` (neuron j feeds output
    ``j mod K``): returns ``W`` (d, m), ``a`` (m,), outputs (m,), ``c`` (K,) and its objective."""
    d, K = X_aug.shape[1], Y.shape[1]
    outputs = np.arange(width) % K
    c = loss.optimal_intercept(np.zeros_like(Y), Y, s) if fit_intercept else np.zeros(K)
    start = [rng.standard_normal((d, width)) / np.sqrt(d), rng.standard_normal(width) / np.sqrt(width), c]
    steps = _adam_steps(X_aug, width, _SEED_STEPS)
    (W, a, c), objective = _adam(X_aug, Y, s, loss, alpha, start, outputs, fit_intercept, steps, _SEED_LEARNING_RATE)
    return W, a, outputs, c, objective


def _refined_gates(solver, Y, s, loss, alpha, fit_intercept, rng):
    """Gates of the current solution's network, with a few random neurons added, after Adam steps.

    Gradient descent from the balanced network of the convex solution (SPEC §3.1) moves neurons
    into neighbouring patterns that lower the objective (SPEC §6 (i): the escape directions).
    Returns the gates (d, m) and the objective (NC) the trained network reached.
    """
    X_aug = solver.X_aug
    blocks_pos, blocks_neg, c = solver.solution()
    blocks = np.stack([blocks_pos, blocks_neg])  # (2, K, d, P)
    norms = np.linalg.norm(blocks, axis=2)
    side, output, pattern = np.nonzero(norms > 0)
    root = np.sqrt(norms[side, output, pattern])
    W = blocks[side, output, :, pattern].T / root
    a = np.where(side == 0, root, -root)
    extra = max(_MIN_NEW_NEURONS, side.size // 5)
    scale = np.sqrt(np.mean(W**2)) if W.size else 1.0 / np.sqrt(X_aug.shape[1])
    W = np.hstack([W, scale * rng.standard_normal((X_aug.shape[1], extra))])
    a = np.r_[a, 1e-3 * scale * rng.standard_normal(extra)]
    outputs = np.r_[output, rng.randint(Y.shape[1], size=extra)]
    steps = _adam_steps(X_aug, W.shape[1], _REFINE_STEPS)
    (W, _, _), objective = _adam(X_aug, Y, s, loss, alpha, [W, a, c], outputs, fit_intercept, steps, _SEED_LEARNING_RATE * scale)
    return W, objective


def _seed_blocks(X_aug, W, a, outputs, keys_index, K, n_patterns):
    """Convex image of the seed network on the pattern set (SPEC §3.1): blocks (2, K, d, P)."""
    d = X_aug.shape[1]
    blocks = np.zeros((2, K, d, n_patterns))
    live = (np.linalg.norm(W, axis=0) > 0) & (a != 0)
    patterns = X_aug @ W[:, live] >= 0
    for j, key in zip(np.flatnonzero(live), pattern_keys(patterns)):
        if key in keys_index:
            blocks[int(a[j] < 0), outputs[j], :, keys_index[key]] += abs(a[j]) * W[:, j]
    return blocks


def _strictly_inside(X_aug, G):
    """Whether each gate is strictly inside its cone (no sample on its hyperplane)."""
    norms = np.linalg.norm(X_aug, axis=1)
    margin = np.abs(X_aug @ G) > _MARGIN * norms[:, None] * np.linalg.norm(G, axis=0)
    return np.all(margin | (norms[:, None] == 0), axis=0)


def _ascent(X_aug, R, starts, n_steps):
    """Gates reached by projected gradient ascent of ``u ↦ σ r_kᵀ(X̃u)_+`` on the unit sphere.

    Each step moves every gate by an angle of about ``0.2 (1 − t / n_steps)`` along its
    (normalised) gradient ``σ X̃ᵀ D(u) r_k`` and back to the sphere; the decaying step lets the gates
    settle at local maxima of this piecewise-linear function.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    R : ndarray of shape (n_samples, K)
    starts : dict
        ``(k, σ) -> ndarray of shape (n_dims, S)`` starting gates.
    n_steps : int

    Returns
    -------
    ndarray of shape (n_dims, n_gates)
    """
    reached = []
    for (k, sign), U in starts.items():
        U = U / np.linalg.norm(U, axis=0)
        for step in range(n_steps):
            G = sign * adjoint(X_aug, X_aug @ U > 0, R[:, [k]])[0]  # gradient of σ r_kᵀ(X̃u)_+
            norms = np.linalg.norm(G, axis=0)
            U = U + _ASCENT_STEP * (1 - step / n_steps) * G / np.where(norms > 0, norms, 1.0)
            U /= np.linalg.norm(U, axis=0)
        reached.append(U)
    return np.hstack(reached)


def _new_patterns(X_aug, gates, known, strict=True):
    """Distinct nonzero patterns of ``gates`` not in ``known``, with a gate each (by default only
    gates strictly inside their cones)."""
    if strict:
        gates = gates[:, _strictly_inside(X_aug, gates)]
    patterns = X_aug @ gates >= 0
    first = {}
    for j, key in enumerate(pattern_keys(patterns)):
        if key not in known and key not in first and patterns[:, j].any():
            first[key] = j
    index = np.fromiter(first.values(), dtype=int, count=len(first))
    return patterns[:, index], gates[:, index]


def _violated_patterns(X_aug, R, gates, known, alpha, threshold, n_wanted=None):
    """Distinct new patterns of ``gates`` with ``max_{k,σ} κ > threshold · alpha``, most violated first.

    ``κ`` is computed exactly (cone projections) in decreasing order of its upper bound
    ``‖X̃ᵀ D r_k‖``, and only until ``n_wanted`` violated patterns are found (all when ``None``).
    Returns their patterns (n, C), generators (d, C) and ``κ / alpha`` (C,).
    """
    patterns, gates = _new_patterns(X_aug, gates, known)
    if patterns.shape[1] == 0:
        return patterns, gates, np.zeros(0)
    K, C = R.shape[1], patterns.shape[1]
    A = adjoint(X_aug, patterns, R)  # (K, d, C)
    bounds = np.linalg.norm(A, axis=1).max(axis=0)  # ‖Π_K(a)‖ ≤ ‖a‖ (SPEC §4)
    ratio = np.zeros(C)

    def evaluate(index):  # new patterns have no faces yet: cold projections
        directions = np.concatenate([A[:, :, index], -A[:, :, index]]).transpose(1, 0, 2).reshape(X_aug.shape[1], -1)
        U, _, _ = project_onto_cones(X_aug, patterns, directions, np.tile(index, 2 * K), threshold=threshold * alpha)
        ratio[index] = np.linalg.norm(U, axis=0).reshape(2 * K, index.size).max(axis=0) / alpha
        return np.count_nonzero(ratio[index] > threshold)

    largest_bounds_first(bounds, evaluate, above=threshold * alpha, n_wanted=n_wanted,
                         chunk=None if n_wanted is None else max(2 * n_wanted, 32))
    order = np.argsort(-ratio)
    order = order[ratio[order] > threshold]
    return patterns[:, order], gates[:, order], ratio[order]


def _starts(solver, d, n_random, rng):
    """Random gates for every (output, sign), plus the directions of the current neurons."""
    directions, side, output, _, t = solver.atoms()
    directions, side, output = directions[:, t > 0], side[t > 0], output[t > 0]  # idle atoms are no neurons
    starts = {}
    for k in range(solver.shape[0]):
        for s_index, sign in enumerate((1, -1)):
            own = directions[:, (side == s_index) & (output == k)]
            starts[(k, sign)] = np.hstack([rng.standard_normal((d, n_random)), own])
    return starts


def search_arrangements(
    X, Y, s, loss, alpha, *, hidden_bias=True, fit_intercept=True, n_arrangements=100, max_patterns=2000,
    seed_width=50, tol=1e-6, max_iter=1000, random_state=None, verbose=0, n_jobs=None, finish=True,
):
    """Patterns for (C-ReLU) found by sampling, a seed network and pattern search (see the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    s : ndarray of shape (n_samples,)
        Positive sample weights summing to n_samples.
    loss : loss object
    alpha : float
    hidden_bias, fit_intercept : bool, default=True
    n_arrangements : int, default=100
        Gaussian gates sampled at the start.
    max_patterns : int, default=2000
        Budget: the search stops adding patterns beyond this many.
    seed_width : int, default=50
        Width of the seed network; 0 for none.
    tol : float, default=1e-6
        Relative duality gap of the final solve; intermediate rounds use ``max(tol, 1e-3)``.
    max_iter : int, default=1000
        Iterations of each first-order solve.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        1 prints one line per round, 2 also the solver's iterations.
    n_jobs : int, default=None
        BLAS threads (``None``: one, ``-1``: BLAS's default).
    finish : bool, default=True
        Solve the final pattern set to ``tol``; ``False`` leaves it at the rounds' tolerance, for
        a caller that finishes the solve itself (the estimators, whose ``solver="auto"`` finishes a
        first-order tail with cvxpy).

    Returns
    -------
    arrangements : Arrangements
        ``exact=False``; ``description`` says what was searched.
    solver : FirstOrderSolver
        Holding the solution on these patterns (``solver.state_``), solved to relative gap ``tol``
        (``finish=True``).
    report : PatternSearch
    """
    rng = check_random_state(random_state)
    started = time.perf_counter()
    with blas_threads(n_jobs):
        X_aug = _augment(X, hidden_bias)
        d, K = X_aug.shape[1], Y.shape[1]
        sampled = sample_arrangements(X, n_arrangements, hidden_bias=hidden_bias, random_state=rng)
        patterns, generators = sampled.patterns, sampled.generators
        n_sampled = patterns.shape[1]
        seed, seed_objective = None, None
        if seed_width > 0:
            W, a, outputs, c, seed_objective = _seed_network(X_aug, Y, s, loss, alpha, seed_width, fit_intercept, rng)
            # every pattern a seed neuron uses, so that its convex image is a feasible warm start
            seed_patterns, seed_gates = _new_patterns(X_aug, W, set(pattern_keys(patterns)), strict=False)
            patterns, generators = np.hstack([patterns, seed_patterns]), np.hstack([generators, seed_gates])
            seed = (W, a, outputs, c)
        n_seed = patterns.shape[1] - n_sampled
        keys = pattern_keys(patterns)
        known = {key: i for i, key in enumerate(keys)}
        solver = FirstOrderSolver(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept, generators=generators)
        init = None
        if seed is not None:
            blocks = _seed_blocks(X_aug, seed[0], seed[1], seed[2], known, K, patterns.shape[1])
            init = (blocks[0], blocks[1], seed[3])
        round_tol = max(tol, 1e-3)
        # rounds keep several atoms per block (merge=False): the ascent starts from all of them
        solver.solve(alpha, tol=round_tol, max_iter=max_iter, init=init, verbose=verbose > 1, merge=tol >= round_tol)
        n_random = max(_MIN_STARTS, _STARTS_PER_DIM * d)
        n_random = int(max(8, min(n_random, _ASCENT_WORK / (4 * K * _ASCENT_STEPS * X_aug.size))))
        n_found, n_rounds, stopped = 0, 0, "round budget"
        while True:
            if solver.scale_ratio > _ILL_SCALED:  # its solves cannot resolve the dual constraints
                stopped = f"ill-conditioned X, {_ILL_ADVICE}"
                break
            if n_rounds == _MAX_ROUNDS or solver.shape[2] >= max_patterns:
                stopped = "round budget" if n_rounds == _MAX_ROUNDS else "pattern budget"
                break
            n_rounds += 1
            before = solver.objective_
            R = solver.residual()
            gates = _ascent(X_aug, R, _starts(solver, d, n_random, rng), _ASCENT_STEPS)
            budget = min(max_patterns - solver.shape[2], max(_MIN_NEW_PATTERNS, solver.shape[2] // 2))
            new_patterns, new_gates, ratios = _violated_patterns(X_aug, R, gates, known, alpha, 1 + tol, budget)
            refined, refined_objective = _refined_gates(solver, Y, s, loss, alpha, fit_intercept, rng)
            if refined_objective < before:  # gradient steps found a better network: keep its patterns
                moved, moved_gates = _new_patterns(X_aug, refined, set(known) | set(pattern_keys(new_patterns)))
                new_patterns, new_gates = np.hstack([moved, new_patterns]), np.hstack([moved_gates, new_gates])
            new_patterns, new_gates = new_patterns[:, :budget], new_gates[:, :budget]
            if verbose:
                print(
                    f"[pattern search] round {n_rounds}: {solver.shape[2]} patterns, objective {before:.10g}, "
                    f"{ratios.size} violated pattern(s) found by ascent"
                    + (f" (max kappa/alpha {ratios[0]:.4f})" if ratios.size else "")
                    + f", gradient steps reach {refined_objective:.10g}; adding {new_patterns.shape[1]}  "
                    f"{time.perf_counter() - started:.2f}s"
                )
            if new_patterns.shape[1] == 0:
                stopped = "no violated pattern found"
                break
            for key in pattern_keys(new_patterns):
                known[key] = len(known)
            solver.extend(new_patterns, new_gates)
            n_found += new_patterns.shape[1]
            solver.solve(alpha, tol=round_tol, max_iter=max_iter, warm_start=True, verbose=verbose > 1, merge=tol >= round_tol)
            if before - solver.objective_ <= _MIN_IMPROVEMENT * abs(before):
                stopped = "improvement below tolerance"
                break
        if finish and tol < round_tol:
            solver.solve(alpha, tol=tol, max_iter=max_iter, warm_start=True, verbose=verbose > 1)
    report = PatternSearch(n_sampled, n_seed, n_found, n_rounds, n_random, seed_objective, stopped)
    arrangements = Arrangements(
        solver.patterns, solver.generators, False, hidden_bias, n_arrangements, description=str(report)
    )
    return arrangements, solver, report
