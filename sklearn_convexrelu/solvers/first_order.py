"""Working-set solver of (C-ReLU) stopped on the certified duality gap (SPEC §4, §7).

Only the adjoint ``r ↦ X̃ᵀ(M ⊙ r)`` touches all patterns; everything else works on a small set of
*atoms*. An atom is a unit direction ``u`` in the cone ``K_i`` of one block (output ``k``, pattern
``i``, sign ``σ``), with fit ``σ D_i X̃ u``; every point of the program is a non-negative combination
``Σ_a t_a u_a`` of atoms, with penalty at most ``alpha Σ t_a`` (equal when each block has one atom).
Optimal solutions are sparse in atoms (SPEC §5). Each iteration

1. computes the dual vector ``r = −∇L`` at the current prediction and, for every block,
   ``κ = ‖Π_{K_i}(σ X̃ᵀ D_i r)‖`` (SPEC §4): one adjoint product, the screening
   ``‖X̃ᵀ D_i r‖ ≤ alpha``, and cone projections for the rest (cached faces make them a batch of
   small products, see :mod:`._cone_projection`), exact above the level that the atoms to add must
   reach (an upper bound suffices below it);
2. certifies the current point by the duality gap of SPEC §4 (``r`` scaled to feasibility) and stops
   when the relative gap is at most ``tol`` — never on an iteration count;
3. adds the maximising directions of the violated blocks (``κ > alpha``) as atoms (column generation,
   i.e. cutting planes on the dual);
4. solves the restricted problem ``min_{t ≥ 0, c} L(F t + c) + alpha Σ t`` over the atoms' fits ``F``
   by Newton steps (one exact step for the squared loss) whose bound-constrained quadratic
   subproblems are solved exactly by an active-set method, then drops atoms that have stayed at
   ``t = 0`` and merges the positive atoms of each block into one along their sum (same fit,
   penalty ``alpha ‖Σ t_a u_a‖ ≤ alpha Σ t_a``); in a long solve with at most ``2 (n K + K)``
   positive atoms, only the blocks with more than a few atoms (the conic hull of a few atoms turns
   a block's direction);
5. once the gap is below ``_POLISH_GAP``, turns the active blocks' directions by Newton steps on
   the group lasso restricted to them (each block on its face of its cone, which rows that would
   stop the step join), then re-solves 4: atoms are fixed directions, and a block whose optimal
   direction is not one of them would otherwise be approached one pricing step at a time. The
   polish needs one atom per block and at most ``_POLISH_SIZE`` variables, so it runs in the
   first ``_HULL_AFTER`` iterations (the short solves) and where step 4 merges everything; in
   long solves step 4's hulls turn the directions instead.

The blocks returned are ``w_b = Σ_{a ∈ b} t_a u_a``, moved strictly inside their cones by a
rounding-level step so that polishing leaves them unchanged.

With ``gated=True`` the same iterations solve the gated ReLU relaxation (no cone constraints):
``κ`` is then the plain norm of the adjoint and no projection is needed.
"""

import time

import numpy as np
from scipy.linalg import LinAlgError
from scipy.linalg.lapack import dpotrf, dpotrs

from ..program.certificate import check_alpha_resolvable, dual_point, dual_vector
from ..program.cones import cone_kappas, face_span, largest_bounds_first, on_face
from ..program.operators import adjoint
from ..program.penalty import GroupNormPenalty
from ._cone_projection import ConeProjector
from ._result import SolveResult
from ._subspace_newton import add_ridge, fit_hessian, subspace_gradient, subspace_hessian
from ._threads import blas_threads

__all__ = ["FirstOrderSolver", "solve_first_order"]

# Relative ridge added to the diagonal of the Hessian of the restricted problem, entry by entry:
# makes it positive definite (the restricted optimum need not be unique, SPEC §5) at a cost far below
# any requested gap, whatever the scales of the atoms' fits (a ridge relative to the largest entry
# swamped the atoms along small columns: one column ×1e4 took 360 iterations, now 12).
_RIDGE = 1e-10
# Blocks enter as atoms when κ > alpha (1 + _ENTER · tol): smaller violations change the gap by less.
_ENTER = 0.1
# Atoms added per iteration: at least this many, at most as many as are already in the working set.
_MIN_NEW_ATOMS = 32
# The restricted QP resolves the atoms' gradients ``alpha − fᵀr`` to _QP_TOL · tol · alpha (far below the
# entering level _ENTER · tol · alpha), or to the rounding of ``Hx − b`` (_ROUNDING relative) when
# that is coarser.
_QP_TOL, _ROUNDING = 1e-2, 1e-13
# Block principal pivoting steps before the monotone active-set method takes over.
_PIVOTING_STEPS = 25
# Newton steps per restricted solve (the squared loss needs one).
_MAX_NEWTON = 50
# Restricted solves an atom may sit at t = 0 before it is dropped: keeping recent atoms lets the
# conic hull of a block's atoms approach its optimal direction instead of trading one atom for
# another (tailing of column generation in near-interpolating fits).
_IDLE_ROUNDS = 5
# The solve stops as "stalled" after this many iterations that lower neither the objective (by
# _PROGRESS, relative) nor the best certified gap: more atoms no longer close the gap
# (near-degenerate, interpolating fits).
_STALL_ITERATIONS, _PROGRESS = 10, 1e-13
# ... or as "stalled" when _TAIL_ITERATIONS iterations have not halved the best certified gap: the
# sublinear tail of column generation (objective falling ~1e-7 per iteration at a gap of ~2e-4 on
# near-interpolating multi-output fits, 1,000 iterations in 4 s without closing it; a column ×1e4
# crawls at ~1.5e-6 for 150 iterations and then converges within 350).
_TAIL_ITERATIONS = 200
_MERGE = True
# Beyond _HULL_AFTER iterations of a solve, a block keeps up to _HULL_ATOMS positive atoms (their
# conic hull turns its direction; a block with more is merged into one) while there are at most
# _MERGE_ALL (n_samples K + K) positive atoms; otherwise every block's atoms are merged into one
# (and the direction polish, which needs one atom per block and at most _POLISH_SIZE variables,
# can run). Merging always left column generation two atoms per block to turn a direction: a tail
# of 548 iterations on a planted teacher with n = 500, 20 features and 100 sampled patterns (55
# now; a limit of 2 atoms gave 161, 3 gave 80), and stalls with few patterns, where the polish
# could run: n = 1000, 10 features, 20 patterns stopped at a gap of 2e-4 to 6e-4 after 600
# iterations (6 s), now 28-38 (0.3-0.7 s).
# Solves that end within _HULL_AFTER iterations (the final solve after a pattern search) merge as
# before: there the hull only enlarged the restricted problems (friedman1, n = 1000:
# 6 iterations either way, 0.45 s against 0.26 s); so do more than 2 (n K + K) positive atoms, whose
# extra ones add no fit (planted teacher, n = 200: 0.30 s against 0.55 s for the final solve; a
# limit of n + K gave 147 iterations on the n = 500 case).
_HULL_ATOMS, _HULL_AFTER, _MERGE_ALL = 4, 10, 2
# Atoms added per iteration at most max(_MIN_NEW_ATOMS, n_samples + n_outputs): with the merging the
# working set stays within a few atoms per active block, so an iteration's work is bounded and
# max_iter bounds the time.
# Ill-conditioning (SPEC §4 needs κ resolved to tol · alpha): the fits of unit directions scale with
# the columns of X̃, so as the column scales ρ of X̃ part, κ along the large columns magnifies the
# error of r by ρ, and the cones turn needle-thin. Measured on n = 20, 2 features, one column
# ×10^k: ρ = 8e3 converges (12 iterations); at ρ = 8e4 the solve reaches a gap of 2e-7 in 15
# iterations but its blocks leave their thin cones by 8e-8 (relative), and projecting them back
# moves them by 4e-3 and the objective by 8e-5; ρ = 8e5 and 8e6 stall at gaps of 3e-4 and 1e-4. Beyond _ILL_SCALED the solve gets _ILL_ITERATIONS iterations (enough when alpha is large)
# and otherwise stops saying what to do. Beyond _UNRESOLVABLE the cone projections themselves lose their precision:
# no iterations, κ bounded by the norms ‖X̃ᵀ D_i r‖ (a valid, looser certificate).
_ILL_SCALED, _ILL_ITERATIONS, _UNRESOLVABLE = 3e4, 50, 1e8
_ILL_ADVICE = "standardise X (StandardScaler) or raise alpha"
# With an unpenalised hidden bias, a block whose penalised part is below this fraction of its norm
# is a pure bias: on the all-ones pattern a constant, which the output intercept already fits.
_PURE_BIAS_RTOL = 1e-12


def column_scale_ratio(X_aug):
    """Ratio of the largest to the smallest root-mean-square of the nonzero columns of ``X̃``."""
    scales = np.sqrt(np.mean(np.square(X_aug), axis=0))
    scales = scales[scales > 0]
    return float(scales.max() / scales.min()) if scales.size else 1.0
# Direction polish (:meth:`FirstOrderSolver._polish_directions`): at most this many variables
# (active blocks × n_dims), once the relative gap is below _POLISH_GAP; a row is on a block's face
# when its slack is below FACE_RTOL ‖x̃_j‖ ‖w_b‖ (:func:`~sklearn_convexrelu.program.cones.on_face`).
# Its Newton system costs ~size³: on load_digits (n = 250) polishes of up to 3,000 variables took
# 0.3 s each, 30 column-generation iterations' worth, and the solve needed 49 iterations with them,
# 46 without (5 s of a 19 s fit).
_POLISH_SIZE, _POLISH_GAP = 1000, 1e-2
# Rows that would stop a polish step before this fraction of it join their blocks' faces and the
# step is taken again (an active-set step on the cone constraints): at most _POLISH_FACE_ROUNDS
# steps per polish, the last one cut to 0.9 times its blocking ratio (8 rounds instead of 4 changed
# no iteration count on the planted teachers of the tests).
_POLISH_MIN_STEP, _POLISH_FACE_ROUNDS = 0.1, 4
# Face spans kept by a solver (each d × d_F floats) before the cache starts again.
_FACE_SPANS = 10_000


def _cholesky(H):
    """Upper Cholesky factor of a positive definite ``H`` by LAPACK's ``potrf`` (what
    ``scipy.linalg.cho_factor`` calls, without its wrapper: ~10 µs a call, in a restricted QP that
    makes thousands). Raises LinAlgError if ``H`` is not positive definite."""
    factor, info = dpotrf(H, lower=False, clean=False)
    if info > 0:
        raise LinAlgError(f"{info}-th leading minor not positive definite")
    if info < 0:
        raise ValueError(f"illegal value in argument {-info} of potrf")
    return factor


def _cholesky_solve(factor, b):
    """``H⁻¹ b`` from :func:`_cholesky`'s factor (LAPACK's ``potrs``, as ``scipy.linalg.cho_solve``)."""
    if factor.shape[0] == 0:  # potrs refuses empty systems
        return np.zeros(b.shape)
    x, info = dpotrs(factor, b, lower=False)
    if info != 0:
        raise ValueError(f"illegal value in argument {-info} of potrs")
    return x


def _passive_solution(H, b, passive):
    """Minimiser of ``½ xᵀHx − bᵀx`` with the variables outside ``passive`` fixed at zero."""
    index = np.flatnonzero(passive)
    x = np.zeros_like(b)
    x[index] = _cholesky_solve(_cholesky(H[np.ix_(index, index)]), b[index])
    return x


def _bounded_qp(H, b, free, x, max_iter, pivoting=True, tol=None):
    """Minimise ``½ xᵀHx − bᵀx`` subject to ``x_j ≥ 0`` where not ``free`` (``H`` positive definite).

    Block principal pivoting (Júdice & Pires, 1994), warm-started from the support of ``x``: solve on
    the passive set, then move every variable with the wrong sign out and every bound variable with
    a negative gradient in, all at once; after three swaps that do not reduce the number of wrong
    variables only the last one moves. Usually a handful of solves; if it has not finished after
    ``_PIVOTING_STEPS`` (rounding on degenerate problems can make it cycle), a monotone active-set
    method (Lawson–Hanson style, from the feasible warm start) takes over. With
    ``pivoting=False`` the monotone method starts at once: on nearly singular ``H`` (more atoms
    than samples) block pivoting seldom finishes and its solves are wasted.

    Parameters
    ----------
    H : ndarray of shape (m, m)
        Positive definite.
    b : ndarray of shape (m,)
    free : ndarray of shape (m,), dtype bool
    x : ndarray of shape (m,)
        Feasible warm start.
    max_iter : int
        Passive solves of the monotone method.
    pivoting : bool, default=True
        Try block principal pivoting first.
    tol : float, default=None
        A bound variable enters when its gradient ``(Hx − b)_j`` is below ``−tol``. ``None``:
        ``1e-10 max |b|``. The caller knows the scale that matters: in the restricted problem the
        gradient of an atom is ``alpha − fᵀr``, which must be resolved to a fraction of
        ``tol · alpha`` whatever the size of ``b`` (dominated by the fits of large atoms).

    Returns
    -------
    ndarray of shape (m,)
    """
    start = x
    if tol is None:
        tol = 1e-10 * max(np.abs(b).max(initial=0.0), np.finfo(float).tiny)
    passive = free | (x > 0)
    fewest, chances = np.inf, 3
    for _ in range(_PIVOTING_STEPS if pivoting else 0):
        x = _passive_solution(H, b, passive)
        wrong = (passive & ~free & (x < 0)) | (~passive & (H @ x - b < -tol))
        count = np.count_nonzero(wrong)
        if count == 0:
            return x
        if count < fewest:
            fewest, chances = count, 3
        elif chances > 0:
            chances -= 1
        else:
            wrong = np.arange(b.size) == np.flatnonzero(wrong)[-1]
        passive ^= wrong
    return _monotone_qp(H, b, free, start, tol, max_iter)


class _ShrinkingPassiveSolves:
    """Minimisers of ``½ xᵀHx − bᵀx`` on passive sets that shrink, from one Cholesky factorisation.

    On the passive set ``P₀`` of the last factorisation, the variables ``D ⊂ P₀`` dropped since then
    are held at zero by Lagrange multipliers λ (bordering): ``x = y₀ − Y λ`` with ``y₀ = H₀⁻¹ b``,
    ``Y = H₀⁻¹ E_D`` and ``(E_Dᵀ Y) λ = y₀[D]``. Each drop costs one solve with the factor instead of a factorisation;
    a variable that enters (or re-enters), or more than ``|P₀| / 8`` drops, triggers a new
    factorisation.
    """

    def __init__(self, H, b):
        self.H, self.b, self.base = H, b, None

    def _factor(self, passive):
        self.base, self.index = passive.copy(), np.flatnonzero(passive)
        self.factor = _cholesky(self.H[np.ix_(self.index, self.index)])
        self.y0 = _cholesky_solve(self.factor, self.b[self.index])
        self.position = np.full(passive.size, -1)
        self.position[self.index] = np.arange(self.index.size)
        self.dropped, self.Y = np.zeros(0, dtype=int), np.zeros((self.index.size, 0))
        self.is_dropped = np.zeros(self.index.size, dtype=bool)

    def __call__(self, passive):
        if self.base is None or (passive & ~self.base).any() or passive[self.index[self.dropped]].any():
            self._factor(passive)  # a variable entered (again)
        new = self.position[self.base & ~passive]  # increasing, as setdiff1d would give them
        new = new[~self.is_dropped[new]]
        if self.dropped.size + new.size > max(8, self.index.size // 8):
            self._factor(passive)
        elif new.size:
            E = np.zeros((self.index.size, new.size))
            E[new, np.arange(new.size)] = 1.0
            self.dropped = np.r_[self.dropped, new]
            self.is_dropped[new] = True
            self.Y = np.hstack([self.Y, _cholesky_solve(self.factor, E)])
        x_base = self.y0.copy()
        if self.dropped.size:
            x_base -= self.Y @ np.linalg.solve(self.Y[self.dropped], self.y0[self.dropped])
            x_base[self.dropped] = 0.0
        x = np.zeros_like(self.b)
        x[self.index] = x_base
        return x


def _monotone_qp(H, b, free, x, tol, max_iter):
    """The problem of :func:`_bounded_qp` by a primal active-set method that never leaves the
    feasible set and lowers the objective at every passive solve (so it cannot cycle)."""
    passive = free | (x > 0)
    passive_solution = _ShrinkingPassiveSolves(H, b)
    for _ in range(max_iter):
        z = passive_solution(passive)
        if not np.isfinite(z).all():  # a flat model (curvature underflowed: a saturated logistic loss)
            break
        blocked = passive & ~free & (z <= 0)
        if blocked.any():  # step back to the first bound met on the segment from x to z
            ratio = np.full(x.shape, np.inf)
            ratio[blocked] = x[blocked] / (x[blocked] - z[blocked])
            step = ratio.min()
            x = x + step * (z - x)
            hit = ratio <= step
            x[hit] = 0.0
            passive &= ~hit
            continue
        x = z
        enter = ~passive & (H @ x - b < -tol)
        if not enter.any():
            break
        passive |= enter
    return x


class FirstOrderSolver:
    """(C-ReLU) over fixed patterns, solved by column generation on atoms (see the module docstring).

    Holds the data and the caches (cone faces) that make re-solves for other ``alpha`` values or
    from other starting points cheap.

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
    generators : ndarray of shape (n_dims, n_patterns), default=None
        A point strictly inside each cone; lets the returned blocks lie strictly inside theirs.
    gated : bool, default=False
        Solve the *gated ReLU* relaxation instead: the same group lasso without the cone
        constraints (neuron i computes ``D_i X̃ w_i`` with its gate fixed). Its ``κ`` is the plain
        norm ``‖X̃ᵀ D_i r_k‖`` (no projection), every block is returned in ``blocks_pos`` and its
        optimum is a lower bound on that of (C-ReLU) over the same patterns.
    penalty : GroupNormPenalty, default=None
        ``None``: every block coordinate penalised. With ``penalize_hidden_bias=False`` (the
        objective of scikit-learn's MLP) the atoms are directions with ``‖P u‖ = 1`` and the
        pricing uses the penalty's own κ (:meth:`GroupNormPenalty.kappas`: a small non-negative
        least-squares problem per block above alpha instead of a cone projection); it needs
        ``fit_intercept=True`` (otherwise κ is unbounded on the all-ones pattern).
    allowed_blocks : ndarray of shape (n_outputs, n_patterns, 2), dtype bool, default=None
        Restrict the program to these blocks (last axis: σ = +1, σ = −1), the others fixed at zero:
        e.g. one block per (pattern, sign, output) of a network (SPEC §6 (i)). ``None``: all.

    Raises
    ------
    ValueError
        For a penalty that leaves the hidden bias out of the norm without ``fit_intercept``, or
        with ``gated=True``.
    """

    def __init__(
        self, X_aug, patterns, Y, s, loss, *, fit_intercept, generators=None, gated=False, penalty=None, allowed_blocks=None
    ):
        penalty = GroupNormPenalty() if penalty is None else penalty
        if not penalty.penalize_hidden_bias and (gated or not fit_intercept):
            raise ValueError(
                "An unpenalised hidden bias needs fit_intercept=True (a neuron (0, b, a) is then a free "
                "constant) and the cone-constrained program (gated=False)."
            )
        self.penalty = penalty
        self.gated = gated
        # allowed blocks by key (i · 2 + side) · K + k, see _encode; None: every block
        self._allowed = None if allowed_blocks is None else np.asarray(allowed_blocks, dtype=bool).transpose(1, 2, 0).reshape(-1)
        self.X_aug = X_aug
        self.patterns = patterns
        self.Y = Y
        self.s = s
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.shape = (Y.shape[1], X_aug.shape[1], patterns.shape[1])  # (K, d, P)
        self._mask = patterns.astype(float)
        self._projector = ConeProjector(X_aug, patterns, generators)
        self.state_ = None
        self.scale_ratio = column_scale_ratio(X_aug)
        self.n_atoms_added_ = 0
        self._merging = _MERGE
        self._face_spans = {}  # see _face_span
        self._zero_dual = None  # r₀, see _solve

    def extend(self, patterns, generators=None):
        """Append patterns (columns) to the program; the current solution stays a warm start.

        Parameters
        ----------
        patterns : ndarray of shape (n_samples, n_new), dtype bool
        generators : ndarray of shape (n_dims, n_new), default=None
            Required when the solver was given generators.
        """
        if self._allowed is not None:
            raise ValueError("A program restricted to allowed_blocks cannot be extended.")
        self.patterns = np.hstack([self.patterns, patterns])
        self._mask = np.hstack([self._mask, patterns.astype(float)])
        self.shape = (self.shape[0], self.shape[1], self.patterns.shape[1])
        projector = self._projector
        projector.patterns = self.patterns
        if projector.generators is not None:
            projector.generators = np.hstack([projector.generators, generators])

    @property
    def generators(self):
        """ndarray of shape (n_dims, n_patterns) or None: the patterns' generators."""
        return self._projector.generators

    def atoms(self):
        """The last solution's atoms.

        Returns
        -------
        directions : ndarray of shape (n_dims, n_atoms)
            Unit directions.
        sides : ndarray of shape (n_atoms,)
            0 for σ = +1, 1 for σ = −1.
        outputs : ndarray of shape (n_atoms,)
        patterns : ndarray of shape (n_atoms,)
        weights : ndarray of shape (n_atoms,)
        """
        state = self.state_
        side, output, pattern = self._decode(state.keys)
        return state.directions, side, output, pattern, state.t

    # -- blocks ---------------------------------------------------------------------------------
    # A block is identified by ``key = (i · 2 + side) · K + k`` (pattern i, output k, side 0 for
    # σ = +1 and 1 for σ = −1): keys do not change when patterns are appended.

    def _decode(self, keys):
        """``(side, output, pattern)`` of block keys."""
        K = self.shape[0]
        return (keys // K) % 2, keys % K, keys // (2 * K)

    def _encode(self, side, output, pattern):
        return (pattern * 2 + side) * self.shape[0] + output

    def _fits(self, directions, keys):
        """Fits ``σ D_i X̃ u`` of atoms, shape (n_samples, m)."""
        side, _, pattern = self._decode(keys)
        return np.where(side == 0, 1.0, -1.0) * self._mask[:, pattern] * (self.X_aug @ directions)

    def _adjoint(self, R):
        """``X̃ᵀ D_i r_k`` for all outputs and patterns, shape (K, d, P) (SPEC §7)."""
        return adjoint(self.X_aug, self._mask, R)

    def cone_kappas(self, R, threshold=0.0, *, bound_only=False):
        """:func:`~sklearn_convexrelu.program.cone_kappas` over the solver's patterns, warm-started.

        The projections start from the faces this solver found for the same blocks: after a solve
        the optimal set's κ near alpha then cost about one solve on each face.

        Parameters
        ----------
        R : ndarray of shape (n_samples, n_outputs)
            Dual vector.
        threshold : float, default=0.0
        bound_only : bool, default=False
            As for :func:`~sklearn_convexrelu.program.cone_kappas`.

        Returns
        -------
        kappas, directions, exact
            As for :func:`~sklearn_convexrelu.program.cone_kappas`.
        """
        def project(A, index, blocks, level):
            k, i, side = blocks
            return self._projector.project(A, index, list(self._encode(side, k, i)), level)

        return cone_kappas(self.X_aug, self.patterns, R, threshold, bound_only=bound_only, project=project)

    def _merged(self, state):
        """Blocks ``w_b = Σ_{a ∈ b} t_a u_a`` indexed by key, shape (P · 2 · K, d)."""
        K, d, P = self.shape
        flat = np.zeros((P * 2 * K, d))
        np.add.at(flat, state.keys, (state.t * state.directions).T)
        return flat

    def blocks(self, state=None):
        """Blocks of a solution.

        Parameters
        ----------
        state : solver state, default=None
            A state of this solver; ``None`` means the last solution (:attr:`state_`).

        Returns
        -------
        blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
        """
        K, d, P = self.shape
        blocks = self._merged(self.state_ if state is None else state).reshape(P, 2, K, d).transpose(1, 2, 3, 0)
        return blocks[0].copy(), blocks[1].copy()

    def solution(self):
        """The last solution, usable as ``init``.

        Returns
        -------
        blocks_pos, blocks_neg : ndarray of shape (n_outputs, n_dims, n_patterns)
        intercept : ndarray of shape (n_outputs,)
        """
        return (*self.blocks(), self.state_.c.copy())

    def _penalty(self, state, alpha):
        """``alpha Σ_b ‖w_b‖`` of the merged blocks (≤ ``alpha Σ t``)."""
        return self.penalty.value(alpha, self._merged(state), axis=-1)

    # -- the restricted problem -----------------------------------------------------------------

    def _predict(self, state):
        K = self.shape[0]
        weights = np.zeros((state.t.size, K))
        weights[np.arange(state.t.size), self._decode(state.keys)[1]] = state.t
        return state.fits @ weights + state.c

    def _hessian(self, state, W):
        """Hessian of ``L(F t + c)`` in ``x = (t, c)`` for per-sample curvatures ``W`` (n, K, K), with
        the ridge ``_RIDGE``; a quadratic loss reuses the working set's cached Gram matrix (its
        curvature never changes)."""
        gram = state.weighted_gram(W[:, 0, 0]) if self.loss.is_quadratic else None
        return add_ridge(fit_hessian(state.fits, self._decode(state.keys)[1], W, self.fit_intercept, gram), _RIDGE)

    def _objective(self, Z, t, alpha):
        return self.loss.value(Z, self.Y, self.s) + alpha * float(t.sum())

    def _newton(self, state, alpha, tol, hull=False):
        """Newton steps on ``min_{t ≥ 0, c} L(F t + c) + alpha Σ t`` (see the module docstring);
        ``hull``: as for :meth:`_merge_blocks`."""
        m, K, n_samples = state.t.size, self.shape[0], self.X_aug.shape[0]
        free = np.r_[np.zeros(m, dtype=bool), np.ones(K if self.fit_intercept else 0, dtype=bool)]
        outputs = self._decode(state.keys)[1]
        x = np.r_[state.t, state.c] if self.fit_intercept else state.t.copy()
        Z = self._predict(state)
        current = self._objective(Z, state.t, alpha)
        for _ in range(_MAX_NEWTON):
            R = self.loss.residual(Z, self.Y, self.s)
            gradient = np.r_[alpha - (state.fits.T @ R)[np.arange(m), outputs], -R.sum(axis=0) if self.fit_intercept else []]
            H = self._hessian(state, self.loss.sample_hessians(Z, self.Y, self.s))
            # more atoms than samples: H is singular but for the ridge, block pivoting would cycle
            # resolve the atoms' gradients α − fᵀr well below the entering level α tol (see _ENTER),
            # not relative to |b| (SPEC §4: the certified gap needs κ ≤ alpha (1 + tol))
            b_scale = np.abs(H @ x).max(initial=0.0) + np.abs(gradient).max(initial=0.0)
            options = dict(
                max_iter=2 * x.size + 50, pivoting=m <= n_samples,
                tol=max(_QP_TOL * tol * alpha, _ROUNDING * b_scale, np.finfo(float).tiny),
            )
            try:
                target = _bounded_qp(H, H @ x - gradient, free, x, **options)
            except LinAlgError:  # numerically indefinite: a larger ridge
                H[np.diag_indices(x.size)] += 1e-8 * np.abs(np.diag(H)).max()
                target = _bounded_qp(H, H @ x - gradient, free, x, **options)
            if not np.isfinite(target).all():
                break
            step_x = target - x
            slope = float(gradient @ step_x)
            if slope >= 0:
                break
            step_Z = self._predict_step(state, step_x)
            step = 1.0
            while step > 1e-12:  # Armijo backtracking on the true objective
                candidate = self._objective(Z + step * step_Z, x[:m] + step * step_x[:m], alpha)
                if candidate <= current + 1e-4 * step * slope:
                    break
                step *= 0.5
            else:
                break
            x = x + step * step_x
            x[:m] = np.maximum(x[:m], 0.0)
            Z = Z + step * step_Z
            decrease, current = current - candidate, candidate
            if self.loss.is_quadratic or decrease <= 1e-3 * tol * abs(current):  # one step is exact
                break
        state.t = x[:m]
        state.c = x[m:] if self.fit_intercept else state.c
        state.idle = np.where(state.t > 0, 0, state.idle + 1)
        state.keep(state.idle <= _IDLE_ROUNDS)
        if self._merging:
            self._merge_blocks(state, hull)

    def _merge_blocks(self, state, hull=False):
        """Replace the positive atoms of a block by one atom along their sum: of every block that has
        several, or with ``hull`` of the blocks with more than ``_HULL_ATOMS`` unless there are more
        than ``_MERGE_ALL · (n_samples K + K)`` positive atoms (the fits span at most ``n K + K``
        dimensions).

        ``w_b = Σ_a t_a u_a`` lies in the block's cone; the atom ``w_b / ‖w_b‖`` with weight ``‖w_b‖``
        has the same fit and a penalty ``alpha ‖w_b‖ ≤ alpha Σ_a t_a``, so the restricted objective
        only decreases, and the block's direction becomes an atom instead of a conic combination
        (which the restricted problem charges ``Σ t``, so it would resist turning the block). The
        polish then turns that direction; in a long solve the conic hull of a few atoms lets the
        restricted problem turn it instead (see ``_HULL_ATOMS``).
        """
        positive = np.flatnonzero(state.t > 0)
        keys, inverse, counts = np.unique(state.keys[positive], return_inverse=True, return_counts=True)
        n_fits = self.X_aug.shape[0] * self.shape[0] + self.shape[0]  # independent fits at most (n K + K)
        hull = hull and positive.size <= _MERGE_ALL * n_fits
        merged = counts > (_HULL_ATOMS if hull else 1)
        shared = merged[inverse]
        if not shared.any():
            return
        merged_keys = keys[merged]
        W = np.zeros((state.directions.shape[0], keys.size))
        np.add.at(W.T, inverse[shared], (state.t[positive[shared]] * state.directions[:, positive[shared]]).T)
        W = W[:, merged]
        norms = self.penalty.norms(W, axis=0)
        live = norms > 0
        mask = np.ones(state.t.size, dtype=bool)
        mask[positive[shared]] = False
        state.keep(mask)
        U = W[:, live] / norms[live]
        state.append(U, merged_keys[live], self._fits(U, merged_keys[live]))
        state.t[-U.shape[1]:] = norms[live]

    def _polish_directions(self, state, alpha):
        """Newton steps on the group lasso restricted to the active blocks, turning their directions.

        The restricted problem over atoms only rescales fixed directions; the optimal direction of
        a block is ``Π_{K_i}(σ X̃ᵀ D_i r*) / alpha`` (SPEC §5), which column generation reaches one
        pricing step at a time. Here each active block (one atom after a merge without hulls, see
        :meth:`_merge_blocks`; with several atoms in a block, or beyond ``_POLISH_SIZE`` variables,
        it returns ``False``) becomes a variable ``w_b`` on the face of its cone it lies on
        (``w_b = w_b⁰ + N_b z_b``, ``N_b`` an orthonormal basis of the face's span), and ``min L(Σ_b σ_b D_b X̃ w_b + c) +
        alpha Σ_b ‖w_b‖`` takes Newton steps in ``(z, c)`` (smooth where every ``w_b ≠ 0``), with the
        step shortened to stay in the cones and to decrease the objective. Rows that would stop the
        step before ``_POLISH_MIN_STEP`` of it join their blocks' faces (held at their slack) and the
        step is computed again. Returns whether it moved.
        """
        active = np.flatnonzero(state.t > 0)
        K, d = self.shape[0], self.X_aug.shape[1]
        if active.size == 0 or active.size * d > _POLISH_SIZE or np.unique(state.keys[active]).size < active.size:
            return False
        side, outputs, pattern = self._decode(state.keys[active])
        W0 = state.t[active] * state.directions[:, active]  # (d, B) blocks
        norms = np.linalg.norm(W0, axis=0)
        signs = np.where(self.patterns[:, pattern], 1.0, -1.0)  # (n, B): A_i u = signs ⊙ X̃u
        slack = signs * (self.X_aug @ W0)
        row_norms = self._projector.row_norms[:, None]
        face_rows = on_face(slack, row_norms, norms)
        sigma = np.where(side == 0, 1.0, -1.0)
        mask = self._mask[:, pattern]  # (n, B)
        Z = self._predict(state)
        c = state.c.copy()
        current = self._merged_objective(Z, W0, alpha)
        system = (self.loss, self.penalty, alpha, self.Y, self.s)

        def gradient_at(Z, W):  # of the current round's columns
            return subspace_gradient(*system, Z, *columns, W, spans, owner, self.fit_intercept)

        for face_round in range(1, _POLISH_FACE_ROUNDS + 1):
            bases = [self._face_span(face) for face in (face_rows & (row_norms > 0)).T]
            owner = np.repeat(np.arange(active.size), [N.shape[1] for N in bases])  # block of each column
            if owner.size == 0:
                return False
            # Jacobian of the prediction in z: column j of block b is σ_b D_b X̃ N_b[:, j] (output k_b)
            spans = np.concatenate(bases, axis=1)  # (d, n_columns)
            J = (self.X_aug @ spans) * (sigma[owner] * mask[:, owner])
            # the group lasso in (z, c): the one Newton system of :mod:`._subspace_newton`
            columns = (J, outputs[owner])
            g = gradient_at(Z, W0)
            H = subspace_hessian(*system, Z, *columns, W0, spans, owner, self.fit_intercept, ridge=_RIDGE)
            try:
                step = -_cholesky_solve(_cholesky(H), g)
            except LinAlgError:
                return False
            slope = float(g @ step)
            if not slope < 0:
                return False
            dW = np.zeros_like(W0)
            np.add.at(dW.T, owner, (spans * step[: owner.size]).T)
            # stay in the cones (rows off the face) and keep every block well away from zero
            change = signs * (self.X_aug @ dW)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(~face_rows & (change < 0), slack / -change, np.inf)
            # rows the step would cross before _POLISH_MIN_STEP of it join their blocks' faces (held
            # at their slack), and the step is taken again: one near-face row of one block otherwise
            # stops every block (steps of 1e-7 on a planted teacher with all 50 patterns active)
            blocking = ratio < _POLISH_MIN_STEP
            if face_round == _POLISH_FACE_ROUNDS or not blocking.any():
                break
            face_rows = face_rows | blocking
        limit = min(1.0, 0.9 * float(ratio.min(initial=np.inf)))
        shrink = np.linalg.norm(dW, axis=0) / norms
        limit = min(limit, 0.5 / max(float(shrink.max(initial=0.0)), 1e-300))
        weights = np.zeros((owner.size, K))
        weights[np.arange(owner.size), outputs[owner]] = step[: owner.size]
        dZ = J @ weights + (step[owner.size:] if self.fit_intercept else 0.0)
        s_len = limit
        while s_len > 1e-6:
            W = W0 + s_len * dW
            candidate = self._merged_objective(Z + s_len * dZ, W, alpha)
            # sufficient decrease, or (below the rounding of the objective) a slope still ≤ 0
            if candidate <= current + 1e-4 * s_len * slope or float(gradient_at(Z + s_len * dZ, W) @ step) <= 0:
                break
            s_len *= 0.5
        else:
            return False
        new_norms = self.penalty.norms(W, axis=0)
        keys = state.keys[active]
        keep = np.ones(state.t.size, dtype=bool)
        keep[active] = False
        state.keep(keep)
        U = W / new_norms
        if not self.gated:
            U = self._projector.interior(U, pattern)
            U = U / self.penalty.norms(U, axis=0)
        state.append(U, keys, self._fits(U, keys))
        state.t[-U.shape[1]:] = new_norms
        if self.fit_intercept:
            state.c = c + s_len * step[owner.size:]
        return True

    def _face_span(self, face):
        """Orthonormal basis (d, d_F) of the span of the face whose active rows are ``face`` (n,).

        Cached by the set of rows: along a solve (and a path) the same faces come back (on
        ``load_diabetes`` folds, 29,410 bases were 1,560 distinct ones).
        """
        key = np.packbits(face).tobytes()
        N = self._face_spans.get(key)
        if N is None:
            N = face_span(self.X_aug[face], self.X_aug.shape[1])
            if len(self._face_spans) >= _FACE_SPANS:
                self._face_spans.clear()
            self._face_spans[key] = N
        return N

    def _merged_objective(self, Z, W, alpha):
        """Objective of the blocks ``W`` (d, B) whose prediction is ``Z``."""
        return self.loss.value(Z, self.Y, self.s) + self.penalty.value(alpha, W, axis=0)

    def _predict_step(self, state, step_x):
        m, K = state.t.size, self.shape[0]
        weights = np.zeros((m, K))
        weights[np.arange(m), self._decode(state.keys)[1]] = step_x[:m]
        step_Z = state.fits @ weights
        return step_Z + step_x[m:] if self.fit_intercept else step_Z

    # -- dual scan and certificate --------------------------------------------------------------

    def _scan(self, R, alpha, n_wanted, enter=1.0):
        """κ of the blocks that may exceed ``alpha`` (SPEC §4), most promising first.

        Returns the exact ``κ`` of the violated blocks found (at most about ``n_wanted`` above
        ``alpha · enter`` beyond the largest), their keys and projected directions, and ``κ_max``
        (exact when it exceeds alpha). Only blocks above ``alpha · enter`` count towards
        ``n_wanted``: the active blocks sit at ``κ ≈ alpha`` and must not end the scan before the
        blocks that can enter are reached.
        """
        if not self.penalty.penalize_hidden_bias:
            return self._scan_bias_free(R, alpha, n_wanted, enter)
        K, d, P = self.shape
        A = self._adjoint(R)  # (K, d, P)
        norms = np.linalg.norm(A, axis=1)  # (K, P) shared by both signs
        if self._allowed is not None:  # pairs without an allowed block do not count
            norms = np.where(self._allowed.reshape(P, 2, K).any(axis=1).T, norms, 0.0)
        norms = norms.reshape(-1)  # (K·P,)
        found_keys, found_kappas, found_dirs = [], [], []
        # blocks never projected have κ ≤ ‖X̃ᵀ D_i r‖ ≤ alpha, or ≤ the norm at which the scan stops
        kappa_max = float(norms.max(initial=0.0)) if not np.any(norms > alpha) else 0.0

        def evaluate(flat):  # (output, pattern) pairs k·P + i, two blocks each
            nonlocal kappa_max
            k, i = flat // P, flat % P
            directions = A[k, :, i].T  # (d, B)
            if self.gated:  # no cone: κ = ‖X̃ᵀ D_i r_k‖, attained at the direction itself
                keys, U, exact = self._encode(0, k, i), directions, np.ones(flat.size, dtype=bool)
            else:
                keys = np.r_[self._encode(0, k, i), self._encode(1, k, i)]
                A_pair = np.hstack([directions, -directions])
                # only the n_wanted largest κ enter: blocks shown to be below that level need no exact κ
                level = alpha
                if keys.size > n_wanted:
                    lower = self._projector.lower_bounds(A_pair, np.r_[i, i])
                    if self._allowed is not None:
                        lower = np.where(self._allowed[keys], lower, 0.0)
                    level = max(alpha, float(np.partition(lower, -n_wanted)[-n_wanted]))
                U, exact = self._projector.project(A_pair, np.r_[i, i], list(keys), level)
            kappas = np.linalg.norm(U, axis=0)
            if self._allowed is not None:  # disallowed blocks are no dual constraints
                kappas = np.where(self._allowed[keys], kappas, 0.0)
            violated = exact & (kappas > alpha)
            found_keys.append(keys[violated])
            found_kappas.append(kappas[violated])
            found_dirs.append(U[:, violated])
            kappa_max = max(kappa_max, float(kappas.max()))
            return np.count_nonzero(violated & (kappas > alpha * enter))

        rest = largest_bounds_first(norms, evaluate, above=alpha, n_wanted=n_wanted, chunk=max(128, n_wanted))
        if rest is not None:  # enough atoms: the rest are bounded by their norms
            kappa_max = max(kappa_max, rest)
        if not found_keys:
            return np.zeros(0, dtype=int), np.zeros(0), np.zeros((d, 0)), kappa_max
        return np.concatenate(found_keys), np.concatenate(found_kappas), np.hstack(found_dirs), kappa_max

    def residual(self, state=None):
        """Dual vector ``r = −∇L`` at a solution's prediction.

        The intercept is re-optimised when it is fitted (SPEC §4).

        Parameters
        ----------
        state : solver state, default=None
            A state of this solver; ``None`` means the last solution (:attr:`state_`).

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        state = self.state_ if state is None else state
        return dual_vector(self.loss, self.Y, self.s, self._predict(state), fit_intercept=self.fit_intercept)[2]

    def _scan_bias_free(self, R, alpha, n_wanted, enter):
        """:meth:`_scan` for a penalty without the hidden bias: the penalty's κ (SPEC §4).

        Exact in order of decreasing upper bound until ``n_wanted`` blocks above ``alpha · enter``
        are found; the others hold their bounds, so ``κ_max`` stays an upper bound.
        """
        K, d, P = self.shape
        kappas, directions, exact = self.penalty.kappas(
            self.X_aug, self.patterns, R, threshold=alpha, n_wanted=n_wanted, level=alpha * enter,
        )  # (K, P, 2)
        if self._allowed is not None:  # keys (i · 2 + side) · K + k: (P, 2, K) → (K, P, 2)
            kappas = np.where(self._allowed.reshape(P, 2, K).transpose(2, 0, 1), kappas, 0.0)
        k, i, side = np.nonzero(exact & (kappas > alpha) & np.isfinite(kappas))
        return self._encode(side, k, i), kappas[k, i, side], directions[k, :, i, side].T, float(kappas.max(initial=0.0))

    def _certify(self, state, alpha, n_wanted, enter=1.0):
        """Relative duality gap of the current point (SPEC §4) and the violated blocks."""
        def kappa_of(R):  # the solver's own scan: cached faces, exact κ only where atoms may enter
            found = self._scan(R, alpha, n_wanted, enter)
            return found[3], found

        point = dual_point(self.loss, self.Y, self.s, alpha, self._predict(state), fit_intercept=self.fit_intercept, kappa_of=kappa_of)
        keys, kappas, directions, kappa_max = point.scan
        primal = self.loss.value(point.prediction, self.Y, self.s) + self._penalty(state, alpha)
        gap = primal - point.lower_bound
        return primal, gap / max(abs(primal), np.finfo(float).tiny), keys, kappas, directions, kappa_max

    # -- driver ---------------------------------------------------------------------------------

    def _initial_state(self, init):
        K, d, P = self.shape
        state = _WorkingSet(np.zeros((d, 0)), np.zeros(0, dtype=int), np.zeros((self.X_aug.shape[0], 0)), np.zeros(0), np.zeros(K))
        if init is not None:
            blocks_pos, blocks_neg, intercept = init
            if self.gated:  # one block per pattern: w = v − u
                blocks_pos, blocks_neg = blocks_pos - blocks_neg, np.zeros_like(blocks_neg)
            flat = np.stack([blocks_pos, blocks_neg]).transpose(3, 0, 1, 2).reshape(P * 2 * K, d)
            keys = np.flatnonzero(np.linalg.norm(flat, axis=1) > 0)
            if self.gated:
                U = flat[keys].T
            else:
                U, _ = self._projector.project(flat[keys].T, self._decode(keys)[2], list(keys))
            # a pure bias (P u = 0) is the output intercept's job
            live = self.penalty.norms(U, axis=0) > _PURE_BIAS_RTOL * np.linalg.norm(U, axis=0)
            keys, U = keys[live], U[:, live]
            self._add(state, keys, U)
            state.t = self.penalty.norms(U, axis=0)  # of the kept columns (another layout rounds otherwise)
            state.c = np.asarray(intercept, dtype=float).reshape(K).copy() if self.fit_intercept else state.c
        if self.fit_intercept:
            Z = self._predict(state)
            state.c = state.c + self.loss.optimal_intercept(Z, self.Y, self.s)
        return state

    def _add(self, state, keys, U):
        """Append atoms with (unnormalised) directions ``U`` in their cones, at ``t = 0``."""
        if not self.gated:
            U = self._projector.interior(U, self._decode(keys)[2])
        U = U / self.penalty.norms(U, axis=0)
        state.append(U, keys, self._fits(U, keys))

    def solve(self, alpha, *, tol=1e-6, max_iter=1000, init=None, warm_start=False, verbose=False, n_jobs=None,
              merge=True):
        """Solve for one ``alpha`` to relative duality gap ``tol``.

        Parameters
        ----------
        alpha : float
        tol : float, default=1e-6
            Relative duality gap at which to stop (SPEC §4).
        max_iter : int, default=1000
            Maximum number of column-generation iterations.
        init : tuple (blocks_pos, blocks_neg, intercept), default=None
            Warm start: blocks of shape (K, d, P) (projected onto their cones if needed) and the
            intercept of shape (K,).
        warm_start : bool, default=False
            Start from the previous solution (:attr:`state_`) when there is one and ``init`` is None.
        verbose : bool, default=False
            Print one line per iteration: objective, relative gap, active patterns, atoms, time.
        n_jobs : int, default=None
            BLAS threads of the solve (``None``: one, ``-1``: BLAS's default; a no-op inside an
            estimator's fit, which has taken its own limit).
        merge : bool, default=True
            Merge each block's positive atoms into one (or, late in a long solve, keep up to
            ``_HULL_ATOMS``) and polish the active blocks' directions (steps 4–5 of the module
            docstring). ``False`` keeps several atoms per block: the
            pattern search's intermediate rounds use them as ascent starts.

        Returns
        -------
        SolveResult
            ``status`` records the final relative gap; ``converged`` is ``True`` iff it is ≤ ``tol``.
        """
        with blas_threads(n_jobs):
            self._merging = _MERGE and merge
            return self._solve(alpha, tol, max_iter, init, warm_start, verbose)

    def _solve(self, alpha, tol, max_iter, init, warm_start, verbose):
        if self._zero_dual is None:  # the data's scale, the same for every alpha
            self._zero_dual = dual_vector(self.loss, self.Y, self.s, np.zeros(self.Y.shape), fit_intercept=self.fit_intercept)[2]
        check_alpha_resolvable(self.X_aug, self._zero_dual, alpha)
        started = time.perf_counter()
        self.n_atoms_added_ = 0
        ratio = self.scale_ratio
        if ratio > _UNRESOLVABLE and not self.gated and self.penalty.penalize_hidden_bias:
            return self._unresolvable(alpha, tol)
        if warm_start and init is None and self.state_ is not None:
            state = self.state_
        else:
            state = self._initial_state(init)
        self.state_ = state
        if state.t.size:
            self._newton(state, alpha, tol)
        ill_scaled = ratio > _ILL_SCALED
        n_max = max(_MIN_NEW_ATOMS, self.X_aug.shape[0] + self.shape[0])
        enter = 1.0 + _ENTER * tol
        converged, stalled, gap, n_iter, primal = False, False, np.inf, 0, np.nan
        best, best_gap, flat, checkpoint_gap = np.inf, np.inf, 0, np.inf
        for n_iter in range(1, max_iter + 1):
            n_wanted = min(max(_MIN_NEW_ATOMS, np.count_nonzero(state.t)), n_max)
            primal, gap, keys, kappas, directions, kappa_max = self._certify(state, alpha, n_wanted, enter)
            # no progress: neither the objective nor the certified gap improves
            flat = flat + 1 if primal > best - _PROGRESS * abs(best) and gap >= best_gap else 0
            best, best_gap = min(best, primal), min(best_gap, gap)
            if verbose:
                active = np.unique(self._decode(state.keys)[2]).size
                print(
                    f"[first_order] iter {n_iter:4d}  objective {primal:.10g}  rel. gap {gap:.3e}  "
                    f"max kappa/alpha {kappa_max / alpha:.6f}  active patterns {active}  "
                    f"atoms {state.t.size}  {time.perf_counter() - started:.2f}s"
                )
            if gap <= tol:
                converged = True
                break
            if n_iter % _TAIL_ITERATIONS == 0:
                if best_gap > 0.5 * checkpoint_gap:
                    flat = _STALL_ITERATIONS
                checkpoint_gap = best_gap
            if flat >= _STALL_ITERATIONS:  # report the gap reached
                stalled = True
                break
            if ill_scaled and n_iter >= _ILL_ITERATIONS:
                break
            new = np.argsort(-kappas)[:n_wanted]
            new = new[kappas[new] > alpha * enter]
            if new.size == 0:
                if enter == 1.0:  # nothing left to add: the gap is numerical noise of the solve
                    break
                enter = 1.0
                continue
            self._add(state, keys[new], directions[:, new])
            self.n_atoms_added_ += new.size
            hull = n_iter > _HULL_AFTER
            self._newton(state, alpha, tol, hull)
            if self._merging and gap <= _POLISH_GAP and self._polish_directions(state, alpha):
                self._newton(state, alpha, tol, hull)
        self.objective_, self.relative_gap_ = primal, gap
        status = "converged" if converged else ("stalled" if stalled or n_iter < max_iter else "max_iter")
        if ill_scaled and not converged:
            status = self._ill_status()
        blocks_pos, blocks_neg = self.blocks(state)
        return SolveResult(
            blocks_pos=blocks_pos,
            blocks_neg=blocks_neg,
            intercept=state.c.copy(),
            status=f"{status} (relative duality gap {gap:.3e})",
            n_iter=n_iter,
            solver="first_order",
            converged=converged,
            objective=float(primal),
            gap=float(gap),
        )


    def _ill_status(self):
        return (
            f"ill-conditioned: the columns of X̃ differ in scale by a factor {self.scale_ratio:.1e} "
            f"(> {_ILL_SCALED:.0e}), beyond which the restricted solves cannot resolve the dual "
            f"constraints; {_ILL_ADVICE}"
        )

    def _unresolvable(self, alpha, tol):
        """The solve of a problem whose column scales differ beyond ``_UNRESOLVABLE``: no iterations.

        Returns the zero blocks with the optimal intercept (an ``init`` or warm start is not used:
        projecting it onto its cones is itself unresolvable), certified with ``κ ≤ ‖X̃ᵀ D_i r‖``.
        """
        state = self._initial_state(None)
        self.state_ = state

        def kappa_bound(R):
            return float(np.linalg.norm(self._adjoint(R), axis=1).max(initial=0.0)), None

        point = dual_point(self.loss, self.Y, self.s, alpha, self._predict(state), fit_intercept=self.fit_intercept,
                           kappa_of=kappa_bound)
        primal = self.loss.value(point.prediction, self.Y, self.s)
        gap = (primal - point.lower_bound) / max(abs(primal), np.finfo(float).tiny)
        self.objective_, self.relative_gap_ = primal, gap
        converged = gap <= tol
        blocks_pos, blocks_neg = self.blocks(state)
        return SolveResult(
            blocks_pos=blocks_pos, blocks_neg=blocks_neg, intercept=state.c.copy(),
            status=f"{self._ill_status()} (relative duality gap {gap:.3e})", n_iter=0, solver="first_order",
            converged=bool(converged), objective=float(primal), gap=float(gap),
        )


class _WorkingSet:
    """The solver's working set of atoms and its current point: unit directions (d, m), block keys
    (m,), fits (n, m), weights (m,), intercept (K,) and, per atom, the restricted solves it has spent
    at ``t = 0`` (m,)."""

    def __init__(self, directions, keys, fits, t, c):
        self.directions, self.keys, self.fits, self.t, self.c = directions, keys, fits, t, c
        self.idle = np.zeros(keys.size, dtype=int)
        self._gram = np.zeros((0, 0))  # Fᵀ diag(w) F of the first atoms, for a fixed w

    def weighted_gram(self, w):
        """``Fᵀ diag(w) F`` (m, m) for weights ``w`` (n,) that never change: only the columns of the
        atoms added since the last call are computed."""
        done, m = self._gram.shape[0], self.t.size
        if done < m:
            cross = self.fits.T @ (w[:, None] * self.fits[:, done:])  # (m, m − done)
            gram = np.empty((m, m))
            gram[:done, :done], gram[:, done:], gram[done:, :done] = self._gram, cross, cross[:done].T
            self._gram = gram
        return self._gram

    def append(self, directions, keys, fits):
        self.directions = np.hstack([self.directions, directions])
        self.keys = np.r_[self.keys, keys]
        self.fits = np.hstack([self.fits, fits])
        self.t = np.r_[self.t, np.zeros(keys.size)]
        self.idle = np.r_[self.idle, np.zeros(keys.size, dtype=int)]

    def keep(self, mask):
        self.directions, self.keys, self.fits, self.t, self.idle = (
            self.directions[:, mask], self.keys[mask], self.fits[:, mask], self.t[mask], self.idle[mask]
        )
        if not mask.all():  # (all kept: no copy of the m × m Gram matrix)
            done = np.flatnonzero(mask[: self._gram.shape[0]])  # integer np.ix_: ~3× faster than boolean
            self._gram = self._gram[np.ix_(done, done)]


def solve_first_order(
    X_aug, patterns, Y, s, loss, alpha, *, fit_intercept, tol=1e-6, max_iter=1000, generators=None,
    init=None, verbose=False, n_jobs=None, gated=False,
):
    """Solve (C-ReLU) on fixed patterns with :class:`FirstOrderSolver`.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    loss : loss object
    alpha : float
    fit_intercept : bool
    tol : float, default=1e-6
        Relative duality gap at which to stop.
    max_iter : int, default=1000
    generators : ndarray of shape (n_dims, n_patterns), default=None
    init : tuple (blocks_pos, blocks_neg, intercept), default=None
        Warm start.
    verbose : bool, default=False
    n_jobs : int, default=None
        BLAS threads (``None``: one, ``-1``: BLAS's default).
    gated : bool, default=False
        Solve the gated ReLU relaxation (no cone constraints), see :class:`FirstOrderSolver`.

    Returns
    -------
    SolveResult
    """
    solver = FirstOrderSolver(X_aug, patterns, Y, s, loss, fit_intercept=fit_intercept, generators=generators, gated=gated)
    return solver.solve(alpha, tol=tol, max_iter=max_iter, init=init, verbose=verbose, n_jobs=n_jobs)
