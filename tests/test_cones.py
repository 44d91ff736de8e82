"""Batched cone projections (SPEC §4): the compiled Lawson–Hanson kernel against the optimality
conditions of a projection, cvxpy (Clarabel) and the vectorised numpy method it replaced."""

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls

from sklearn_convexrelu._tolerances import IN_CONE_RTOL
from sklearn_convexrelu.arrangements import _augment, enumerate_arrangements
from sklearn_convexrelu.program import cones, project_onto_cones


def _data(kind, seed, n=60, p=4, n_patterns=25, hidden_bias=True):
    """``X̃``, patterns (sampled gates, all-zero pattern dropped), blocks ``A`` (d, B) and their patterns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if kind == "duplicates":
        X[n // 2:] = X[: n - n // 2]
    elif kind == "zero_rows":
        X[::3] = 0.0
    elif kind == "rank_deficient":
        X = rng.standard_normal((n, 2)) @ rng.standard_normal((2, p))
    elif kind == "one_dimensional":
        X = X[:, :1]
    X_aug = _augment(X, hidden_bias)
    patterns = X_aug @ rng.standard_normal((X_aug.shape[1], n_patterns)) >= 0
    patterns = np.unique(patterns[:, patterns.any(axis=0)], axis=1)
    index = rng.integers(0, patterns.shape[1], 3 * patterns.shape[1])
    # blocks like the solver's, σ X̃ᵀ D_i r, plus plain Gaussian ones
    r = rng.standard_normal(n)
    A = np.where(rng.random(index.size) < 0.5, 1.0, -1.0) * (X_aug.T @ (patterns[:, index] * r[:, None]))
    A[:, ::2] = rng.standard_normal((X_aug.shape[1], A[:, ::2].shape[1]))
    return X_aug, patterns, A, index


@pytest.fixture
def no_fallback(monkeypatch):
    """The kernel must finish every block of these data itself: the fallback would hide its errors."""

    def fail(*args):
        raise AssertionError("a block was left to the fallback")

    monkeypatch.setattr(cones, "_single_projection", fail)


KINDS = ["random", "duplicates", "zero_rows", "rank_deficient", "one_dimensional"]
CASES = [(kind, seed, bias) for kind in KINDS for seed in range(2) for bias in (True, False)]


def _assert_projections(X_aug, patterns, A, index, U, atol=1e-9):
    """``u ∈ K``, ``(u − a) ⊥ u`` and ``u − a ∈ −K° = {Aᵀλ : λ ≥ 0}`` (Moreau), for every column."""
    for b, i in enumerate(index):
        a, u = A[:, b], U[:, b]
        rows = np.where(patterns[:, i, None], X_aug, -X_aug)
        scale = max(np.linalg.norm(a), 1.0)
        assert np.all(rows @ u >= -atol * scale * np.linalg.norm(rows, axis=1)), b
        assert abs(u @ (u - a)) <= atol * scale**2, b
        _, residual = scipy_nnls(rows.T, u - a, maxiter=50 * rows.shape[0])
        assert residual <= 1e-7 * scale, b


@pytest.mark.parametrize("kind, seed, hidden_bias", CASES)
def test_projections_satisfy_the_optimality_conditions(kind, seed, hidden_bias, no_fallback):
    X_aug, patterns, A, index = _data(kind, seed, hidden_bias=hidden_bias)
    U, exact, faces = project_onto_cones(X_aug, patterns, A, index)
    assert exact.all()
    _assert_projections(X_aug, patterns, A, index, U)
    # the faces: independent rows of the cone, tight at the projection
    d = X_aug.shape[1]
    assert faces.shape == (index.size, d)
    for b, i in enumerate(index):
        face = faces[b][faces[b] >= 0]
        assert face.size == np.unique(face).size <= d
        rows = np.where(patterns[face, i, None], X_aug[face], -X_aug[face])
        assert np.linalg.matrix_rank(rows) == face.size
        assert np.allclose(rows @ U[:, b], 0.0, atol=1e-9 * max(np.linalg.norm(A[:, b]), 1.0))


@pytest.mark.parametrize("kind, seed, hidden_bias", CASES)
def test_warm_faces_give_the_same_projections(kind, seed, hidden_bias, no_fallback):
    X_aug, patterns, A, index = _data(kind, seed, hidden_bias=hidden_bias)
    U, _, faces = project_onto_cones(X_aug, patterns, A, index)
    warm, exact, again = project_onto_cones(X_aug, patterns, A, index, faces=faces)
    assert exact.all()
    np.testing.assert_allclose(warm, U, rtol=0, atol=1e-12 * np.abs(A).max())
    # the right face is confirmed in one round (nothing left for the fallback)
    rows, used = np.maximum(faces, 0), faces >= 0
    *_, unfinished = cones._lawson_hanson(X_aug, patterns, np.linalg.norm(X_aug, axis=1), A.T, index, rows, used,
                                          0.0, 1)
    assert not unfinished.any()
    # any rows are a valid warm start: another block's face, repeated rows, rows not on the cone's face
    rng = np.random.default_rng(seed)
    other = faces[rng.permutation(index.size)]
    other[:, -1] = other[:, 0]
    for start in (other, rng.integers(-3, X_aug.shape[0] + 3, faces.shape)):  # rows out of range are ignored
        V, exact, _ = project_onto_cones(X_aug, patterns, A, index, faces=start)
        assert exact.all()
        np.testing.assert_allclose(V, U, rtol=0, atol=1e-10 * np.abs(A).max())


@pytest.mark.parametrize("kind, seed, hidden_bias", CASES)
def test_early_stop_bounds_the_projection(kind, seed, hidden_bias, no_fallback):
    # blocks stopped early get a ρ ≥ 0 point: ‖Π_K(a)‖ ≤ ‖u‖ ≤ threshold; the others are exact
    X_aug, patterns, A, index = _data(kind, seed, hidden_bias=hidden_bias)
    U, _, _ = project_onto_cones(X_aug, patterns, A, index)
    norms = np.linalg.norm(U, axis=0)
    threshold = float(np.median(norms)) * 1.2
    V, exact, _ = project_onto_cones(X_aug, patterns, A, index, threshold=threshold)
    bounded = np.linalg.norm(V, axis=0)
    assert np.all(exact[norms > threshold * (1 + 1e-9)])
    np.testing.assert_allclose(V[:, exact], U[:, exact], rtol=0, atol=1e-12 * np.abs(A).max())
    assert np.all(bounded[~exact] <= threshold)
    assert np.all(bounded[~exact] >= norms[~exact] * (1 - 1e-12))
    for b in np.flatnonzero(~exact):  # u = a + A_iᵀρ with ρ ≥ 0
        rows = np.where(patterns[:, index[b], None], X_aug, -X_aug)
        _, residual = scipy_nnls(rows.T, V[:, b] - A[:, b], maxiter=50 * rows.shape[0])
        assert residual <= 1e-8 * np.linalg.norm(A[:, b])


def test_projections_match_clarabel_on_tiny_cases(no_fallback):
    rng = np.random.default_rng(1)
    for X in (rng.standard_normal((9, 2)), np.repeat(rng.standard_normal((4, 2)), 2, axis=0), rng.standard_normal((7, 1))):
        X_aug = _augment(X, True)
        patterns = enumerate_arrangements(X).patterns
        index = np.arange(patterns.shape[1])
        A = rng.standard_normal((X_aug.shape[1], index.size))
        U, exact, _ = project_onto_cones(X_aug, patterns, A, index)
        assert exact.all()
        for b, i in enumerate(index):
            u = cp.Variable(X_aug.shape[1])
            signs = np.where(patterns[:, i], 1.0, -1.0)
            cp.Problem(cp.Minimize(cp.sum_squares(u - A[:, b])), [cp.multiply(signs, X_aug @ u) >= 0]).solve(
                solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10
            )
            np.testing.assert_allclose(U[:, b], u.value, atol=1e-6)


def test_empty_batch_and_zero_blocks(no_fallback):
    X_aug, patterns, A, index = _data("random", 0)
    U, exact, faces = project_onto_cones(X_aug, patterns, A[:, :0], index[:0])
    assert U.shape == (X_aug.shape[1], 0) and exact.shape == (0,) and faces.shape == (0, X_aug.shape[1])
    U, exact, faces = project_onto_cones(X_aug, patterns, np.zeros((X_aug.shape[1], 3)), index[:3], threshold=1.0)
    assert exact.all() and not U.any() and (faces == -1).all()


# --- the vectorised numpy method the compiled kernel replaced (commit f7f3673), as an oracle ---------


def _numpy_face_multipliers(A_face, used, A):
    rho = np.zeros(used.shape)
    if not used.any():
        return rho
    width = used.shape[1] - int(np.argmax(used[:, ::-1].any(axis=0)))
    used, A_face = used[:, :width], A_face[:, :width] * used[:, :width, None]
    gram = A_face @ A_face.transpose(0, 2, 1) + np.eye(width) * ~used[:, None, :]
    rhs = -(A_face @ A[:, :, None])
    try:
        rho[:, :width] = np.linalg.solve(gram, rhs)[..., 0] * used
    except np.linalg.LinAlgError:
        rho[:, :width] = np.stack([np.linalg.lstsq(g, r, rcond=None)[0][:, 0] for g, r in zip(gram, rhs)]) * used
    return rho


def _numpy_projections(X_aug, patterns, A, index, threshold=0.0):
    """Columns of ``A`` (d, B) projected by the old vectorised rounds; ``U``, ``exact``, ``unfinished``."""
    d, B = A.shape
    A = A.T.copy()
    row_norms = np.linalg.norm(X_aug, axis=1)
    tolerance = IN_CONE_RTOL * np.linalg.norm(A, axis=1)
    signs = np.where(patterns[:, index], 1.0, -1.0).T
    rows, used = np.zeros((B, d), dtype=int), np.zeros((B, d), dtype=bool)
    A_face, rho = np.zeros((B, d, d)), np.zeros((B, d))
    U, exact, unfinished = A.copy(), np.ones(B, dtype=bool), np.zeros(B, dtype=bool)
    k = min(cones._ROWS_PER_ROUND, d, X_aug.shape[0])
    last, alone, todo = np.full(B, -1), np.zeros(B, dtype=bool), np.arange(B)
    for _ in range(20 * d + 50):
        U[todo] = A[todo] + (rho[todo, None, :] @ A_face[todo])[:, 0]
        slack = signs[todo] * (U[todo] @ X_aug.T)
        on_face, slot = np.nonzero(used[todo])
        slack[on_face, rows[todo[on_face], slot]] = np.inf
        candidates = np.argpartition(slack, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(slack, candidates, axis=1)
        order = np.argsort(values, axis=1)
        candidates, values = np.take_along_axis(candidates, order, axis=1), np.take_along_axis(values, order, axis=1)
        violated = values < -tolerance[todo, None] * row_norms[candidates]
        worst = candidates[:, 0]
        bounded = violated[:, 0] & (np.linalg.norm(U[todo], axis=1) <= threshold)
        exact[todo[bounded]] = False
        grow = violated[:, 0] & ~bounded
        repeat = worst == last[todo]
        stuck = grow & (used[todo].all(axis=1) | (repeat & alone[todo]))
        unfinished[todo[stuck]] = True
        grow &= ~stuck
        new, candidates, violated, repeat = todo[grow], candidates[grow], violated[grow], repeat[grow]
        if new.size == 0:
            break
        slots = np.argsort(used[new], axis=1, kind="stable")[:, :k]
        enter = violated & ~np.take_along_axis(used[new], slots, axis=1)
        enter[repeat, 1:] = False
        b, j = np.nonzero(enter)
        block, slot, row = new[b], slots[b, j], candidates[b, j]
        rows[block, slot], used[block, slot], rho[block, slot] = row, True, 0.0
        A_face[block, slot] = signs[block, row][:, None] * X_aug[row]
        last[new], alone[new] = candidates[:, 0], repeat
        inner = new
        for _ in range(d + 1):
            z = _numpy_face_multipliers(A_face[inner], used[inner], A[inner])
            negative = used[inner] & (z <= 0)
            fine = ~negative.any(axis=1)
            rho[inner[fine]] = z[fine]
            inner, z, negative = inner[~fine], z[~fine], negative[~fine]
            if inner.size == 0:
                break
            old = rho[inner]
            ratio = np.full(old.shape, np.inf)
            gap = old[negative] - z[negative]
            ratio[negative] = np.where(gap > 0, old[negative] / np.where(gap > 0, gap, 1.0), 0.0)
            step = ratio.min(axis=1, keepdims=True)
            moved = old + step * (z - old)
            drop = negative & (ratio <= step)
            used[inner] &= ~drop
            rho[inner] = np.where(used[inner], moved, 0.0)
        unfinished[inner] = True
        todo = new[~unfinished[new]]
    else:
        unfinished[todo] = True
    return U.T, exact, unfinished


@pytest.mark.parametrize("kind, seed, hidden_bias", CASES)
def test_same_projections_as_the_numpy_method(kind, seed, hidden_bias, monkeypatch):
    X_aug, patterns, A, index = _data(kind, seed, hidden_bias=hidden_bias)
    reference, _, unfinished = _numpy_projections(X_aug, patterns, A, index)
    assert kind != "random" or not unfinished.any()
    for b in np.flatnonzero(unfinished):  # as the old method did (duplicate rows filling its faces)
        reference[:, b] = cones._single_projection(X_aug, patterns[:, index[b]], A[:, b])
    monkeypatch.setattr(cones, "_single_projection", None)  # the kernel finishes every block itself
    U, exact, _ = project_onto_cones(X_aug, patterns, A, index)
    assert exact.all()
    np.testing.assert_allclose(U, reference, rtol=0, atol=1e-12 * np.abs(A).max())
    # early stops follow the same rounds: the same blocks stop, at the same points, for Gaussian blocks
    # of generic data (not where the old method put dependent rows on a face, nor for σ X̃ᵀD_i r when D_i
    # has fewer than d rows: a multiplier of the order of rounding decides which face is kept). The
    # kernel checks the threshold before a round's product: a point within it is reported as a bound
    # even where that product would have shown it to be the projection
    gaussian = slice(0, None, 2)
    A, index = A[:, gaussian], index[gaussian]
    threshold = float(np.median(np.linalg.norm(U[:, gaussian], axis=0))) * 1.2
    reference, reference_exact, unfinished = _numpy_projections(X_aug, patterns, A, index, threshold)
    V, exact, _ = project_onto_cones(X_aug, patterns, A, index, threshold=threshold)
    if kind in ("random", "zero_rows", "one_dimensional"):
        assert not unfinished.any()
        norms, rounding = np.linalg.norm(reference, axis=0), 1e-12 * np.abs(A).max()
        clear = np.abs(norms - threshold) > rounding  # (projections of zero leave a threshold of rounding noise)
        np.testing.assert_array_equal(exact[clear], (reference_exact & (norms > threshold))[clear])
        np.testing.assert_allclose(V, reference, rtol=0, atol=rounding)


def test_the_kappa_screen_evaluates_largest_bounds_first_and_stops_when_it_has_enough():
    from sklearn_convexrelu.program.cones import largest_bounds_first

    bounds = np.array([0.5, 3.0, 2.0, 0.9, 2.5, 1.5, 1.0, 3.0])
    seen = []

    def evaluate(entries):
        seen.append(list(entries))
        return len(entries)

    # every entry above 1.0, in chunks of 2, largest first (ties by index with a stable sort)
    assert largest_bounds_first(bounds, evaluate, above=1.0, chunk=2, kind="stable") is None
    assert seen == [[1, 7], [4, 2], [5]]
    # stop before the chunk that is not needed: the largest bound left is returned
    seen.clear()
    assert largest_bounds_first(bounds, evaluate, above=1.0, n_wanted=3, chunk=2, kind="stable") == 1.5
    assert seen == [[1, 7], [4, 2]] and sum(map(len, seen)) >= 3
    # one batch by default; nothing above the level, nothing evaluated
    seen.clear()
    assert largest_bounds_first(bounds, evaluate, above=2.2) is None and sorted(seen[0]) == [1, 4, 7]
    seen.clear()
    assert largest_bounds_first(bounds, evaluate, above=5.0) is None and seen == []


def test_cone_kernel_helpers_are_compiled_once(tmp_path):
    # The one-off numba compile after install (issue 12): each helper of the Lawson–Hanson kernel has
    # one signature; a literal 0 passed as the face size compiled _append, _delete and _multipliers
    # twice. A fresh cache directory forces the compile in a subprocess.
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from sklearn_convexrelu.program import _cone_kernels as kernels\n"
        "from sklearn_convexrelu.program.cones import project_onto_cones\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.standard_normal((30, 4))\n"
        "project_onto_cones(X, X @ rng.standard_normal((4, 5)) >= 0, rng.standard_normal((4, 5)), np.arange(5))\n"
        "print([len(getattr(kernels, f).signatures) for f in ('_append', '_delete', '_multipliers', '_project_block')])\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[1, 1, 1, 1]", result.stdout
