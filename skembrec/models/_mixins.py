"""What the rating regressors share, and what the top-N models (ImplicitMF,
EASE) share."""

import numpy as np
from sklearn.base import RegressorMixin

from .._input import validation as _validation
from .._io.state import fitted_state


class RatingRegressorMixin(RegressorMixin):
    """Rating prediction: float targets, clipped predictions, R^2 score."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's checks fit on continuous blobs, not (user, item) ids
        # with repeats: a recommender is not expected to score well there
        tags.regressor_tags.poor_score = True
        return tags

    @property
    def global_mean_(self):
        """The weighted mean rating of the fit data."""
        return fitted_state(self).target.mean

    @property
    def rating_range_(self):
        """``(min, max)`` rating seen in fit; predictions are clipped to it."""
        return fitted_state(self).target.rating_range

    def predict(self, X):
        """Predict ratings for (user, item) rows.

        Unknown or missing ids fall back to what the model knows (see the
        class docstring); predictions are clipped to ``rating_range_``
        unless the model was fitted with ``clip_predictions=False``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted ratings.
        """
        output = self._raw_predict(X)  # raises NotFittedError first
        pred = self._state.target.decode(output)
        if self._state.params.get("clip_predictions", True):
            np.clip(pred, *self.rating_range_, out=pred)
        return pred


class RankingScoreMixin:
    """What the top-N models share: the ratings that count as interactions
    (``relevance_threshold``) and a ``score`` that is NDCG@10 at the fit's
    threshold."""

    @staticmethod
    def _fit_weight(params, y, weight):
        """Ratings under ``relevance_threshold`` are no interaction (weight 0)."""
        threshold = params["relevance_threshold"]
        if threshold is None:
            return weight
        keep = (np.asarray(y) >= threshold).astype(np.float64)
        if not keep.any():
            raise ValueError(f"no rating reaches relevance_threshold={threshold} "
                             f"(the highest is {np.max(y)}): nothing to learn from")
        return keep if weight is None else weight * keep

    def score(self, X, y, sample_weight=None):
        """NDCG@10 of the model's top-10 for the users of ``X``.

        The relevant items of a user are its rows of ``X`` rated at least
        ``relevance_threshold`` (all of them when None), as
        :func:`skembrec.metrics.make_ranking_scorer` defines it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Held-out rows of (user id, item id, ...).
        y : array-like of shape (n_samples,)
            Their ratings.
        sample_weight : None
            Not supported; must be None.

        Returns
        -------
        score : float
            The mean NDCG@10 over the users with a relevant item.
        """
        from ..metrics import make_ranking_scorer

        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}.score does not take sample_weight")
        _validation.check_X(self, X, reset=False)  # as predict checks X
        threshold = fitted_state(self).params["relevance_threshold"]
        return make_ranking_scorer("ndcg", k=10, relevance_threshold=threshold)(self, X, y)
