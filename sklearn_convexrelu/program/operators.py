"""Forward operator of the convex program and its adjoint (SPEC §3, §7).

Blocks are stored as arrays of shape ``(n_outputs, n_dims, n_patterns)``; ``patterns`` is the
boolean pattern matrix ``M`` of shape ``(n_samples, n_patterns)``. ``D_i X̃`` is never formed.
"""

import numpy as np

__all__ = ["adjoint", "forward"]


def forward(X_aug, patterns, blocks):
    """Gated prediction ``Σ_i D_i X̃ b_i`` for every output.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    blocks : ndarray of shape (n_outputs, n_dims, n_patterns)

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    # (K, n, P) masked products summed over patterns: sum(M ⊙ (X̃ B_k), axis=1)
    return np.einsum("knp,np->nk", X_aug @ blocks, patterns, optimize=True)


def adjoint(X_aug, patterns, G):
    """Adjoint of :func:`forward`: ``X̃ᵀ D_i g_k`` for every pattern i and output k.

    One matrix product ``X̃ᵀ(M ⊙ g_k)`` per output (SPEC §7); faster than a three-operand einsum.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool or float
        The pattern matrix ``M`` (a 0/1 float copy gives the same result and saves a conversion
        per call).
    G : ndarray of shape (n_samples, n_outputs)

    Returns
    -------
    ndarray of shape (n_outputs, n_dims, n_patterns)
    """
    return np.stack([X_aug.T @ (patterns * G[:, [k]]) for k in range(G.shape[1])])
