"""An explicit non-increasing path from any network to a global minimum (SPEC §6 (iii)).

The path has four stages, each a continuous curve in the weights of a network of fixed width
``m`` along which the objective (NC) never increases:

1. **balance** — neuron ``(w̃, a)`` moves to ``(γ w̃, a/γ)`` with ``γ`` going linearly from 1 to
   ``√(|a|/‖Pw̃‖)`` (``P`` keeps the penalised coordinates): same function, and
   ``γ ↦ γ²‖Pw̃‖² + a²/γ²`` decreases towards its minimum. Neurons computing nothing shrink to
   zero. With an unpenalised hidden bias, a neuron active on every sample also hands the slack
   of its bias to the output intercept (same prediction, same penalty).
2. **merge** — balanced neurons are blocks ``v = |a| w̃`` of the convex program (SPEC §3.1). In
   each group with the same pattern and sign, the first block moves to the group's sum ``V``
   and the others to zero along straight lines, inside the group's cone. The prediction is
   fixed and ``t ↦ Σ_j ‖P v_j(t)‖`` is convex with its minimum ``‖PV‖`` at ``t = 1``, hence
   non-increasing.
3. **prune** — with unit atoms ``â_j = v_j/‖Pv_j‖``, fits ``f_j = σ_j(X̃â_j)_+`` and coefficients
   ``c_j``, while the fits are linearly dependent (modulo constants when the intercept is
   fitted) move ``c ← c − tβ`` along a null vector with ``Σ β_j ≥ 0`` until a coefficient
   vanishes (SPEC §5): same prediction, linearly non-increasing penalty ``alpha Σ c_j``.
4. **convex** — the straight segment from the pruned point to a pruned optimal solution of the
   convex program (over all patterns, or the sampled ones plus the network's own) in the
   space of (prediction, penalty): along it the objective is convex in ``t`` and minimal at
   ``t = 1``, so it never increases. The segment is followed with as few neurons as possible:
   the *lifted fits* ``(Π f_k, 1)`` of the atoms of both endpoints span a space of dimension
   ``ρ``; a basis of ``ρ`` atoms represents every point of the segment with non-negative
   coefficients, and it is updated by simplex pivots where a coefficient reaches zero (the
   entering atom takes over the leaving atom's neuron, both zero at that time). Width ``ρ``
   therefore suffices — at most ``|supports of both endpoints|`` (the plain segment) and at
   most the dimension of all fits plus one (see
   :func:`~sklearn_convexrelu.landscape.no_spurious_valleys_width`).
"""

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import scipy.linalg

from ..network import TwoLayerReLUNetwork
from ..optimal_set import Atoms
from ..optimal_set._polytope import pruning_moves
from .._tolerances import RANK_RTOL, SAME_ATOM_ATOL
from ._problem import blocks_to_network, get_arrangements, neuron_blocks, resolve, solve_optimum, with_patterns
from .._sklearn_compat import validate_params
from ._params import COUNT, NETWORK_CONSTRAINTS

__all__ = ["LandscapePath", "path_to_global_minimum"]



@dataclass(frozen=True, eq=False)
class LandscapePath:
    """A path of networks of fixed width from a network to a global minimum.

    Returned by :func:`path_to_global_minimum`: the networks sampled along a continuous path on
    which the objective (NC) never increases, with the stage of the construction each belongs to.

    Attributes
    ----------
    networks : tuple of TwoLayerReLUNetwork
        The path sampled at ``len(objectives)`` points; the first is the given network (padded
        with zero neurons to ``width``), the last a global minimum.
    objectives : ndarray of shape (n_points_total,)
        Objective (NC) of every network, non-increasing up to rounding.
    stages : ndarray of shape (n_points_total,), dtype object
        ``"start"``, ``"balance"``, ``"merge"``, ``"prune"`` or ``"convex"`` for every point.
    width : int
        Number of neurons of every network on the path.
    required_width : int
        Width the construction needs from this network: the number of neurons after stage 3
        or the rank ``ρ`` of the lifted fits of stage 4, whichever is larger.
    optimum : float
        Objective of the convex optimum the path ends at.
    exact : bool
        Whether that optimum is over all activation patterns (a global minimum of (NC)); else
        over the sampled patterns plus the network's own.

    See Also
    --------
    path_to_global_minimum : Computes it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import path_to_global_minimum, train_nonconvex
    >>> X = np.linspace(-1, 1, 6)[:, None]
    >>> y = np.sin(3 * X[:, 0])
    >>> start = train_nonconvex(X, y, 1e-2, 6, max_iter=50, random_state=0).network
    >>> path = path_to_global_minimum(start, X, y, 1e-2)
    >>> path.stages[0], path.width, path.exact
    ('start', 6, True)
    >>> path.end.n_neurons
    6
    >>> bool(np.isclose(path.objectives[-1], path.optimum))
    True
    """

    networks: tuple
    objectives: np.ndarray
    stages: np.ndarray
    width: int
    required_width: int
    optimum: float
    exact: bool

    @property
    def end(self):
        """The global minimum the path ends at."""
        return self.networks[-1]

    def __repr__(self):
        return (
            f"LandscapePath(n_points={len(self.networks)}, width={self.width}, "
            f"required_width={self.required_width}, start={self.objectives[0]:.6g}, "
            f"end={self.objectives[-1]:.6g}, optimum={self.optimum:.6g}, exact={self.exact})"
        )


def _lifted(problem, atoms):
    """Lifted fits ``(Π f_k, 1)`` of the atoms, shape (n_samples + 1, n_atoms) (``Π`` centres when
    the intercept is fitted)."""
    fits = atoms.fits(problem.X_aug)
    centred = fits - fits.mean(axis=0, keepdims=True) if problem.fit_intercept else fits
    return np.vstack([centred, np.ones((1, len(atoms)))])


def _from_blocks(problem, blocks, signs):
    """Atoms, coefficients ``‖Pv‖`` and rows of the blocks with a nonzero penalised part."""
    return Atoms.from_blocks(blocks, np.where(signs >= 0, 1, -1), n_penalized=problem.n_penalized)


def _null_vector(matrix):
    """A unit null vector of ``matrix`` (columns = atoms), or ``None`` if its columns are independent."""
    if matrix.shape[1] == 0:
        return None
    _, sv, vt = np.linalg.svd(matrix, full_matrices=True)
    rank = int(np.sum(sv > RANK_RTOL * max(sv.max(initial=0.0), np.finfo(float).tiny)))
    return vt[-1] if rank < matrix.shape[1] else None


def _prune(problem, atoms, coefs):
    """Pruning moves of SPEC §5: coefficient vectors after each move (first one included)."""
    fits = _lifted(problem, atoms)[:-1]
    return [coefs.copy(), *pruning_moves(coefs, lambda live: _null_vector(fits[:, live]))]


def _reduce(lifted):
    """Coordinates of the lifted fits in an orthonormal basis of their span: full row rank ``ρ``."""
    u, sv, _ = np.linalg.svd(lifted, full_matrices=False)
    return u[:, sv > RANK_RTOL * sv.max(initial=0.0)].T @ lifted


def _complete_basis(reduced, n_start):
    """The first ``n_start`` (independent) columns plus the best-conditioned completion to a basis.

    The added columns are chosen by QR with column pivoting on what the first columns leave out.
    """
    q, _ = np.linalg.qr(reduced[:, :n_start])
    rest = reduced[:, n_start:] - q @ (q.T @ reduced[:, n_start:])
    _, _, pivots = scipy.linalg.qr(rest, mode="economic", pivoting=True)
    return list(range(n_start)) + [n_start + int(j) for j in pivots[: reduced.shape[0] - n_start]]


def _pivot(tableau, row, column):
    """Gauss-Jordan pivot of an exact tableau (list of rows of Fractions) on one entry."""
    pivot = tableau[row][column]
    tableau[row] = [value / pivot for value in tableau[row]]
    for i, other in enumerate(tableau):
        factor = other[column]
        if i != row and factor:
            tableau[i] = [a - factor * b for a, b in zip(other, tableau[row])]


def _walk(reduced, start, end, basis):
    """Follow ``q(t) = L((1−t) start + t end)`` with basic non-negative coefficients.

    The pivots are those of the dual simplex method on the right-hand side ``q(t)``: when a basic
    coefficient reaches zero it leaves and an atom with a negative entry in the leaving row of
    ``B⁻¹L`` enters (Bland's rule: smallest indices, which cannot cycle). The walk runs in exact
    rational arithmetic on the floating-point data, so the many degenerate pivots near the end of
    the segment (where the starting atoms all vanish at once) are decided exactly; the
    coefficients are non-negative with a bounded sum (the penalty), so rounding them back to
    floats is accurate.

    Parameters
    ----------
    reduced : ndarray of shape (rank, n_atoms)
        Lifted fits with full row rank.
    start, end : ndarray of shape (n_atoms,)
        Non-negative coefficients of the endpoints.
    basis : list of int
        ``rank`` independent columns; ``start`` is supported on them.

    Returns
    -------
    list of (t0, t1, basis, coefs0, coefs1)
        Segments on which the coefficients (over all atoms) move linearly; ``basis[r]`` is the
        atom of tableau row ``r``, so one pivot changes one position.
    """
    rank, n_atoms = reduced.shape
    start, delta = [Fraction(v) for v in start], [Fraction(b) - Fraction(a) for a, b in zip(start, end)]
    tableau = []
    for row in reduced:
        exact = [Fraction(v) for v in row]
        tableau.append(exact + [sum(a * b for a, b in zip(exact, start)), sum(a * b for a, b in zip(exact, delta))])
    basic = [None] * rank
    for column in basis:
        row = next(i for i in range(rank) if basic[i] is None and tableau[i][column] != 0)
        _pivot(tableau, row, column)
        basic[row] = column
    t, segments = Fraction(0), []
    for _ in range(50 * (n_atoms + 1) ** 2):
        values = [r[n_atoms] + t * r[n_atoms + 1] for r in tableau]
        blocking = [(values[i] / -r[n_atoms + 1], basic[i], i) for i, r in enumerate(tableau) if r[n_atoms + 1] < 0]
        step, _, leave = min(blocking, default=(Fraction(2), None, None))
        t1 = min(t + step, Fraction(1))
        segments.append((float(t), float(t1), list(basic),
                         _coefs(basic, values, n_atoms), _coefs(basic, [r[n_atoms] + t1 * r[n_atoms + 1] for r in tableau], n_atoms)))
        if t1 == 1:
            return segments
        entering = [j for j in range(n_atoms) if j not in basic and tableau[leave][j] < 0]
        if not entering:
            raise RuntimeError("The simplex walk found no entering atom: the segment left the cone of fits.")
        _pivot(tableau, leave, entering[0])
        basic[leave] = entering[0]
        t = t1
    raise RuntimeError("The simplex walk did not reach the end of the segment.")


def _coefs(basic, values, n_atoms):
    coefs = np.zeros(n_atoms)
    coefs[basic] = np.maximum([float(v) for v in values], 0.0)
    return coefs


class _Recorder:
    """Collects the networks of the path and their objectives."""

    def __init__(self, problem):
        self.problem = problem
        self.networks, self.stages = [], []

    def add(self, network, stage):
        self.networks.append(network)
        self.stages.append(stage)

    def add_blocks(self, blocks, signs, target, stage):
        """The network of blocks whose intercept reproduces the prediction ``target``."""
        fits = signs @ np.maximum(self.problem.X_aug @ blocks.T, 0.0).T
        intercept = np.mean(target - fits) if self.problem.fit_intercept else 0.0
        self.add(blocks_to_network(self.problem, blocks, signs, [intercept]), stage)


def _pad(network, width):
    extra = width - network.n_neurons
    return TwoLayerReLUNetwork(
        np.hstack([network.hidden_weights, np.zeros((network.n_features, extra))]),
        np.append(network.hidden_bias, np.zeros(extra)),
        np.vstack([network.output_weights, np.zeros((extra, network.n_outputs))]),
        network.output_bias,
    )


def _balance(problem, network, ts, recorder):
    """Stage 1; returns the balanced blocks ``|a| w̃`` and signs."""
    W = neuron_blocks(problem, network)  # (m, d)
    a = network.output_weights[:, 0]
    c = network.output_bias[0]
    P = problem.n_penalized
    slack = problem.penalty.bias_slack(problem.X_aug, W)  # moved to the intercept, as blocks_to_network does
    shifted = W.copy()
    shifted[:, -1] -= slack
    norms = np.linalg.norm(shifted[:, :P], axis=1)
    computes = (norms > 0) & (a != 0) & np.any(problem.X_aug @ shifted.T > 0, axis=0)
    gamma_end = np.sqrt(np.abs(a) / np.where(computes, norms, 1.0))
    p = problem.X.shape[1]
    for t in ts[1:]:
        gamma = np.where(computes, 1.0 + t * (gamma_end - 1.0), 1.0 - t)
        hidden = gamma[:, None] * (W - t * slack[:, None] * np.eye(W.shape[1])[-1])
        out = np.where(computes, a / np.where(computes, gamma, 1.0), (1.0 - t) * a)
        # the slack handed over and the shrinking of idle neurons only change constants
        intercept = c + np.mean(np.maximum(problem.X_aug @ W.T, 0.0) @ a - np.maximum(problem.X_aug @ hidden.T, 0.0) @ out)
        bias = hidden[:, p] if problem.hidden_bias else np.zeros(len(a))
        recorder.add(TwoLayerReLUNetwork(hidden[:, :p].T, bias, out, [intercept]), "balance")
    signs = np.where(a >= 0, 1.0, -1.0)
    return np.where(computes[:, None], np.abs(a)[:, None] * shifted, 0.0), signs


def _merge(problem, blocks, signs, target, ts, recorder):
    """Stage 2; returns the merged blocks (one nonzero block per pattern and sign)."""
    patterns = problem.X_aug @ blocks.T >= 0
    alive = np.linalg.norm(blocks, axis=1) > 0
    keys = np.packbits(np.vstack([patterns, signs > 0]), axis=0).T
    _, leader_of = np.unique(keys, axis=0, return_inverse=True)
    leader_of = leader_of.reshape(-1)
    merged = np.zeros_like(blocks)
    np.add.at(merged, leader_of, np.where(alive[:, None], blocks, 0.0))
    first = np.full(leader_of.max() + 1 if leader_of.size else 0, -1)
    for j in np.flatnonzero(alive)[::-1]:  # first alive neuron of each group leads
        first[leader_of[j]] = j
    end = np.zeros_like(blocks)
    leaders = first[first >= 0]
    end[leaders] = merged[leader_of[leaders]]
    if np.array_equal(end, blocks):
        return blocks
    for t in ts[1:]:
        recorder.add_blocks((1 - t) * blocks + t * end, signs, target, "merge")
    return end


def _optimum_atoms(problem, atoms, arrangements, tol):
    """Pruned optimal solution over ``arrangements`` plus the patterns of ``atoms``."""
    generators = atoms.directions.T
    arrangements = with_patterns(arrangements, problem.X_aug @ generators >= 0, generators)
    optimum = solve_optimum(problem, arrangements, tol=tol)
    target_atoms, coefs, _ = _from_blocks(problem, optimum.blocks, optimum.signs)
    coefs = _prune(problem, target_atoms, coefs)[-1]
    keep = coefs > 0
    return target_atoms.subset(keep), coefs[keep], optimum


@validate_params({**NETWORK_CONSTRAINTS, "n_neurons": [COUNT, None], "n_points": [COUNT]}, prefer_skip_nested_validation=True)
def path_to_global_minimum(
    network, X, y, alpha=None, *, n_neurons=None, n_points=50, loss=None, sample_weight=None, hidden_bias=None,
    penalize_hidden_bias=None, fit_intercept=None, arrangements="auto", max_arrangements=2000, n_arrangements=200,
    random_state=None, tol=1e-9,
):
    """A continuous path of networks, along which (NC) never increases, to a global minimum.

    Follows the construction of SPEC §6 (iii) (see the module docstring for each stage and why
    the objective cannot increase): balance, merge same-pattern same-sign neurons, prune to
    linearly independent fits, then move along the convex segment to an optimal solution of the
    convex program, mapped back to networks. The width is fixed along the path: the network is
    padded with zero neurons to ``n_neurons`` (adding zero neurons is an invariance).

    The width needed is ``required_width``: the rank ``ρ`` of the lifted fits of stage 4 (at most
    the number of neurons after stage 3 plus those of the optimal solution, and at most the
    dimension of the span of all fits plus one). When ``n_neurons`` is smaller a ``ValueError``
    says which width is needed. With sampled patterns the path ends at the optimum over the
    sample plus the network's own patterns.

    Parameters
    ----------
    network : TwoLayerReLUNetwork, fitted ConvexReLURegressor, ConvexReLUClassifier, ConvexReLURegressorCV, ConvexReLUClassifierCV, MLPRegressor or MLPClassifier
        One output. See :func:`~sklearn_convexrelu.landscape.optimality_certificate` for the
        inputs and the objective each one defines.
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,)
        Targets, as for :func:`~sklearn_convexrelu.landscape.optimality_certificate`.
    alpha : float, default=None
        Regularisation of (NC); read from the model when ``None``.
    n_neurons : int, default=None
        Width of the networks along the path; the network's own width when ``None``.
    n_points : int, default=50
        Points sampled on each of the balance, merge and convex stages (every pruning move and
        every pivot of stage 4 is also included).
    loss : {"squared_error", "log_loss"}, default=None
        Loss of (NC); read from the model when ``None``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the data term of (NC).
    hidden_bias : bool, default=None
        Whether the hidden neurons have a bias; read from the model when ``None``.
    penalize_hidden_bias : bool, default=None
        Whether the hidden bias is penalised (inside ``‖w_j‖``); read from the model when
        ``None`` (``False`` for an MLP).
    fit_intercept : bool, default=None
        Whether the output intercept is fitted (free, unpenalised); read from the model when
        ``None``.
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        Patterns of the convex program whose optimum ends the path.
    max_arrangements : int, default=2000
        With ``"auto"``, the largest bound on the number of patterns for which they are
        enumerated exactly (they are sampled beyond).
    n_arrangements : int, default=200
        Number of Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling.
    tol : float, default=1e-9
        Tolerance of the convex solve.

    Returns
    -------
    path : LandscapePath
        The networks along the path, their objectives and stages.

    Raises
    ------
    ValueError
        If ``n_neurons`` is smaller than the width the construction needs.

    See Also
    --------
    no_spurious_valleys_width : The width from which every network has such a path.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import path_to_global_minimum, train_nonconvex
    >>> X = np.linspace(-1, 1, 6)[:, None]
    >>> y = np.sin(3 * X[:, 0])
    >>> start = train_nonconvex(X, y, 1e-2, 6, max_iter=50, random_state=0).network
    >>> path = path_to_global_minimum(start, X, y, 1e-2)
    >>> bool(np.all(np.diff(path.objectives) <= 1e-9))
    True
    """
    net, problem = resolve(
        network, X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept,
    )
    if net.n_outputs != 1:
        raise ValueError("path_to_global_minimum supports networks with one output.")
    width = net.n_neurons if n_neurons is None else int(n_neurons)
    if width < net.n_neurons:
        raise ValueError(f"n_neurons={width} is smaller than the network's width {net.n_neurons}.")
    base = get_arrangements(problem, arrangements, max_arrangements=max_arrangements,
                            n_arrangements=n_arrangements, random_state=random_state)
    ts = np.linspace(0.0, 1.0, max(int(n_points), 2))
    start = _pad(net, width)
    recorder = _Recorder(problem)
    recorder.add(start, "start")
    target = start.output(problem.X)[:, 0]
    blocks, signs = _balance(problem, start, ts, recorder)
    blocks = _merge(problem, blocks, signs, target, ts, recorder)
    atoms, coefs, slots = _from_blocks(problem, blocks, signs)
    for coefs in _prune(problem, atoms, coefs)[1:]:
        recorder.add_blocks(_slot_blocks(width, slots, atoms, coefs), _slot_signs(width, slots, atoms), target, "prune")
    live = coefs > 0
    atoms, coefs, slots = atoms.subset(live), coefs[live], slots[live]
    goal, goal_coefs, optimum = _optimum_atoms(problem, atoms, base, tol)
    required = _convex_stage(problem, (atoms, coefs, slots), (goal, goal_coefs), optimum, target, width, ts, recorder)
    networks = tuple(recorder.networks)
    objectives = np.array([problem.objective(n) for n in networks])
    return LandscapePath(networks, objectives, np.array(recorder.stages, dtype=object), width, required,
                         float(optimum.objective), bool(base.exact))


def _slot_blocks(width, slots, atoms, coefs):
    blocks = np.zeros((width, atoms.directions.shape[1]))
    blocks[slots] = coefs[:, None] * atoms.directions
    return blocks


def _slot_signs(width, slots, atoms):
    signs = np.ones(width)
    signs[slots] = atoms.signs
    return signs


def _convex_stage(problem, pruned, goal, optimum, target, width, ts, recorder):
    """Stage 4: the simplex walk along the lifted segment; returns the width it needs."""
    (atoms, coefs, slots), (goal, goal_coefs) = pruned, goal
    k0 = len(coefs)
    # an atom of the optimum that the pruned network already has is one atom of the union
    same = (atoms.signs[:, None] == goal.signs[None, :]) & (
        np.linalg.norm(atoms.directions[:, None, :] - goal.directions[None, :, :], axis=2) <= SAME_ATOM_ATOL)
    shared = same.any(axis=0)
    union = atoms.concat(goal.subset(~shared))
    start = np.append(coefs, np.zeros(np.count_nonzero(~shared)))
    end = np.append(same[:, shared] @ goal_coefs[shared], goal_coefs[~shared])
    reduced = _reduce(_lifted(problem, union))
    basis = _complete_basis(reduced, k0) if reduced.size else []
    required = len(basis)
    if required > width:
        raise ValueError(
            f"The path from this network needs width {required} (rank of the lifted fits of the pruned "
            f"network and of an optimal network), but n_neurons={width}. Pass n_neurons={required} "
            "(zero neurons are added); no_spurious_valleys_width gives a width that works from every network."
        )
    segments = _walk(reduced, start, end, basis) if basis else [(0.0, 1.0, [], start, end)]
    free = [j for j in range(width) if j not in set(slots)]
    slot_of = dict(zip(range(k0), slots))
    slot_of.update(zip(basis[k0:], free))
    z0, z1 = target, optimum.prediction[:, 0]
    # the global grid, every breakpoint, and a few points inside every segment (some are short
    # and steep, e.g. where weight moves between two nearly parallel atoms)
    inner = np.linspace(0.0, 1.0, len(ts) // 10 + 2)
    grid = np.union1d(ts, np.concatenate([t0 + inner * (t1 - t0) for t0, t1, *_ in segments]))
    previous = segments[0][2]
    for t0, t1, seg_basis, c0, c1 in segments:
        for left, right in zip(previous, seg_basis):  # the entering atom takes the leaving one's neuron
            if left != right:
                slot_of[right] = slot_of.pop(left)
        previous = seg_basis
        for t in grid[(grid > t0) & (grid <= t1)]:
            weight = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
            c = (1 - weight) * c0 + weight * c1
            blocks, signs = np.zeros((width, union.directions.shape[1])), np.ones(width)
            for atom in seg_basis:
                blocks[slot_of[atom]] = c[atom] * union.directions[atom]
                signs[slot_of[atom]] = union.signs[atom]
            recorder.add_blocks(blocks, signs, (1 - t) * z0 + t * z1, "convex")
    return required
