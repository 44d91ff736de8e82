"""The landscape tools' convex optima come from the package's solvers (SPEC §3, §7)."""

import numpy as np
import pytest

from sklearn_convexrelu.arrangements import enumerate_arrangements
from sklearn_convexrelu.landscape._problem import make_problem, solve_optimum


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_first_order_optimum_matches_cvxpy(loss):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((14, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    Y = (y[:, None] if loss == "squared_error" else np.where(y > np.median(y), 1.0, -1.0)[:, None])
    problem = make_problem(X, Y, None, alpha=0.02, loss=loss, hidden_bias=True, penalize_hidden_bias=True,
                           fit_intercept=True, source="test")
    arrangements = enumerate_arrangements(X)
    first_order = solve_optimum(problem, arrangements, tol=1e-8)
    reference = solve_optimum(problem, arrangements, tol=1e-8, solver="cvxpy")
    assert first_order.status.startswith("converged") and not reference.status.startswith("converged")
    assert np.isclose(first_order.objective, reference.objective, rtol=1e-7)
    # same prediction up to the accuracy of the optimum (unique for a strictly convex loss, SPEC §5)
    assert np.allclose(first_order.prediction, reference.prediction, atol=1e-3)
    assert np.isclose(problem.objective(first_order.network(problem)), first_order.objective, rtol=1e-10)


def test_unpenalised_bias_is_solved_by_cvxpy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 1))
    problem = make_problem(X, np.abs(X), None, alpha=0.05, loss="squared_error", hidden_bias=True,
                           penalize_hidden_bias=False, fit_intercept=True, source="test")
    optimum = solve_optimum(problem, enumerate_arrangements(X))
    assert optimum.status == "optimal"  # cvxpy's status: the first-order solver needs a penalised bias
    assert np.isclose(problem.objective(optimum.network(problem)), optimum.objective, rtol=1e-10)
