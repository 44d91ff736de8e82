"""Solvers of the convex program and the solve → polish → certify pipeline (SPEC §3, §4, §7)."""

from dataclasses import dataclass

import numpy as np

from .._preparation import cvxpy_second_solve
from ..network import ConvexSolution
from ..program.certificate import Certificate, check_alpha_resolvable, dual_vector, duality_certificate
from ..program.operators import adjoint
from ._result import SolveResult
from .cvxpy_solver import CvxpyProgram
from .first_order import FirstOrderSolver, solve_first_order
from .polish import convex_objective, polish

__all__ = ["ConvexFit", "CvxpyProgram", "FirstOrderSolver", "SolveResult", "solve_convex_program", "solve_first_order"]


def _zero_if_optimal(X_aug, patterns, Y, s, loss, alpha, fit_intercept):
    """The zero blocks with the optimal intercept, as a :class:`SolveResult`, when they are optimal
    without any projection: no patterns, or ``‖X̃ᵀD_i r₀‖ ≤ alpha`` for every block (this bounds
    ``κ_{i,σ}(r₀)``, SPEC §4); else ``None``. A solver is never asked for a known answer (at huge
    ``alpha`` interior-point methods fail on it)."""
    K, d, P = Y.shape[1], X_aug.shape[1], patterns.shape[1]
    prediction, intercept, R0 = dual_vector(loss, Y, s, np.zeros(Y.shape), fit_intercept=fit_intercept)
    if P and np.linalg.norm(adjoint(X_aug, patterns, R0), axis=1).max() > alpha:
        check_alpha_resolvable(X_aug, R0, alpha)
        return None
    blocks = np.zeros((K, d, P))
    return SolveResult(
        blocks_pos=blocks, blocks_neg=blocks.copy(), intercept=np.asarray(intercept, dtype=float),
        status="the zero network is optimal (alpha >= alpha_max)", n_iter=0, solver="alpha_max",
        converged=True, objective=float(loss.value(prediction, Y, s)), gap=0.0,
    )




def _cvxpy_finish(X_aug, patterns, Y, s, loss, alpha, fit_intercept, tol, max_iter, verbose):
    """Clarabel's solution of the program, or ``None`` when cvxpy is unavailable or fails (SPEC §7)."""
    from .cvxpy_solver import available_conic_solvers

    if not available_conic_solvers():
        return None
    if verbose:
        print("[first_order] certified gap above tol; solving again with cvxpy")
    try:
        return CvxpyProgram(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept).solve(alpha, tol=tol, max_iter=max_iter)
    except RuntimeError:
        return None


@dataclass
class ConvexFit:
    """A polished, certified solution of (C-ReLU) on fixed patterns.

    Attributes
    ----------
    solution : ConvexSolution
    objective : float
        Objective of the polished solution (= that of ``solution.to_network()``).
    prediction : ndarray of shape (n_samples, n_outputs)
        Prediction on the training data.
    certificate : Certificate
    raw : SolveResult
        The solver's own output before polishing.
    program : FirstOrderSolver or None
        The first-order solver that took part, if any: its cone faces are warm starts for the
        analysis that follows (the optimal set's κ and re-solve).
    """

    solution: ConvexSolution
    objective: float
    prediction: object
    certificate: Certificate
    raw: SolveResult
    program: object = None


def solve_convex_program(
    X_aug, arrangements, Y, s, loss, alpha, *, fit_intercept, hidden_bias, tol, max_iter,
    solver="cvxpy", verbose=False, program=None, init=None, n_jobs=None, fallback=False,
):
    """Solve (C-ReLU) on the patterns of ``arrangements``, polish the solution and certify it.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    arrangements : Arrangements
        Patterns on ``X_aug`` and their generators.
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    loss : loss object
    alpha : float
    fit_intercept, hidden_bias : bool
    tol : float
        Relative duality-gap tolerance.
    max_iter : int
    solver : {"cvxpy", "first_order"}, default="cvxpy"
        ``"first_order"`` is :class:`FirstOrderSolver` (column generation stopped on the certified
        gap, SPEC §7); ``max_iter`` then counts its iterations.
    verbose : bool, default=False
    program : CvxpyProgram or FirstOrderSolver, default=None
        A program already set up for these data and patterns (re-solved for ``alpha``), matching
        ``solver``.
    init : ConvexSolution or tuple (blocks_pos, blocks_neg, intercept), default=None
        Warm start of the first-order solver (e.g. the solution at a neighbouring ``alpha``), with
        blocks of shape (n_outputs, n_dims, n_patterns); ignored by cvxpy.
    n_jobs : int, default=None
        BLAS threads of the first-order solver (``None``: one, ``-1``: BLAS's default).
    fallback : bool, default=False
        ``solver="auto"``: a failure of cvxpy (every conic solver failed or none is installed)
        falls back to the first-order solver instead of raising, and a first-order solution whose
        polished, certified gap exceeds ``tol`` is solved again by cvxpy when the program has at
        most ``_FINISH_ROWS`` cone rows (see :func:`~sklearn_convexrelu._preparation.cvxpy_second_solve`), and a cvxpy fit certified above ``tol`` is finished by the
        first-order solver warm-started from it (the better certified fit is kept).

    Returns
    -------
    ConvexFit
        Without any solve (``raw.solver == "alpha_max"``) when the zero blocks with the optimal
        intercept are optimal: no patterns, or ``alpha ≥ max_i ‖X̃ᵀD_i r₀‖ ≥ alpha_max``.

    Raises
    ------
    RuntimeError
        If cvxpy fails and ``fallback`` is False (see :meth:`CvxpyProgram.solve`).
    ValueError
        If ``alpha`` is negligible next to the data's scale (see ``check_alpha_resolvable``).
    """
    patterns = arrangements.patterns
    raw = _zero_if_optimal(X_aug, patterns, Y, s, loss, alpha, fit_intercept)
    if raw is not None:
        return _polish_and_certify(X_aug, arrangements, Y, s, loss, alpha, raw, fit_intercept, hidden_bias, tol)
    used = "first_order" if solver == "first_order" else "cvxpy"
    if used == "cvxpy":
        if not isinstance(program, CvxpyProgram):
            program = CvxpyProgram(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept)
        try:
            raw = program.solve(alpha, tol=tol, max_iter=max_iter, verbose=verbose)
        except RuntimeError:
            if not fallback:
                raise
            used, program = "cvxpy failed", None  # the first-order solver, from scratch
    if raw is None:
        if not isinstance(program, FirstOrderSolver):
            program = FirstOrderSolver(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept, generators=arrangements.generators)
        if isinstance(init, ConvexSolution):
            init = (init.blocks_pos, init.blocks_neg, init.intercept)
        raw = program.solve(alpha, tol=tol, max_iter=max_iter, init=init, verbose=verbose, n_jobs=n_jobs)
    fit = _polish_and_certify(X_aug, arrangements, Y, s, loss, alpha, raw, fit_intercept, hidden_bias, tol)
    fit.program = program if isinstance(program, FirstOrderSolver) else None
    if not fallback or fit.certificate.relative_gap <= tol:
        return fit
    # "auto", the certified gap of the polished fit above tol: the other solver tries too, and the
    # better certified fit is kept. A first-order tail or blocks that leave needle-thin cones (a
    # column ×1e5: polishing costs 4e-5) go to Clarabel; an interior point certified just above
    # tol near interpolation (1.5e-6 on 60 points in 1-D) to the first-order solver, warm-started.
    if used == "cvxpy":
        finisher = FirstOrderSolver(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept, generators=arrangements.generators)
        other = finisher.solve(alpha, tol=tol, max_iter=max_iter, init=(raw.blocks_pos, raw.blocks_neg, raw.intercept), n_jobs=n_jobs)
    elif used == "first_order" and cvxpy_second_solve(X_aug.shape[0], patterns.shape[1], Y.shape[1]):
        other = _cvxpy_finish(X_aug, patterns, Y, s, loss, alpha, fit_intercept, tol, max_iter, verbose)
    else:
        return fit
    if other is not None:
        finished = _polish_and_certify(X_aug, arrangements, Y, s, loss, alpha, other, fit_intercept, hidden_bias, tol)
        finished.program = finisher if used == "cvxpy" else fit.program
        if finished.certificate.relative_gap < fit.certificate.relative_gap:
            return finished
    return fit


def _polish_and_certify(X_aug, arrangements, Y, s, loss, alpha, raw, fit_intercept, hidden_bias, tol):
    """The :class:`ConvexFit` of a raw solver output: polished (SPEC §3.1) and certified (SPEC §4)."""
    patterns = arrangements.patterns
    V, U, c = polish(
        X_aug, patterns, raw.blocks_pos, raw.blocks_neg, raw.intercept, Y, s, loss,
        fit_intercept=fit_intercept, alpha=alpha, objective_slack=1e-2 * tol,
    )
    objective, prediction = convex_objective(X_aug, patterns, V, U, c, Y, s, loss, alpha)
    _, raw_prediction = convex_objective(X_aug, patterns, raw.blocks_pos, raw.blocks_neg, raw.intercept, Y, s, loss, alpha)
    certificate = duality_certificate(
        X_aug, patterns, Y, s, alpha, loss, prediction, objective,
        fit_intercept=fit_intercept, exact=arrangements.exact, tol=tol, dual_predictions=(raw_prediction,),
    )
    solution = ConvexSolution(arrangements.generators, V, U, c, hidden_bias)
    return ConvexFit(solution, objective, prediction, certificate, raw)
