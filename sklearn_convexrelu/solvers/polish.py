"""Turn a raw solver output into an exact point of the program (SPEC §3.1, §10.1).

Interior-point and first-order solutions carry blocks that are zero only to solver precision and
blocks that leave their cones by rounding. Polishing (1) drops blocks whose norm is below
``ZERO_BLOCK_RTOL`` times the largest block norm, (2) projects every remaining block onto its cone,
so that the network built from the blocks has exactly the convex objective, and (3) re-optimises
the output intercept, starting from the solver's (never raising the loss). Steps (1)-(2) change the objective by solver precision; step (3) only lowers it.
Given ``alpha``, larger thresholds (up to dropping every block) are tried as well and the sparsest
result whose objective exceeds the first by at most ``objective_slack`` (relative) is kept: solvers
leave many blocks of size ~1e-8 that carry no objective, e.g. at or above ``alpha_max``.
"""

import warnings

import numpy as np

from .._tolerances import IN_CONE_RTOL, ZERO_BLOCK_RTOL
from ..program.cones import in_cone, project_onto_cones
from ..program.operators import forward
from ..program.penalty import GroupNormPenalty

__all__ = ["ZERO_BLOCK_RTOL", "convex_objective", "polish"]



def convex_objective(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, alpha, *, penalty=None):
    """Objective of (C-ReLU) and the prediction ``Σ_i D_i X̃ (v_i − u_i) + c``.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
    intercept : ndarray of shape (n_outputs,)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    s : ndarray of shape (n_samples,)
        Sample weights summing to n_samples.
    loss : loss object
    alpha : float
    penalty : GroupNormPenalty, default=None
        ``None``: every block coordinate inside the group norm.

    Returns
    -------
    objective : float
    prediction : ndarray of shape (n_samples, n_outputs)
    """
    prediction = forward(X_aug, patterns, blocks_pos - blocks_neg) + intercept
    penalty = GroupNormPenalty() if penalty is None else penalty
    return loss.value(prediction, Y, s) + penalty.value(alpha, blocks_pos, blocks_neg), prediction


def _project_blocks(X_aug, patterns, A, index):
    """Projections of the columns of ``A`` onto their cones; a column whose projection fails
    numerically (badly scaled data, e.g. a column ×1e8) is kept if it already lies in its cone and
    dropped otherwise, so polishing never raises: the certificate then reports what was lost.
    (A failed projection raises RuntimeError, also when its Clarabel fallback fails: importing
    cvxpy here took 0.5 s of every first fit.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # cvxpy's inaccuracy note; its status is checked
        try:
            return project_onto_cones(X_aug, patterns, A, index)[0]
        except RuntimeError:
            pass
        U = np.empty_like(A)
        for b, i in enumerate(index):
            try:
                U[:, b] = project_onto_cones(X_aug, patterns, A[:, b : b + 1], index[b : b + 1])[0][:, 0]
                continue
            except RuntimeError:
                pass
            rows = np.where(patterns[:, i, None], X_aug, -X_aug)
            U[:, b] = A[:, b] if in_cone(rows, A[:, b], IN_CONE_RTOL) else 0.0
    return U


def _polish_at(X_aug, patterns, blocks, threshold, Y, s, loss, intercept, fit_intercept):
    """Steps (1)-(3) of the module docstring for one relative threshold."""
    norms = np.linalg.norm(blocks, axis=2)
    keep = norms > threshold * norms.max(initial=0.0)
    polished = blocks * keep[:, :, None, :]
    side, k, i = np.nonzero(keep)
    if i.size:
        polished[side, k, :, i] = _project_blocks(X_aug, patterns, polished[side, k, :, i].T, i).T
    intercept = np.asarray(intercept, dtype=float)
    if fit_intercept:
        # Newton from the solver's intercept, not from zero: on separable log_loss data the loss is
        # saturated far from it and Newton from zero can stop at a far worse intercept (issue 14.1)
        fit = forward(X_aug, patterns, polished[0] - polished[1]) + intercept
        shifted = intercept + loss.optimal_intercept(fit, Y, s)
        if np.all(np.isfinite(shifted)) and loss.value(fit - intercept + shifted, Y, s) <= loss.value(fit, Y, s):
            intercept = shifted
    return polished[0], polished[1], intercept


def polish(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, *, fit_intercept, alpha=None, objective_slack=0.0):
    """Polished blocks and intercept (see the module docstring).

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
    intercept : ndarray of shape (n_outputs,)
    Y, s, loss
        Encoded targets, normalised weights and loss object.
    fit_intercept : bool
    alpha : float, default=None
        When given, sparser polishings are tried and the sparsest acceptable one is kept.
    objective_slack : float, default=0.0
        Relative objective increase allowed for a sparser polishing.

    Returns
    -------
    blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
    intercept : ndarray of shape (n_outputs,)
    """
    blocks = np.stack([blocks_pos, blocks_neg])  # (2, K, d, P)
    best = _polish_at(X_aug, patterns, blocks, ZERO_BLOCK_RTOL, Y, s, loss, intercept, fit_intercept)
    if alpha is None:
        return best
    reference = convex_objective(X_aug, patterns, *best, Y, s, loss, alpha)[0]
    limit = reference + objective_slack * abs(reference)
    for threshold in (1.0, 1e-2, 1e-3, 1e-4, 1e-5):  # sparsest first; 1.0 drops every block
        candidate = _polish_at(X_aug, patterns, blocks, threshold, Y, s, loss, intercept, fit_intercept)
        if convex_objective(X_aug, patterns, *candidate, Y, s, loss, alpha)[0] <= limit:
            return candidate
    return best
