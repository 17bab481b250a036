"""The Netflix Prize files, parsed with vectorised NumPy and cached on disk.

The 100,480,507 training ratings are about 2 GB of text. A Python loop over
the lines takes many minutes, so the files are read in large blocks of whole
lines and every line is decoded at once with NumPy: the newline positions
split the block, and the fields sit at fixed offsets from each line's end
(``...,R,YYYY-MM-DD``), leaving only the customer id of variable width.
The output columns are allocated once and filled block by block, so the
peak memory is the compact result plus one block's temporaries.
"""

import hashlib
import json
import os
import re
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ._base import _as_output, get_data_home
from ._parse import ParseError, decode_text, line_number, read_bytes, shorten

_CHUNK_BYTES = 32 << 20
# bytes put before each block so that fixed offsets from a line's end never
# reach before the start of the array, even on a short (bad) first line
_PAD = 32
_INT32_MAX = 2**31 - 1
_SECONDS_PER_DAY = 86_400
_CACHE_FORMAT = 2
_NEWLINE, _COMMA, _COLON, _DASH, _ZERO = (ord(c) for c in "\n,:-0")
# days per month of a common year, index 0 unused
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int32)

# Shortest line of each layout ('1,1,2000-01-01\n', '1,2000-01-01\n', '1\n'),
# which bounds the number of lines in a file of a given size.
_MIN_LINE_BYTES = {"ratings": 15, "dates": 13, "ids": 2}
_COLUMNS = {
    "ratings": [("user", np.int32), ("rating", np.int8), ("timestamp", np.int64)],
    "dates": [("user", np.int32), ("timestamp", np.int64)],
    "ids": [("user", np.int32)],
}
# Line layouts after a 'MovieID:' header line, by file.
_LAYOUTS = {
    "ratings": (
        "CustomerID,Rating,YYYY-MM-DD",
        re.compile(rb"(\d{1,10}),(\d),(.{10})"),
    ),
    "dates": ("CustomerID,YYYY-MM-DD", re.compile(rb"(\d{1,10}),(.{10})")),
    "ids": ("CustomerID", re.compile(rb"(\d{1,10})")),
}


def load_netflix(
    path,
    *,
    cache=True,
    cache_dir=None,
    verbose=False,
    return_X_y=False,
    as_frame=True,
):
    """Load the Netflix Prize ratings, probe set, qualifying set and titles.

    Reads the files as published: the ``training_set/`` folder of
    ``mv_0000001.txt`` ... files (a ``MovieID:`` line, then
    ``CustomerID,Rating,YYYY-MM-DD`` lines), or the ``combined_data_1.txt``
    ... ``combined_data_4.txt`` concatenations of the same, plus, when
    present beside them, ``probe.txt``, ``qualifying.txt`` and
    ``movie_titles.txt``. The full 100,480,507 ratings parse in about 30 s
    on two cores with a peak memory of about 2 GB (the returned frame alone
    is 1.4 GB); with ``cache=True`` the parsed arrays are stored as ``.npy``
    files (1.6 GB) and later calls reload them in a few seconds.
    ``benchmarks/bench_netflix_loader.py`` measures this.

    Parameters
    ----------
    path : str or path-like
        The folder holding ``training_set/`` or ``combined_data_*.txt``; or
        the ``training_set`` folder itself (the other files are then looked
        for in it and in its parent); or one ratings file.
        ``training_set/`` is read when both layouts are present.
    cache : bool, default=True
        Reuse, or else write, a cache of the parsed arrays. Its key holds
        the path, size and modification time of every source file, so an
        edited file is parsed again. It is written atomically (a crash never
        leaves a half-written cache) and a failure to write it only warns.
    cache_dir : str or path-like, default=None
        Where caches live; by default ``get_data_home() / "netflix_cache"``.
    verbose : bool, default=False
        Print progress (files parsed out of the total, ratings, seconds).
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=True
        Return pandas objects; otherwise NumPy arrays (note that ``X`` then
        becomes one int64 array, 2.4 GB for the full data). ``qualifying``,
        ``items`` and ``movies`` are DataFrames either way.

    Returns
    -------
    data : Bunch or tuple ``(X, y)``
        One row per rating, in file order (movie by movie). ``frame`` has
        the columns ``user`` (int32 customer id), ``item`` (int16 movie id;
        int32 if an id exceeds 32767), ``timestamp`` (int64 seconds since
        the Unix epoch at 00:00 UTC of the rating date) and ``rating``
        (int8, 1..5). ``data`` holds the first three, ``target`` the
        ratings. The Bunch also holds:

        probe : ndarray of bool or None
            True for the ratings listed in ``probe.txt``; for scikit-learn,
            ``PredefinedSplit(np.where(probe, 0, -1))``.
        qualifying : DataFrame or None
            The pairs to predict from ``qualifying.txt``: ``user``,
            ``item``, ``timestamp`` with the dtypes above.
        items : DataFrame or None
            From ``movie_titles.txt``, indexed by the movie id (int32, named
            ``item``): ``title``, ``year`` (nullable Int16, missing where
            the file says ``NULL``); the same layout as
            :func:`load_movielens`' ``items``. Read it as ``data["items"]``:
            a Bunch is a dict, and ``data.items`` is the dict's method.
        movies : DataFrame or None
            The same titles as read: ``item`` (int32), ``year``, ``title``,
            with a default index.
        cache_path : str or None
            The cache folder used, if any.

    Raises
    ------
    FileNotFoundError
        When ``path`` holds no Netflix ratings files.
    ValueError
        When a file is malformed (a bad line, a rating outside 1..5, an
        invalid date, an empty file, a probe pair that is not among the
        ratings); the message names the file and the 1-based line number.
        Nothing is returned in that case.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skembrec.datasets import load_netflix
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "combined_data_1.txt").write_text(
    ...     "1:\\n1488844,3,2005-09-06\\n822109,5,2005-05-13\\n"
    ...     "2:\\n2059652,4,2005-09-05\\n")
    >>> _ = (folder / "probe.txt").write_text("2:\\n2059652\\n")
    >>> data = load_netflix(folder, cache=False)
    >>> data.frame.to_numpy().tolist()
    [[1488844, 1, 1125964800, 3], [822109, 1, 1115942400, 5], \
[2059652, 2, 1125878400, 4]]
    >>> data.probe.tolist()
    [False, False, True]
    """
    started = time.perf_counter()
    sources, extra_dirs = _find_sources(path)
    extras = {
        name: _find_extra(name, extra_dirs)
        for name in ("probe.txt", "qualifying.txt", "movie_titles.txt")
    }

    def say(message):
        if verbose:
            elapsed = time.perf_counter() - started
            print(f"load_netflix: {message} ({elapsed:.1f} s)", flush=True)

    arrays, cache_path = None, None
    if cache:
        cache_path = _cache_path(cache_dir, extra_dirs[0], sources, extras)
        arrays = _read_cache(cache_path)
        if arrays is not None:
            say(f"reloaded {len(arrays['user']):,} ratings from {cache_path}")
    if arrays is None:
        arrays = _parse_all(sources, extras, say)
        if cache:
            _write_cache(cache_path, arrays)
            say(f"wrote the cache {cache_path}")

    frame = pd.DataFrame(
        {name: arrays.pop(name) for name in ("user", "item", "timestamp", "rating")},
        copy=False,
    )
    qualifying = None
    if "qualifying_user" in arrays:
        qualifying = pd.DataFrame(
            {
                name: arrays.pop(f"qualifying_{name}")
                for name in ("user", "item", "timestamp")
            },
            copy=False,
        )
    titles = extras["movie_titles.txt"]
    movies = _read_titles(titles) if titles is not None else None
    extra = dict(
        probe=arrays.pop("probe", None),
        qualifying=qualifying,
        items=_items_frame(movies, titles) if movies is not None else None,
        movies=movies,
        cache_path=str(cache_path) if cache_path is not None else None,
    )
    say(f"{len(frame):,} ratings ready")
    return _as_output(
        frame,
        return_X_y=return_X_y,
        as_frame=as_frame,
        extra=extra,
        descr=f"Netflix Prize ratings read from {extra_dirs[0]}",
    )


# --------------------------------------------------------------------- files
def _find_sources(path):
    """The ratings files in reading order, and the folders of the extras."""
    # resolved once, so every derived path (and the cache key) is canonical
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.is_file():
        return [path], [path.parent]
    training = path / "training_set"
    if training.is_dir():
        files = sorted(training.glob("mv_*.txt"))
        if not files:
            raise FileNotFoundError(f"no mv_*.txt files in {training}")
        return files, [path]
    combined = [
        p
        for p in path.glob("combined_data_*.txt")
        if re.search(r"_(\d+)\.txt$", p.name)
    ]
    if combined:
        combined.sort(key=lambda p: int(re.search(r"_(\d+)\.txt$", p.name)[1]))
        return combined, [path]
    files = sorted(path.glob("mv_*.txt"))
    if files:  # the training_set folder itself
        return files, [path, path.parent]
    raise FileNotFoundError(
        f"no Netflix ratings in {path}: expected training_set/mv_*.txt "
        "or combined_data_*.txt"
    )


def _find_extra(name, folders):
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    return None


class _Segment(NamedTuple):
    """Where one file's bytes begin inside a block, for error messages."""

    offset: int  # byte offset in the block
    path: Path
    first_line: int  # 1-based line number, in the file, of the line at offset
    file_start: bool  # the file's first line, which must be a 'MovieID:' line


def _blocks(paths, block_bytes, on_file_done=None):
    """Yield ``(block, segments)``: whole lines of the files, in order.

    Small files (``mv_*.txt``, ~100 kB) are packed together so NumPy works
    on large arrays; big files (``combined_data``, ~500 MB) are cut at line
    ends so memory stays bounded. CRLF is turned into LF.
    """
    pieces, segments, size = [], [], _PAD

    def flush():
        block = b"".join([b"\0" * _PAD, *pieces])
        return block, list(segments)

    for index, path in enumerate(paths):
        first_line, carry, file_start, empty = 1, b"", True, True
        with open(path, "rb") as f:
            while True:
                # top the block up to about block_bytes (no tiny reads)
                data = f.read(max(block_bytes - size, block_bytes // 8, 1))
                if not data:
                    break
                empty = False
                if carry:
                    data = carry + data
                cut = data.rfind(b"\n") + 1
                if cut == 0:  # no line end yet: keep reading
                    carry = data
                    continue
                if cut < len(data):
                    carry, data = data[cut:], data[:cut]
                else:
                    carry = b""
                if b"\r" in data:
                    data = data.replace(b"\r\n", b"\n")
                segments.append(_Segment(size, path, first_line, file_start))
                pieces.append(data)
                size += len(data)
                first_line += data.count(b"\n")
                file_start = False
                if size >= block_bytes:
                    yield flush()
                    pieces, segments, size = [], [], _PAD
        if empty:
            raise ParseError(path, 1, "empty file")
        if carry:  # last line without a line end
            carry = carry.rstrip(b"\r") + b"\n"
            segments.append(_Segment(size, path, first_line, file_start))
            pieces.append(carry)
            size += len(carry)
        if on_file_done is not None:
            on_file_done(index + 1)
    if pieces:
        yield flush()


# ------------------------------------------------------------------ parsing
def _digits(a, start, end, max_digits):
    """Unsigned integers written in ``a[start:end]`` for every line at once.

    Returns the values (int64) and a mask of the well-formed fields (1 to
    ``max_digits`` decimal digits).
    """
    width = end - start
    ok = (width >= 1) & (width <= max_digits)
    value = np.zeros(len(start), dtype=np.int64)
    longest = min(int(width.max(initial=0)), max_digits)
    scale = 1
    for k in range(longest):
        # k-th digit from the right; lines shorter than k+1 digits are masked
        # (their bytes there belong to the previous field or line)
        present = width > k
        digit = a[end - 1 - k] - np.uint8(_ZERO)  # non-digits wrap above 9
        ok &= ~present | (digit <= 9)
        value += np.where(present, digit, np.uint8(0)).astype(np.int64) * scale
        scale *= 10
    return value, ok


def _dates(a, end):
    """Days since 1970-01-01 of the ``YYYY-MM-DD`` ending at ``end``, and a
    mask of the valid dates."""
    base = end - 10
    digit = [a[base + k] - np.uint8(_ZERO) for k in (0, 1, 2, 3, 5, 6, 8, 9)]
    ok = (a[base + 4] == _DASH) & (a[base + 7] == _DASH)
    for d in digit:
        ok &= d <= 9
    d32 = [d.astype(np.int32) for d in digit]
    year = ((d32[0] * 10 + d32[1]) * 10 + d32[2]) * 10 + d32[3]
    month = d32[4] * 10 + d32[5]
    day = d32[6] * 10 + d32[7]
    del digit, d32
    ok &= (month >= 1) & (month <= 12) & (day >= 1)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= day <= _MONTH_DAYS[np.clip(month, 0, 12)] + (leap & (month == 2))
    # days_from_civil (H. Hinnant): a year starting in March puts the leap
    # day last, so the day of the year is a linear formula of the month
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return (era * 146_097 + day_of_era - 719_468).astype(np.int32), ok


def _parse_block(block, segments, layout, movie):
    """Decode one block of lines.

    ``movie`` is the movie of lines that continue a file from the previous
    block (None at a file start). Returns the columns of the block, the
    movie runs ``(ids, counts)`` and the movie that continues into the next
    block.
    """
    a = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(a == _NEWLINE)
    starts = np.empty_like(ends)
    starts[0] = _PAD
    starts[1:] = ends[:-1] + 1
    # an empty line's byte before the newline is a newline or the pad
    is_header = a[ends - 1] == _COLON
    headers = np.flatnonzero(is_header)
    movie_ids, ok = _digits(a, starts[headers], ends[headers] - 1, max_digits=9)
    if not ok.all():
        _fail(block, segments, starts[headers[np.argmin(ok)]], layout)
    # a file must open with its 'MovieID:' line
    file_starts = [s.offset for s in segments if s.file_start]
    first_lines = np.searchsorted(starts, file_starts)
    not_header = ~is_header[first_lines]
    if not_header.any():
        offset = file_starts[int(np.argmax(not_header))]
        _fail(block, segments, offset, layout, "expected a 'MovieID:' line first")

    rows = np.flatnonzero(~is_header)
    start, end = starts[rows], ends[rows]
    del starts, ends, is_header
    columns = {}
    ok = np.ones(len(rows), dtype=bool)
    if layout == "ratings":
        ok &= (a[end - 11] == _COMMA) & (a[end - 13] == _COMMA)
        rating = a[end - 12] - np.uint8(_ZERO)
        ok &= (rating >= 1) & (rating <= 5)
        columns["rating"] = rating.view(np.int8)
        customer_end = end - 13
    elif layout == "dates":
        ok &= a[end - 11] == _COMMA
        customer_end = end - 11
    else:
        customer_end = end
    if layout != "ids":
        days, ok_date = _dates(a, end)
        ok &= ok_date
        columns["days"] = days
    user, ok_user = _digits(a, start, customer_end, max_digits=10)
    ok &= ok_user & (user <= _INT32_MAX)
    columns["user"] = user.astype(np.int32)
    if not ok.all():
        _fail(block, segments, start[np.argmin(ok)], layout)

    # movie of every line: the last header above it (runs, expanded later)
    line_count = len(rows) + len(headers)
    counts = np.diff(np.append(headers, line_count)) - 1
    lead = int(headers[0]) if len(headers) else line_count
    if lead:  # lines continuing a file from the previous block
        movie_ids = np.concatenate([[movie], movie_ids])
        counts = np.concatenate([[lead], counts])
    next_movie = int(movie_ids[-1]) if len(movie_ids) else movie
    return columns, (movie_ids, counts), next_movie


def _fail(block, segments, offset, layout, reason=None):
    """Raise the ParseError of the line starting at byte ``offset``."""
    offsets = [s.offset for s in segments]
    segment = segments[int(np.searchsorted(offsets, offset, side="right")) - 1]
    line = line_number(
        block[segment.offset :], offset - segment.offset, segment.first_line
    )
    text = block[offset : block.index(b"\n", offset)]
    raise ParseError(segment.path, line, reason or _explain(text, layout))


def _explain(text, layout):
    """Why one line is bad, in words (only called on the error path)."""
    if text.endswith(b":"):
        return f"expected 'MovieID:', got {shorten(text)}"
    expected, pattern = _LAYOUTS[layout]
    match = pattern.fullmatch(text)
    if match is None:
        what = "empty line" if not text else f"got {shorten(text)}"
        return f"expected {expected}, {what}"
    if int(match[1]) > _INT32_MAX:
        return f"customer id {int(match[1])} is beyond {_INT32_MAX}"
    if layout == "ratings" and not b"1" <= match[2] <= b"5":
        return f"rating {match[2].decode()} outside 1..5"
    date = match.groups()[-1]
    if re.fullmatch(rb"\d{4}-\d{2}-\d{2}", date):
        return f"invalid date {shorten(date)}: no such day"
    return f"invalid date {shorten(date)}, expected YYYY-MM-DD"


def _parse_files(paths, layout, say=None, what="ratings"):
    """Parse files of one layout into compact columns (all or nothing).

    The columns are allocated once, sized for the most lines the bytes can
    hold; pages never written are never resident, and no per-block pieces
    are kept and concatenated (which would double the peak memory).
    """
    capacity = sum(p.stat().st_size for p in paths) // _MIN_LINE_BYTES[layout] + 1
    out = {name: np.empty(capacity, dtype) for name, dtype in _COLUMNS[layout]}
    runs, movie, total = [], None, 0
    done = [0]

    def file_done(n):
        done[0] = n

    for block, segments in _blocks(paths, _CHUNK_BYTES, on_file_done=file_done):
        if segments[0].file_start:
            movie = None
        columns, run, movie = _parse_block(block, segments, layout, movie)
        del block
        n = len(columns["user"])
        if total + n > capacity:  # only if a file grew while being read
            capacity = 2 * (total + n)
            out = {name: _resized(values, capacity) for name, values in out.items()}
        rows = slice(total, total + n)
        for name, values in columns.items():
            if name == "days":
                # int64 seconds straight into place: no int64 day copy
                np.multiply(
                    values, np.int64(_SECONDS_PER_DAY), out=out["timestamp"][rows]
                )
            else:
                out[name][rows] = values
        del columns
        runs.append(run)
        total = rows.stop
        if say is not None:
            say(f"parsed {done[0]:,}/{len(paths):,} files, {total:,} {what}")

    out = {name: values[:total] for name, values in out.items()}
    ids = np.concatenate([r[0] for r in runs])
    counts = np.concatenate([r[1] for r in runs])
    largest = int(ids.max(initial=0))
    item_dtype = np.int16 if largest <= np.iinfo(np.int16).max else np.int32
    out["item"] = np.repeat(ids.astype(item_dtype), counts)
    return out


def _resized(values, capacity):
    grown = np.empty(capacity, values.dtype)
    grown[: len(values)] = values
    return grown


def _parse_all(sources, extras, say):
    arrays = _parse_files(sources, "ratings", say)
    probe = extras["probe.txt"]
    if probe is not None:
        arrays["probe"] = _probe_mask(probe, arrays["user"], arrays["item"])
        say(f"matched {probe.name}: {int(arrays['probe'].sum()):,} probe ratings")
    qualifying = extras["qualifying.txt"]
    if qualifying is not None:
        q = _parse_files([qualifying], "dates")
        arrays.update(
            qualifying_user=q["user"],
            qualifying_item=q["item"],
            qualifying_timestamp=q["timestamp"],
        )
        say(f"parsed {qualifying.name}: {len(q['user']):,} pairs")
    return arrays


def _probe_mask(path, user, item, step=8_000_000):
    """Mark the ratings whose (movie, customer) pair is listed in probe.txt."""
    probe = _parse_files([path], "ids")
    probe_keys = (probe["item"].astype(np.int64) << 32) | probe["user"]
    index = pd.Index(np.unique(probe_keys))
    mask = np.zeros(len(user), dtype=bool)
    found = np.zeros(len(index), dtype=bool)
    # in slices: one int64 key per rating would cost 800 MB at full size
    for lo in range(0, len(user), step):
        keys = (item[lo : lo + step].astype(np.int64) << 32) | user[lo : lo + step]
        position = index.get_indexer(keys)
        hit = position >= 0
        mask[lo : lo + step] = hit
        found[position[hit]] = True
    if not found.all():
        missing = index[np.argmin(found)]
        line = _probe_line(path, missing >> 32, missing & 0xFFFFFFFF)
        raise ParseError(
            path,
            line,
            f"(movie {missing >> 32}, customer {missing & 0xFFFFFFFF}) is not "
            "among the ratings",
        )
    return mask


def _probe_line(path, movie, customer):
    """Line number of a probe entry (error path only, a plain scan)."""
    current = None
    for number, line in enumerate(read_bytes(path).split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if line.endswith(b":"):
            current = int(line[:-1])
        elif current == movie and line and int(line) == customer:
            return number
    return None  # pragma: no cover - the pair came from this file


def _read_titles(path):
    """``movie_titles.txt``: ``MovieID,YearOfRelease,Title`` (latin-1)."""
    ids, years, titles = [], [], []
    for number, line in enumerate(decode_text(read_bytes(path)).split("\n"), 1):
        line = line.rstrip("\r")
        if not line:
            continue
        # titles contain commas: only the first two separate fields
        parts = line.split(",", 2)
        if len(parts) != 3:
            raise ParseError(
                path, number, f"expected MovieID,Year,Title, got {shorten(line)}"
            )
        try:
            ids.append(int(parts[0]))
            years.append(None if parts[1] == "NULL" else int(parts[1]))
        except ValueError:
            raise ParseError(
                path, number, f"expected MovieID,Year,Title, got {shorten(line)}"
            ) from None
        titles.append(parts[2])
    return pd.DataFrame(
        {
            "item": np.asarray(ids, dtype=np.int32),
            "year": pd.array(years, dtype="Int16"),
            "title": pd.array(titles, dtype="str"),
        }
    )


def _items_frame(movies, path):
    """The titles indexed by movie id, as ``load_movielens`` gives ``items``."""
    repeated = movies["item"].duplicated()
    if repeated.any():
        # the line of the repeat: titles skip no line but blank ones
        item = int(movies["item"][repeated].iloc[0])
        lines = [
            number
            for number, line in enumerate(decode_text(read_bytes(path)).split("\n"), 1)
            if line.split(",", 1)[0].isdigit() and int(line.split(",", 1)[0]) == item
        ]
        raise ParseError(
            path, lines[1], f"movie id {item} is listed twice (first on line {lines[0]})"
        )
    items = movies[["title", "year"]].copy()
    items.index = pd.Index(movies["item"].to_numpy(), name="item")
    return items


# -------------------------------------------------------------------- cache
def _cache_path(cache_dir, root, sources, extras):
    """The cache folder: named by the source folder and by a digest of the
    path, size and mtime of every file read, so any change misses."""
    root = Path(root).resolve()
    files = [*sources, *(p for p in extras.values() if p is not None)]
    manifest = [_CACHE_FORMAT, str(root)]
    for p in files:
        # the files hang off the resolved root: no need to resolve each one
        stat = os.stat(p)
        manifest.append([str(p), stat.st_size, stat.st_mtime_ns])
    content = hashlib.sha256(json.dumps(manifest).encode()).hexdigest()[:16]
    source = hashlib.sha256(str(root).encode()).hexdigest()[:10]
    if cache_dir is None:
        cache_dir = get_data_home() / "netflix_cache"
    return Path(cache_dir).expanduser() / f"netflix-{source}-{content}"


def _read_cache(folder):
    if not folder.is_dir():
        return None
    try:
        names = json.loads((folder / "arrays.json").read_text())
        return {n: np.load(folder / f"{n}.npy", allow_pickle=False) for n in names}
    except (OSError, ValueError) as exc:
        warnings.warn(f"ignoring the unreadable cache {folder}: {exc}", stacklevel=3)
        return None


def _write_cache(folder, arrays):
    """Write into a temporary folder, then rename it into place (atomic)."""
    tmp = folder.parent / f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        for name, values in arrays.items():
            np.save(tmp / f"{name}.npy", values, allow_pickle=False)
        # written last: a folder with this file is complete
        (tmp / "arrays.json").write_text(json.dumps(sorted(arrays)))
        try:
            os.rename(tmp, folder)
        except OSError:  # another process wrote the same cache first
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        warnings.warn(f"could not write the cache {folder}: {exc}", stacklevel=3)
        return
    # caches of earlier versions of the same files are now stale
    prefix = folder.name.rsplit("-", 1)[0] + "-"
    for old in folder.parent.glob(prefix + "*"):
        if old != folder and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
