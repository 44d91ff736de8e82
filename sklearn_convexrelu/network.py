"""Two-layer ReLU networks, points of the convex program, and the maps between them (SPEC §1, §3.1)."""

from dataclasses import dataclass
from numbers import Real

import numpy as np

from ._nonconvex_objective import weight_decay
from .arrangements import _augment
from .program.losses import encode_targets, get_loss, normalized_weights
from .program.operators import forward
from .program.penalty import GroupNormPenalty

__all__ = ["ConvexSolution", "TwoLayerReLUNetwork", "blocks_to_network"]


def _frozen(array, ndim, name):
    array = np.array(array, dtype=float, copy=True)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity.")
    array.setflags(write=False)
    return array


def _data_term(prediction, y, sample_weight, loss):
    """``(1/n) Σ s_k ℓ(prediction_k, y_k)`` with the targets encoded for ``loss``."""
    n_outputs = prediction.shape[1]
    Y = encode_targets(y, loss, n_outputs)
    if Y.shape != prediction.shape:
        raise ValueError(f"y has shape {np.shape(y)}, which does not match {n_outputs} output(s).")
    s = normalized_weights(sample_weight, prediction.shape[0])
    return get_loss(loss, n_outputs).value(prediction, Y, s)


@dataclass(frozen=True, eq=False, repr=False)
class TwoLayerReLUNetwork:
    """A two-layer ReLU network ``f(x) = Σ_j a_j (wⱼᵀx + b_j)_+ + c`` (SPEC §1).

    Immutable: the arrays are copied and made read-only. The layout matches scikit-learn's
    ``MLPRegressor``: ``coefs_ = [hidden_weights, output_weights]``,
    ``intercepts_ = [hidden_bias, output_bias]``.

    Parameters
    ----------
    hidden_weights : array-like of shape (n_features, n_neurons)
        The hidden weights ``w_j``, one column per neuron.
    hidden_bias : array-like of shape (n_neurons,)
        The hidden biases ``b_j``.
    output_weights : array-like of shape (n_neurons, n_outputs) or (n_neurons,)
        The output weights ``a_j``, one row per neuron.
    output_bias : array-like of shape (n_outputs,) or float
        The output intercept ``c``.

    See Also
    --------
    ConvexSolution : The same model as a point of the convex program.
    sklearn.neural_network.MLPRegressor : The same layout, trained by gradient methods.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import TwoLayerReLUNetwork
    >>> net = TwoLayerReLUNetwork([[1.0, -1.0]], [0.0, 0.0], [1.0, 1.0], 0.5)
    >>> X = np.array([[-2.0], [3.0]])
    >>> net.predict(X)
    array([2.5, 3.5])
    >>> net.activations(X)
    array([[0., 2.],
           [3., 0.]])
    >>> net.penalty(alpha=0.1)  # (0.1 / 2) * (1 + 1 + 1 + 1)
    0.2
    >>> round(net.objective(X, np.array([2.0, 3.0]), alpha=0.1), 6)  # (0.25 + 0.25) / 4 + 0.2
    0.325
    >>> net.to_convex(X)
    ConvexSolution(n_patterns=2, n_outputs=1, nonzero_blocks=2)
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    output_bias: np.ndarray

    def __post_init__(self):
        W = _frozen(self.hidden_weights, 2, "hidden_weights")
        b = _frozen(self.hidden_bias, 1, "hidden_bias")
        A = np.asarray(self.output_weights, dtype=float)
        A = _frozen(A.reshape(-1, 1) if A.ndim == 1 else A, 2, "output_weights")
        c = _frozen(np.atleast_1d(np.asarray(self.output_bias, dtype=float)), 1, "output_bias")
        if not (W.shape[1] == b.shape[0] == A.shape[0]) or A.shape[1] != c.shape[0]:
            raise ValueError(
                "Inconsistent shapes: hidden_weights (n_features, m), hidden_bias (m,), "
                f"output_weights (m, n_outputs), output_bias (n_outputs,); got {W.shape}, "
                f"{b.shape}, {A.shape}, {c.shape}."
            )
        for name, value in zip(("hidden_weights", "hidden_bias", "output_weights", "output_bias"), (W, b, A, c)):
            object.__setattr__(self, name, value)

    @classmethod
    def from_mlp(cls, mlp):
        """The network of a fitted ``MLPRegressor``/``MLPClassifier`` with one ReLU hidden layer.

        Parameters
        ----------
        mlp : MLPRegressor or MLPClassifier
            Fitted, with ``hidden_layer_sizes=(m,)`` and ``activation="relu"``.

        Returns
        -------
        network : TwoLayerReLUNetwork
            The same weights and biases (``coefs_`` and ``intercepts_``).
        """
        if not hasattr(mlp, "coefs_"):
            raise ValueError("The MLP is not fitted: call fit before converting it.")
        if len(mlp.coefs_) != 2 or getattr(mlp, "activation", None) != "relu":
            raise ValueError(
                "Only MLPs with exactly one hidden layer and activation='relu' are two-layer ReLU "
                f"networks; got {len(mlp.coefs_) - 1} hidden layer(s) and activation={mlp.activation!r}."
            )
        return cls(mlp.coefs_[0], mlp.intercepts_[0], mlp.coefs_[1], mlp.intercepts_[1])

    @property
    def n_features(self):
        """Number of input features."""
        return self.hidden_weights.shape[0]

    @property
    def n_neurons(self):
        """Number of hidden neurons (the width m)."""
        return self.hidden_weights.shape[1]

    @property
    def n_outputs(self):
        """Number of outputs."""
        return self.output_weights.shape[1]

    def __repr__(self):
        return (
            f"TwoLayerReLUNetwork(n_features={self.n_features}, n_neurons={self.n_neurons}, "
            f"n_outputs={self.n_outputs})"
        )

    def _check_X(self, X):
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n_samples, {self.n_features}), got {X.shape}.")
        return X

    def activations(self, X):
        """Hidden activations ``(X W + b)_+``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        activations : ndarray of shape (n_samples, n_neurons)
            The output of each hidden neuron.
        """
        return np.maximum(self._check_X(X) @ self.hidden_weights + self.hidden_bias, 0.0)

    def output(self, X):
        """Network outputs, always two-dimensional.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        output : ndarray of shape (n_samples, n_outputs)
            The network's outputs.
        """
        return self.activations(X) @ self.output_weights + self.output_bias

    def predict(self, X):
        """Network outputs, one-dimensional for one output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shape (n_samples,) for one output, else (n_samples, n_outputs).
        """
        out = self.output(X)
        return out[:, 0] if self.n_outputs == 1 else out

    def penalty(self, alpha, *, penalize_hidden_bias=True):
        """``(alpha/2) Σ_j (‖w_j‖² + a_j²)``, the hidden bias inside ``w_j`` when penalised.

        Parameters
        ----------
        alpha : float
            Regularisation strength.
        penalize_hidden_bias : bool, default=True
            Whether the hidden bias counts in ``‖w_j‖``.

        Returns
        -------
        penalty : float
            The weight-decay term of the objective.
        """
        if not (isinstance(alpha, Real) and 0 <= alpha < np.inf):
            raise ValueError(f"alpha must be a non-negative finite float; got {alpha!r}.")
        W = np.vstack([self.hidden_weights, self.hidden_bias])[None]  # X̃ coordinates, bias last
        penalized = np.r_[np.ones(self.n_features), float(penalize_hidden_bias)]
        return float(weight_decay(alpha, W, self.output_weights[None], penalized)[0])

    def objective(self, X, y, alpha, *, sample_weight=None, loss="squared_error", penalize_hidden_bias=True):
        """The regularised training objective (NC) of SPEC §1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.
        y : array-like
            Targets encoded as in :func:`~sklearn_convexrelu.program.encode_targets`: values for
            ``"squared_error"``; labels in {-1, +1} for ``"log_loss"`` with one output; class
            indices or one-hot rows for ``"log_loss"`` with several outputs.
        alpha : float
            Regularisation strength.
        sample_weight : array-like of shape (n_samples,), default=None
            Rescaled to sum to n_samples.
        loss : {"squared_error", "log_loss"}, default="squared_error"
            Loss of the data term.
        penalize_hidden_bias : bool, default=True
            Whether the hidden bias counts in ``‖w_j‖``.

        Returns
        -------
        objective : float
            The data term ``(1/n) Σ_i s_i ℓ(f(x_i), y_i)`` plus :meth:`penalty`.
        """
        data = _data_term(self.output(X), y, sample_weight, loss)
        return data + self.penalty(alpha, penalize_hidden_bias=penalize_hidden_bias)

    def to_convex(self, X, *, hidden_bias=True):
        """The point of (C-ReLU) with the same prediction on ``X`` (SPEC §3.1).

        Neuron j goes to the block ``|a_jk| w̃_j`` of output k on the side ``sign(a_jk)`` of its
        pattern ``D(w̃_j)`` on ``X``; blocks landing on the same side of the same pattern are summed.
        Ties ``x̃ᵀw̃_j = 0`` are assigned to the active side, which is consistent with the cone.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data defining the patterns ``D(w̃_j)``.
        hidden_bias : bool, default=True
            Whether the hidden bias is part of the model; if ``False`` it must be zero.

        Returns
        -------
        solution : ConvexSolution
            One gate per distinct pattern of the neurons, with the same prediction on ``X`` and
            a penalty no larger than the network's (its hidden bias penalised).
        """
        X_aug = _augment(self._check_X(X), hidden_bias)
        if not hidden_bias and np.any(self.hidden_bias != 0):
            raise ValueError("The network has a nonzero hidden bias but hidden_bias=False.")
        W = np.vstack([self.hidden_weights, self.hidden_bias]) if hidden_bias else self.hidden_weights
        patterns = X_aug @ W >= 0
        keys, first, inverse = np.unique(np.packbits(patterns, axis=0).T, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)  # keep patterns in the order of their first neuron
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        group = rank[inverse.reshape(-1)]
        K, d, P = self.n_outputs, W.shape[0], keys.shape[0]
        blocks = np.zeros((2, K, d, P))
        A = self.output_weights
        for side, part in enumerate((np.maximum(A, 0), np.maximum(-A, 0))):
            # blocks[side, k, :, i] = Σ_{j in group i} part[j, k] w̃_j
            np.add.at(blocks[side].transpose(2, 0, 1), group, (part[:, :, None] * W.T[:, None, :]))
        return ConvexSolution(W[:, first[order]], blocks[0], blocks[1], self.output_bias, hidden_bias)


@dataclass(frozen=True, eq=False, repr=False)
class ConvexSolution:
    """A point ``(v_i, u_i, c)`` of the convex program (C-ReLU) of SPEC §3.

    Pattern ``i`` is given by its gate ``g_i`` (``D_i = diag(1[X̃ g_i ≥ 0])`` on any data), so the
    gated model predicts on new points; the blocks ``v_i`` and ``u_i`` are the positive and
    negative neurons of that pattern, and :meth:`to_network` maps them to a balanced network.

    Parameters
    ----------
    gates : array-like of shape (n_dims, n_patterns)
        One vector per pattern; the pattern on data ``X`` is ``X̃ g ≥ 0``.
    blocks_pos, blocks_neg : array-like of shape (n_outputs, n_dims, n_patterns)
        Blocks ``v_i`` (positive neurons) and ``u_i`` (negative neurons), per output.
    intercept : array-like of shape (n_outputs,)
        The unpenalised output intercept ``c``.
    hidden_bias : bool
        Whether ``X̃ = [X, 1]`` (``n_dims = n_features + 1``) or ``X̃ = X``.

    See Also
    --------
    TwoLayerReLUNetwork : The non-convex parametrisation of the same model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import TwoLayerReLUNetwork
    >>> net = TwoLayerReLUNetwork([[1.0, -1.0]], [0.0, 0.0], [1.0, 1.0], 0.5)
    >>> X = np.array([[-2.0], [3.0]])
    >>> solution = net.to_convex(X)
    >>> solution.n_patterns, solution.n_outputs, solution.n_nonzero_blocks
    (2, 1, 2)
    >>> solution.patterns(X)
    array([[False,  True],
           [ True, False]])
    >>> solution.output(X)
    array([[2.5],
           [3.5]])
    >>> solution.penalty(alpha=0.1)  # 0.1 * (1 + 1): equal to the balanced network's penalty
    0.2
    >>> solution.to_network().predict(X)
    array([2.5, 3.5])
    """

    gates: np.ndarray
    blocks_pos: np.ndarray
    blocks_neg: np.ndarray
    intercept: np.ndarray
    hidden_bias: bool

    def __post_init__(self):
        G = _frozen(self.gates, 2, "gates")
        V = _frozen(self.blocks_pos, 3, "blocks_pos")
        U = _frozen(self.blocks_neg, 3, "blocks_neg")
        c = _frozen(np.atleast_1d(self.intercept), 1, "intercept")
        if V.shape != U.shape or V.shape[1:] != G.shape or V.shape[0] != c.shape[0]:
            raise ValueError(
                f"Inconsistent shapes: gates {G.shape}, blocks {V.shape} and {U.shape}, intercept {c.shape}."
            )
        for name, value in zip(("gates", "blocks_pos", "blocks_neg", "intercept"), (G, V, U, c)):
            object.__setattr__(self, name, value)

    @property
    def n_outputs(self):
        """Number of outputs."""
        return self.blocks_pos.shape[0]

    @property
    def n_patterns(self):
        """Number of patterns (gates)."""
        return self.gates.shape[1]

    def __repr__(self):
        return (
            f"ConvexSolution(n_patterns={self.n_patterns}, n_outputs={self.n_outputs}, "
            f"nonzero_blocks={self.n_nonzero_blocks})"
        )

    @property
    def n_nonzero_blocks(self):
        """Number of nonzero blocks = number of neurons of :meth:`to_network`."""
        return int(np.count_nonzero(self._block_norms()))

    def _block_norms(self):
        return np.linalg.norm(np.stack([self.blocks_pos, self.blocks_neg]), axis=2)  # (2, K, P)

    def patterns(self, X):
        """Pattern matrix on raw data ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (without the bias column).

        Returns
        -------
        patterns : ndarray of shape (n_samples, n_patterns), dtype bool
            Column ``i`` is the pattern of gate ``i``, ``X̃ g_i ≥ 0``.
        """
        return _augment(np.asarray(X, dtype=float), self.hidden_bias) @ self.gates >= 0

    def output(self, X):
        """Gated prediction ``Σ_i D_i X̃ (v_i − u_i) + c``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (without the bias column).

        Returns
        -------
        output : ndarray of shape (n_samples, n_outputs)
            The gated model's prediction.
        """
        X_aug = _augment(np.asarray(X, dtype=float), self.hidden_bias)
        return forward(X_aug, X_aug @ self.gates >= 0, self.blocks_pos - self.blocks_neg) + self.intercept

    def penalty(self, alpha):
        """``alpha Σ_i (‖v_i‖ + ‖u_i‖)`` summed over outputs.

        Parameters
        ----------
        alpha : float
            Regularisation strength.

        Returns
        -------
        penalty : float
            The group-lasso term of the objective.
        """
        return alpha * float(self._block_norms().sum())

    def objective(self, X, y, alpha, *, sample_weight=None, loss="squared_error"):
        """Objective of (C-ReLU) (SPEC §3).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples (without the bias column).
        y : array-like
            Targets, encoded as for :meth:`TwoLayerReLUNetwork.objective`.
        alpha : float
            Regularisation strength.
        sample_weight : array-like of shape (n_samples,), default=None
            Rescaled to sum to n_samples.
        loss : {"squared_error", "log_loss"}, default="squared_error"
            Loss of the data term.

        Returns
        -------
        objective : float
            The data term of :meth:`output` plus :meth:`penalty`.
        """
        return _data_term(self.output(X), y, sample_weight, loss) + self.penalty(alpha)

    def to_network(self):
        """The balanced network with one neuron per nonzero block (SPEC §3.1).

        ``v ↦ (v/√‖v‖, +√‖v‖)`` and ``u ↦ (u/√‖u‖, −√‖u‖)`` on the block's output; positive
        neurons come first, then negative ones, each ordered by output and pattern. The network's
        prediction equals :meth:`output` on data where every block lies in its cone.

        Returns
        -------
        network : TwoLayerReLUNetwork
            The balanced network, with ``n_nonzero_blocks`` neurons.
        """
        side, k, i = np.nonzero(self._block_norms() > 0)  # (2, K, P)
        blocks = np.stack([self.blocks_pos, self.blocks_neg])[side, k, :, i]  # (m, d)
        return blocks_to_network(
            blocks, np.where(side == 0, 1.0, -1.0), self.intercept, hidden_bias=self.hidden_bias, outputs=k
        )


def blocks_to_network(blocks, signs, intercept, *, hidden_bias, outputs=None, penalty=None, X_aug=None, zero_rtol=0.0):
    """The balanced network with one neuron per block (SPEC §3.1); the one blocks → network map.

    Block ``b`` with sign ``σ`` feeding output ``k`` becomes the neuron ``(b/√‖P b‖, σ√‖P b‖)``,
    ``P`` keeping the coordinates ``penalty`` penalises (:meth:`GroupNormPenalty.balanced_neurons`):
    same prediction wherever each block lies in its cone, penalty ``alpha ‖P b‖``, balanced.

    With an unpenalised hidden bias, a block active on every sample of ``X_aug`` keeps only the
    smallest bias that leaves it active on every sample; the slack ``min_k x̃_kᵀb ≥ 0`` goes into
    the output intercept (same prediction on the data, same penalty). This keeps the map
    continuous where ``P b → 0``: for any block in its cone ``|b_d| ≤ (max_k ‖x_k‖) ‖P b‖`` after
    that shift.

    Parameters
    ----------
    blocks : ndarray of shape (n_neurons, n_dims)
        Each block lies in the cone of its own pattern on the data.
    signs : ndarray of shape (n_neurons,)
        ``σ = ±1``.
    intercept : ndarray of shape (n_outputs,)
    hidden_bias : bool
        Whether the last block coordinate is the hidden bias (``X̃ = [X, 1]``).
    outputs : ndarray of shape (n_neurons,), default=None
        Output fed by each neuron (all zero when ``None``).
    penalty : GroupNormPenalty, default=None
        ``None``: every coordinate penalised.
    X_aug : ndarray of shape (n_samples, n_dims), default=None
        The data; required with an unpenalised hidden bias.
    zero_rtol : float, default=0.0
        Blocks with ``‖P b‖ ≤ zero_rtol · max ‖P b‖`` become zero neurons (kept, so the width is
        the number of blocks).

    Returns
    -------
    TwoLayerReLUNetwork
    """
    blocks = np.array(blocks, dtype=float)
    signs = np.asarray(signs, dtype=float)
    intercept = np.array(intercept, dtype=float).reshape(-1)
    penalty = GroupNormPenalty() if penalty is None else penalty
    m = blocks.shape[0]
    outputs = np.zeros(m, dtype=int) if outputs is None else np.asarray(outputs)
    if not penalty.penalize_hidden_bias and m:
        if X_aug is None:
            raise ValueError("An unpenalised hidden bias needs the data X_aug to place the bias.")
        slack = penalty.bias_slack(X_aug, blocks)
        blocks[:, -1] -= slack
        np.add.at(intercept, outputs, signs * slack)
    hidden, root = penalty.balanced_neurons(blocks, zero_rtol)
    A = np.zeros((m, intercept.size))
    A[np.arange(m), outputs] = signs * root
    W = hidden.T
    if hidden_bias:
        return TwoLayerReLUNetwork(W[:-1], W[-1], A, intercept)
    return TwoLayerReLUNetwork(W, np.zeros(m), A, intercept)
