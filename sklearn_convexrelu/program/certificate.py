"""Duality gap and global-optimality certificate of any point of the program (SPEC §4)."""

from dataclasses import dataclass

import numpy as np

from .cones import cone_kappas

__all__ = ["Certificate", "duality_certificate"]


@dataclass(frozen=True)
class Certificate:
    """What a duality gap proves about a network (SPEC §4).

    Attributes
    ----------
    primal : float
        Objective (NC) of the network that was checked.
    lower_bound : float
        Dual objective at the dual point scaled to feasibility: a lower bound on the optimum of the
        convex program over the covered patterns (over *all* networks when ``exact``).
    dual_gap : float
        ``primal - lower_bound`` (≥ 0 up to rounding).
    relative_gap : float
        ``dual_gap / max(primal, tiny)``.
    kappa_ratio : float
        ``max_{i,σ} κ_{i,σ} / alpha``: ≤ 1 means the dual vector is feasible (an upper bound on the
        true value when it is ≤ 1, exact when it exceeds 1).
    exact : bool
        ``True`` when the covered patterns are all the activation patterns of the data, so the
        bound holds for every two-layer ReLU network of any width.
    n_patterns : int
        Number of patterns the certificate covers.
    coverage : str
        Plain-language description of the covered pattern set.
    tol : float
        Relative tolerance used by :attr:`certified`.
    most_violated : tuple or None
        ``(output, pattern, sign)`` of the largest κ when ``kappa_ratio > 1``, else ``None``.
    """

    primal: float
    lower_bound: float
    dual_gap: float
    relative_gap: float
    kappa_ratio: float
    exact: bool
    n_patterns: int
    coverage: str
    tol: float
    most_violated: tuple | None = None

    @property
    def certified(self):
        """``True`` iff the network is proven globally optimal to ``tol`` (exact patterns only)."""
        return bool(self.exact and self.relative_gap <= self.tol)

    def __str__(self):
        if self.certified:
            verdict = "certified globally optimal"
        elif self.relative_gap <= self.tol:  # sampled or searched patterns: optimal over them only
            verdict = "optimal over the covered patterns only, not certified globally"
        else:
            verdict = "not certified"
        return (
            f"{verdict}: relative duality gap {self.relative_gap:.2e} (tol {self.tol:.0e}), "
            f"max kappa/alpha {self.kappa_ratio:.6f}, over {self.coverage}"
        )


def describe_coverage(n_patterns, exact):
    """Plain-language description of a pattern set."""
    if exact:
        return f"all {n_patterns} activation patterns (exact enumeration)"
    return f"{n_patterns} sampled activation patterns (relative to these only)"


def _dual_point(X_aug, patterns, Y, s, alpha, loss, prediction, fit_intercept):
    """Lower bound and κ of the dual point derived from one prediction (SPEC §4)."""
    if fit_intercept:
        prediction = prediction + loss.optimal_intercept(prediction, Y, s)
    R = loss.residual(prediction, Y, s)
    kappas, _, _ = cone_kappas(X_aug, patterns, R, threshold=alpha, bound_only=True)  # exact above alpha
    kappa = float(kappas.max()) if kappas.size else 0.0
    theta = min(1.0, alpha / kappa) if kappa > 0 else 1.0
    return loss.dual(theta * R, Y, s), kappas


def duality_certificate(
    X_aug, patterns, Y, s, alpha, loss, prediction, primal, *, fit_intercept, exact, tol, dual_predictions=()
):
    """Certificate of a point whose prediction on the training data is ``prediction``.

    The dual vector is ``r = −∇ value`` at the prediction with its output intercept re-optimised
    (when ``fit_intercept``), so that ``Σ_k r_k = 0`` holds; it is then scaled by
    ``min(1, alpha / κ)`` to be dual feasible (SPEC §4). The gap is valid for any network.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    s : ndarray of shape (n_samples,)
        Sample weights, positive, summing to n_samples.
    alpha : float
    loss : loss object from :func:`~sklearn_convexrelu.program.losses.get_loss`
    prediction : ndarray of shape (n_samples, n_outputs)
    primal : float
        Objective of the point being certified.
    fit_intercept, exact : bool
    tol : float
    dual_predictions : sequence of ndarray of shape (n_samples, n_outputs), default=()
        Other predictions to derive dual points from (e.g. the solver's unpolished solution,
        whose dual point is often more accurate); the largest lower bound is kept.

    Returns
    -------
    Certificate
    """
    candidates = [
        _dual_point(X_aug, patterns, Y, s, alpha, loss, candidate, fit_intercept)
        for candidate in (prediction, *dual_predictions)
    ]
    lower, kappas = max(candidates, key=lambda candidate: candidate[0])
    kappa = float(kappas.max()) if kappas.size else 0.0
    gap = primal - lower
    most_violated = None
    if kappa > alpha:
        k, i, side = np.unravel_index(np.argmax(kappas), kappas.shape)
        most_violated = (int(k), int(i), 1 if side == 0 else -1)
    return Certificate(
        primal=float(primal),
        lower_bound=float(lower),
        dual_gap=float(gap),
        relative_gap=float(gap / max(abs(primal), np.finfo(float).tiny)),
        kappa_ratio=kappa / alpha,
        exact=bool(exact),
        n_patterns=int(patterns.shape[1]),
        coverage=describe_coverage(patterns.shape[1], exact),
        tol=float(tol),
        most_violated=most_violated,
    )
