"""The shared estimator base: everything except a model's graph and target.

The subclass contract
---------------------
A model class says three things and nothing else:

``_build_graph(cls, spec)`` (a classmethod)
    Its Keras graph, built from ``spec`` (a
    :class:`~skembrec._engine.runtime.GraphSpec`: the fitted parameters, the target
    encoder, the vocabulary sizes, seeds and the graph's inputs). It returns
    ``(model, tables)``, the tables being the
    :class:`~skembrec._engine.training.Table` s the trainer updates sparsely. Being
    a classmethod, it cannot read the estimator's current parameters: a
    graph is always the graph of the fit.
``_target``
    Its target encoder class (:mod:`skembrec._engine.targets`): how ``y`` becomes
    training targets, which loss, and how outputs rank items (where a
    parameter chooses it, ``_target_class(params)`` says which).
``_architecture``
    The parameters that shape the graph. After a change to one of them,
    ``fit`` with ``warm_start=True`` starts from scratch and ``partial_fit``
    raises a ``ValueError``; every other parameter is a training setting
    that warm start and ``partial_fit`` honour as they are now.

Every other seam is declared on this base with its default, and a model
overrides what differs:

``_trainer_class(params)`` / ``_trainer_options(params)`` (classmethods)
    Its training path, a :class:`~skembrec._engine.trainers.base.TrainingPath`
    (the per-rating :class:`~skembrec._engine.trainers.ratings.Trainer` by
    default; a model with several dispatches on its ``solver``), and the
    keywords that path takes besides the shared settings.
``_fold_in_rows(fold)``
    Its fold-in rule (a classmethod), or None: ``fold_in`` is refused. It
    reads a :class:`~skembrec._engine.fitting.FoldIn` record (the new graph
    with the fitted values, the fitted graph, the folded users and their
    ratings) and returns the new values of what it changes, by variable
    path: a user table's rows of the folded users (FunkMF's ridge solves,
    the dense models' steps), any other variable its whole value (EASE's
    scoring rows, computed from the ratings).
``_training_parameters`` / ``_prediction_parameters`` / ``_since``
    The kinds of its parameters, declared once: those that neither shape
    nor enter the graph, those only ``predict`` reads, and for parameters
    added after files were first written, the value that reproduces what
    those files' models did. Every other parameter builds the graph.
``_resolve_params(params)``
    A fit's copy of the parameters, with what they leave to the model (a
    default that depends on another parameter) filled in.
``_fit_defaults``
    The fit settings (``n_epochs``, ``warm_start``, ``early_stopping``,
    ``verbose``, ...) a model without that parameter uses: a closed-form
    model has no ``n_epochs``.
``_reads_ratings``, ``_reads_time``, ``_reads_features``
    ``_reads_ratings = True`` keeps the training ratings in the fitted state
    (``FittedState.ratings``, handed to the graph as ``spec.ratings``);
    ``_reads_time = False`` (``_reads_features = False``) says its graph has
    no time (side-feature) input: the base refuses a ``time_column``
    (``user_features``, ``item_features``) with a ``ValueError``.

The fitted state
----------------
Everything a fit decides is one :class:`FittedState` (plain Python and
NumPy: parameters, vocabularies, target encoder, time statistics, rated
pairs, weights, optimizer slots, history). It is put together in one place,
:meth:`BaseEmbeddingModel._install`, by ``fit``, shard fits, ``from_factors``
and ``load``; the public fitted attributes are properties that read it. The
live Keras objects sit beside it in a :class:`~skembrec._engine.runtime.Runtime`,
rebuilt from the state after unpickling or loading. ``set_params`` changes neither.
"""

import dataclasses
import numbers

import numpy as np
from sklearn.base import BaseEstimator

from ._engine import fitting
from ._engine import runtime as _runtime
from ._engine.backend import tf
from ._engine.optimizers import OPTIMIZERS
from ._engine.recommend import RecommenderMixin
from ._engine.runtime import Runtime
from ._engine.targets import RegressionTarget
from ._engine.trainers.ratings import Trainer
from ._engine.training import fill_unknown_rows, input_dtype
from ._input import validation as _validation
from ._input.features import check_feature_refs
from ._io import persistence as _persistence
from ._io.state import fitted_state
from ._sklearn_compat import Interval, InvalidParameterError, StrOptions
from ._version import __version__

_PREDICT_CHUNK = 1 << 18

_REGISTRY = {}


class BaseEmbeddingModel(RecommenderMixin, BaseEstimator):
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
        "user_features": ["array-like", str, numbers.Integral, None],
        "item_features": ["array-like", str, numbers.Integral, None],
        "feature_separator": [str],
    }
    _target = RegressionTarget
    _architecture = ("n_factors", "time_column", "user_features", "item_features",
                     "feature_separator")
    _partial_fit_params = ()
    # the kinds of the parameters (see the module docstring); the rest build
    # the graph
    _training_parameters = frozenset({
        "n_epochs", "batch_size", "learning_rate", "reg", "optimizer", "early_stopping",
        "validation_fraction", "n_iter_no_change", "tol", "random_state", "verbose",
        "warm_start",
    })
    _prediction_parameters = frozenset({"clip_predictions", "decision"})
    # parameters added since the first saved files, with the value that
    # reproduces what those files' models did
    _since = {"user_features": None, "item_features": None, "feature_separator": "|",
              "id_dropout": 0.0}
    # the fit settings of a model without the parameter
    _fit_defaults = {"n_epochs": 1, "warm_start": False, "early_stopping": False,
                     "verbose": 0, "random_state": None, "batch_size": None}
    # the output unit of the model's files written before the unit was
    # recorded (None: the ratings' scale; FunkMF's outputs were in ratings)
    _legacy_output_unit = None
    # the model's fold-in rule: a classmethod ``(fold: FoldIn) -> {variable
    # path: values}``, or None (see the module docstring)
    _fold_in_rows = None
    # a graph that reads the training ratings at prediction time (AutoRec):
    # fit keeps them in the fitted state (``FittedState.ratings``)
    _reads_ratings = False
    # what the graph can read besides the ids: a model without a time (side
    # feature) input refuses a time_column (user_features/item_features)
    _reads_time = True
    _reads_features = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            _REGISTRY[cls.__name__] = cls

    @classmethod
    def _build_graph(cls, spec):
        """Return ``(model, tables)`` for ``spec`` (see the module docstring)."""
        raise NotImplementedError

    @classmethod
    def _target_class(cls, params):
        """The target encoder class of a fit with ``params``: ``_target``,
        unless a parameter chooses the target (BayesianMF's ``output``)."""
        return cls._target

    @classmethod
    def _trainer_class(cls, params):
        """The training path of a fit with ``params``: the per-rating trainer."""
        return Trainer

    @classmethod
    def _trainer_options(cls, params):
        """What the training path takes besides the shared settings: nothing."""
        return {}

    @classmethod
    def _resolve_params(cls, params):
        """A fit's own copy of the parameters, with what they leave to the
        model filled in (a default that depends on another parameter, such
        as ImplicitMF's ``reg=None``). The fitted state keeps the result.
        Default: as given."""
        return params

    def _setting(self, name):
        """A fit setting: the parameter, or the model's declared default."""
        params = self.get_params(deep=False)
        return params[name] if name in params else self._fit_defaults[name]

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
        if fitting.is_shards(X):
            return fitting.fit_shards(self, X, y, sample_weight)
        return fitting.fit_in_memory(self, X, y, sample_weight,
                                     n_epochs=self._setting("n_epochs"),
                                     resume=self._setting("warm_start"), partial=False)

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
        if fitting.is_shards(X):
            raise TypeError("partial_fit takes in-memory ratings; fit() streams shards")
        return fitting.fit_in_memory(self, X, y, sample_weight, n_epochs=1, resume=True,
                                     partial=True, **fit_params)

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

    def _validate_params(self):
        super()._validate_params()
        # scikit-learn's Interval(Integral) accepts True as 1: a flag given
        # for a size is a mistake, not a size
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name, None)
            if isinstance(value, bool | np.bool_) and any(
                    isinstance(c, Interval) and c.type is numbers.Integral
                    for c in constraints):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be an int, "
                    f"got {value!r} (a bool)")
        model = type(self).__name__
        if not self._reads_time and getattr(self, "time_column", None) is not None:
            raise ValueError(f"{model} does not use time yet: time_column must be None, "
                             f"got {self.time_column!r}")
        for name in ("user_features", "item_features"):
            value = getattr(self, name, None)
            if not self._reads_features and value is not None:
                raise ValueError(f"{model} does not use side features yet: {name} must be "
                                 f"None, got {value!r}")
            check_feature_refs(value, name, model)
        if getattr(self, "feature_separator", "|") == "":
            raise InvalidParameterError(
                f"The 'feature_separator' parameter of {type(self).__name__} must be a "
                "non-empty string")

    def __sklearn_is_fitted__(self):
        return "_state" in vars(self)

    # -- fitting -------------------------------------------------------------
    def fold_in(self, X, y, sample_weight=None):
        """Add the users of ``X`` (or refresh known ones) from their ratings alone.

        Nothing else is trained: the items, the other users and every other
        weight stay as they are, so every other user's predictions are
        bit-identical. :class:`~skembrec.FunkMF` solves each folded user's
        factors and bias in closed form, a ridge regression on the fitted
        item side with the fit's ``reg`` (the optimum the training loss has
        for that user's rows). The dense models start a new user from the
        average user and take full-batch steps on the folded users'
        embedding rows alone (the rest of the network in inference mode);
        their fallback for unknown users, the average user, then counts
        the folded users too. :class:`~skembrec.EASE` scores a folded user
        by their interaction row times the fitted item-item weights (a
        known user's row replaced by the one of ``X``; the items they rated
        before stay seen). The folded users then work in ``predict``,
        ``recommend``, ``save`` and pickling like fitted ones. Ratings of
        items unknown to the fit carry no information here and are ignored.
        With side features, the folded users' feature contributions stay
        as fitted and their rows solve for the rest. A time-aware model
        counts the folded ratings' dates in those users' time statistics;
        FunkMF solves each one's drift with its factors and bias.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows of (user id, item id, ...), as in ``fit``: the ratings of
            the users to fold in.
        y : array-like of shape (n_samples,)
            Their ratings.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each rating.

        Returns
        -------
        self : object
            The estimator, with the users of ``X`` folded in.

        Raises
        ------
        NotImplementedError
            For a model without a fold-in rule.
        ValueError
            On bad input.
        """
        return fitting.fold_in(self, X, y, sample_weight)

    @staticmethod
    def _fit_weight(params, y, weight):
        """The weight of each rating in training and fold-in (``sample_weight``,
        or None); a model may leave ratings out (weight 0) by their value."""
        return weight

    def _changed_architecture(self, fitted, current):
        return [p for p in self._architecture if fitted.get(p) != current.get(p)]

    # -- the live Keras objects ------------------------------------------------
    def _live(self):
        """The live Keras objects, rebuilt from the fitted state when needed.

        They sit in one holder object so that building them lazily (after
        unpickling or loading) does not change the estimator's ``__dict__``.
        """
        state = self._fitted_state()
        runtime = vars(self).get("_runtime")
        if runtime is None:
            runtime = self._runtime = Runtime()
        if runtime.model is None:
            _runtime.restore(type(self), state, runtime)
        return runtime

    def _current_values(self):
        """``(weights, optimizer state)`` of the fit, as NumPy values."""
        return _runtime.current_values(vars(self).get("_runtime"), self._fitted_state())

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
        runtime.functions = {}
        self._state = state
        self._runtime = runtime
        # trace the prediction graph now: the first predict() costs no tracing
        fitting.trace_prediction(self, state)
        # and the factored ranking's tables (AutoRec's item codes) and trace
        self._prepare_recommend()

    def _fitted_state(self):
        return fitted_state(self)

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
        self._runtime = Runtime()

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
        from ._io.archive import to_archive

        state = self._fitted_state()
        weights, optimizer = self._current_values()
        header, arrays = to_archive(
            type(self).__name__, self.get_params(deep=False),
            dataclasses.replace(state, weights=weights, optimizer=optimizer),
            {k: vars(self)[k] for k in ("n_features_in_", "feature_names_in_")
             if k in vars(self)})
        _persistence.write(path, header, arrays, producer=f"skembrec {__version__}")

    def export(self, path):
        """Export the fitted model as a TensorFlow SavedModel, for serving.

        The folder runs with TensorFlow alone (``tf.saved_model.load(path)``,
        TF Serving): neither skembrec nor scikit-learn is needed. Its
        signatures take raw ids and give what the estimator gives, to
        float32 precision, cold-start fallback included:

        ``predict(user, item)``
            ``rating`` (float32), as :meth:`predict`; the classifier also
            gives ``probabilities`` (float32, ``(n, n_classes)``, columns in
            ``classes_`` order), and ``label`` instead of ``rating`` when its
            classes are strings. A time-aware model takes a third input,
            ``time``: float64 seconds since the Unix epoch.
        ``recommend(user, k, items, exclude_items)``
            ``items`` (raw ids) and ``scores`` (float32), both
            ``(n_users, min(k, n_items_))``, best first, the items rated in
            fit excluded, as :meth:`recommend`; the inputs ``items`` and
            ``exclude_items`` (1-D raw ids, empty for no filter) are its
            whitelist and blacklist. Absent for a classifier of string
            classes, which cannot rank.

        Parameters
        ----------
        path : str or path-like
            The folder to create. It must not exist, or be an empty folder.
            The SavedModel is written beside it under a temporary name and
            renamed into place, so an interrupted export leaves nothing.

        Raises
        ------
        FileExistsError
            When ``path`` is a file or a folder that is not empty.
        ValueError
            When the ids are neither integers nor strings (see Notes).

        Notes
        -----
        User and item ids are ``tf.int64`` inputs when the vocabulary's ids
        are integers (or integral floats such as ``196.0``), ``tf.string``
        when they are strings; other ids (mixed kinds, bools, non-integral
        floats) cannot be exported. A user with fewer than ``k`` candidate
        items gets its candidates, then padding: score ``-inf`` and item
        ``-1`` (integer ids) or ``""`` (string ids). See the user guide's
        "Serving a model" page for the whole recipe.
        """
        from ._io.export import export_saved_model

        export_saved_model(self, path)

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
        from ._io.archive import load_estimator

        return load_estimator(cls, BaseEmbeddingModel, _REGISTRY, path)

    # -- fitted attributes ---------------------------------------------------------
    @property
    def n_iter_(self):
        """Epochs trained so far."""
        return fitted_state(self).n_iter

    @property
    def history_(self):
        """Per-epoch ``{"loss": [...], "val_loss": [...]}``."""
        return fitted_state(self).history

    @property
    def n_users_(self):
        """Number of users in the vocabulary."""
        return len(fitted_state(self).user_vocab)

    @property
    def n_items_(self):
        """Number of items in the vocabulary."""
        return len(fitted_state(self).item_vocab)

    @property
    def user_ids_(self):
        """Raw user ids, in table order."""
        return fitted_state(self).user_vocab.ids

    @property
    def item_ids_(self):
        """Raw item ids, in table order."""
        return fitted_state(self).item_vocab.ids

    @property
    def feature_kinds_(self):
        """The kind read from the fit data for each side-feature column:
        ``{"user": {column: "numeric" | "categorical" | "multi"}, "item": {...}}``."""
        features = fitted_state(self).features or {}
        return {side: {} if features.get(side) is None else
                {c.ref: c.kind for c in features[side].columns}
                for side in ("user", "item")}

    @property
    def model_(self):
        """The fitted Keras model: ``[user_index, item_index] -> output``."""
        fitted_state(self)
        return self._live().model

    # -- prediction ------------------------------------------------------------
    def _encode_rows(self, X):
        """The rows of ``X`` as the graph reads them: ``(users, items, extra)``."""
        state = self._fitted_state()
        table = _validation.check_X(self, X, reset=False)
        users = state.user_vocab.transform(table.ids("user", fitting=False), name="user id")
        items = state.item_vocab.transform(table.ids("item", fitting=False), name="item id")
        return users, items, fitting.extra_inputs(table, users, items, state, fitting=False)

    def _raw_predict(self, X):
        return self._output(*self._encode_rows(X))

    def _output(self, users, items, extra=(), *, rank=False):
        """Model output for index arrays, in large compiled chunks; with
        ``rank``, the target's ranking score of it (computed in the graph)."""
        tf_ = tf()
        runtime = self._live()
        if runtime.functions.get(rank) is None:
            # one trace serves every input length, and every fit of this
            # graph signature
            specs = [tf_.TensorSpec([None, *[None] * (x.ndim - 1)], input_dtype(x))
                     for x in extra]
            runtime.functions[rank] = _runtime.predict_function(
                type(self), self._fitted_state(), runtime, rank, specs)
        function = runtime.functions[rank]
        outputs = [
            function(
                tf_.constant(users[lo:lo + _PREDICT_CHUNK], tf_.int32),
                tf_.constant(items[lo:lo + _PREDICT_CHUNK], tf_.int32),
                *(tf_.constant(x[lo:lo + _PREDICT_CHUNK], input_dtype(x)) for x in extra),
            ).numpy()
            for lo in range(0, len(users), _PREDICT_CHUNK)
        ]
        return np.concatenate(outputs) if outputs else np.empty(0)
