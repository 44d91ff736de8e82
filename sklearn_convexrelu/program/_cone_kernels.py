"""Compiled kernel of the batched cone projections (numba), used by :mod:`.cones` (SPEC §4).

For each block ``b``, ``Π_K(a) = a + A_Fᵀρ`` with ``ρ ≥ 0`` the Lawson–Hanson solution of
``min_{ρ ≥ 0} ‖a + Aᵀρ‖`` (Moreau), ``A = (2D − I) X̃`` the signed rows of the block's pattern and
``F`` its face (the rows with ``ρ > 0``). The face is kept as a QR factorisation ``A_Fᵀ = QR``
(``Q`` with orthonormal columns, stored as the rows of ``Qt``), updated when a row enters
(Gram–Schmidt, twice) or leaves (Givens rotations) instead of solving from scratch; the face
multipliers are then ``R ρ = −Qᵀa``.

The rounds are those of the vectorised method this kernel replaces, block by block: up to
``rows_per_round`` violated rows enter per round (a worst row that comes back enters alone), the
inner loop keeps ``ρ ≥ 0`` by the usual ratio step, a block stops early with ``exact = False`` once
its point ``a + A_Fᵀρ`` (an upper bound on ``‖Π_K(a)‖`` since ``ρ ≥ 0``) has norm at most
``threshold``, checked before the round's product ``X̃ u``: a warm-started block below the
threshold costs one solve on its face. A row that enters numerically dependent on the face is
skipped (it changes neither the span nor ``Π_K(a)``); a dependent worst row, a full face, a
repeated worst row or an inner loop that does not settle leave the block *unfinished*, for the
caller's fallback.
"""

import numpy as np
from numba import njit

__all__ = ["lawson_hanson_blocks"]

# Sums of the small dense algebra may be reordered (vectorised): rounding-level differences only.
_REASSOCIATE = {"reassoc", "contract"}


@njit(cache=True, fastmath=_REASSOCIATE)
def _append(Qt, R, m, c, dependence):
    """Add column ``c`` to ``A_Fᵀ = QR`` (``m`` columns so far); ``False`` if it is dependent."""
    d = c.shape[0]
    w = c.copy()
    size = 0.0
    for i in range(d):
        size += c[i] * c[i]
    size = np.sqrt(size)
    for i in range(m + 1):
        R[i, m] = 0.0
    for _ in range(2):  # classical Gram–Schmidt, twice ("twice is enough")
        for i in range(m):
            s = 0.0
            for j in range(d):
                s += Qt[i, j] * w[j]
            R[i, m] += s
            for j in range(d):
                w[j] -= s * Qt[i, j]
    norm = 0.0
    for j in range(d):
        norm += w[j] * w[j]
    norm = np.sqrt(norm)
    if not norm > dependence * size:
        return False
    for j in range(d):
        Qt[m, j] = w[j] / norm
    R[m, m] = norm
    return True


@njit(cache=True, fastmath=_REASSOCIATE)
def _delete(Qt, R, m, k, rows, vectors, rho):
    """Remove face position ``k`` of ``m`` (QR by Givens rotations; rows, vectors, ρ shifted)."""
    d = Qt.shape[1]
    for col in range(k, m - 1):
        for i in range(col + 2):
            R[i, col] = R[i, col + 1]
        rows[col] = rows[col + 1]
        rho[col] = rho[col + 1]
        for j in range(d):
            vectors[col, j] = vectors[col + 1, j]
    for i in range(m):
        R[i, m - 1] = 0.0
    for i in range(k, m - 1):  # R is upper Hessenberg from column k: rotate rows i, i+1
        x, y = R[i, i], R[i + 1, i]
        h = np.hypot(x, y)
        if h == 0.0:
            continue
        c, s = x / h, y / h
        for col in range(i, m - 1):
            p, q = R[i, col], R[i + 1, col]
            R[i, col] = c * p + s * q
            R[i + 1, col] = -s * p + c * q
        R[i + 1, i] = 0.0
        for j in range(d):
            p, q = Qt[i, j], Qt[i + 1, j]
            Qt[i, j] = c * p + s * q
            Qt[i + 1, j] = -s * p + c * q


@njit(cache=True, fastmath=_REASSOCIATE)
def _multipliers(Qt, R, m, a, z):
    """``argmin_ρ ‖a + A_Fᵀρ‖`` over the face (no sign constraint) into ``z[:m]``: ``Rρ = −Qᵀa``."""
    d = a.shape[0]
    for i in range(m):
        s = 0.0
        for j in range(d):
            s += Qt[i, j] * a[j]
        z[i] = -s
    for i in range(m - 1, -1, -1):
        s = z[i]
        for j in range(i + 1, m):
            s -= R[i, j] * z[j]
        z[i] = s / R[i, i]


@njit(cache=True)
def _project_block(X_aug, gate, row_norms, a, face, threshold, max_rounds, rtol, rows_per_round, dependence,
                   u, Qt, R, rows, vectors, rho, z, ratio, in_face, best_value, best_row):
    """One block: ``u`` gets the projection (or a bound point); returns the status and the face size.

    Status 0: exact projection; 1: stopped early, ``‖u‖ ≤ threshold`` bounds ``‖Π_K(a)‖``;
    2: unfinished (for the fallback). ``gate`` is the block's pattern (row j signed ``+`` where
    set); ``in_face`` is all ``False`` on entry and marks exactly ``rows[:m]`` on return.
    """
    n, d = X_aug.shape
    size = 0.0
    for j in range(d):
        size += a[j] * a[j]
    tolerance = rtol * np.sqrt(size)
    k = min(rows_per_round, d, n)
    m = np.int64(0)  # not a literal 0: the helpers would be compiled for both
    for slot in range(face.shape[0]):  # warm start: the previous face, dependent rows skipped
        row = face[slot]
        if row < 0 or row >= n or in_face[row] or m == d:  # not a row, already in, or full
            continue
        for j in range(d):
            vectors[m, j] = X_aug[row, j] if gate[row] else -X_aug[row, j]
        if _append(Qt, R, m, vectors[m], dependence):
            rows[m] = row
            in_face[row] = True
            m += 1
    while True:  # ... drop rows until every multiplier is positive (a feasible start)
        _multipliers(Qt, R, m, a, z)
        dropped = False
        for i in range(m - 1, -1, -1):
            if not z[i] > 0:
                in_face[rows[i]] = False
                _delete(Qt, R, m, i, rows, vectors, rho)
                m -= 1
                dropped = True
        if not dropped:
            break
    for i in range(m):
        rho[i] = z[i]
    last, alone = -1, False
    for _ in range(max_rounds):
        for j in range(d):
            u[j] = a[j]
        for i in range(m):
            for j in range(d):
                u[j] += rho[i] * vectors[i, j]
        norm = 0.0
        for j in range(d):
            norm += u[j] * u[j]
        if threshold > 0 and np.sqrt(norm) <= threshold:  # ρ ≥ 0: ‖u‖ ≥ ‖Π_K(a)‖, no product needed
            return (0 if norm == 0 else 1), m  # (‖u‖ = 0 is the projection itself)
        X_u = X_aug @ u
        count = 0  # the k most violated rows off the face, worst first
        for row in range(n):
            if in_face[row]:
                continue
            value = X_u[row] if gate[row] else -X_u[row]
            if count == k and not value < best_value[k - 1]:
                continue
            place = count if count < k else k - 1
            while place > 0 and value < best_value[place - 1]:
                best_value[place], best_row[place] = best_value[place - 1], best_row[place - 1]
                place -= 1
            best_value[place], best_row[place] = value, row
            if count < k:
                count += 1
        if count == 0 or not best_value[0] < -tolerance * row_norms[best_row[0]]:
            return 0, m
        repeat = best_row[0] == last
        if m == d or (repeat and alone):  # degenerate data or rounding
            return 2, m
        free = d - m
        for c in range(min(count, free)):  # violated rows into free places (a returning worst row alone)
            if (repeat and c > 0) or not best_value[c] < -tolerance * row_norms[best_row[c]]:
                continue
            row = best_row[c]
            for j in range(d):
                vectors[m, j] = X_aug[row, j] if gate[row] else -X_aug[row, j]
            if _append(Qt, R, m, vectors[m], dependence):
                rows[m], rho[m] = row, 0.0
                in_face[row] = True
                m += 1
            elif c == 0:  # a violated worst row in the span of the face: rounding
                return 2, m
        last, alone = best_row[0], repeat
        settled = False
        for _ in range(d + 1):  # Lawson–Hanson inner loop: stay feasible, drop rows that reach ρ = 0
            _multipliers(Qt, R, m, a, z)
            step = np.inf
            for i in range(m):
                ratio[i] = np.inf
                if z[i] <= 0:  # where ρ reaches zero on the segment to z (z ≤ 0 < ρ − z, or both 0)
                    gap = rho[i] - z[i]
                    ratio[i] = rho[i] / gap if gap > 0 else 0.0
                    step = min(step, ratio[i])
            if step == np.inf:
                for i in range(m):
                    rho[i] = z[i]
                settled = True
                break
            for i in range(m - 1, -1, -1):
                rho[i] += step * (z[i] - rho[i])
                if z[i] <= 0 and ratio[i] <= step:
                    in_face[rows[i]] = False
                    _delete(Qt, R, m, i, rows, vectors, rho)
                    m -= 1
        if not settled:
            return 2, m
    return 2, m


@njit(cache=True)
def lawson_hanson_blocks(X_aug, gates, row_norms, A, index, faces, threshold, max_rounds, rtol, rows_per_round,
                         dependence):
    """Projections of the rows of ``A`` (B, d) onto the cones of the gates ``index`` (B,), block by block.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    gates : ndarray of shape (n_gates, n_samples), dtype bool
        The patterns ``D_i``, one per row (contiguous).
    row_norms : ndarray of shape (n_samples,)
    A : ndarray of shape (n_blocks, n_dims)
    index : ndarray of shape (n_blocks,)
        Row of ``gates`` of each block.
    faces : ndarray of shape (n_blocks, n_dims)
        Warm-start faces (rows, padded with -1).
    threshold : float
    max_rounds : int
    rtol : float
        A row is violated when its slack is below ``-rtol ‖x̃_j‖ ‖a‖``.
    rows_per_round : int
    dependence : float
        A row whose component off the face is at most ``dependence`` times its norm is dependent.

    Returns
    -------
    U : ndarray of shape (n_blocks, n_dims)
    status : ndarray of shape (n_blocks,)
        0 exact, 1 stopped early (a bound), 2 unfinished.
    faces : ndarray of shape (n_blocks, n_dims)
        The rows with ``ρ > 0``, padded with -1.
    """
    n, d = X_aug.shape
    B = A.shape[0]
    U = np.empty((B, d))
    status = np.zeros(B, dtype=np.int8)
    new_faces = np.full((B, d), -1, dtype=np.int64)
    Qt, R, vectors = np.zeros((d, d)), np.zeros((d, d)), np.zeros((d, d))
    rows = np.zeros(d, dtype=np.int64)
    rho, z, ratio = np.zeros(d), np.zeros(d), np.zeros(d)
    in_face = np.zeros(n, dtype=np.bool_)
    best_value, best_row = np.zeros(d), np.zeros(d, dtype=np.int64)
    for b in range(B):
        status[b], m = _project_block(X_aug, gates[index[b]], row_norms, A[b], faces[b], threshold, max_rounds, rtol,
                                      rows_per_round, dependence, U[b], Qt, R, rows, vectors, rho, z, ratio, in_face,
                                      best_value, best_row)
        count = 0
        for i in range(m):
            in_face[rows[i]] = False  # exactly the face's rows are marked: all clear for the next block
            if rho[i] > 0:
                new_faces[b, count] = rows[i]
                count += 1
    return U, status, new_faces
