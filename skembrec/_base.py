"""The shared estimator base: everything except the graph.

A model subclass only says what its Keras graph is (``_build_graph``). This
base holds the id vocabularies, input validation, the training loop driver
(epochs, early stopping, warm start, ``partial_fit``), cold-start handling,
prediction, persistence and the recommendation helpers.
"""

import copy
import numbers
import time

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _validation
from ._backend import keras, tf
from ._sklearn_compat import Interval, StrOptions
from ._training import OPTIMIZERS, Trainer, to_tensors
from ._vocab import IdVocabulary

_PREDICT_CHUNK = 1 << 18
_MAX_SEED = 2**31 - 1


class BaseEmbeddingModel(BaseEstimator):
    """Base class of skembrec's estimators. Not for direct use.

    Subclasses implement :meth:`_build_graph` and set ``_loss`` and
    ``_unknown_rows``; classifier/regressor behaviour (target encoding,
    prediction post-processing) comes from the two mixins below.
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

    # what an unknown id's table row holds: "zero" (no contribution) or
    # "mean" (the average user / item)
    _unknown_rows = "zero"
    _loss = "squared_error"

    # -- the subclass contract ------------------------------------------------
    def _build_graph(self, n_users, n_items, seeds):
        """Return ``(model, tables)``: a Keras model of the :meth:`_graph_inputs`
        (tables have ``n + 1`` rows, the last for unknown ids) and the list of
        :class:`~skembrec._training.Table` it trains sparsely."""
        raise NotImplementedError

    def _graph_inputs(self):
        """Keras inputs ``(user, item, time)``; ``time`` is None unless the
        model is time-aware, else the ``(n, 2)`` features of :mod:`._time`."""
        k = keras()
        user = k.Input(shape=(), dtype="int32", name="user")
        item = k.Input(shape=(), dtype="int32", name="item")
        time_ = None
        if self.time_column is not None:
            time_ = k.Input(shape=(2,), dtype="float32", name="time")
        return user, item, time_

    # -- scikit-learn API -------------------------------------------------------
    def fit(self, X, y=None, sample_weight=None):
        """Fit the model to ratings.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or RatingShards
            Column 0 holds user ids, column 1 item ids (any hashable values);
            further columns are ignored by this model. A
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
        incremental = self.warm_start and hasattr(self, "n_iter_")
        if _is_shards(X):
            return self._fit_shards(X, y, sample_weight, incremental=incremental)
        return self._fit(X, y, sample_weight, n_epochs=self.n_epochs,
                         incremental=incremental)

    def partial_fit(self, X, y, sample_weight=None, **fit_params):
        """Train exactly one more epoch on ``(X, y)``, keeping what was learnt.

        The first call initialises the model as :meth:`fit` would. Ids not
        seen before are added to the vocabularies (their table rows start
        from the initialiser).

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._check_partial_fit_params(fit_params)
        if _is_shards(X):
            raise TypeError("partial_fit takes in-memory ratings; fit() streams shards")
        return self._fit(X, y, sample_weight, n_epochs=1,
                         incremental=hasattr(self, "n_iter_"), **fit_params)

    def _check_partial_fit_params(self, fit_params):
        if fit_params:
            raise TypeError(f"unexpected arguments {sorted(fit_params)}")

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

    # -- fitting -------------------------------------------------------------
    def _fit(self, X, y, sample_weight, *, n_epochs, incremental, **fit_params):
        # a fit that raises (bad input, KeyboardInterrupt, a diverging loss)
        # leaves the estimator exactly as it was before the call
        previous = self._snapshot()
        try:
            users_raw, items_raw = _validation.check_X(self, X, reset=not incremental)
            n_samples = len(users_raw)
            target = self._encode_target(
                y, n_samples, reset=not incremental, **fit_params)
            weight = _validation.check_sample_weight(sample_weight, n_samples)
            self._check_target_weights(target, weight)
            rng = check_random_state(self.random_state)
            if incremental:
                # training mutates the model in place: keep its weights
                previous["_weights"] = self._get_weights()
                self._update_target_statistics(target)
                users, items = self._extend_vocabularies(users_raw, items_raw, rng)
            else:
                self._reset(users_raw, items_raw, target, weight, rng)
                users = self._user_vocab.transform(users_raw)
                items = self._item_vocab.transform(items_raw)
            extra = self._time_inputs(X, users, fitting=True, reset=not incremental)
            self._train(users, items, target, weight, n_epochs, rng, extra)
            self._record_seen(users, items, reset=not incremental)
        except BaseException:
            self._restore(previous)
            raise
        return self

    def _reset(self, users_raw, items_raw, target, weight, rng):
        """Start from scratch: new vocabularies, a new graph, no history."""
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            if attr not in ("n_features_in_", "feature_names_in_", "classes_"):
                delattr(self, attr)
        self._user_vocab, _ = IdVocabulary.fit(users_raw, name="user id")
        self._item_vocab, _ = IdVocabulary.fit(items_raw, name="item id")
        self._set_target_statistics(target, weight)
        self._set_model(self._new_model(rng))
        self.history_ = {"loss": [], "val_loss": []}
        self.n_iter_ = 0

    def _new_model(self, rng):
        seeds = _SeedSequence(rng)
        model, tables = self._build_graph(len(self._user_vocab), len(self._item_vocab), seeds)
        return model, tables

    def _set_model(self, built):
        self._runtime = _Runtime(*built)
        self._weights = None

    def _extend_vocabularies(self, users_raw, items_raw, rng):
        """Warm start: add unseen ids, growing the tables; keep learnt rows."""
        self._ensure_model()
        old_sizes = {"user": len(self._user_vocab), "item": len(self._item_vocab)}
        self._user_vocab = self._user_vocab.extended(users_raw, name="user id")
        self._item_vocab = self._item_vocab.extended(items_raw, name="item id")
        if (len(self._user_vocab), len(self._item_vocab)) != tuple(old_sizes.values()):
            old_model, old_tables = self._runtime.model, self._runtime.tables
            model, tables = self._new_model(rng)
            sides = {id(t.variable): t.side for t in old_tables}
            for old, new in zip(old_model.weights, model.weights):
                value = old.numpy()
                if id(old) in sides:
                    # learnt rows keep their place; new rows keep their
                    # initial values; the unknown row is refilled after training
                    fresh = new.numpy()
                    n_old = old_sizes[sides[id(old)]]
                    fresh[:n_old] = value[:n_old]
                    value = fresh
                new.assign(value)
            self._set_model((model, tables))
        return self._user_vocab.transform(users_raw), self._item_vocab.transform(items_raw)

    def _time_inputs(self, X, users, *, fitting, reset=False):
        """The extra model inputs of a time-aware model: ``()`` or ``(features,)``."""
        from ._time import TimeFeatures, times_in_days

        had_time = getattr(self, "_time", None) is not None
        if not reset and had_time != (self.time_column is not None):
            raise ValueError(
                f"time_column={self.time_column!r} differs from the fitted model's "
                f"({'a time column' if had_time else 'no time column'}); refit "
                "from scratch (warm_start=False) after changing it")
        if self.time_column is None:
            if reset:
                self._time = None
            return ()
        days = times_in_days(X, self.time_column, len(users))
        n_users = len(self._user_vocab)
        if reset:
            self._time = TimeFeatures.fit(days, users, n_users)
        elif fitting:
            self._time.add(days, users, n_users)
        return (self._time.transform(days, users),)

    def _train(self, users, items, target, weight, n_epochs, rng, extra=()):
        tf_ = tf()
        if weight is None:
            weight = np.ones(len(users), dtype=np.float32)
        val = None
        if self.early_stopping:
            n_val = max(1, int(round(self.validation_fraction * len(users))))
            if n_val >= len(users):
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} leaves no "
                    f"training ratings out of {len(users)}"
                )
            order = rng.permutation(len(users))
            val_idx, train_idx = order[:n_val], order[n_val:]
            val = to_tensors(users[val_idx], items[val_idx], target[val_idx],
                             weight[val_idx], self._target_dtype(tf_),
                             tuple(x[val_idx] for x in extra))
            users, items, target, weight = (
                users[train_idx], items[train_idx], target[train_idx], weight[train_idx])
            extra = tuple(x[train_idx] for x in extra)
        data = to_tensors(users, items, target, weight, self._target_dtype(tf_), extra)
        trainer = self._trainer()
        self._run_epochs(lambda seed: trainer.run_epoch(data, seed), val, n_epochs, rng)

    def _trainer(self):
        runtime = self._runtime_state()
        if runtime.trainer is None:
            runtime.trainer = Trainer(
                runtime.model, runtime.tables, loss=self._loss, optimizer=self.optimizer,
                learning_rate=self.learning_rate, batch_size=self.batch_size)
        return runtime.trainer

    def _run_epochs(self, run_epoch, val, n_epochs, rng):
        """The epoch loop every fit shares: progress, early stopping, history."""
        runtime = self._runtime_state()
        progress = _Progress(self.verbose, n_epochs)
        best, best_weights, no_change = np.inf, None, 0
        for epoch in range(n_epochs):
            start = time.perf_counter()
            loss = run_epoch([int(rng.randint(_MAX_SEED)), epoch])
            if not np.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {loss} at epoch {self.n_iter_ + 1}; "
                    "lower learning_rate or scale the ratings"
                )
            val_loss = (self._validation_loss(runtime.trainer, val)
                        if val is not None else None)
            self.history_["loss"].append(loss)
            self.history_["val_loss"].append(val_loss)
            self.n_iter_ += 1
            progress.update(epoch, loss, val_loss, time.perf_counter() - start)
            if val is not None:
                if val_loss < best - self.tol:
                    best, no_change = val_loss, 0
                    best_weights = [w.numpy() for w in runtime.model.weights]
                else:
                    no_change += 1
                    if no_change >= self.n_iter_no_change:
                        break
        if best_weights is not None:
            runtime.model.set_weights(best_weights)
        self._fill_unknown_rows()
        self._weights = None
        # trace the prediction graph now, so that the first predict() after
        # fit costs what every later one does
        extra = ((np.zeros((1, 2), np.float32),)
                 if getattr(self, "_time", None) is not None else ())
        self._output(np.zeros(1, np.int64), np.zeros(1, np.int64), extra)

    def _fit_shards(self, shards, y, sample_weight, *, incremental):
        """Fit from rating shards on disk, streaming every epoch."""
        from ._streaming import TrainingStream, scan_shards

        name = type(self).__name__
        if y is not None or sample_weight is not None:
            raise ValueError("the ratings come from the shards: call fit(shards) "
                             "without y or sample_weight")
        if self._loss != "squared_error":
            raise TypeError(f"{name} cannot fit from shards; FunkMF and "
                            "EmbeddingRegressor can")
        if self.early_stopping or incremental:
            raise ValueError("fitting from shards supports neither early_stopping "
                             "nor warm_start")
        if self.time_column is not None:
            raise ValueError("shards hold no time column: fit from shards with "
                             "time_column=None")
        previous = self._snapshot()
        try:
            user_ids, item_ids, stats = scan_shards(shards)
            rng = check_random_state(self.random_state)
            for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
                delattr(self, attr)
            self._user_vocab = IdVocabulary(user_ids)
            self._item_vocab = IdVocabulary(item_ids)
            self._time = None
            self._set_target_moments(*stats)
            self._set_model(self._new_model(rng))
            self.history_ = {"loss": [], "val_loss": []}
            self.n_iter_ = 0
            stream = TrainingStream(shards, self._user_vocab, self._item_vocab,
                                    self.batch_size)
            trainer = self._trainer()
            self._run_epochs(lambda seed: trainer.run_stream_epoch(stream.epoch(seed[0])),
                             None, self.n_epochs, rng)
            # the rated pairs are not held in memory: recommend() cannot skip them
            self._seen = None
            self.n_users_, self.n_items_ = len(self._user_vocab), len(self._item_vocab)
            self.user_ids_, self.item_ids_ = self._user_vocab.ids, self._item_vocab.ids
        except BaseException:
            self._restore(previous)
            raise
        return self

    def _validation_loss(self, trainer, val):
        n = int(val["users"].shape[0])
        total = 0.0
        for lo in range(0, n, _PREDICT_CHUNK):
            part = {k: v[lo:lo + _PREDICT_CHUNK] for k, v in val.items() if k != "extra"}
            part["extra"] = tuple(x[lo:lo + _PREDICT_CHUNK] for x in val["extra"])
            total += trainer.evaluate(part) * float(np.sum(part["weight"]))
        return total / float(np.sum(val["weight"]))

    def _fill_unknown_rows(self):
        """Set every table's last row, the one unknown ids read."""
        for table in self._runtime_state().tables:
            var = table.variable
            n = var.shape[0] - 1
            if self._unknown_rows == "mean" and not _is_bias(var):
                row = tf().reduce_mean(var.value[:n], axis=0)
            else:
                row = tf().zeros(var.shape[1:], dtype=var.dtype)
            var.value.scatter_update(tf().IndexedSlices(row[None], [n]))

    def _record_seen(self, users, items, reset):
        """Remember which (user, item) pairs were rated, for recommend()."""
        n_users, n_items = len(self._user_vocab), len(self._item_vocab)
        known = (users < n_users) & (items < n_items)
        seen = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.bool_), (users[known], items[known])),
            shape=(n_users, n_items),
        )
        if not reset and getattr(self, "_seen", None) is not None:
            old = self._seen.copy()
            old.resize((n_users, n_items))
            seen = (seen + old).astype(np.bool_)
        self._seen = seen.tocsr()
        self.n_users_ = n_users
        self.n_items_ = n_items
        self.user_ids_ = self._user_vocab.ids
        self.item_ids_ = self._item_vocab.ids

    # -- snapshots: fits that fail leave the previous state ------------------
    def _snapshot(self):
        """A shallow copy of the state; objects a fit mutates are copied."""
        state = dict(vars(self))
        state["history_"] = copy.deepcopy(state.get("history_"))
        state["_time"] = copy.deepcopy(state.get("_time"))  # warm start adds to it
        return state

    def _restore(self, state):
        weights = state.get("_weights")
        self.__dict__.clear()
        self.__dict__.update(state)
        if "n_iter_" in state and weights is not None:
            # the model object may have been trained in place: rebuild it
            self._weights = weights
            self._runtime = _Runtime()

    # -- the Keras model, rebuilt lazily after unpickling ---------------------
    def _runtime_state(self):
        """The live Keras objects, rebuilt from ``_weights`` when needed.

        They sit in one holder object so that building them lazily (after
        unpickling) does not change the estimator's ``__dict__``.
        """
        runtime = vars(self).get("_runtime")
        if runtime is None:
            runtime = self._runtime = _Runtime()
        if runtime.model is None:
            model, tables = self._new_model(check_random_state(0))
            model.set_weights(self._weights)
            runtime.model, runtime.tables = model, tables
        return runtime

    def _ensure_model(self):
        return self._runtime_state().model

    def _get_weights(self):
        runtime = vars(self).get("_runtime")
        if runtime is not None and runtime.model is not None:
            return [w.numpy() for w in runtime.model.weights]
        return vars(self).get("_weights")

    @property
    def model_(self):
        """The fitted Keras model: ``[user_index, item_index] -> output``."""
        check_is_fitted(self, "n_iter_")
        return self._ensure_model()

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k != "_runtime"}
        if "n_iter_" in state:
            # weights as plain NumPy arrays; the graph is rebuilt from params
            state["_weights"] = self._get_weights()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._runtime = _Runtime()

    # -- safe persistence --------------------------------------------------------
    def save(self, path):
        """Save the fitted estimator to ``path`` in skembrec's safe format.

        One ``.npz`` archive: weights as plain arrays, parameters and
        vocabularies as JSON, a format version and SHA-256 digests. Reading it
        back never unpickles anything (unlike ``pickle``/``joblib``, which
        also work). Ids must be ints, floats, strings or bools.

        Parameters
        ----------
        path : str or path-like
            The file to write (replaced atomically).
        """
        from ._persistence import save

        save(self, path)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`.

        Raises ``ValueError`` on a file of another format version, a
        corrupted or truncated file, and ``TypeError`` when the file holds
        another estimator class than the one ``load`` is called on.

        Returns
        -------
        estimator : fitted estimator
        """
        from ._persistence import load

        return load(path, expected_class=None if cls is BaseEmbeddingModel else cls)

    # -- prediction ------------------------------------------------------------
    def _raw_predict(self, X):
        check_is_fitted(self, "n_iter_")
        users_raw, items_raw = _validation.check_X(self, X, reset=False)
        users = self._user_vocab.transform(users_raw, name="user id")
        items = self._item_vocab.transform(items_raw, name="item id")
        return self._output(users, items, self._time_inputs(X, users, fitting=False))

    def _output(self, users, items, extra=()):
        """Model output for index arrays, in large compiled chunks."""
        tf_ = tf()
        runtime = self._runtime_state()
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
        model = self.model_
        return model.get_layer(name).embeddings.numpy()[:-1]

    @property
    def user_embeddings_(self):
        """User embedding table, shape ``(n_users_, n_factors)``, in ``user_ids_`` order."""
        return self._table("user_embedding")

    @property
    def item_embeddings_(self):
        """Item embedding table, shape ``(n_items_, n_factors)``, in ``item_ids_`` order."""
        return self._table("item_embedding")

    def _item_scores(self, user_index):
        items = np.arange(self.n_items_)
        users = np.full_like(items, user_index)
        extra = ()
        if getattr(self, "_time", None) is not None:
            # a time-aware model ranks the items as of the last day of fit
            days = np.full(len(items), self._time.last_day())
            extra = (self._time.transform(days, users),)
        return self._score_output(self._output(users, items, extra))

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
        check_is_fitted(self, "n_iter_")
        n = _check_n(n)
        user_index = int(self._user_vocab.transform(np.array([user], dtype=object))[0])
        scores = self._item_scores(user_index).astype(np.float64)
        if exclude_seen and self._seen is None:
            raise ValueError(
                "this model was fitted from shards and did not keep the rated "
                "pairs; call recommend(..., exclude_seen=False)")
        if exclude_seen and user_index < self.n_users_:
            start, stop = self._seen.indptr[user_index:user_index + 2]
            seen = self._seen.indices[start:stop]
            scores[seen] = -np.inf
        candidates = np.flatnonzero(np.isfinite(scores))
        n = min(n, len(candidates))
        top = candidates[np.argpartition(-scores[candidates], n - 1)[:n]] if n else candidates[:0]
        top = top[np.argsort(-scores[top], kind="stable")]
        return self._item_vocab.inverse_transform(top)

    def similar_items(self, item, n=10):
        """Return the ``n`` items whose embeddings are most cosine-similar to ``item``.

        Parameters
        ----------
        item : hashable
            A raw item id seen in fit.
        n : int, default=10

        Returns
        -------
        items : ndarray of shape (n,)
            Raw item ids, most similar first (``item`` itself excluded).
        """
        check_is_fitted(self, "n_iter_")
        n = _check_n(n)
        index = int(self._item_vocab.transform(np.array([item], dtype=object))[0])
        if index >= self.n_items_:
            raise ValueError(f"item {item!r} was not seen in fit")
        table = self.item_embeddings_.astype(np.float64)
        norms = np.linalg.norm(table, axis=1)
        norms[norms == 0] = 1.0
        sims = table @ table[index] / (norms * norms[index])
        sims[index] = -np.inf
        n = min(n, self.n_items_ - 1)
        top = np.argpartition(-sims, n - 1)[:n] if n else np.empty(0, dtype=int)
        top = top[np.argsort(-sims[top], kind="stable")]
        return self._item_vocab.inverse_transform(top)


class _Runtime:
    """Live, unpicklable Keras/TensorFlow objects of one fitted estimator."""

    def __init__(self, model=None, tables=None):
        self.model = model
        self.tables = tables
        self.trainer = None
        self.predict_fn = None


def _is_bias(var):
    return var.shape[-1] == 1 and "bias" in var.path


def _table_side(var, tables):
    for t in tables:
        if t.variable is var:
            return t.side
    raise KeyError(var.path)  # pragma: no cover


def _is_shards(X):
    from .datasets._shards import RatingShards

    return isinstance(X, RatingShards)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    return int(n)


class _SeedSequence:
    """Hands out integer seeds for initialisers and dropout from one RNG."""

    def __init__(self, rng):
        self._rng = rng

    def __call__(self):
        return int(self._rng.randint(_MAX_SEED))


class _Progress:
    """Per-epoch progress the way Keras users expect (``verbose`` 1 or 2)."""

    def __init__(self, verbose, n_epochs):
        self.verbose = int(verbose)
        self.n_epochs = n_epochs
        self._bar = None
        if self.verbose == 1:
            self._bar = keras().utils.Progbar(n_epochs, unit_name="epoch")

    def update(self, epoch, loss, val_loss, seconds):
        if self.verbose <= 0:
            return
        values = [("loss", loss)] + ([("val_loss", val_loss)] if val_loss is not None else [])
        if self._bar is not None:
            self._bar.update(epoch + 1, values=values)
        else:
            text = " - ".join(f"{k}: {v:.4f}" for k, v in values)
            print(f"Epoch {epoch + 1}/{self.n_epochs} - {seconds:.2f}s - {text}", flush=True)


class RatingRegressorMixin(RegressorMixin):
    """Rating prediction: float targets, clipped predictions, R^2 score."""

    _loss = "squared_error"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's checks fit on continuous blobs, not (user, item) ids
        # with repeats: a recommender is not expected to score well there
        tags.regressor_tags.poor_score = True
        return tags

    def _encode_target(self, y, n_samples, reset, **fit_params):
        y = _validation.check_y_regression(y, n_samples)
        return y.astype(np.float32)

    def _check_target_weights(self, target, weight):
        pass

    def _target_dtype(self, tf_):
        return tf_.float32

    def _set_target_statistics(self, target, weight):
        w = np.ones_like(target) if weight is None else weight
        mean = float(np.average(target, weights=w))
        self.global_mean_ = mean
        self.rating_range_ = (float(target.min()), float(target.max()))
        self._target_scale = float(np.sqrt(np.average((target - mean) ** 2, weights=w))) or 1.0

    def _set_target_moments(self, count, total, total_sq, low, high):
        mean = total / count
        self.global_mean_ = mean
        self.rating_range_ = (low, high)
        self._target_scale = float(np.sqrt(max(total_sq / count - mean**2, 0.0))) or 1.0

    def _update_target_statistics(self, target):
        low, high = self.rating_range_
        self.rating_range_ = (min(low, float(target.min())), max(high, float(target.max())))

    def _score_output(self, output):
        return output

    def predict(self, X):
        """Predict ratings for (user, item) rows.

        Unknown or missing ids fall back to what the model knows (see the
        class docstring); predictions are clipped to ``rating_range_``
        unless ``clip_predictions=False``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        pred = self._raw_predict(X).astype(np.float64)
        if self.clip_predictions:
            np.clip(pred, *self.rating_range_, out=pred)
        return pred
