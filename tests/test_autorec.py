"""AutoRec (I-AutoRec): what a user sees of it."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skembrec import AutoRec

FAST = AutoRec(n_factors=8, n_epochs=3, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def ratings(small_ratings):
    X, y = small_ratings
    return X.to_numpy()[:, :2], np.asarray(y, dtype=np.float64)


@pytest.fixture(scope="module")
def fitted(ratings):
    return clone(FAST).fit(*ratings)


def test_beats_the_global_mean_on_held_out_ratings(planted):
    X, y, X_test, y_test = planted
    # the decoder starts from zero, not from the mean (as in the paper): a
    # small model needs more and larger steps to reach the ratings' level
    model = AutoRec(n_factors=32, n_epochs=100, batch_size=16, reg=1.0,
                    learning_rate=3e-3, random_state=0).fit(X, y)
    rmse = np.sqrt(np.mean((model.predict(X_test) - y_test) ** 2))
    baseline = np.sqrt(np.mean((y.mean() - y_test) ** 2))
    # rmse / baseline over random_state 0-5: 0.665-0.709 (mean 0.692, sd 0.016;
    # random_state=0 the worst), so 0.75 sits 3.5 sd above the mean
    assert rmse < 0.75 * baseline
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_predictions_are_the_dense_autoencoder_of_the_rating_matrix(fitted, ratings):
    """The sparse graph computes exactly I-AutoRec on the dense item x user matrix."""
    X, y = ratings
    model = fitted
    layer = model.model_.get_layer("item_autoencoder")
    V, b, W, c = (v.numpy().astype(np.float64) for v in layer.weights)
    users = model._state.user_vocab.transform(X[:, 0])
    items = model._state.item_vocab.transform(X[:, 1])
    target = model._state.target
    dense = np.zeros((model.n_items_, model.n_users_ + 1))
    # repeated pairs: their mean is the input
    sums, counts = np.zeros_like(dense), np.zeros_like(dense)
    np.add.at(sums, (items, users), target.encode(y))
    np.add.at(counts, (items, users), 1)
    observed = counts > 0
    dense[observed] = sums[observed] / counts[observed] + target.mean / target.unit
    codes = 1 / (1 + np.exp(-(dense @ V + b)))
    # the raw ratings (in units) are reconstructed: less the offset, encoded
    expected = target.decode((codes @ W.T + c - target.mean / target.unit)[items, users])
    expected = np.clip(expected, *model.rating_range_)
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.item_embeddings_, codes, rtol=1e-5, atol=1e-6)


def test_only_the_ratios_of_sample_weights_matter(ratings):
    X, y = ratings
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    # a step large enough for FAST's 8 units to reach the ratings' level
    # (below it, every prediction is clipped to the lowest rating)
    fast = clone(FAST).set_params(learning_rate=1e-2)
    once = clone(fast).fit(X, y, sample_weight=weight)
    scaled = clone(fast).fit(X, y, sample_weight=5 * weight)
    np.testing.assert_allclose(scaled.predict(X), once.predict(X), atol=1e-5)
    unweighted = clone(fast).fit(X, y)
    assert np.abs(unweighted.predict(X) - once.predict(X)).max() > 1e-4


def test_same_predictions_from_any_input_container(fitted, ratings):
    X, y = ratings
    frame = pd.DataFrame({"user": X[:, 0], "item": X[:, 1], "extra": 0.5})
    from_frame = clone(FAST).fit(frame, y)
    np.testing.assert_array_equal(from_frame.predict(frame), fitted.predict(X))


def test_random_state_makes_fits_reproducible(fitted, ratings):
    np.testing.assert_array_equal(clone(FAST).fit(*ratings).predict(ratings[0]),
                                  fitted.predict(ratings[0]))


@pytest.mark.parametrize("how", ["pickle", "save"])
def test_round_trip_predicts_and_continues_training_as_the_original(fitted, ratings, how,
                                                                    tmp_path):
    X, y = ratings
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        fitted.save(tmp_path / "autorec.npz")
        restored = AutoRec.load(tmp_path / "autorec.npz")
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert list(restored.recommend(X[0, 0], n=5)) == list(fitted.recommend(X[0, 0], n=5))
    original = pickle.loads(pickle.dumps(fitted)).partial_fit(X, y)
    np.testing.assert_allclose(restored.partial_fit(X, y).predict(X), original.predict(X),
                               atol=1e-6)


@pytest.mark.parametrize("corrupt", [
    lambda a: a.update(ratings_indices=a["ratings_indices"] + 10**6),
    lambda a: a.update(ratings_indptr=a["ratings_indptr"][:-1]),
    lambda a: a.update(ratings_data=np.full_like(a["ratings_data"], np.nan)),
])
def test_a_corrupted_rating_matrix_is_refused(fitted, tmp_path, corrupt):
    from skembrec._io import persistence as _persistence

    fitted.save(tmp_path / "m.npz")
    header, arrays = _persistence.read(tmp_path / "m.npz")
    arrays = dict(arrays)
    corrupt(arrays)
    _persistence.write(tmp_path / "bad.npz", header, arrays, producer="test")
    with pytest.raises(ValueError, match="rating matrix"):
        AutoRec.load(tmp_path / "bad.npz")


def test_unknown_users_and_items_get_the_global_mean(fitted, ratings):
    X, _ = ratings
    rows = [[10**9, X[0, 1]], [X[0, 0], 10**9], [10**9, 10**9 + 1], [np.nan, X[0, 1]]]
    pred = fitted.predict(np.array(rows, dtype=np.float64))
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred, fitted.global_mean_, rtol=1e-12)
    assert len(fitted.recommend(10**9, n=3)) == 3


def test_set_params_after_fit_changes_nothing_until_the_next_fit(fitted, ratings, tmp_path):
    X, y = ratings
    model = pickle.loads(pickle.dumps(fitted))
    expected = model.predict(X)
    model.set_params(n_factors=3, activation="relu", reg=1e3, init_std=1.0,
                     clip_predictions=False)
    np.testing.assert_array_equal(model.predict(X), expected)
    assert model.user_embeddings_.shape[1] == 8
    model.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(AutoRec.load(tmp_path / "m.npz").predict(X), expected)
    model.fit(X, y)
    assert model.user_embeddings_.shape[1] == 3


def test_warm_start_continues_and_grows_with_new_users(ratings):
    X, y = ratings
    old = X[:, 0] != X[0, 0]
    model = clone(FAST).set_params(warm_start=True).fit(X[old], y[old])
    first_loss = model.history_["loss"][-1]
    assert model.predict(X[~old][:1])[0] == model.global_mean_  # unknown so far
    model.fit(X, y)
    assert model.n_iter_ == 2 * FAST.n_epochs
    assert len(model.history_["loss"]) == 2 * FAST.n_epochs
    assert model.history_["loss"][-1] < first_loss
    assert model.n_users_ == len(np.unique(X[:, 0]))
    assert model.predict(X[~old][:1])[0] != model.global_mean_
    # partial_fit: one more epoch; a changed architecture is refused
    model.partial_fit(X, y)
    assert model.n_iter_ == 2 * FAST.n_epochs + 1
    with pytest.raises(ValueError, match="n_factors changed"):
        model.set_params(n_factors=4).partial_fit(X, y)


def test_early_stopping_records_the_validation_loss(ratings):
    X, y = ratings
    model = clone(FAST).set_params(early_stopping=True, n_epochs=4).fit(X, y)
    assert len(model.history_["val_loss"]) == model.n_iter_
    assert all(np.isfinite(v) for v in model.history_["val_loss"])


def test_recommend_similar_items_and_fold_in(fitted, ratings):
    X, y = ratings
    top = fitted.recommend([X[0, 0], X[1, 0]], n=4)
    assert top.shape == (2, 4)
    seen = set(X[X[:, 0] == X[0, 0], 1])
    assert not seen & set(top[0])
    similar = fitted.similar_items(X[0, 1], n=3)
    assert len(similar) == 3 and X[0, 1] not in similar
    assert fitted.user_embeddings_.shape == (fitted.n_users_, 8)
    assert fitted.item_embeddings_.shape == (fitted.n_items_, 8)
    with pytest.raises(NotImplementedError, match="AutoRec.fold_in"):
        fitted.fold_in(X[:5], y[:5])


@pytest.mark.parametrize("param", [{"time_column": 2}, {"user_features": ["age"]},
                                   {"item_features": [3]}])
def test_unsupported_options_raise_a_clear_error(ratings, param):
    X, y = ratings
    with pytest.raises(ValueError, match="must be None"):
        clone(FAST).set_params(**param).fit(X, y)


def test_shards_are_refused(ratings, tmp_path):
    from skembrec.datasets import RatingShards, write_rating_shards

    write_rating_shards(ratings, tmp_path / "shards")
    with pytest.raises(TypeError, match="AutoRec cannot fit from shards"):
        clone(FAST).fit(RatingShards(tmp_path / "shards"))
