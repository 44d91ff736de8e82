"""Projections onto the activation cones and the dual-feasibility numbers κ (SPEC §2, §4).

The cone of pattern ``D_i`` is ``K_i = {u : A_i u ≥ 0}`` with ``A_i = (2 D_i − I) X̃``. For
``a ∈ R^d``, ``max_{u ∈ K_i, ‖u‖ ≤ 1} aᵀu = ‖Π_{K_i}(a)‖`` and, by Moreau's decomposition,
``Π_K(a) = a + A_iᵀρ*`` with ``ρ* = argmin_{ρ ≥ 0} ‖a + A_iᵀρ‖`` (one non-negative least squares).
Any ``ρ ≥ 0`` gives an upper bound ``‖Π_K(a)‖ ≤ ‖a + A_iᵀρ‖``.

:func:`project_onto_cones` solves many of these at once by the Lawson–Hanson active-set method,
vectorised over the blocks: each block keeps a *face* (at most ``d`` rows with ``ρ > 0``); one
round is a batched solve on the faces plus one product ``X̃ U`` that finds the most violated rows of
every block. The faces of a previous call (e.g. the same block one solver iteration earlier) are
the warm start.
"""

import numpy as np

from .._nnls import nnls
from .operators import adjoint

__all__ = ["cone_kappas", "project_onto_cone", "project_onto_cones"]

# Relative tolerance of the cone check: row j may be violated by _RTOL ‖x̃_j‖ ‖a‖.
_RTOL = 1e-12
# Entries of the (n_samples, blocks) slack matrix formed at once (memory of one round).
_SLACK_ENTRIES = 2**23
# Violated rows a block's face takes per round (the most violated first): fewer rounds than one at
# a time when faces are large (narrow cones in many dimensions).
_ROWS_PER_ROUND = 8


def _cone_rows(X_aug, pattern):
    """Rows of ``(2D − I) X̃`` that constrain the cone (zero rows dropped)."""
    A = np.where(pattern[:, None], X_aug, -X_aug)
    return A[np.any(A != 0, axis=1)]


def project_onto_cone(X_aug, pattern, a):
    """Euclidean projection of ``a`` onto the cone ``K = {u : (2D − I) X̃ u ≥ 0}``.

    One column of :func:`project_onto_cones`.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    pattern : ndarray of shape (n_samples,), dtype bool
    a : ndarray of shape (n_dims,)

    Returns
    -------
    ndarray of shape (n_dims,)
    """
    a = np.asarray(a, dtype=float)
    return project_onto_cones(X_aug, pattern[:, None], a[:, None], np.zeros(1, dtype=int))[0][:, 0]


def _single_projection(X_aug, pattern, a):
    """``Π_K(a)`` for a block the batched method left unfinished (degenerate data).

    One NNLS over all rows, accepted only if its point satisfies the optimality conditions of the
    projection (in the cone, and ``a − u`` orthogonal to ``u``, Moreau); otherwise the quadratic
    program is solved by cvxpy (Clarabel): scipy's NNLS can fail on nearly dependent rows.
    """
    A = _cone_rows(X_aug, pattern)
    if A.shape[0] == 0:
        return a.copy()
    scale = float(np.linalg.norm(a))
    try:
        rho, _ = nnls(A.T, -a)
        u = a + A.T @ rho
        if np.all(A @ u >= -1e-9 * scale * np.linalg.norm(A, axis=1)) and abs(u @ (u - a)) <= 1e-9 * scale**2:
            return u
    except RuntimeError:  # neither NNLS method converged
        pass
    import cvxpy as cp

    v = cp.Variable(a.size)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(v - a)), [A @ v >= 0])
    problem.solve(solver="CLARABEL")
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"Projection onto an activation cone failed: Clarabel status {problem.status!r}.")
    return np.asarray(v.value, dtype=float)


def _signed_rows(X_aug, patterns, index, rows):
    """Rows ``(2D_i − I) x̃_j`` for blocks of patterns ``index`` (B,) and rows (B, W): (B, W, d)."""
    X_rows = X_aug[rows]
    return np.where(patterns[rows, index[:, None]][..., None], X_rows, -X_rows)


def _face_multipliers(A_face, used, A):
    """``argmin_ρ ‖a + A_Fᵀρ‖`` over each block's face (no sign constraint), shape (B, W); ``A`` is (B, d)."""
    rho = np.zeros(used.shape)
    if not used.any():
        return rho
    width = used.shape[1] - int(np.argmax(used[:, ::-1].any(axis=0)))
    used, A_face = used[:, :width], A_face[:, :width] * used[:, :width, None]  # later slots are all empty
    gram = A_face @ A_face.transpose(0, 2, 1) + np.eye(width) * ~used[:, None, :]
    rhs = -(A_face @ A[:, :, None])
    try:
        rho[:, :width] = np.linalg.solve(gram, rhs)[..., 0] * used
    except np.linalg.LinAlgError:  # a dependent face (degenerate data): least squares per block
        rho[:, :width] = np.stack([np.linalg.lstsq(g, r, rcond=None)[0][:, 0] for g, r in zip(gram, rhs)]) * used
    return rho


def _lawson_hanson(X_aug, patterns, row_norms, A, index, rows, used, threshold, max_rounds):
    """Batched Lawson–Hanson from the faces ``rows``/``used`` (B, d); see :func:`project_onto_cones`.

    ``A`` holds one block per row, shape (B, d). Returns ``U`` (B, d), ``exact`` (B,), the final
    faces and the blocks left unfinished (B,) bool.
    """
    B, d = A.shape
    tolerance = _RTOL * np.linalg.norm(A, axis=1)
    signs = np.where(patterns[:, index], 1.0, -1.0).T  # (B, n): row j of block b's cone is signs[b, j] x̃_j
    A_face = _signed_rows(X_aug, patterns, index, rows)
    for _ in range(d + 1):  # warm faces: drop rows until every multiplier is positive (feasible start)
        rho = _face_multipliers(A_face, used, A)
        wrong = used & ~(rho > 0)
        if not wrong.any():
            break
        used = used & ~wrong
    else:
        used, rho = np.zeros_like(used), np.zeros_like(rho)
    U = A.copy()
    exact = np.ones(B, dtype=bool)
    unfinished = np.zeros(B, dtype=bool)
    k = min(_ROWS_PER_ROUND, d, X_aug.shape[0])
    last = np.full(B, -1)  # worst row of the previous round
    alone = np.zeros(B, dtype=bool)  # ... added alone: adding it again means rounding, not progress
    todo = np.arange(B)
    for _ in range(max_rounds):
        U[todo] = A[todo] + (rho[todo, None, :] @ A_face[todo])[:, 0]
        slack = signs[todo] * (U[todo] @ X_aug.T)  # (b, n)
        on_face, slot = np.nonzero(used[todo])
        slack[on_face, rows[todo[on_face], slot]] = np.inf  # face rows hold with equality
        candidates = np.argpartition(slack, k - 1, axis=1)[:, :k]  # the k most violated rows, worst first
        values = np.take_along_axis(slack, candidates, axis=1)
        order = np.argsort(values, axis=1)
        candidates, values = np.take_along_axis(candidates, order, axis=1), np.take_along_axis(values, order, axis=1)
        violated = values < -tolerance[todo, None] * row_norms[candidates]
        worst = candidates[:, 0]
        bounded = violated[:, 0] & (np.linalg.norm(U[todo], axis=1) <= threshold)  # ρ ≥ 0: ‖u‖ ≥ ‖Π_K(a)‖
        exact[todo[bounded]] = False
        grow = violated[:, 0] & ~bounded
        repeat = worst == last[todo]
        stuck = grow & (used[todo].all(axis=1) | (repeat & alone[todo]))  # degenerate data or rounding
        unfinished[todo[stuck]] = True
        grow &= ~stuck
        new, candidates, violated, repeat = todo[grow], candidates[grow], violated[grow], repeat[grow]
        if new.size == 0:
            break
        # violated rows into free slots; a worst row that came back (dropped by the inner loop) enters
        # alone, as in Lawson–Hanson proper, where it is sure to get a positive multiplier
        slots = np.argsort(used[new], axis=1, kind="stable")[:, :k]  # free slots first
        enter = violated & ~np.take_along_axis(used[new], slots, axis=1)
        enter[repeat, 1:] = False
        b, j = np.nonzero(enter)
        block, slot, row = new[b], slots[b, j], candidates[b, j]
        rows[block, slot], used[block, slot], rho[block, slot] = row, True, 0.0
        A_face[block, slot] = signs[block, row][:, None] * X_aug[row]
        last[new], alone[new] = candidates[:, 0], repeat
        inner = new
        for _ in range(d + 1):  # Lawson–Hanson inner loop: stay feasible, drop rows that reach ρ = 0
            z = _face_multipliers(A_face[inner], used[inner], A[inner])
            negative = used[inner] & (z <= 0)
            fine = ~negative.any(axis=1)
            rho[inner[fine]] = z[fine]
            inner, z, negative = inner[~fine], z[~fine], negative[~fine]
            if inner.size == 0:
                break
            old = rho[inner]
            ratio = np.full(old.shape, np.inf)  # where ρ reaches zero on the segment to z (z ≤ 0 < old - z or both 0)
            gap = old[negative] - z[negative]
            ratio[negative] = np.where(gap > 0, old[negative] / np.where(gap > 0, gap, 1.0), 0.0)
            step = ratio.min(axis=1, keepdims=True)
            moved = old + step * (z - old)
            drop = negative & (ratio <= step)
            used[inner] &= ~drop
            rho[inner] = np.where(used[inner], moved, 0.0)
        unfinished[inner] = True  # the inner loop did not settle (at most d drops are possible)
        todo = new[~unfinished[new]]
    else:
        unfinished[todo] = True
    return U, exact, rows, used & (rho > 0), unfinished


def project_onto_cones(X_aug, patterns, A, index, *, faces=None, threshold=0.0):
    """Projections ``Π_{K_i}(a)`` of the columns of ``A`` onto their patterns' cones, batched.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    A : ndarray of shape (n_dims, n_blocks)
    index : ndarray of shape (n_blocks,)
        Pattern of each column.
    faces : ndarray of shape (n_blocks, n_dims), dtype int, default=None
        Rows of each column's face from an earlier call, padded with -1 (a warm start; any rows
        are valid).
    threshold : float, default=0.0
        Columns whose projection is shown to have norm at most ``threshold`` may stop early with a
        point ``a + A_iᵀρ``, ``ρ ≥ 0``, whose norm bounds ``‖Π_{K_i}(a)‖`` from above.

    Returns
    -------
    U : ndarray of shape (n_dims, n_blocks)
    exact : ndarray of shape (n_blocks,), dtype bool
        Whether the column is the exact projection (always when its norm exceeds ``threshold``).
    faces : ndarray of shape (n_blocks, n_dims), dtype int
        Each column's face (rows with a positive multiplier), padded with -1, for a later warm start.
    """
    d, B = A.shape
    U, exact = np.array(A, dtype=float), np.ones(B, dtype=bool)
    faces = np.full((B, d), -1) if faces is None else np.array(faces, dtype=int)
    row_norms = np.linalg.norm(X_aug, axis=1)
    chunk = max(1, _SLACK_ENTRIES // max(X_aug.shape[0], d * d, 1))
    for start in range(0, B, chunk):
        part = slice(start, min(start + chunk, B))
        used = faces[part] >= 0
        U_part, exact[part], rows, used, unfinished = _lawson_hanson(
            X_aug, patterns, row_norms, A[:, part].T, index[part], np.where(used, faces[part], 0), used, threshold,
            20 * d + 50,
        )
        U[:, part], faces[part] = U_part.T, np.where(used, rows, -1)
        for b in start + np.flatnonzero(unfinished):  # rare (degenerate data)
            U[:, b] = _single_projection(X_aug, patterns[:, index[b]], A[:, b])
            exact[b] = True
    return U, exact, faces


def cone_kappas(X_aug, patterns, R, threshold=0.0, *, bound_only=False):
    """κ_{i,σ,k} = ‖Π_{K_i}(σ X̃ᵀ D_i r_k)‖ for every pattern i, sign σ and output k (SPEC §4).

    Only blocks whose unprojected norm ``‖X̃ᵀ D_i r_k‖`` exceeds ``threshold`` are projected (since
    ``‖Π_K(a)‖ ≤ ‖a‖``); the others get the unprojected norm, an upper bound.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    R : ndarray of shape (n_samples, n_outputs)
        Dual vector, one column per output.
    threshold : float, default=0.0
    bound_only : bool, default=False
        Let projected blocks stop as soon as their κ is shown to be at most ``threshold`` (they
        then get an upper bound): enough to certify ``max κ ≤ threshold`` and much cheaper.

    Returns
    -------
    kappas : ndarray of shape (n_outputs, n_patterns, 2)
        Last axis: σ = +1 (positive neurons), σ = −1 (negative neurons).
    directions : ndarray of shape (n_outputs, n_dims, n_patterns, 2)
        The projections ``Π_{K_i}(σ X̃ᵀ D_i r_k)`` (unprojected for screened blocks).
    exact : ndarray of shape (n_outputs, n_patterns, 2), dtype bool
        Whether the entry is the exact κ (``True``) or only an upper bound (``False``).
    """
    A = adjoint(X_aug, patterns, R)  # (K, d, P)
    directions = np.stack([A, -A], axis=-1)  # (K, d, P, 2)
    kappas = np.linalg.norm(directions, axis=1)
    exact = np.zeros(kappas.shape, dtype=bool)
    k, i, side = np.nonzero(kappas > threshold)
    if k.size:
        U, done, _ = project_onto_cones(X_aug, patterns, directions[k, :, i, side].T, i,
                                        threshold=threshold if bound_only else 0.0)
        directions[k, :, i, side] = U.T
        kappas[k, i, side] = np.linalg.norm(U, axis=0)
        exact[k, i, side] = done
    return kappas, directions, exact
