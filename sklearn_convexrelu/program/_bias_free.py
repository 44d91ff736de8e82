"""Dual feasibility when the hidden bias is not penalised (the objective of scikit-learn's MLP).

``MLPRegressor`` penalises ``‖W‖²`` but not the hidden biases. Its convex program is (C-ReLU) of
SPEC §3 with the group norm taken over the weight part ``u_{1:p}`` of each block only (the bias
coordinate ``u_d`` is excluded): :class:`~sklearn_convexrelu.solvers.CvxpyProgram` with
``GroupNormPenalty(penalize_hidden_bias=False)``. Its dual constraint (SPEC §4) becomes, for each
pattern ``i`` and sign ``σ``,

    κ_{i,σ} = max { σ rᵀ D_i X̃ u  :  u ∈ K_i,  ‖u_{1:p}‖ ≤ 1 }  ≤  alpha.

Writing ``g = σ X̃ᵀ D_i r = (g_w, g_b)`` and ``A = (2D_i − I) X̃`` (so ``K_i = {u : Au ≥ 0}``),
Lagrangian duality gives (the feasible set contains 0 and the norm constraint is strictly
feasible, so there is no gap)

    κ_{i,σ} = min { ‖g_w + Xᵀτ‖  :  τ_k (2D_ik − 1) ≥ 0,  Σ_k τ_k = −g_b },      τ = (2D_i − 1) ⊙ ρ.

Facts used below:

- ``κ = +∞`` iff the set ``{u ∈ K_i, ‖u_{1:p}‖ ≤ 1}`` is unbounded in a direction with
  ``σ g_b > 0``. Its only recession directions are ``u = (0, t)`` with ``t(2D_ik − 1) ≥ 0``: for a
  mixed pattern ``t = 0`` (the set is bounded, ``|u_d| ≤ max_k ‖x_k‖``); for the all-ones pattern
  ``t ≥ 0``, so ``κ`` is finite iff ``g_b = σ Σ_k r_k ≤ 0`` — automatically satisfied with equality
  when the output intercept is fitted (``Σ r = 0``), and then ``κ = ‖g_w‖``.
- Any feasible ``τ`` gives an upper bound ``‖g_w + Xᵀτ‖ ≥ κ``, so a dual point scaled with it stays
  dual feasible: the lower bound of the certificate does not rely on the accuracy of a solver.
- The maximiser has weight part ``w = (g_w + Xᵀτ*)/κ``; its bias maximises ``g_b u_d`` over the
  interval the cone allows for that ``w`` (any point of it when ``g_b = 0``).

The minimisation over ``τ`` is a non-negative least squares problem with one linear equality,
solved by the method of multipliers (a few :func:`scipy.optimize.nnls` calls).
"""

import numpy as np

from .._nnls import nnls
from .cones import largest_bounds_first
from .operators import adjoint

__all__ = ["bias_free_kappas"]

# Relative violation of Σ τ = −g_b at which the method of multipliers stops.
_EQUALITY_RTOL = 1e-13
_MAX_MULTIPLIER_STEPS = 60
# |Σ_k r_k| below this fraction of Σ_k |r_k| counts as zero for the all-ones pattern.
_ZERO_SUM_RTOL = 1e-12
# κ below this fraction of the norms it cancels from is zero up to rounding.
_ZERO_KAPPA_RTOL = 1e-10


def _min_norm_tau(X, signs, g_w, target):
    """Feasible ``τ`` (exactly: signs and equality) nearly minimising ``‖g_w + Xᵀτ‖``.

    ``signs`` holds ``2D_k − 1``; requires both signs among ``signs`` (a mixed pattern).
    """
    B = (signs[:, None] * X).T  # columns (2D_k − 1) x_k, so Xᵀτ = B ρ with ρ ≥ 0
    scale = max(float(np.max(np.sum(B**2, axis=0))), np.finfo(float).tiny)
    mu = 100.0 * scale
    multiplier = 0.0
    for _ in range(_MAX_MULTIPLIER_STEPS):
        # min_ρ≥0 ‖g_w + Bρ‖² + μ (signsᵀρ − target + multiplier/μ)²
        lhs = np.vstack([B, np.sqrt(mu) * signs])
        rhs = np.concatenate([-g_w, [np.sqrt(mu) * (target - multiplier / mu)]])
        rho, _ = nnls(lhs, rhs)
        violation = signs @ rho - target
        multiplier += mu * violation
        if abs(violation) <= _EQUALITY_RTOL * (abs(target) + np.sum(rho) + 1.0):
            break
    # restore Σ τ = target exactly: on the row that keeps the signs and moves g_w + Xᵀτ least,
    # or, when no row has the needed sign (all-ones pattern), by rescaling ρ
    violation = signs @ rho - target
    rows = np.flatnonzero(signs == -np.sign(violation))
    if violation != 0 and rows.size:
        k = rows[np.argmin(np.linalg.norm(X[rows], axis=1))]
        rho[k] += abs(violation)
    elif violation != 0:
        rho *= target / (signs @ rho)
    return signs * rho


def _bias_interval(X, pattern, w):
    """Interval ``[lo, hi]`` of biases ``b`` with ``(w, b)`` in the cone of ``pattern``."""
    z = X @ w
    lo = np.max(-z[pattern], initial=-np.inf)
    hi = np.min(-z[~pattern], initial=np.inf)
    return lo, hi


def _kappa_one(X, pattern, g):
    """κ and the maximiser ``u`` (``‖u_{1:p}‖ = 1``) for one pattern and ``g = σ X̃ᵀD r``."""
    g_w, g_b = g[:-1], g[-1]
    if pattern.all():
        if g_b > 0:
            return np.inf, np.zeros_like(g)
        tau = _min_norm_tau(X, np.ones(X.shape[0]), g_w, -g_b) if g_b < 0 else np.zeros(X.shape[0])
    else:
        tau = _min_norm_tau(X, np.where(pattern, 1.0, -1.0), g_w, -g_b)
    z = g_w + X.T @ tau
    kappa = float(np.linalg.norm(z))
    if kappa <= _ZERO_KAPPA_RTOL * (np.linalg.norm(g_w) + np.linalg.norm(X.T @ tau)):
        return kappa, np.zeros_like(g)  # κ = 0 up to rounding: no maximiser direction
    w = z / kappa
    lo, hi = _bias_interval(X, pattern, w)
    if g_b > 0:
        b = hi
    elif g_b < 0 or not np.isfinite(hi):
        b = lo
    else:
        b = 0.5 * (lo + hi) if np.isfinite(lo) else hi
    return kappa, np.append(w, b)


def _screening_bound(X_aug, patterns, G):
    """Cheap upper bounds on κ for every column (``+∞`` where κ is infinite).

    ``τ = −g_b e_k`` on one row ``k`` whose sign allows it is feasible, so
    ``κ ≤ min_k ‖g_w − g_b x_k‖``; with ``g_b = 0``, ``τ = 0`` gives ``κ ≤ ‖g_w‖``.
    """
    X = X_aug[:, :-1]
    g_w, g_b = G[:, :-1], G[:, -1]  # G: (Q, d)
    # ‖g_w − g_b x_k‖² for every column and row: (Q, n)
    sq = (np.sum(g_w**2, axis=1)[:, None] - 2 * g_b[:, None] * (g_w @ X.T)
          + (g_b**2)[:, None] * np.sum(X**2, axis=1)[None, :])
    allowed = np.where(g_b[:, None] < 0, patterns.T, ~patterns.T)  # −g_b (2D_k − 1) ≥ 0
    bound = np.sqrt(np.min(np.where(allowed, np.maximum(sq, 0.0), np.inf), axis=1))
    bound = np.where(g_b == 0, np.linalg.norm(g_w, axis=1), bound)
    infinite = patterns.all(axis=0) & (g_b > 0)
    return np.where(infinite, np.inf, bound)


def bias_free_kappas(X_aug, patterns, R, threshold=0.0, *, n_wanted=None, level=None):
    """κ_{i,σ,k} with the hidden bias excluded from the norm, for every pattern, sign and output.

    Same contract as :func:`~sklearn_convexrelu.program.cone_kappas`: entries whose cheap upper
    bound is at most ``threshold`` are not computed and hold the bound. Computed entries are upper
    bounds on κ that are exact up to the accuracy of the method of multipliers (about 1e-12
    relative); they never underestimate κ, so the certificate's lower bound stays valid.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_features + 1)
        ``[X, 1]``: the last coordinate is the (unpenalised) hidden bias.
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    R : ndarray of shape (n_samples, n_outputs)
        Dual vector, one column per output.
    threshold : float, default=0.0
    n_wanted : int, default=None
        Stop computing, in order of decreasing bound, once this many computed entries exceed
        ``level`` (the rest hold their bounds): a pricing step needs only the largest. ``None``:
        every entry above ``threshold``.
    level : float, default=None
        See ``n_wanted``; ``None`` means ``threshold``.

    Returns
    -------
    kappas : ndarray of shape (n_outputs, n_patterns, 2)
        Last axis: σ = +1, σ = −1. ``inf`` where the maximum is unbounded.
    directions : ndarray of shape (n_outputs, n_dims, n_patterns, 2)
        ``κ u*`` with ``u*`` the maximiser (``‖u*_{1:p}‖ = 1``) for computed entries; the
        unprojected ``σ X̃ᵀ D_i r`` for screened ones.
    exact : ndarray of shape (n_outputs, n_patterns, 2), dtype bool
        Whether the entry was computed (``True``) or only bounded (``False``).
    """
    A = adjoint(X_aug, patterns, R)  # (K, d, P)
    directions = np.stack([A, -A], axis=-1)  # (K, d, P, 2)
    K, d, P, _ = directions.shape
    R_sum = np.abs(R).sum(axis=0)  # (K,)
    # the all-ones pattern's g_b = σ Σ r: zero up to rounding when the intercept is fitted
    ones = patterns.all(axis=0)
    tiny = np.abs(directions[:, -1]) <= _ZERO_SUM_RTOL * R_sum[:, None, None]
    directions[:, -1] = np.where(ones[None, :, None] & tiny, 0.0, directions[:, -1])
    columns = directions.transpose(0, 2, 3, 1).reshape(-1, d)  # (K·P·2, d)
    pattern_of = np.tile(np.repeat(np.arange(P), 2), K)
    kappas = _screening_bound(X_aug, patterns[:, pattern_of], columns)
    exact = np.zeros(kappas.shape, dtype=bool)
    X = X_aug[:, :-1]
    level = threshold if level is None else level

    def evaluate(entries):  # one entry at a time
        q = entries[0]
        kappa, u = _kappa_one(X, patterns[:, pattern_of[q]], columns[q])
        kappas[q] = kappa
        columns[q] = kappa * u if np.isfinite(kappa) else columns[q]
        exact[q] = True
        return int(kappa > level)

    largest_bounds_first(kappas.copy(), evaluate, above=threshold, n_wanted=n_wanted, chunk=1, kind="stable")
    shape = (K, P, 2)
    directions = columns.reshape(K, P, 2, d).transpose(0, 3, 1, 2)
    return kappas.reshape(shape), directions, exact.reshape(shape)
