"""Out-of-core fits: rating shards written to disk and streamed by fit()."""

import numpy as np
import pandas as pd
import pytest

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec.datasets import RatingShards, make_ratings, write_rating_shards


@pytest.fixture(scope="module")
def split():
    frame = make_ratings(n_users=300, n_items=100, n_ratings=15_000, random_state=0).frame
    # the order of the Netflix files: all ratings of one movie, then the next
    frame = frame.sort_values("item", kind="stable")
    test = np.random.default_rng(0).random(len(frame)) < 0.1
    return frame[~test], frame[test]


def rmse(model, frame):
    pred = model.predict(frame[["user", "item"]])
    return float(np.sqrt(np.mean((pred - frame.rating.to_numpy()) ** 2)))


def test_shards_round_trip(split, tmp_path):
    train, _ = split
    shards = write_rating_shards(train, tmp_path, rows_per_shard=4000, block_size=1000)
    assert len(shards.files) == -(-len(train) // 4000)
    assert RatingShards(tmp_path).n_ratings == len(train)
    blocks = list(shards.iter_blocks())
    users = np.concatenate([b[0] for b in blocks])
    ratings = np.concatenate([b[2] for b in blocks])
    np.testing.assert_array_equal(users, train.user.to_numpy())
    np.testing.assert_allclose(ratings, train.rating.to_numpy())


@pytest.mark.parametrize("cls", [FunkMF, EmbeddingRegressor])
def test_fit_from_shards_matches_in_memory_fit(cls, split, tmp_path):
    train, test = split
    shards = write_rating_shards(train, tmp_path, rows_per_shard=5000, block_size=1024)
    params = dict(n_factors=8, n_epochs=6, batch_size=512, random_state=0)
    streamed = cls(**params).fit(shards)
    in_memory = cls(**params).fit(train[["user", "item"]], train.rating)
    assert streamed.n_users_ == in_memory.n_users_
    np.testing.assert_array_equal(streamed.item_ids_, in_memory.item_ids_)
    assert streamed.global_mean_ == pytest.approx(in_memory.global_mean_, rel=1e-6)
    assert streamed.rating_range_ == in_memory.rating_range_
    baseline = float(np.sqrt(np.mean((test.rating - train.rating.mean()) ** 2)))
    # same data, same model: the streamed fit is as good as the in-memory one
    assert rmse(streamed, test) < 0.9 * baseline
    assert rmse(streamed, test) == pytest.approx(rmse(in_memory, test), rel=0.03)
    # and reproducible
    again = cls(**params).fit(shards)
    np.testing.assert_array_equal(again.predict(test[["user", "item"]]),
                                  streamed.predict(test[["user", "item"]]))


def test_string_ids_in_shards(tmp_path):
    frame = make_ratings(n_users=50, n_items=20, n_ratings=800, random_state=1).frame
    frame["user"] = "u" + frame.user.astype(str)
    shards = write_rating_shards(frame, tmp_path, rows_per_shard=300)
    model = FunkMF(n_factors=4, n_epochs=2, random_state=0).fit(shards)
    assert set(model.user_ids_) == set(frame.user)
    assert np.isfinite(model.predict(frame[["user", "item"]])).all()
    with pytest.raises(ValueError, match="exclude_seen=False"):
        model.recommend("u1")
    assert len(model.recommend("u1", n=3, exclude_seen=False)) == 3


def test_shard_fit_errors(split, tmp_path):
    train, _ = split
    shards = write_rating_shards(train.iloc[:2000], tmp_path, rows_per_shard=1000)
    with pytest.raises(ValueError, match="without y"):
        FunkMF().fit(shards, train.rating.iloc[:2000])
    with pytest.raises(TypeError, match="cannot fit from shards"):
        EmbeddingClassifier().fit(shards)
    with pytest.raises(ValueError, match="early_stopping"):
        FunkMF(early_stopping=True).fit(shards)
    with pytest.raises(TypeError, match="partial_fit takes in-memory ratings"):
        FunkMF().partial_fit(shards, None)
    with pytest.raises(ValueError, match="no rating shards"):
        RatingShards(tmp_path / "nowhere")
    mixed = pd.DataFrame({"user": np.array([1, "a"], dtype=object), "item": [1, 2],
                          "rating": [1.0, 2.0]})
    with pytest.raises(TypeError, match="all ints or all strings"):
        write_rating_shards(mixed, tmp_path / "mixed")
