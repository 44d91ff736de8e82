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
accuracy of a dual is measured by :func:`dual_analysis` (see :mod:`._tolerances`).
"""

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ..program.cones import _cone_rows, cone_kappas, face_span, project_onto_cones
from ..program.operators import adjoint
from ..solvers.first_order import FirstOrderSolver
from ..solvers.polish import convex_objective
from ._atoms import merge_directions
from ._tolerances import (
    ACCURACY_CAP, ACCURACY_FLOOR, CANDIDATE_FACTOR, REFINE_GAP_FACTOR, REFINE_MAX_ITER, REFINE_MAX_UNKNOWNS,
    TIGHT_FACTOR,
)

__all__ = ["dual_analysis", "refine_prediction", "resolve_first_order", "support_accuracy"]

_TINY = np.finfo(float).tiny
# Newton refinement: |x̃ᵀŵ| ≤ _FACE_RTOL ‖x̃‖ ‖ŵ‖ puts x̃ on the face of ŵ; groups below
# _SMALL_RTOL times the largest may be dropped; stop on a relative Newton decrement.
_FACE_RTOL = 1e-9
_SMALL_RTOL = 1e-2
_NEWTON_RTOL = 1e-15
_NEWTON_MAX_ITER = 30
# Blocks below _SUPPORT_RTOL times the largest are taken as solver noise by the refinement (the
# refinement is verified afterwards, so a wrong guess only loses the refinement).
_SUPPORT_RTOL = 1e-4


def resolve_first_order(X_aug, arrangements, Y, s, loss, alpha, blocks, intercept, *, fit_intercept, tol):
    """Re-solve with the first-order solver from ``blocks`` (2, K, d, P) and ``intercept``.

    Returns
    -------
    (objective, prediction, blocks, intercept) of the re-solve.
    """
    solver = FirstOrderSolver(
        X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept, generators=arrangements.generators,
    )
    result = solver.solve(alpha, tol=REFINE_GAP_FACTOR * tol, max_iter=REFINE_MAX_ITER, init=(blocks[0], blocks[1], intercept))
    objective, prediction = convex_objective(
        X_aug, arrangements.patterns, result.blocks_pos, result.blocks_neg, result.intercept, Y, s, loss, alpha,
    )
    return objective, prediction, np.stack([result.blocks_pos, result.blocks_neg]), result.intercept


def _face_basis(X_aug, pattern, direction):
    """Orthonormal basis (d, d_F) of the span of the face of the cone that holds ``direction``."""
    A = _cone_rows(X_aug, pattern)
    scale = np.linalg.norm(A, axis=1) * np.linalg.norm(direction)
    return face_span(A[np.abs(A @ direction) <= _FACE_RTOL * scale], X_aug.shape[1])


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


def _newton_group_lasso(J, groups, cones, free, x, loss, Y, s, alpha):
    """Minimise ``value(J x) + alpha Σ_g ‖x_g‖`` subject to ``cones[g] @ x_g ≥ 0``, from ``x``.

    Damped Newton steps on the nonzero groups and the unpenalised columns ``free`` (a boolean
    mask; the other columns stay zero). ``J`` has shape (n, K, N); ``groups`` lists the column
    indices of the penalised groups, ``cones`` their constraints (a ratio test keeps them
    satisfied). A small group
    whose Newton step would carry it through zero is set to zero and left out (an active-set
    guess, verified by the caller). The optimal set is not a point in general, so the Newton system
    is damped.
    """
    n, K, N = J.shape
    flat = J.reshape(n * K, N)
    groups, cones = list(groups), list(cones)

    def objective(z):
        return loss.value((flat @ z).reshape(n, K), Y, s) + alpha * sum(np.linalg.norm(z[g]) for g in groups)

    current = objective(x)
    for _ in range(_NEWTON_MAX_ITER):
        active = free.copy()
        for g in groups:
            active[g] = True
        Z = (flat @ x).reshape(n, K)
        grad = -flat.T @ loss.residual(Z, Y, s).ravel()
        hess = np.einsum("nam,nab,nbq->mq", J, loss.sample_hessians(Z, Y, s), J, optimize=True)
        for g in groups:
            norm = np.linalg.norm(x[g])
            unit = x[g] / norm
            grad[g] += alpha * unit
            hess[np.ix_(g, g)] += alpha * (np.eye(g.size) - np.outer(unit, unit)) / norm
        step = np.zeros(N)
        step[active] = -_damped_solve(hess[np.ix_(active, active)], grad[active])
        largest = max(np.linalg.norm(x[g]) for g in groups) if groups else 0.0
        through_zero = [
            x[g] @ (x[g] + step[g]) <= 0 and np.linalg.norm(x[g]) <= _SMALL_RTOL * largest for g in groups
        ]
        if any(through_zero):
            groups, cones = _drop_groups(x, groups, cones, through_zero)
            current = objective(x)
            continue
        decrement = -grad @ step
        if not decrement > _NEWTON_RTOL * max(abs(current), _TINY):
            break
        ratios = [(C @ x[g]) / -(C @ step[g]) for g, C in zip(groups, cones)]
        t_max = min([1.0] + [float(np.min(r[np.isfinite(r) & (r >= 0)], initial=1.0)) for r in ratios])
        for t in t_max * 0.5 ** np.arange(40):
            value = objective(x + t * step)
            if value <= current - 1e-4 * t * decrement:
                break
        else:
            break
        x, current = x + t * step, value
        groups, cones = _drop_groups(x, groups, cones, [not np.any(x[g]) for g in groups])  # at the apex
    return x


def _drop_groups(x, groups, cones, gone):
    """Set the groups flagged in ``gone`` to zero and leave them out of ``groups`` and ``cones``."""
    for g in (g for g, flag in zip(groups, gone) if flag):
        x[g] = 0.0
    return [g for g, flag in zip(groups, gone) if not flag], [C for C, flag in zip(cones, gone) if not flag]


def refine_prediction(X_aug, patterns, Y, s, loss, alpha, blocks, intercept, fit_intercept, R, accuracy):
    """Newton refinement of the optimal prediction (see the module docstring).

    The solution's blocks above ``_SUPPORT_RTOL`` times the largest are grouped by atom (blocks
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
    side, out, pat = np.nonzero(norms > _SUPPORT_RTOL * norms.max(initial=0.0))
    if side.size == 0:
        return None
    n, K = Y.shape
    duals = _block_duals(X_aug, patterns, R, side, out, pat)
    units = duals / np.maximum(np.linalg.norm(duals, axis=1, keepdims=True), _TINY)
    labels = merge_directions(units, np.column_stack([side, out]), TIGHT_FACTOR * accuracy)
    size = norms[side, out, pat]
    members = [np.flatnonzero(labels == label) for label in range(labels.max() + 1)]
    heads = np.array([group[np.argmax(size[group])] for group in members])
    if not np.all(np.any(duals[heads], axis=1)):
        return None  # a block on a cone whose dual direction is zero: far from optimal
    bases = [_face_basis(X_aug, patterns[:, pat[h]], duals[h]) for h in heads]
    offsets = np.cumsum([0] + [B.shape[1] for B in bases])
    n_unknowns = offsets[-1] + (K if fit_intercept else 0)
    if n_unknowns > REFINE_MAX_UNKNOWNS:
        return None
    J = np.zeros((n, K, n_unknowns))
    x = np.zeros(n_unknowns)
    groups, cones = [], []
    for g, (h, group, B) in enumerate(zip(heads, members, bases)):
        cols = np.arange(offsets[g], offsets[g + 1])
        J[:, out[h], cols] = (1 - 2 * side[h]) * (patterns[:, pat[h], None] * X_aug) @ B
        x[cols] = B.T @ units[h] * size[group].sum()  # the dual direction: in the cone, on the face
        A = _cone_rows(X_aug, patterns[:, pat[h]]) @ B  # the face's own constraints vanish
        if np.any(x[cols]):
            groups.append(cols)
            cones.append(A[np.any(np.abs(A) > 1e-12 * np.abs(A).max(initial=0.0), axis=1)])
    if fit_intercept:
        J[:, np.arange(K), offsets[-1] + np.arange(K)] = 1.0
        x[offsets[-1]:] = intercept
    free = np.arange(J.shape[2]) >= offsets[-1]  # the output intercepts
    x = _newton_group_lasso(J, groups, cones, free, x, loss, Y, s, alpha)
    refined = np.zeros_like(blocks)
    for g, (h, B) in enumerate(zip(heads, bases)):
        v = B @ x[offsets[g]:offsets[g + 1]]
        A = _cone_rows(X_aug, patterns[:, pat[h]])
        if np.any(A @ v < -1e-9 * np.linalg.norm(A, axis=1) * np.linalg.norm(v)):
            return None
        refined[side[h], out[h], :, pat[h]] = v
    return np.einsum("nkm,m->nk", J, x), refined


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


def dual_analysis(X_aug, patterns, R, alpha, blocks):
    """κ (K, P, 2) and projected directions (K, d, P, 2) near alpha, and the accuracy ε of ``R``.

    Every κ above ``(1 − 2 · CANDIDATE_FACTOR · ε) alpha`` is computed exactly (the others are
    screened out by their unprojected norm).
    """
    accuracy = np.clip(support_accuracy(X_aug, patterns, R, alpha, blocks)[0], ACCURACY_FLOOR, ACCURACY_CAP)
    band = 0.0
    while band < CANDIDATE_FACTOR * accuracy:
        band = min(0.5, 2 * CANDIDATE_FACTOR * accuracy)
        kappas, directions, _ = cone_kappas(X_aug, patterns, R, threshold=(1 - band) * alpha)
        accuracy = np.clip(float(kappas.max(initial=0.0)) / alpha - 1, accuracy, ACCURACY_CAP)
    return kappas, directions, float(accuracy)
