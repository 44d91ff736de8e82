"""The group-norm penalty of the convex program and of the network objective (SPEC §1, §3, §3.1, §4, §6 (ii)).

(C-ReLU) penalises every block ``b`` (a column of ``X̃``-coordinates, the hidden bias last when the
model has one) by ``alpha ‖P b‖``, where ``P`` keeps the *penalised coordinates*: all of them, or
all but the hidden bias for the objective of scikit-learn's MLP, which does not penalise biases
(``penalize_hidden_bias=False``, SPEC §6 (ii)). Everything that depends on that choice is here:

- the value on blocks, ``alpha Σ_b ‖P b‖``, and its cvxpy expression;
- the dual-feasibility numbers ``κ_{i,σ,k} = max {σ r_kᵀ D_i X̃ u : u ∈ K_i, ‖P u‖ ≤ 1}`` (SPEC §4):
  a projection onto the cone when every coordinate is penalised
  (:func:`~sklearn_convexrelu.program.cone_kappas`), a small NNLS with one equality otherwise
  (:mod:`._bias_free`);
- the blocks → network scaling of SPEC §3.1, ``b ↦ (b/√‖P b‖, σ√‖P b‖)``, balanced for this norm;
- the network penalty ``(alpha/2) Σ_j (‖P w̃_j‖² + a_j²)``.
"""

import numpy as np

from ._bias_free import bias_free_kappas
from .cones import cone_kappas

__all__ = ["GroupNormPenalty"]


class GroupNormPenalty:
    """``alpha Σ_b ‖P b‖`` over blocks ``b`` of shape (n_dims,), ``P`` keeping the penalised coordinates.

    Parameters
    ----------
    penalize_hidden_bias : bool, default=True
        ``False`` leaves the last block coordinate (the hidden bias) out of the norm: the program of
        networks whose hidden biases are not penalised. Only meaningful when the blocks have a
        hidden-bias coordinate (``X̃ = [X, 1]``); with ``hidden_bias=False`` use ``True``.
    """

    def __init__(self, penalize_hidden_bias=True):
        self.penalize_hidden_bias = bool(penalize_hidden_bias)

    def __repr__(self):
        return f"GroupNormPenalty(penalize_hidden_bias={self.penalize_hidden_bias})"

    def __eq__(self, other):
        return isinstance(other, GroupNormPenalty) and other.penalize_hidden_bias == self.penalize_hidden_bias

    def __hash__(self):
        return hash((GroupNormPenalty, self.penalize_hidden_bias))

    def n_penalized(self, n_dims):
        """Number of leading block coordinates inside the norm.

        Parameters
        ----------
        n_dims : int
            Coordinates of a block (``X̃``'s columns).

        Returns
        -------
        int
        """
        return n_dims if self.penalize_hidden_bias else n_dims - 1

    def mask(self, n_dims):
        """0/1 float weights of the block coordinates in the norm.

        Parameters
        ----------
        n_dims : int
            Coordinates of a block.

        Returns
        -------
        ndarray of shape (n_dims,)
        """
        mask = np.ones(n_dims)
        mask[self.n_penalized(n_dims):] = 0.0
        return mask

    def norms(self, blocks, axis=-2):
        """``‖P b‖`` of every block; the block coordinates run along ``axis``.

        Parameters
        ----------
        blocks : ndarray
            E.g. of shape (n_outputs, n_dims, n_patterns) with ``axis=-2`` (the default), or
            (n_blocks, n_dims) with ``axis=-1``.
        axis : int, default=-2

        Returns
        -------
        ndarray
            ``blocks`` without ``axis``.
        """
        blocks = np.asarray(blocks)
        if self.penalize_hidden_bias:
            return np.linalg.norm(blocks, axis=axis)
        kept = np.take(blocks, np.arange(blocks.shape[axis] - 1), axis=axis)
        return np.linalg.norm(kept, axis=axis)

    def value(self, alpha, *blocks, axis=-2):
        """``alpha Σ_b ‖P b‖`` summed over every block of every array in ``blocks`` (SPEC §3).

        Parameters
        ----------
        alpha : float
        *blocks : ndarray
            Arrays of blocks, e.g. ``blocks_pos, blocks_neg`` of shape (n_outputs, n_dims, n_patterns).
        axis : int, default=-2
            Axis of the block coordinates.

        Returns
        -------
        float
        """
        return alpha * float(sum(self.norms(b, axis=axis).sum() for b in blocks))

    def subspace_gradient(self, alpha, W, spans, owner):
        """Gradient of ``alpha Σ_b ‖P w_b‖`` in subspace coordinates ``z``, ``w_b = w_b⁰ + N_b z_b``.

        Parameters
        ----------
        alpha : float
        W : ndarray of shape (n_dims, n_blocks)
            The blocks, each with ``P w_b ≠ 0`` (the penalty is smooth there).
        spans : ndarray of shape (n_dims, n_columns)
            The columns of every ``N_b``, side by side.
        owner : ndarray of shape (n_columns,)
            The block of each column.

        Returns
        -------
        ndarray of shape (n_columns,)
            ``alpha N_bᵀ P w_b / ‖P w_b‖``.
        """
        unit = W * self.mask(W.shape[0])[:, None]
        return alpha * np.einsum("dj,dj->j", spans, unit[:, owner]) / np.linalg.norm(unit, axis=0)[owner]

    def subspace_hessian(self, alpha, W, spans, owner):
        """Hessian of ``alpha Σ_b ‖P w_b‖`` in the coordinates of :meth:`subspace_gradient`.

        ``alpha N_bᵀ (P − ŵ ŵᵀ) N_b / ‖P w_b‖`` per block with ``ŵ = P w_b / ‖P w_b‖``; zero across
        blocks, so only the entries within blocks are returned (a dense matrix of the direction
        polish's 3,000 columns cost more than its Cholesky factor). The columns of each ``N_b`` are
        orthonormal (``N_bᵀ N_b = I``).

        Parameters
        ----------
        alpha : float
        W : ndarray of shape (n_dims, n_blocks)
        spans : ndarray of shape (n_dims, n_columns)
        owner : ndarray of shape (n_columns,)

        Returns
        -------
        rows, cols : ndarray of shape (n_entries,)
            Every pair of columns of the same block (``n_entries = Σ_b (columns of b)²``).
        values : ndarray of shape (n_entries,)
            The Hessian's entries there.
        """
        mask = self.mask(W.shape[0])
        norms = np.linalg.norm(W * mask[:, None], axis=0)
        v = np.einsum("dj,dj->j", spans, (W * mask[:, None])[:, owner]) / norms[owner]  # N_bᵀ ŵ
        order = np.argsort(owner, kind="stable")  # the columns block by block
        sizes = np.bincount(owner)
        first = np.cumsum(sizes) - sizes  # position in `order` of each block's first column
        repeats = sizes[owner[order]]
        rows = np.repeat(order, repeats)
        offsets = np.arange(rows.size) - np.repeat(np.cumsum(repeats) - repeats, repeats)
        cols = order[np.repeat(first[owner[order]], repeats) + offsets]
        if self.penalize_hidden_bias:
            inner = (rows == cols).astype(float)
        else:
            inner = ((spans * mask[:, None]).T @ spans)[rows, cols]
        return rows, cols, (alpha / norms[owner[rows]]) * (-(v[rows] * v[cols]) + inner)

    def cvxpy_value(self, B):
        """cvxpy expression ``Σ_b ‖P b‖`` of the columns of a variable.

        Parameters
        ----------
        B : cvxpy.Variable of shape (n_dims, n_blocks)

        Returns
        -------
        cvxpy.Expression
        """
        import cvxpy as cp

        return cp.sum(cp.norm(B[: self.n_penalized(B.shape[0])], 2, axis=0))

    def kappas(self, X_aug, patterns, R, threshold=0.0, *, bound_only=False, n_wanted=None, level=None):
        """κ_{i,σ,k} of SPEC §4 for this norm: ``max {σ r_kᵀ D_i X̃ u : u ∈ K_i, ‖P u‖ ≤ 1}``.

        Entries whose cheap upper bound is at most ``threshold`` hold the bound; with
        ``bound_only``, entries shown to be at most ``threshold`` may stop at an upper bound (cone
        projections only; the bias-free κ is always computed in full above the threshold).

        Parameters
        ----------
        X_aug : ndarray of shape (n_samples, n_dims)
        patterns : ndarray of shape (n_samples, n_patterns), dtype bool
        R : ndarray of shape (n_samples, n_outputs)
        threshold : float, default=0.0
        bound_only : bool, default=False
        n_wanted, level : int and float, default=None
            Bias-free κ only: stop computing (in order of decreasing bound) once ``n_wanted``
            computed entries exceed ``level`` (default ``threshold``); the rest hold bounds.

        Returns
        -------
        kappas : ndarray of shape (n_outputs, n_patterns, 2)
            Last axis: σ = +1, σ = −1; ``inf`` where the maximum is unbounded (an unpenalised bias
            without a fitted output intercept).
        directions : ndarray of shape (n_outputs, n_dims, n_patterns, 2)
            ``κ u*`` with ``u*`` a maximiser for computed entries.
        exact : ndarray of shape (n_outputs, n_patterns, 2), dtype bool
        """
        if self.penalize_hidden_bias:
            return cone_kappas(X_aug, patterns, R, threshold, bound_only=bound_only)
        return bias_free_kappas(X_aug, patterns, R, threshold, n_wanted=n_wanted, level=level)

    def bias_slack(self, X_aug, blocks):
        """The part of each block's unpenalised bias that is a constant on the data (SPEC §3.1).

        A block active on every sample of ``X_aug`` keeps its prediction up to the constant
        ``min_k x̃_kᵀb`` when that much is taken off its bias; with the bias unpenalised this
        changes neither the penalty nor (with the constant moved to the output intercept) the
        prediction. Zero for every block when the bias is penalised.

        Parameters
        ----------
        X_aug : ndarray of shape (n_samples, n_dims)
        blocks : ndarray of shape (n_blocks, n_dims)

        Returns
        -------
        ndarray of shape (n_blocks,)
            ``max(min_k x̃_kᵀb, 0)``, or zeros.
        """
        if self.penalize_hidden_bias or blocks.shape[0] == 0:
            return np.zeros(blocks.shape[0])
        return np.maximum(np.min(X_aug @ blocks.T, axis=0), 0.0)

    def balanced_neurons(self, blocks, zero_rtol=0.0):
        """The scaling of SPEC §3.1: hidden weights ``b/√‖P b‖`` and output magnitudes ``√‖P b‖``.

        Parameters
        ----------
        blocks : ndarray of shape (n_blocks, n_dims)
        zero_rtol : float, default=0.0
            Blocks with ``‖P b‖ ≤ zero_rtol · max ‖P b‖`` become zero neurons.

        Returns
        -------
        hidden : ndarray of shape (n_blocks, n_dims)
        output : ndarray of shape (n_blocks,)
            ``√‖P b‖ ≥ 0`` (zero for zero neurons); multiply by the block's sign.
        """
        norms = self.norms(blocks, axis=-1)
        alive = norms > zero_rtol * norms.max(initial=0.0)
        root = np.sqrt(np.where(alive, norms, 1.0))
        hidden = np.where(alive[:, None], blocks / root[:, None], 0.0)
        return hidden, np.where(alive, root, 0.0)

    def network_value(self, network, alpha):
        """Penalty ``(alpha/2) Σ_j (‖P w̃_j‖² + a_j²)`` of a network (SPEC §1).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        alpha : float

        Returns
        -------
        float
        """
        return network.penalty(alpha, penalize_hidden_bias=self.penalize_hidden_bias)
