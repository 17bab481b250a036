"""Raw ids <-> contiguous indices, in one place.

Ids are any hashable values: ints of any size, strings, floats such as 196.0
after a ``ColumnTransformer``, or a mix. Index ``len(vocab)`` is reserved for
ids the vocabulary has never seen; every embedding table has one extra row at
that position, so unknown ids flow through the graph without a Python branch.
"""

import numpy as np
import pandas as pd


class IdVocabulary:
    """Map raw ids to ``0..n-1``; unknown or missing ids map to ``n``.

    Parameters
    ----------
    ids : array-like of shape (n,)
        The distinct raw ids, in index order.
    """

    def __init__(self, ids):
        self._index = pd.Index(ids, tupleize_cols=False)
        if not self._index.is_unique:
            raise ValueError("vocabulary ids must be distinct")

    # The pickled state is a plain NumPy array, not the pandas Index: skops
    # (and so MLflow's sklearn flavour) writes arrays but not an Index's
    # Cython internals. String ids travel as one UTF-8 buffer, which skops
    # writes in NumPy's format (an object array would be one JSON node per
    # id, ~50x larger and slower) and pickle copies in one go. The Index is
    # rebuilt on load exactly as __init__ builds it.
    def __getstate__(self):
        return _pack(self.ids)

    def __setstate__(self, state):
        # pickles written before the state was plain hold the Index itself
        ids = state["_index"] if "_index" in state else _unpack(state)
        self._index = pd.Index(ids, tupleize_cols=False)

    @classmethod
    def fit(cls, values, *, name="id"):
        """Build a vocabulary from a column of raw ids; return it and the codes.

        Missing ids (None, NaN, NaT) raise a ``ValueError`` naming the first
        offending row; unhashable ids a ``TypeError``.
        """
        values = _as_1d(values)
        try:
            try:
                codes, uniques = pd.factorize(values, sort=True)
            except TypeError:
                # ids of mixed kinds (e.g. ints and strings) have no order
                codes, uniques = pd.factorize(values, sort=False)
        except TypeError as exc:
            raise TypeError(_unhashable_message(values, name)) from exc
        missing = codes < 0
        if missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"{name}s contain a missing value ({values[row]!r}) at row {row}; "
                "every rating needs a known id to be fitted"
            )
        vocab = cls(_plain_values(uniques))
        return vocab, codes.astype(np.int32 if len(vocab) < 2**31 - 1 else np.int64)

    def extended(self, values, *, name="id"):
        """A vocabulary with the unseen ``values`` appended (or ``self``).

        Known ids keep their indices, so learnt table rows stay valid.
        """
        values = _as_1d(values)
        new = ~self.contains(values)
        if not new.any():
            return self
        extra, _ = IdVocabulary.fit(values[new], name=name)
        old, add = self.ids, extra.ids
        if old.dtype != add.dtype:
            old, add = old.astype(object), add.astype(object)
        return IdVocabulary(np.concatenate([old, add]))

    def __len__(self):
        return len(self._index)

    @property
    def ids(self):
        """The raw ids as a NumPy array, in index order."""
        return _plain_values(self._index)

    @property
    def unknown_index(self):
        """The index that unknown and missing ids map to."""
        return len(self._index)

    def transform(self, values, *, name="id"):
        """Map raw ids to indices; ids never seen (or missing) give ``len(self)``."""
        values = _as_1d(values)
        try:
            codes = self._index.get_indexer(values)
        except TypeError as exc:
            raise TypeError(_unhashable_message(values, name)) from exc
        codes[codes < 0] = len(self._index)
        return codes.astype(np.int64, copy=False)

    def inverse_transform(self, indices):
        """Map indices back to raw ids (the reserved index is not allowed)."""
        indices = np.asarray(indices)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ValueError(f"indices must lie in [0, {len(self)})")
        return self.ids[indices]

    def contains(self, values):
        """Boolean mask of which raw ids are known."""
        return self.transform(values) < len(self._index)

    def __eq__(self, other):
        return isinstance(other, IdVocabulary) and self._index.equals(other._index)

    __hash__ = None

    def __repr__(self):
        return f"IdVocabulary(n={len(self)})"


def _as_1d(values):
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    values = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if values.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {values.shape}")
    return values


def _plain_values(values):
    """NumPy values of an Index or array: object for strings, no pandas dtypes."""
    if isinstance(values, (pd.Index, pd.Series, pd.api.extensions.ExtensionArray)):
        if isinstance(values.dtype, np.dtype):
            return values.to_numpy()
        return values.to_numpy(dtype=object)
    return np.asarray(values)


def _pack(ids):
    """The state of an id array: ``{"ids": ids}``, or string ids as one UTF-8
    buffer of the ids joined by NUL (``{"utf8": uint8 array}``)."""
    if ids.dtype == object and len(ids) and all(type(i) is str for i in ids):
        text = _SEPARATOR.join(ids)
        if text.count(_SEPARATOR) == len(ids) - 1:  # no id holds a NUL itself
            try:
                return {"utf8": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
            except UnicodeEncodeError:  # lone surrogates: keep the objects
                pass
    return {"ids": ids}


def _unpack(state):
    """The id array of a state written by :func:`_pack`."""
    if "ids" in state:
        return state["ids"]
    text = np.asarray(state["utf8"], dtype=np.uint8).tobytes().decode("utf-8")
    ids = text.split(_SEPARATOR)
    out = np.empty(len(ids), dtype=object)
    out[:] = ids
    return out


_SEPARATOR = "\x00"


def _unhashable_message(values, name):
    for row, value in enumerate(values):
        try:
            hash(value)
        except TypeError:
            return (
                f"{name}s must be hashable: argument must be a string or a "
                f"number, got {type(value).__name__} at row {row}"
            )
    return f"{name}s could not be mapped to indices"  # pragma: no cover
