"""AutoRec: the item-based autoencoder (I-AutoRec) as a Keras graph."""

import numpy as np

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.training import Table
from .._sklearn_compat import StrOptions
from ._embedding import ACTIVATIONS
from ._mixins import RatingRegressorMixin
from ._params import fill_doc


@fill_doc
class AutoRec(RatingRegressorMixin, BaseEmbeddingModel):
    """Item-based autoencoder (I-AutoRec) trained on sparse batches of items.

    Each item :math:`i` is its vector :math:`r_i` of ratings by all users
    (standardised: the ratings less their mean, in units of their standard
    deviation; missing ratings are left out, never imputed). The vector is
    encoded by one hidden layer of ``n_factors`` units and reconstructed:

    .. math:: h(r_i) = W^\\top g(V^\\top \\tilde r_i + b) + c,
              \\qquad \\hat r_{ui} = \\sigma\\, h(r_i)_u

    with :math:`g` the ``activation``, :math:`\\tilde r_i` the observed
    entries of :math:`r_i / \\sigma` (a rating differs from a missing one,
    as in the paper's raw ratings), and :math:`\\sigma` the standard
    deviation of the ratings. As in the paper the decoder reconstructs the
    ratings themselves (in units of :math:`\\sigma`), not their deviations
    from the mean: it starts from zero and carries the ratings' level in its
    penalised weights (measured: centring the target instead costs about
    0.012 RMSE on MovieLens-1M). Training minimises the squared error on the
    observed ratings only, with an L2 penalty on the weights,

    .. math:: \\sum_{(u,i)} w_{ui} (r_{ui}/\\sigma - h(r_i)_u)^2
              + \\tfrac{\\lambda}{2} (\\|V\\|^2 + \\|W\\|^2),

    :math:`\\lambda` = ``reg``, over minibatches of ``batch_size`` items
    (Adam by default; each batch takes its items' share of the penalty).
    The loss is the sum, not the mean: it gives the same Adam steps, with
    the optimizer's epsilon negligible, and makes ``learning_rate`` of
    ``"sgd"`` depend on the number of ratings. The item x user matrix stays
    sparse throughout: a batch gathers its items' rows and encodes them by a sparse-dense
    product, and only the observed entries are reconstructed.

    Parameters
    ----------
    n_factors : int, default=${n_factors}
        Units of the hidden layer (the item code).
    activation : str, default=${activation}
        Activation of the hidden layer (a Keras activation name; the paper
        uses the sigmoid). The output layer is linear.
    n_epochs : int, default=${n_epochs}
        Number of passes over the items.
    batch_size : int, default=${batch_size}
        Items per gradient step.
    learning_rate : float, default=${learning_rate}
        Step size of the optimizer.
    reg : float, default=${reg}
        The paper's :math:`\\lambda`: L2 penalty on the encoder and decoder
        weights ``V`` and ``W``, against the squared errors summed over all
        ratings (in units of their standard deviation).
    optimizer : {"adagrad", "adam", "adamax", "sgd"}, default=${optimizer}
        Update rule (dense updates of every weight).
    init_std : float, default=${init_std}
        Standard deviation of the normal initialiser of ``V`` and ``W``.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the ratings (left out of the
        encoder's input too) and stop when their loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs; the best epoch's weights are
        kept. The fitted model then reads all ratings, the held-out included.
    validation_fraction : float, default=0.1
        Share of the ratings held out when ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation loss that resets the patience.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the validation split; an int
        makes fits reproducible on a CPU.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over epochs, 2 prints one line
        per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights, optimizer state and
        vocabularies (grown with any new ids) instead of starting afresh. The
        current training settings apply; after a change to ``n_factors`` or
        ``activation`` the next fit starts from scratch. The ratings the
        model reads become those of all fits (a pair rated again takes its
        new rating); the epochs fit this call's ratings.
    clip_predictions : bool, default=True
        Clip predictions to the rating range seen in fit.
    time_column : None, default=None
        Not supported yet: must be None.
    user_features, item_features : None, default=None
        Not supported yet: must be None.

    Attributes
    ----------
    global_mean_ : float
        The weighted mean rating of the fit data.
    rating_range_ : tuple of float
        (min, max) rating seen in fit; predictions are clipped to it.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    user_embeddings_ : ndarray of shape (`n_users_`, n_factors)
        The decoder's row of each user: its reconstruction weights :math:`W_u`.
    item_embeddings_ : ndarray of shape (`n_items_`, n_factors)
        The code :math:`g(V^\\top \\tilde r_i + b)` of each item (what
        ``similar_items`` compares).
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}`` per epoch.
    n_iter_ : int
        Epochs trained so far.
    model_ : keras.Model
        The graph; takes ``[user_index, item_index]`` and reconstructs the
        items' rows of the fitted rating matrix, which it holds.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    FunkMF : The dot-product model.

    Notes
    -----
    The rating matrix is part of the fitted model: pickling, ``save`` and
    ``load`` keep it, and a prediction for a known (user, item) pair reads
    the item's ratings as they were in fit (including that user's rating
    of it, if any: the autoencoder's reconstruction).

    Cold start: an unknown user or an unknown item (or a missing id at
    predict time) gets the global mean rating. ``recommend`` for an unknown
    user therefore ranks every item equally (in item table order).
    ``fold_in`` is not available; add users with ``partial_fit`` or a
    warm start.

    The parameter names are those of the other estimators (see
    :class:`FunkMF`), with ``batch_size`` counting items and ``reg`` the
    paper's :math:`\\lambda`.

    References
    ----------
    S. Sedhain, A. K. Menon, S. Sanner, L. Xie, "AutoRec: Autoencoders Meet
    Collaborative Filtering", WWW 2015.

    Examples
    --------
    >>> from skembrec import AutoRec
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = AutoRec(n_factors=16, n_epochs=5, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _doc_time_effect = ""

    _parameter_constraints = {
        **BaseEmbeddingModel._parameter_constraints,
        "activation": [StrOptions(set(ACTIVATIONS))],
        "clip_predictions": ["boolean"],
        # checked by _validate_params: only None for now
        "user_features": "no_validation",
        "item_features": "no_validation",
    }

    def __init__(
        self,
        n_factors=500,
        *,
        activation="sigmoid",
        n_epochs=50,
        batch_size=256,
        learning_rate=1e-3,
        reg=150.0,
        optimizer="adam",
        init_std=0.03,
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
    ):
        self.n_factors = n_factors
        self.activation = activation
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
        self.clip_predictions = clip_predictions
        self.time_column = time_column
        self.user_features = user_features
        self.item_features = item_features

    _architecture = ("n_factors", "activation", "time_column", "user_features",
                     "item_features")
    _reads_ratings = True
    _reads_time = False
    _reads_features = False
    # observed entries of the encoder's input at the raw ratings' scale
    _shift_input = True

    @classmethod
    def _trainer_class(cls, params):
        from .._engine.trainers.items import ItemTrainer

        return ItemTrainer

    @classmethod
    def _build_graph(cls, spec):
        import scipy.sparse as sp

        from .._engine.layers import ItemAutoencoder

        k = keras()
        p = spec.params
        user, item, _ = spec.inputs()
        ratings = spec.ratings
        if ratings is None:  # only while checking a file's shapes
            ratings = sp.csr_matrix((spec.n_items, spec.n_users), dtype=np.float32)
        target = spec.target
        # observed entries at the raw ratings' scale (a rating is not a gap),
        # and the raw ratings (in units of their spread) reconstructed
        offset = target.mean / target.unit if cls._shift_input else 0.0
        layer = ItemAutoencoder(
            spec.n_users, spec.n_items, p.n_factors, p.activation, ratings,
            input_offset=offset, output_offset=offset, init_std=p.init_std,
            seeds=(spec.seed(), spec.seed()), name="item_autoencoder")
        output = layer([user, item])
        # per-user rows: grown by a warm start with new users; the last row
        # (unknown users) is kept at zero
        tables = [Table(layer.encoder_kernel, "user"), Table(layer.decoder_kernel, "user"),
                  Table(layer.decoder_bias, "user")]
        return k.Model([user, item], output, name="autorec"), tables

    @property
    def user_embeddings_(self):
        """The decoder's row of each user, shape ``(n_users_, n_factors)``."""
        return self._layer().decoder_kernel.numpy()[:-1]

    @property
    def item_embeddings_(self):
        """The code of each item, shape ``(n_items_, n_factors)``, in ``item_ids_`` order."""
        return self._layer().item_codes().numpy()

    def _layer(self):
        return self.model_.get_layer("item_autoencoder")

    def _factored_scores(self, state):
        """``recommend``'s score as a product: item ``i``'s code (computed once
        here, it does not change until the next fit) times the decoder's row of
        user ``u``; the decoder's bias is the same for every item of a user.
        An unknown user's row is zeros: every item ties, as the graph's
        fallback (the global mean for all) has them."""
        from .._engine.recommend import FactoredScores

        layer = self._layer()
        n_users = len(state.user_vocab)
        decoder = layer.decoder_kernel.numpy()
        decoder[n_users:] = 0.0

        def user_vectors(index):
            return decoder[np.minimum(index, n_users)]

        return FactoredScores(user_vectors, layer.item_codes().numpy())
