"""Input validation shared by every estimator: our errors, never TensorFlow's."""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning

from .._sklearn_compat import InvalidParameterError, _check_feature_names, _check_n_features
from .ratings import RatingTable, values_of


def check_X(estimator, X, *, reset):
    """Validate ``X`` and return it as a :class:`~skembrec._input.ratings.RatingTable`.

    Column 0 holds user ids and column 1 item ids; further columns are side
    information read by name or position. Sets (``reset=True``) or checks
    ``n_features_in_`` and ``feature_names_in_``, and reads the id columns
    once (refusing NaN ids when fitting).
    """
    table = RatingTable(X)
    shape = table.shape
    if shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 "
            "is required."
        )
    # at predict time a column count unlike fit's is the clearer message
    _check_n_features(estimator, table.data, reset=reset)
    if shape[1] < 2:
        raise ValueError(
            f"Found array with {shape[1]} feature(s) (shape={shape}) while a "
            "minimum of 2 is required: column 0 holds user ids, column 1 item ids."
        )
    _check_feature_names(estimator, table.data, reset=reset)
    table.ids("user", fitting=reset)
    table.ids("item", fitting=reset)
    return table


def check_y_regression(y, n_samples):
    """Ratings as a float64 vector of length ``n_samples``, finite."""
    y = _as_1d_target(y, n_samples)
    try:
        y = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        row = _first_non_numeric(y)
        raise ValueError(
            f"y must hold numeric ratings; row {row} holds {y[row]!r}"
        ) from None
    bad = ~np.isfinite(y)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"y contains {'NaN' if np.isnan(y[row]) else 'inf'} at row {row}")
    return y


def _as_1d_target(y, n_samples):
    if y is None:
        raise ValueError("requires y to be passed, but the target y is None")
    y = values_of(y)  # a polars or pyarrow Series
    if isinstance(y, (pd.Series, pd.DataFrame)):
        y = y.to_numpy()
    y = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one rating per row of X), got shape {y.shape}")
    if np.iscomplexobj(y):
        raise ValueError("y holds complex numbers; ratings must be real numbers")
    if len(y) != n_samples:
        raise ValueError(
            f"X has {n_samples} rows but y has {len(y)}: "
            "inconsistent numbers of samples"
        )
    return y


def _first_non_numeric(y):
    for row, value in enumerate(y):
        try:
            float(value)
        except (TypeError, ValueError):
            return row
    return 0  # pragma: no cover


def check_sample_weight(sample_weight, n_samples):
    """Non-negative finite weights of length ``n_samples`` (None stays None)."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    sample_weight = values_of(sample_weight)
    try:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numeric") from None
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected "
            f"{(n_samples,)}: one weight per row of X"
        )
    bad = ~np.isfinite(sample_weight)
    if bad.any():
        raise ValueError(
            f"sample_weight contains a non-finite value at row {int(np.flatnonzero(bad)[0])}"
        )
    if (sample_weight < 0).any():
        row = int(np.flatnonzero(sample_weight < 0)[0])
        raise ValueError(
            f"sample_weight must be non-negative; row {row} is {sample_weight[row]}"
        )
    if not sample_weight.any():
        raise ValueError("sample_weight is all zero: no rating carries any weight")
    # only the weights' ratios matter: scaled to a mean of 1 (in float64, first
    # by the largest so that 1e300 does not overflow), uniformly scaled
    # weights give the unweighted fit and float32 never underflows
    sample_weight = sample_weight / sample_weight.max()
    return sample_weight / sample_weight.mean()


def check_hidden_layer_sizes(sizes, estimator_name):
    """A tuple of positive ints from an int, a list or a tuple."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise InvalidParameterError(
            f"hidden_layer_sizes of {estimator_name} must be a tuple of ints, "
            f"got {sizes!r}"
        ) from None
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise InvalidParameterError(
                f"hidden_layer_sizes of {estimator_name} must hold ints, got {size!r}"
            )
        if size < 1:
            raise ValueError(
                f"hidden_layer_sizes of {estimator_name} must be positive, got {sizes}"
            )
    return tuple(int(s) for s in sizes)
