"""The Keras layer skembrec's graphs read embedding tables through.

Imported only when a graph is built (it imports Keras and TensorFlow).
"""

import numpy as np

from .backend import keras, tf

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
def _item_rows(indptr, rows):
    """Entries of the CSR rows ``rows``: ``(positions, row_ids)``, both int64.

    ``positions`` index the CSR's column and value arrays; ``row_ids`` say
    which of ``rows`` (by position) each entry belongs to.
    """
    rows = tf_.cast(rows, tf_.int64)
    ranges = tf_.ragged.range(tf_.gather(indptr, rows), tf_.gather(indptr, rows + 1))
    return ranges.flat_values, ranges.value_rowids()


class ItemAutoencoder(keras_.layers.Layer):
    """I-AutoRec's encoder and decoder over the item x user rating matrix.

    An item's code is ``activation(r_i V + b)``, ``r_i`` its (sparse) vector
    of encoded ratings by the users; its reconstruction at user ``u`` is
    ``code . W[u] + c[u]``. ``V`` and ``W`` have a row per user plus one for
    unknown users (kept at zero). The layer holds the fitted rating matrix
    as constants, so ``call([user, item])`` reconstructs the rows of the
    items asked for (each distinct item once) and reads the users' entries;
    an unknown user or item gives 0, the global mean in encoded units.

    Parameters
    ----------
    n_users, n_items : int
        Vocabulary sizes.
    units : int
        Size of the code.
    activation : str
        Keras activation of the code.
    ratings : scipy.sparse.csr_matrix of shape (n_items, n_users)
        The encoded ratings the model reads at prediction time.
    input_offset : float
        Added to every observed entry of the encoder's input (not to the
        missing ones), so that a rating is distinguishable from no rating.
    output_offset : float
        Subtracted from every reconstruction: the decoder reconstructs the
        encoded rating plus ``output_offset`` (with ``input_offset``, the
        rating at its raw scale, as in the paper), so that it starts from
        zero, not from the mean, and carries the ratings' level in its
        penalised weights rather than in its biases alone.
    init_std : float
        Standard deviation of the normal initialiser of ``V`` and ``W``.
    seeds : tuple of int
        Seeds of the two initialisers.
    """

    def __init__(self, n_users, n_items, units, activation, ratings, input_offset,
                 init_std, seeds, output_offset=0.0, **kwargs):
        import numpy as np

        super().__init__(dtype="float32", **kwargs)  # float32 under any policy
        self.n_users, self.n_items, self.units = int(n_users), int(n_items), int(units)
        self.activation = keras_.activations.get(activation)
        self.input_offset = float(input_offset)
        self.output_offset = float(output_offset)
        self.init_std = float(init_std)
        self.seeds = tuple(seeds)
        # one more, empty, row: the unknown item's
        indptr = np.append(ratings.indptr, ratings.indptr[-1]).astype(np.int64)
        self.matrix = (tf_.constant(indptr),
                       tf_.constant(ratings.indices.astype(np.int64)),
                       tf_.constant(ratings.data.astype(np.float32)))

    def build(self, input_shape):
        k = keras_

        def normal(seed):
            return k.initializers.RandomNormal(stddev=self.init_std, seed=seed)

        width = self.n_users + 1
        self.encoder_kernel = self.add_weight(
            shape=(width, self.units), initializer=normal(self.seeds[0]), name="encoder_kernel")
        self.encoder_bias = self.add_weight(shape=(self.units,), initializer="zeros",
                                            name="encoder_bias")
        self.decoder_kernel = self.add_weight(
            shape=(width, self.units), initializer=normal(self.seeds[1]), name="decoder_kernel")
        self.decoder_bias = self.add_weight(shape=(width,), initializer="zeros",
                                            name="decoder_bias")

    def encode(self, matrix, rows):
        """Codes of the item ``rows`` of ``matrix`` (CSR ``(indptr, users, values)``)."""
        indptr, users, values = matrix
        positions, row_ids = _item_rows(indptr, rows)
        inputs = tf_.SparseTensor(
            tf_.stack([row_ids, tf_.gather(users, positions)], axis=1),
            tf_.gather(values, positions) + self.input_offset,
            tf_.stack([tf_.size(rows, out_type=tf_.int64), self.n_users + 1]))
        hidden = tf_.sparse.sparse_dense_matmul(inputs, self.encoder_kernel.value)
        return self.activation(hidden + self.encoder_bias.value)

    def decode_at(self, codes, rows, users):
        """Reconstructions of the code ``rows`` at ``users`` (one value per pair)."""
        weights = tf_.gather(self.decoder_kernel.value, users)
        return tf_.reduce_sum(tf_.gather(codes, rows) * weights, axis=-1) + (tf_.gather(
            self.decoder_bias.value, users) - self.output_offset)

    def item_codes(self):
        """The code of every item, ``(n_items, units)``."""
        return self.encode(self.matrix, tf_.range(self.n_items, dtype=tf_.int64))

    def call(self, inputs):
        user, item = (tf_.cast(x, tf_.int32) for x in inputs)
        unique, position = tf_.unique(item)
        codes = self.encode(self.matrix, unique)
        output = self.decode_at(codes, position, user)
        known = (item >= 0) & (item < self.n_items) & (user >= 0) & (user < self.n_users)
        return tf_.where(known, output, tf_.zeros_like(output))

    def compute_output_shape(self, input_shape):
        return (input_shape[1][0],)


class OrdinalLogits(keras_.layers.Layer):
    """A cumulative-logit (proportional odds) head over ``n_classes`` ordered classes.

    From one score :math:`s` per row and ordered thresholds
    :math:`\\theta_1 < \\dots < \\theta_{K-1}`, :math:`P(y \\le c) =
    \\sigma(\\theta_c - s)`; the output is each class's log-probability
    :math:`\\log(P(y \\le c) - P(y \\le c - 1))`, ``(batch, n_classes)``.
    Their softmax is the distribution itself, so a graph with this head is
    read as one with class logits. The thresholds are the first plus the
    cumulative softplus of the gaps (ordered for every value of the
    weights), initially one apart around 0; each log-probability is computed
    as :math:`-\\mathrm{softplus}(s - \\theta_c) - \\mathrm{softplus}(\\theta_{c-1} - s)
    + \\log(1 - e^{-(\\theta_c - \\theta_{c-1})})`, stable for any score.
    """

    def __init__(self, n_classes, **kwargs):
        super().__init__(**kwargs)
        self.n_classes = int(n_classes)

    def build(self, input_shape):
        n_gaps = max(self.n_classes - 2, 0)
        self.first = self.add_weight(
            shape=(1,), name="first_threshold",
            initializer=keras_.initializers.Constant(-n_gaps / 2))
        # softplus(0.5413) = 1: gaps of one
        self.gaps = self.add_weight(
            shape=(n_gaps,), name="threshold_gaps",
            initializer=keras_.initializers.Constant(0.5413))

    def call(self, score):
        ops = keras_.ops
        score = ops.cast(score, "float32")[:, None]
        gaps = ops.softplus(self.gaps)
        thresholds = ops.concatenate(
            [self.first, self.first + ops.cumsum(gaps)], axis=0)[None, :]
        # log P(y <= c) for c < K, log P(y > c - 1) for c > 1: 0 at the ends
        below = -ops.softplus(score - thresholds)
        above = -ops.softplus(thresholds - score)
        zeros = ops.zeros_like(score)
        log_gap = ops.log(-ops.expm1(-gaps))[None, :]
        # log(1 - exp(-gap)) for the classes between two thresholds
        middle = ops.concatenate(
            [zeros, ops.broadcast_to(log_gap, ops.shape(below[:, 1:])), zeros], axis=1)
        return (ops.concatenate([below, zeros], axis=1)
                + ops.concatenate([zeros, above], axis=1) + middle)


class ProbitDraws(keras_.layers.Layer):
    """The ordered-probit distribution over ``n_classes`` classes, averaged
    over ``n_samples`` posterior draws (BayesianMF's ``output="ordinal"``).

    Takes each row's linear predictor of every draw, ``(batch, n_samples)``,
    and holds each draw's cut points (``cutpoints``, ``(n_samples,
    n_classes - 1)``, written by the sampler): :math:`P_s(y \\le c) =
    \\Phi(\\gamma_{sc} - \\eta_s)`. The output is the log of the draws' mean
    class probabilities, ``(batch, n_classes)``: their softmax is the
    distribution, so the graph reads as one with class logits.
    """

    def __init__(self, n_samples, n_classes, **kwargs):
        super().__init__(**kwargs)
        self.n_samples = int(n_samples)
        self.n_classes = int(n_classes)

    def build(self, input_shape):
        self.cutpoints = self.add_weight(
            shape=(self.n_samples, self.n_classes - 1), name="cutpoints",
            initializer="zeros", trainable=False)

    def call(self, eta):
        ops = keras_.ops
        eta = ops.cast(eta, "float32")
        below = 0.5 * (1.0 + ops.erf((self.cutpoints[None] - eta[:, :, None])
                                     * np.float32(np.sqrt(0.5))))
        ones = ops.ones_like(below[:, :, :1])
        cumulative = ops.concatenate([below, ones], axis=2)
        probability = cumulative - ops.concatenate([0.0 * ones, below], axis=2)
        return ops.log(ops.maximum(ops.mean(probability, axis=1), 1e-30))
