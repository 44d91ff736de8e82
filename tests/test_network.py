"""The network object and the convex <-> network maps (SPEC §1, §3.1, §10.1)."""

import numpy as np
import pytest
from sklearn.neural_network import MLPRegressor

from sklearn_convexrelu import ConvexReLURegressor, ConvexSolution, TwoLayerReLUNetwork


def _random_network(rng, n_features=2, n_neurons=5, n_outputs=1):
    return TwoLayerReLUNetwork(
        rng.standard_normal((n_features, n_neurons)),
        rng.standard_normal(n_neurons),
        rng.standard_normal((n_neurons, n_outputs)),
        rng.standard_normal(n_outputs),
    )


def test_prediction_and_objective_by_hand():
    rng = np.random.default_rng(0)
    net = _random_network(rng)
    X = rng.standard_normal((6, 2))
    y = rng.standard_normal(6)
    hand = np.array(
        [
            sum(net.output_weights[j, 0] * max(0.0, x @ net.hidden_weights[:, j] + net.hidden_bias[j]) for j in range(5))
            + net.output_bias[0]
            for x in X
        ]
    )
    assert np.allclose(net.predict(X), hand)
    alpha = 0.3
    penalty = 0.5 * alpha * sum(
        np.sum(net.hidden_weights[:, j] ** 2) + net.hidden_bias[j] ** 2 + net.output_weights[j, 0] ** 2 for j in range(5)
    )
    assert np.isclose(net.objective(X, y, alpha), 0.5 * np.mean((hand - y) ** 2) + penalty, rtol=1e-12)
    no_bias_penalty = penalty - 0.5 * alpha * np.sum(net.hidden_bias**2)
    assert np.isclose(
        net.objective(X, y, alpha, penalize_hidden_bias=False), 0.5 * np.mean((hand - y) ** 2) + no_bias_penalty
    )


def test_network_is_immutable_and_copies_its_inputs():
    W = np.ones((2, 3))
    net = TwoLayerReLUNetwork(W, np.zeros(3), np.ones(3), 0.0)
    W[0, 0] = 5.0
    assert net.hidden_weights[0, 0] == 1.0
    with pytest.raises(ValueError):
        net.hidden_weights[0, 0] = 2.0
    with pytest.raises(AttributeError):
        net.hidden_bias = np.ones(3)


def test_shape_errors_are_specific():
    with pytest.raises(ValueError, match="Inconsistent shapes"):
        TwoLayerReLUNetwork(np.ones((2, 3)), np.zeros(2), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="NaN"):
        TwoLayerReLUNetwork(np.full((2, 3), np.nan), np.zeros(3), np.ones(3), 0.0)
    net = TwoLayerReLUNetwork(np.ones((2, 3)), np.zeros(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        net.predict(np.ones((4, 3)))


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_to_convex_preserves_prediction_and_bounds_the_objective(n_outputs):
    # SPEC §3.1: same prediction; convex objective ≤ network objective, equality when balanced.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((9, 2))
    y = rng.standard_normal((9, n_outputs))
    net = _random_network(rng, n_outputs=1)
    if n_outputs > 1:  # block-sparse second layer: each neuron feeds one output
        A = np.zeros((5, n_outputs))
        A[np.arange(5), rng.integers(0, n_outputs, 5)] = rng.standard_normal(5)
        net = TwoLayerReLUNetwork(net.hidden_weights, net.hidden_bias, A, np.zeros(n_outputs))
    y_arg = y[:, 0] if n_outputs == 1 else y
    solution = net.to_convex(X)
    assert np.allclose(solution.output(X), net.output(X))
    assert solution.objective(X, y_arg, 0.1) <= net.objective(X, y_arg, 0.1) + 1e-12
    balanced = solution.to_network()
    assert np.allclose(balanced.output(X), net.output(X))
    assert np.isclose(balanced.objective(X, y_arg, 0.1), solution.objective(X, y_arg, 0.1), rtol=1e-12)


def test_fitted_network_reproduces_the_convex_objective():
    # SPEC §10.1 (1e-10 relative), on exact patterns: the network built from the convex solution
    # has the convex objective; network_ (the min-norm optimal network) has objective_.
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (25, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    reg = ConvexReLURegressor(alpha=1e-3, arrangements="exact").fit(X, y)
    solution = reg.convex_solution_
    assert isinstance(solution, ConvexSolution)
    from_solution = solution.to_network()
    assert from_solution.n_neurons == solution.n_nonzero_blocks
    assert np.isclose(from_solution.objective(X, y, 1e-3), solution.objective(X, y, 1e-3), rtol=1e-10)
    assert np.isclose(reg.network_.objective(X, y, 1e-3), reg.objective_, rtol=1e-10)
    assert np.isclose(reg.objective_, solution.objective(X, y, 1e-3), rtol=1e-8)  # both optimal
    assert np.allclose(reg.network_.predict(X), reg.predict(X))
    assert reg.n_neurons_ == reg.network_.n_neurons


# scikit-learn's MLPs are stopped early on purpose: only their weights matter here
@pytest.mark.filterwarnings("ignore:Stochastic Optimizer:sklearn.exceptions.ConvergenceWarning")
def test_from_mlp_matches_mlp_prediction():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    mlp = MLPRegressor(hidden_layer_sizes=(7,), max_iter=50, random_state=0).fit(X, X[:, 0])
    net = TwoLayerReLUNetwork.from_mlp(mlp)
    assert np.allclose(net.predict(X), mlp.predict(X))
    deep = MLPRegressor(hidden_layer_sizes=(3, 3), max_iter=5, random_state=0).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="one hidden layer"):
        TwoLayerReLUNetwork.from_mlp(deep)


@pytest.mark.parametrize("loss, n_outputs, n_networks, penalize_hidden_bias",
                         [("squared_error", 1, 3, True), ("log_loss", 1, 2, False), ("squared_error", 2, 1, True), ("log_loss", 3, 1, True)])
def test_nonconvex_gradient_matches_the_network_objective(loss, n_outputs, n_networks, penalize_hidden_bias):
    # the one (NC) value and gradient of both trainers (pattern search seeds, landscape), against
    # TwoLayerReLUNetwork.objective and its central differences
    from sklearn_convexrelu._nonconvex_objective import nonconvex_value, nonconvex_value_and_gradient
    from sklearn_convexrelu.program.losses import encode_targets, get_loss

    rng = np.random.default_rng(3)
    n, p, m = 12, 2, 4
    X = rng.standard_normal((n, p))
    X_aug = np.hstack([X, np.ones((n, 1))])
    y = rng.standard_normal((n, n_outputs)) if loss == "squared_error" else rng.integers(0, max(n_outputs, 2), n)
    y = np.where(y == 1, 1.0, -1.0) if loss == "log_loss" and n_outputs == 1 else y
    Y = encode_targets(y, loss, n_outputs)
    s, alpha = np.ones(n), 0.05
    penalized = np.r_[np.ones(p), float(penalize_hidden_bias)]
    outputs = np.arange(m) % n_outputs
    W = rng.standard_normal((n_networks, p + 1, m))
    a = rng.standard_normal((n_networks, m))
    c = rng.standard_normal((n_networks, n_outputs))
    values, grads, _, _ = nonconvex_value_and_gradient(X_aug, get_loss(loss, n_outputs), Y, s, alpha, W, a, c, outputs, penalized, True)
    assert np.allclose(values, nonconvex_value(X_aug, get_loss(loss, n_outputs), Y, s, alpha, W, a, c, outputs, penalized), rtol=1e-14)

    def objective(W, a, c):
        A = np.zeros((m, n_outputs))
        A[np.arange(m), outputs] = a
        net = TwoLayerReLUNetwork(W[:p], W[p], A, c)
        return net.objective(X, y, alpha, loss=loss, penalize_hidden_bias=penalize_hidden_bias)

    h = 1e-6
    for S in range(n_networks):
        assert np.isclose(values[S], objective(W[S], a[S], c[S]), rtol=1e-12)
        for array, grad in zip((W, a, c), grads):
            for index in np.ndindex(array.shape[1:]):
                step = np.zeros_like(array)
                step[(S, *index)] = h
                args = [W, a, c]
                plus = [x + step if x is array else x for x in args]
                minus = [x - step if x is array else x for x in args]
                numeric = (objective(*(x[S] for x in plus)) - objective(*(x[S] for x in minus))) / (2 * h)
                assert np.isclose(grad[(S, *index)], numeric, rtol=1e-5, atol=1e-7), (index, grad[(S, *index)], numeric)
