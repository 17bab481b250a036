"""Out-of-core fits: rating shards written to disk and streamed by fit()."""

import json
import os
from pathlib import Path

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


# -- hostile folders and interrupted rewrites (issue 13) ---------------------

def _snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _frame(n, seed, offset=0):
    frame = make_ratings(n_users=60, n_items=30, n_ratings=n, random_state=seed).frame
    frame["rating"] = frame.rating + offset
    return frame


def test_non_ascii_string_ids_round_trip(tmp_path):
    frame = _frame(300, 2)
    frame["user"] = "usér-" + frame.user.astype(str) + "-日本"
    shards = write_rating_shards(frame, tmp_path, rows_per_shard=100, block_size=40)
    users = np.concatenate([block[0] for block in shards.iter_blocks()])
    np.testing.assert_array_equal(users, frame.user.to_numpy())
    model = FunkMF(n_factors=4, n_epochs=1, random_state=0).fit(shards)
    assert set(model.user_ids_) == set(frame.user)
    assert np.isfinite(model.predict(frame[["user", "item"]].iloc[:5])).all()


def test_rewriting_a_folder_replaces_all_of_its_shards(tmp_path):
    write_rating_shards(_frame(900, 0), tmp_path, rows_per_shard=300)
    new = _frame(500, 1, offset=10)
    shards = write_rating_shards(new, tmp_path, rows_per_shard=200)
    ratings = np.concatenate([block[2] for block in shards.iter_blocks()])
    np.testing.assert_allclose(ratings, new.rating.to_numpy())
    # the old files are gone, nothing else was left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [Path(f).name for f in shards.files] + ["_shards.json"])
    # with the permissions of files the user creates, not mkstemp's 0600
    (tmp_path.parent / "plain").write_text("x")
    mode = (tmp_path.parent / "plain").stat().st_mode
    assert {p.stat().st_mode for p in tmp_path.iterdir()} == {mode}


@pytest.mark.parametrize("point", [0, 2, 3, 8, 11, 12])
def test_an_interrupted_rewrite_leaves_the_folder_as_it_was(tmp_path, monkeypatch, point):
    from skembrec.datasets import _shards

    write_rating_shards(_frame(900, 0), tmp_path, rows_per_shard=300, block_size=100)
    before = _snapshot(tmp_path)
    calls = {"n": 0}

    def interrupt(original):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] > point:
                raise KeyboardInterrupt
            return original(*args, **kwargs)
        return wrapped

    # 4 files of 2 blocks: 13 calls in all, the last one installing the
    # metadata; interrupted while writing blocks, renaming files or that
    monkeypatch.setattr(_shards, "_block", interrupt(_shards._block))
    monkeypatch.setattr(_shards.os, "replace", interrupt(os.replace))
    with pytest.raises(KeyboardInterrupt):
        write_rating_shards(_frame(800, 1, offset=10), tmp_path, rows_per_shard=200,
                            block_size=100)
    monkeypatch.undo()
    assert calls["n"] == point + 1
    assert _snapshot(tmp_path) == before
    ratings = np.concatenate([block[2] for block in RatingShards(tmp_path).iter_blocks()])
    np.testing.assert_allclose(ratings, _frame(900, 0).rating.to_numpy())


def _meta(folder):
    return json.loads((folder / "_shards.json").read_text())


def _set_meta(folder, meta):
    (folder / "_shards.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("change, match", [
    (lambda m: m.update(files=["../../etc/passwd"]), "not the name of a shard file"),
    (lambda m: m.update(files=["/etc/passwd"]), "not the name of a shard file"),
    (lambda m: m.update(files=[".hidden"]), "not the name of a shard file"),
    (lambda m: m.update(files=[]), "non-empty list"),
    (lambda m: m.update(files="ratings.tfrecord"), "non-empty list"),
    (lambda m: m.update(files=m["files"] * 2), "twice"),
    (lambda m: m.pop("files"), "'files' is missing"),
    (lambda m: m.pop("n_ratings"), "'n_ratings' is missing"),
    (lambda m: m.pop("id_kinds"), "'id_kinds' is missing"),
    (lambda m: m.update(n_ratings="many"), "'n_ratings' must be a positive int"),
    (lambda m: m.update(n_ratings=True), "'n_ratings' must be a positive int"),
    (lambda m: m.update(block_size=0), "'block_size' must be a positive int"),
    (lambda m: m.update(id_kinds={"user": "float", "item": "int"}), "'id_kinds'"),
    (lambda m: m.update(id_kinds=["int", "int"]), "'id_kinds'"),
    (lambda m: m.update(sizes=[1]), "'sizes'"),
    (lambda m: m.update(version=99), "not a version 1"),
    (lambda m: m.clear(), "not a version 1"),
])
def test_a_crafted_metadata_file_is_refused_by_name(tmp_path, change, match):
    write_rating_shards(_frame(300, 0), tmp_path, rows_per_shard=150)
    meta = _meta(tmp_path)
    change(meta)
    _set_meta(tmp_path, meta)
    with pytest.raises(ValueError, match=match) as info:
        RatingShards(tmp_path)
    assert "_shards.json" in str(info.value)


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", "\xff\xfe"])
def test_a_metadata_file_that_is_not_an_object_is_refused(tmp_path, text):
    write_rating_shards(_frame(300, 0), tmp_path)
    (tmp_path / "_shards.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ValueError, match="_shards.json"):
        RatingShards(tmp_path)


def test_a_truncated_shard_is_named(tmp_path):
    shards = write_rating_shards(_frame(600, 0), tmp_path, rows_per_shard=300)
    victim = Path(shards.files[1])
    victim.write_bytes(victim.read_bytes()[:-7])
    with pytest.raises(ValueError, match=f"{victim.name} is truncated"):
        RatingShards(tmp_path)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_corrupted_shard_fails_the_fit_with_its_name(tmp_path, damage):
    shards = write_rating_shards(_frame(600, 0), tmp_path, rows_per_shard=300)
    victim = Path(shards.files[0])
    data = bytearray(victim.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
    else:
        data = data[: len(data) // 2]
    victim.write_bytes(bytes(data))
    meta = _meta(tmp_path)
    meta.pop("sizes")  # as an older writer left it: only the data can tell
    _set_meta(tmp_path, meta)
    with pytest.raises(ValueError, match=f"{victim.name} is truncated or corrupted"):
        FunkMF(n_epochs=1).fit(RatingShards(tmp_path))


def test_metadata_counting_other_ratings_is_refused(tmp_path):
    write_rating_shards(_frame(300, 0), tmp_path)
    meta = _meta(tmp_path)
    meta["n_ratings"] = 301
    _set_meta(tmp_path, meta)
    with pytest.raises(ValueError, match="holds 300 ratings but _shards.json says 301"):
        FunkMF(n_epochs=1).fit(RatingShards(tmp_path))


def test_an_empty_shard_file_is_refused(tmp_path):
    shards = write_rating_shards(_frame(300, 0), tmp_path, rows_per_shard=150)
    Path(shards.files[0]).write_bytes(b"")
    meta = _meta(tmp_path)
    meta.pop("sizes")
    _set_meta(tmp_path, meta)
    with pytest.raises(ValueError, match="holds 150 ratings but _shards.json says 300"):
        FunkMF(n_epochs=1).fit(RatingShards(tmp_path))


@pytest.mark.parametrize("kwargs, match", [
    ({"rows_per_shard": 0}, "rows_per_shard must be a positive int"),
    ({"rows_per_shard": True}, "rows_per_shard must be a positive int"),
    ({"block_size": 2.5}, "block_size must be a positive int"),
])
def test_bad_writer_arguments_are_named(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        write_rating_shards(_frame(100, 0), tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_no_ratings_and_a_file_as_folder_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no ratings"):
        write_rating_shards(_frame(100, 0).iloc[:0], tmp_path / "empty")
    assert not (tmp_path / "empty").exists()
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValueError, match="is a file"):
        write_rating_shards(_frame(100, 0), tmp_path / "file")
    assert (tmp_path / "file").read_text() == "mine"
