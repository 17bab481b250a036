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
