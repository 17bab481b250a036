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
from pathlib import Path

import numpy as np
import pandas as pd

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
        if not meta_path.exists():
            raise ValueError(f"{self.path} holds no rating shards ({_META} is missing)")
        try:
            meta = json.loads(meta_path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{meta_path} is corrupted: {exc}") from None
        if meta.get("format") != SHARDS_FORMAT or meta.get("version") != SHARDS_VERSION:
            raise ValueError(
                f"{meta_path} is not a version {SHARDS_VERSION} skembrec shards folder")
        self.files = [str(self.path / name) for name in meta["files"]]
        missing = [f for f in self.files if not Path(f).exists()]
        if missing:
            raise ValueError(f"shard files are missing: {missing[:3]}")
        self.n_ratings = int(meta["n_ratings"])
        self.id_kinds = meta["id_kinds"]
        self.block_size = int(meta["block_size"])

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
        from .._backend import tf

        tf_ = tf()
        spec = {
            "user": _feature_spec(tf_, self.id_kinds["user"]),
            "item": _feature_spec(tf_, self.id_kinds["item"]),
            "rating": tf_.io.FixedLenSequenceFeature([], tf_.float32, allow_missing=True),
        }

        def parse(record):
            block = tf_.io.parse_single_example(record, spec)
            return block["user"], block["item"], block["rating"]

        files = tf_.data.Dataset.from_tensor_slices(self.files)
        if seed is not None:
            files = files.shuffle(len(self.files), seed=seed)
        return files.interleave(
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
        """
        for user, item, rating in self.dataset(files_in_parallel=1).as_numpy_iterator():
            if self.id_kinds["user"] == "str":
                user = user.astype(object).astype(str)
            if self.id_kinds["item"] == "str":
                item = item.astype(object).astype(str)
            yield user, item, rating


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
        The folder to write (created; existing shard files are replaced).
    rows_per_shard : int, default=1_000_000
        Ratings per file; several files let ``tf.data`` read in parallel.
    block_size : int, default=65_536
        Ratings per TFRecord record.

    Returns
    -------
    shards : RatingShards
        The folder just written, ready to pass to ``fit``.
    """
    from .._backend import tf

    users, items, ratings = _columns(data)
    if not (rows_per_shard >= 1 and block_size >= 1):
        raise ValueError("rows_per_shard and block_size must be positive")
    if not np.all(np.isfinite(ratings)):
        raise ValueError("ratings must be finite to be written as shards")
    kinds = {"user": _id_kind(users, "user"), "item": _id_kind(items, "item")}
    tf_ = tf()
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    n = len(ratings)
    names = []
    for number, lo in enumerate(range(0, n, rows_per_shard)):
        name = f"ratings-{number:05d}.tfrecord"
        with tf_.io.TFRecordWriter(str(path / f".{name}.tmp")) as writer:
            for start in range(lo, min(lo + rows_per_shard, n), block_size):
                stop = min(start + block_size, lo + rows_per_shard, n)
                feature = {
                    "user": _feature(tf_, users[start:stop], kinds["user"]),
                    "item": _feature(tf_, items[start:stop], kinds["item"]),
                    "rating": tf_.train.Feature(float_list=tf_.train.FloatList(
                        value=np.asarray(ratings[start:stop], dtype=np.float32))),
                }
                example = tf_.train.Example(features=tf_.train.Features(feature=feature))
                writer.write(example.SerializeToString())
        (path / f".{name}.tmp").replace(path / name)
        names.append(name)
    meta = {"format": SHARDS_FORMAT, "version": SHARDS_VERSION, "files": names,
            "n_ratings": int(n), "id_kinds": kinds, "block_size": int(block_size)}
    (path / _META).write_text(json.dumps(meta, indent=1))
    return RatingShards(path)


def _feature(tf_, values, kind):
    if kind == "str":
        return tf_.train.Feature(bytes_list=tf_.train.BytesList(
            value=[str(v).encode("utf-8") for v in values]))
    return tf_.train.Feature(int64_list=tf_.train.Int64List(
        value=np.asarray(values, dtype=np.int64)))


def _columns(data):
    if isinstance(data, tuple) and len(data) == 2:
        from .._ratings import RatingTable

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
