"""The whole set of optimal networks and the transformations that preserve it (SPEC §5, §5.1).

For a loss that is strictly convex in the prediction, every optimal network has the same training
prediction ``ŷ*`` and the same dual vector ``r* = −∇ value(ŷ*)``. The neurons of any optimal
network point along *atoms*: the unit directions ``ŵ_k = Π_{K_i}(σ X̃ᵀ D_i r*) / alpha`` of the
tight cones ``κ_{i,σ} = alpha`` (one atom per distinct direction, sign and output). With the atom
fits ``f_k = σ_k (X̃ ŵ_k)_+``, the optimal networks are exactly those whose per-atom coefficients
``c_k = Σ_j ‖w̃_j‖ |a_j|`` lie in the polytope

    𝒞 = { c ≥ 0 : Σ_k c_k f_k = ŷ* − intercept }                                   (SPEC §5)

The equality holds per output, modulo the output intercept when it is fitted and modulo a constant
across classes for the softmax loss, which does not see it.

The package is split along its jobs:

- :mod:`._refinement`: a dual vector accurate enough to decide the tight set (re-solve and Newton);
- :mod:`._atoms`: the atom model, shared with the landscape tools;
- :mod:`._polytope`: the polytope 𝒞 (least-mass face, vertices, sampling, min-norm point);
- :mod:`._set`: :class:`OptimalSet` and :func:`optimal_set_from_fit`;
- :mod:`._invariances`: :class:`Invariances`, the symmetries of §5.1;
- every tolerance of the analysis is documented with the package's others in
  :mod:`sklearn_convexrelu._tolerances`.
"""

from ._atoms import Atoms, merge_directions
from ._invariances import Invariances
from ._set import OptimalSet, optimal_set_from_fit

__all__ = ["Atoms", "Invariances", "OptimalSet", "merge_directions", "optimal_set_from_fit"]
