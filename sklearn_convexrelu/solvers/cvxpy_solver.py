"""The reference solver: (C-ReLU) as a cvxpy problem, vectorised, ``alpha`` a Parameter (SPEC §3).

The problem is compiled once per pattern set; re-solving for another ``alpha`` does not recompile
(DPP). The problem object is never stored on an estimator (it is not picklable after a solve).
"""

import warnings

import numpy as np
import scipy.sparse as sp

from ..program.certificate import program_dual_point
from ..program.penalty import GroupNormPenalty
from ._result import SolveResult
from .polish import convex_objective

__all__ = ["CvxpyProgram", "available_conic_solvers"]

# Conic solvers tried in order: Clarabel (interior point, default), then SCS (first-order).
_SOLVER_CHAIN = ("CLARABEL", "SCS")


def _solver_options(name, tol, max_iter):
    tight = min(tol, 1e-8) * 1e-1
    if name == "CLARABEL":
        return {"tol_gap_abs": tight, "tol_gap_rel": tight, "tol_feas": tight, "max_iter": max_iter}
    if name == "SCS":
        return {"eps_abs": tight, "eps_rel": tight, "max_iters": 10 * max_iter}
    return {}


def available_conic_solvers():
    """The solvers of the chain (Clarabel, SCS) that cvxpy can use here, in order.

    Returns
    -------
    names : tuple of str
        cvxpy solver names, possibly empty.
    """
    import cvxpy as cp

    installed = set(cp.installed_solvers())
    return tuple(name for name in _SOLVER_CHAIN if name in installed)


class CvxpyProgram:
    """(C-ReLU) over fixed patterns, compiled once.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    s : ndarray of shape (n_samples,)
        Positive sample weights summing to n_samples.
    loss : loss object
    fit_intercept : bool
    penalty : GroupNormPenalty, default=None
        ``None``: every block coordinate penalised. ``GroupNormPenalty(penalize_hidden_bias=False)``
        leaves the last coordinate (the hidden bias) out of the group norm: the program of networks
        whose hidden biases are not penalised.
    allowed_blocks : ndarray of shape (n_outputs, n_patterns, 2), dtype bool, default=None
        Restrict the program to these blocks (last axis: σ = +1, σ = −1), the others fixed at zero:
        e.g. one block per (pattern, sign, output) of a network (SPEC §6 (i)). ``None``: all.
    """

    def __init__(self, X_aug, patterns, Y, s, loss, *, fit_intercept, penalty=None, allowed_blocks=None):
        import cvxpy as cp

        self.penalty = GroupNormPenalty() if penalty is None else penalty
        self.X_aug, self.patterns, self.Y, self.s, self.loss, self.fit_intercept = X_aug, patterns, Y, s, loss, fit_intercept
        n, d = X_aug.shape
        n_outputs, n_patterns = Y.shape[1], patterns.shape[1]
        self.shape = (n_outputs, d, n_patterns)
        # A loss that scales with its targets (the squared loss) is solved for Y / c and alpha / c (its solution is the original one / c),
        # c the power of 2 nearest the RMS of Y when that is outside [1e-3, 1e3]: the conic solvers'
        # absolute tolerances then mean what they say (y and alpha × 1e10 left a gap of 0.48, × 1e15
        # failed); targets of ordinary size are solved as given.
        rms = float(np.sqrt(np.mean(Y**2)))
        scaled = loss.scales_with_targets and np.isfinite(rms) and rms > 0 and not 1e-3 <= rms <= 1e3
        self._scale = 2.0 ** np.round(np.log2(rms)) if scaled else 1.0
        mask = np.tile(patterns.astype(float), n_outputs)  # (n, K·P): one block set per output
        signs = 2.0 * mask - 1.0
        self.alpha = cp.Parameter(nonneg=True, name="alpha")
        self.V = cp.Variable((d, n_outputs * n_patterns), name="blocks_pos")
        self.U = cp.Variable((d, n_outputs * n_patterns), name="blocks_neg")
        self.c = cp.Variable(n_outputs, name="intercept") if fit_intercept else None
        gated = cp.multiply(mask, X_aug @ (self.V - self.U))
        if n_outputs == 1:
            pred = cp.reshape(cp.sum(gated, axis=1), (n, 1), order="C")
        else:
            # aggregation matrix E: column k*P + i of the blocks feeds output k
            E = sp.kron(sp.eye(n_outputs), np.ones((n_patterns, 1)), format="csr")
            pred = gated @ E
        if fit_intercept:
            pred = pred + np.ones((n, 1)) @ cp.reshape(self.c, (1, n_outputs), order="C")
        penalty = self.penalty.cvxpy_value(self.V) + self.penalty.cvxpy_value(self.U)
        constraints = [cp.multiply(signs, X_aug @ self.V) >= 0, cp.multiply(signs, X_aug @ self.U) >= 0]
        if allowed_blocks is not None:  # column k·P + i of V (U) is block (k, i, σ = +1 (−1))
            for side, blocks in enumerate((self.V, self.U)):
                fixed = np.flatnonzero(~np.asarray(allowed_blocks, dtype=bool)[:, :, side].reshape(-1))
                if fixed.size:
                    constraints.append(blocks[:, fixed] == 0)
        self.problem = cp.Problem(cp.Minimize(loss.cvxpy_value(pred, Y / self._scale, s) + self.alpha * penalty), constraints)

    def _gap(self, blocks_pos, blocks_neg, intercept, alpha):
        """Objective and relative duality gap (SPEC §4) of the solver's point."""
        objective, prediction = convex_objective(
            self.X_aug, self.patterns, blocks_pos, blocks_neg, intercept, self.Y, self.s, self.loss, alpha,
            penalty=self.penalty,
        )
        point = program_dual_point(
            self.X_aug, self.patterns, self.Y, self.s, alpha, self.loss, prediction,
            fit_intercept=self.fit_intercept, penalty=self.penalty,
        )
        return float(objective), float((objective - point.lower_bound) / max(abs(objective), np.finfo(float).tiny))

    def _blocks(self, variable):
        K, d, P = self.shape
        return np.asarray(variable.value).reshape(d, K, P).transpose(1, 0, 2) * self._scale

    def solve(self, alpha, *, tol=1e-6, max_iter=1000, solver=None, verbose=False):
        """Solve for one ``alpha``; Clarabel first, SCS as the fallback.

        Parameters
        ----------
        alpha : float
            Regularisation strength; only this parameter changes between solves.
        tol : float, default=1e-6
            Requested accuracy; the solvers' tolerances are set to ``min(tol, 1e-8) / 10``.
        max_iter : int, default=1000
            Iteration limit of Clarabel (ten times this for SCS).
        solver : str, default=None
            A cvxpy solver name to use alone; ``None`` tries Clarabel, then SCS.
        verbose : bool, default=False
            Print the solver's log.

        Returns
        -------
        SolveResult

        Raises
        ------
        RuntimeError
            If every solver fails or reports the problem infeasible or unbounded (which cannot
            happen for a correct program: it always has the feasible point zero), or none is
            installed. The estimators with ``solver="auto"`` then use the first-order solver.
        """
        import cvxpy as cp

        self.alpha.value = float(alpha) / self._scale
        chain = (solver,) if solver else available_conic_solvers()
        failures = [] if chain else [f"none of {', '.join(_SOLVER_CHAIN)} is installed"]
        for name in chain:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # cvxpy's own inaccuracy notes
                    self.problem.solve(solver=name, verbose=verbose, **_solver_options(name, tol, max_iter))
            except cp.error.SolverError as exc:
                failures.append(f"{name}: {exc}")
                continue
            status = self.problem.status
            if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and self.V.value is not None:
                stats = self.problem.solver_stats
                blocks_pos, blocks_neg = self._blocks(self.V), self._blocks(self.U)
                intercept = (np.asarray(self.c.value, dtype=float).reshape(-1) * self._scale if self.c is not None
                             else np.zeros(self.shape[0]))
                objective, gap = self._gap(blocks_pos, blocks_neg, intercept, alpha)
                return SolveResult(
                    blocks_pos=blocks_pos,
                    blocks_neg=blocks_neg,
                    intercept=intercept,
                    status=status,
                    n_iter=int(stats.num_iters or 0),
                    solver=f"cvxpy-{name}",
                    converged=status == cp.OPTIMAL,
                    objective=objective,
                    gap=gap,
                )
            failures.append(f"{name}: status {status!r}")
        raise RuntimeError(
            "The convex program could not be solved: " + "; ".join(failures) + ". The program is "
            "always feasible, so this is a numerical failure: standardise X (e.g. StandardScaler), "
            "try a larger alpha, or use solver='first_order'."
        )
