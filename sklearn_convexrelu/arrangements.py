"""Activation patterns of two-layer ReLU networks: hyperplane arrangements (SPEC §2).

For data ``X`` with augmented design ``X̃`` (``[X, 1]`` with a hidden bias), a gate
``u`` induces the pattern ``1[X̃u >= 0]``. The distinct patterns are the cells of the
central hyperplane arrangement ``{u : x̃_iᵀu = 0}``. This module enumerates them exactly
(:func:`enumerate_arrangements`), samples them (:func:`sample_arrangements`) and bounds
their number (:func:`arrangement_count_bound`).
"""

import itertools
import math
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from sklearn.utils import check_array, check_random_state

from ._sklearn_compat import Interval, validate_params

# |hᵀt| ≤ _ON_TOL / σ (unit vectors, σ the smallest singular value of the normals that define
# the ray t, whose rounding error is about eps / σ): the hyperplane h passes through t.
_ON_TOL = 1e-13
# Relative singular value below which unit normals count as dependent: in the rank of the
# arrangement and for the r−1 normals that define a ray.
_RANK_TOL = 1e-9
# Entries of a unit normal above this may fix its canonical sign.
_SIGN_TOL = 1e-6
# Decimals kept when identifying parallel normals.
_DECIMALS = 9
# Smallest margin |x̃_iᵀg| / (|x̃_i|ᵀ|g|) of a generator strictly inside its cone; the
# denominator bounds the rounding error of x̃_iᵀg, so the pattern is reproducible.
_MARGIN_TOL = 1e-12
# Boolean entries per block of candidate patterns (bounds the working memory).
_CHUNK = 1 << 22


def _augment(X, hidden_bias):
    """Return the design ``X̃``: ``[X, 1]`` if ``hidden_bias`` else a copy of ``X`` (SPEC §1).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input data; never modified.
    hidden_bias : bool
        Whether to append a column of ones.

    Returns
    -------
    X_aug : ndarray of shape (n_samples, n_features + hidden_bias)
        New float64 array.
    """
    X = np.array(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D array, got an array of shape {X.shape}.")
    if hidden_bias:
        return np.hstack([X, np.ones((X.shape[0], 1))])
    return X


@dataclass(frozen=True)
class Arrangements:
    """Activation patterns of a two-layer ReLU network on a data set (SPEC §2).

    Column ``i`` of ``patterns`` is the pattern ``D_i`` and column ``i`` of
    ``generators`` a gate ``g_i`` strictly inside its cone ``K_i``, so that
    ``X̃ @ generators >= 0`` reproduces ``patterns``. Arrays are read-only.

    Parameters
    ----------
    patterns : array-like of bool of shape (n_samples, n_patterns)
        Pattern matrix on the data the patterns were built from.
    generators : array-like of shape (n_dims, n_patterns)
        One gate per pattern in ``X̃`` coordinates, ``n_dims = n_features + hidden_bias``.
    exact : bool
        True iff all patterns (except possibly the all-zero one) are present.
    hidden_bias : bool
        Whether ``X̃`` carries a column of ones.
    n_sampled : int or None
        Number of Gaussian gates drawn when the patterns were sampled, else None.
    description : str or None, default=None
        How the patterns were obtained when that is more than enumeration or sampling (e.g. what
        a pattern search looked at, :func:`~sklearn_convexrelu.pattern_search.search_arrangements`).

    See Also
    --------
    enumerate_arrangements : All the patterns of a data set.
    sample_arrangements : Patterns of Gaussian gates.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import enumerate_arrangements
    >>> X = np.array([[-1.0], [0.0], [2.0]])
    >>> arrangements = enumerate_arrangements(X)
    >>> arrangements.n_patterns, arrangements.exact
    (5, True)
    >>> arrangements.patterns.astype(int)
    array([[0, 0, 1, 1, 1],
           [0, 1, 0, 1, 1],
           [1, 1, 0, 0, 1]])
    >>> bool(np.array_equal(arrangements.patterns_on(X), arrangements.patterns))
    True
    >>> arrangements.subset([0, 1]).exact
    False
    """

    patterns: np.ndarray
    generators: np.ndarray
    exact: bool
    hidden_bias: bool
    n_sampled: int | None = None
    description: str | None = None

    def __post_init__(self):
        patterns = np.array(self.patterns, dtype=bool)
        generators = np.array(self.generators, dtype=np.float64)
        if patterns.ndim != 2 or generators.ndim != 2 or patterns.shape[1] != generators.shape[1]:
            raise ValueError(
                "patterns must have shape (n_samples, n_patterns) and generators shape "
                f"(n_dims, n_patterns); got {patterns.shape} and {generators.shape}."
            )
        for name, array in (("patterns", patterns), ("generators", generators)):
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    @property
    def n_patterns(self):
        """Number of patterns, the columns of ``patterns``."""
        return self.patterns.shape[1]

    def patterns_on(self, X):
        """Recompute the patterns on new data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Raw data (without the bias column, which is added here if ``hidden_bias``).

        Returns
        -------
        patterns : ndarray of bool of shape (n_samples, n_patterns)
            ``X̃ @ generators >= 0``.
        """
        X_aug = _augment(check_array(X, dtype=np.float64), self.hidden_bias)
        if X_aug.shape[1] != self.generators.shape[0]:
            raise ValueError(
                f"X has {X_aug.shape[1] - self.hidden_bias} features, but the generators "
                f"expect {self.generators.shape[0] - self.hidden_bias}."
            )
        return X_aug @ self.generators >= 0

    def subset(self, index):
        """Keep some of the patterns.

        Parameters
        ----------
        index : int array, bool mask or slice
            Columns to keep, in the given order.

        Returns
        -------
        arrangements : Arrangements
            The selected patterns; ``exact`` stays True only if every pattern is kept.
        """
        columns = np.arange(self.n_patterns)[index]
        keeps_all = np.unique(columns).size == self.n_patterns
        return Arrangements(
            self.patterns[:, columns], self.generators[:, columns],
            self.exact and keeps_all, self.hidden_bias, self.n_sampled, self.description,
        )


def _hyperplanes(X_aug):
    """Distinct hyperplanes ``{x̃_iᵀu = 0}``.

    Returns their unit normals (m × d), the hyperplane of each sample (-1 for a zero row)
    and whether the sample's row points opposite to its normal.
    """
    n = X_aug.shape[0]
    norms = np.linalg.norm(X_aug, axis=1)
    nonzero = norms > 0
    plane = np.full(n, -1)
    flipped = np.zeros(n, dtype=bool)
    if not nonzero.any():
        return np.zeros((0, X_aug.shape[1])), plane, flipped
    units = X_aug[nonzero] / norms[nonzero, None]
    pivot = np.argmax(np.abs(units) > _SIGN_TOL, axis=1)
    flip = units[np.arange(units.shape[0]), pivot] < 0
    units[flip] *= -1
    keys = np.round(units, _DECIMALS) + 0.0  # "+ 0.0" turns -0.0 into 0.0
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    plane[nonzero] = inverse.ravel()
    flipped[nonzero] = flip
    return units[first], plane, flipped


def _span(normals):
    """Orthonormal basis (d × r) of the span of the normals: r is the rank of the arrangement."""
    if normals.shape[0] == 0:
        return np.zeros((normals.shape[1], 0))
    _, s, vt = np.linalg.svd(normals, full_matrices=False)
    return vt[s > _RANK_TOL * s[0]].T


def _prepare(X, hidden_bias):
    """Validate ``X`` and describe its arrangement (SPEC §2).

    Returns ``X̃``, the column scales, an orthonormal basis ``V`` (d × r) of the span of the
    normals (in scaled coordinates), the distinct unit normals ``H`` (m × r) in that basis,
    the hyperplane of each sample (-1 for a zero row) and whether its row is flipped.
    """
    X_aug = _augment(check_array(X, dtype=np.float64), hidden_bias)
    # Scaling column k of X̃ by c_k maps the cells u onto u / c: balance the columns.
    scale = np.max(np.abs(X_aug), axis=0)
    scale[scale == 0] = 1.0
    normals, plane, flipped = _hyperplanes(X_aug / scale)
    V = _span(normals)
    H = normals @ V
    H /= np.linalg.norm(H, axis=1, keepdims=True)
    return X_aug, scale, V, H, plane, flipped


def _count_bound(m, r):
    """Cover's bound 2 Σ_{k<r} C(m−1, k) on the cells of m central hyperplanes in rank r (SPEC §2)."""
    if m == 0:
        return 1
    return 2 * sum(math.comb(m - 1, k) for k in range(r))


@validate_params({"X": ["array-like"], "hidden_bias": ["boolean"]}, prefer_skip_nested_validation=True)
def arrangement_count_bound(X, *, hidden_bias=True):
    """Upper bound on the number of activation patterns (SPEC §2).

    ``2 Σ_{k<r} C(m−1, k)`` with ``r = rank(X̃)`` and ``m`` the number of distinct
    hyperplanes ``{x̃_iᵀu = 0}`` (nonzero rows up to scaling by any nonzero factor).
    It counts the all-zero pattern and is attained for data in general position.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input data.
    hidden_bias : bool, default=True
        Whether ``X̃ = [X, 1]``.

    Returns
    -------
    bound : int
        Python integer (may be huge).

    See Also
    --------
    enumerate_arrangements : The patterns themselves.

    Examples
    --------
    Three points on a line, with a hidden bias: the two all-or-nothing patterns and the four
    thresholds between neighbours.

    >>> import numpy as np
    >>> from sklearn_convexrelu import arrangement_count_bound
    >>> arrangement_count_bound(np.array([[-1.0], [0.0], [2.0]]))
    6
    """
    _, _, V, H, _, _ = _prepare(X, hidden_bias)
    return _count_bound(H.shape[0], V.shape[1])


def _subset_chunks(m, k, size):
    """Yield all k-subsets of range(m), lexicographically, in blocks of at most ``size`` rows."""
    combos = itertools.combinations(range(m), k)
    while True:
        block = np.fromiter(itertools.chain.from_iterable(itertools.islice(combos, size)), dtype=np.intp)
        if block.size == 0:
            return
        yield block.reshape(-1, k)


def _rays(H, subsets):
    """Unit null directions ``t`` of the independent (r−1)-subsets of normals and the hyperplanes through them."""
    _, s, vt = np.linalg.svd(H[subsets])
    independent = s[:, -1] > _RANK_TOL
    t = vt[independent, -1]
    return t, np.abs(t @ H.T) <= _ON_TOL / s[independent, -1:]


def _adjacent_cells(H, t, planes, local):
    """Sign patterns (packed) of the cells touching the rays ``±t`` and the ray of each.

    ``planes`` (K × q) are the hyperplanes through each ray and ``local`` (S × q) the signs
    of the local cells on them: near ``±t`` the other hyperplanes keep the sign of ``±t``
    while those through the ray take every local sign pattern (SPEC §2, vertex perturbation).
    """
    dots = t @ H.T
    base = np.concatenate([dots > 0, dots < 0])
    planes = np.concatenate([planes, planes])
    n_rays, n_local = base.shape[0], local.shape[0]
    cand = np.repeat(base[:, None, :], n_local, axis=1)
    cand[np.arange(n_rays)[:, None, None], np.arange(n_local)[None, :, None], planes[:, None, :]] = local
    rays = np.repeat(np.concatenate([t, -t]), n_local, axis=0)
    return np.packbits(cand.reshape(-1, H.shape[0]), axis=1), rays


def _merge(keys, rays):
    """Distinct packed patterns (sorted) and, for each, the sum of its rays."""
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    sums = np.column_stack(
        [np.bincount(inverse, weights=rays[:, j], minlength=unique.shape[0]) for j in range(rays.shape[1])]
    )
    return unique, sums


def _orthant_signs(q):
    """All 2^q sign vectors of length q, as booleans."""
    return ((np.arange(1 << q)[:, None] >> np.arange(q)) & 1).astype(bool)


def _local_cells(H, t, on):
    """Candidates around degenerate rays, where more than r−1 hyperplanes meet.

    The cells touching ``t`` are those of the hyperplanes through ``t``, seen in the
    (r−1)-dimensional complement of ``t``: enumerate them recursively (SPEC §2).
    """
    keys, rays = [], []
    for ray, through in zip(t, on):
        planes = np.flatnonzero(through)
        basis = np.linalg.svd(ray[None, :])[2][1:].T
        normals = H[planes] @ basis
        local, _ = _cells(normals / np.linalg.norm(normals, axis=1, keepdims=True))
        key, ray_rep = _adjacent_cells(H, ray[None, :], planes[None, :], local)
        keys.append(key)
        rays.append(ray_rep)
    return keys, rays


def _cells(H):
    """All cells of the central arrangement with distinct unit normals ``H`` (m × r) spanning R^r.

    Every cell is a pointed cone, so it has an extreme ray lying on r−1 hyperplanes with
    independent normals; perturbing every such ray into every adjacent cell reaches every
    cell (SPEC §2, vertex perturbation). Each cell is met from each of its extreme rays, so
    the sum of those unit rays lies strictly inside it: that sum is its generator.

    Returns
    -------
    signs : ndarray of bool of shape (n_cells, m)
        ``h_jᵀz > 0`` inside each cell, sorted by packed bits.
    generators : ndarray of shape (n_cells, r)
        A point strictly inside each cell.
    """
    m, r = H.shape
    if r == 1:
        return np.stack([H[:, 0] > 0, H[:, 0] < 0]), np.array([[1.0], [-1.0]])
    keys, rays, degenerate, degenerate_on = [], [], [], []
    for subsets in _subset_chunks(m, r - 1, max(1, _CHUNK // (m << r))):
        t, on = _rays(H, subsets)
        general = on.sum(axis=1) == r - 1
        planes = np.nonzero(on[general])[1].reshape(-1, r - 1)
        key, ray = _merge(*_adjacent_cells(H, t[general], planes, _orthant_signs(r - 1)))
        keys.append(key)
        rays.append(ray)
        # A ray through q > r−1 hyperplanes comes from C(q, r−1) subsets: keep one per ray.
        _, first = np.unique(np.packbits(on[~general], axis=1), axis=0, return_index=True)
        degenerate.append(t[~general][first])
        degenerate_on.append(on[~general][first])
    t, on = np.concatenate(degenerate), np.concatenate(degenerate_on)
    _, first = np.unique(np.packbits(on, axis=1), axis=0, return_index=True)
    local_keys, local_rays = _local_cells(H, t[first], on[first])
    unique, sums = _merge(np.concatenate(keys + local_keys), np.concatenate(rays + local_rays))
    return np.unpackbits(unique, axis=1, count=m).astype(bool), sums


def _interior_points(H, signs):
    """Max-margin point of each cell with the given signs (K × m), from one block-diagonal LP.

    Cell k gets ``z_k`` in the box [-1, 1]^r maximising ``s_k ≤ 1`` subject to
    ``σ_kj h_jᵀz_k ≥ s_k``; returns the points (K × r) and whether ``s_k`` is positive.
    """
    (K, m), r = signs.shape, H.shape[1]
    sigma = np.where(signs, 1.0, -1.0)
    A = sparse.block_diag([np.column_stack([-sigma_k[:, None] * H, np.ones(m)]) for sigma_k in sigma], format="csr")
    c = np.tile(np.r_[np.zeros(r), -1.0], K)
    bounds = ([(-1.0, 1.0)] * r + [(None, 1.0)]) * K
    result = linprog(c, A_ub=A, b_ub=np.zeros(K * m), bounds=bounds, method="highs")
    if result.status != 0:
        return np.zeros((K, r)), np.zeros(K, dtype=bool)
    x = result.x.reshape(K, r + 1)
    return x[:, :r], x[:, r] > _MARGIN_TOL


def _to_samples(signs, plane, flipped):
    """Sample-level patterns (n × P) from hyperplane signs; zero rows are always active (SPEC §2)."""
    patterns = np.ones((plane.shape[0], signs.shape[0]), dtype=bool)
    rows = plane >= 0
    patterns[rows] = signs[:, plane[rows]].T != flipped[rows, None]
    return patterns


def _realised(X_aug, G, expected, rows):
    """Whether each generator reproduces its expected pattern on ``rows`` with a positive margin.

    The margin of ``x̃ᵀg`` is relative to ``|x̃|ᵀ|g|``, which bounds its rounding error.
    """
    A = X_aug[rows] @ G
    margin_ok = np.abs(A) > _MARGIN_TOL * (np.abs(X_aug[rows]) @ np.abs(G))
    return np.all(((A >= 0) == expected[rows]) & margin_ok, axis=0)


def _unit_gates(Z, scale):
    """Unit columns along ``Z / scale`` (rows of ``Z`` divided by the column scales of ``X̃``).

    ``1 / scale`` reaches 1e300 for ``X · 1e-300`` and overflows for subnormal data, and squaring
    such entries in ``‖·‖`` overflows too. Powers of two are split off and applied exactly, so the
    result is bitwise that of ``G / ‖G‖`` with ``G = Z / scale`` wherever the latter is finite.
    """
    mantissa, exponent = np.frexp(scale)
    G = np.ldexp(Z / mantissa[:, None], (exponent.min() - exponent)[:, None])  # ∝ Z / scale, ≤ |Z| / ½
    _, top = np.frexp(np.max(np.abs(G), axis=0))
    G = np.ldexp(G, -top)  # largest entry of each column in [½, 1): no overflow in the squares
    return G / np.linalg.norm(G, axis=0)


def _generators(X_aug, scale, V, H, plane, flipped, signs, centres):
    """Verified generators (d × P) of the cells; cells no gate realises numerically are dropped.

    ``centres`` (P × r) are in the basis ``V`` of the scaled coordinates: ``g = V z / scale``.
    Cells whose centre fails the check get the max-margin points of their cones instead.
    """
    expected = _to_samples(signs, plane, flipped)
    rows = plane >= 0
    G = _unit_gates(V @ centres.T, scale)
    bad = np.flatnonzero(~_realised(X_aug, G, expected, rows))
    if bad.size:
        points, feasible = _interior_points(H, signs[bad])
        fixed = bad[feasible]
        G[:, fixed] = _unit_gates(V @ points[feasible].T, scale)
    return G[:, _realised(X_aug, G, expected, rows)]


def pattern_keys(patterns):
    """Hashable key of every column of a boolean pattern matrix (its packed bits).

    Parameters
    ----------
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool

    Returns
    -------
    list of bytes
        One key per column; equal columns have equal keys.
    """
    return [column.tobytes() for column in np.packbits(patterns, axis=0).T]


def first_distinct_columns(patterns):
    """Index of the first of every group of equal columns of a boolean matrix.

    Parameters
    ----------
    patterns : ndarray of shape (n_rows, n_columns), dtype bool

    Returns
    -------
    ndarray of shape (n_distinct,), dtype int
        Increasing column indices.
    """
    _, first = np.unique(np.packbits(patterns, axis=0).T, axis=0, return_index=True)
    return np.sort(first)


def _sorted_by_bits(patterns, generators):
    """Columns in lexicographic order of their packed bits."""
    _, order = np.unique(np.packbits(patterns, axis=0).T, axis=0, return_index=True)
    return patterns[:, order], generators[:, order]


@validate_params(
    {
        "X": ["array-like"],
        "hidden_bias": ["boolean"],
        "drop_zero": ["boolean"],
        "max_patterns": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def enumerate_arrangements(X, *, hidden_bias=True, drop_zero=True, max_patterns=None):
    """Enumerate all activation patterns exactly (SPEC §2.1).

    Works in the span (rank r) of the distinct hyperplanes' normals, and perturbs
    every ray where r−1 independent hyperplanes meet into every adjacent cell; rays where
    more hyperplanes meet (degenerate data) are resolved by enumerating their local
    arrangement recursively. Cost O(m^{r−1} 2^r) for m distinct hyperplanes, vectorised.
    Every generator is verified to lie strictly inside its cone.

    The computation is in floating point and invariant to scaling the columns of ``X̃``:
    a hyperplane within about 1e-13 of a ray counts as passing through it, and a cell too
    thin to hold a gate with margin ``|x̃_iᵀg| > 1e-12 |x̃_i|ᵀ|g|`` is omitted. Exactly
    degenerate data (duplicates, grids, collinear points, rank deficiency) are handled
    exactly.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input data; not modified.
    hidden_bias : bool, default=True
        Whether ``X̃ = [X, 1]``.
    drop_zero : bool, default=True
        Whether to drop the all-zero pattern (its blocks contribute nothing).
    max_patterns : int or None, default=None
        If given and :func:`arrangement_count_bound` exceeds it, raise before enumerating. ``None``:
        the package's limit, 1,000,000 patterns (fewer if the pattern set would not fit in half
        the free memory).

    Returns
    -------
    arrangements : Arrangements
        ``exact=True``; patterns in lexicographic order of their packed bits.

    Raises
    ------
    ValueError
        If the bound on the number of patterns exceeds ``max_patterns`` (or the package's limit),
        before any enumeration.

    See Also
    --------
    arrangement_count_bound : The bound on the number of patterns.
    sample_arrangements : Patterns of Gaussian gates, for data of large rank.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import enumerate_arrangements
    >>> arrangements = enumerate_arrangements(np.array([[-1.0], [0.0], [2.0]]))
    >>> arrangements.n_patterns  # the bound, 6, less the all-zero pattern
    5
    >>> arrangements.patterns.sum(axis=0)
    array([1, 2, 1, 2, 3])
    """
    if max_patterns is None:
        from ._preparation import check_enumeration_size  # (it imports this module)

        check_enumeration_size(check_array(X, dtype=np.float64), hidden_bias=hidden_bias)
    X_aug, scale, V, H, plane, flipped = _prepare(X, hidden_bias)
    m, r = H.shape[0], V.shape[1]
    if max_patterns is not None and _count_bound(m, r) > max_patterns:
        raise ValueError(
            f"The bound on the number of activation patterns, {_count_bound(m, r)}, exceeds "
            f"max_patterns={max_patterns}. Use sample_arrangements (arrangements='sample') "
            "or reduce the number of samples or features."
        )
    if r == 0:
        # X̃ = 0: the single pattern is all ones and any gate generates it.
        G = np.eye(X_aug.shape[1], 1)
    else:
        signs, centres = _cells(H)
        G = _generators(X_aug, scale, V, H, plane, flipped, signs, centres)
    patterns = X_aug @ G >= 0
    if drop_zero:
        keep = patterns.any(axis=0)
        patterns, G = patterns[:, keep], G[:, keep]
    patterns, G = _sorted_by_bits(patterns, G)
    return Arrangements(patterns, G, True, hidden_bias, None)


@validate_params(
    {
        "X": ["array-like"],
        "n_arrangements": [Interval(Integral, 1, None, closed="left")],
        "hidden_bias": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def sample_arrangements(X, n_arrangements, *, hidden_bias=True, random_state=None):
    """Sample activation patterns from Gaussian gates (SPEC §2.2).

    Draws ``g ~ N(0, I_d)``, keeps the first occurrence of each distinct pattern
    ``X̃g >= 0`` in sampling order and drops the all-zero pattern.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input data; not modified.
    n_arrangements : int
        Number of gates drawn.
    hidden_bias : bool, default=True
        Whether ``X̃ = [X, 1]``.
    random_state : int, RandomState instance or None, default=None
        Seed of the gates.

    Returns
    -------
    arrangements : Arrangements
        ``exact=False`` and ``n_sampled=n_arrangements``.

    Raises
    ------
    ValueError
        If the ``n_samples × n_arrangements`` products would not fit in half the free memory,
        before allocating them.

    See Also
    --------
    enumerate_arrangements : All the patterns, when their number is small.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import sample_arrangements
    >>> X = np.array([[-1.0], [0.0], [2.0]])
    >>> arrangements = sample_arrangements(X, 10, random_state=0)
    >>> arrangements.n_sampled, arrangements.exact
    (10, False)
    >>> arrangements.n_patterns <= 5
    True
    """
    if not isinstance(n_arrangements, Integral) or n_arrangements < 1:
        raise ValueError(f"n_arrangements must be a positive integer, got {n_arrangements!r}.")
    from ._preparation import check_sampling_size  # (it imports this module)

    X_aug = _augment(check_array(X, dtype=np.float64), hidden_bias)
    check_sampling_size(X_aug.shape[0], X_aug.shape[1], n_arrangements)
    rng = check_random_state(random_state)
    G = rng.standard_normal((X_aug.shape[1], n_arrangements))
    patterns = X_aug @ G >= 0
    first = first_distinct_columns(patterns)
    first = first[patterns[:, first].any(axis=0)]
    return Arrangements(patterns[:, first], G[:, first], False, hidden_bias, int(n_arrangements))
