"""A fitted estimator as a TensorFlow SavedModel that runs without skembrec.

:func:`export_saved_model` writes, with Keras' own
:class:`keras.export.ExportArchive`, a SavedModel whose signatures take raw
ids: the vocabularies are lookups inside the graph (hash tables, or arrays
for compact integer ranges) whose default is the reserved unknown row, so an
unknown id gets the estimator's cold-start fallback. Everything else
``predict`` and ``recommend`` do after the Keras model (target decoding,
clipping, the classifier's decision rule, the time features, the seen-item
mask, the item filters, the top-k with ties in item-table order) is written
here again in TensorFlow: the results equal the estimator's to float32
precision, and recommend ranks as the estimator does (a model whose score
factors by the same :func:`~skembrec._engine.recommend.rank_factored`, the
others in float64, as NumPy does).

Big constants (rated pairs, per-user time statistics, item ids) are
variables, stored in the SavedModel's checkpoint rather than in its graph
(which protobuf limits to 2 GB); the hash tables' keys are in the graph.
"""

import numbers
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .._engine.backend import keras, tf
from .._engine.recommend import RESCORE_CHUNK, RESCORE_MARGIN, rank_factored
from .._input.time import SECONDS_PER_DAY
from .files import _UMASK

_INT64_MAX = np.iinfo(np.int64).max
# (user, item) scores held at once by the recommend signature, as by recommend()
_SCORE_CHUNK = 1 << 22
# integral float ids (196.0) are exported as int64 while they are exact
_FLOAT_INT_LIMIT = 2.0**53


def export_saved_model(estimator, path):
    """Write ``estimator`` (fitted) as a SavedModel folder at ``path``.

    The folder is written under a unique temporary name beside ``path`` and
    renamed into place, so an interrupted export leaves nothing behind.
    ``path`` must not exist, or be an empty folder.
    """
    state = estimator._fitted_state()  # NotFittedError first
    path = Path(path)
    _check_destination(path)
    archive = _archive(estimator, state)
    tmp = tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        archive.write_out(tmp, verbose=False)
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp's folder is private (0700)
        os.replace(tmp, path)  # over an empty folder too (POSIX)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_destination(path):
    if path.is_dir():
        if any(path.iterdir()):
            raise FileExistsError(
                f"{path} is a folder that is not empty; export() writes a new "
                "SavedModel folder (remove it, or export to a new path such as "
                "a new version folder)")
    elif path.exists() or path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a folder; export() writes "
                              "a SavedModel folder at a new path")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{path.parent} is not a folder; export({str(path)!r}) "
                                "creates the last folder of the path only")


# -- what the signatures take and give ---------------------------------------------
def id_keys(vocab, side):
    """``(tf dtype, keys)``: how the raw ids of ``vocab`` enter the graph.

    Integer ids (and integral float ids such as ``196.0``) are int64 and
    string ids ``tf.string``; other ids (bools, non-integral floats, a mix of
    kinds, dates, tuples) have no TensorFlow key type, and raise.
    """
    t = tf()
    ids = vocab.ids
    if ids.dtype == object and len(ids) and all(map(_is_number, ids)):
        # numbers kept as objects (e.g. from_factors' ids): as a number array
        as_numbers = np.array(ids.tolist())
        ids = as_numbers if as_numbers.dtype.kind in "iuf" else ids
    kind = ids.dtype.kind
    if kind in "iu":
        if kind == "u" and len(ids) and ids.max() > _INT64_MAX:
            raise ValueError(f"{side} ids above {_INT64_MAX} do not fit in int64; "
                             "export needs int64 or string ids")
        return t.int64, ids.astype(np.int64)
    if kind == "f":
        bad = ~((ids == np.round(ids)) & (np.abs(ids) <= _FLOAT_INT_LIMIT))
        if not bad.any():
            return t.int64, ids.astype(np.int64)
        example = ids[bad][0]
    elif kind in "OU":
        example = next((i for i in ids if not isinstance(i, str)), None)
        if example is None:
            return t.string, np.asarray(ids, dtype=object)
    else:
        example = ids[0]
    example = example.item() if isinstance(example, np.generic) else example
    raise ValueError(
        f"{side} ids such as {example!r} ({ids.dtype} ids) cannot be exported: a "
        "SavedModel looks ids up by int64 or string keys. Fit on integer or string "
        "ids to export (e.g. map the ids with astype(str))")


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def class_kind(classes):
    """``"number"`` or ``"string"``: what the classifier's labels export as."""
    if classes.dtype.kind in "iuf":
        return "number"
    if classes.dtype.kind in "OU" and all(isinstance(c, str) for c in classes):
        return "string"
    raise ValueError(f"classes of {classes.dtype} labels ({classes.tolist()[:5]}) "
                     "cannot be exported: fit on numeric or string labels")


# -- the archive -------------------------------------------------------------------
def _archive(estimator, state):
    """The :class:`keras.export.ExportArchive` of a fitted estimator."""
    graph = _Graph(estimator, state)
    archive = keras().export.ExportArchive()
    archive.track(graph.model)
    for lookup in (graph.users, graph.items):
        if lookup.table is not None:
            archive.track(lookup.table)
    t = tf()
    id_spec = {side: t.TensorSpec([None], lookup.dtype, name=side)
               for side, lookup in (("user", graph.users), ("item", graph.items))}
    for encoder in graph.features.values():
        for table in encoder.tables:
            archive.track(table)
    predict_spec = [id_spec["user"], id_spec["item"]]
    if graph.time is not None:
        predict_spec.append(t.TensorSpec([None], t.float64, name="time"))
    predict_spec += [t.TensorSpec([None], dtype, name=name)
                     for name, dtype in graph.feature_inputs]
    archive.add_endpoint("predict", graph.predict_signature(len(predict_spec)),
                         input_signature=predict_spec)
    if graph.can_rank:
        archive.add_endpoint("recommend", graph.recommend, input_signature=[
            id_spec["user"], t.TensorSpec([], t.int32, name="k"),
            t.TensorSpec([None], graph.items.dtype, name="items"),
            t.TensorSpec([None], graph.items.dtype, name="exclude_items")])
    return archive


class _Lookup:
    """Raw ids -> table rows, in the graph; unknown ids -> the reserved row.

    A hash table (``tf.lookup.StaticHashTable``, default: the reserved row),
    or, for integer ids of a compact range (MovieLens' 1..n), a plain array
    of rows indexed by ``id - smallest id``: a gather, several times faster
    than hashing.
    """

    def __init__(self, vocab, side):
        t = tf()
        self.dtype, keys = id_keys(vocab, side)
        n = self.size = len(vocab)
        self.table = None
        # raw ids back from rows (recommend's output); a variable, not a constant
        self.ids = t.Variable(t.constant(keys, self.dtype), trainable=False,
                              name=f"{side}_ids")
        self.pad = t.constant(-1 if self.dtype == t.int64 else "", self.dtype)
        if self.dtype == t.int64 and n and int(keys.max()) - int(keys.min()) < 4 * n + 4096:
            self.low, self.high = int(keys.min()), int(keys.max())
            rows = np.full(self.high - self.low + 1, n, dtype=np.int32)
            rows[keys - self.low] = np.arange(n, dtype=np.int32)
            self.rows = t.Variable(rows, trainable=False, name=f"{side}_rows")
        else:
            self.table = t.lookup.StaticHashTable(
                t.lookup.KeyValueTensorInitializer(
                    t.constant(keys, self.dtype), t.range(n, dtype=t.int64)),
                default_value=n)

    def __call__(self, ids):
        t = tf()
        if self.table is not None:
            return t.cast(self.table.lookup(ids), t.int32)
        # compared before subtracting: no int64 overflow near the extremes
        inside = (ids >= self.low) & (ids <= self.high)
        rows = t.gather(self.rows, t.where(inside, ids - self.low, 0))
        return t.where(inside, rows, self.size)


class _Graph:
    """The fitted state as TensorFlow values, and the two serving functions."""

    def __init__(self, estimator, state):
        t = tf()
        self.model = estimator._live().model
        self.users = _Lookup(state.user_vocab, "user")
        self.items = _Lookup(state.item_vocab, "item")
        self.target = state.target
        self.params = state.params
        self.classes = getattr(state.target, "classes", None)
        self.kind = None if self.classes is None else class_kind(self.classes)
        self.can_rank = self.kind in (None, "number")
        self.time = None if state.time is None else _TimeFeatures(state.time)
        self.features = {side: _FeatureEncoder(features)
                         for side, features in (state.features or {}).items()
                         if features is not None}
        # the feature columns as inputs: (input name, dtype), each column once
        self.feature_inputs = []
        for encoder in self.features.values():
            for name, dtype in encoder.inputs:
                if name not in dict(self.feature_inputs):
                    self.feature_inputs.append((name, dtype))
        self.seen = None
        if state.seen is not None:
            seen = state.seen.tocsr()
            # one more, empty row: the unknown user has rated nothing
            splits = np.append(seen.indptr, seen.indptr[-1]).astype(np.int64)
            self.seen = (t.Variable(seen.indices.astype(np.int32), trainable=False,
                                    name="seen_items"),
                         t.Variable(splits, trainable=False, name="seen_row_splits"))
        # a model whose score factors ranks by one product per chunk of users,
        # as its recommend() does: every user's vector (the unknown user's
        # last) and the items' as variables
        self.factored = None
        ranking = estimator._ranking(state) if self.can_rank else None
        if ranking is not None:
            n_users = len(state.user_vocab)
            vectors = np.asarray(ranking.user_vectors(np.arange(n_users + 1)), np.float32)
            self.factored = (
                t.Variable(vectors, trainable=False, name="user_vectors"),
                t.Variable(ranking.items, trainable=False, name="item_vectors"),
                t.Variable(ranking.bias, trainable=False, name="item_bias"))

    def _output(self, users, items, days=None, columns=None):
        """Model output; the feature bags from ``columns`` (raw feature
        columns by input name) or, without them, those recorded in fit."""
        t = tf()
        inputs = [users, items]
        if self.time is not None:
            inputs.append(self.time(days, users))
        for side, encoder in self.features.items():
            rows = users if side == "user" else items
            inputs.extend(encoder.recorded(rows) if columns is None else encoder(columns))
        return t.cast(self.model(inputs, training=False), t.float32)

    # -- predict -------------------------------------------------------------------
    def predict_signature(self, n_inputs):
        """The ``predict`` function of ``n_inputs`` tensors: user, item, then
        time (a time-aware model) and the feature columns."""
        t = tf()
        names = [name for name, _ in self.feature_inputs]
        timed = self.time is not None

        def predict(*args):
            user, item = args[:2]
            days = None
            if timed:
                days = _checked(args[2], t.debugging.assert_equal(
                    t.shape(args[2]), t.shape(user),
                    message="time and user must have the same length")) / SECONDS_PER_DAY
            columns = dict(zip(names, args[2 + timed:]))
            for name, column in columns.items():
                columns[name] = _checked(column, t.debugging.assert_equal(
                    t.shape(column), t.shape(user),
                    message=f"{name} and user must have the same length"))
            return self._predict(user, item, days, columns if names else None)

        return predict

    def _predict(self, user, item, days, columns=None):
        t = tf()
        item = _checked(item, t.debugging.assert_equal(
            t.shape(user), t.shape(item), message="user and item must have the same length"))
        output = self._output(self.users(user), self.items(item), days, columns)
        return self.target.serve_tensor(t, output, self.params)

    def _scores(self, output):
        """Ranking scores (float64) of model outputs, as ``decode_scores``."""
        return self.target.score_tensor(tf(), output)

    # -- recommend -----------------------------------------------------------------
    def recommend(self, user, k, items, exclude_items):
        t = tf()
        k = _checked(k, t.debugging.assert_non_negative(k, message="k must be non-negative"))
        users = self.users(user)
        n_items = self.items.size
        width = t.minimum(k, n_items)
        n = t.shape(users)[0]
        allowed = self._allowed(items, exclude_items)
        # score a chunk of users at a time, as recommend() does: memory stays
        # about _SCORE_CHUNK scores whatever the number of users asked for
        chunk = max(1, _SCORE_CHUNK // max(n_items, 1))
        if self.factored is not None:
            # and the re-scoring about RESCORE_CHUNK values
            depth = t.minimum(width + RESCORE_MARGIN, n_items)
            chunk = t.minimum(chunk, RESCORE_CHUNK // t.maximum(
                depth * self.factored[1].shape[1], 1))
        chunk = t.maximum(t.minimum(chunk, n), 1)
        # at least one chunk: map_fn cannot stack an empty list of blocks
        n_chunks = t.maximum((n + chunk - 1) // chunk, 1)
        padded = t.concat([users, t.fill([n_chunks * chunk - n], self.users.size)], 0)
        blocks = t.reshape(padded, [n_chunks, chunk])
        top, scores = t.map_fn(
            lambda block: self._top_k(block, width, allowed), blocks, parallel_iterations=1,
            fn_output_signature=(t.TensorSpec([None, None], t.int32),
                                 t.TensorSpec([None, None], t.float64)))
        top = t.reshape(top, [-1, width])[:n]
        scores = t.reshape(scores, [-1, width])[:n]
        found = scores > -np.inf
        items = t.where(found, t.gather(self.items.ids, top), self.items.pad)
        return {"items": items, "scores": t.cast(scores, t.float32)}

    def _allowed(self, items, exclude_items):
        """The candidates the filters leave, a boolean mask over the items: an
        empty ``items`` allows every item, unknown ids are ignored."""
        t = tf()
        n_items = self.items.size

        def marked(ids):
            rows = self.items(ids)
            rows = t.boolean_mask(rows, rows < n_items)[:, None]
            # (int counts: scatter_nd adds the updates of an id given twice)
            return t.scatter_nd(rows, t.ones(t.shape(rows)[:1], t.int32), [n_items]) > 0

        allowed = t.cond(t.size(items) > 0, lambda: marked(items),
                         lambda: t.ones([n_items], t.bool))
        return allowed & ~marked(exclude_items)

    def _seen_pairs(self, users):
        """The (row in ``users``, item) pairs the users rated in fit, int64."""
        t = tf()
        rows = t.gather(t.RaggedTensor.from_row_splits(*self.seen, validate=False), users)
        return t.stack([rows.value_rowids(), t.cast(rows.flat_values, t.int64)], 1)

    def _top_k_factored(self, users, width, allowed):
        """:meth:`_top_k` by the product of user and item vectors."""
        t = tf()
        user_vectors, item_vectors, item_bias = self.factored
        n_items = self.items.size
        pairs = (self._seen_pairs(users) if self.seen is not None
                 else t.zeros([0, 2], t.int64))
        top, exact = rank_factored(t, t.gather(user_vectors, users), item_vectors, item_bias,
                                   pairs, allowed, width,
                                   t.minimum(width + RESCORE_MARGIN, n_items))
        # the scores of the chosen items, as the estimator's model gives them
        flat_users = t.repeat(users, width)
        days = None
        if self.time is not None:
            days = t.fill(t.shape(flat_users), self.time.last_day)
        scores = t.reshape(self._scores(self._output(flat_users, t.reshape(top, [-1]), days)),
                           [-1, width])
        return top, t.where(exact > -np.inf, scores, t.constant(-np.inf, t.float64))

    def _top_k(self, users, width, allowed):
        """The best ``width`` items of each user of a block, and their scores."""
        t = tf()
        if self.factored is not None:
            return self._top_k_factored(users, width, allowed)
        n_items = self.items.size
        flat_users = t.repeat(users, n_items)
        flat_items = t.tile(t.range(n_items, dtype=t.int32), [t.shape(users)[0]])
        days = None
        if self.time is not None:
            # a time-aware model ranks as of the last day of fit
            days = t.fill(t.shape(flat_users), self.time.last_day)
        scores = t.reshape(self._scores(self._output(flat_users, flat_items, days)),
                           [-1, n_items])
        # like recommend(): non-finite scores are no candidates, nor seen or
        # filtered items
        scores = t.where(t.math.is_finite(scores) & allowed, scores, -np.inf)
        if self.seen is not None:
            rows = t.gather(t.RaggedTensor.from_row_splits(*self.seen, validate=False),
                            users)
            where = t.stack([t.cast(rows.value_rowids(), t.int32), rows.flat_values], 1)
            scores = t.tensor_scatter_nd_update(
                scores, where, t.fill(t.shape(rows.flat_values), t.constant(-np.inf,
                                                                           t.float64)))
        # top_k sorts, equal values in index order: ties in item-table order
        best = t.math.top_k(scores, k=width, sorted=True)
        return best.indices, best.values


class _FeatureEncoder:
    """The feature columns of a served model: lookup tables of their values,
    then each column's
    :meth:`~skembrec._input.features.FeatureColumn.transform_tensor`.

    Each feature column is one input, named after the column (``column_<n>``
    for a position): float64 for a numeric column, a string or int64 for a
    categorical one (as its values), a string for a multi-valued one.
    """

    def __init__(self, features):
        t = tf()
        self.n_tokens = features.n_tokens
        self.separator = features.separator
        self.columns = []  # (input name, kind, offset, column, table)
        self.inputs = []
        self.tables = []
        offset = 0
        for column in features.columns:
            name = input_name(column.ref)
            table = None
            if column.kind == "numeric":
                dtype = t.float64
            else:
                dtype, keys = id_keys(column.vocab, f"the feature {column.ref!r}'s")
                if column.kind == "multi" and dtype != t.string:  # pragma: no cover
                    raise ValueError(f"the multi-valued feature {column.ref!r} is not text")
                table = t.lookup.StaticHashTable(
                    t.lookup.KeyValueTensorInitializer(
                        t.constant(keys, dtype), t.range(len(keys), dtype=t.int64)),
                    default_value=-1)
                self.tables.append(table)
            self.columns.append((name, column, offset, table))
            self.inputs.append((name, dtype))
            offset += column.n_tokens
        index, value = features.rows
        self.rows = (t.Variable(index, trainable=False, name=f"{features.name}_rows_index"),
                     t.Variable(value, trainable=False, name=f"{features.name}_rows_value"))

    def recorded(self, rows):
        """The bags recorded in fit for id rows (unknown ids: empty)."""
        t = tf()
        return [t.gather(self.rows[0], rows), t.gather(self.rows[1], rows)]

    def __call__(self, columns):
        t = tf()
        indices, values = [], []
        pad = t.constant(self.n_tokens, t.int32)
        for name, column, offset, table in self.columns:
            index, value = column.transform_tensor(t, columns[name], table, self.separator,
                                                   offset, pad)
            indices.append(index)
            values.append(value)
        index = t.concat(indices, axis=1)
        value = t.concat(values, axis=1)
        # unknown entries point at the zero row with value 0, as in NumPy
        return [t.where(value != 0, index, pad), value]


def input_name(ref):
    """The SavedModel input name of a feature column."""
    if not isinstance(ref, str):
        return f"column_{ref}"
    name = "".join(c if c.isalnum() or c in "_.-" else "_" for c in ref)
    if not name[:1].isalnum() or name in ("user", "item", "time", "k"):
        name = f"feature_{name}"  # a valid name, apart from the other inputs
    return name


class _TimeFeatures:
    """The fit's time statistics as variables of the SavedModel, transformed
    by :meth:`~skembrec._input.time.TimeFeatures.transform_tensor`."""

    def __init__(self, time):
        t = tf()
        self.time = time
        self.last_day = t.constant(time.last_day(), t.float64)
        self.stats = {name: t.Variable(values, trainable=False, name=f"time_{name}")
                      for name, values in time.arrays().items()}

    def __call__(self, days, users):
        return self.time.transform_tensor(tf(), days, users, self.stats)


def _checked(value, assertion):
    """``value``, computed after ``assertion`` passed (a clear error first)."""
    with tf().control_dependencies([assertion]):
        return tf().identity(value)

