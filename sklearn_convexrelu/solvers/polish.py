"""Turn a raw solver output into an exact point of the program (SPEC §3.1, §10.1).

Interior-point and first-order solutions carry blocks that are zero only to solver precision and
blocks that leave their cones by rounding. Polishing (1) drops blocks whose norm is below
``ZERO_BLOCK_RTOL`` times the largest block norm, (2) projects every remaining block onto its cone,
so that the network built from the blocks has exactly the convex objective, and (3) re-optimises
the output intercept. Steps (1)-(2) change the objective by solver precision; step (3) only lowers it.
"""

import numpy as np

from ..program.cones import project_onto_cone
from ..program.operators import forward

__all__ = ["ZERO_BLOCK_RTOL", "convex_objective", "polish"]

#: Blocks with ``‖v_i‖ ≤ ZERO_BLOCK_RTOL · max_j ‖v_j‖`` are treated as zero.
ZERO_BLOCK_RTOL = 1e-6


def convex_objective(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, alpha, *, penalize_hidden_bias=True):
    """Objective of (C-ReLU) and the prediction ``Σ_i D_i X̃ (v_i − u_i) + c``."""
    prediction = forward(X_aug, patterns, blocks_pos - blocks_neg) + intercept
    rows = slice(None) if penalize_hidden_bias else slice(0, -1)
    penalty = np.linalg.norm(blocks_pos[:, rows], axis=1).sum() + np.linalg.norm(blocks_neg[:, rows], axis=1).sum()
    return loss.value(prediction, Y, s) + alpha * float(penalty), prediction


def polish(X_aug, patterns, blocks_pos, blocks_neg, intercept, Y, s, loss, *, fit_intercept):
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

    Returns
    -------
    blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
    intercept : ndarray of shape (n_outputs,)
    """
    blocks = np.stack([blocks_pos, blocks_neg]).copy()  # (2, K, d, P)
    norms = np.linalg.norm(blocks, axis=2)
    keep = norms > ZERO_BLOCK_RTOL * norms.max(initial=0.0)
    blocks *= keep[:, :, None, :]
    for side, k, i in zip(*np.nonzero(keep)):
        blocks[side, k, :, i] = project_onto_cone(X_aug, patterns[:, i], blocks[side, k, :, i])
    if fit_intercept:
        gated = forward(X_aug, patterns, blocks[0] - blocks[1])
        intercept = loss.optimal_intercept(gated, Y, s)
    return blocks[0], blocks[1], np.asarray(intercept, dtype=float)
