"""Recommendations from a fitted estimator: top-n items, similar items, tables."""

import numbers

import numpy as np


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

    def _item_scores(self, user_index):
        state = self._fitted_state()
        items = np.arange(len(state.item_vocab))
        users = np.full_like(items, user_index)
        extra = ()
        if state.time is not None:
            # a time-aware model ranks the items as of the last day of fit
            days = np.full(len(items), state.time.last_day())
            extra = (state.time.transform(days, users),)
        return state.target.decode_scores(self._output(users, items, extra))

    def recommend(self, user, n=10, *, exclude_seen=True):
        """Return the ``n`` items with the highest predicted score for ``user``.

        Parameters
        ----------
        user : hashable
            A raw user id. An unknown user gets the cold-start ranking
            (the items the fallback scores highest).
        n : int, default=10
            Number of items to return.
        exclude_seen : bool, default=True
            Leave out the items the user rated in fit.

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, best first.
        """
        state = self._fitted_state()
        n = _check_n(n)
        user_index = int(state.user_vocab.transform(_one_id(user))[0])
        scores = self._item_scores(user_index).astype(np.float64)
        if exclude_seen and state.seen is None:
            raise ValueError(
                "this model was fitted from shards and did not keep the rated "
                "pairs; call recommend(..., exclude_seen=False)")
        if exclude_seen and user_index < len(state.user_vocab):
            start, stop = state.seen.indptr[user_index:user_index + 2]
            scores[state.seen.indices[start:stop]] = -np.inf
        candidates = np.flatnonzero(np.isfinite(scores))
        n = min(n, len(candidates))
        top = candidates[np.argpartition(-scores[candidates], n - 1)[:n]] if n else candidates[:0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return state.item_vocab.inverse_transform(top)

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


def _one_id(value):
    """One raw id as a length-1 object array (a tuple is one id, not a row)."""
    out = np.empty(1, dtype=object)
    out[0] = value
    return out


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return int(n)
