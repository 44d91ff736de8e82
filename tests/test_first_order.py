"""The first-order solver: agreement with cvxpy, certified gaps, warm starts, exact projections (SPEC §7, §10.2)."""

import dataclasses
import itertools
import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor
from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements, sample_arrangements
from sklearn_convexrelu.exceptions import OptimalSetWarning
from sklearn_convexrelu.program.losses import get_loss
from sklearn_convexrelu.solvers import (
    CvxpyProgram, FirstOrderSolver, first_order, solve_convex_program, solve_first_order,
)
from sklearn_convexrelu.solvers._cone_projection import ConeProjector
from sklearn_convexrelu.solvers.first_order import _POLISH_SIZE, _bounded_qp, _monotone_qp
from sklearn_convexrelu.solvers.polish import convex_objective, polish


def _problem(kind, n=30, seed=0):
    """Data, encoded targets, weights (not uniform) and loss name of a small 2-D problem."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    s = rng.uniform(0.3, 2.0, n)
    s *= n / s.sum()
    if kind == "squared":
        return X, (np.sin(3 * X[:, 0]) * X[:, 1])[:, None], s, "squared_error"
    if kind == "multi_output":
        return X, np.column_stack([np.sin(3 * X[:, 0]), X[:, 1] ** 2]), s, "squared_error"
    if kind == "logistic":
        return X, np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)[:, None], s, "log_loss"
    labels = (np.arctan2(X[:, 1], X[:, 0]) // (2 * np.pi / 3)).astype(int) % 3
    return X, np.eye(3)[labels], s, "log_loss"


def _solve(X, Y, s, loss_name, alpha, solver, arrangements, *, fit_intercept=True, tol=1e-7, **kwargs):
    loss = get_loss(loss_name, Y.shape[1])
    return solve_convex_program(
        _augment(X, True), arrangements, Y, s, loss, alpha, fit_intercept=fit_intercept, hidden_bias=True,
        tol=tol, max_iter=1000, solver=solver, **kwargs,
    )


@pytest.mark.parametrize("kind", ["squared", "multi_output", "logistic", "softmax"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_agrees_with_cvxpy_and_its_gap_bounds_the_distance(kind, fit_intercept):
    # SPEC §10.2 on the same patterns, every loss, sample weights, with and without intercept
    X, Y, s, loss_name = _problem(kind)
    arrangements = sample_arrangements(X, 25, random_state=0)
    alpha = 1e-2
    reference = _solve(X, Y, s, loss_name, alpha, "cvxpy", arrangements, fit_intercept=fit_intercept)
    fit = _solve(X, Y, s, loss_name, alpha, "first_order", arrangements, fit_intercept=fit_intercept)
    assert fit.raw.converged and fit.certificate.relative_gap <= 1e-7
    # the certified lower bound is below the optimum an independent solver reaches ...
    assert fit.certificate.lower_bound <= reference.objective + 1e-12
    # ... so the distance to the optimum is at most the certified gap
    assert fit.objective - reference.objective <= fit.certificate.dual_gap + 1e-12
    assert abs(fit.objective - reference.objective) <= 1e-6 * reference.objective


def test_log_loss_at_small_alpha_reaches_the_requested_gap():
    # where Clarabel's exponential cones are inaccurate (SPEC §7)
    X, Y, s, loss_name = _problem("logistic", n=40)
    arrangements = sample_arrangements(X, 30, random_state=1)
    alpha = 1e-4
    fit = _solve(X, Y, s, loss_name, alpha, "first_order", arrangements, tol=1e-6)
    reference = _solve(X, Y, s, loss_name, alpha, "cvxpy", arrangements, tol=1e-6)
    assert fit.certificate.relative_gap <= 1e-6
    assert fit.certificate.relative_gap <= reference.certificate.relative_gap
    assert fit.certificate.lower_bound <= reference.objective + 1e-12
    assert fit.objective <= reference.objective * (1 + 1e-6)


def test_blocks_lie_in_their_cones_so_polishing_keeps_them():
    X, Y, s, loss_name = _problem("squared")
    arrangements = sample_arrangements(X, 25, random_state=0)
    fit = _solve(X, Y, s, loss_name, 1e-3, "first_order", arrangements)
    X_aug = _augment(X, True)
    signs = np.where(arrangements.patterns, 1.0, -1.0)
    for blocks in (fit.raw.blocks_pos[0], fit.raw.blocks_neg[0]):
        assert np.all(signs * (X_aug @ blocks) >= 0)
    V, U, _ = polish(X_aug, arrangements.patterns, fit.raw.blocks_pos, fit.raw.blocks_neg, fit.raw.intercept, Y, s,
                     get_loss(loss_name, 1), fit_intercept=True)
    kept = np.linalg.norm(V, axis=1) > 0
    assert np.array_equal(V[:, :, kept[0]], fit.raw.blocks_pos[:, :, kept[0]])
    assert np.array_equal(np.linalg.norm(U, axis=1) > 0, np.linalg.norm(fit.raw.blocks_neg, axis=1) > 0)


def test_warm_start_along_alpha_matches_a_cold_start():
    X, Y, s, loss_name = _problem("squared", n=40)
    X_aug = _augment(X, True)
    arrangements = sample_arrangements(X, 40, random_state=0)
    loss = get_loss(loss_name, 1)
    solver = FirstOrderSolver(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=True,
                              generators=arrangements.generators)
    first = solver.solve(1e-2, tol=1e-7)
    warm = solver.solve(5e-3, tol=1e-7, init=(first.blocks_pos, first.blocks_neg, first.intercept))
    cold = FirstOrderSolver(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=True).solve(5e-3, tol=1e-7)
    assert warm.converged and cold.converged
    fits = [_solve(X, Y, s, loss_name, 5e-3, "first_order", arrangements, init=init)
            for init in ((warm.blocks_pos, warm.blocks_neg, warm.intercept), (cold.blocks_pos, cold.blocks_neg, cold.intercept))]
    assert np.isclose(fits[0].objective, fits[1].objective, rtol=2e-7)
    assert warm.n_iter < cold.n_iter


def test_estimator_with_exact_patterns_is_certified_and_matches_cvxpy():
    X, Y, _, _ = _problem("squared", n=20)
    y = Y[:, 0]
    fo = ConvexReLURegressor(alpha=1e-2, solver="first_order", arrangements="exact").fit(X, y)
    cvx = ConvexReLURegressor(alpha=1e-2, solver="cvxpy", arrangements="exact").fit(X, y)
    assert fo.solver_ == "first_order" and fo.certificate_.certified
    assert np.isclose(fo.objective_, cvx.objective_, rtol=1e-6)
    assert np.isclose(fo.network_.objective(X, y, 1e-2), fo.objective_, rtol=1e-9)


def test_classifier_with_first_order_solver():
    X, Y, _, _ = _problem("softmax", n=30)
    y = np.argmax(Y, axis=1)
    clf = ConvexReLUClassifier(alpha=1e-3, solver="first_order", arrangements="sample", n_arrangements=20,
                               random_state=0).fit(X, y)
    assert clf.solver_ == "first_order" and clf.certificate_.relative_gap <= clf.tol
    assert clf.score(X, y) > 0.9


def test_max_iter_gives_a_convergence_warning_with_the_gap(monkeypatch):
    # The optimal set's refinement of the dual (a re-solve and Newton steps, SPEC §5) finishes this
    # one-iteration solve (certified gap 2e-12 over its patterns, no warning); without it the
    # estimator reports the solver's gap.
    import sklearn_convexrelu.optimal_set._set as optimal_set

    X, Y, _, _ = _problem("squared")
    reg = ConvexReLURegressor(alpha=1e-3, solver="first_order", arrangements="sample", n_arrangements=20,
                              max_iter=1, random_state=0)
    assert reg.fit(X, Y[:, 0]).certificate_.relative_gap <= reg.tol

    def fail(*args, **kwargs):
        raise RuntimeError("no re-solve")

    monkeypatch.setattr(optimal_set, "resolve_first_order", fail)
    monkeypatch.setattr(optimal_set, "refine_prediction", lambda *args, **kwargs: None)
    with pytest.warns(ConvergenceWarning, match="relative duality gap"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimalSetWarning)
            reg.fit(X, Y[:, 0])
    assert reg.certificate_.relative_gap > reg.tol


def test_verbose_prints_progress(capsys):
    X, Y, s, loss_name = _problem("squared")
    _solve(X, Y, s, loss_name, 1e-2, "first_order", sample_arrangements(X, 10, random_state=0), verbose=True)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 2
    for word in ("iter", "objective", "rel. gap", "active patterns", "s"):
        assert word in lines[-1]


def _cvxpy_projection(X_aug, pattern, a):
    u = cp.Variable(a.size)
    signs = np.where(pattern, 1.0, -1.0)
    cp.Problem(cp.Minimize(cp.sum_squares(u - a)), [cp.multiply(signs, X_aug @ u) >= 0]).solve(
        solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12
    )
    return u.value


@pytest.mark.parametrize("duplicates", [False, True])
def test_cone_projections_match_cvxpy(duplicates):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    if duplicates:  # degenerate data: repeated and parallel rows
        X = np.vstack([X, X[:10], 2 * X[10:20]])
    arrangements = sample_arrangements(X, 15, random_state=0)
    X_aug = _augment(X, True)
    A = rng.standard_normal((4, 2 * arrangements.n_patterns))
    index = np.tile(np.arange(arrangements.n_patterns), 2)
    projector = ConeProjector(X_aug, arrangements.patterns, arrangements.generators)
    expected = np.column_stack([_cvxpy_projection(X_aug, arrangements.patterns[:, i], a) for i, a in zip(index, A.T)])
    signs = np.where(arrangements.patterns[:, index], 1.0, -1.0)
    row_norms = np.linalg.norm(X_aug, axis=1)[:, None]
    for attempt in range(2):  # the second call goes through the cached faces
        U, exact = projector.project(A, index, list(range(A.shape[1])))
        assert exact.all()
        np.testing.assert_allclose(U, expected, atol=1e-7)  # cvxpy's own accuracy
        # and to rounding, the optimality conditions: in the cone, a − u orthogonal to u (Moreau)
        scale = np.linalg.norm(A, axis=0)
        assert np.all(signs * (X_aug @ U) >= -1e-12 * row_norms * scale)
        assert np.all(np.abs(np.sum(U * (U - A), axis=0)) <= 1e-12 * scale**2)
    threshold = 0.5 * np.linalg.norm(expected, axis=0).max()
    U, exact = ConeProjector(X_aug, arrangements.patterns).project(A, index, list(range(A.shape[1])), threshold)
    norms, true = np.linalg.norm(U, axis=0), np.linalg.norm(expected, axis=0)
    np.testing.assert_allclose(U[:, exact], expected[:, exact], atol=1e-7)
    assert (~exact).any() and exact.any()  # both kinds of exit are exercised
    assert np.all(norms[~exact] <= threshold) and np.all(norms[~exact] >= true[~exact] - 1e-7)
    U, _ = projector.project(A, index, list(range(A.shape[1])))
    live = true > 1e-8 * true.max()  # projections that are not zero up to rounding
    inside = projector.interior(U[:, live], index[live])
    signs = np.where(arrangements.patterns[:, index[live]], 1.0, -1.0)
    assert np.all(signs * (X_aug @ inside) >= 0)
    np.testing.assert_allclose(inside, U[:, live], atol=1e-8)
    # points on the cones' boundaries (in the cone up to rounding) are their own projections
    again, exact = ConeProjector(X_aug, arrangements.patterns).project(U, index, list(range(A.shape[1])))
    assert exact.all()
    np.testing.assert_allclose(again, U, atol=1e-12 * np.abs(U).max())


@pytest.mark.parametrize("pivoting", [True, False])
def test_bounded_qp_matches_brute_force(pivoting):
    rng = np.random.default_rng(0)
    m = 7
    free = np.zeros(m, dtype=bool)
    free[:2] = True
    for _ in range(20):
        B = rng.standard_normal((5, m))
        H = B.T @ B + 1e-3 * np.eye(m)
        b = rng.standard_normal(m)
        x = _bounded_qp(H, b, free, np.zeros(m), max_iter=100, pivoting=pivoting)
        best = np.inf
        for support in itertools.product([False, True], repeat=m - 2):  # every candidate active set
            passive = np.r_[True, True, support]
            z = np.zeros(m)
            z[passive] = np.linalg.solve(H[np.ix_(passive, passive)], b[passive])
            if np.all(z[~free] >= 0):
                best = min(best, 0.5 * z @ H @ z - b @ z)
        assert np.all(x[~free] >= 0)
        assert np.isclose(0.5 * x @ H @ x - b @ x, best, rtol=1e-10, atol=1e-12)


def test_monotone_qp_on_rank_deficient_problems():
    """More atoms than samples: H = FᵀF/n has rank n, plus the solver's tiny ridge. The monotone
    method (shrinking passive sets solved from one factorisation) against brute force on a small
    case, and against the optimality conditions on a large one with many drops and re-entries."""
    rng = np.random.default_rng(1)

    def problem(n, m):
        F = rng.standard_normal((n, m)) + rng.standard_normal((n, 1))  # correlated columns
        H = F.T @ F / n
        H[np.diag_indices(m)] += 1e-10 * np.diag(H).max()
        b = F.T @ rng.standard_normal(n) / n - 0.02
        free = np.zeros(m, dtype=bool)
        free[0] = True
        return H, b, free

    for _ in range(10):
        H, b, free = problem(4, 10)
        x = _monotone_qp(H, b, free, np.zeros(10), tol=1e-12, max_iter=200)
        best = np.inf
        for support in itertools.product([False, True], repeat=9):
            passive = np.r_[True, support]
            z = np.zeros(10)
            z[passive] = np.linalg.solve(H[np.ix_(passive, passive)], b[passive])
            if np.all(z[~free] >= 0):
                best = min(best, 0.5 * z @ H @ z - b @ z)
        assert np.all(x[~free] >= 0)
        assert np.isclose(0.5 * x @ H @ x - b @ x, best, rtol=1e-9, atol=1e-12)
    for _ in range(3):
        H, b, free = problem(40, 300)
        start = np.where(free | (rng.random(300) < 0.5), 0.05, 0.0)  # feasible, far from the optimum
        x = _monotone_qp(H, b, free, start, tol=1e-12, max_iter=2000)
        gradient = H @ x - b
        scale = np.abs(b).max()
        assert np.all(x[~free] >= 0)
        assert np.abs(gradient[free | (x > 0)]).max() <= 1e-7 * scale
        assert gradient[~free & (x == 0)].min() >= -1e-7 * scale


def test_exact_patterns_give_the_global_optimum_of_both_solvers():
    X, Y, s, loss_name = _problem("squared", n=16)
    arrangements = enumerate_arrangements(X)
    reference = _solve(X, Y, s, loss_name, 5e-3, "cvxpy", arrangements)
    fit = _solve(X, Y, s, loss_name, 5e-3, "first_order", arrangements)
    assert fit.certificate.exact and fit.certificate.certified
    assert np.isclose(fit.objective, reference.objective, rtol=1e-6)


@pytest.mark.parametrize("kind", ["squared", "logistic"])
def test_gated_relaxation_matches_cvxpy_and_bounds_the_cone_program(kind):
    # the gated ReLU program (no cone constraints), solved independently by cvxpy
    X, Y, s, loss_name = _problem(kind)
    arrangements = sample_arrangements(X, 20, random_state=1)
    X_aug, patterns, alpha = _augment(X, True), arrangements.patterns, 1e-2
    loss = get_loss(loss_name, 1)
    W, c = cp.Variable((X_aug.shape[1], patterns.shape[1])), cp.Variable()
    prediction = cp.sum(cp.multiply(patterns, X_aug @ W), axis=1) + c
    if loss_name == "squared_error":
        data = cp.sum(cp.multiply(s, cp.square(prediction - Y[:, 0]))) / (2 * len(s))
    else:
        data = cp.sum(cp.multiply(s, cp.logistic(-cp.multiply(Y[:, 0], prediction)))) / len(s)
    reference = cp.Problem(cp.Minimize(data + alpha * cp.sum(cp.norm(W, axis=0)))).solve(solver="CLARABEL")
    solver = FirstOrderSolver(X_aug, patterns, Y, s, loss, fit_intercept=True, gated=True)
    raw = solver.solve(alpha, tol=1e-7)
    assert raw.converged and not raw.blocks_neg.any()
    assert abs(solver.objective_ - reference) <= 1e-5 * reference
    # dropping the cone constraints can only lower the optimum over the same patterns
    cone = _solve(X, Y, s, loss_name, alpha, "first_order", arrangements)
    assert solver.objective_ <= cone.objective * (1 + 1e-7)


def test_unfinished_projections_fall_back_to_a_verified_solve(monkeypatch):
    # force the rare path (blocks the batched method leaves unfinished) and compare with cvxpy
    from sklearn_convexrelu.program import cones

    batched = cones._lawson_hanson

    def give_up(*args):
        U, exact, rows, used, unfinished = batched(*args)
        return U, exact, rows, used, np.ones_like(unfinished)

    monkeypatch.setattr(cones, "_lawson_hanson", give_up)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3))
    arrangements = sample_arrangements(X, 6, random_state=0)
    X_aug = _augment(X, True)
    A = rng.standard_normal((4, arrangements.n_patterns))
    index = np.arange(arrangements.n_patterns)
    U, exact, _ = cones.project_onto_cones(X_aug, arrangements.patterns, A, index)
    expected = np.column_stack([_cvxpy_projection(X_aug, arrangements.patterns[:, i], a) for i, a in zip(index, A.T)])
    assert exact.all()
    np.testing.assert_allclose(U, expected, atol=1e-7)


@pytest.mark.parametrize("kind", ["squared", "logistic", "softmax"])
def test_solve_results_carry_objective_and_gap(kind):
    # every solver reports the objective of its point and the relative duality gap there (SPEC §4):
    # cvxpy's objective is its own problem value, both gaps are within tolerance, objectives agree
    X, Y, s, loss_name = _problem(kind)
    loss = get_loss(loss_name, Y.shape[1])
    arrangements = sample_arrangements(X, 12, random_state=0)
    X_aug, patterns, alpha = _augment(X, True), arrangements.patterns, 1e-2
    program = CvxpyProgram(X_aug, patterns, Y, s, loss, fit_intercept=True)
    reference = program.solve(alpha, tol=1e-8)
    assert np.isclose(reference.objective, program.problem.value, rtol=1e-7)
    assert -1e-7 <= reference.gap <= 1e-6
    fit = solve_first_order(X_aug, patterns, Y, s, loss, alpha, fit_intercept=True, tol=1e-7,
                            generators=arrangements.generators)
    assert fit.converged and 0 <= fit.gap <= 1e-7
    objective, _ = convex_objective(X_aug, patterns, fit.blocks_pos, fit.blocks_neg, fit.intercept, Y, s, loss, alpha)
    assert np.isclose(fit.objective, objective, rtol=1e-9)
    assert np.isclose(fit.objective, reference.objective, rtol=1e-6)


def _check_like_regression(n=60, n_features=4):
    """Small ``make_regression``-like data as scikit-learn's estimator checks use (standardised X,
    one informative feature, targets of size ~100): at alpha=1e-3 the fit nearly interpolates."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, n_features))
    y = 5.0 + 60.0 * X[:, 0] + 20.0 * rng.standard_normal(n)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_large_targets_small_violations_still_enter():
    """The stall of scikit-learn's check_regressor_multioutput / data_not_an_array fits: the
    restricted QP judged its atoms' gradients ``alpha − fᵀr`` against ``1e-10 max |b|`` (b is of the
    size of the large fits), so blocks violating dual feasibility by ~1e-6 alpha never entered and
    the certified gap stalled above tol. The solve must reach tol, and agree with cvxpy."""
    X, y = _check_like_regression()
    arrangements = sample_arrangements(X, 300, random_state=0)
    s = np.ones(y.size)
    fit = _solve(X, y[:, None], s, "squared_error", 1e-3, "first_order", arrangements, tol=1e-6)
    assert fit.raw.converged and fit.raw.status.startswith("converged")
    assert fit.certificate.relative_gap <= 1e-6
    reference = _solve(X, y[:, None], s, "squared_error", 1e-3, "cvxpy", arrangements, tol=1e-8)
    assert fit.certificate.lower_bound <= reference.objective * (1 + 1e-9)
    assert fit.objective <= reference.objective * (1 + 1e-6)
    # the estimator: a certified fit raises no ConvergenceWarning (an error in this test suite)
    reg = ConvexReLURegressor(alpha=1e-3, solver="first_order", arrangements="sample", n_arrangements=300,
                              random_state=0).fit(X, y)
    assert reg.certificate_.relative_gap <= reg.tol


def test_bounded_qp_resolves_gradients_to_the_given_tol():
    # b dominated by one huge coordinate: with the default tolerance (relative to max |b|) a
    # variable whose gradient is −1e-9 stays at zero; with tol=1e-12 it enters, as brute force says
    H = np.diag([1.0, 1.0])
    b = np.array([1e2, 1e-9])
    free = np.zeros(2, dtype=bool)
    assert _bounded_qp(H, b, free, np.zeros(2), max_iter=10)[1] == 0.0
    x = _bounded_qp(H, b, free, np.zeros(2), max_iter=10, tol=1e-12)
    np.testing.assert_allclose(x, [1e2, 1e-9])


def test_active_blocks_point_along_their_optimal_directions():
    """SPEC §5: at the optimum each active block is parallel to ``Π_{K_i}(σ X̃ᵀ D_i r*)`` with norm
    alpha. Checked against cvxpy's projections at gap 1e-7, which needs the blocks' directions
    turned (merge + Newton polish), not only rescaled atoms."""
    X, y = _check_like_regression(n=40, n_features=3)
    arrangements = sample_arrangements(X, 150, random_state=1)
    X_aug = _augment(X, True)
    loss = get_loss("squared_error", 1)
    solver = FirstOrderSolver(X_aug, arrangements.patterns, y[:, None], np.ones(y.size), loss, fit_intercept=True,
                              generators=arrangements.generators)
    result = solver.solve(1e-3, tol=1e-7)
    assert result.converged and result.gap <= 1e-7
    r = solver.residual()[:, 0]
    blocks = np.stack([result.blocks_pos[0], result.blocks_neg[0]])  # (2, d, P)
    for side, i in zip(*np.nonzero(np.linalg.norm(blocks, axis=1).T.T > 0)):
        sign = 1.0 if side == 0 else -1.0
        a = sign * X_aug.T @ (arrangements.patterns[:, i] * r)
        projection = _cvxpy_projection(X_aug, arrangements.patterns[:, i], a)
        assert np.linalg.norm(projection) == pytest.approx(1e-3, rel=1e-6)
        direction = blocks[side, :, i] / np.linalg.norm(blocks[side, :, i])
        np.testing.assert_allclose(direction, projection / np.linalg.norm(projection), atol=1e-3)


def _planted_teacher_solver(n, p, n_gates, seed):
    """A first-order solver on ``n_gates`` sampled patterns of a planted teacher (10 neurons without
    hidden biases, noise 0.1; ``benchmarks/_common.planted_teacher``): solver, X̃, Y, s, loss."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W, a = rng.standard_normal((p, 10)) / np.sqrt(p), rng.standard_normal(10)
    y = np.maximum(X @ W, 0) @ a + 0.1 * rng.standard_normal(n)
    arrangements = sample_arrangements(X, n_gates, random_state=0)
    X_aug, Y, s, loss = _augment(X, True), y[:, None], np.ones(n), get_loss("squared_error", 1)
    solver = FirstOrderSolver(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=True,
                              generators=arrangements.generators)
    return solver, X_aug, Y, s, loss


@pytest.mark.parametrize("n, p, n_gates, seed, polishable", [(150, 20, 40, 20, False), (500, 10, 20, 1, True)])
def test_long_solves_keep_a_hull_and_converge_in_few_iterations(n, p, n_gates, seed, polishable):
    """Merging each block's atoms into one after every restricted solve left column generation two
    atoms per block to turn its direction: 313 iterations on the first planted teacher (every
    pattern active, more block variables than the direction polish takes) and 701 on the second
    (few patterns, where the polish could run: it moved 661 times and crawled). Keeping a hull of
    a few atoms once the solve runs long converges in 57 and 53. The optimum agrees with
    Clarabel's."""
    solver, X_aug, Y, s, loss = _planted_teacher_solver(n, p, n_gates, seed=seed)
    result = solver.solve(1e-3, tol=1e-6)
    active = np.count_nonzero(np.linalg.norm(result.blocks_pos, axis=1)) + np.count_nonzero(
        np.linalg.norm(result.blocks_neg, axis=1))
    assert (active * X_aug.shape[1] <= _POLISH_SIZE) == polishable  # the two regimes of the polish
    assert result.converged and result.n_iter <= 120, result.status
    reference = CvxpyProgram(X_aug, solver.patterns, Y, s, loss, fit_intercept=True).solve(1e-3, tol=1e-9)
    reference_objective = convex_objective(X_aug, solver.patterns, reference.blocks_pos, reference.blocks_neg,
                                           reference.intercept, Y, s, loss, 1e-3)[0]
    assert result.objective == pytest.approx(reference_objective, rel=2e-6)


def test_direction_polish_is_not_stopped_by_a_near_face_row(monkeypatch):
    """The polish takes one Newton step for all active blocks; a row of one block a tiny slack off
    its face used to cut that step to ~1e-7 and the polish gave up (2 moves in 125 calls on this
    planted teacher). Such rows now join their faces and the step is taken again: most calls move,
    each lowering the objective. (Blocks keep one atom all along here; by default they keep a few
    after 10 iterations and the polish then seldom runs.)"""
    monkeypatch.setattr(first_order, "_HULL_AFTER", 10**9)  # one atom per block all along: the polish runs
    solver, _, Y, s, loss = _planted_teacher_solver(200, 10, 50, seed=10)
    polish, calls = FirstOrderSolver._polish_directions, []

    def recorded(self, state, alpha):
        before = self._penalty(state, alpha) + loss.value(self._predict(state), Y, s)
        moved = polish(self, state, alpha)
        calls.append((moved, self._penalty(state, alpha) + loss.value(self._predict(state), Y, s) - before))
        return moved

    monkeypatch.setattr(FirstOrderSolver, "_polish_directions", recorded)
    result = solver.solve(1e-3, tol=1e-6)
    assert result.converged
    moves = [change for moved, change in calls if moved]
    assert len(calls) > 20 and len(moves) > len(calls) / 2, (len(moves), len(calls))
    assert max(moves) <= 1e-12 * result.objective


def _badly_scaled(scale, n=20):
    """Issue 14 item 2: n = 20, two features, one column multiplied by ``scale``."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    y = np.sin(X[:, 0]) + X[:, 1]
    X[:, 1] *= scale
    return X, y


@pytest.mark.parametrize("scale", [1e6, 1e8, 1e10])  # ×1e12: alpha is negligible (test_reliability.py)
def test_badly_scaled_features_stop_early_and_say_what_to_do(scale):
    """Work bounded in iterations and atoms (not wall time): at most _ILL_ITERATIONS iterations of at
    most n + K new atoms, whatever max_iter, and a status that says what to do."""
    from sklearn_convexrelu.solvers.first_order import _ILL_ITERATIONS

    X, y = _badly_scaled(scale)
    arrangements = enumerate_arrangements(X, hidden_bias=True)
    solver = FirstOrderSolver(_augment(X, True), arrangements.patterns, y[:, None], np.ones(20), get_loss("squared_error", 1),
                              fit_intercept=True, generators=arrangements.generators)
    for max_iter in (20, 1000):
        result = solver.solve(1e-3, max_iter=max_iter)
        assert result.n_iter <= min(max_iter, _ILL_ITERATIONS)
        assert solver.n_atoms_added_ <= result.n_iter * max(32, 21)
        assert "standardise X (StandardScaler) or raise alpha" in result.status
        assert not result.converged and 0 <= result.gap <= 1  # a valid certificate of what was reached
    with pytest.warns(ConvergenceWarning, match=r"standardise X \(StandardScaler\) or raise alpha"):
        with warnings.catch_warnings():  # the optimal set of an uncertified fit may warn too
            warnings.simplefilter("ignore", OptimalSetWarning)
            ConvexReLURegressor(solver="first_order", random_state=0).fit(X, y)


def test_badly_scaled_features_with_a_large_alpha_are_still_solved():
    # the zero network is optimal: certified whatever the scales (the check is κ ≤ alpha at r = y − ȳ)
    X, y = _badly_scaled(1e6)
    X_aug = _augment(X, True)
    alpha = 2 * np.abs(X_aug.T @ (y - y.mean())).sum() / y.size  # above every ‖X̃ᵀ D r‖
    reg = ConvexReLURegressor(alpha=alpha, solver="first_order", random_state=0).fit(X, y)
    assert reg.certificate_.certified and reg.n_neurons_ == 0


def test_moderately_scaled_features_converge():
    X, y = _badly_scaled(1e4)
    arrangements = enumerate_arrangements(X, hidden_bias=True)
    fit = _solve(X, y[:, None], np.ones(20), "squared_error", 1e-3, "first_order", arrangements, tol=1e-6)
    reference = _solve(X, y[:, None], np.ones(20), "squared_error", 1e-3, "cvxpy", arrangements, tol=1e-8)
    assert fit.raw.converged and fit.certificate.relative_gap <= 1e-6
    # the ridge of the restricted Hessian is relative to each diagonal entry: one relative to the
    # largest swamped the atoms along the small column (360 iterations; now 12)
    assert fit.raw.n_iter <= 50
    assert fit.certificate.lower_bound <= reference.objective * (1 + 1e-9)


def test_auto_solves_again_when_the_polished_first_order_fit_is_not_certified():
    # A column ×1e5: the first-order solve converges (gap 2e-7) but its blocks leave their
    # needle-thin cones by 8e-8, and projecting them back leaves a certified gap of 4e-5; with
    # solver="auto" the certified gap of the polished fit decides, and Clarabel's fit is certified.
    X, y = _badly_scaled(1e5)
    arrangements = enumerate_arrangements(X, hidden_bias=True)
    first = _solve(X, y[:, None], np.ones(20), "squared_error", 1e-3, "first_order", arrangements, tol=1e-6)
    assert first.raw.converged and first.certificate.relative_gap > 1e-6
    reg = ConvexReLURegressor(arrangements="exact", solver="auto").fit(X, y)  # no warning (tests/test_optimal_set.py)
    assert reg.certificate_.certified and reg.solver_.startswith("cvxpy")


def test_auto_finishes_an_interior_point_fit_certified_above_tol(monkeypatch):
    # Seen in CI: Clarabel's fit on 60 points in 1-D certified at 1.5e-6 > tol. Simulated here by
    # perturbing Clarabel's blocks: solver="cvxpy" reports the gap, solver="auto" finishes with the
    # first-order solver warm-started from them and certifies.
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 1))
    y = np.abs(X[:, 0]) + 0.1 * rng.standard_normal(30)
    solve = CvxpyProgram.solve

    def perturbed(self, *args, **kwargs):
        result = solve(self, *args, **kwargs)
        return dataclasses.replace(result, blocks_pos=result.blocks_pos * (1 + 1e-3), converged=False)

    monkeypatch.setattr(CvxpyProgram, "solve", perturbed)
    arrangements = enumerate_arrangements(X, hidden_bias=True)
    Y, s = y[:, None], np.ones(30)
    assert _solve(X, Y, s, "squared_error", 1e-3, "cvxpy", arrangements, tol=1e-6).certificate.relative_gap > 1e-6
    finished = _solve(X, Y, s, "squared_error", 1e-3, "cvxpy", arrangements, tol=1e-6, fallback=True)
    assert finished.certificate.relative_gap <= 1e-6 and finished.raw.solver == "first_order"
    # the estimators end certified either way: with solver="cvxpy" the optimal set's refined dual
    # (SPEC §5) certifies its min-norm network
    for solver in ("auto", "cvxpy"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            reg = ConvexReLURegressor(arrangements="exact", solver=solver).fit(X, y)
        assert reg.certificate_.certified


@pytest.mark.parametrize("kind", ["squared", "logistic", "multi_output"])
def test_unpenalised_hidden_bias_agrees_with_cvxpy(kind):
    # The MLP objective's program (SPEC §3 with the bias left out of the group norm): atoms with
    # ‖P u‖ = 1 priced by the penalty's own κ; Clarabel on the same program is the reference.
    from sklearn_convexrelu.program import GroupNormPenalty

    X, Y, s, loss_name = _problem(kind, n=40)
    X_aug = _augment(X, True)
    arrangements = sample_arrangements(X, 60, random_state=0)
    loss, penalty, alpha = get_loss(loss_name, Y.shape[1]), GroupNormPenalty(penalize_hidden_bias=False), 1e-2
    ours = FirstOrderSolver(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=True,
                            generators=arrangements.generators, penalty=penalty).solve(alpha, tol=1e-9)
    reference = CvxpyProgram(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=True, penalty=penalty).solve(alpha, tol=1e-9)
    assert ours.converged, ours.status

    def objective(raw):
        return convex_objective(X_aug, arrangements.patterns, raw.blocks_pos, raw.blocks_neg, raw.intercept, Y, s, loss,
                                alpha, penalty=penalty)[0]

    # our gap certifies: the reference (an interior point, accurate to ~1e-7 on exponential cones)
    # is never below our objective by more than our certified gap
    assert objective(ours) <= objective(reference) * (1 + 1e-6)
    assert objective(reference) >= objective(ours) * (1 - ours.gap - 1e-12)
    assert np.isclose(objective(ours), ours.objective, rtol=1e-10)
    # the penalty was the bias-free one: the bias coordinate is used and not charged
    assert np.any(ours.blocks_pos[:, -1]) or np.any(ours.blocks_neg[:, -1])


def test_unpenalised_hidden_bias_needs_a_fitted_intercept():
    from sklearn_convexrelu.program import GroupNormPenalty

    X, Y, s, loss_name = _problem("squared")
    arrangements = sample_arrangements(X, 10, random_state=0)
    with pytest.raises(ValueError, match="fit_intercept=True"):
        FirstOrderSolver(_augment(X, True), arrangements.patterns, Y, s, get_loss(loss_name, 1), fit_intercept=False,
                         penalty=GroupNormPenalty(penalize_hidden_bias=False))
