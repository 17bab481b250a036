"""Every private scikit-learn helper skembrec uses, imported in one place.

A scikit-learn release that moves one of these costs one edit here.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import _check_feature_names, _check_n_features

__all__ = [
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_feature_names",
    "_check_n_features",
    "_fit_context",
]
