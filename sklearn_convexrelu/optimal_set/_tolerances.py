"""The tolerances of the optimal-set analysis and of the landscape tools, in one place (SPEC §5, §6).

The dual vector ``r*`` is known only to the accuracy of the solve behind it. The analysis first
makes it accurate enough to decide the tight set (see :mod:`._refinement`), then measures its
*accuracy* ``ε``: the largest ``|κ/alpha − 1|`` over the blocks of the solution (tight in exact
arithmetic) and the excess ``max κ/alpha − 1``, clipped to ``[ACCURACY_FLOOR, ACCURACY_CAP]``.
Every decision then uses the *tolerance* ``τ = TIGHT_FACTOR · ε``:

- cones with ``κ ≥ (1 − τ) alpha`` are tight; cones down to ``(1 − CANDIDATE_FACTOR · ε) alpha``
  are *candidates* too, and a linear program (the least total coefficient that reproduces the
  optimal prediction) keeps only the atoms that optimal networks can use, so that a cone too
  close to alpha to classify can never make the optimal set hand out a worse network;
- tight directions closer than ``τ`` are one atom;
- singular values of the fit matrix below ``τ`` times the prediction per unit of coefficient,
  ``‖ŷ*‖ / ‖c‖``, count as zero (not times the largest: that scale is set by the atoms with the
  largest fits, e.g. along a column ×1e5).
"""

#: Smallest accuracy assumed for the dual vector (rounding in the cone projections).
ACCURACY_FLOOR = 1e-10
#: Largest accuracy used, so that the candidate band stays above alpha / 2. A solve this
#: inaccurate after refinement has raised a ConvergenceWarning.
ACCURACY_CAP = 5e-3
#: The tolerance τ is this multiple of the measured accuracy ε.
TIGHT_FACTOR = 10.0
#: Cones with κ/alpha ≥ 1 − CANDIDATE_FACTOR·ε are candidate atoms (decided by the least-mass LP).
CANDIDATE_FACTOR = 100.0
#: When the min-norm network of a polytope with null directions misses the objective, the rank
#: is decided again at these multiples of τ (the fit matrix's singular values may have no gap
#: around τ: directions counted as null then move the prediction).
RANK_RETRY_FACTORS = (0.1, 0.01)
#: The dual is refined by a warm-started first-order re-solve when ε exceeds the solve's own
#: tolerance ``tol`` and this floor (a first-order solution is tight to about ``tol`` already; an
#: interior point's dual can miss tightness by 1e-2 near interpolation).
REFINE_TRIGGER = 1e-7
#: The re-solve stops at a relative duality gap of REFINE_GAP_FACTOR · tol ...
REFINE_GAP_FACTOR = 1e-2
#: ... or after this many column-generation iterations (it runs only when the dual is not decisive:
#: 10 left a 50-feature teacher's dual at 3.4e-7 and its set 3.5e-6 above the fit; 100 reach 1e-8).
REFINE_MAX_ITER = 100
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

# -- the landscape tools (SPEC §6), which work from a solve to a fixed relative gap ---------------

#: Relative singular value below which atom fits count as linearly dependent (pruning, widths).
RANK_RTOL = 1e-10
#: Relative size below which a pruning direction's entry counts as zero.
PIVOT_RTOL = 1e-9
#: κ ≥ (1 − LANDSCAPE_TIGHT_RTOL) alpha counts as tight at a landscape optimum (solved to a gap of
#: about 1e-9, so the dual is accurate to about 1e-5); directions that close are one atom.
LANDSCAPE_TIGHT_RTOL = 1e-5
