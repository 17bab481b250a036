"""Tests of the rating splitters in skembrec.model_selection.

The property tests compare the vectorised splitters with plain-Python
reference implementations of the documented protocols, on small random
rating tables full of time ties, and check the promised invariants directly.
"""

import pickle
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import GridSearchCV, cross_validate, learning_curve

from skembrec.datasets import find_dataset
from skembrec.model_selection import (
    TemporalProbeSplit,
    TimeCutoffSplit,
    UserHoldoutSplit,
)

SETTINGS = settings(max_examples=60, deadline=None)


# --------------------------------------------------------------------------
# Strategies and helpers
# --------------------------------------------------------------------------


@st.composite
def rating_tables(draw, max_rows=40):
    """A ratings frame (user, item, timestamp) with many ties in time."""
    n = draw(st.integers(1, max_rows))
    users = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n))
    times = np.asarray(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)))
    # The same order of times in three encodings that take different sorting
    # paths: small ints, non-integral floats, and ints too wide to pack with
    # the user code into one int64 key.
    encoding = draw(st.sampled_from(["int", "float", "wide"]))
    if encoding == "float":
        times = times * 0.25 + 0.1
    elif encoding == "wide":
        times = times * 7 * 10**17 + times**2
    return pd.DataFrame({"user": users, "item": items, "timestamp": times})


# A count, or a fraction k/100 whose expected rounding is exact in integers.
sizes = st.one_of(st.integers(1, 4), st.integers(1, 99).map(lambda k: k / 100))


def block_size(size, n_u):
    """Documented test ratings per user: size, or ceil(size * n_u)."""
    if isinstance(size, int):
        return size
    k = round(size * 100)
    return -(-k * n_u // 100)


def rows_by_user(X):
    groups = defaultdict(list)
    for row, user in enumerate(X["user"]):
        groups[user].append(row)
    return groups


def reference_probe(X, size, n_splits=1, min_train=1, known_items=False):
    """The TemporalProbeSplit protocol, written as its Notes state it.

    Returns the list of (train, test) folds, or None when some fold tests no
    user (the splitter must then raise).
    """
    times = X["timestamp"].tolist()
    items = X["item"].tolist()
    folds = []
    for i in range(n_splits):
        train, test = [], []
        for rows in rows_by_user(X).values():
            # Oldest first; of two tied rows the later one is more recent.
            rows = sorted(rows, key=lambda r: (times[r], r))
            b = block_size(size, len(rows))
            kept = rows[: max(len(rows) - (n_splits - 1 - i) * b, 0)]
            if len(kept) >= b + min_train:
                test += kept[len(kept) - b :]
                train += kept[: len(kept) - b]
            else:
                train += kept
        if not test:
            return None
        if known_items:
            seen = {items[r] for r in train}
            test = [r for r in test if items[r] in seen]
        folds.append((sorted(train), sorted(test)))
    return folds


def check_disjoint_sorted(train, test, n_rows):
    for idx in (train, test):
        assert idx.dtype.kind == "i"
        assert np.all(np.diff(idx) > 0), "indices must be sorted and unique"
        assert idx.size == 0 or (idx[0] >= 0 and idx[-1] < n_rows)
    assert np.intersect1d(train, test).size == 0


def split_list(cv, X, y=None):
    return [(train.copy(), test.copy()) for train, test in cv.split(X, y)]


# --------------------------------------------------------------------------
# TemporalProbeSplit
# --------------------------------------------------------------------------


@SETTINGS
@given(
    X=rating_tables(),
    size=sizes,
    n_splits=st.integers(1, 3),
    min_train=st.integers(0, 2),
    known_items=st.booleans(),
)
def test_temporal_probe_matches_protocol(X, size, n_splits, min_train, known_items):
    cv = TemporalProbeSplit(
        size,
        n_splits=n_splits,
        min_train_ratings=min_train,
        require_known_items=known_items,
    )
    expected = reference_probe(X, size, n_splits, min_train, known_items)
    if expected is None or any(not test for _, test in expected):
        with pytest.raises(ValueError, match="fold"):
            split_list(cv, X)
        return
    folds = split_list(cv, X)
    assert cv.get_n_splits(X) == len(folds) == n_splits
    for (train, test), (exp_train, exp_test) in zip(folds, expected):
        check_disjoint_sorted(train, test, len(X))
        assert train.tolist() == exp_train
        assert test.tolist() == exp_test


@SETTINGS
@given(X=rating_tables(), n_probe=st.integers(1, 3), min_train=st.integers(0, 2))
def test_temporal_probe_invariants(X, n_probe, min_train):
    """The promises, checked directly rather than against a reference."""
    cv = TemporalProbeSplit(n_probe, min_train_ratings=min_train)
    sizes_ = X.groupby("user").size()
    if not (sizes_ >= n_probe + min_train).any():
        with pytest.raises(ValueError, match="n_probe"):
            cv.split(X)
        return
    ((train, test),) = split_list(cv, X)
    check_disjoint_sorted(train, test, len(X))
    # One fold: every row is in exactly one set.
    assert np.union1d(train, test).tolist() == list(range(len(X)))
    tested = X.iloc[test].groupby("user").size()
    for user, n_u in sizes_.items():
        expected = n_probe if n_u >= n_probe + min_train else 0
        assert tested.get(user, 0) == expected
    # Within a user, no test rating is older than a training rating.
    t = X["timestamp"].to_numpy()
    for rows in rows_by_user(X).values():
        rows = np.asarray(rows)
        in_test = np.isin(rows, test)
        if in_test.any() and (~in_test).any():
            assert t[rows[in_test]].min() >= t[rows[~in_test]].max()


@SETTINGS
@given(X=rating_tables(), data=st.data())
def test_temporal_probe_deterministic_and_shuffle_rule(X, data):
    cv = TemporalProbeSplit(1, min_train_ratings=0)
    first = split_list(cv, X)
    second = split_list(cv, X)
    assert [(a.tolist(), b.tolist()) for a, b in first] == [
        (a.tolist(), b.tolist()) for a, b in second
    ]
    # Shuffled input: the documented rule (later row wins a tie) applied to
    # the shuffled rows.
    perm = np.asarray(data.draw(st.permutations(range(len(X)))))
    shuffled = X.iloc[perm].reset_index(drop=True)
    ((_, test),) = split_list(cv, shuffled)
    ((_, expected),) = reference_probe(shuffled, 1, min_train=0)
    assert test.tolist() == expected
    # Without ties within a user, the held-out ratings do not depend on order.
    if not X.duplicated(["user", "timestamp"]).any():
        ((_, original),) = split_list(cv, X)
        assert sorted(perm[test].tolist()) == original.tolist()


def test_temporal_probe_tie_goes_to_later_row():
    X = pd.DataFrame(
        {"user": [1, 1, 1, 1], "item": [1, 2, 3, 4], "timestamp": [5, 9, 9, 1]}
    )
    ((train, test),) = split_list(TemporalProbeSplit(1), X)
    assert test.tolist() == [2]
    assert train.tolist() == [0, 1, 3]


def test_temporal_probe_rolling_origin_example():
    # One user, times 0..6 in scrambled row order; n_probe=2, 3 folds.
    times = [3, 0, 6, 1, 5, 2, 4]
    X = pd.DataFrame({"user": 0, "item": range(7), "timestamp": times})
    folds = split_list(TemporalProbeSplit(2, n_splits=3), X)
    as_times = [
        (sorted(X.timestamp[tr].tolist()), sorted(X.timestamp[te].tolist()))
        for tr, te in folds
    ]
    assert as_times == [
        ([0], [1, 2]),  # ranks 4-5 test, 4 latest set aside
        ([0, 1, 2], [3, 4]),
        ([0, 1, 2, 3, 4], [5, 6]),  # the plain probe split
    ]


def test_temporal_probe_require_known_items():
    # Item 9 appears only in user 1's most recent rating.
    X = pd.DataFrame(
        {
            "user": [1, 1, 1, 2, 2],
            "item": [1, 2, 9, 2, 1],
            "timestamp": [1, 2, 3, 1, 2],
        }
    )
    ((train, test),) = split_list(TemporalProbeSplit(1), X)
    assert test.tolist() == [2, 4]
    ((train_known, test_known),) = split_list(
        TemporalProbeSplit(1, require_known_items=True), X
    )
    assert test_known.tolist() == [4]
    # The option only filters the test set: row 2 is in neither set.
    assert train_known.tolist() == train.tolist() == [0, 1, 3]


@pytest.mark.parametrize(
    "fraction, n_u, expected",
    [
        (0.1, 30, 3),
        (0.1, 7, 1),  # rounded up
        (0.5, 5, 3),
        (0.07, 100, 7),  # 0.07 * 100 is 7.000000000000001 in floats
        (0.28, 25, 7),  # 0.28 * 25 is 7.000000000000001 too
        (0.29, 100, 29),  # 0.29 * 100 is 28.999999999999996
    ],
)
def test_fraction_rounding(fraction, n_u, expected):
    X = pd.DataFrame({"user": 0, "item": range(n_u), "timestamp": range(n_u)})
    ((_, test),) = split_list(TemporalProbeSplit(fraction), X)
    assert len(test) == expected
    ((_, test),) = split_list(UserHoldoutSplit(fraction, random_state=0), X)
    assert len(test) == expected
    # The same rounding places a quantile cut-off: ceil(q * n) ratings train.
    n_train = -(-round((1 - fraction) * 100) * n_u // 100)
    if n_train == n_u:
        with pytest.raises(ValueError, match="no rating after"):
            TimeCutoffSplit(1 - fraction).split(X)
    else:
        ((train, _),) = split_list(TimeCutoffSplit(1 - fraction), X)
        assert len(train) == n_train


# --------------------------------------------------------------------------
# Input forms
# --------------------------------------------------------------------------


def _probe_table():
    return pd.DataFrame(
        {
            "user": [7, 7, 7, 8, 8, 9, 9, 9],
            "item": [1, 2, 3, 1, 3, 2, 3, 1],
            "timestamp": [300, 100, 200, 50, 60, 10, 10, 5],
            "extra": ["a", "b", "c", "d", "e", "f", "g", "h"],
        }
    )


EXPECTED_PROBE = ([1, 2, 3, 5, 7], [0, 4, 6])


@pytest.mark.parametrize(
    "make_X, time_column",
    [
        (lambda df: df, "timestamp"),
        (lambda df: df, 2),
        (lambda df: df.to_numpy(), 2),
        (lambda df: df.drop(columns="extra").to_numpy(), -1),
        (lambda df: df.to_numpy().tolist(), 2),
        (lambda df: df.drop(columns="extra").astype(float), "timestamp"),
        (
            lambda df: df.assign(timestamp=pd.to_datetime(df.timestamp, unit="s")),
            "timestamp",
        ),
        (
            lambda df: df.assign(
                timestamp=pd.to_datetime(df.timestamp, unit="s")
                .dt.tz_localize("UTC")
                .dt.tz_convert("America/New_York")
            ),
            "timestamp",
        ),
        (
            lambda df: df.assign(
                user=df.user.map({7: "ann", 8: "bob", 9: 2**70}),
                item=df.item.map(lambda i: f"movie {i}"),
            ).to_numpy(dtype=object),
            2,
        ),
        (
            # Datetime objects in an object array, mixed time zones.
            lambda df: df.assign(
                timestamp=[
                    pd.Timestamp(t, unit="s", tz="UTC").tz_convert(
                        "Asia/Tokyo" if k % 2 else "Europe/Paris"
                    )
                    for k, t in enumerate(df.timestamp)
                ]
            ).to_numpy(dtype=object),
            2,
        ),
    ],
    ids=[
        "frame-name",
        "frame-position",
        "ndarray-object",
        "ndarray-int-negative",
        "list-of-rows",
        "float-ids",
        "datetime64",
        "tz-aware",
        "object-string-and-huge-ids",
        "object-datetimes",
    ],
)
def test_temporal_probe_input_forms(make_X, time_column):
    X = make_X(_probe_table())
    ((train, test),) = split_list(TemporalProbeSplit(1, time_column=time_column), X)
    assert (train.tolist(), test.tolist()) == EXPECTED_PROBE


def test_datetime_and_epoch_seconds_agree_on_large_table():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame(
        {
            "user": rng.integers(0, 50, n),
            "item": rng.integers(0, 80, n),
            "timestamp": rng.integers(0, 300, n) * 86_400 + 10**9,
        }
    )
    dated = X.assign(timestamp=pd.to_datetime(X.timestamp, unit="s", utc=True))
    for cv in (TemporalProbeSplit(3, n_splits=2), TimeCutoffSplit(0.7, n_splits=3)):
        a = split_list(cv, X)
        b = split_list(cv, dated)
        assert [(x.tolist(), y.tolist()) for x, y in a] == [
            (x.tolist(), y.tolist()) for x, y in b
        ]


def test_named_user_and_item_columns():
    X = _probe_table()[["timestamp", "extra", "item", "user"]]
    cv = TemporalProbeSplit(1, user_column="user", item_column="item")
    ((train, test),) = split_list(cv, X)
    assert (train.tolist(), test.tolist()) == EXPECTED_PROBE


# --------------------------------------------------------------------------
# UserHoldoutSplit
# --------------------------------------------------------------------------


@SETTINGS
@given(
    X=rating_tables(),
    size=sizes,
    min_train=st.integers(0, 2),
    n_splits=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_user_holdout_counts_and_determinism(X, size, min_train, n_splits, seed):
    cv = UserHoldoutSplit(
        size, n_splits=n_splits, min_train_ratings=min_train, random_state=seed
    )
    sizes_ = X.groupby("user").size()
    expected = {
        u: (block_size(size, n) if n >= block_size(size, n) + min_train else 0)
        for u, n in sizes_.items()
    }
    if not any(expected.values()):
        with pytest.raises(ValueError, match="n_test"):
            cv.split(X)
        return
    folds = split_list(cv, X)
    assert len(folds) == cv.get_n_splits() == n_splits
    for train, test in folds:
        check_disjoint_sorted(train, test, len(X))
        assert np.union1d(train, test).tolist() == list(range(len(X)))
        tested = X.user.iloc[test].value_counts()
        assert {u: int(tested.get(u, 0)) for u in sizes_.index} == expected
    again = split_list(cv, X)
    assert [t.tolist() for _, t in folds] == [t.tolist() for _, t in again]


@SETTINGS
@given(X=rating_tables(), seed=st.integers(0, 1000))
def test_user_holdout_require_known_items(X, seed):
    plain = UserHoldoutSplit(1, min_train_ratings=0, random_state=seed)
    known = UserHoldoutSplit(
        1, min_train_ratings=0, random_state=seed, require_known_items=True
    )
    ((train, test),) = split_list(plain, X)
    seen = set(X.item.iloc[train])
    kept = [r for r in test.tolist() if X.item.iloc[r] in seen]
    if not kept:
        with pytest.raises(ValueError, match="require_known_items"):
            split_list(known, X)
        return
    ((train_k, test_k),) = split_list(known, X)
    assert train_k.tolist() == train.tolist()
    assert test_k.tolist() == kept


def test_user_holdout_draws_vary_with_seed_and_are_uniform():
    X = pd.DataFrame({"user": 0, "item": range(10), "timestamp": 0})
    counts = np.zeros(10)
    for seed in range(400):
        ((_, test),) = split_list(UserHoldoutSplit(1, random_state=seed), X)
        counts[test] += 1
    # Each of the 10 ratings is drawn about 40 times out of 400.
    assert counts.min() > 15 and counts.max() < 70
    folds = split_list(UserHoldoutSplit(1, n_splits=5, random_state=0), X)
    assert len({int(test[0]) for _, test in folds}) > 1


# --------------------------------------------------------------------------
# TimeCutoffSplit
# --------------------------------------------------------------------------


@SETTINGS
@given(X=rating_tables(), k=st.integers(1, 99), n_splits=st.integers(1, 3))
def test_time_cutoff_quantile_and_windows(X, k, n_splits):
    cv = TimeCutoffSplit(k / 100, n_splits=n_splits)
    t = X.timestamp.to_numpy()
    n = len(t)
    ordered = np.sort(t)
    cutoff = ordered[-(-k * n // 100) - 1]  # inverted-CDF quantile
    later = ordered[ordered > cutoff]
    n_windows = np.unique(later).size
    if later.size == 0 or n_windows < n_splits:
        with pytest.raises(ValueError, match="no rating after|n_splits"):
            split_list(cv, X)
        return
    folds = split_list(cv, X)
    # The quantile: at least k% of the ratings at or before the cut-off,
    # fewer than k% strictly before it.
    assert (t <= cutoff).sum() * 100 >= k * n
    assert (t < cutoff).sum() * 100 < k * n
    all_tests = []
    for j, (train, test) in enumerate(folds):
        check_disjoint_sorted(train, test, n)
        assert test.size > 0
        assert t[train].max() < t[test].min()
        if j == 0:
            assert train.tolist() == np.flatnonzero(t <= cutoff).tolist()
        else:
            # Expanding window: the previous training set plus the previous
            # test window.
            prev_train, prev_test = folds[j - 1]
            assert train.tolist() == np.union1d(prev_train, prev_test).tolist()
        all_tests += test.tolist()
    # The windows partition everything after the cut-off.
    assert sorted(all_tests) == np.flatnonzero(t > cutoff).tolist()
    if n_windows == later.size:
        # Without ties the windows hold the documented quantile counts.
        ends = [-(-j * later.size // n_splits) for j in range(n_splits + 1)]
        assert [len(test) for _, test in folds] == np.diff(ends).tolist()


def test_time_cutoff_dates_and_known_ids():
    X = pd.DataFrame(
        {
            "user": [1, 2, 1, 3, 2, 1],
            "item": [10, 11, 12, 10, 13, 11],
            "timestamp": pd.to_datetime(
                [
                    "2020-01-01",
                    "2020-02-01",
                    "2020-03-01",
                    "2020-04-01",
                    "2020-05-01",
                    "2020-06-01",
                ]
            ),
        }
    )
    for cutoff in (
        "2020-03-15",
        pd.Timestamp("2020-03-15"),
        np.datetime64("2020-03-15"),
    ):
        ((train, test),) = split_list(TimeCutoffSplit(cutoff), X)
        assert (train.tolist(), test.tolist()) == ([0, 1, 2], [3, 4, 5])
    cv = TimeCutoffSplit("2020-03-15", require_known_users=True)
    ((_, test),) = split_list(cv, X)
    assert test.tolist() == [4, 5]  # user 3 is new
    cv = TimeCutoffSplit("2020-03-15", require_known_items=True)
    ((_, test),) = split_list(cv, X)
    assert test.tolist() == [3, 5]  # item 13 is new
    # Epoch seconds with a date cut-off (read as UTC) and a naive cut-off on a
    # tz-aware column (read in the column's time zone) agree.
    epoch = (X.timestamp - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    seconds = X.assign(timestamp=epoch)
    ((_, test),) = split_list(TimeCutoffSplit("2020-03-15"), seconds)
    assert test.tolist() == [3, 4, 5]
    paris = X.assign(timestamp=X.timestamp.dt.tz_localize("Europe/Paris"))
    # Row 3 is at 2020-04-01 00:00 Paris (22:00 UTC): a naive 23:00 cut-off
    # read in Paris time falls before it; the instant itself trains.
    ((_, test),) = split_list(TimeCutoffSplit("2020-03-31 23:00"), paris)
    assert test.tolist() == [3, 4, 5]
    ((_, test),) = split_list(TimeCutoffSplit("2020-04-01 00:00"), paris)
    assert test.tolist() == [4, 5]
    aware = pd.Timestamp("2020-03-31 23:00", tz="UTC")
    ((_, test),) = split_list(TimeCutoffSplit(aware), paris)
    assert test.tolist() == [4, 5]
    with pytest.raises(ValueError, match="naive"):
        TimeCutoffSplit(aware).split(X)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------

SMALL = pd.DataFrame(
    {"user": [1, 1, 2, 2], "item": [1, 2, 1, 2], "timestamp": [1, 2, 3, 4]}
)


@pytest.mark.parametrize(
    "cv, X, error, match",
    [
        (TemporalProbeSplit(0), SMALL, ValueError, "n_probe must be >= 1"),
        (TemporalProbeSplit(1.0), SMALL, ValueError, "strictly between 0 and 1"),
        (TemporalProbeSplit(-0.5), SMALL, ValueError, "strictly between 0 and 1"),
        (TemporalProbeSplit(float("nan")), SMALL, ValueError, "between 0 and 1"),
        (TemporalProbeSplit("1"), SMALL, TypeError, "n_probe"),
        (TemporalProbeSplit(True), SMALL, TypeError, "n_probe"),
        (TemporalProbeSplit(n_splits=0), SMALL, ValueError, "n_splits must be >= 1"),
        (TemporalProbeSplit(n_splits=2.0), SMALL, TypeError, "n_splits must be an int"),
        (TemporalProbeSplit(min_train_ratings=-1), SMALL, ValueError, "min_train"),
        (TemporalProbeSplit(require_known_items="yes"), SMALL, TypeError, "bool"),
        (TemporalProbeSplit(time_column=2.0), SMALL, TypeError, "time_column"),
        (TemporalProbeSplit(time_column="date"), SMALL, ValueError, "'date'"),
        (TemporalProbeSplit(time_column=5), SMALL, ValueError, "time_column=5"),
        (TemporalProbeSplit(), SMALL.to_numpy(), ValueError, "integer position"),
        (TemporalProbeSplit(time_column=0), np.ones((0, 3)), ValueError, "empty"),
        (TemporalProbeSplit(time_column=0), [[1], [2]], ValueError, "2 columns"),
        (TemporalProbeSplit(time_column=0), np.arange(4), ValueError, "2-D"),
        (
            TemporalProbeSplit(),
            SMALL.assign(timestamp=[1.0, np.nan, 2.0, 3.0]),
            ValueError,
            "missing times",
        ),
        (
            TemporalProbeSplit(),
            SMALL.assign(timestamp=pd.to_datetime(["2020", None, "2021", "2022"])),
            ValueError,
            "missing times",
        ),
        (
            TemporalProbeSplit(),
            SMALL.assign(timestamp=["a", "b", "c", "d"]),
            ValueError,
            "numbers .* or datetimes",
        ),
        (
            TemporalProbeSplit(),
            SMALL.assign(user=[1, None, 2, 2]),
            ValueError,
            "missing ids",
        ),
        (TemporalProbeSplit(2), SMALL, ValueError, "at least 3 ratings"),
        (TemporalProbeSplit(1, n_splits=2), SMALL, ValueError, "n_splits=2"),
        (
            TemporalProbeSplit(1, require_known_items=True),
            SMALL.assign(item=[1, 2, 3, 4]),
            ValueError,
            "require_known_items",
        ),
        (UserHoldoutSplit(0), SMALL, ValueError, "n_test must be >= 1"),
        (UserHoldoutSplit(3), SMALL, ValueError, "n_test=3"),
        (UserHoldoutSplit(random_state="a"), SMALL, ValueError, "RandomState"),
        (TimeCutoffSplit(None), SMALL, TypeError, "cutoff"),
        (TimeCutoffSplit(True), SMALL, TypeError, "cutoff"),
        (TimeCutoffSplit(float("inf")), SMALL, ValueError, "finite"),
        (TimeCutoffSplit(4), SMALL, ValueError, "no rating after"),
        (TimeCutoffSplit(0), SMALL, ValueError, "no rating at or before"),
        (TimeCutoffSplit("not a date"), SMALL, ValueError, "not a date"),
        (TimeCutoffSplit(0.5, n_splits=3), SMALL, ValueError, "n_splits=3"),
        (
            TimeCutoffSplit(0.5, require_known_users=True),
            SMALL.assign(user=[1, 1, 2, 2]),
            ValueError,
            "newcomers",
        ),
    ],
)
def test_errors(cv, X, error, match):
    with pytest.raises(error, match=match):
        cv.split(X)
        # Fold-level errors (require_known_*) raise when the fold is reached.
        split_list(cv, X)


def test_split_raises_at_call_not_at_iteration():
    with pytest.raises(ValueError, match="n_probe"):
        TemporalProbeSplit(0).split(SMALL)


def test_sparse_x_is_refused():
    import scipy.sparse as sp

    with pytest.raises(TypeError, match="sparse"):
        TemporalProbeSplit(time_column=2).split(sp.csr_matrix(np.ones((3, 3))))


def test_groups_are_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="groups"):
        folds = TemporalProbeSplit(1).split(SMALL, groups=[0, 0, 1, 1])
    assert [t.tolist() for _, t in folds] == [[1, 3]]


def test_y_length_is_checked():
    with pytest.raises(ValueError, match="inconsistent"):
        TemporalProbeSplit(1).split(SMALL, y=[1, 2, 3])


# --------------------------------------------------------------------------
# scikit-learn integration
# --------------------------------------------------------------------------


def _regression_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "user": rng.integers(0, 30, n),
            "item": rng.integers(0, 40, n),
            "timestamp": rng.integers(0, 10_000, n),
        }
    )
    y = rng.integers(1, 6, n).astype(float)
    return X, y


ALL_SPLITTERS = [
    TemporalProbeSplit(2),
    TemporalProbeSplit(0.2, n_splits=3, require_known_items=True),
    UserHoldoutSplit(2, n_splits=3, random_state=0),
    TimeCutoffSplit(0.8, n_splits=2),
]


@pytest.mark.parametrize("cv", ALL_SPLITTERS, ids=repr)
def test_cross_validate(cv):
    X, y = _regression_table()
    result = cross_validate(
        DummyRegressor(), X, y, cv=cv, scoring="neg_root_mean_squared_error"
    )
    assert len(result["test_score"]) == cv.get_n_splits()
    assert np.all(np.isfinite(result["test_score"]))


def test_grid_search_and_pickle():
    X, y = _regression_table()
    cv = pickle.loads(pickle.dumps(TemporalProbeSplit(2, n_splits=2)))
    search = GridSearchCV(
        DummyRegressor(),
        {"strategy": ["mean", "median"]},
        cv=cv,
        scoring="neg_root_mean_squared_error",
    )
    search.fit(X, y)
    assert search.n_splits_ == 2
    assert search.best_params_["strategy"] in ("mean", "median")


def test_learning_curve():
    X, y = _regression_table()
    sizes_, train_scores, test_scores = learning_curve(
        DummyRegressor(),
        X,
        y,
        cv=TemporalProbeSplit(2),
        train_sizes=[0.5, 1.0],
        scoring="neg_mean_absolute_error",
    )
    assert train_scores.shape == test_scores.shape == (2, 1)
    assert sizes_[-1] == len(X) - 2 * X.user.nunique()


def test_repr_and_get_n_splits():
    cv = TemporalProbeSplit(10, time_column="timestamp", n_splits=3)
    text = repr(cv)
    assert text.startswith("TemporalProbeSplit(")
    assert "n_probe=10" in text and "n_splits=3" in text
    assert "time_column='timestamp'" in text
    assert cv.get_n_splits() == 3
    assert "random_state=0" in repr(UserHoldoutSplit(random_state=0))
    assert "cutoff='2020-01-01'" in repr(TimeCutoffSplit("2020-01-01"))


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, skembrec.model_selection; "
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ml100k():
    folder = find_dataset("ml-100k")
    if folder is None:
        pytest.skip("MovieLens-100K not found (../shared/datasets/ml-100k)")
    names = ["user", "item", "rating", "timestamp"]
    data = pd.read_csv(folder / "u.data", sep="\t", header=None, names=names)
    ua_test = pd.read_csv(folder / "ua.test", sep="\t", header=None, names=names)
    return data, ua_test


@pytest.mark.realdata
def test_ml100k_probe(ml100k):
    data, ua_test = ml100k
    X = data[["user", "item", "timestamp"]]
    ((train, test),) = split_list(TemporalProbeSplit(10), X)
    assert len(test) == 9_430  # 943 users x 10
    assert len(train) == 90_570
    assert (X.user.iloc[test].value_counts() == 10).all()
    train_last = X.iloc[train].groupby("user").timestamp.max()
    test_first = X.iloc[test].groupby("user").timestamp.min()
    assert (test_first >= train_last).all()
    # ua.test also holds 10 ratings per user, but not the most recent ones
    # (about 18% overlap): it is not a temporal probe set.
    probe_pairs = set(zip(X.user.iloc[test], X.item.iloc[test]))
    ua_pairs = set(zip(ua_test.user, ua_test.item))
    assert len(ua_pairs) == 9_430
    assert len(probe_pairs & ua_pairs) < 0.5 * 9_430
    # With require_known_items, only items unseen in training are dropped.
    ((train_k, test_k),) = split_list(
        TemporalProbeSplit(10, require_known_items=True), X
    )
    assert train_k.tolist() == train.tolist()
    assert set(X.item.iloc[test_k]) <= set(X.item.iloc[train])
    assert 9_000 < len(test_k) < 9_430


@pytest.mark.realdata
def test_ml100k_time_cutoff(ml100k):
    data, _ = ml100k
    X = data[["user", "item", "timestamp"]].to_numpy()
    ((train, test),) = split_list(TimeCutoffSplit(0.9, time_column=2), X)
    assert len(test) <= 10_000 < len(test) + 200  # ties push a few rows into train
    assert X[train, 2].max() < X[test, 2].min()
