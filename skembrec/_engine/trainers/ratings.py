"""The per-rating training path: whole epochs in one compiled graph, sparse
table updates.

An epoch is a single ``tf.function`` call: the training data sit in memory as
tensors (on the GPU when there is one), are shuffled by index inside the
graph, and are consumed batch after batch by a ``while`` loop, so no Python
runs per batch. Embedding tables are updated sparsely: the gradient of a
table arrives as ``IndexedSlices`` (only the rows in the batch), duplicate
rows are summed, and only those rows of the table and of its optimizer state
are read and written. The cost of a step therefore grows with the batch, not
with the number of users or items. Dense weights (the MLP of the embedding
models) get the ordinary dense update of the same optimizer.
"""

from typing import NamedTuple

import numpy as np

from ..backend import compiled, graph_loop, tf
from ..optimizers import Optimizer, OptimizerStateMixin
from ..programs import model_values
from ..training import input_dtype
from .base import TrainingPath

_CHUNK = 1 << 18


class TrainState(NamedTuple):
    """The variables the graph functions of :class:`Trainer` read and write,
    their first argument: those they update (which the model's layers read
    too), the optimizer's state and the L2 coefficient."""

    #: the embedding tables, in the order of the trainer's ``tables``
    tables: tuple
    #: the model's other trainable variables (updated densely)
    dense: tuple
    #: the optimizer's slot tuple of each variable, tables then dense
    slots: tuple
    #: the optimizer's rate and step count, the L2 coefficient
    lr: object
    step: object
    reg: object


class Trainer(OptimizerStateMixin, TrainingPath):
    """Train a Keras model of (user, item) inputs with sparse table updates.

    Parameters
    ----------
    model : keras.Model
        Takes ``[user_index, item_index, *extra]`` and returns predictions (a
        rating per row) or logits (one per class).
    tables : list of Table
        The model's embedding tables, updated sparsely and L2-regularised on
        the rows each batch touches.
    loss : {"squared_error", "cross_entropy"}
        Per-example loss between targets and the model's output.
    optimizer : {"adagrad", "adam", "adamax", "sgd"}
        The update rule; its slots live as long as the trainer.
    learning_rate, reg : float
        Step size and L2 coefficient; :meth:`configure` changes them (and
        the batch size) between epochs without retracing.
    batch_size : int
        Ratings per step.
    shared : callable or False, default=False
        ``shared(regularised, settings)`` gives the compiled functions this
        trainer's graph shares with every fit of the same signature
        (:func:`~skembrec._engine.programs.trainer_program`), or None; False: the
        trainer traces its own.

    Notes
    -----
    The graph functions (``_epoch_fn``, ``_stream_epoch_fn``,
    ``_evaluate_fn`` and the ``_step`` and ``_apply`` they call) take the
    :class:`TrainState` they train as their first argument; ``self``
    gives them only what is fixed when they are traced (the model, the
    tables' declarations, the loss, the settings). A trainer tracing its own
    compiles them over its own :attr:`state`; a shared trace
    (:class:`~skembrec._engine.programs.TrainerProgram`) runs a template
    trainer's functions on the state of the fit that calls it.
    """

    streams = True

    def __init__(self, model, tables, *, loss, optimizer, learning_rate, reg, batch_size,
                 negatives=0, negative_weight=1.0, shared=False):
        tf_ = tf()
        self.model = model
        self.tables = tables
        self.loss = loss
        # sampled negatives (implicit feedback): per rating, ``negatives``
        # items drawn uniformly in the graph, label 0, weight times
        # ``negative_weight``
        self.negatives = int(negatives)
        self.negative_weight = float(negative_weight)
        # the settings a trace depends on (beside whether it regularises)
        self._settings = {"loss": loss, "optimizer": optimizer,
                          "negatives": self.negatives,
                          "negative_weight": self.negative_weight}
        self._shared = shared
        self._item_table = next((n for n, t in enumerate(tables) if t.side == "item"), None)
        # where the tables and the other trainable variables sit among the
        # model's variables (a template's are in the same places)
        values = model_values(model)
        position = {v.ref(): n for n, v in enumerate(values)}
        self._table_at = [position[t.variable.value.ref()] for t in tables]
        table_refs = {values[n].ref() for n in self._table_at}
        self._dense_at = [position[v.value.ref()] for v in model.trainable_variables
                          if v.value.ref() not in table_refs]
        trained = [values[n] for n in self._table_at + self._dense_at]
        self.optimizer = Optimizer(optimizer, learning_rate, trained)
        self._slot_counts = [len(s) for s in self.optimizer.slots_of(trained)]
        self._reg = tf_.Variable(float(reg), dtype=tf_.float32, trainable=False)
        #: the :class:`TrainState` of this trainer's own variables
        self.state = self.state_of(self.state_variables())
        self.batch_size = int(batch_size)
        # `with strategy.scope(): est.fit(X, y)` (the Keras convention) trains
        # data-parallel over the strategy's replicas; the model and the slots
        # were created inside that scope, so they are mirrored
        # (with one replica too: its variables are distributed all the same)
        self._strategy = (tf_.distribute.get_strategy() if tf_.distribute.has_strategy()
                          else None)
        self._trace(reg > 0)

    def _trace(self, regularised):
        # whether to regularise is a trace-time choice (reg=0 skips the
        # gather of the touched rows); the coefficient itself is a variable
        tf_ = tf()
        self._regularised = bool(regularised)
        program = None
        if self._shared and self._strategy is None:
            program = self._shared(self._regularised, self._settings)
        if program is None:
            # this trainer's own compiled functions, over its own state
            self._epoch = compiled(_on(self.state, self._epoch_fn))
            # iterating a dataset takes AutoGraph
            self._stream_epoch = tf_.function(_on(self.state, self._stream_epoch_fn),
                                              reduce_retracing=True)
            self._evaluate = compiled(_on(self.state, self._evaluate_fn))
            return
        # the program's functions take this trainer's variables as inputs;
        # the tables' rows (and their slots') vary between fits
        n_tables = len(self.tables)
        tables = {v.ref() for v in self.state.tables}
        tables |= {s.ref() for slots in self.state.slots[:n_tables] for s in slots}
        self._epoch, self._evaluate, self._stream_epoch = program.functions(
            self.state_variables(), tables)

    def _regularise(self, regularised):
        if regularised != self._regularised:
            self._trace(regularised)

    def state_variables(self):
        """Every variable the training graph reads or writes, flat: the
        model's (``model.variables`` order), the optimizer's slots (in table
        then dense order), its rate and step, the L2 coefficient."""
        values = model_values(self.model)
        trained = [values[n] for n in self._table_at + self._dense_at]
        slots = [s for slots in self.optimizer.slots_of(trained) for s in slots]
        return values + slots + [self.optimizer.lr, self.optimizer.step, self._reg]

    def state_of(self, variables):
        """The :class:`TrainState` of ``variables``, laid out as
        :meth:`state_variables` (this trainer's, or in a shared trace those
        of another fit of the same graph)."""
        n_model = len(self.model.variables)
        model, rest = variables[:n_model], iter(variables[n_model:])
        slots = tuple(tuple(next(rest) for _ in range(n)) for n in self._slot_counts)
        lr, step, reg = rest
        return TrainState(tables=tuple(model[n] for n in self._table_at),
                          dense=tuple(model[n] for n in self._dense_at),
                          slots=slots, lr=lr, step=step, reg=reg)

    # -- the graph: functions of the TrainState they train -------------------
    def _example_loss(self, target, output):
        tf_ = tf()
        if self.loss == "squared_error":
            return tf_.square(output - target)
        if self.loss == "logistic":
            return tf_.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
        return tf_.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf_.cast(target, tf_.int32), logits=output
        )

    def _with_negatives(self, state, users, items, target, weight, extra, seed):
        """The batch and, after it, ``negatives`` sampled items per rating of
        its user (label 0): drawn uniformly in the graph from a stateless
        seed, so a fit is reproducible."""
        tf_ = tf()
        k = self.negatives
        n = tf_.shape(users)[0]
        # the item table's size is read when the graph runs: a shared trace
        # serves tables of every size (its variables' static shapes are
        # those of the fit that traced it, so tf.shape would be a constant)
        n_items = tf_.raw_ops.VariableShape(
            input=state.tables[self._item_table].handle, out_type=tf_.int32)[0] - 1
        sampled = tf_.random.stateless_uniform(
            [n * k], seed=seed, minval=0, maxval=n_items, dtype=tf_.int32)
        return (
            tf_.concat([users, tf_.repeat(users, k)], 0),
            tf_.concat([items, sampled], 0),
            tf_.concat([target, tf_.zeros([n * k], target.dtype)], 0),
            tf_.concat([weight, self.negative_weight * tf_.repeat(weight, k)], 0),
            tuple(tf_.concat([x, tf_.repeat(x, k, axis=0)], 0) for x in extra),
        )

    def _step(self, state, users, items, target, weight, extra):
        """One step on a global batch; returns (weighted loss sum, weight sum).

        ``extra`` is a tuple of further model inputs, row-aligned with the
        batch (the time features of time-aware models), possibly empty.
        """
        tf_ = tf()
        if self._strategy is None:
            return self._replica_step(state, users, items, target, weight, extra)
        # every replica receives the whole batch and trains on its own slice
        # (the state's mirrored variables reach each replica as they are)
        results = self._strategy.run(self._replica_step,
                                     args=(state, users, items, target, weight, extra))
        return tuple(self._strategy.reduce(tf_.distribute.ReduceOp.SUM, r, axis=None)
                     for r in results)

    def _replica_step(self, state, users, items, target, weight, extra):
        tf_ = tf()
        # the loss is scaled by the global batch's weight, so summing the
        # replicas' gradients gives exactly the single-device gradient
        total_weight = tf_.maximum(tf_.reduce_sum(weight), 1e-12)
        local_users, local_items, local_target, local_weight = users, items, target, weight
        local_extra = extra
        context = None
        if self._strategy is not None:
            context = tf_.distribute.get_replica_context()
            replica = context.replica_id_in_sync_group
            n_replicas = context.num_replicas_in_sync
            n = tf_.shape(users)[0]
            lo, hi = n * replica // n_replicas, n * (replica + 1) // n_replicas
            local_users, local_items = users[lo:hi], items[lo:hi]
            local_target, local_weight = target[lo:hi], weight[lo:hi]
            local_extra = tuple(x[lo:hi] for x in extra)
        with tf_.GradientTape() as tape:
            # under a mixed-precision policy the graph computes in float16 or
            # bfloat16; the loss, like Keras', is taken in float32 (the model
            # reads state.tables and state.dense through its layers)
            output = tf_.cast(
                self.model([local_users, local_items, *local_extra], training=True),
                tf_.float32)
            per_example = self._example_loss(local_target, output)
            loss = tf_.reduce_sum(local_weight * per_example) / total_weight
            if self.model.losses:
                penalty = tf_.add_n(self.model.losses)
                if context is not None:
                    penalty /= tf_.cast(context.num_replicas_in_sync, penalty.dtype)
                loss += penalty
        grads = tape.gradient(loss, list(state.tables + state.dense))
        if context is not None:
            # sparse gradients are gathered (their rows concatenated in
            # replica order, i.e. in global batch order), dense ones summed
            present = [n for n, g in enumerate(grads) if g is not None]
            reduced = context.all_reduce(tf_.distribute.ReduceOp.SUM,
                                         [grads[n] for n in present])
            grads = list(grads)
            for n, g in zip(present, reduced):
                grads[n] = g
        self._apply(state, grads, users, items, weight / total_weight)
        return tf_.reduce_sum(local_weight * per_example), tf_.reduce_sum(local_weight)

    def _apply(self, state, grads, users, items, share):
        """Apply gradients whose table rows follow the global batch order."""
        tf_ = tf()
        optimizer = self.optimizer  # its rules only: the state is ``state``'s
        at = optimizer.begin(state.lr, state.step)
        # every table is read once per rating through its side's index, so
        # the duplicate structure of a batch is found once per side
        sides = {}
        for side, index in (("user", users), ("item", items)):
            if any(t.side == side for t in self.tables):
                unique, position = tf_.unique(index)
                n_unique = tf_.shape(unique)[0]
                row_share = tf_.math.unsorted_segment_sum(share, position, n_unique)
                sides[side] = (unique, position, n_unique, row_share)
        n_tables = len(state.tables)
        for table, var, slots, grad in zip(self.tables, state.tables, state.slots,
                                           grads[:n_tables]):
            if grad is None:
                continue
            if table.side in sides:
                unique, position, n_unique, row_share = sides[table.side]
            else:
                # a feature table: the gradient's rows are the batch's bags,
                # row-major, each entry weighing as much as its rating
                unique, position = tf_.unique(grad.indices)
                n_unique = tf_.shape(unique)[0]
                width = tf_.shape(grad.indices)[0] // tf_.maximum(tf_.shape(share)[0], 1)
                row_share = tf_.math.unsorted_segment_sum(
                    tf_.repeat(share, width), position, n_unique)
            # sum the rows of duplicate ids so each touched row is updated once
            summed = tf_.math.unsorted_segment_sum(grad.values, position, n_unique)
            if self._regularised and table.reg_scale > 0:
                # gradient of reg * sum_b w_b ||row_b||^2 / sum w on the
                # touched rows only (Surprise's per-rating regularisation)
                rows = tf_.gather(var, unique)
                summed += (2.0 * table.reg_scale * state.reg) * tf_.reshape(
                    row_share, [-1] + [1] * (len(var.shape) - 1)) * rows
            optimizer.apply_sparse(at, var, slots, unique, summed, table.lr_scale)
        for var, slots, grad in zip(state.dense, state.slots[n_tables:], grads[n_tables:]):
            if grad is not None:
                optimizer.apply_dense(at, var, slots, tf_.convert_to_tensor(grad))

    def _epoch_fn(self, state, users, items, target, weight, extra, seed, batch):
        tf_ = tf()
        n = tf_.shape(users)[0]
        order = tf_.random.experimental.stateless_shuffle(tf_.range(n), seed=seed)
        n_batches = (n + batch - 1) // batch
        if self._strategy is not None:
            # replicas exchange gradients of equal shapes only: fill the last
            # batch with a weightless rating of the unknown user and item,
            # whose table rows are refilled after training anyway
            users, items, target, weight, extra = self._with_padding_row(
                state, users, items, target, weight, extra)
            order = tf_.concat([order, tf_.fill([n_batches * batch - n], n)], axis=0)
            n = n_batches * batch

        def batch_step(b, loss_sum, weight_sum):
            index = order[b * batch : tf_.minimum((b + 1) * batch, n)]
            rows = (tf_.gather(users, index), tf_.gather(items, index),
                    tf_.gather(target, index), tf_.gather(weight, index),
                    tuple(tf_.gather(x, index) for x in extra))
            if self.negatives:
                rows = self._with_negatives(
                    state, *rows, seed + tf_.stack([tf_.cast(b, tf_.int64) + 1, 0]))
            step_loss, step_weight = self._step(state, *rows)
            return loss_sum + step_loss, weight_sum + step_weight

        loss_sum, weight_sum = graph_loop(n_batches, batch_step,
                                          tf_.constant(0.0), tf_.constant(0.0))
        return loss_sum / tf_.maximum(weight_sum, 1e-12)

    def _stream_epoch_fn(self, state, dataset):
        tf_ = tf()
        loss_sum = tf_.constant(0.0)
        weight_sum = tf_.constant(0.0)
        for users, items, target, weight in dataset:
            step_loss, step_weight = self._step(state, users, items, target, weight, ())
            loss_sum += step_loss
            weight_sum += step_weight
        return loss_sum / tf_.maximum(weight_sum, 1e-12)

    def _with_padding_row(self, state, users, items, target, weight, extra):
        tf_ = tf()
        unknown = {t.side: var.shape[0] - 1 for t, var in zip(self.tables, state.tables)}
        return (
            tf_.concat([users, [unknown.get("user", 0)]], axis=0),
            tf_.concat([items, [unknown.get("item", 0)]], axis=0),
            tf_.concat([target, tf_.zeros([1], target.dtype)], axis=0),
            tf_.concat([weight, tf_.zeros([1], weight.dtype)], axis=0),
            tuple(tf_.concat([x, tf_.zeros_like(x[:1])], axis=0) for x in extra),
        )

    def _evaluate_fn(self, state, users, items, target, weight, extra):
        """The mean (weighted) loss; the model reads ``state``'s variables
        (nothing else of it is read)."""
        tf_ = tf()
        output = tf_.cast(self.model([users, items, *extra], training=False), tf_.float32)
        per_example = self._example_loss(target, output)
        return tf_.reduce_sum(weight * per_example) / tf_.maximum(
            tf_.reduce_sum(weight), 1e-12
        )

    # -- Python entry points, called once per epoch --------------------------
    def prepare(self, data):
        """The training data (and validation data, or None) as tensors.

        ``data`` is the fit's :class:`~skembrec._engine.trainers.base.FitData`.
        """
        dtype = getattr(tf(), data.state.target.dtype)
        held_out = data.held_out
        val = None if held_out is None else to_tensors(
            held_out.users, held_out.items, held_out.target, held_out.weight, dtype,
            held_out.extra)
        return to_tensors(data.users, data.items, data.target, data.weight, dtype,
                          data.extra), val

    def validation_loss(self, val):
        """Mean (weighted) loss on the validation data of :meth:`prepare`."""
        return _validation_loss(self, val)

    def run_epoch(self, data, epoch):
        """Train one epoch over ``data`` (a dict of tensors); return its loss."""
        loss = self._epoch(
            data["users"], data["items"], data["target"], data["weight"], data["extra"],
            tf().constant([epoch.seed, epoch.number], dtype=tf().int64),
            # a batch larger than the data is the whole data (and fits int32)
            tf().constant(min(self.batch_size, max(int(data["users"].shape[0]), 1)),
                          dtype=tf().int32),
        )
        return float(loss)

    def run_stream_epoch(self, dataset):
        """Train one epoch over a ``tf.data`` dataset of index batches."""
        if self._strategy is not None:
            raise ValueError("streaming from shards is not combined with a "
                             "tf.distribute strategy")
        return float(self._stream_epoch(dataset))

    def evaluate(self, data):
        """Mean (weighted) loss of the model on ``data``, without regularisation."""
        return float(self._evaluate(data["users"], data["items"], data["target"],
                                    data["weight"], data["extra"]))


def _on(state, function):
    """``function`` with its first argument, the :class:`TrainState`, given."""
    def run(*args):
        return function(state, *args)

    run.__name__ = function.__name__
    return run


def to_tensors(users, items, target, weight, target_dtype, extra=()):
    """Move one dataset into (device) memory once, for all its epochs.

    ``extra`` holds further inputs of the model, one row per rating:
    integer arrays (feature indices) become int32, others float32.
    """
    tf_ = tf()
    return {
        "users": tf_.constant(users, dtype=tf_.int32),
        "items": tf_.constant(items, dtype=tf_.int32),
        "target": tf_.constant(target, dtype=target_dtype),
        "weight": tf_.constant(weight, dtype=tf_.float32),
        "extra": tuple(tf_.constant(x, dtype=input_dtype(x)) for x in extra),
    }



def _validation_loss(trainer, val):
    n = int(val["users"].shape[0])
    total = 0.0
    for lo in range(0, n, _CHUNK):
        part = {k: v[lo:lo + _CHUNK] for k, v in val.items() if k != "extra"}
        part["extra"] = tuple(x[lo:lo + _CHUNK] for x in val["extra"])
        total += trainer.evaluate(part) * float(np.sum(part["weight"]))
    return total / float(np.sum(val["weight"]))


