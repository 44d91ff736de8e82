"""Duality gap and global-optimality certificate of any point of the program (SPEC §4)."""

from dataclasses import dataclass, replace

import numpy as np

from .penalty import GroupNormPenalty

__all__ = [
    "Certificate", "DualPoint", "best_dual_point", "check_alpha_resolvable", "dual_point", "dual_vector",
    "duality_certificate", "most_violated", "program_dual_point",
]

# alpha below this fraction of the loss gradient's scale at the zero network is lost in rounding:
# measured on 30 points, 3 features, hidden_bias=False (where X × s is alpha / s), classifier fits
# stalled, hung or returned NaN from alpha/alpha_max = 3e-15 down and certified at 3e-13 and 3e-9.
_NEGLIGIBLE_ALPHA = 100 * np.finfo(float).eps


@dataclass(frozen=True)
class Certificate:
    """What a duality gap proves about a network (SPEC §4).

    A network's objective is an upper bound on the optimum and the dual objective at a feasible
    dual point a lower bound; their gap bounds how far the network is from optimal. Over all the
    activation patterns of the data (``exact``), a gap within ``tol`` certifies a global minimum of
    the non-convex training problem. Every fitted estimator carries one as ``certificate_``.

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

    See Also
    --------
    ConvexReLURegressor : Fits a network and certifies it (``certificate_``).
    sklearn_convexrelu.landscape.optimality_certificate : The certificate of any network.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_convexrelu import ConvexReLURegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(20, 1))
    >>> y = np.abs(X[:, 0])
    >>> certificate = ConvexReLURegressor(alpha=1e-2, arrangements="exact").fit(X, y).certificate_
    >>> certificate.coverage  # 2 * (1 + 19) patterns for 20 points on a line, less the zero one
    'all 39 activation patterns (exact enumeration)'
    >>> bool(certificate.exact), bool(certificate.relative_gap <= certificate.tol)
    (True, True)
    >>> certificate.certified
    True
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

    @classmethod
    def _from_dual_point(cls, primal, point, alpha, /, *, exact, n_patterns, coverage=None, tol, **fields):
        """The certificate of a point with objective ``primal`` by the lower bound of ``point``
        (a :class:`DualPoint` over ``n_patterns`` patterns); ``fields`` are a subclass's own."""
        return cls(
            primal=float(primal), **_bound_fields(primal, point, alpha), exact=bool(exact),
            n_patterns=int(n_patterns), coverage=coverage or describe_coverage(n_patterns, exact), tol=float(tol),
            **fields,
        )

    def _tightened(self, point, alpha):
        """This certificate with the lower bound of another dual point, when it is larger (a dual
        bound holds for every network, whichever prediction it came from)."""
        if not point.lower_bound > self.lower_bound:
            return self
        return replace(self, **_bound_fields(self.primal, point, alpha))

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


def _bound_fields(primal, point, alpha):
    """The fields of a :class:`Certificate` that the dual point decides."""
    gap = primal - point.lower_bound
    return dict(
        lower_bound=float(point.lower_bound), dual_gap=float(gap),
        relative_gap=float(gap / max(abs(primal), np.finfo(float).tiny)), kappa_ratio=float(point.kappa / alpha),
        most_violated=most_violated(point, alpha),
    )


def describe_coverage(n_patterns, exact):
    """Plain-language description of a pattern set."""
    if exact:
        return f"all {n_patterns} activation patterns (exact enumeration)"
    return f"{n_patterns} sampled activation patterns (relative to these only)"


@dataclass(frozen=True, eq=False)
class DualPoint:
    """The dual point of a prediction, scaled to feasibility (SPEC §4).

    Attributes
    ----------
    prediction : ndarray of shape (n_samples, n_outputs)
        The prediction with its output intercept re-optimised (unchanged without intercept).
    intercept_shift : ndarray of shape (n_outputs,)
        The change of the output intercept that re-optimised it (zero without intercept).
    residual : ndarray of shape (n_samples, n_outputs)
        ``r = −∇ value`` at ``prediction``, before scaling (``Σ_k r_k = 0`` with an intercept).
    kappa : float
        ``max_{i,σ,k} κ_{i,σ,k}(r)`` (exact when it exceeds ``alpha``; ``inf`` when unbounded).
    theta : float
        ``min(1, alpha / κ)``: ``θ r`` is dual feasible.
    lower_bound : float
        Dual objective ``dual(θ r)``, a lower bound on the optimum over the covered patterns.
    scan : object
        Whatever the κ computation returned besides ``kappa`` (e.g. ``(kappas, directions, exact)``).
    """

    prediction: np.ndarray
    intercept_shift: np.ndarray
    residual: np.ndarray
    kappa: float
    theta: float
    lower_bound: float
    scan: object = None


def dual_vector(loss, Y, s, prediction, *, fit_intercept):
    """The prediction with its output intercept re-optimised, and ``r = −∇ value`` there (SPEC §4).

    Parameters
    ----------
    loss : loss object
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    prediction : ndarray of shape (n_samples, n_outputs)
    fit_intercept : bool

    Returns
    -------
    prediction : ndarray of shape (n_samples, n_outputs)
    intercept_shift : ndarray of shape (n_outputs,)
    residual : ndarray of shape (n_samples, n_outputs)
    """
    if fit_intercept:
        shift = loss.optimal_intercept(prediction, Y, s)
        prediction = prediction + shift
    else:
        shift = np.zeros(prediction.shape[1])
    return prediction, shift, loss.residual(prediction, Y, s)


def check_alpha_resolvable(X_aug, R0, alpha):
    """Refuse an ``alpha`` that rounding cannot tell from zero next to the data's scale.

    ``alpha_max = max κ(r₀) ≤ max_k Σ_i |r₀_ik| ‖x̃_i‖`` at the dual vector ``r₀`` of the zero
    network (SPEC §4). A penalty below ``100 · eps`` times that bound is below the rounding of the
    loss's gradient: the program is unregularised in floating point (a classifier on separable data
    has no minimiser), and solvers stall, loop or return NaN. Without a hidden bias, multiplying X
    by ``c`` is the same as dividing alpha by ``c``: standardising X is the cure.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    R0 : ndarray of shape (n_samples, n_outputs)
        The dual vector of the zero network (with its optimal intercept), from :func:`dual_vector`.
    alpha : float

    Raises
    ------
    ValueError
        If ``alpha`` is below ``100 · eps`` times the bound, with the smallest resolvable alpha.
    """
    bound = float(np.max(np.linalg.norm(X_aug, axis=1) @ np.abs(R0), initial=0.0))
    if alpha < _NEGLIGIBLE_ALPHA * bound:
        raise ValueError(
            f"alpha={alpha:.3g} is negligible next to the scale of the data: the loss's gradient at the "
            f"zero network reaches {bound:.3g} (alpha_max is at most that), and a penalty below "
            f"{_NEGLIGIBLE_ALPHA:.1g} times it is lost in rounding. Standardise X (StandardScaler), rescale y or "
            f"raise alpha to at least {_NEGLIGIBLE_ALPHA * bound:.3g}."
        )


def dual_point(loss, Y, s, alpha, prediction, *, fit_intercept, kappa_of):
    """The dual point of a prediction (SPEC §4); the one implementation every caller uses.

    Re-optimise the output intercept (when it is fitted), take ``r = −∇ value``, compute
    ``κ = max κ_{i,σ,k}(r)`` with ``kappa_of``, scale to feasibility ``θ = min(1, alpha/κ)`` and
    evaluate the dual objective ``dual(θ r)``, a lower bound on the optimum.

    Parameters
    ----------
    loss : loss object
    Y : ndarray of shape (n_samples, n_outputs)
    s : ndarray of shape (n_samples,)
    alpha : float
    prediction : ndarray of shape (n_samples, n_outputs)
    fit_intercept : bool
    kappa_of : callable
        ``kappa_of(R) -> (kappa, scan)``: the largest κ (exact when above ``alpha``) and anything
        else the caller wants kept from that computation (see :func:`program_dual_point`; the
        first-order solver passes its own cached scan).

    Returns
    -------
    DualPoint
    """
    prediction, shift, R = dual_vector(loss, Y, s, prediction, fit_intercept=fit_intercept)
    kappa, scan = kappa_of(R)
    theta = min(1.0, alpha / kappa) if kappa > 0 else 1.0
    return DualPoint(prediction, shift, R, float(kappa), float(theta), float(loss.dual(theta * R, Y, s)), scan)


def most_violated(point, alpha):
    """The most violated dual constraint of a dual point (SPEC §4).

    Parameters
    ----------
    point : DualPoint
        From :func:`program_dual_point` (its ``scan`` holds the κ per output, pattern and sign).
    alpha : float
        Regularisation strength of the program.

    Returns
    -------
    tuple of (int, int, int) or None
        ``(output, pattern, sign)`` of the largest κ when it exceeds ``alpha``, else ``None``.
    """
    if not point.kappa > alpha:
        return None
    k, i, side = np.unravel_index(np.argmax(point.scan[0]), point.scan[0].shape)
    return int(k), int(i), 1 if side == 0 else -1


def best_dual_point(points, primal=None, tol=None):
    """The dual point with the largest lower bound, the one rule every certificate uses (SPEC §4).

    Parameters
    ----------
    points : iterable of DualPoint
        Consumed in order and lazily (e.g. a generator that solves the program only when asked).
    primal, tol : float, default=None
        When given, stop at the first point that certifies ``primal`` to ``tol`` (relative gap).

    Returns
    -------
    DualPoint
    """
    best = None
    for point in points:
        if best is None or point.lower_bound > best.lower_bound:
            best = point
        if tol is not None and primal - best.lower_bound <= tol * abs(primal):
            break
    return best


def program_dual_point(
    X_aug, patterns, Y, s, alpha, loss, prediction, *, fit_intercept, penalty=None, threshold=None, bound_only=True
):
    """:func:`dual_point` with κ over the given patterns from ``penalty.kappas`` (SPEC §4).

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_dims)
    patterns : ndarray of shape (n_samples, n_patterns), dtype bool
    Y, s, alpha, loss, prediction, fit_intercept
        As for :func:`dual_point`.
    penalty : GroupNormPenalty, default=None
        ``None``: every block coordinate penalised (cone projections).
    threshold : float, default=None
        κ below it may be upper bounds (default ``alpha``; lower it to get exact κ near ``alpha``).
    bound_only : bool, default=True
        Let κ shown to be below ``threshold`` stop at an upper bound (see
        :meth:`GroupNormPenalty.kappas`); ``False`` computes every κ above ``threshold`` exactly,
        with its maximising direction.

    Returns
    -------
    DualPoint
        ``scan`` is ``(kappas, directions, exact)`` of :meth:`GroupNormPenalty.kappas`.
    """
    penalty = GroupNormPenalty() if penalty is None else penalty
    level = alpha if threshold is None else threshold

    def kappa_of(R):
        kappas, directions, exact = penalty.kappas(X_aug, patterns, R, level, bound_only=bound_only)
        return (float(kappas.max()) if kappas.size else 0.0), (kappas, directions, exact)

    return dual_point(loss, Y, s, alpha, prediction, fit_intercept=fit_intercept, kappa_of=kappa_of)


def duality_certificate(
    X_aug, patterns, Y, s, alpha, loss, prediction, primal, *, fit_intercept, exact, tol, dual_predictions=(),
    penalty=None,
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
    penalty : GroupNormPenalty, default=None
        ``None``: every block coordinate penalised.

    Returns
    -------
    Certificate
    """
    best = best_dual_point(
        program_dual_point(X_aug, patterns, Y, s, alpha, loss, candidate, fit_intercept=fit_intercept, penalty=penalty)
        for candidate in (prediction, *dual_predictions)
    )
    return Certificate._from_dual_point(primal, best, alpha, exact=exact, n_patterns=patterns.shape[1], tol=tol)
