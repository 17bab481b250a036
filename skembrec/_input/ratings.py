"""One reading of ``X``: the rating table every part of skembrec looks at.

``X`` arrives as a DataFrame (pandas, or any eager DataFrame narwhals reads:
polars, a pyarrow Table, ...), a NumPy array or a list of rows; column 0
holds user ids, column 1 item ids, and any further column side information
(a time column, user or item attributes). :class:`RatingTable` wraps it once
per call, without copying it, and hands out its columns: the id columns as
validated 1-D arrays (read once and cached), any other column by name or
position, contiguous codes of an id column, and a time column as numbers.
The estimators (vocabularies, time features), the splitters, the shard
writer and the plotting helpers all read ``X`` through it.

A DataFrame of another library than pandas keeps its column names and
dtypes: each column is read through narwhals into NumPy (no copy for a
numeric column without nulls) and handed out as a pandas Series, so every
reader sees the same kinds as with pandas (a polars ``Datetime`` with a time
zone becomes a tz-aware Series, a ``String`` column an object one).

Nothing here imports TensorFlow.
"""

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp

ID_COLUMNS = {"user": 0, "item": 1}


class RatingTable:
    """Column access to a table of ratings, without copying it.

    Parameters
    ----------
    X : DataFrame, ndarray or sequence of rows
        The ratings, one row each. A pandas DataFrame, an eager DataFrame of
        another library narwhals reads (polars, a pyarrow Table, ...), a NumPy
        array or rows given as a list, which keep every value as given (an
        object array): ``np.asarray`` would turn ``[[1, "a"]]`` into strings.

    Attributes
    ----------
    data : DataFrame, ndarray
        ``X`` as given (a list of rows: its object array); what the feature
        name checks read.

    Raises
    ------
    TypeError
        When ``X`` is a sparse matrix or a lazy frame.
    ValueError
        When ``X`` is not 2-D, holds complex numbers or names a column twice.
    """

    def __init__(self, X):
        if sp.issparse(X):
            raise TypeError(
                "A sparse X was passed, but skembrec needs dense (user, item, ...) "
                "rows of ids: pass a NumPy array or a pandas DataFrame."
            )
        if isinstance(X, RatingTable):
            X = X.data
        self._frame = None  # the narwhals view of a non-pandas DataFrame
        if not isinstance(X, pd.DataFrame | np.ndarray):
            self._frame = _other_frame(X)
            if self._frame is None:
                X = np.asarray(X, dtype=object)
        if self._frame is not None:
            _check_unique_names(pd.Index(self._frame.columns))
        elif X.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead: X must hold "
                "one (user, item, ...) row per rating. Reshape your data, e.g. "
                "np.column_stack([users, items])."
            )
        if isinstance(X, np.ndarray) and np.iscomplexobj(X):
            raise ValueError("Complex data not supported")
        if isinstance(X, pd.DataFrame):
            _check_unique_names(X.columns)
        self.data = X
        self.n_rows, self.n_columns = (X if self._frame is None else self._frame).shape
        self._columns = {}  # column position -> Series of a non-pandas frame, read once
        self._codes = {}  # column position -> (codes, n_ids), reused across folds
        self._ids = {}  # "user"/"item" -> validated id array

    @property
    def shape(self):
        """``(n_rows, n_columns)``."""
        return self.n_rows, self.n_columns

    def position(self, ref, name):
        """The integer position of the column named by parameter ``name``.

        Parameters
        ----------
        ref : int or str
            A position (negative counts from the end) or a DataFrame column name.
        name : str
            The parameter that gave ``ref``, for the error message.

        Returns
        -------
        position : int
        """
        if isinstance(ref, numbers.Integral) and not isinstance(ref, bool):
            if not -self.n_columns <= ref < self.n_columns:
                raise ValueError(
                    f"{name}={ref} is out of range: X has {self.n_columns} columns"
                )
            return int(ref) % self.n_columns
        if self._frame is not None:
            columns = self._frame.columns
        elif isinstance(self.data, pd.DataFrame):
            columns = self.data.columns
        else:
            raise ValueError(
                f"{name}={ref!r} names a column, but X "
                f"({type(self.data).__name__}) has no column names; "
                f"pass the column's integer position instead (e.g. {name}=2)"
            )
        if ref not in columns:
            raise ValueError(
                f"{name}={ref!r} is not a column of X; X has columns {list(columns)}"
            )
        if self._frame is not None:
            return columns.index(ref)  # names are unique (checked on reading X)
        position = columns.get_loc(ref)
        if not isinstance(position, numbers.Integral):
            raise ValueError(f"{name}={ref!r} names several columns of X")
        return int(position)

    def column(self, ref, name):
        """One column, as a Series (DataFrame X) or a 1-D array."""
        position = self.position(ref, name)
        if isinstance(self.data, pd.DataFrame):
            return self.data.iloc[:, position]
        if self._frame is not None:
            if position not in self._columns:
                self._columns[position] = _pandas_series(
                    self._frame.get_column(self._frame.columns[position]))
            return self._columns[position]
        return self.data[:, position]

    def ids(self, side, *, fitting):
        """The ``"user"`` or ``"item"`` id column as a 1-D array, read once.

        Object columns of numbers become numeric arrays (ids given as Python
        ints stay equal to the same ints in a NumPy array). With ``fitting``,
        NaN and inf ids are refused, naming the first row.
        """
        key = (side, fitting)
        if key not in self._ids:
            position = ID_COLUMNS[side]
            values = _id_values(self.column(position, f"{side} id column"))
            if fitting and values.dtype.kind == "f":
                bad = ~np.isfinite(values)
                if bad.any():
                    row = int(np.flatnonzero(bad)[0])
                    what = "NaN" if np.isnan(values[row]) else "inf"
                    raise ValueError(
                        f"{side} ids (column {position} of X) contain {what} at "
                        f"row {row}; every rating needs a valid id to be fitted"
                    )
            self._ids[key] = values
        return self._ids[key]

    def codes(self, ref, name):
        """Contiguous codes 0..n-1 of the ids in a column, and n."""
        position = self.position(ref, name)
        if position not in self._codes:
            # Hash-based, O(n): ids of any hashable kind (huge ints, strings,
            # floats such as 196.0) become codes without sorting them.
            codes, uniques = pd.factorize(self.column(position, name))
            if codes.min() < 0:
                raise ValueError(
                    f"the column given by {name}={ref!r} holds missing ids (NaN/None)"
                )
            self._codes[position] = codes, len(uniques)
        return self._codes[position]

    def times(self, ref, name):
        """The time column as an int64 or float64 array, and its time zone.

        Datetimes (naive, tz-aware, or datetime objects) become int64
        nanoseconds since the epoch (UTC for tz-aware values); numbers stay
        numbers. The second value is None for numbers, "naive" for naive
        datetimes, else the column's time zone. Timedeltas become int64
        nanoseconds with zone None.
        """
        values = self.column(ref, name)
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        label = f"the time column ({name}={ref!r})"
        series = _from_arrow(series)
        if series.dtype == object:
            series = series.infer_objects()
            if series.dtype == object:
                series = _objects_to_datetime(series)
        dtype = series.dtype
        if series.isna().any():
            raise ValueError(f"{label} holds missing times (NaN/NaT/None)")
        zone = None
        if isinstance(dtype, pd.DatetimeTZDtype):
            zone = dtype.tz
            series = series.dt.tz_convert(None)  # the same instants, in UTC
            dtype = series.dtype
        if pd.api.types.is_datetime64_dtype(dtype):
            array = np.asarray(series).astype("M8[ns]").view(np.int64)
            return array, zone if zone is not None else "naive"
        if pd.api.types.is_timedelta64_dtype(dtype):
            return np.asarray(series).astype("m8[ns]").view(np.int64), None
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(
            dtype
        ):
            raise ValueError(
                f"{label} must hold numbers (e.g. epoch seconds) or datetimes, "
                f"got dtype {dtype}; parse date strings first with pd.to_datetime"
            )
        array = series.to_numpy()
        if array.dtype.kind not in "iuf":
            array = array.astype(np.float64)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{label} holds infinite times")
        return array, None

    def is_timedelta(self, ref, name):
        """Whether a column holds timedeltas."""
        column = self.column(ref, name)
        if isinstance(column, pd.Series):
            column = _from_arrow(column)
        dtype = getattr(column, "dtype", None)
        return dtype is not None and pd.api.types.is_timedelta64_dtype(dtype)


def _other_frame(X):
    """A narwhals view of an eager DataFrame of a library other than pandas
    (polars, a pyarrow Table, ...), or None when ``X`` is none."""
    if isinstance(X, list | tuple):  # rows, the common case: no import needed
        return None
    import narwhals.stable.v2 as nw

    try:
        frame = nw.from_native(X, pass_through=True)
    except nw.exceptions.DuplicateError:  # a pyarrow Table may repeat a name
        _check_unique_names(pd.Index(getattr(X, "column_names", None) or list(X.columns)))
        raise
    if isinstance(frame, nw.LazyFrame):
        raise TypeError(
            f"X is a lazy frame ({type(X).__module__}.{type(X).__name__}); skembrec "
            "reads every rating, so collect it first (e.g. X.collect())"
        )
    return frame if isinstance(frame, nw.DataFrame) else None


def values_of(data):
    """A Series or DataFrame of a library other than pandas (polars, pyarrow)
    as a NumPy array; anything else unchanged (``y``, ``sample_weight``)."""
    if isinstance(data, np.ndarray | pd.Series | pd.DataFrame | list | tuple):
        return data
    import narwhals.stable.v2 as nw

    native = nw.from_native(data, pass_through=True, eager_only=True, allow_series=True)
    return native.to_numpy() if isinstance(native, nw.Series | nw.DataFrame) else data


def _check_unique_names(names):
    if names.has_duplicates:
        twice = sorted({str(c) for c in names[names.duplicated()]})
        raise ValueError(f"X has duplicate column names {twice}: a column is named "
                         "by its name, so each name must be unique")


def _pandas_series(series):
    """A narwhals Series as a pandas Series of the kind pandas would read.

    ``to_numpy`` shares the memory of a numeric column without nulls (a
    read-only view); nulls become NaN (numbers), NaT (datetimes) or None.
    A time zone, which NumPy's datetimes cannot hold, is put back.
    """
    import narwhals.stable.v2 as nw

    values = pd.Series(series.to_numpy(), copy=False, name=series.name)
    dtype = series.dtype
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        # NumPy gives the instants in UTC
        values = values.dt.tz_localize("UTC").dt.tz_convert(dtype.time_zone)
    return values


def _id_values(column):
    """A column of raw ids as a plain 1-D NumPy array."""
    if isinstance(column, pd.Series):
        values = (column.to_numpy() if isinstance(column.dtype, np.dtype)
                  else column.to_numpy(dtype=object))
    else:
        values = np.asarray(column)
    if values.dtype == object:
        # rows of Python ints/floats given as objects: use a numeric dtype
        inferred = pd.Series(values, copy=False).infer_objects()
        if isinstance(inferred.dtype, np.dtype) and inferred.dtype.kind in "iuf":
            values = inferred.to_numpy()
    if values.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    return values


def _from_arrow(series):
    """Arrow timestamps, dates and durations as their NumPy-backed pandas kinds."""
    dtype = series.dtype
    if not isinstance(dtype, pd.ArrowDtype):
        return series
    import pyarrow as pa  # present: an ArrowDtype exists

    kind = dtype.pyarrow_dtype
    if pa.types.is_timestamp(kind):
        return series.astype(f"datetime64[ns, {kind.tz}]" if kind.tz else "datetime64[ns]")
    if pa.types.is_date(kind):
        return series.astype("datetime64[ns]")  # midnight of each date
    if pa.types.is_duration(kind):
        return series.astype("timedelta64[ns]")
    return series


def _objects_to_datetime(series):
    """Datetime objects of mixed time zones (or none) to a datetime series."""
    try:
        return pd.to_datetime(series, utc=True)
    except (TypeError, ValueError):
        return series  # not datetimes either; the caller reports the dtype
