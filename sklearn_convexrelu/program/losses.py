"""Data-fitting terms of the convex program and of the network objective (SPEC §1, §4, §9).

Each loss works on predictions ``Z`` of shape ``(n_samples, n_outputs)`` and encoded targets ``Y``
of the same shape, with sample weights ``s`` normalised so that ``s.sum() == n_samples``:

    value(Z)            = (1/n) Σ_k s_k ℓ(z_k, y_k)
    sample_values(Z)    = the terms (s_k/n) ℓ(z_k, y_k), elementwise in Z for a separable loss
    residual(Z)         = -∇_Z value(Z)              (the dual vector r of SPEC §4)
    sample_hessians(Z)  = ∇²_{z_k} value(Z), (n, K, K) (the Hessian is block diagonal over samples)
    dual(R)             = -value*(-R)                (Fenchel dual; -inf outside its domain)
    optimal_intercept   = argmin_c value(Z + c)      (the unpenalised output intercept)

so that for every ``R`` satisfying the dual constraints, ``dual(R)`` is a lower bound on the optimum.
Solvers and analyses ask for these oracles and for two properties, never for the loss's name:

- ``is_quadratic``: the value is quadratic in the prediction (one Newton step is exact);
- ``scales_with_targets``: ``value(cZ, cY) = c² value(Z, Y)``, so the program for ``(Y, alpha)`` is
  that for ``(Y/c, alpha/c)`` with every variable times ``c`` (a solver may rescale the targets);
- ``shift_invariant``: adding the same constant to every output of a sample does not change the
  value (the softmax), so predictions are determined only modulo that constant.
"""

import numpy as np
from scipy.special import expit, log_softmax, softmax, xlogy

__all__ = ["LOSSES", "encode_targets", "get_loss"]


class _Loss:
    """Base class: a separable convex loss of the prediction."""

    name = None
    is_quadratic = False
    scales_with_targets = False
    shift_invariant = False

    def value(self, Z, Y, s):
        raise NotImplementedError

    def sample_values(self, Z, Y, s):
        """The terms of :meth:`value`: ``(s_k/n) ℓ(z_k, y_k)``, shape (n_samples, n_outputs) for a loss
        separable over outputs (elementwise, so ``Z`` may hold one column per network), else
        (n_samples, 1)."""
        raise NotImplementedError

    def sample_hessians(self, Z, Y, s):
        """Per-sample Hessians of :meth:`value` in the prediction, shape (n_samples, K, K) (SPEC §9)."""
        raise NotImplementedError

    def residual(self, Z, Y, s):
        raise NotImplementedError

    def dual(self, R, Y, s):
        raise NotImplementedError

    def cvxpy_value(self, pred, Y, s):
        raise NotImplementedError

    def _newton_direction(self, Z, Y, s):
        """Gradient ``−Σ_k r_k`` and Hessian ``Σ_k H_k`` of ``c ↦ value(Z + c)`` at ``c = 0``, from the
        residual and the per-sample Hessians (one formula for every loss)."""
        return -self.residual(Z, Y, s).sum(axis=0), self.sample_hessians(Z, Y, s).sum(axis=0)

    def optimal_intercept(self, F, Y, s, max_iter=100):
        """Minimise ``c ↦ value(F + c)`` over the output intercept ``c`` of shape (n_outputs,).

        Damped Newton steps until ``Σ_k r_k = −∇_c value`` vanishes to rounding; used to place the
        dual vector on ``Σ_k r_k = 0`` (SPEC §4). A step is accepted when it lowers the value, or,
        once values agree to rounding, when it lowers the gradient.
        """
        c = np.zeros(F.shape[1])
        current = self.value(F, Y, s)
        grad, hess = self._newton_direction(F, Y, s)
        for _ in range(max_iter):
            if np.max(np.abs(grad)) <= 1e-15:
                break
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
            for t in 0.5 ** np.arange(40):
                candidate = c - t * step
                value = self.value(F + candidate, Y, s)
                new_grad, new_hess = self._newton_direction(F + candidate, Y, s)
                flat = value <= current + 4 * np.finfo(float).eps * abs(current)
                if value < current or (flat and np.max(np.abs(new_grad)) < np.max(np.abs(grad))):
                    break
            else:
                break
            c, current, grad, hess = candidate, value, new_grad, new_hess
        if c.size == 1 and np.max(np.abs(grad)) > 1e-12:
            c = self._bisect_intercept(F, Y, s, c, current)
        return c

    def _bisect_intercept(self, F, Y, s, c, current):
        """One output: bisection on the (monotone) derivative of ``c ↦ value(F + c)``.

        The fallback when Newton stalls where the loss is saturated (separable ``log_loss`` data far
        from the optimum: a vanishing Hessian and a Newton step no line search can shorten enough).
        """
        derivative = lambda t: self._newton_direction(F + t, Y, s)[0][0]  # noqa: E731
        lo = hi = float(c[0])
        step = 1.0 + abs(lo)
        if derivative(lo) > 0:
            while derivative(lo) > 0 and step < 1e300:
                hi, lo, step = lo, lo - step, 2 * step
        else:
            while derivative(hi) < 0 and step < 1e300:
                lo, hi, step = hi, hi + step, 2 * step
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
            lo, hi = (mid, hi) if derivative(mid) < 0 else (lo, mid)
        best = np.array([0.5 * (lo + hi)])
        return best if self.value(F + best, Y, s) <= current else c


class _SquaredError(_Loss):
    """ℓ(z, y) = ½‖z − y‖², for regression and for ±1 / one-hot classification targets."""

    name = "squared_error"
    is_quadratic = True
    scales_with_targets = True

    def value(self, Z, Y, s):
        return 0.5 * float(np.sum(s[:, None] * (Z - Y) ** 2)) / Z.shape[0]

    def sample_values(self, Z, Y, s):
        return (0.5 * s / Z.shape[0])[:, None] * (Z - Y) ** 2

    def sample_hessians(self, Z, Y, s):
        n, K = Z.shape
        return (s / n)[:, None, None] * np.eye(K)

    def residual(self, Z, Y, s):
        return s[:, None] * (Y - Z) / Z.shape[0]

    def dual(self, R, Y, s):
        # SPEC §4: D(r) = Σ_k [ y_k r_k − n r_k² / (2 s_k) ]
        n = R.shape[0]
        return float(np.sum(Y * R) - 0.5 * n * np.sum(R**2 / s[:, None]))

    def cvxpy_value(self, pred, Y, s):
        import cvxpy as cp

        root = np.sqrt(s / Y.shape[0])[:, None]
        return 0.5 * cp.sum_squares(cp.multiply(root, pred - Y))

    def optimal_intercept(self, F, Y, s, max_iter=None):
        return (s @ (Y - F)) / s.sum()


class _BinaryLogLoss(_Loss):
    """ℓ(z, y) = log(1 + exp(−y z)) with y ∈ {−1, +1}; one output."""

    name = "log_loss"

    def value(self, Z, Y, s):
        return float(np.sum(s[:, None] * np.logaddexp(0.0, -Y * Z))) / Z.shape[0]

    def sample_values(self, Z, Y, s):
        return (s / Z.shape[0])[:, None] * np.logaddexp(0.0, -Y * Z)

    def residual(self, Z, Y, s):
        return s[:, None] * Y * expit(-Y * Z) / Z.shape[0]

    def sample_hessians(self, Z, Y, s):
        # ∂²/∂z² log(1 + exp(−yz)) = σ(yz) σ(−yz), both factors evaluated (p (1 − p) rounds to 0
        # where the loss saturates on either side)
        return (s / Z.shape[0])[:, None, None] * (expit(Y * Z) * expit(-Y * Z))[:, :, None]

    def dual(self, R, Y, s):
        # p_k = n y_k r_k / s_k must lie in [0, 1]; value*(−r) = Σ (s_k/n) [p log p + (1−p) log(1−p)]
        n = R.shape[0]
        p = n * Y * R / s[:, None]
        if np.any(p < -1e-12) or np.any(p > 1 + 1e-12):
            return -np.inf
        p = np.clip(p, 0.0, 1.0)
        return -float(np.sum(s[:, None] * (xlogy(p, p) + xlogy(1 - p, 1 - p)))) / n

    def cvxpy_value(self, pred, Y, s):
        import cvxpy as cp

        return cp.sum(cp.multiply(s / Y.shape[0], cp.logistic(-cp.multiply(Y[:, 0], pred[:, 0]))))


class _SoftmaxCrossEntropy(_Loss):
    """ℓ(z, y) = logsumexp(z) − yᵀz with one-hot y; several outputs coupled through the loss."""

    name = "log_loss"
    shift_invariant = True

    def value(self, Z, Y, s):
        return -float(np.sum(s[:, None] * Y * log_softmax(Z, axis=1))) / Z.shape[0]

    def sample_values(self, Z, Y, s):
        return -(s / Z.shape[0])[:, None] * np.sum(Y * log_softmax(Z, axis=1), axis=1, keepdims=True)

    def sample_hessians(self, Z, Y, s):
        P = softmax(Z, axis=1)  # diag(p) − p pᵀ
        return (s / Z.shape[0])[:, None, None] * (P[:, :, None] * np.eye(Z.shape[1]) - P[:, :, None] * P[:, None, :])

    def residual(self, Z, Y, s):
        return s[:, None] * (Y - softmax(Z, axis=1)) / Z.shape[0]

    def dual(self, R, Y, s):
        # q_k = y_k − n r_k / s_k must lie in the simplex; value*(−r) = Σ (s_k/n) Σ q log q
        n = R.shape[0]
        Q = Y - n * R / s[:, None]
        if np.any(Q < -1e-12) or np.any(np.abs(Q.sum(axis=1) - 1) > 1e-9):
            return -np.inf
        Q = np.clip(Q, 0.0, 1.0)
        return -float(np.sum(s[:, None] * xlogy(Q, Q))) / n

    def cvxpy_value(self, pred, Y, s):
        import cvxpy as cp

        n = Y.shape[0]
        return (s @ cp.log_sum_exp(pred, axis=1) - cp.sum(cp.multiply(s[:, None] * Y, pred))) / n


LOSSES = ("squared_error", "log_loss")


def get_loss(name, n_outputs):
    """Return the loss object for ``name`` and the number of outputs.

    ``"log_loss"`` is the logistic loss for one output and the softmax cross-entropy for several.

    Parameters
    ----------
    name : {"squared_error", "log_loss"}
        Name of the loss.
    n_outputs : int
        Number of outputs of the network.

    Returns
    -------
    loss : loss object
        Value, gradient, Hessian, dual and optimal intercept of the data term.
    """
    if name == "squared_error":
        return _SquaredError()
    if name == "log_loss":
        return _BinaryLogLoss() if n_outputs == 1 else _SoftmaxCrossEntropy()
    raise ValueError(f"Unknown loss {name!r}; expected one of {LOSSES}.")


def encode_targets(y, loss, n_outputs=None):
    """Encode targets as the float array ``Y`` of shape (n_samples, n_outputs) the losses expect.

    - ``"squared_error"``: ``y`` of shape (n_samples,) or (n_samples, n_outputs), used as is.
    - ``"log_loss"`` with one output: labels in {-1, +1} (or {0, 1}).
    - ``"log_loss"`` with ``n_outputs >= 2``: integer class indices in ``[0, n_outputs)`` of shape
      (n_samples,), or a one-hot array of shape (n_samples, n_outputs).

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets, as above.
    loss : {"squared_error", "log_loss"}
        Name of the loss.
    n_outputs : int, default=None
        Number of outputs for ``"log_loss"``; ``None`` means one.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_outputs)
    """
    y = np.asarray(y, dtype=float)
    if loss == "squared_error":
        return y.reshape(-1, 1) if y.ndim == 1 else y.copy()
    if loss != "log_loss":
        raise ValueError(f"Unknown loss {loss!r}; expected one of {LOSSES}.")
    if n_outputs is None or n_outputs == 1:
        y = y.reshape(-1)
        if not np.all(np.isin(y, (-1.0, 0.0, 1.0))):
            raise ValueError("Binary log_loss targets must be in {-1, +1} (or {0, 1}).")
        return np.where(y > 0, 1.0, -1.0)[:, None]
    if y.ndim == 2:
        if y.shape[1] != n_outputs or not np.allclose(y.sum(axis=1), 1) or np.any((y != 0) & (y != 1)):
            raise ValueError(f"One-hot targets must have shape (n_samples, {n_outputs}) with one 1 per row.")
        return y.copy()
    labels = y.astype(int)
    if np.any(labels != y) or labels.min() < 0 or labels.max() >= n_outputs:
        raise ValueError(f"Class indices must be integers in [0, {n_outputs}).")
    return np.eye(n_outputs)[labels]



def normalized_weights(sample_weight, n_samples):
    """Sample weights rescaled to sum to ``n_samples`` (SPEC §1); ones when ``None``.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
        Finite, non-negative, not all zero.
    n_samples : int
        Number of samples.

    Returns
    -------
    s : ndarray of shape (n_samples,)
    """
    if sample_weight is None:
        return np.ones(n_samples)
    s = np.asarray(sample_weight, dtype=float).reshape(-1)
    if s.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {s.shape[0]} entries, expected {n_samples}.")
    if not np.all(np.isfinite(s)) or np.any(s < 0) or s.sum() <= 0:
        raise ValueError("sample_weight must be finite, non-negative and not all zero.")
    return s * (n_samples / s.sum())
