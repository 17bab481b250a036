"""EmbeddingRegressor: concatenated embeddings -> dense layers -> one rating."""

from ._embedding import EmbeddingMLPBase
from ._mixins import RatingRegressorMixin
from ._params import fill_doc


@fill_doc
class EmbeddingRegressor(RatingRegressorMixin, EmbeddingMLPBase):
    """Rating regression from concatenated user and item embeddings.

    The graph is ``[p_u || q_i] -> Dense -> ... -> Dense(1)``; the output is
    scaled by the standard deviation of the ratings and shifted by their mean,
    and trained with the mean squared error

    .. math:: \\sum w_{ui} \\left[(r_{ui} - f([p_u \\| q_i]))^2
              + \\lambda (\\|p_u\\|^2 + \\|q_i\\|^2)\\right] / \\sum w_{ui}
              + \\alpha \\sum_l \\|W_l\\|^2.

    Parameters
    ----------
    n_factors : int, default=32
        Embedding size of users and items.
    ${dense}
    ${common}
    clip_predictions : bool, default=True
        Clip predictions to the rating range seen in fit.
    ${time}
    ${features}

    Attributes
    ----------
    global_mean_ : float
        Mean rating of the fit data.
    rating_range_ : tuple of float
        (min, max) rating seen in fit.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    user_embeddings_, item_embeddings_ : ndarray
        Learnt embeddings.
    history_ : dict
        Per-epoch ``loss`` and ``val_loss``.
    n_iter_ : int
        Epochs trained so far.
    model_ : keras.Model
        The graph; takes ``[user_index, item_index]``.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    FunkMF : The dot-product model.
    EmbeddingClassifier : The same body with a softmax over rating classes.

    Notes
    -----
    An unknown user or item (or a missing id at predict time) reads the
    average embedding of its table: it is treated as the average user or item.
    ${table}
    Examples
    --------
    >>> from skembrec import EmbeddingRegressor
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = EmbeddingRegressor(user_factors=8, item_factors=16, n_epochs=3,
    ...                            random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _doc_feature_effect = (
        "feeds each side's bag of feature embeddings into the dense layers beside the id "
        "embeddings, so an unknown id with features is predicted from them and the "
        "average id embedding"
    )
    _doc_time_effect = (
        "concatenates the two features to the embeddings, before the first dense layer")

    _parameter_constraints = {
        **EmbeddingMLPBase._parameter_constraints,
        "clip_predictions": ["boolean"],
    }

    def __init__(
        self,
        n_factors=32,
        *,
        user_factors=None,
        item_factors=None,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.3,
        batch_norm=False,
        alpha=1e-4,
        n_epochs=15,
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
        clip_predictions=True,
        time_column=None,
        user_features=None,
        item_features=None,
        feature_separator="|",
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
        self.clip_predictions = clip_predictions
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

    @classmethod
    def _output_layer(cls, k, x, spec, regularizer):
        # standardised ratings: the target encoder turns them into ratings
        return cls._dense_head(k, x, 1, spec, regularizer, "rating")[:, 0]
