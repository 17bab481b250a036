"""MovieLens ratings in their original GroupLens formats."""

import csv
import gzip
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._base import _as_output, find_dataset, get_data_home
from ._parse import ParseError, decode_text, is_gzip, read_bytes, shorten

RELEASES = (
    "ml-100k",
    "ml-1m",
    "ml-10m",
    "ml-20m",
    "ml-25m",
    "ml-32m",
    "ml-latest",
    "ml-latest-small",
)

_CSV_HEADER = "userId,movieId,rating,timestamp"
_INT32_MAX = 2**31 - 1
# far beyond any real date, and safe to compare as float64
_TS_MAX = 2**62
# raw column order of every MovieLens ratings file
_RAW_COLUMNS = ["user", "item", "rating", "timestamp"]
# u.genre of the 100K release, used when that file is absent
_GENRES_100K = (
    "unknown|Action|Adventure|Animation|Children's|Comedy|Crime|Documentary|"
    "Drama|Fantasy|Film-Noir|Horror|Musical|Mystery|Romance|Sci-Fi|Thriller|"
    "War|Western"
).split("|")
# occupation codes of the 1M users.dat, as its README lists them
_OCCUPATIONS_1M = (
    "other",  # 0: "other" or not specified
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)
# a year in parentheses, "(1995)" or "(2006-2007)"; the last one in a title
# is the film's ("Land Before Time III (1995) (V)")
_TITLE_YEAR = re.compile(r"\((\d{4})(?:\s*[-\u2013]\s*\d{0,4})?\)")
_USER_COLUMNS = ("age", "gender", "occupation", "zip_code")
_ITEM_COLUMNS = ("title", "genres", "year")
# what side_features=True joins: the attributes, not the title (one per item,
# an id in other words)
_DEFAULT_SIDE_COLUMNS = ("age", "gender", "occupation", "zip_code", "genres", "year")
_NUMERIC_SIDE = ("age", "year")


def load_movielens(
    name_or_path, data_home=None, return_X_y=False, as_frame=True, side_features=False
):
    """Load MovieLens ratings from the original GroupLens files.

    The format is detected from the file name (or, failing that, from the
    first line): 100K ``u.data`` (tab separated, no header), 1M/10M
    ``ratings.dat`` (``::`` separated, no header), 20M/25M/32M/latest
    ``ratings.csv`` (header ``userId,movieId,rating,timestamp``, LF or CRLF).
    Any of them may be gzip-compressed (``.gz`` or not, the content decides).

    Parameters
    ----------
    name_or_path : str or path-like
        A release name (``"ml-100k"``, ``"ml-1m"``, ``"ml-10m"``,
        ``"ml-20m"``, ``"ml-25m"``, ``"ml-32m"``, ``"ml-latest"``,
        ``"ml-latest-small"``), a folder holding a release, or a single
        ratings file. A folder is searched for ``u.data``, ``ratings.csv``,
        ``ratings.dat`` (each possibly ``.gz``), then for one file matching
        ``ratings*.csv*`` or ``ratings*.dat*``.
    data_home : str or path-like, default=None
        Where to look up a release name: ``data_home/<name>``. By default
        :func:`find_dataset` is asked (``SKEMBREC_DATA``, then
        ``../shared/datasets`` beside the checkout), then
        :func:`get_data_home`, where :func:`fetch_movielens` stores releases.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; otherwise NumPy arrays (an object array for
        ``X`` with side features).
    side_features : bool or list of str, default=False
        Join the users' and items' attributes to every rating, as further
        columns of ``X`` after ``user, item, timestamp`` (and before
        ``rating`` in ``frame``). True joins ``age``, ``gender``,
        ``occupation``, ``zip_code`` (from the users file) and ``genres``,
        ``year`` (from the movies file), those the release has; a list
        names the columns to join, among those and ``title``, and every one
        must be available. ``age`` and ``year`` become float64, NaN for a
        rating whose user (item) is not in the side file; the other columns
        are strings, empty for such a rating. Needs a release folder (a
        single ratings file has no side files). False keeps ``X`` as
        ``user, item, timestamp``.

    Returns
    -------
    data : Bunch or tuple ``(X, y)``
        In file order, one row per rating. ``frame`` has the columns
        ``user`` (int32), ``item`` (int32), ``timestamp`` (int64, seconds
        since the Unix epoch) and ``rating`` (float32, exact for half stars);
        ``data`` is its first three columns and ``target`` the ratings. The
        Bunch also holds:

        users : DataFrame or None
            One row per user of the users file (``u.user`` for 100K,
            ``users.dat`` for 1M), indexed by the raw user id (int32,
            named ``user``): ``age`` (int16; for 1M the code of the age
            range, its lower bound such as 25 for "25-34", and 1 for "Under
            18"), ``gender`` (``"M"``, ``"F"``), ``occupation`` (a name;
            1M codes are mapped to the names of its README, 0 to
            ``"other"``), ``zip_code`` (str). None for releases without a
            users file (10M and later) or when a single file was given.
        items : DataFrame or None
            One row per movie of ``u.item``, ``movies.dat`` or
            ``movies.csv``, indexed by the raw item id (int32, named
            ``item``): ``title``, ``genres`` (genre names joined by ``|``;
            empty for ``(no genres listed)``), ``year`` (nullable Int16:
            the last ``(YYYY)`` of the title, for 100K else the release
            date's year; missing when neither has one). None when absent.
            Read it as ``data["items"]``: a Bunch is a dict, and
            ``data.items`` is the dict's method.
        movies : DataFrame or None
            The movies file as read: ``item`` (int32), ``title``,
            ``genres`` (``|``-separated, as in the file), with a default
            index; None when absent or when a single file was given.
        folds : ndarray of int64 or None
            100K only: the official 5-fold split. ``folds[i] = k`` when
            rating ``i`` is in ``u{k+1}.test``, else -1; ready for
            ``sklearn.model_selection.PredefinedSplit(folds)``. None for
            other releases or when ``u1.test`` ... ``u5.test`` are missing.
        splits : dict of str to ndarray of bool
            100K only: test masks of the official ``"ua"`` and ``"ub"``
            splits (10 ratings per user), present when ``ua.test`` /
            ``ub.test`` are; use ``PredefinedSplit(np.where(mask, 0, -1))``.
            Empty for other releases.
        ratings_file : str
            The file that was read.

    Raises
    ------
    FileNotFoundError
        When the release or path does not exist, or a folder holds no
        ratings file.
    ValueError
        When a file is malformed (bad line, non-numeric field, rating outside
        0.5..5 or not a multiple of 0.5, missing csv header, empty file; in
        the users and movies files also a repeated id or an unknown 1M
        occupation code); the message names the file and the 1-based line
        number. Also when ``side_features`` asks for columns the release
        does not have.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from skembrec.datasets import load_movielens
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ratings.dat").write_text("1::31::2.5::1260759144\\n"
    ...                                         "1::1029::3::1260759179\\n")
    >>> X, y = load_movielens(folder, return_X_y=True)
    >>> X.to_numpy().tolist(), y.tolist()
    ([[1, 31, 1260759144], [1, 1029, 1260759179]], [2.5, 3.0])
    """
    wanted = _check_side_features(side_features)
    path = _resolve(name_or_path, data_home)
    folder = path if path.is_dir() else None
    ratings_file = _find_ratings_file(path) if folder is not None else path
    fmt = _detect_format(ratings_file)
    frame = _read_ratings(ratings_file, fmt)

    users, items, movies, folds, splits = None, None, None, None, {}
    if folder is not None:
        movies, items = _read_movies(folder)
        users = _read_users(folder)
        if _strip_gz(ratings_file.name) == "u.data":
            folds, splits = _read_100k_splits(folder, frame)
    extra = dict(
        users=users,
        items=items,
        movies=movies,
        folds=folds,
        splits=splits,
        ratings_file=str(ratings_file),
    )
    descr = _describe(folder, ratings_file)
    if wanted is None:
        return _as_output(
            frame,
            return_X_y=return_X_y,
            as_frame=as_frame,
            extra=extra,
            descr=descr,
        )
    columns = _side_columns(wanted, side_features, users, items, ratings_file)
    bunch = _as_output(frame, return_X_y=False, as_frame=True, extra=extra, descr=descr)
    X = _join_side(bunch.data, users, items, columns)
    y = bunch.target
    if return_X_y:
        return (X, y) if as_frame else (X.to_numpy(), y.to_numpy())
    bunch.update(
        frame=X.assign(rating=y) if as_frame else None,
        data=X if as_frame else X.to_numpy(),
        target=y if as_frame else y.to_numpy(),
        feature_names=list(X.columns),
    )
    return bunch


def _check_side_features(value):
    """The side columns asked for: None (none), "default", or a list of names."""
    if isinstance(value, bool | np.bool_):
        return "default" if value else None
    known = (*_USER_COLUMNS, *_ITEM_COLUMNS)
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(
            "side_features must be a bool or a list of column names among "
            f"{list(known)}, got {value!r} ({type(value).__name__})"
        )
    names = list(value)
    for name in names:
        if name not in known:
            raise ValueError(
                f"side_features: {name!r} is not a side column; choose among "
                f"{list(known)}"
            )
    if len(set(names)) != len(names):
        raise ValueError(f"side_features names a column twice: {names}")
    return names


def _side_columns(wanted, given, users, items, ratings_file):
    """The side columns to join, in order, checked against what was read."""
    available = []
    if users is not None:
        available += list(_USER_COLUMNS)
    if items is not None:
        available += list(_ITEM_COLUMNS)
    if wanted == "default":
        columns = [c for c in _DEFAULT_SIDE_COLUMNS if c in available]
        if not columns:
            raise ValueError(
                f"side_features=True, but no users or movies file was read for "
                f"{ratings_file}: pass the release folder (u.user/u.item, "
                "users.dat/movies.dat or movies.csv beside the ratings)"
            )
        return columns
    missing = [c for c in wanted if c not in available]
    if missing:
        source = "users" if missing[0] in _USER_COLUMNS else "movies"
        raise ValueError(
            f"side_features={list(given)!r} asks for {missing}, but no {source} "
            f"file was read for {ratings_file}; available: {available}"
        )
    return wanted


def _join_side(X, users, items, columns):
    """``X`` with the side columns of each rating's user and item appended.

    Vectorised: one index lookup per side, then a take per column. A rating
    whose id is not in the side frame gets NaN (numbers) or "" (text).
    """
    out = {name: X[name] for name in X.columns}
    for side, frame, names in (
        ("user", users, _USER_COLUMNS),
        ("item", items, _ITEM_COLUMNS),
    ):
        chosen = [c for c in columns if c in names]
        if not chosen:
            continue
        positions = frame.index.get_indexer(X[side])  # -1: not in the side file
        missing = bool((positions < 0).any())
        for name in chosen:
            if name in _NUMERIC_SIDE:
                values = frame[name].to_numpy(np.float64, na_value=np.nan)
                # position -1 reads the appended NaN
                out[name] = np.append(values, np.nan)[positions]
            else:
                values = frame[name].array.take(positions, allow_fill=True)
                out[name] = values.fillna("") if missing else values
    # in the order asked for (True: _DEFAULT_SIDE_COLUMNS' order)
    ordered = [*X.columns, *columns]
    return pd.DataFrame({name: out[name] for name in ordered}, index=X.index, copy=False)


def _resolve(name_or_path, data_home):
    if isinstance(name_or_path, str) and name_or_path in RELEASES:
        name = name_or_path
        if data_home is not None:
            candidate = Path(data_home).expanduser() / name
            if candidate.exists():
                return candidate
            where = str(candidate)
        else:
            found = find_dataset(name)
            if found is not None:
                return found
            candidate = get_data_home() / name
            if candidate.exists():
                return candidate
            where = f"SKEMBREC_DATA, ../shared/datasets or {candidate}"
        raise FileNotFoundError(
            f"MovieLens release {name!r} not found in {where}; download it "
            f"with skembrec.datasets.fetch_movielens({name!r}) or pass a path"
        )
    path = Path(name_or_path).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist; pass a MovieLens folder or ratings file, "
            f"or one of the release names {', '.join(RELEASES)}"
        )
    return path


def _strip_gz(name):
    name = name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _find_ratings_file(folder):
    for name in (
        "u.data",
        "u.data.gz",
        "ratings.csv",
        "ratings.csv.gz",
        "ratings.dat",
        "ratings.dat.gz",
    ):
        if (folder / name).is_file():
            return folder / name
    # e.g. a partial release such as ratings_users_1-2999.dat.gz
    matches = sorted(
        p
        for pattern in ("ratings*.csv*", "ratings*.dat*")
        for p in folder.glob(pattern)
        if p.is_file()
    )
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(p.name for p in matches)
        raise ValueError(
            f"{folder} holds several ratings files ({names}); pass the one to read"
        )
    raise FileNotFoundError(
        f"no MovieLens ratings file (u.data, ratings.dat, ratings.csv) in {folder}"
    )


def _first_line(path):
    """The first line's bytes, without a UTF-8 byte-order mark (Excel writes one)."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as f:
        line = f.readline(4096)
    return line[3:] if line.startswith(b"\xef\xbb\xbf") else line


def _detect_format(path):
    """Return "tab" (100K), "dat" (1M/10M, ``::``) or "csv" (20M and later)."""
    name = _strip_gz(path.name)
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".dat"):
        return "dat"
    if name.endswith((".data", ".base", ".test")):
        return "tab"
    first = _first_line(path)
    if first.startswith(b"userId,"):
        return "csv"
    if b"::" in first:
        return "dat"
    if b"\t" in first:
        return "tab"
    raise ParseError(path, 1, f"cannot tell the MovieLens format from {shorten(first)}")


def _read_ratings(path, fmt):
    """Parse one ratings file into the common frame (file order kept)."""
    header_lines = 0
    compression = None
    if fmt == "csv":
        first = _first_line(path).decode("latin-1").rstrip("\r\n")
        if not first:
            raise ParseError(
                path, 1, f"empty file, expected the header {_CSV_HEADER!r}"
            )
        if first != _CSV_HEADER:
            raise ParseError(
                path, 1, f"expected the header {_CSV_HEADER!r}, got {shorten(first)}"
            )
        header_lines = 1
    if fmt == "dat":
        # '::' would force pandas' slow python engine; one bytes.replace keeps
        # the C parser (a field holding ':' or a tab still fails to parse)
        source = io.BytesIO(read_bytes(path).replace(b"::", b"\t"))
        sep = "\t"
    else:
        source = path
        sep = "\t" if fmt == "tab" else ","
        compression = "gzip" if is_gzip(path) else None
    try:
        with warnings.catch_warnings():
            # mixed-type chunks only happen in bad files, reported below
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            raw = pd.read_csv(
                source,
                sep=sep,
                header=None,
                names=_RAW_COLUMNS,
                skiprows=header_lines,
                engine="c",
                # no NA parsing: an empty or 'nan' field stays text and is
                # reported as non-numeric instead of becoming NaN
                na_filter=False,
                quoting=csv.QUOTE_NONE,
                skip_blank_lines=False,
                compression=compression,
                encoding="latin-1",
            )
    except pd.errors.ParserError as exc:
        # the C parser counts physical lines from 1, header included
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        if match is None:  # pragma: no cover - other tokenizer failures
            raise ParseError(path, None, str(exc)) from None
        raise ParseError(
            path, int(match[1]), f"expected 4 fields, found {match[2]}"
        ) from None
    except (OSError, EOFError) as exc:  # corrupt gzip stream
        raise ParseError(path, None, f"cannot read the file ({exc})") from None
    first_line = header_lines + 1  # line number of row 0
    if len(raw) == 0:
        reason = "no ratings after the header" if header_lines else "empty file"
        raise ParseError(path, first_line, reason)

    try:
        user = _int_column(raw, "user", path, first_line, 0, _INT32_MAX)
        item = _int_column(raw, "item", path, first_line, 0, _INT32_MAX)
        timestamp = _int_column(raw, "timestamp", path, first_line, -_TS_MAX, _TS_MAX)
        rating = _number_column(raw, "rating", path, first_line)
    except ParseError as exc:
        # short rows arrive as empty fields: say so rather than 'missing field'
        text = _nth_line(path, exc.line)
        fields = len(text.split("::" if fmt == "dat" else sep))
        if not text:
            raise ParseError(path, exc.line, "empty line") from None
        if fields != 4:
            raise ParseError(
                path, exc.line, f"expected 4 fields, found {fields}: {shorten(text)}"
            ) from None
        raise
    # MovieLens ratings are 0.5..5 stars in half-star steps
    bad = ~((rating >= 0.5) & (rating <= 5.0) & (rating * 2 == np.round(rating * 2)))
    if bad.any():
        row = int(np.argmax(bad))
        raise ParseError(
            path,
            first_line + row,
            f"rating {raw['rating'].iloc[row]} outside 0.5..5 in half-star steps",
        )
    return pd.DataFrame(
        {
            "user": user.astype(np.int32),
            "item": item.astype(np.int32),
            "timestamp": timestamp.astype(np.int64),
            "rating": rating.astype(np.float32),
        },
        copy=False,
    )


def _nth_line(path, number):
    """Line ``number`` (1-based) of a file, decoded; error path only."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as f:
        for current, line in enumerate(f, start=1):
            if current == number:
                return line.decode("latin-1").rstrip("\r\n")
    return ""


def _coerce(series, column, path, first_line, integral):
    """Numeric values of a column the C parser left as text, or the bad line."""
    values = pd.to_numeric(series.astype(str), errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(values)
    if integral:
        bad |= values != np.floor(values)
    if bad.any():
        row = int(np.argmax(bad))
        text = series.iloc[row]
        kind = "an integer" if integral else "a number"
        what = "missing field" if text == "" else f"got {shorten(str(text))}"
        raise ParseError(path, first_line + row, f"{column}: expected {kind}, {what}")
    return values


def _int_column(raw, column, path, first_line, low, high):
    series = raw[column]
    if series.dtype.kind == "i":
        values = series.to_numpy()
    elif series.dtype.kind == "f":
        # the C parser gives floats for e.g. '2.5' or '1e3' among integers
        values = series.to_numpy()
        bad = ~np.isfinite(values) | (values != np.floor(values))
        if bad.any():
            row = int(np.argmax(bad))
            raise ParseError(
                path,
                first_line + row,
                f"{column}: expected an integer, got {values[row]:g}",
            )
    else:  # text, or uint64 / Python ints beyond int64
        values = _coerce(series, column, path, first_line, integral=True)
    # compare as float so uint64 and huge values need no special case
    as_float = values.astype(np.float64, copy=False)
    out = (as_float < low) | (as_float > high)
    if out.any():
        row = int(np.argmax(out))
        raise ParseError(
            path,
            first_line + row,
            f"{column} {series.iloc[row]} outside {low}..{high}",
        )
    return values


def _number_column(raw, column, path, first_line):
    series = raw[column]
    if series.dtype.kind in "iuf":
        return series.to_numpy(np.float64)
    return _coerce(series, column, path, first_line, integral=False)


def _read_movies(folder):
    """The movies file as read (``movies``) and indexed by id (``items``)."""
    for name, reader in (
        ("u.item", _read_u_item),
        ("movies.csv", _read_movies_csv),
        ("movies.dat", _read_movies_dat),
    ):
        if (folder / name).is_file():
            return _item_frames(folder / name, *reader(folder / name))
    return None, None


def _read_users(folder):
    """The users file of 100K or 1M, indexed by user id, or None."""
    for name, reader in (("u.user", _read_u_user), ("users.dat", _read_users_dat)):
        if (folder / name).is_file():
            return reader(folder / name)
    return None


def _text_lines(path):
    """Decoded lines of a small text file, with their 1-based numbers."""
    text = decode_text(read_bytes(path))
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line:
            yield number, line


def _movies_frame(ids, titles, genres):
    return pd.DataFrame(
        {
            "item": np.asarray(ids, dtype=np.int32),
            "title": pd.array(titles, dtype="str"),
            "genres": pd.array(genres, dtype="str"),
        }
    )


def _title_year(title):
    years = _TITLE_YEAR.findall(title)
    return int(years[-1]) if years else None


def _item_frames(path, ids, titles, genres, numbers, dates=None):
    """``movies`` (the file as read) and ``items`` (by id, with the year)."""
    _check_unique(ids, numbers, path, "item")
    years = [_title_year(title) for title in titles]
    if dates is not None:  # 100K: the release date when the title has no year
        years = [
            year if year is not None or not date[-4:].isdigit() else int(date[-4:])
            for year, date in zip(years, dates)
        ]
    items = pd.DataFrame(
        {
            "title": pd.array(titles, dtype="str"),
            # "(no genres listed)" is how movies.csv says none
            "genres": pd.array(
                ["" if g == "(no genres listed)" else g for g in genres], dtype="str"
            ),
            "year": pd.array(years, dtype="Int16"),
        },
        index=pd.Index(np.asarray(ids, dtype=np.int32), name="item"),
    )
    return _movies_frame(ids, titles, genres), items


def _check_unique(ids, numbers, path, what):
    """Refuse a side file that lists an id twice, naming the second line."""
    ids = np.asarray(ids, dtype=np.int64)
    repeated = pd.Index(ids).duplicated()
    if repeated.any():
        row = int(np.argmax(repeated))
        first = numbers[int(np.flatnonzero(ids == ids[row])[0])]
        raise ParseError(
            path, numbers[row], f"{what} id {ids[row]} is listed twice (first on line {first})"
        )


def _parse_id(text, path, number, what="an item id"):
    try:
        return int(text)
    except ValueError:
        raise ParseError(path, number, f"expected {what}, got {shorten(text)}") from None


def _read_u_item(path):
    genre_file = path.parent / "u.genre"
    names = _GENRES_100K
    if genre_file.is_file():
        names = [line.split("|")[0] for _, line in _text_lines(genre_file)]
    ids, titles, genres, numbers, dates = [], [], [], [], []
    # id|title|release date|video release date|IMDb URL|one 0/1 flag per genre
    for number, line in _text_lines(path):
        parts = line.split("|")
        if len(parts) != 5 + len(names):
            raise ParseError(
                path,
                number,
                f"expected {5 + len(names)} '|'-separated fields, found {len(parts)}",
            )
        ids.append(_parse_id(parts[0], path, number))
        titles.append(parts[1])
        genres.append("|".join(g for g, flag in zip(names, parts[5:]) if flag == "1"))
        numbers.append(number)
        dates.append(parts[2])
    return ids, titles, genres, numbers, dates


def _read_movies_dat(path):
    ids, titles, genres, numbers = [], [], [], []
    for number, line in _text_lines(path):
        parts = line.split("::")
        if len(parts) != 3:
            raise ParseError(
                path, number, f"expected MovieID::Title::Genres, got {shorten(line)}"
            )
        ids.append(_parse_id(parts[0], path, number))
        titles.append(parts[1])
        genres.append(parts[2])
        numbers.append(number)
    return ids, titles, genres, numbers


def _read_movies_csv(path):
    # titles hold quoted commas: the csv module's quoting rules apply
    reader = csv.reader(io.StringIO(decode_text(read_bytes(path)), newline=""))
    header = next(reader, None)
    if header != ["movieId", "title", "genres"]:
        raise ParseError(path, 1, "expected the header 'movieId,title,genres'")
    ids, titles, genres, numbers = [], [], [], []
    for row in reader:
        # data rows start on line 2; quoted titles never span lines here
        number = reader.line_num
        if not row:
            continue
        if len(row) != 3:
            raise ParseError(path, number, f"expected 3 fields, found {len(row)}")
        ids.append(_parse_id(row[0], path, number))
        titles.append(row[1])
        genres.append(row[2])
        numbers.append(number)
    return ids, titles, genres, numbers


def _users_frame(path, ids, ages, genders, occupations, zip_codes, numbers):
    _check_unique(ids, numbers, path, "user")
    return pd.DataFrame(
        {
            "age": np.asarray(ages, dtype=np.int16),
            "gender": pd.array(genders, dtype="str"),
            "occupation": pd.array(occupations, dtype="str"),
            "zip_code": pd.array(zip_codes, dtype="str"),
        },
        index=pd.Index(np.asarray(ids, dtype=np.int32), name="user"),
    )


def _parse_age(text, path, number):
    age = _parse_id(text, path, number, "an age")
    if not 0 <= age <= 200:
        raise ParseError(path, number, f"age {age} outside 0..200")
    return age


def _parse_user_id(text, path, number):
    user = _parse_id(text, path, number, "a user id")
    if not 0 <= user <= _INT32_MAX:
        raise ParseError(path, number, f"user id {user} outside 0..{_INT32_MAX}")
    return user


def _read_u_user(path):
    """100K ``u.user``: ``user id|age|gender|occupation|zip code``."""
    rows = [], [], [], [], [], []
    for number, line in _text_lines(path):
        parts = line.split("|")
        if len(parts) != 5:
            raise ParseError(
                path,
                number,
                f"expected user|age|gender|occupation|zip code, got {shorten(line)}",
            )
        values = (
            _parse_user_id(parts[0], path, number),
            _parse_age(parts[1], path, number),
            *parts[2:],
            number,
        )
        for column, value in zip(rows, values):
            column.append(value)
    return _users_frame(path, *rows)


def _read_users_dat(path):
    """1M ``users.dat``: ``UserID::Gender::Age::Occupation::Zip-code``."""
    rows = [], [], [], [], [], []
    for number, line in _text_lines(path):
        parts = line.split("::")
        if len(parts) != 5:
            raise ParseError(
                path,
                number,
                f"expected UserID::Gender::Age::Occupation::Zip-code, got {shorten(line)}",
            )
        code = _parse_id(parts[3], path, number, "an occupation code")
        if not 0 <= code < len(_OCCUPATIONS_1M):
            raise ParseError(
                path,
                number,
                f"occupation code {code} is not one of the README's "
                f"0..{len(_OCCUPATIONS_1M) - 1}",
            )
        values = (
            _parse_user_id(parts[0], path, number),
            _parse_age(parts[2], path, number),
            parts[1],
            _OCCUPATIONS_1M[code],
            parts[4],
            number,
        )
        for column, value in zip(rows, values):
            column.append(value)
    return _users_frame(path, *rows)


def _pair_keys(user, item):
    # ids are validated to 0..2**31-1, so the pair fits one int64
    return (np.asarray(user, dtype=np.int64) << 32) | np.asarray(item, dtype=np.int64)


def _test_mask(path, keys):
    """Boolean mask over the ratings of the (user, item) pairs in ``path``."""
    test = _read_ratings(path, "tab")
    test_keys = _pair_keys(test["user"], test["item"])
    known = np.isin(test_keys, keys)
    if not known.all():
        row = int(np.argmin(known))
        raise ParseError(
            path,
            row + 1,
            f"(user, item) = ({test['user'].iloc[row]}, {test['item'].iloc[row]}) "
            "is not in u.data",
        )
    return np.isin(keys, test_keys)


def _read_100k_splits(folder, frame):
    keys = _pair_keys(frame["user"], frame["item"])
    folds = None
    tests = [folder / f"u{k}.test" for k in range(1, 6)]
    if all(p.is_file() for p in tests):
        folds = np.full(len(frame), -1, dtype=np.int64)
        for k, test in enumerate(tests):
            mask = _test_mask(test, keys)
            if (folds[mask] >= 0).any():
                raise ParseError(test, None, "shares ratings with an earlier uN.test")
            folds[mask] = k
    splits = {}
    for name in ("ua", "ub"):
        test = folder / f"{name}.test"
        if test.is_file():
            splits[name] = _test_mask(test, keys)
    return folds, splits


def _describe(folder, ratings_file):
    if folder is not None:
        for name in ("README", "README.txt", "README.md"):
            if (folder / name).is_file():
                return decode_text((folder / name).read_bytes())
    return f"MovieLens ratings read from {ratings_file}"
