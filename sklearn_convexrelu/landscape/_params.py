"""Argument constraints of the landscape tools, checked by ``validate_params`` as the estimators'
``_parameter_constraints`` are (a wrong argument raises ``InvalidParameterError``, a ``ValueError``,
naming the argument and what it accepts)."""

from numbers import Integral, Real

from .._sklearn_compat import HasMethods, Interval, StrOptions
from ..arrangements import Arrangements

__all__ = ["COUNT", "DATA_CONSTRAINTS", "NETWORK_CONSTRAINTS", "POSITIVE", "TRAINING_CONSTRAINTS"]

POSITIVE = Interval(Real, 0, None, closed="neither")  # excludes 0, inf and nan
COUNT = Interval(Integral, 1, None, closed="left")

# what every tool takes: data, the objective's switches (None: read from the model) and patterns
_COMMON = {
    "X": ["array-like"],
    "y": ["array-like"],
    "sample_weight": ["array-like", None],
    "arrangements": [StrOptions({"auto", "exact", "sample"}), Arrangements],
    "max_arrangements": [COUNT],
    "n_arrangements": [COUNT],
    "random_state": ["random_state"],
    # a relative gap is at most 1: tol ≥ 1 would certify anything
    "tol": [Interval(Real, 0, 1, closed="neither")],
}

#: Tools examining a network (or a fitted model): switches default to the model's.
NETWORK_CONSTRAINTS = {
    **_COMMON,
    "network": "no_validation",  # a TwoLayerReLUNetwork, a fitted estimator or an MLPRegressor
    "alpha": [POSITIVE, None],
    "loss": [StrOptions({"squared_error", "log_loss"}), None],
    "hidden_bias": ["boolean", None],
    "penalize_hidden_bias": ["boolean", None],
    "fit_intercept": ["boolean", None],
}

#: Tools given data and ``alpha`` (a float, or a fitted estimator whose objective is used).
DATA_CONSTRAINTS = {
    **_COMMON,
    "alpha": [POSITIVE, HasMethods(["fit", "predict"])],
    "loss": [StrOptions({"squared_error", "log_loss"})],
    "hidden_bias": ["boolean"],
    "penalize_hidden_bias": ["boolean"],
    "fit_intercept": ["boolean"],
}

#: Gradient training of the non-convex objective.
TRAINING_CONSTRAINTS = {
    "optimizer": [StrOptions({"gd", "adam"})],
    "learning_rate": [StrOptions({"auto"}), POSITIVE],
    "max_iter": [Interval(Integral, 0, None, closed="left")],  # 0: the starting network
    "init_scale": [Interval(Real, 0, None, closed="left")],
}
