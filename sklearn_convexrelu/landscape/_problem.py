"""Plumbing shared by the landscape tools: which objective, which patterns, which optimum (SPEC §1-§4).

Every tool accepts a :class:`~sklearn_convexrelu.TwoLayerReLUNetwork`, a fitted
``ConvexReLURegressor``/``ConvexReLUClassifier``, a fitted CV estimator (examined at its
``alpha_``) or a fitted scikit-learn ``MLPRegressor`` /
binary ``MLPClassifier`` with one ReLU hidden layer, and turns it into a network and a
:class:`_Problem`: the data, the encoded targets, the loss, ``alpha`` and the three switches that
fix the objective (NC) being examined.
"""

from dataclasses import dataclass

import numpy as np

from .._preparation import arrangement_mode, augment, build_arrangements, encode_labels, encode_values, positive_rows
from .._tolerances import LANDSCAPE_SLACK_RTOL, NEURON_ZERO_RTOL
from ..arrangements import Arrangements, first_distinct_columns, pattern_keys
from ..network import ConvexSolution, TwoLayerReLUNetwork
from ..network import blocks_to_network as _blocks_to_network
from ..optimal_set import optimal_set_from_fit
from ..program.losses import encode_targets, get_loss
from ..program.certificate import program_dual_point
from ..program.operators import forward
from ..program.penalty import GroupNormPenalty
from ..solvers import CvxpyProgram, FirstOrderSolver
from ..solvers.polish import convex_objective, polish



@dataclass(frozen=True, eq=False)
class _Problem:
    """The objective (NC) of SPEC §1 on fixed data.

    ``X``, ``Y`` and ``s`` keep only samples of positive weight (the others do not enter the
    objective); ``s`` sums to their number.
    """

    X: np.ndarray
    Y: np.ndarray
    s: np.ndarray
    loss_name: str
    alpha: float
    hidden_bias: bool
    penalize_hidden_bias: bool
    fit_intercept: bool
    source: str

    @property
    def X_aug(self):
        return augment(self.X, self.hidden_bias)

    @property
    def loss(self):
        return get_loss(self.loss_name, self.Y.shape[1])

    @property
    def penalty(self):
        """The group-norm penalty: whether the hidden bias is inside the norm (SPEC §1, §6 (ii))."""
        return GroupNormPenalty(self.penalize_hidden_bias)

    @property
    def n_penalized(self):
        """Number of leading block coordinates inside the group norm."""
        return self.penalty.n_penalized(self.X.shape[1] + self.hidden_bias)

    def objective(self, network):
        """Objective (NC) of ``network`` on the data of the problem."""
        data = self.loss.value(network.output(self.X), self.Y, self.s)
        return data + self.penalty.network_value(network, self.alpha)

    def kappas(self, patterns, R, threshold):
        """κ of SPEC §4 for this objective's dual constraint (:meth:`GroupNormPenalty.kappas`)."""
        return self.penalty.kappas(self.X_aug, patterns, R, threshold)

    def dual_point(self, patterns, prediction, threshold=None):
        """The dual point of a prediction over ``patterns`` (:func:`~sklearn_convexrelu.program.program_dual_point`).

        κ above ``threshold`` (default ``alpha``) are exact, with their maximising directions in
        ``scan = (kappas, directions, exact)``.
        """
        return program_dual_point(
            self.X_aug, patterns, self.Y, self.s, self.alpha, self.loss, prediction, fit_intercept=self.fit_intercept,
            penalty=self.penalty, threshold=threshold, bound_only=False,
        )

    def describe(self):
        """Plain-language statement of the objective."""
        loss = "(1/2n) Σ s_i (f(x_i) − y_i)²" if self.loss_name == "squared_error" else "(1/n) Σ s_i ℓ(f(x_i), y_i)"
        if not self.hidden_bias:
            bias = "no hidden biases"
        elif self.penalize_hidden_bias:
            bias = "penalised hidden biases (inside ‖w_j‖)"
        else:
            bias = "unpenalised hidden biases"
        intercept = "an unpenalised output intercept" if self.fit_intercept else "no output intercept"
        return (
            f"{loss} + (alpha/2) Σ_j (‖w_j‖² + a_j²) with alpha={self.alpha:.6g}, {bias} and "
            f"{intercept}, over two-layer ReLU networks of any width (objective of {self.source})"
        )


def _mlp_kind(model):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    if isinstance(model, MLPRegressor):
        return "regressor"
    if isinstance(model, MLPClassifier):
        return "classifier"
    return None


def _estimator_alpha(model):
    """``alpha`` of a fitted estimator of this package (``alpha_`` for the CV estimators), or ``None``
    if ``model`` is not one of them."""
    from .._base import _BaseConvexReLU
    from .._cv import _BaseConvexReLUCV

    if isinstance(model, _BaseConvexReLUCV):
        return getattr(model, "alpha_", None)
    if isinstance(model, _BaseConvexReLU):
        return model.alpha
    return None


def _is_convex_estimator(model):
    from .._base import _BaseConvexReLU
    from .._cv import _BaseConvexReLUCV

    return isinstance(model, (_BaseConvexReLU, _BaseConvexReLUCV))


def _from_model(model, X, y, sample_weight):
    """Network, targets and the objective's defaults read from ``model``."""
    y = np.asarray(y)
    kind = _mlp_kind(model)
    if kind is not None:
        network = TwoLayerReLUNetwork.from_mlp(model)
        if network.n_outputs != 1:
            raise ValueError(
                "Only single-output MLPs are supported: a fully connected vector-output network is "
                "not the block-sparse model of the convex program (SPEC §9)."
            )
        total = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
        # MLP: (1/Σs) Σ s_i ℓ + (A/2Σs) Σ‖W‖², biases unpenalised  ⇒  alpha = A / Σs  (SPEC §1)
        defaults = dict(alpha=model.alpha / total, hidden_bias=True, penalize_hidden_bias=False, fit_intercept=True)
        if kind == "regressor":
            if model.loss != "squared_error":
                raise ValueError(f"Only loss='squared_error' MLPs are supported, got {model.loss!r}.")
            return network, encode_values(y), dict(defaults, loss="squared_error"), "MLPRegressor"
        if model.classes_.size != 2:
            raise ValueError("Only binary MLPClassifiers are supported (one logistic output).")
        Y = encode_labels(y, model.classes_)
        return network, Y, dict(defaults, loss="log_loss"), "MLPClassifier"
    if _is_convex_estimator(model):
        if not hasattr(model, "network_"):
            raise ValueError(f"The {type(model).__name__} is not fitted: call fit first.")
        # a CV estimator is examined at the alpha_ it chose, the objective of its network_
        defaults = dict(
            alpha=_estimator_alpha(model), loss=model.loss, hidden_bias=model.hidden_bias,
            penalize_hidden_bias=True, fit_intercept=model.fit_intercept,
        )
        Y = encode_labels(y, model.classes_) if hasattr(model, "classes_") else encode_values(y)
        return model.network_, Y, defaults, type(model).__name__
    if isinstance(model, TwoLayerReLUNetwork):
        return model, None, dict(alpha=None, loss="squared_error", hidden_bias=True, penalize_hidden_bias=True, fit_intercept=True), "the given network"
    raise TypeError(
        "Expected a TwoLayerReLUNetwork, a fitted ConvexReLURegressor/ConvexReLUClassifier (or their "
        "CV counterparts) or a "
        f"fitted MLPRegressor/MLPClassifier with one ReLU hidden layer; got {type(model).__name__}."
    )


def _check_network(network, hidden_bias, fit_intercept):
    if not hidden_bias and np.any(network.hidden_bias != 0):
        raise ValueError("hidden_bias=False but the network has nonzero hidden biases.")
    if not fit_intercept and np.any(network.output_bias != 0):
        raise ValueError("fit_intercept=False but the network has a nonzero output bias.")
    if np.any(np.count_nonzero(network.output_weights, axis=1) > 1):
        raise ValueError(
            "Some neurons feed several outputs: the convex program covers networks whose second "
            "layer is block-sparse (each neuron feeds one output, SPEC §9)."
        )


def resolve(model, X, y, alpha=None, *, loss=None, sample_weight=None, hidden_bias=None,
            penalize_hidden_bias=None, fit_intercept=None):
    """The network and the objective (NC) a landscape tool examines.

    Explicit arguments override the values read from ``model``.

    Returns
    -------
    network : TwoLayerReLUNetwork
    problem : _Problem
    """
    X = np.asarray(X, dtype=float)
    network, Y, settings, source = _from_model(model, X, y, sample_weight)
    overrides = dict(alpha=alpha, loss=loss, hidden_bias=hidden_bias, penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept)
    settings.update({key: value for key, value in overrides.items() if value is not None})
    if settings["alpha"] is None or not settings["alpha"] > 0:
        raise ValueError(f"alpha must be a positive float; got {settings['alpha']!r}.")
    if Y is None:
        Y = encode_targets(y, settings["loss"], network.n_outputs)
    problem = make_problem(X, Y, sample_weight, source=source, **settings)
    if Y.shape[1] != network.n_outputs:
        raise ValueError(f"y encodes {Y.shape[1]} output(s) but the network has {network.n_outputs}.")
    _check_network(network, problem.hidden_bias, problem.fit_intercept)
    return network, problem


# Defaults of the objective's switches in the tools that take data and ``alpha``.
_OBJECTIVE_DEFAULTS = dict(loss="squared_error", hidden_bias=True, penalize_hidden_bias=True, fit_intercept=True)


def data_problem(X, y, alpha, *, loss, sample_weight, hidden_bias, penalize_hidden_bias, fit_intercept, source):
    """The one-output objective of a tool given data and ``alpha``: a float, or a fitted estimator.

    A fitted ``ConvexReLURegressor``/``ConvexReLUClassifier`` (or CV estimator, at its ``alpha_``)
    gives ``alpha``, ``loss``, ``hidden_bias`` and ``fit_intercept`` (its hidden bias is penalised)
    and encodes ``y`` as it was fitted; a switch left at its default (``_OBJECTIVE_DEFAULTS``)
    takes the estimator's value, one set to anything else must agree with it.
    """
    settings = dict(loss=loss, hidden_bias=hidden_bias, penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept)
    if _is_convex_estimator(alpha):
        model = alpha
        if not hasattr(model, "network_"):
            raise ValueError(f"The {type(model).__name__} is not fitted: call fit first.")
        own = dict(loss=model.loss, hidden_bias=model.hidden_bias, penalize_hidden_bias=True, fit_intercept=model.fit_intercept)
        for key, value in settings.items():
            if value != _OBJECTIVE_DEFAULTS[key] and value != own[key]:
                raise ValueError(f"{key}={value!r} disagrees with the {type(model).__name__}'s {key}={own[key]!r}.")
        settings, alpha, source = own, _estimator_alpha(model), type(model).__name__
        Y = encode_labels(y, model.classes_) if hasattr(model, "classes_") else encode_values(y)
    else:
        Y = encode_targets(y, settings["loss"], 1)
    if Y.shape[1] != 1:
        raise ValueError(f"This tool supports one output; y encodes {Y.shape[1]}.")
    return make_problem(X, Y, sample_weight, alpha=alpha, source=source, **settings)


def make_problem(X, Y, sample_weight, *, alpha, loss, hidden_bias, penalize_hidden_bias, fit_intercept, source):
    """A :class:`_Problem` from raw data and encoded targets ``Y`` of shape (n_samples, n_outputs)."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"X must have shape (n_samples, n_features) matching y; got {X.shape} and {Y.shape}.")
    if hidden_bias and not penalize_hidden_bias and not fit_intercept:
        raise ValueError(
            "An unpenalised hidden bias needs fit_intercept=True: a neuron (0, b, a) is then a "
            "free constant, so the output intercept is implied."
        )
    X, Y, s = positive_rows(X, np.asarray(Y, dtype=float), sample_weight)  # as the estimators (SPEC §1)
    return _Problem(
        X, Y, s, loss, float(alpha), bool(hidden_bias),
        bool(penalize_hidden_bias or not hidden_bias), bool(fit_intercept), source,
    )


def get_arrangements(problem, arrangements="auto", *, max_arrangements=2000, n_arrangements=200, random_state=None):
    """All patterns (``"exact"``), sampled ones (``"sample"``), ``"auto"`` or a given set (SPEC §2).

    ``"auto"`` is the rule of :func:`~sklearn_convexrelu.convex_relu_path` and the CV estimators
    (:func:`~sklearn_convexrelu._preparation.arrangement_mode`): all patterns when their bound is at
    most ``max_arrangements``, else ``n_arrangements`` sampled gates (the tools' documented
    default, 200, is larger than the estimators' 100). A given :class:`Arrangements` must have been
    built on the problem's rows and is used as is.
    """
    if isinstance(arrangements, Arrangements):
        if arrangements.hidden_bias != problem.hidden_bias or arrangements.patterns.shape[0] != problem.X.shape[0]:
            raise ValueError("The given arrangements were not built on these data with this hidden_bias.")
        return arrangements
    mode = arrangement_mode(
        arrangements, problem.X, hidden_bias=problem.hidden_bias, max_arrangements=max_arrangements, beyond="sample",
    )
    return build_arrangements(
        problem.X, mode, hidden_bias=problem.hidden_bias, n_arrangements=n_arrangements, random_state=random_state,
    )


def with_patterns(arrangements, patterns, generators):
    """``arrangements`` plus the given patterns that it lacks (``exact`` is kept)."""
    if patterns.shape[1] == 0:
        return arrangements
    known = set(pattern_keys(arrangements.patterns))
    new = [j for j, key in enumerate(pattern_keys(patterns)) if key not in known]
    new = np.asarray(new, dtype=int)[first_distinct_columns(patterns[:, new])]
    return Arrangements(
        np.hstack([arrangements.patterns, patterns[:, new]]),
        np.hstack([arrangements.generators, generators[:, new]]),
        arrangements.exact, arrangements.hidden_bias, arrangements.n_sampled,
    )


def neuron_blocks(problem, network):
    """Hidden weights ``w̃_j`` of shape (n_neurons, n_dims) in ``X̃`` coordinates."""
    W = network.hidden_weights
    return (np.vstack([W, network.hidden_bias]) if problem.hidden_bias else W).T


def own_patterns(problem, network):
    """Distinct patterns ``1[X̃w̃_j ≥ 0]`` of the neurons that compute something (SPEC §6 (i)).

    A neuron with a zero output weight or zero pattern is ignored (its pattern is arbitrary).

    Returns
    -------
    patterns : ndarray of shape (n_samples, n_own), dtype bool
    generators : ndarray of shape (n_dims, n_own)
    """
    blocks = neuron_blocks(problem, network)
    patterns = problem.X_aug @ blocks.T >= 0
    alive = np.any(network.output_weights != 0, axis=1) & np.any(blocks != 0, axis=1) & patterns.any(axis=0)
    patterns, blocks = patterns[:, alive], blocks[alive]
    first = first_distinct_columns(patterns)
    return patterns[:, first], blocks[first].T


def own_pairs(problem, network):
    """Distinct (pattern, sign, output) of the neurons that compute something (SPEC §6 (i)).

    Returns
    -------
    patterns : ndarray of shape (n_samples, n_pairs), dtype bool
    signs : ndarray of shape (n_pairs,)
    outputs : ndarray of shape (n_pairs,)
    """
    blocks = neuron_blocks(problem, network)
    patterns = problem.X_aug @ blocks.T >= 0
    outputs = np.argmax(network.output_weights != 0, axis=1)
    weights = network.output_weights[np.arange(network.n_neurons), outputs]
    alive = (weights != 0) & np.any(blocks != 0, axis=1) & patterns.any(axis=0)
    keys = np.vstack([patterns, weights > 0, outputs[None, :] == np.arange(network.n_outputs)[:, None]])
    first = np.flatnonzero(alive)[first_distinct_columns(keys[:, alive])]
    return patterns[:, first], np.where(weights[first] > 0, 1.0, -1.0), outputs[first]


def blocks_to_network(problem, blocks, signs, intercept, outputs=None):
    """Balanced network with one neuron per block (SPEC §3.1), zero neurons for zero blocks.

    :func:`sklearn_convexrelu.network.blocks_to_network` with the problem's data, penalty and
    hidden bias; blocks below ``NEURON_ZERO_RTOL`` (relative) are zero neurons.

    Parameters
    ----------
    problem : _Problem
    blocks : ndarray of shape (n_neurons, n_dims)
        Each block lies in the cone of its own pattern on the data.
    signs : ndarray of shape (n_neurons,)
    intercept : ndarray of shape (n_outputs,)
    outputs : ndarray of shape (n_neurons,), default=None
        Output fed by each neuron (all zero when ``None``).

    Returns
    -------
    TwoLayerReLUNetwork
    """
    return _blocks_to_network(
        blocks, signs, intercept, hidden_bias=problem.hidden_bias, outputs=outputs, penalty=problem.penalty,
        X_aug=problem.X_aug, zero_rtol=NEURON_ZERO_RTOL,
    )


@dataclass(frozen=True, eq=False)
class _Optimum:
    """Polished solution of the convex program on fixed patterns."""

    patterns: np.ndarray
    generators: np.ndarray
    blocks: np.ndarray  # (n_blocks, d) nonzero blocks
    signs: np.ndarray  # (n_blocks,)
    outputs: np.ndarray  # (n_blocks,)
    pattern_index: np.ndarray  # (n_blocks,) column of ``patterns`` of each block
    intercept: np.ndarray  # (n_outputs,)
    objective: float
    prediction: np.ndarray  # (n, n_outputs)
    status: str

    def network(self, problem):
        return blocks_to_network(problem, self.blocks, self.signs, self.intercept, self.outputs)

    def optimal_set(self, problem, arrangements, tol):
        """The set of all optimal networks (SPEC §5), as the estimators build it after their solve.

        Only for a penalised hidden bias (or none): with an unpenalised bias the tight directions
        form segments, not the finitely many atoms of an :class:`~sklearn_convexrelu.optimal_set.OptimalSet`.
        """
        K, d, P = self.intercept.size, problem.X_aug.shape[1], self.patterns.shape[1]
        stacked = np.zeros((2, K, d, P))
        stacked[(self.signs < 0).astype(int), self.outputs, :, self.pattern_index] = self.blocks
        solution = ConvexSolution(self.generators, stacked[0], stacked[1], self.intercept, problem.hidden_bias)
        return optimal_set_from_fit(
            problem.X_aug, arrangements, problem.Y, problem.s, problem.loss, problem.alpha, solution, self.prediction,
            fit_intercept=problem.fit_intercept, hidden_bias=problem.hidden_bias, tol=tol,
        )


def _polished(problem, patterns, stacked, intercept):
    """Polished blocks (2, K, d, P), intercept, objective and prediction (SPEC §3.1)."""
    X_aug = problem.X_aug
    V, U, c = polish(X_aug, patterns, stacked[0], stacked[1], intercept, problem.Y, problem.s, problem.loss,
                     fit_intercept=problem.fit_intercept)
    objective, prediction = convex_objective(X_aug, patterns, V, U, c, problem.Y, problem.s, problem.loss,
                                             problem.alpha, penalty=problem.penalty)
    return np.stack([V, U]), np.asarray(c, dtype=float), float(objective), prediction


def _raw_solutions(problem, arrangements, tol, max_iter, solver, init=None):
    """The package's solvers for the problem's loss and penalty, in turn (SPEC §7).

    ``"auto"``: the first-order solver (stopped on the certified relative gap ``tol``, warm-started
    from ``init``) when the hidden bias is penalised, then cvxpy when it did not converge. With the
    MLP objective's unpenalised bias cvxpy alone: the first-order solver supports that penalty, but
    its κ is a small least-squares problem per block, not a cached cone projection, and
    certifying a width-20 MLPRegressor on 300 × 3 data took 40 s against 6 s with Clarabel.
    Yields each :class:`~sklearn_convexrelu.solvers.SolveResult`.
    """
    X_aug, patterns = problem.X_aug, arrangements.patterns
    if solver == "auto" and problem.penalty.penalize_hidden_bias:
        raw = FirstOrderSolver(
            X_aug, patterns, problem.Y, problem.s, problem.loss, fit_intercept=problem.fit_intercept,
            generators=arrangements.generators, penalty=problem.penalty,
        ).solve(problem.alpha, tol=tol, max_iter=max_iter, init=init)
        yield raw
        if raw.converged:
            return
    program = CvxpyProgram(
        X_aug, patterns, problem.Y, problem.s, problem.loss,
        fit_intercept=problem.fit_intercept, penalty=problem.penalty,
    )
    yield program.solve(problem.alpha, tol=tol, max_iter=max_iter)


def _raw_optimum(problem, arrangements, tol, max_iter, solver):
    """The last of :func:`_raw_solutions`: the first-order solution if it converged, else cvxpy's."""
    for raw in _raw_solutions(problem, arrangements, tol, max_iter, solver):
        pass
    return raw


def dual_predictions(problem, arrangements, tol, network=None):
    """Raw predictions of the program over ``arrangements`` solved to relative gap ``tol``.

    The dual point of a network's own prediction is only as accurate as the prediction: at a
    relative gap ``δ`` the prediction is off by about ``√δ``, and near interpolation
    (``‖X̃‖ / (n alpha)`` large) the dual direction, hence ``κ/alpha``, is off by orders more
    (SPEC §4: a network optimal to 1e-8 can have ``κ = 7.6 alpha`` and a gap of 87 %). A
    solver's raw solution stopped at a certified gap ``tol`` has a dual point whose lower bound
    is within ``tol`` of the optimum, whatever its prediction's accuracy, so a network within
    ``ε`` of the optimum is certified to ``ε + tol``. The first-order solver starts from the
    network's own blocks (``network``); a solver that fails yields nothing.

    Returns
    -------
    list of ndarray of shape (n_samples, n_outputs)
    """
    from cvxpy.error import SolverError

    init = None if network is None else _network_blocks(problem, arrangements, network)
    predictions = []
    solutions = _raw_solutions(problem, arrangements, tol, 1000, "auto", init)
    while True:
        try:
            raw = next(solutions)
        except StopIteration:
            return predictions
        except (RuntimeError, SolverError):  # a failed solve only loses its candidate
            return predictions
        blocks = raw.blocks_pos - raw.blocks_neg
        if np.all(np.isfinite(blocks)) and np.all(np.isfinite(raw.intercept)):
            predictions.append(forward(problem.X_aug, arrangements.patterns, blocks) + raw.intercept)


def _network_blocks(problem, arrangements, network):
    """The network's convex image (SPEC §3.1) on the columns of ``arrangements``, as a warm start.

    Neurons whose pattern is not among the arrangements' columns (a tie no cell has) are left out.
    """
    image = network.to_convex(problem.X, hidden_bias=problem.hidden_bias)
    column = {key: i for i, key in enumerate(pattern_keys(arrangements.patterns))}
    where = np.array([column.get(key, -1) for key in pattern_keys(problem.X_aug @ image.gates >= 0)], dtype=int)
    K, d, P = network.n_outputs, problem.X_aug.shape[1], arrangements.patterns.shape[1]
    blocks = np.zeros((2, K, d, P))
    found = where >= 0  # distinct patterns of the network on distinct columns
    blocks[0][:, :, where[found]] = image.blocks_pos[:, :, found]
    blocks[1][:, :, where[found]] = image.blocks_neg[:, :, found]
    return blocks[0], blocks[1], np.asarray(network.output_bias, dtype=float)


def solve_optimum(problem, arrangements, *, tol=1e-8, max_iter=1000, solver="auto"):
    """Solve the convex program of ``problem`` over ``arrangements``, polished (SPEC §3).

    ``solver``: ``"auto"`` (the first-order solver when the penalty allows, see
    :func:`_raw_optimum`) or ``"cvxpy"``.
    """
    patterns = arrangements.patterns
    raw = _raw_optimum(problem, arrangements, tol, max_iter, solver)
    stacked, c, objective, prediction = _polished(problem, patterns, np.stack([raw.blocks_pos, raw.blocks_neg]), raw.intercept)
    # blocks on constraints that are not tight at the dual optimum are zero at the exact optimum
    # (complementary slackness): drop the solver's residue there unless that costs objective
    level = problem.alpha * (1 - LANDSCAPE_SLACK_RTOL)
    kappas = problem.dual_point(patterns, prediction, threshold=level).scan[0]  # (K, P, 2)
    tight = np.moveaxis(kappas >= level, -1, 0)[:, :, None, :]  # (2, K, 1, P)
    cleaned = _polished(problem, patterns, np.where(tight, stacked, 0.0), c)
    if cleaned[2] <= objective + 1e-12 * abs(objective):
        stacked, c, objective, prediction = cleaned
    side, k, i = np.nonzero(np.linalg.norm(stacked, axis=2) > 0)
    return _Optimum(
        patterns, arrangements.generators, stacked[side, k, :, i], np.where(side == 0, 1.0, -1.0), k, i,
        c, objective, prediction, raw.status,
    )


def restricted_optimum(problem, patterns, signs, outputs, tol=1e-10, solver="cvxpy"):
    """Optimum of (C-ReLU) with one block per given (pattern, sign, output) (SPEC §6 (i)).

    The package's solvers restricted to these blocks (``allowed_blocks``): ``"cvxpy"``
    (:class:`~sklearn_convexrelu.solvers.CvxpyProgram`, the default: these programs are small and
    interior point reaches ``tol=1e-10``, below the first-order solver's floor of about 1e-9) or
    ``"first_order"`` (:class:`~sklearn_convexrelu.solvers.FirstOrderSolver`; cvxpy when it does not
    converge to ``tol``).

    Returns
    -------
    objective : float
    network : TwoLayerReLUNetwork
    """
    K, Q = problem.Y.shape[1], signs.size
    allowed = np.zeros((K, Q, 2), dtype=bool)
    allowed[outputs, np.arange(Q), (signs < 0).astype(int)] = True
    raw = None
    if solver == "first_order":
        raw = FirstOrderSolver(
            problem.X_aug, patterns, problem.Y, problem.s, problem.loss, fit_intercept=problem.fit_intercept,
            penalty=problem.penalty, allowed_blocks=allowed,
        ).solve(problem.alpha, tol=tol)
    if raw is None or not raw.converged:
        program = CvxpyProgram(
            problem.X_aug, patterns, problem.Y, problem.s, problem.loss, fit_intercept=problem.fit_intercept,
            penalty=problem.penalty, allowed_blocks=allowed,
        )
        raw = program.solve(problem.alpha, tol=tol)
    return _restricted_result(problem, patterns, np.stack([raw.blocks_pos, raw.blocks_neg]), raw.intercept)


def _restricted_result(problem, patterns, blocks, intercept):
    """Polished objective and network of a solution of the restricted program."""
    X_aug = problem.X_aug
    V, U, intercept = polish(X_aug, patterns, blocks[0], blocks[1], intercept, problem.Y, problem.s, problem.loss,
                             fit_intercept=problem.fit_intercept)
    objective, _ = convex_objective(X_aug, patterns, V, U, intercept, problem.Y, problem.s, problem.loss,
                                    problem.alpha, penalty=problem.penalty)
    polished = np.stack([V, U])
    side, k, q = np.nonzero(np.linalg.norm(polished, axis=2) > 0)
    network = blocks_to_network(problem, polished[side, k, :, q], np.where(side == 0, 1.0, -1.0), intercept, k)
    return float(objective), network
