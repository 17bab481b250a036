"""The alternating-least-squares training path of :class:`~skembrec.ImplicitMF`.

``ImplicitMF(solver="als")``: Hu, Koren and Volinsky's weighted least squares
over every user-item pair, solved one side at a time with the other fixed
(:func:`~skembrec._engine.solvers.implicit_least_squares`). With the score
:math:`s_{ui} = p_u^\\top q_i + b_i` of ImplicitMF's graph, a fit minimises

.. math::

    \\sum_{(u,i) \\in O} w_{ui} (1 - s_{ui})^2
    + \\nu \\sum_{(u,i) \\notin O} s_{ui}^2
    + \\lambda \\Big(\\sum_u W_u \\|p_u\\|^2 + \\sum_i W_i (\\|q_i\\|^2 + b_i^2)\\Big)

where :math:`O` holds the interactions (the ratings of fit with a positive
weight, repeated pairs summed into :math:`w_{ui}`), :math:`\\nu` is
``negative_weight`` (the weight of an item the user did not choose,
relative to an interaction's), :math:`\\lambda` is ``reg`` and
:math:`W_u = \\max(\\sum_{i \\in O_u} w_{ui}, 1)` a row's interaction weight
(:func:`row_penalty`): each row is penalised once per interaction, as the
sampled-steps solver penalises a row once per rating (Zhou et al. 2008's
weighted-lambda regularisation; ``ImplicitMF``'s docstring gives the
measurements that chose it over one ``reg`` for every row). An epoch is
one ALS iteration: every user's :math:`p_u` given the items (the item
biases an offset), then every item's :math:`[q_i, b_i]` given the users'
:math:`[p_u, 1]`, both in one compiled ``tf.function`` call writing the
model's tables, so ``predict``, ``recommend``, export and persistence are
those of the sampled-steps solver.

Where every interaction weighs :math:`\\nu` (the default: weights of one,
``negative_weight=1``) every row of a side shares its matrix up to its
ridge, and each half-step is exact: one ``k x k`` eigendecomposition and
one sparse product. Otherwise each row takes :data:`CG_STEPS`
conjugate-gradient steps warm-started at its current vector (implicit's
recipe), which never raise the objective: the training loss falls every
epoch either way.
"""

import numpy as np
import scipy.sparse as sp

from ..backend import compiled, tf
from ..solvers import implicit_least_squares
from .base import TrainingPath

# conjugate-gradient steps per row and half-step where the interactions'
# weights differ from negative_weight: implicit's default (cg_steps=3)
CG_STEPS = 3


class ImplicitALS(TrainingPath):
    """Fit ImplicitMF's tables by implicit alternating least squares.

    Parameters
    ----------
    model : keras.Model
        ImplicitMF's graph (layers ``user_embedding``, ``item_embedding``,
        ``item_bias``).
    tables : list of Table
        Its tables (their last, unknown rows are left out of the solves).
    loss : {"logistic"}
        The implicit-feedback target's declared loss; the path fits the
        squared error of the module docstring instead.
    reg : float
        :math:`\\lambda`, the ridge coefficient per unit of a row's
        interaction weight.
    negative_weight : float
        :math:`\\nu`.
    **settings
        The sampled-steps solver's settings (``optimizer``,
        ``learning_rate``, ``batch_size``), which ALS does not have: ignored.
    """

    streams = False
    validates = False

    def __init__(self, model, tables, *, loss, reg, negative_weight, **settings):
        tf_ = tf()
        if loss != "logistic":
            raise ValueError(f"implicit ALS fits implicit feedback, not {loss!r}")
        if tf_.distribute.has_strategy():
            raise ValueError("ImplicitMF(solver='als') does not train under a "
                             "tf.distribute strategy; fit it outside the strategy's scope")
        self.model = model
        self.tables = tables
        self.loss = loss
        self.optimizer = None
        self.reg = float(reg)
        self.negative_weight = float(negative_weight)
        self._users = model.get_layer("user_embedding").embeddings
        self._items = model.get_layer("item_embedding").embeddings
        self._biases = model.get_layer("item_bias").embeddings
        self._epoch = compiled(self._epoch_fn)

    def configure(self, params):
        """Take the current ``reg`` and ``negative_weight`` for a warm start."""
        self.reg = float(params["reg"])
        self.negative_weight = float(params["negative_weight"])
        return True

    # -- the data ------------------------------------------------------------
    def prepare(self, data):
        """The interactions, sorted by user and by item, as tensors.

        Ratings of weight 0 (below ``relevance_threshold``) are not
        interactions; a pair rated twice is one interaction of the summed
        weight. Returns ``(prepared, None)``: ALS keeps no validation part.
        """
        if data.held_out is not None:
            raise ValueError("ImplicitMF(solver='als') trains without a validation part")
        tf_ = tf()
        n_users = int(self._users.shape[0]) - 1
        n_items = int(self._items.shape[0]) - 1
        weight = np.asarray(data.weight, np.float64)
        keep = weight > 0
        if not keep.any():
            raise ValueError("sample_weight must give some rating a positive weight")
        pairs = sp.csr_matrix((weight[keep], (data.users[keep], data.items[keep])),
                              shape=(n_users, n_items))
        pairs.sum_duplicates()
        pairs.sort_indices()

        def observed(matrix):
            rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
            return (tf_.constant(rows, tf_.int32), tf_.constant(matrix.indices, tf_.int32),
                    tf_.constant(matrix.data, tf_.float32))

        def row_weight(matrix):
            # each row's summed interaction weight: what its penalty counts
            return tf_.constant(np.asarray(matrix.sum(axis=1)).ravel(), tf_.float32)

        by_item = pairs.T.tocsr()
        by_item.sort_indices()
        weights = np.unique(pairs.data)
        return {"user": observed(pairs), "item": observed(by_item),
                "user_weight": row_weight(pairs), "item_weight": row_weight(by_item),
                # the interactions' one weight, if they share one: then the
                # half-steps are exact where it equals negative_weight
                "uniform": float(weights[0]) if len(weights) == 1 else None,
                "total": float(pairs.data.sum()), "n_pairs": pairs.nnz}, None

    # -- the graph -------------------------------------------------------------
    def _epoch_fn(self, by_user, by_item, user_weight, item_weight, reg, nu, normaliser,
                  shared):
        tf_ = tf()
        users, items, biases = self._users.value, self._items.value, self._biases.value
        n_users, n_items = users.shape[0] - 1, items.shape[0] - 1
        k = items.shape[1]
        user_reg = row_penalty(reg, user_weight)
        item_reg = row_penalty(reg, item_weight)
        solve = {"negative_weight": nu, "steps": CG_STEPS, "shared": shared}
        bias = biases[:n_items, 0]
        p = implicit_least_squares(items[:n_items], by_user, users[:n_users],
                                   reg=user_reg, offset=bias, **solve)
        # an item's [q_i, b_i] against the users' [p_u, 1]
        x = tf_.concat([p, tf_.ones([n_users, 1])], axis=1)
        y = implicit_least_squares(
            x, by_item, tf_.concat([items[:n_items], bias[:, None]], axis=1),
            reg=item_reg, **solve)
        users[:n_users].assign(p)
        items[:n_items].assign(y[:, :k])
        biases[:n_items].assign(y[:, k:])
        return _objective(x, y, by_user, user_reg, item_reg, nu) / normaliser

    # -- Python entry points, called once per epoch ------------------------------
    def run_epoch(self, data, epoch):
        """One ALS iteration (users, then items); returns the objective of the
        module docstring per unit of weight (every pair's weight summed)."""
        tf_ = tf()
        n_users = int(self._users.shape[0]) - 1
        n_items = int(self._items.shape[0]) - 1
        normaliser = data["total"] + self.negative_weight * (
            n_users * n_items - data["n_pairs"])
        shared = data["uniform"] is not None and data["uniform"] == self.negative_weight
        return float(self._epoch(
            data["user"], data["item"], data["user_weight"], data["item_weight"],
            tf_.constant(self.reg, tf_.float32),
            tf_.constant(self.negative_weight, tf_.float32),
            tf_.constant(normaliser, tf_.float32), bool(shared)))


def row_penalty(reg, weight):
    """Each row's ridge coefficient: ``reg`` times the summed weight of its
    interactions, at least one interaction's (a row without any, e.g. a user
    whose ratings all fall below ``relevance_threshold``, still gets a
    positive-definite system)."""
    return reg * tf().maximum(weight, 1.0)


def _objective(x, y, by_user, user_reg, item_reg, nu):
    """The training objective of ``s = x y^T`` (``x = [P, 1]``, ``y = [Q, b]``).

    Every pair's :math:`\\nu s^2` at once from the two Gram matrices
    (:math:`\\sum_{ui} s_{ui}^2 = \\langle X^\\top X, Y^\\top Y \\rangle`), then the
    interactions' correction; the penalty leaves out the constant column.
    """
    tf_ = tf()
    rows, columns, weights = by_user
    every = tf_.reduce_sum(tf_.matmul(x, x, transpose_a=True)
                           * tf_.matmul(y, y, transpose_a=True))
    score = tf_.reduce_sum(tf_.gather(x, rows) * tf_.gather(y, columns), axis=1)
    observed = tf_.reduce_sum(weights * tf_.square(1.0 - score) - nu * tf_.square(score))
    penalty = (tf_.reduce_sum(user_reg * tf_.reduce_sum(tf_.square(x[:, :-1]), axis=1))
               + tf_.reduce_sum(item_reg * tf_.reduce_sum(tf_.square(y), axis=1)))
    return nu * every + observed + penalty
