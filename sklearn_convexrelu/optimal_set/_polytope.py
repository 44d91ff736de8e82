"""The polytope of optimal atom coefficients (SPEC §5).

``𝒞 = {c ≥ 0 : A c = b, Σ_k c_k = mass}``: ``A`` holds the atom fits placed on their outputs with
what the objective cannot see projected out (a constant per output when the intercept is fitted,
a constant across classes for the softmax), ``b`` the optimal prediction treated the same way, and
``mass`` the least total coefficient that reproduces it. For true atoms the mass row is implied by
``A c = b`` (``r*ᵀ f_k = alpha`` for every tight atom); it keeps candidate atoms that are not tight
out of 𝒞 (SPEC §5: every point has the same penalty ``alpha · mass``). Points are written
``c = particular + N u`` with an orthonormal basis ``N`` of the directions of the affine hull.
"""

import itertools
import math

import numpy as np
from scipy.optimize import linprog

from .._nnls import nnls
from .._tolerances import FREE_RTOL, MAX_BASES, PIVOT_RTOL, ZERO_RTOL

__all__ = ["CoefficientPolytope", "cone_fit", "pruning_moves"]

_TINY = np.finfo(float).tiny
# Candidate bases enumerated at once by CoefficientPolytope.vertices (memory: this many q × q blocks).
_BASES_PER_CHUNK = 4096
# HiGHS tolerances for the linear programs over the (normalised) polytope.
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _row_null(A, tolerance, scale):
    """Orthonormal bases of the row space (m, r) and of the null space (m, m − r) of ``A``.

    Singular values below ``tolerance · scale`` count as zero (``scale`` capped at the largest).
    """
    m = A.shape[1]
    if m == 0:
        return np.zeros((0, 0)), np.zeros((0, 0))
    _, sv, vt = np.linalg.svd(A, full_matrices=A.shape[0] < m)  # vt is (m, m) either way
    rank = int(np.sum(sv > tolerance * min(scale, sv[0]))) if sv.size and sv[0] > 0 else 0
    return vt[:rank].T, vt[rank:].T


def _least_mass(anchor, row):
    """``argmin Σ z`` over ``{z ≥ 0 : rowᵀ z = rowᵀ anchor}`` (one LP), or ``anchor`` if it fails."""
    if row.shape[1] == 0:
        return np.zeros_like(anchor)
    result = linprog(
        np.ones(anchor.size), A_eq=row.T, b_eq=row.T @ anchor, bounds=[(0.0, None)] * anchor.size,
        method="highs", options=_LP_OPTIONS,
    )
    if result.status != 0 or result.x.sum() > anchor.sum():
        return anchor
    return np.maximum(result.x, 0.0)


def _free_atoms(point, null, threshold):
    """Coordinates that some ``point + null @ u ≥ 0`` makes larger than about ``threshold``.

    One LP: maximise ``Σ z_k`` with ``0 ≤ z_k ≤ min(c_k, threshold)``. Averaging shows that at the
    optimum ``z_k = threshold`` for every coordinate that can reach ``m · threshold``.
    """
    m, q = null.shape
    if q == 0:
        return point > threshold / 2
    result = linprog(
        np.concatenate([np.zeros(q), -np.ones(m)]), A_ub=np.hstack([-null, np.eye(m)]), b_ub=point,
        bounds=[(None, None)] * q + [(0.0, threshold)] * m, method="highs", options=_LP_OPTIONS,
    )
    return (result.x[q:] if result.status == 0 else point) > threshold / 2


def _chebyshev_center(point, null):
    """Centre of the largest ball inside ``{u : point + null @ u ≥ 0}`` (one LP)."""
    q = null.shape[1]
    result = linprog(
        np.concatenate([np.zeros(q), [-1.0]]),
        A_ub=np.hstack([-null, np.linalg.norm(null, axis=1)[:, None]]), b_ub=point,
        bounds=[(None, None)] * q + [(0.0, 1.0)], method="highs", options=_LP_OPTIONS,
    )
    return result.x[:q] if result.status == 0 else np.zeros(q)


def _least_distance(G, h):
    """``argmin ‖u‖`` subject to ``G u ≥ h``, by one NNLS (Lawson & Hanson's LDP algorithm)."""
    m, q = G.shape
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(q + 1)
    f[-1] = 1.0
    y, _ = nnls(E, f)
    residual = E @ y - f
    if abs(residual[-1]) <= 1e-14:
        return None  # infeasible in floating point
    return -residual[:q] / residual[-1]


def max_step(coef, beta):
    """Largest ``t ≥ 0`` with ``coef + t beta ≥ 0``, and the coefficients that reach zero there."""
    shrinking = beta < -1e-12 * np.abs(beta).max(initial=0.0)
    ratio = np.where(shrinking, coef / np.where(shrinking, -beta, 1.0), np.inf)
    t = float(ratio.min(initial=np.inf))
    return t, shrinking & (ratio <= t)


def cone_fit(A, b):
    """Least squares of ``b`` on the cone of the columns of ``A``: the coefficients (one NNLS) and
    the relative residual ``‖A c − b‖ / ‖b‖`` (0 in exact arithmetic for true atoms)."""
    anchor = nnls(A, b)[0] if A.shape[1] else np.zeros(0)
    return anchor, float(np.linalg.norm(A @ anchor - b) / max(np.linalg.norm(b), _TINY))


def pruning_moves(coef, null_vector, clean=None):
    """The pruning moves of SPEC §5, one coefficient vector after each.

    While the atoms with positive coefficients have dependent fits, move along a null vector
    ``β`` of them (the side with ``Σ β ≥ 0``, which does not raise the penalty) until a
    coefficient reaches zero. The prediction is unchanged; the support shrinks by one per move.

    Parameters
    ----------
    coef : ndarray of shape (n_atoms,)
        Non-negative coefficients (not modified).
    null_vector : callable
        ``null_vector(support) -> ndarray of shape (support.size,) or None``: a null vector of the
        support's fits (the caller decides ranks), ``None`` when they are independent.
    clean : callable, default=None
        Applied after each move (default: clip at zero).

    Yields
    ------
    ndarray of shape (n_atoms,)
    """
    coef = np.array(coef, dtype=float)
    while True:
        support = np.flatnonzero(coef > 0)
        beta = null_vector(support)
        if beta is None:
            return
        if beta.sum() < -PIVOT_RTOL * np.abs(beta).sum():  # Σβ = 0 (to rounding) keeps either side
            beta = -beta
        shrinking = np.flatnonzero(beta > PIVOT_RTOL * np.abs(beta).max())
        ratios = coef[support[shrinking]] / beta[shrinking]
        coef[support] -= ratios.min() * beta
        coef[support[shrinking[np.argmin(ratios)]]] = 0.0
        coef = np.maximum(coef, 0.0) if clean is None else clean(coef)
        yield coef.copy()


class CoefficientPolytope:
    """``𝒞 = {c ≥ 0 : A c = b, Σ c = mass}`` (see the module docstring).

    Parameters
    ----------
    A : ndarray of shape (n_rows, n_atoms)
        Placed atom fits with the nuisance projected out.
    b : ndarray of shape (n_rows,)
        The optimal prediction, projected the same way.
    tolerance : float
        Relative rank tolerance ``τ``.
    fit : tuple, default=None
        :func:`cone_fit` of ``A`` and ``b`` when the caller has it already.

    Attributes
    ----------
    R : ndarray of shape (min(n_rows + 1, n_atoms), n_atoms)
        Triangular factor of ``[A; mass row] = Q R``: ``R`` has the null spaces of every column subset
        of the constraint matrix (pruning needs nothing else), and ``‖R (c − c')‖`` is the distance
        of the constraints at ``c`` and ``c'``; the data behind ``A`` are not kept.
    mass : float
        The least total coefficient, the same at every point.
    free : ndarray of shape (n_atoms,), dtype bool
        Atoms that are positive at some point.
    dimension : int
    projection_residual : float
        Relative distance from ``b`` to the cone of the columns of ``A`` (0 in exact arithmetic).
    """

    def __init__(self, A, b, tolerance, fit=None):
        m = A.shape[1]
        self.n_atoms, self.tolerance = m, float(tolerance)
        # least squares on the cone of the fits, then the least mass among the same fits
        anchor, self.projection_residual = cone_fit(A, b) if fit is None else fit
        # Ranks are decided at the scale of the prediction per unit of coefficient, ‖b‖ / ‖anchor‖,
        # not at the largest singular value: atoms with large fits and small coefficients (a column
        # ×1e5: fits of size 1e4, coefficients 2e-4) otherwise raise the threshold for all, and a
        # "null" direction moved the min-norm network's prediction by 1e-4.
        norm = float(np.linalg.norm(anchor))
        self._scale = float(np.linalg.norm(b)) / norm if norm > 0 else np.inf
        scale = max(float(anchor.sum()), _TINY)
        row, _ = _row_null(A, tolerance, self._scale)
        anchor = _least_mass(anchor / scale, row) * scale
        self.mass = float(anchor.sum())
        scale = max(self.mass, _TINY)
        largest = min(float(np.linalg.norm(A, 2)), self._scale) if m else 0.0
        A = np.vstack([A, np.full((1, m), largest / math.sqrt(max(m, 1)))])  # the mass row
        self.R = np.linalg.qr(A, mode="r") if m else np.zeros((0, 0))
        row, null = _row_null(self.R, tolerance, self._scale)
        self.free = _free_atoms(row @ (row.T @ anchor) / scale, null, FREE_RTOL) if m else np.zeros(0, dtype=bool)
        row_free, null_free = _row_null(self.R[:, self.free], tolerance, self._scale)
        self.particular = np.zeros(m)
        self.particular[self.free] = row_free @ (row_free.T @ anchor[self.free])
        self.null_basis = np.zeros((m, null_free.shape[1]))
        self.null_basis[self.free] = null_free
        self.dimension = int(null_free.shape[1])
        self._center = None

    @property
    def center(self):
        """Chebyshev centre of 𝒞 in the coordinates ``u`` (one LP, computed on first use)."""
        if self._center is None:
            scale = max(self.mass, _TINY)
            free = self.free
            self._center = (
                _chebyshev_center(self.particular[free] / scale, self.null_basis[free]) * scale
                if self.dimension else np.zeros(0)
            )
        return self._center

    def distance(self, coef):
        """``‖[A; mass row] (coef − c)‖`` for any ``c`` in 𝒞: how far ``coef`` is from the constraints."""
        return float(np.linalg.norm(self.R @ (coef - self.particular)))

    def clean(self, coef):
        """Rounding removed: negative and relatively tiny coefficients, and non-free atoms, are zero."""
        keep = (coef > ZERO_RTOL * max(self.mass, _TINY)) & self.free
        return np.where(keep, coef, 0.0)

    def from_u(self, u):
        """The point ``particular + N u``, cleaned."""
        return self.clean(self.particular + self.null_basis @ u)

    def min_norm_point(self):
        """``argmin ‖c‖`` over 𝒞 (unique)."""
        if self.dimension == 0 or not self.mass > 0:  # Σ c = 0 with c ≥ 0: 𝒞 = {0}
            return self.clean(self.particular)
        free = self.free
        u = _least_distance(self.null_basis[free], -self.particular[free] / self.mass)
        return self.from_u(self.center if u is None else u * self.mass)

    def prune(self, coef):
        """A vertex with support inside that of ``coef``: while the support's columns are dependent,
        move along a null vector until a coefficient reaches zero (SPEC §5)."""
        def null_vector(support):
            null = _row_null(self.R[:, support], self.tolerance, self._scale)[1]
            return null[:, 0] if null.shape[1] else None

        coef = self.clean(coef)
        for coef in pruning_moves(coef, null_vector, self.clean):
            pass
        return coef

    def vertices(self, max_count, random_state, start, max_bases=MAX_BASES):
        """Vertices (fewest positive coefficients first, at most ``max_count``) and whether all were
        enumerated (when there are at most ``max_bases`` candidate bases); ``start`` (a point of 𝒞)
        is pruned to one vertex that is always included."""
        if self.dimension == 0 or not self.mass > 0:
            return start[None, :], True
        free = np.flatnonzero(self.free)
        complete = math.comb(free.size, self.dimension) <= max_bases
        if complete:
            found = self._basic_solutions(free)
        else:
            found = self._random_vertices(free, 4 * max_count, random_state)
        found = np.vstack([found, self.prune(start)])
        found = np.unique(np.round(found / self.mass, 9), axis=0) * self.mass
        found = np.array([self.clean(c) for c in found]).reshape(-1, self.n_atoms)
        order = np.lexsort(np.vstack([found.T[::-1], np.count_nonzero(found, axis=1)]))
        return found[order][:max_count], complete

    def _basic_solutions(self, free):
        """Every feasible point where ``dimension`` free coefficients vanish with a regular basis.

        The bases are taken ``_BASES_PER_CHUNK`` at a time (each costs ``dimension²`` floats)."""
        combinations = itertools.combinations(range(free.size), self.dimension)
        found = [np.zeros((0, self.n_atoms))]
        while (chunk := list(itertools.islice(combinations, _BASES_PER_CHUNK))):
            bases = free[np.array(chunk)]
            N = self.null_basis[bases]  # (n_bases, q, q)
            sv = np.linalg.svd(N, compute_uv=False)
            regular = sv[:, -1] > 1e-9 * sv[:, 0]
            u = np.linalg.solve(N[regular], -self.particular[bases[regular]][:, :, None])[:, :, 0]
            coef = self.particular + u @ self.null_basis.T
            found.append(coef[np.all(coef[:, free] >= -1e-9 * self.mass, axis=1)])
        return np.vstack(found)

    def _random_vertices(self, free, n_tries, rng):
        """Vertices of LPs with random objectives over ``{u : c̄ + N u ≥ 0}``, pruned to be exact."""
        N, point = self.null_basis[free], self.particular[free] / self.mass
        found = []
        for _ in range(n_tries):
            result = linprog(
                rng.standard_normal(self.dimension), A_ub=-N, b_ub=point,
                bounds=[(None, None)] * self.dimension, method="highs-ds", options=_LP_OPTIONS,
            )
            if result.status == 0:
                found.append(self.prune(self.from_u(result.x * self.mass)))
        return np.array(found).reshape(-1, self.n_atoms)

    def random_point(self, rng, start):
        """A random point: hit-and-run from the Chebyshev centre (``start`` when 𝒞 is a point)."""
        if self.dimension == 0 or not self.mass > 0:
            return start.copy()
        N, point = self.null_basis[self.free], self.particular[self.free]
        u = self.center.copy()
        for _ in range(10 + 5 * self.dimension):
            direction = rng.standard_normal(self.dimension)
            direction /= np.linalg.norm(direction)
            slope, level = N @ direction, point + N @ u
            up, down = slope > 1e-12, slope < -1e-12
            low = np.max(-level[up] / slope[up], initial=-np.inf)
            high = np.min(-level[down] / slope[down], initial=np.inf)
            if np.isfinite(low) and np.isfinite(high):
                u = u + rng.uniform(min(low, 0.0), max(high, 0.0)) * direction
        return self.from_u(u)
