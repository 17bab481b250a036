"""Recommendations from a fitted estimator: top-n items, similar items, tables."""

import numbers

import numpy as np
import pandas as pd


class RecommenderMixin:
    """``recommend``, ``similar_items`` and the embedding tables of a fitted model.

    Needs the estimator base's ``_fitted_state``, ``_output`` and ``model_``.
    """

    def _table(self, name):
        return self.model_.get_layer(name).embeddings.numpy()[:-1]

    @property
    def user_embeddings_(self):
        """User embedding table, shape ``(n_users_, n_factors)``, in ``user_ids_`` order."""
        return self._table("user_embedding")

    @property
    def item_embeddings_(self):
        """Item embedding table, shape ``(n_items_, n_factors)``, in ``item_ids_`` order."""
        return self._table("item_embedding")

    def _score_rows(self, state, user_index):
        """Ranking scores of every item for each user: float64 ``(n_users, n_items)``.

        One call of the model over the flattened (user, item) pairs; a
        time-aware model ranks the items as of the last day of fit, and side
        features are those of each id's last rating in fit (none for an
        unknown user).
        """
        n_items = len(state.item_vocab)
        users = np.repeat(np.asarray(user_index, dtype=np.int64), n_items)
        items = np.tile(np.arange(n_items, dtype=np.int64), len(user_index))
        extra = []
        if state.time is not None:
            days = np.full(len(items), state.time.last_day())
            extra.append(state.time.transform(days, users))
        for side, index in (("user", users), ("item", items)):
            if (state.features or {}).get(side) is not None:
                extra.extend(state.features[side].bags_of(index))
        scores = self._output(users, items, tuple(extra), rank=True)
        return np.asarray(scores, dtype=np.float64).reshape(len(user_index), n_items)

    def recommend(self, users, n=10, *, exclude_seen=True):
        """Return the ``n`` items with the highest predicted score for each user.

        Parameters
        ----------
        users : hashable or array-like of shape (n_users,)
            One raw user id (a tuple is one id), or a list, 1-D ndarray or
            pandas Series/Index of raw user ids. An unknown user gets the
            cold-start ranking (the items the fallback scores highest).
        n : int, default=10
            Number of items to return per user.
        exclude_seen : bool, default=True
            Leave out the items the user rated in fit.

        Returns
        -------
        items : ndarray of shape (n,) or (n_users, n)
            Raw item ids, best first: one row per user when ``users`` is an
            array-like. See Notes for users with fewer than ``n`` candidates.

        Notes
        -----
        Users are scored in chunks of about ``2**22`` (user, item) scores:
        one model call per chunk, seen items masked, then the top ``n`` per
        row. Equal scores rank in item table order (``item_ids_``). A row of
        the batched result equals the one-user call for that user.

        A user with fewer than ``n`` candidate items (every item not rated
        in fit, with ``exclude_seen``) gets them all. For one id the result
        is then shorter than ``n``. For an array of ids the result has
        ``min(n, most candidates of any of the users)`` columns, and when a
        row is shorter it is a :class:`numpy.ma.MaskedArray` whose missing
        trailing entries are masked (``result[i].compressed()`` gives the
        user's list); otherwise it is a plain ndarray.
        """
        state = self._fitted_state()
        n = _check_n(n)
        single, ids = read_users(users)
        user_index = state.user_vocab.transform(ids, name="user id")
        if exclude_seen and state.seen is None:
            raise ValueError(
                "this model was fitted from shards and did not keep the rated "
                "pairs; call recommend(..., exclude_seen=False)")
        top = top_n_items(lambda chunk: self._score_rows(state, chunk), user_index,
                          len(state.item_vocab), n,
                          seen=state.seen if exclude_seen else None)
        return as_item_ids(top, state.item_vocab, single)

    def similar_items(self, item, n=10):
        """Return the ``n`` items whose embeddings are most cosine-similar to ``item``.

        Parameters
        ----------
        item : hashable
            A raw item id seen in fit.
        n : int, default=10
            Number of items to return.

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, most similar first (``item`` itself excluded).
        """
        state = self._fitted_state()
        n = _check_n(n)
        index = int(state.item_vocab.transform(_one_id(item))[0])
        n_items = len(state.item_vocab)
        if index >= n_items:
            raise ValueError(f"item {item!r} was not seen in fit")
        table = self.item_embeddings_.astype(np.float64)
        norms = np.linalg.norm(table, axis=1)
        norms[norms == 0] = 1.0
        sims = table @ table[index] / (norms * norms[index])
        sims[index] = -np.inf
        n = min(n, n_items - 1)
        top = np.argpartition(-sims, n - 1)[:n] if n else np.empty(0, dtype=int)
        top = top[np.argsort(-sims[top], kind="stable")]
        return state.item_vocab.inverse_transform(top)


SCORE_CHUNK = 1 << 22  # (user, item) scores held at once by recommend


def read_users(users):
    """``(single, ids)``: whether ``users`` is one id, and the ids as a 1-D array.

    A list, 1-D ndarray or pandas Series/Index holds several ids; anything
    else (a tuple included) is one id.
    """
    if isinstance(users, pd.Series | pd.Index):
        users = users.to_numpy(dtype=object) if not isinstance(users.dtype, np.dtype) \
            else users.to_numpy()
    if isinstance(users, np.ndarray):
        if users.ndim == 0:
            return True, _one_id(users[()])
        if users.ndim != 1:
            raise ValueError(
                f"users must be one id or a 1-D array-like of ids, got an array of "
                f"shape {users.shape}")
        return False, users
    if isinstance(users, list):
        out = np.empty(len(users), dtype=object)
        for position, value in enumerate(users):  # a tuple stays one id
            out[position] = value
        # ids given as Python numbers compare like the same numbers in NumPy
        inferred = pd.Series(out, copy=False).infer_objects()
        if isinstance(inferred.dtype, np.dtype) and inferred.dtype.kind in "iufb":
            out = inferred.to_numpy()
        return False, out
    return True, _one_id(users)


def top_n_items(score_rows, user_index, n_items, n, *, seen=None):
    """The top ``n`` item indices per user, best first, as ``(top, counts)``.

    ``score_rows(chunk)`` returns the float64 scores ``(len(chunk), n_items)``
    of a chunk of user indices; ``seen`` (a CSR matrix users x items, or
    None) masks each known user's rated items. ``top`` has
    ``min(n, most candidates in a row)`` columns, padded with -1; ``counts``
    is each row's number of items. The one place recommendations are
    ranked, for one user and for many, so both agree by construction.
    """
    chunk = max(1, SCORE_CHUNK // max(n_items, 1))
    tops, counts = [], []
    for lo in range(0, len(user_index), chunk):
        users = np.asarray(user_index[lo:lo + chunk], dtype=np.int64)
        scores = score_rows(users)
        if seen is not None:
            _mask_seen(scores, seen, users)
        top, count = _top_n(scores, n)
        tops.append(top)
        counts.append(count)
    if not tops:
        return np.empty((0, 0), dtype=np.int64), np.empty(0, dtype=np.int64)
    width = max(t.shape[1] for t in tops)
    top = np.concatenate([np.pad(t, ((0, 0), (0, width - t.shape[1])), constant_values=-1)
                          for t in tops])
    return top, np.concatenate(counts)


def _mask_seen(scores, seen, users):
    """Set the rated items of the known users of a chunk to -inf, in place."""
    known = np.flatnonzero(users < seen.shape[0])
    if not len(known):
        return
    rows = seen[users[known]]
    lengths = np.diff(rows.indptr)
    scores[np.repeat(known, lengths), rows.indices] = -np.inf


def _top_n(scores, n):
    """Per row: the ``n`` best finite scores, best first, ties in index order.

    ``scores`` (a fresh chunk) is overwritten: non-finite scores become -inf.
    """
    n_rows, n_items = scores.shape
    finite = np.isfinite(scores)
    counts = np.minimum(finite.sum(axis=1), n)
    width = int(counts.max()) if n_rows else 0
    top = np.full((n_rows, width), -1, dtype=np.int64)
    if width == 0:
        return top, counts
    scores[~finite] = -np.inf
    # the width-th best score of each row, then every better item and the
    # first (in index order) of the items tied with it
    kth = np.partition(scores, n_items - width, axis=1)[:, n_items - width, None]
    better = finite & (scores > kth)
    tied = finite & (scores == kth)
    need = counts - better.sum(axis=1)
    crowded = np.flatnonzero(tied.sum(axis=1) > need)
    if len(crowded):
        tied[crowded] &= np.cumsum(tied[crowded], axis=1) <= need[crowded, None]
    rows, items = np.nonzero(better | tied)
    # np.nonzero goes row by row: each row's items, in index order
    starts = np.cumsum(counts) - counts
    top[rows, np.arange(len(rows)) - starts[rows]] = items
    # best first; a stable sort keeps tied items in index order
    order = np.where(top >= 0, -np.take_along_axis(scores, np.maximum(top, 0), axis=1),
                     np.inf)
    top = np.take_along_axis(top, np.argsort(order, axis=1, kind="stable"), axis=1)
    return top, counts


def as_item_ids(result, item_vocab, single):
    """Raw item ids of ``top_n_items``'s result: one row, a 2-D array, or masked."""
    top, counts = result
    if single:
        return item_vocab.inverse_transform(top[0, :counts[0]])
    short = counts < top.shape[1]
    ids = item_vocab.inverse_transform(np.where(top >= 0, top, 0)) if top.size else \
        item_vocab.ids[:0].reshape(top.shape)
    if short.any():
        return np.ma.MaskedArray(ids, mask=top < 0)
    return ids


def _one_id(value):
    """One raw id as a length-1 object array (a tuple is one id, not a row)."""
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return int(n)
