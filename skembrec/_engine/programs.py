"""Compiled functions shared by every fit of one graph signature: a cache
around the functions a trainer would compile for itself.

Tracing a training epoch and the prediction function costs a few tenths of
a second, paid again by every fit if each fit traced its own: most of the
time of a small fit, and most of a grid search on small data, where every
clone on every fold builds the same graph with other tables.

A trainer that traces its own compiles its graph functions over its own
state (:class:`~skembrec._engine.trainers.ratings.TrainState`, their first
argument). The functions here take the fit's variables as arguments
instead. For each graph signature (the model class, the parameters that
shape or enter its graph, the target's structure, the side inputs, the
dtype policy) a small *template* model and trainer are built once; a shared
function calls the template trainer's same graph functions with the
calling fit's state, and binds the template model's Keras variables to the
fit's for the duration of the trace (the one thing a state argument cannot
reach: the layers read their own variables). The traced graph reads and
writes the variables it is given, and its first trace leaves table sizes
and data lengths unknown (:func:`trace_loosely`), so one trace serves every
fit of that signature: other folds, refits, clones and training settings.

Nothing is shared where a graph holds values of its fit (a model that
reads the training ratings, such as AutoRec), nor under a
``tf.distribute`` strategy, whose variables are not plain resources.

This is the one module that relies on private Keras and TensorFlow APIs:
the TensorFlow variable behind a Keras variable (``KerasVariable._value``,
read by :func:`model_values` and swapped by :func:`bind`), and
``tensorflow.python.ops.resource_variable_ops.VariableSpec`` (the specs of
variables of any number of rows, :func:`trace_loosely`). A Keras or
TensorFlow upgrade that changes them is caught by ``tests/test_programs.py``.
"""

import threading
from collections import OrderedDict
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np

from .backend import compiled, tf

# how many graph signatures keep their compiled functions (least recently
# used first out); a grid search has a few, a session rarely more
CACHE_SIZE = 16

# binding a template to a fit's variables, and the caches, under one lock:
# traces are rare and short, and two threads must not bind one template
_LOCK = threading.RLock()
_TEMPLATES = OrderedDict()
_PROGRAMS = OrderedDict()
# how many functions have been traced, by kind: what the tests and
# benchmarks read to see that fits share their traces
TRACES = {"epoch": 0, "evaluate": 0, "stream_epoch": 0, "predict": 0}


def clear():
    """Forget every template and compiled function (tests, benchmarks)."""
    with _LOCK:
        _TEMPLATES.clear()
        _PROGRAMS.clear()


def _cached(cache, key, make):
    with _LOCK:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        value = cache[key] = make()
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
        return value


def plain(variables):
    """Whether the variables are plain resources (not mirrored by a strategy)."""
    tf_ = tf()
    return not (tf_.distribute.has_strategy() or any(
        isinstance(v, tf_.distribute.DistributedValues) for v in variables))


def template(key, build):
    """The template of ``key``: ``build()``'s model and tables (a graph of
    that signature with one-row tables), built once."""
    def make():
        model, tables = build()
        return SimpleNamespace(model=model, tables=tables)

    return _cached(_TEMPLATES, key, make)


@contextmanager
def bind(model, values):
    """Within: ``model``'s Keras variables are ``values`` (TensorFlow
    variables, in ``model.variables`` order)."""
    variables = model.variables
    if len(values) != len(variables):
        raise RuntimeError(f"a template of {len(variables)} variables was given "
                           f"{len(values)}")
    with _LOCK:
        own = [v._value for v in variables]
        try:
            for var, value in zip(variables, values):
                var._value = value
            yield
        finally:
            for var, value in zip(variables, own):
                var._value = value


def loose(structure):
    """Specs of the tensors in ``structure`` with every dimension unknown."""
    tf_ = tf()
    return tf_.nest.map_structure(
        lambda t: tf_.TensorSpec([None] * t.shape.rank, t.dtype), structure)


def trace_loosely(function, variables, tables, specs):
    """Trace ``function(variables, *specs)`` with the first dimension of the
    variables in ``tables`` (refs) unknown, unless a trace serves it already.

    Variable specs are TensorFlow internals: without them (another
    version), the trace is for these variables' shapes, and
    ``reduce_retracing`` leaves a dimension unknown once it has varied.
    """
    try:
        from tensorflow.python.ops.resource_variable_ops import VariableSpec

        # alias_id: the position of each (distinct) variable in the call
        placeholders = [VariableSpec(
            shape=[None, *v.shape[1:]] if v.ref() in tables and v.shape.rank else v.shape,
            dtype=v.dtype, trainable=v.trainable, alias_id=n)
            for n, v in enumerate(variables)]
        return function.get_concrete_function(placeholders, *specs)
    except (ImportError, TypeError, NotImplementedError):  # pragma: no cover
        return function.get_concrete_function(variables, *specs)


def model_values(model):
    """The TensorFlow variables behind ``model``'s Keras variables."""
    return [v._value for v in model.variables]


class TrainerProgram:
    """A template trainer's epoch and evaluation functions, taking a fit's
    flat trainer state (:meth:`~skembrec._engine.trainers.ratings.Trainer.state_variables`)
    as their first argument."""

    def __init__(self, trainer):
        tf_ = tf()
        self.trainer = trainer
        self.epoch = compiled(self._shared("epoch", trainer._epoch_fn))
        self.evaluate = compiled(self._shared("evaluate", trainer._evaluate_fn))
        # iterating a dataset takes AutoGraph
        self.stream_epoch = tf_.function(
            self._shared("stream_epoch", trainer._stream_epoch_fn), reduce_retracing=True)

    def functions(self, state, tables):
        """``(epoch, evaluate, stream_epoch)`` of the trainer whose
        :meth:`~skembrec._engine.trainers.ratings.Trainer.state_variables` are ``state``;
        ``tables``: the refs of those whose rows vary between fits.

        The first call of each traces, where no trace serves it yet, for
        tables of any size and data of any length, so that other folds and
        refits do not trace again.
        """
        def prepared(function):
            ready = []

            def call(*args):
                if not ready:
                    trace_loosely(function, state, tables, loose(args))
                    ready.append(True)
                return function(state, *args)

            return call

        return (prepared(self.epoch), prepared(self.evaluate),
                lambda *args: self.stream_epoch(state, *args))

    def _shared(self, name, body):
        """``body`` (a graph function of the template trainer) run on the
        fit whose flat state is the first argument: its model's variables
        bound into the template model, the rest as the body's
        :class:`~skembrec._engine.trainers.ratings.TrainState`."""
        trainer = self.trainer
        n_model = len(trainer.model.variables)

        def run(variables, *args):
            TRACES[name] += 1
            with bind(trainer.model, variables[:n_model]):
                return body(trainer.state_of(variables), *args)

        run.__name__ = name
        return run


def trainer_program(key, build, trainer_cls, regularised, settings):
    """The shared :class:`TrainerProgram` of the graph signature ``key``
    (``build``: its template's graph) with these trace-time settings
    (``settings``: the trainer's keyword arguments other than its rate,
    coefficient and batch size)."""
    program_key = ("train", key, trainer_cls, bool(regularised), repr(sorted(settings.items())))

    def make():
        shell = template(key, build)
        trainer = trainer_cls(shell.model, shell.tables, learning_rate=0.0,
                              reg=1.0 if regularised else 0.0, batch_size=1,
                              shared=False, **settings)
        return TrainerProgram(trainer)

    return _cached(_PROGRAMS, program_key, make)


def predict_function(key, build, model, tables, target, rank, extra_specs):
    """``f(user, item, *extra)``: ``model``'s output (or with ``rank`` the
    ``target``'s ranking score of it) for index tensors, traced for inputs
    of any length, once for every fit of the graph signature ``key``
    (None: this model's own trace); ``tables``: the model's
    :class:`~skembrec._engine.training.Table` list."""
    tf_ = tf()
    specs = [tf_.TensorSpec([None], tf_.int32)] * 2 + list(extra_specs)

    def body(network, u, i, *e):
        output = tf_.cast(network([u, i, *e], training=False), tf_.float32)
        return target.rank_tensor(tf_, output) if rank else output

    values = model_values(model)
    if key is None or not plain(values):
        return tf_.function(lambda u, i, *e: body(model, u, i, *e), input_signature=specs,
                            autograph=False)
    # the ranking score of class labels holds the labels
    classes = repr(np.asarray(target.classes).tolist()) if rank and hasattr(
        target, "classes") else None
    program_key = ("predict", key, bool(rank), classes,
                   tuple((s.dtype.name, s.shape.rank) for s in extra_specs))

    def make():
        shell = template(key, build)

        def run(variables, u, i, *e):
            TRACES["predict"] += 1
            with bind(shell.model, variables):
                return body(shell.model, u, i, *e)

        return compiled(run)

    function = _cached(_PROGRAMS, program_key, make)
    # trace for tables of any size and inputs of any length now (after fit,
    # not at the first predict)
    trace_loosely(function, values, {t.variable._value.ref() for t in tables}, specs)
    return lambda u, i, *e: function(values, u, i, *e)
