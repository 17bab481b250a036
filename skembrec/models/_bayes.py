"""BayesianMF: a factorisation model sampled by Gibbs sampling, as a Keras graph."""

import numbers

import numpy as np
from scipy.special import ndtr
from sklearn.utils.metaestimators import available_if

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.targets import OrdinalTarget, RegressionTarget, softmax
from .._engine.training import Table
from .._input.time import time_bins
from .._sklearn_compat import Interval, StrOptions
from ._mixins import RatingRegressorMixin
from ._params import fill_doc


def _never(estimator):
    return False


@fill_doc
class BayesianMF(RatingRegressorMixin, BaseEmbeddingModel):
    """Bayesian matrix factorisation with side features, fitted by Gibbs sampling.

    The model of a Bayesian factorisation machine restricted to user-item
    interactions (BPMF with the implicit and attribute terms of SVD++ and
    SVDFeature):

    .. math:: \\hat r_{ui} = \\mu + b(u) + b(i) + p(u)^\\top q(i), \\qquad
              [b(u), p(u)] = [b_u, p_u] + |N(u)|^{-1/2} \\sum_{j \\in N(u)} [c_j, y_j]
              + \\sum_{f \\in F(u)} x_{uf} [b_f, p_f]

    (with a date group, plus :math:`b_t + v_t^\\top (p(u) + q(i))` for the
    rating's time bin :math:`t`, see ``n_time_bins``) and the same for
    items: an id's own bias and factors, the "who rated
    what" term (``implicit``: :math:`N(u)` the items ``u`` rated in fit;
    for an item, the users who rated it) and its side features
    :math:`F(u)` (``user_features``, ``item_features``, valued as in
    :class:`FunkMF`). Every group of rows (the ids, the implicit rows, each
    feature column) has a Normal prior whose mean and precision per factor
    have a Normal-Gamma hyperprior, and the noise precision a Gamma prior:
    there is no ``reg`` or ``learning_rate`` to tune. Each epoch is one Gibbs
    sweep in TensorFlow ops, which draws every parameter from its posterior
    given the rest (see :mod:`skembrec._engine.trainers.gibbs`). The prediction is the
    posterior mean over ``n_kept_samples`` draws spread evenly over the
    sweeps after ``n_burn_in``, and :meth:`predict_std` is their spread.

    Parameters
    ----------
    n_factors : int, default=${n_factors}
        Factors per draw.
    n_epochs : int, default=${n_epochs}
        Gibbs sweeps.
    n_burn_in : int, default=${n_burn_in}
        Sweeps at the start whose draws are not kept.
    n_kept_samples : int, default=${n_kept_samples}
        Draws kept for the posterior mean, the last sweep's and evenly
        spaced ones before it (at most ``n_epochs - n_burn_in``). The
        fitted tables hold them side by side: ``n_factors * n_kept_samples``
        columns per id.
    implicit : bool, default=${implicit}
        Add each side's "who rated what" term, built from the ratings of
        the fit (never from the pairs a prediction asks for).
    init_std : float, default=${init_std}
        Standard deviation of the initial factors.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampler; an int makes fits reproducible on a CPU.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over sweeps, 2 prints one line
        per sweep.
    clip_predictions : bool, default=True
        Clip predictions to the rating range seen in fit.
    time_column : str, int or None, default=None
        The column of ``X`` holding each rating's date (epoch seconds, or
        datetimes), by name (DataFrame) or position, after the two id
        columns; read through the date group (``n_time_bins``), which it
        needs. ``None`` ignores time.
    ${features}
    solver : {"coordinate", "blocked"}, default="coordinate"
        How a sweep draws the parameters (both target the same posterior,
        and the prediction means the same). ``"coordinate"``: one factor
        column at a time with the residuals kept up to date, as libFM's and
        myFM's MCMC (:mod:`skembrec._engine.trainers.coordinate`).
        ``"blocked"``: each id's bias and factors jointly, by a batched
        Cholesky factorisation per group
        (:mod:`skembrec._engine.trainers.gibbs`), the earlier default, whose
        per-rating :math:`k^2` terms cost more as ``n_factors`` grows. A
        training setting: changing it keeps the fitted model until the next
        ``fit``.
    output : {"regression", "ordinal"}, default="regression"
        The likelihood of a rating. ``"regression"``: Gaussian noise around
        the prediction. ``"ordinal"``: the rating levels seen in fit as
        ordered classes, an ordered probit (a latent Gaussian rating cut by
        sampled cut points, Albert and Chib's augmentation; see
        :mod:`skembrec._engine.trainers.probit`): ``predict`` is the
        posterior mean rating (the expected rating under the predicted
        distribution, which minimises the squared error),
        :meth:`predict_proba` the posterior mean distribution over
        ``classes_``. For star ratings; ``y`` of more than 50 levels is
        refused.
    n_time_bins : int, default=0
        With ``time_column``: a date group of this many equal time bins of
        the fit's date range (one per day: the range in days, 215 for
        MovieLens-100K). The rating's bin has a bias and factors that meet
        both sides' (:math:`+\\, b_t + v_t^\\top (p(u) + q(i))`, as a date
        feature of a factorisation machine), drawn with the rest. A date at
        or after the fit's last instant is unseen and gets the group's prior
        mean (the average date; with dates by the day, the last day of fit
        too), as does ``recommend``, which ranks as of then; a date before
        the fit's range counts as its first bin. 0 leaves the date out.
        ``solver="coordinate"`` only.

    Attributes
    ----------
    global_mean_ : float
        The weighted mean rating of the fit data (:math:`\\mu`).
    rating_range_ : tuple of float
        (min, max) rating seen in fit; predictions are clipped to it.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    user_embeddings_, item_embeddings_ : ndarray of shape (n_ids, n_factors * n_kept_samples)
        Each id's factors (its own, its implicit term's) of every kept
        draw side by side, scaled by ``n_kept_samples ** -0.5``: their dot
        product is the posterior mean of :math:`p(u)^\\top q(i)` without the
        features' share.
    user_biases_, item_biases_ : ndarray of shape (n_ids,)
        The posterior mean of each id's bias (its implicit term's included).
    classes_ : ndarray
        The rating levels, sorted (``output="ordinal"`` only).
    feature_kinds_ : dict
        The kind of each side-feature column, read from the fit data.
    history_ : dict
        ``{"loss": [...], "val_loss": [...]}``: each sweep's mean squared
        error on the training ratings (standardised), no validation loss.
    n_iter_ : int
        Sweeps run.
    model_ : keras.Model
        The graph: the kept draws' tables and the posterior-mean prediction.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    FunkMF : The same prediction, fitted by regularised gradient steps.

    Notes
    -----
    Cold start: an unknown user or item (or a missing id) has no id or
    implicit term; with side features it is predicted from them, on top of
    the ids' prior mean (the features are the regression of the ids' terms
    on their attributes, drawn so: an attribute's effect moves between the
    ids and the features in one sweep), and from the global mean
    otherwise. ``fold_in``, ``partial_fit``, warm starts, early
    stopping and fits from shards are not available: the sampler starts
    afresh at every ``fit``.

    The data are held in memory. A blocked sweep costs
    :math:`O(\\mathrm{nnz} \\cdot k^2)` for the ratings and the implicit
    rows, and memory :math:`O(\\mathrm{nnz} \\cdot k^2)` floats for the
    per-rating Gram terms; a coordinate-wise sweep
    :math:`O(\\mathrm{nnz} \\cdot k)` and memory :math:`O(\\mathrm{nnz} \\cdot k)`.

    References
    ----------
    R. Salakhutdinov, A. Mnih, "Bayesian Probabilistic Matrix Factorization
    using Markov Chain Monte Carlo", ICML 2008. S. Rendle, "Factorization
    Machines with libFM", ACM TIST 2012. Y. Koren, "Factorization meets the
    neighborhood", KDD 2008 (the implicit term).

    Examples
    --------
    >>> from skembrec import BayesianMF
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = BayesianMF(n_epochs=30, n_burn_in=10, n_kept_samples=10,
    ...                    random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> model.predict_std(X[:3]).shape
    (3,)
    """

    _doc_time_effect = ""
    _doc_feature_effect = (
        "gives each feature column its own group of rows, drawn with the ids' "
        "(see the model above)")

    _parameter_constraints = {
        **BaseEmbeddingModel._parameter_constraints,
        "n_burn_in": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_kept_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "implicit": ["boolean"],
        "clip_predictions": ["boolean"],
        "solver": [StrOptions({"coordinate", "blocked"})],
        "output": [StrOptions({"regression", "ordinal"})],
        "n_time_bins": [Interval(numbers.Integral, 0, None, closed="left")],
    }
    # which sampler draws the parameters: a training setting, as MLPRegressor's
    _training_parameters = BaseEmbeddingModel._training_parameters | {"solver"}
    # the files written before the coordinate-wise sampler were sampled blocked
    _since = {**BaseEmbeddingModel._since, "solver": "blocked", "output": "regression",
              "n_time_bins": 0}

    # the sampler starts afresh at every fit and has no validation split:
    # what the base reads of these is fixed
    warm_start = False
    early_stopping = False

    def __init__(
        self,
        n_factors=10,
        *,
        n_epochs=200,
        n_burn_in=20,
        n_kept_samples=60,
        implicit=True,
        init_std=0.1,
        random_state=None,
        verbose=0,
        clip_predictions=True,
        time_column=None,
        user_features=None,
        item_features=None,
        feature_separator="|",
        solver="coordinate",
        output="regression",
        n_time_bins=0,
    ):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.n_burn_in = n_burn_in
        self.n_kept_samples = n_kept_samples
        self.implicit = implicit
        self.init_std = init_std
        self.random_state = random_state
        self.verbose = verbose
        self.clip_predictions = clip_predictions
        self.time_column = time_column
        self.user_features = user_features
        self.item_features = item_features
        self.feature_separator = feature_separator
        self.solver = solver
        self.output = output
        self.n_time_bins = n_time_bins

    _architecture = ("n_factors", "n_kept_samples", "time_column", "n_time_bins",
                     "user_features", "item_features", "feature_separator", "output")

    @classmethod
    def _target_class(cls, params):
        return OrdinalTarget if params["output"] == "ordinal" else RegressionTarget

    @classmethod
    def _trainer_class(cls, params):
        if params["solver"] == "coordinate":
            from .._engine.trainers.coordinate import CoordinateSampler

            return CoordinateSampler
        from .._engine.trainers.gibbs import GibbsSampler

        return GibbsSampler

    @classmethod
    def _trainer_options(cls, params):
        return {"n_factors": params["n_factors"], "implicit": params["implicit"],
                "init_std": params["init_std"], "kept": kept_sweeps(params),
                "n_time_bins": params["n_time_bins"]}

    partial_fit = available_if(_never)(BaseEmbeddingModel.partial_fit)

    def _validate_params(self):
        super()._validate_params()
        name = type(self).__name__
        if self.n_kept_samples > self.n_epochs - self.n_burn_in:
            raise ValueError(
                f"{name} keeps n_kept_samples={self.n_kept_samples} draws of the "
                f"n_epochs - n_burn_in = {self.n_epochs - self.n_burn_in} sweeps after "
                "the burn-in: lower n_kept_samples or n_burn_in, or raise n_epochs")
        if (self.time_column is None) != (self.n_time_bins == 0):
            raise ValueError(
                f"{name} reads the rating date through a date group: time_column names "
                "the date and n_time_bins >= 1 its bins, both or neither (got "
                f"time_column={self.time_column!r}, n_time_bins={self.n_time_bins!r})")
        if self.n_time_bins and self.solver != "coordinate":
            raise ValueError(f"{name}(solver={self.solver!r}) draws no date group: "
                             "n_time_bins needs solver='coordinate'")

    @classmethod
    def _build_graph(cls, spec):
        from .._engine.layers import SparseEmbedding, feature_bag

        k = keras()
        p = spec.params
        user, item, time_ = spec.inputs()
        samples = p.n_kept_samples

        def table(n, dim, name):
            # float32 whatever the Keras dtype policy; the sampler fills them
            return SparseEmbedding(n + 1, dim, embeddings_initializer="zeros", name=name,
                                   dtype="float32")

        vectors, biases, tables = {}, {}, []
        for side, ids, n in (("user", user, spec.n_users), ("item", item, spec.n_items)):
            factors = table(n, p.n_factors * samples, f"{side}_embedding")
            bias = table(n, samples, f"{side}_bias")
            vectors[side], biases[side] = factors(ids), bias(ids)
            bag = spec.feature_inputs(side)
            # with features, an unknown id's row is the ids' prior mean, the
            # level the features' effects are drawn from (the sampler's)
            unknown = "zero" if bag is None else "trained"
            tables += [Table(factors.embeddings, side, unknown),
                       Table(bias.embeddings, side, unknown)]
            if bag is not None:
                index, value, n_tokens = bag
                features = table(n_tokens, p.n_factors * samples, f"{side}_feature_embedding")
                feature_bias = table(n_tokens, samples, f"{side}_feature_bias")
                vectors[side] = vectors[side] + feature_bag(index, value, features)
                biases[side] = biases[side] + feature_bag(index, value, feature_bias)
                tables += [Table(features.embeddings, f"{side}_features"),
                           Table(feature_bias.embeddings, f"{side}_features")]
        products = vectors["user"] * vectors["item"]
        date_bias = None
        if p.n_time_bins:
            # the date group: the rating's time bin, its bias and factors,
            # which interact with both sides (as a date feature of an FM); a
            # date at or after the fit's last instant is unseen: the last row,
            # the group's prior mean (time_bins)
            n_bins = p.n_time_bins
            bins = time_bins(time_[:, 1], n_bins, unseen=True, ops=k.ops)
            date = SparseEmbedding(n_bins + 1, p.n_factors * samples, name="date_embedding",
                                   embeddings_initializer="zeros", dtype="float32")(bins)
            products = products + date * (vectors["user"] + vectors["item"])
            date_bias = SparseEmbedding(n_bins + 1, samples, name="date_bias",
                                        embeddings_initializer="zeros", dtype="float32")(bins)
        if p.output == "ordinal":
            from .._engine.layers import ProbitDraws

            # each draw's linear predictor (the factor blocks carry
            # 1/sqrt(samples) each), then the draws' mean distribution
            draws = samples * k.ops.sum(k.ops.reshape(products, (-1, samples, p.n_factors)),
                                        axis=-1) + biases["user"] + biases["item"]
            if date_bias is not None:
                draws = draws + date_bias
            output = ProbitDraws(samples, spec.target.n_classes, name="cutpoints",
                                 dtype="float32")(draws)
            return k.Model(spec.model_inputs(), output, name="bayesian_mf"), tables
        # the mean over the draws: the factor blocks carry 1/sqrt(samples) each
        bias = biases["user"] + biases["item"]
        if date_bias is not None:
            bias = bias + date_bias
        rating = k.ops.sum(products, axis=-1) + k.ops.mean(bias, axis=-1)
        return k.Model(spec.model_inputs(), rating, name="bayesian_mf"), tables

    def _is_ordinal(self):
        # the fit's output once fitted (changing the parameter keeps the fit)
        state = vars(self).get("_state")
        params = self.get_params(deep=False) if state is None else state.params
        return params["output"] == "ordinal"

    @property
    def classes_(self):
        """The rating levels of an ``output="ordinal"`` fit, sorted
        (``AttributeError`` for a regression fit)."""
        state = self._fitted_state()
        if state.params["output"] != "ordinal":
            raise AttributeError("classes_: BayesianMF(output='regression') has no "
                                 "classes; fit it with output='ordinal'")
        return state.target.classes

    @available_if(_is_ordinal)
    def predict_proba(self, X):
        """The posterior mean distribution over ``classes_`` (``output="ordinal"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The mean over the kept draws of each rating level's probability.
        """
        return softmax(self._raw_predict(X))

    def predict_std(self, X):
        """The posterior standard deviation of each prediction.

        The spread of the kept draws' predictions (each draw's
        :math:`\\mu + b(u) + b(i) + p(u)^\\top q(i)`, with a date group plus
        its bin's :math:`b_t + v_t^\\top (p(u) + q(i))`) around their mean,
        ``predict``'s value before clipping: the model's uncertainty about
        the expected rating, without the noise of a single rating. With
        ``output="ordinal"``, each draw's prediction is its expected rating
        under its cut points.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        std : ndarray of shape (n_samples,)
            In rating units.
        """
        state = self._fitted_state()
        users, items, extra = self._encode_rows(X)
        extra = list(extra)
        time_ = extra.pop(0) if state.time is not None else None
        samples = state.params["n_kept_samples"]
        draws = 0.0
        sides = {}
        for side, codes in (("user", users), ("item", items)):
            factors = self._full_table(f"{side}_embedding")[codes]
            bias = self._full_table(f"{side}_bias")[codes]
            if (state.features or {}).get(side) is not None:
                index, value = extra.pop(0), extra.pop(0)
                weights = value[..., None].astype(np.float64)
                factors = factors + (self._full_table(f"{side}_feature_embedding")[index]
                                     * weights).sum(axis=1)
                bias = bias + (self._full_table(f"{side}_feature_bias")[index]
                               * weights).sum(axis=1)
            draws = draws + bias
            sides[side] = factors.reshape(len(codes), samples, -1)
        draws = draws + samples * np.einsum("nsk,nsk->ns", sides["user"], sides["item"])
        n_bins = state.params["n_time_bins"]
        if n_bins:
            bins = time_bins(time_[:, 1], n_bins, unseen=True)
            date = self._full_table("date_embedding")[bins].reshape(len(bins), samples, -1)
            draws = draws + self._full_table("date_bias")[bins] + samples * np.einsum(
                "nsk,nsk->ns", date, sides["user"] + sides["item"])
        if state.params["output"] == "ordinal":
            # each draw's expected rating under its cut points
            cut = self._live().model.get_layer("cutpoints").cutpoints.numpy()
            below = ndtr(cut[None].astype(np.float64) - draws[:, :, None])
            gaps = np.diff(np.concatenate([np.zeros_like(below[:, :, :1]), below,
                                           np.ones_like(below[:, :, :1])], axis=2), axis=2)
            draws = gaps @ state.target.classes.astype(np.float64)
        return draws.std(axis=1) * state.target.unit

    def _full_table(self, name):
        return self._live().model.get_layer(name).embeddings.numpy().astype(np.float64)

    # in rating units, as FunkMF's
    @property
    def user_embeddings_(self):
        """Each user's kept draws of factors, side by side (see the class docstring)."""
        return self._table("user_embedding") * self._state.target.unit ** 0.5

    @property
    def item_embeddings_(self):
        """Each item's kept draws of factors, side by side (see the class docstring)."""
        return self._table("item_embedding") * self._state.target.unit ** 0.5

    @property
    def user_biases_(self):
        """The posterior mean of each user's bias, in ``user_ids_`` order."""
        return self._table("user_bias").mean(axis=1) * self._state.target.unit

    @property
    def item_biases_(self):
        """The posterior mean of each item's bias, in ``item_ids_`` order."""
        return self._table("item_bias").mean(axis=1) * self._state.target.unit

    def _factored_scores(self, state):
        if state.params["output"] == "ordinal":
            # the expected rating is not a product: scored through the graph
            return None
        return self._factored_regression_scores(state)

    def _factored_regression_scores(self, state):
        """``recommend``'s score as a product: the kept draws' factors side by
        side (features included), and each item's bias averaged over the draws
        (the users' are the same for all of a user's items)."""
        from .._engine.recommend import FactoredScores, feature_sum

        model = self._live().model
        features = state.features or {}
        n_items = len(state.item_vocab)
        items = np.arange(n_items)

        def table(name):
            return model.get_layer(name).embeddings.numpy()

        item_vectors = table("item_embedding")[:n_items]
        draws = table("item_bias")[:n_items]
        if features.get("item") is not None:
            item_vectors = item_vectors + feature_sum(
                features["item"], table("item_feature_embedding"), items)
            draws = draws + feature_sum(features["item"], table("item_feature_bias"), items)
        users = table("user_embedding")
        user_features = (table("user_feature_embedding") if features.get("user") is not None
                         else None)
        n_bins = state.params["n_time_bins"]
        if n_bins:
            # as of the last day of fit, as the graph ranks: the date's
            # factors meet the item's (the rest is the same for every item)
            position = state.time.transform(np.array([state.time.last_day()]),
                                            np.zeros(1, np.int64))[0, 1]
            users = users + table("date_embedding")[time_bins([position], n_bins,
                                                              unseen=True)[0]]

        def user_vectors(index):
            vectors = users[index]
            if user_features is not None:
                vectors = vectors + feature_sum(features["user"], user_features, index)
            return vectors

        return FactoredScores(user_vectors, item_vectors, draws.mean(axis=1))


def kept_sweeps(params):
    """The sweeps (0-based) whose draws are kept: the last, and evenly
    spaced ones before it after the burn-in."""
    n_epochs, n_burn_in = params["n_epochs"], params["n_burn_in"]
    samples = params["n_kept_samples"]
    step = (n_epochs - n_burn_in) // samples
    return [n_epochs - 1 - step * s for s in range(samples)][::-1]
