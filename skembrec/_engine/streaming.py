"""Fitting from rating shards on disk: one scan for the vocabularies, then epochs
streamed through ``tf.data`` with bounded memory."""

import numpy as np

from .backend import tf

# merge the running id sets every this many blocks: bounded memory, few sorts
_MERGE_EVERY = 32


def scan_shards(shards):
    """One pass over the shards: distinct ids and rating moments.

    Returns ``(user_ids, item_ids, stats)`` with sorted distinct ids and
    ``stats = (count, sum, sum of squares, min, max)`` of the ratings.
    """
    users, items = [], []
    user_ids = item_ids = None
    count, total, total_sq = 0, 0.0, 0.0
    low, high = np.inf, -np.inf
    for n, (user, item, rating) in enumerate(shards.iter_blocks(), start=1):
        users.append(np.unique(user))
        items.append(np.unique(item))
        rating = rating.astype(np.float64)
        if not np.all(np.isfinite(rating)):
            raise ValueError(f"{shards.path} holds a non-finite rating")
        count += len(rating)
        total += float(rating.sum())
        total_sq += float(np.square(rating).sum())
        low, high = min(low, float(rating.min())), max(high, float(rating.max()))
        if n % _MERGE_EVERY == 0:
            user_ids = _merge(user_ids, users)
            item_ids = _merge(item_ids, items)
            users, items = [], []
    user_ids, item_ids = _merge(user_ids, users), _merge(item_ids, items)
    if count == 0:
        raise ValueError(f"{shards.path} holds no ratings")
    return user_ids, item_ids, (count, total, total_sq, low, high)


def _merge(known, blocks):
    parts = ([] if known is None else [known]) + blocks
    return np.unique(np.concatenate(parts)) if parts else known


def _lookup(vocab, kind):
    tf_ = tf()
    keys = vocab.ids
    key_dtype = tf_.string if kind == "str" else tf_.int64
    keys = tf_.constant(keys.astype(str) if kind == "str" else keys.astype(np.int64),
                        dtype=key_dtype)
    init = tf_.lookup.KeyValueTensorInitializer(
        keys, tf_.range(len(vocab), dtype=tf_.int64))
    return tf_.lookup.StaticHashTable(init, default_value=len(vocab))


class TrainingStream:
    """Builds each epoch's ``tf.data`` pipeline of index batches."""

    def __init__(self, shards, user_vocab, item_vocab, batch_size, *, encode,
                 blocks_per_group=8, blocks_in_buffer=32):
        self.shards = shards
        self.encode = encode  # ratings to training targets, on tensors
        self.user_table = _lookup(user_vocab, shards.id_kinds["user"])
        self.item_table = _lookup(item_vocab, shards.id_kinds["item"])
        self.batch_size = batch_size
        # memory is bounded by these blocks, not by the number of ratings
        self.blocks_per_group = blocks_per_group
        self.blocks_in_buffer = blocks_in_buffer

    def epoch(self, seed):
        """The pipeline of one epoch: vectorised per block, never per rating.

        Files and blocks are read in a shuffled order; groups of blocks are
        concatenated, shuffled as a whole and cut into batches. Per-rating
        ``tf.data`` stages (``unbatch`` + ``shuffle``) would cost far more
        than the training step itself.
        """
        tf_ = tf()
        batch = self.batch_size

        def to_indices(user, item, rating):
            return (
                tf_.cast(self.user_table.lookup(user), tf_.int32),
                tf_.cast(self.item_table.lookup(item), tf_.int32),
                self.encode(rating),
                tf_.ones_like(rating),
            )

        def mix(number, group):
            # one permutation of a group of blocks, seeded by epoch and group
            flat = [part.flat_values for part in group]
            order = tf_.random.experimental.stateless_shuffle(
                tf_.range(tf_.shape(flat[0])[0]), seed=tf_.stack([seed, number]))
            return tuple(tf_.gather(column, order) for column in flat)

        def batches(*columns):
            n = tf_.shape(columns[0])[0]
            n_batches = tf_.cast((n + batch - 1) // batch, tf_.int64)
            return tf_.data.Dataset.range(n_batches).map(
                lambda b: tuple(c[b * batch: (b + 1) * batch] for c in columns))

        seed = tf_.constant(seed, tf_.int64)
        return (
            self.shards.dataset(seed=int(seed))
            .shuffle(self.blocks_in_buffer, seed=int(seed))
            .map(to_indices, num_parallel_calls=tf_.data.AUTOTUNE, deterministic=True)
            .ragged_batch(self.blocks_per_group)
            .enumerate()
            .map(lambda number, group: mix(number, group),
                 num_parallel_calls=tf_.data.AUTOTUNE, deterministic=True)
            .flat_map(batches)
            .prefetch(tf_.data.AUTOTUNE)
        )
