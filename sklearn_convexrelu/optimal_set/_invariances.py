"""Transformations that map optimal networks to optimal networks (SPEC §5.1)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._tolerances import PARALLEL_ATOL
from ..network import TwoLayerReLUNetwork, blocks_to_network
from ._atoms import merge_directions
from ._polytope import max_step

__all__ = ["Invariances"]


def _check_network(network):
    if not isinstance(network, TwoLayerReLUNetwork):
        raise TypeError(f"network must be a TwoLayerReLUNetwork, got {type(network).__name__}.")


def _check_neuron(network, neuron):
    """``neuron`` as an index into the network's neurons, or a clear error."""
    if isinstance(neuron, bool) or not isinstance(neuron, Integral) or not 0 <= neuron < network.n_neurons:
        raise ValueError(f"neuron must be an integer in [0, {network.n_neurons}), got {neuron!r}.")
    return int(neuron)


class Invariances:
    """Transformations that map optimal networks to optimal networks (SPEC §5.1).

    Each method takes a :class:`~sklearn_convexrelu.TwoLayerReLUNetwork` and returns a new one.
    Applied to an optimal network, every method but :meth:`rescale` returns an optimal network
    with the same training prediction. Invariance 6 of §5.1, re-assigning a neuron whose direction
    lies on a cone boundary to the neighbouring pattern, changes the convex blocks but not the
    network's weights, so it needs no method.

    Parameters
    ----------
    optimal_set : OptimalSet
        The optimal set whose networks are transformed.

    Attributes
    ----------
    optimal_set : OptimalSet
    continuous_dimension : int
        Dimension of the continuous family of optimal networks beyond splitting: that of the
        coefficient polytope (``optimal_set.dimension``).
    names : tuple of str
        The invariances, in the order of §5.1.

    See Also
    --------
    OptimalSet : The set the transformations preserve.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> X = np.linspace(-1, 1, 12)[:, None]
    >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
    >>> inv = reg.invariances_
    >>> net = inv.split(reg.network_, 0, [0.25, 0.75])
    >>> net.n_neurons == reg.network_.n_neurons + 1, reg.optimal_set_.contains(net)
    (True, True)
    >>> reg.optimal_set_.contains(inv.rescale(reg.network_, 0, 2.0))
    False
    """

    names = ("permute", "split", "merge", "add_zero_neurons", "remove_zero_neurons", "move_in_polytope")

    def __init__(self, optimal_set):
        self.optimal_set = optimal_set
        self.continuous_dimension = optimal_set.dimension

    def __repr__(self):
        q = self.continuous_dimension
        return (
            f"Invariances(continuous_dimension={q}): maps between optimal networks (SPEC §5.1)\n"
            "  1. permute(network, order)            reorder the neurons\n"
            "  2. split(network, neuron, fractions)  (w, a) -> (√γ_t w, √γ_t a), Σ γ_t = 1\n"
            "  3. merge(network)                     merge positively parallel same-sign neurons\n"
            "  4. add_zero_neurons(network, count)   append neurons with zero weights\n"
            "     remove_zero_neurons(network)       drop neurons with zero weights\n"
            f"  5. move_in_polytope(network, ...)     move the atom coefficients inside 𝒞 (dimension {q})\n"
            "  6. re-assign a neuron on a cone boundary to a neighbouring pattern (weights unchanged)\n"
            "  not an invariance: rescale(network, neuron, γ) = (γw, a/γ), same function, larger penalty"
        )

    @staticmethod
    def _take(network, index, scale=None):
        """The neurons ``index`` of ``network``, each multiplied by ``scale`` (both layers)."""
        scale = np.ones(len(index)) if scale is None else scale
        return TwoLayerReLUNetwork(
            network.hidden_weights[:, index] * scale, network.hidden_bias[index] * scale,
            network.output_weights[index] * scale[:, None], network.output_bias,
        )

    def permute(self, network, order=None, random_state=None):
        """Reorder the neurons (invariance 1).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network transformed.
        order : array-like of shape (n_neurons,), default=None
            A permutation of ``range(n_neurons)``; random when ``None``.
        random_state : int, RandomState instance or None, default=None
            Seed of the random permutation.

        Returns
        -------
        network : TwoLayerReLUNetwork
            The same neurons in another order.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> permuted = inv.permute(network, order=[1, 0])
        >>> bool(np.allclose(permuted.predict(X), network.predict(X))), reg.optimal_set_.contains(permuted)
        (True, True)
        """
        _check_network(network)
        if order is None:
            order = check_random_state(random_state).permutation(network.n_neurons)
        order = np.asarray(order)
        if order.dtype.kind not in "iu" or not np.array_equal(np.sort(order), np.arange(network.n_neurons)):
            raise ValueError("order must be a permutation of range(n_neurons).")
        return self._take(network, order)

    def split(self, network, neuron, fractions):
        """Split neuron ``(w, a)`` into ``(√γ_t w, √γ_t a)`` with ``Σ γ_t = 1`` (invariance 2).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network transformed.
        neuron : int
            Index of the neuron split.
        fractions : array-like of shape (n_parts,)
            Positive, summing to 1.

        Returns
        -------
        network : TwoLayerReLUNetwork
            The parts replace the neuron, in its place.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> split = inv.split(network, 0, [0.25, 0.75])
        >>> split.n_neurons - network.n_neurons, reg.optimal_set_.contains(split)
        (1, True)
        """
        _check_network(network)
        neuron = _check_neuron(network, neuron)
        gamma = np.asarray(fractions, dtype=float)
        if gamma.ndim != 1 or gamma.size == 0 or not np.all(gamma > 0) or not np.isclose(gamma.sum(), 1.0, rtol=1e-12):
            raise ValueError(f"fractions must be a non-empty 1-d array of positive numbers summing to 1, got {fractions!r}.")
        before, after = np.arange(neuron), np.arange(neuron + 1, network.n_neurons)
        index = np.concatenate([before, np.full(gamma.size, neuron), after])
        scale = np.ones(index.size)
        scale[neuron:neuron + gamma.size] = np.sqrt(gamma)
        return self._take(network, index, scale)

    def merge(self, network, tol=PARALLEL_ATOL):
        """Merge positively parallel neurons with the same output and sign (invariance 3).

        Neurons whose unit hidden vectors (bias included) are closer than ``tol`` become the
        balanced neuron ``(√p û, σ √p)``, ``p = Σ ‖w̃_j‖ |a_j|``: the same function, and the same
        penalty when they are balanced. The inverse of :meth:`split`.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            Each nonzero neuron feeds one output.
        tol : float, default=1e-9
            Largest distance between the unit hidden vectors of neurons merged.

        Returns
        -------
        network : TwoLayerReLUNetwork
            One neuron per group, in the order of the groups' first neurons; zero neurons dropped.

        Raises
        ------
        ValueError
            If ``network`` is optimal and a ``tol`` above the default merged neurons into a network
            that is not.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> merged = inv.merge(inv.split(network, 0, [0.25, 0.75]))
        >>> merged.n_neurons == network.n_neurons, reg.optimal_set_.contains(merged)
        (True, True)
        """
        _check_network(network)
        if not isinstance(tol, Real) or not tol >= 0:
            raise ValueError(f"tol must be a non-negative number, got {tol!r}.")
        W = np.vstack([network.hidden_weights, network.hidden_bias])
        A = network.output_weights
        w_norm = np.linalg.norm(W, axis=0)
        live = np.flatnonzero((w_norm > 0) & np.any(A != 0, axis=1))
        if np.any(np.count_nonzero(A[live], axis=1) > 1):
            raise ValueError("merge needs neurons that each feed one output.")
        out = np.argmax(np.abs(A[live]), axis=1)
        a = A[live, out]
        units = W[:, live] / w_norm[live]
        labels = merge_directions(units.T, np.column_stack([out, np.sign(a)]), tol)
        product = np.bincount(labels, weights=w_norm[live] * np.abs(a))
        _, first = np.unique(labels, return_index=True)
        # the merged block Σ_j |a_j| w̃_j = product · unit, as its balanced neuron (SPEC §3.1)
        merged = blocks_to_network((units[:, first] * product[None, :]).T, np.sign(a[first]), network.output_bias,
                                   hidden_bias=True, outputs=out[first])
        # up to PARALLEL_ATOL merging only moves rounding; beyond it, check that the result is optimal
        if tol > PARALLEL_ATOL and self.optimal_set.contains(network) and not self.optimal_set.contains(merged):
            raise ValueError(
                f"tol={tol!r} merged neurons that are not parallel: the merged network computes another "
                "function and is not optimal. Use a smaller tol (the default merges parallel neurons only)."
            )
        return merged

    def add_zero_neurons(self, network, count=1):
        """Append ``count`` neurons with zero weights (invariance 4).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network transformed.
        count : int, default=1
            Number of zero neurons to append.

        Returns
        -------
        network : TwoLayerReLUNetwork
            ``network`` with ``count`` more neurons, computing the same function.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> wider = inv.add_zero_neurons(network, 2)
        >>> wider.n_neurons - network.n_neurons, reg.optimal_set_.contains(wider)
        (2, True)
        """
        _check_network(network)
        if isinstance(count, bool) or not isinstance(count, Integral) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}.")
        return TwoLayerReLUNetwork(
            np.hstack([network.hidden_weights, np.zeros((network.n_features, count))]),
            np.concatenate([network.hidden_bias, np.zeros(count)]),
            np.vstack([network.output_weights, np.zeros((count, network.n_outputs))]), network.output_bias,
        )

    def remove_zero_neurons(self, network):
        """Drop the neurons whose weights are all zero (invariance 4).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network transformed.

        Returns
        -------
        network : TwoLayerReLUNetwork
            ``network`` without its zero neurons.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> inv.remove_zero_neurons(inv.add_zero_neurons(network, 2)).n_neurons == network.n_neurons
        True
        """
        _check_network(network)
        keep = (
            np.any(network.hidden_weights != 0, axis=0) | (network.hidden_bias != 0)
            | np.any(network.output_weights != 0, axis=1)
        )
        return self._take(network, np.flatnonzero(keep))

    def move_in_polytope(self, network, direction=None, step=0.5, random_state=None, tol=None):
        """Move the atom coefficients of an optimal network inside 𝒞 (invariance 5).

        The coefficients move from ``c`` to ``c + t β`` with ``β`` in the directions of the
        polytope's affine hull (``Σ_k β_k f_k = 0`` modulo the intercept, zero on atoms that are
        zero throughout 𝒞), a fraction ``step`` of the way to the boundary (if ``β`` leaves 𝒞 at
        once, ``−β`` is used). Each neuron on atom ``k`` is scaled by ``√(c'_k / c_k)``; atoms that
        become positive get a new neuron; neurons of atoms reaching zero become zero neurons.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            An optimal network.
        direction : array-like of shape (n_atoms,), default=None
            Projected onto the directions of the affine hull; random when ``None``.
        step : float, default=0.5
            Fraction, in [0, 1], of the distance to the boundary of 𝒞.
        random_state : int, RandomState instance or None, default=None
            Seed of the random direction.
        tol : float, default=None
            Tolerance of the membership test (see :meth:`OptimalSet.contains`).

        Returns
        -------
        network : TwoLayerReLUNetwork
            ``network`` itself when ``continuous_dimension == 0``.

        Raises
        ------
        ValueError
            If ``network`` is not optimal or ``step`` is not in [0, 1].

        Examples
        --------
        Fitting ``|x|`` has a unique optimal network (a polytope of dimension 0), which stays put:

        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> inv.continuous_dimension
        0
        >>> inv.move_in_polytope(network, random_state=0) is network
        True
        """
        _check_network(network)
        opt = self.optimal_set
        if not isinstance(step, Real) or not 0 <= step <= 1:
            raise ValueError(f"step must be in [0, 1], got {step}.")
        if direction is not None:  # checked whatever the dimension: a wrong call fails everywhere
            direction = np.asarray(direction, dtype=float)
            if direction.shape != (opt.n_atoms,) or not np.all(np.isfinite(direction)):
                raise ValueError(f"direction must be a finite array of shape ({opt.n_atoms},).")
        if not opt.contains(network, tol):
            raise ValueError("move_in_polytope needs an optimal network (optimal_set.contains(network)).")
        if opt.dimension == 0:
            return network
        coef, neuron_atoms = opt.atom_coefficients(network, tol)
        N = opt._polytope.null_basis
        if direction is None:
            beta = N @ check_random_state(random_state).standard_normal(N.shape[1])
        else:
            beta = N @ (N.T @ direction)
        t, blocking = max_step(coef, beta)
        if t == 0:
            beta = -beta
            t, blocking = max_step(coef, beta)
        new = np.maximum(coef + step * t * beta, 0.0) if np.isfinite(t) else coef
        if step == 1:  # the atoms that meet the boundary are zero, not rounding above it
            new[blocking] = 0.0
        live = neuron_atoms >= 0
        ratio = np.divide(new, coef, out=np.zeros_like(new), where=coef > 0)
        scale = np.ones(network.n_neurons)
        scale[live] = np.sqrt(ratio[neuron_atoms[live]])
        moved = self._take(network, np.arange(network.n_neurons), scale)
        born = np.flatnonzero((coef == 0) & (new > 0))
        extra = opt._network(born, new[born], new)
        return TwoLayerReLUNetwork(
            np.hstack([moved.hidden_weights, extra.hidden_weights]),
            np.concatenate([moved.hidden_bias, extra.hidden_bias]),
            np.vstack([moved.output_weights, extra.output_weights]), opt._intercept(new),
        )

    def rescale(self, network, neuron, factor):
        """Unbalanced rescaling ``(γ w, a / γ)`` of one neuron: **not** an invariance at an optimum.

        The network computes the same function but its penalty
        ``(alpha/2)(γ² ‖w̃‖² + a²/γ²)`` exceeds the balanced ``alpha ‖w̃‖ |a|`` unless ``γ = 1``
        (SPEC §1, §5.1), so :meth:`OptimalSet.contains` rejects the result.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network transformed.
        neuron : int
            Index of the neuron rescaled.
        factor : float
            ``γ > 0``.

        Returns
        -------
        network : TwoLayerReLUNetwork
            The same function, with a larger penalty unless ``γ = 1``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.linspace(-1, 1, 12)[:, None]
        >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
        >>> inv, network = reg.invariances_, reg.network_
        >>> unbalanced = inv.rescale(network, 0, 2.0)
        >>> bool(np.allclose(unbalanced.predict(X), network.predict(X)))
        True
        >>> bool(unbalanced.penalty(1e-2) > network.penalty(1e-2)), reg.optimal_set_.contains(unbalanced)
        (True, False)
        """
        _check_network(network)
        neuron = _check_neuron(network, neuron)
        if not isinstance(factor, Real) or not 0 < factor < np.inf:
            raise ValueError(f"factor must be a positive finite number, got {factor!r}.")
        up = np.ones(network.n_neurons)
        up[neuron] = factor
        return TwoLayerReLUNetwork(
            network.hidden_weights * up, network.hidden_bias * up,
            network.output_weights / up[:, None], network.output_bias,
        )
