"""The set of optimal networks and its invariances (SPEC §5, §5.1, §10.4).

Objectives are always recomputed from the networks' weights (``TwoLayerReLUNetwork.objective``),
independently of the optimal-set code; the polytope is compared with a brute-force description of
the optimal face of an independently written cvxpy program.
"""

import dataclasses
import pickle
import warnings

import cvxpy as cp
import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLUClassifier, ConvexReLURegressor, Invariances, OptimalSet, TwoLayerReLUNetwork
from sklearn_convexrelu.arrangements import _augment

SQUARE = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


def _wave(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(3 * X[:, 0]) * X[:, 1] + 0.1 * rng.standard_normal(n)


def _blobs():
    return np.random.default_rng(5).standard_normal((16, 2))


def _make_case(name):
    """Fitted estimator, data, encoded targets and loss name of a named small problem."""
    if name == "square":  # symmetric data: a segment of optimal networks
        X, Y, loss = SQUARE, np.ones((4, 1)), "squared_error"
        est = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, Y[:, 0])
    elif name == "wave":
        X, y = _wave(10, 0)
        Y, loss = y[:, None], "squared_error"
        est = ConvexReLURegressor(alpha=1e-3, arrangements="exact").fit(X, y)
    elif name == "no_bias":
        X = _blobs()
        Y, loss = (X[:, 0] * X[:, 1])[:, None], "squared_error"
        est = ConvexReLURegressor(alpha=0.02, arrangements="exact", hidden_bias=False).fit(X, Y[:, 0])
    elif name == "two_outputs":
        X = _blobs()
        Y, loss = np.column_stack([X[:, 0] * X[:, 1], np.abs(X[:, 0])]), "squared_error"
        est = ConvexReLURegressor(alpha=0.02, arrangements="exact").fit(X, Y)
    elif name == "binary":
        X = _blobs()
        y = (X[:, 0] * X[:, 1] > 0).astype(int)
        Y, loss = np.where(y == 1, 1.0, -1.0)[:, None], "log_loss"
        est = ConvexReLUClassifier(alpha=0.05, arrangements="exact").fit(X, y)
    elif name == "softmax":
        X = _blobs()
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
        Y, loss = np.eye(3)[y], "log_loss"
        est = ConvexReLUClassifier(alpha=0.1, arrangements="exact", fit_intercept=False).fit(X, y)
    elif name == "one_hot_squared":
        X = _blobs()
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
        Y, loss = np.eye(3)[y], "squared_error"
        est = ConvexReLUClassifier(alpha=0.05, loss="squared_error", arrangements="exact").fit(X, y)
    return est, X, Y, loss


CASES = ["square", "wave", "no_bias", "two_outputs", "binary", "softmax", "one_hot_squared"]


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return _make_case(request.param)


def _objective(est, X, Y, loss, network):
    return network.objective(X, Y, est.alpha, loss=loss)


def _prediction_gap(est, X, loss, network):
    """Relative distance between the training predictions of ``network`` and of ``network_``."""
    difference = network.output(X) - est.network_.output(X)
    if loss == "log_loss" and difference.shape[1] > 1:  # the softmax ignores constants across classes
        difference -= difference.mean(axis=1, keepdims=True)
    return np.linalg.norm(difference) / np.linalg.norm(est.network_.output(X))


def _optimal_networks(est):
    """Networks that must all be optimal: canonical points, vertices, samples and invariances."""
    opt, inv = est.optimal_set_, est.invariances_
    wide = opt.sample(n_neurons=2 * opt.n_atoms + 3, random_state=1)
    networks = {
        "min_norm": opt.min_norm_network(),
        "minimal": opt.minimal_network(),
        "sample": opt.sample(random_state=0),
        "wide_sample": wide,
        "permute": inv.permute(wide, random_state=2),
        "split": inv.split(wide, 0, [0.2, 0.3, 0.5]),
        "merge": inv.merge(wide),
        "add_zero": inv.add_zero_neurons(wide, 3),
        "remove_zero": inv.remove_zero_neurons(inv.add_zero_neurons(wide, 3)),
        "move": inv.move_in_polytope(wide, step=0.7, random_state=3),
    }
    networks.update({f"vertex_{i}": opt.to_network(v) for i, v in enumerate(opt.vertices(max_count=10))})
    return networks


def test_every_optimal_network_has_the_optimal_objective_and_prediction(case):
    # SPEC §10.4: samples, vertices, the canonical points and every invariance are optimal
    est, X, Y, loss = case
    optimum = est.objective_
    assert np.isclose(_objective(est, X, Y, loss, est.network_), optimum, rtol=1e-10)
    solver_network = est.convex_solution_.to_network()
    excess = _objective(est, X, Y, loss, solver_network) / optimum - 1
    assert excess >= -1e-9
    # the objective grows quadratically away from the optimal set: the solver's network is in it
    # to about the square root of its excess
    assert est.optimal_set_.contains(solver_network, tol=max(1e-6, 30 * np.sqrt(max(excess, 0))))
    for name, network in _optimal_networks(est).items():
        assert np.isclose(_objective(est, X, Y, loss, network), optimum, rtol=1e-6, atol=0), name
        assert _prediction_gap(est, X, loss, network) < 1e-6, name
        assert est.optimal_set_.contains(network), name


def test_non_optimal_networks_are_rejected(case):
    est, X, Y, loss = case
    opt, inv = est.optimal_set_, est.invariances_
    network = opt.sample(n_neurons=opt.n_atoms + 2, random_state=0)
    rng = np.random.default_rng(0)
    noise = 1e-3 * rng.standard_normal(network.hidden_weights.shape) * np.abs(network.hidden_weights).max()
    perturbed = TwoLayerReLUNetwork(
        network.hidden_weights + noise, network.hidden_bias, network.output_weights, network.output_bias
    )
    assert not opt.contains(perturbed)
    assert _objective(est, X, Y, loss, perturbed) > est.objective_
    # Unbalanced rescaling: same function, penalty larger by (alpha/2) t² (γ − 1/γ)² (SPEC §5.1)
    gamma = 1.5
    rescaled = inv.rescale(network, 0, gamma)
    t2 = np.sum(network.hidden_weights[:, 0] ** 2) + network.hidden_bias[0] ** 2
    excess = 0.5 * est.alpha * t2 * (gamma - 1 / gamma) ** 2
    assert np.allclose(rescaled.output(X), network.output(X))
    assert np.isclose(_objective(est, X, Y, loss, rescaled) - _objective(est, X, Y, loss, network), excess, rtol=1e-8)
    assert not opt.contains(rescaled)
    assert opt.contains(inv.rescale(network, 0, 1.0))
    other = type(est)(**{**est.get_params(), "alpha": 1.5 * est.alpha}).fit(X, _targets(est, X, Y, loss))
    assert not opt.contains(other.network_)


def _targets(est, X, Y, loss):
    """Raw targets the estimator was fitted on, from the encoded ones."""
    if isinstance(est, ConvexReLURegressor):
        return Y[:, 0] if Y.shape[1] == 1 else Y
    return (Y[:, 0] > 0).astype(int) if Y.shape[1] == 1 else np.argmax(Y, axis=1)


def _placed_activations(network, X, fit_intercept, softmax):
    """Neuron fits on their outputs (n · K, m), with what the objective cannot see removed."""
    act = network.activations(X)
    placed = act[:, None, :] * network.output_weights.T[None, :, :]
    if fit_intercept:
        placed = placed - placed.mean(axis=0, keepdims=True)
    if softmax:
        placed = placed - placed.mean(axis=1, keepdims=True)
    return placed.reshape(-1, network.n_neurons)


def test_minimal_network_has_independent_fits_and_at_most_rank_neurons(case):
    est, X, Y, loss = case
    opt = est.optimal_set_
    minimal, proven = opt.minimal_network(return_proven=True)
    assert proven  # small polytopes: every vertex is enumerated
    softmax = loss == "log_loss" and Y.shape[1] > 1
    fits = _placed_activations(minimal, X, est.fit_intercept, softmax)
    assert np.linalg.matrix_rank(fits, tol=1e-8 * np.abs(fits).max()) == minimal.n_neurons
    every_atom = opt._coefficient_network(np.ones(opt.n_atoms))  # not optimal: to_network refuses it
    all_fits = _placed_activations(every_atom, X, est.fit_intercept, softmax)
    assert minimal.n_neurons <= np.linalg.matrix_rank(all_fits) <= X.shape[0] * Y.shape[1]
    assert minimal.n_neurons <= est.network_.n_neurons
    assert all(np.count_nonzero(v) >= minimal.n_neurons for v in opt.vertices(max_count=1000))


def test_square_matches_the_analytic_optimal_set():
    # By symmetry ŷ = t on the four points; the optimal atoms are the four diagonals, and the two
    # pairs of opposite diagonals each fit the constant: 𝒞 is a segment. With coefficient c on two
    # opposite diagonals, ŷ = c/√2 and the objective ½(c/√2 − 1)² + 2 alpha c is minimal at
    # c = √2 (1 − 2√2 alpha).
    alpha = 0.1
    est, X, Y, loss = _make_case("square")
    opt = est.optimal_set_
    c = np.sqrt(2) * (1 - 2 * np.sqrt(2) * alpha)
    assert opt.n_atoms == 4 and opt.dimension == 1 and not opt.is_unique
    assert np.allclose(np.abs(opt.directions), np.sqrt(0.5)) and np.all(opt.signs == 1)
    vertices = opt.vertices()
    assert vertices.shape == (2, 4)
    assert np.allclose(np.sort(vertices, axis=1), [[0, 0, c, c], [0, 0, c, c]], atol=1e-8)
    for vertex in vertices:  # the two positive atoms are opposite diagonals
        assert np.allclose(opt.directions[vertex > 0].sum(axis=0), 0, atol=1e-8)
    assert np.allclose(opt.min_norm_coefficients, c / 2, atol=1e-8)
    assert np.isclose(est.objective_, 0.5 * (c / np.sqrt(2) - 1) ** 2 + 2 * alpha * c, rtol=1e-9)
    minimal, proven = opt.minimal_network(return_proven=True)
    assert minimal.n_neurons == 2 and proven
    assert est.network_.n_neurons == 4  # the min-norm network keeps the symmetry


def _solve_clarabel(problem):
    """Solve with Clarabel; on a numerical failure, once more with more iterations and static
    regularisation (the face programs are nearly degenerate by construction)."""
    try:
        problem.solve(solver="CLARABEL")
    except cp.error.SolverError:
        problem.solve(solver="CLARABEL", max_iter=400, static_regularization_constant=1e-7)
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), problem.status


def _brute_force_coefficient_ranges(est, X, y, alpha):
    """Range of each atom coefficient over the optimal face of an independent cvxpy program.

    The program is vectorised independently of the package; the face is approximated by the
    sublevel set ``objective ≤ p* (1 + 1e-8)``, and the coefficient of atom k by ``Σ ŵ_kᵀ v_i``
    over its cones (equal to ``‖v_i‖`` on the face).
    """
    opt = est.optimal_set_
    patterns = est.arrangements_.patterns
    X_aug = _augment(X, True)
    n, d = X_aug.shape
    P = patterns.shape[1]
    V, U, c = cp.Variable((d, P)), cp.Variable((d, P)), cp.Variable()
    signs = 2.0 * patterns - 1.0
    prediction = cp.sum(cp.multiply(patterns, X_aug @ (V - U)), axis=1) + c
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(U, 2, axis=0))
    objective = cp.sum_squares(prediction - y) / (2 * n) + alpha * penalty
    cones = [cp.multiply(signs, X_aug @ V) >= 0, cp.multiply(signs, X_aug @ U) >= 0]
    best = cp.Problem(cp.Minimize(objective), cones)
    _solve_clarabel(best)
    weights = cp.Parameter((2, d * P))
    level = best.value * (1 + 1e-8)
    functional = weights[0] @ cp.vec(V, order="F") + weights[1] @ cp.vec(U, order="F")
    face = [*cones, objective <= level]
    maximise = cp.Problem(cp.Maximize(functional), face)
    minimise = cp.Problem(cp.Minimize(functional), face)
    ranges = np.zeros((opt.n_atoms, 2))
    for k in range(opt.n_atoms):
        W = np.zeros((2, d, P))
        for (_, pattern, sign), atom in zip(opt.tight_cones, opt.cone_atoms):
            if atom == k:
                W[int(sign < 0), :, pattern] = opt.directions[k]
        weights.value = W.reshape(2, d * P, order="F")
        _solve_clarabel(minimise)
        _solve_clarabel(maximise)
        ranges[k] = minimise.value, maximise.value
    return ranges


# Tiny exact problems whose non-tight cones all have κ/alpha < 0.99: a brute-force face
# "objective ≤ p* (1 + 1e-8)" cannot tell cones closer to alpha from tight ones.
@pytest.mark.parametrize("seed, alpha, dimension", [(2, 1e-3, 1), (7, 3e-3, 2), (3, 3e-3, 0)])
def test_polytope_agrees_with_brute_force_on_tiny_data(seed, alpha, dimension):
    X, y = _wave(10, seed)
    est = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y)
    opt = est.optimal_set_
    assert opt.dimension == dimension and opt.is_unique == (dimension == 0)
    ranges = _brute_force_coefficient_ranges(est, X, y, alpha)
    vertices = opt.vertices(max_count=1000)
    ours = np.column_stack([vertices.min(axis=0), vertices.max(axis=0)])
    # The sublevel set is wider than the face by O(√(slack)): about 1e-3 of the mass here.
    assert np.all(ours[:, 0] >= ranges[:, 0] - 1e-8 * opt.mass)
    assert np.all(ours[:, 1] <= ranges[:, 1] + 1e-8 * opt.mass)
    assert np.allclose(ours, ranges, atol=3e-3 * opt.mass)
    spread = ranges[:, 1] - ranges[:, 0]
    assert (spread.max() > 0.03 * opt.mass) == (dimension > 0)


def test_duplicated_feature_is_the_single_feature_problem_rescaled():
    # X = [x, x] with weights (w1, w2) computes x (w1 + w2); the penalty splits w1 = w2, which is
    # the one-feature problem on √2 x: a duplicated feature adds no non-uniqueness.
    x = np.linspace(-1, 1, 12)[:, None]
    y = np.sin(3 * x[:, 0])
    twice = ConvexReLURegressor(alpha=1e-2).fit(np.hstack([x, x]), y)
    scaled = ConvexReLURegressor(alpha=1e-2).fit(np.sqrt(2) * x, y)
    assert np.isclose(twice.objective_, scaled.objective_, rtol=1e-7)
    assert twice.optimal_set_.dimension == scaled.optimal_set_.dimension
    assert twice.optimal_set_.n_atoms == scaled.optimal_set_.n_atoms
    assert np.allclose(twice.optimal_set_.directions[:, 0], twice.optimal_set_.directions[:, 1], atol=1e-8)


def test_unique_case_has_one_point():
    x = np.linspace(-1, 1, 9)[:, None]
    est = ConvexReLURegressor(alpha=1e-2).fit(x, np.maximum(x[:, 0], 0))
    opt, inv = est.optimal_set_, est.invariances_
    assert opt.is_unique and opt.dimension == 0 and inv.continuous_dimension == 0
    assert np.allclose(opt.vertices(), opt.min_norm_coefficients[None, :])
    wide = opt.sample(n_neurons=5, random_state=0)
    assert wide.n_neurons == 5
    merged = inv.merge(wide)
    assert np.allclose(merged.hidden_weights, est.network_.hidden_weights)
    assert np.allclose(merged.output_weights, est.network_.output_weights)
    assert inv.move_in_polytope(wide) is wide
    with pytest.raises(ValueError, match="direction must be"):  # checked even where nothing moves
        inv.move_in_polytope(wide, direction=np.ones(opt.n_atoms + 1))


def test_samples_are_random_and_reproducible():
    est, X, Y, loss = _make_case("wave")
    opt = est.optimal_set_
    first, again, other = (opt.sample(n_neurons=12, random_state=seed) for seed in (0, 0, 1))
    assert np.array_equal(first.hidden_weights, again.hidden_weights)
    assert not np.allclose(opt.atom_coefficients(first)[0], opt.atom_coefficients(other)[0])
    moved = est.invariances_.move_in_polytope(first, step=1.0, random_state=0)
    assert not np.allclose(opt.atom_coefficients(moved)[0], opt.atom_coefficients(first)[0])
    assert np.count_nonzero(opt.atom_coefficients(moved)[0]) < np.count_nonzero(opt.atom_coefficients(first)[0])
    with pytest.raises(ValueError, match="No optimal network with 1 neurons"):
        opt.sample(n_neurons=1)


def test_invariance_errors_and_repr():
    est, X, Y, loss = _make_case("wave")
    inv = est.invariances_
    text = repr(inv)
    for name in (*Invariances.names, "rescale", f"continuous_dimension={est.optimal_set_.dimension}"):
        assert name in text
    with pytest.raises(ValueError, match="summing to 1"):
        inv.split(est.network_, 0, [0.5, 0.6])
    with pytest.raises(ValueError, match="permutation"):
        inv.permute(est.network_, [0] * est.network_.n_neurons)
    with pytest.raises(ValueError, match="optimal network"):
        inv.move_in_polytope(inv.rescale(est.network_, 0, 2.0))
    assert "dimension=1" in repr(est.optimal_set_)


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, ConvexReLUClassifier])
def test_estimators_store_the_min_norm_network(Estimator):
    X = _blobs()
    y = X[:, 0] * X[:, 1] if Estimator is ConvexReLURegressor else (X[:, 0] * X[:, 1] > 0).astype(int)
    est = Estimator(alpha=0.05, arrangements="exact").fit(X, y)
    assert isinstance(est.optimal_set_, OptimalSet) and isinstance(est.invariances_, Invariances)
    canonical = est.optimal_set_.min_norm_network()
    expected = [canonical.hidden_weights, canonical.output_weights, canonical.hidden_bias, canonical.output_bias]
    for mine, theirs in zip(est.coefs_ + est.intercepts_, expected):
        assert np.array_equal(mine, theirs)
    assert est.n_neurons_ == canonical.n_neurons == np.count_nonzero(est.optimal_set_.min_norm_coefficients)
    assert np.isclose(est.certificate_.primal, est.objective_, rtol=1e-12)
    clone = pickle.loads(pickle.dumps(est))
    assert clone.optimal_set_.contains(clone.network_)


def test_canonical_network_does_not_depend_on_the_solver():
    # interior point and first-order solutions differ (different blocks, neuron counts); the
    # min-norm network, a point defined by the optimal set alone, does not
    X, y = _wave(10, 2)
    first, second = (
        ConvexReLURegressor(alpha=1e-3, arrangements="exact", solver=solver).fit(X, y).network_
        for solver in ("cvxpy", "first_order")
    )
    assert first.n_neurons == second.n_neurons
    for name in ("hidden_weights", "hidden_bias", "output_weights", "output_bias"):
        assert np.allclose(getattr(first, name), getattr(second, name), rtol=0, atol=1e-7), name


def _networks_handed_out(est):
    """Every network the optimal set and the invariances hand out for a fitted estimator."""
    networks = _optimal_networks(est)
    opt = est.optimal_set_
    networks.update({f"sample_{k}": opt.sample(n_neurons=opt.n_atoms + k, random_state=k) for k in range(3)})
    networks.update({f"vertex_all_{i}": opt.to_network(v) for i, v in enumerate(opt.vertices(max_count=1000))})
    return networks


def _regression_problems():
    """The CV docstring example's data and fresh small problems (exact patterns)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.abs(X[:, 0]) + 0.05 * rng.randn(20)
    yield "cv_docstring", X, y, 6.073074283019515e-05  # the smallest alpha of alphas=5 on these data
    for seed in range(4):
        X, y = _wave(12, seed)
        yield f"wave_{seed}", X, y, 10.0 ** -(2 + seed % 3)


@pytest.mark.parametrize("solver", ["cvxpy", "first_order"])
def test_certified_exact_fits_raise_no_warning_and_every_network_is_optimal(solver):
    # Regression (issue 13): an interior-point dual is accurate only to ~1e-2 in κ on the CV docstring
    # data (near interpolation); the tight set is decided after refining it, so a certified fit
    # raises no warning and every network handed out has the certified objective to tol.
    for name, X, y, alpha in _regression_problems():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            est = ConvexReLURegressor(alpha=alpha, arrangements="exact", solver=solver).fit(X, y)
            assert est.certificate_.certified, (name, est.certificate_)
            lower, tol = est.certificate_.lower_bound, est.tol
            for label, network in _networks_handed_out(est).items():
                value = network.objective(X, y, alpha)
                assert lower - 1e-12 <= value <= est.objective_ * (1 + tol), (name, label, value, est.objective_)
        assert np.isclose(est.optimal_set_.min_norm_network().objective(X, y, alpha), est.objective_, rtol=1e-12)


@pytest.mark.parametrize("tol", [3e-4, 1e-4])
def test_a_coarse_tol_still_gives_an_optimal_set_that_describes_the_fit(tol):
    # Regression: with tol=3e-4 the dual was re-solved to REFINE_GAP_FACTOR · tol = 3e-6 only; the set
    # described from it fitted the target to 8e-15 with a min-norm network of objective 2.9e7, the
    # retry from the solver's dual (ε at the 5e-3 cap) one 0.8 % above the solver's: OptimalSetWarning,
    # network_ the solver's. The re-solve now goes to 1e-8 at most, whatever tol.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((150, 5))
    y = np.sin(X @ rng.standard_normal(5)) + 0.1 * rng.standard_normal(150)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ConvexReLURegressor(alpha=1e-3, tol=tol, random_state=0).fit(X, y)
    opt = est.optimal_set_
    assert opt.describes_fit and opt.accuracy < 1e-7, opt
    for network in (opt.min_norm_network(), opt.sample(n_neurons=opt.n_atoms + 2, random_state=0)):
        assert est.certificate_.lower_bound - 1e-12 <= network.objective(X, y, est.alpha) <= est.objective_ * (1 + tol)


@pytest.mark.parametrize("scale", [1e3, 1e5])
def test_a_badly_scaled_column_leaves_every_network_optimal(scale):
    # Regression (issue 13): n = 20, two features, one column ×1e5, exact patterns, Clarabel
    # certified. The Newton refinement's damping, relative to the largest Hessian entry, swamped the
    # directions along the small column (atoms off by 8.6e-6), and the polytope's rank threshold,
    # relative to the atoms with fits of size 1e4, made 8 directions "null": the min-norm network
    # missed the certified objective by 1.6e-4 and network_ fell back to the solver's.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 2))
    y = np.sin(X[:, 0]) + X[:, 1]
    X[:, 1] *= scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ConvexReLURegressor(arrangements="exact").fit(X, y)
        assert est.certificate_.certified, est.certificate_
        lower = est.certificate_.lower_bound
        for label, network in _networks_handed_out(est).items():
            value = network.objective(X, y, est.alpha)
            assert lower - 1e-12 <= value <= est.objective_ * (1 + est.tol), (label, value, est.objective_)
    assert np.isclose(est.optimal_set_.min_norm_network().objective(X, y, est.alpha), est.objective_, rtol=1e-12)
    # atoms that carry the refined solution's blocks point along them: the optimal prediction is a
    # combination of their fits to rounding (along the dual directions: 1.6e-8 to 6.6e-8 at ×1e5,
    # which left the min-norm network up to 1.4e-6 above the refined objective)
    assert est.optimal_set_.projection_residual < 1e-10


def test_polytope_dimension_does_not_depend_on_the_scale_of_an_atoms_fits():
    # Multiplying an atom's fit by 1e5 divides its coefficient by 1e5: the same optimal set. A rank
    # threshold relative to the largest singular value took a near-dependence of three other atoms
    # (singular value 3e-6) for a null direction once one column was large (dimension 1, not 0).
    from sklearn_convexrelu.optimal_set._polytope import CoefficientPolytope

    rng = np.random.default_rng(0)
    A = np.abs(rng.standard_normal((20, 12)))
    A[:, 11] = A[:, 2:4] @ [0.5, 0.5] + 1e-6 * rng.standard_normal(20)
    b = A @ rng.uniform(0.5, 1.0, 12)
    reference = CoefficientPolytope(A, b, 1e-8)
    scaled = CoefficientPolytope(A * np.r_[1e5, np.ones(11)], b, 1e-8)
    assert reference.dimension == scaled.dimension
    point = scaled.min_norm_point() * np.r_[1e5, np.ones(11)]
    assert np.linalg.norm(A @ point - b) <= 1e-6 * np.linalg.norm(b)


@pytest.mark.parametrize("seed", [1, 5, 9])
def test_an_interior_point_fit_is_certified_by_the_refined_dual(seed):
    # Regression (issue 13, from a review): with solver="cvxpy", certificate_ came from Clarabel's
    # own dual (relative gap 2.1e-2 for seed 5) and warned, while the same network_ certified at
    # 4.8e-7 through optimality_certificate: 11 of 15 exact log-loss fits warned. The refined dual
    # (the min-norm network's prediction) is now a candidate of the estimator's certificate too.
    from sklearn_convexrelu.landscape import optimality_certificate

    rng = np.random.RandomState(seed)
    n, d = 15 + seed % 10, 1 + seed % 2
    X = rng.randn(n, d)
    alpha = 10 ** rng.uniform(-4, -2.5)
    y = (np.abs(X[:, 0]) > 0.7).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ConvexReLUClassifier(alpha=alpha, arrangements="exact", solver="cvxpy").fit(X, y)
        independent = optimality_certificate(est, X, y)
    assert est.certificate_.certified and independent.certified
    assert est.certificate_.primal == pytest.approx(independent.primal, rel=1e-12)


def test_refinement_makes_an_interior_point_dual_decisive():
    # The same fit solved twice, independently: the optimal set from Clarabel's solution (whose own
    # dual misses tightness by ~1 %) equals the one from the first-order solver's.
    name, X, y, alpha = next(_regression_problems())
    fits = {s: ConvexReLURegressor(alpha=alpha, arrangements="exact", solver=s).fit(X, y) for s in ("cvxpy", "first_order")}
    opt = fits["cvxpy"].optimal_set_
    assert opt.solver_accuracy > 1e-3 and opt.refined and opt.accuracy < 1e-7
    other = fits["first_order"].optimal_set_
    assert opt.n_atoms == other.n_atoms and opt.dimension == other.dimension
    # mass = penalty / alpha: at this near-interpolating alpha (6e-5) a relative gap of 1e-9 leaves
    # the penalty, hence the mass, determined to about 1e-5 only (the loss compensates)
    assert np.isclose(opt.mass, other.mass, rtol=1e-4)
    first, second = fits["cvxpy"].network_, fits["first_order"].network_
    assert first.n_neurons == second.n_neurons
    # the prediction is unique but known only to √(2 n δ L*) ≈ 1e-5 from relative gaps δ ~ 3e-9
    assert np.allclose(first.output(X), second.output(X), rtol=0, atol=3e-5)


def test_cv_estimator_on_its_docstring_data_raises_no_warning():
    from sklearn_convexrelu import ConvexReLURegressorCV

    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(20, 1))
    y = np.abs(X[:, 0]) + 0.05 * rng.randn(20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = ConvexReLURegressorCV(alphas=5, cv=3).fit(X, y)
    assert reg.certificate_.certified
    assert np.isclose(reg.optimal_set_.min_norm_network().objective(X, y, reg.alpha_), reg.objective_, rtol=1e-12)


@pytest.mark.parametrize("random_state", [1, 6, 12, 18])
def test_default_multi_output_fits_converge_and_hand_out_optimal_networks(random_state):
    # Regression (issue 13, CI): scikit-learn's check_regressor_multioutput data (11 × 10, five
    # outputs, near interpolation). With these seeds the first-order solve crawled to max_iter at a
    # gap of ~2e-4 (now finished by Clarabel under solver="auto"), and three fits certified over
    # their patterns handed out a min-norm network up to 2.3e-3 above the fit: the dual's
    # directions were off by ~1e-4 although it was tight to 1e-8, so its atoms missed the fit.
    from sklearn.datasets import make_regression

    X, Y = make_regression(random_state=42, n_targets=5, n_samples=11, n_features=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = ConvexReLURegressor(random_state=random_state).fit(X, Y)
    assert est.certificate_.relative_gap <= est.tol
    opt = est.optimal_set_
    assert opt.projection_residual <= est.tol
    for label, network in _networks_handed_out(est).items():
        value = network.objective(X, Y, est.alpha)
        assert est.certificate_.lower_bound - 1e-12 <= value <= est.objective_ * (1 + est.tol), (label, value)


def test_optimal_set_and_invariance_arguments_are_checked():
    est, X, Y, loss = _make_case("wave")
    opt, inv, net = est.optimal_set_, est.invariances_, est.network_
    for neuron in (-1, net.n_neurons, 1.0, True):
        with pytest.raises(ValueError, match="neuron must be an integer"):
            inv.split(net, neuron, [0.5, 0.5])
        with pytest.raises(ValueError, match="neuron must be an integer"):
            inv.rescale(net, neuron, 2.0)
    with pytest.raises(ValueError, match="summing to 1"):
        inv.split(net, 0, [])
    with pytest.raises(ValueError, match="factor"):
        inv.rescale(net, 0, np.inf)
    with pytest.raises(ValueError, match="count"):
        inv.add_zero_neurons(net, -1)
    with pytest.raises(ValueError, match="permutation"):
        inv.permute(net, np.arange(net.n_neurons) + 0.5)
    with pytest.raises(ValueError, match="direction"):
        inv.move_in_polytope(net, direction=np.ones(opt.n_atoms + 1))
    with pytest.raises(ValueError, match="max_count"):
        opt.vertices(max_count=-1)
    with pytest.raises(ValueError, match="n_neurons"):
        opt.sample(n_neurons=-1)
    with pytest.raises(ValueError, match="tol"):
        opt.contains(net, tol=2.0)
    with pytest.raises(ValueError, match="coef"):
        opt.to_network(np.full(opt.n_atoms, np.nan))
    with pytest.raises(TypeError, match="TwoLayerReLUNetwork"):
        inv.merge(est)
    with pytest.raises(ValueError, match="return_proven"):
        opt.minimal_network(return_proven="yes")


def test_no_argument_turns_an_optimal_network_into_a_non_optimal_one():
    # Found by a review: to_network accepted any non-negative coefficients (all ones: objective
    # +153,000 %), and merge with a large tol merged neurons that are not parallel (tol=0.2: +8.9 %).
    rng = np.random.RandomState(3)
    X = rng.randn(20, 2)
    y = np.abs(X[:, 0]) + 0.1 * rng.randn(20)
    est = ConvexReLURegressor(alpha=3e-4, arrangements="exact").fit(X, y)
    opt, inv, net = est.optimal_set_, est.invariances_, est.network_
    with pytest.raises(ValueError, match="not a point of the coefficient polytope"):
        opt.to_network(np.ones(opt.n_atoms))
    assert opt.to_network(opt.min_norm_coefficients).objective(X, y, est.alpha) == pytest.approx(est.objective_, rel=1e-12)
    for tol in (1e-9, 1e-3):  # parallel neurons only: the same optimal network
        merged = inv.merge(net, tol=tol)
        assert opt.contains(merged) and merged.objective(X, y, est.alpha) == pytest.approx(est.objective_, rel=1e-9)
    for tol in (0.2, 1.0):  # their merges had objectives 8.9 % and 21,500 % above the optimum
        with pytest.raises(ValueError, match="not parallel"):
            inv.merge(net, tol=tol)


def test_coefficients_off_the_polytope_are_rejected(case):
    # Neurons on the atoms, balanced, but a wrong amount on one atom or a wrong intercept: not
    # optimal (checked independently by the objective), and rejected without the training data.
    est, X, Y, loss = case
    opt = est.optimal_set_
    network = opt.min_norm_network()
    if network.n_neurons == 0:
        pytest.skip("the zero network is the only optimal network here")
    scale = np.ones(network.n_neurons)
    scale[0] = np.sqrt(1.01)  # c_k × 1.01 on the first atom, still balanced
    heavier = TwoLayerReLUNetwork(
        network.hidden_weights * scale, network.hidden_bias * scale, network.output_weights * scale[:, None],
        network.output_bias,
    )
    shifted = TwoLayerReLUNetwork(
        network.hidden_weights, network.hidden_bias, network.output_weights, network.output_bias + 1e-3,
    )
    for name, candidate in (("heavier", heavier), ("shifted", shifted)):
        if loss == "log_loss" and Y.shape[1] > 1 and name == "shifted":
            continue  # a constant added to every class is invisible to the softmax
        if est.fit_intercept or name != "shifted":  # without an intercept the shift leaves the model
            assert _objective(est, X, Y, loss, candidate) > est.objective_ * (1 + 1e-9), name
        assert not opt.contains(candidate), name
    assert opt.contains(network)


def test_fitted_model_does_not_store_the_training_data(case):
    est, X, Y, loss = case
    blob = pickle.dumps(est)
    for row in np.asarray(X, dtype=float):
        assert row.tobytes() not in blob
    assert np.ascontiguousarray(Y[:, 0], dtype=float).tobytes() not in blob


def test_an_optimal_set_that_misses_the_fit_warns_with_its_own_class(monkeypatch):
    # When the optimal set cannot reproduce the solver's objective to tol, the estimator says so
    # with OptimalSetWarning (never ConvergenceWarning) and keeps the solver's network.
    import sklearn_convexrelu._base as base
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_convexrelu.exceptions import OptimalSetWarning

    build = base.optimal_set_from_fit

    def missing(*args, **kwargs):  # its min-norm network misses the optimum by 10% (output weights ×1.1)
        opt = build(*args, **kwargs)
        network = opt.min_norm_network()
        worse = dataclasses.replace(network, output_weights=network.output_weights * 1.1)
        opt.min_norm_network = lambda: worse
        return opt

    monkeypatch.setattr(base, "optimal_set_from_fit", missing)
    X, y = _wave(10, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(OptimalSetWarning, match="does not describe this fit"):
            est = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y)
    solver_network = est.convex_solution_.to_network()
    assert np.array_equal(est.network_.hidden_weights, solver_network.hidden_weights)
    assert np.isclose(est.objective_, solver_network.objective(X, y, 1e-2), rtol=1e-10)
    # the set's own methods say so too (a review found vertices 121x above objective_ on such a fit)
    assert not est.optimal_set_.describes_fit
    for hand_out in (lambda opt: opt.vertices(), lambda opt: opt.sample(random_state=0), lambda opt: opt.minimal_network()):
        with pytest.warns(OptimalSetWarning, match="does not describe its fit"):
            hand_out(est.optimal_set_)


def test_a_failing_refinement_keeps_the_solver_dual(monkeypatch):
    # The re-solve that refines an interior-point dual is an attempt: if it fails (as the cone
    # projection does on a column scaled by 1e8), the optimal set is built from the solver's dual.
    import sklearn_convexrelu.optimal_set._set as set_module

    def failing(*args, **kwargs):
        raise RuntimeError("Projection onto an activation cone failed: Clarabel status 'optimal_inaccurate'.")

    monkeypatch.setattr(set_module, "resolve_first_order", failing)
    name, X, y, alpha = next(_regression_problems())  # Clarabel's dual misses by ~1e-2: refinement wanted
    est = ConvexReLURegressor(alpha=alpha, arrangements="exact", solver="cvxpy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # without the refinement the set may not describe the fit
        est.fit(X, y)
    assert np.isfinite(est.objective_) and np.all(np.isfinite(est.predict(X)))
    assert est.optimal_set_.solver_accuracy > 1e-3


def test_polytope_of_a_zero_target_is_the_origin():
    # Σ c = 0 with c ≥ 0 leaves only c = 0, however dependent the atom fits (no division by the mass)
    from sklearn_convexrelu.optimal_set._polytope import CoefficientPolytope

    B = np.random.default_rng(0).standard_normal((6, 2))
    polytope = CoefficientPolytope(np.hstack([B, -B, B]), np.zeros(6), 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        start = polytope.min_norm_point()
        vertices, _ = polytope.vertices(5, np.random.RandomState(0), start)
        point = polytope.random_point(np.random.RandomState(0), start)
    assert polytope.mass == 0 and not start.any() and not vertices.any() and not point.any()


def test_pruning_moves_keep_the_prediction_and_end_at_independent_fits():
    # SPEC §5: each move keeps A c, removes one atom and does not raise Σ c; the last support's
    # columns are linearly independent (checked by matrix_rank, not by the moves' own SVD)
    from sklearn_convexrelu.optimal_set._polytope import pruning_moves

    rng = np.random.default_rng(4)
    A = rng.standard_normal((6, 11))  # 11 atoms in 6 dimensions: at least 5 moves
    coef = rng.uniform(0.5, 1.5, 11)
    original = coef.copy()

    def null_vector(support):
        _, sv, vt = np.linalg.svd(A[:, support])
        return vt[-1] if np.sum(sv > 1e-10 * sv[0]) < support.size else None

    steps = list(pruning_moves(coef, null_vector))
    assert np.array_equal(coef, original)  # the caller's coefficients are not modified
    assert len(steps) >= 5
    previous = coef
    for step in steps:
        assert np.all(step >= 0) and np.count_nonzero(step) == np.count_nonzero(previous) - 1
        assert np.allclose(A @ step, A @ coef, rtol=1e-10, atol=1e-10)
        assert step.sum() <= previous.sum() + 1e-12
        previous = step
    support = np.flatnonzero(steps[-1])
    assert np.linalg.matrix_rank(A[:, support]) == support.size


@pytest.mark.parametrize("loss_name, n_outputs", [("squared_error", 1), ("log_loss", 3)])
def test_the_optimal_set_from_the_solvers_faces_is_the_cold_one(loss_name, n_outputs):
    # issue 12: after a first-order solve the analysis starts its cone projections from the
    # solver's faces; κ, the atoms and the min-norm network are those of cold projections
    from sklearn_convexrelu.arrangements import sample_arrangements
    from sklearn_convexrelu.optimal_set import optimal_set_from_fit
    from sklearn_convexrelu.program import cone_kappas, encode_targets, get_loss
    from sklearn_convexrelu.solvers import solve_convex_program

    rng = np.random.default_rng(6)
    X = rng.standard_normal((60, 3))
    X_aug = _augment(X, True)
    arrangements = sample_arrangements(X, 60, random_state=0)
    y = np.sin(2 * X[:, 0]) + X[:, 1] if loss_name == "squared_error" else np.argmax(X, axis=1)
    Y = encode_targets(y, loss_name, n_outputs)
    loss, s, alpha = get_loss(loss_name, n_outputs), np.ones(60), 1e-2
    fit = solve_convex_program(X_aug, arrangements, Y, s, loss, alpha, fit_intercept=True, hidden_bias=True,
                               tol=1e-6, max_iter=1000, solver="first_order")
    assert fit.program is not None and fit.program.patterns is arrangements.patterns
    R = loss.residual(fit.prediction, Y, s)
    for threshold in (0.0, 0.9 * alpha):
        warm = fit.program.cone_kappas(R, threshold)
        cold = cone_kappas(X_aug, arrangements.patterns, R, threshold)
        assert np.array_equal(warm[2], cold[2])
        assert np.allclose(warm[0], cold[0], rtol=1e-12, atol=1e-15)
        assert np.allclose(warm[1], cold[1], rtol=1e-10, atol=1e-14)
    sets = [
        optimal_set_from_fit(X_aug, arrangements, Y, s, loss, alpha, fit.solution, fit.prediction,
                             fit_intercept=True, hidden_bias=True, tol=1e-6, solver=solver)
        for solver in (None, fit.program)
    ]
    assert sets[0].n_atoms == sets[1].n_atoms and sets[0].dimension == sets[1].dimension
    assert sets[1].objective == pytest.approx(sets[0].objective, rel=1e-12)
    outputs = [opt.min_norm_network().output(X) for opt in sets]
    assert np.allclose(outputs[1], outputs[0], rtol=1e-9, atol=1e-12)
