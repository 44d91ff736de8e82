"""Tests of the activation-pattern enumeration and sampling (SPEC §2)."""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linprog

from sklearn_convexrelu.arrangements import (
    Arrangements,
    _augment,
    _interior_points,
    arrangement_count_bound,
    enumerate_arrangements,
    sample_arrangements,
)


def cover_count(n, r):
    """Number of cells of n central hyperplanes in general position in rank r (SPEC §2)."""
    return 2 * sum(math.comb(n - 1, k) for k in range(r))


def as_set(patterns):
    return {tuple(column) for column in patterns.T}


def sampled_patterns(X_aug, n_draws=200_000, seed=0):
    """Patterns of many Gaussian gates: a brute-force (probabilistic) enumeration."""
    G = np.random.default_rng(seed).standard_normal((X_aug.shape[1], n_draws))
    packed = np.unique(np.packbits(X_aug @ G >= 0, axis=0).T, axis=0)
    return as_set(np.unpackbits(packed, axis=1, count=X_aug.shape[0]).astype(bool).T)


def lp_patterns(X_aug):
    """Exact brute force: every sign vector whose strict system s_i x̃_iᵀu >= 1 is feasible."""
    zero = ~X_aug.any(axis=1)
    found = set()
    for bits in itertools.product([False, True], repeat=X_aug.shape[0]):
        bits = np.array(bits)
        if not bits[zero].all():
            continue
        signs = np.where(bits, 1.0, -1.0)[~zero]
        result = linprog(
            np.zeros(X_aug.shape[1]), A_ub=-signs[:, None] * X_aug[~zero], b_ub=-np.ones(signs.size),
            bounds=[(None, None)] * X_aug.shape[1], method="highs",
        )
        if result.status == 0:
            found.add(tuple(bits))
    return found


def assert_valid(arr, X):
    """Generators realise their patterns strictly inside the cones; patterns are distinct."""
    X_aug = _augment(X, arr.hidden_bias)
    A = X_aug @ arr.generators
    np.testing.assert_array_equal(A >= 0, arr.patterns)
    rows = np.linalg.norm(X_aug, axis=1) > 0
    scale = np.linalg.norm(X_aug[rows], axis=1)[:, None] * np.linalg.norm(arr.generators, axis=0)
    assert np.all(np.abs(A[rows]) > 1e-12 * scale)
    assert len(as_set(arr.patterns)) == arr.n_patterns
    np.testing.assert_array_equal(arr.patterns_on(X), arr.patterns)


@pytest.mark.parametrize("p, n", [(1, 6), (1, 25), (2, 7), (2, 20), (3, 9), (3, 25)])
def test_count_general_position(p, n):
    X = np.random.default_rng(n + p).standard_normal((n, p))
    full = enumerate_arrangements(X, drop_zero=False)
    assert full.exact and full.n_sampled is None
    assert full.n_patterns == cover_count(n, p + 1) == arrangement_count_bound(X)
    assert not full.patterns.any(axis=0).all()  # the all-zero cell exists with a bias column
    dropped = enumerate_arrangements(X)
    assert dropped.n_patterns == cover_count(n, p + 1) - 1
    assert dropped.patterns.any(axis=0).all()
    assert as_set(dropped.patterns) < as_set(full.patterns)


@pytest.mark.parametrize("p, n, hidden_bias", [(2, 30, True), (3, 12, False), (3, 15, True)])
def test_generators_realise_patterns(p, n, hidden_bias):
    X = np.random.default_rng(1).standard_normal((n, p))
    arr = enumerate_arrangements(X, hidden_bias=hidden_bias, drop_zero=False)
    assert_valid(arr, X)
    if not hidden_bias:
        assert arr.n_patterns == cover_count(n, p)
    packed = np.packbits(arr.patterns, axis=0).T
    assert [tuple(row) for row in packed] == sorted(tuple(row) for row in packed)


@pytest.mark.parametrize("p, n, hidden_bias", [(1, 8, True), (2, 8, True), (2, 8, False), (3, 7, False)])
def test_matches_dense_sampling(p, n, hidden_bias):
    X = np.random.default_rng(2).standard_normal((n, p))
    arr = enumerate_arrangements(X, hidden_bias=hidden_bias, drop_zero=False)
    # Some cells are thin: a million gates are needed to hit all of them on these data.
    assert as_set(arr.patterns) == sampled_patterns(_augment(X, hidden_bias), n_draws=1_000_000)


def _grid():
    return np.array([[i, j] for i in range(3) for j in range(3)], dtype=float)


def _line_plus_points():
    line = np.column_stack([np.arange(4.0), 0.5 * np.arange(4.0) + 1])
    return np.vstack([line, [[0.3, 2.0], [2.5, -1.0]]])


def _duplicate_rows():
    X = np.random.default_rng(3).standard_normal((5, 2))
    return np.vstack([X, X[:2]])


def _parallel_rows():
    x = np.random.default_rng(4).standard_normal((3, 2))
    return np.vstack([x, 2 * x[:1], -x[1:2], -3 * x[2:]])


def _zero_row():
    return np.vstack([np.random.default_rng(5).standard_normal((5, 3)), np.zeros((1, 3))])


def _duplicated_feature():
    x = np.random.default_rng(6).standard_normal((7, 2))
    return np.column_stack([x, x[:, 0]])


def _on_a_plane():
    x = np.random.default_rng(7).standard_normal((7, 2))
    return np.column_stack([x, x[:, 0] - 2 * x[:, 1]])


def _on_an_affine_plane():
    x = np.random.default_rng(8).standard_normal((7, 2))
    return np.column_stack([x, 1 + x[:, 0] + x[:, 1]])


def _collinear_3d():
    t = np.arange(5.0)[:, None]
    return np.vstack([t * [1.0, 2.0, -1.0] + [0.0, 1.0, 1.0], [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]])


def _cube_corners():
    return np.array(list(itertools.product([0.0, 1.0], repeat=3)))


DEGENERATE = [
    ("grid", _grid, True),
    ("line plus points", _line_plus_points, True),
    ("duplicate rows", _duplicate_rows, True),
    ("parallel rows", _parallel_rows, False),
    ("zero row", _zero_row, False),
    ("duplicated feature", _duplicated_feature, True),
    ("on a plane", _on_a_plane, False),
    ("on an affine plane", _on_an_affine_plane, True),
    ("collinear in 3-D", _collinear_3d, True),
    ("cube corners", _cube_corners, True),
    ("identical rows", lambda: np.ones((4, 2)), True),
    ("all zero", lambda: np.zeros((3, 2)), False),
]


@pytest.mark.parametrize("name, make, hidden_bias", DEGENERATE, ids=[case[0] for case in DEGENERATE])
def test_degenerate_data_matches_brute_force(name, make, hidden_bias):
    X = make()
    X_aug = _augment(X, hidden_bias)
    arr = enumerate_arrangements(X, hidden_bias=hidden_bias, drop_zero=False)
    assert_valid(arr, X)
    expected = lp_patterns(X_aug)
    assert as_set(arr.patterns) == expected
    assert sampled_patterns(X_aug) <= expected
    assert len(expected) <= arrangement_count_bound(X, hidden_bias=hidden_bias)


def test_degenerate_larger_grid_against_sampling():
    X = np.array([[i, j] for i in range(4) for j in range(4)], dtype=float)
    arr = enumerate_arrangements(X, drop_zero=False)
    assert_valid(arr, X)
    assert as_set(arr.patterns) == sampled_patterns(_augment(X, True), n_draws=400_000)


@pytest.mark.parametrize("values", [np.random.default_rng(9).standard_normal(12), np.array([3.0, 1, 2, 1, 3, 0])])
def test_one_dimensional_closed_form(values):
    arr = enumerate_arrangements(values[:, None], drop_zero=False)
    assert_valid(arr, values[:, None])
    thresholds = np.unique(values)
    # Gates u x + b >= 0 select {x >= c} (u > 0), {x <= c} (u < 0), everything or nothing.
    expected = {tuple(values >= c) for c in thresholds} | {tuple(values <= c) for c in thresholds}
    expected |= {tuple(np.zeros(values.size, bool)), tuple(np.ones(values.size, bool))}
    assert arr.n_patterns == 2 * thresholds.size
    assert as_set(arr.patterns) == expected


def test_sampling_deterministic_and_consistent():
    X = np.random.default_rng(10).standard_normal((15, 2))
    first = sample_arrangements(X, 300, random_state=0)
    second = sample_arrangements(X, 300, random_state=0)
    np.testing.assert_array_equal(first.patterns, second.patterns)
    np.testing.assert_array_equal(first.generators, second.generators)
    assert not first.exact and first.n_sampled == 300
    assert len(as_set(first.patterns)) == first.n_patterns
    assert first.patterns.any(axis=0).all()
    assert as_set(first.patterns) <= as_set(enumerate_arrangements(X).patterns)
    np.testing.assert_array_equal(first.patterns_on(X), first.patterns)


def test_sampling_keeps_first_occurrence():
    X = np.random.default_rng(11).standard_normal((6, 1))
    arr = sample_arrangements(X, 50, random_state=3)
    G = np.random.RandomState(3).standard_normal((2, 50))
    patterns = _augment(X, True) @ G >= 0
    expected = [k for k in range(50) if patterns[:, k].any() and not any(
        np.array_equal(patterns[:, k], patterns[:, j]) for j in range(k))]
    np.testing.assert_array_equal(arr.generators, G[:, expected])


def test_max_patterns_guard():
    X = np.random.default_rng(12).standard_normal((20, 3))
    bound = arrangement_count_bound(X)
    with pytest.raises(ValueError, match=f"bound.*{bound}.*sample"):
        enumerate_arrangements(X, max_patterns=bound - 1)
    assert enumerate_arrangements(X, max_patterns=bound, drop_zero=False).n_patterns == bound


def test_read_only_and_input_untouched():
    X = np.random.default_rng(13).standard_normal((8, 2))
    X_copy = X.copy()
    for arr in (enumerate_arrangements(X), sample_arrangements(X, 20, random_state=0)):
        with pytest.raises(ValueError):
            arr.patterns[0, 0] = True
        with pytest.raises(ValueError):
            arr.generators[0, 0] = 1.0
        with pytest.raises(dataclasses.FrozenInstanceError):
            arr.exact = False
    np.testing.assert_array_equal(X, X_copy)
    assert _augment(X, False) is not X


def test_subset():
    X = np.random.default_rng(14).standard_normal((8, 2))
    arr = enumerate_arrangements(X)
    part = arr.subset([2, 0])
    np.testing.assert_array_equal(part.patterns, arr.patterns[:, [2, 0]])
    np.testing.assert_array_equal(part.patterns_on(X), part.patterns)
    assert not part.exact
    assert arr.subset(np.arange(arr.n_patterns)[::-1]).exact
    assert isinstance(part, Arrangements)


def test_interior_points_fallback():
    H = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]) / np.array([[1.0], [1.0], [np.sqrt(2)]])
    signs = np.array([[True, False, True], [True, True, False], [False, False, False]])
    points, feasible = _interior_points(H, signs)
    np.testing.assert_array_equal(feasible, [True, False, True])
    assert np.all((H @ points[feasible].T > 0) == signs[feasible].T)
    assert np.all(np.abs(H @ points[feasible].T) > 0.1)


def test_column_scale_invariance():
    X = np.random.default_rng(15).standard_normal((12, 2))
    reference = enumerate_arrangements(X, drop_zero=False)
    assert reference.n_patterns == cover_count(12, 3)
    for scaled in (X * 1e9, X * 1e-9, X * [1e6, 1e-3]):
        arr = enumerate_arrangements(scaled, drop_zero=False)
        assert as_set(arr.patterns) == as_set(reference.patterns)
        np.testing.assert_array_equal(arr.patterns_on(scaled), arr.patterns)


@pytest.mark.parametrize("noise", [1e-12, 1e-9, 1e-6])
def test_nearly_degenerate_data_gives_valid_patterns(noise):
    grid = np.array(list(itertools.product(range(4), repeat=2)), dtype=float)
    X = grid + noise * np.random.default_rng(16).standard_normal(grid.shape)
    arr = enumerate_arrangements(X, drop_zero=False)
    X_aug = _augment(X, True)
    A = X_aug @ arr.generators
    np.testing.assert_array_equal(A >= 0, arr.patterns)
    assert np.all(np.abs(A) > 1e-12 * (np.abs(X_aug) @ np.abs(arr.generators)))
    assert len(as_set(arr.patterns)) == arr.n_patterns
    # At least the cells of the exact grid survive; thin ones may be lost below the tolerance.
    exact_grid = enumerate_arrangements(grid, drop_zero=False).n_patterns
    assert exact_grid <= arr.n_patterns <= arrangement_count_bound(X)
    if noise >= 1e-6:
        assert arr.n_patterns == arrangement_count_bound(X)
