"""The body the two dense models share: concatenated embeddings -> dense layers."""

import numbers

from .._base import BaseEmbeddingModel
from .._engine.backend import keras
from .._engine.training import Table, fold_in_by_steps
from .._input.validation import check_hidden_layer_sizes
from .._sklearn_compat import Interval, StrOptions

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
    # dropout too: turning it on or off adds or removes a layer's random state
    _architecture = ("n_factors", "user_factors", "item_factors", "hidden_layer_sizes",
                     "activation", "batch_norm", "dropout", "time_column", "user_features",
                     "item_features", "feature_separator")

    @classmethod
    def _output_layer(cls, k, x, spec, regularizer):
        """The head on top of the shared body (one unit, or one per class)."""
        raise NotImplementedError

    @staticmethod
    def _dense_head(k, x, units, spec, regularizer, name):
        """The last dense layer of a head, ``units`` outputs."""
        return k.layers.Dense(
            units,
            kernel_initializer=k.initializers.GlorotUniform(seed=spec.seed()),
            kernel_regularizer=regularizer,
            name=name,
            dtype="float32",  # the head stays float32 under a mixed-precision policy
        )(x)

    @classmethod
    def _fold_in_rows(cls, fold):
        """The folded users' embeddings, from where they stand (a new user:
        the average user) by full-batch steps on their ratings alone."""
        data = fold.data
        table = fold.model.get_layer("user_embedding").embeddings
        return {table.path: fold_in_by_steps(
            fold.model, table, fold.folded, data.users, data.items, data.target,
            data.weight, loss=data.state.target.loss, reg=float(data.state.params["reg"]),
            extra=data.extra)}

    @classmethod
    def _build_graph(cls, spec):
        from .._engine.layers import SparseEmbedding, feature_bag

        k = keras()
        p = spec.params
        sizes = check_hidden_layer_sizes(p.hidden_layer_sizes, cls.__name__)
        user, item, time_ = spec.inputs()

        def table(n, dim, name):
            init = k.initializers.RandomNormal(stddev=p.init_std, seed=spec.seed())
            return SparseEmbedding(n + 1, dim, embeddings_initializer=init, name=name)

        pu = table(spec.n_users, p.user_factors or p.n_factors, "user_embedding")
        qi = table(spec.n_items, p.item_factors or p.n_factors, "item_embedding")
        parts = [pu(user), qi(item)] + ([time_] if time_ is not None else [])
        feature_tables = []
        # each side's features: the weighted sum of its tokens' embeddings,
        # beside the id embeddings (an unknown token reads the zero row)
        for side, size in (("user", p.user_factors), ("item", p.item_factors)):
            bag = spec.feature_inputs(side)
            if bag is None:
                continue
            index, value, n_tokens = bag
            features = table(n_tokens, size or p.n_factors, f"{side}_feature_embedding")
            parts.append(feature_bag(index, value, features))
            feature_tables.append(Table(features.embeddings, f"{side}_features"))
        x = k.layers.Concatenate(name="concat")(parts)
        regularizer = k.regularizers.L2(p.alpha) if p.alpha > 0 else None
        for depth, units in enumerate(sizes):
            x = k.layers.Dense(
                units,
                activation=None if p.batch_norm else p.activation,
                kernel_initializer=k.initializers.GlorotUniform(seed=spec.seed()),
                kernel_regularizer=regularizer,
                name=f"dense_{depth}",
            )(x)
            if p.batch_norm:
                x = k.layers.BatchNormalization(name=f"batch_norm_{depth}")(x)
                x = k.layers.Activation(p.activation, name=f"activation_{depth}")(x)
            if p.dropout > 0:
                x = k.layers.Dropout(p.dropout, seed=spec.seed(), name=f"dropout_{depth}")(x)
        output = cls._output_layer(k, x, spec, regularizer)
        # an unknown user or item reads the average embedding of its table
        tables = [Table(pu.embeddings, "user", unknown="mean"),
                  Table(qi.embeddings, "item", unknown="mean"), *feature_tables]
        return k.Model(spec.model_inputs(), output, name=cls.__name__.lower()), tables
