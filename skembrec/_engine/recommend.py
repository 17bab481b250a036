"""Recommendations from a fitted estimator: top-n items, similar items, tables.

Two ways of scoring every item for a chunk of users. A model whose ranking
score factors, ``s(u, i) = x_u . y_i + c_i`` (plus a per-user constant,
which no ranking sees), declares it with
:meth:`RecommenderMixin._factored_scores`; its users are then scored as one
matrix product, masked and cut to the top ``n`` in one compiled TensorFlow
function (:func:`rank_factored`). Any other model (the dense ones) is
scored pair by pair through its graph, and ranked in NumPy (:func:`top_n_items`).
"""

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

# candidates taken by the float32 product before the float64 re-scoring, beyond
# the n asked for: an item the float32 rounding left out would need this many
# others within a few float32 ulps of the n-th score
RESCORE_MARGIN = 16
# up to this many users, a factored ranking is computed exactly in NumPy
FEW_USERS = 8
# float64 values held at once by the re-scoring (users x candidates x factors)
RESCORE_CHUNK = 1 << 24


@dataclass(frozen=True)
class FactoredScores:
    """A model's ranking score as a product: ``user_vectors(u) @ item_vectors.T + item_bias``.

    Parameters
    ----------
    user_vectors : callable
        Takes user indices (int64 ndarray; ``n_users`` is the unknown user)
        and returns their vectors, float32 ``(len(indices), k)``.
    item_vectors : ndarray of shape (n_items, k)
        float32, in item table order.
    item_bias : ndarray of shape (n_items,) or None
        float32; None when the score has no per-item term.

    Notes
    -----
    The score of user ``u`` for item ``i`` must order the items as the
    model's own ranking score does; a per-user constant (a user bias, the
    global mean) is left out, since it changes no ranking.
    """

    user_vectors: Callable[[np.ndarray], np.ndarray]
    item_vectors: np.ndarray
    item_bias: np.ndarray | None = None


class RecommenderMixin:
    """``recommend``, ``similar_items`` and the embedding tables of a fitted model.

    Needs the estimator base's ``_fitted_state``, ``_output``, ``_live`` and
    ``model_``.
    """

    def _factored_scores(self, state):
        """The model's ranking score as a :class:`FactoredScores`, or None.

        None (the default) scores every (user, item) pair through the graph.
        A model whose score factors returns the product form; ``recommend``
        then ranks with one matrix product per chunk of users. Called once
        per fitted model (the result is kept until the next fit).
        """
        return None

    def _prepare_recommend(self):
        """Make the first ``recommend`` after fit cost no set-up: the factored
        tables (AutoRec's item codes) and the ranker's trace (once per
        process). Meant for the end of fit (``_install``)."""
        state = self._fitted_state()
        ranking = self._ranking(state)
        if ranking is not None:
            ranking.top_n(np.array([len(state.user_vocab)]), 1)
        elif state.target.ranks:
            # a dense model: trace its ranking graph now (the unknown user)
            self._score_rows(state, np.array([len(state.user_vocab)]))

    def _ranking(self, state):
        """The fitted model's :class:`_Factored` ranking (kept with the live
        objects, so every fit starts afresh), or None for per-pair scoring."""
        functions = self._live().functions
        if "factored" not in functions:
            scores = self._factored_scores(state)
            functions["factored"] = None if scores is None else _Factored(scores)
        return functions["factored"]

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

    def recommend(self, users, n=10, *, exclude_seen=True, items=None, exclude_items=None):
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
        items : array-like of item ids, default=None
            Candidates: only these items may be recommended (a whitelist).
            None allows every item; an empty list allows none. Ids unknown
            to the fit are ignored.
        exclude_items : array-like of item ids, default=None
            Items never to recommend (a blacklist), on top of ``items`` and
            ``exclude_seen``. Ids unknown to the fit are ignored.

        Returns
        -------
        items : ndarray of shape (n,) or (n_users, n)
            Raw item ids, best first: one row per user when ``users`` is an
            array-like. See Notes for users with fewer than ``n`` candidates.

        Notes
        -----
        The filters apply before the top ``n`` is taken: a user gets ``n``
        items while ``n`` candidates remain. Users are scored in chunks of
        about ``2**22`` (user, item) scores. A model whose score is a dot
        product (factorisation models, AutoRec) scores a chunk as one
        matrix product in float32, then re-scores its best candidates in
        float64 and ranks those; the others score every pair through their
        graph. Seen and filtered items are masked, then the top ``n`` per
        row is taken. Equal scores rank in item table order (``item_ids_``).
        A row of the batched result equals the one-user call for that user.

        A user with fewer than ``n`` candidate items gets them all. For one
        id the result is then shorter than ``n``. For an array of ids the
        result has ``min(n, most candidates of any of the users)`` columns,
        and when a row is shorter it is a :class:`numpy.ma.MaskedArray`
        whose missing trailing entries are masked (``result[i].compressed()``
        gives the user's list); otherwise it is a plain ndarray.
        """
        state = self._fitted_state()
        n = _check_n(n)
        single, ids = read_users(users)
        user_index = state.user_vocab.transform(ids, name="user id")
        if exclude_seen and state.seen is None:
            raise ValueError(
                "this model was fitted from shards and did not keep the rated "
                "pairs; call recommend(..., exclude_seen=False)")
        allowed = candidate_mask(state.item_vocab, items, exclude_items)
        seen = state.seen if exclude_seen else None
        ranking = self._ranking(state)
        if ranking is not None:
            top = ranking.top_n(user_index, n, seen=seen, allowed=allowed)
        else:
            top = top_n_items(lambda chunk: self._score_rows(state, chunk), user_index,
                              len(state.item_vocab), n, seen=seen, allowed=allowed)
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


def top_n_items(score_rows, user_index, n_items, n, *, seen=None, allowed=None):
    """The top ``n`` item indices per user, best first, as ``(top, counts)``.

    ``score_rows(chunk)`` returns the float64 scores ``(len(chunk), n_items)``
    of a chunk of user indices; ``seen`` (a CSR matrix users x items, or
    None) masks each known user's rated items, and ``allowed`` (a boolean
    mask over the items, or None) every item it leaves out. ``top`` has
    ``min(n, most candidates in a row)`` columns, padded with -1; ``counts``
    is each row's number of items. The one place per-pair recommendations
    are ranked, for one user and for many, so both agree by construction.
    """
    chunk = max(1, SCORE_CHUNK // max(n_items, 1))
    tops, counts = [], []
    for lo in range(0, len(user_index), chunk):
        users = np.asarray(user_index[lo:lo + chunk], dtype=np.int64)
        scores = score_rows(users)
        if seen is not None:
            rows, cols = seen_pairs(seen, users)
            scores[rows, cols] = -np.inf
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        top, count = _top_n(scores, n)
        tops.append(top)
        counts.append(count)
    return _stack(tops, counts)


def _stack(tops, counts):
    """One ``(top, counts)`` of the chunks' results, ``min(n, most candidates)`` wide."""
    if not tops:
        return np.empty((0, 0), dtype=np.int64), np.empty(0, dtype=np.int64)
    counts = np.concatenate(counts)
    width = int(counts.max()) if len(counts) else 0
    top = np.concatenate([np.pad(t[:, :width], ((0, 0), (0, max(0, width - t.shape[1]))),
                                 constant_values=-1) for t in tops])
    return top, counts


def seen_pairs(seen, users):
    """``(rows, items)``: the rated items of the known ``users`` (positions in
    ``users``), from the CSR matrix ``seen`` without building a sub-matrix."""
    known = np.flatnonzero(users < seen.shape[0])
    starts = seen.indptr[users[known]]
    lengths = seen.indptr[users[known] + 1] - starts
    total = int(lengths.sum())
    # each user's run of indices: its start, then consecutive positions
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
    return np.repeat(known, lengths), seen.indices[offsets].astype(np.int64, copy=False)


def candidate_mask(item_vocab, items=None, exclude_items=None):
    """A boolean mask over the item table of what ``items`` and ``exclude_items``
    allow, or None when neither is given; ids unknown to the fit are ignored."""
    if items is None and exclude_items is None:
        return None
    n_items = len(item_vocab)
    allowed = np.ones(n_items, dtype=bool)
    if items is not None:
        allowed[:] = False
        allowed[_known_items(item_vocab, items, "items")] = True
    if exclude_items is not None:
        allowed[_known_items(item_vocab, exclude_items, "exclude_items")] = False
    return allowed


def _known_items(item_vocab, values, name):
    """Table indices of the known ids among ``values`` (one id or an array-like)."""
    if isinstance(values, set | frozenset):
        values = list(values)
    try:
        _, ids = read_users(values)
    except ValueError as exc:
        raise ValueError(str(exc).replace("users must be", f"{name} must be")) from None
    index = item_vocab.transform(ids, name=f"{name} id")
    return index[index < len(item_vocab)]


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


# -- ranking a factored score ---------------------------------------------------------
def rank_factored(tf_, users, items, bias, seen, allowed, width, depth):
    """In the graph: the best ``width`` items of each user, and their scores.

    ``users`` (b, k) and ``items`` (n_items, k) float32 vectors, ``bias``
    (n_items,) float32; ``seen`` (m, 2) int64 (row, item) pairs and the
    boolean ``allowed`` (n_items,) mask out candidates, as do non-finite
    scores. The float32 product picks the ``depth`` best candidates; they
    are scored again in float64 (a product of two float32 values is exact
    in float64, so the rounding left is some 1e-16 of the score), and
    ranked by that score, ties in item table order. The float32 product
    rounds differently from one matrix shape to the next (a one-user call
    and a batch of users take different kernels): re-scoring is what makes
    a user's list the same in both, and the same as the exact ranking of
    the model's float32 parameters. Returns ``(indices, scores)``, both
    ``(b, width)``; a missing candidate has the score -inf.
    """
    f64 = tf_.float64
    scores = tf_.matmul(users, items, transpose_b=True) + bias
    scores = tf_.where(tf_.math.is_finite(scores) & allowed, scores,
                       tf_.constant(-np.inf, tf_.float32))
    scores = tf_.tensor_scatter_nd_update(
        scores, seen, tf_.fill(tf_.shape(seen)[:1], tf_.constant(-np.inf, tf_.float32)))
    best = tf_.math.top_k(scores, k=depth, sorted=True)
    index = best.indices
    exact = tf_.einsum("bk,bmk->bm", tf_.cast(users, f64),
                       tf_.cast(tf_.gather(items, index), f64)) + tf_.cast(
        tf_.gather(bias, index), f64)
    exact = tf_.where(best.values > -np.inf, exact, tf_.constant(-np.inf, f64))
    # ties in item table order: order the candidates by index, then stably by score
    order = tf_.argsort(index, axis=1, stable=True)
    index = tf_.gather(index, order, batch_dims=1)
    exact = tf_.gather(exact, order, batch_dims=1)
    order = tf_.argsort(exact, axis=1, direction="DESCENDING", stable=True)[:, :width]
    return tf_.gather(index, order, batch_dims=1), tf_.gather(exact, order, batch_dims=1)


_RANKER = {}


def _ranker():
    """:func:`rank_factored` compiled once per process, for inputs of any size."""
    function = _RANKER.get("function")
    if function is None:
        from .backend import tf

        tf_ = tf()
        specs = [tf_.TensorSpec([None, None], tf_.float32),
                 tf_.TensorSpec([None, None], tf_.float32),
                 tf_.TensorSpec([None], tf_.float32),
                 tf_.TensorSpec([None, 2], tf_.int64),
                 tf_.TensorSpec([None], tf_.bool),
                 tf_.TensorSpec([], tf_.int32),
                 tf_.TensorSpec([], tf_.int32)]
        function = _RANKER["function"] = tf_.function(
            lambda *args: rank_factored(tf_, *args), input_signature=specs,
            autograph=False)
    return function


class _Factored:
    """A fitted model's :class:`FactoredScores`, its tables as tensors."""

    def __init__(self, scores):
        from .backend import tf

        tf_ = tf()
        self.user_vectors = scores.user_vectors
        items = np.ascontiguousarray(scores.item_vectors, dtype=np.float32)
        self.n_items, self.k = items.shape
        bias = (np.zeros(self.n_items, np.float32) if scores.item_bias is None
                else np.asarray(scores.item_bias, dtype=np.float32).reshape(self.n_items))
        self.items = tf_.constant(items)
        self.bias = tf_.constant(bias)
        # a few users (a service's call) are ranked in NumPy: calling the
        # compiled ranker costs about 1.5 ms of Python, the exact float64
        # scores of one user a few hundred microseconds
        # (k, n_items), float32: a few users' nonzero factors pick its rows
        # (EASE's "factors" are the users' interactions, mostly zeros), which
        # become float64 per call (no float64 copy of EASE's n_items^2 kept)
        self.items_by_factor = np.ascontiguousarray(items.T)
        self.bias64 = bias.astype(np.float64)
        self.every_item = tf_.ones([self.n_items], tf_.bool)
        self.no_pairs = tf_.zeros([0, 2], tf_.int64)
        self.tf = tf_

    def top_n(self, user_index, n, *, seen=None, allowed=None):
        """``(top, counts)`` as :func:`top_n_items` gives them."""
        tf_ = self.tf
        width = min(n, self.n_items)
        if len(user_index) <= FEW_USERS:
            return self._exact_top_n(np.asarray(user_index, dtype=np.int64), width, seen,
                                     allowed)
        depth = min(self.n_items, width + RESCORE_MARGIN) if width else 0
        chunk = max(1, min(SCORE_CHUNK // max(self.n_items, 1),
                           RESCORE_CHUNK // max(depth * self.k, 1)))
        mask = self.every_item if allowed is None else tf_.constant(allowed)
        rank = _ranker()
        tops, counts = [], []
        for lo in range(0, len(user_index), chunk):
            users = np.asarray(user_index[lo:lo + chunk], dtype=np.int64)
            pairs = self.no_pairs
            if seen is not None:
                rows, cols = seen_pairs(seen, users)
                if len(rows):
                    pairs = tf_.constant(np.column_stack([rows, cols]))
            vectors = np.asarray(self.user_vectors(users), dtype=np.float32)
            index, scores = rank(vectors, self.items, self.bias, pairs, mask,
                                 tf_.constant(width, tf_.int32), tf_.constant(depth, tf_.int32))
            found = scores.numpy() > -np.inf
            tops.append(np.where(found, index.numpy(), -1).astype(np.int64))
            counts.append(found.sum(axis=1))
        return _stack(tops, counts)


    def _exact_top_n(self, users, width, seen, allowed):
        """The ranking of a few users by their exact (float64) scores: what the
        compiled ranker's re-scoring gives, without its call."""
        vectors = np.asarray(self.user_vectors(users), dtype=np.float32).astype(np.float64)
        used = np.flatnonzero(vectors.any(axis=0))
        if len(used) < vectors.shape[1] // 4:
            # zero factors add exactly nothing: leave them out
            vectors = vectors[:, used]
            items = self.items_by_factor[used]
        else:
            items = self.items_by_factor
        scores = vectors @ items.astype(np.float64) + self.bias64
        if seen is not None:
            rows, cols = seen_pairs(seen, users)
            scores[rows, cols] = -np.inf
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        top, count = _top_n(scores, width)
        return _stack([top], [count])


def feature_sum(features, table, ids):
    """The recorded feature bags of the id indices ``ids`` summed over
    ``table`` with their values as weights (the graph's ``feature_bag``),
    float32 ``(len(ids), table width)``; zeros where ``features`` is None."""
    if features is None:
        return np.zeros((len(ids), table.shape[1]), np.float32)
    index, value = features.bags_of(ids)
    return np.einsum("bwk,bw->bk", table[index], value.astype(np.float32))
