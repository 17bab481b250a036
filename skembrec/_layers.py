"""The Keras layer skembrec's graphs read embedding tables through.

Imported only when a graph is built (it imports Keras and TensorFlow).
"""

from ._backend import keras, tf

keras_ = keras()
tf_ = tf()


class SparseEmbedding(keras_.layers.Embedding):
    """``keras.layers.Embedding`` that gathers rows straight from the variable.

    Keras' own ``Embedding`` converts its table to a tensor and then takes
    rows from it. Once a variable has received a sparse update, TensorFlow
    serves such a dense read by copying the whole table, so every training
    step would cost time proportional to the number of users. Gathering from
    the resource (``ResourceGather``) reads only the rows of the batch; the
    gradient is the same ``IndexedSlices``.
    """

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = keras_.ops.cast(inputs, "int32")
        outputs = tf_.gather(self.embeddings.value, inputs)
        return keras_.ops.cast(outputs, dtype=self.compute_dtype)


def feature_bag(index, value, layer):
    """The bags' embeddings summed with their values as weights: ``(batch, dim)``.

    ``index`` and ``value`` are ``(batch, width)`` (see :mod:`._features`);
    padding and unknown entries have value 0 and read the table's zero row.
    """
    rows = layer(index)
    weights = keras_.ops.cast(keras_.ops.expand_dims(value, -1), rows.dtype)
    return keras_.ops.sum(rows * weights, axis=1)


class RowKeep(keras_.layers.Layer):
    """In training, a per-row 0/1 mask: 1 with probability ``1 - rate``.

    Multiplying an id's embedding and bias by it trains the side features
    to predict without the id, on the share ``rate`` of the ratings: what
    they must do for an id unseen in fit. Outside training, ones.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed_generator = keras_.random.SeedGenerator(seed)

    def call(self, index, training=False):
        ones = keras_.ops.ones(keras_.ops.shape(index), dtype="float32")
        if not training or self.rate == 0:
            return ones
        draw = keras_.random.uniform(keras_.ops.shape(index), seed=self.seed_generator)
        return keras_.ops.cast(draw >= self.rate, "float32")
