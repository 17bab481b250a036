"""The body the two dense models share: concatenated embeddings -> dense layers."""

import numbers

from .._backend import keras
from .._base import BaseEmbeddingModel
from .._sklearn_compat import Interval, StrOptions
from .._training import Table
from .._validation import check_hidden_layer_sizes

ACTIVATIONS = ("relu", "gelu", "elu", "selu", "tanh", "sigmoid", "swish", "linear")


class EmbeddingMLPBase(BaseEmbeddingModel):
    """user embedding || item embedding -> [Dense -> BatchNorm -> Dropout]* -> head."""

    _parameter_constraints = {
        **BaseEmbeddingModel._parameter_constraints,
        "user_factors": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "item_factors": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
    }
    # an unknown user or item reads the average embedding of its table
    _unknown_rows = "mean"

    def _output_layer(self, k, x, seeds, regularizer):
        """The head on top of the shared body (one unit, or one per class)."""
        raise NotImplementedError

    def _build_graph(self, n_users, n_items, seeds):
        from .._layers import SparseEmbedding

        k = keras()
        sizes = check_hidden_layer_sizes(self.hidden_layer_sizes, type(self).__name__)
        user, item, time_ = self._graph_inputs()

        def table(n, dim, name):
            init = k.initializers.RandomNormal(stddev=self.init_std, seed=seeds())
            return SparseEmbedding(n + 1, dim, embeddings_initializer=init, name=name)

        p = table(n_users, self.user_factors or self.n_factors, "user_embedding")
        q = table(n_items, self.item_factors or self.n_factors, "item_embedding")
        parts = [p(user), q(item)] + ([time_] if time_ is not None else [])
        x = k.layers.Concatenate(name="concat")(parts)
        regularizer = k.regularizers.L2(self.alpha) if self.alpha > 0 else None
        for depth, units in enumerate(sizes):
            x = k.layers.Dense(
                units,
                activation=None if self.batch_norm else self.activation,
                kernel_initializer=k.initializers.GlorotUniform(seed=seeds()),
                kernel_regularizer=regularizer,
                name=f"dense_{depth}",
            )(x)
            if self.batch_norm:
                x = k.layers.BatchNormalization(name=f"batch_norm_{depth}")(x)
                x = k.layers.Activation(self.activation, name=f"activation_{depth}")(x)
            if self.dropout > 0:
                x = k.layers.Dropout(self.dropout, seed=seeds(), name=f"dropout_{depth}")(x)
        output = self._output_layer(k, x, seeds, regularizer)
        tables = [Table(p.embeddings, "user", self.reg), Table(q.embeddings, "item", self.reg)]
        inputs = [user, item] + ([time_] if time_ is not None else [])
        return k.Model(inputs, output, name=type(self).__name__.lower()), tables
