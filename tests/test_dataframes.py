"""Any DataFrame scikit-learn takes: polars and pyarrow read as pandas is.

A polars DataFrame or a pyarrow Table is read through narwhals with its
column names and dtypes, so naming a column (``time_column``,
``user_features``, the splitters) and ``feature_names_in_`` work as with
pandas, and every result equals the pandas one.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import cross_validate

from skembrec import EmbeddingRegressor, FunkMF
from skembrec._input.ratings import RatingTable
from skembrec.model_selection import TemporalProbeSplit, TimeCutoffSplit, UserHoldoutSplit

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

SMALL = dict(n_factors=4, n_epochs=3, batch_size=128, random_state=0)
GENRES = np.array(["Action|Comedy", "Drama", "Comedy", "Action|Drama|Horror", "Horror"])


def ratings(n_users=60, n_items=40, n_ratings=1500, seed=0):
    """A pandas frame of ratings with a time column and side features of
    every kind (numeric, categorical, multi-valued), and its ratings."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_ratings)
    items = rng.integers(0, n_items, n_ratings)
    X = pd.DataFrame({
        "user": users,
        "item": items.astype(str),  # string ids
        "timestamp": rng.integers(10**9, 10**9 + 10**7, n_ratings),
        "age": (20.0 + users % 40),
        "group": np.where(users % 3 == 0, "a", "b"),
        "genres": GENRES[items % len(GENRES)],
    })
    y = rng.integers(1, 6, n_ratings).astype(np.float64)
    return X, y


def polars_frame(X):
    return pl.from_pandas(X)


def arrow_table(X):
    return pa.Table.from_pandas(X, preserve_index=False)


CONVERTERS = [pytest.param(polars_frame, id="polars"), pytest.param(arrow_table, id="pyarrow")]


@pytest.fixture(scope="module")
def data():
    return ratings()


@pytest.mark.parametrize("convert", CONVERTERS)
@pytest.mark.parametrize("splitter", [
    TemporalProbeSplit(n_probe=2, time_column="timestamp", n_splits=2),
    UserHoldoutSplit(n_splits=2, random_state=0),
    TimeCutoffSplit(cutoff=10**9 + 8 * 10**6, time_column="timestamp"),
], ids=["temporal-probe", "user-holdout", "time-cutoff"])
def test_a_named_time_column_of_polars_or_pyarrow_splits_as_pandas_does(data, convert,
                                                                          splitter):
    # before narwhals, a polars frame became an object array: "X (ndarray) has
    # no column names"
    X, y = data
    expected = list(splitter.split(X, y))
    got = list(splitter.split(convert(X), y))
    assert len(got) == len(expected)
    for (train, test), (train_ref, test_ref) in zip(got, expected):
        np.testing.assert_array_equal(train, train_ref)
        np.testing.assert_array_equal(test, test_ref)


@pytest.mark.parametrize("convert", CONVERTERS)
def test_fit_predict_and_recommend_equal_the_pandas_results(data, convert):
    X, y = data
    params = dict(time_column="timestamp", user_features=["age", "group"],
                  item_features=["genres"], **SMALL)
    reference = FunkMF(**params).fit(X, y)
    model = FunkMF(**params).fit(convert(X), y)
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(model.item_ids_, reference.item_ids_)
    np.testing.assert_allclose(model.predict(convert(X)), reference.predict(X), atol=1e-6)
    users = X.user.unique()[:5]
    np.testing.assert_array_equal(model.recommend(users, n=5), reference.recommend(users, n=5))


def test_a_dense_model_reads_the_same_features_from_polars(data):
    X, y = data
    params = dict(user_features=["age", "group"], item_features=["genres"],
                  hidden_layer_sizes=(8,), **SMALL)
    reference = EmbeddingRegressor(**params).fit(X, y).predict(X)
    got = EmbeddingRegressor(**params).fit(polars_frame(X), y).predict(polars_frame(X))
    np.testing.assert_allclose(got, reference, atol=1e-6)


def test_polars_columns_in_another_order_at_predict_are_refused_as_pandas_ones(data):
    X, y = data
    model = FunkMF(**SMALL).fit(polars_frame(X), y)
    shuffled = polars_frame(X[["item", "user", *X.columns[2:]]])
    with pytest.raises(ValueError, match="feature names"):
        model.predict(shuffled)


@pytest.mark.parametrize("zone", [None, "Europe/Paris"])
def test_polars_datetimes_are_times_as_pandas_datetimes_are(data, zone):
    X, y = data
    stamps = pd.to_datetime(X.timestamp, unit="s")
    X = X.assign(timestamp=stamps if zone is None else stamps.dt.tz_localize("UTC")
                 .dt.tz_convert(zone))
    frame = polars_frame(X)
    dtype = frame.schema["timestamp"]
    assert isinstance(dtype, pl.Datetime) and dtype.time_zone == zone
    params = dict(time_column="timestamp", **SMALL)
    np.testing.assert_allclose(FunkMF(**params).fit(frame, y).predict(frame),
                               FunkMF(**params).fit(X, y).predict(X), atol=1e-6)
    assert RatingTable(frame).times("timestamp", "time_column")[1] == \
        RatingTable(X).times("timestamp", "time_column")[1]


def test_polars_and_pyarrow_ratings_and_weights_are_read(data):
    X, y = data
    weight = np.linspace(0.5, 2.0, len(y))
    reference = FunkMF(**SMALL).fit(X, y, sample_weight=weight).predict(X)
    got = FunkMF(**SMALL).fit(polars_frame(X), pl.Series("rating", y),
                              sample_weight=pa.chunked_array([weight[:700], weight[700:]]))
    np.testing.assert_allclose(got.predict(X), reference, atol=1e-6)


def test_cross_validate_slices_a_polars_frame_with_a_temporal_split(data):
    X, y = data
    cv = TemporalProbeSplit(n_probe=2, time_column="timestamp", n_splits=2)
    scores = {name: cross_validate(FunkMF(time_column="timestamp", **SMALL), frame, y, cv=cv,
                                   scoring="neg_root_mean_squared_error")["test_score"]
              for name, frame in (("pandas", X), ("polars", polars_frame(X)))}
    np.testing.assert_allclose(scores["polars"], scores["pandas"], rtol=1e-6)


def test_numeric_id_columns_of_polars_are_read_without_a_copy(data):
    X, _ = data
    frame = polars_frame(X)
    users = RatingTable(frame).ids("user", fitting=True)
    assert np.shares_memory(users, frame["user"].to_numpy())
    np.testing.assert_array_equal(RatingTable(frame).ids("item", fitting=True),
                                  X.item.to_numpy())


def test_a_lazy_frame_is_refused_with_how_to_collect_it(data):
    X, y = data
    with pytest.raises(TypeError, match=r"lazy frame .*collect\(\)"):
        FunkMF(**SMALL).fit(polars_frame(X).lazy(), y)


def test_a_pyarrow_table_repeating_a_name_is_refused_naming_it():
    table = pa.table([[1, 2], [3, 4], [5, 6]], names=["user", "item", "user"])
    with pytest.raises(ValueError, match=r"duplicate column names \['user'\]"):
        FunkMF(**SMALL).fit(table, [1.0, 2.0])
