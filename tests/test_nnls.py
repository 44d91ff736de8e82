"""Non-negative least squares: the BVLS retry agrees with scipy's NNLS, and failures are explained."""

import types

import numpy as np
import pytest

from sklearn_convexrelu import ConvexReLURegressor
from sklearn_convexrelu import _nnls


def _scipy_fails(*args, **kwargs):
    raise RuntimeError("Maximum number of iterations reached.")


@pytest.mark.parametrize("shape, rank", [((30, 8), 8), ((8, 30), 8), ((40, 20), 5)])
def test_retry_agrees_with_scipy(monkeypatch, shape, rank):
    rng = np.random.default_rng(rank)
    A = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    b = rng.standard_normal(shape[0])
    x, rnorm = _nnls.nnls(A, b)
    monkeypatch.setattr(_nnls, "_scipy_nnls", _scipy_fails)
    x_retry, rnorm_retry = _nnls.nnls(A, b)
    assert np.all(x_retry >= 0)
    assert rnorm_retry == pytest.approx(np.linalg.norm(A @ x_retry - b), rel=1e-12)
    # same optimal value (the minimiser need not be unique when A is rank-deficient)
    assert rnorm_retry == pytest.approx(rnorm, rel=1e-8, abs=1e-10)
    # optimality: the gradient Aᵀ(Ax − b) is ≥ 0, and zero where x > 0
    gradient = A.T @ (A @ x_retry - b)
    scale = np.linalg.norm(A) * np.linalg.norm(b)
    assert np.all(gradient >= -1e-8 * scale)
    assert np.all(np.abs(gradient[x_retry > 1e-10]) <= 1e-8 * scale)


def test_failure_of_both_methods_names_them(monkeypatch):
    monkeypatch.setattr(_nnls, "_scipy_nnls", _scipy_fails)
    monkeypatch.setattr(
        _nnls, "lsq_linear", lambda *args, **kwargs: types.SimpleNamespace(status=0, message="max_iter reached", x=None)
    )
    with pytest.raises(RuntimeError, match=r"scipy's nnls reached its iteration limit and lsq_linear \(BVLS\) "
                                           r"stopped with status 0 \(max_iter reached\)"):
        _nnls.nnls(np.eye(3), np.ones(3))


def test_fit_with_the_retry_matches_the_fit_with_scipy(monkeypatch):
    """Every NNLS of a fit (optimal set, min-norm network) through the retry gives the same network."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.maximum(X @ [1.0, -0.5], 0) - 0.3 * np.maximum(X @ [-0.2, 1.0] + 0.1, 0)
    reference = ConvexReLURegressor(alpha=1e-3, solver="first_order", random_state=0).fit(X, y)
    calls = []

    def fails(*args, **kwargs):
        calls.append(args[0].shape)
        _scipy_fails()

    monkeypatch.setattr(_nnls, "_scipy_nnls", fails)
    retried = ConvexReLURegressor(alpha=1e-3, solver="first_order", random_state=0).fit(X, y)
    assert calls  # the fit did go through the retry
    assert retried.certificate_.exact
    np.testing.assert_allclose(retried.predict(X), reference.predict(X), rtol=0, atol=1e-8)
    assert retried.optimal_set_.dimension == reference.optimal_set_.dimension
