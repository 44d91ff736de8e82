"""Warnings raised by the package.

A certified fit raises none of them. Solver trouble is reported with scikit-learn's
:class:`~sklearn.exceptions.ConvergenceWarning` (with the achieved gap and ``tol``); the classes here
report what is specific to this package.
"""

__all__ = ["ConvexReLUWarning", "OptimalSetWarning"]


class ConvexReLUWarning(UserWarning):
    """Base class of the package's own warnings."""


class OptimalSetWarning(ConvexReLUWarning):
    """The optimal set could not be described to the fit's tolerance.

    Raised when, after the dual vector has been refined, the optimal set still does not reproduce
    the certified objective within ``tol`` (e.g. a fit that did not converge). The fitted network is
    then the solver's own network, and the optimal-set methods say so.
    """
