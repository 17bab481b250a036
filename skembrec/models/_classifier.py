"""EmbeddingClassifier: the embedding body with a softmax over rating classes."""

import numpy as np
from sklearn.base import ClassifierMixin

from .._engine.targets import ClassTarget, softmax
from .._io.state import fitted_state
from .._sklearn_compat import StrOptions
from ._embedding import EmbeddingMLPBase
from ._params import fill_doc


@fill_doc
class EmbeddingClassifier(ClassifierMixin, EmbeddingMLPBase):
    """Rating classification: a softmax over the rating classes seen in ``y``.

    The graph is ``[p_u || q_i] -> Dense -> ... -> Dense(n_classes)``,
    trained with the cross-entropy

    .. math:: -\\sum w_{ui} \\log \\mathrm{softmax}(f([p_u \\| q_i]))_{r_{ui}}
              / \\sum w_{ui} + \\lambda\\text{-} \\text{and } \\alpha\\text{-penalties}.

    ``predict`` returns the most probable class (or, with
    ``decision="median"``, the median of the predicted distribution),
    ``predict_proba`` the distribution over ``classes_``, and ``score`` the
    accuracy. The classes may be any discrete labels (1..5 stars, half
    stars, strings).

    Parameters
    ----------
    n_factors : int, default=32
        Embedding size of users and items.
    ${dense}
    ${common}
    ${time}
    ${features}
    decision : {"mode", "median"}, default="mode"
        How ``predict`` turns the distribution into one label. ``"mode"``
        is the most probable class, the right choice for accuracy.
        ``"median"`` is the smallest class whose cumulative probability
        reaches one half: for ordered labels such as stars it minimises the
        expected absolute error, so it is the choice when the model is
        judged by MAE (needs labels that sort in rating order).
    output : {"softmax", "ordinal"}, default="softmax"
        The head. ``"softmax"`` gives each class its own logit: a free
        distribution over the labels. ``"ordinal"`` is a cumulative-logit
        (proportional odds) model for labels that sort in rating order: one
        score :math:`s` per rating and ordered thresholds
        :math:`\\theta_1 < \\dots < \\theta_{K-1}`, with
        :math:`P(y \\le c) = \\sigma(\\theta_c - s)`. It has one output unit
        instead of ``n_classes``, and a rating a step away from the true one
        is a smaller error than one four steps away.

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    user_embeddings_, item_embeddings_ : ndarray
        Learnt embeddings.
    history_ : dict
        Per-epoch ``loss`` and ``val_loss`` (cross-entropy).
    n_iter_ : int
        Epochs trained so far.
    model_ : keras.Model
        The graph; returns logits, one per class.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    EmbeddingRegressor : The same body with one output and squared error.

    Notes
    -----
    An unknown user or item (or a missing id at predict time) reads the
    average embedding of its table.
    ${table}
    Examples
    --------
    >>> from skembrec import EmbeddingClassifier
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = EmbeddingClassifier(n_factors=8, n_epochs=3, random_state=0).fit(X, y)
    >>> model.classes_
    array([1., 2., 3., 4., 5.], dtype=float32)
    >>> model.predict_proba(X[:2]).shape
    (2, 5)
    """

    _doc_feature_effect = (
        "feeds each side's bag of feature embeddings into the dense layers beside the id "
        "embeddings, so an unknown id with features is predicted from them and the "
        "average id embedding"
    )
    _doc_time_effect = (
        "concatenates the two features to the embeddings, before the first dense layer")

    _target = ClassTarget
    _partial_fit_params = ("classes",)

    _parameter_constraints = {
        **EmbeddingMLPBase._parameter_constraints,
        "decision": [StrOptions({"mode", "median"})],
        "output": [StrOptions({"softmax", "ordinal"})],
    }
    _architecture = EmbeddingMLPBase._architecture + ("output",)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's checks fit on continuous blobs, not (user, item) ids
        tags.classifier_tags.poor_score = True
        return tags

    def __init__(
        self,
        n_factors=32,
        *,
        user_factors=None,
        item_factors=None,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        alpha=1e-4,
        n_epochs=10,
        batch_size=2048,
        learning_rate=0.002,
        reg=0.0,
        optimizer="adam",
        init_std=0.05,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        random_state=None,
        verbose=0,
        warm_start=False,
        time_column=None,
        user_features=None,
        item_features=None,
        feature_separator="|",
        decision="mode",
        output="softmax",
    ):
        self.n_factors = n_factors
        self.user_factors = user_factors
        self.item_factors = item_factors
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.alpha = alpha
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.reg = reg
        self.optimizer = optimizer
        self.init_std = init_std
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.time_column = time_column
        self.user_features = user_features
        self.item_features = item_features
        self.feature_separator = feature_separator
        self.decision = decision
        self.output = output

    # -- targets ---------------------------------------------------------------
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one more epoch; ``classes`` lists every label on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.
        y : array-like of shape (n_samples,)
            The rating labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each rating in the loss.
        classes : array-like, default=None
            Every label ``y`` may hold, on the first call (later calls keep
            the classes of the first).

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return super().partial_fit(X, y, sample_weight, classes=classes)

    @classmethod
    def _output_layer(cls, k, x, spec, regularizer):
        n_classes = spec.target.n_classes
        if spec.params.output == "ordinal":
            from .._engine.layers import OrdinalLogits

            # one score per row, cut by ordered thresholds
            score = cls._dense_head(k, x, 1, spec, regularizer, "score")[:, 0]
            return OrdinalLogits(n_classes, name="logits", dtype="float32")(score)
        return cls._dense_head(k, x, n_classes, spec, regularizer, "logits")

    @property
    def classes_(self):
        """The class labels, sorted."""
        return fitted_state(self).target.classes

    # -- prediction ------------------------------------------------------------
    def predict_proba(self, X):
        """Probability of each class in ``classes_`` for (user, item) rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The predicted distribution over ``classes_``.
        """
        return softmax(self._raw_predict(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class in ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class (or the median class) for each (user, item) row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The mode of :meth:`predict_proba`, or its median with
            ``decision="median"``.
        """
        logits = self._raw_predict(X)
        if self._state.params["decision"] == "median":
            # the first class whose cumulative probability reaches one half
            cumulative = np.cumsum(softmax(logits), axis=1)
            return self.classes_[np.argmax(cumulative >= 0.5, axis=1)]
        return self.classes_[np.argmax(logits, axis=1)]
