"""What a model learns to predict: target encoders, one per kind of model.

An encoder is the model's half of the subclass contract that is not the
graph. It is fitted once, at the first fit, and is part of the fitted state
(pickled and saved with it). In the style of the Keras wrapper's target
encoders (``scikeras``), it knows

* ``fit(y, weight)``: the statistics the model needs (mean and scale of the
  ratings; the class labels),
* ``encode(y)``: the training targets as the trainer consumes them,
* ``loss`` and ``dtype``: the per-example loss and the target tensor's type,
* ``update(target)``: what a warm start adds to the statistics,
* ``decode_scores(output)``: one ranking score per row, for ``recommend``,
* ``state()`` / ``from_state()``: plain values for the safe file format.

Nothing here imports TensorFlow.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from .._input import validation as _validation


class RegressionTarget:
    """Ratings with their weighted mean, scale and range.

    The graph learns standardised ratings, ``(y - mean) / unit``, and
    predictions are ``mean + unit * output``: the defaults (learning rate,
    ``reg``, ``init_std``) then mean the same on a 1-5, a 0-1 or a 0-100
    scale, and a fit on rescaled ratings is the rescaled fit. ``unit`` is the
    ratings' standard deviation at the first fit (1 for factors given to
    ``from_factors``, which are in rating units).
    """

    #: whether ``recommend`` can rank items by the output
    ranks = True

    loss = "squared_error"
    dtype = "float32"

    def __init__(self, mean=0.0, scale=1.0, low=-np.inf, high=np.inf, unit=None):
        self.mean = float(mean)
        self.scale = float(scale)
        self.low = float(low)
        self.high = float(high)
        self.unit = self.scale if unit is None else float(unit)

    @classmethod
    def fit(cls, y, weight=None, **_):
        """The encoder of the ratings ``y`` (already validated)."""
        w = np.ones_like(y) if weight is None else weight
        mean = float(np.average(y, weights=w))
        # the deviations in units of the largest: no overflow for 1e300-sized
        # ratings, no underflow for 1e-300-sized ones
        spread = float(np.max(np.abs(y - mean)))
        scale = spread * float(np.sqrt(np.average(((y - mean) / spread) ** 2, weights=w))) \
            if spread > 0 else 0.0
        if not (np.isfinite(scale) and scale > 0):
            scale = 1.0
        return cls(mean, scale, float(y.min()), float(y.max()))

    @classmethod
    def from_moments(cls, count, total, total_sq, low, high):
        """The encoder of ratings known only by their moments (rating shards)."""
        mean = total / count
        scale = float(np.sqrt(max(total_sq / count - mean**2, 0.0))) or 1.0
        return cls(mean, scale, low, high)

    @staticmethod
    def check(y, n_samples, **_):
        """Ratings as a finite float64 vector of length ``n_samples``."""
        return _validation.check_y_regression(y, n_samples)

    def encode(self, y):
        """Training targets: standardised ratings, float32."""
        return ((np.asarray(y, dtype=np.float64) - self.mean) / self.unit).astype(np.float32)

    def encode_tensor(self, rating):
        """:meth:`encode` of a float32 tensor (arithmetic only: no TensorFlow here)."""
        return (rating - np.float32(self.mean)) / np.float32(self.unit)

    def decode(self, output):
        """Ratings from graph outputs, float64."""
        return self.mean + self.unit * np.asarray(output, dtype=np.float64)

    def check_weights(self, target, weight, estimator_name=None):
        pass

    def update(self, y):
        """A warm start on ratings ``y`` widens the range; the rest stays."""
        return RegressionTarget(self.mean, self.scale, min(self.low, float(np.min(y))),
                                max(self.high, float(np.max(y))), self.unit)

    @property
    def rating_range(self):
        return (self.low, self.high)

    def decode_scores(self, output):
        return self.decode(output)

    def rank_tensor(self, tf_, output):
        """In the graph: one score per row that orders items as the ratings do
        (the output itself: the ratings are an increasing function of it)."""
        return output

    def serve_tensor(self, tf_, output, params):
        """In a served model: ``predict``'s outputs from the float32 graph
        output. In float32, within float32 rounding of :meth:`decode`'s
        float64 (ranking decodes in float64, :meth:`score_tensor`)."""
        rating = np.float32(self.mean) + np.float32(self.unit) * output
        if params.get("clip_predictions", True):
            low, high = np.float32(self.rating_range)
            rating = tf_.clip_by_value(rating, low, high)
        return {"rating": rating}

    def score_tensor(self, tf_, output):
        """In a served model: :meth:`decode_scores` (float64), as NumPy does it."""
        return self.mean + self.unit * tf_.cast(output, tf_.float64)

    def state(self, arrays, store):
        """Plain values for the safe file format (``arrays`` takes any array)."""
        return {"kind": "regression", "mean": self.mean, "scale": self.scale,
                "low": self.low, "high": self.high, "unit": self.unit}

    @classmethod
    def from_state(cls, spec, arrays, load, legacy_unit=None):
        """The encoder :meth:`state` wrote; ``ValueError`` on impossible values.

        ``legacy_unit`` is the output unit of files written before the unit
        was recorded (None: the scale).
        """
        mean, scale, low, high = (float(spec[k]) for k in ("mean", "scale", "low", "high"))
        unit = float(spec.get("unit", scale if legacy_unit is None else legacy_unit))
        if not (np.isfinite([mean, scale, unit]).all() and scale > 0 and unit > 0):
            raise ValueError("the target's mean, scale and unit must be finite, "
                             "the scale and unit positive")
        if not low <= high:
            raise ValueError(f"the rating range ({low}, {high}) is not low <= high")
        return cls(mean, scale, low, high, unit)


class ClassTarget:
    """Discrete labels as int32 codes into the sorted ``classes``."""

    loss = "cross_entropy"
    dtype = "int32"

    def __init__(self, classes):
        self.classes = np.asarray(classes)

    @property
    def n_classes(self):
        return len(self.classes)

    @classmethod
    def fit(cls, y, weight=None, classes=None):
        labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
        return cls(labels)

    # float labels with at most this many distinct values are classes (half
    # stars: 0.5, 1.0, ..., 5.0), not a continuous target
    max_float_classes = 50

    @classmethod
    def check(cls, y, n_samples, **_):
        y = _validation._as_1d_target(y, n_samples)
        if y.dtype.kind == "f" and np.isfinite(y).all() and (
                len(np.unique(y)) <= cls.max_float_classes):
            return y
        check_classification_targets(y)
        return y

    def encode(self, y):
        codes = np.searchsorted(self.classes, y)
        codes = np.clip(codes, 0, len(self.classes) - 1)
        unknown = self.classes[codes] != y
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise ValueError(
                f"y holds the label {y[row]!r} at row {row}, which is not one of "
                f"the classes {self.classes.tolist()} fixed by the first fit"
            )
        return codes.astype(np.int32)

    def check_weights(self, target, weight, estimator_name="EmbeddingClassifier"):
        present = target if weight is None else target[weight > 0]
        if len(np.unique(present)) < 2 and len(self.classes) < 2:
            raise ValueError(
                f"{estimator_name} needs ratings of at least 2 classes; "
                f"y holds only 1 class ({self.classes.tolist()})"
            )
        if weight is not None and len(np.unique(present)) < 2:
            raise ValueError(
                f"{estimator_name} needs at least 2 classes with positive "
                "sample_weight; only 1 class carries weight"
            )

    def update(self, y):
        return self

    @property
    def ranks(self):
        """Whether items can be ranked by the expected label (numeric labels)."""
        return bool(np.issubdtype(self.classes.dtype, np.number))

    def _check_rankable(self):
        # rank items by expected rating: that needs labels that are numbers
        if not self.ranks:
            raise ValueError(
                f"recommend ranks items by their expected rating, which needs numeric "
                f"labels; this model's classes are {self.classes.tolist()}. Fit it on "
                "numbers in rating order (e.g. map the labels to 1, 2, 3)")

    def decode_scores(self, logits):
        self._check_rankable()
        # the expected label, without normalising the whole distribution:
        # sum_c e^l_c * c / sum_c e^l_c, in float32 (a ranking score only)
        logits = np.array(logits, dtype=np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        expected = logits @ self.classes.astype(np.float32)
        return (expected / logits.sum(axis=1)).astype(np.float64)

    def rank_tensor(self, tf_, logits):
        """:meth:`decode_scores` in the graph: the expected label, float32."""
        self._check_rankable()
        weights = tf_.exp(logits - tf_.reduce_max(logits, axis=1, keepdims=True))
        return tf_.linalg.matvec(weights, tf_.constant(self.classes.astype(np.float32))) \
            / tf_.reduce_sum(weights, axis=1)

    def serve_tensor(self, tf_, output, params):
        """In a served model: ``predict``'s and ``predict_proba``'s outputs from
        the logits: the ``decision`` rule's class (``rating`` for numeric
        labels, ``label`` for strings) and float32 ``probabilities``."""
        if params["decision"] == "median":
            # the first class whose cumulative probability reaches one half,
            # in float64 as NumPy finds it
            reached = tf_.cumsum(softmax_tensor(tf_, output), axis=1) >= 0.5
            chosen = tf_.argmax(tf_.cast(reached, tf_.int32), axis=1)
        else:
            chosen = tf_.argmax(output, axis=1)
        # float32 probabilities differ from predict_proba's float64 ones by
        # float32 rounding only, and cost half
        out = {"probabilities": tf_.nn.softmax(output, axis=1)}
        if self.classes.dtype.kind in "iuf":
            out["rating"] = tf_.gather(tf_.constant(self.classes.astype(np.float32)), chosen)
        else:
            out["label"] = tf_.gather(tf_.constant(self.classes.astype(object), tf_.string),
                                      chosen)
        return out

    def score_tensor(self, tf_, output):
        """In a served model: the expected label (float64), the ranking score."""
        values = tf_.constant(self.classes.astype(np.float64))
        return tf_.reduce_sum(softmax_tensor(tf_, output) * values, axis=1)

    def state(self, arrays, store):
        """Plain values for the safe file format; the classes go to ``arrays``
        through ``store`` (the archive's id codec)."""
        return {"kind": "classes", "classes": store(self.classes, "classes", arrays)}

    @classmethod
    def from_state(cls, spec, arrays, load, legacy_unit=None):
        """The encoder :meth:`state` wrote (``load`` reads the classes back)."""
        return cls(load(spec["classes"], arrays))


class OrdinalTarget(ClassTarget):
    """Ratings as ordered classes (BayesianMF's ordered probit): codes into
    the sorted ``classes``, the graph's output each class's log-probability.

    A regressor's target all the same: :meth:`decode` is the expected
    rating under the predicted distribution (the prediction of least
    squared error), ``rating_range`` the classes' and ``mean`` the fit's
    weighted mean rating. The graph works on the probit's latent scale
    (``unit`` 1).
    """

    loss = "ordered_probit"
    unit = 1.0

    def __init__(self, classes, mean=None):
        super().__init__(classes)
        self.mean = float(np.mean(self.classes) if mean is None else mean)

    @classmethod
    def fit(cls, y, weight=None, **_):
        w = np.ones_like(y, dtype=np.float64) if weight is None else weight
        return cls(np.unique(y), float(np.average(y, weights=w)))

    @classmethod
    def check(cls, y, n_samples, **_):
        """Ratings as a finite float64 vector of at most
        ``max_float_classes`` distinct values (the ordered classes)."""
        y = _validation.check_y_regression(y, n_samples)
        n_levels = len(np.unique(y))
        if n_levels > cls.max_float_classes:
            raise ValueError(
                f"output='ordinal' models a few ordered rating levels (at most "
                f"{cls.max_float_classes}); y holds {n_levels} distinct values: use "
                "output='regression' for a continuous target")
        return y

    def check_weights(self, target, weight, estimator_name="BayesianMF"):
        super().check_weights(target, weight, estimator_name)

    def decode(self, output):
        """The expected rating of each row's distribution, float64."""
        return softmax(output) @ self.classes.astype(np.float64)

    @property
    def rating_range(self):
        return (float(self.classes.min()), float(self.classes.max()))

    def serve_tensor(self, tf_, output, params):
        """In a served model: the expected ``rating`` and float32 ``probabilities``."""
        return {"rating": tf_.cast(self.score_tensor(tf_, output), tf_.float32),
                "probabilities": tf_.nn.softmax(output, axis=1)}

    def state(self, arrays, store):
        return {"kind": "ordinal", "classes": store(self.classes, "classes", arrays),
                "mean": self.mean}

    @classmethod
    def from_state(cls, spec, arrays, load, legacy_unit=None):
        classes = np.asarray(load(spec["classes"], arrays), dtype=np.float64)
        mean = float(spec["mean"])
        if not (len(classes) >= 2 and np.isfinite(classes).all() and np.isfinite(mean)):
            raise ValueError("an ordinal target needs 2 or more finite classes and a "
                             "finite mean")
        return cls(classes, mean)


class ImplicitTarget:
    """Implicit feedback: every rating of fit is an interaction (label 1).

    The trainer adds sampled items each user did not interact with (label
    0) and minimises the logistic loss; the output is a logit, the
    prediction the probability of an interaction, and the ranking score the
    logit itself. Which ratings count (and how much) is the estimator's
    ``sample_weight``-style choice (``relevance_threshold``).
    """

    ranks = True

    loss = "logistic"
    dtype = "float32"

    @classmethod
    def fit(cls, y, weight=None, **_):
        return cls()

    @staticmethod
    def check(y, n_samples, **_):
        """Ratings (or counts, or ones) as a finite float64 vector."""
        return _validation.check_y_regression(y, n_samples)

    def encode(self, y):
        return np.ones(len(y), dtype=np.float32)

    def decode(self, output):
        """The probability of an interaction, float64."""
        return 1.0 / (1.0 + np.exp(-np.asarray(output, dtype=np.float64)))

    def check_weights(self, target, weight, estimator_name=None):
        pass

    def update(self, y):
        return self

    def decode_scores(self, output):
        return np.asarray(output, dtype=np.float64)

    def rank_tensor(self, tf_, output):
        return output

    def serve_tensor(self, tf_, output, params):
        """In a served model: the probability of an interaction."""
        return {"score": tf_.sigmoid(output)}

    def score_tensor(self, tf_, output):
        """In a served model: the logit (float64), the ranking score."""
        return tf_.cast(output, tf_.float64)

    def state(self, arrays, store):
        """Plain values for the safe file format."""
        return {"kind": "implicit"}

    @classmethod
    def from_state(cls, spec, arrays, load, legacy_unit=None):
        """The encoder :meth:`state` wrote (it has no values)."""
        return cls()


class ScoreTarget(ImplicitTarget):
    """Implicit feedback scored without a link function: the graph's output is
    the ranking score itself, and ``predict`` and the served ``score`` return
    it as it is (EASE's :math:`x_u B`)."""

    def decode(self, output):
        """The score, float64."""
        return np.asarray(output, dtype=np.float64)

    def serve_tensor(self, tf_, output, params):
        """In a served model: the score itself."""
        return {"score": output}

    def state(self, arrays, store):
        """Plain values for the safe file format."""
        return {"kind": "score"}


def softmax(logits):
    """Row-wise softmax in float64."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def softmax_tensor(tf_, logits):
    """Row-wise softmax in float64 in the graph, as :func:`softmax`."""
    logits = tf_.cast(logits, tf_.float64)
    shifted = tf_.exp(logits - tf_.reduce_max(logits, axis=1, keepdims=True))
    return shifted / tf_.reduce_sum(shifted, axis=1, keepdims=True)
