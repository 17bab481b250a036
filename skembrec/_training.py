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

from dataclasses import dataclass

from ._backend import tf

OPTIMIZERS = ("adagrad", "adam", "sgd")


@dataclass
class Table:
    """An embedding table the trainer updates sparsely.

    ``side`` says which input indexes it (``"user"`` or ``"item"``): the
    graph must read the table exactly once per rating, through that index, so
    its gradient's rows are the batch's ids in batch order. ``reg`` is the
    L2 coefficient applied to the rows a batch touches.
    """

    variable: object
    side: str
    reg: float


class _Optimizer:
    """Sparse and dense update rules of one optimizer, with their slots."""

    def __init__(self, name, learning_rate, variables):
        tf_ = tf()
        self.name = name
        self.lr = tf_.constant(learning_rate, tf_.float32)
        self.step = tf_.Variable(0, dtype=tf_.int64, trainable=False)
        self.slots = {}
        for var in variables:
            ref = var.ref()
            if name == "adagrad":
                self.slots[ref] = (
                    tf_.Variable(tf_.zeros_like(var), trainable=False),
                )
            elif name == "adam":
                self.slots[ref] = (
                    tf_.Variable(tf_.zeros_like(var), trainable=False),
                    tf_.Variable(tf_.zeros_like(var), trainable=False),
                )
            else:
                self.slots[ref] = ()

    def begin_step(self):
        tf_ = tf()
        self.step.assign_add(1)
        if self.name == "adam":
            t = tf_.cast(self.step, tf_.float32)
            self._adam_lr = self.lr * tf_.sqrt(1 - 0.999**t) / (1 - 0.9**t)

    def sparse(self, var, indices, grad):
        """Update only ``var[indices]``; ``indices`` are unique."""
        tf_ = tf()
        slots = self.slots[var.ref()]
        if self.name == "adagrad":
            tf_.raw_ops.ResourceSparseApplyAdagradV2(
                var=var.handle,
                accum=slots[0].handle,
                lr=self.lr,
                epsilon=tf_.constant(1e-7),
                grad=grad,
                indices=indices,
                use_locking=False,
            )
        elif self.name == "adam":
            m, v = slots
            m_rows = 0.9 * tf_.gather(m, indices) + 0.1 * grad
            v_rows = 0.999 * tf_.gather(v, indices) + 0.001 * tf_.square(grad)
            m.scatter_update(tf_.IndexedSlices(m_rows, indices))
            v.scatter_update(tf_.IndexedSlices(v_rows, indices))
            delta = self._adam_lr * m_rows / (tf_.sqrt(v_rows) + 1e-7)
            var.scatter_sub(tf_.IndexedSlices(delta, indices))
        else:
            var.scatter_sub(tf_.IndexedSlices(self.lr * grad, indices))

    def dense(self, var, grad):
        tf_ = tf()
        slots = self.slots[var.ref()]
        if self.name == "adagrad":
            tf_.raw_ops.ResourceApplyAdagradV2(
                var=var.handle,
                accum=slots[0].handle,
                lr=self.lr,
                epsilon=tf_.constant(1e-7),
                grad=grad,
                use_locking=False,
            )
        elif self.name == "adam":
            m, v = slots
            m.assign(0.9 * m + 0.1 * grad)
            v.assign(0.999 * v + 0.001 * tf_.square(grad))
            var.assign_sub(self._adam_lr * m / (tf_.sqrt(v) + 1e-7))
        else:
            var.assign_sub(self.lr * grad)


class Trainer:
    """Train a Keras model of (user, item) inputs with sparse table updates.

    Parameters
    ----------
    model : keras.Model
        Takes ``[user_index, item_index]`` and returns predictions (a rating
        per row) or logits (one per class).
    tables : list of Table
        The model's embedding tables, updated sparsely and L2-regularised on
        the rows each batch touches.
    loss : {"squared_error", "cross_entropy"}
        Per-example loss between targets and the model's output.
    optimizer : {"adagrad", "adam", "sgd"}
    learning_rate : float
    batch_size : int
    """

    def __init__(self, model, tables, *, loss, optimizer, learning_rate, batch_size):
        tf_ = tf()
        self.model = model
        self.tables = tables
        self.loss = loss
        self.batch_size = int(batch_size)
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
        self._epoch = tf_.function(self._epoch_fn, reduce_retracing=True)
        self._evaluate = tf_.function(self._evaluate_fn, reduce_retracing=True)

    # -- the graph ---------------------------------------------------------
    def _example_loss(self, target, output):
        tf_ = tf()
        if self.loss == "squared_error":
            return tf_.square(output - target)
        return tf_.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf_.cast(target, tf_.int32), logits=output
        )

    def _step(self, users, items, target, weight):
        tf_ = tf()
        total_weight = tf_.maximum(tf_.reduce_sum(weight), 1e-12)
        with tf_.GradientTape() as tape:
            output = self.model([users, items], training=True)
            per_example = self._example_loss(target, output)
            loss = tf_.reduce_sum(weight * per_example) / total_weight
            if self.model.losses:
                loss += tf_.add_n(self.model.losses)
        grads = tape.gradient(loss, self._table_vars + self._dense_vars)
        self.optimizer.begin_step()
        share = weight / total_weight
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
            unique, position, n_unique, row_share = sides[table.side]
            # sum the rows of duplicate ids so each touched row is updated once
            summed = tf_.math.unsorted_segment_sum(grad.values, position, n_unique)
            if table.reg > 0:
                # gradient of reg * sum_b w_b ||row_b||^2 / sum w on the
                # touched rows only (Surprise's per-rating regularisation)
                rows = tf_.gather(var, unique)
                summed += (2.0 * table.reg) * tf_.reshape(
                    row_share, [-1] + [1] * (len(var.shape) - 1)) * rows
            self.optimizer.sparse(var, unique, summed)
        for var, grad in zip(self._dense_vars, grads[n_tables:]):
            if grad is not None:
                self.optimizer.dense(var, tf_.convert_to_tensor(grad))
        return tf_.reduce_sum(weight * per_example), tf_.reduce_sum(weight)

    def _epoch_fn(self, users, items, target, weight, seed):
        tf_ = tf()
        n = tf_.shape(users)[0]
        order = tf_.random.experimental.stateless_shuffle(tf_.range(n), seed=seed)
        batch = self.batch_size
        n_batches = (n + batch - 1) // batch
        loss_sum = tf_.constant(0.0)
        weight_sum = tf_.constant(0.0)
        for b in tf_.range(n_batches):
            index = order[b * batch : tf_.minimum((b + 1) * batch, n)]
            step_loss, step_weight = self._step(
                tf_.gather(users, index),
                tf_.gather(items, index),
                tf_.gather(target, index),
                tf_.gather(weight, index),
            )
            loss_sum += step_loss
            weight_sum += step_weight
        return loss_sum / tf_.maximum(weight_sum, 1e-12)

    def _evaluate_fn(self, users, items, target, weight):
        tf_ = tf()
        output = self.model([users, items], training=False)
        per_example = self._example_loss(target, output)
        return tf_.reduce_sum(weight * per_example) / tf_.maximum(
            tf_.reduce_sum(weight), 1e-12
        )

    # -- Python entry points, called once per epoch --------------------------
    def run_epoch(self, data, seed):
        """Train one epoch over ``data`` (a dict of tensors); return its loss."""
        loss = self._epoch(
            data["users"], data["items"], data["target"], data["weight"],
            tf().constant(seed, dtype=tf().int64),
        )
        return float(loss)

    def evaluate(self, data):
        """Mean (weighted) loss of the model on ``data``, without regularisation."""
        return float(
            self._evaluate(data["users"], data["items"], data["target"], data["weight"])
        )


def to_tensors(users, items, target, weight, target_dtype):
    """Move one dataset into (device) memory once, for all its epochs."""
    tf_ = tf()
    return {
        "users": tf_.constant(users, dtype=tf_.int32),
        "items": tf_.constant(items, dtype=tf_.int32),
        "target": tf_.constant(target, dtype=target_dtype),
        "weight": tf_.constant(weight, dtype=tf_.float32),
    }
