"""Projections onto many activation cones with each block's face remembered (SPEC §4, §7).

Thin cache over :func:`~sklearn_convexrelu.program.cones.project_onto_cones`: the face found for a
block (output, pattern and sign) is the warm start of its next projection, which then usually
takes one batched solve and one product ``X̃ U`` to confirm.
"""

import numpy as np

from ..program.cones import project_onto_cones

__all__ = ["ConeProjector"]


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
        self._faces = {}  # block key -> rows of its last face, padded with -1 to n_dims

    def _signed(self, X_u, index):
        """``A_i u`` for the columns of ``X̃ U`` (shape (n, B)) and patterns ``index``."""
        return np.where(self.patterns[:, index], X_u, -X_u)

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
        no_face = np.full(A.shape[0], -1)
        faces = np.array([self._faces.get(key, no_face) for key in keys], dtype=int).reshape(len(keys), A.shape[0])
        U, exact, faces = project_onto_cones(self.X_aug, self.patterns, A, np.asarray(index), faces=faces,
                                             threshold=threshold)
        self._faces.update(zip(keys, faces))
        return U, exact

    def lower_bounds(self, A, index):
        """Lower bounds ``aᵀg / ‖g‖ ≤ max_{u ∈ K_i, ‖u‖ ≤ 1} aᵀu = ‖Π_{K_i}(a)‖`` from the patterns'
        generators ``g`` (zeros without generators).

        Parameters
        ----------
        A : ndarray of shape (n_dims, n_blocks)
        index : ndarray of shape (n_blocks,)

        Returns
        -------
        ndarray of shape (n_blocks,)
        """
        if self.generators is None:
            return np.zeros(A.shape[1])
        G = self.generators[:, index]
        return np.maximum(np.einsum("db,db->b", A, G) / np.linalg.norm(G, axis=0), 0.0)

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
