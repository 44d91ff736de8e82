"""Warnings raised by the package.

A certified fit raises none of them. Solver trouble is reported with scikit-learn's
:class:`~sklearn.exceptions.ConvergenceWarning` (with the achieved gap and ``tol``); the classes here
report what is specific to this package.
"""

__all__ = ["ConvexReLUWarning", "OptimalSetWarning"]


class ConvexReLUWarning(UserWarning):
    """Base class of the package's own warnings.

    Filter on it to silence, record or raise every warning specific to this package at once;
    solver trouble is a :class:`~sklearn.exceptions.ConvergenceWarning` instead.

    See Also
    --------
    OptimalSetWarning : The optimal set could not be described to the fit's tolerance.
    sklearn.exceptions.ConvergenceWarning : A solver stopped before reaching ``tol``.

    Examples
    --------
    >>> import warnings
    >>> from sklearn_convexrelu.exceptions import ConvexReLUWarning, OptimalSetWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", ConvexReLUWarning)
    ...     warnings.warn("not described to tol", OptimalSetWarning)
    >>> [issubclass(w.category, ConvexReLUWarning) for w in caught]
    [True]
    """


class OptimalSetWarning(ConvexReLUWarning):
    """The optimal set could not be described to the fit's tolerance.

    Raised when, after the dual vector has been refined, the optimal set still does not reproduce
    the certified objective within ``tol`` (e.g. a fit that did not converge). The fitted network is
    then the solver's own network, and the optimal-set methods say so.

    See Also
    --------
    ConvexReLUWarning : The base class of the package's warnings.
    sklearn_convexrelu.OptimalSet : The set of optimal networks of a fit.

    Examples
    --------
    Turn the warning into an error, e.g. in a test that must describe the optimal set exactly:

    >>> import warnings
    >>> from sklearn_convexrelu.exceptions import OptimalSetWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", OptimalSetWarning)
    ...     try:
    ...         warnings.warn("not described to tol", OptimalSetWarning)
    ...     except OptimalSetWarning as error:
    ...         print(type(error).__name__, error)
    OptimalSetWarning not described to tol
    """
