"""The item-batch training path: whole epochs over item rows in one graph.

A peer of the per-rating :class:`~skembrec._engine.trainers.ratings.Trainer`, for models
whose unit of training is an item's whole rating vector
(:class:`~skembrec.AutoRec`). The ratings sit in memory as two item x user
CSR matrices of tensors (on the GPU when there is one): the encoder's input
(everything the model reads: the fitted state's matrix, less the ratings
held out for early stopping) and the targets (this fit's ratings, repeated
pairs merged into their weighted mean with their summed weight). An epoch is
one ``tf.function`` call: the items with targets are shuffled inside the
graph, and a ``while`` loop takes them ``batch_size`` at a time, gathers
their rows of both matrices (ragged ranges of the CSR, never a dense item x
user block), encodes the input rows by a sparse-dense product and
reconstructs the observed targets only. No Python runs per batch.

The loss of a fit is I-AutoRec's,

.. math:: \\sum_{(u,i)} w_{ui} (r_{ui} - h(r_i)_u)^2
          + \\tfrac{\\lambda}{2} (\\|V\\|^2 + \\|W\\|^2),

a sum as in the paper (each batch its squared errors plus its items' share
of the penalty; a mean made Adam's epsilon matter), with dense updates of the same
optimizers (:class:`~skembrec._engine.optimizers.Optimizer`) and the same epoch
loop, early stopping, history and progress (:func:`~skembrec._engine.loop.run_epochs`).
"""

import numpy as np
import scipy.sparse as sp

from ..._io.state import matrix_keys
from ..backend import compiled, graph_loop, tf
from ..optimizers import Optimizer, OptimizerStateMixin
from ..training import check_peer_trainer
from .base import TrainingPath
from .ratings import _CHUNK


class ItemTrainer(OptimizerStateMixin, TrainingPath):
    """Train an item autoencoder on batches of items.

    Parameters
    ----------
    model : keras.Model
        A model with a layer named ``"item_autoencoder"``
        (:class:`~skembrec._engine.layers.ItemAutoencoder`).
    tables : list of Table
        The model's per-user tables (unused here: every variable is updated
        densely; they serve warm-start growth and the unknown row).
    loss : {"squared_error"}
        Only the squared error.
    optimizer : {"adagrad", "adam", "adamax", "sgd"}
        The update rule; its slots live as long as the trainer.
    learning_rate, reg : float
        Step size and the L2 coefficient :math:`\\lambda`; :meth:`configure`
        changes them (and the batch size) between epochs without retracing.
    batch_size : int
        Items per step.
    """

    layer_name = "item_autoencoder"

    def __init__(self, model, tables, *, loss, optimizer, learning_rate, reg, batch_size):
        tf_ = tf()
        check_peer_trainer(loss, "the item-batch trainer", "AutoRec")
        self.model = model
        self.tables = tables
        self.loss = loss
        self.layer = model.get_layer(self.layer_name)
        self._vars = [v.value for v in model.trainable_variables]
        self._penalised = [self.layer.encoder_kernel.value, self.layer.decoder_kernel.value]
        self.optimizer = Optimizer(optimizer, learning_rate, self._vars)
        self._reg = tf_.Variable(float(reg), dtype=tf_.float32, trainable=False)
        self.batch_size = int(batch_size)
        self._epoch = compiled(self._epoch_fn)
        self._evaluate = compiled(self._evaluate_fn)

    # configure: OptimizerStateMixin's, shared with the per-rating trainer

    # -- the data ------------------------------------------------------------
    def prepare(self, data):
        """The input and target matrices (and the validation pairs) as tensors.

        ``data`` is the fit's :class:`~skembrec._engine.trainers.base.FitData`
        (encoded targets), whose cells are the targets; the input matrix is
        ``state.ratings`` less the held-out pairs, so that validation never
        reads what it scores.
        """
        held_out = None if data.held_out is None else data.held_out.rows()
        inputs = data.state.ratings
        if held_out is not None:
            inputs = _without_pairs(inputs, held_out[0], held_out[1])
        values, weights = data.cells
        if values.nnz == 0:
            raise ValueError("sample_weight must give some rating a positive weight")
        matrix = _csr_tensors(inputs)
        data = {
            "input": matrix,
            "target": _csr_tensors(values) + (tf().constant(weights.data, tf().float32),),
            "active": tf().constant(np.flatnonzero(np.diff(values.indptr)), tf().int32),
            "total_weight": tf().constant(float(weights.data.sum()), tf().float32),
        }
        val = None
        if held_out is not None:
            val = {"input": matrix, "users": held_out[0], "items": held_out[1],
                   "target": np.asarray(held_out[2], np.float32),
                   "weight": np.asarray(held_out[3], np.float32)}
        return data, val

    # -- the graph -------------------------------------------------------------
    def _epoch_fn(self, matrix, targets, active, total_weight, seed, batch):
        tf_ = tf()
        n = tf_.size(active)
        order = tf_.gather(active, tf_.random.experimental.stateless_shuffle(
            tf_.range(n), seed=seed))
        n_batches = (n + batch - 1) // batch

        def batch_step(b, loss_sum):
            rows = order[b * batch: tf_.minimum((b + 1) * batch, n)]
            share = tf_.cast(tf_.size(rows), tf_.float32) / tf_.cast(n, tf_.float32)
            return (loss_sum + self._step(matrix, targets, rows, share, total_weight),)

        (loss_sum,) = graph_loop(n_batches, batch_step, tf_.constant(0.0))
        return loss_sum / total_weight

    def _step(self, matrix, targets, rows, share, total_weight):
        """One step on the item ``rows``; returns their weighted squared error."""
        from ..layers import _item_rows

        tf_ = tf()
        indptr, users, values, weights = targets
        positions, row_ids = _item_rows(indptr, rows)
        users, values = tf_.gather(users, positions), tf_.gather(values, positions)
        weights = tf_.gather(weights, positions)
        with tf_.GradientTape() as tape:
            codes = self.layer.encode(matrix, rows)
            output = self.layer.decode_at(codes, row_ids, users)
            error = tf_.reduce_sum(weights * tf_.square(output - values))
            penalty = tf_.add_n([tf_.reduce_sum(tf_.square(v)) for v in self._penalised])
            # the paper's sum, not a mean: Adam's epsilon stays negligible
            loss = error + share * 0.5 * self._reg * penalty
        grads = tape.gradient(loss, self._vars)
        optimizer = self.optimizer
        at = optimizer.begin(optimizer.lr, optimizer.step)
        for var, grad in zip(self._vars, grads):
            if grad is not None:
                optimizer.apply_dense(at, var, optimizer.slots[var.ref()],
                                      tf_.convert_to_tensor(grad))
        return error

    def _evaluate_fn(self, matrix, users, items, target, weight):
        tf_ = tf()
        unique, position = tf_.unique(items)
        output = self.layer.decode_at(self.layer.encode(matrix, unique), position, users)
        return tf_.reduce_sum(weight * tf_.square(output - target))

    # -- Python entry points, called once per epoch ------------------------------
    def run_epoch(self, data, epoch):
        """Train one epoch over ``data`` (of :meth:`prepare`); return its loss."""
        tf_ = tf()
        n_active = int(data["active"].shape[0])
        loss = self._epoch(
            data["input"], data["target"], data["active"], data["total_weight"],
            tf_.constant([epoch.seed, epoch.number], dtype=tf_.int64),
            tf_.constant(min(self.batch_size, max(n_active, 1)), dtype=tf_.int32))
        return float(loss)

    def validation_loss(self, val):
        """Mean (weighted) squared error on the held-out ratings, read from
        the reconstructions of the training input."""
        tf_ = tf()
        total = 0.0
        for lo in range(0, len(val["users"]), _CHUNK):
            part = slice(lo, lo + _CHUNK)
            total += float(self._evaluate(
                val["input"], tf_.constant(val["users"][part], tf_.int32),
                tf_.constant(val["items"][part], tf_.int32),
                tf_.constant(val["target"][part]), tf_.constant(val["weight"][part])))
        return total / max(float(np.sum(val["weight"])), 1e-12)


def _csr_tensors(matrix):
    tf_ = tf()
    return (tf_.constant(matrix.indptr.astype(np.int64)),
            tf_.constant(matrix.indices.astype(np.int64)),
            tf_.constant(matrix.data.astype(np.float32)))


def _without_pairs(matrix, users, items):
    """``matrix`` (items x users) without the entries at the (user, item) pairs."""
    n_users = matrix.shape[1]
    keep = ~np.isin(matrix_keys(matrix, n_users), items.astype(np.int64) * n_users + users)
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[keep]
    indptr = np.searchsorted(rows, np.arange(matrix.shape[0] + 1)).astype(np.int64)
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr),
                         shape=matrix.shape)
