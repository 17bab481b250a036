"""ImplicitMF: matrix factorisation for top-N recommendation (implicit feedback)."""

import numbers

import numpy as np

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.targets import ImplicitTarget
from .._engine.training import Table
from .._input import validation as _validation
from .._io.state import fitted_state
from .._sklearn_compat import Interval


class ImplicitMF(BaseEmbeddingModel):
    """Matrix factorisation trained to rank: who rated what, against sampled items.

    A model made for ``recommend``, not for predicting ratings. Every rating
    of fit (with ``relevance_threshold``, every rating at least that high)
    is an interaction; for each, ``n_negatives`` items are drawn uniformly
    in the graph as items the user did not choose. The score of user ``u``
    for item ``i`` is

    .. math:: s_{ui} = p_u^\\top q_i + b_i

    and training minimises the logistic loss of :math:`\\sigma(s_{ui})`
    against 1 for the interactions and 0 for the sampled items (weight
    ``negative_weight``), with the per-rating L2 penalty ``reg`` on the
    rows a batch touches: the negative-sampling form of weighted matrix
    factorisation (Hu, Koren and Volinsky 2008; Mikolov et al. 2013). The
    rating-prediction models rank the long tail too high (their top-10 is
    worse than the most popular items); this one learns what users choose.

    Parameters
    ----------
    n_factors : int, default=64
        Size of the user and item embeddings.
    n_epochs : int, default=20
        Passes over the interactions.
    batch_size : int, default=4096
        Interactions per gradient step (each with its sampled items).
    learning_rate : float, default=0.1
        Step size of the optimizer.
    reg : float, default=0.01
        L2 penalty on the embedding rows a rating (or sampled item) touches
        (the best of 0.0005-0.1 on the benchmark of ``bench_ranking.py``).
    optimizer : {"adagrad", "adam", "adamax", "sgd"}, default="adagrad"
        Update rule; the tables are updated sparsely.
    init_std : float, default=0.1
        Standard deviation of the normal initialiser of the embeddings.
    n_negatives : int, default=4
        Items sampled per interaction.
    negative_weight : float, default=1.0
        Weight of a sampled item in the loss, relative to its interaction.
    relevance_threshold : float, default=None
        Only ratings at least this high are interactions (e.g. 4 on a 1-5
        scale); None takes every rating. Every rated item counts as seen
        (``recommend`` skips it) either way.
    early_stopping : bool, default=False
        Not supported (it must be False): a held-out loss on sampled items
        says little about a ranking.
    validation_fraction : float, default=0.1
        Unused (no early stopping).
    n_iter_no_change : int, default=5
        Unused (no early stopping).
    tol : float, default=1e-4
        Unused (no early stopping).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the sampled items.
    verbose : int, default=0
        0 is silent, 1 a progress bar, 2 one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit (see :class:`~skembrec.FunkMF`).
    time_column : None, default=None
        Must be None: time is not used yet.
    user_features : None, default=None
        Must be None: side features are not used yet.
    item_features : None, default=None
        Must be None: side features are not used yet.
    feature_separator : str, default="|"
        Unused (no side features).

    Attributes
    ----------
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    user_embeddings_, item_embeddings_ : ndarray
        Learnt factors :math:`p_u, q_i`.
    item_biases_ : ndarray
        Learnt item biases :math:`b_i`.
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}`` per epoch (the sampled loss).
    n_iter_ : int
        Epochs trained so far.
    model_ : keras.Model
        The graph; takes ``[user_index, item_index]`` and gives the logit.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    FunkMF : Rating prediction by matrix factorisation.
    PopularityRecommender : The most popular items, the floor of a ranking.

    Notes
    -----
    An unknown user reads a zero row: its ranking is the item biases, a
    popularity ranking learnt from the interactions. ``predict`` gives the
    probability of an interaction, and ``score`` the NDCG@10 of the model's
    top-10 against the rows of ``X`` (those at least ``relevance_threshold``
    high), as :func:`skembrec.metrics.make_ranking_scorer` defines it, so
    model selection ranks by ranking quality.

    References
    ----------
    Y. Hu, Y. Koren, C. Volinsky, "Collaborative Filtering for Implicit
    Feedback Datasets", ICDM 2008.

    Examples
    --------
    >>> from skembrec.models import ImplicitMF
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = ImplicitMF(n_epochs=3, random_state=0).fit(X, y)
    >>> model.recommend(X["user"].iloc[0], n=5).shape
    (5,)
    """

    _parameter_constraints = {
        **BaseEmbeddingModel._parameter_constraints,
        "n_negatives": [Interval(numbers.Integral, 1, None, closed="left")],
        "negative_weight": [Interval(numbers.Real, 0, None, closed="neither")],
        "relevance_threshold": [Interval(numbers.Real, None, None, closed="neither"), None],
    }
    _target = ImplicitTarget
    _architecture = ("n_factors", "time_column", "user_features", "item_features",
                     "feature_separator")

    def __init__(
        self,
        n_factors=64,
        *,
        n_epochs=20,
        batch_size=4096,
        learning_rate=0.1,
        reg=0.01,
        optimizer="adagrad",
        init_std=0.1,
        n_negatives=4,
        negative_weight=1.0,
        relevance_threshold=None,
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
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.reg = reg
        self.optimizer = optimizer
        self.init_std = init_std
        self.n_negatives = n_negatives
        self.negative_weight = negative_weight
        self.relevance_threshold = relevance_threshold
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

    def _validate_params(self):
        super()._validate_params()
        name = type(self).__name__
        if self.early_stopping:
            raise ValueError(f"{name} does not support early_stopping: a held-out loss "
                             "on sampled items says little about a ranking; choose "
                             "n_epochs with a ranking scorer instead")
        for param in ("time_column", "user_features", "item_features"):
            if getattr(self, param) is not None:
                raise ValueError(f"{name} does not use {param} yet; it must be None, got "
                                 f"{getattr(self, param)!r}")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        return tags

    @staticmethod
    def _fit_weight(params, y, weight):
        threshold = params["relevance_threshold"]
        if threshold is None:
            return weight
        keep = (np.asarray(y) >= threshold).astype(np.float64)
        if not keep.any():
            raise ValueError(f"no rating reaches relevance_threshold={threshold} "
                             f"(the highest is {np.max(y)}): nothing to learn from")
        return keep if weight is None else weight * keep

    @classmethod
    def _trainer_options(cls, params):
        # the per-rating trainer also steps on sampled negatives
        return {"negatives": params["n_negatives"],
                "negative_weight": params["negative_weight"]}

    @classmethod
    def _build_graph(cls, spec):
        from .._engine.layers import SparseEmbedding

        k = keras()
        p = spec.params
        user, item, _ = spec.inputs()

        def table(n, dim, name, init):
            return SparseEmbedding(n + 1, dim, embeddings_initializer=init, name=name,
                                   dtype="float32")

        def factors(n, name):
            return table(n, p.n_factors, name,
                         k.initializers.RandomNormal(stddev=p.init_std, seed=spec.seed()))

        pu = factors(spec.n_users, "user_embedding")
        qi = factors(spec.n_items, "item_embedding")
        bi = table(spec.n_items, 1, "item_bias", "zeros")
        logit = k.ops.sum(pu(user) * qi(item), axis=-1) + bi(item)[:, 0]
        tables = [Table(pu.embeddings, "user"), Table(qi.embeddings, "item"),
                  Table(bi.embeddings, "item")]
        return k.Model(spec.model_inputs(), logit, name="implicit_mf"), tables

    def predict(self, X):
        """The probability that each row's user interacts with its item.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples,)
            Values in (0, 1); an unknown user gets the item's learnt
            popularity, an unknown item the user's plain :math:`\\sigma(0)`.
        """
        return self._fitted_state().target.decode(self._raw_predict(X))

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
            raise ValueError("ImplicitMF.score does not take sample_weight")
        _validation.check_X(self, X, reset=False)  # as predict checks X
        threshold = fitted_state(self).params["relevance_threshold"]
        return make_ranking_scorer("ndcg", k=10, relevance_threshold=threshold)(self, X, y)

    @property
    def item_biases_(self):
        """Learnt item biases :math:`b_i`, in ``item_ids_`` order."""
        return self._table("item_bias")[:, 0]
