"""The live Keras objects of a fitted estimator, built from its fitted state.

A :class:`Runtime` holds what cannot be pickled (the Keras model, its
tables, the trainer with its optimizer slots, the traced prediction
function). The functions here build one from a
:class:`~skembrec._io.state.FittedState`, grow or reconfigure one for a warm
start, and read its values back into plain arrays. The graph itself comes
from the model class (``_build_graph``), given a :class:`GraphSpec`.
"""

import numbers
import re
from types import SimpleNamespace

import numpy as np

from . import programs as _programs
from .backend import keras, tf
from .trainers.ratings import Trainer
from .training import MAX_SEED


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
    features : dict
        ``{"user": SideFeatures or None, "item": ...}``: the side features
        of the fit (:mod:`._features`).
    ratings : scipy.sparse.csr_matrix or None
        The fitted state's item x user matrix of encoded ratings, for a
        graph that reads the training ratings (``_reads_ratings``); else None.
    """

    def __init__(self, params, target, n_users, n_items, rng, features=None, ratings=None):
        self.params = SimpleNamespace(**params)
        self.target = target
        self.n_users = n_users
        self.n_items = n_items
        self.features = features or {"user": None, "item": None}
        self.ratings = ratings
        self._rng = rng
        self._inputs = None

    def seed(self):
        """A fresh integer seed for an initialiser or a dropout layer."""
        return int(self._rng.randint(MAX_SEED))

    def inputs(self):
        """Keras inputs ``(user, item, time)``; ``time`` is None unless the
        model is time-aware, else the ``(n, 2)`` features of :mod:`._time`.

        Made once per spec, with the side-feature inputs (see
        :meth:`feature_inputs`); :meth:`model_inputs` lists them all in the
        order the model takes them.
        """
        if self._inputs is None:
            k = keras()
            inputs = {"user": k.Input(shape=(), dtype="int32", name="user"),
                      "item": k.Input(shape=(), dtype="int32", name="item")}
            if self.params.time_column is not None:
                inputs["time"] = k.Input(shape=(2,), dtype="float32", name="time")
            for side in ("user", "item"):
                if self.features.get(side) is not None:
                    inputs[f"{side}_features"] = (
                        k.Input(shape=(None,), dtype="int32", name=f"{side}_feature_index"),
                        k.Input(shape=(None,), dtype="float32",
                                name=f"{side}_feature_value"))
            self._inputs = inputs
        return self._inputs["user"], self._inputs["item"], self._inputs.get("time")

    def feature_inputs(self, side):
        """``(index, value)`` Keras inputs of a side's feature bags, and the
        number of tokens of its table (the table needs one more row); None
        without features on that side."""
        self.inputs()
        pair = self._inputs.get(f"{side}_features")
        return None if pair is None else (*pair, self.features[side].n_tokens)

    def model_inputs(self):
        """Every input the model takes, in order: user, item, then (where the
        fit has them) time, user feature index and value, item feature index
        and value."""
        self.inputs()
        order = []
        for key in ("user", "item", "time", "user_features", "item_features"):
            value = self._inputs.get(key)
            if value is not None:
                order.extend(value if isinstance(value, tuple) else [value])
        return order


class Runtime:
    """Live, unpicklable Keras/TensorFlow objects of one fitted estimator."""

    def __init__(self, model=None, tables=None, built_with=None):
        self.model = model
        self.tables = tables
        self.built_with = built_with
        self.trainer = None
        self.functions = {}  # traced prediction functions, by kind


def build(model_cls, state, rng):
    """A new runtime of ``state``'s graph, with freshly initialised tables."""
    spec = GraphSpec(state.params, state.target, len(state.user_vocab),
                     len(state.item_vocab), rng, features=state.features,
                     ratings=state.ratings)
    try:
        model, tables = model_cls._build_graph(spec)
    except tf().errors.ResourceExhaustedError as error:
        # a table larger than memory (n_factors or n_time_bins of 10**9):
        # the sizes the user chose, not TensorFlow's allocator, in the error
        sizes = ", ".join(f"{name}={state.params[name]!r}" for name in model_cls._architecture
                          if name.startswith("n_")
                          and isinstance(state.params.get(name), numbers.Integral))
        raise ValueError(
            f"{model_cls.__name__}'s tables for {len(state.user_vocab):,} users and "
            f"{len(state.item_vocab):,} items need more memory than is available "
            f"({sizes}): lower them{_oom_shape(error)}") from None
    return Runtime(model, tables, built_with=dict(state.params))


def _oom_shape(error):
    """`` (a table of shape [...])`` from TensorFlow's out-of-memory message, or ''."""
    found = re.search(r"shape\[([\d,]+)\]", str(error))
    return f" (a table of shape [{found.group(1)}])" if found else ""


def attach_trainer(model_cls, runtime, state):
    """Give ``runtime`` a trainer with the training settings of ``state``.

    The model class names its training path from the fit's parameters
    (``_trainer_class``: the per-rating trainer, AutoRec's item batches,
    BayesianMF's sampler, ...). The per-rating trainer runs the compiled
    functions every fit of the same graph signature shares
    (:mod:`.programs`).
    """
    params = state.params
    trainer_cls = model_cls._trainer_class(params)
    # what the model's training path needs besides the shared settings
    # (ImplicitMF's sampled negatives, BayesianMF's kept sweeps)
    options = model_cls._trainer_options(params)
    key = graph_key(model_cls, state)
    if (trainer_cls is Trainer and key is not None
            and _programs.plain(_programs.model_values(runtime.model))):
        options["shared"] = lambda regularised, settings: _programs.trainer_program(
            key, _template_builder(model_cls, state), Trainer, regularised, settings)
    # the settings of gradient training, where the model has them (a
    # sampler has none)
    settings = {name: params[name] for name in ("optimizer", "learning_rate", "reg",
                                                "batch_size") if name in params}
    runtime.trainer = trainer_cls(runtime.model, runtime.tables,
                                  loss=model_cls._target_class(params).loss, **settings, **options)
    return runtime.trainer


def graph_key(model_cls, state):
    """What determines the code of ``state``'s graph (the fits that may share
    compiled functions, :mod:`._programs`), or None where a graph holds
    values of its fit (the training ratings)."""
    if model_cls._reads_ratings:
        return None
    graph_params = sorted(_graph_params(model_cls, state.params).items())
    target = state.target
    sides = tuple(side for side in ("user", "item")
                  if (state.features or {}).get(side) is not None)
    return (model_cls, repr(graph_params), type(target).__name__,
            getattr(target, "n_classes", None), sides, keras().config.dtype_policy().name)


def _graph_params(model_cls, params):
    """The parameters that shape or enter the graph (the model's declared
    training and prediction parameters left out)."""
    other = model_cls._training_parameters | model_cls._prediction_parameters
    return {k: v for k, v in params.items() if k not in other}


def _template_builder(model_cls, state):
    """Builds ``state``'s graph with one-row tables: a shared trace's template."""
    def build():
        features = {side: None if (state.features or {}).get(side) is None
                    else SimpleNamespace(n_tokens=1) for side in ("user", "item")}
        return model_cls._build_graph(GraphSpec(
            state.params, state.target, 1, 1, np.random.RandomState(0), features=features))

    return build


def predict_function(model_cls, state, runtime, rank, extra_specs):
    """The compiled prediction function of a fitted runtime (see
    :func:`._programs.predict_function`)."""
    return _programs.predict_function(
        graph_key(model_cls, state), _template_builder(model_cls, state), runtime.model,
        runtime.tables, state.target, rank, extra_specs)


def new(model_cls, state, rng):
    """A new runtime of ``state``'s graph, with its trainer."""
    runtime = build(model_cls, state, rng)
    attach_trainer(model_cls, runtime, state)
    return runtime


def restore(model_cls, state, runtime):
    """Fill the empty holder ``runtime`` from ``state.weights``."""
    built = build(model_cls, state, np.random.RandomState(0))
    set_variables(built.model, state.weights)
    runtime.__dict__.update(built.__dict__)
    return runtime


def resume(model_cls, old, state, weights, optimizer, rng):
    """The runtime a warm start trains: ``old``, grown or reconfigured.

    The current training settings apply; optimizer slots carry over (unless
    the optimizer changed); grown tables keep their learnt rows. A change of
    a graph setting that is not architectural (``alpha``, ``init_std``), or
    a graph that reads the training ratings (whose matrix the warm start
    changes), rebuilds the graph and copies every value over.
    """
    sizes = (len(state.user_vocab), len(state.item_vocab))
    graph_params = _graph_params(model_cls, state.params)
    built = {k: v for k, v in old.built_with.items() if k in graph_params}
    if table_sizes(old) != sizes or built != graph_params or state.ratings is not None:
        runtime = build(model_cls, state, rng)
        copy_weights(old, runtime, weights)
        attach_trainer(model_cls, runtime, state).load_optimizer_state(optimizer)
        return runtime
    old.built_with = dict(state.params)
    # the path of the current settings (a changed solver is another path)
    if (old.trainer is None or type(old.trainer) is not model_cls._trainer_class(state.params)
            or not old.trainer.configure(state.params)):
        attach_trainer(model_cls, old, state).load_optimizer_state(optimizer)
    return old


def current_values(runtime, state):
    """``(weights, optimizer state)`` of the fit, as NumPy values."""
    if runtime is None or runtime.model is None:
        return state.weights, state.optimizer
    weights = [v.numpy() for v in runtime.model.variables]
    optimizer = (runtime.trainer.optimizer_state() if runtime.trainer is not None
                 else state.optimizer)
    return weights, optimizer


def table_sizes(runtime):
    """``(n_users, n_items)`` of a runtime's tables (unknown row not counted)."""
    sizes = {}
    for t in runtime.tables:
        sizes.setdefault(t.side, t.variable.shape[0] - 1)
    return sizes.get("user"), sizes.get("item")


def variable_shapes(model_cls, state):
    """The shapes of the variables :func:`build` would create for ``state``,
    found without allocating any (a crafted file's sizes are checked before
    its tables are made); None where this Keras cannot tell."""
    k = keras()
    # Keras keeps the variables made in a stateless scope in a global list
    # until some later scope initialises them: take ours out again (through
    # Keras' internals; a Keras without them skips this check, and the
    # shapes are still compared once the model is built)
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - another Keras layout
        return None

    pending = list(global_state.get_global_attribute("uninitialized_variables") or [])
    try:
        with k.StatelessScope(initialize_variables=False):
            return [tuple(v.shape) for v in build(model_cls, state, np.random.RandomState(0))
                    .model.variables]
    finally:
        global_state.set_global_attribute("uninitialized_variables", pending)


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


def copy_weights(old, new, weights):
    """Copy ``weights`` (of ``old``'s graph) into ``new``'s; grown tables keep
    their learnt rows, new rows keep their initial values."""
    sides = {id(t.variable): t.side for t in old.tables}
    old_sizes = dict(zip(("user", "item"), table_sizes(old)))
    for old_var, new_var, value in zip(old.model.variables, new.model.variables, weights):
        if id(old_var) in sides and tuple(new_var.shape) != value.shape:
            fresh = new_var.numpy()
            n_old = old_sizes[sides[id(old_var)]]
            fresh[:n_old] = value[:n_old]
            value = fresh
        new_var.assign(value)
