"""Ratings on disk as TFRecord shards, for fits that do not hold them in memory.

``write_rating_shards`` writes a table of ratings as shards of TFRecord files,
each record a block of ratings stored column-wise; ``RatingShards`` names such a
folder and is accepted by ``fit`` in place of ``X``: the estimator makes one
streaming pass for the id vocabularies and rating statistics, then trains from
a ``tf.data`` pipeline that reads shards in parallel, so memory is bounded by
the tables and a shuffle buffer, not by the number of ratings.

TensorFlow is imported only when shards are written or read.
"""

import json
import numbers
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd

from .._io.files import file_mode, remove_quietly, replace_atomically, temporary_path

SHARDS_FORMAT = "skembrec-rating-shards"
SHARDS_VERSION = 1
_META = "_shards.json"


class RatingShards:
    """A folder of rating shards written by :func:`write_rating_shards`.

    Parameters
    ----------
    path : str or path-like
        The folder.

    Attributes
    ----------
    files : list of str
        The shard files, in order.
    n_ratings : int
        Number of ratings in all shards.
    id_kinds : dict
        ``{"user": "int" or "str", "item": ...}``: how ids are stored.

    Examples
    --------
    >>> import tempfile
    >>> from skembrec.datasets import make_ratings, write_rating_shards
    >>> frame = make_ratings(50, 20, 400, random_state=0).frame
    >>> shards = write_rating_shards(frame, tempfile.mkdtemp(), rows_per_shard=150)
    >>> len(shards.files), shards.n_ratings
    (3, 400)
    """

    def __init__(self, path):
        self.path = Path(path)
        meta_path = self.path / _META
        if not meta_path.is_file():
            raise ValueError(f"{self.path} holds no rating shards ({_META} is missing)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{meta_path} is corrupted: {exc}") from None
        meta = _check_meta(meta, meta_path)
        self.files = [str(self.path / name) for name in meta["files"]]
        missing = [f for f in self.files if not Path(f).is_file()]
        if missing:
            raise ValueError(f"{meta_path} lists shard files that are missing: {missing[:3]}")
        for file, size in zip(self.files, meta.get("sizes") or ()):
            if Path(file).stat().st_size != size:
                raise ValueError(
                    f"{file} is truncated or was changed after it was written "
                    f"({Path(file).stat().st_size} bytes, {meta_path} says {size})")
        self.n_ratings = meta["n_ratings"]
        self.id_kinds = dict(meta["id_kinds"])
        self.block_size = meta["block_size"]

    def __len__(self):
        return self.n_ratings

    def __repr__(self):
        return (f"RatingShards({str(self.path)!r}, n_ratings={self.n_ratings}, "
                f"n_files={len(self.files)})")

    def dataset(self, seed=None, files_in_parallel=2):
        """A ``tf.data.Dataset`` of blocks ``(user, item, rating)`` as raw values.

        Parameters
        ----------
        seed : int, default=None
            With a seed the files are read in a shuffled order; None reads
            them in file order.
        files_in_parallel : int, default=2
            Blocks of this many files are interleaved.

        Returns
        -------
        dataset : tf.data.Dataset
            Elements ``(user, item, rating)``, one block of ratings each.
        """
        return self._dataset(self.files, seed, files_in_parallel)

    def _dataset(self, files, seed, files_in_parallel):
        from .._engine.backend import tf

        tf_ = tf()
        spec = {
            "user": _feature_spec(tf_, self.id_kinds["user"]),
            "item": _feature_spec(tf_, self.id_kinds["item"]),
            "rating": tf_.io.FixedLenSequenceFeature([], tf_.float32, allow_missing=True),
        }

        def parse(record):
            block = tf_.io.parse_single_example(record, spec)
            return block["user"], block["item"], block["rating"]

        order = tf_.data.Dataset.from_tensor_slices(tf_.constant(files, tf_.string))
        if seed is not None:
            order = order.shuffle(len(files), seed=seed)
        return order.interleave(
            tf_.data.TFRecordDataset, cycle_length=files_in_parallel,
            num_parallel_calls=tf_.data.AUTOTUNE, deterministic=True,
        ).map(parse, num_parallel_calls=tf_.data.AUTOTUNE, deterministic=True)

    def iter_blocks(self):
        """Yield ``(user, item, rating)`` NumPy blocks, in file order.

        Yields
        ------
        block : tuple of ndarray
            The ``(user, item, rating)`` columns of one block; string ids as
            Python strings.

        Raises
        ------
        ValueError
            When a file is truncated or corrupted, holds a malformed block, or
            the shards hold another number of ratings than their metadata says.
        """
        from .._engine.backend import tf

        tf_ = tf()
        count = 0
        for file in self.files:
            blocks = self._dataset([file], None, 1).as_numpy_iterator()
            while True:
                try:
                    user, item, rating = next(blocks)
                except StopIteration:
                    break
                except tf_.errors.OpError as exc:
                    reason = exc.message.splitlines()[0] if exc.message else type(exc).__name__
                    raise ValueError(f"{file} is truncated or corrupted: {reason}") from None
                if not (len(user) == len(item) == len(rating)) or not len(rating):
                    raise ValueError(
                        f"{file} holds a malformed block ({len(user)} users, "
                        f"{len(item)} items, {len(rating)} ratings)")
                user = _decode(user, self.id_kinds["user"], file)
                item = _decode(item, self.id_kinds["item"], file)
                count += len(rating)
                yield user, item, rating
        if count != self.n_ratings:
            raise ValueError(
                f"{self.path} holds {count} ratings but {_META} says {self.n_ratings}")


def _decode(ids, kind, file):
    if kind != "str":
        return ids
    try:
        return np.array([value.decode("utf-8") for value in ids], dtype=object).astype(str)
    except UnicodeDecodeError:
        raise ValueError(f"{file} holds an id that is not UTF-8") from None


def _check_meta(meta, meta_path):
    """Validate every key of a shards metadata file before anything is read."""
    def bad(what):
        return ValueError(f"{meta_path} is not a valid skembrec shards file: {what}")

    if not isinstance(meta, dict):
        raise bad("it does not hold a JSON object")
    if meta.get("format") != SHARDS_FORMAT or meta.get("version") != SHARDS_VERSION:
        raise ValueError(
            f"{meta_path} is not a version {SHARDS_VERSION} skembrec shards folder")
    for key in ("files", "n_ratings", "id_kinds", "block_size"):
        if key not in meta:
            raise bad(f"the key {key!r} is missing")
    files = meta["files"]
    if not isinstance(files, list) or not files:
        raise bad("'files' must be a non-empty list of file names")
    for name in files:
        # a plain name inside the folder: never a path elsewhere on the disk
        if (not isinstance(name, str) or name in ("", ".", "..") or name.startswith(".")
                or Path(name).name != name or "/" in name or "\\" in name):
            raise bad(f"{name!r} is not the name of a shard file in the folder")
    if len(set(files)) != len(files):
        raise bad("'files' names a file twice")
    for key in ("n_ratings", "block_size"):
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad(f"{key!r} must be a positive int, got {value!r}")
    kinds = meta["id_kinds"]
    if (not isinstance(kinds, dict) or set(kinds) != {"user", "item"}
            or not all(kinds[k] in ("int", "str") for k in kinds)):
        raise bad(f"'id_kinds' must map 'user' and 'item' to 'int' or 'str', got {kinds!r}")
    sizes = meta.get("sizes")
    if sizes is not None and (
            not isinstance(sizes, list) or len(sizes) != len(files)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in sizes)):
        raise bad("'sizes' must list one byte count per file")
    return meta


def _previous_files(path):
    """The shard files an earlier write listed in ``path`` (none if unreadable)."""
    meta_path = Path(path) / _META
    try:
        meta = _check_meta(json.loads(meta_path.read_text(encoding="utf-8")), meta_path)
    except (ValueError, OSError):
        return []
    return [Path(path) / name for name in meta["files"]]


def _feature_spec(tf_, kind):
    dtype = tf_.string if kind == "str" else tf_.int64
    return tf_.io.FixedLenSequenceFeature([], dtype, allow_missing=True)


def _id_kind(values, name):
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        if values.dtype.kind == "u" and values.size and values.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{name} ids above 2**63 - 1 cannot be stored in shards")
        return "int"
    if values.dtype.kind in "OUS" and all(isinstance(v, str) for v in values[:1000]):
        return "str"
    raise TypeError(
        f"{name} ids must be all ints or all strings to be written as shards, "
        f"got dtype {values.dtype}")


def write_rating_shards(data, path, *, rows_per_shard=1_000_000, block_size=65_536):
    """Write ratings as TFRecord shards that ``fit`` can stream from.

    Parameters
    ----------
    data : DataFrame, Bunch or tuple (X, y)
        A frame with columns ``user``, ``item``, ``rating`` (what the loaders
        and ``make_ratings`` return, e.g. ``load_netflix(...).frame``), a Bunch
        holding such a ``frame``, or ``(X, y)`` with ids in X's first two
        columns.
    path : str or path-like
        The folder to write (created if needed). Shards already in it are
        replaced atomically: until the new ones are complete the folder reads
        as before, and an interrupted write leaves it as it was.
    rows_per_shard : int, default=1_000_000
        Ratings per file; several files let ``tf.data`` read in parallel.
    block_size : int, default=65_536
        Ratings per TFRecord record.

    Returns
    -------
    shards : RatingShards
        The folder just written, ready to pass to ``fit``.
    """
    from .._engine.backend import tf

    for name, value in (("rows_per_shard", rows_per_shard), ("block_size", block_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rows_per_shard, block_size = int(rows_per_shard), int(block_size)
    users, items, ratings = _columns(data)
    if len(ratings) == 0:
        raise ValueError("data holds no ratings; there is nothing to write")
    if not np.all(np.isfinite(ratings)):
        raise ValueError("ratings must be finite to be written as shards")
    kinds = {"user": _id_kind(users, "user"), "item": _id_kind(items, "item")}
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{path} is a file; write_rating_shards needs a folder")
    tf_ = tf()
    path.mkdir(parents=True, exist_ok=True)
    previous = _previous_files(path)
    # new files get names no earlier write used, and the metadata that lists
    # them replaces the old one in one rename: until then the folder reads
    # as before, and an interrupted write removes what it had written
    token = secrets.token_hex(4)
    n = len(ratings)
    names, sizes, written = [], [], []
    try:
        for number, lo in enumerate(range(0, n, rows_per_shard)):
            name = f"ratings-{token}-{number:05d}.tfrecord"
            tmp = temporary_path(path, name)
            written.append(tmp)
            with tf_.io.TFRecordWriter(tmp) as writer:
                for start in range(lo, min(lo + rows_per_shard, n), block_size):
                    stop = min(start + block_size, lo + rows_per_shard, n)
                    writer.write(_block(tf_, users[start:stop], items[start:stop],
                                        ratings[start:stop], kinds))
            os.chmod(tmp, file_mode(path / name))
            os.replace(tmp, path / name)
            written[-1] = path / name
            names.append(name)
            sizes.append((path / name).stat().st_size)
        meta = {"format": SHARDS_FORMAT, "version": SHARDS_VERSION, "files": names,
                "n_ratings": int(n), "id_kinds": kinds, "block_size": block_size,
                "sizes": sizes}
        replace_atomically(path / _META,
                           lambda fh: fh.write(json.dumps(meta, indent=1).encode("utf-8")))
    except BaseException:
        remove_quietly(*written)
        raise
    remove_quietly(*(old for old in previous if old.name not in names))
    return RatingShards(path)


def _block(tf_, users, items, ratings, kinds):
    feature = {
        "user": _feature(tf_, users, kinds["user"]),
        "item": _feature(tf_, items, kinds["item"]),
        "rating": tf_.train.Feature(float_list=tf_.train.FloatList(
            value=np.asarray(ratings, dtype=np.float32))),
    }
    return tf_.train.Example(features=tf_.train.Features(feature=feature)).SerializeToString()


def _feature(tf_, values, kind):
    if kind == "str":
        return tf_.train.Feature(bytes_list=tf_.train.BytesList(
            value=[str(v).encode("utf-8") for v in values]))
    return tf_.train.Feature(int64_list=tf_.train.Int64List(
        value=np.asarray(values, dtype=np.int64)))


def _columns(data):
    if isinstance(data, tuple) and len(data) == 2:
        from .._input.ratings import RatingTable

        X, y = data
        table = RatingTable(X)
        return (table.ids("user", fitting=True), table.ids("item", fitting=True),
                np.asarray(y, dtype=np.float64))
    frame = data.frame if hasattr(data, "frame") else data
    if not isinstance(frame, pd.DataFrame) or not {"user", "item", "rating"} <= set(frame):
        raise TypeError(
            "data must be a DataFrame with user, item and rating columns, a Bunch "
            "holding one, or a tuple (X, y)")
    return (frame["user"].to_numpy(), frame["item"].to_numpy(),
            frame["rating"].to_numpy(np.float64))
