"""Exact projections onto many activation cones at once, with cached faces (SPEC §4, §7).

The cone of pattern ``D_i`` is ``K_i = {u : A_i u ≥ 0}`` with ``A_i = (2 D_i − I) X̃``. By Moreau's
decomposition ``Π_{K_i}(a) = a + A_Fᵀρ`` where ``F`` is the *face* of the projection (the rows active
there, at most ``d`` of them in general position) and ``ρ = argmin_{ρ ≥ 0} ‖a + A_Fᵀρ‖``. Two exact
mechanisms share one matrix product ``X̃ U`` over all blocks for their checks:

- *face cache*: the face found for a block last time gives a linear map ``a ↦ (Q a, R a)`` (the
  projection onto the face's null space and its multipliers); the result is the projection as soon
  as the multipliers are ≥ 0 and the point is in the cone (the KKT conditions of the projection);
- *row generation*: otherwise non-negative least squares on a small working set of rows (the previous
  face and the rows most violated), enlarged by the rows the result still violates until it lies in
  the cone — a projection onto a superset of ``K_i`` that lands in ``K_i`` is the projection onto it.

Both cost ``O(n d)`` per block and round instead of the ``O(n d²)``-per-iteration of a full NNLS
over all ``n`` rows.
"""

import numpy as np
from scipy.optimize import nnls

from ._threads import blas_threads

__all__ = ["ConeProjector"]

# Relative tolerance of the cone and multiplier checks (rows scaled by ‖x̃_j‖ ‖a‖).
_RTOL = 1e-12
# Rows in a block's first working set, and rows added per round of row generation, per dimension.
_FIRST_ROWS = 1
_ROWS_PER_ROUND = 1
# Rounds of row generation before the full NNLS over all rows is used.
_MAX_ROUNDS = 50
_NO_ROWS = np.zeros(0, dtype=int)


class ConeProjector:
    """Projections onto the cones of a fixed set of patterns, remembering each block's face.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    generators : ndarray of shape (n_dims, n_patterns), default=None
        A point strictly inside each cone; used by :meth:`interior` only.
    """

    def __init__(self, X_aug, patterns, generators=None):
        self.X_aug = X_aug
        self.patterns = patterns
        self.generators = generators
        self.row_norms = np.linalg.norm(X_aug, axis=1)
        self._faces = {}  # block key -> rows of its last face

    def _signed(self, X_u, index):
        """``A_i u`` for the columns of ``X̃ U`` (shape (n, B)) and patterns ``index``."""
        return np.where(self.patterns[:, index], X_u, -X_u)

    def _cone_rows(self, pattern, rows):
        X_rows = self.X_aug[rows]
        return np.where(self.patterns[rows, pattern][..., None], X_rows, -X_rows)

    def project(self, A, index, keys, threshold=0.0):
        """Projections ``Π_{K_i}(a)`` of the columns of ``A``, exact where their norm exceeds ``threshold``.

        Parameters
        ----------
        A : ndarray of shape (n_dims, n_blocks)
        index : ndarray of shape (n_blocks,)
            Pattern of each column.
        keys : sequence of hashable, length n_blocks
            Identity of each block for the face cache (e.g. its output, pattern and sign).
        threshold : float, default=0.0
            Columns whose projection is found to have norm at most ``threshold`` may stop early:
            they get a point ``a + Aᵀρ`` with ``ρ ≥ 0``, whose norm bounds ``‖Π_K(a)‖`` (SPEC §4).

        Returns
        -------
        U : ndarray of shape (n_dims, n_blocks)
        exact : ndarray of shape (n_blocks,), dtype bool
            Whether the column is the exact projection (always when its norm exceeds ``threshold``).
        """
        if A.shape[1] == 0:  # no blocks to project (e.g. a warm start with every block zero)
            return A.copy(), np.ones(0, dtype=bool)
        faces = [self._faces.get(key, _NO_ROWS) for key in keys]
        U, multipliers = self._on_faces(A, index, faces)
        scale = np.linalg.norm(A, axis=0)
        signed = np.all(multipliers >= -_RTOL * scale, axis=0)
        bounded = signed & (np.linalg.norm(U, axis=0) <= threshold)
        slack = self._signed(self.X_aug @ U, index)
        inside = ~np.any(slack < -_RTOL * self.row_norms[:, None] * scale, axis=0)
        exact = ~bounded
        todo = np.flatnonzero(~bounded & ~(signed & inside))  # KKT of the projection fail
        if todo.size:
            U[:, todo], exact[todo] = self._row_generation(
                A[:, todo], index[todo], [keys[b] for b in todo], [faces[b] for b in todo], threshold
            )
        return U, exact

    def _on_faces(self, A, index, faces):
        """``u = a + A_Fᵀρ`` with ``ρ = argmin ‖a + A_Fᵀρ‖`` on each column's face, batched.

        Returns ``U`` (d, B) and ``ρ`` (f, B), faces zero-padded to a common width ``f``.
        """
        width = max(face.size for face in faces)
        rows = np.zeros((len(faces), width), dtype=int)
        used = np.zeros((len(faces), width), dtype=bool)
        for b, face in enumerate(faces):
            rows[b, : face.size], used[b, : face.size] = face, True
        A_face = self._cone_rows(index[:, None], rows) * used[..., None]  # (B, f, d)
        gram = A_face @ A_face.transpose(0, 2, 1) + np.eye(width) * ~used[:, None, :]
        rhs = -(A_face @ A.T[:, :, None])  # (B, f, 1)
        try:
            rho = np.linalg.solve(gram, rhs)
        except np.linalg.LinAlgError:  # a dependent face (degenerate data): least squares per block
            rho = np.stack([np.linalg.lstsq(g, r, rcond=None)[0] for g, r in zip(gram, rhs)])
        U = A + (A_face.transpose(0, 2, 1) @ rho)[:, :, 0].T
        return U, rho[:, :, 0].T

    def _row_generation(self, A, index, keys, faces, threshold):
        """Projections by NNLS on growing working sets of rows (see the module docstring)."""
        n_blocks, d = A.shape[1], A.shape[0]
        start = self._signed(self.X_aug @ A, index)  # A_i a: the most violated rows enter first
        rows = []
        for b in range(n_blocks):
            first = np.argsort(start[:, b])[: _FIRST_ROWS * d]
            rows.append(np.union1d(faces[b], first[start[first, b] < 0]))
        U = A.copy()
        exact = np.ones(n_blocks, dtype=bool)
        tolerance = _RTOL * self.row_norms[:, None] * np.linalg.norm(A, axis=0)
        pending = np.arange(n_blocks)
        for _ in range(_MAX_ROUNDS):
            with blas_threads(1):  # many small problems: threads only contend
                for b in pending:
                    U[:, b], self._faces[keys[b]] = self._nnls_on_rows(A[:, b], index[b], rows[b])
            # a projection onto the larger cone {A_W u ≥ 0} bounds ‖Π_K(a)‖ from above
            bounded = np.linalg.norm(U[:, pending], axis=0) <= threshold
            exact[pending[bounded]] = False
            pending = pending[~bounded]
            slack = self._signed(self.X_aug @ U[:, pending], index[pending])
            still = np.zeros(pending.size, dtype=bool)
            for column, b in enumerate(pending):
                slack[rows[b], column] = np.inf  # rows of the working set are satisfied by NNLS
                worst = np.argsort(slack[:, column])[: _ROWS_PER_ROUND * d]
                worst = worst[slack[worst, column] < -tolerance[worst, b]]
                still[column] = worst.size > 0
                rows[b] = np.union1d(rows[b], worst)
            pending = pending[still]
            if pending.size == 0:
                return U, exact
        for b in pending:  # rare: fall back to all rows
            U[:, b], self._faces[keys[b]] = self._nnls_on_rows(A[:, b], index[b], np.flatnonzero(self.row_norms > 0))
        return U, exact

    def _nnls_on_rows(self, a, pattern, rows):
        """``Π(a)`` onto ``{u : A_W u ≥ 0}`` for the rows ``W`` and its face (rows with ρ > 0)."""
        if rows.size == 0:
            return a.copy(), rows
        A_rows = self._cone_rows(pattern, rows)
        rho, _ = nnls(A_rows.T, -a, maxiter=50 * max(rows.size, 10))
        return a + A_rows.T @ rho, rows[rho > 0]

    def interior(self, U, index):
        """Move the columns of ``U`` (in their cones up to rounding) strictly inside, by a tiny step.

        Each column becomes ``u + ε g`` (``g`` the pattern's generator, unit norm) with the least
        ``ε ≥ 0`` giving every row a margin of ``4 d eps ‖x̃_j‖ ‖u‖``, enough for ``A_i u ≥ 0`` to
        hold exactly in floating point however the product is summed. Columns that would need
        ``ε > 1e-8 ‖u‖`` (a very thin cone) are left unchanged.

        Parameters
        ----------
        U : ndarray of shape (n_dims, n_blocks)
        index : ndarray of shape (n_blocks,)

        Returns
        -------
        ndarray of shape (n_dims, n_blocks)
        """
        if self.generators is None or U.shape[1] == 0:
            return U
        G = self.generators[:, index]
        G = G / np.linalg.norm(G, axis=0)
        slack = self._signed(self.X_aug @ U, index)
        push = self._signed(self.X_aug @ G, index)
        norms = np.linalg.norm(U, axis=0)
        margin = 4 * U.shape[0] * np.finfo(float).eps * self.row_norms[:, None] * norms
        live = self.row_norms > 0
        need = np.where(live[:, None], (margin - slack) / np.where(push > 0, push, np.inf), 0.0)
        eps = np.maximum(need.max(axis=0), 0.0)
        eps = np.where(eps <= 1e-8 * norms, eps, 0.0)
        return U + eps * G
