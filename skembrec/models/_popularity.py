"""PopularityRecommender: the most-rated items, the floor of every ranking table."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._engine.recommend import (
    _check_n,
    as_item_ids,
    candidate_mask,
    read_users,
    top_n_items,
)
from .._input import validation as _validation
from .._input.vocab import IdVocabulary
from .._io.state import merge_seen
from .._sklearn_compat import Interval, InvalidParameterError


class PopularityRecommender(RegressorMixin, BaseEstimator):
    """Recommend the most-rated items; predict each item's damped mean rating.

    A baseline, without TensorFlow: every user gets the same ranking, the
    items with the most ratings in fit first (less the items the user rated,
    with ``exclude_seen``). As a rating predictor it is the item-mean
    baseline.

    Parameters
    ----------
    min_rating : float, default=None
        Rank items by their number of ratings ``>= min_rating`` only (e.g. 4
        on a 1-5 scale: "most liked" rather than "most rated"); None counts
        every rating. Predictions always use every rating.
    damping : float, default=5.0
        Shrinkage of each item's mean rating toward the global mean, as if
        every item had ``damping`` more ratings at the global mean (see
        Notes); 0 gives the plain item means.

    Attributes
    ----------
    global_mean_ : float
        The weighted mean rating of the fit data.
    popularity_ : ndarray of shape (`n_items_`,)
        Each item's (weighted) number of ratings, ``>= min_rating`` when
        set: the ranking score, in ``item_ids_`` order.
    item_means_ : ndarray of shape (`n_items_`,)
        Each item's damped mean rating, in ``item_ids_`` order.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    n_features_in_ : int
        Columns of ``X`` seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X``, when it is a DataFrame with string column names.

    See Also
    --------
    FunkMF : Biased matrix factorisation, a personalised ranking.

    Notes
    -----
    With :math:`n_i` the (weighted) ratings of item :math:`i`, :math:`s_i`
    their (weighted) sum, :math:`\\mu` the global mean and :math:`\\beta` =
    ``damping``, the predicted rating of any user for item :math:`i` is

    .. math:: \\hat r_{ui} = \\frac{s_i + \\beta \\mu}{n_i + \\beta}

    and :math:`\\mu` for an item unknown to the fit. Ties in popularity rank
    in item table order. Columns of ``X`` after the first two are ignored.

    Examples
    --------
    >>> from skembrec.models import PopularityRecommender
    >>> X = [["ann", "a"], ["bob", "a"], ["bob", "b"], ["cy", "c"]]
    >>> model = PopularityRecommender().fit(X, [5, 4, 2, 3])
    >>> model.recommend("ann", n=2).tolist()
    ['b', 'c']
    >>> model.recommend(["ann", "dee"], n=2).tolist()
    [['b', 'c'], ['a', 'b']]
    """

    _parameter_constraints = {
        "min_rating": [Interval(numbers.Real, None, None, closed="neither"), None],
        "damping": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(self, min_rating=None, *, damping=5.0):
        self.min_rating = min_rating
        self.damping = damping

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        # scikit-learn's checks fit on continuous blobs, not ids: an item
        # mean is not expected to score well there
        tags.regressor_tags.poor_score = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Count the ratings of each item and average them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Column 0 holds user ids, column 1 item ids (any hashable values);
            further columns are ignored.
        y : array-like of shape (n_samples,)
            The ratings.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each rating: it counts as that many
            ratings.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        for name in ("min_rating", "damping"):
            if isinstance(getattr(self, name), bool | np.bool_):
                raise InvalidParameterError(
                    f"The {name!r} parameter of PopularityRecommender must be a "
                    f"number, got {getattr(self, name)!r} (a bool)")
        table = _validation.check_X(self, X, reset=True)
        y = _validation.check_y_regression(y, table.n_rows)
        _validation.check_sample_weight(sample_weight, table.n_rows)
        # counts, not ratios: a weight of 2 is the rating given twice
        weight = (np.ones(table.n_rows) if sample_weight is None
                  else np.broadcast_to(np.asarray(sample_weight, dtype=np.float64),
                                       (table.n_rows,)))
        user_vocab, users = IdVocabulary.fit(table.ids("user", fitting=True), name="user id")
        item_vocab, items = IdVocabulary.fit(table.ids("item", fitting=True), name="item id")
        n_items = len(item_vocab)
        counts = np.bincount(items, weights=weight, minlength=n_items)
        sums = np.bincount(items, weights=weight * y, minlength=n_items)
        mean = float(sums.sum() / counts.sum())
        liked = weight if self.min_rating is None else weight * (y >= self.min_rating)
        self.global_mean_ = mean
        self.popularity_ = np.bincount(items, weights=liked, minlength=n_items)
        support = counts + self.damping
        # an item whose every rating has weight 0 (with damping=0) is unknown
        self.item_means_ = np.divide(sums + self.damping * mean, support,
                                     out=np.full(n_items, mean), where=support > 0)
        self._user_vocab, self._item_vocab = user_vocab, item_vocab
        self._seen = merge_seen(None, users, items, len(user_vocab), n_items)
        return self

    @property
    def n_users_(self):
        """Number of users in the vocabulary."""
        check_is_fitted(self)
        return len(self._user_vocab)

    @property
    def n_items_(self):
        """Number of items in the vocabulary."""
        check_is_fitted(self)
        return len(self._item_vocab)

    @property
    def user_ids_(self):
        """Raw user ids, in table order."""
        check_is_fitted(self)
        return self._user_vocab.ids

    @property
    def item_ids_(self):
        """Raw item ids, in table order."""
        check_is_fitted(self)
        return self._item_vocab.ids

    def predict(self, X):
        """Predict each row's rating: its item's damped mean rating.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in :meth:`fit`. An unknown or
            missing item gets ``global_mean_``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted ratings.
        """
        check_is_fitted(self)
        table = _validation.check_X(self, X, reset=False)
        items = self._item_vocab.transform(table.ids("item", fitting=False), name="item id")
        return np.append(self.item_means_, self.global_mean_)[items]

    def recommend(self, users, n=10, *, exclude_seen=True, items=None, exclude_items=None):
        """Return the ``n`` most popular items for each user.

        Parameters
        ----------
        users : hashable or array-like of shape (n_users,)
            One raw user id (a tuple is one id), or a list, 1-D ndarray or
            pandas Series/Index of raw user ids. An unknown user gets the
            plain popularity ranking.
        n : int, default=10
            Number of items to return per user.
        exclude_seen : bool, default=True
            Leave out the items the user rated in fit.
        items : array-like of item ids, default=None
            Candidates: only these items may be recommended (a whitelist).
            None allows every item; an empty list allows none. Ids unknown
            to the fit are ignored.
        exclude_items : array-like of item ids, default=None
            Items never to recommend (a blacklist). Ids unknown to the fit
            are ignored.

        Returns
        -------
        items : ndarray of shape (n,) or (n_users, n)
            Raw item ids, most popular first: one row per user when
            ``users`` is an array-like. A user with fewer than ``n`` unrated
            items gets them all: for one id a shorter array, for an array of
            ids a :class:`numpy.ma.MaskedArray` with the missing trailing
            entries masked (as :meth:`skembrec.FunkMF.recommend`).
        """
        check_is_fitted(self)
        n = _check_n(n)
        single, ids = read_users(users)
        user_index = self._user_vocab.transform(ids, name="user id")
        popularity = self.popularity_

        def score_rows(chunk):
            return np.broadcast_to(popularity, (len(chunk), len(popularity))).copy()

        top = top_n_items(score_rows, user_index, len(popularity), n,
                          seen=self._seen if exclude_seen else None,
                          allowed=candidate_mask(self._item_vocab, items, exclude_items))
        return as_item_ids(top, self._item_vocab, single)
