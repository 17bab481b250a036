"""time_column: models that read each rating's date."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec.datasets import make_ratings
from skembrec.model_selection import TemporalProbeSplit


@pytest.fixture(scope="module")
def drifting():
    """Ratings whose users drift strongly over their active period."""
    X, y = make_ratings(n_users=200, n_items=120, n_ratings=16_000, n_factors=4, drift=1.0,
                        noise=0.3, discrete=False, random_state=0, return_X_y=True)
    train, test = next(TemporalProbeSplit(n_probe=5, time_column="timestamp").split(X))
    return X.iloc[train], y[train], X.iloc[test], y[test]


def _rmse(est, X, y):
    return float(np.sqrt(np.mean((est.predict(X) - y) ** 2)))


@pytest.mark.parametrize(
    "make",
    [lambda **kw: FunkMF(n_factors=4, n_epochs=12, batch_size=512, random_state=0, **kw),
     lambda **kw: EmbeddingRegressor(n_factors=8, n_epochs=12, batch_size=512,
                                     random_state=0, **kw)],
    ids=["FunkMF", "EmbeddingRegressor"],
)
def test_time_aware_model_learns_drift_on_the_probe_split(drifting, make):
    X_train, y_train, X_test, y_test = drifting
    plain = make().fit(X_train, y_train)
    timed = make(time_column="timestamp").fit(X_train, y_train)
    # the probe ratings are each user's latest: only a model of drift gets them
    assert _rmse(timed, X_test, y_test) < 0.8 * _rmse(plain, X_test, y_test)


def test_drift_is_not_extrapolated_past_a_users_last_rating():
    from skembrec._input.time import TimeFeatures

    days = np.array([0.0, 10.0, 20.0, 5.0, 6.0])
    users = np.array([0, 0, 0, 1, 1])
    features = TimeFeatures.fit(days, users, n_users=2)
    later = features.transform(np.array([20.0, 400.0, -50.0, 0.0]), np.array([0, 0, 0, 0]))
    assert later[0, 0] == later[1, 0] > 0      # after the last rating: as on the last day
    assert later[2, 0] == later[3, 0] < 0      # before the first: as on the first day
    assert later[1, 1] == 1.0 and later[2, 1] == 0.0   # position in the fit's range
    unseen = features.transform(np.array([15.0]), np.array([2]))
    assert unseen[0, 0] == 0.0


def test_item_time_bins_are_a_table_of_their_own(drifting, tmp_path):
    X_train, y_train, X_test, _ = drifting
    est = FunkMF(n_factors=4, n_epochs=2, random_state=0, time_column="timestamp",
                 n_time_bins=6).fit(X_train, y_train)
    assert est.model_.get_layer("item_time_bias").embeddings.shape == (est.n_items_ + 1, 6)
    est.save(tmp_path / "bins.npz")
    np.testing.assert_array_equal(FunkMF.load(tmp_path / "bins.npz").predict(X_test),
                                  est.predict(X_test))


def test_datetimes_and_epoch_seconds_give_the_same_model(drifting):
    X_train, y_train, X_test, _ = drifting
    as_dates = X_train.assign(timestamp=pd.to_datetime(X_train.timestamp, unit="s"))
    est = FunkMF(n_factors=4, n_epochs=3, random_state=0, time_column=2)
    seconds = est.fit(X_train, y_train).predict(X_test)
    dates = est.fit(as_dates, y_train).predict(
        X_test.assign(timestamp=pd.to_datetime(X_test.timestamp, unit="s")))
    np.testing.assert_allclose(dates, seconds, rtol=1e-5)


@pytest.mark.parametrize("cls", [FunkMF, EmbeddingRegressor, EmbeddingClassifier])
def test_time_aware_model_round_trips_and_recommends(cls, drifting, tmp_path):
    X_train, y_train, X_test, _ = drifting
    y_train = np.round(y_train)
    est = cls(n_factors=4, n_epochs=2, random_state=0, time_column="timestamp").fit(
        X_train, y_train)
    expected = est.predict(X_test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X_test), expected)
    est.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(cls.load(tmp_path / "m.npz").predict(X_test), expected)
    assert len(est.recommend(X_train.iloc[0, 0], n=5)) == 5
    # a user never seen: no drift, a finite prediction
    unseen = X_test.iloc[:3].assign(user=-1)
    assert np.all(np.isfinite(est.predict(unseen)))


def test_warm_start_adds_users_and_their_dates(drifting):
    X_train, y_train, X_test, y_test = drifting
    old = X_train.user < 150
    est = FunkMF(n_factors=4, n_epochs=2, random_state=0, time_column="timestamp",
                 warm_start=True).fit(X_train[old], y_train[old])
    snapshot = est._state.time.user_count.copy()
    est.fit(X_train[~old], y_train[~old])
    assert est.n_users_ > len(snapshot)
    np.testing.assert_array_equal(est._state.time.user_count[:len(snapshot)], snapshot)
    assert np.all(est._state.time.user_count[len(snapshot):] > 0)
    est.partial_fit(X_train, y_train)
    assert np.all(np.isfinite(est.predict(X_test)))


@pytest.mark.parametrize(
    "time_column, X_change, match",
    [
        (0, None, "user ids"),
        (1, None, "item ids"),
        ("when", None, "not a column"),
        (5, None, "out of range"),
        ("timestamp", lambda X: X.assign(timestamp="2001-01-01"), "numbers .*or datetimes"),
        ("timestamp", lambda X: X.assign(timestamp=np.nan), "missing times"),
    ],
)
def test_bad_time_column(drifting, time_column, X_change, match):
    X_train, y_train, _, _ = drifting
    X = X_change(X_train) if X_change else X_train
    with pytest.raises(ValueError, match=match):
        FunkMF(n_epochs=1, time_column=time_column).fit(X, y_train)


def test_changing_time_column_after_fit_changes_nothing_until_refit(drifting):
    X_train, y_train, X_test, _ = drifting
    est = FunkMF(n_factors=4, n_epochs=1, random_state=0,
                 time_column="timestamp").fit(X_train, y_train)
    expected = est.predict(X_test)
    est.set_params(time_column=None)
    # the fitted model still reads the time column it was fitted with
    np.testing.assert_array_equal(est.predict(X_test), expected)
    with pytest.raises(ValueError, match="time_column changed"):
        est.partial_fit(X_train, y_train)
    np.testing.assert_array_equal(est.predict(X_test), expected)
    est.set_params(time_column="timestamp", warm_start=True)
    est.fit(X_train, y_train)  # unchanged: continues
    assert est.n_iter_ == 2
    plain = FunkMF(n_factors=4, n_epochs=1, warm_start=True).fit(X_train, y_train)
    plain.set_params(time_column="timestamp")
    plain.fit(X_train, y_train)  # an architectural change: starts from scratch
    assert plain.n_iter_ == 1 and plain._state.time is not None
    assert "user_drift" in [layer.name for layer in plain.model_.layers]


def test_factors_from_elsewhere_have_no_time_effects():
    with pytest.raises(ValueError, match="time_column=None"):
        FunkMF.from_factors([1], [2], np.ones((1, 2)), np.ones((1, 2)), time_column=2)
