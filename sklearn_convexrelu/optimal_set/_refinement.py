"""A dual vector accurate enough to decide the tight set (SPEC §5).

The optimal set is read off the dual vector ``r* = −∇ value(ŷ*)``: its tight cones are the atoms.
A solver's dual is accurate only to its own precision (an interior point's relative gap ``δ``
leaves an error of order ``√δ`` in the prediction, and near interpolation that is a large error
in ``r``). Two refinements make it accurate before anything is decided:

1. :func:`resolve_first_order` re-solves the program with the package's first-order solver,
   warm-started from the solution: its restricted problems are solved exactly (Newton steps), so
   its blocks are tight to rounding;
2. :func:`refine_prediction` runs Newton's method on the program restricted to the faces of the
   cones its blocks lie on (a smooth group lasso kept inside the cones), which also moves the
   directions inside the faces.

Each is kept only when it does not raise the objective and makes the dual more accurate. The
accuracy of a dual is measured by :func:`dual_analysis` (see :mod:`sklearn_convexrelu._tolerances`).
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from .._tolerances import (
    ACCURACY_CAP, ACCURACY_FLOOR, CANDIDATE_FACTOR, IN_CONE_ITERATIVE_RTOL, REFINE_GAP_FACTOR, REFINE_MAX_GAP,
    REFINE_MAX_ITER, REFINE_MAX_UNKNOWNS, SUPPORT_RTOL, TIGHT_FACTOR,
)
from ..program.cones import _cone_rows, face_span, in_cone, on_face, project_onto_cones
from ..program.operators import adjoint
from ..program.penalty import GroupNormPenalty
from ..solvers._subspace_newton import subspace_gradient, subspace_hessian
from ..solvers.first_order import FirstOrderSolver
from ..solvers.polish import convex_objective
from ._atoms import merge_directions

__all__ = ["dual_analysis", "refine_prediction", "resolve_first_order", "support_accuracy"]

_TINY = np.finfo(float).tiny
# Newton refinement: groups below _SMALL_RTOL times the largest may be dropped; stop on a relative
# Newton decrement.
_SMALL_RTOL = 1e-2
_NEWTON_RTOL = 1e-15
_NEWTON_MAX_ITER = 30


def resolve_first_order(X_aug, arrangements, Y, s, loss, alpha, blocks, intercept, *, fit_intercept, tol):
    """Re-solve with the first-order solver from ``blocks`` (2, K, d, P) and ``intercept``.

    Returns
    -------
    (objective, prediction, blocks, intercept) of the re-solve.
    """
    solver = FirstOrderSolver(
        X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept, generators=arrangements.generators,
    )
    gap = min(REFINE_GAP_FACTOR * tol, REFINE_MAX_GAP)
    result = solver.solve(alpha, tol=gap, max_iter=REFINE_MAX_ITER, init=(blocks[0], blocks[1], intercept))
    objective, prediction = convex_objective(
        X_aug, arrangements.patterns, result.blocks_pos, result.blocks_neg, result.intercept, Y, s, loss, alpha,
    )
    return objective, prediction, np.stack([result.blocks_pos, result.blocks_neg]), result.intercept


def _face_basis(X_aug, pattern, direction):
    """Orthonormal basis (d, d_F) of the span of the face of the cone that holds ``direction``."""
    A = _cone_rows(X_aug, pattern)
    return face_span(A[on_face(A @ direction, np.linalg.norm(A, axis=1), np.linalg.norm(direction))], X_aug.shape[1])


def _damped_solve(H, g):
    """``(H + 1e-9 diag H)⁻¹ g`` for a symmetric positive semi-definite ``H``.

    The damping (Levenberg–Marquardt, scaled by each diagonal entry so that it does not depend on
    the scale of the features: one relative to the largest entry swamped the directions along the
    small columns next to a column ×1e5) keeps steps bounded along the flat directions of a
    non-unique optimum and along nearly parallel atoms that are not told apart.
    """
    diagonal = np.diag(H)
    damping = 1e-9 * np.maximum(diagonal, 1e-9 * max(float(np.max(diagonal, initial=0.0)), _TINY))
    try:
        return cho_solve(cho_factor(H + np.diag(damping)), g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=1e-9)[0]


def _newton_group_lasso(fits, outputs, spans, owner, cones, x, c, loss, Y, s, alpha, fit_intercept):
    """Minimise ``value(Z) + alpha Σ_g ‖x_g‖`` subject to ``cones[g] @ x_g ≥ 0``, from ``(x, c)``.

    ``Z = Σ_j fits_j x_j e_{outputs[j]} + c``: group ``g`` holds the columns ``owner == g``,
    coordinates of the block ``spans_g x_g`` in an orthonormal basis of its face
    (:mod:`~sklearn_convexrelu.solvers._subspace_newton` gives the Newton system). Damped Newton
    steps on the nonzero groups and the intercept (a ratio test keeps the groups in their cones);
    a small group whose step would carry it through zero is set to zero and left out (an
    active-set guess, verified by the caller). The optimal set is not a point in general, so the
    Newton system is damped.

    Returns
    -------
    x : ndarray of shape (n_columns,)
    c : ndarray of shape (n_outputs,)
    """
    K = Y.shape[1]
    penalty = GroupNormPenalty()
    system = (loss, penalty, alpha, Y, s)
    weights = np.eye(K)[outputs]  # (n_columns, K)
    x, c = x.copy(), np.array(c, dtype=float)
    live = np.array([np.any(x[owner == g]) for g in range(len(cones))], dtype=bool)

    def blocks(x):
        W = np.zeros((spans.shape[0], live.size))
        np.add.at(W.T, owner, (spans * x).T)
        return W

    def objective(x, c):
        Z = fits @ (x[:, None] * weights) + c
        return loss.value(Z, Y, s) + penalty.value(alpha, blocks(x), axis=0), Z

    current, Z = objective(x, c)
    for _ in range(_NEWTON_MAX_ITER):
        if not (live.any() or fit_intercept):
            break
        columns = live[owner]
        groups = np.flatnonzero(live)
        local = np.searchsorted(groups, owner[columns])  # owner among the live groups
        W = blocks(x)[:, live]
        args = (Z, fits[:, columns], outputs[columns], W, spans[:, columns], local, fit_intercept)
        grad = subspace_gradient(*system, *args)
        step_active = -_damped_solve(subspace_hessian(*system, *args), grad)
        step = np.zeros_like(x)
        step[columns] = step_active[: local.size]
        step_c = step_active[local.size:] if fit_intercept else np.zeros(K)
        sizes = np.linalg.norm(W, axis=0)
        largest = float(sizes.max(initial=0.0))
        through_zero = np.array([
            x[owner == g] @ (x[owner == g] + step[owner == g]) <= 0 and size <= _SMALL_RTOL * largest
            for g, size in zip(groups, sizes)
        ], dtype=bool)
        if through_zero.any():
            x[np.isin(owner, groups[through_zero])] = 0.0
            live[groups[through_zero]] = False
            current, Z = objective(x, c)
            continue
        decrement = -grad @ step_active
        if not decrement > _NEWTON_RTOL * max(abs(current), _TINY):
            break
        ratios = [(cones[g] @ x[owner == g]) / -(cones[g] @ step[owner == g]) for g in groups]
        t_max = min([1.0] + [float(np.min(r[np.isfinite(r) & (r >= 0)], initial=1.0)) for r in ratios])
        for length in t_max * 0.5 ** np.arange(40):
            value, candidate = objective(x + length * step, c + length * step_c)
            if value <= current - 1e-4 * length * decrement:
                break
        else:
            break
        x, c, current, Z = x + length * step, c + length * step_c, value, candidate
        apex = groups[[not np.any(x[owner == g]) for g in groups]]
        x[np.isin(owner, apex)] = 0.0
        live[apex] = False
    return x, c


def refine_prediction(X_aug, patterns, Y, s, loss, alpha, blocks, intercept, fit_intercept, R, accuracy):
    """Newton refinement of the optimal prediction (see the module docstring).

    The solution's blocks above ``SUPPORT_RTOL`` times the largest are grouped by atom (blocks
    whose dual directions at ``R`` are closer than ``TIGHT_FACTOR · accuracy`` share one), each
    group becomes one block on the cone of its largest member, confined to the linear span of the
    face that holds the dual direction. On those subspaces the program is a smooth group lasso.

    Returns
    -------
    (prediction, blocks) or None
        The refined prediction (n, K) and blocks (2, K, d, P); ``None`` when there is nothing to
        refine or a refined block leaves its cone.
    """
    norms = np.linalg.norm(blocks, axis=2)
    side, out, pat = np.nonzero(norms > SUPPORT_RTOL * norms.max(initial=0.0))
    if side.size == 0:
        return None
    K = Y.shape[1]
    duals = _block_duals(X_aug, patterns, R, side, out, pat)
    units = duals / np.maximum(np.linalg.norm(duals, axis=1, keepdims=True), _TINY)
    labels = merge_directions(units, np.column_stack([side, out]), TIGHT_FACTOR * accuracy)
    size = norms[side, out, pat]
    members = [np.flatnonzero(labels == label) for label in range(labels.max() + 1)]
    heads = np.array([group[np.argmax(size[group])] for group in members])
    if not np.all(np.any(duals[heads], axis=1)):
        return None  # a block on a cone whose dual direction is zero: far from optimal
    bases = [_face_basis(X_aug, patterns[:, pat[h]], duals[h]) for h in heads]
    if sum(B.shape[1] for B in bases) + (K if fit_intercept else 0) > REFINE_MAX_UNKNOWNS:
        return None
    spans = np.concatenate(bases, axis=1)  # (d, n_columns)
    owner = np.repeat(np.arange(heads.size), [B.shape[1] for B in bases])
    fits = (1 - 2 * side[heads[owner]]) * (patterns[:, pat[heads[owner]]] * (X_aug @ spans))  # σ D X̃ N
    x = np.concatenate([B.T @ units[h] * size[group].sum() for h, group, B in zip(heads, members, bases)])  # on the face
    cones = []
    for h, B in zip(heads, bases):
        A = _cone_rows(X_aug, patterns[:, pat[h]]) @ B  # the face's own constraints vanish
        cones.append(A[np.any(np.abs(A) > 1e-12 * np.abs(A).max(initial=0.0), axis=1)])
    c = intercept if fit_intercept else np.zeros(K)
    x, c = _newton_group_lasso(fits, out[heads[owner]], spans, owner, cones, x, c, loss, Y, s, alpha, fit_intercept)
    refined = np.zeros_like(blocks)
    for g, (h, B) in enumerate(zip(heads, bases)):
        v = B @ x[owner == g]
        A = _cone_rows(X_aug, patterns[:, pat[h]])
        if not in_cone(A, v, IN_CONE_ITERATIVE_RTOL):
            return None
        refined[side[h], out[h], :, pat[h]] = v
    return fits @ (x[:, None] * np.eye(K)[out[heads[owner]]]) + c, refined


def _block_duals(X_aug, patterns, R, side, out, pat):
    """``Π_{K_i}(σ X̃ᵀ D_i r_k)`` for the blocks ``(side, out, pat)``, shape (n_blocks, d)."""
    A = adjoint(X_aug, patterns[:, pat], R)[out, :, np.arange(pat.size)].T * (1 - 2 * side)  # (d, n_blocks)
    return project_onto_cones(X_aug, patterns, A, pat)[0].T


def support_accuracy(X_aug, patterns, R, alpha, blocks):
    """How far the nonzero blocks of a solution are from optimality at the dual vector ``R``.

    In exact arithmetic every nonzero block ``w_b`` is tight, ``κ_b = alpha``, and points along
    its dual direction, ``w_b / ‖w_b‖ = Π_{K_b}(z_b) / κ_b`` (SPEC §5).

    Returns
    -------
    tightness : float
        ``max |κ_b/alpha − 1|``: what the tight-set decisions use.
    turn : float
        The largest distance between the two unit vectors. Tightness is only second order in an
        error of ``R`` on the blocks a solver made tight (a dual from a solve to relative gap ``δ``
        is tight to about ``δ`` but its directions are off by about ``√δ``); the turn is first
        order, and the directions are what the atoms are made of: it decides which of several
        duals is the more accurate.
    """
    norms = np.linalg.norm(blocks, axis=2)
    side, out, pat = np.nonzero(norms > 0)
    if side.size == 0:
        return 0.0, 0.0
    duals = _block_duals(X_aug, patterns, R, side, out, pat)
    kappas = np.linalg.norm(duals, axis=1)
    units = blocks[side, out, :, pat] / norms[side, out, pat][:, None]
    turn = np.linalg.norm(units - duals / np.maximum(kappas, _TINY)[:, None], axis=1)
    return float(np.max(np.abs(kappas / alpha - 1))), float(np.max(turn))


def dual_analysis(X_aug, patterns, R, alpha, blocks, kappas_of):
    """κ (K, P, 2) and projected directions (K, d, P, 2) near alpha, and the accuracy ε of ``R``.

    Every κ above ``(1 − band) alpha`` is computed exactly, ``band ≥ CANDIDATE_FACTOR · ε`` (at most
    0.5); the others, below that level, hold 0: they are no candidate atoms, and their projections
    stop as soon as they are shown to be below it (on load_digits, n = 1000, exact projections of
    every block above the level took 7.3 s of a 35 s fit). ``kappas_of(R, threshold,
    bound_only=True)``: :func:`cone_kappas` over ``patterns``, or a solver's warm-started equivalent.
    """
    accuracy = np.clip(support_accuracy(X_aug, patterns, R, alpha, blocks)[0], ACCURACY_FLOOR, ACCURACY_CAP)
    band = 0.0
    while band < CANDIDATE_FACTOR * accuracy:
        band = min(0.5, 2 * CANDIDATE_FACTOR * accuracy)
        kappas, directions, exact = kappas_of(R, (1 - band) * alpha, bound_only=True)
        kappas = np.where(exact, kappas, 0.0)  # a bound may equal the level: never a candidate
        accuracy = np.clip(float(kappas.max(initial=0.0)) / alpha - 1, accuracy, ACCURACY_CAP)
    return kappas, directions, float(accuracy)
