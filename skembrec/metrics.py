"""Top-N ranking metrics, catalogue measures, and a scikit-learn ranking scorer.

Per-user metrics take, for each user, the recommended items (best first) and
the relevant items, and return the mean over the users with at least one
relevant item. With ``hits`` the relevant items among the top ``k``:

========================  ==================================================
metric                    per user
========================  ==================================================
:func:`precision_at_k`    ``hits / k``
:func:`recall_at_k`       ``hits / n_relevant``
:func:`ndcg_at_k`         DCG / ideal DCG: binary gains, ``log2`` discount,
                          the ideal over ``min(k, n_relevant)`` ranks
:func:`map_at_k`          sum of precision@rank over the ranks of the hits,
                          divided by ``min(k, n_relevant)``
:func:`mrr_at_k`          ``1 / rank`` of the first hit in the top ``k``
                          (0 without one)
:func:`hit_rate_at_k`     1 when the top ``k`` holds a hit, else 0
========================  ==================================================

:func:`catalogue_coverage` and :func:`popularity_bias` describe the lists
of all users together. :func:`make_ranking_scorer` turns any metric into a
scorer for ``GridSearchCV``, ``cross_validate`` and the like.

Nothing here imports TensorFlow.
"""

import numbers
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning

from ._input.ratings import RatingTable

__all__ = [
    "catalogue_coverage",
    "hit_rate_at_k",
    "make_ranking_scorer",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "popularity_bias",
    "precision_at_k",
    "recall_at_k",
]


# ----------------------------------------------------------------- the maths

# the Parameters, Returns and See Also sections every per-user metric shares
_PER_USER_LISTS = """Parameters
    ----------
    recommended : sequence of array-like
        For each user, the recommended items, best first (e.g. the rows of
        ``recommend``'s result; masked entries are left out). Only the first
        ``k`` count.
    relevant : sequence of collections
        For each user, the relevant items (hashable ids, compared with
        ``==``). Users with no relevant item are skipped.
    k : int, default=10
        The cut-off.

    Returns
    -------
    score : float
        The mean over the users with at least one relevant item (NaN, with
        an ``UndefinedMetricWarning``, when there is none).

    See Also
    --------
    make_ranking_scorer : The same metric as a scikit-learn scorer.
"""


def _per_user_doc(metric):
    metric.__doc__ = metric.__doc__.replace("${per_user_lists}", _PER_USER_LISTS)
    return metric

def _per_user(metric, hits, n_relevant, k):
    """Each user's value of ``metric``.

    ``hits`` is a boolean ``(n_users, width)`` matrix (``width <= k``): whether
    the item at each rank is relevant, False past the end of a short list.
    ``n_relevant`` (all >= 1) counts each user's relevant items.
    """
    n_hits = hits.sum(axis=1)
    ranks = np.arange(1, hits.shape[1] + 1)
    if metric == "precision":
        return n_hits / k
    if metric == "recall":
        return n_hits / n_relevant
    if metric == "hit_rate":
        return (n_hits > 0).astype(np.float64)
    if metric == "mrr":
        first = np.argmax(hits, axis=1) + 1
        return np.where(n_hits > 0, 1.0 / first, 0.0)
    if metric == "map":
        precision_at_rank = np.cumsum(hits, axis=1) / ranks
        return (precision_at_rank * hits).sum(axis=1) / np.minimum(k, n_relevant)
    # ndcg
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[:hits.shape[1]]).sum(axis=1)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(k, n_relevant)]
    return dcg / ideal


def _mean(values):
    if not len(values):
        warnings.warn("no user has a relevant item: the metric is undefined (NaN)",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    return float(np.mean(values))


METRICS = ("ndcg", "recall", "precision", "map", "mrr", "hit_rate")


def _check_k(k):
    if isinstance(k, bool | np.bool_) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be a positive int, got {k!r} ({type(k).__name__})")
    if k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return int(k)


def _check_metric(metric):
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
    return metric


def _lists(recommended, relevant):
    if isinstance(recommended, str | bytes) or isinstance(relevant, str | bytes):
        raise TypeError("recommended and relevant hold one collection of items per user")
    recommended, relevant = list(recommended), list(relevant)
    if len(recommended) != len(relevant):
        raise ValueError(
            f"recommended has {len(recommended)} users but relevant has "
            f"{len(relevant)}: give one list of each per user")
    return recommended, relevant


def _score_lists(metric, recommended, relevant, k):
    metric, k = _check_metric(metric), _check_k(k)
    recommended, relevant = _lists(recommended, relevant)
    rows, n_relevant = [], []
    for items, wanted in zip(recommended, relevant):
        wanted = set(_ids(wanted).tolist())
        if not wanted:
            continue  # users without a relevant item do not count
        row, found = [], set()
        for item in _ids(items)[:k].tolist():
            row.append(item in wanted and item not in found)  # listed twice: one hit
            found.add(item)
        rows.append(row)
        n_relevant.append(len(wanted))
    if not rows:
        return _mean([])
    hits = np.zeros((len(rows), k), dtype=bool)
    for row, values in enumerate(rows):
        hits[row, :len(values)] = values
    return _mean(_per_user(metric, hits, np.asarray(n_relevant), k))


def _ids(values):
    """A collection of ids as a 1-D array; a tuple is one id, masked entries go."""
    if isinstance(values, str | bytes):
        raise TypeError(f"expected a collection of item ids, got the string {values!r}")
    if isinstance(values, np.ma.MaskedArray):
        values = values.compressed()
    if isinstance(values, pd.Series | pd.Index):
        values = values.to_numpy(dtype=object) if not isinstance(values.dtype, np.dtype) \
            else values.to_numpy()
    if isinstance(values, np.ndarray) and values.ndim == 1:
        return values
    values = list(values)
    out = np.empty(len(values), dtype=object)
    for position, value in enumerate(values):  # a tuple id stays one id
        out[position] = value
    return out


def _index(values):
    """A pandas Index of ids, tuples kept as single ids."""
    return pd.Index(values, dtype=object if values.dtype == object else None,
                    tupleize_cols=False)


@_per_user_doc
def ndcg_at_k(recommended, relevant, k=10):
    """Normalised discounted cumulative gain at ``k``, with binary relevance.

    Per user, with :math:`r` the ranks (from 1) of the relevant items in the
    top ``k``,

    .. math:: \\mathrm{nDCG@k} = \\sum_{r} \\frac{1}{\\log_2(r + 1)} \\Big/
              \\sum_{r=1}^{\\min(k,\\, n_\\mathrm{relevant})} \\frac{1}{\\log_2(r + 1)}

    (the ideal DCG puts the relevant items first).

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import ndcg_at_k
    >>> ndcg_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    0.622...
    """
    return _score_lists("ndcg", recommended, relevant, k)


@_per_user_doc
def recall_at_k(recommended, relevant, k=10):
    """Recall at ``k``: the share of a user's relevant items found in the top ``k``.

    Per user: ``hits / n_relevant``, with ``hits`` the relevant items among
    the top ``k``.

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import recall_at_k
    >>> recall_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    0.75
    """
    return _score_lists("recall", recommended, relevant, k)


@_per_user_doc
def precision_at_k(recommended, relevant, k=10):
    """Precision at ``k``: the share of the top ``k`` that is relevant.

    Per user: ``hits / k``, with ``hits`` the relevant items among the top
    ``k``; a list shorter than ``k`` is still divided by ``k``.

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import precision_at_k
    >>> precision_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    0.333...
    """
    return _score_lists("precision", recommended, relevant, k)


@_per_user_doc
def map_at_k(recommended, relevant, k=10):
    """Mean average precision at ``k``.

    Per user: the sum of precision@rank over the ranks of the relevant items
    in the top ``k``, divided by ``min(k, n_relevant)``.

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import map_at_k
    >>> map_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    0.5
    """
    return _score_lists("map", recommended, relevant, k)


@_per_user_doc
def mrr_at_k(recommended, relevant, k=10):
    """Mean reciprocal rank at ``k``.

    Per user: ``1 / rank`` of the first relevant item in the top ``k``
    (ranks from 1), 0 when the top ``k`` holds none.

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import mrr_at_k
    >>> mrr_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    0.75
    """
    return _score_lists("mrr", recommended, relevant, k)


@_per_user_doc
def hit_rate_at_k(recommended, relevant, k=10):
    """Hit rate at ``k``: the share of users with a relevant item in the top ``k``.

    Per user: 1 when the top ``k`` holds a relevant item, else 0.

    ${per_user_lists}
    Examples
    --------
    >>> from skembrec.metrics import hit_rate_at_k
    >>> hit_rate_at_k([["a", "b", "c"], ["d", "e", "f"]], [{"b"}, {"d", "x"}], k=3)
    1.0
    """
    return _score_lists("hit_rate", recommended, relevant, k)


# ------------------------------------------------------- catalogue measures
def _flat_items(recommended):
    """Every user's items, in one 1-D array."""
    if isinstance(recommended, str | bytes):
        raise TypeError("recommended holds one collection of items per user")
    rows = [_ids(row) for row in recommended]
    return np.concatenate(rows) if rows else np.empty(0, dtype=object)


def catalogue_coverage(recommended, catalogue):
    """Share of the catalogue that appears in at least one user's list.

    Parameters
    ----------
    recommended : sequence of array-like
        For each user, the recommended items (e.g. the rows of
        ``recommend``'s result).
    catalogue : int or array-like
        The number of items in the catalogue (e.g. ``estimator.n_items_``),
        or the catalogue's item ids; with ids, recommended items outside the
        catalogue do not count.

    Returns
    -------
    coverage : float
        Distinct recommended items (in the catalogue) over the catalogue
        size, in [0, 1].

    Examples
    --------
    >>> from skembrec.metrics import catalogue_coverage
    >>> catalogue_coverage([["a", "b"], ["a", "c"]], ["a", "b", "c", "d"])
    0.75
    """
    items = _index(_flat_items(recommended)).unique()
    if isinstance(catalogue, numbers.Integral) and not isinstance(catalogue, bool):
        if catalogue < 1:
            raise ValueError(f"catalogue must be a positive number of items, got {catalogue}")
        if len(items) > catalogue:
            raise ValueError(
                f"the lists hold {len(items)} distinct items, more than the "
                f"catalogue's {catalogue}")
        return len(items) / int(catalogue)
    if isinstance(catalogue, str | bytes | bool | numbers.Number) or catalogue is None:
        raise TypeError(
            f"catalogue must be a number of items or an array-like of item ids, "
            f"got {catalogue!r}")
    catalogue = _index(_ids(catalogue)).unique()
    if not len(catalogue):
        raise ValueError("catalogue is empty")
    return float(catalogue.isin(items).sum()) / len(catalogue)


def popularity_bias(recommended, train_items):
    """How much more popular the recommended items are than the catalogue's average.

    The average recommendation popularity (ARP) of the lists, over the mean
    popularity of the catalogue's items: 1 means the lists are as popular
    as a random item of the catalogue, above 1 that they lean to popular
    items (a most-popular list scores highest), below 1 to the long tail.

    Parameters
    ----------
    recommended : sequence of array-like
        For each user, the recommended items.
    train_items : array-like of shape (n_ratings,)
        The item id of every training rating (e.g. ``X_train[:, 1]``). An
        item's popularity is its number of ratings there; the catalogue is
        the distinct items there.

    Returns
    -------
    bias : float
        ARP divided by the catalogue's mean popularity (NaN, with an
        ``UndefinedMetricWarning``, when every list is empty).

    Notes
    -----
    With :math:`\\phi(i)` the number of training ratings of item :math:`i`
    (0 for an item without one), :math:`L_u` user :math:`u`'s list and
    :math:`I` the catalogue,

    .. math:: \\mathrm{ARP} = \\frac{1}{|U|} \\sum_{u \\in U}
              \\frac{1}{|L_u|} \\sum_{i \\in L_u} \\phi(i), \\qquad
              \\text{bias} = \\mathrm{ARP} \\Big/ \\frac{1}{|I|} \\sum_{i \\in I} \\phi(i)

    over the users with a non-empty list (ARP as in Abdollahpouri, Burke,
    Mobasher, "Managing Popularity Bias in Recommender Systems with
    Personalized Re-ranking", FLAIRS 2019).

    Examples
    --------
    >>> from skembrec.metrics import popularity_bias
    >>> popularity_bias([["a"], ["a", "b"]], ["a", "a", "a", "b", "c", "c"])
    1.25
    """
    train = _ids(train_items)
    if not len(train):
        raise ValueError("train_items is empty: popularity needs training ratings")
    codes, catalogue = pd.factorize(_index(train))
    counts = np.bincount(codes, minlength=len(catalogue))
    catalogue_mean = len(train) / len(catalogue)
    if isinstance(recommended, str | bytes):
        raise TypeError("recommended holds one collection of items per user")
    per_user = []
    for row in recommended:
        items = _ids(row)
        if len(items):
            position = catalogue.get_indexer(_index(items))
            per_user.append(np.where(position >= 0, counts[position], 0).mean())
    if not per_user:
        return _mean([])
    return float(np.mean(per_user)) / catalogue_mean


# ------------------------------------------------------------------ scorer
class _RankingScorer:
    """``scorer(estimator, X, y) -> float``: see :func:`make_ranking_scorer`."""

    def __init__(self, metric, k, relevance_threshold):
        self.metric = metric
        self.k = k
        self.relevance_threshold = relevance_threshold

    def __repr__(self):
        return (f"make_ranking_scorer(metric={self.metric!r}, k={self.k}, "
                f"relevance_threshold={self.relevance_threshold!r})")

    def __call__(self, estimator, X, y=None, sample_weight=None):
        if sample_weight is not None:
            raise TypeError("a ranking scorer does not take sample_weight")
        if not callable(getattr(estimator, "recommend", None)):
            raise TypeError(
                f"a ranking scorer needs an estimator with a recommend(users, n, "
                f"exclude_seen=True) method; {type(estimator).__name__} has none")
        users, items = _relevant_pairs(X, y, self.relevance_threshold)
        if not len(users):
            return _mean([])
        # the relevant (user, item) pairs, each once, by user code
        user_codes, user_ids = pd.factorize(_index(users))
        item_codes, item_ids = pd.factorize(_index(items))
        n_items = len(item_ids)
        pairs = np.unique(user_codes.astype(np.int64) * n_items + item_codes)
        n_relevant = np.bincount(pairs // n_items, minlength=len(user_ids))
        recs = estimator.recommend(_ids(user_ids), n=self.k, exclude_seen=True)
        present = ~np.ma.getmaskarray(recs)
        codes = np.full(recs.shape, -1, dtype=np.int64)
        if recs.size:
            codes[present] = item_ids.get_indexer(_index(np.ma.getdata(recs)[present]))
        keys = np.arange(len(user_ids))[:, None] * n_items + codes
        hits = (codes >= 0) & np.isin(keys, pairs)
        return _mean(_per_user(self.metric, hits, n_relevant, self.k))


def _relevant_pairs(X, y, threshold):
    """The (user, item) ids of the relevant rows of ``X``."""
    table = RatingTable(X)
    if table.n_columns < 2:
        raise ValueError(
            f"X has {table.n_columns} column(s); a ranking scorer needs user ids in "
            "column 0 and item ids in column 1")
    users = table.ids("user", fitting=False)
    items = table.ids("item", fitting=False)
    if threshold is None:
        return users, items
    if y is None:
        raise ValueError(
            f"relevance_threshold={threshold!r} needs the ratings y; the scorer was "
            "called with y=None")
    y = np.asarray(y)
    if y.shape != (table.n_rows,):
        raise ValueError(f"y has shape {y.shape}; expected ({table.n_rows},), one "
                         "rating per row of X")
    try:
        relevant = np.asarray(y >= threshold, dtype=bool)
    except TypeError:
        raise TypeError(
            f"relevance_threshold={threshold!r} cannot be compared with ratings of "
            f"dtype {y.dtype}") from None
    return users[relevant], items[relevant]


def make_ranking_scorer(metric="ndcg", k=10, relevance_threshold=None):
    """Make a scikit-learn scorer from a top-``k`` ranking metric.

    The scorer is called as ``scorer(estimator, X, y)`` on a fitted
    estimator with a ``recommend`` method, and returns a float, higher is
    better. Use it as ``scoring=`` (alone or in a dict) in
    :class:`~sklearn.model_selection.GridSearchCV`,
    :class:`~sklearn.model_selection.RandomizedSearchCV` or
    :func:`~sklearn.model_selection.cross_validate`.

    Parameters
    ----------
    metric : {"ndcg", "recall", "precision", "map", "mrr", "hit_rate"}, default="ndcg"
        The per-user metric (see :mod:`skembrec.metrics` for definitions).
    k : int, default=10
        The length of each user's list.
    relevance_threshold : float, default=None
        The rows of ``X`` with ``y >= relevance_threshold`` are the relevant
        items; None makes every row of ``X`` relevant (``y`` is not read).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``; it pickles, so searches may
        run with ``n_jobs > 1``.

    See Also
    --------
    ndcg_at_k : The metric on lists given directly.

    Notes
    -----
    The protocol, on a fitted ``estimator`` and held-out rows ``(X, y)``:

    1. The relevant items of user ``u`` are the items of ``u``'s rows of
       ``X`` with ``y >= relevance_threshold`` (all of ``u``'s rows when it
       is None); a repeated item counts once. Users without a relevant item
       are skipped.
    2. Every other user of ``X`` gets the list
       ``estimator.recommend(users, n=k, exclude_seen=True)``: the top ``k``
       among the items the estimator did not see the user rate in fit (a
       user unknown to the estimator gets its cold-start ranking).
    3. The score is the mean of the metric over those users.

    So a relevant item the user also rated in fit can never be a hit, as in
    the usual "rank every unrated item" protocol.

    Examples
    --------
    >>> from skembrec import FunkMF
    >>> from skembrec.datasets import make_ratings
    >>> from skembrec.metrics import make_ranking_scorer
    >>> from sklearn.model_selection import cross_validate
    >>> from skembrec.model_selection import TemporalProbeSplit
    >>> X, y = make_ratings(n_users=100, n_items=50, n_ratings=2000,
    ...                     random_state=0, return_X_y=True)
    >>> scoring = {"ndcg": make_ranking_scorer("ndcg", k=10, relevance_threshold=4),
    ...            "recall": make_ranking_scorer("recall", k=10, relevance_threshold=4)}
    >>> cv = TemporalProbeSplit(n_probe=0.1, time_column="timestamp")
    >>> scores = cross_validate(FunkMF(n_factors=4, n_epochs=2, random_state=0),
    ...                         X, y, cv=cv, scoring=scoring)
    >>> sorted(k for k in scores if k.startswith("test_"))
    ['test_ndcg', 'test_recall']
    """
    metric, k = _check_metric(metric), _check_k(k)
    if relevance_threshold is not None and (
            isinstance(relevance_threshold, bool | np.bool_)
            or not isinstance(relevance_threshold, numbers.Real)
            or not np.isfinite(relevance_threshold)):
        raise TypeError(
            f"relevance_threshold must be a finite number or None, got "
            f"{relevance_threshold!r}")
    return _RankingScorer(metric, k, relevance_threshold)
