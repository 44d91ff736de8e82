"""How wide a network must be: ``m*`` and the width without spurious valleys (SPEC §3, §6 (iv))."""

from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from ..network import TwoLayerReLUNetwork
from .nonconvex import _train_batch
from .._tolerances import RANK_RTOL, WIDTH_OPTIMAL_RTOL
from .path import _from_blocks, _prune
from ._problem import blocks_to_network, data_problem, get_arrangements, solve_optimum
from .._sklearn_compat import Interval, validate_params
from ._params import COUNT, DATA_CONSTRAINTS, POSITIVE, TRAINING_CONSTRAINTS

__all__ = ["GradientDescentExperiment", "WidthReport", "gradient_descent_experiment", "no_spurious_valleys_width"]



@dataclass(frozen=True, eq=False)
class WidthReport:
    """Widths at which two-layer ReLU networks reach the global optimum of (NC).

    Returned by :func:`no_spurious_valleys_width`: the fewest neurons an optimal network needs
    (``m*``) and the width from which every network has a non-increasing path to a global
    minimum (no spurious valleys).

    Attributes
    ----------
    m_star : int
        Fewest neurons of an optimal network found: ``m*`` when ``m_star_proven``, else an upper
        bound (the best of the optimal polytope's vertices found when they are too many to
        enumerate; with an unpenalised hidden bias, the computed optimum pruned to linearly
        independent fits).
    m_star_proven : bool
        Whether no optimal network with fewer neurons exists: every vertex of the optimal polytope
        was enumerated (all patterns enumerated, penalised hidden bias).
    threshold : int
        Width from which (NC) has no spurious valleys by the construction of
        :func:`~sklearn_convexrelu.landscape.path_to_global_minimum`: ``fit_dimension + 1``
        (1 when the zero network is optimal).
    fit_dimension : int
        Dimension of the span of all the fits ``D_i X̃ u`` a neuron can produce on the data,
        modulo constants when the output intercept is fitted (at most ``n_samples``).
    n_samples : int
    optimum : float
        Global optimum of (NC) (over the patterns used).
    exact : bool
        Whether all activation patterns were used.
    n_tight_atoms : int
        Number of atoms of the optimal set (SPEC §5), the neuron directions an optimal network can
        use (0 with an unpenalised hidden bias, where they are not finitely many).
    minimal_network : TwoLayerReLUNetwork
        An optimal network with ``m_star`` neurons.

    See Also
    --------
    no_spurious_valleys_width : Computes it.

    Examples
    --------
    ``|x|`` needs two ReLU neurons, ``(x)_+ + (−x)_+``:

    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import no_spurious_valleys_width
    >>> X = np.linspace(-1, 1, 7)[:, None]
    >>> report = no_spurious_valleys_width(X, np.abs(X[:, 0]), 1e-2)
    >>> report.m_star, report.m_star_proven, report.minimal_network.n_neurons
    (2, True, 2)
    >>> report.threshold == report.fit_dimension + 1
    True
    """

    m_star: int
    m_star_proven: bool
    threshold: int
    fit_dimension: int
    n_samples: int
    optimum: float
    exact: bool
    n_tight_atoms: int
    minimal_network: TwoLayerReLUNetwork

    def __repr__(self):
        proven = "" if self.m_star_proven else " (upper bound)"
        return (
            f"WidthReport(m_star={self.m_star}{proven}, threshold={self.threshold}, "
            f"fit_dimension={self.fit_dimension}, n_samples={self.n_samples}, exact={self.exact})"
        )


def _fit_dimension(problem, patterns):
    """``dim span {D_i X̃ u}`` over the patterns, modulo constants with an intercept."""
    X_aug = problem.X_aug
    fits = (patterns[:, :, None] * X_aug[:, None, :]).reshape(X_aug.shape[0], -1)
    if problem.fit_intercept:
        fits = fits - fits.mean(axis=0)
    sv = np.linalg.svd(fits, compute_uv=False)
    return int(np.sum(sv > RANK_RTOL * max(sv.max(initial=0.0), np.finfo(float).tiny)))


@validate_params({**DATA_CONSTRAINTS, "max_subsets": [COUNT]}, prefer_skip_nested_validation=True)
def no_spurious_valleys_width(
    X, y, alpha, *, loss="squared_error", sample_weight=None, hidden_bias=True, penalize_hidden_bias=True,
    fit_intercept=True, arrangements="auto", max_arrangements=2000, n_arrangements=200, random_state=None,
    max_subsets=20_000, tol=1e-9,
):
    """``m*`` and the width from which the loss landscape of (NC) has no spurious valleys.

    **m\\*** (SPEC §3) is the fewest neurons of a globally optimal network; (NC) with width
    ``m ≥ m*`` has the optimal value of the convex program, narrower networks are strictly worse.
    Every optimal network uses only the *tight atoms* — the unit directions ``û`` with
    ``σ rᵀ(X̃û)_+ = alpha`` at the (unique) optimal dual vector — with non-negative weights that
    reproduce the optimal prediction (SPEC §5). So ``m*`` is the smallest support of such a
    representation; it is attained at a vertex of the optimal polytope. The computed optimum's
    :class:`~sklearn_convexrelu.optimal_set.OptimalSet` (the one the estimators build, with its
    tight set decided at the measured accuracy of the dual) gives the atoms and the polytope; its
    vertex with the fewest positive coefficients is the minimal network
    (:meth:`~sklearn_convexrelu.optimal_set.OptimalSet.minimal_network`). The result is *proven*
    when every vertex was enumerated (at most ``max_subsets`` candidate bases) over all patterns
    with a penalised hidden bias. With an unpenalised bias the tight directions form segments,
    not finitely many atoms: only an upper bound is reported, the computed optimum pruned to
    linearly independent fits.

    **No spurious valleys.** From any network, the path of
    :func:`~sklearn_convexrelu.landscape.path_to_global_minimum` (balance, merge, prune, then the
    convex segment followed by simplex pivots) is continuous, never increases the objective and
    ends at a global minimum, using at most ``ρ`` neurons, where ``ρ`` is the rank of the
    *lifted fits* ``(Πf, 1)`` of the atoms it uses (``Π`` removes constants when the intercept is
    fitted). All fits lie in the span of the ``D_i X̃ u``, of dimension ``fit_dimension``, so
    ``ρ ≤ fit_dimension + 1 ≤ n_samples + 1``: at width ``m ≥ fit_dimension + 1`` every sublevel
    set is connected to a global minimum, i.e. there are no spurious valleys (SPEC §6 (iv)). This
    is a sufficient width; valleys may disappear earlier. If the zero network is optimal the
    path only shrinks neurons and any width works (``threshold = 1``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,)
        Targets, as for :func:`~sklearn_convexrelu.landscape.optimality_certificate`.
    alpha : float or fitted estimator
        Regularisation strength; or a fitted ``ConvexReLURegressor``/``ConvexReLUClassifier`` or CV
        estimator, whose ``alpha`` (``alpha_``), ``loss``, ``hidden_bias`` and ``fit_intercept``
        define the objective and whose class encoding applies to ``y`` (switches left at their
        defaults take its values; others must agree with them).
    loss : {"squared_error", "log_loss"}, default="squared_error"
        Loss of (NC).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the data term of (NC).
    hidden_bias : bool, default=True
        Whether the hidden neurons have a bias.
    penalize_hidden_bias : bool, default=True
        Whether the hidden bias is penalised (inside ``‖w_j‖``).
    fit_intercept : bool, default=True
        Whether the output intercept is fitted (free, unpenalised).
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        Patterns of the convex program, as in :func:`optimality_certificate`.
    max_arrangements : int, default=2000
        With ``"auto"``, the largest bound on the number of patterns for which they are
        enumerated exactly (they are sampled beyond).
    n_arrangements : int, default=200
        Number of Gaussian gates drawn when sampling.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling.
    max_subsets : int, default=20000
        Largest number of subsets of the atoms (candidate bases of the optimal polytope) examined
        to enumerate its vertices; beyond it vertices are sampled and ``m*`` is an upper bound.
    tol : float, default=1e-9
        Tolerance of the convex solve.

    Returns
    -------
    report : WidthReport
        ``m*``, the no-spurious-valleys threshold and a minimal optimal network.

    See Also
    --------
    path_to_global_minimum : The path from a network to a global minimum.
    gradient_descent_experiment : How often gradient descent reaches the optimum, per width.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import no_spurious_valleys_width
    >>> X = np.linspace(-1, 1, 7)[:, None]
    >>> report = no_spurious_valleys_width(X, np.abs(X[:, 0]), 1e-2)
    >>> report.m_star <= report.fit_dimension < report.threshold <= 7
    True
    """
    problem = data_problem(
        X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept, source="the data",
    )
    arr = get_arrangements(problem, arrangements, max_arrangements=max_arrangements,
                           n_arrangements=n_arrangements, random_state=random_state)
    optimum = solve_optimum(problem, arr, tol=tol)
    proven, n_atoms, network = False, 0, None
    if problem.penalty.penalize_hidden_bias or not problem.hidden_bias:
        # m* is the fewest positive coefficients at a vertex of the optimal polytope (SPEC §5)
        optimal_set = optimum.optimal_set(problem, arr, tol)
        vertices, proven = optimal_set._vertices(100, 0, max_bases=max_subsets)
        network, n_atoms = optimal_set._coefficient_network(vertices[0]), optimal_set.n_atoms
        if not problem.objective(network) <= optimum.objective + WIDTH_OPTIMAL_RTOL * abs(optimum.objective):
            network, proven = None, False  # the set does not describe this optimum: no claim
    if network is None:  # an upper bound: the computed optimum pruned to linearly independent fits
        atoms, coefs, _ = _from_blocks(problem, optimum.blocks, optimum.signs)
        coefs = _prune(problem, atoms, coefs)[-1]
        live = coefs > 0
        network = _network(problem, atoms.subset(live), coefs[live], optimum.prediction[:, 0])
    m_star = network.n_neurons
    fit_dimension = _fit_dimension(problem, arr.patterns)
    return WidthReport(
        int(m_star), bool(proven and arr.exact), fit_dimension + 1 if m_star else 1, fit_dimension,
        problem.X.shape[0], float(optimum.objective), bool(arr.exact), n_atoms, network,
    )


def _network(problem, atoms, coefs, prediction):
    """Balanced network of atoms with coefficients whose intercept reproduces ``prediction``."""
    blocks = coefs[:, None] * atoms.directions
    intercept = np.mean(prediction - atoms.fits(problem.X_aug) @ coefs) if problem.fit_intercept else 0.0
    return blocks_to_network(problem, blocks, atoms.signs, [intercept])


@dataclass(frozen=True, eq=False)
class GradientDescentExperiment:
    """Objectives reached by gradient descent from random starts, per width.

    Returned by :func:`gradient_descent_experiment`: the objective reached by every run, against
    the global optimum computed from the convex program.

    Attributes
    ----------
    widths : ndarray of shape (n_widths,)
    objectives : ndarray of shape (n_widths, n_starts)
    converged : ndarray of shape (n_widths, n_starts), dtype bool
        Whether the run stopped at the gradient tolerance (an approximate stationary point).
    networks : tuple of tuple of TwoLayerReLUNetwork
        The trained networks, ``networks[w][s]`` for width ``widths[w]`` and start ``s``.
    optimum : float
        Global optimum of (NC) (convex program over all patterns, or the sampled ones).
    rtol : float
        A run succeeds when its objective is within ``rtol`` (relative) of ``optimum``.
    gradient_norms : ndarray of shape (n_widths, n_starts)
        Largest entry of the least-norm gradient where each run stopped
        (``NonconvexFit.gradient_norm``).

    See Also
    --------
    gradient_descent_experiment : Computes it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import gradient_descent_experiment
    >>> X = np.linspace(-1, 1, 7)[:, None]
    >>> experiment = gradient_descent_experiment(X, np.abs(X[:, 0]), 1e-2, [1, 2], n_starts=2,
    ...                                          max_iter=200, random_state=0)
    >>> experiment.objectives.shape
    (2, 2)
    >>> bool(np.all(experiment.relative_gaps >= -1e-6))  # no run beats the global optimum
    True
    """

    widths: np.ndarray
    objectives: np.ndarray
    converged: np.ndarray
    networks: tuple
    optimum: float
    rtol: float
    gradient_norms: np.ndarray = None

    @property
    def relative_gaps(self):
        """``(objective − optimum) / optimum`` of every run, shape (n_widths, n_starts)."""
        return (self.objectives - self.optimum) / abs(self.optimum)

    @property
    def success_rate(self):
        """Fraction of runs within ``rtol`` of the optimum, per width, shape (n_widths,)."""
        return np.mean(self.relative_gaps <= self.rtol, axis=1)


@validate_params(
    {
        **DATA_CONSTRAINTS, **TRAINING_CONSTRAINTS, "widths": ["array-like"], "n_starts": [COUNT], "rtol": [POSITIVE],
        "tol": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def gradient_descent_experiment(
    X, y, alpha, widths, *, n_starts=20, rtol=1e-4, optimizer="gd", learning_rate="auto", max_iter=5000,
    tol=1e-8, loss="squared_error", sample_weight=None, hidden_bias=True, penalize_hidden_bias=True,
    fit_intercept=True, init_scale=1.0, arrangements="auto", random_state=None,
):
    """Train (NC) by gradient descent from ``n_starts`` random starts at each width (SPEC §6 (iv)).

    The empirical side of :func:`no_spurious_valleys_width`: below ``m*`` no run can reach the
    optimum; at width ``≥ threshold`` a non-increasing path to the optimum exists from every
    point, so runs that stop above it stop at flat stationary points (e.g. with dead or
    duplicated neurons) rather than in valleys. See :func:`train_nonconvex` for the optimizers.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The training data of the objective.
    y : array-like of shape (n_samples,)
        Targets, as for :func:`~sklearn_convexrelu.landscape.optimality_certificate`.
    alpha : float or fitted estimator
        Regularisation strength; or a fitted ``ConvexReLURegressor``/``ConvexReLUClassifier`` or CV
        estimator, whose ``alpha`` (``alpha_``), ``loss``, ``hidden_bias`` and ``fit_intercept``
        define the objective and whose class encoding applies to ``y`` (switches left at their
        defaults take its values; others must agree with them).
    widths : sequence of int
        Widths of the networks trained.
    n_starts : int, default=20
        Number of random initialisations per width.
    rtol : float, default=1e-4
        Relative distance to the optimum counted as success.
    optimizer : {"gd", "adam"}, default="gd"
        The optimiser, as in :func:`train_nonconvex`.
    learning_rate : float or "auto", default="auto"
        Step size, as in :func:`train_nonconvex`.
    max_iter : int, default=5000
        Maximum number of iterations of each run.
    tol : float, default=1e-8
        Gradient tolerance of each run, as in :func:`train_nonconvex`.
    loss : {"squared_error", "log_loss"}, default="squared_error"
        The objective, as in :func:`train_nonconvex`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples in the data term of (NC).
    hidden_bias : bool, default=True
        Whether the hidden neurons have a bias.
    penalize_hidden_bias : bool, default=True
        Whether the hidden bias is penalised (inside ``‖w_j‖``).
    fit_intercept : bool, default=True
        Whether the output intercept is fitted (free, unpenalised).
    init_scale : float, default=1.0
        Scale of the Gaussian initialisation.
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        Patterns of the convex program giving the optimum.
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisations and of the pattern sampling.

    Returns
    -------
    experiment : GradientDescentExperiment
        The objectives reached, per width and start, and the global optimum.

    See Also
    --------
    train_nonconvex : One run.
    no_spurious_valleys_width : The width from which no run can be trapped in a valley.

    Examples
    --------
    One neuron cannot fit ``|x|`` (it needs two), so no run of width 1 reaches the optimum:

    >>> import numpy as np
    >>> from sklearn_convexrelu.landscape import gradient_descent_experiment
    >>> X = np.linspace(-1, 1, 7)[:, None]
    >>> experiment = gradient_descent_experiment(X, np.abs(X[:, 0]), 1e-2, [1, 4], n_starts=2,
    ...                                          max_iter=500, random_state=0)
    >>> float(experiment.success_rate[0])
    0.0
    >>> bool(experiment.success_rate[1] > 0)
    True
    """
    widths_array = np.asarray(widths)
    if (widths_array.ndim != 1 or widths_array.size == 0 or not np.issubdtype(widths_array.dtype, np.number)
            or np.any(widths_array != np.round(widths_array)) or np.any(widths_array < 1)):
        raise ValueError(f"widths must be a non-empty sequence of positive integers; got {widths!r}.")
    widths = [int(m) for m in widths_array]
    problem = data_problem(
        X, y, alpha, loss=loss, sample_weight=sample_weight, hidden_bias=hidden_bias,
        penalize_hidden_bias=penalize_hidden_bias, fit_intercept=fit_intercept, source="the data",
    )
    optimum = solve_optimum(problem, get_arrangements(problem, arrangements, random_state=random_state)).objective
    rng = check_random_state(random_state)
    objectives, converged, networks, gradient_norms = [], [], [], []
    for width in widths:
        fits = _train_batch(problem, int(width), n_starts, optimizer=optimizer, learning_rate=learning_rate,
                           max_iter=max_iter, tol=tol, init_scale=init_scale, random_state=rng)
        objectives.append([fit.objective for fit in fits])
        converged.append([fit.converged for fit in fits])
        gradient_norms.append([fit.gradient_norm for fit in fits])
        networks.append(tuple(fit.network for fit in fits))
    return GradientDescentExperiment(np.asarray(widths), np.array(objectives), np.array(converged), tuple(networks),
                                     float(optimum), float(rtol), np.array(gradient_norms))
