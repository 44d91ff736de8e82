"""Losses, operators, cone projections and the certificate (SPEC §3, §4), against independent computations."""

import cvxpy as cp
import numpy as np
import pytest

from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements, sample_arrangements
from sklearn_convexrelu.program import (
    adjoint,
    cone_kappas,
    duality_certificate,
    encode_targets,
    forward,
    get_loss,
    normalized_weights,
    project_onto_cone,
)

LOSS_CASES = [("squared_error", 1), ("squared_error", 3), ("log_loss", 1), ("log_loss", 3)]


def _targets(rng, loss, n_outputs, n=12):
    if loss == "squared_error":
        return encode_targets(rng.standard_normal((n, n_outputs)), loss)
    labels = rng.integers(0, max(n_outputs, 2), n)
    return encode_targets(np.where(labels == 1, 1, -1) if n_outputs == 1 else labels, loss, n_outputs)


@pytest.mark.parametrize("loss_name, n_outputs", LOSS_CASES)
def test_residual_is_minus_the_gradient(loss_name, n_outputs):
    rng = np.random.default_rng(0)
    Y = _targets(rng, loss_name, n_outputs)
    s = normalized_weights(rng.uniform(0.5, 2, Y.shape[0]), Y.shape[0])
    Z = rng.standard_normal(Y.shape)
    loss = get_loss(loss_name, n_outputs)
    E = rng.standard_normal(Y.shape)
    h = 1e-6
    directional = (loss.value(Z + h * E, Y, s) - loss.value(Z - h * E, Y, s)) / (2 * h)
    assert np.isclose(directional, -np.sum(loss.residual(Z, Y, s) * E), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss_name, n_outputs", LOSS_CASES)
def test_dual_satisfies_fenchel_young_with_equality_at_the_gradient(loss_name, n_outputs):
    # value(Z) = dual(R) − ⟨R, Z⟩ when R = −∇value(Z), and ≥ for any other R in the domain.
    rng = np.random.default_rng(1)
    Y = _targets(rng, loss_name, n_outputs)
    s = normalized_weights(rng.uniform(0.5, 2, Y.shape[0]), Y.shape[0])
    loss = get_loss(loss_name, n_outputs)
    Z = rng.standard_normal(Y.shape)
    R = loss.residual(Z, Y, s)
    assert np.isclose(loss.value(Z, Y, s), loss.dual(R, Y, s) - np.sum(R * Z), rtol=1e-12)
    other = loss.residual(rng.standard_normal(Y.shape), Y, s)
    assert loss.value(Z, Y, s) >= loss.dual(other, Y, s) - np.sum(other * Z) - 1e-12


@pytest.mark.parametrize("loss_name, n_outputs", LOSS_CASES)
def test_sample_hessians_are_finite_differences_of_the_residual(loss_name, n_outputs):
    # ∇²_{z_k} value = −∂r_k/∂z_k, sample by sample (the Hessian is block diagonal over samples)
    rng = np.random.default_rng(5)
    Y = _targets(rng, loss_name, n_outputs)
    s = normalized_weights(rng.uniform(0.5, 2, Y.shape[0]), Y.shape[0])
    Z = rng.standard_normal(Y.shape)
    loss = get_loss(loss_name, n_outputs)
    h = 1e-6
    expected = np.empty((Y.shape[0], n_outputs, n_outputs))
    for l in range(n_outputs):
        E = np.zeros(Y.shape)
        E[:, l] = h
        expected[:, :, l] = (loss.residual(Z - E, Y, s) - loss.residual(Z + E, Y, s)) / (2 * h)
    hessians = loss.sample_hessians(Z, Y, s)
    assert hessians.shape == expected.shape
    assert np.allclose(hessians, expected, rtol=1e-6, atol=1e-10)
    assert np.allclose(hessians, hessians.transpose(0, 2, 1))
    if loss.is_quadratic:  # the same Hessian at any prediction
        assert np.array_equal(loss.sample_hessians(Z + rng.standard_normal(Y.shape), Y, s), hessians)
    if loss.shift_invariant:  # adding a constant to every output of a sample is in the kernel
        assert np.allclose(hessians @ np.ones(n_outputs), 0, atol=1e-15)


@pytest.mark.parametrize("loss_name, n_outputs", LOSS_CASES)
def test_sample_values_sum_to_the_value(loss_name, n_outputs):
    rng = np.random.default_rng(6)
    Y = _targets(rng, loss_name, n_outputs)
    s = normalized_weights(rng.uniform(0.5, 2, Y.shape[0]), Y.shape[0])
    Z = rng.standard_normal(Y.shape)
    loss = get_loss(loss_name, n_outputs)
    assert np.isclose(loss.sample_values(Z, Y, s).sum(), loss.value(Z, Y, s), rtol=1e-13)
    if n_outputs == 1:  # several one-output predictions as columns: one value each
        columns = rng.standard_normal((Y.shape[0], 4))
        expected = [loss.value(columns[:, [j]], Y, s) for j in range(4)]
        assert np.allclose(loss.sample_values(columns, Y, s).sum(axis=0), expected, rtol=1e-13)


def test_squared_dual_matches_spec_formula():
    rng = np.random.default_rng(2)
    y = rng.standard_normal(9)
    s = normalized_weights(rng.uniform(0.5, 2, 9), 9)
    R = rng.standard_normal((9, 1)) / 9
    spec = np.mean(s * (0.5 * y**2 - 0.5 * (y - 9 * R[:, 0] / s) ** 2))  # SPEC §4
    assert np.isclose(get_loss("squared_error", 1).dual(R, y[:, None], s), spec, rtol=1e-12)


@pytest.mark.parametrize("loss_name, n_outputs", LOSS_CASES)
def test_optimal_intercept_zeroes_the_residual_sum(loss_name, n_outputs):
    rng = np.random.default_rng(3)
    Y = _targets(rng, loss_name, n_outputs, n=20)
    s = normalized_weights(rng.uniform(0.5, 2, 20), 20)
    loss = get_loss(loss_name, n_outputs)
    F = rng.standard_normal(Y.shape)
    c = loss.optimal_intercept(F, Y, s)
    assert np.allclose(loss.residual(F + c, Y, s).sum(axis=0), 0, atol=1e-12)


def test_forward_and_adjoint_against_explicit_sums():
    rng = np.random.default_rng(4)
    X_aug = _augment(rng.standard_normal((7, 2)), True)
    M = rng.random((7, 5)) < 0.5
    B = rng.standard_normal((2, 3, 5))
    G = rng.standard_normal((7, 2))
    explicit = np.stack([sum(np.diag(M[:, i]) @ X_aug @ B[k, :, i] for i in range(5)) for k in range(2)], axis=1)
    assert np.allclose(forward(X_aug, M, B), explicit)
    explicit_adjoint = np.stack(
        [np.stack([X_aug.T @ np.diag(M[:, i]) @ G[:, k] for i in range(5)], axis=1) for k in range(2)]
    )
    assert np.allclose(adjoint(X_aug, M, G), explicit_adjoint)


def test_cone_projection_matches_cvxpy():
    rng = np.random.default_rng(5)
    X_aug = _augment(rng.standard_normal((15, 2)), True)
    arrangements = enumerate_arrangements(X_aug[:, :2])
    for i in rng.choice(arrangements.n_patterns, 10, replace=False):
        pattern = arrangements.patterns[:, i]
        a = rng.standard_normal(3)
        u = cp.Variable(3)
        signs = np.where(pattern, 1.0, -1.0)
        cp.Problem(cp.Minimize(cp.sum_squares(u - a)), [cp.multiply(signs, X_aug @ u) >= 0]).solve(solver="CLARABEL")
        projection = project_onto_cone(X_aug, pattern, a)
        assert np.allclose(projection, u.value, atol=1e-6)
        assert np.all(signs * (X_aug @ projection) >= -1e-10)


def test_kappa_is_the_support_function_of_the_cone_ball():
    # κ = max_{u ∈ K, ‖u‖ ≤ 1} σ rᵀ D X̃ u, solved by cvxpy independently.
    rng = np.random.default_rng(6)
    X = rng.standard_normal((12, 2))
    X_aug = _augment(X, True)
    arrangements = enumerate_arrangements(X)
    R = rng.standard_normal((12, 1))
    kappas, _, exact = cone_kappas(X_aug, arrangements.patterns, R)
    assert exact.all()
    for i in rng.choice(arrangements.n_patterns, 8, replace=False):
        pattern = arrangements.patterns[:, i]
        signs = np.where(pattern, 1.0, -1.0)
        for side, sigma in enumerate((1.0, -1.0)):
            u = cp.Variable(3)
            problem = cp.Problem(
                cp.Maximize(sigma * (R[:, 0] * pattern) @ X_aug @ u),
                [cp.multiply(signs, X_aug @ u) >= 0, cp.norm(u) <= 1],
            )
            problem.solve(solver="CLARABEL")
            assert np.isclose(kappas[0, i, side], problem.value, atol=1e-6)



def test_bound_only_kappas_bound_from_above_and_are_exact_above_the_threshold():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 3))
    X_aug = _augment(X, True)
    patterns = sample_arrangements(X, 30, random_state=0).patterns
    R = rng.standard_normal((40, 2))
    kappas, _, _ = cone_kappas(X_aug, patterns, R)
    threshold = float(np.median(kappas))
    bounds, _, exact = cone_kappas(X_aug, patterns, R, threshold, bound_only=True)
    _, _, projected = cone_kappas(X_aug, patterns, R, threshold)
    assert (projected & ~exact).any() and exact.any()  # some projections did stop early
    assert np.all(bounds >= kappas - 1e-12)
    above = kappas > threshold * (1 + 1e-9)
    np.testing.assert_allclose(bounds[above], kappas[above], rtol=1e-10)
    assert np.all(bounds[~exact] <= threshold)  # screened or stopped early: still proves κ ≤ threshold

def test_certificate_gap_is_nonnegative_for_random_networks():
    # SPEC §10.3: gap ≥ −1e-9 for any network, with exact patterns.
    rng = np.random.default_rng(7)
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    X_aug = _augment(X, True)
    arrangements = enumerate_arrangements(X)
    loss = get_loss("squared_error", 1)
    s = np.ones(10)
    for trial in range(20):
        W = rng.standard_normal((3, 4))
        a = rng.standard_normal((4, 1))
        prediction = np.maximum(X_aug @ W, 0) @ a + rng.standard_normal()
        primal = loss.value(prediction, y[:, None], s) + 0.05 * 0.5 * (np.sum(W**2) + np.sum(a**2))
        certificate = duality_certificate(
            X_aug, arrangements.patterns, y[:, None], s, 0.05, loss, prediction, primal,
            fit_intercept=True, exact=True, tol=1e-6,
        )
        assert certificate.dual_gap >= -1e-9
        assert not certificate.certified


def test_certificate_text_says_what_is_proven():
    from sklearn_convexrelu.program.certificate import Certificate, describe_coverage

    def text(exact, gap):
        return str(Certificate(primal=1.0, lower_bound=1.0 - gap, dual_gap=gap, relative_gap=gap, kappa_ratio=1.0,
                               exact=exact, n_patterns=7, coverage=describe_coverage(7, exact), tol=1e-6))

    assert text(True, 1e-8).startswith("certified globally optimal")
    sampled = text(False, 1e-8)  # optimal over the sampled patterns: says so, and that it is not global
    assert sampled.startswith("optimal over the covered patterns only, not certified globally")
    assert "7 sampled activation patterns" in sampled
    for exact in (True, False):
        assert text(exact, 1e-3).startswith("not certified:")


def test_a_certificate_keeps_the_largest_lower_bound_of_its_dual_points():
    # SPEC §4: any dual point bounds every network, so a certificate keeps the best of several;
    # the candidates are consumed lazily and stop once one certifies (the landscape solves the
    # program only when the network's own point does not)
    from sklearn_convexrelu.program import program_dual_point
    from sklearn_convexrelu.program.certificate import best_dual_point, most_violated

    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 2))
    y = np.abs(X[:, 0])
    X_aug, patterns, alpha = _augment(X, True), enumerate_arrangements(X).patterns, 0.05
    loss, s = get_loss("squared_error", 1), np.ones(12)

    def point(prediction):
        return program_dual_point(X_aug, patterns, y[:, None], s, alpha, loss, prediction, fit_intercept=True)

    predictions = [0.3 * rng.standard_normal((12, 1)) for _ in range(3)] + [y[:, None] * 0.9]
    points = [point(p) for p in predictions]
    bounds = [p.lower_bound for p in points]
    assert best_dual_point(points).lower_bound == max(bounds)
    certificate = duality_certificate(X_aug, patterns, y[:, None], s, alpha, loss, predictions[0], 1.0,
                                      fit_intercept=True, exact=True, tol=1e-6, dual_predictions=predictions[1:])
    best = points[int(np.argmax(bounds))]
    assert certificate.lower_bound == best.lower_bound and certificate.dual_gap == 1.0 - best.lower_bound
    assert certificate.kappa_ratio == best.kappa / alpha
    if best.kappa > alpha:  # the argmax of the κ array, written out
        k, i, side = np.unravel_index(np.argmax(best.scan[0]), best.scan[0].shape)
        assert certificate.most_violated == most_violated(best, alpha) == (k, i, 1 - 2 * side)
    else:
        assert certificate.most_violated is None
    # a primal at the second point's bound is certified by it: the later candidates are not asked for
    order = np.argsort(bounds)
    primal = bounds[order[1]]

    def candidates():
        yield points[order[0]]
        yield points[order[1]]
        raise AssertionError("a candidate after the certifying one was computed")

    assert best_dual_point(candidates(), primal, 1e-12) is points[order[1]]
    # a certificate takes another point's bound only when it is larger
    assert certificate._tightened(points[order[0]], alpha) is certificate
    worst = duality_certificate(X_aug, patterns, y[:, None], s, alpha, loss, predictions[order[0]], 1.0,
                                fit_intercept=True, exact=True, tol=1e-6)
    assert worst._tightened(best, alpha) == certificate


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_point_against_the_spec_formula(fit_intercept):
    # SPEC §4 by hand: intercept re-optimised, r = s ⊙ (y − ŷ − c)/n, κ per (pattern, sign) from
    # its own cvxpy problem, θ = min(1, alpha/κ), D(θr) = (1/n) Σ s [½y² − ½(y − nθr/s)²]
    from sklearn_convexrelu.program import program_dual_point

    rng = np.random.default_rng(8)
    n, alpha = 7, 0.05
    X = rng.standard_normal((n, 1))
    X_aug, patterns = _augment(X, True), enumerate_arrangements(X).patterns
    y = rng.standard_normal(n)
    s = normalized_weights(rng.uniform(0.5, 2.0, n), n)
    prediction = 0.3 * rng.standard_normal((n, 1))
    c = np.sum(s * (y - prediction[:, 0])) / s.sum() if fit_intercept else 0.0
    r = s * (y - prediction[:, 0] - c) / n
    kappa = 0.0
    for i in range(patterns.shape[1]):
        for sign in (1.0, -1.0):
            u = cp.Variable(2)
            cone = np.where(patterns[:, i, None], X_aug, -X_aug) @ u >= 0
            problem = cp.Problem(cp.Maximize(sign * (r * patterns[:, i]) @ X_aug @ u), [cone, cp.norm(u) <= 1])
            problem.solve(solver="CLARABEL")
            kappa = max(kappa, problem.value)
    theta = min(1.0, alpha / kappa)
    lower = np.mean(s * (0.5 * y**2 - 0.5 * (y - n * theta * r / s) ** 2))
    point = program_dual_point(X_aug, patterns, y[:, None], s, alpha, get_loss("squared_error", 1), prediction,
                               fit_intercept=fit_intercept)
    assert np.allclose(point.residual[:, 0], r, rtol=1e-12, atol=1e-15)
    assert np.allclose(point.intercept_shift, c, rtol=1e-12, atol=1e-15)
    assert np.isclose(point.kappa, kappa, rtol=1e-6)
    assert np.isclose(point.theta, theta, rtol=1e-6)
    assert np.isclose(point.lower_bound, lower, rtol=1e-6)


@pytest.mark.parametrize("name, n_outputs", [("squared_error", 1), ("squared_error", 2), ("log_loss", 1), ("log_loss", 3)])
def test_scales_with_targets_says_what_rescaling_preserves(name, n_outputs):
    # the property the cvxpy solver relies on to solve at Y / c: value(cZ, cY) = c² value(Z, Y)
    from sklearn_convexrelu.program.losses import get_loss

    rng = np.random.default_rng(0)
    loss = get_loss(name, n_outputs)
    Z = rng.standard_normal((8, n_outputs))
    Y = rng.standard_normal((8, n_outputs)) if name == "squared_error" else (
        np.sign(rng.standard_normal((8, 1))) if n_outputs == 1 else np.eye(n_outputs)[rng.integers(0, n_outputs, 8)])
    s, c = np.ones(8), 7.0
    holds = np.isclose(loss.value(c * Z, c * Y, s), c**2 * loss.value(Z, Y, s), rtol=1e-12)
    assert loss.scales_with_targets == holds
