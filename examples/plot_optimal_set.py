"""
======================================
The whole set of optimal ReLU networks
======================================

A fitted :class:`~sklearn_convexrelu.ConvexReLURegressor` holds every globally optimal network,
not only one: ``optimal_set_`` describes them as the points of a polytope of neuron coefficients
on a few *atoms* (the only directions an optimal neuron can take), and ``invariances_`` lists the
transformations that map optimal networks to optimal networks.

On these 1-D data the polytope is a segment: the optimal networks form a continuum. Each panel
below is one of them: the minimal network (a vertex of the segment, fewest neurons), the min-norm
network (the estimator's ``network_``) and two random optimal networks of larger width. Their
neurons differ, their training objective and predictions are the same: the two kinks used on
both sides combine into the identity ``(t)_+ − (−t)_+ = t`` plus a constant that the output
intercept absorbs.
"""


import matplotlib.pyplot as plt
import numpy as np

from sklearn_convexrelu import ConvexReLURegressor

rng = np.random.RandomState(0)
X = rng.uniform(-1, 1, (20, 1))
y = np.sin(3 * X[:, 0]) + 0.1 * rng.randn(20)
alpha = 1e-2

reg = ConvexReLURegressor(alpha=alpha).fit(X, y)
opt, inv = reg.optimal_set_, reg.invariances_
print(opt)
print(f"atoms: {opt.n_atoms}, polytope dimension: {opt.dimension}, unique: {opt.is_unique}")
print(f"neurons: solver {reg.convex_solution_.n_nonzero_blocks}, min-norm {reg.n_neurons_}, "
      f"minimal {opt.minimal_network().n_neurons}")
print(inv)

networks = {
    "minimal (a vertex)": opt.minimal_network(),
    "min-norm (network_)": reg.network_,
    "random, 7 neurons": opt.sample(n_neurons=7, random_state=1),
    "random, 9 neurons": inv.permute(opt.sample(n_neurons=9, random_state=2), random_state=0),
}
grid = np.linspace(-1.1, 1.1, 400)[:, None]
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), sharey=True)
for ax, (name, net) in zip(axes, networks.items()):
    objective = net.objective(X, y, alpha)
    gap = np.abs(net.predict(X) - reg.predict(X)).max()
    print(f"{name:22s} {net.n_neurons} neurons, objective {objective:.10f}, "
          f"max |prediction - network_| on the data {gap:.1e}, in the set: {opt.contains(net)}")
    contributions = net.activations(grid) * net.output_weights[:, 0]  # a_j (w_j x + b_j)_+
    ax.plot(grid[:, 0], contributions, lw=1, alpha=0.8)
    ax.plot(grid[:, 0], net.predict(grid), color="black", lw=2.5, label="network")
    ax.scatter(X[:, 0], y, color="tab:red", s=15, zorder=3, label="data")
    ax.set_title(f"{name}\n{net.n_neurons} neurons, objective {objective:.6f}", fontsize=10)
    ax.set_xlabel("x")
axes[0].set_ylabel("neuron contributions a_j (w_j x + b_j)_+")
axes[0].legend(loc="lower right", fontsize=8)
fig.suptitle(f"Optimal networks of one fit (alpha={alpha}): a {opt.dimension}-dimensional family")
fig.tight_layout()
plt.show()
