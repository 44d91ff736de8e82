"""The package's numerical tolerances, in one place (SPEC §3.1, §4, §5, §6).

Each constant is a decision rule: when a block is zero, when a row lies on a cone's face, when a
cone is tight, when two directions are one atom, when a singular value is zero. Constants that
only steer an algorithm (iteration caps, step rules) stay with it; kernel-level rounding guards
(arrangements, cone projections) stay with their kernels.

**Solver output** (:mod:`~sklearn_convexrelu.solvers`). A raw solution carries blocks that are
zero only to solver precision: :data:`ZERO_BLOCK_RTOL`. The first-order solver's direction polish
and the optimal set's Newton refinement confine blocks to faces of their cones:
:data:`FACE_RTOL`.

**The optimal set** (:mod:`~sklearn_convexrelu.optimal_set`). The dual vector ``r*`` is known
only to the accuracy of the solve behind it. The analysis first makes it accurate enough to decide
the tight set (see :mod:`~sklearn_convexrelu.optimal_set._refinement`), then measures its
*accuracy* ``ε``: the largest ``|κ/alpha − 1|`` over the blocks of the solution (tight in exact
arithmetic) and the excess ``max κ/alpha − 1``, clipped to ``[ACCURACY_FLOOR, ACCURACY_CAP]``.
Every decision then uses the *tolerance* ``τ = TIGHT_FACTOR · ε`` — measured, not fixed:

- cones with ``κ ≥ (1 − τ) alpha`` are tight; cones down to ``(1 − CANDIDATE_FACTOR · ε) alpha``
  are *candidates* too, and a linear program (the least total coefficient that reproduces the
  optimal prediction) keeps only the atoms that optimal networks can use, so that a cone too
  close to alpha to classify can never make the optimal set hand out a worse network;
- tight directions closer than ``τ`` are one atom;
- singular values of the fit matrix below ``τ`` times the prediction per unit of coefficient,
  ``‖ŷ*‖ / ‖c‖``, count as zero (not times the largest: that scale is set by the atoms with the
  largest fits, e.g. along a column ×1e5).

**The landscape tools** (:mod:`~sklearn_convexrelu.landscape`) work from a solve to a fixed
relative gap of about 1e-9 and describe its optimal set as the estimators do (the minimal width).
Their own fixed tolerances: a cone is clearly slack (the solver's residue there is dropped when
that costs no objective) below :data:`LANDSCAPE_SLACK_RTOL`; a network's own neurons are a
computed atom within :data:`SAME_ATOM_ATOL`; the path's pruning moves decide ranks at
:data:`RANK_RTOL`.
"""

# -- solver output (SPEC §3.1, §10.1) ------------------------------------------------------------

#: Blocks of a raw solver output with ``‖v_i‖ ≤ ZERO_BLOCK_RTOL · max_j ‖v_j‖`` are solver noise
#: (interior-point and first-order solutions leave blocks of ~1e-8 that carry no objective).
ZERO_BLOCK_RTOL = 1e-6
#: A block computed exactly (a cone projection, a polished block) lies in its cone when every row
#: ``j`` of the cone is violated by at most ``IN_CONE_RTOL ‖x̃_j‖ ‖w‖`` (rounding).
IN_CONE_RTOL = 1e-12
#: A block from an iterative method (an NNLS projection, the optimal set's Newton refinement) is
#: accepted as in its cone at this level instead (its own accuracy), and made exact afterwards.
IN_CONE_ITERATIVE_RTOL = 1e-9
#: Sample ``k`` lies on the face of a block ``w`` of its cone when its slack
#: ``(2D − I)_kk x̃_kᵀw ≤ FACE_RTOL ‖x̃_k‖ ‖w‖`` (rows violated by rounding count; direction polish and
#: Newton refinement).
FACE_RTOL = 1e-9

# -- the optimal set (SPEC §5) -------------------------------------------------------------------

#: Smallest accuracy assumed for the dual vector (rounding in the cone projections).
ACCURACY_FLOOR = 1e-10
#: Largest accuracy used, so that the candidate band stays above alpha / 2. A solve this
#: inaccurate after refinement has raised a ConvergenceWarning.
ACCURACY_CAP = 5e-3
#: The tolerance τ is this multiple of the measured accuracy ε.
TIGHT_FACTOR = 10.0
#: Cones with κ/alpha ≥ 1 − CANDIDATE_FACTOR·ε are candidate atoms (decided by the least-mass LP).
CANDIDATE_FACTOR = 100.0
#: The dual is refined by a warm-started first-order re-solve when ε exceeds this (an interior
#: point's dual can miss tightness by 1e-2 near interpolation, a first-order one by about ``tol``),
#: before the set is described: on 7 of 13 default fits the set described from the solver's dual
#: (ε 4e-7 to 9e-7) was then described again from the re-solved one (ε ≤ 8e-9, an objective 1e-9
#: to 1e-7 lower every time).
REFINE_TRIGGER = 1e-7
#: The re-solve stops at a relative duality gap of min(REFINE_GAP_FACTOR · tol, REFINE_MAX_GAP)
#: (with tol=3e-4 a re-solve to 3e-6 left a dual at ε 1.9e-6 whose set's min-norm network had
#: objective 2.9e7: the fit fell back to the solver's network with an OptimalSetWarning) ...
REFINE_GAP_FACTOR, REFINE_MAX_GAP = 1e-2, 1e-8
#: ... or after this many column-generation iterations (it runs only when the dual is not decisive:
#: 10 left a 50-feature teacher's dual at 3.4e-7 and its set 3.5e-6 above the fit; 100 reach 1e-8).
REFINE_MAX_ITER = 100
#: Blocks below SUPPORT_RTOL times the largest are taken as solver noise by the Newton refinement
#: (it is verified afterwards, so a wrong guess only loses the refinement).
SUPPORT_RTOL = 1e-4
#: Largest number of unknowns of the Newton refinement (each step costs O(unknowns³)).
REFINE_MAX_UNKNOWNS = 400
#: An atom is free when some point of 𝒞 gives it more than FREE_RTOL times the total coefficient.
FREE_RTOL = 1e-7
#: Coefficients below ZERO_RTOL times the total are rounding errors.
ZERO_RTOL = 1e-12
#: Largest number of candidate bases enumerated by :meth:`OptimalSet.vertices`.
MAX_BASES = 20_000
#: Atoms given from outside (e.g. a network's own neurons, SPEC §6) closer than this to a computed
#: atom are that atom (unit vectors; the computed atoms are accurate to ``τ`` at best).
SAME_ATOM_ATOL = 1e-10
#: Neurons of one network whose unit hidden vectors are closer than this are parallel: the default
#: ``tol`` of :meth:`Invariances.merge` (the parts of a split neuron agree to rounding); merging at a
#: larger ``tol`` is checked for optimality.
PARALLEL_ATOL = 1e-9

# -- the landscape tools (SPEC §6), which work from a solve to a fixed relative gap ---------------

#: Blocks of a landscape optimum whose penalised norm is below this fraction of the largest are
#: zero neurons (the optimum is polished with ZERO_BLOCK_RTOL already: this only catches rounding).
NEURON_ZERO_RTOL = 1e-12

#: Relative singular value below which atom fits count as linearly dependent (pruning, widths).
RANK_RTOL = 1e-10
#: Relative size below which an entry of a pruning move's null vector counts as zero (SPEC §5; the
#: optimal set's vertices and the landscape's path share the moves).
PIVOT_RTOL = 1e-9
#: A dual constraint with κ < (1 − LANDSCAPE_SLACK_RTOL) alpha at a landscape optimum is slack.
LANDSCAPE_SLACK_RTOL = 1e-4
#: The minimal network of no_spurious_valleys_width must be within this relative distance of the
#: computed optimum's objective (the solve's accuracy), else only the pruned upper bound is reported.
WIDTH_OPTIMAL_RTOL = 1e-7
