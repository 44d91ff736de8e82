"""Landscape tools for any two-layer ReLU network (SPEC §6).

- :func:`optimality_certificate` / :func:`is_global_minimum`: polynomial-time global-optimality
  check (duality gap over all activation patterns) of a network, one of our estimators or a
  scikit-learn ``MLPRegressor``, with a descent direction when it fails;
- :func:`stationary_subproblem`: a stationary point as the optimum of the convex program over its
  own patterns, and the missing patterns that escape it; :func:`train_nonconvex` produces such
  points by gradient descent on exactly our objective;
- :func:`path_to_global_minimum`: an explicit non-increasing path of networks to a global minimum;
- :func:`no_spurious_valleys_width`: ``m*`` and the width from which there are no spurious
  valleys; :func:`gradient_descent_experiment` checks it empirically.
"""

from .certify import EscapeDirection, NetworkCertificate, is_global_minimum, optimality_certificate
from .nonconvex import NonconvexFit, train_nonconvex
from .path import LandscapePath, path_to_global_minimum
from .stationary import StationarySubproblem, stationary_subproblem
from .width import GradientDescentExperiment, WidthReport, gradient_descent_experiment, no_spurious_valleys_width

__all__ = [
    "EscapeDirection",
    "GradientDescentExperiment",
    "LandscapePath",
    "NetworkCertificate",
    "NonconvexFit",
    "StationarySubproblem",
    "WidthReport",
    "gradient_descent_experiment",
    "is_global_minimum",
    "no_spurious_valleys_width",
    "optimality_certificate",
    "path_to_global_minimum",
    "stationary_subproblem",
    "train_nonconvex",
]
