"""Atoms: the unit directions along which the neurons of optimal networks point (SPEC §5).

One model shared by the optimal set and the landscape tools. An atom is a direction ``â`` in
``X̃`` coordinates (hidden bias last), normalised on the penalised coordinates (``‖Pâ‖ = 1``; all
of them unless the hidden bias is unpenalised, SPEC §6 (ii)), with the sign ``σ`` of its output
weight and the output it feeds. A neuron on atom ``k`` with coefficient ``c > 0`` is the balanced
neuron ``(√c â_k, σ_k √c)``; its block is ``c â_k`` and its fit ``c f_k``, ``f_k = σ_k (X̃ â_k)_+``.
"""

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist, pdist, squareform

from ..network import blocks_to_network

__all__ = ["Atoms", "merge_directions"]

_TINY = np.finfo(float).tiny


def merge_directions(units, keys, tolerance):
    """Group label of each unit vector: equal ``keys`` rows and directions closer than ``tolerance``.

    This is how the neurons of a solution that point the same way (up to ``tolerance``) are
    counted as one atom: two vectors are in one group when a chain of vectors, each closer than
    ``tolerance`` to the next, joins them.

    Parameters
    ----------
    units : ndarray of shape (m, d)
        Unit vectors, one per row.
    keys : ndarray of shape (m, n_keys)
        Only rows with equal keys (e.g. output and sign) are merged.
    tolerance : float
        Largest distance at which two vectors are merged.

    Returns
    -------
    labels : ndarray of shape (m,)
        Labels numbered in the order of each group's first member (transitive closure of
        "closer than ``tolerance``").

    See Also
    --------
    Atoms : The distinct directions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.optimal_set import merge_directions
    >>> units = np.array([[1.0, 0.0], [1.0, 1e-9], [0.0, 1.0]])
    >>> merge_directions(units, np.zeros((3, 1)), tolerance=1e-6)
    array([0, 0, 1])
    """
    if units.shape[0] == 0:
        return np.zeros(0, dtype=int)
    close = squareform(pdist(units)) <= tolerance
    close &= (keys[:, None, :] == keys[None, :, :]).all(axis=2)
    _, labels = connected_components(close, directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=int)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.reshape(-1)]


class Atoms:
    """Unit directions with a sign and an output each.

    The neurons of every optimal network point along atoms (SPEC §5): an atom ``k`` is a unit
    direction ``â_k`` with the sign ``σ_k`` of its output weight and the output it feeds, and its
    fit on the data is ``f_k = σ_k (X̃ â_k)_+``.

    Parameters
    ----------
    directions : array-like of shape (n_atoms, n_dims)
        Normalised on the first ``n_penalized`` coordinates.
    signs : array-like of shape (n_atoms,)
        ``+1`` or ``-1``.
    outputs : array-like of shape (n_atoms,), default=None
        Output fed by each atom; all zero when ``None``.

    See Also
    --------
    OptimalSet : The optimal networks, as coefficients on atoms.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.optimal_set import Atoms
    >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
    >>> len(atoms), atoms.signs, atoms.outputs
    (2, array([1, 1]), array([0, 0]))
    """

    def __init__(self, directions, signs, outputs=None):
        self.signs = np.asarray(signs, dtype=int).reshape(-1)
        directions = np.asarray(directions, dtype=float)
        self.directions = directions.reshape(self.signs.size, directions.shape[-1] if directions.ndim else 0)
        self.outputs = np.zeros(self.signs.size, dtype=int) if outputs is None else np.asarray(outputs, dtype=int)

    def __len__(self):
        return self.signs.size

    @classmethod
    def from_blocks(cls, blocks, signs, outputs=None, n_penalized=None):
        """Atoms and coefficients ``‖Pv‖`` of the blocks ``v`` with a nonzero penalised part.

        Parameters
        ----------
        blocks : ndarray of shape (m, n_dims)
            Blocks of a solution of the convex program, one per row.
        signs : ndarray of shape (m,)
            The sign ``σ`` of each block.
        outputs : ndarray of shape (m,), default=None
            Output fed by each block; all zero when ``None``.
        n_penalized : int, default=None
            Number of leading penalised coordinates (``None``: all).

        Returns
        -------
        atoms : Atoms
        coefficients : ndarray of shape (n_atoms,)
        index : ndarray of shape (n_atoms,)
            The rows of ``blocks`` kept.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> blocks = np.array([[2.0, 0.0], [0.0, 0.0], [-3.0, 0.0]])
        >>> atoms, coefficients, index = Atoms.from_blocks(blocks, np.array([1.0, 1.0, -1.0]))
        >>> atoms.directions
        array([[ 1.,  0.],
               [-1.,  0.]])
        >>> coefficients, index
        (array([2., 3.]), array([0, 2]))
        """
        norms = np.linalg.norm(blocks[:, :n_penalized], axis=1)
        keep = np.flatnonzero(norms > 0)
        outputs = None if outputs is None else np.asarray(outputs)[keep]
        return cls(blocks[keep] / norms[keep, None], np.asarray(signs)[keep], outputs), norms[keep], keep

    def subset(self, index):
        """The atoms ``index``.

        Parameters
        ----------
        index : ndarray of shape (n_kept,) of int, or of shape (n_atoms,) of bool
            The atoms to keep.

        Returns
        -------
        atoms : Atoms
            The atoms kept, in the order of ``index``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> atoms.subset([1]).directions
        array([[-1.,  0.]])
        """
        return Atoms(self.directions[index], self.signs[index], self.outputs[index])

    def concat(self, other):
        """These atoms followed by ``other``'s.

        Parameters
        ----------
        other : Atoms
            The atoms appended.

        Returns
        -------
        atoms : Atoms
            ``len(self) + len(other)`` atoms.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> len(atoms.concat(atoms.subset([0])))
        3
        """
        return Atoms(
            np.vstack([self.directions, other.directions]), np.concatenate([self.signs, other.signs]),
            np.concatenate([self.outputs, other.outputs]),
        )

    def fits(self, X_aug):
        """The atom fits ``f_k = σ_k (X̃ â_k)_+``.

        Parameters
        ----------
        X_aug : ndarray of shape (n_samples, n_dims)
            The data ``X̃``, with the column of ones when the directions have a bias coordinate.

        Returns
        -------
        fits : ndarray of shape (n_samples, n_atoms)
            Column ``k`` is the fit of atom ``k``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> atoms.fits(np.array([[-2.0, 1.0], [3.0, 1.0]]))
        array([[0., 2.],
               [3., 0.]])
        """
        return self.signs * np.maximum(X_aug @ self.directions.T, 0.0)

    def placed(self, fits, n_outputs):
        """The fits on their outputs.

        Parameters
        ----------
        fits : ndarray of shape (n_samples, n_atoms)
            The atom fits (``fits``).
        n_outputs : int
            Number of outputs.

        Returns
        -------
        placed : ndarray of shape (n_samples, n_outputs, n_atoms)
            Column ``k`` of output ``outputs[k]`` holds ``fits[:, k]``, the others are zero.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> atoms.placed(atoms.fits(np.array([[-2.0, 1.0], [3.0, 1.0]])), 1).shape
        (2, 1, 2)
        """
        placed = np.zeros((fits.shape[0], n_outputs, len(self)))
        placed[:, self.outputs, np.arange(len(self))] = fits
        return placed

    def network(self, index, coefficients, intercept, *, hidden_bias):
        """Neuron ``(√c_j â, σ √c_j)`` on atom ``index[j]`` for each coefficient ``c_j ≥ 0`` (SPEC §3.1).

        Parameters
        ----------
        index : ndarray of shape (n_neurons,)
            The atom of each neuron.
        coefficients : ndarray of shape (n_neurons,)
            The coefficient ``c_j`` of each neuron.
        intercept : ndarray of shape (n_outputs,)
            The output intercept.
        hidden_bias : bool
            Whether the last coordinate of the directions is the hidden bias.

        Returns
        -------
        network : TwoLayerReLUNetwork
            One balanced neuron per coefficient.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> network = atoms.network(np.array([0, 1]), np.array([1.0, 4.0]), np.zeros(1), hidden_bias=True)
        >>> network.predict(np.array([[-2.0], [3.0]]))  # 1 * (x)_+ + 4 * (-x)_+
        array([8., 3.])
        """
        index = np.asarray(index, dtype=int)
        blocks = np.asarray(coefficients, dtype=float)[:, None] * self.directions[index]
        return blocks_to_network(blocks, self.signs[index], intercept, hidden_bias=hidden_bias, outputs=self.outputs[index])

    def match(self, network, *, hidden_bias, n_penalized=None):
        """Each neuron's nearest atom of its output and sign, and what matching needs to know.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network whose neurons are matched.
        hidden_bias : bool
            Whether the network's hidden bias is the last coordinate of the directions.
        n_penalized : int, default=None
            Leading coordinates normalised in the atoms (``None``: all).

        Returns
        -------
        nearest : ndarray of shape (n_neurons,)
            The nearest atom (0 when there is none).
        distance : ndarray of shape (n_neurons,)
            Distance of the neuron's unit direction to that atom (``inf`` when there is none).
        w_norm, a : ndarray of shape (n_neurons,)
            ``‖Pw̃_j‖`` and the largest output weight (signed) of each neuron.
        a_norm : ndarray of shape (n_neurons,)
            ``‖a_j‖`` over all outputs.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu.optimal_set import Atoms
        >>> atoms = Atoms([[1.0, 0.0], [-1.0, 0.0]], [1, 1])  # (x)_+ and (-x)_+, with a bias coordinate
        >>> network = atoms.network(np.array([0, 1]), np.array([1.0, 4.0]), np.zeros(1), hidden_bias=True)
        >>> nearest, distance, w_norm, a, a_norm = atoms.match(network, hidden_bias=True)
        >>> nearest, distance, w_norm
        (array([0, 1]), array([0., 0.]), array([1., 2.]))
        """
        W = np.vstack([network.hidden_weights, network.hidden_bias]) if hidden_bias else network.hidden_weights
        A = network.output_weights
        w_norm, a_norm = np.linalg.norm(W[:n_penalized], axis=0), np.linalg.norm(A, axis=1)
        out = np.argmax(np.abs(A), axis=1)
        a = A[np.arange(A.shape[0]), out]
        units = W.T / np.maximum(w_norm, _TINY)[:, None]
        distance = cdist(units, self.directions) if len(self) else np.zeros((units.shape[0], 0))
        distance[(self.outputs[None, :] != out[:, None]) | (self.signs[None, :] != np.sign(a)[:, None])] = np.inf
        if not len(self):
            return np.zeros(W.shape[1], dtype=int), np.full(W.shape[1], np.inf), w_norm, a, a_norm
        nearest = np.argmin(distance, axis=1)
        return nearest, distance[np.arange(W.shape[1]), nearest], w_norm, a, a_norm
