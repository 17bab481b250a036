"""The shared estimator base: everything except a model's graph and target.

The subclass contract
---------------------
A model class says three things and nothing else:

``_build_graph(cls, spec)`` (a classmethod)
    Its Keras graph, built from ``spec`` (a :class:`GraphSpec`: the fitted
    parameters, the target encoder, the vocabulary sizes, seeds and the
    graph's inputs). It returns ``(model, tables)``, the tables being the
    :class:`~skembrec._training.Table` s the trainer updates sparsely. Being
    a classmethod, it cannot read the estimator's current parameters: a
    graph is always the graph of the fit.
``_target``
    Its target encoder class (:mod:`skembrec._targets`): how ``y`` becomes
    training targets, which loss, and how outputs rank items.
``_architecture``
    The parameters that shape the graph. After a change to one of them,
    ``fit`` with ``warm_start=True`` starts from scratch and ``partial_fit``
    raises a ``ValueError``; every other parameter is a training setting
    that warm start and ``partial_fit`` honour as they are now.

The fitted state
----------------
Everything a fit decides is one :class:`FittedState` (plain Python and
NumPy: parameters, vocabularies, target encoder, time statistics, rated
pairs, weights, optimizer slots, history). It is put together in one place,
:meth:`BaseEmbeddingModel._install`, by ``fit``, shard fits, ``from_factors``
and ``load``; the public fitted attributes are properties that read it. The
live Keras objects sit beside it in a :class:`_Runtime` that is rebuilt from
the state after unpickling or loading. ``set_params`` changes neither.
"""

import copy
import dataclasses
import numbers
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from . import _persistence, _validation
from ._backend import keras, tf
from ._sklearn_compat import Interval, StrOptions
from ._state import FittedState, merge_seen
from ._targets import RegressionTarget
from ._training import (
    MAX_SEED,
    OPTIMIZERS,
    Trainer,
    fill_unknown_rows,
    run_epochs,
    split_validation,
    to_tensors,
)
from ._version import __version__
from ._vocab import IdVocabulary

_PREDICT_CHUNK = 1 << 18

# the parameters that neither shape nor enter the graph
TRAINING_PARAMETERS = frozenset({
    "n_epochs", "batch_size", "learning_rate", "reg", "optimizer", "early_stopping",
    "validation_fraction", "n_iter_no_change", "tol", "random_state", "verbose",
    "warm_start",
})
# the parameters only predict reads (they take effect at the next fit)
PREDICTION_PARAMETERS = frozenset({"clip_predictions", "decision"})

_REGISTRY = {}


class GraphSpec:
    """What a model's ``_build_graph`` may read.

    Attributes
    ----------
    params : SimpleNamespace
        The parameters of the fit (never the estimator's current ones).
    target : object
        The fitted target encoder (``mean``/``scale`` or ``n_classes``).
    n_users, n_items : int
        Vocabulary sizes; tables have one more row, for unknown ids.
    """

    def __init__(self, params, target, n_users, n_items, rng):
        self.params = SimpleNamespace(**params)
        self.target = target
        self.n_users = n_users
        self.n_items = n_items
        self._rng = rng

    def seed(self):
        """A fresh integer seed for an initialiser or a dropout layer."""
        return int(self._rng.randint(MAX_SEED))

    def inputs(self):
        """Keras inputs ``(user, item, time)``; ``time`` is None unless the
        model is time-aware, else the ``(n, 2)`` features of :mod:`._time`."""
        k = keras()
        user = k.Input(shape=(), dtype="int32", name="user")
        item = k.Input(shape=(), dtype="int32", name="item")
        time_ = None
        if self.params.time_column is not None:
            time_ = k.Input(shape=(2,), dtype="float32", name="time")
        return user, item, time_


class _Runtime:
    """Live, unpicklable Keras/TensorFlow objects of one fitted estimator."""

    def __init__(self, model=None, tables=None, built_with=None):
        self.model = model
        self.tables = tables
        self.built_with = built_with
        self.trainer = None
        self.predict_fn = None


class BaseEmbeddingModel(BaseEstimator):
    """Base class of skembrec's estimators. Not for direct use.

    See the module docstring for what a subclass provides.
    """

    _parameter_constraints = {
        "n_factors": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "reg": [Interval(numbers.Real, 0, None, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "init_std": [Interval(numbers.Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "time_column": [str, numbers.Integral, None],
    }
    _target = RegressionTarget
    _architecture = ("n_factors", "time_column")
    _partial_fit_params = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    @classmethod
    def _build_graph(cls, spec):
        """Return ``(model, tables)`` for ``spec`` (see the module docstring)."""
        raise NotImplementedError

    # -- scikit-learn API -------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to ratings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or RatingShards
            Column 0 holds user ids, column 1 item ids (any hashable values);
            further columns are ignored unless a parameter names them. A
            :class:`~skembrec.datasets.RatingShards` folder streams the ratings
            from disk instead (then ``y`` is None).
        y : array-like of shape (n_samples,)
            The ratings.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each rating in the loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        if _is_shards(X):
            return self._fit_shards(X, y, sample_weight)
        return self._fit(X, y, sample_weight, n_epochs=self.n_epochs,
                         resume=self.warm_start, partial=False)

    def partial_fit(self, X, y, sample_weight=None, **fit_params):
        """Train exactly one more epoch on ``(X, y)``, keeping what was learnt.

        The first call initialises the model as :meth:`fit` would. Ids not
        seen before are added to the vocabularies (their table rows start
        from the initialiser). The current training settings (learning
        rate, optimizer, batch size, ``reg``) apply; a changed architectural
        parameter raises a ``ValueError``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in :meth:`fit`.
        y : array-like of shape (n_samples,)
            The ratings.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each rating in the loss.
        **fit_params : dict
            ``classes`` for :class:`~skembrec.EmbeddingClassifier`.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        self._validate_params()
        unexpected = sorted(set(fit_params) - set(self._partial_fit_params))
        if unexpected:
            raise TypeError(f"unexpected arguments {unexpected}")
        if _is_shards(X):
            raise TypeError("partial_fit takes in-memory ratings; fit() streams shards")
        return self._fit(X, y, sample_weight, n_epochs=1, resume=True, partial=True,
                         **fit_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # ids are categorical values, not measurements
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        # fit rejects NaN ids; at predict time a missing id gets the
        # cold-start fallback (see check_estimators_nan_inf in the tests)
        tags.input_tags.allow_nan = False
        tags.target_tags.required = True
        return tags

    def __sklearn_is_fitted__(self):
        return "_state" in vars(self)

    # -- fitting -------------------------------------------------------------
    def _changed_architecture(self, fitted, current):
        return [p for p in self._architecture if fitted.get(p) != current.get(p)]

    def _fit(self, X, y, sample_weight, *, n_epochs, resume, partial, **target_params):
        # the fit's own copy: mutating a list parameter later changes nothing
        params = {k: v if k == "random_state" else copy.deepcopy(v)
                  for k, v in self.get_params(deep=False).items()}
        old = vars(self).get("_state")
        if resume and old is not None:
            changed = self._changed_architecture(old.params, params)
            if changed and partial:
                raise ValueError(
                    f"partial_fit cannot continue this fit: {', '.join(changed)} "
                    "changed since the model was fitted (the graph would change); "
                    "call fit() to start from scratch, or set the fitted values back")
            resume = not changed  # fit(warm_start=True) after a change starts afresh
        else:
            resume = False
        # a fit that raises (bad input, KeyboardInterrupt, a diverging loss)
        # leaves the estimator exactly as it was before the call
        previous = dict(vars(self))
        if resume:
            snapshot = self._current_values()
        try:
            table = _validation.check_X(self, X, reset=not resume)
            users_raw, items_raw = table.ids("user", fitting=True), table.ids("item", fitting=True)
            n_samples = table.n_rows
            y = self._target.check(y, n_samples, **target_params)
            weight = _validation.check_sample_weight(sample_weight, n_samples)
            rng = check_random_state(self.random_state)
            if resume:
                target = old.target.update(old.target.encode(y))
                state = dataclasses.replace(
                    old, params=params, target=target,
                    user_vocab=old.user_vocab.extended(users_raw, name="user id"),
                    item_vocab=old.item_vocab.extended(items_raw, name="item id"),
                    time=copy.deepcopy(old.time), history=copy.deepcopy(old.history),
                    weights=None, optimizer=None)
            else:
                target = self._target.fit(y, weight, **target_params)
                state = FittedState(
                    params=params, target=target,
                    user_vocab=IdVocabulary.fit(users_raw, name="user id")[0],
                    item_vocab=IdVocabulary.fit(items_raw, name="item id")[0])
            encoded = target.encode(y)
            target.check_weights(encoded, weight, type(self).__name__)
            users = state.user_vocab.transform(users_raw)
            items = state.item_vocab.transform(items_raw)
            extra = self._time_features(table, users, state, fitting=True, reset=not resume)
            runtime = (self._resumed_runtime(state, rng) if resume
                       else self._new_runtime(state, rng))
            self._train(state, runtime, users, items, encoded, weight, extra, n_epochs, rng)
            state.seen = merge_seen(old.seen if resume else None, users, items,
                                     len(state.user_vocab), len(state.item_vocab))
            self._install(state, runtime)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            if resume:
                # the live model may have been trained in place: rebuild it
                old.weights, old.optimizer = snapshot
                self._runtime = _Runtime()
            raise
        return self

    def _fit_shards(self, shards, y, sample_weight):
        """Fit from rating shards on disk, streaming every epoch."""
        from ._streaming import TrainingStream, scan_shards

        name = type(self).__name__
        if y is not None or sample_weight is not None:
            raise ValueError("the ratings come from the shards: call fit(shards) "
                             "without y or sample_weight")
        if self._target is not RegressionTarget:
            raise TypeError(f"{name} cannot fit from shards; FunkMF and "
                            "EmbeddingRegressor can")
        if self.early_stopping or self.warm_start:
            raise ValueError("fitting from shards supports neither early_stopping "
                             "nor warm_start")
        if self.time_column is not None:
            raise ValueError("shards hold no time column: fit from shards with "
                             "time_column=None")
        previous = dict(vars(self))
        try:
            user_ids, item_ids, stats = scan_shards(shards)
            rng = check_random_state(self.random_state)
            # the rated pairs are not held in memory (seen=None): recommend()
            # cannot skip them
            state = FittedState(
                params=self.get_params(deep=False),
                target=RegressionTarget.from_moments(*stats),
                user_vocab=IdVocabulary(user_ids), item_vocab=IdVocabulary(item_ids))
            for attr in ("n_features_in_", "feature_names_in_"):
                vars(self).pop(attr, None)
            runtime = self._new_runtime(state, rng)
            stream = TrainingStream(shards, state.user_vocab, state.item_vocab,
                                    self.batch_size)
            trainer = runtime.trainer
            self._record_epochs(state, *run_epochs(
                trainer, lambda seed: trainer.run_stream_epoch(stream.epoch(seed[0])),
                n_epochs=self.n_epochs, first_epoch=0, rng=rng, verbose=self.verbose))
            self._install(state, runtime)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        return self

    def _train(self, state, runtime, users, items, target, weight, extra, n_epochs, rng):
        if weight is None:
            weight = np.ones(len(users), dtype=np.float32)
        dtype = getattr(tf(), state.target.dtype)
        arrays = [users, items, target, weight, *extra]
        val = None
        if self.early_stopping:
            arrays, held_out = split_validation(arrays, self.validation_fraction, rng)
            val = to_tensors(*held_out[:4], dtype, tuple(held_out[4:]))
        data = to_tensors(*arrays[:4], dtype, tuple(arrays[4:]))
        trainer = runtime.trainer
        self._record_epochs(state, *run_epochs(
            trainer, lambda seed: trainer.run_epoch(data, seed), n_epochs=n_epochs,
            first_epoch=state.n_iter, rng=rng, val=val, tol=self.tol,
            n_iter_no_change=self.n_iter_no_change, verbose=self.verbose))

    @staticmethod
    def _record_epochs(state, losses, val_losses):
        state.history["loss"].extend(losses)
        state.history["val_loss"].extend(val_losses)
        state.n_iter += len(losses)

    def _time_features(self, table, users, state, *, fitting, reset=False):
        """The extra model inputs of a time-aware model: ``()`` or ``(features,)``."""
        from ._time import TimeFeatures, times_in_days

        time_column = state.params["time_column"]
        if time_column is None:
            return ()
        days = times_in_days(table, time_column)
        n_users = len(state.user_vocab)
        if reset:
            state.time = TimeFeatures.fit(days, users, n_users)
        elif fitting:
            state.time.add(days, users, n_users)
        return (state.time.transform(days, users),)

    # -- the live Keras objects ------------------------------------------------
    def _build(self, state, rng):
        spec = GraphSpec(state.params, state.target, len(state.user_vocab),
                         len(state.item_vocab), rng)
        model, tables = self._build_graph(spec)
        return _Runtime(model, tables, built_with=dict(state.params))

    def _new_trainer(self, runtime, params):
        runtime.trainer = Trainer(
            runtime.model, runtime.tables, loss=self._target.loss,
            optimizer=params["optimizer"], learning_rate=params["learning_rate"],
            reg=params["reg"], batch_size=params["batch_size"])
        return runtime.trainer

    def _new_runtime(self, state, rng):
        runtime = self._build(state, rng)
        self._new_trainer(runtime, state.params)
        return runtime

    def _resumed_runtime(self, state, rng):
        """The runtime a warm start trains: the old one, grown or reconfigured.

        The current training settings apply; optimizer slots carry over
        (unless the optimizer changed); grown tables keep their learnt rows.
        """
        old = self._live()
        weights, optimizer = self._current_values()
        sizes = (len(state.user_vocab), len(state.item_vocab))
        graph_params = {k: v for k, v in state.params.items()
                        if k not in TRAINING_PARAMETERS | PREDICTION_PARAMETERS}
        built = {k: v for k, v in old.built_with.items() if k in graph_params}
        grown = self._table_sizes(old) != sizes
        if grown or built != graph_params:
            runtime = self._build(state, rng)
            _copy_weights(old, runtime, weights)
            self._new_trainer(runtime, state.params).load_optimizer_state(optimizer)
            return runtime
        old.built_with = dict(state.params)
        if old.trainer is None or old.trainer.optimizer.name != state.params["optimizer"]:
            self._new_trainer(old, state.params).load_optimizer_state(optimizer)
        else:
            old.trainer.configure(learning_rate=state.params["learning_rate"],
                                  reg=state.params["reg"],
                                  batch_size=state.params["batch_size"])
        return old

    @staticmethod
    def _table_sizes(runtime):
        sizes = {}
        for t in runtime.tables:
            sizes.setdefault(t.side, t.variable.shape[0] - 1)
        return sizes.get("user"), sizes.get("item")

    def _live(self):
        """The live Keras objects, rebuilt from the fitted state when needed.

        They sit in one holder object so that building them lazily (after
        unpickling or loading) does not change the estimator's ``__dict__``.
        """
        state = self._fitted_state()
        runtime = vars(self).get("_runtime")
        if runtime is None:
            runtime = self._runtime = _Runtime()
        if runtime.model is None:
            built = self._build(state, check_random_state(0))
            set_variables(built.model, state.weights)
            runtime.__dict__.update(built.__dict__)
        return runtime

    def _current_values(self):
        """``(weights, optimizer state)`` of the fit, as NumPy values."""
        state = self._fitted_state()
        runtime = vars(self).get("_runtime")
        if runtime is None or runtime.model is None:
            return state.weights, state.optimizer
        weights = [v.numpy() for v in runtime.model.variables]
        optimizer = (runtime.trainer.optimizer_state() if runtime.trainer is not None
                     else state.optimizer)
        return weights, optimizer

    def _install(self, state, runtime, *, table_values=None):
        """Make ``state`` (and its live ``runtime``) the estimator's fitted model.

        The one place a fitted model is put together: fit, shard fits,
        ``from_factors`` and ``load`` all end here. ``table_values`` maps
        layer names to full tables (unknown row included) to assign first.
        """
        for name, values in (table_values or {}).items():
            runtime.model.get_layer(name).embeddings.assign(values)
        fill_unknown_rows(runtime.tables)
        runtime.built_with = dict(state.params)
        state.weights, state.optimizer = None, None
        runtime.predict_fn = None
        self._state = state
        self._runtime = runtime
        # trace the prediction graph now, so that the first predict() after
        # fit costs no tracing
        extra = (np.zeros((1, 2), np.float32),) if state.time is not None else ()
        self._output(np.zeros(1, np.int64), np.zeros(1, np.int64), extra)

    def _fitted_state(self):
        state = vars(self).get("_state")
        if state is None:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator.")
        return state

    # -- pickling ----------------------------------------------------------------
    def __getstate__(self):
        out = {k: v for k, v in self.__dict__.items() if k != "_runtime"}
        if "_state" in out:
            weights, optimizer = self._current_values()
            out["_state"] = dataclasses.replace(out["_state"], weights=weights,
                                                optimizer=optimizer)
        return out

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._runtime = _Runtime()

    # -- safe persistence --------------------------------------------------------
    def save(self, path):
        """Save the fitted estimator to ``path`` in skembrec's safe format.

        One ``.npz`` archive: weights and optimizer slots as plain arrays,
        parameters and vocabularies as JSON, a format version and SHA-256
        digests. Reading it back never unpickles anything (unlike
        ``pickle``/``joblib``, which also work). Ids must be ints, floats,
        strings or bools.

        Parameters
        ----------
        path : str or path-like
            The file to write (replaced atomically).
        """
        from ._archive import to_archive

        state = self._fitted_state()
        weights, optimizer = self._current_values()
        header, arrays = to_archive(
            type(self).__name__, self.get_params(deep=False),
            dataclasses.replace(state, weights=weights, optimizer=optimizer),
            {k: vars(self)[k] for k in ("n_features_in_", "feature_names_in_")
             if k in vars(self)})
        _persistence.write(path, header, arrays, producer=f"skembrec {__version__}")

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            A file written by :meth:`save`.

        Returns
        -------
        estimator : fitted estimator
            It predicts, and continues training, exactly as the saved one.

        Raises
        ------
        ValueError
            On a file of another format version, a corrupted, truncated or
            inconsistent file.
        TypeError
            When the file holds another estimator class than the one
            ``load`` is called on.
        """
        from ._archive import from_archive

        header, arrays = _persistence.read(path)
        name = header.get("class")
        target_cls = _REGISTRY.get(name) if isinstance(name, str) else None
        if target_cls is None:
            raise ValueError(f"{path} holds an unknown estimator class {name!r}")
        if cls is not BaseEmbeddingModel and not issubclass(target_cls, cls):
            raise TypeError(f"{path} holds a {name}, not a {cls.__name__}")
        params, state, inputs = from_archive(header, arrays, path, target_cls._target)
        estimator = target_cls(**params)
        vars(estimator).update(inputs)
        try:
            runtime = estimator._build(state, check_random_state(0))
            set_variables(runtime.model, state.weights)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path} holds weights that do not fit its model: "
                             f"{exc}") from None
        if state.optimizer is not None:
            estimator._new_trainer(runtime, state.params).load_optimizer_state(state.optimizer)
        estimator._install(state, runtime)
        return estimator

    # -- fitted attributes ---------------------------------------------------------
    @property
    def n_iter_(self):
        """Epochs trained so far."""
        return _fitted(self).n_iter

    @property
    def history_(self):
        """Per-epoch ``{"loss": [...], "val_loss": [...]}``."""
        return _fitted(self).history

    @property
    def n_users_(self):
        """Number of users in the vocabulary."""
        return len(_fitted(self).user_vocab)

    @property
    def n_items_(self):
        """Number of items in the vocabulary."""
        return len(_fitted(self).item_vocab)

    @property
    def user_ids_(self):
        """Raw user ids, in table order."""
        return _fitted(self).user_vocab.ids

    @property
    def item_ids_(self):
        """Raw item ids, in table order."""
        return _fitted(self).item_vocab.ids

    @property
    def model_(self):
        """The fitted Keras model: ``[user_index, item_index] -> output``."""
        _fitted(self)
        return self._live().model

    # -- prediction ------------------------------------------------------------
    def _raw_predict(self, X):
        state = self._fitted_state()
        table = _validation.check_X(self, X, reset=False)
        users = state.user_vocab.transform(table.ids("user", fitting=False), name="user id")
        items = state.item_vocab.transform(table.ids("item", fitting=False), name="item id")
        return self._output(users, items, self._time_features(table, users, state,
                                                              fitting=False))

    def _output(self, users, items, extra=()):
        """Model output for index arrays, in large compiled chunks."""
        tf_ = tf()
        runtime = self._live()
        if runtime.predict_fn is None:
            model = runtime.model
            # one trace serves every input length
            spec = tf_.TensorSpec([None], tf_.int32)
            specs = [tf_.TensorSpec([None, *x.shape[1:]], tf_.float32) for x in extra]
            runtime.predict_fn = tf_.function(
                lambda u, i, *e: tf_.cast(model([u, i, *e], training=False), tf_.float32),
                input_signature=[spec, spec, *specs])
        outputs = [
            runtime.predict_fn(
                tf_.constant(users[lo:lo + _PREDICT_CHUNK], tf_.int32),
                tf_.constant(items[lo:lo + _PREDICT_CHUNK], tf_.int32),
                *(tf_.constant(x[lo:lo + _PREDICT_CHUNK], tf_.float32) for x in extra),
            ).numpy()
            for lo in range(0, len(users), _PREDICT_CHUNK)
        ]
        return np.concatenate(outputs) if outputs else np.empty(0)

    # -- embeddings and recommendations ---------------------------------------
    def _table(self, name):
        return self.model_.get_layer(name).embeddings.numpy()[:-1]

    @property
    def user_embeddings_(self):
        """User embedding table, shape ``(n_users_, n_factors)``, in ``user_ids_`` order."""
        return self._table("user_embedding")

    @property
    def item_embeddings_(self):
        """Item embedding table, shape ``(n_items_, n_factors)``, in ``item_ids_`` order."""
        return self._table("item_embedding")

    def _item_scores(self, user_index):
        state = self._fitted_state()
        items = np.arange(len(state.item_vocab))
        users = np.full_like(items, user_index)
        extra = ()
        if state.time is not None:
            # a time-aware model ranks the items as of the last day of fit
            days = np.full(len(items), state.time.last_day())
            extra = (state.time.transform(days, users),)
        return state.target.decode_scores(self._output(users, items, extra))

    def recommend(self, user, n=10, *, exclude_seen=True):
        """Return the ``n`` items with the highest predicted score for ``user``.

        Parameters
        ----------
        user : hashable
            A raw user id. An unknown user gets the cold-start ranking
            (the items the fallback scores highest).
        n : int, default=10
            Number of items to return.
        exclude_seen : bool, default=True
            Leave out the items the user rated in fit.

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, best first.
        """
        state = self._fitted_state()
        n = _check_n(n)
        user_index = int(state.user_vocab.transform(np.array([user], dtype=object))[0])
        scores = self._item_scores(user_index).astype(np.float64)
        if exclude_seen and state.seen is None:
            raise ValueError(
                "this model was fitted from shards and did not keep the rated "
                "pairs; call recommend(..., exclude_seen=False)")
        if exclude_seen and user_index < len(state.user_vocab):
            start, stop = state.seen.indptr[user_index:user_index + 2]
            scores[state.seen.indices[start:stop]] = -np.inf
        candidates = np.flatnonzero(np.isfinite(scores))
        n = min(n, len(candidates))
        top = candidates[np.argpartition(-scores[candidates], n - 1)[:n]] if n else candidates[:0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return state.item_vocab.inverse_transform(top)

    def similar_items(self, item, n=10):
        """Return the ``n`` items whose embeddings are most cosine-similar to ``item``.

        Parameters
        ----------
        item : hashable
            A raw item id seen in fit.
        n : int, default=10
            Number of items to return.

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, most similar first (``item`` itself excluded).
        """
        state = self._fitted_state()
        n = _check_n(n)
        index = int(state.item_vocab.transform(np.array([item], dtype=object))[0])
        n_items = len(state.item_vocab)
        if index >= n_items:
            raise ValueError(f"item {item!r} was not seen in fit")
        table = self.item_embeddings_.astype(np.float64)
        norms = np.linalg.norm(table, axis=1)
        norms[norms == 0] = 1.0
        sims = table @ table[index] / (norms * norms[index])
        sims[index] = -np.inf
        n = min(n, n_items - 1)
        top = np.argpartition(-sims, n - 1)[:n] if n else np.empty(0, dtype=int)
        top = top[np.argsort(-sims[top], kind="stable")]
        return state.item_vocab.inverse_transform(top)


def set_variables(model, values):
    """Assign every variable of ``model`` (weights and seed-generator states,
    so dropout continues its random sequence) from ``values``."""
    variables = model.variables
    if len(values) != len(variables):
        raise ValueError(f"the model has {len(variables)} variables, got {len(values)}")
    for var, value in zip(variables, values):
        if tuple(var.shape) != tuple(np.shape(value)):
            raise ValueError(f"{var.path} has shape {tuple(var.shape)}, got "
                             f"{tuple(np.shape(value))}")
    for var, value in zip(variables, values):
        var.assign(value)


def _fitted(estimator):
    """The fitted state, or NotFittedError (an AttributeError too, so ``hasattr``
    says unfitted)."""
    state = vars(estimator).get("_state")
    if state is None:
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet: fitted "
            "attributes exist after 'fit'")
    return state


def _copy_weights(old, new, weights):
    """Copy ``weights`` (of ``old``'s graph) into ``new``'s; grown tables keep
    their learnt rows, new rows keep their initial values."""
    sides = {id(t.variable): t.side for t in old.tables}
    old_sizes = dict(zip(("user", "item"), BaseEmbeddingModel._table_sizes(old)))
    for old_var, new_var, value in zip(old.model.variables, new.model.variables, weights):
        if id(old_var) in sides and tuple(new_var.shape) != value.shape:
            fresh = new_var.numpy()
            n_old = old_sizes[sides[id(old_var)]]
            fresh[:n_old] = value[:n_old]
            value = fresh
        new_var.assign(value)


def _is_shards(X):
    from .datasets._shards import RatingShards

    return isinstance(X, RatingShards)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return int(n)


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
        return _fitted(self).target.mean

    @property
    def rating_range_(self):
        """``(min, max)`` rating seen in fit; predictions are clipped to it."""
        return _fitted(self).target.rating_range

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
        pred = self._raw_predict(X).astype(np.float64)
        if self._state.params.get("clip_predictions", True):
            np.clip(pred, *self.rating_range_, out=pred)
        return pred
