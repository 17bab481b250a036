"""Cross-validation splitters for rating data.

Five ways to hold out ratings, all scikit-learn CV splitters that yield
integer row indices and follow the package's input convention (column 0 the
user id, column 1 the item id, any other column side information such as a
time column):

- :class:`TemporalProbeSplit`: each user's most recent ratings are the test
  set (the Netflix Prize probe protocol).
- :class:`UserHoldoutSplit`: each user's test ratings are drawn at random.
- :class:`TimeCutoffSplit`: every rating after a global time cut-off is test.
- :class:`ItemHoldoutSplit`: every rating of random items is test (cold items).
- :class:`ColdUserSplit`: every rating of random users is test (cold users),
  optionally with each one's first ratings set aside to fold them in.

Nothing here imports TensorFlow: splitting stays fast and light. Everything
is vectorised (one sort per split, no Python loop over users), so the full
Netflix Prize data (100M ratings) splits in seconds.
"""

import datetime
import numbers
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state, indexable

from .._input.ratings import RatingTable

__all__ = [
    "ColdUserSplit",
    "ItemHoldoutSplit",
    "TemporalProbeSplit",
    "TimeCutoffSplit",
    "UserHoldoutSplit",
]

# Relative slack for ceil(fraction * n): 0.1 * 30 is 3.0000000000000004 in
# floating point and must give 3 test ratings, not 4.
_CEIL_SLACK = 1e-12


# --------------------------------------------------------------------------
# Parameter checks (run in split(), never in __init__, as in scikit-learn)
# --------------------------------------------------------------------------


def _is_bool(value):
    return isinstance(value, bool | np.bool_)


def _check_int(value, name, minimum):
    if _is_bool(value) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an int, got {value!r} ({type(value).__name__})"
        )
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_bool(value, name):
    if not _is_bool(value):
        raise TypeError(
            f"{name} must be a bool, got {value!r} ({type(value).__name__})"
        )
    return bool(value)


def _check_size(value, name, of="each user's ratings"):
    """An int >= 1 (a count) or a float strictly inside (0, 1) (a fraction)."""
    if _is_bool(value):
        raise TypeError(f"{name} must be an int or a float, got {value!r}")
    if isinstance(value, numbers.Integral):
        return _check_int(value, name, 1)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not 0.0 < value < 1.0:  # also rejects NaN
            raise ValueError(
                f"{name}={value!r}: a float is a fraction of {of} "
                "and must lie strictly between 0 and 1 (use an int for a count)"
            )
        return value
    raise TypeError(
        f"{name} must be an int >= 1 or a float in (0, 1), "
        f"got {value!r} ({type(value).__name__})"
    )


def _check_fold_in(value, name):
    """0, an int >= 1 (a count) or a float strictly inside (0, 1) (a fraction)."""
    if not _is_bool(value) and isinstance(value, numbers.Integral) and value == 0:
        return 0
    return _check_size(value, name)


def _check_column_ref(value, name):
    if _is_bool(value) or not isinstance(value, numbers.Integral | str):
        raise TypeError(
            f"{name} must be an int (column position) or a str (DataFrame column "
            f"name), got {value!r} ({type(value).__name__})"
        )
    return value


def _ceil_fraction(fraction, n):
    """``ceil(fraction * n)`` as int64, robust to floating-point noise."""
    return np.ceil(fraction * np.asarray(n) * (1.0 - _CEIL_SLACK)).astype(np.int64)


def _block_sizes(size, counts):
    """Test ratings per user: ``size`` itself, or ``ceil(size * n_u)``."""
    if isinstance(size, int):
        return np.full(counts.shape, size, dtype=np.int64)
    return _ceil_fraction(size, counts)


# --------------------------------------------------------------------------
# Reading columns of X
# --------------------------------------------------------------------------


def _split_table(X):
    """The rating table of ``X``, checked for what a split needs."""
    if sp.issparse(X):
        raise TypeError(
            "X is a sparse matrix; the splitters need a dense table of ratings "
            "(user, item, ...), e.g. a DataFrame or a 2-D array"
        )
    try:
        table = RatingTable(X)
    except ValueError:
        shape = np.shape(X)
        raise ValueError(
            f"X must be 2-D (one row per rating: user, item, ...), "
            f"got an array of shape {shape}"
        ) from None
    if table.n_rows == 0:
        raise ValueError("X is empty: there are no ratings to split")
    if table.n_columns < 2:
        raise ValueError(
            f"X must have at least 2 columns (user id, item id), got {table.n_columns}"
        )
    return table


def _check_distinct_columns(splitter, table):
    """The user, item and time columns a splitter reads are three columns."""
    names = [
        n
        for n in ("user_column", "item_column", "time_column")
        if getattr(splitter, n, None) is not None  # an optional time column
    ]
    positions = {n: table.position(getattr(splitter, n), n) for n in names}
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if positions[first] == positions[second]:
                raise ValueError(
                    f"{first}={getattr(splitter, first)!r} and "
                    f"{second}={getattr(splitter, second)!r} name the same column "
                    f"({positions[first]}) of X")


# --------------------------------------------------------------------------
# Vectorised per-user ordering
# --------------------------------------------------------------------------


def _user_major_order(codes, n_users, key):
    """Row indices sorted by user code, then ``key``, then row position.

    One stable argsort on a packed int64 ``code * span + key`` when it fits
    (about twice as fast as ``np.lexsort`` on two keys), else lexsort.
    Stability is what breaks ties by row position.
    """
    if key.dtype.kind == "f" and np.array_equal(key, np.trunc(key)):
        if -(2.0**62) < key.min() and key.max() < 2.0**62:
            key = key.astype(np.int64)  # e.g. epoch seconds after a ColumnTransformer
    if key.dtype.kind in "iu":
        low, high = key.min(), key.max()
        span = int(high) - int(low)
        if span < 2**63:
            shifted = (key - low).astype(np.int64, copy=False)
            # Datetimes in ns usually move in whole seconds: dividing by the
            # gcd of the offsets keeps the packed key inside int64.
            step = int(np.gcd.reduce(shifted)) if span else 1
            n_steps = span // step + 1
            if n_users * n_steps < 2**63:
                if step > 1:
                    shifted = shifted // step
                packed = codes.astype(np.int64, copy=False) * n_steps + shifted
                return np.argsort(packed, kind="stable")
    return np.lexsort((key, codes))


def _positions_in_user(codes, order, counts):
    """For each row, its 0-based position in its user's rows taken in ``order``."""
    starts = np.cumsum(counts) - counts
    positions = np.empty(codes.shape[0], dtype=np.int64)
    positions[order] = np.arange(codes.shape[0]) - starts[codes[order]]
    return positions


def _only_known(table, ref, name, train, test):
    """Keep the test rows whose id (in column ``ref``) occurs in ``train``."""
    codes, n_ids = table.codes(ref, name)
    known = np.zeros(n_ids, dtype=bool)
    known[codes[train]] = True
    return test[known[codes[test]]]


def _window_bounds(later, n_windows):
    """Upper time bounds of ``n_windows`` consecutive windows over ``later``.

    Each bound is a distinct time of ``later``: the ``j / n_windows``
    quantile (inverted CDF), moved just enough along the distinct times that
    every window keeps at least one of them.
    """
    if n_windows == 1:
        return [later.max()]
    distinct, counts = np.unique(later, return_counts=True)
    m = distinct.size
    if m < n_windows:
        raise ValueError(
            f"n_splits={n_windows} is more than the data supports: the ratings "
            f"after the cut-off have {m} distinct time(s), one per window at least"
        )
    cumulative = np.cumsum(counts)
    bounds, previous = [], -1
    for j in range(1, n_windows):
        target = int(_ceil_fraction(j / n_windows, later.size))
        index = int(np.searchsorted(cumulative, target))
        index = min(max(index, previous + 1), m - n_windows + j - 1)
        bounds.append(distinct[index])
        previous = index
    return [*bounds, distinct[-1]]


# --------------------------------------------------------------------------
# Splitters
# --------------------------------------------------------------------------


class _RatingSplitter(BaseCrossValidator):
    """Shared plumbing: input handling, eager checks, lazy folds.

    ``split`` is not a generator function: it checks the parameters and X and
    does the one expensive sort when called, so that mistakes raise at the
    call, then it returns an iterator over the folds (each computed when it
    is reached, so that 100M-row folds are not all held at once).
    """

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            The number of (train, test) pairs that :meth:`split` yields.
        """
        return _check_int(self.n_splits, "n_splits", 1)

    # what the warning about a passed ``groups`` says instead
    _groups_from = "users are read from the user column of X"

    def split(self, X, y=None, groups=None):
        """Generate integer indices to split the ratings into train and test.

        Parameters
        ----------
        X : array-like of shape (n_ratings, n_columns)
            The ratings: a DataFrame, a 2-D array (object dtype too) or a list
            of rows; column 0 the user id, column 1 the item id, further
            columns side information (such as the time column).
        y : array-like of shape (n_ratings,), default=None
            The ratings' values. Only its length is checked.
        groups : object, default=None
            Ignored: the users are read from X. Passing it warns.

        Returns
        -------
        splits : iterator of (train, test) tuples
            ``train`` and ``test`` are sorted int arrays of row positions in
            X, disjoint; rows in neither are documented in the Notes of the
            class.
        """
        table, params = self._prepare(X, y, groups)
        return self._iter_splits(table, params)

    def _prepare(self, X, y, groups):
        """The eager part of a split: checked parameters and the table of X."""
        X, y, groups = indexable(X, y, groups)
        if groups is not None:
            warnings.warn(
                f"The groups parameter is ignored by {type(self).__name__}: "
                f"{self._groups_from}.",
                UserWarning,
                stacklevel=3,
            )
        params = self._check_params()
        table = _split_table(X)
        _check_distinct_columns(self, table)
        return table, params

    def _check_params(self):
        """Validate the parameters; return them checked, as a namespace."""
        raise NotImplementedError

    def _iter_splits(self, table, p):
        """Do the shared work and checks now; return an iterator of folds."""
        raise NotImplementedError


class TemporalProbeSplit(_RatingSplitter):
    """Hold out each user's most recent ratings: the Netflix Prize probe protocol.

    For every user with enough history, the ``n_probe`` most recent ratings
    (by the time column) are the test set and all older ones the training
    set. A random split lets a model learn a user's taste from ratings made
    after the ones it is judged on; this split forecasts, as a deployed
    recommender must.

    Parameters
    ----------
    n_probe : int or float, default=1
        Test ratings per user. An int >= 1 is a count. A float in (0, 1) is a
        fraction of each user's ratings, ``ceil(n_probe * n_u)`` for a user
        with ``n_u`` ratings (rounded up, like ``test_size`` in
        :func:`~sklearn.model_selection.train_test_split`, so every tested
        user has at least one test rating).
    time_column : str or int, default="timestamp"
        The time column: a column name (DataFrame only) or an integer position
        (any X; e.g. 2 for the loaders' ``user, item, timestamp``). It may hold
        numbers (epoch seconds) or datetimes (datetime64, tz-aware too).
    n_splits : int, default=1
        Number of folds. 1 is the probe protocol itself; more give a rolling
        origin (see Notes). Folds come oldest origin first, like
        :class:`~sklearn.model_selection.TimeSeriesSplit`.
    min_train_ratings : int, default=1
        Training ratings a user must keep to be tested. Users with fewer than
        ``block + min_train_ratings`` ratings (block: their number of test
        ratings) are not tested; all their ratings train. 0 allows users whose
        every rating is test.
    require_known_items : bool, default=False
        Drop from each test set the ratings of items that have no rating in
        that fold's training set (they go to neither set; training sets do
        not change). Off by default: the protocol then holds out exactly the
        promised count per tested user (9,430 ratings for MovieLens-100K with
        ``n_probe=10``), and new items are part of what a deployed model
        faces, which the estimators answer with their documented cold-start
        fallback. Turn it on to mimic the Netflix probe set, whose movies all
        occur in training.
    user_column : str or int, default=0
        The user id column.
    item_column : str or int, default=1
        The item id column (read only when ``require_known_items=True``).

    See Also
    --------
    UserHoldoutSplit : Each user's test ratings drawn at random.
    TimeCutoffSplit : A global time cut-off instead of one per user.

    Notes
    -----
    The exact protocol, for fold ``i`` in ``0 .. n_splits - 1``:

    1. Each user's ratings are ordered by time. Ratings with equal times keep
       their order in X: of two tied rows, the later one counts as the more
       recent, as in a log written in time order. Rank 0 is the most recent.
    2. The user's block size ``b`` is ``n_probe``, or ``ceil(n_probe * n_u)``
       from all ``n_u`` of the user's ratings for a fraction.
    3. The user's ``d = (n_splits - 1 - i) * b`` most recent ratings are set
       aside: they are in neither set of this fold.
    4. If the user has at least ``d + b + min_train_ratings`` ratings, ranks
       ``d .. d + b - 1`` are test and ranks ``>= d + b`` train. Otherwise
       ranks ``>= d`` all train.
    5. With ``require_known_items``, test ratings of items absent from the
       fold's training set are dropped.

    So fold ``i`` is the one-fold probe split of the data with each user's
    ``(n_splits - 1 - i) * b`` latest ratings removed, and the last fold is
    the plain probe split. Within a user, every test rating is at least as
    recent as every training rating. Other users' ratings are not cut by
    time: the origin is per user, as in the Netflix Prize. A fold in which no
    user is tested raises a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skembrec.model_selection import TemporalProbeSplit
    >>> X = np.array([[1, 10, 100], [1, 11, 300], [1, 12, 200],
    ...               [2, 10, 100], [2, 12, 150]])
    >>> cv = TemporalProbeSplit(n_probe=1, time_column=2)
    >>> for train, test in cv.split(X):
    ...     print(train, test)
    [0 2 3] [1 4]
    """

    def __init__(
        self,
        n_probe=1,
        *,
        time_column="timestamp",
        n_splits=1,
        min_train_ratings=1,
        require_known_items=False,
        user_column=0,
        item_column=1,
    ):
        self.n_probe = n_probe
        self.time_column = time_column
        self.n_splits = n_splits
        self.min_train_ratings = min_train_ratings
        self.require_known_items = require_known_items
        self.user_column = user_column
        self.item_column = item_column

    def _check_params(self):
        size = _check_size(self.n_probe, "n_probe")
        n_splits = _check_int(self.n_splits, "n_splits", 1)
        min_train = _check_int(self.min_train_ratings, "min_train_ratings", 0)
        known_items = _check_bool(self.require_known_items, "require_known_items")
        for name in ("time_column", "user_column", "item_column"):
            _check_column_ref(getattr(self, name), name)
        return SimpleNamespace(
            size=size, n_splits=n_splits, min_train=min_train, known_items=known_items
        )

    def _iter_splits(self, table, p):
        codes, n_users = table.codes(self.user_column, "user_column")
        times, _ = table.times(self.time_column, "time_column")
        counts = np.bincount(codes, minlength=n_users)
        order = _user_major_order(codes, n_users, times)
        # Rank from the end: 0 is the user's most recent rating.
        rank = (counts[codes] - 1) - _positions_in_user(codes, order, counts)
        del order
        block = _block_sizes(p.size, counts)

        bounds = []  # per fold and per user: test ranks are [low, high)
        for i in range(p.n_splits):
            low = (p.n_splits - 1 - i) * block
            tested = counts - low >= block + p.min_train
            if not tested.any():
                raise ValueError(self._too_few_message(p, i, counts))
            bounds.append((low, np.where(tested, low + block, low)))
        return self._folds(table, p, codes, rank, bounds)

    def _too_few_message(self, p, fold, counts):
        what = f"n_probe={self.n_probe!r}"
        if p.n_splits > 1:
            what = f"n_splits={p.n_splits} with {what}"
        need = ""
        if isinstance(p.size, int):
            needed = (p.n_splits - fold) * p.size + p.min_train
            need = f" (it needs a user with at least {needed} ratings)"
        return (
            f"{what} and min_train_ratings={p.min_train} test no user in fold "
            f"{fold}{need}, and the most active user has {int(counts.max())} "
            "ratings; lower n_probe, n_splits or min_train_ratings"
        )

    def _folds(self, table, p, codes, rank, bounds):
        for fold, (low, high) in enumerate(bounds):
            low, high = low[codes], high[codes]
            train = np.flatnonzero(rank >= high)
            test = np.flatnonzero((rank >= low) & (rank < high))
            if p.known_items:
                test = _only_known(table, self.item_column, "item_column", train, test)
                if test.size == 0:
                    raise ValueError(
                        f"fold {fold} has no test rating left after "
                        "require_known_items=True dropped those of items unseen "
                        "in training"
                    )
            yield train, test


class UserHoldoutSplit(_RatingSplitter):
    """Hold out random ratings of each user (per-user random holdout).

    For every user with enough history, ``n_test`` of their ratings drawn at
    random are the test set; every other rating trains. Unlike
    :class:`~sklearn.model_selection.ShuffleSplit` on rows, every user with
    enough history is in both sets, as the "all but n" protocols ask.
    It ignores time: use :class:`TemporalProbeSplit` to measure forecasting.

    Parameters
    ----------
    n_test : int or float, default=1
        Test ratings per user: an int >= 1, or a float in (0, 1) meaning
        ``ceil(n_test * n_u)`` for a user with ``n_u`` ratings (rounded up,
        like ``test_size`` in :func:`~sklearn.model_selection.train_test_split`).
    n_splits : int, default=1
        Number of folds, each an independent draw (see Notes).
    min_train_ratings : int, default=1
        Training ratings a user must keep to be tested; users with fewer than
        ``block + min_train_ratings`` ratings are not tested and all their
        ratings train.
    require_known_items : bool, default=False
        Drop from each test set the ratings of items with no rating in that
        fold's training set (they go to neither set; training sets do not
        change). Off by default so that each tested user has exactly the
        promised count; the estimators have a cold-start fallback.
    random_state : int, RandomState instance or None, default=None
        Controls the draws. An int gives the same folds at every call of
        :meth:`split`.
    user_column : str or int, default=0
        The user id column.
    item_column : str or int, default=1
        The item id column (read only when ``require_known_items=True``).

    See Also
    --------
    TemporalProbeSplit : Each user's most recent ratings as the test set.
    TimeCutoffSplit : Every rating after a time cut-off as the test set.

    Notes
    -----
    For each fold, independently of the others: every user with at least
    ``b + min_train_ratings`` ratings, where ``b`` is ``n_test`` or
    ``ceil(n_test * n_u)``, has ``b`` of their ratings drawn uniformly
    without replacement as test; all other rows train. Folds are independent
    draws, like ``ShuffleSplit``, so their test sets may overlap. With
    ``require_known_items``, test ratings of items absent from the fold's
    training set are then dropped. The draw for a given ``random_state``
    depends on the row order of X. A split in which no user is tested raises
    a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skembrec.model_selection import UserHoldoutSplit
    >>> X = np.array([[1, 10], [1, 11], [1, 12], [2, 10], [2, 12], [3, 11]])
    >>> cv = UserHoldoutSplit(n_test=1, random_state=0)
    >>> train, test = next(cv.split(X))
    >>> [int(u) for u in X[test, 0]]  # one per user with 2+ ratings
    [1, 2]
    """

    def __init__(
        self,
        n_test=1,
        *,
        n_splits=1,
        min_train_ratings=1,
        require_known_items=False,
        random_state=None,
        user_column=0,
        item_column=1,
    ):
        self.n_test = n_test
        self.n_splits = n_splits
        self.min_train_ratings = min_train_ratings
        self.require_known_items = require_known_items
        self.random_state = random_state
        self.user_column = user_column
        self.item_column = item_column

    def _check_params(self):
        size = _check_size(self.n_test, "n_test")
        n_splits = _check_int(self.n_splits, "n_splits", 1)
        min_train = _check_int(self.min_train_ratings, "min_train_ratings", 0)
        known_items = _check_bool(self.require_known_items, "require_known_items")
        for name in ("user_column", "item_column"):
            _check_column_ref(getattr(self, name), name)
        rng = check_random_state(self.random_state)
        return SimpleNamespace(
            size=size,
            n_splits=n_splits,
            min_train=min_train,
            known_items=known_items,
            rng=rng,
        )

    def _iter_splits(self, table, p):
        codes, n_users = table.codes(self.user_column, "user_column")
        counts = np.bincount(codes, minlength=n_users)
        block = _block_sizes(p.size, counts)
        tested = counts >= block + p.min_train
        if not tested.any():
            need = ""
            if isinstance(p.size, int):
                need = (
                    f" (it needs a user with at least {p.size + p.min_train} ratings)"
                )
            raise ValueError(
                f"n_test={self.n_test!r} and min_train_ratings={p.min_train} test no "
                f"user{need}, and the most active user has {int(counts.max())} "
                "ratings; lower n_test or min_train_ratings"
            )
        return self._folds(table, p, codes, counts, np.where(tested, block, 0))

    def _folds(self, table, p, codes, counts, n_test_per_user):
        n_rows = codes.shape[0]
        for fold in range(p.n_splits):
            # Sorting a random permutation stably by user gives each user's
            # ratings in uniformly random order; its first rows are the draw.
            permutation = p.rng.permutation(n_rows)
            order = permutation[np.argsort(codes[permutation], kind="stable")]
            position = _positions_in_user(codes, order, counts)
            is_test = position < n_test_per_user[codes]
            train, test = np.flatnonzero(~is_test), np.flatnonzero(is_test)
            if p.known_items:
                test = _only_known(table, self.item_column, "item_column", train, test)
                if test.size == 0:
                    raise ValueError(
                        f"fold {fold} has no test rating left after "
                        "require_known_items=True dropped those of items unseen "
                        "in training"
                    )
            yield train, test


class TimeCutoffSplit(_RatingSplitter):
    """Hold out every rating after a global time cut-off.

    The training set is everything up to the cut-off, the test set everything
    after it: a model trained on a snapshot of the past and judged on what
    came next, for all users at once. New users and items after the cut-off
    are included unless asked otherwise.

    Parameters
    ----------
    cutoff : float, int, str, datetime-like, default=0.9
        A float strictly inside (0, 1) is a quantile of the time column: the
        cut-off is the earliest time ``t`` such that at least that fraction
        of the ratings have time ``<= t``. Any other number is a time in the
        column's units (epoch seconds for a numeric column, read as epoch
        seconds for a datetime column). A str, ``datetime``,
        ``np.datetime64`` or ``pd.Timestamp`` is a date; a naive date is in
        the column's time zone (UTC for numeric epoch seconds), and an aware
        date with a column of naive datetimes raises.
    time_column : str or int, default="timestamp"
        The time column: a column name (DataFrame only) or an integer position.
    n_splits : int, default=1
        Number of folds. With more than 1, the ratings after the cut-off are
        cut into ``n_splits`` consecutive windows of about equal size, tested
        one after the other with expanding training sets (see Notes).
    require_known_users : bool, default=False
        Drop from each test set the ratings of users with no rating in that
        fold's training set (they go to neither set).
    require_known_items : bool, default=False
        The same for items. Both off by default so that the test set is
        exactly "everything after the cut-off"; the estimators have a
        cold-start fallback for the newcomers.
    user_column : str or int, default=0
        The user id column (read only when ``require_known_users=True``).
    item_column : str or int, default=1
        The item id column (read only when ``require_known_items=True``).

    See Also
    --------
    TemporalProbeSplit : A per-user cut-off: each user's latest ratings.
    UserHoldoutSplit : Each user's test ratings drawn at random.

    Notes
    -----
    Let ``c_0`` be the cut-off time and ``L`` the times strictly after it,
    with distinct values ``u_1 < ... < u_m``. For ``n_splits = k``, the
    window bounds are ``c_k = u_m`` and, for ``j = 1 .. k - 1``, ``c_j`` =
    the ``j / k`` quantile of ``L`` (its ``ceil(j * |L| / k)``-th smallest
    value), moved to the next (or previous) distinct time when ties would
    otherwise leave a window empty; ``m < k`` raises. Fold ``j`` (``0`` to
    ``k - 1``) trains on the ratings with time ``<= c_j`` and tests those with
    ``c_j < time <= c_{j+1}``; later ratings are in neither set. Ratings at
    the same time always fall on the same side. With ``require_known_users``
    (``require_known_items``), test ratings whose user (item) has no
    training rating in the fold are then dropped. Empty training or test
    sets (a cut-off outside the data, or more windows than distinct times
    after it) raise a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skembrec.model_selection import TimeCutoffSplit
    >>> X = np.array([[1, 10, 100], [2, 11, 300], [1, 12, 200], [3, 10, 400]])
    >>> cv = TimeCutoffSplit(cutoff=250, time_column=2)
    >>> for train, test in cv.split(X):
    ...     print(train, test)
    [0 2] [1 3]
    """

    def __init__(
        self,
        cutoff=0.9,
        *,
        time_column="timestamp",
        n_splits=1,
        require_known_users=False,
        require_known_items=False,
        user_column=0,
        item_column=1,
    ):
        self.cutoff = cutoff
        self.time_column = time_column
        self.n_splits = n_splits
        self.require_known_users = require_known_users
        self.require_known_items = require_known_items
        self.user_column = user_column
        self.item_column = item_column

    def _check_params(self):
        cutoff = self.cutoff
        if _is_bool(cutoff) or not isinstance(
            cutoff, numbers.Real | str | datetime.date | np.datetime64
        ):
            raise TypeError(
                "cutoff must be a float in (0, 1) (a quantile), a number (a time) "
                f"or a date, got {cutoff!r} ({type(cutoff).__name__})"
            )
        if isinstance(cutoff, numbers.Real) and not np.isfinite(cutoff):
            raise ValueError(f"cutoff must be finite, got {cutoff!r}")
        n_splits = _check_int(self.n_splits, "n_splits", 1)
        known_users = _check_bool(self.require_known_users, "require_known_users")
        known_items = _check_bool(self.require_known_items, "require_known_items")
        for name in ("time_column", "user_column", "item_column"):
            _check_column_ref(getattr(self, name), name)
        return SimpleNamespace(
            n_splits=n_splits, known_users=known_users, known_items=known_items
        )

    def _cutoff_time(self, times, zone):
        """The cut-off in the units of ``times`` (see ``RatingTable.times``)."""
        cutoff = self.cutoff
        is_number = isinstance(cutoff, numbers.Real)
        if is_number and not isinstance(cutoff, numbers.Integral) and 0 < cutoff < 1:
            # The inverted-CDF quantile: an actual time of the data.
            k = int(_ceil_fraction(float(cutoff), times.shape[0])) - 1
            return np.partition(times, k)[k]
        if is_number:
            return cutoff if zone is None else cutoff * 1_000_000_000
        try:
            stamp = pd.Timestamp(cutoff)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cutoff={cutoff!r} is not a date: {exc}") from None
        if stamp.tzinfo is None and zone not in (None, "naive"):
            stamp = stamp.tz_localize(zone)
        elif stamp.tzinfo is not None and zone == "naive":
            raise ValueError(
                f"cutoff={cutoff!r} has a time zone but the time column holds "
                "naive datetimes; give a naive cut-off"
            )
        # Timestamp.value: ns since the epoch (UTC for an aware stamp).
        return stamp.value if zone is not None else stamp.value / 1_000_000_000

    def _iter_splits(self, table, p):
        times, zone = table.times(self.time_column, "time_column")
        first = self._cutoff_time(times, zone)
        later = times[times > first]
        if later.size == 0:
            raise ValueError(
                f"cutoff={self.cutoff!r} leaves no rating after it (the last time "
                "in the data is at or before the cut-off)"
            )
        if later.size == times.size:
            raise ValueError(
                f"cutoff={self.cutoff!r} leaves no rating at or before it (the "
                "first time in the data is after the cut-off)"
            )
        edges = [first, *_window_bounds(later, p.n_splits)]
        return self._folds(table, p, times, edges)

    def _folds(self, table, p, times, edges):
        for fold in range(p.n_splits):
            train = np.flatnonzero(times <= edges[fold])
            test = np.flatnonzero((times > edges[fold]) & (times <= edges[fold + 1]))
            if p.known_users:
                test = _only_known(table, self.user_column, "user_column", train, test)
            if p.known_items:
                test = _only_known(table, self.item_column, "item_column", train, test)
            if test.size == 0:
                raise ValueError(
                    f"fold {fold} has no test rating left after require_known_users/"
                    "require_known_items dropped those of newcomers"
                )
            yield train, test


def _n_held(size, n):
    """How many of ``n`` ids a count or fraction ``size`` holds out."""
    return size if isinstance(size, int) else int(_ceil_fraction(size, n))


class ItemHoldoutSplit(_RatingSplitter):
    """Hold out every rating of random items: the cold-start item protocol.

    In each fold, ``n_test_items`` of the items of X, drawn at random, are
    held out: all their ratings are the test set and every other rating
    trains. A model is then judged on films it has never seen a rating of,
    as when new titles enter a catalogue; only what it knows of them besides
    their ratings (their features, see :ref:`cold_start`) can beat the
    fallback.

    Parameters
    ----------
    n_test_items : int or float, default=0.15
        Items held out per fold: an int >= 1 is a count, a float in (0, 1) a
        fraction of the distinct items of X, ``ceil(n_test_items *
        n_items)`` (rounded up, like ``test_size`` in
        :func:`~sklearn.model_selection.train_test_split`). At least one item
        must be left to train on.
    n_splits : int, default=1
        Number of folds, each an independent draw of items (see Notes).
    random_state : int, RandomState instance or None, default=None
        Controls the draws. An int gives the same folds at every call of
        :meth:`split`.
    item_column : str or int, default=1
        The item id column.

    See Also
    --------
    ColdUserSplit : Every rating of random users as the test set.
    UserHoldoutSplit : Random ratings of every user as the test set.
    sklearn.model_selection.GroupShuffleSplit : The same draw over any groups.

    Notes
    -----
    For each fold, independently of the others: ``m`` distinct items are
    drawn uniformly without replacement from the ``n_items`` items of X, with
    ``m = n_test_items`` or ``ceil(n_test_items * n_items)``; the test set is
    every row of those items, the training set every other row, so the two
    sets partition X and no test item has a training rating. Items are drawn
    with equal chances whatever their number of ratings, so the test set's
    size varies from fold to fold. Folds are independent draws, like
    :class:`~sklearn.model_selection.GroupShuffleSplit` with the items as
    groups, so their test items may overlap. Test ratings keep their users,
    who may be unknown to the training set too when all their ratings are
    of held-out items. The draw for a given ``random_state`` depends on the
    order in which the items first occur in X. ``m >= n_items`` raises a
    ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skembrec.model_selection import ItemHoldoutSplit
    >>> X = np.array([[1, 10], [1, 11], [2, 10], [2, 12], [3, 11], [3, 12]])
    >>> cv = ItemHoldoutSplit(n_test_items=1, random_state=0)
    >>> train, test = next(cv.split(X))
    >>> held = set(X[test, 1].tolist())
    >>> len(held), held.isdisjoint(X[train, 1].tolist())
    (1, True)
    """

    _groups_from = "items are read from the item column of X"

    def __init__(self, n_test_items=0.15, *, n_splits=1, random_state=None, item_column=1):
        self.n_test_items = n_test_items
        self.n_splits = n_splits
        self.random_state = random_state
        self.item_column = item_column

    def _check_params(self):
        size = _check_size(self.n_test_items, "n_test_items", of="the items")
        n_splits = _check_int(self.n_splits, "n_splits", 1)
        _check_column_ref(self.item_column, "item_column")
        rng = check_random_state(self.random_state)
        return SimpleNamespace(size=size, n_splits=n_splits, rng=rng)

    def _iter_splits(self, table, p):
        codes, n_items = table.codes(self.item_column, "item_column")
        n_held = _n_held(p.size, n_items)
        if n_held >= n_items:
            raise ValueError(
                f"n_test_items={self.n_test_items!r} holds out {n_held} of the "
                f"{n_items} items of X, leaving none to train on; lower n_test_items"
            )
        return self._folds(p, codes, n_items, n_held)

    def _folds(self, p, codes, n_items, n_held):
        for _ in range(p.n_splits):
            held = np.zeros(n_items, dtype=bool)
            held[p.rng.choice(n_items, n_held, replace=False)] = True
            is_test = held[codes]
            yield np.flatnonzero(~is_test), np.flatnonzero(is_test)


class ColdUserSplit(_RatingSplitter):
    """Hold out every rating of random users: the cold-start user protocol.

    In each fold, ``n_test_users`` users drawn at random are held out: none
    of their ratings trains. With ``n_fold_in=0`` (the default) all their
    ratings are the test set, and a model is judged on users it has never
    seen, as on sign-up. With ``n_fold_in > 0``, each held-out user's first
    ratings are set aside as a fold-in set (the ratings a new user gives
    before being recommended to) and only the later ones are tested:
    :meth:`split` leaves the fold-in rows out of both sets, and
    :meth:`split_fold_in` yields them as a third array, to fold those users
    into a fitted model (``model.fold_in(X[fold_in], y[fold_in])``) before
    predicting ``X[test]``. Both methods give the same test sets, so the cold
    fallback, the fold-in and a refit on ``train`` plus ``fold_in`` are
    compared on the same ratings.

    Parameters
    ----------
    n_test_users : int or float, default=0.15
        Users held out per fold: an int >= 1 is a count, a float in (0, 1) a
        fraction of the eligible users (see Notes; all users when
        ``n_fold_in=0``), ``ceil(n_test_users * n_eligible)``. At least one
        user must be left to train on.
    n_fold_in : int or float, default=0
        First ratings of each held-out user set aside for fold-in: 0 for
        none, an int >= 1 for a count, a float in (0, 1) for
        ``ceil(n_fold_in * n_u)`` of a user's ``n_u`` ratings (so 0.5 folds
        in the earliest half). Only users with more ratings than that can be
        held out, so that each keeps at least one test rating.
    time_column : str, int or None, default=None
        The column whose order says which ratings come first (numbers or
        datetimes, as for :class:`TemporalProbeSplit`; ties keep their
        order in X). None takes the row order of X. Read only when
        ``n_fold_in > 0``.
    n_splits : int, default=1
        Number of folds, each an independent draw of users (see Notes).
    random_state : int, RandomState instance or None, default=None
        Controls the draws. An int gives the same folds at every call of
        :meth:`split` and :meth:`split_fold_in`.
    user_column : str or int, default=0
        The user id column.

    See Also
    --------
    ItemHoldoutSplit : Every rating of random items as the test set.
    UserHoldoutSplit : Random ratings of every user as the test set.
    sklearn.model_selection.GroupShuffleSplit : The same draw over any groups.

    Notes
    -----
    For each fold, independently of the others:

    1. A user's fold-in size ``k_u`` is ``n_fold_in``, or ``ceil(n_fold_in *
       n_u)`` for a fraction. The eligible users are those with ``n_u >
       k_u`` ratings (every user when ``n_fold_in=0``).
    2. ``m`` users are drawn uniformly without replacement from the
       ``n_eligible`` eligible ones, ``m = n_test_users`` or
       ``ceil(n_test_users * n_eligible)``.
    3. Train: every rating of the other users. Fold-in: the ``k_u`` first
       ratings of each drawn user, in the order of ``time_column`` (ties,
       and every rating when ``time_column=None``, in the row order of X).
       Test: the drawn users' remaining ratings.

    The three sets partition X, and no held-out user has a training rating.
    Folds are independent draws, like
    :class:`~sklearn.model_selection.GroupShuffleSplit` with the users as
    groups, so their test users may overlap. The draw for a given
    ``random_state`` depends on the order in which the users first occur in
    X. No eligible user, more users asked for than are eligible, or no user
    left to train on raise a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from skembrec.model_selection import ColdUserSplit
    >>> X = np.array([[1, 10, 300], [1, 11, 100], [1, 12, 200],
    ...               [2, 10, 100], [2, 12, 150], [3, 11, 100]])
    >>> cv = ColdUserSplit(n_test_users=1, n_fold_in=1, time_column=2,
    ...                    random_state=1)
    >>> train, fold_in, test = next(cv.split_fold_in(X))
    >>> X[fold_in, :2].tolist(), X[test, :2].tolist()  # user 1 drawn; time 100 first
    ([[1, 11]], [[1, 10], [1, 12]])
    >>> train, test = next(cv.split(X))  # the same draw, fold-in rows left out
    >>> X[test, :2].tolist()
    [[1, 10], [1, 12]]
    """

    def __init__(
        self,
        n_test_users=0.15,
        *,
        n_fold_in=0,
        time_column=None,
        n_splits=1,
        random_state=None,
        user_column=0,
    ):
        self.n_test_users = n_test_users
        self.n_fold_in = n_fold_in
        self.time_column = time_column
        self.n_splits = n_splits
        self.random_state = random_state
        self.user_column = user_column

    def split_fold_in(self, X, y=None, groups=None):
        """Generate integer indices to split the ratings into train, fold-in and test.

        Parameters
        ----------
        X : array-like of shape (n_ratings, n_columns)
            The ratings: a DataFrame, a 2-D array (object dtype too) or a list
            of rows; column 0 the user id, column 1 the item id, further
            columns side information (such as the time column).
        y : array-like of shape (n_ratings,), default=None
            The ratings' values. Only its length is checked.
        groups : object, default=None
            Ignored: the users are read from X. Passing it warns.

        Returns
        -------
        splits : iterator of (train, fold_in, test) tuples
            Sorted int arrays of row positions in X that partition it:
            ``train`` the ratings of the users not held out, ``fold_in`` the
            first ``n_fold_in`` ratings of each held-out user (empty when
            ``n_fold_in=0``), ``test`` their other ratings. ``train`` and
            ``test`` are those of :meth:`split` with the same
            ``random_state``.
        """
        table, params = self._prepare(X, y, groups)
        return self._triples(table, params)

    def _check_params(self):
        size = _check_size(self.n_test_users, "n_test_users", of="the users")
        fold_in = _check_fold_in(self.n_fold_in, "n_fold_in")
        n_splits = _check_int(self.n_splits, "n_splits", 1)
        _check_column_ref(self.user_column, "user_column")
        if self.time_column is not None:
            _check_column_ref(self.time_column, "time_column")
        rng = check_random_state(self.random_state)
        return SimpleNamespace(size=size, fold_in=fold_in, n_splits=n_splits, rng=rng)

    def _iter_splits(self, table, p):
        triples = self._triples(table, p)
        return ((train, test) for train, _, test in triples)

    def _triples(self, table, p):
        """Do the checks and the one sort now; return an iterator of folds."""
        codes, n_users = table.codes(self.user_column, "user_column")
        counts = np.bincount(codes, minlength=n_users)
        fold_in = _block_sizes(p.fold_in, counts)
        eligible = np.flatnonzero(counts > fold_in)
        if eligible.size == 0:
            raise ValueError(
                f"n_fold_in={self.n_fold_in!r} leaves no user with a rating to test "
                f"(the most active user has {int(counts.max())} ratings); lower "
                "n_fold_in"
            )
        n_held = _n_held(p.size, eligible.size)
        if n_held > eligible.size:
            which = "users"
            if p.fold_in != 0:
                which = f"users with more than n_fold_in={self.n_fold_in!r} ratings"
            raise ValueError(
                f"n_test_users={self.n_test_users!r} asks for more users than the "
                f"{eligible.size} {which} in X; lower n_test_users"
            )
        if n_held >= n_users:
            raise ValueError(
                f"n_test_users={self.n_test_users!r} holds out all {n_users} users "
                "of X, leaving none to train on; lower n_test_users"
            )
        position = None
        if p.fold_in != 0:
            if self.time_column is None:
                order = np.argsort(codes, kind="stable")
            else:
                times, _ = table.times(self.time_column, "time_column")
                order = _user_major_order(codes, n_users, times)
            # 0 is the user's first rating
            position = _positions_in_user(codes, order, counts)
            del order
        return self._folds(p, codes, n_users, eligible, n_held, fold_in, position)

    def _folds(self, p, codes, n_users, eligible, n_held, fold_in, position):
        for _ in range(p.n_splits):
            held = np.zeros(n_users, dtype=bool)
            held[p.rng.choice(eligible, n_held, replace=False)] = True
            is_held = held[codes]
            if position is None:
                is_fold_in = np.zeros_like(is_held)
            else:
                is_fold_in = is_held & (position < fold_in[codes])
            yield (
                np.flatnonzero(~is_held),
                np.flatnonzero(is_fold_in),
                np.flatnonzero(is_held & ~is_fold_in),
            )
