"""Tests of load_netflix: formats, probe/qualifying/titles, cache, bad input."""

import datetime as dt
import os
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import PredefinedSplit

from skembrec.datasets import _netflix, find_dataset, load_netflix

EPOCH = dt.date(1970, 1, 1)

RATINGS = {
    1: [
        (1488844, 3, "2005-09-06"),
        (822109, 5, "2005-05-13"),
        (885013, 4, "2005-10-19"),
    ],
    2: [(2059652, 4, "2005-09-05"), (1666394, 3, "2000-02-29")],
    30: [(6, 1, "1999-11-11")],
}


def epoch(date):
    return (dt.date.fromisoformat(date) - EPOCH).days * 86_400


def expected_frame(ratings):
    rows = [
        (user, movie, epoch(date), rating)
        for movie, lines in ratings.items()
        for user, rating, date in lines
    ]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp", "rating"])


def movie_text(movie, lines, newline="\n"):
    body = "".join(f"{u},{r},{d}{newline}" for u, r, d in lines)
    return f"{movie}:{newline}{body}"


def write_netflix(folder, ratings, layout="training_set", newline="\n", n_files=2):
    """Write ``{movie: [(customer, rating, date), ...]}`` in a published layout."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if layout == "training_set":
        (folder / "training_set").mkdir(exist_ok=True)
        for movie, lines in ratings.items():
            path = folder / "training_set" / f"mv_{movie:07d}.txt"
            path.write_bytes(movie_text(movie, lines, newline).encode())
    else:
        movies = list(ratings)
        for k, part in enumerate(np.array_split(np.arange(len(movies)), n_files), 1):
            text = "".join(
                movie_text(movies[i], ratings[movies[i]], newline) for i in part
            )
            (folder / f"combined_data_{k}.txt").write_bytes(text.encode())
    return folder


def check_frame(data, ratings):
    frame = data.frame
    expected = expected_frame(ratings)
    assert list(frame.columns) == ["user", "item", "timestamp", "rating"]
    assert frame["user"].dtype == np.int32
    assert frame["timestamp"].dtype == np.int64
    assert frame["rating"].dtype == np.int8
    largest = max(ratings)
    assert frame["item"].dtype == (np.int16 if largest < 2**15 else np.int32)
    np.testing.assert_array_equal(frame.to_numpy(np.int64), expected.to_numpy(np.int64))


@pytest.mark.parametrize("layout", ["training_set", "combined"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_layouts_read_back_exactly(tmp_path, layout, newline):
    write_netflix(tmp_path, RATINGS, layout, newline)
    data = load_netflix(tmp_path, cache=False)
    check_frame(data, RATINGS)
    assert data.probe is None and data.qualifying is None and data.movies is None
    assert data.cache_path is None
    X, y = load_netflix(tmp_path, cache=False, return_X_y=True)
    assert list(X.columns) == ["user", "item", "timestamp"]
    assert y.tolist() == [3, 5, 4, 4, 3, 1]


def test_missing_final_newline_and_other_entry_points(tmp_path):
    write_netflix(tmp_path, RATINGS)
    last = tmp_path / "training_set" / "mv_0000030.txt"
    last.write_bytes(last.read_bytes().rstrip(b"\n"))
    (tmp_path / "probe.txt").write_text("30:\n6\n")
    # the training_set folder itself: the extras are found in its parent
    data = load_netflix(tmp_path / "training_set", cache=False)
    check_frame(data, RATINGS)
    assert data.probe.tolist() == [False] * 5 + [True]
    # a single file
    one = load_netflix(tmp_path / "training_set" / "mv_0000002.txt", cache=False)
    check_frame(one, {2: RATINGS[2]})


def test_as_frame_false(tmp_path):
    write_netflix(tmp_path, RATINGS, "combined")
    X, y = load_netflix(tmp_path, cache=False, as_frame=False, return_X_y=True)
    assert isinstance(X, np.ndarray) and X.shape == (6, 3)
    assert X[:, 1].tolist() == [1, 1, 1, 2, 2, 30]
    assert y.dtype == np.int8


def test_probe_qualifying_and_titles(tmp_path):
    write_netflix(tmp_path, RATINGS, "combined")
    (tmp_path / "probe.txt").write_text("2:\n1666394\n1:\n822109\n1488844\n")
    (tmp_path / "qualifying.txt").write_text(
        "1:\n1046323,2005-12-19\n30:\n7,2006-01-01\n8,2005-06-30\n"
    )
    (tmp_path / "movie_titles.txt").write_bytes(
        "1,2003,Dinosaur Planet\n2,NULL,Isle of Man TT 2004 Review\n"
        "30,1999,Caf\xe9, Sweet, Caf\xe9\n".encode("latin-1")
    )
    data = load_netflix(tmp_path, cache=False)
    assert data.probe.tolist() == [True, True, False, False, True, False]
    # ready for scikit-learn: one fold whose test set is the probe set
    split = PredefinedSplit(np.where(data.probe, 0, -1))
    ((train, test),) = split.split()
    assert test.tolist() == [0, 1, 4]
    q = data.qualifying
    assert q.dtypes.to_dict() == {
        "user": np.int32,
        "item": np.int16,
        "timestamp": np.int64,
    }
    assert q.to_numpy().tolist() == [
        [1046323, 1, epoch("2005-12-19")],
        [7, 30, epoch("2006-01-01")],
        [8, 30, epoch("2005-06-30")],
    ]
    movies = data.movies
    assert movies["item"].tolist() == [1, 2, 30]
    assert movies["year"].dtype == "Int16"
    assert movies["year"].isna().tolist() == [False, True, False]
    assert movies["title"].tolist()[2] == "Café, Sweet, Café"


def test_verbose_prints_progress(tmp_path, capsys):
    write_netflix(tmp_path, RATINGS)
    load_netflix(tmp_path, cache=False, verbose=True)
    out = capsys.readouterr().out
    assert "parsed 3/3 files, 6 ratings" in out
    load_netflix(tmp_path, cache=False)
    assert capsys.readouterr().out == ""


def test_small_blocks_carry_movies_across_blocks(tmp_path, monkeypatch):
    # tiny blocks cut files mid-movie: the movie must carry over, and line
    # numbers of errors must stay right
    ratings = {m: [(u, 1 + u % 5, "2004-02-29") for u in range(1, 40)] for m in (7, 8)}
    write_netflix(tmp_path, ratings, "combined", n_files=1)
    monkeypatch.setattr(_netflix, "_CHUNK_BYTES", 64)
    check_frame(load_netflix(tmp_path, cache=False), ratings)
    path = tmp_path / "combined_data_1.txt"
    lines = path.read_text().splitlines()
    lines[60] = "12,9,2004-02-29"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"combined_data_1.txt, line 61: rating 9"):
        load_netflix(tmp_path, cache=False)


def test_columns_grow_when_files_hold_more_lines_than_expected(tmp_path, monkeypatch):
    # the columns are sized from the file sizes; if that bound is ever wrong
    # (a file growing while read), they grow instead of overflowing
    write_netflix(tmp_path, RATINGS, "combined")
    monkeypatch.setitem(_netflix._MIN_LINE_BYTES, "ratings", 10_000)
    monkeypatch.setattr(_netflix, "_CHUNK_BYTES", 40)
    check_frame(load_netflix(tmp_path, cache=False), RATINGS)


# ------------------------------------------------------------ property test
dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
line = st.tuples(st.integers(1, 2**31 - 1), st.integers(1, 5), dates.map(str))
movies = st.dictionaries(
    st.one_of(st.integers(1, 17_770), st.integers(1, 9_999_999)),
    st.lists(line, max_size=6),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None)
@given(
    ratings=movies,
    layout=st.sampled_from(["training_set", "combined"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    block=st.integers(16, 300),
)
def test_random_files_read_back_exactly(ratings, layout, newline, block):
    if layout == "training_set":
        ratings = dict(sorted(ratings.items()))  # files are read in name order
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(_netflix, "_CHUNK_BYTES", block),
    ):
        write_netflix(tmp, ratings, layout, newline, n_files=min(3, len(ratings)))
        data = load_netflix(tmp, cache=False)
    check_frame(data, ratings)


# -------------------------------------------------------------------- cache
def test_cache_is_reused_and_invalidated(tmp_path):
    src, cache_dir = tmp_path / "netflix", tmp_path / "cache"
    write_netflix(src, RATINGS)
    (src / "probe.txt").write_text("1:\n822109\n")
    first = load_netflix(src, cache_dir=cache_dir)
    folder = Path(first.cache_path)
    assert folder.parent == cache_dir and (folder / "user.npy").is_file()
    for npy in folder.glob("*.npy"):
        np.load(npy, allow_pickle=False)  # plain arrays, no pickle
    # a hit never parses
    with mock.patch.object(_netflix, "_parse_all", side_effect=AssertionError):
        second = load_netflix(src, cache_dir=cache_dir)
    pd.testing.assert_frame_equal(first.frame, second.frame)
    np.testing.assert_array_equal(first.probe, second.probe)
    assert second.cache_path == first.cache_path

    # editing a source file (size and mtime change) misses the cache
    path = src / "training_set" / "mv_0000030.txt"
    path.write_text("30:\n6,2,1999-11-11\n7,5,2001-01-01\n")
    os.utime(path, ns=(1, 1))
    third = load_netflix(src, cache_dir=cache_dir)
    assert third.cache_path != first.cache_path
    assert third.frame["user"].tolist()[-2:] == [6, 7]
    # the stale cache is gone and no temporary folder is left behind
    assert [p.name for p in cache_dir.iterdir()] == [Path(third.cache_path).name]


def test_unreadable_cache_is_rebuilt(tmp_path):
    write_netflix(tmp_path / "src", RATINGS)
    first = load_netflix(tmp_path / "src", cache_dir=tmp_path / "cache")
    (Path(first.cache_path) / "user.npy").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="ignoring the unreadable cache"):
        again = load_netflix(tmp_path / "src", cache_dir=tmp_path / "cache")
    check_frame(again, RATINGS)


def test_unwritable_cache_only_warns(tmp_path):
    write_netflix(tmp_path / "src", RATINGS)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.warns(UserWarning, match="could not write the cache"):
        data = load_netflix(tmp_path / "src", cache_dir=blocker / "cache")
    check_frame(data, RATINGS)


def test_default_cache_dir_follows_skembrec_data(tmp_path, monkeypatch):
    monkeypatch.setenv("SKEMBREC_DATA", str(tmp_path / "home"))
    write_netflix(tmp_path / "src", RATINGS)
    data = load_netflix(tmp_path / "src")
    assert Path(data.cache_path).parent == tmp_path / "home" / "netflix_cache"


# -------------------------------------------------------------- bad input
GOOD = "1:\n1488844,3,2005-09-06\n"


@pytest.mark.parametrize(
    "text, line, reason",
    [
        (GOOD + "822109,6,2005-05-13\n", 3, "rating 6 outside 1..5"),
        (GOOD + "822109,0,2005-05-13\n", 3, "rating 0 outside 1..5"),
        (GOOD + "8221x9,5,2005-05-13\n", 3, "expected CustomerID,Rating,YYYY-MM-DD"),
        (GOOD + "822109,5,2005-13-01\n", 3, "invalid date '2005-13-01'"),
        (GOOD + "822109,5,2005-02-29\n", 3, "no such day"),
        (GOOD + "822109,5,2005/05/13\n", 3, "expected YYYY-MM-DD"),
        (GOOD + "822109,5\n", 3, "got '822109,5'"),
        (GOOD + "822109,5,2005-05-1\n", 3, "expected CustomerID,Rating,YYYY-MM-DD"),
        (GOOD + "822109,5,2005-05-13,1\n", 3, "expected CustomerID,Rating"),
        (GOOD + ",5,2005-05-13\n", 3, "expected CustomerID,Rating"),
        (GOOD + "9999999999,5,2005-05-13\n", 3, "beyond 2147483647"),
        (GOOD + "\n822109,5,2005-05-13\n", 3, "empty line"),
        (GOOD + "x:\n", 3, "expected 'MovieID:'"),
        (GOOD + "822109,3.5,2005-05-13\n", 3, "expected CustomerID,Rating"),
        ("1488844,3,2005-09-06\n", 1, "expected a 'MovieID:' line first"),
        ("", 1, "empty file"),
    ],
)
@pytest.mark.parametrize("layout", ["training_set", "combined"])
def test_malformed_ratings_name_file_and_line(tmp_path, text, line, reason, layout):
    write_netflix(
        tmp_path, {5: [(1, 1, "2001-01-01")], 6: [(2, 2, "2002-02-02")]}, layout
    )
    if layout == "training_set":
        bad = tmp_path / "training_set" / "mv_0000006.txt"
    else:
        bad = tmp_path / "combined_data_2.txt"
    bad.write_text(text)
    with pytest.raises(ValueError) as info:
        load_netflix(tmp_path, cache=False)
    message = str(info.value)
    assert message.startswith(f"{bad}, line {line}: ")
    assert reason in message


@pytest.mark.parametrize(
    "name, text, line, reason",
    [
        ("probe.txt", "1:\n1488844\nabc\n", 3, "expected CustomerID"),
        ("probe.txt", "1:\n1488844\n2:\n5\n", 4, "(movie 2, customer 5) is not among"),
        ("probe.txt", "1488844\n", 1, "expected a 'MovieID:' line first"),
        ("qualifying.txt", "1:\n5,2005-09-06\n6,2005-09-31\n", 3, "no such day"),
        ("qualifying.txt", "1:\n5,2005-09-06,3\n", 2, "expected CustomerID,YYYY-MM-DD"),
        (
            "movie_titles.txt",
            "1,2003,Dinosaur Planet\n2,20x3,Isle\n",
            2,
            "MovieID,Year",
        ),
        ("movie_titles.txt", "1,2003\n", 1, "MovieID,Year,Title"),
    ],
)
def test_malformed_extras_name_file_and_line(tmp_path, name, text, line, reason):
    write_netflix(tmp_path, RATINGS)
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError) as info:
        load_netflix(tmp_path, cache=False)
    assert str(info.value).startswith(f"{tmp_path / name}, line {line}: ")
    assert reason in str(info.value)


def test_missing_folder_or_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_netflix(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no Netflix ratings"):
        load_netflix(tmp_path)
    (tmp_path / "training_set").mkdir()
    with pytest.raises(FileNotFoundError, match="no mv_"):
        load_netflix(tmp_path)


# ---------------------------------------------------------------- real data
@pytest.mark.realdata
def test_real_movie_titles():
    folder = find_dataset("netflix-sample")
    if folder is None:
        pytest.skip("../shared/datasets/netflix-sample is absent")
    titles = _netflix._read_titles(folder / "movie_titles.txt")
    assert len(titles) == 17_770
    assert titles["item"].tolist() == list(range(1, 17_771))
    assert titles["year"].isna().sum() > 0  # 'NULL' years
    assert titles.loc[titles["item"] == 4388, "year"].isna().all()
    assert titles["title"].str.contains(",").sum() > 0  # commas kept in titles
    assert "\xe9" in titles["title"].iloc[6482]  # the latin-1 byte of line 6483
