"""Tests of load_movielens: every GroupLens format, side files, bad input."""

import gzip
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import PredefinedSplit

from skembrec.datasets import find_dataset, load_movielens

ROWS = [
    (196, 242, 3.0, 881250949),
    (186, 302, 3.5, 891717742),
    (22, 377, 1.0, 878887116),
]


def render(rows, fmt, newline="\n"):
    """Text of a ratings file of the given format ("tab", "dat", "csv")."""
    sep = {"tab": "\t", "dat": "::", "csv": ","}[fmt]
    lines = [sep.join([str(u), str(i), f"{r:g}", str(t)]) for u, i, r, t in rows]
    if fmt == "csv":
        lines.insert(0, "userId,movieId,rating,timestamp")
    return "".join(line + newline for line in lines)


def write(path, text, compress=False):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("latin-1") if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def check_frame(frame, rows):
    assert list(frame.columns) == ["user", "item", "timestamp", "rating"]
    assert frame.dtypes.to_dict() == {
        "user": np.int32,
        "item": np.int32,
        "timestamp": np.int64,
        "rating": np.float32,
    }
    expected = [[u, i, t, r] for u, i, r, t in rows]
    assert frame.to_numpy(np.float64).tolist() == expected


FILES = {"tab": "u.data", "dat": "ratings.dat", "csv": "ratings.csv"}


@pytest.mark.parametrize("fmt", ["tab", "dat", "csv"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("compress", [False, True])
def test_formats_folder_and_file(tmp_path, fmt, newline, compress):
    name = FILES[fmt] + (".gz" if compress else "")
    path = write(tmp_path / "release" / name, render(ROWS, fmt, newline), compress)
    by_folder = load_movielens(tmp_path / "release")
    check_frame(by_folder.frame, ROWS)
    assert by_folder.ratings_file == str(path)
    by_file = load_movielens(path)
    check_frame(by_file.frame, ROWS)
    assert by_file.movies is None and by_file.folds is None and by_file.splits == {}


def test_format_sniffed_from_content(tmp_path):
    for fmt in ("tab", "dat", "csv"):
        path = write(tmp_path / f"{fmt}.txt", render(ROWS, fmt))
        check_frame(load_movielens(path).frame, ROWS)
    odd = write(tmp_path / "odd.txt", "196 242 3 881250949\n")
    with pytest.raises(
        ValueError, match=r"odd.txt, line 1: cannot tell the MovieLens format"
    ):
        load_movielens(odd)


@pytest.mark.parametrize("name", ["ratings.csv", "sniffed.txt"])
def test_a_utf8_byte_order_mark_is_not_part_of_the_header(tmp_path, name):
    # what Excel's "CSV UTF-8" writes
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + render(ROWS, "csv").encode("utf-8"))
    check_frame(load_movielens(path).frame, ROWS)


def test_partial_release_found_by_glob(tmp_path):
    # like ../shared/datasets/ml-1m: only ratings_users_1-2999.dat.gz
    write(tmp_path / "ratings_users_1-2.dat.gz", render(ROWS, "dat"), compress=True)
    write(tmp_path / "movies.dat", "242::Kolya (1996)::Comedy\n")
    data = load_movielens(tmp_path)
    check_frame(data.frame, ROWS)
    write(tmp_path / "ratings_users_3-4.dat.gz", render(ROWS, "dat"), compress=True)
    with pytest.raises(ValueError, match="several ratings files"):
        load_movielens(tmp_path)


def test_return_shapes(tmp_path):
    write(tmp_path / "ratings.csv", render(ROWS, "csv"))
    X, y = load_movielens(tmp_path, return_X_y=True)
    assert list(X.columns) == ["user", "item", "timestamp"]
    assert y.name == "rating" and y.tolist() == [3.0, 3.5, 1.0]
    X, y = load_movielens(tmp_path, return_X_y=True, as_frame=False)
    assert isinstance(X, np.ndarray) and X.tolist()[1] == [186, 302, 891717742]
    bunch = load_movielens(tmp_path, as_frame=False)
    assert bunch.frame is None and bunch.target.dtype == np.float32
    assert bunch.feature_names == ["user", "item", "timestamp"]


def test_release_names_resolve_under_data_home(tmp_path, monkeypatch):
    write(tmp_path / "ml-1m" / "ratings.dat", render(ROWS, "dat"))
    check_frame(load_movielens("ml-1m", data_home=tmp_path).frame, ROWS)
    with pytest.raises(FileNotFoundError, match="fetch_movielens"):
        load_movielens("ml-20m", data_home=tmp_path)
    monkeypatch.setenv("SKEMBREC_DATA", str(tmp_path))
    check_frame(load_movielens("ml-1m").frame, ROWS)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_movielens(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no MovieLens ratings file"):
        load_movielens(tmp_path / "empty")


# ------------------------------------------------------------ side files
def test_movies_from_u_item(tmp_path):
    write(tmp_path / "u.data", render(ROWS, "tab"))
    flags = ["0"] * 19
    flags[5] = flags[8] = "1"  # Comedy, Drama
    write(
        tmp_path / "u.item",
        "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/x|" + "|".join(flags) + "\n"
        "302|L.A. Confidential (1997)|01-Jan-1997||http://x|"
        + "|".join(["0"] * 19)
        + "\n"
        "377|Caf\xe9 (1994)|01-Jan-1994||http://x|"
        + "|".join(["0"] * 18 + ["1"])
        + "\n",
    )
    movies = load_movielens(tmp_path).movies
    assert movies["item"].tolist() == [242, 302, 377]
    assert movies["title"].tolist()[2] == "Café (1994)"  # latin-1
    assert movies["genres"].tolist() == ["Comedy|Drama", "", "Western"]


def test_movies_from_dat_and_csv(tmp_path):
    write(tmp_path / "a" / "ratings.dat", render(ROWS, "dat"))
    write(tmp_path / "a" / "movies.dat", "1::Toy Story (1995)::Animation|Comedy\n")
    movies = load_movielens(tmp_path / "a").movies
    assert movies.to_numpy().tolist() == [[1, "Toy Story (1995)", "Animation|Comedy"]]
    write(tmp_path / "b" / "ratings.csv", render(ROWS, "csv", "\r\n"))
    write(
        tmp_path / "b" / "movies.csv",
        'movieId,title,genres\r\n11,"American President, The (1995)",Comedy|Drama\r\n'
        '12,"Dr. ""Strangelove"" (1964)",Comedy\r\n',
    )
    movies = load_movielens(tmp_path / "b").movies
    assert movies["title"].tolist() == [
        "American President, The (1995)",
        'Dr. "Strangelove" (1964)',
    ]
    assert movies["item"].dtype == np.int32


def test_official_100k_splits(tmp_path):
    rows = [
        (u, i, 1 + (u + i) % 5, 880000000 + u * 10 + i)
        for u in (1, 2)
        for i in range(1, 6)
    ]
    write(tmp_path / "u.data", render(rows, "tab"))
    for k in range(1, 6):  # u{k}.test holds the k-th rating of each user
        write(tmp_path / f"u{k}.test", render([rows[k - 1], rows[k + 4]], "tab"))
    write(tmp_path / "ua.test", render([rows[0], rows[9]], "tab"))
    data = load_movielens(tmp_path)
    assert data.folds.tolist() == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]
    assert data.splits["ua"].tolist() == [True] + [False] * 8 + [True]
    assert "ub" not in data.splits
    cv = PredefinedSplit(data.folds)
    assert cv.get_n_splits() == 5
    for k, (train, test) in enumerate(cv.split()):
        assert test.tolist() == [k, k + 5]
        assert len(train) == 8
    # a test pair that is not a rating is an error naming the file and line
    write(tmp_path / "u3.test", render([rows[2], (9, 9, 1, 1)], "tab"))
    with pytest.raises(ValueError, match=r"u3.test, line 2: \(user, item\) = \(9, 9\)"):
        load_movielens(tmp_path)


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "fmt, text, line, reason",
    [
        ("tab", "1\t2\t3\t4\n5\t6\t7\t8\n", 2, "rating 7 outside 0.5..5"),
        ("tab", "1\t2\t3\t4\n5\t6\t0\t8\n", 2, "rating 0 outside 0.5..5"),
        ("tab", "1\t2\t3\t4\n5\t6\t2.7\t8\n", 2, "outside 0.5..5 in half-star steps"),
        ("tab", "1\t2\t3\t4\n5\tx\t3\t8\n", 2, "item: expected an integer, got 'x'"),
        ("tab", "1\t2\t3\t4\n5\t6\t3\n", 2, "expected 4 fields, found 3"),
        (
            "tab",
            "1\t2\t3\t4\n5\t\t3\t7\n",
            2,
            "item: expected an integer, missing field",
        ),
        ("tab", "1\t2\t3\t4\n5\t6\t3\t8\t9\n", 2, "expected 4 fields, found 5"),
        ("tab", "1\t2\t3\t4\n\n5\t6\t3\t8\n", 2, "empty line"),
        ("tab", "1\t2\t3\t4\n5\t6.5\t3\t8\n", 2, "item: expected an integer, got 6.5"),
        ("tab", "1\t2\t3\t4\n-5\t6\t3\t8\n", 2, "user -5 outside 0..2147483647"),
        (
            "tab",
            "1\t2\t3\t4\n5\t6\tnan\t8\n",
            2,
            "rating: expected a number, got 'nan'",
        ),
        ("tab", "1\t2\t3\t4\n5\t6\t3\t99999999999999999999\n", 2, "timestamp"),
        ("tab", "", 1, "empty file"),
        ("dat", "1::2::3::4\n5::6::3:8\n", 2, "found 3: '5::6::3:8'"),
        (
            "dat",
            "1::2::3::4\n5::6::3::x8\n",
            2,
            "timestamp: expected an integer, got 'x8'",
        ),
        ("dat", "1::2::3::4\n5::6::3::8::1\n", 2, "expected 4 fields, found 5"),
        ("dat", "1::2::3::4\n5::6::3\n", 2, "expected 4 fields, found 3"),
        (
            "csv",
            "1,2,3,4\n",
            1,
            "expected the header 'userId,movieId,rating,timestamp'",
        ),
        ("csv", "", 1, "empty file"),
        ("csv", "userId,movieId,rating,timestamp\n", 2, "no ratings after the header"),
        (
            "csv",
            "userId,movieId,rating,timestamp\r\n1,2,3,4\r\n1,2,5.5,4\r\n",
            3,
            "5.5",
        ),
        ("csv", "userId,movieId,rating,timestamp\n1,2,3,4\n1,2,3,4,5\n", 3, "found 5"),
    ],
)
@pytest.mark.parametrize("compress", [False, True])
def test_malformed_names_file_and_line(tmp_path, fmt, text, line, reason, compress):
    path = write(tmp_path / (FILES[fmt] + (".gz" if compress else "")), text, compress)
    with pytest.raises(ValueError) as info:
        load_movielens(tmp_path)
    assert str(info.value).startswith(f"{path}, line {line}: ")
    assert reason in str(info.value)


def test_malformed_side_files(tmp_path):
    write(tmp_path / "ratings.dat", render(ROWS, "dat"))
    write(
        tmp_path / "movies.dat", "1::Toy Story (1995)::Animation\nx::Jumanji::Fantasy\n"
    )
    with pytest.raises(ValueError, match=r"movies.dat, line 2: expected an item id"):
        load_movielens(tmp_path)
    write(tmp_path / "movies.dat", "1::Toy Story (1995)\n")
    with pytest.raises(
        ValueError, match=r"movies.dat, line 1: expected MovieID::Title"
    ) as info:
        load_movielens(tmp_path)
    # the error survives pickling (joblib workers send exceptions back)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.line == 1


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(render(ROWS, "dat").encode())
    path = write(tmp_path / "ratings.dat.gz", data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt gzip"):
        load_movielens(path)


# ---------------------------------------------------------- property test
ratings = st.lists(
    st.tuples(
        st.integers(0, 2**31 - 1),
        st.integers(0, 2**31 - 1),
        st.integers(1, 10).map(lambda k: k / 2),
        st.integers(0, 2**40),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=ratings,
    fmt=st.sampled_from(["tab", "dat", "csv"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    compress=st.booleans(),
)
def test_random_files_read_back_exactly(rows, fmt, newline, compress):
    with tempfile.TemporaryDirectory() as tmp:
        name = FILES[fmt] + (".gz" if compress else "")
        write(Path(tmp) / name, render(rows, fmt, newline), compress)
        frame = load_movielens(tmp).frame
    check_frame(frame, rows)


# -------------------------------------------------------------- real data
def real(name):
    folder = find_dataset(name)
    if folder is None:
        pytest.skip(f"../shared/datasets/{name} is absent (set SKEMBREC_DATA)")
    return folder


@pytest.mark.realdata
def test_real_ml_100k():
    real("ml-100k")
    data = load_movielens("ml-100k")
    frame = data.frame
    assert frame.shape == (100_000, 4)
    assert frame["user"].nunique() == 943 and frame["item"].nunique() == 1682
    assert set(frame["rating"].unique()) == {1, 2, 3, 4, 5}
    assert frame["timestamp"].min() == 874724710
    assert frame["timestamp"].max() == 893286638
    assert np.bincount(data.folds).tolist() == [20_000] * 5
    assert data.splits["ua"].sum() == data.splits["ub"].sum() == 9_430
    # 10 test ratings per user in ua
    assert (frame.loc[data.splits["ua"], "user"].value_counts() == 10).all()
    assert len(data.movies) == 1682
    assert data.movies["title"].iloc[0] == "Toy Story (1995)"
    assert "SUMMARY" in data.DESCR


@pytest.mark.realdata
def test_real_ml_latest_small():
    real("ml-latest-small")
    frame = load_movielens("ml-latest-small").frame
    assert frame.shape == (100_836, 4)
    assert frame["user"].nunique() == 610 and frame["item"].nunique() == 9_724
    assert sorted(frame["rating"].unique()) == [k / 2 for k in range(1, 11)]
    assert frame["timestamp"].min() == 828124615
    assert frame["timestamp"].max() == 1537799250


@pytest.mark.realdata
def test_real_ml_1m_subset():
    folder = real("ml-1m")
    data = load_movielens(folder)
    frame = data.frame
    assert frame.shape == (487_650, 4)
    assert frame["user"].nunique() == 2_999 and frame["user"].max() == 2_999
    assert frame["item"].nunique() == 3_615
    assert data.ratings_file.endswith("ratings_users_1-2999.dat.gz")
    assert len(data.movies) == 3_883
    assert set(frame["item"]) <= set(data.movies["item"])
    pd.testing.assert_frame_equal(load_movielens("ml-1m").frame, frame)
