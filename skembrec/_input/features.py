"""Side features of users and items: columns of ``X`` -> weighted bags of tokens.

Every feature column of one side (user or item) is encoded once at fit into
tokens of one table, and each row of ``X`` becomes a bag of ``(token,
value)`` pairs, padded to the widest bag of the call:

numeric
    One token per column; its value is the standardised number (the fit's
    mean and standard deviation). A missing number has value 0, the mean.
categorical
    One token per value seen in fit (any hashable values), value 1. A value
    never seen in fit, or a missing one, contributes nothing.
multi-valued
    Strings split on the separator (``"Action|Comedy"``); one token per part
    seen in fit, each with value ``1 / n_parts`` (the bag's mean). Empty
    strings and unseen parts contribute nothing.

A column's kind is read from the fit data: numbers (not booleans) are
numeric, strings of which at least one holds the separator are multi-valued,
everything else (strings, booleans, a pandas ``category`` column, mixed
values) is categorical. A model reads a side's bag through one embedding
table of ``n_tokens + 1`` rows; the last row, zeros, is what padding and
unknown values point at. The encoding of each id's last row in fit is kept
too (:attr:`SideFeatures.rows`), so ``recommend`` can score every item (and
a known user) with its features.

Nothing here imports TensorFlow.
"""

import numbers

import numpy as np
import pandas as pd

from .ratings import _from_arrow
from .vocab import IdVocabulary

KINDS = ("numeric", "categorical", "multi")


class FeatureColumn:
    """The encoding of one feature column, as fit decided it.

    Parameters
    ----------
    ref : str or int
        The column, by name or position, as the parameter gave it.
    kind : {"numeric", "categorical", "multi"}
    vocab : IdVocabulary or None
        The values (categorical) or parts (multi-valued) seen in fit.
    mean, scale : float
        Standardisation of a numeric column.
    """

    def __init__(self, ref, kind, vocab=None, mean=0.0, scale=1.0):
        self.ref = ref
        self.kind = kind
        self.vocab = vocab
        self.mean = float(mean)
        self.scale = float(scale)

    @property
    def n_tokens(self):
        return 1 if self.kind == "numeric" else len(self.vocab)

    def __eq__(self, other):
        return (isinstance(other, FeatureColumn) and self.ref == other.ref
                and self.kind == other.kind and self.vocab == other.vocab
                and self.mean == other.mean and self.scale == other.scale)

    __hash__ = None

    def __repr__(self):
        return f"FeatureColumn({self.ref!r}, {self.kind!r}, n_tokens={self.n_tokens})"

    def transform_tensor(self, tf_, x, lookup, separator, offset, pad):
        """:func:`_encode_column` in TensorFlow, for a served model (``tf_`` is
        the module: nothing here imports it). ``x`` is the raw column,
        ``lookup`` a table from the vocabulary's values (or parts) to their
        positions, -1 when unknown; the tokens come back shifted by
        ``offset``, an unknown one as ``pad`` with value 0. Returns
        ``(index, value)``, ``(n, width)`` int32 and float32."""
        t = tf_
        if self.kind == "numeric":
            value = (x - self.mean) / self.scale
            value = t.where(t.math.is_finite(value), value, 0.0)  # missing: the mean
            return (t.fill([t.shape(x)[0], 1], t.constant(offset, t.int32)),
                    t.cast(value, t.float32)[:, None])
        if self.kind == "categorical":
            token = t.cast(lookup.lookup(x), t.int32)
            return (t.where(token >= 0, token + offset, pad)[:, None],
                    t.cast(token >= 0, t.float32)[:, None])
        # multi-valued: each known part weighs 1/(known parts); "" is unknown
        token = t.cast(lookup.lookup(t.strings.split(x, sep=separator)), t.int32)
        known = t.cast(token >= 0, t.float32)
        share = t.math.divide_no_nan(known, t.reduce_sum(known, axis=1, keepdims=True))
        index = t.where(token >= 0, token + offset, pad)
        return index.to_tensor(default_value=pad), share.to_tensor(default_value=0.0)


class SideFeatures:
    """The feature columns of one side and their encoding into token bags.

    Attributes
    ----------
    side : {"user", "item"}
    columns : list of FeatureColumn
    separator : str
    rows : tuple of ndarray
        ``(index, value)`` of shape ``(n_ids + 1, width)``: the bag of each
        id's last row in fit (the extra last row, empty, for unknown ids).
    """

    def __init__(self, side, columns, separator, rows=None):
        self.side = side
        self.columns = list(columns)
        self.separator = separator
        self.rows = rows

    @property
    def name(self):
        return f"{self.side}_features"

    @property
    def n_tokens(self):
        """Tokens of all columns together (the table has one more row)."""
        return sum(c.n_tokens for c in self.columns)

    def __eq__(self, other):
        if not isinstance(other, SideFeatures):
            return False
        same_rows = (self.rows is None) == (other.rows is None) and (
            self.rows is None or all(np.array_equal(a, b)
                                     for a, b in zip(self.rows, other.rows)))
        return (self.side == other.side and self.columns == other.columns
                and self.separator == other.separator and same_rows)

    __hash__ = None

    def __repr__(self):
        return f"SideFeatures({self.side!r}, {self.columns!r})"

    # -- fit --------------------------------------------------------------
    @classmethod
    def fit(cls, table, refs, separator, side, parameter):
        """Detect each column's kind and learn its encoding from ``table``."""
        columns = []
        for ref in refs:
            values = _column(table, ref, parameter)
            label = _label(parameter, ref)
            columns.append(_fit_column(ref, values, separator, label))
        return cls(side, columns, separator)

    def transform(self, table, parameter):
        """The bags of every row of ``table``: ``(index, value)``, int32 and
        float32 arrays of shape ``(n_rows, width)``."""
        parts = []
        offset = 0
        for column in self.columns:
            values = _column(table, column.ref, parameter)
            label = _label(parameter, column.ref)
            index, value = _encode_column(column, values, self.separator, label)
            index = np.where(value != 0, index + offset, self.n_tokens)
            parts.append((index, value))
            offset += column.n_tokens
        if not parts:
            n = table.n_rows
            return (np.full((n, 1), self.n_tokens, np.int32), np.zeros((n, 1), np.float32))
        return (np.concatenate([p[0] for p in parts], axis=1).astype(np.int32),
                np.concatenate([p[1] for p in parts], axis=1).astype(np.float32))

    # -- each id's bag, for recommend ---------------------------------------
    def with_rows(self, ids, index, value, n_ids):
        """A copy whose :attr:`rows` also hold the bags of the rows of
        ``index``/``value`` for the id indices ``ids`` (the last row of each
        id wins), grown to ``n_ids`` ids."""
        width = max(index.shape[1], 0 if self.rows is None else self.rows[0].shape[1])
        rows_index = np.full((n_ids + 1, width), self.n_tokens, np.int32)
        rows_value = np.zeros((n_ids + 1, width), np.float32)
        if self.rows is not None:
            old_index, old_value = self.rows
            n_old = len(old_index) - 1
            rows_index[:n_old, :old_index.shape[1]] = old_index[:n_old]
            rows_value[:n_old, :old_value.shape[1]] = old_value[:n_old]
        ids = np.asarray(ids, dtype=np.int64)
        # the last occurrence of each id: reverse, then the first
        reverse = ids[::-1]
        unique, first = np.unique(reverse, return_index=True)
        source = len(ids) - 1 - first
        keep = unique < n_ids
        unique, source = unique[keep], source[keep]
        rows_index[unique] = self.n_tokens
        rows_value[unique] = 0.0
        rows_index[unique, :index.shape[1]] = index[source]
        rows_value[unique, :value.shape[1]] = value[source]
        return SideFeatures(self.side, self.columns, self.separator,
                            (rows_index, rows_value))

    def bags_of(self, ids):
        """The recorded bags of the id indices ``ids`` (unknown: empty)."""
        index, value = self.rows
        ids = np.minimum(np.asarray(ids, dtype=np.int64), len(index) - 1)
        return index[ids], value[ids]

    # -- the safe archive ---------------------------------------------------
    def to_archive(self, arrays, ids_to_store):
        """The JSON header of this encoding; its arrays go into ``arrays``."""
        prefix = self.name
        columns = []
        for n, column in enumerate(self.columns):
            entry = {"ref": column.ref if isinstance(column.ref, str) else int(column.ref),
                     "kind": column.kind, "mean": column.mean, "scale": column.scale}
            if column.vocab is not None:
                entry["vocab"] = ids_to_store(column.vocab.ids, f"{prefix}_{n}_vocab",
                                              arrays)
            columns.append(entry)
        arrays[f"{prefix}_rows_index"], arrays[f"{prefix}_rows_value"] = self.rows
        return {"separator": self.separator, "columns": columns}

    @classmethod
    def from_archive(cls, side, spec, arrays, ids_from_store, n_ids):
        """Read :meth:`to_archive`'s header and arrays back, checking them."""
        if not isinstance(spec, dict) or not isinstance(spec.get("separator"), str):
            raise ValueError(f"the {side} features must be a mapping with a separator")
        if not isinstance(spec.get("columns"), list):
            raise ValueError(f"the {side} features' columns must be a list")
        columns = []
        for entry in spec["columns"]:
            if not isinstance(entry, dict) or entry.get("kind") not in KINDS:
                raise ValueError(f"a {side} feature column has no valid kind")
            ref = entry.get("ref")
            if isinstance(ref, bool) or not isinstance(ref, str | int):
                raise ValueError(f"a {side} feature column has no valid name or position")
            mean, scale = float(entry["mean"]), float(entry["scale"])
            if not (np.isfinite([mean, scale]).all() and scale > 0):
                raise ValueError(f"the {side} feature {ref!r} has a bad mean or scale")
            vocab = None
            if entry["kind"] != "numeric":
                vocab = IdVocabulary(ids_from_store(entry["vocab"], arrays))
            columns.append(FeatureColumn(ref, entry["kind"], vocab, mean, scale))
        features = cls(side, columns, spec["separator"])
        prefix = features.name
        index = np.asarray(arrays[f"{prefix}_rows_index"])
        value = np.asarray(arrays[f"{prefix}_rows_value"])
        if (index.ndim != 2 or index.shape != value.shape or len(index) != n_ids + 1
                or index.dtype.kind not in "iu" or value.dtype.kind != "f"
                or (index.size and (index.min() < 0 or index.max() > features.n_tokens))
                or not np.isfinite(value).all()):
            raise ValueError(f"the {side} features' per-id bags do not match their "
                             "vocabulary and columns")
        features.rows = (index.astype(np.int32), value.astype(np.float32))
        return features


def check_feature_refs(value, parameter, estimator_name):
    """The column list a ``user_features``/``item_features`` parameter gives."""
    if value is None:
        return []
    if isinstance(value, str | numbers.Integral) and not isinstance(value, bool):
        value = [value]
    try:
        refs = list(value)
    except TypeError:
        raise TypeError(f"{parameter} of {estimator_name} must be None or a list of "
                        f"column names or positions, got {value!r}") from None
    for ref in refs:
        if isinstance(ref, bool) or not isinstance(ref, str | numbers.Integral):
            raise TypeError(f"{parameter} of {estimator_name} must name columns by "
                            f"name (str) or position (int), got {ref!r}")
    if len(set(refs)) != len(refs):
        raise ValueError(f"{parameter} of {estimator_name} names a column twice: {refs}")
    return [r if isinstance(r, str) else int(r) for r in refs]


def _label(parameter, ref):
    return f"the feature column {ref!r} ({parameter})"


def _column(table, ref, parameter):
    position = table.position(ref, parameter)
    if position in (0, 1):
        raise ValueError(f"{parameter} names column {ref!r}, which holds the "
                         f"{'user' if position == 0 else 'item'} ids; features are "
                         "the columns after them")
    column = table.column(position, parameter)
    series = column if isinstance(column, pd.Series) else pd.Series(column, copy=False)
    return _from_arrow(series)


def _is_numeric(series):
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return True
    if dtype is np.dtype(object):
        inferred = series.infer_objects().dtype
        return pd.api.types.is_numeric_dtype(inferred) and not pd.api.types.is_bool_dtype(
            inferred)
    return False


def _numbers(series, label):
    values = series.to_numpy() if isinstance(series.dtype, np.dtype) and \
        series.dtype != object else series.infer_objects().to_numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{label} held numbers in fit; here it holds "
                         f"{series.dtype} values that are not numbers") from None


def _fit_column(ref, series, separator, label):
    if _is_numeric(series):
        values = _numbers(series, label)
        if np.isinf(values).any():
            row = int(np.flatnonzero(np.isinf(values))[0])
            raise ValueError(f"{label} holds inf at row {row}; a numeric feature "
                             "must be finite (NaN counts as missing)")
        present = values[~np.isnan(values)]
        mean = float(present.mean()) if len(present) else 0.0
        scale = float(present.std()) if len(present) else 0.0
        return FeatureColumn(ref, "numeric", None, mean, scale if scale > 0 else 1.0)
    codes, uniques = _factorize(series, label)
    kind = "categorical"
    if any(isinstance(u, str) and separator in u for u in uniques):
        kind = "multi"
        parts = sorted({p for u in uniques if isinstance(u, str)
                        for p in u.split(separator) if p})
        vocab = IdVocabulary(np.asarray(parts, dtype=object))
    else:
        vocab, _ = IdVocabulary.fit(np.asarray(uniques, dtype=object), name=label)
    return FeatureColumn(ref, kind, vocab)


def _factorize(series, label):
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:
        raise TypeError(f"{label} must hold hashable values (numbers, strings, ...)") \
            from None
    values = np.empty(len(uniques), dtype=object)
    values[:] = list(uniques.to_numpy() if hasattr(uniques, "to_numpy") else uniques)
    return codes, values


def _encode_column(column, series, separator, label):
    """``(index, value)`` of one column: token positions within the column
    (any where value is 0) and values, ``(n_rows, width)``."""
    n = len(series)
    if column.kind == "numeric":
        if not _is_numeric(series) and not series.isna().all():
            raise ValueError(f"{label} held numbers in fit; here it holds "
                             f"{series.dtype} values")
        values = _numbers(series, label)
        values = (values - column.mean) / column.scale
        values[~np.isfinite(values)] = 0.0  # missing: the mean
        return np.zeros((n, 1), np.int64), values[:, None]
    codes, uniques = _factorize(series, label)
    if column.kind == "categorical":
        known = column.vocab.transform(uniques) if len(uniques) else np.empty(0, np.int64)
        token = np.where(codes >= 0, known[np.maximum(codes, 0)] if len(known) else 0,
                         column.n_tokens)
        value = (token < column.n_tokens).astype(np.float64)
        return token[:, None], value[:, None]
    # multi-valued: split each distinct string once
    bags = []
    for unique in uniques:
        parts = unique.split(separator) if isinstance(unique, str) else []
        tokens = column.vocab.transform(np.asarray([p for p in parts if p], dtype=object)) \
            if parts else np.empty(0, np.int64)
        bags.append(tokens[tokens < column.n_tokens])
    width = max([len(b) for b in bags] + [1])
    bag_index = np.zeros((len(bags) + 1, width), np.int64)
    bag_value = np.zeros((len(bags) + 1, width), np.float64)
    for n_bag, tokens in enumerate(bags):
        bag_index[n_bag, :len(tokens)] = tokens
        bag_value[n_bag, :len(tokens)] = 1.0 / len(tokens) if len(tokens) else 0.0
    rows = np.where(codes >= 0, codes, len(bags))  # missing: the empty bag
    return bag_index[rows], bag_value[rows]
