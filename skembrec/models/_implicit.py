"""ImplicitMF: matrix factorisation for top-N recommendation (implicit feedback)."""

import numbers

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.targets import ImplicitTarget
from .._engine.training import Table
from .._sklearn_compat import Interval, StrOptions
from ._mixins import RankingScoreMixin

# each solver's default reg, chosen on validation (see the class docstring)
SOLVER_REG = {"als": 0.05, "sgd": 0.01}


class ImplicitMF(RankingScoreMixin, BaseEmbeddingModel):
    """Matrix factorisation trained to rank: who rated what, against what they did not.

    A model made for ``recommend``, not for predicting ratings. Every rating
    of fit (with ``relevance_threshold``, every rating at least that high)
    is an interaction, of weight :math:`w_{ui}` (``sample_weight``, scaled
    to a mean of 1 as in every estimator; a pair rated twice sums its
    weights). The score of user ``u`` for item ``i`` is

    .. math:: s_{ui} = p_u^\\top q_i + b_i

    and two solvers fit it (Hu, Koren and Volinsky 2008), both weighing an
    item the user did not choose ``negative_weight`` (:math:`\\nu`) times an
    interaction of weight 1:

    ``solver="als"`` (the default)
        Weighted least squares over every user-item pair,

        .. math:: \\sum_{(u,i) \\in O} w_{ui} (1 - s_{ui})^2
                  + \\nu \\sum_{(u,i) \\notin O} s_{ui}^2
                  + \\lambda \\Big(\\sum_u W_u \\|p_u\\|^2
                  + \\sum_i W_i (\\|q_i\\|^2 + b_i^2)\\Big),

        solved by alternating least squares, one epoch being one iteration
        (every user given the items, then every item given the users), in
        one TensorFlow graph. Where every interaction weighs :math:`\\nu`
        (the defaults) each half-step is exact (one ``k x k``
        eigendecomposition per side); otherwise three conjugate-gradient
        steps per row, warm-started (implicit's recipe). :math:`\\lambda`
        is ``reg`` and :math:`W_u = \\max(\\sum_{i \\in O_u} w_{ui}, 1)` the
        weight of the row's interactions: a row is penalised once per
        interaction, as ``"sgd"`` penalises a row once per rating (the
        weighted-lambda rule of Zhou et al. 2008; see "Choosing the
        defaults" below). implicit's ``AlternatingLeastSquares(alpha=a)``
        on a binary matrix is ``negative_weight=1/a`` (its
        ``regularization`` is one ridge for every row, where this one
        grows with the row's interactions).
    ``solver="sgd"``
        Sampled steps: for each interaction, ``n_negatives`` items drawn
        uniformly in the graph as items the user did not choose, and the
        logistic loss of :math:`\\sigma(s_{ui})` against 1 for the
        interactions and 0 for the sampled items (weight
        :math:`\\nu w_{ui}`), with the per-rating L2 penalty ``reg`` on the
        rows a batch touches (Mikolov et al. 2013's negative sampling).

    **Choosing the defaults.** The protocol of ``benchmarks/bench_als.py``:
    each user's latest 10% of ratings held out, relevant = rated 4 or more,
    every unrated item ranked, NDCG@10; the choices were made on a
    validation part (each user's latest 10% of their *training* ratings),
    never on the test part, on ML-100K, MovieLens-1M users 1-2999 and
    ml-latest-small, with and without ``relevance_threshold=4``.

    - Solver: on the ML-1M subset with ``relevance_threshold=4`` (medians of
      3 runs, shared 2-core machine), ``"als"`` reached NDCG@10 0.0915 in
      2.3 s, ``"sgd"`` 0.0894 in 73 s (the previous ``reg``).
    - The penalty rule: the previous ALS default, one ridge ``reg=0.01``
      for every row (implicit's default), fits far too loosely (test
      NDCG@10 on the ML-1M subset 0.0917, ML-100K 0.121, with
      ``relevance_threshold=4``). On validation (seed 0; without / with
      ``relevance_threshold=4``), the best single ridge differs by dataset
      (3-15) and falls off a cliff just above it (ML-100K: 0.121 / 0.132
      at 10, 0.084 / 0.077 at 30); a ridge growing with all of a row's
      pair weight, observed or not (Rendle et al. 2021's frequency
      scaling with the unobserved pairs counted), scales with the
      catalogue, not with the data's spectrum: its best ``reg`` ranged
      0.002-0.005 and 0.01 collapsed (ML-1M 0.0739 against 0.0933).
      Penalising each row by its interactions' weight at ``reg=0.05``
      (ML-100K 0.128 / 0.136, ML-1M 0.0767 / 0.0965, ml-latest-small
      0.0720 / 0.0942) beat one ridge of 10 for every dataset (0.121 /
      0.132, 0.0764 / 0.0920, 0.0727 / 0.0937) on 5 of the 6 cases, and
      the best ridge of each case, chosen with hindsight (0.121 / 0.132,
      0.0773 / 0.0932, 0.0728 / 0.0941), on 3, tying one and losing
      0.8-1.1% on the two without a threshold.
    - ``reg`` (``python benchmarks/bench_als.py --select-reg``, medians of
      3 seeds, ``benchmarks/results/als_reg.json``): of 0.02, 0.03, 0.05,
      0.07 and 0.1, 0.05 had the best validation NDCG@10 in 4 of the 6
      cases and was within 3.1% of the best in all (0.07: best in 1,
      within 1.8%, the same mean; 0.1 starts the drop, down to -6.1%).
      Test NDCG@10 at the defaults, without / with
      ``relevance_threshold=4``: ML-100K 0.154 / 0.148 (the previous
      default 0.121 with the threshold, ``"sgd"`` 0.141), the ML-1M subset
      0.085 / 0.099 (previously 0.092), ml-latest-small 0.068 / 0.087.
    - ``negative_weight=1`` kept: with one ridge for every row, 0.5
      (with the ridge halved) changed validation NDCG@10 by -2.4% to
      +1.8% and takes the conjugate-gradient path (2-3 times the fit
      time); 0.25 was worse in 5 of the 6 cases.

    The rating-prediction models rank the long tail too high (their top-10
    is worse than the most popular items); this one learns what users
    choose.

    Parameters
    ----------
    n_factors : int, default=64
        Size of the user and item embeddings.
    solver : {"als", "sgd"}, default="als"
        How to fit: alternating least squares or sampled steps (see above).
        A training setting: changing it after fit changes nothing until
        the next fit, which continues from the fitted tables with
        ``warm_start=True``.
    n_epochs : int, default=20
        Passes over the interactions (ALS iterations with ``"als"``).
    batch_size : int, default=4096
        Interactions per gradient step (each with its sampled items);
        ``"sgd"`` only.
    learning_rate : float, default=0.1
        Step size of the optimizer; ``"sgd"`` only.
    reg : float, default=None
        ``"sgd"``: L2 penalty on the embedding rows a rating (or sampled
        item) touches; None is 0.01 (the best of 0.0005-0.1 on the
        benchmark of ``bench_ranking.py``). ``"als"``: :math:`\\lambda`, the
        ridge coefficient per unit of a row's interaction weight; None is
        0.05 (see "Choosing the defaults").
    optimizer : {"adagrad", "adam", "adamax", "sgd"}, default="adagrad"
        Update rule; the tables are updated sparsely; ``"sgd"`` only.
    init_std : float, default=0.1
        Standard deviation of the normal initialiser of the embeddings.
    n_negatives : int, default=4
        Items sampled per interaction; ``"sgd"`` only.
    negative_weight : float, default=1.0
        Weight of an item the user did not choose (a sampled item with
        ``"sgd"``, every such item with ``"als"``), relative to an
        interaction of weight 1.
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
        ``{"loss": [...], "val_loss": [...]}`` per epoch: the mean logistic
        loss of the sampled examples (``"sgd"``), or the objective above per
        unit of weight, every pair's summed (``"als"``; it falls every epoch).
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
    popularity ranking learnt from the interactions (``"als"`` fits
    :math:`b_i` as the item's last column against a constant column of
    the users). ``predict`` gives :math:`\\sigma(s_{ui})`: the probability of
    an interaction under ``"sgd"``'s logistic model; under ``"als"``,
    :math:`s_{ui}` estimates the preference (1 for an interaction) and
    :math:`\\sigma(s_{ui})` only orders the pairs as it does. ``score`` is
    the NDCG@10 of the model's top-10 against the rows of ``X`` (those at
    least ``relevance_threshold`` high), as
    :func:`skembrec.metrics.make_ranking_scorer` defines it, so model
    selection ranks by ranking quality.

    References
    ----------
    Y. Hu, Y. Koren, C. Volinsky, "Collaborative Filtering for Implicit
    Feedback Datasets", ICDM 2008.

    G. Takacs, I. Pilaszy, D. Tikk, "Applications of the Conjugate Gradient
    Method for Implicit Feedback Collaborative Filtering", RecSys 2011.

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
        "solver": [StrOptions({"als", "sgd"})],
        "reg": [Interval(numbers.Real, 0, None, closed="left"), None],
    }
    # the solver only trains: a fitted model keeps its tables until the next fit
    _training_parameters = BaseEmbeddingModel._training_parameters | {"solver"}
    # files written before the ALS solver were trained by sampled steps
    _since = {**BaseEmbeddingModel._since, "solver": "sgd"}
    _target = ImplicitTarget
    _architecture = ("n_factors", "time_column", "user_features", "item_features",
                     "feature_separator")

    def __init__(
        self,
        n_factors=64,
        *,
        solver="als",
        n_epochs=20,
        batch_size=4096,
        learning_rate=0.1,
        reg=None,
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
        self.solver = solver
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

    @classmethod
    def _resolve_params(cls, params):
        # reg=None: the solver's own default (see the class docstring)
        if params["reg"] is None:
            params = {**params, "reg": SOLVER_REG[params["solver"]]}
        return params

    @classmethod
    def _trainer_class(cls, params):
        if params["solver"] == "als":
            from .._engine.trainers.als import ImplicitALS

            return ImplicitALS
        return super()._trainer_class(params)

    @classmethod
    def _trainer_options(cls, params):
        if params["solver"] == "als":
            return {"negative_weight": params["negative_weight"]}
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

    @property
    def item_biases_(self):
        """Learnt item biases :math:`b_i`, in ``item_ids_`` order."""
        return self._table("item_bias")[:, 0]

    def _factored_scores(self, state):
        """``recommend``'s score, the logit ``p_u . q_i + b_i``, as a product."""
        from .._engine.recommend import FactoredScores

        model = self._live().model
        n_items = len(state.item_vocab)
        users = model.get_layer("user_embedding").embeddings.numpy()
        return FactoredScores(
            lambda index: users[index],
            model.get_layer("item_embedding").embeddings.numpy()[:n_items],
            model.get_layer("item_bias").embeddings.numpy()[:n_items, 0])
