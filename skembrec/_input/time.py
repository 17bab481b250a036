"""Time as information: the features a time-aware model reads for each rating.

With ``time_column`` set, every model gets two numbers per rating, computed
here once per fit or predict call (vectorised, never per batch):

``drift``
    Koren's deviation of the rating date from the user's mean rating date,
    :math:`\\mathrm{dev}_u(t) = \\mathrm{sign}(t - \\bar t_u)\\,|t - \\bar t_u|^{0.4}`
    with dates in days (timeSVD, "Collaborative Filtering with Temporal
    Dynamics", KDD 2009), divided by its standard deviation in the first
    fit. A date after the user's last rating in fit counts as that last
    rating's date (before the first, as the first), so the drift is not
    extrapolated; it is 0 for a user unseen in fit.
``position``
    Where the date falls in the time range of the first fit, from 0 (its
    first day) to 1 (its last); later dates stay at 1.

:class:`~skembrec.FunkMF` turns them into a user drift term
:math:`\\alpha_u \\mathrm{dev}_u(t)` and an item bias per time bin,
:math:`b_{i,\\mathrm{Bin}(t)}`; the dense models feed them to their dense
layers beside the embeddings.
"""

import numpy as np

SECONDS_PER_DAY = 86_400.0
_DRIFT_EXPONENT = 0.4


def times_in_days(table, time_column):
    """The time column of a :class:`~skembrec._input.ratings.RatingTable` as float64
    days since the Unix epoch.

    Numbers are read as epoch seconds (the MovieLens and Netflix
    convention); datetimes (naive, tz-aware, or objects) as instants.
    """
    position = table.position(time_column, "time_column")
    if position < 2:
        raise ValueError(
            f"time_column={time_column!r} names column {position}, which holds "
            f"{('user', 'item')[position]} ids; the time is a column after them")
    values, zone = table.times(time_column, "time_column")
    if zone is not None or table.is_timedelta(position, "time_column"):
        # datetimes and timedeltas arrive as int64 nanoseconds
        return values.astype(np.float64) / (1e9 * SECONDS_PER_DAY)
    return values.astype(np.float64) / SECONDS_PER_DAY


def time_bins(position, n_bins, *, unseen=False, ops=None):
    """The time bin of each ``position`` (the time features' second column,
    0 to 1 over the first fit's range): the float32 product with ``n_bins``,
    truncated, the fit's last instant in the last bin; with ``unseen``, bin
    ``n_bins`` for a date at or after that instant (BayesianMF's date group,
    whose row ``n_bins`` holds the group's prior mean).

    The one rule of the graphs and of the NumPy code that must agree with
    them: ``ops`` is ``keras.ops`` for a graph's tensor (nothing here
    imports Keras), None for arrays (int32 codes).
    """
    if ops is None:
        position = np.asarray(position, dtype=np.float32)
        bins = np.minimum((position * np.float32(n_bins)).astype(np.int32), n_bins - 1)
        return np.where(position >= 1, n_bins, bins).astype(np.int32) if unseen else bins
    bins = ops.minimum(ops.cast(position * n_bins, "int32"), n_bins - 1)
    return ops.where(position >= 1, n_bins, bins) if unseen else bins


class TimeFeatures:
    """Per-user date statistics and the scales of the first fit.

    Plain NumPy state: it pickles with the estimator and is saved by
    the estimator's ``save``. Dates are days since ``origin``.
    """

    def __init__(self, origin, span, drift_scale, user_sum, user_count, user_first,
                 user_last):
        self.origin = float(origin)
        self.span = float(span)
        self.drift_scale = float(drift_scale)
        self.user_sum = np.asarray(user_sum, dtype=np.float64)
        self.user_count = np.asarray(user_count, dtype=np.float64)
        self.user_first = np.asarray(user_first, dtype=np.float64)
        self.user_last = np.asarray(user_last, dtype=np.float64)

    @classmethod
    def fit(cls, days, users, n_users):
        origin = float(days.min())
        span = max(float(days.max()) - origin, 1.0)
        out = cls(origin, span, 1.0, *cls._empty(n_users))
        out.add(days, users, n_users)
        drift = out._drift(days, users)
        scale = float(np.std(drift))
        out.drift_scale = scale if scale > 0 else 1.0
        return out

    @staticmethod
    def _empty(n):
        return np.zeros(n), np.zeros(n), np.full(n, np.inf), np.full(n, -np.inf)

    def arrays(self):
        """The per-user arrays, by name (what persistence stores)."""
        return {"user_sum": self.user_sum, "user_count": self.user_count,
                "user_first": self.user_first, "user_last": self.user_last}

    def add(self, days, users, n_users):
        """Count the dates of more ratings (warm start may add users)."""
        grow = n_users - len(self.user_sum)
        if grow > 0:
            for name, fill in zip(self.arrays(), self._empty(grow)):
                setattr(self, name, np.concatenate([getattr(self, name), fill]))
        known = users < n_users
        users, days = users[known], days[known] - self.origin
        self.user_sum += np.bincount(users, weights=days, minlength=n_users)
        self.user_count += np.bincount(users, minlength=n_users)
        np.minimum.at(self.user_first, users, days)
        np.maximum.at(self.user_last, users, days)

    def _drift(self, days, users):
        known = users < len(self.user_count)
        index = np.where(known, users, 0)
        count = self.user_count[index]
        rated = known & (count > 0)
        mean = np.divide(self.user_sum[index], count, out=np.zeros(len(users)), where=rated)
        # a date outside the user's rated period counts as its nearest end:
        # the drift is not extrapolated (the probe ratings lie after it)
        day = np.where(rated, np.clip(days - self.origin, self.user_first[index],
                                      self.user_last[index]), 0.0)
        delta = np.where(rated, day - mean, 0.0)
        return np.sign(delta) * np.abs(delta) ** _DRIFT_EXPONENT

    def transform(self, days, users):
        """``(n, 2)`` float32 features: scaled drift and position in time."""
        drift = self._drift(days, users) / self.drift_scale
        position = np.clip((days - self.origin) / self.span, 0.0, 1.0)
        return np.column_stack([drift, position]).astype(np.float32)

    def transform_tensor(self, tf_, days, users, stats):
        """:meth:`transform` in TensorFlow (``tf_`` is the module: nothing here
        imports it), for a served model: ``days`` float64, ``users`` int
        indices, ``stats`` the :meth:`arrays` as tensors (variables of the
        SavedModel)."""
        t = tf_
        known = users < len(self.user_count)
        index = t.where(known, users, 0)
        stat = {name: t.gather(v, index) for name, v in stats.items()}
        rated = known & (stat["user_count"] > 0)
        mean = t.where(rated, t.math.divide_no_nan(stat["user_sum"], stat["user_count"]),
                       0.0)
        day = t.where(rated, t.minimum(t.maximum(days - self.origin, stat["user_first"]),
                                       stat["user_last"]), 0.0)
        delta = t.where(rated, day - mean, 0.0)
        drift = t.sign(delta) * t.pow(t.abs(delta), _DRIFT_EXPONENT) / self.drift_scale
        position = t.clip_by_value((days - self.origin) / self.span, 0.0, 1.0)
        return t.cast(t.stack([drift, position], axis=1), t.float32)

    def last_day(self):
        """The last day of the first fit's range, in days since the epoch."""
        return self.origin + self.span
