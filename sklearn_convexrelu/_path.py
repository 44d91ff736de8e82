"""Regularisation path of the convex two-layer ReLU program (SPEC §4, §7, §8).

:func:`convex_relu_path` solves (C-ReLU) on one fixed pattern set for a decreasing grid of
``alpha`` values starting at ``alpha_max``, the smallest ``alpha`` at which the zero network (with
its optimal output intercept) is optimal. The cvxpy program is compiled once per pattern set and
re-solved for every ``alpha`` (a DPP parameter); the first-order solver keeps one solver object and
starts every point from the previous solution. Points at or above ``alpha_max`` are known in
closed form and are not solved at all.
"""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_X_y

from ._sklearn_compat import Interval, StrOptions, validate_params
from ._preparation import check_program_size, cvxpy_second_solve, encode_classes, encode_values, prepare, resolve_solver
from .arrangements import Arrangements
from .network import ConvexSolution
from .program.certificate import dual_vector, duality_certificate
from .program.cones import cone_kappas, project_onto_cone
from .program.losses import get_loss
from .program.operators import adjoint
from .solvers import CvxpyProgram, FirstOrderSolver, solve_convex_program
from .solvers._threads import blas_threads

__all__ = ["ConvexReLUPath", "convex_relu_path"]



@dataclass(frozen=True, eq=False)
class ConvexReLUPath:
    """Solutions of the convex program along a regularisation path.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        Regularisation strengths, in decreasing order.
    alpha_max : float
        Smallest ``alpha`` at which the zero network (with its optimal intercept) is optimal over
        :attr:`arrangements`; with exact patterns, over every network of any width.
    solutions : tuple of ConvexSolution
        The polished solution at every ``alpha``.
    objectives : ndarray of shape (n_alphas,)
        Training objective of every solution (equal to that of its network).
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap of every solution (SPEC §4).
    certificates : tuple of Certificate
    n_neurons : ndarray of shape (n_alphas,), dtype int
        Number of nonzero blocks (neurons of the network) of every solution.
    n_iter : ndarray of shape (n_alphas,), dtype int
        Solver iterations at every ``alpha`` (0 where the zero network is known to be optimal).
    solvers : tuple of str
        Solver that produced every point (``"alpha_max"`` where no solve was needed).
    arrangements : Arrangements
        The pattern set shared by every point of the path.
    """

    alphas: np.ndarray
    alpha_max: float
    solutions: tuple
    objectives: np.ndarray
    dual_gaps: np.ndarray
    certificates: tuple
    n_neurons: np.ndarray
    n_iter: np.ndarray
    solvers: tuple
    arrangements: Arrangements

    @property
    def networks(self):
        """tuple of TwoLayerReLUNetwork: the balanced network of every solution (SPEC §3.1)."""
        return tuple(solution.to_network() for solution in self.solutions)

    def __repr__(self):
        return (
            f"ConvexReLUPath(n_alphas={self.alphas.size}, alpha_max={self.alpha_max:.4g}, "
            f"n_patterns={self.arrangements.n_patterns}, exact={self.arrangements.exact})"
        )


@dataclass(frozen=True)
class _PathPoint:
    """One solved point of a path (the picklable part of a ``ConvexFit``)."""

    solution: ConvexSolution
    objective: float
    certificate: object
    n_iter: int
    solver: str
    converged: bool


def _zero_prediction(Y, s, loss, fit_intercept):
    """Prediction of the zero network with its optimal output intercept, shape (n_samples, n_outputs)."""
    Z = np.zeros_like(Y, dtype=float)
    return Z + loss.optimal_intercept(Z, Y, s) if fit_intercept else Z


def _alpha_max(X_aug, patterns, Y, s, loss, fit_intercept):
    """``max_{i,σ,k} κ_{i,σ,k}(r₀)`` at the dual vector ``r₀`` of the zero network (SPEC §4).

    The zero blocks with the optimal intercept satisfy the optimality conditions iff every
    ``κ_{i,σ,k}(r₀) ≤ alpha``, so this is the exact threshold. Only blocks whose unprojected norm
    exceeds the κ of the largest one are projected (``‖Π_K(a)‖ ≤ ‖a‖``).
    """
    if patterns.shape[1] == 0:
        return 0.0
    R = dual_vector(loss, Y, s, np.zeros_like(Y, dtype=float), fit_intercept=fit_intercept)[2]  # r₀
    A = adjoint(X_aug, patterns, R)  # (K, d, P): X̃ᵀ D_i r_k
    k, i = np.unravel_index(np.argmax(np.linalg.norm(A, axis=1)), (A.shape[0], A.shape[2]))
    top = max(np.linalg.norm(project_onto_cone(X_aug, patterns[:, i], sign * A[k, :, i])) for sign in (1.0, -1.0))
    kappas, _, _ = cone_kappas(X_aug, patterns, R, threshold=top)
    return float(max(top, kappas.max()))


def _alpha_grid(alpha_max, n_alphas, eps):
    """``n_alphas`` values from ``alpha_max`` down to ``eps · alpha_max``, log-spaced."""
    if alpha_max <= np.finfo(float).resolution:  # constant targets: the zero network is always optimal
        return np.full(n_alphas, np.finfo(float).resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def _check_alphas(alphas):
    """Validate an explicit grid; return it sorted in decreasing order."""
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim > 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
        raise ValueError(f"alphas must be a non-empty 1-D array of positive finite values, got {alphas!r}.")
    return np.sort(alphas.reshape(-1))[::-1]


def _zero_point(X_aug, arrangements, Y, s, loss, alpha, *, fit_intercept, hidden_bias, tol):
    """The zero network, optimal for ``alpha ≥ alpha_max``, with its certificate."""
    K, d, P = Y.shape[1], X_aug.shape[1], arrangements.n_patterns
    prediction = _zero_prediction(Y, s, loss, fit_intercept)
    objective = loss.value(prediction, Y, s)
    certificate = duality_certificate(
        X_aug, arrangements.patterns, Y, s, alpha, loss, prediction, objective,
        fit_intercept=fit_intercept, exact=arrangements.exact, tol=tol,
    )
    blocks = np.zeros((K, d, P))
    solution = ConvexSolution(arrangements.generators, blocks, blocks, prediction[0], hidden_bias)
    return _PathPoint(solution, objective, certificate, 0, "alpha_max", True)


@blas_threads(None)  # one BLAS thread per task, as in an estimator's fit (a no-op under the caller's limit)
def _solve_segment(
    X_aug, arrangements, Y, s, loss, alphas, *, fit_intercept, hidden_bias, solver, tol, max_iter, verbose,
    reference_fallback=False,
):
    """Solve a decreasing run of ``alphas`` on one program (one joblib task), warm-starting each
    point from the previous one (SPEC §7; the cvxpy program only skips recompilation).

    With ``reference_fallback`` (``solver="auto"`` resolved to the first-order solver on the squared
    loss), a point whose certified gap misses ``tol`` is re-solved by cvxpy, the reference, compiled
    once on first need: the first-order solver can stall at small ``alpha`` on many patterns.
    """
    if solver == "cvxpy":  # compiled once; every alpha re-solves the DPP program (SPEC §3)
        program = CvxpyProgram(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept)
    else:  # keeps its caches (cone faces) across alphas
        program = FirstOrderSolver(
            X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept, generators=arrangements.generators,
        )
    common = dict(fit_intercept=fit_intercept, hidden_bias=hidden_bias, tol=tol, max_iter=max_iter, verbose=verbose)
    points, previous, reference = [], None, None
    for alpha in alphas:
        fit = solve_convex_program(
            X_aug, arrangements, Y, s, loss, alpha, solver=solver, program=program, init=previous, **common,
        )
        if reference_fallback and fit.certificate.relative_gap > tol:
            if reference is None:
                reference = CvxpyProgram(X_aug, arrangements.patterns, Y, s, loss, fit_intercept=fit_intercept)
            retry = solve_convex_program(
                X_aug, arrangements, Y, s, loss, alpha, solver="cvxpy", program=reference, fallback=True, **common,
            )
            if retry.certificate.relative_gap < fit.certificate.relative_gap:
                fit = retry
        previous, raw = fit.solution, fit.raw
        points.append(_PathPoint(fit.solution, fit.objective, fit.certificate, raw.n_iter, raw.solver, raw.converged))
    return points


def _warn_unconverged(points, alphas, tol):
    """One ``ConvergenceWarning`` for all the points whose certified gap missed ``tol``, naming the worst
    (as in the estimators, the certificate decides, not the solver's status)."""
    bad = [(alpha, p) for alpha, p in zip(alphas, points) if p.certificate.relative_gap > tol]
    if bad:
        alpha, worst = max(bad, key=lambda item: item[1].certificate.relative_gap)
        warnings.warn(
            f"{len(bad)} of {len(points)} points of the path did not reach the relative duality gap "
            f"tol={tol:.1e}; the worst is {worst.certificate.relative_gap:.3e} at alpha={alpha:.3e} "
            f"(solver {worst.solver}). Increase max_iter, standardise X, or use larger alphas.",
            ConvergenceWarning,
        )


@blas_threads(None)  # one BLAS thread for all of the path's algebra, as in an estimator's fit
def _path_encoded(
    X, Y, sample_weight, *, loss, alphas, eps, arrangements, n_arrangements, max_arrangements,
    hidden_bias, fit_intercept, solver, tol, max_iter, random_state, n_jobs, verbose,
):
    """:func:`convex_relu_path` on validated ``X`` and encoded targets ``Y`` (n_samples, n_outputs)."""
    X_aug, arrangements, Y_fit, s = prepare(
        X, Y, sample_weight, arrangements=arrangements, n_arrangements=n_arrangements,
        max_arrangements=max_arrangements, hidden_bias=hidden_bias, random_state=random_state,
    )
    loss = get_loss(loss, Y.shape[1])
    requested, size = solver, (X_aug.shape[0], X_aug.shape[1], arrangements.n_patterns, Y.shape[1])
    solver = resolve_solver(solver, loss, X_aug.shape[0], arrangements.n_patterns, Y.shape[1])
    if solver == "cvxpy":
        check_program_size(*size)
    # solver="auto" on a quadratic loss: the first-order solver, warm-started along the grid, with
    # cvxpy as the fallback of the points it does not certify to tol (when its program fits in memory)
    n, _, P, K = size
    reference_fallback = (
        requested == "auto" and solver == "first_order" and loss.is_quadratic
        and cvxpy_second_solve(n, P, K, along_path=True)
    )
    if reference_fallback:
        try:
            check_program_size(*size)
        except ValueError:
            reference_fallback = False
    alpha_max = _alpha_max(X_aug, arrangements.patterns, Y_fit, s, loss, fit_intercept)
    alphas = _alpha_grid(alpha_max, alphas, eps) if isinstance(alphas, Integral) else _check_alphas(alphas)
    common = dict(fit_intercept=fit_intercept, hidden_bias=arrangements.hidden_bias, tol=tol)
    screened = alphas >= alpha_max
    points = [_zero_point(X_aug, arrangements, Y_fit, s, loss, a, **common) for a in alphas[screened]]
    to_solve = alphas[~screened]
    if to_solve.size:
        # contiguous runs of the decreasing grid, one joblib task and one compiled program per run
        segments = np.array_split(to_solve, min(to_solve.size, max(1, effective_n_jobs(n_jobs))))
        solved = Parallel(n_jobs=n_jobs)(
            delayed(_solve_segment)(
                X_aug, arrangements, Y_fit, s, loss, segment, solver=solver, max_iter=max_iter,
                verbose=verbose > 1, reference_fallback=reference_fallback, **common,
            )
            for segment in segments
        )
        points += [point for segment in solved for point in segment]
    _warn_unconverged(points, alphas, tol)
    if verbose:
        for alpha, point in zip(alphas, points):
            print(f"[convex_relu_path] alpha={alpha:.4e}: {point.solution.n_nonzero_blocks} neurons, "
                  f"objective {point.objective:.6g}, gap {point.certificate.dual_gap:.2e}")
    return _collect(points, alphas, alpha_max, arrangements)


def _collect(points, alphas, alpha_max, arrangements):
    """The :class:`ConvexReLUPath` of the solved points, in the order of ``alphas``."""
    return ConvexReLUPath(
        alphas=alphas,
        alpha_max=alpha_max,
        solutions=tuple(p.solution for p in points),
        objectives=np.array([p.objective for p in points]),
        dual_gaps=np.array([p.certificate.dual_gap for p in points]),
        certificates=tuple(p.certificate for p in points),
        n_neurons=np.array([p.solution.n_nonzero_blocks for p in points], dtype=int),
        n_iter=np.array([p.n_iter for p in points], dtype=int),
        solvers=tuple(p.solver for p in points),
        arrangements=arrangements,
    )


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],  # eps ≥ 1 would make an increasing grid
        "loss": [StrOptions({"squared_error", "log_loss"})],
        "sample_weight": ["array-like", None],
        "arrangements": [StrOptions({"auto", "exact", "sample"}), Arrangements],
        "n_arrangements": [Interval(Integral, 1, None, closed="left")],
        "max_arrangements": [Interval(Integral, 1, None, closed="left")],
        "hidden_bias": ["boolean"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "cvxpy", "first_order"})],
        "tol": [Interval(Real, 0, 1, closed="neither")],  # a relative gap: tol ≥ 1 would certify anything
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def convex_relu_path(
    X, y, *, alphas=100, eps=1e-3, loss="squared_error", sample_weight=None, arrangements="auto",
    n_arrangements=100, max_arrangements=2000, hidden_bias=True, fit_intercept=True, solver="auto",
    tol=1e-6, max_iter=1000, random_state=None, n_jobs=None, verbose=0,
):
    """Compute the regularisation path of the convex two-layer ReLU program.

    Solves, for every ``alpha`` of a decreasing grid, the program the estimators solve,

        (1/n) Σ_i s_i ℓ(f(x_i), y_i) + (alpha/2) Σ_j (‖w_j‖² + a_j²),

    through its convex reformulation over **one** pattern set shared by the whole path. The grid
    starts at ``alpha_max``, the exact smallest ``alpha`` at which the zero network (with its
    optimal output intercept) is optimal: by duality (SPEC §4) this is the largest ``κ_{i,σ}`` of
    the zero network's dual vector over the patterns. Points with ``alpha ≥ alpha_max`` are the
    zero network and need no solve. The cvxpy program is compiled once per pattern set and
    re-solved for every ``alpha``; the first-order solver is warm-started from the previous point.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Target values for ``loss="squared_error"``; class labels for ``loss="log_loss"`` (the
        outputs then follow ``np.unique(y)``: one decision function for two classes, positive
        for the second class, else one output per class).
    alphas : int or array-like, default=100
        Number of values on the grid from ``alpha_max`` to ``eps * alpha_max``, or the values
        themselves (sorted in decreasing order).
    eps : float, default=1e-3
        Length of the path, ``alpha_min / alpha_max``. Ignored if ``alphas`` is an array.
    loss : {"squared_error", "log_loss"}, default="squared_error"
    sample_weight : array-like of shape (n_samples,), default=None
        Rescaled to sum to the number of samples; zero-weight samples are dropped before the
        patterns are built.
    arrangements : {"auto", "exact", "sample"} or Arrangements, default="auto"
        How the pattern set is obtained (see :class:`ConvexReLURegressor`), or an
        :class:`Arrangements` whose generators are applied to ``X``. ``"auto"`` enumerates when
        the bound is at most ``max_arrangements`` and otherwise samples (one pattern set for all
        ``alpha`` values; a pattern search is specific to one ``alpha``).
    n_arrangements : int, default=100
        Number of Gaussian gates drawn when sampling.
    max_arrangements : int, default=2000
        Largest bound on the number of patterns for which ``"auto"`` enumerates exactly.
    hidden_bias : bool, default=True
        Whether the hidden neurons have a bias. Ignored if ``arrangements`` is an
        :class:`Arrangements`.
    fit_intercept : bool, default=True
        Whether to fit the unpenalised output intercept.
    solver : {"auto", "cvxpy", "first_order"}, default="auto"
        Solver of every point (see :func:`~sklearn_convexrelu.solvers.solve_convex_program`);
        ``"auto"`` is the estimators' rule (see :class:`ConvexReLURegressor`): ``"cvxpy"`` for the
        squared loss on programs of at most 8,000 cone rows, ``"first_order"`` otherwise and
        for ``log_loss``.
    tol : float, default=1e-6
        Relative duality-gap tolerance of every point.
    max_iter : int, default=1000
        Maximum number of solver iterations per point.
    random_state : int, RandomState instance or None, default=None
        Seed of the pattern sampling.
    n_jobs : int, default=None
        Number of contiguous runs of the grid solved in parallel through joblib, each on its own
        program (warm starts stay within a run). ``None`` means 1 unless in a
        :func:`joblib.parallel_backend` context.
    verbose : int, default=0
        1 prints one line per point, 2 also the solver's log.

    Returns
    -------
    path : ConvexReLUPath
        ``alphas``, ``alpha_max``, ``solutions``, ``networks``, ``objectives``, ``dual_gaps``,
        ``certificates``, ``n_neurons``, ``n_iter`` and the shared ``arrangements``.

    See Also
    --------
    ConvexReLURegressorCV : Chooses ``alpha`` on such a path by cross-validation.
    sklearn.linear_model.lasso_path : The same interface for the Lasso.

    Notes
    -----
    With sampled patterns, ``alpha_max`` and every solution are relative to the sampled
    patterns (see each point's certificate); with exact patterns they hold over all networks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import convex_relu_path
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(12, 1))
    >>> path = convex_relu_path(X, np.abs(X[:, 0]), alphas=4, eps=1e-2)
    >>> bool(path.alphas[0] == path.alpha_max), int(path.n_neurons[0])
    (True, 0)
    >>> bool(path.n_neurons[-1] > 0)
    True
    """
    X, y = check_X_y(X, y, multi_output=True, y_numeric=loss == "squared_error", dtype=np.float64)
    if loss == "log_loss":
        if y.ndim != 1:
            raise ValueError("loss='log_loss' needs class labels of shape (n_samples,) with at least 2 classes.")
        _, Y = encode_classes(y)  # as the classifier encodes them (SPEC §9)
    else:
        Y = encode_values(y)
    if isinstance(alphas, Integral) and alphas < 1:
        raise ValueError(f"alphas must be a positive integer or an array, got {alphas!r}.")
    return _path_encoded(
        X, Y, sample_weight, loss=loss, alphas=alphas, eps=eps, arrangements=arrangements,
        n_arrangements=n_arrangements, max_arrangements=max_arrangements, hidden_bias=hidden_bias,
        fit_intercept=fit_intercept, solver=solver, tol=tol, max_iter=max_iter,
        random_state=random_state, n_jobs=n_jobs, verbose=verbose,
    )
