"""FunkMF: Funk's biased matrix factorisation as a Keras graph."""

import numbers

import numpy as np

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.training import Table
from .._input.time import time_bins
from .._sklearn_compat import Interval
from ._mixins import RatingRegressorMixin
from ._params import fill_doc

# each side's feature tables' (step size, L2) as multiples of the ids'.
# The L2 is per rating, and a token is in many more ratings than any id:
# at the ids' coefficient the items' own biases and factors absorb what
# their genres share, and a cold item's genres predict little. A tenth
# lets the genres carry it (MovieLens-100K, 15% of the items held out:
# 1.062 -> 1.027 RMSE against 1.048 at the ids' L2); the users' attributes
# need no change (lower L2 over-fits them). See
# benchmarks/bench_side_features.py.
FEATURE_SCALES = {"user": (1.0, 1.0), "item": (1.0, 0.1)}


@fill_doc
class FunkMF(RatingRegressorMixin, BaseEmbeddingModel):
    """Biased matrix factorisation (Funk SVD) trained with sparse minibatch steps.

    The predicted rating of user ``u`` for item ``i`` is

    .. math:: \\hat r_{ui} = \\mu + b_u + b_i + p_u^\\top q_i

    where :math:`\\mu` is the global mean rating, :math:`b_u, b_i` are biases
    and :math:`p_u, q_i` are ``n_factors``-dimensional embeddings. Training
    minimises, over minibatches,

    .. math:: \\sum_{(u,i)} w_{ui} \\left[(r_{ui} - \\hat r_{ui})^2
              + \\lambda (b_u^2 + b_i^2 + \\|p_u\\|^2 + \\|q_i\\|^2)\\right]
              / \\sum w_{ui}

    with :math:`\\lambda` = ``reg``, updating only the rows of the ratings in
    each batch (sparse Adagrad by default).

    Parameters
    ----------
    n_factors : int, default=64
        Size of the user and item embeddings.
    ${common}
    biased : bool, default=True
        Learn user and item biases (Funk SVD); ``False`` gives the plain dot
        product of the 'Collaborative filtering in Keras' write-up, plus the
        global mean.
    clip_predictions : bool, default=True
        Clip predictions to the rating range seen in fit.
    ${time}
    ${features}
    n_time_bins : int, default=0
        With ``time_column``: the number of equal time bins of the fit's
        range for the item time bias :math:`b_{i,\\mathrm{Bin}(t)}`; 0
        leaves it out. Koren used 30 bins over the Netflix Prize's six
        years; on MovieLens, bins made the probe RMSE worse (see the user
        guide).
    id_dropout : float, default=${id_dropout}
        With side features: the share of the training ratings on which a
        side's id factors and bias are left out (drawn per rating, in
        training only), so that its features learn to predict alone, as
        they must for an id unseen in fit. More cold-start accuracy for a
        little warm accuracy (MovieLens-100K, 15% of the items held out:
        1.030 -> 1.013 RMSE at 0.25; ``u1.test``: 0.912 -> 0.918). No
        effect without features.

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
    user_embeddings_, item_embeddings_ : ndarray
        Learnt factors :math:`p_u, q_i` (rows follow ``user_ids_``/``item_ids_``).
    user_biases_, item_biases_ : ndarray
        Learnt biases :math:`b_u, b_i` (zeros when ``biased=False``).
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}`` per epoch.
    n_iter_ : int
        Epochs trained so far.
    model_ : keras.Model
        The graph; takes ``[user_index, item_index]``.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    EmbeddingRegressor : Concatenated embeddings followed by dense layers.

    Notes
    -----
    Unknown users or items (and missing ids at predict time) read a reserved
    table row of zeros, so their prediction is :math:`\\mu` plus whatever
    biases are known: Surprise's fallback.
    ${table}
    References
    ----------
    S. Funk, "Netflix Update: Try This at Home", 2006.
    Y. Koren, R. Bell, C. Volinsky, "Matrix Factorization Techniques for
    Recommender Systems", IEEE Computer, 2009.

    Examples
    --------
    >>> from skembrec import FunkMF
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = FunkMF(n_factors=8, n_epochs=5, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _doc_feature_effect = (
        "adds each side's feature tokens' factors to the id's factors, and their biases "
        "to the id's bias (SVDFeature), so an unknown id with features is predicted from "
        "them"
    )
    _doc_time_effect = (
        "adds timeSVD's time effects to the prediction: a user drift "
        ":math:`\\alpha_u \\mathrm{dev}_u(t)` and, with ``n_time_bins``, "
        "an item bias per time bin :math:`b_{i,\\mathrm{Bin}(t)}` (both "
        "L2-penalised by ``reg``)")

    _parameter_constraints = {
        **BaseEmbeddingModel._parameter_constraints,
        "biased": ["boolean"],
        "clip_predictions": ["boolean"],
        "n_time_bins": [Interval(numbers.Integral, 0, None, closed="left")],
        "id_dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        n_factors=64,
        *,
        n_epochs=10,
        batch_size=4096,
        learning_rate=0.05,
        reg=0.06,
        optimizer="adagrad",
        init_std=0.03,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        tol=1e-4,
        random_state=None,
        verbose=0,
        warm_start=False,
        biased=True,
        clip_predictions=True,
        time_column=None,
        user_features=None,
        item_features=None,
        feature_separator="|",
        n_time_bins=0,
        id_dropout=0.0,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.reg = reg
        self.optimizer = optimizer
        self.init_std = init_std
        self.biased = biased
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
        self.id_dropout = id_dropout
        self.n_time_bins = n_time_bins

    # files written before the unit was recorded hold outputs in ratings
    _legacy_output_unit = 1.0
    _architecture = ("n_factors", "biased", "time_column", "n_time_bins", "user_features",
                     "item_features", "feature_separator", "id_dropout")

    @classmethod
    def _build_graph(cls, spec):
        from .._engine.layers import RowKeep, SparseEmbedding, feature_bag

        k = keras()
        p = spec.params
        user, item, time_ = spec.inputs()

        def table(n, dim, name, init="zeros"):
            # float32 whatever the global Keras dtype policy: a dot product gains
            # nothing from mixed precision, and ratings need float32 resolution
            return SparseEmbedding(n + 1, dim, embeddings_initializer=init, name=name,
                                   dtype="float32")

        def factors(n, name):
            init = k.initializers.RandomNormal(stddev=p.init_std, seed=spec.seed())
            return table(n, p.n_factors, name, init)

        pu = factors(spec.n_users, "user_embedding")
        qi = factors(spec.n_items, "item_embedding")
        vectors = {"user": pu(user), "item": qi(item)}
        tables = [Table(pu.embeddings, "user"), Table(qi.embeddings, "item")]
        biases = {}
        if p.biased:
            bu, bi = table(spec.n_users, 1, "user_bias"), table(spec.n_items, 1, "item_bias")
            biases = {"user": bu(user)[:, 0], "item": bi(item)[:, 0]}
            tables += [Table(bu.embeddings, "user"), Table(bi.embeddings, "item")]
        # SVDFeature: a side's factors (and bias) are its id's plus the sum of
        # its feature tokens' (weighted by their values)
        for side in ("user", "item"):
            bag = spec.feature_inputs(side)
            if bag is None:
                continue
            index, value, n_tokens = bag
            if p.id_dropout:
                # on a share of the ratings the features predict alone, as
                # they must for an id unseen in fit
                keep = RowKeep(p.id_dropout, seed=spec.seed(), name=f"{side}_id_keep")(
                    user if side == "user" else item)
                vectors[side] = vectors[side] * keep[:, None]
                if p.biased:
                    biases[side] = biases[side] * keep
            features = factors(n_tokens, f"{side}_feature_embedding")
            vectors[side] = vectors[side] + feature_bag(index, value, features)
            lr_scale, reg_scale = FEATURE_SCALES[side]
            tables.append(Table(features.embeddings, f"{side}_features",
                                lr_scale=lr_scale, reg_scale=reg_scale))
            if p.biased:
                feature_bias = table(n_tokens, 1, f"{side}_feature_bias")
                biases[side] = biases[side] + feature_bag(index, value, feature_bias)[:, 0]
                tables.append(Table(feature_bias.embeddings, f"{side}_features",
                                    lr_scale=lr_scale, reg_scale=reg_scale))
        # in standardised ratings: the target encoder adds the mean and scale
        rating = k.ops.sum(vectors["user"] * vectors["item"], axis=-1)
        for bias in biases.values():
            rating = rating + bias
        if time_ is None:
            return k.Model(spec.model_inputs(), rating, name="funk_mf"), tables
        # timeSVD's time effects: a user drift alpha_u * dev_u(t) and, with
        # n_time_bins, an item bias per time bin b_{i,Bin(t)} (a row per item)
        drift = table(spec.n_users, 1, "user_drift")
        rating = rating + drift(user)[:, 0] * time_[:, 0]
        tables.append(Table(drift.embeddings, "user"))
        if p.n_time_bins:
            bins = table(spec.n_items, p.n_time_bins, "item_time_bias")
            bin_index = time_bins(time_[:, 1], p.n_time_bins, ops=k.ops)
            rating = rating + k.ops.sum(
                bins(item) * k.ops.one_hot(bin_index, p.n_time_bins), axis=-1)
            tables.append(Table(bins.embeddings, "item"))
        return k.Model(spec.model_inputs(), rating, name="funk_mf"), tables

    @classmethod
    def _fold_in_rows(cls, fold):
        """Each folded user's factors and bias: the ridge regression of its
        standardised ratings (less the item biases and, with side features,
        what the user's features predict) on the item factors (the item's
        features' included).

        The training loss gives a user with ratings r the penalty
        ``reg * sum_r w_r * (|p_u|^2 + b_u^2)`` (per-rating regularisation),
        so the ridge coefficient is ``reg`` times the user's weight. Solved
        for all folded users at once: one Gram product per user over its
        rows, then one batched solve.
        """
        model, folded, data = fold.model, fold.folded, fold.data
        state, users, items, target, weight, extra = (
            data.state, data.users, data.items, data.target, data.weight, data.extra)
        biased = state.params["biased"]
        timed = state.time is not None
        time_ = extra[0] if timed else None
        bags = dict(zip([side for side in ("user", "item")
                         if (state.features or {}).get(side) is not None],
                        zip(extra[timed::2], extra[timed + 1::2])))

        def values(name, index):
            return model.get_layer(name).embeddings.numpy().astype(np.float64)[index]

        def bag_sum(name, side):
            index, value = bags[side]
            return (values(name, index) * value[..., None]).sum(axis=1)

        design = values("item_embedding", items)
        if "item" in bags:
            design = design + bag_sum("item_feature_embedding", "item")
        if "user" in bags:
            # the user's feature factors are fixed: their share of the
            # rating is an offset, like the item bias
            target = target - (bag_sum("user_feature_embedding", "user") * design).sum(1)
        if biased:
            target = target - values("item_bias", items)[:, 0]
            for side in bags:
                target = target - bag_sum(f"{side}_feature_bias", side)[:, 0]
            design = np.hstack([design, np.ones((len(items), 1))])
        if timed:
            n_bins = state.params["n_time_bins"]
            if n_bins:
                # the item's bias in the rating's time bin, as the graph finds it
                bins = time_bins(time_[:, 1], n_bins)
                target = target - values("item_time_bias", items)[np.arange(len(items)),
                                                                   bins]
            # the user's drift alpha_u multiplies dev_u(t)
            design = np.hstack([design, time_[:, :1].astype(np.float64)])
        width = design.shape[1]
        slot = np.searchsorted(folded, users)  # position among the folded users
        order = np.argsort(slot, kind="stable")
        slot, design, target, weight = slot[order], design[order], target[order], weight[order]
        # each user's Gram matrix is one BLAS product over its (contiguous) rows
        bounds = np.searchsorted(slot, np.arange(len(folded) + 1))
        gram = np.zeros((len(folded), width, width))
        weighted = design * weight[:, None]
        for n, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            gram[n] = weighted[lo:hi].T @ design[lo:hi]
        rhs = np.zeros((len(folded), width))
        np.add.at(rhs, slot, weighted * target[:, None])
        total = np.bincount(slot, weights=weight, minlength=len(folded))
        ridge = max(float(state.params["reg"]), 1e-12) * np.maximum(total, 1e-12)
        from .._engine.solvers import batched_ridge

        # in float64: the exact optimum of each user's ridge
        solution = batched_ridge(gram, rhs, ridge).numpy().astype(np.float32)
        k = state.params["n_factors"]
        parts = {"user_embedding": solution[:, :k]}
        if biased:
            parts["user_bias"] = solution[:, k:k + 1]
        if timed:
            parts["user_drift"] = solution[:, -1:]
        return {model.get_layer(name).embeddings.path: rows for name, rows in parts.items()}

    @classmethod
    def from_factors(cls, user_ids, item_ids, user_factors, item_factors, *,
                     user_biases=None, item_biases=None, global_mean=0.0,
                     rating_range=None, seen=None, **params):
        """Build a fitted FunkMF from factors trained elsewhere.

        Factors from Spark MLlib's ALS, TorchRec or any other trainer become an
        ordinary skembrec estimator: ``predict`` (with the cold-start
        fallback), ``recommend``, ``similar_items``, ``save`` and further
        training with ``partial_fit`` or ``warm_start`` all work.

        Parameters
        ----------
        user_ids, item_ids : array-like of shape (n_users,), (n_items,)
            Raw ids, in the row order of the factor tables.
        user_factors, item_factors : array-like of shape (n_users, k), (n_items, k)
            The factor tables :math:`p_u` and :math:`q_i`, one row per id.
        user_biases, item_biases : array-like of shape (n_users,), (n_items,), default=None
            Biases; when both are None the model is unbiased (``biased=False``).
        global_mean : float, default=0.0
            The :math:`\\mu` added to every prediction.
        rating_range : tuple (low, high), default=None
            Clip predictions to this range; None disables clipping.
        seen : array-like of shape (n_ratings, 2), default=None
            (user, item) pairs already rated, excluded by ``recommend``.
        **params
            Further FunkMF parameters (e.g. for continued training).

        Returns
        -------
        model : FunkMF
            A fitted estimator with ``n_iter_ == 0``.

        Examples
        --------
        >>> import numpy as np
        >>> from skembrec import FunkMF
        >>> model = FunkMF.from_factors(["a", "b"], [10, 20, 30],
        ...                             np.eye(2), np.ones((3, 2)), global_mean=3.0)
        >>> model.predict([["a", 10], ["nobody", 20]])
        array([4., 3.])
        """
        import numpy as np

        from .._engine import runtime as _runtime
        from .._io.factors import factor_state

        user_factors = np.asarray(user_factors, dtype=np.float32)
        item_factors = np.asarray(item_factors, dtype=np.float32)
        if user_factors.ndim != 2 or item_factors.ndim != 2:
            raise ValueError("user_factors and item_factors must be 2-D tables")
        if user_factors.shape[1] != item_factors.shape[1]:
            raise ValueError(
                f"user and item factors differ in size: {user_factors.shape[1]} "
                f"vs {item_factors.shape[1]}")
        biased = user_biases is not None or item_biases is not None
        model = cls(n_factors=user_factors.shape[1], biased=biased,
                    clip_predictions=rating_range is not None, **params)
        tables = {"user_embedding": user_factors, "item_embedding": item_factors}
        if biased:
            for side, biases, n in (("user", user_biases, len(user_factors)),
                                    ("item", item_biases, len(item_factors))):
                tables[f"{side}_bias"] = np.asarray(
                    np.zeros(n) if biases is None else biases,
                    dtype=np.float32).reshape(-1, 1)
        state, values = factor_state(model, user_ids, item_ids, tables,
                                     global_mean=global_mean, rating_range=rating_range,
                                     seen=seen)
        model._install(state, _runtime.new(cls, state, np.random.RandomState(0)),
                       table_values=values)
        return model

    # the tables hold standardised ratings; the attributes are in rating
    # units, so that global_mean_ + b_u + b_i + p_u . q_i is the prediction
    def _rating_units(self, name, power=1.0):
        return self._table(name) * self._state.target.unit ** power

    @property
    def user_embeddings_(self):
        """User factors :math:`p_u`, shape ``(n_users_, n_factors)``, in ``user_ids_`` order."""
        return self._rating_units("user_embedding", 0.5)

    @property
    def item_embeddings_(self):
        """Item factors :math:`q_i`, shape ``(n_items_, n_factors)``, in ``item_ids_`` order."""
        return self._rating_units("item_embedding", 0.5)

    @property
    def user_biases_(self):
        """Learnt user biases :math:`b_u`, in ``user_ids_`` order."""
        return (self._rating_units("user_bias")[:, 0] if self._state.params["biased"]
                else _zeros(self.n_users_))

    @property
    def item_biases_(self):
        """Learnt item biases :math:`b_i`, in ``item_ids_`` order."""
        return (self._rating_units("item_bias")[:, 0] if self._state.params["biased"]
                else _zeros(self.n_items_))

    def _factored_scores(self, state):
        """``recommend``'s score as a product: ``(p_u + features) . (q_i + features)
        + b_i`` (+ the item's features' biases and, time-aware, its bias in the
        last time bin of fit); the user bias, the global mean and the drift
        ``alpha_u dev_u(t)`` are the same for every item of a user."""
        from .._engine.recommend import FactoredScores, feature_sum

        model = self._live().model
        features = state.features or {}
        n_items = len(state.item_vocab)
        items = np.arange(n_items)

        def table(name):
            return model.get_layer(name).embeddings.numpy()

        users, user_features = table("user_embedding"), None
        if features.get("user") is not None:
            user_features = table("user_feature_embedding")
        item_vectors = table("item_embedding")[:n_items]
        if features.get("item") is not None:
            item_vectors = item_vectors + feature_sum(
                features["item"], table("item_feature_embedding"), items)
        bias = None
        if state.params["biased"]:
            bias = table("item_bias")[:n_items, 0]
            if features.get("item") is not None:
                bias = bias + feature_sum(features["item"], table("item_feature_bias"),
                                          items)[:, 0]
        if state.time is not None and state.params["n_time_bins"]:
            # every item's bias in the bin of the last day of fit, as the graph
            # finds the bin
            n_bins = state.params["n_time_bins"]
            position = state.time.transform(np.array([state.time.last_day()]),
                                            np.zeros(1, np.int64))[0, 1]
            bin_ = time_bins([position], n_bins)[0]
            bins = table("item_time_bias")[:n_items, bin_]
            bias = bins if bias is None else bias + bins

        def user_vectors(index):
            vectors = users[index]
            if user_features is not None:
                vectors = vectors + feature_sum(features["user"], user_features, index)
            return vectors

        return FactoredScores(user_vectors, item_vectors, bias)


def _zeros(n):
    import numpy as np

    return np.zeros(n, dtype=np.float32)
