"""The result type every solver returns."""

from dataclasses import dataclass

import numpy as np


@dataclass
class SolveResult:
    """Raw solution of (C-ReLU) on fixed patterns, before polishing.

    Attributes
    ----------
    blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
    intercept : ndarray of shape (n_outputs,)
    status : str
        The solver's own status string.
    n_iter : int
    solver : str
        Name of the solver that produced the solution (e.g. ``"cvxpy-CLARABEL"``).
    converged : bool
    objective : float
        Objective of (C-ReLU) at the returned point (the first-order solver: with its intercept
        re-optimised, the point its gap certifies).
    gap : float
        Relative duality gap ``(objective − D(θ r)) / |objective|`` of SPEC §4 at that point, over
        the solver's patterns (:func:`~sklearn_convexrelu.program.dual_point`).
    """

    blocks_pos: np.ndarray
    blocks_neg: np.ndarray
    intercept: np.ndarray
    status: str
    n_iter: int
    solver: str
    converged: bool
    objective: float
    gap: float
