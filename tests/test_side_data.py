"""Side data (users and items frames, side_features=True) and the cold-start splitters."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GridSearchCV, cross_validate

from skembrec.datasets import find_dataset, load_movielens, load_netflix
from skembrec.model_selection import ColdUserSplit, ItemHoldoutSplit


def write(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("latin-1"))
    return path


def flags(*on, n=19):
    return "|".join("1" if k in on else "0" for k in range(n))


def release_100k(folder):
    """A tiny 100K folder; user 9 and item 99 are absent from the side files."""
    write(folder / "u.data", "1\t10\t4\t100\n2\t11\t3\t200\n9\t10\t5\t300\n1\t99\t2\t400\n")
    write(folder / "u.user", "1|24|M|technician|85711\n2|53|F|other|E2A4H\n")
    write(
        folder / "u.item",
        f"10|Kolya (1996)|24-Jan-1997||http://x|{flags(5, 8)}\n"
        f"11|Caf\xe9|01-Jan-1994||http://x|{flags()}\n",
    )
    return folder


# ------------------------------------------------------------------ frames
def test_100k_frames(tmp_path):
    data = load_movielens(release_100k(tmp_path))
    users = data.users
    assert users.index.name == "user" and users.index.dtype == np.int32
    assert list(users.columns) == ["age", "gender", "occupation", "zip_code"]
    assert users["age"].dtype == np.int16
    assert users.loc[1].tolist() == [24, "M", "technician", "85711"]
    assert users.loc[2, "zip_code"] == "E2A4H"
    items = data["items"]  # data.items is the dict method
    assert items.index.name == "item" and items.index.dtype == np.int32
    assert list(items.columns) == ["title", "genres", "year"]
    assert items["genres"].tolist() == ["Comedy|Drama", ""]
    # the title's year, else the release date's (latin-1 title kept)
    assert items["year"].dtype == "Int16" and items["year"].tolist() == [1996, 1994]
    assert items.loc[11, "title"] == "Caf\xe9"
    # the existing key is unchanged
    assert data.movies.columns.tolist() == ["item", "title", "genres"]


def test_1m_and_csv_frames(tmp_path):
    a = tmp_path / "a"
    write(a / "ratings.dat", "1::10::4::100\n")
    write(a / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::0::x\n")
    write(
        a / "movies.dat",
        "10::Land Before Time III (1995) (V)::Animation\n11::Babylon 5::Sci-Fi\n"
        "12::Death Note (2006\u20132007)::Anime\n".encode("utf-8").decode("latin-1"),
    )
    data = load_movielens(a)
    assert data.users["occupation"].tolist() == ["K-12 student", "self-employed", "other"]
    assert data.users["age"].tolist() == [1, 56, 25]
    year = data["items"]["year"]
    assert year.loc[10] == 1995 and pd.isna(year.loc[11]) and year.loc[12] == 2006
    b = tmp_path / "b"
    write(b / "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,100\r\n")
    write(
        b / "movies.csv",
        'movieId,title,genres\r\n1,"Dr. ""Strangelove"" (1964)",Comedy\r\n'
        "2,Hyena Road,(no genres listed)\r\n",
    )
    data = load_movielens(b)
    assert data.users is None
    assert data["items"]["genres"].tolist() == ["Comedy", ""]
    assert data.movies["genres"].tolist() == ["Comedy", "(no genres listed)"]
    assert data["items"]["year"].iloc[0] == 1964 and pd.isna(data["items"]["year"].iloc[1])


def test_a_single_ratings_file_has_no_side_frames(tmp_path):
    release_100k(tmp_path)
    data = load_movielens(tmp_path / "u.data")
    assert data.users is None and data["items"] is None
    with pytest.raises(ValueError, match="pass the release folder"):
        load_movielens(tmp_path / "u.data", side_features=True)


# ----------------------------------------------------------------- joining
def test_side_features_join_per_rating(tmp_path):
    release_100k(tmp_path)
    X, y = load_movielens(tmp_path, side_features=True, return_X_y=True)
    assert X.columns.tolist() == [
        "user", "item", "timestamp", "age", "gender", "occupation", "zip_code",
        "genres", "year",
    ]
    assert y.tolist() == [4, 3, 5, 2]
    assert X["age"].dtype == np.float64 and X["year"].dtype == np.float64
    assert X["age"].tolist()[:2] == [24.0, 53.0] and np.isnan(X["age"].iloc[2])
    # user 9 and item 99 are in neither side file: NaN or "", never a crash
    assert X["occupation"].tolist() == ["technician", "other", "", "technician"]
    assert X["genres"].tolist() == ["Comedy|Drama", "", "Comedy|Drama", ""]
    assert X["year"].iloc[:3].tolist() == [1996, 1994, 1996] and np.isnan(X["year"].iloc[3])
    data = load_movielens(tmp_path, side_features=True)
    assert data.frame.columns.tolist() == [*X.columns, "rating"]
    assert data.feature_names == X.columns.tolist()
    pd.testing.assert_frame_equal(data.data, X)
    arrays = load_movielens(tmp_path, side_features=True, as_frame=False)
    assert arrays.frame is None and arrays.data.dtype == object
    assert arrays.data[0].tolist()[:5] == [1, 10, 100, 24.0, "M"]


def test_side_features_as_a_list_and_its_errors(tmp_path):
    release_100k(tmp_path)
    X, _ = load_movielens(tmp_path, side_features=["genres", "title"], return_X_y=True)
    assert X.columns.tolist() == ["user", "item", "timestamp", "genres", "title"]
    assert X["title"].tolist()[:2] == ["Kolya (1996)", "Caf\xe9"]
    with pytest.raises(ValueError, match="'height' is not a side column"):
        load_movielens(tmp_path, side_features=["height"])
    with pytest.raises(ValueError, match="names a column twice"):
        load_movielens(tmp_path, side_features=["age", "age"])
    with pytest.raises(TypeError, match="side_features must be a bool"):
        load_movielens(tmp_path, side_features="age")
    (tmp_path / "u.user").unlink()
    X, _ = load_movielens(tmp_path, side_features=True, return_X_y=True)
    assert X.columns.tolist() == ["user", "item", "timestamp", "genres", "year"]
    with pytest.raises(ValueError, match=r"asks for \['age'\], but no users file"):
        load_movielens(tmp_path, side_features=["age", "genres"])


def test_default_output_is_unchanged_by_side_files(tmp_path):
    release_100k(tmp_path / "with")
    write(tmp_path / "without" / "u.data", (tmp_path / "with" / "u.data").read_text())
    for kwargs in ({}, {"as_frame": False}):
        a = load_movielens(tmp_path / "with", return_X_y=True, **kwargs)
        b = load_movielens(tmp_path / "without", return_X_y=True, **kwargs)
        for left, right in zip(a, b):
            assert type(left) is type(right)
            assert pickle.dumps(np.asarray(left)) == pickle.dumps(np.asarray(right))
    bunch = load_movielens(tmp_path / "with")
    assert bunch.feature_names == ["user", "item", "timestamp"]
    assert bunch.frame.columns.tolist() == ["user", "item", "timestamp", "rating"]


# ---------------------------------------------------------- malformed files
@pytest.mark.parametrize(
    "name, text, line, reason",
    [
        ("u.user", "1|24|M|technician|85711\n2|53|F|other\n", 2, "expected user|age"),
        ("u.user", "1|24|M|a|1\n2|old|F|b|2\n", 2, "expected an age, got 'old'"),
        ("u.user", "x|24|M|a|1\n", 1, "expected a user id"),
        ("u.user", "1|24|M|a|1\n\n1|30|F|b|2\n", 3, "user id 1 is listed twice"),
        ("users.dat", "1::F::1::10::48067\n2::M::25::21::1\n", 2, "occupation code 21"),
        ("users.dat", "1::F::1::10\n", 1, "expected UserID::Gender"),
        ("users.dat", "1::F::-3::10::1\n", 1, "age -3 outside"),
    ],
)
def test_malformed_users_files_name_file_and_line(tmp_path, name, text, line, reason):
    write(tmp_path / "ratings.dat", "1::10::4::100\n")
    write(tmp_path / name, text)
    with pytest.raises(ValueError, match=rf"{name}, line {line}: {reason}"):
        load_movielens(tmp_path)


def test_a_repeated_movie_id_names_file_and_line(tmp_path):
    write(tmp_path / "ratings.dat", "1::10::4::100\n")
    write(tmp_path / "movies.dat", "10::A (1990)::Drama\n11::B::Drama\n10::C::Drama\n")
    with pytest.raises(
        ValueError, match=r"movies.dat, line 3: item id 10 is listed twice \(first on line 1\)"
    ):
        load_movielens(tmp_path)


# ----------------------------------------------------------------- Netflix
def test_netflix_items(tmp_path):
    write(tmp_path / "combined_data_1.txt", "1:\n7,3,2005-09-06\n2:\n8,4,2005-09-05\n")
    write(tmp_path / "movie_titles.txt", "1,2003,Dinosaur Planet\n2,NULL,Caf\xe9, Sweet\n")
    items = load_netflix(tmp_path, cache=False)["items"]
    assert items.index.name == "item" and items.index.dtype == np.int32
    assert items.columns.tolist() == ["title", "year"]
    assert items.loc[2, "title"] == "Caf\xe9, Sweet" and pd.isna(items.loc[2, "year"])
    write(tmp_path / "movie_titles.txt", "1,2003,A\n2,2004,B\n1,2005,C\n")
    with pytest.raises(ValueError, match=r"movie_titles.txt, line 3: movie id 1 is listed"):
        load_netflix(tmp_path, cache=False)
    (tmp_path / "movie_titles.txt").unlink()
    assert load_netflix(tmp_path, cache=False)["items"] is None


# --------------------------------------------------------------- real data
def real(name):
    folder = find_dataset(name)
    if folder is None:
        pytest.skip(f"../shared/datasets/{name} is absent (set SKEMBREC_DATA)")
    return folder


@pytest.mark.realdata
def test_real_ml_100k_side_data():
    real("ml-100k")
    data = load_movielens("ml-100k", side_features=True)
    users, items = data.users, data["items"]
    assert users.shape == (943, 4) and items.shape == (1682, 3)
    assert users.index.tolist() == list(range(1, 944))
    assert users.loc[1].tolist() == [24, "M", "technician", "85711"]
    assert users["occupation"].nunique() == 21 and set(users["gender"]) == {"M", "F"}
    assert items.loc[1].tolist() == ["Toy Story (1995)", "Animation|Children's|Comedy", 1995]
    assert items["year"].isna().sum() == 1  # item 267, "unknown"
    assert pd.isna(items.loc[267, "year"]) and items.loc[1412, "year"] == 1995
    frame = data.frame
    assert frame.shape == (100_000, 10)
    # every rating has its user's and its item's values
    assert (frame["age"].to_numpy() == users["age"].loc[frame["user"]].to_numpy()).all()
    assert (frame["genres"].to_numpy() == items["genres"].loc[frame["item"]].to_numpy()).all()
    assert frame.iloc[0][["user", "item", "age", "occupation", "genres", "year"]].tolist() == [
        196, 242, 49.0, "writer", "Comedy", 1996.0
    ]
    plain = load_movielens("ml-100k")
    pd.testing.assert_frame_equal(plain.frame, frame[["user", "item", "timestamp", "rating"]])
    assert plain.data.columns.tolist() == ["user", "item", "timestamp"]


@pytest.mark.realdata
def test_real_ml_1m_side_data():
    folder = real("ml-1m")
    X, y = load_movielens(folder, side_features=True, return_X_y=True)
    data = load_movielens(folder)
    users, items = data.users, data["items"]
    assert users.shape == (6040, 4) and items.shape == (3883, 3)
    assert users.loc[1].tolist() == [1, "F", "K-12 student", "48067"]
    assert users.loc[6040].tolist() == [25, "M", "doctor/health care", "11106"]
    assert sorted(users["age"].unique()) == [1, 18, 25, 35, 45, 50, 56]
    assert users["occupation"].nunique() == 21
    assert items["year"].notna().all() and items["year"].min() == 1919
    assert len(X) == len(y) == 487_650
    assert X.notna().all().all() and (X["gender"] != "").all()
    assert X.iloc[0][["user", "item", "gender", "genres", "year"]].tolist() == [
        1, 1193, "F", "Drama", 1975.0
    ]


@pytest.mark.realdata
def test_real_ml_latest_small_side_data():
    real("ml-latest-small")
    X, _ = load_movielens("ml-latest-small", side_features=True, return_X_y=True)
    data = load_movielens("ml-latest-small")
    assert data.users is None and data["items"].shape == (9742, 3)
    assert (data["items"]["genres"] == "").sum() == 34  # "(no genres listed)"
    assert data["items"]["year"].isna().sum() == 12
    assert X.columns.tolist() == ["user", "item", "timestamp", "genres", "year"]
    assert len(X) == 100_836


@pytest.mark.realdata
def test_real_netflix_titles_as_items(tmp_path):
    titles = real("netflix-sample") / "movie_titles.txt"
    # the real titles beside a made-up ratings file, linked, not copied
    (tmp_path / "movie_titles.txt").symlink_to(titles)
    write(tmp_path / "combined_data_1.txt", "1:\n7,3,2005-09-06\n")
    items = load_netflix(tmp_path, cache=False)["items"]
    assert items.shape == (17_770, 2) and items.index.tolist() == list(range(1, 17_771))
    assert items.loc[1].tolist() == ["Dinosaur Planet", 2003]
    assert pd.isna(items.loc[4388, "year"])


# --------------------------------------------------------------- splitters
def ratings(n_users=40, n_items=30, n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "user": rng.integers(0, n_users, n),
            "item": rng.integers(0, n_items, n),
            "timestamp": rng.integers(0, 50, n),  # many ties
        }
    )
    return X, rng.integers(1, 6, n).astype(float)


def test_item_holdout_holds_out_whole_items():
    X, _ = ratings()
    n_items = X["item"].nunique()
    cv = ItemHoldoutSplit(0.2, n_splits=3, random_state=0)
    folds = list(cv.split(X))
    assert len(folds) == cv.get_n_splits() == 3
    for train, test in folds:
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(X)))
        held = set(X["item"].iloc[test])
        assert len(held) == int(np.ceil(0.2 * n_items))
        assert held.isdisjoint(X["item"].iloc[train])
    assert len({frozenset(X["item"].iloc[t]) for _, t in folds}) == 3
    # reproducible with an int seed; a count of items; a named column
    again = list(ItemHoldoutSplit(0.2, n_splits=3, random_state=0).split(X))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    _, test = next(ItemHoldoutSplit(5, item_column="item", random_state=1).split(X))
    assert X["item"].iloc[test].nunique() == 5


def test_cold_users_without_fold_in():
    X, _ = ratings()
    cv = ColdUserSplit(7, n_splits=2, random_state=0)
    for (train, test), (train3, fold_in, test3) in zip(cv.split(X), cv.split_fold_in(X)):
        assert fold_in.size == 0
        assert np.array_equal(train, train3) and np.array_equal(test, test3)
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(X)))
        held = set(X["user"].iloc[test])
        assert len(held) == 7 and held.isdisjoint(X["user"].iloc[train])
        # every rating of a held-out user is test
        assert X["user"].iloc[test].value_counts().to_dict() == (
            X["user"].value_counts()[sorted(held)].to_dict()
        )


@pytest.mark.parametrize("time_column", ["timestamp", 2, None])
@pytest.mark.parametrize("n_fold_in", [3, 0.5])
def test_fold_in_rows_are_each_users_earliest(time_column, n_fold_in):
    X, y = ratings()
    X = X.to_numpy() if isinstance(time_column, int) else X
    table = pd.DataFrame(np.asarray(X), columns=["user", "item", "timestamp"])
    cv = ColdUserSplit(0.25, n_fold_in=n_fold_in, time_column=time_column, random_state=0)
    train, fold_in, test = next(cv.split_fold_in(X, y))
    everything = np.sort(np.concatenate([train, fold_in, test]))
    assert np.array_equal(everything, np.arange(len(table)))
    held = set(table["user"].iloc[np.concatenate([fold_in, test])])
    assert held.isdisjoint(table["user"].iloc[train])
    counts = table["user"].value_counts()
    eligible = counts[counts > (n_fold_in if isinstance(n_fold_in, int)
                                else np.ceil(n_fold_in * counts))]
    assert len(held) == int(np.ceil(0.25 * len(eligible))) and held <= set(eligible.index)
    for user in held:
        rows = np.flatnonzero(table["user"].to_numpy() == user)
        if time_column is not None:  # by time, ties by row order
            rows = rows[np.argsort(table["timestamp"].to_numpy()[rows], kind="stable")]
        k = n_fold_in if isinstance(n_fold_in, int) else int(np.ceil(n_fold_in * len(rows)))
        assert set(rows[:k]) == set(fold_in[np.isin(fold_in, rows)])
        assert set(rows[k:]) == set(test[np.isin(test, rows)]) and len(rows) > k
    # split gives the same train and test, the fold-in rows in neither
    train2, test2 = next(cv.split(X, y))
    assert np.array_equal(train, train2) and np.array_equal(test, test2)


def test_cold_user_split_is_reproducible_and_picklable():
    X, _ = ratings()
    cv = pickle.loads(pickle.dumps(ColdUserSplit(0.3, n_fold_in=2, n_splits=2,
                                                 random_state=3)))
    first = [f for fold in cv.split_fold_in(X) for f in fold]
    second = [f for fold in cv.split_fold_in(X) for f in fold]
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other = [f for fold in ColdUserSplit(0.3, n_fold_in=2, n_splits=2,
                                         random_state=4).split_fold_in(X) for f in fold]
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


@pytest.mark.parametrize("cv", [ItemHoldoutSplit(0.2, n_splits=2, random_state=0),
                                ColdUserSplit(0.2, n_fold_in=2, n_splits=2, random_state=0)],
                         ids=repr)
def test_cross_validate_with_funkmf(cv):
    from skembrec import FunkMF

    X, y = ratings()
    result = cross_validate(FunkMF(n_factors=4, n_epochs=1, random_state=0), X, y, cv=cv,
                            scoring="neg_root_mean_squared_error")
    assert len(result["test_score"]) == 2 and np.isfinite(result["test_score"]).all()
    search = GridSearchCV(FunkMF(n_epochs=1, random_state=0), {"n_factors": [2, 4]}, cv=cv,
                          scoring="neg_root_mean_squared_error").fit(X, y)
    assert search.n_splits_ == 2


@pytest.mark.parametrize(
    "cv, error, match",
    [
        (ItemHoldoutSplit(0), ValueError, "n_test_items must be >= 1"),
        (ItemHoldoutSplit(1.0), ValueError, "fraction of the items"),
        (ItemHoldoutSplit(True), TypeError, "n_test_items must be an int or a float"),
        (ItemHoldoutSplit("a"), TypeError, "n_test_items must be an int"),
        (ItemHoldoutSplit(30), ValueError, "holds out 30 of the 30 items"),
        (ItemHoldoutSplit(n_splits=0), ValueError, "n_splits must be >= 1"),
        (ItemHoldoutSplit(item_column="movie"), ValueError, "item_column='movie'"),
        (ColdUserSplit(0), ValueError, "n_test_users must be >= 1"),
        (ColdUserSplit(1.5), ValueError, "fraction of the users"),
        (ColdUserSplit(40), ValueError, "holds out all 40 users"),
        (ColdUserSplit(n_fold_in=-1), ValueError, "n_fold_in must be >= 1"),
        (ColdUserSplit(n_fold_in=1.0), ValueError, "n_fold_in=1.0"),
        (ColdUserSplit(n_fold_in=None), TypeError, "n_fold_in must be an int"),
        (ColdUserSplit(n_fold_in=1000), ValueError, "leaves no user with a rating"),
        (ColdUserSplit(39, n_fold_in=20), ValueError, r"more users than the \d+ users with"),
        (ColdUserSplit(n_fold_in=1, time_column=0), ValueError, "name the same column"),
        (ColdUserSplit(n_fold_in=1, time_column="when"), ValueError, "time_column='when'"),
        (ColdUserSplit(time_column=1.5), TypeError, "time_column must be an int"),
        (ColdUserSplit(random_state="x"), ValueError, None),
    ],
    ids=repr,
)
def test_bad_parameters_raise_at_the_call(cv, error, match):
    X, _ = ratings()
    methods = [cv.split] + ([cv.split_fold_in] if isinstance(cv, ColdUserSplit) else [])
    for method in methods:
        with pytest.raises(error, match=match):
            method(X)  # eager: raises before any fold is asked for


def test_groups_warn_naming_what_is_read():
    X, _ = ratings()
    with pytest.warns(UserWarning, match="items are read from the item column"):
        ItemHoldoutSplit(random_state=0).split(X, groups=np.zeros(len(X)))
    with pytest.warns(UserWarning, match="users are read from the user column"):
        ColdUserSplit(random_state=0).split_fold_in(X, groups=np.zeros(len(X)))
