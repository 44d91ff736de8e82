"""The whole set of optimal networks and the transformations that preserve it (SPEC §5, §5.1).

For a loss that is strictly convex in the prediction, every optimal network has the same training
prediction ``ŷ*`` and the same dual vector ``r* = −∇ value(ŷ*)``. The neurons of any optimal
network point along *atoms*: the unit directions ``ŵ_k = Π_{K_i}(σ X̃ᵀ D_i r*) / alpha`` of the
tight cones ``κ_{i,σ} = alpha`` (one atom per distinct direction, sign and output). With the atom
fits ``f_k = σ_k (X̃ ŵ_k)_+``, the optimal networks are exactly those whose per-atom coefficients
``c_k = Σ_j ‖w̃_j‖ |a_j|`` lie in the polytope

    𝒞 = { c ≥ 0 : Σ_k c_k f_k = ŷ* − intercept }                                   (SPEC §5)

The equality holds per output, modulo the output intercept when it is fitted (the intercept is
not always unique: it can trade against atoms whose fits combine into a constant) and modulo a
constant across classes for the softmax loss, which does not see it. :func:`optimal_set_from_fit`
builds this description from a solved program; :class:`OptimalSet` samples it, finds its
vertices, minimal and min-norm points and tests membership; :class:`Invariances` applies the
symmetries of §5.1.

Numerical tolerances
--------------------
The dual vector is known only to the solver's accuracy (a relative gap ``δ`` leaves an error of
order ``√δ`` in the prediction). Before the atoms are extracted, the solver's prediction is
refined by Newton's method on the program restricted to the faces of the cones its blocks lie on
(a smooth group lasso, kept inside the cones); the refinement is kept only when it does not raise
the objective and makes the dual vector more accurate (it is skipped beyond
``REFINE_MAX_UNKNOWNS`` unknowns or when the solve is hopelessly inaccurate). The *accuracy* ``ε``
is then measured as the largest ``|κ/alpha − 1|`` over the solution's blocks (tight in exact
arithmetic) and the excess ``max κ/alpha − 1``, floored at ``ACCURACY_FLOOR`` and capped at
``ACCURACY_CAP``. Decisions use the *tolerance* ``τ = TIGHT_FACTOR · ε``: cones with
``κ ≥ (1 − τ) alpha`` are tight, tight directions closer than ``τ`` are merged, singular values of
the fit matrix below ``τ`` times the largest count as zero. An atom is *free* (positive somewhere
in 𝒞) when it can exceed ``FREE_RTOL`` times the total coefficient. Cones with
``(1 − AMBIGUOUS_FACTOR · ε) alpha ≤ κ < (1 − τ) alpha`` cannot be told apart from tight ones:
they are not atoms, and they are reported in ``ambiguous_cones`` and by an
:class:`AmbiguousTightSetWarning`.
"""

import itertools
import math
import warnings

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import pdist, squareform
from sklearn.utils import check_random_state

from ._nnls import nnls
from .network import TwoLayerReLUNetwork
from .program.cones import _cone_rows, cone_kappas, project_onto_cone
from .program.losses import get_loss

__all__ = ["AmbiguousTightSetWarning", "Invariances", "OptimalSet", "optimal_set_from_fit"]

#: Smallest accuracy assumed for the dual vector (rounding in the cone projections).
ACCURACY_FLOOR = 1e-10
#: Largest accuracy used, so that the bands stay above alpha / 2 (a solve this inaccurate has
#: raised a ConvergenceWarning and its optimal set is only indicative).
ACCURACY_CAP = 5e-3
#: The tolerance τ is this multiple of the measured accuracy ε.
TIGHT_FACTOR = 10.0
#: Cones with κ/alpha in [1 − AMBIGUOUS_FACTOR·ε, 1 − τ) are reported as ambiguous.
AMBIGUOUS_FACTOR = 100.0
#: An atom is free when some point of 𝒞 gives it more than FREE_RTOL times the total coefficient.
FREE_RTOL = 1e-7
#: Largest number of candidate bases enumerated by :meth:`OptimalSet.vertices`.
MAX_BASES = 20_000
#: Largest number of unknowns of the Newton refinement (each step costs O(unknowns³)).
REFINE_MAX_UNKNOWNS = 400

# Newton refinement: |x̃ᵀŵ| ≤ _FACE_RTOL ‖x̃‖ ‖ŵ‖ puts x̃ on the face of ŵ; groups below
# _SMALL_RTOL times the largest may be dropped; stop on a relative Newton decrement.
_FACE_RTOL = 1e-9
_SMALL_RTOL = 1e-2
_NEWTON_RTOL = 1e-15
_NEWTON_MAX_ITER = 30
# Blocks below _SUPPORT_RTOL times the largest are taken as solver noise by the refinement (the
# refinement is verified afterwards, so a wrong guess only loses the refinement).
_SUPPORT_RTOL = 1e-4
# Coefficients below _ZERO_RTOL times the total are rounding errors.
_ZERO_RTOL = 1e-12
# HiGHS tolerances for the linear programs over the (normalised) polytope.
_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_TINY = np.finfo(float).tiny


class AmbiguousTightSetWarning(UserWarning):
    """Some cones have κ too close to alpha to be classified as tight or not."""


# --------------------------------------------------------------------------------------------
# Refinement of the optimal prediction


def _face_basis(X_aug, pattern, direction):
    """Orthonormal basis (d, d_F) of the span of the face of the cone that holds ``direction``."""
    A = _cone_rows(X_aug, pattern)
    scale = np.linalg.norm(A, axis=1) * np.linalg.norm(direction)
    active = A[np.abs(A @ direction) <= _FACE_RTOL * scale]
    if active.shape[0] == 0:
        return np.eye(X_aug.shape[1])
    _, sv, vt = np.linalg.svd(active)
    return vt[int(np.sum(sv > 1e-10 * sv[0])):].T


def _loss_hessian(loss, Z, Y, s):
    """Per-sample Hessians (n, K, K) of ``value`` at ``Z``, by central differences of the residual.

    Every loss is a sum over samples, so shifting output k of all samples at once gives column k
    of every per-sample Hessian (K residual evaluations in all).
    """
    n, K = Z.shape
    h = 1e-4 * max(1.0, float(np.max(np.abs(Z), initial=0.0)))
    W = np.empty((n, K, K))
    for k in range(K):
        shift = np.zeros(K)
        shift[k] = h
        W[:, :, k] = (loss.residual(Z - shift, Y, s) - loss.residual(Z + shift, Y, s)) / (2 * h)
    return W


def _damped_solve(H, g):
    """``(H + μ I)⁻¹ g`` for a symmetric positive semi-definite ``H``, ``μ = 1e-9 · max diag H``.

    The damping (Levenberg–Marquardt) keeps steps bounded along the flat directions of a
    non-unique optimum and along nearly parallel atoms that are not told apart.
    """
    damping = 1e-9 * max(float(np.max(np.diag(H), initial=0.0)), _TINY)
    try:
        return cho_solve(cho_factor(H + damping * np.eye(H.shape[0])), g)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(H, g, rcond=1e-9)[0]


def _newton_group_lasso(J, groups, cones, free, x, loss, Y, s, alpha):
    """Minimise ``value(J x) + alpha Σ_g ‖x_g‖`` subject to ``cones[g] @ x_g ≥ 0``, from ``x``.

    Damped Newton steps on the nonzero groups and the unpenalised columns ``free`` (a boolean
    mask; the other columns stay zero). ``J`` has shape (n, K, N); ``groups`` lists the column
    indices of the penalised groups, ``cones`` their constraints (a ratio test keeps them
    satisfied). A small group
    whose Newton step would carry it through zero is set to zero and left out (an active-set
    guess, verified by the caller). The optimal set is not a point in general, so the Newton system
    is damped.
    """
    n, K, N = J.shape
    flat = J.reshape(n * K, N)
    groups, cones = list(groups), list(cones)

    def objective(z):
        return loss.value((flat @ z).reshape(n, K), Y, s) + alpha * sum(np.linalg.norm(z[g]) for g in groups)

    current = objective(x)
    for _ in range(_NEWTON_MAX_ITER):
        active = free.copy()
        for g in groups:
            active[g] = True
        Z = (flat @ x).reshape(n, K)
        grad = -flat.T @ loss.residual(Z, Y, s).ravel()
        hess = np.einsum("nam,nab,nbq->mq", J, _loss_hessian(loss, Z, Y, s), J, optimize=True)
        for g in groups:
            norm = np.linalg.norm(x[g])
            unit = x[g] / norm
            grad[g] += alpha * unit
            hess[np.ix_(g, g)] += alpha * (np.eye(g.size) - np.outer(unit, unit)) / norm
        step = np.zeros(N)
        step[active] = -_damped_solve(hess[np.ix_(active, active)], grad[active])
        largest = max(np.linalg.norm(x[g]) for g in groups) if groups else 0.0
        through_zero = [
            x[g] @ (x[g] + step[g]) <= 0 and np.linalg.norm(x[g]) <= _SMALL_RTOL * largest for g in groups
        ]
        if any(through_zero):
            groups, cones = _drop_groups(x, groups, cones, through_zero)
            current = objective(x)
            continue
        decrement = -grad @ step
        if not decrement > _NEWTON_RTOL * max(abs(current), _TINY):
            break
        ratios = [(C @ x[g]) / -(C @ step[g]) for g, C in zip(groups, cones)]
        t_max = min([1.0] + [float(np.min(r[np.isfinite(r) & (r >= 0)], initial=1.0)) for r in ratios])
        for t in t_max * 0.5 ** np.arange(40):
            value = objective(x + t * step)
            if value <= current - 1e-4 * t * decrement:
                break
        else:
            break
        x, current = x + t * step, value
        groups, cones = _drop_groups(x, groups, cones, [not np.any(x[g]) for g in groups])  # at the apex
    return x


def _drop_groups(x, groups, cones, gone):
    """Set the groups flagged in ``gone`` to zero and leave them out of ``groups`` and ``cones``."""
    for g in (g for g, flag in zip(groups, gone) if flag):
        x[g] = 0.0
    return [g for g, flag in zip(groups, gone) if not flag], [C for C, flag in zip(cones, gone) if not flag]


def _refine_prediction(X_aug, patterns, Y, s, loss, alpha, blocks, intercept, fit_intercept, R, accuracy):
    """Newton refinement of the optimal prediction (see the module docstring).

    The solution's blocks above ``_SUPPORT_RTOL`` times the largest are grouped by atom (blocks
    whose dual directions at ``R`` are closer than ``TIGHT_FACTOR · accuracy`` share one), each
    group becomes one block on the cone of its largest member, confined to the linear span of the
    face that holds the dual direction. On those subspaces the program is a smooth group lasso.

    Returns
    -------
    (prediction, blocks) or None
        The refined prediction (n, K) and blocks (2, K, d, P); ``None`` when there is nothing to
        refine or a refined block leaves its cone.
    """
    norms = np.linalg.norm(blocks, axis=2)
    side, out, pat = np.nonzero(norms > _SUPPORT_RTOL * norms.max(initial=0.0))
    if side.size == 0:
        return None
    n, K = Y.shape
    duals = np.array([
        project_onto_cone(X_aug, patterns[:, i], (1 - 2 * sd) * X_aug.T @ (patterns[:, i] * R[:, k]))
        for sd, k, i in zip(side, out, pat)
    ])
    units = duals / np.maximum(np.linalg.norm(duals, axis=1, keepdims=True), _TINY)
    labels = _merge_directions(units, np.column_stack([side, out]), TIGHT_FACTOR * accuracy)
    size = norms[side, out, pat]
    members = [np.flatnonzero(labels == label) for label in range(labels.max() + 1)]
    heads = np.array([group[np.argmax(size[group])] for group in members])
    if not np.all(np.any(duals[heads], axis=1)):
        return None  # a block on a cone whose dual direction is zero: far from optimal
    bases = [_face_basis(X_aug, patterns[:, pat[h]], duals[h]) for h in heads]
    offsets = np.cumsum([0] + [B.shape[1] for B in bases])
    n_unknowns = offsets[-1] + (K if fit_intercept else 0)
    if n_unknowns > REFINE_MAX_UNKNOWNS:
        return None
    J = np.zeros((n, K, n_unknowns))
    x = np.zeros(n_unknowns)
    groups, cones = [], []
    for g, (h, group, B) in enumerate(zip(heads, members, bases)):
        cols = np.arange(offsets[g], offsets[g + 1])
        J[:, out[h], cols] = (1 - 2 * side[h]) * (patterns[:, pat[h], None] * X_aug) @ B
        x[cols] = B.T @ units[h] * size[group].sum()  # the dual direction: in the cone, on the face
        A = _cone_rows(X_aug, patterns[:, pat[h]]) @ B  # the face's own constraints vanish
        if np.any(x[cols]):
            groups.append(cols)
            cones.append(A[np.any(np.abs(A) > 1e-12 * np.abs(A).max(initial=0.0), axis=1)])
    if fit_intercept:
        J[:, np.arange(K), offsets[-1] + np.arange(K)] = 1.0
        x[offsets[-1]:] = intercept
    free = np.arange(J.shape[2]) >= offsets[-1]  # the output intercepts
    x = _newton_group_lasso(J, groups, cones, free, x, loss, Y, s, alpha)
    refined = np.zeros_like(blocks)
    for g, (h, B) in enumerate(zip(heads, bases)):
        v = B @ x[offsets[g]:offsets[g + 1]]
        A = _cone_rows(X_aug, patterns[:, pat[h]])
        if np.any(A @ v < -1e-9 * np.linalg.norm(A, axis=1) * np.linalg.norm(v)):
            return None
        refined[side[h], out[h], :, pat[h]] = v
    return np.einsum("nkm,m->nk", J, x), refined


# --------------------------------------------------------------------------------------------
# Tight set and atoms


def _support_accuracy(X_aug, patterns, R, alpha, blocks):
    """``max |κ/alpha − 1|`` over the nonzero blocks of a solution (tight in exact arithmetic)."""
    deviation = 0.0
    for sd, k, i in zip(*np.nonzero(np.linalg.norm(blocks, axis=2) > 0)):
        a = (1 - 2 * sd) * X_aug.T @ (patterns[:, i] * R[:, k])
        deviation = max(deviation, abs(np.linalg.norm(project_onto_cone(X_aug, patterns[:, i], a)) / alpha - 1))
    return deviation


def _dual_analysis(X_aug, patterns, R, alpha, blocks):
    """κ (K, P, 2) and projected directions (K, d, P, 2) near alpha, and the accuracy ε of ``R``.

    Every κ above ``(1 − 2 · AMBIGUOUS_FACTOR · ε) alpha`` is computed exactly (the others are
    screened out by their unprojected norm).
    """
    accuracy = np.clip(_support_accuracy(X_aug, patterns, R, alpha, blocks), ACCURACY_FLOOR, ACCURACY_CAP)
    band = 0.0
    while band < AMBIGUOUS_FACTOR * accuracy:
        band = min(0.5, 2 * AMBIGUOUS_FACTOR * accuracy)
        kappas, directions, _ = cone_kappas(X_aug, patterns, R, threshold=(1 - band) * alpha)
        accuracy = np.clip(float(kappas.max(initial=0.0)) / alpha - 1, accuracy, ACCURACY_CAP)
    return kappas, directions, float(accuracy)


def _merge_directions(units, keys, tolerance):
    """Group label of each unit vector: equal ``keys`` rows and directions closer than ``tolerance``.

    Labels are numbered in the order of each group's first member.
    """
    if units.shape[0] == 0:
        return np.zeros(0, dtype=int)
    close = squareform(pdist(units)) <= tolerance
    close &= (keys[:, None, :] == keys[None, :, :]).all(axis=2)
    _, labels = connected_components(close, directed=False)
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=int)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.reshape(-1)]


# --------------------------------------------------------------------------------------------
# Polytope geometry


def _nuisance_projector(loss_name, n_outputs, fit_intercept):
    """Projection removing what the objective cannot see from arrays of shape (n, K, ...)."""
    softmax = loss_name == "log_loss" and n_outputs > 1

    def project(E):
        if fit_intercept:  # the output intercept absorbs a constant per output
            E = E - E.mean(axis=0, keepdims=True)
        if softmax:  # a constant added to every class does not change the softmax
            E = E - E.mean(axis=1, keepdims=True)
        return E

    return project


def _row_null(A, tolerance):
    """Orthonormal bases of the row space (m, r) and of the null space (m, m − r) of ``A``."""
    m = A.shape[1]
    if m == 0:
        return np.zeros((0, 0)), np.zeros((0, 0))
    _, sv, vt = np.linalg.svd(A, full_matrices=A.shape[0] < m)  # vt is (m, m) either way
    rank = int(np.sum(sv > tolerance * sv[0])) if sv.size and sv[0] > 0 else 0
    return vt[:rank].T, vt[rank:].T


def _free_atoms(point, null, threshold):
    """Coordinates that some ``point + null @ u ≥ 0`` makes larger than about ``threshold``.

    One LP: maximise ``Σ z_k`` with ``0 ≤ z_k ≤ min(c_k, threshold)``. Averaging shows that at the
    optimum ``z_k = threshold`` for every coordinate that can reach ``m · threshold``.
    """
    m, q = null.shape
    if q == 0:
        return point > threshold / 2
    result = linprog(
        np.concatenate([np.zeros(q), -np.ones(m)]), A_ub=np.hstack([-null, np.eye(m)]), b_ub=point,
        bounds=[(None, None)] * q + [(0.0, threshold)] * m, method="highs", options=_LP_OPTIONS,
    )
    return (result.x[q:] if result.status == 0 else point) > threshold / 2


def _chebyshev_center(point, null):
    """Centre of the largest ball inside ``{u : point + null @ u ≥ 0}`` (one LP)."""
    q = null.shape[1]
    result = linprog(
        np.concatenate([np.zeros(q), [-1.0]]),
        A_ub=np.hstack([-null, np.linalg.norm(null, axis=1)[:, None]]), b_ub=point,
        bounds=[(None, None)] * q + [(0.0, 1.0)], method="highs", options=_LP_OPTIONS,
    )
    return result.x[:q] if result.status == 0 else np.zeros(q)


def _least_distance(G, h):
    """``argmin ‖u‖`` subject to ``G u ≥ h``, by one NNLS (Lawson & Hanson's LDP algorithm)."""
    m, q = G.shape
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(q + 1)
    f[-1] = 1.0
    y, _ = nnls(E, f)
    residual = E @ y - f
    if abs(residual[-1]) <= 1e-14:
        return None  # infeasible in floating point
    return -residual[:q] / residual[-1]


# --------------------------------------------------------------------------------------------


class OptimalSet:
    """Every optimal network of a fitted convex program (SPEC §5).

    Built by :func:`optimal_set_from_fit`; the estimators store it as ``optimal_set_``. It holds
    arrays only; analyses (vertices, sampling, membership) are methods. With sampled patterns
    (``exact=False``) it is the set of optimal networks whose neurons use those patterns.

    Attributes
    ----------
    alpha : float
    loss : str
    n_outputs : int
    fit_intercept, hidden_bias : bool
    exact : bool
        Whether the patterns were all the activation patterns of the data.
    prediction : ndarray of shape (n_samples, n_outputs)
        The optimal training prediction ``ŷ*`` (unique; computed as that of the min-norm network).
    dual_vector : ndarray of shape (n_samples, n_outputs)
        The unique dual vector ``r* = −∇ value(ŷ*)``.
    directions : ndarray of shape (n_atoms, n_dims)
        Unit direction ``ŵ_k`` of each atom in ``X̃`` coordinates (hidden bias last).
    signs : ndarray of shape (n_atoms,)
        Sign ``σ_k ∈ {+1, −1}`` of each atom's output weight.
    outputs : ndarray of shape (n_atoms,)
        The output each atom feeds.
    fits : ndarray of shape (n_samples, n_atoms)
        ``f_k = σ_k (X̃ ŵ_k)_+``.
    tight_cones : ndarray of shape (n_tight, 3)
        ``(output, pattern, sign)`` of every tight cone.
    cone_atoms : ndarray of shape (n_tight,)
        The atom of each tight cone (neighbouring cones sharing a direction share an atom).
    ambiguous_cones : ndarray of shape (n_ambiguous, 3)
        ``(output, pattern, sign)`` of the cones in the ambiguity band (not atoms).
    ambiguous_kappa_ratios : ndarray of shape (n_ambiguous,)
        Their ``κ / alpha``.
    is_ambiguous : bool
        Whether some cone is in the ambiguity band.
    accuracy : float
        Measured accuracy ``ε`` of the dual vector (see the module docstring).
    solver_accuracy : float
        The same measure at the solver's own prediction, before the refinement.
    tolerance : float
        ``τ = TIGHT_FACTOR · ε``: tight threshold, merge distance and rank tolerance.
    refined : bool
        Whether the Newton refinement of the solver's prediction was kept.
    projection_residual : float
        Relative distance from the prediction to the cone of the atom fits, removed by a
        least-squares correction (0 in exact arithmetic).
    free_atoms : ndarray of shape (n_atoms,), dtype bool
        Atoms that are positive at some point of 𝒞.
    dimension : int
        Dimension of the coefficient polytope 𝒞.
    is_unique : bool
        ``dimension == 0``: one optimal network up to invariances 1–4 and 6 of §5.1.
    mass : float
        ``Σ_k c_k``, the same at every point of 𝒞 (the optimal penalty divided by alpha).
    min_norm_coefficients : ndarray of shape (n_atoms,)
        The point of 𝒞 of least Euclidean norm (unique).
    solver_coefficients : ndarray of shape (n_atoms,)
        The solver's blocks projected onto their atoms (``Σ ŵ_kᵀ v`` over the atom's cones).
    objective : float
        Objective (NC) of the min-norm network: the optimal value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
    >>> opt = reg.optimal_set_
    >>> opt.n_atoms, opt.dimension
    (4, 1)
    >>> [int(np.count_nonzero(v)) for v in opt.vertices()]
    [2, 2]
    >>> opt.contains(opt.sample(n_neurons=7, random_state=0))
    True
    """

    def __init__(self, *, X_aug, Y, s, alpha, loss, fit_intercept, hidden_bias, exact, directions,
                 signs, outputs, tight_cones, cone_atoms, ambiguous_cones, ambiguous_kappa_ratios,
                 accuracy, solver_accuracy, refined, projection_residual, free_atoms, particular, null_basis, center,
                 mass, solver_coefficients):
        self._X_aug, self._Y, self._s = X_aug, Y, s
        self.alpha = float(alpha)
        self.loss = loss
        self.n_outputs = Y.shape[1]
        self.fit_intercept, self.hidden_bias, self.exact = bool(fit_intercept), bool(hidden_bias), bool(exact)
        self.directions, self.signs, self.outputs = directions, signs, outputs
        self.fits = signs * np.maximum(X_aug @ directions.T, 0.0)
        self.tight_cones, self.cone_atoms = tight_cones, cone_atoms
        self.ambiguous_cones, self.ambiguous_kappa_ratios = ambiguous_cones, ambiguous_kappa_ratios
        self.is_ambiguous = bool(ambiguous_cones.shape[0])
        self.accuracy = float(accuracy)
        self.tolerance = TIGHT_FACTOR * self.accuracy
        self.solver_accuracy = float(solver_accuracy)
        self.refined = bool(refined)
        self.projection_residual = float(projection_residual)
        self.free_atoms = free_atoms
        self._particular, self._null_basis, self._center = particular, null_basis, center
        self.dimension = int(null_basis.shape[1])
        self.is_unique = self.dimension == 0
        self.mass = float(mass)
        self.solver_coefficients = solver_coefficients
        self.min_norm_coefficients = self._min_norm_point()
        network = self.to_network(self.min_norm_coefficients)
        self.prediction = network.output(self._X_raw())
        loss_object = get_loss(loss, self.n_outputs)
        self.dual_vector = loss_object.residual(self.prediction, Y, s)
        self.objective = loss_object.value(self.prediction, Y, s) + network.penalty(self.alpha)
        for array in (X_aug, Y, s, directions, signs, outputs, self.fits, tight_cones, cone_atoms,
                      ambiguous_cones, ambiguous_kappa_ratios, free_atoms, particular, null_basis,
                      center, solver_coefficients, self.min_norm_coefficients, self.prediction,
                      self.dual_vector):
            array.setflags(write=False)

    @property
    def n_atoms(self):
        """int: Number of atoms."""
        return self.directions.shape[0]

    def __repr__(self):
        flag = ", ambiguous" if self.is_ambiguous else ""
        return (
            f"OptimalSet(n_atoms={self.n_atoms}, dimension={self.dimension}, "
            f"is_unique={self.is_unique}, n_outputs={self.n_outputs}{flag})"
        )

    # -- coefficients <-> networks ------------------------------------------------------------

    def _X_raw(self):
        return self._X_aug[:, :-1] if self.hidden_bias else self._X_aug

    def _intercept(self, coef):
        """Optimal output intercept of the network with atom coefficients ``coef``."""
        if not self.fit_intercept:
            return np.zeros(self.n_outputs)
        gated = np.zeros((self.fits.shape[0], self.n_outputs))
        np.add.at(gated.T, self.outputs, (self.fits * coef).T)
        return get_loss(self.loss, self.n_outputs).optimal_intercept(gated, self._Y, self._s)

    def _network(self, atoms, squares, coef):
        """Network whose neuron j is ``(√squares_j ŵ, σ √squares_j)`` on atom ``atoms[j]``."""
        root = np.sqrt(squares)
        W = (self.directions[atoms] * root[:, None]).T
        A = np.zeros((atoms.size, self.n_outputs))
        A[np.arange(atoms.size), self.outputs[atoms]] = self.signs[atoms] * root
        bias = W[-1] if self.hidden_bias else np.zeros(atoms.size)
        return TwoLayerReLUNetwork(W[:-1] if self.hidden_bias else W, bias, A, self._intercept(coef))

    def to_network(self, coef):
        """The network with one neuron per positive atom coefficient (SPEC §5).

        Parameters
        ----------
        coef : array-like of shape (n_atoms,)
            Non-negative atom coefficients, e.g. a row of :meth:`vertices`.

        Returns
        -------
        TwoLayerReLUNetwork
            Neuron ``(√c_k ŵ_k, σ_k √c_k)`` for every ``c_k > 0``, in atom order, and the optimal
            output intercept for these neurons.
        """
        coef = np.asarray(coef, dtype=float)
        if coef.shape != (self.n_atoms,) or np.any(coef < 0):
            raise ValueError(f"coef must be a non-negative array of shape ({self.n_atoms},).")
        atoms = np.flatnonzero(coef > 0)
        return self._network(atoms, coef[atoms], coef)

    def _clean(self, coef):
        """Rounding removed: negative and relatively tiny coefficients, and non-free atoms, are zero."""
        keep = (coef > _ZERO_RTOL * max(self.mass, _TINY)) & self.free_atoms
        return np.where(keep, coef, 0.0)

    def _from_u(self, u):
        return self._clean(self._particular + self._null_basis @ u)

    def _constraint_matrix(self):
        """The fits placed on their outputs, nuisance projected out: shape (n · K, n_atoms)."""
        n, m = self.fits.shape
        placed = _placed_fits(self.fits, self.outputs, self.n_outputs, self.loss, self.fit_intercept)
        return placed.reshape(n * self.n_outputs, m)

    # -- canonical points ------------------------------------------------------------------------

    def _min_norm_point(self):
        if self.dimension == 0:
            return self._clean(self._particular)
        free = self.free_atoms
        u = _least_distance(self._null_basis[free], -self._particular[free] / self.mass)
        return self._from_u(self._center if u is None else u * self.mass)

    def min_norm_network(self):
        """The optimal network of least ``‖c‖``: unique, the canonical choice (SPEC §5).

        It is mapped to itself by every symmetry of the data, merges the duplicate blocks a
        solver spreads over neighbouring cones (one neuron per atom), and does not depend on the
        solver. The estimators use it as ``network_``.

        Returns
        -------
        TwoLayerReLUNetwork
        """
        return self.to_network(self.min_norm_coefficients)

    def _prune(self, coef):
        """A vertex with support inside that of ``coef``: while the support fits are dependent,
        move along a null vector until a coefficient reaches zero (SPEC §5)."""
        A = self._constraint_matrix()
        coef = self._clean(coef)
        while True:
            support = np.flatnonzero(coef)
            _, null = _row_null(A[:, support], self.tolerance)
            if null.shape[1] == 0:
                return coef
            beta = null[:, 0] if np.any(null[:, 0] > 0) else -null[:, 0]
            shrinking = np.flatnonzero(beta > 0)
            ratios = coef[support[shrinking]] / beta[shrinking]
            coef[support] -= ratios.min() * beta
            coef[support[shrinking[np.argmin(ratios)]]] = 0.0
            coef = self._clean(coef)

    def vertices(self, max_count=100, random_state=0):
        """Vertices of the coefficient polytope 𝒞: the minimal optimal networks (SPEC §5).

        A vertex has linearly independent atom fits, hence at most ``rank(fits) ≤ n_samples``
        positive coefficients. All vertices are enumerated when the number of candidate bases,
        ``C(n_free_atoms, dimension)``, is at most ``MAX_BASES``; otherwise they are found by linear
        programs with random objectives, and by pruning the min-norm point.

        Parameters
        ----------
        max_count : int, default=100
            Largest number of vertices returned.
        random_state : int, RandomState instance or None, default=0
            Seeds the random objectives (only when the vertices are not enumerated).

        Returns
        -------
        vertices : ndarray of shape (n_vertices, n_atoms)
            Atom coefficients, fewest neurons first; :meth:`to_network` maps a row to a network.
        """
        return self._vertices(max_count, random_state)[0]

    def _vertices(self, max_count, random_state):
        """Vertices (fewest neurons first, at most ``max_count``) and whether all were enumerated."""
        if self.dimension == 0:
            return self.min_norm_coefficients[None, :], True
        free = np.flatnonzero(self.free_atoms)
        complete = math.comb(free.size, self.dimension) <= MAX_BASES
        if complete:
            found = self._basic_solutions(free)
        else:
            found = self._random_vertices(free, 4 * max_count, check_random_state(random_state))
        found = np.vstack([found, self._prune(self.min_norm_coefficients)])  # always a vertex
        found = np.unique(np.round(found / self.mass, 9), axis=0) * self.mass
        found = np.array([self._clean(c) for c in found]).reshape(-1, self.n_atoms)
        order = np.lexsort(np.vstack([found.T[::-1], np.count_nonzero(found, axis=1)]))
        return found[order][:max_count], complete

    def _basic_solutions(self, free):
        """Every feasible point where ``dimension`` free coefficients vanish with a regular basis."""
        bases = free[np.array(list(itertools.combinations(range(free.size), self.dimension)))]
        N = self._null_basis[bases]  # (n_bases, q, q)
        sv = np.linalg.svd(N, compute_uv=False)
        regular = sv[:, -1] > 1e-9 * sv[:, 0]
        u = np.linalg.solve(N[regular], -self._particular[bases[regular]][:, :, None])[:, :, 0]
        coef = self._particular + u @ self._null_basis.T
        return coef[np.all(coef[:, free] >= -1e-9 * self.mass, axis=1)]

    def _random_vertices(self, free, n_tries, rng):
        """Vertices of LPs with random objectives over ``{u : c̄ + N u ≥ 0}``, pruned to be exact."""
        N, point = self._null_basis[free], self._particular[free] / self.mass
        found = []
        for _ in range(n_tries):
            result = linprog(
                rng.standard_normal(self.dimension), A_ub=-N, b_ub=point,
                bounds=[(None, None)] * self.dimension, method="highs-ds", options=_LP_OPTIONS,
            )
            if result.status == 0:
                found.append(self._prune(self._from_u(result.x * self.mass)))
        return np.array(found).reshape(-1, self.n_atoms)

    def minimal_network(self, *, return_proven=False, max_count=100):
        """A vertex of 𝒞 with the fewest neurons found: a minimal optimal network (SPEC §5).

        Parameters
        ----------
        return_proven : bool, default=False
            Also return whether no optimal network (over these patterns) has fewer neurons. It is
            ``True`` when all vertices were enumerated: the positive coefficients of any optimal
            network contain the support of a vertex.
        max_count : int, default=100
            Vertices examined when they are not enumerated (see :meth:`vertices`).

        Returns
        -------
        network : TwoLayerReLUNetwork
            At most ``rank(fits)`` neurons, with linearly independent fits.
        proven : bool
            Only when ``return_proven=True``.
        """
        vertices, complete = self._vertices(max_count, 0)
        network = self.to_network(vertices[0])
        return (network, bool(complete)) if return_proven else network

    # -- sampling --------------------------------------------------------------------------------

    def _random_point(self, rng):
        """A random point of 𝒞: hit-and-run from the Chebyshev centre."""
        if self.dimension == 0:
            return self.min_norm_coefficients.copy()
        N, point = self._null_basis[self.free_atoms], self._particular[self.free_atoms]
        u = self._center.copy()
        for _ in range(10 + 5 * self.dimension):
            direction = rng.standard_normal(self.dimension)
            direction /= np.linalg.norm(direction)
            slope, level = N @ direction, point + N @ u
            up, down = slope > 1e-12, slope < -1e-12
            low = np.max(-level[up] / slope[up], initial=-np.inf)
            high = np.min(-level[down] / slope[down], initial=np.inf)
            if np.isfinite(low) and np.isfinite(high):
                u = u + rng.uniform(min(low, 0.0), max(high, 0.0)) * direction
        return self._from_u(u)

    def sample(self, n_neurons=None, random_state=None):
        """A random optimal network (SPEC §5).

        A random point of 𝒞 (hit-and-run from its centre); each positive atom coefficient split at
        random over several balanced neurons (Dirichlet fractions) when ``n_neurons`` is given;
        the neurons in random order.

        Parameters
        ----------
        n_neurons : int, default=None
            Width of the network; ``None`` means one neuron per positive coefficient. When it is
            smaller than the number of positive coefficients, a random vertex with at most
            ``n_neurons`` neurons is used instead; when larger than needed, zero neurons are added
            only if there is nothing to split.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        TwoLayerReLUNetwork

        Raises
        ------
        ValueError
            If no optimal network with ``n_neurons`` neurons was found.
        """
        rng = check_random_state(random_state)
        coef = self._random_point(rng)
        if n_neurons is not None and n_neurons < np.count_nonzero(coef):
            vertices = self.vertices(max_count=100, random_state=rng)
            small = np.flatnonzero(np.count_nonzero(vertices, axis=1) <= n_neurons)
            if small.size == 0:
                raise ValueError(
                    f"No optimal network with {n_neurons} neurons was found: the smallest found has "
                    f"{np.count_nonzero(vertices[0])} (see minimal_network)."
                )
            coef = vertices[rng.choice(small)]
        atoms = np.flatnonzero(coef)
        counts = np.ones(atoms.size, dtype=int)
        if n_neurons is not None and atoms.size:
            counts += rng.multinomial(n_neurons - atoms.size, np.full(atoms.size, 1 / atoms.size))
        neuron_atoms = np.repeat(atoms, counts)
        weights = rng.gamma(1.0, size=neuron_atoms.size)  # Dirichlet fractions within each atom
        if atoms.size:
            weights /= np.repeat(np.add.reduceat(weights, np.cumsum(counts) - counts), counts)
        order = rng.permutation(neuron_atoms.size)
        network = self._network(neuron_atoms[order], (weights * coef[neuron_atoms])[order], coef)
        if n_neurons is not None and network.n_neurons < n_neurons:
            network = Invariances(self).add_zero_neurons(network, n_neurons - network.n_neurons)
        return network

    # -- membership ------------------------------------------------------------------------------

    def _default_tol(self, tol):
        return max(1e-6, self.tolerance) if tol is None else float(tol)

    def atom_coefficients(self, network, tol=None):
        """Per-atom coefficients ``c_k = Σ_{j on atom k} ‖w̃_j‖ |a_j|`` of a network.

        Every nonzero neuron is matched to the atom of its output and sign closest to its
        direction; a neuron that is unbalanced, feeds several outputs or is farther than ``tol``
        from every atom makes the network non-optimal, unless it is negligible (penalty at most
        ``tol`` times the optimal penalty), in which case it is ignored.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        tol : float, default=None
            Relative tolerance, as in :meth:`contains`.

        Returns
        -------
        coef : ndarray of shape (n_atoms,) or None
            ``None`` when a non-negligible neuron matches no atom (the network is not optimal).
        neuron_atoms : ndarray of shape (n_neurons,) or None
            The atom of each neuron, ``-1`` for zero and ignored neurons.
        """
        tol = self._default_tol(tol)
        if self.hidden_bias:
            W = np.vstack([network.hidden_weights, network.hidden_bias])
        elif np.any(network.hidden_bias != 0):
            return None, None
        else:
            W = network.hidden_weights
        if W.shape[0] != self.directions.shape[1] or network.n_outputs != self.n_outputs:
            return None, None
        A = network.output_weights
        w_norm, a_norm = np.linalg.norm(W, axis=0), np.linalg.norm(A, axis=1)
        out = np.argmax(np.abs(A), axis=1)
        a = A[np.arange(A.shape[0]), out]
        units = W.T / np.maximum(w_norm, _TINY)[:, None]
        distance = np.linalg.norm(units[:, None, :] - self.directions[None, :, :], axis=2)
        distance[(self.outputs[None, :] != out[:, None]) | (self.signs[None, :] != np.sign(a)[:, None])] = np.inf
        nearest = np.argmin(distance, axis=1) if self.n_atoms else np.zeros(W.shape[1], dtype=int)
        matched = (
            (np.abs(a) >= a_norm * (1 - tol))  # one output
            & (np.abs(w_norm - np.abs(a)) <= tol * np.maximum(w_norm, np.abs(a)))  # balanced
            & (distance[np.arange(W.shape[1]), nearest] <= tol if self.n_atoms else False)
        )
        negligible = 0.5 * (w_norm**2 + a_norm**2) <= tol * max(self.mass, _TINY)
        if not np.all(matched | negligible):
            return None, None
        neuron_atoms = np.where(matched, nearest, -1)
        coef = np.bincount(nearest[matched], weights=(w_norm * np.abs(a))[matched], minlength=self.n_atoms)
        return coef, neuron_atoms

    def contains(self, network, tol=None):
        """Whether ``network`` is an optimal network (SPEC §5).

        True iff every non-negligible neuron is balanced (``‖w̃_j‖ = |a_j|``), feeds one output and
        points along an atom of its sign and output (see :meth:`atom_coefficients`), and the
        training prediction is the optimal one (modulo a constant across classes for the softmax
        loss). Such a network has the optimal objective.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        tol : float, default=None
            Relative tolerance on balance, on directions (distance of unit vectors) and on the
            prediction. ``None`` means ``max(1e-6, tolerance)``. The objective grows quadratically
            away from the optimal set, so a network whose objective exceeds the optimum by a
            relative ``δ`` (e.g. a solver's) is in the set only to about ``√δ``.

        Returns
        -------
        bool
        """
        tol = self._default_tol(tol)
        coef, _ = self.atom_coefficients(network, tol)
        if coef is None:
            return False
        difference = network.output(self._X_raw()) - self.prediction
        if self.loss == "log_loss" and self.n_outputs > 1:
            difference -= difference.mean(axis=1, keepdims=True)
        scale = max(float(np.linalg.norm(self.prediction)), _TINY)
        return bool(np.linalg.norm(difference) <= tol * scale)


# --------------------------------------------------------------------------------------------


class Invariances:
    """Transformations that map optimal networks to optimal networks (SPEC §5.1).

    Each method takes a :class:`~sklearn_convexrelu.TwoLayerReLUNetwork` and returns a new one.
    Applied to an optimal network, every method but :meth:`rescale` returns an optimal network
    with the same training prediction. Invariance 6 of §5.1, re-assigning a neuron whose direction
    lies on a cone boundary to the neighbouring pattern, changes the convex blocks but not the
    network's weights, so it needs no method.

    Parameters
    ----------
    optimal_set : OptimalSet

    Attributes
    ----------
    optimal_set : OptimalSet
    continuous_dimension : int
        Dimension of the continuous family of optimal networks beyond splitting: that of the
        coefficient polytope (``optimal_set.dimension``).
    names : tuple of str
        The invariances, in the order of §5.1.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> X = np.linspace(-1, 1, 12)[:, None]
    >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, np.abs(X[:, 0]))
    >>> inv = reg.invariances_
    >>> net = inv.split(reg.network_, 0, [0.25, 0.75])
    >>> net.n_neurons == reg.network_.n_neurons + 1, reg.optimal_set_.contains(net)
    (True, True)
    >>> reg.optimal_set_.contains(inv.rescale(reg.network_, 0, 2.0))
    False
    """

    names = ("permute", "split", "merge", "add_zero_neurons", "remove_zero_neurons", "move_in_polytope")

    def __init__(self, optimal_set):
        self.optimal_set = optimal_set
        self.continuous_dimension = optimal_set.dimension

    def __repr__(self):
        q = self.continuous_dimension
        return (
            f"Invariances(continuous_dimension={q}): maps between optimal networks (SPEC §5.1)\n"
            "  1. permute(network, order)            reorder the neurons\n"
            "  2. split(network, neuron, fractions)  (w, a) -> (√γ_t w, √γ_t a), Σ γ_t = 1\n"
            "  3. merge(network)                     merge positively parallel same-sign neurons\n"
            "  4. add_zero_neurons(network, count)   append neurons with zero weights\n"
            "     remove_zero_neurons(network)       drop neurons with zero weights\n"
            f"  5. move_in_polytope(network, ...)     move the atom coefficients inside 𝒞 (dimension {q})\n"
            "  6. re-assign a neuron on a cone boundary to a neighbouring pattern (weights unchanged)\n"
            "  not an invariance: rescale(network, neuron, γ) = (γw, a/γ), same function, larger penalty"
        )

    @staticmethod
    def _take(network, index, scale=None):
        """The neurons ``index`` of ``network``, each multiplied by ``scale`` (both layers)."""
        scale = np.ones(len(index)) if scale is None else scale
        return TwoLayerReLUNetwork(
            network.hidden_weights[:, index] * scale, network.hidden_bias[index] * scale,
            network.output_weights[index] * scale[:, None], network.output_bias,
        )

    def permute(self, network, order=None, random_state=None):
        """Reorder the neurons (invariance 1).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        order : array-like of shape (n_neurons,), default=None
            A permutation of ``range(n_neurons)``; random when ``None``.
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        TwoLayerReLUNetwork
        """
        if order is None:
            order = check_random_state(random_state).permutation(network.n_neurons)
        order = np.asarray(order, dtype=int)
        if not np.array_equal(np.sort(order), np.arange(network.n_neurons)):
            raise ValueError("order must be a permutation of range(n_neurons).")
        return self._take(network, order)

    def split(self, network, neuron, fractions):
        """Split neuron ``(w, a)`` into ``(√γ_t w, √γ_t a)`` with ``Σ γ_t = 1`` (invariance 2).

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        neuron : int
        fractions : array-like of shape (n_parts,)
            Positive, summing to 1.

        Returns
        -------
        TwoLayerReLUNetwork
            The parts replace the neuron, in its place.
        """
        gamma = np.asarray(fractions, dtype=float)
        if gamma.ndim != 1 or np.any(gamma <= 0) or not np.isclose(gamma.sum(), 1.0, rtol=1e-12):
            raise ValueError("fractions must be positive and sum to 1.")
        before, after = np.arange(neuron), np.arange(neuron + 1, network.n_neurons)
        index = np.concatenate([before, np.full(gamma.size, neuron), after])
        scale = np.ones(index.size)
        scale[neuron:neuron + gamma.size] = np.sqrt(gamma)
        return self._take(network, index, scale)

    def merge(self, network, tol=1e-9):
        """Merge positively parallel neurons with the same output and sign (invariance 3).

        Neurons whose unit hidden vectors (bias included) are closer than ``tol`` become the
        balanced neuron ``(√p û, σ √p)``, ``p = Σ ‖w̃_j‖ |a_j|``: the same function, and the same
        penalty when they are balanced. The inverse of :meth:`split`.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            Each nonzero neuron feeds one output.
        tol : float, default=1e-9

        Returns
        -------
        TwoLayerReLUNetwork
            One neuron per group, in the order of the groups' first neurons; zero neurons dropped.
        """
        W = np.vstack([network.hidden_weights, network.hidden_bias])
        A = network.output_weights
        w_norm = np.linalg.norm(W, axis=0)
        live = np.flatnonzero((w_norm > 0) & np.any(A != 0, axis=1))
        if np.any(np.count_nonzero(A[live], axis=1) > 1):
            raise ValueError("merge needs neurons that each feed one output.")
        out = np.argmax(np.abs(A[live]), axis=1)
        a = A[live, out]
        units = W[:, live] / w_norm[live]
        labels = _merge_directions(units.T, np.column_stack([out, np.sign(a)]), tol)
        product = np.bincount(labels, weights=w_norm[live] * np.abs(a))
        _, first = np.unique(labels, return_index=True)
        root = np.sqrt(product)
        W_new = units[:, first] * root
        A_new = np.zeros((first.size, network.n_outputs))
        A_new[np.arange(first.size), out[first]] = np.sign(a[first]) * root
        return TwoLayerReLUNetwork(W_new[:-1], W_new[-1], A_new, network.output_bias)

    def add_zero_neurons(self, network, count=1):
        """Append ``count`` neurons with zero weights (invariance 4)."""
        return TwoLayerReLUNetwork(
            np.hstack([network.hidden_weights, np.zeros((network.n_features, count))]),
            np.concatenate([network.hidden_bias, np.zeros(count)]),
            np.vstack([network.output_weights, np.zeros((count, network.n_outputs))]), network.output_bias,
        )

    def remove_zero_neurons(self, network):
        """Drop the neurons whose weights are all zero (invariance 4)."""
        keep = (
            np.any(network.hidden_weights != 0, axis=0) | (network.hidden_bias != 0)
            | np.any(network.output_weights != 0, axis=1)
        )
        return self._take(network, np.flatnonzero(keep))

    def move_in_polytope(self, network, direction=None, step=0.5, random_state=None, tol=None):
        """Move the atom coefficients of an optimal network inside 𝒞 (invariance 5).

        The coefficients move from ``c`` to ``c + t β`` with ``β`` in the directions of the
        polytope's affine hull (``Σ_k β_k f_k = 0`` modulo the intercept, zero on atoms that are
        zero throughout 𝒞), a fraction ``step`` of the way to the boundary (if ``β`` leaves 𝒞 at
        once, ``−β`` is used). Each neuron on atom ``k`` is scaled by ``√(c'_k / c_k)``; atoms that
        become positive get a new neuron; neurons of atoms reaching zero become zero neurons.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            An optimal network.
        direction : array-like of shape (n_atoms,), default=None
            Projected onto the directions of the affine hull; random when ``None``.
        step : float, default=0.5
            Fraction, in [0, 1], of the distance to the boundary of 𝒞.
        random_state : int, RandomState instance or None, default=None
        tol : float, default=None
            Tolerance of the membership test (see :meth:`OptimalSet.contains`).

        Returns
        -------
        TwoLayerReLUNetwork
            ``network`` itself when ``continuous_dimension == 0``.

        Raises
        ------
        ValueError
            If ``network`` is not optimal or ``step`` is not in [0, 1].
        """
        opt = self.optimal_set
        if not 0 <= step <= 1:
            raise ValueError(f"step must be in [0, 1], got {step}.")
        if not opt.contains(network, tol):
            raise ValueError("move_in_polytope needs an optimal network (optimal_set.contains(network)).")
        if opt.dimension == 0:
            return network
        coef, neuron_atoms = opt.atom_coefficients(network, tol)
        N = opt._null_basis
        if direction is None:
            beta = N @ check_random_state(random_state).standard_normal(N.shape[1])
        else:
            beta = N @ (N.T @ np.asarray(direction, dtype=float))
        t, blocking = _max_step(coef, beta)
        if t == 0:
            beta = -beta
            t, blocking = _max_step(coef, beta)
        new = np.maximum(coef + step * t * beta, 0.0) if np.isfinite(t) else coef
        if step == 1:  # the atoms that meet the boundary are zero, not rounding above it
            new[blocking] = 0.0
        live = neuron_atoms >= 0
        ratio = np.divide(new, coef, out=np.zeros_like(new), where=coef > 0)
        scale = np.ones(network.n_neurons)
        scale[live] = np.sqrt(ratio[neuron_atoms[live]])
        moved = self._take(network, np.arange(network.n_neurons), scale)
        born = np.flatnonzero((coef == 0) & (new > 0))
        extra = opt._network(born, new[born], new)
        return TwoLayerReLUNetwork(
            np.hstack([moved.hidden_weights, extra.hidden_weights]),
            np.concatenate([moved.hidden_bias, extra.hidden_bias]),
            np.vstack([moved.output_weights, extra.output_weights]), opt._intercept(new),
        )

    def rescale(self, network, neuron, factor):
        """Unbalanced rescaling ``(γ w, a / γ)`` of one neuron: **not** an invariance at an optimum.

        The network computes the same function but its penalty
        ``(alpha/2)(γ² ‖w̃‖² + a²/γ²)`` exceeds the balanced ``alpha ‖w̃‖ |a|`` unless ``γ = 1``
        (SPEC §1, §5.1), so :meth:`OptimalSet.contains` rejects the result.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
        neuron : int
        factor : float
            ``γ > 0``.

        Returns
        -------
        TwoLayerReLUNetwork
        """
        if not factor > 0:
            raise ValueError("factor must be positive.")
        up = np.ones(network.n_neurons)
        up[neuron] = factor
        return TwoLayerReLUNetwork(
            network.hidden_weights * up, network.hidden_bias * up,
            network.output_weights / up[:, None], network.output_bias,
        )


def _max_step(coef, beta):
    """Largest ``t ≥ 0`` with ``coef + t beta ≥ 0``, and the coefficients that reach zero there."""
    shrinking = beta < -1e-12 * np.abs(beta).max(initial=0.0)
    ratio = np.where(shrinking, coef / np.where(shrinking, -beta, 1.0), np.inf)
    t = float(ratio.min(initial=np.inf))
    return t, shrinking & (ratio <= t)


# --------------------------------------------------------------------------------------------


def _placed_fits(fits, outputs, n_outputs, loss_name, fit_intercept):
    """Fits placed on their outputs, shape (n, K, n_atoms), with the nuisance projected out."""
    n, m = fits.shape
    placed = np.zeros((n, n_outputs, m))
    placed[:, outputs, np.arange(m)] = fits
    return _nuisance_projector(loss_name, n_outputs, fit_intercept)(placed)


def optimal_set_from_fit(X_aug, arrangements, Y, s, loss, alpha, solution, prediction, *,
                         fit_intercept, hidden_bias):
    """Build the :class:`OptimalSet` of a solved convex program (SPEC §5).

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    arrangements : Arrangements
        The patterns the program was solved over.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    s : ndarray of shape (n_samples,)
        Positive sample weights summing to n_samples.
    loss : loss object
        From :func:`~sklearn_convexrelu.program.losses.get_loss`; strictly convex in the prediction
        (the softmax up to a constant across classes).
    alpha : float
    solution : ConvexSolution
        The polished solution.
    prediction : ndarray of shape (n_samples, n_outputs)
        Its training prediction.
    fit_intercept, hidden_bias : bool

    Returns
    -------
    OptimalSet

    Warns
    -----
    AmbiguousTightSetWarning
        When cones lie in the ambiguity band (see the module docstring).
    """
    patterns = arrangements.patterns
    solver_blocks = np.stack([solution.blocks_pos, solution.blocks_neg])  # (2, K, d, P)
    R = loss.residual(prediction, Y, s)
    solver_accuracy = _support_accuracy(X_aug, patterns, R, alpha, solver_blocks)
    solver_accuracy = np.clip(solver_accuracy, ACCURACY_FLOOR, ACCURACY_CAP)
    target, blocks, analysis = prediction, solver_blocks, None
    refined = None
    if solver_accuracy < ACCURACY_CAP:
        refined = _refine_prediction(
            X_aug, patterns, Y, s, loss, alpha, solver_blocks, solution.intercept, fit_intercept, R, solver_accuracy
        )
    if refined is not None:
        before = loss.value(prediction, Y, s) + alpha * np.linalg.norm(solver_blocks, axis=2).sum()
        after = loss.value(refined[0], Y, s) + alpha * np.linalg.norm(refined[1], axis=2).sum()
        if after <= before + 1e-12 * abs(before):
            analysis = _dual_analysis(X_aug, patterns, loss.residual(refined[0], Y, s), alpha, refined[1])
            if analysis[2] < solver_accuracy:
                target = refined[0]
            else:
                analysis = None
    was_refined = analysis is not None
    if analysis is None:
        analysis = _dual_analysis(X_aug, patterns, R, alpha, solver_blocks)
        solver_accuracy = analysis[2]
    kappas, directions, accuracy = analysis
    tolerance = TIGHT_FACTOR * accuracy
    ratio = kappas / alpha
    tight = np.argwhere(ratio >= 1 - tolerance)  # rows (output, pattern, side)
    ambiguous = np.argwhere((ratio < 1 - tolerance) & (ratio >= 1 - AMBIGUOUS_FACTOR * accuracy))
    if ambiguous.shape[0]:
        warnings.warn(
            f"{ambiguous.shape[0]} cone(s) have kappa/alpha in [1 - {AMBIGUOUS_FACTOR * accuracy:.1e}, "
            f"1 - {tolerance:.1e}): at the dual accuracy {accuracy:.1e} they cannot be told from "
            "tight cones and are left out of the atoms (see optimal_set_.ambiguous_cones). A "
            "smaller tol or another alpha gives a sharper optimal set.",
            AmbiguousTightSetWarning,
        )

    # Atoms: tight directions, merged across neighbouring cones (SPEC §5).
    units = directions[tight[:, 0], :, tight[:, 1], tight[:, 2]] / kappas[tuple(tight.T)][:, None]
    sign = 1 - 2 * tight[:, 2]
    cone_atoms = _merge_directions(units, np.column_stack([tight[:, 0], sign]), tolerance)
    n_atoms = int(cone_atoms.max(initial=-1)) + 1
    atom_units = np.zeros((n_atoms, X_aug.shape[1]))
    np.add.at(atom_units, cone_atoms, units)
    atom_units /= np.maximum(np.linalg.norm(atom_units, axis=1, keepdims=True), _TINY)
    _, first = np.unique(cone_atoms, return_index=True)
    atom_signs, atom_outputs = sign[first], tight[first, 0]
    fits = atom_signs * np.maximum(X_aug @ atom_units.T, 0.0)

    # Polytope {c ≥ 0 : A c = b}: the least-squares correction b ↦ A·nnls(A, b) puts the anchor
    # (and with it the polytope) exactly on the cone of the fits.
    n, K = Y.shape
    A = _placed_fits(fits, atom_outputs, K, loss.name, fit_intercept).reshape(n * K, n_atoms)
    b = _nuisance_projector(loss.name, K, fit_intercept)(target).ravel()
    anchor = nnls(A, b)[0] if n_atoms else np.zeros(0)
    projection_residual = np.linalg.norm(A @ anchor - b) / max(np.linalg.norm(b), _TINY)
    mass = float(anchor.sum())
    scale = max(mass, _TINY)
    row, null = _row_null(A, tolerance)
    free = _free_atoms(row @ (row.T @ anchor) / scale, null, FREE_RTOL) if n_atoms else np.zeros(0, dtype=bool)
    row_free, null_free = _row_null(A[:, free], tolerance)
    particular = np.zeros(n_atoms)
    particular[free] = row_free @ (row_free.T @ anchor[free])
    null_basis = np.zeros((n_atoms, null_free.shape[1]))
    null_basis[free] = null_free
    center = _chebyshev_center(particular[free] / scale, null_free) * scale if null_free.shape[1] else np.zeros(0)

    solver_coefficients = np.zeros(n_atoms)
    on_atom = solver_blocks[tight[:, 2], tight[:, 0], :, tight[:, 1]]  # (n_tight, d)
    along = np.maximum(np.einsum("td,td->t", on_atom, atom_units[cone_atoms]), 0.0)
    np.add.at(solver_coefficients, cone_atoms, along)
    return OptimalSet(
        X_aug=X_aug, Y=Y, s=s, alpha=alpha, loss=loss.name, fit_intercept=fit_intercept,
        hidden_bias=hidden_bias, exact=arrangements.exact, directions=atom_units,
        signs=atom_signs.astype(int), outputs=atom_outputs.astype(int),
        tight_cones=np.column_stack([tight[:, 0], tight[:, 1], sign]).astype(int), cone_atoms=cone_atoms,
        ambiguous_cones=np.column_stack([ambiguous[:, 0], ambiguous[:, 1], 1 - 2 * ambiguous[:, 2]]).astype(int),
        ambiguous_kappa_ratios=ratio[tuple(ambiguous.T)], accuracy=accuracy,
        solver_accuracy=solver_accuracy, refined=was_refined,
        projection_residual=projection_residual, free_atoms=free, particular=particular,
        null_basis=null_basis, center=center, mass=mass, solver_coefficients=solver_coefficients,
    )
