"""The set of all optimal networks of a solved convex program (SPEC §5)."""

import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..exceptions import OptimalSetWarning
from ..network import TwoLayerReLUNetwork
from ..program.certificate import dual_vector
from ..program.cones import cone_kappas
from ..program.penalty import GroupNormPenalty
from ..solvers.first_order import _ILL_SCALED, FirstOrderSolver
from ._atoms import Atoms, merge_directions
from ._polytope import CoefficientPolytope, cone_fit
from ._refinement import dual_analysis, refine_prediction, resolve_first_order, support_accuracy
from .._tolerances import ACCURACY_CAP, ACCURACY_FLOOR, CANDIDATE_FACTOR, MAX_BASES, REFINE_GAP_FACTOR, REFINE_TRIGGER, TIGHT_FACTOR

__all__ = ["OptimalSet", "optimal_set_from_fit"]

_TINY = np.finfo(float).tiny


@dataclass(frozen=True, eq=False)
class _Program:
    """The training problem an optimal set describes: data, encoded targets, weights and objective."""

    X_aug: np.ndarray
    Y: np.ndarray
    s: np.ndarray
    loss: object
    alpha: float
    fit_intercept: bool
    hidden_bias: bool
    exact: bool

    @property
    def X(self):
        return self.X_aug[:, :-1] if self.hidden_bias else self.X_aug

    def dual_vector(self, prediction):
        """``r = −∇ value`` at ``prediction`` with its intercept re-optimised (SPEC §4)."""
        return dual_vector(self.loss, self.Y, self.s, prediction, fit_intercept=self.fit_intercept)[2]

    def nuisance(self, E):
        """Remove from ``E`` (n, K, ...) what the objective cannot see (SPEC §5): a constant per
        output when the intercept is fitted, a constant across outputs for a shift-invariant loss."""
        if self.fit_intercept:
            E = E - E.mean(axis=0, keepdims=True)
        if self.loss.shift_invariant:
            E = E - E.mean(axis=1, keepdims=True)
        return E


@dataclass(frozen=True)
class _Diagnostics:
    """How the optimal set was obtained (see :class:`OptimalSet`'s attributes), and its target
    prediction (used once, to place the intercept; not kept)."""

    tight_cones: np.ndarray
    cone_atoms: np.ndarray
    accuracy: float
    solver_accuracy: float
    refined: bool
    solver_coefficients: np.ndarray
    target: np.ndarray


def _check_nonnegative_int(value, name, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    return int(value)


class OptimalSet:
    """Every optimal network of a fitted convex program (SPEC §5).

    Built by :func:`optimal_set_from_fit`; the estimators store it as ``optimal_set_``. For a loss
    that is strictly convex in the prediction every optimal network has the same training
    prediction ``ŷ*`` and dual vector ``r* = −∇ value(ŷ*)``; its neurons point along *atoms*, the
    unit directions ``ŵ_k = Π_{K_i}(σ X̃ᵀ D_i r*) / alpha`` of the tight cones, with per-atom
    coefficients ``c_k = Σ_j ‖w̃_j‖ |a_j|`` in the polytope
    ``𝒞 = {c ≥ 0 : Σ_k c_k f_k = ŷ* − intercept}``. With sampled patterns (``exact=False``) it
    is the set of optimal networks whose neurons use those patterns. Its tolerances are
    documented in :mod:`sklearn_convexrelu.optimal_set`.

    Parameters
    ----------
    program : _Program
        The training problem.
    atoms : Atoms
        The atoms (tight directions, signs and outputs).
    polytope : CoefficientPolytope
        The polytope 𝒞 of atom coefficients.
    diagnostics : _Diagnostics
        How the set was obtained.

    Attributes
    ----------
    alpha : float
    loss : str
    n_outputs : int
    fit_intercept, hidden_bias : bool
    exact : bool
        Whether the patterns were all the activation patterns of the data.
    atoms : Atoms
        The atoms; ``directions``, ``signs`` and ``outputs`` repeat their arrays.
    directions : ndarray of shape (n_atoms, n_dims)
        Unit direction ``ŵ_k`` of each atom in ``X̃`` coordinates (hidden bias last).
    signs : ndarray of shape (n_atoms,)
        Sign ``σ_k ∈ {+1, −1}`` of each atom's output weight.
    outputs : ndarray of shape (n_atoms,)
        The output each atom feeds.
    tight_cones : ndarray of shape (n_tight, 3)
        ``(output, pattern, sign)`` of every candidate cone (``κ`` within the tolerance band).
    cone_atoms : ndarray of shape (n_tight,)
        The atom of each such cone (neighbouring cones sharing a direction share an atom).
    accuracy : float
        Measured accuracy ``ε`` of the dual vector used (after refinement).
    solver_accuracy : float
        The same measure at the solver's own prediction.
    tolerance : float
        ``τ = TIGHT_FACTOR · ε``: tight threshold, merge distance and rank tolerance.
    refined : bool
        Whether a refinement of the solver's solution was used.
    projection_residual : float
        Relative distance from the prediction to the cone of the atom fits, removed by a
        least-squares correction (0 in exact arithmetic).
    free_atoms : ndarray of shape (n_atoms,), dtype bool
        Atoms that are positive at some point of 𝒞 (candidate atoms that are not tight are not).
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
    describes_fit : bool
        ``False`` when the estimator found that the set does not reproduce its solver's objective
        within ``tol`` (it raised an ``OptimalSetWarning``); the methods that hand out networks
        then warn again, since their networks may not be optimal.

    See Also
    --------
    Invariances : The transformations that preserve the set.
    sklearn_convexrelu.landscape.no_spurious_valleys_width : The fewest neurons of an optimal
        network, and the width without spurious valleys.

    Notes
    -----
    The training data are not stored: what the methods need is kept in a derived form (the atoms,
    the polytope in the coordinates of its triangular factor, and per-output means for the
    intercept). The optimal training prediction is ``min_norm_network().output(X)``, and the atom
    fits on any data are :meth:`atom_fits`.

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

    def __init__(self, program, atoms, polytope, diagnostics):
        self.atoms, self._polytope, self._loss = atoms, polytope, program.loss
        self.alpha = float(program.alpha)
        self.loss = program.loss.name
        n, self.n_outputs = program.Y.shape
        self.fit_intercept, self.hidden_bias, self.exact = program.fit_intercept, program.hidden_bias, program.exact
        self.directions, self.signs, self.outputs = atoms.directions, atoms.signs, atoms.outputs
        self.tight_cones, self.cone_atoms = diagnostics.tight_cones, diagnostics.cone_atoms
        self.accuracy = float(diagnostics.accuracy)
        self.tolerance = TIGHT_FACTOR * self.accuracy
        self.solver_accuracy = float(diagnostics.solver_accuracy)
        self.refined = bool(diagnostics.refined)
        self.solver_coefficients = diagnostics.solver_coefficients
        self.projection_residual = polytope.projection_residual
        self.free_atoms = polytope.free
        self.dimension = polytope.dimension
        self.is_unique = self.dimension == 0
        self.mass = polytope.mass
        # The intercept that reproduces the optimal prediction ŷ* = F c + intercept for c in 𝒞: per
        # output, mean(ŷ*) minus the mean of the atoms' fits (SPEC §5; F c − ŷ* is constant there).
        fits = atoms.fits(program.X_aug)
        self._n_samples = n
        self._fit_means = fits.mean(axis=0)
        self._target_mean = diagnostics.target.mean(axis=0)
        self.min_norm_coefficients = polytope.min_norm_point()
        network = self._coefficient_network(self.min_norm_coefficients)
        prediction = network.output(program.X)
        self._prediction_norm = float(np.linalg.norm(prediction))
        self.objective = program.loss.value(prediction, program.Y, program.s) + network.penalty(self.alpha)
        self.describes_fit = True
        for array in (self.directions, self.signs, self.outputs, self.tight_cones, self.cone_atoms,
                      self.free_atoms, self.solver_coefficients, self.min_norm_coefficients):
            array.setflags(write=False)

    def _warn_unless_describing(self):
        """An ``OptimalSetWarning`` when the set is known not to describe its fit (see ``describes_fit``)."""
        if not getattr(self, "describes_fit", True):
            warnings.warn(
                "This optimal set does not describe its fit to the fit's tolerance (the fit raised an "
                "OptimalSetWarning): the networks it hands out may not be optimal.",
                OptimalSetWarning, stacklevel=3,
            )

    @property
    def n_atoms(self):
        """Number of atoms, the distinct optimal neuron directions."""
        return len(self.atoms)

    def __repr__(self):
        return (
            f"OptimalSet(n_atoms={self.n_atoms}, dimension={self.dimension}, "
            f"is_unique={self.is_unique}, n_outputs={self.n_outputs})"
        )

    # -- coefficients <-> networks ------------------------------------------------------------

    def _intercept(self, coef):
        """The output intercept that gives the network with atom coefficients ``coef`` in 𝒞 the
        optimal prediction (zero without a fitted intercept)."""
        if not self.fit_intercept:
            return np.zeros(self.n_outputs)
        return self._target_mean - np.bincount(self.outputs, weights=self._fit_means * coef, minlength=self.n_outputs)

    def atom_fits(self, X):
        """The atom fits ``f_k = σ_k (X̃ ŵ_k)_+`` on data ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        fits : ndarray of shape (n_samples, n_atoms)
            Column ``k`` is the fit of atom ``k``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> np.round(opt.atom_fits(X), 4)  # each diagonal direction is active on two points
        array([[0.    , 0.    , 0.7071, 0.7071],
               [0.7071, 0.7071, 0.    , 0.    ],
               [0.    , 0.7071, 0.    , 0.7071],
               [0.7071, 0.    , 0.7071, 0.    ]])
        """
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] + self.hidden_bias != self.directions.shape[1]:
            raise ValueError(f"X must have shape (n_samples, {self.directions.shape[1] - self.hidden_bias}), got {X.shape}.")
        return self.atoms.fits(np.hstack([X, np.ones((X.shape[0], 1))]) if self.hidden_bias else X)

    def _network(self, atoms, squares, coef):
        """Network whose neuron j is ``(√squares_j ŵ, σ √squares_j)`` on atom ``atoms[j]``."""
        return self.atoms.network(atoms, squares, self._intercept(coef), hidden_bias=self.hidden_bias)

    def _check_coef(self, coef):
        coef = np.asarray(coef, dtype=float)
        if coef.shape != (self.n_atoms,) or not np.all(np.isfinite(coef)) or np.any(coef < 0):
            raise ValueError(f"coef must be a finite non-negative array of shape ({self.n_atoms},).")
        return coef

    def to_network(self, coef):
        """The network with one neuron per positive atom coefficient (SPEC §5).

        Parameters
        ----------
        coef : array-like of shape (n_atoms,)
            Non-negative atom coefficients, e.g. a row of :meth:`vertices`.

        Returns
        -------
        network : TwoLayerReLUNetwork
            Neuron ``(√c_k ŵ_k, σ_k √c_k)`` for every ``c_k > 0``, in atom order, and the optimal
            output intercept for these neurons.

        Raises
        ------
        ValueError
            If ``coef`` is not a point of the coefficient polytope 𝒞 (to the tolerance of
            :meth:`contains`): its network would not be optimal.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> network = opt.to_network(opt.vertices()[0])
        >>> network.n_neurons, opt.contains(network)
        (2, True)
        """
        self._warn_unless_describing()
        coef = self._check_coef(coef)
        distance = self._polytope.distance(coef)  # in prediction units, as in contains()
        if distance > self._default_tol(None) * max(self._prediction_norm, _TINY):
            raise ValueError(
                f"coef is not a point of the coefficient polytope (its constraints are missed by "
                f"{distance:.3g}, relative {distance / max(self._prediction_norm, _TINY):.3g}): its "
                "network would not be optimal. Use min_norm_coefficients, a row of vertices(), or "
                "sample() for a random optimal network."
            )
        return self._coefficient_network(coef)

    def _coefficient_network(self, coef):
        """:meth:`to_network` for coefficients computed here (points of 𝒞 up to rounding)."""
        atoms = np.flatnonzero(coef > 0)
        return self._network(atoms, coef[atoms], coef)

    # -- canonical points ------------------------------------------------------------------------

    def min_norm_network(self):
        """The optimal network of least ``‖c‖``: unique, the canonical choice (SPEC §5).

        It is mapped to itself by every symmetry of the data, merges the duplicate blocks a
        solver spreads over neighbouring cones (one neuron per atom), and does not depend on the
        solver. The estimators use it as ``network_``.

        Returns
        -------
        TwoLayerReLUNetwork
            The min-norm optimal network.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> network = opt.min_norm_network()  # the midpoint of the two vertices: four neurons
        >>> network.n_neurons, opt.contains(network)
        (4, True)
        """
        self._warn_unless_describing()
        return self._coefficient_network(self.min_norm_coefficients)

    def vertices(self, max_count=100, random_state=0):
        """The vertices of the coefficient polytope 𝒞: the minimal optimal networks (SPEC §5).

        A vertex has linearly independent atom fits, hence at most ``rank(fits) ≤ n_samples``
        positive coefficients. All vertices are enumerated when the number of candidate bases,
        ``C(n_free_atoms, dimension)``, is at most ``MAX_BASES``; otherwise they are found by linear
        programs with random objectives, and by pruning the min-norm point.

        Parameters
        ----------
        max_count : int, default=100
            Largest number of vertices returned (at least 1).
        random_state : int, RandomState instance or None, default=0
            Seeds the random objectives (only when the vertices are not enumerated).

        Returns
        -------
        vertices : ndarray of shape (n_vertices, n_atoms)
            Atom coefficients, fewest neurons first; :meth:`to_network` maps a row to a network.

        Examples
        --------
        Two pairs of opposite diagonal neurons fit the four points equally well:

        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> np.round(opt.vertices(), 4)
        array([[0.    , 1.0142, 1.0142, 0.    ],
               [1.0142, 0.    , 0.    , 1.0142]])
        """
        self._warn_unless_describing()
        return self._vertices(max_count, random_state)[0]

    def _vertices(self, max_count, random_state, max_bases=MAX_BASES):
        max_count = _check_nonnegative_int(max_count, "max_count")
        if max_count < 1:
            raise ValueError(f"max_count must be at least 1, got {max_count}.")
        return self._polytope.vertices(max_count, check_random_state(random_state), self.min_norm_coefficients, max_bases)

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

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> network, proven = opt.minimal_network(return_proven=True)
        >>> network.n_neurons, proven
        (2, True)
        """
        self._warn_unless_describing()
        if not isinstance(return_proven, (bool, np.bool_)):
            raise ValueError(f"return_proven must be a bool, got {return_proven!r}.")
        vertices, complete = self._vertices(max_count, 0)
        network = self._coefficient_network(vertices[0])
        return (network, bool(complete)) if return_proven else network

    # -- sampling --------------------------------------------------------------------------------

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
            Seed of the random point, splits and order.

        Returns
        -------
        network : TwoLayerReLUNetwork
            A random optimal network.

        Raises
        ------
        ValueError
            If ``n_neurons`` is not a non-negative integer, or no optimal network with
            ``n_neurons`` neurons was found.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> network = opt.sample(n_neurons=7, random_state=0)
        >>> network.n_neurons, opt.contains(network)
        (7, True)
        """
        self._warn_unless_describing()
        n_neurons = _check_nonnegative_int(n_neurons, "n_neurons", allow_none=True)
        rng = check_random_state(random_state)
        coef = self._polytope.random_point(rng, self.min_norm_coefficients)
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
            from ._invariances import Invariances

            network = Invariances(self).add_zero_neurons(network, n_neurons - network.n_neurons)
        return network

    # -- membership ------------------------------------------------------------------------------

    def _default_tol(self, tol):
        if tol is None:
            return max(1e-6, self.tolerance)
        if not isinstance(tol, Real) or not 0 <= tol < 1:
            raise ValueError(f"tol must be a number in [0, 1), got {tol!r}.")
        return float(tol)

    def atom_coefficients(self, network, tol=None):
        """Per-atom coefficients ``c_k = Σ_{j on atom k} ‖w̃_j‖ |a_j|`` of a network.

        Every nonzero neuron is matched to the atom of its output and sign closest to its
        direction; a neuron that is unbalanced, feeds several outputs or is farther than ``tol``
        from every atom makes the network non-optimal, unless it is negligible (penalty at most
        ``tol`` times the optimal penalty), in which case it is ignored.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network examined.
        tol : float, default=None
            Relative tolerance, as in :meth:`contains`.

        Returns
        -------
        coef : ndarray of shape (n_atoms,) or None
            ``None`` when a non-negligible neuron matches no atom (the network is not optimal).
        neuron_atoms : ndarray of shape (n_neurons,) or None
            The atom of each neuron, ``-1`` for zero and ignored neurons.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> coef, neuron_atoms = opt.atom_coefficients(reg.network_)
        >>> np.round(coef, 4), neuron_atoms
        (array([0.5071, 0.5071, 0.5071, 0.5071]), array([0, 1, 2, 3]))
        """
        tol = self._default_tol(tol)
        if not isinstance(network, TwoLayerReLUNetwork):
            raise TypeError(f"network must be a TwoLayerReLUNetwork, got {type(network).__name__}.")
        if not self.hidden_bias and np.any(network.hidden_bias != 0):
            return None, None
        if network.n_features + self.hidden_bias != self.directions.shape[1] or network.n_outputs != self.n_outputs:
            return None, None
        nearest, distance, w_norm, a, a_norm = self.atoms.match(network, hidden_bias=self.hidden_bias)
        matched = (
            (np.abs(a) >= a_norm * (1 - tol))  # one output
            & (np.abs(w_norm - np.abs(a)) <= tol * np.maximum(w_norm, np.abs(a)))  # balanced
            & (distance <= tol)
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
        points along an atom of its sign and output (see :meth:`atom_coefficients`), and its atom
        coefficients lie in 𝒞 with the matching output intercept, i.e. its training prediction is
        the optimal one (modulo a constant across classes for the softmax loss) with the optimal
        penalty. Such a network has the optimal objective. No training data are needed.

        Parameters
        ----------
        network : TwoLayerReLUNetwork
            The network examined.
        tol : float, default=None
            Relative tolerance on balance, on directions (distance of unit vectors) and on the
            prediction, in [0, 1). ``None`` means ``max(1e-6, tolerance)``. The objective grows
            quadratically away from the optimal set, so a network whose objective exceeds the
            optimum by a relative ``δ`` (e.g. a solver's) is in the set only to about ``√δ``.

        Returns
        -------
        contained : bool
            Whether the network is optimal, to ``tol``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_convexrelu import ConvexReLURegressor
        >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
        >>> reg = ConvexReLURegressor(alpha=0.1, hidden_bias=False, fit_intercept=False).fit(X, np.ones(4))
        >>> opt = reg.optimal_set_
        >>> opt.contains(reg.network_)
        True
        >>> opt.contains(reg.invariances_.rescale(reg.network_, 0, 2.0))  # unbalanced
        False
        """
        tol = self._default_tol(tol)
        coef, _ = self.atom_coefficients(network, tol)
        if coef is None:
            return False
        # prediction error = the constraints' residual (centred part) and the intercept's (constant part)
        shift = network.output_bias - self._intercept(coef)
        if self._loss.shift_invariant:
            shift = shift - shift.mean()
        error = np.hypot(self._polytope.distance(coef), np.sqrt(self._n_samples) * np.linalg.norm(shift))
        return bool(error <= tol * max(self._prediction_norm, _TINY))


# --------------------------------------------------------------------------------------------


def _convex_value(program, prediction, blocks):
    """Objective (C-ReLU) of ``blocks`` (2, K, d, P) whose prediction is ``prediction``."""
    return program.loss.value(prediction, program.Y, program.s) + GroupNormPenalty().value(program.alpha, blocks, axis=2)


def _best_dual(program, arrangements, blocks, intercept, prediction, tol, force=False, solver=None):
    """The most accurate of the solver's dual and its refinements (see :mod:`._refinement`).

    ``force=True`` always tries the re-solve, ``force=None`` tries no refinement. ``solver``: the
    fit's :class:`FirstOrderSolver` over these patterns, whose cone faces start the projections of
    κ, or ``None``. (The re-solve gets a new solver: started from the fit's faces, which the search
    left at other duals, it took 4.6 s instead of 3.0 s on load_digits, n = 250.)

    Returns the prediction, the blocks, the analysis ``(kappas, directions, accuracy)``, the
    solver's accuracy, whether a refinement was kept and whether the re-solve ran.
    """
    X_aug, patterns, Y, s, loss, alpha = program.X_aug, arrangements.patterns, program.Y, program.s, program.loss, program.alpha
    if solver is None:
        def kappas_of(R, threshold, bound_only=False):
            return cone_kappas(X_aug, patterns, R, threshold, bound_only=bound_only)
    else:
        kappas_of = solver.cone_kappas

    def accuracy_of(candidate_prediction, candidate_blocks):
        """The dual's accuracy ε (tightness on the blocks, feasibility everywhere, SPEC §4) and the
        score that ranks duals (ε or the turn of the blocks' directions, whichever is larger)."""
        R = program.dual_vector(candidate_prediction)
        kappas, _, _ = kappas_of(R, alpha, bound_only=True)  # exact above alpha
        excess = float(kappas.max(initial=0.0)) / alpha - 1
        tightness, turn = support_accuracy(X_aug, patterns, R, alpha, candidate_blocks)
        accuracy = float(np.clip(max(tightness, excess), ACCURACY_FLOOR, ACCURACY_CAP))
        return accuracy, max(accuracy, turn)

    solver_accuracy, solver_score = accuracy_of(prediction, blocks)
    best = (prediction, blocks, intercept, solver_accuracy, solver_score)
    objective = _convex_value(program, prediction, blocks)
    refined = resolved = False

    def consider(candidate_prediction, candidate_blocks, candidate_intercept):
        """Keep a refinement whose value is within the re-solve's gap of the lowest one seen and whose
        dual is more decisive. Returns it with its accuracy and score (``None`` if its value is too
        high): a point at the re-solve's gap (1e-8 relative) above a Newton point can have the
        better dual."""
        nonlocal best, objective, refined
        value = _convex_value(program, candidate_prediction, candidate_blocks)
        if not value <= objective + REFINE_GAP_FACTOR * tol * abs(objective):
            return None
        candidate = (candidate_prediction, candidate_blocks, candidate_intercept, *accuracy_of(candidate_prediction, candidate_blocks))
        if candidate[4] < best[4]:  # a more decisive dual (a lower value alone can come with a worse one)
            best, objective, refined = candidate, min(objective, value), True
        return candidate

    def newton(start):
        """Newton on the faces of the blocks of ``start``: quadratic, so from a dual whose directions
        are off by 2e-4 (tight to 2e-8) to one off by 4e-8; skipped beyond REFINE_MAX_UNKNOWNS."""
        start_prediction, start_blocks, start_intercept, start_accuracy, start_score = start
        if start_score > ACCURACY_FLOOR and start_accuracy < ACCURACY_CAP:
            R = program.dual_vector(start_prediction)
            step = refine_prediction(
                X_aug, patterns, Y, s, loss, alpha, start_blocks, start_intercept, program.fit_intercept, R, start_accuracy,
            )
            if step is not None:
                consider(step[0], step[1], start_intercept)

    if force is not None:
        newton(best)
        if (force or best[3] > REFINE_TRIGGER) and blocks.any():
            resolved = True
            try:
                _, candidate_prediction, candidate_blocks, candidate_intercept = resolve_first_order(
                    X_aug, arrangements, Y, s, loss, alpha, blocks, intercept, fit_intercept=program.fit_intercept, tol=tol,
                )
            except (RuntimeError, np.linalg.LinAlgError):
                pass  # the re-solve is an attempt: on data it cannot handle (e.g. a column ×1e8) keep the solver's dual
            else:
                # Newton from the re-solve's point, kept or not: its dual is feasible, while a Newton
                # point of the solver's blocks can miss a cone outside them (no step on their faces
                # corrects that: sklearn's regression check data along another search path, accuracy
                # 8e-5), and its directions are what Newton turns (there: from 2.3e-4 to 2e-9)
                resolved_point = consider(candidate_prediction, candidate_blocks, candidate_intercept)
                if resolved_point is not None:
                    newton(resolved_point)
    prediction, blocks = best[0], best[1]
    analysis = dual_analysis(X_aug, patterns, program.dual_vector(prediction), alpha, blocks, kappas_of)
    return prediction, blocks, analysis, float(solver_accuracy), refined, resolved


def optimal_set_from_fit(X_aug, arrangements, Y, s, loss, alpha, solution, prediction, *,
                         fit_intercept, hidden_bias, tol=1e-6, solver=None):
    """Build the :class:`OptimalSet` of a solved convex program (SPEC §5).

    The estimators call it after their solve: the dual vector of the solution's prediction
    (refined when it does not decide which constraints are tight) gives the atoms, and the
    optimal prediction the polytope 𝒞 of their coefficients.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
        The training data ``X̃`` (with the column of ones when ``hidden_bias``).
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
        Regularisation strength of the program.
    solution : ConvexSolution
        The polished solution.
    prediction : ndarray of shape (n_samples, n_outputs)
        Its training prediction.
    fit_intercept : bool
        Whether the output intercept is fitted.
    hidden_bias : bool
        Whether the last column of ``X_aug`` is the hidden bias.
    tol : float, default=1e-6
        Relative duality gap of the solve; a refinement of the dual is solved to a fraction of it.
    solver : FirstOrderSolver, default=None
        The solver that took part in the solve (``ConvexFit.program``), over the same patterns: the
        analysis starts its cone projections from the solver's faces (the same κ up to rounding,
        without projecting every cone from scratch). ``None``: cold.

    Returns
    -------
    optimal_set : OptimalSet
        Every optimal network over the patterns of ``arrangements``.

    See Also
    --------
    OptimalSet : The result.

    Examples
    --------
    Rebuild the optimal set of a fit from its convex solution:

    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> from sklearn_convexrelu.optimal_set import optimal_set_from_fit
    >>> from sklearn_convexrelu.program.losses import get_loss
    >>> X = np.linspace(-1, 1, 12)[:, None]
    >>> y = np.abs(X[:, 0])
    >>> reg = ConvexReLURegressor(alpha=1e-2).fit(X, y)
    >>> solution = reg.convex_solution_
    >>> opt = optimal_set_from_fit(
    ...     np.hstack([X, np.ones((12, 1))]), reg.arrangements_, y[:, None], np.ones(12),
    ...     get_loss("squared_error", 1), 1e-2, solution, solution.output(X),
    ...     fit_intercept=True, hidden_bias=True,
    ... )
    >>> opt
    OptimalSet(n_atoms=2, dimension=0, is_unique=True, n_outputs=1)
    >>> opt.contains(reg.network_), bool(np.isclose(opt.objective, reg.objective_))
    (True, True)
    """
    program = _Program(X_aug, Y, s, loss, float(alpha), bool(fit_intercept), bool(hidden_bias), bool(arrangements.exact))
    solver_blocks = np.stack([solution.blocks_pos, solution.blocks_neg])  # (2, K, d, P)
    if not _warm_start_for(solver, arrangements):
        solver = None
    *description, resolved = _describe(program, arrangements, solution, prediction, solver_blocks, tol, False, solver)
    optimal_set = OptimalSet(program, *description)
    solver_value = _convex_value(program, prediction, solver_blocks)
    missed = optimal_set.objective > solver_value + tol * abs(solver_value)
    # a dual this coarse is worth a re-solve even when its atoms reproduce the solver's point: on
    # load_breast_cancer the solver's dual (accuracy 7.4e-7, 46 candidate atoms) describes a set
    # whose objective is that of the solver, the re-solved one (7.9e-9, 29 atoms) one 1.2e-7 lower.
    # _best_dual re-solves such a dual before the first description; this catches an analysis
    # less accurate than the ε that decided it (and a set of all-zero blocks, never re-solved)
    undecided = optimal_set.accuracy > REFINE_TRIGGER
    if missed or undecided or optimal_set.projection_residual > tol:
        # the atoms carry the dual's error (their fits miss the prediction, or the min-norm network
        # misses the solver's objective): describe the set again from a refined dual (a re-solve at
        # a fraction of tol, unless the first description ran it: it is deterministic) and, when a
        # refinement was kept and the objective missed, from the solver's own dual (otherwise the
        # same as the first, or a dual no more decisive: on a teacher10, n = 1000 fit reached by
        # another search path, one at accuracy 4.5e-3 made 971 candidate atoms and 10 s of LP), and
        # keep the description whose min-norm network has the lowest objective
        retries = ([] if resolved else [True]) + ([None] if missed and description[2].refined else [])
        for force in retries:
            other = OptimalSet(program, *_describe(program, arrangements, solution, prediction, solver_blocks, tol, force, solver)[:3])
            if other.objective < optimal_set.objective:
                optimal_set = other
    return optimal_set


def _warm_start_for(solver, arrangements):
    """Whether ``solver``'s faces can start the analysis: it solves this program (all blocks, the
    cones, the penalty of the optimal set) on well-scaled columns. Beyond the solver's ill-scaling
    level its faces carry its loss of precision: on a column ×1e5 the set described from them had a
    min-norm network 1.1e-6 above the solver's (cold: equal)."""
    return (
        isinstance(solver, FirstOrderSolver) and not solver.gated and solver.penalty.penalize_hidden_bias
        and solver._allowed is None and solver.scale_ratio <= _ILL_SCALED
        and solver.patterns.shape == arrangements.patterns.shape and np.array_equal(solver.patterns, arrangements.patterns)
    )


def _describe(program, arrangements, solution, prediction, solver_blocks, tol, force, solver):
    """Atoms, polytope, diagnostics from the best dual (see :func:`optimal_set_from_fit`) and
    whether the dual was re-solved."""
    X_aug, alpha = program.X_aug, program.alpha
    target, blocks, (kappas, directions, accuracy), solver_accuracy, refined, resolved = _best_dual(
        program, arrangements, solver_blocks, solution.intercept, prediction, tol, force, solver,
    )
    tolerance = TIGHT_FACTOR * accuracy
    candidate = np.argwhere(kappas / alpha >= 1 - CANDIDATE_FACTOR * accuracy)  # rows (output, pattern, side)

    # Atoms: candidate directions, merged across neighbouring cones (SPEC §5).
    units = directions[candidate[:, 0], :, candidate[:, 1], candidate[:, 2]] / kappas[tuple(candidate.T)][:, None]
    sign = 1 - 2 * candidate[:, 2]
    cone_atoms = merge_directions(units, np.column_stack([candidate[:, 0], sign]), tolerance)
    n_atoms = int(cone_atoms.max(initial=-1)) + 1
    dual_units = np.zeros((n_atoms, X_aug.shape[1]))
    np.add.at(dual_units, cone_atoms, units)
    carried = np.zeros_like(dual_units)
    np.add.at(carried, cone_atoms, blocks[candidate[:, 2], candidate[:, 0], :, candidate[:, 1]])
    _, first = np.unique(cone_atoms, return_index=True)
    n, K = program.Y.shape
    b = program.nuisance(target).ravel()

    def placed(atom_units):
        atom_units = atom_units / np.maximum(np.linalg.norm(atom_units, axis=1, keepdims=True), _TINY)
        atoms = Atoms(atom_units, sign[first], candidate[first, 0])
        A = program.nuisance(atoms.placed(atoms.fits(X_aug), K)).reshape(n * K, n_atoms)
        return atoms, A, cone_fit(A, b)

    atoms, A, fit = placed(dual_units)
    if fit[1] > tolerance:
        # the dual directions miss the target prediction (the dual's error, which a column ×1e5
        # magnifies: residual 6.6e-8, min-norm network 1.4e-6 above the refined objective): atoms
        # that carry blocks of the solution point along their sum instead, which reproduce it to
        # rounding. Not always: the direction of a small block is only as accurate as the primal
        # (a block of 4e-4 next to ones of 1 after a solve to 1e-9 hid a dependence of the fits,
        # and the set came out as a point where it is a segment)
        atoms, A, fit = placed(np.where(np.any(carried, axis=1, keepdims=True), carried, dual_units))
    polytope = CoefficientPolytope(A, b, tolerance, fit)

    solver_coefficients = np.zeros(n_atoms)
    on_atom = solver_blocks[candidate[:, 2], candidate[:, 0], :, candidate[:, 1]]  # (n_candidates, d)
    along = np.maximum(np.einsum("td,td->t", on_atom, atoms.directions[cone_atoms]), 0.0)
    np.add.at(solver_coefficients, cone_atoms, along)
    diagnostics = _Diagnostics(
        tight_cones=np.column_stack([candidate[:, 0], candidate[:, 1], sign]).astype(int), cone_atoms=cone_atoms,
        accuracy=accuracy, solver_accuracy=solver_accuracy, refined=refined, solver_coefficients=solver_coefficients,
        target=target,
    )
    return atoms, polytope, diagnostics, resolved

