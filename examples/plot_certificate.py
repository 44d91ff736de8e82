"""
The certificate's two meanings: all patterns or the covered ones
================================================================

Every fit carries ``certificate_``: the duality gap of the fitted network, computed from its
prediction alone. What the gap proves depends on the activation patterns it covers:

- over **all** patterns (``arrangements="exact"``, possible for data of small rank) a gap below
  ``tol`` proves a global minimum of the non-convex training problem, for every width;
- over **sampled** patterns it proves optimality only among networks whose neurons use those
  patterns.

This example computes the certificate by hand (a dozen lines of numpy and scipy) to show what it
checks, and then fits with more and more sampled patterns: the gap over the covered patterns is
always below ``tol``, while the gap over all patterns
(:func:`~sklearn_convexrelu.landscape.optimality_certificate`) shows how far from the global
optimum each sampled fit really is.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import nnls

from sklearn_convexrelu import ConvexReLURegressor
from sklearn_convexrelu.landscape import optimality_certificate

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(40, 2))
y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(40)
alpha = 1e-2

exact = ConvexReLURegressor(alpha=alpha, arrangements="exact").fit(X, y)
print(exact.certificate_)

# %%
# The certificate by hand
# -----------------------
# The dual vector is the scaled residual ``r = (y − ŷ)/n``. For every pattern ``D_i`` and sign
# ``σ``, ``κ = ‖Π_K(σ X̃ᵀ D_i r)‖`` is the largest decrease of the data term that one unit neuron
# with that pattern could buy; the cone projection ``Π_K(a) = a + Aᵀρ`` with
# ``ρ = argmin_{ρ ≥ 0} ‖a + Aᵀρ‖`` is one non-negative least-squares problem. The network is
# optimal over a set of patterns when no ``κ`` exceeds ``alpha``: no neuron pays for its penalty.
X_aug = np.hstack([X, np.ones((len(X), 1))])  # x̃ = [x, 1]: the hidden bias
all_patterns = exact.arrangements_.patterns  # n × P booleans: every pattern of these data


def kappa_ratios(model, patterns):
    """``κ_{i,σ} / alpha`` of every pattern and sign, for the residual of ``model``."""
    r = (y - model.predict(X)) / len(y)
    ratios = []
    for D in patterns.T:
        A = (2 * D - 1)[:, None] * X_aug  # the cone K = {u : A u ≥ 0}
        for sign in (1, -1):
            a = sign * X_aug.T @ (D * r)
            rho, _ = nnls(A.T, -a)
            ratios.append(np.linalg.norm(a + A.T @ rho) / alpha)
    return np.array(ratios)


exact_ratios = kappa_ratios(exact, all_patterns)
print(f"{all_patterns.shape[1]} patterns; largest κ/alpha of the exact fit: {exact_ratios.max():.6f} "
      f"(certificate_.kappa_ratio {exact.certificate_.kappa_ratio:.6f})")

# %%
# Sampled patterns
# ----------------
# A fit on 20 sampled patterns is optimal over *those* (its own certificate), but neurons with
# other patterns would do better: their ``κ`` exceeds ``alpha``.
sampled = ConvexReLURegressor(alpha=alpha, arrangements="sample", n_arrangements=20, random_state=0).fit(X, y)
print(sampled.certificate_)
sampled_ratios = kappa_ratios(sampled, all_patterns)
print(f"over all patterns, {np.sum(sampled_ratios > 1 + 1e-6)} of {sampled_ratios.size} (pattern, sign) pairs "
      f"have κ > alpha; the largest is {sampled_ratios.max():.3f} alpha")
print(optimality_certificate(sampled, X, y, arrangements="exact"))

# %%
# More patterns, closer to the global optimum
# -------------------------------------------
# The covered gap stays below ``tol`` whatever the sample; the gap over all patterns shrinks as
# the sample grows (not monotonically: every sample is drawn anew), and vanishes only once the
# sample contains the patterns the optimal networks use. ``arrangements="search"`` goes after
# exactly those: it adds the patterns whose ``κ`` exceeds ``alpha`` and re-solves.
counts = [5, 10, 20, 50, 100, 200, 400]
covered, overall = [], []
for count in counts:
    fit = ConvexReLURegressor(alpha=alpha, arrangements="sample", n_arrangements=count, random_state=0).fit(X, y)
    covered.append(fit.certificate_.relative_gap)
    overall.append(optimality_certificate(fit, X, y, arrangements="exact").relative_gap)
    print(f"{count:>4} sampled gates ({fit.n_arrangements_:>3} patterns): relative gap {covered[-1]:.1e} over them, "
          f"{overall[-1]:.1e} over all {all_patterns.shape[1]}")

search = ConvexReLURegressor(alpha=alpha, arrangements="search", random_state=0).fit(X, y)
search_gap = optimality_certificate(search, X, y, arrangements="exact").relative_gap
print(f"pattern search ({search.n_arrangements_} patterns): relative gap {search.certificate_.relative_gap:.1e} "
      f"over them, {search_gap:.1e} over all {all_patterns.shape[1]}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(np.sort(exact_ratios)[::-1], label="exact fit (all patterns)")
left.plot(np.sort(sampled_ratios)[::-1], label="fit on 20 sampled patterns")
left.axhline(1, color="k", ls=":", label="κ = alpha")
left.set(xscale="log", xlabel="(pattern, sign) pairs, sorted", ylabel="κ / alpha",
         title="Dual constraints over all patterns")
left.legend()
floor = 1e-12
right.plot(counts, np.maximum(covered, floor), "o-", label="over the covered patterns (certificate_)")
right.plot(counts, np.maximum(overall, floor), "s-", label="over all patterns (optimality_certificate)")
right.plot([search.n_arrangements_], [max(search_gap, floor)], "*", ms=12, color="C3",
           label="pattern search, over all patterns")
right.axhline(exact.tol, color="k", ls=":", label=f"tol = {exact.tol:g}")
right.set(xscale="log", yscale="log", xlabel="sampled gates (n_arrangements); star: patterns of the search", ylabel="relative duality gap",
          title="What a sampled fit proves")
right.legend(fontsize=8)
fig.tight_layout()
plt.show()
