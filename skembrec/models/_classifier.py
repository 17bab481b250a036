"""EmbeddingClassifier: the embedding body with a softmax over rating classes."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .. import _validation
from .._sklearn_compat import StrOptions
from ._embedding import EmbeddingMLPBase
from ._params import COMMON_PARAMETERS, PARAMETER_TABLE, TIME_PARAMETER
from ._regressor import DENSE_PARAMETERS


class EmbeddingClassifier(ClassifierMixin, EmbeddingMLPBase):
    __doc__ = """Rating classification: a softmax over the rating classes seen in ``y``.

    The graph is ``[p_u || q_i] -> Dense -> ... -> Dense(n_classes)``,
    trained with the cross-entropy

    .. math:: -\\sum w_{{ui}} \\log \\mathrm{{softmax}}(f([p_u \\| q_i]))_{{r_{{ui}}}}
              / \\sum w_{{ui}} + \\lambda\\text{{-}} \\text{{and }} \\alpha\\text{{-penalties}}.

    ``predict`` returns the most probable class (or, with
    ``decision="median"``, the median of the predicted distribution),
    ``predict_proba`` the distribution over ``classes_``, and ``score`` the
    accuracy. The classes may be any discrete labels (1..5 stars, half
    stars, strings).

    Parameters
    ----------
    n_factors : int, default=32
        Embedding size of users and items.
    {dense}
    {common}
    {time}
    decision : {{"mode", "median"}}, default="mode"
        How ``predict`` turns the distribution into one label. ``"mode"``
        is the most probable class, the right choice for accuracy.
        ``"median"`` is the smallest class whose cumulative probability
        reaches one half: for ordered labels such as stars it minimises the
        expected absolute error, so it is the choice when the model is
        judged by MAE (needs labels that sort in rating order).

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

    Notes
    -----
    An unknown user or item (or a missing id at predict time) reads the
    average embedding of its table.
    {table}
    See Also
    --------
    EmbeddingRegressor : The same body with one output and squared error.

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
    """.format(
        dense=DENSE_PARAMETERS.format(hidden=(64,), dropout=0.0, alpha=1e-4).strip(),
        common=COMMON_PARAMETERS.format(
            n_epochs=10, batch_size=2048, learning_rate=0.002, reg=0.0,
            optimizer="adam", init_std=0.05).strip(),
        table=PARAMETER_TABLE,
        time=TIME_PARAMETER.format(
            effect="concatenates the two features to the embeddings, before the "
                   "first dense layer").strip(),
    )

    _loss = "cross_entropy"

    _parameter_constraints = {
        **EmbeddingMLPBase._parameter_constraints,
        "decision": [StrOptions({"mode", "median"})],
    }

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
        decision="mode",
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
        self.decision = decision

    # -- targets ---------------------------------------------------------------
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one more epoch; ``classes`` lists every label on the first call.

        Returns
        -------
        self : object
        """
        return super().partial_fit(X, y, sample_weight, classes=classes)

    def _check_partial_fit_params(self, fit_params):
        if set(fit_params) - {"classes"}:
            raise TypeError(f"unexpected arguments {sorted(set(fit_params) - {'classes'})}")

    def _encode_target(self, y, n_samples, reset, classes=None):
        y = _validation._as_1d_target(y, n_samples)
        check_classification_targets(y)
        if reset:
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            self.classes_ = labels
        codes = np.searchsorted(self.classes_, y)
        codes = np.clip(codes, 0, len(self.classes_) - 1)
        unknown = self.classes_[codes] != y
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise ValueError(
                f"y holds the label {y[row]!r} at row {row}, which is not one of "
                f"the classes {self.classes_.tolist()} fixed by the first fit"
            )
        return codes.astype(np.int32)

    def _check_target_weights(self, target, weight):
        present = target if weight is None else target[weight > 0]
        if len(np.unique(present)) < 2 and len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs ratings of at least 2 classes; "
                f"y holds only 1 class ({self.classes_.tolist()})"
            )
        if weight is not None and len(np.unique(present)) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes with positive "
                "sample_weight; only 1 class carries weight"
            )

    def _target_dtype(self, tf_):
        return tf_.int32

    def _set_target_statistics(self, target, weight):
        pass

    def _update_target_statistics(self, target):
        pass

    def _score_output(self, logits):
        # rank items by expected rating when the labels are numeric, else by
        # the probability of the best class
        proba = _softmax(logits)
        if np.issubdtype(self.classes_.dtype, np.number):
            return proba @ self.classes_.astype(np.float64)
        return proba[:, -1]

    def _output_layer(self, k, x, seeds, regularizer):
        return k.layers.Dense(
            len(self.classes_),
            kernel_initializer=k.initializers.GlorotUniform(seed=seeds()),
            kernel_regularizer=regularizer,
            name="logits",
            dtype="float32",  # the head stays float32 under a mixed-precision policy
        )(x)

    # -- prediction ------------------------------------------------------------
    def predict_proba(self, X):
        """Probability of each class in ``classes_`` for (user, item) rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return _softmax(self._raw_predict(X))

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class (or the median class) for each (user, item) row.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The mode of :meth:`predict_proba`, or its median with
            ``decision="median"``.
        """
        check_is_fitted(self, "n_iter_")
        if self.decision not in ("mode", "median"):  # set_params after fit
            raise ValueError(f"decision must be 'mode' or 'median', got {self.decision!r}")
        logits = self._raw_predict(X)
        if self.decision == "median":
            # the first class whose cumulative probability reaches one half
            cumulative = np.cumsum(_softmax(logits), axis=1)
            return self.classes_[np.argmax(cumulative >= 0.5, axis=1)]
        return self.classes_[np.argmax(logits, axis=1)]


def _softmax(logits):
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted
