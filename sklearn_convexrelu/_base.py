"""Shared machinery of the estimators: validation, weights, arrangements, solve, fitted attributes."""

import functools
import warnings
from abc import ABCMeta, abstractmethod
from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from ._preparation import (
    arrangement_mode, augment, build_arrangements, check_enumeration_size, check_program_size, check_sampling_size,
    positive_rows, resolve_solver,
)
from ._sklearn_compat import Interval, StrOptions, validate_data
from .exceptions import OptimalSetWarning
from .optimal_set import Invariances, optimal_set_from_fit
from .pattern_search import search_arrangements
from .program.certificate import program_dual_point
from .program.losses import get_loss
from .solvers import solve_convex_program
from .solvers._threads import blas_threads


def _network_objective(network, X, Y, s, loss, alpha):
    """The objective (NC) of ``network`` on the rows ``X`` with encoded targets ``Y`` (SPEC §1)."""
    return float(loss.value(network.output(X), Y, s) + network.penalty(alpha))


def atomic_fit(fit):
    """Make ``fit`` atomic: on any exception (including ``KeyboardInterrupt``) the estimator keeps
    its previous fitted state, or stays unfitted.

    ``validate_data(reset=True)`` sets ``n_features_in_`` and ``feature_names_in_`` before the
    solve; the state of ``self`` before the call is restored if anything after that fails, so new
    metadata can never sit next to an old network (issue 14, item 3).
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        state = dict(vars(self))
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(state)
            raise

    return wrapper


class _BaseConvexReLU(BaseEstimator, metaclass=ABCMeta):
    """Base class of the convex two-layer ReLU estimators. Not for direct use."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "loss": [StrOptions({"squared_error", "log_loss"})],
        "arrangements": [StrOptions({"auto", "exact", "sample", "search"})],
        "n_arrangements": [Interval(Integral, 1, None, closed="left")],
        "max_arrangements": [Interval(Integral, 1, None, closed="left")],
        "hidden_bias": ["boolean"],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "cvxpy", "first_order"})],
        # a relative gap is at most 1 (the dual bound is ≥ 0): tol ≥ 1 would certify anything
        "tol": [Interval(Real, 0, 1, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "n_jobs": [None, Integral],
    }

    @abstractmethod
    def __init__(
        self, alpha, *, loss, arrangements, n_arrangements, max_arrangements, hidden_bias,
        fit_intercept, solver, tol, max_iter, warm_start, random_state, verbose, n_jobs,
    ):
        self.alpha = alpha
        self.loss = loss
        self.arrangements = arrangements
        self.n_arrangements = n_arrangements
        self.max_arrangements = max_arrangements
        self.hidden_bias = hidden_bias
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs

    def _validate_X_y(self, X, y):
        return validate_data(self, X, y, multi_output=True, y_numeric=True, ensure_min_samples=1)

    def _arrangement_mode(self, X):
        """How this fit gets its patterns: ``"warm"``, ``"exact"``, ``"sample"`` or ``"search"``.

        ``"auto"`` enumerates exactly when the bound on the number of patterns is at most
        ``max_arrangements`` (SPEC §2) and otherwise runs a pattern search (SPEC §7), whose fit is
        never worse than the gradient-descent network that seeds it
        (:func:`~sklearn_convexrelu._preparation.arrangement_mode`).
        """
        if self.warm_start and hasattr(self, "arrangements_") and self.arrangements_.hidden_bias == self.hidden_bias:
            return "warm"
        return arrangement_mode(
            self.arrangements, X, hidden_bias=self.hidden_bias, max_arrangements=self.max_arrangements, beyond="search",
        )

    def _fit_encoded(self, X, Y, sample_weight):
        """Fit on validated ``X`` and encoded targets ``Y`` of shape (n_samples, n_outputs).

        Returns the fitted attributes as a dict and changes nothing on ``self``: the caller assigns
        them all at once when everything has succeeded (an atomic fit, see :func:`atomic_fit`).
        """
        # one process-wide BLAS limit for all of the fit: concurrent fits in threads then run every
        # BLAS call under the thread count of a sequential fit (bitwise equal results; issue 14)
        with blas_threads(self.n_jobs):
            return self._fit_encoded_limited(X, Y, sample_weight)

    def _fit_encoded_limited(self, X, Y, sample_weight):
        """:meth:`_fit_encoded` under the fit's BLAS thread limit."""
        X_fit, Y_fit, s = positive_rows(X, Y, sample_weight)  # zero-weight rows dropped (SPEC §1)
        mode = self._arrangement_mode(X_fit)
        if mode == "exact":  # refuse before enumerating what could not be enumerated or solved
            bound = check_enumeration_size(X_fit, hidden_bias=self.hidden_bias)
            if self.solver == "cvxpy":
                check_program_size(X_fit.shape[0], X.shape[1] + self.hidden_bias, bound, Y.shape[1])
        loss = get_loss(self.loss, Y.shape[1])
        program = init = search = None
        if mode == "search":  # refuse before sampling more gates than memory holds
            check_sampling_size(X_fit.shape[0], X.shape[1] + self.hidden_bias, self.n_arrangements)
            arrangements, program, search = search_arrangements(
                X_fit, Y_fit, s, loss, self.alpha, hidden_bias=self.hidden_bias, fit_intercept=self.fit_intercept,
                n_arrangements=self.n_arrangements, max_patterns=self.max_arrangements, tol=self.tol,
                max_iter=self.max_iter, random_state=self.random_state, verbose=self.verbose, n_jobs=self.n_jobs,
                finish=False,  # solve_convex_program below finishes (and certifies) the solve
            )
            init = program.solution()
        else:  # a warm start re-applies the previous generators to these rows
            previous = self.arrangements_ if mode == "warm" else mode
            arrangements = build_arrangements(
                X_fit, previous, hidden_bias=self.hidden_bias, n_arrangements=self.n_arrangements,
                random_state=self.random_state,
            )
        X_aug = augment(X_fit, self.hidden_bias)
        solver = resolve_solver(
            self.solver, loss, X_aug.shape[0], arrangements.n_patterns, Y.shape[1], searched=mode == "search",
        )
        if solver == "cvxpy":
            check_program_size(X_aug.shape[0], X_aug.shape[1], arrangements.n_patterns, Y.shape[1])
            program = None
        fit = solve_convex_program(
            X_aug, arrangements, Y_fit, s, loss, self.alpha,
            fit_intercept=self.fit_intercept, hidden_bias=self.hidden_bias, tol=self.tol,
            max_iter=self.max_iter, solver=solver, verbose=self.verbose >= (2 if solver == "cvxpy" else 1),
            program=program, init=init, n_jobs=self.n_jobs, fallback=self.solver == "auto",
        )
        certificate = fit.certificate
        if arrangements.description:  # what a pattern search covered (SPEC §4: report the pattern set)
            certificate = replace(certificate, coverage=arrangements.description)
        optimal_set = optimal_set_from_fit(
            X_aug, arrangements, Y_fit, s, loss, self.alpha, fit.solution, fit.prediction,
            fit_intercept=self.fit_intercept, hidden_bias=self.hidden_bias, tol=self.tol, solver=fit.program,
        )
        fit.program = None  # the solver and its caches are not needed any more
        # network_ is the min-norm optimal network (SPEC §5): unique, hence solver-independent.
        # objective_ is that network's (NC) evaluated on the fitted rows, not a value carried over
        # from the optimal set: with badly scaled columns the two differed by up to 1e-4 (issue 14)
        network = optimal_set.min_norm_network()
        objective = _network_objective(network, X_fit, Y_fit, s, loss, self.alpha)
        if certificate.relative_gap > self.tol:
            # an interior point's dual can be far less accurate than its primal (gap 2e-2 where the
            # same network certifies at 5e-7): the optimal set refined it, and its min-norm network
            # predicts the refined prediction, whose dual point is one more candidate (SPEC §4)
            refined = program_dual_point(
                X_aug, arrangements.patterns, Y_fit, s, self.alpha, loss, network.output(X_fit),
                fit_intercept=self.fit_intercept,
            )
            certificate = certificate._tightened(refined, self.alpha)
        solver_network = fit.solution.to_network()
        solver_objective = _network_objective(solver_network, X_fit, Y_fit, s, loss, self.alpha)
        tiny = np.finfo(float).tiny
        if objective > solver_objective + self.tol * abs(solver_objective):
            warnings.warn(
                f"The min-norm network of the optimal set has objective {objective:.9g}, above the "
                f"solver's {solver_objective:.9g} by more than tol={self.tol:.1e} (relative): the optimal "
                "set does not describe this fit to its tolerance, and network_ is the solver's network. "
                "Refit with a smaller tol or a larger max_iter.",
                OptimalSetWarning,
            )
            optimal_set.describes_fit = False  # its methods warn too
            network, objective = solver_network, solver_objective
        elif objective > solver_objective and (objective - certificate.lower_bound) > self.tol * abs(objective):
            # within tol of the solver's network, but it would take the certified gap above tol:
            # keep the solver's network, so that the certificate says what the solve achieved
            network, objective = solver_network, solver_objective
        gap = objective - certificate.lower_bound  # the dual bound holds for every network
        certificate = replace(certificate, primal=objective, dual_gap=gap, relative_gap=gap / max(abs(objective), tiny))
        # the certified gap decides (SPEC §4): a status such as cvxpy's "optimal_inaccurate" with a
        # gap within tol is a certified optimum
        if certificate.relative_gap > self.tol:
            warnings.warn(
                f"The solver {fit.raw.solver} stopped with status {fit.raw.status!r} and relative "
                f"duality gap {certificate.relative_gap:.3e} (tol={self.tol:.1e}) over "
                f"{certificate.coverage}. Increase max_iter, standardise X, or increase alpha.",
                ConvergenceWarning,
            )
        fitted = dict(
            optimal_set_=optimal_set,
            invariances_=Invariances(optimal_set),
            arrangements_=arrangements,
            n_arrangements_=arrangements.n_patterns,
            convex_solution_=fit.solution,
            network_=network,
            coefs_=[network.hidden_weights, network.output_weights],
            intercepts_=[network.hidden_bias, network.output_bias],
            n_neurons_=network.n_neurons,
            n_outputs_=Y.shape[1],
            objective_=objective,
            certificate_=certificate,
            dual_gap_=certificate.dual_gap,
            n_iter_=fit.raw.n_iter,
            solver_=fit.raw.solver,
        )
        if mode != "warm":  # a warm start reuses the patterns, and what was searched to find them
            fitted["pattern_search_"] = search
        if self.verbose:
            print(f"[{type(self).__name__}] {network.n_neurons} neurons, objective {objective:.6g}; {certificate}")
        return fitted

    def _output(self, X):
        """Network outputs of shape (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.network_.output(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
