"""The single place where private scikit-learn names are imported (STYLE: one module only)."""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = ["HasMethods", "Interval", "StrOptions", "_check_sample_weight", "_fit_context", "validate_data", "validate_params"]
