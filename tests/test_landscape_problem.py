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
    assert optimum.status == "optimal"  # cvxpy's status: "auto" takes Clarabel for this penalty (see _raw_solutions)
    assert np.isclose(problem.objective(optimum.network(problem)), optimum.objective, rtol=1e-10)


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_restricted_optimum_by_both_solvers(loss):
    # one block per (pattern, sign) of a network: the restricted program (SPEC §6 (i)) solved by the
    # first-order solver and by cvxpy, both restricted through allowed_blocks
    from sklearn_convexrelu.landscape import train_nonconvex
    from sklearn_convexrelu.landscape._problem import own_pairs, restricted_optimum

    rng = np.random.default_rng(2)
    X = rng.standard_normal((16, 2))
    y = np.sin(2 * X[:, 0]) * X[:, 1]
    y = y if loss == "squared_error" else np.where(y > 0, 1.0, -1.0)
    network = train_nonconvex(X, y, 0.01, 5, loss=loss, max_iter=500, random_state=0).network
    problem = make_problem(X, y[:, None], None, alpha=0.01, loss=loss, hidden_bias=True, penalize_hidden_bias=True,
                           fit_intercept=True, source="test")
    patterns, signs, outputs = own_pairs(problem, network)
    reference, cvxpy_network = restricted_optimum(problem, patterns, signs, outputs)
    first_order, first_order_network = restricted_optimum(problem, patterns, signs, outputs, tol=1e-8,
                                                          solver="first_order")
    assert np.isclose(first_order, reference, rtol=1e-7)
    assert reference <= problem.objective(network) + 1e-12  # the network is a point of its own program
    for value, net in ((reference, cvxpy_network), (first_order, first_order_network)):
        assert np.isclose(problem.objective(net), value, rtol=1e-10)
        assert np.count_nonzero(net.output_weights) <= signs.size  # at most one neuron per allowed block
