"""Projections onto the activation cones and the dual-feasibility numbers κ (SPEC §2, §4).

The cone of pattern ``D_i`` is ``K_i = {u : (2 D_i − I) X̃ u ≥ 0}``. For ``a ∈ R^d``,
``max_{u ∈ K_i, ‖u‖ ≤ 1} aᵀu = ‖Π_{K_i}(a)‖`` and, by Moreau's decomposition,
``Π_K(a) = a + Aᵀρ*`` with ``ρ* = argmin_{ρ ≥ 0} ‖a + Aᵀρ‖`` (one non-negative least squares).
"""

import numpy as np
from scipy.optimize import nnls

from .operators import adjoint

__all__ = ["cone_kappas", "project_onto_cone"]


def _cone_rows(X_aug, pattern):
    """Rows of ``(2D − I) X̃`` that constrain the cone (zero rows dropped)."""
    A = np.where(pattern[:, None], X_aug, -X_aug)
    return A[np.any(A != 0, axis=1)]


def project_onto_cone(X_aug, pattern, a):
    """Euclidean projection of ``a`` onto the cone ``K = {u : (2D − I) X̃ u ≥ 0}``.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    pattern : ndarray of shape (n_samples,), dtype bool
    a : ndarray of shape (n_dims,)

    Returns
    -------
    ndarray of shape (n_dims,)
    """
    A = _cone_rows(X_aug, pattern)
    if A.shape[0] == 0 or np.all(A @ a >= 0):
        return np.array(a, dtype=float)
    rho, _ = nnls(A.T, -a, maxiter=50 * A.shape[0])
    return a + A.T @ rho


def cone_kappas(X_aug, patterns, R, threshold=0.0):
    """κ_{i,σ,k} = ‖Π_{K_i}(σ X̃ᵀ D_i r_k)‖ for every pattern i, sign σ and output k (SPEC §4).

    Only blocks whose unprojected norm ``‖X̃ᵀ D_i r_k‖`` exceeds ``threshold`` are projected (since
    ``‖Π_K(a)‖ ≤ ‖a‖``); the others get the unprojected norm, an upper bound.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    R : ndarray of shape (n_samples, n_outputs)
        Dual vector, one column per output.
    threshold : float, default=0.0

    Returns
    -------
    kappas : ndarray of shape (n_outputs, n_patterns, 2)
        Last axis: σ = +1 (positive neurons), σ = −1 (negative neurons).
    directions : ndarray of shape (n_outputs, n_dims, n_patterns, 2)
        The projections ``Π_{K_i}(σ X̃ᵀ D_i r_k)`` (unprojected for screened blocks).
    exact : ndarray of shape (n_outputs, n_patterns, 2), dtype bool
        Whether the entry was projected (``True``) or only bounded (``False``).
    """
    A = adjoint(X_aug, patterns, R)  # (K, d, P)
    directions = np.stack([A, -A], axis=-1)  # (K, d, P, 2)
    norms = np.linalg.norm(directions, axis=1)
    kappas = norms.copy()
    exact = np.zeros(kappas.shape, dtype=bool)
    for k, i, side in zip(*np.nonzero(norms > threshold)):
        proj = project_onto_cone(X_aug, patterns[:, i], directions[k, :, i, side])
        directions[k, :, i, side] = proj
        kappas[k, i, side] = np.linalg.norm(proj)
        exact[k, i, side] = True
    return kappas, directions, exact
