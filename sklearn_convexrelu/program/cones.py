"""Projections onto the activation cones and the dual-feasibility numbers κ (SPEC §2, §4).

The cone of pattern ``D_i`` is ``K_i = {u : A_i u ≥ 0}`` with ``A_i = (2 D_i − I) X̃``. For
``a ∈ R^d``, ``max_{u ∈ K_i, ‖u‖ ≤ 1} aᵀu = ‖Π_{K_i}(a)‖`` and, by Moreau's decomposition,
``Π_K(a) = a + A_iᵀρ*`` with ``ρ* = argmin_{ρ ≥ 0} ‖a + A_iᵀρ‖`` (one non-negative least squares).
Any ``ρ ≥ 0`` gives an upper bound ``‖Π_K(a)‖ ≤ ‖a + A_iᵀρ‖``.

:func:`project_onto_cones` solves many of these at once by the Lawson–Hanson active-set method, in a
compiled loop over the blocks (numba, :mod:`._cone_kernels`): each block keeps a *face* (at most
``d`` independent rows with ``ρ > 0``) as a QR factorisation updated as rows enter and leave; one
round is a solve on the face plus one product ``X̃ u`` that finds the most violated rows. The faces
of a previous call (e.g. the same block one solver iteration earlier) are the warm start.
"""

import warnings

import numpy as np

from .._nnls import nnls
from .._tolerances import FACE_RTOL, IN_CONE_ITERATIVE_RTOL, IN_CONE_RTOL
from ._cone_kernels import lawson_hanson_blocks
from .operators import adjoint

__all__ = ["cone_kappas", "face_span", "in_cone", "largest_bounds_first", "on_face", "project_onto_cone", "project_onto_cones"]

# Violated rows a block's face takes per round (the most violated first): fewer rounds than one at
# a time when faces are large (narrow cones in many dimensions).
_ROWS_PER_ROUND = 8
# A row entering a face with a component off the face's span of at most this fraction of its norm is
# dependent and stays out (duplicate rows, rank-deficient X̃): it changes neither span nor projection.
_DEPENDENCE = 1e-10


def _cone_rows(X_aug, pattern):
    """Rows of ``(2D − I) X̃`` that constrain the cone (zero rows dropped)."""
    A = np.where(pattern[:, None], X_aug, -X_aug)
    return A[np.any(A != 0, axis=1)]


def in_cone(rows, w, rtol):
    """Whether ``w`` lies in the cone ``{u : rows @ u ≥ 0}`` up to rounding.

    Every row ``j`` may be violated by at most ``rtol ‖x̃_j‖ ‖w‖``: ``IN_CONE_RTOL`` for exact
    projections, ``IN_CONE_ITERATIVE_RTOL`` for iterative results (the polish's fallback, the
    Newton refinement).

    Parameters
    ----------
    rows : ndarray of shape (n_rows, n_dims)
        The signed rows ``(2D − I) X̃`` of the cone.
    w : ndarray of shape (n_dims,)
    rtol : float

    Returns
    -------
    bool
    """
    return bool(np.all(rows @ w >= -rtol * np.linalg.norm(rows, axis=1) * np.linalg.norm(w)))


def on_face(slack, row_norms, block_norm):
    """Whether rows lie on the face of a block ``w`` of its cone (SPEC §5).

    A row is on the face when its slack ``(2D − I)_jj x̃_jᵀw`` is at most ``FACE_RTOL ‖x̃_j‖ ‖w‖``;
    a row violated by rounding counts as on the face (a move along the face keeps it there). Used
    by the first-order solver's direction polish and the optimal set's Newton refinement.

    Parameters
    ----------
    slack : ndarray
        The rows' slacks; broadcast against the norms.
    row_norms : ndarray
        ``‖x̃_j‖``.
    block_norm : float or ndarray
        ``‖w‖``.

    Returns
    -------
    ndarray of bool
    """
    return slack <= FACE_RTOL * row_norms * block_norm


def face_span(rows, n_dims):
    """Orthonormal basis of the span of the face of a cone whose active constraints are ``rows``.

    The null space of ``rows`` (singular values below 1e-10 times the largest count as zero); the
    whole space when no constraint is active.

    Parameters
    ----------
    rows : ndarray of shape (n_active, n_dims)
        The active constraint rows ``±x̃_i`` of the face.
    n_dims : int
        Dimension of the space.

    Returns
    -------
    basis : ndarray of shape (n_dims, n_dims - rank)
    """
    if rows.shape[0] == 0:
        return np.eye(n_dims)
    _, singular, Vt = np.linalg.svd(rows, full_matrices=True)
    return Vt[int(np.count_nonzero(singular > 1e-10 * singular[0])):].T


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
        # the optimality conditions at the scale of ``a`` (the NNLS accuracy): measured against
        # ‖u‖ instead, accurate points of degenerate cones went to Clarabel, which is less accurate
        tol = IN_CONE_ITERATIVE_RTOL
        if np.all(A @ u >= -tol * scale * np.linalg.norm(A, axis=1)) and abs(u @ (u - a)) <= tol * scale**2:
            return u
    except RuntimeError:  # neither NNLS method converged
        pass
    import cvxpy as cp

    v = cp.Variable(a.size)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(v - a)), [A @ v >= 0])
    with warnings.catch_warnings():  # the status is checked below: cvxpy's "may be inaccurate" says no more
        warnings.simplefilter("ignore", UserWarning)
        try:
            problem.solve(solver="CLARABEL")
        except cp.error.SolverError as exc:  # one exception type for the callers, who need not import cvxpy
            status = f"error ({exc})"
        else:
            status = repr(problem.status)
    if status != repr(cp.OPTIMAL):
        raise RuntimeError(
            f"Projection onto an activation cone failed: Clarabel status {status}. The data are "
            "badly conditioned (e.g. feature scales differing by many orders of magnitude): standardise X."
        )
    return np.asarray(v.value, dtype=float)


def _lawson_hanson(X_aug, patterns, row_norms, A, index, rows, used, threshold, max_rounds):
    """Lawson–Hanson from the faces ``rows``/``used`` (B, d), block by block; see :func:`project_onto_cones`.

    ``A`` holds one block per row, shape (B, d). Returns ``U`` (B, d), ``exact`` (B,), the final
    faces (rows and which are used) and the blocks left unfinished (B,) bool.
    """
    faces = np.where(used, rows, -1).astype(np.int64)
    which, index = np.unique(index, return_inverse=True)
    gates = np.ascontiguousarray(patterns[:, which].T, dtype=bool)  # (gates, n): one pattern per row
    U, status, faces = lawson_hanson_blocks(
        np.ascontiguousarray(X_aug, dtype=float), gates, np.ascontiguousarray(row_norms, dtype=float),
        np.ascontiguousarray(A, dtype=float), index.astype(np.int64).reshape(-1), faces, float(threshold),
        int(max_rounds), IN_CONE_RTOL, _ROWS_PER_ROUND, _DEPENDENCE,
    )
    return U, status != 1, np.maximum(faces, 0), faces >= 0, status == 2


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
    faces = np.full((B, d), -1) if faces is None else np.array(faces, dtype=int)
    U, exact, rows, used, unfinished = _lawson_hanson(
        X_aug, patterns, np.linalg.norm(X_aug, axis=1), np.asarray(A, dtype=float).T, index, np.maximum(faces, 0),
        faces >= 0, threshold, 20 * d + 50,
    )
    U, faces = U.T.copy(), np.where(used, rows, -1)
    for b in np.flatnonzero(unfinished):  # rare (degenerate data)
        U[:, b] = _single_projection(X_aug, patterns[:, index[b]], A[:, b])
        exact[b] = True
    return U, exact, faces


def largest_bounds_first(bounds, evaluate, *, above, n_wanted=None, chunk=None, kind=None):
    """The κ screen (SPEC §4): exact values in decreasing order of their upper bounds.

    Entries whose bound is at most ``above`` are never evaluated (their bound is their κ's). The
    others are evaluated in chunks of ``chunk`` (all at once by default), largest bound first,
    until ``n_wanted`` evaluated entries have counted: a pricing step needs only the largest κ.
    Every screen of κ over patterns (:func:`cone_kappas` and so the certificates, the first-order
    solver's pricing, the pattern search, the bias-free penalty) runs through it.

    Parameters
    ----------
    bounds : ndarray of shape (n_entries,)
        Upper bounds, e.g. ``‖X̃ᵀ D_i r_k‖ ≥ ‖Π_K(X̃ᵀ D_i r_k)‖``.
    evaluate : callable
        ``evaluate(entries) -> int``: computes the entries (indices into ``bounds``) and returns
        how many of them count towards ``n_wanted``.
    above : float
    n_wanted : int, default=None
        ``None``: evaluate every entry above ``above``.
    chunk : int, default=None
    kind : str, default=None
        Sorting algorithm of :func:`numpy.argsort` (``"stable"`` orders ties by index).

    Returns
    -------
    float or None
        The largest bound left unevaluated when the screen stopped at ``n_wanted``, else ``None``.
    """
    order = np.argsort(-bounds, kind=kind)
    order = order[bounds[order] > above]
    step, found = chunk or max(order.size, 1), 0
    for start in range(0, order.size, step):
        if n_wanted is not None and found >= n_wanted:
            return float(bounds[order[start]])
        found += evaluate(order[start : start + step])
    return None


def cone_kappas(X_aug, patterns, R, threshold=0.0, *, bound_only=False, project=None):
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
    project : callable, default=None
        ``project(A, index, blocks, threshold) -> (U, exact)`` with the contract of
        :func:`project_onto_cones` for the columns of ``A`` (d, B) of blocks ``(k, i, side)``
        (three arrays of shape (B,)): e.g. a solver's projections with its cached faces as warm
        starts (the same projections up to rounding). ``None``: :func:`project_onto_cones`, cold.

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
    level = threshold if bound_only else 0.0

    def evaluate(entries):  # one batch: each projection depends only on its own block and face
        k, i, side = np.unravel_index(entries, kappas.shape)
        if project is None:
            U, done, _ = project_onto_cones(X_aug, patterns, directions[k, :, i, side].T, i, threshold=level)
        else:
            U, done = project(directions[k, :, i, side].T, i, (k, i, side), level)
        directions[k, :, i, side] = U.T
        kappas[k, i, side] = np.linalg.norm(U, axis=0)
        exact[k, i, side] = done
        return 0

    largest_bounds_first(kappas.reshape(-1).copy(), evaluate, above=threshold)
    return kappas, directions, exact
