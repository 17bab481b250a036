"""EASE: the closed-form item-item model (Steck 2019), solved, not stepped."""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.metaestimators import available_if

from .._base import BaseEmbeddingModel
from .._engine.backend import keras, tf
from .._engine.recommend import FactoredScores, _check_n, _one_id
from .._engine.solvers import check_memory, solve_item_weights
from .._engine.targets import ScoreTarget
from .._engine.trainers.base import TrainingPath
from .._io.state import fitted_state
from .._sklearn_compat import Interval, InvalidParameterError
from ._mixins import RankingScoreMixin


def _never(estimator):
    return False


class EASE(RankingScoreMixin, BaseEmbeddingModel):
    """Embarrassingly shallow autoencoder: a closed-form item-item model for top-N.

    A model made for ``recommend``. The interactions form a user x item
    matrix :math:`X` (every rating of fit, or with ``relevance_threshold``
    every rating at least that high, is a 1; any other pair a 0), and the
    item-item weights solve

    .. math:: B = \\arg\\min_B \\|X - XB\\|_F^2 + \\lambda \\|B\\|_F^2
              \\quad \\text{s.t.} \\ \\mathrm{diag}(B) = 0,

    :math:`\\lambda` = ``l2``, in closed form: with
    :math:`P = (X^\\top X + \\lambda I)^{-1}`,
    :math:`B_{ji} = -P_{ji} / P_{ii}` for :math:`j \\ne i`. The score of
    user :math:`u` for item :math:`i` is :math:`s_{ui} = x_u^\\top B_{:,i}`,
    the user's interaction row times column :math:`i` of :math:`B`.

    With ``time_column``, the row :math:`x_u` that scores a user weighs
    each interaction by its recency (Notes): on a temporal protocol (each
    user's latest ratings are what is held out) the latest interactions
    say most about the next ones. :math:`B` is solved on the binary matrix
    either way.

    Parameters
    ----------
    l2 : float, default=300.0
        The ridge penalty :math:`\\lambda` on :math:`B` (see Notes for how
        the default was chosen). It counts in interactions: larger
        catalogues of more users take larger values.
    relevance_threshold : float, default=None
        Only ratings at least this high are interactions (e.g. 4 on a 1-5
        scale: recommended for star ratings); None makes every rated pair
        an interaction of value 1 (the rating itself is not used). Every
        rated item counts as seen (``recommend`` skips it) either way.
    time_column : str or int, default=None
        The column of ``X`` holding the time of each rating (epoch seconds
        or datetimes). None scores every interaction alike; with a column,
        each user's interactions are weighted by recency when the user is
        scored (``recency_half_life``).
    recency_half_life : float, default=5.0
        With ``time_column``: an interaction with :math:`r` newer
        interactions of the same user weighs
        :math:`f + (1 - f)\\, 2^{-r / h}` in the user's scoring row,
        :math:`h` = ``recency_half_life`` (in interactions, not days),
        :math:`f` = ``recency_floor``. Unused without ``time_column``.
    recency_floor : float, default=0.1
        The weight :math:`f` the oldest interactions keep (see
        ``recency_half_life``); 1 turns the recency weighting off.

    Attributes
    ----------
    item_weights_ : ndarray of shape (`n_items_`, `n_items_`)
        :math:`B`, float32: entry ``[j, i]`` is what an interaction with
        item ``j`` adds to the score of item ``i``; its diagonal is 0.
    n_users_, n_items_ : int
        Vocabulary sizes.
    user_ids_, item_ids_ : ndarray
        Raw ids in table order.
    history_ : dict
        ``{"loss": [objective], "val_loss": [None]}``: the objective
        :math:`\\|X - XB\\|_F^2 + \\lambda \\|B\\|_F^2` of the solve, per
        interaction.
    n_iter_ : int
        1 after a fit (one solve).
    model_ : keras.Model
        The graph; takes ``[user_index, item_index]`` (and the time
        features with ``time_column``, unused) and gives the score. It
        holds the users' interaction rows and :math:`B`.
    n_features_in_ : int
        Columns of ``X`` seen in fit.

    See Also
    --------
    ImplicitMF : A factorisation trained to rank, whose memory grows with
        ``n_items * n_factors`` rather than ``n_items ** 2``.
    PopularityRecommender : The most popular items, the floor of a ranking.

    Notes
    -----
    ``predict`` gives the score :math:`s_{ui}` itself: a ranking score, not
    a rating nor a probability (0 for an unknown user or item; an unknown
    user's ``recommend`` is therefore the items in table order). ``score``
    is the NDCG@10 of the model's top-10 against the rows of ``X`` (those
    at least ``relevance_threshold`` high), as
    :func:`skembrec.metrics.make_ranking_scorer` defines it.

    The solve is one Cholesky factorisation and inversion of the
    regularised Gram matrix :math:`X^\\top X + \\lambda I` in place
    (LAPACK ``potrf``/``potri`` through SciPy on a CPU, TensorFlow's
    Cholesky when a GPU is visible), in float32; where float32 Cholesky
    fails (a matrix too ill-conditioned for it) it is redone in float64.
    Accuracy check of float32: on MovieLens-1M's users 1-2999 (3,590
    items, ratings >= 4, ``l2=300``) the float32 :math:`B` differs from
    NumPy's float64 inverse by at most 3.5e-6 of its largest entry, and
    the test NDCG@10 of ``benchmarks/bench_ranking.py``'s protocol is the
    same to every printed digit (0.10419) with either. Memory: about
    ``12 * n_items**2`` bytes at the solve, and
    ``fit`` refuses a catalogue whose matrices would not fit in the
    available memory, before allocating them.

    ``fold_in`` scores new users (or replaces known users' rows) from
    their interactions with no refit: their scores are their rows
    (binarised by the fit's ``relevance_threshold``, recency-weighted with
    ``time_column``) times the fitted :math:`B`, exactly what fitting with
    them would give them for the same :math:`B`; every other user's scores
    stay bit-identical. A known user's row is replaced by the one of ``X``;
    the items they rated before stay seen. Ratings of items unknown to the
    fit, and ratings of weight 0, are left out. There is no
    ``partial_fit``: :math:`B` is solved from all the interactions at once;
    call ``fit`` again.

    Recency: :math:`r` counts a user's ratings of fit (all of them, also
    those below ``relevance_threshold``) strictly later than the rating,
    so ties in time weigh alike. ``l2``, ``recency_half_life`` and
    ``recency_floor`` were chosen on a temporal validation part of the
    training data (``benchmarks/bench_ranking.py``; each user's latest
    10% of the training ratings) of MovieLens-100K and the 1M subset, with
    ``relevance_threshold=4``: the recency weighting raised the validation
    NDCG@10 from 0.134 to 0.153 (100K) and from 0.099 to 0.148 (1M
    subset), weighting by days instead of by count barely helped (0.101 to
    0.104 on the 1M subset), and the best ``l2`` without it lay between 100
    (100K) and 700 (1M subset). Not kept: the rating's value as the
    interaction's weight (validation NDCG@10 0.140 against 0.137 on 100K,
    0.098 against 0.101 on the 1M subset), every rated pair as an
    interaction (0.128 and 0.087: hence ``relevance_threshold=4`` for star
    ratings), and EDLAE's dropout emphasis (Steck 2020; 0.138 against
    0.137 on 100K).

    References
    ----------
    H. Steck, "Embarrassingly Shallow Autoencoders for Sparse Data",
    WWW 2019.

    Examples
    --------
    >>> from skembrec import EASE
    >>> from skembrec.datasets import make_ratings
    >>> X, y = make_ratings(n_users=200, n_items=100, n_ratings=4000,
    ...                     random_state=0, return_X_y=True)
    >>> model = EASE(l2=50.0, relevance_threshold=4).fit(X, y)
    >>> model.recommend(X["user"].iloc[0], n=5).shape
    (5,)
    """

    _parameter_constraints = {
        "l2": [Interval(numbers.Real, 0, None, closed="neither")],
        "relevance_threshold": [Interval(numbers.Real, None, None, closed="neither"), None],
        "time_column": [str, numbers.Integral, None],
        "recency_half_life": [Interval(numbers.Real, 0, None, closed="neither")],
        "recency_floor": [Interval(numbers.Real, 0, 1, closed="both")],
    }
    _target = ScoreTarget
    _architecture = ("relevance_threshold", "time_column")
    _training_parameters = frozenset({"l2", "recency_half_life", "recency_floor"})
    _reads_ratings = True
    _reads_features = False

    def __init__(self, l2=300.0, *, relevance_threshold=None, time_column=None,
                 recency_half_life=5.0, recency_floor=0.1):
        self.l2 = l2
        self.relevance_threshold = relevance_threshold
        self.time_column = time_column
        self.recency_half_life = recency_half_life
        self.recency_floor = recency_floor

    # a closed form is solved from all the interactions at once
    partial_fit = available_if(_never)(BaseEmbeddingModel.partial_fit)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        return tags

    def _validate_params(self):
        super()._validate_params()
        for name in ("l2", "relevance_threshold", "recency_half_life", "recency_floor"):
            if isinstance(getattr(self, name), bool | np.bool_):
                raise InvalidParameterError(
                    f"The {name!r} parameter of EASE must be a number, got "
                    f"{getattr(self, name)!r} (a bool)")

    # -- the model's seams -----------------------------------------------------------
    @classmethod
    def _trainer_class(cls, params):
        return ClosedFormSolve

    @classmethod
    def _trainer_options(cls, params):
        return {"l2": params["l2"], "half_life": params["recency_half_life"],
                "floor": params["recency_floor"]}

    @classmethod
    def _fold_in_rows(cls, fold):
        """The scoring values of the folded graph: a folded user's from their
        ratings (binarised, recency-weighted with a time column, as a fit
        scores them), every other user's as fitted, bit for bit; :math:`B`
        stays as fitted."""
        data = fold.data
        params = data.state.params
        position = None
        if params["time_column"] is not None:
            # the fit's time scale, not clipped to its range: new users come later
            position = (fold.days - data.state.time.origin) / data.state.time.span
        rows = user_rows(data.state.ratings)
        values = scoring_values(rows, data.users, data.items, data.weight > 0, position,
                                params)
        fitted = fold.fitted.get_layer("ease")
        keys_before, keys_after = _pair_keys(scoring_rows(fitted)), _pair_keys(rows)
        at = np.minimum(np.searchsorted(keys_before, keys_after),
                        max(len(keys_before) - 1, 0))
        mine = np.isin(keys_after // rows.shape[1], fold.folded)
        if len(keys_before):
            values = np.where(mine, values, fitted.values.numpy()[at])
        return {fold.model.get_layer("ease").values.path: values.astype(np.float32)}

    @classmethod
    def _build_graph(cls, spec):
        k = keras()
        user, item, time = spec.inputs()
        ratings = spec.ratings
        if ratings is None:  # only while checking a file's shapes
            ratings = sp.csr_matrix((spec.n_items, spec.n_users), dtype=np.float32)
        check_memory(spec.n_items, 8, "to hold")
        layer = item_item_scores(spec.n_users, spec.n_items, user_rows(ratings), name="ease")
        inputs = [user, item] + ([time] if time is not None else [])
        return k.Model(inputs, layer([user, item]), name="ease"), []

    def _factored_scores(self, state):
        layer = self._layer()
        rows = self._scoring_rows()
        # one zero row more: the unknown user's
        rows = sp.vstack([rows, sp.csr_matrix((1, rows.shape[1]), dtype=np.float32)],
                         format="csr")

        def user_vectors(index):
            return rows[np.asarray(index, dtype=np.int64)].toarray()

        return FactoredScores(user_vectors, layer.item_weights.numpy().T)

    # -- fitted attributes -------------------------------------------------------------
    def _layer(self):
        return self.model_.get_layer("ease")

    def _scoring_rows(self):
        """The users' scoring rows (recency-weighted interactions), users x items CSR."""
        return scoring_rows(self._layer())

    @property
    def item_weights_(self):
        """:math:`B`, float32 ``(n_items_, n_items_)``: ``[j, i]`` is what an
        interaction with item ``j`` adds to the score of item ``i``."""
        fitted_state(self)
        return self._layer().item_weights.numpy()

    @property
    def user_embeddings_(self):
        raise AttributeError("EASE has no embeddings: a user is its row of interactions "
                             "(see item_weights_)")

    @property
    def item_embeddings_(self):
        raise AttributeError("EASE has no embeddings: see item_weights_")

    # -- prediction --------------------------------------------------------------------
    def predict(self, X):
        """The ranking score of each row's user for its item.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            :math:`x_u^\\top B_{:,i}`: higher ranks first; not a rating nor
            a probability. 0 for an unknown user or item.
        """
        return np.asarray(self._raw_predict(X), dtype=np.float64)

    def similar_items(self, item, n=10):
        """Return the ``n`` items whose interactions add most to ``item``'s score.

        The largest entries of column ``item`` of :math:`B`
        (``item_weights_``): the items whose interaction best predicts an
        interaction with ``item``.

        Parameters
        ----------
        item : hashable
            A raw item id seen in fit.
        n : int, default=10
            Number of items to return.

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, most similar first (``item`` itself excluded);
            ties in item table order.
        """
        state = self._fitted_state()
        n = _check_n(n)
        index = int(state.item_vocab.transform(_one_id(item))[0])
        n_items = len(state.item_vocab)
        if index >= n_items:
            raise ValueError(f"item {item!r} was not seen in fit")
        column = self._layer().item_weights[:, index].numpy().astype(np.float64)
        column[index] = -np.inf
        order = np.argsort(-column, kind="stable")[:min(n, n_items - 1)]
        return state.item_vocab.inverse_transform(order)


def _pair_keys(rows):
    """``user * n_items + item`` of every entry of a users x items CSR, in order."""
    users = np.repeat(np.arange(rows.shape[0], dtype=np.int64), np.diff(rows.indptr))
    return users * rows.shape[1] + rows.indices


def scoring_rows(layer):
    """The users' scoring rows of an :class:`ItemItemScores` ``layer``, users x
    items CSR (its values: 1, or recency weights)."""
    indptr, indices = (t.numpy() for t in layer.pattern)
    n_users = len(indptr) - 2
    return sp.csr_matrix((layer.values.numpy(), indices, indptr[:-1]),
                         shape=(n_users, layer.n_items))


def user_rows(ratings):
    """The users x items CSR (sorted, float32) of an items x users matrix."""
    rows = sp.csr_matrix(ratings.T, dtype=np.float32)
    rows.sort_indices()
    return rows


def scoring_values(rows, users, items, counted, position, params):
    """The scoring-row value of every entry of ``rows`` (users x items CSR):
    1, or with a time column its recency weight (see :class:`EASE`).

    ``users``, ``items`` and ``position`` (the time, increasing; None
    without one) describe the ratings; ``counted`` marks those that are
    interactions (the others count only in the recency ranks). Entries of
    ``rows`` without a rating here keep the value 1.
    """
    values = np.ones(rows.nnz, np.float32)
    if position is None or params["time_column"] is None or not rows.nnz or not len(users):
        return values
    users = np.asarray(users, np.int64)
    position = np.asarray(position, np.float64)
    # r = the user's ratings strictly later than this one (ties weigh alike):
    # in (user, time) order, the ratings after the last one of its time
    order = np.lexsort((position, users))
    sorted_users, sorted_position = users[order], position[order]
    starts = np.ones(len(users), bool)
    starts[1:] = (np.diff(sorted_users) != 0) | (np.diff(sorted_position) != 0)
    group_end = np.append(np.flatnonzero(starts)[1:], len(users))[np.cumsum(starts) - 1]
    later = np.empty(len(users), np.int64)
    later[order] = np.searchsorted(sorted_users, sorted_users, side="right") - group_end
    floor, half_life = params["recency_floor"], params["recency_half_life"]
    weight = floor + (1.0 - floor) * np.exp2(-later / half_life)
    # a pair rated twice takes the weight of its latest rating
    keys = users[counted] * rows.shape[1] + np.asarray(items, np.int64)[counted]
    weight = weight[counted]
    order = np.lexsort((weight, keys))
    keys, weight = keys[order], weight[order]
    last = np.append(keys[1:] != keys[:-1], True)
    keys, weight = keys[last], weight[last]
    entries = _pair_keys(rows)
    at = np.minimum(np.searchsorted(keys, entries), max(len(keys) - 1, 0))
    found = (keys[at] == entries) if len(keys) else np.zeros(len(entries), bool)
    values[found] = weight[at[found]]
    return values


def item_item_scores(*args, **kwargs):
    """An :class:`ItemItemScores` layer (the class is made when Keras is first needed)."""
    cls = _LAYER.get("class")
    if cls is None:
        cls = _LAYER["class"] = _define_layer(keras())
    return cls(*args, **kwargs)


_LAYER = {}


def _define_layer(k):
    class ItemItemScores(k.layers.Layer):
        """EASE's score ``x_u . B[:, i]`` for (user, item) pairs.

        Holds the users' rows of interactions as a CSR pattern (constants, one
        more empty row for unknown users), their scoring values (a variable:
        1, or recency weights) and ``B`` (a variable, ``(n_items, n_items)``).
        An unknown item scores 0.
        """

        def __init__(self, n_users, n_items, rows, **kwargs):
            super().__init__(dtype="float32", **kwargs)  # float32 under any policy
            tf_ = tf()
            self.n_users, self.n_items = int(n_users), int(n_items)
            indptr = np.append(rows.indptr, rows.indptr[-1]).astype(np.int64)
            self.pattern = (tf_.constant(indptr), tf_.constant(rows.indices.astype(np.int64)))
            self.nnz = int(rows.nnz)

        def build(self, input_shape):
            self.values = self.add_weight(shape=(self.nnz,), initializer="ones",
                                          trainable=False, name="scoring_values")
            self.item_weights = self.add_weight(shape=(self.n_items, self.n_items),
                                                initializer="zeros", trainable=False,
                                                name="item_weights")

        def call(self, inputs):
            tf_ = tf()
            user, item = (tf_.cast(x, tf_.int64) for x in inputs[:2])
            indptr, columns = self.pattern
            ranges = tf_.ragged.range(tf_.gather(indptr, user), tf_.gather(indptr, user + 1))
            positions, pair = ranges.flat_values, ranges.value_rowids()
            own = tf_.gather(columns, positions)
            target = tf_.gather(item, pair)
            known = target < self.n_items
            weights = tf_.gather_nd(self.item_weights.value, tf_.stack(
                [own, tf_.minimum(target, self.n_items - 1)], axis=1))
            terms = tf_.where(known, tf_.gather(self.values.value, positions) * weights, 0.0)
            return tf_.math.unsorted_segment_sum(terms, pair, tf_.size(user, tf_.int64))

    return ItemItemScores


class ClosedFormSolve(TrainingPath):
    """EASE's training path: one ``run_epoch`` solves ``B`` and writes it into
    the graph, with the users' scoring values.

    Parameters
    ----------
    model : keras.Model
        EASE's graph (a layer named ``"ease"``).
    tables : list
        Unused (EASE has no embedding tables).
    loss : str
        Unused: the objective is EASE's own.
    l2 : float
        :math:`\\lambda`.
    half_life, floor : float
        The recency weighting of the scoring rows (with a time column).
    """

    validates = False

    def __init__(self, model, tables, *, loss, l2, half_life, floor):
        self.model = model
        self.layer = model.get_layer("ease")
        self.l2 = float(l2)
        self.recency = {"recency_half_life": half_life, "recency_floor": floor}

    def prepare(self, data):
        state = data.state
        rows = user_rows(state.ratings)
        params = {**state.params, **self.recency}
        position = data.extra[0][:, 1] if state.params["time_column"] is not None else None
        values = scoring_values(rows, data.users, data.items, data.weight > 0, position,
                                params)
        return (rows, values), None

    def run_epoch(self, prepared, epoch):
        rows, values = prepared
        self.layer.values.assign(values)
        binary = rows.copy()
        binary.data[:] = 1.0
        weights, objective = solve_item_weights(binary, self.l2)
        self.layer.item_weights.assign(weights)
        return objective / max(rows.nnz, 1)
