"""Input validation shared by every estimator: our errors, never TensorFlow's."""

import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning

from ._sklearn_compat import _check_feature_names, _check_n_features

_ID_NAMES = ("user id", "item id")


def check_X(estimator, X, *, reset):
    """Validate ``X`` and return its user and item id columns as 1-D arrays.

    Column 0 holds user ids and column 1 item ids; further columns are side
    information that this function only counts. Sets (``reset=True``) or
    checks ``n_features_in_`` and ``feature_names_in_``.
    """
    if sp.issparse(X):
        raise TypeError(
            "A sparse X was passed, but skembrec needs dense (user, item, ...) "
            "rows of ids: pass a NumPy array or a pandas DataFrame."
        )
    if isinstance(X, pd.DataFrame):
        shape = X.shape
        columns = [X.iloc[:, j] for j in range(min(2, shape[1]))]
    else:
        if not isinstance(X, np.ndarray):
            # object dtype keeps every id as given: np.asarray of rows mixing
            # ints and strings would otherwise turn 1 into "1"
            X = np.asarray(X, dtype=object)
        if X.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead: X must hold "
                "one (user, item, ...) row per rating. Reshape your data, e.g. "
                "np.column_stack([users, items])."
            )
        if np.iscomplexobj(X):
            raise ValueError("Complex data not supported")
        shape = X.shape
        columns = [X[:, j] for j in range(min(2, shape[1]))]
    if shape[0] == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 "
            "is required."
        )
    # at predict time a column count unlike fit's is the clearer message
    _check_n_features(estimator, X, reset=reset)
    if shape[1] < 2:
        raise ValueError(
            f"Found array with {shape[1]} feature(s) (shape={shape}) while a "
            "minimum of 2 is required: column 0 holds user ids, column 1 item ids."
        )
    _check_feature_names(estimator, X, reset=reset)
    users, items = (_id_column(c, name, fitting=reset) for c, name in zip(columns, _ID_NAMES))
    return users, items


def _id_column(column, name, *, fitting):
    """A column of raw ids as a 1-D NumPy array, rejecting what cannot be an id."""
    if isinstance(column, pd.Series):
        values = column.to_numpy(dtype=object) if not isinstance(
            column.dtype, np.dtype) else column.to_numpy()
    else:
        values = np.asarray(column)
    if values.dtype == object:
        # rows of Python ints/floats given as objects: use a numeric dtype
        inferred = pd.Series(values, copy=False).infer_objects()
        if isinstance(inferred.dtype, np.dtype) and inferred.dtype.kind in "iuf":
            values = inferred.to_numpy()
    if values.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if fitting and values.dtype.kind == "f":
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            what = "NaN" if np.isnan(values[row]) else "inf"
            raise ValueError(
                f"{name}s (column {_ID_NAMES.index(name)} of X) contain {what} at "
                f"row {row}; every rating needs a valid id to be fitted"
            )
    return values


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
    return sample_weight


def check_hidden_layer_sizes(sizes, estimator_name):
    """A tuple of positive ints from an int, a list or a tuple."""
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(
            f"hidden_layer_sizes of {estimator_name} must be a tuple of ints, "
            f"got {sizes!r}"
        ) from None
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise TypeError(
                f"hidden_layer_sizes of {estimator_name} must hold ints, got {size!r}"
            )
        if size < 1:
            raise ValueError(
                f"hidden_layer_sizes of {estimator_name} must be positive, got {sizes}"
            )
    return tuple(int(s) for s in sizes)
