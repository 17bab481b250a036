"""The training loop: whole epochs in one compiled graph, sparse table updates.

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

import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .backend import compiled, graph_loop, keras, tf
from .programs import bind, model_values

OPTIMIZERS = ("adagrad", "adam", "adamax", "sgd")
MAX_SEED = 2**31 - 1
_CHUNK = 1 << 18


@dataclass
class Table:
    """An embedding table the trainer updates sparsely, as a model declares it.

    Parameters
    ----------
    variable : keras.Variable
        The table, ``n + 1`` rows: one per id and a last one for unknown ids.
    side : {"user", "item", "user_features", "item_features"}
        Which input indexes it: the graph must read the table exactly once
        per rating, through that index, so that its gradient's rows are the
        batch's ids in batch order. A feature table is read once per rating
        through that rating's bag of feature indices (``(batch, width)``),
        so its gradient's rows are the bags' entries in row-major order.
    unknown : {"zero", "mean"}, default="zero"
        What the last row holds after training: zeros (an unknown id adds
        nothing: biases, drifts) or the mean of the learnt rows (an unknown
        id is the average user or item).
    reg_scale : float, default=1.0
        The table's L2 coefficient, as a multiple of the estimator's ``reg``,
        applied to the rows a batch touches.
    lr_scale : float, default=1.0
        The table's step size, as a multiple of the optimizer's.
    """

    variable: object
    side: str
    unknown: str = "zero"
    reg_scale: float = 1.0
    lr_scale: float = 1.0


def check_peer_trainer(loss, path, model):
    """The guards of a training path that fits squared errors on one device
    (AutoRec's item batches, BayesianMF's sampler): ``ValueError`` otherwise."""
    if loss != "squared_error":
        raise ValueError(f"{path} fits squared errors, not {loss!r}")
    if tf().distribute.has_strategy():
        raise ValueError(f"{model} does not train under a tf.distribute strategy yet; "
                         "fit it outside the strategy's scope (one device)")


def fill_unknown_rows(tables):
    """Set every table's last row, the one unknown ids read."""
    tf_ = tf()
    for table in tables:
        var = table.variable
        n = var.shape[0] - 1
        if table.unknown == "mean":
            row = tf_.reduce_mean(var.value[:n], axis=0)
        else:
            row = tf_.zeros(var.shape[1:], dtype=var.dtype)
        var.value.scatter_update(tf_.IndexedSlices(row[None], [n]))


class _Optimizer:
    """Sparse and dense update rules of one optimizer, with their slots.

    Every write goes through a raw kernel on the variable's handle, so the
    same code updates each replica's copy under ``MirroredStrategy`` (where
    all replicas apply the same all-reduced gradient) and a plain variable.
    """

    def __init__(self, name, learning_rate, variables):
        tf_ = tf()
        self.name = name
        # a variable: warm start changes the rate without retracing
        self.lr = tf_.Variable(learning_rate, dtype=tf_.float32, trainable=False)
        self.step = tf_.Variable(
            0, dtype=tf_.int64, trainable=False,
            aggregation=tf_.VariableAggregation.ONLY_FIRST_REPLICA)
        self.slots = {}
        for var in variables:
            n_slots = {"adagrad": 1, "adam": 2, "adamax": 2}.get(name, 0)
            self.slots[var.ref()] = tuple(
                tf_.Variable(tf_.zeros_like(var), trainable=False) for _ in range(n_slots))

    def begin_step(self):
        tf_ = tf()
        self.step.assign_add(1)
        t = tf_.cast(self.step, tf_.float32) + 0.0
        self._beta1_power = 0.9**t
        self._beta2_power = 0.999**t

    def sparse(self, var, indices, grad, lr_scale=1.0):
        """Update only ``var[indices]``; ``indices`` are unique."""
        tf_ = tf()
        raw = tf_.raw_ops
        slots = self.slots[var.ref()]
        base_lr = self.lr if lr_scale == 1.0 else self.lr * lr_scale
        if self.name == "adagrad":
            raw.ResourceSparseApplyAdagradV2(
                var=var.handle, accum=slots[0].handle, lr=base_lr,
                epsilon=tf_.constant(1e-7), grad=grad, indices=indices)
        elif self.name == "adam":
            # lazy Adam: moments of the touched rows only
            m, v = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            v_rows = 0.999 * tf_.gather(v, indices) + 0.001 * tf_.square(grad)
            raw.ResourceScatterUpdate(resource=m.handle, indices=indices, updates=m_rows)
            raw.ResourceScatterUpdate(resource=v.handle, indices=indices, updates=v_rows)
            lr = base_lr * tf_.sqrt(1 - self._beta2_power) / (1 - self._beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (tf_.sqrt(v_rows) + 1e-7))
        elif self.name == "adamax":
            # lazy Adamax (Adam with an infinity norm), as Keras defines it
            m, u = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            u_rows = tf_.maximum(0.999 * tf_.gather(u, indices), tf_.abs(grad))
            raw.ResourceScatterUpdate(resource=m.handle, indices=indices, updates=m_rows)
            raw.ResourceScatterUpdate(resource=u.handle, indices=indices, updates=u_rows)
            lr = base_lr / (1 - self._beta1_power)
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=lr * m_rows / (u_rows + 1e-7))
        else:
            raw.ResourceScatterSub(resource=var.handle, indices=indices,
                                   updates=base_lr * grad)

    def dense(self, var, grad):
        tf_ = tf()
        raw = tf_.raw_ops
        slots = self.slots[var.ref()]
        if self.name == "adagrad":
            raw.ResourceApplyAdagradV2(
                var=var.handle, accum=slots[0].handle, lr=self.lr,
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adam":
            raw.ResourceApplyAdam(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=self._beta1_power, beta2_power=self._beta2_power,
                lr=self.lr, beta1=tf_.constant(0.9), beta2=tf_.constant(0.999),
                epsilon=tf_.constant(1e-7), grad=grad)
        elif self.name == "adamax":
            raw.ResourceApplyAdaMax(
                var=var.handle, m=slots[0].handle, v=slots[1].handle,
                beta1_power=self._beta1_power, lr=self.lr, beta1=tf_.constant(0.9),
                beta2=tf_.constant(0.999), epsilon=tf_.constant(1e-7), grad=grad)
        else:
            raw.ResourceApplyGradientDescent(var=var.handle, alpha=self.lr, delta=grad)


class OptimizerStateMixin:
    """The optimizer's state of a trainer (``self.model``, ``self.optimizer``),
    as plain arrays: part of the fitted state. Shared by every training path."""

    def optimizer_state(self):
        """The optimizer's step and slots as NumPy arrays.

        Slots are keyed by the position of their variable in
        ``model.variables``.
        """
        position = {w.value.ref(): n for n, w in enumerate(self.model.variables)}
        return {
            "name": self.optimizer.name,
            "step": int(self.optimizer.step.numpy()),
            "slots": {position[ref]: [s.numpy() for s in slots]
                      for ref, slots in self.optimizer.slots.items()},
        }

    def load_optimizer_state(self, state):
        """Restore :meth:`optimizer_state` (a slot's rows may have grown)."""
        if state is None or state["name"] != self.optimizer.name:
            return
        self.optimizer.step.assign(state["step"])
        weights = self.model.variables
        for n, arrays in state["slots"].items():
            var = weights[int(n)].value
            for slot, value in zip(self.optimizer.slots[var.ref()], arrays):
                fresh = slot.numpy()
                rows = min(len(fresh), len(value)) if fresh.ndim else None
                if fresh.shape == value.shape:
                    fresh = value
                elif rows is not None and fresh.shape[1:] == value.shape[1:]:
                    # a table grew (warm start with new ids): learnt rows keep
                    # their slots, new rows start afresh
                    fresh[:rows - 1] = value[:rows - 1]
                else:
                    raise ValueError(
                        f"optimizer slot of {var.name} has shape {value.shape}, "
                        f"expected {fresh.shape}")
                slot.assign(fresh)


class Trainer(OptimizerStateMixin):
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
    """

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
        table_refs = {t.variable.value.ref() for t in tables}
        self._table_vars = [t.variable.value for t in tables]
        self._dense_vars = [
            v.value
            for v in model.trainable_variables
            if v.value.ref() not in table_refs
        ]
        self.optimizer = _Optimizer(
            optimizer, learning_rate, self._table_vars + self._dense_vars
        )
        self._reg = tf_.Variable(float(reg), dtype=tf_.float32, trainable=False)
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
            self._epoch = compiled(self._epoch_fn)
            self._stream_epoch = tf_.function(self._stream_epoch_fn, reduce_retracing=True)
            self._evaluate = compiled(self._evaluate_fn)
            return
        # the program's functions take this trainer's variables as inputs
        tables = {v.ref() for v in self._table_vars}
        tables |= {s.ref() for v in self._table_vars for s in self.optimizer.slots[v.ref()]}
        self._epoch, self._evaluate, self._stream_epoch = program.functions(
            self.state_variables(), tables)

    def state_variables(self):
        """Every variable the training graph reads or writes, flat: the
        model's, the optimizer's slots (in table then dense order), its
        rate and step, the L2 coefficient."""
        slots = [s for v in self._table_vars + self._dense_vars
                 for s in self.optimizer.slots[v.ref()]]
        return (model_values(self.model) + slots
                + [self.optimizer.lr, self.optimizer.step, self._reg])

    @contextmanager
    def bound(self, state):
        """Within: this (template) trainer reads and writes the variables
        ``state`` (another trainer's :meth:`state_variables`, of the same
        graph) instead of its own; what a shared trace runs on."""
        n_model = len(self.model.variables)
        with bind(self.model, state[:n_model]) as stand_in:
            own = (self._table_vars, self._dense_vars, self.optimizer.slots,
                   self.optimizer.lr, self.optimizer.step, self._reg)
            rest = iter(state[n_model:])
            tables = [stand_in[v.ref()] for v in self._table_vars]
            dense = [stand_in[v.ref()] for v in self._dense_vars]
            slots = {new.ref(): tuple(next(rest) for _ in self.optimizer.slots[old.ref()])
                     for old, new in zip(self._table_vars + self._dense_vars, tables + dense)}
            try:
                self._table_vars, self._dense_vars = tables, dense
                self.optimizer.slots = slots
                self.optimizer.lr, self.optimizer.step, self._reg = rest
                yield
            finally:
                (self._table_vars, self._dense_vars, self.optimizer.slots,
                 self.optimizer.lr, self.optimizer.step, self._reg) = own

    def configure(self, *, learning_rate, reg, batch_size):
        """Take the current training settings (warm start, ``partial_fit``)."""
        self.optimizer.lr.assign(float(learning_rate))
        self._reg.assign(float(reg))
        self.batch_size = int(batch_size)
        if (reg > 0) != self._regularised:
            self._trace(reg > 0)

    # -- the graph ---------------------------------------------------------
    def _example_loss(self, target, output):
        tf_ = tf()
        if self.loss == "squared_error":
            return tf_.square(output - target)
        if self.loss == "logistic":
            return tf_.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
        return tf_.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf_.cast(target, tf_.int32), logits=output
        )

    def _with_negatives(self, users, items, target, weight, extra, seed):
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
            input=self._table_vars[self._item_table].handle, out_type=tf_.int32)[0] - 1
        sampled = tf_.random.stateless_uniform(
            [n * k], seed=seed, minval=0, maxval=n_items, dtype=tf_.int32)
        return (
            tf_.concat([users, tf_.repeat(users, k)], 0),
            tf_.concat([items, sampled], 0),
            tf_.concat([target, tf_.zeros([n * k], target.dtype)], 0),
            tf_.concat([weight, self.negative_weight * tf_.repeat(weight, k)], 0),
            tuple(tf_.concat([x, tf_.repeat(x, k, axis=0)], 0) for x in extra),
        )

    def _step(self, users, items, target, weight, extra):
        """One step on a global batch; returns (weighted loss sum, weight sum).

        ``extra`` is a tuple of further model inputs, row-aligned with the
        batch (the time features of time-aware models), possibly empty.
        """
        tf_ = tf()
        if self._strategy is None:
            return self._replica_step(users, items, target, weight, extra)
        # every replica receives the whole batch and trains on its own slice
        results = self._strategy.run(self._replica_step,
                                     args=(users, items, target, weight, extra))
        return tuple(self._strategy.reduce(tf_.distribute.ReduceOp.SUM, r, axis=None)
                     for r in results)

    def _replica_step(self, users, items, target, weight, extra):
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
            # bfloat16; the loss, like Keras', is taken in float32
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
        variables = self._table_vars + self._dense_vars
        grads = tape.gradient(loss, variables)
        if context is not None:
            # sparse gradients are gathered (their rows concatenated in
            # replica order, i.e. in global batch order), dense ones summed
            present = [n for n, g in enumerate(grads) if g is not None]
            reduced = context.all_reduce(tf_.distribute.ReduceOp.SUM,
                                         [grads[n] for n in present])
            grads = list(grads)
            for n, g in zip(present, reduced):
                grads[n] = g
        self._apply(grads, users, items, weight / total_weight)
        return tf_.reduce_sum(local_weight * per_example), tf_.reduce_sum(local_weight)

    def _apply(self, grads, users, items, share):
        """Apply gradients whose table rows follow the global batch order."""
        tf_ = tf()
        self.optimizer.begin_step()
        # every table is read once per rating through its side's index, so
        # the duplicate structure of a batch is found once per side
        sides = {}
        for side, index in (("user", users), ("item", items)):
            if any(t.side == side for t in self.tables):
                unique, position = tf_.unique(index)
                n_unique = tf_.shape(unique)[0]
                row_share = tf_.math.unsorted_segment_sum(share, position, n_unique)
                sides[side] = (unique, position, n_unique, row_share)
        n_tables = len(self._table_vars)
        for table, var, grad in zip(self.tables, self._table_vars, grads[:n_tables]):
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
                summed += (2.0 * table.reg_scale * self._reg) * tf_.reshape(
                    row_share, [-1] + [1] * (len(var.shape) - 1)) * rows
            self.optimizer.sparse(var, unique, summed, table.lr_scale)
        for var, grad in zip(self._dense_vars, grads[n_tables:]):
            if grad is not None:
                self.optimizer.dense(var, tf_.convert_to_tensor(grad))

    def _epoch_fn(self, users, items, target, weight, extra, seed, batch):
        tf_ = tf()
        n = tf_.shape(users)[0]
        order = tf_.random.experimental.stateless_shuffle(tf_.range(n), seed=seed)
        n_batches = (n + batch - 1) // batch
        if self._strategy is not None:
            # replicas exchange gradients of equal shapes only: fill the last
            # batch with a weightless rating of the unknown user and item,
            # whose table rows are refilled after training anyway
            users, items, target, weight, extra = self._with_padding_row(
                users, items, target, weight, extra)
            order = tf_.concat([order, tf_.fill([n_batches * batch - n], n)], axis=0)
            n = n_batches * batch

        def batch_step(b, loss_sum, weight_sum):
            index = order[b * batch : tf_.minimum((b + 1) * batch, n)]
            rows = (tf_.gather(users, index), tf_.gather(items, index),
                    tf_.gather(target, index), tf_.gather(weight, index),
                    tuple(tf_.gather(x, index) for x in extra))
            if self.negatives:
                rows = self._with_negatives(
                    *rows, seed + tf_.stack([tf_.cast(b, tf_.int64) + 1, 0]))
            step_loss, step_weight = self._step(*rows)
            return loss_sum + step_loss, weight_sum + step_weight

        loss_sum, weight_sum = graph_loop(n_batches, batch_step,
                                          tf_.constant(0.0), tf_.constant(0.0))
        return loss_sum / tf_.maximum(weight_sum, 1e-12)

    def _stream_epoch_fn(self, dataset):
        tf_ = tf()
        loss_sum = tf_.constant(0.0)
        weight_sum = tf_.constant(0.0)
        for users, items, target, weight in dataset:
            step_loss, step_weight = self._step(users, items, target, weight, ())
            loss_sum += step_loss
            weight_sum += step_weight
        return loss_sum / tf_.maximum(weight_sum, 1e-12)

    def _with_padding_row(self, users, items, target, weight, extra):
        tf_ = tf()
        unknown = {t.side: t.variable.shape[0] - 1 for t in self.tables}
        return (
            tf_.concat([users, [unknown.get("user", 0)]], axis=0),
            tf_.concat([items, [unknown.get("item", 0)]], axis=0),
            tf_.concat([target, tf_.zeros([1], target.dtype)], axis=0),
            tf_.concat([weight, tf_.zeros([1], weight.dtype)], axis=0),
            tuple(tf_.concat([x, tf_.zeros_like(x[:1])], axis=0) for x in extra),
        )

    def _evaluate_fn(self, users, items, target, weight, extra):
        tf_ = tf()
        output = tf_.cast(self.model([users, items, *extra], training=False), tf_.float32)
        per_example = self._example_loss(target, output)
        return tf_.reduce_sum(weight * per_example) / tf_.maximum(
            tf_.reduce_sum(weight), 1e-12
        )

    # -- Python entry points, called once per epoch --------------------------
    def prepare(self, arrays, held_out, state):
        """The training data (and validation data, or None) as tensors.

        ``arrays`` and ``held_out`` are ``[users, items, target, weight,
        *extra]`` row-aligned arrays (``held_out`` None without early
        stopping); ``state`` is the fit's :class:`~skembrec._io.state.FittedState`.
        """
        dtype = getattr(tf(), state.target.dtype)
        val = None if held_out is None else to_tensors(*held_out[:4], dtype,
                                                       tuple(held_out[4:]))
        return to_tensors(*arrays[:4], dtype, tuple(arrays[4:])), val

    def validation_loss(self, val):
        """Mean (weighted) loss on the validation data of :meth:`prepare`."""
        return _validation_loss(self, val)

    def run_epoch(self, data, seed):
        """Train one epoch over ``data`` (a dict of tensors); return its loss."""
        loss = self._epoch(
            data["users"], data["items"], data["target"], data["weight"], data["extra"],
            tf().constant(seed, dtype=tf().int64),
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
        "extra": tuple(tf_.constant(x, dtype=tf_.int32 if np.asarray(x).dtype.kind in "iu"
                                    else tf_.float32) for x in extra),
    }


# -- the epoch loop every fit shares ------------------------------------------
def split_validation(arrays, fraction, rng):
    """Hold out ``fraction`` of the rows of every array: ``(train, validation)``."""
    n = len(arrays[0])
    n_val = max(1, int(round(fraction * n)))
    if n_val >= n:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training ratings out of {n}")
    order = rng.permutation(n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    return ([a[train_idx] for a in arrays], [a[val_idx] for a in arrays])


def run_epochs(trainer, run_epoch, *, n_epochs, first_epoch, rng, val=None, tol=0.0,
               n_iter_no_change=1, verbose=0):
    """Train up to ``n_epochs`` epochs; return the per-epoch losses.

    ``run_epoch(seed)`` trains one epoch and returns its loss; ``seed`` pairs
    a draw of ``rng`` with the epoch's number since the first fit
    (``first_epoch`` onwards). With ``val`` (tensors of :func:`to_tensors`),
    training stops when the validation loss has not improved by ``tol`` for
    ``n_iter_no_change`` epochs, and the best epoch's weights are restored.

    Returns
    -------
    losses, val_losses : list of float
        ``val_losses`` holds None for every epoch when ``val`` is None.
    """
    progress = Progress(verbose, n_epochs)
    losses, val_losses = [], []
    best, best_weights, no_change = np.inf, None, 0
    for epoch in range(n_epochs):
        start = time.perf_counter()
        loss = run_epoch([int(rng.randint(MAX_SEED)), first_epoch + epoch])
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss} at epoch {first_epoch + epoch + 1}; "
                "lower learning_rate or scale the ratings"
            )
        val_loss = trainer.validation_loss(val) if val is not None else None
        losses.append(loss)
        val_losses.append(val_loss)
        progress.update(epoch, loss, val_loss, time.perf_counter() - start)
        if val is not None:
            if val_loss < best - tol:
                best, no_change = val_loss, 0
                best_weights = [w.numpy() for w in trainer.model.weights]
            else:
                no_change += 1
                if no_change >= n_iter_no_change:
                    break
    if best_weights is not None:
        trainer.model.set_weights(best_weights)
    return losses, val_losses


def _validation_loss(trainer, val):
    n = int(val["users"].shape[0])
    total = 0.0
    for lo in range(0, n, _CHUNK):
        part = {k: v[lo:lo + _CHUNK] for k, v in val.items() if k != "extra"}
        part["extra"] = tuple(x[lo:lo + _CHUNK] for x in val["extra"])
        total += trainer.evaluate(part) * float(np.sum(part["weight"]))
    return total / float(np.sum(val["weight"]))


class Progress:
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


def fold_in_by_steps(model, table, folded, users, items, target, weight, *, loss, reg,
                     extra=(), steps=200, learning_rate=0.05):
    """Fit the rows ``folded`` of the embedding ``table`` to these ratings alone.

    Full-batch Adam steps, compiled into one graph, on the training loss
    (``loss``: ``"squared_error"`` or ``"cross_entropy"``) with the
    per-rating L2 penalty ``reg``; ``extra`` holds the model's further
    inputs for these ratings. The model runs in inference mode (no
    dropout, batch-normalisation statistics untouched), the gradient reaches
    only the folded rows, and only they are written: every other value of
    the model stays bit for bit. Returns the new rows.
    """
    tf_ = tf()
    variable = table.value
    n_rows = int(variable.shape[0])
    slot_of = np.full(n_rows, len(folded), dtype=np.int32)
    slot_of[folded] = np.arange(len(folded), dtype=np.int32)
    users_t = tf_.constant(users, tf_.int32)
    items_t = tf_.constant(items, tf_.int32)
    folded_t = tf_.constant(folded[:, None], tf_.int64)
    share = tf_.constant(weight / weight.sum(), tf_.float32)
    target_t = tf_.constant(target, tf_.float32)
    extra_t = tuple(tf_.constant(x, tf_.int32 if np.asarray(x).dtype.kind in "iu"
                                 else tf_.float32) for x in extra)
    width = int(variable.shape[1])
    m = tf_.Variable(tf_.zeros((len(folded), width)))
    v = tf_.Variable(tf_.zeros((len(folded), width)))
    beta1, beta2, eps = 0.9, 0.999, 1e-7

    def example_loss(output):
        output = tf_.cast(output, tf_.float32)
        if loss == "squared_error":
            return tf_.square(output - target_t)
        return tf_.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf_.cast(target_t, tf_.int32), logits=output)

    def one_step(b):
        # one Adam step on the folded rows
        step = b + 1
        with tf_.GradientTape() as tape:
            output = model([users_t, items_t, *extra_t], training=False)
            rows = tf_.gather(variable, users_t)
            total = tf_.reduce_sum(share * example_loss(output)) + reg * tf_.reduce_sum(
                share * tf_.reduce_sum(tf_.square(rows), axis=1))
        grad = tape.gradient(total, variable)
        # the gradient's rows are ratings' users: summed per folded user
        grad = tf_.math.unsorted_segment_sum(
            grad.values, tf_.gather(tf_.constant(slot_of), grad.indices), len(folded) + 1
        )[:-1] if isinstance(grad, tf_.IndexedSlices) else tf_.gather(
            grad, folded_t[:, 0])
        m.assign(beta1 * m + (1 - beta1) * grad)
        v.assign(beta2 * v + (1 - beta2) * tf_.square(grad))
        t = tf_.cast(step, tf_.float32)
        update = learning_rate * (m / (1 - beta1**t)) / (tf_.sqrt(v / (1 - beta2**t)) + eps)
        variable.scatter_nd_sub(folded_t, update)
        return ()

    @compiled
    def run():
        graph_loop(tf_.constant(steps, tf_.int32), one_step)
        return tf_.gather(variable, folded_t[:, 0])

    return run().numpy()
