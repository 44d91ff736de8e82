"""The group-norm penalty object and the blocks → network map (SPEC §1, §3.1, §4), against independent computations."""

import cvxpy as cp
import numpy as np
import pytest

from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements
from sklearn_convexrelu.network import blocks_to_network
from sklearn_convexrelu.program import GroupNormPenalty, forward, project_onto_cone


def _data(n=7, p=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    return X, _augment(X, True), enumerate_arrangements(X).patterns, rng


@pytest.mark.parametrize("penalize_hidden_bias", [True, False])
def test_value_is_the_sum_of_penalised_norms(penalize_hidden_bias):
    rng = np.random.default_rng(1)
    V, U = rng.standard_normal((2, 2, 4, 5))  # (K, d, P) each
    penalty = GroupNormPenalty(penalize_hidden_bias)
    rows = 4 if penalize_hidden_bias else 3
    expected = sum(np.linalg.norm(B[k, :rows, i]) for B in (V, U) for k in range(2) for i in range(5))
    assert np.isclose(penalty.value(0.3, V, U), 0.3 * expected, rtol=1e-14)
    # the same blocks as rows (n_blocks, d)
    assert np.isclose(penalty.value(0.3, V.transpose(0, 2, 1).reshape(-1, 4), U.transpose(0, 2, 1).reshape(-1, 4), axis=-1),
                      0.3 * expected, rtol=1e-14)
    assert penalty.n_penalized(4) == rows
    assert np.array_equal(penalty.mask(4), np.arange(4) < rows)
    B = cp.Variable((4, 5))
    B.value = V[0]
    assert np.isclose(penalty.cvxpy_value(B).value, sum(np.linalg.norm(V[0, :rows, i]) for i in range(5)))


@pytest.mark.parametrize("penalize_hidden_bias", [True, False])
def test_kappas_solve_the_dual_constraint_problem(penalize_hidden_bias):
    # κ_{i,σ} = max { σ rᵀ D_i X̃ u : u ∈ K_i, ‖P u‖ ≤ 1 }, each one a small cvxpy problem (SPEC §4)
    _, X_aug, patterns, rng = _data()
    R = rng.standard_normal((X_aug.shape[0], 1))
    R -= R.mean()  # Σ r = 0 (a fitted intercept): κ finite without the bias in the norm
    penalty = GroupNormPenalty(penalize_hidden_bias)
    kappas, directions, exact = penalty.kappas(X_aug, patterns, R)
    assert np.all(exact | (kappas <= 0))  # a zero bound needs no computation
    rows = penalty.n_penalized(X_aug.shape[1])
    for i in range(patterns.shape[1]):
        for side, sign in enumerate((1.0, -1.0)):
            u = cp.Variable(X_aug.shape[1])
            A = np.where(patterns[:, i, None], X_aug, -X_aug)
            objective = sign * (R[:, 0] * patterns[:, i]) @ X_aug @ u
            problem = cp.Problem(cp.Maximize(objective), [A @ u >= 0, cp.norm(u[:rows]) <= 1])
            problem.solve(solver="CLARABEL")
            assert np.isclose(kappas[0, i, side], problem.value, rtol=1e-6, atol=1e-8)
            if exact[0, i, side]:  # the direction attains κ: σ rᵀ D X̃ (κ u*) = κ²
                attained = sign * (R[:, 0] * patterns[:, i]) @ X_aug @ directions[0, :, i, side]
                assert np.isclose(attained, kappas[0, i, side] ** 2, rtol=1e-6, atol=1e-8)


def test_bound_only_gives_upper_bounds():
    _, X_aug, patterns, rng = _data(seed=2)
    R = rng.standard_normal((X_aug.shape[0], 2))
    penalty = GroupNormPenalty()
    kappas, _, _ = penalty.kappas(X_aug, patterns, R)
    threshold = np.quantile(kappas, 0.7)
    bounds, _, _ = penalty.kappas(X_aug, patterns, R, threshold, bound_only=True)
    assert np.all(bounds >= kappas - 1e-12)
    assert np.allclose(bounds[kappas > threshold], kappas[kappas > threshold])


@pytest.mark.parametrize("hidden_bias, penalize_hidden_bias", [(True, True), (False, True), (True, False)])
def test_blocks_to_network_keeps_prediction_and_penalty(hidden_bias, penalize_hidden_bias):
    # SPEC §3.1 and §10.1: same prediction on the data, network penalty = convex penalty, balanced
    rng = np.random.default_rng(3)
    X = rng.standard_normal((9, 2))
    X_aug = _augment(X, hidden_bias)
    patterns = enumerate_arrangements(X, hidden_bias=hidden_bias).patterns
    chosen = rng.choice(patterns.shape[1], 4, replace=False)
    blocks = np.stack([project_onto_cone(X_aug, patterns[:, i], rng.standard_normal(X_aug.shape[1])) for i in chosen])
    blocks[1] = 0.0  # a zero block: a zero neuron
    signs, outputs, intercept = np.array([1.0, -1.0, -1.0, 1.0]), np.array([0, 1, 1, 0]), np.array([0.2, -0.1])
    penalty = GroupNormPenalty(penalize_hidden_bias)
    network = blocks_to_network(blocks, signs, intercept, hidden_bias=hidden_bias, outputs=outputs, penalty=penalty,
                                X_aug=X_aug)
    assert network.n_neurons == 4 and np.all(network.output_weights[1] == 0)
    gated = np.zeros((2, 2, X_aug.shape[1], patterns.shape[1]))  # (side, K, d, P)
    for j, i in enumerate(chosen):
        gated[int(signs[j] < 0), outputs[j], :, i] += blocks[j]
    expected = forward(X_aug, patterns, gated[0] - gated[1]) + intercept
    assert np.allclose(network.output(X), expected, rtol=1e-12, atol=1e-12)
    alpha = 0.7
    assert np.isclose(penalty.network_value(network, alpha), penalty.value(alpha, blocks, axis=-1), rtol=1e-12)
    W = np.vstack([network.hidden_weights, network.hidden_bias]) if hidden_bias else network.hidden_weights
    in_norm = np.linalg.norm(W[: penalty.n_penalized(W.shape[0])], axis=0)
    assert np.allclose(in_norm, np.abs(network.output_weights).sum(axis=1), rtol=1e-12)  # balanced


def test_convex_solution_to_network_is_blocks_to_network():
    from sklearn_convexrelu.network import ConvexSolution

    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 2))
    arrangements = enumerate_arrangements(X)
    X_aug, P = _augment(X, True), arrangements.n_patterns
    V, U = np.zeros((2, 1, 3, P))
    for B, i in ((V, 0), (U, 2), (V, 3)):
        B[0, :, i] = project_onto_cone(X_aug, arrangements.patterns[:, i], rng.standard_normal(3))
    solution = ConvexSolution(arrangements.generators, V, U, [0.5], True)
    network = solution.to_network()
    assert network.n_neurons == 3
    assert np.allclose(network.output(X), solution.output(X), rtol=1e-12)
    assert np.isclose(network.objective(X, X[:, 0], 0.1), solution.objective(X, X[:, 0], 0.1), rtol=1e-12)


def test_unpenalised_bias_needs_the_data():
    with pytest.raises(ValueError, match="X_aug"):
        blocks_to_network(np.ones((1, 3)), [1.0], [0.0], hidden_bias=True, penalty=GroupNormPenalty(False))


@pytest.mark.parametrize("penalize_hidden_bias", [True, False])
@pytest.mark.parametrize("loss_name, n_outputs", [("squared_error", 1), ("squared_error", 2), ("log_loss", 1), ("log_loss", 3)])
@pytest.mark.parametrize("sizes, interleaved", [((2, 2, 2), False), ((2, 2, 2), True), ((1, 0, 3), True)])
def test_subspace_newton_system_matches_finite_differences(penalize_hidden_bias, loss_name, n_outputs, sizes, interleaved):
    # The one Newton system of the direction polish and the optimal set's refinement: the objective
    # L(Σ_b σ_b D_b X̃ (w_b⁰ + N_b z_b) + c) + alpha Σ_b ‖P w_b‖, differentiated by central differences;
    # subspaces of `sizes` columns (one block without any), interleaved: the blocks' columns mixed
    # (the penalty's Hessian is assembled block by block)
    from sklearn_convexrelu.program.losses import get_loss
    from sklearn_convexrelu.solvers._subspace_newton import subspace_gradient, subspace_hessian

    _, X_aug, patterns, rng = _data(n=9, p=3, seed=2)
    n, d = X_aug.shape
    loss = get_loss(loss_name, n_outputs)
    Y = rng.standard_normal((n, n_outputs)) if loss_name == "squared_error" else None
    if loss_name == "log_loss":
        labels = rng.integers(0, max(n_outputs, 2), n)
        Y = np.where(labels == 0, 1.0, -1.0)[:, None] if n_outputs == 1 else np.eye(n_outputs)[labels]
    s = rng.uniform(0.5, 1.5, n)
    s *= n / s.sum()
    penalty, alpha = GroupNormPenalty(penalize_hidden_bias), 0.3
    blocks = [(0, 1.0, 0), (3, -1.0, n_outputs - 1), (5, 1.0, 0)]  # (pattern, sign, output)
    W0 = rng.standard_normal((d, len(blocks)))
    spans = np.hstack([np.linalg.qr(rng.standard_normal((d, size)))[0] if size else np.zeros((d, 0)) for size in sizes])
    owner = np.repeat(np.arange(len(blocks)), sizes)
    fits = np.array([sign for _, sign, _ in blocks])[owner] * patterns[:, [i for i, _, _ in blocks]][:, owner] * (X_aug @ spans)
    outputs = np.repeat([k for _, _, k in blocks], sizes)
    if interleaved:
        order = rng.permutation(owner.size)
        spans, owner, fits, outputs = spans[:, order], owner[order], fits[:, order], outputs[order]
    base = sum(sign * patterns[:, i] * (X_aug @ W0[:, b]) * np.eye(n_outputs)[k][:, None] for b, (i, sign, k) in enumerate(blocks)).T

    def objective(x):
        z, c = x[:owner.size], x[owner.size:]
        W = W0 + np.stack([spans[:, owner == b] @ z[owner == b] for b in range(len(blocks))], axis=1)
        Z = base + fits @ (z[:, None] * np.eye(n_outputs)[outputs]) + c
        return loss.value(Z, Y, s) + penalty.value(alpha, W, axis=0), Z, W

    def gradient(x):
        _, Z, W = objective(x)
        return subspace_gradient(loss, penalty, alpha, Y, s, Z, fits, outputs, W, spans, owner, True)

    x = 0.1 * rng.standard_normal(owner.size + n_outputs)
    h = 1e-6
    numeric = np.array([(objective(x + h * e)[0] - objective(x - h * e)[0]) / (2 * h) for e in np.eye(x.size)])
    assert np.allclose(gradient(x), numeric, rtol=1e-6, atol=1e-8)
    _, Z, W = objective(x)
    H = subspace_hessian(loss, penalty, alpha, Y, s, Z, fits, outputs, W, spans, owner, True)
    numeric = np.array([(gradient(x + h * e) - gradient(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    assert np.allclose(H, numeric, rtol=1e-5, atol=1e-7)


def test_bias_free_kappas_stop_after_the_wanted_entries_and_bound_the_rest():
    # a pricing step asks for the n_wanted largest κ above a level; entries it does not compute must
    # still be upper bounds (the certificate takes max κ over all of them)
    from sklearn_convexrelu.program._bias_free import bias_free_kappas

    _, X_aug, patterns, rng = _data(n=9, p=2, seed=4)
    R = rng.standard_normal((X_aug.shape[0], 1))
    R -= R.mean()  # a fitted intercept: Σ r = 0, so every κ is finite
    full, _, full_exact = bias_free_kappas(X_aug, patterns, R)
    assert np.all(full[~full_exact] == 0)  # not computed only where the bound is already 0
    level = float(np.quantile(full, 0.5))
    some, _, exact = bias_free_kappas(X_aug, patterns, R, threshold=0.0, n_wanted=3, level=level)
    assert 3 <= exact.sum() < exact.size
    assert np.count_nonzero(exact & (some > level)) == 3
    assert np.allclose(some[exact], full[exact], rtol=1e-12)
    assert np.all(some[~exact] >= full[~exact] * (1 - 1e-12))
    assert some.max() >= full.max() * (1 - 1e-12)  # so κ_max, hence the certificate, stays valid
