"""Pieces every training path shares: the tables a model declares, the
guards of the peer paths, the unknown rows, and fold-in by steps.

The paths themselves live in :mod:`skembrec._engine.trainers` (one file
each, behind :class:`~skembrec._engine.trainers.base.TrainingPath`), their
optimizers in :mod:`skembrec._engine.optimizers`, the epoch loop in
:mod:`skembrec._engine.loop`.
"""

from dataclasses import dataclass

import numpy as np

from .backend import compiled, graph_loop, tf
from .optimizers import Optimizer

MAX_SEED = 2**31 - 1


def input_dtype(array):
    """The graph dtype of an extra input (time features, feature bags): int32
    for integer arrays (feature indices), float32 otherwise. The one rule for
    training, fold-in and prediction alike."""
    return tf().int32 if np.asarray(array).dtype.kind in "iu" else tf().float32



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
    unknown : {"zero", "mean", "trained"}, default="zero"
        What the last row holds after training: zeros (an unknown id adds
        nothing: biases, drifts), the mean of the learnt rows (an unknown
        id is the average user or item), or what the training path wrote
        there (BayesianMF's prior mean of the ids, with side features).
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


def check_peer_trainer(loss, path, model, losses=("squared_error",)):
    """The guards of a training path that fits squared errors (or one of
    ``losses``) on one device (AutoRec's item batches, BayesianMF's
    sampler): ``ValueError`` otherwise."""
    if loss not in losses:
        raise ValueError(f"{path} fits {' or '.join(losses)}, not {loss!r}")
    if tf().distribute.has_strategy():
        raise ValueError(f"{model} does not train under a tf.distribute strategy yet; "
                         "fit it outside the strategy's scope (one device)")


def fill_unknown_rows(tables):
    """Set every table's last row, the one unknown ids read."""
    tf_ = tf()
    for table in tables:
        var = table.variable
        n = var.shape[0] - 1
        if table.unknown == "trained":
            continue
        if table.unknown == "mean":
            row = tf_.reduce_mean(var.value[:n], axis=0)
        else:
            row = tf_.zeros(var.shape[1:], dtype=var.dtype)
        var.value.scatter_update(tf_.IndexedSlices(row[None], [n]))



def fold_in_by_steps(model, table, folded, users, items, target, weight, *, loss, reg,
                     extra=(), steps=200, learning_rate=0.05):
    """Fit the rows ``folded`` of the embedding ``table`` to these ratings alone.

    Full-batch Adam steps (:class:`~skembrec._engine.optimizers.Optimizer`'s
    rule), compiled into one graph, on the training loss
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
    extra_t = tuple(tf_.constant(x, input_dtype(x)) for x in extra)
    # the folded rows, updated densely and written back to the table after
    # each step (the model reads the table); their Adam slots are theirs alone
    rows = tf_.Variable(tf_.gather(variable, folded_t[:, 0]))
    adam = Optimizer("adam", learning_rate, [rows])
    (slots,) = adam.slots_of([rows])

    def example_loss(output):
        output = tf_.cast(output, tf_.float32)
        if loss == "squared_error":
            return tf_.square(output - target_t)
        return tf_.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf_.cast(target_t, tf_.int32), logits=output)

    def one_step(b):
        with tf_.GradientTape() as tape:
            output = model([users_t, items_t, *extra_t], training=False)
            rated = tf_.gather(variable, users_t)
            total = tf_.reduce_sum(share * example_loss(output)) + reg * tf_.reduce_sum(
                share * tf_.reduce_sum(tf_.square(rated), axis=1))
        grad = tape.gradient(total, variable)
        # the gradient's rows are ratings' users: summed per folded user
        grad = tf_.math.unsorted_segment_sum(
            grad.values, tf_.gather(tf_.constant(slot_of), grad.indices), len(folded) + 1
        )[:-1] if isinstance(grad, tf_.IndexedSlices) else tf_.gather(
            grad, folded_t[:, 0])
        adam.apply_dense(adam.begin(adam.lr, adam.step), rows, slots, grad)
        variable.scatter_nd_update(folded_t, rows)
        return ()

    @compiled
    def run():
        graph_loop(tf_.constant(steps, tf_.int32), one_step)
        return tf_.gather(variable, folded_t[:, 0])

    return run().numpy()
