"""The parameter vocabulary shared by the three estimators, documented once.

The estimators' docstrings are templates (:class:`string.Template`, so no
brace is doubled): ``${common}``, ``${dense}``, ``${time}`` and ``${table}``
insert the shared blocks below, and ``${name}`` inserts the default of the
parameter ``name``, read from the estimator's ``__init__`` signature, so a
default is written once, in the code. :func:`fill_doc` does both.
"""

import inspect
from string import Template

# Inserted into each estimator's docstring so the three stay in step.
PARAMETER_TABLE = """
    The parameter names are shared by the three estimators. Their
    counterparts in Surprise's ``SVD`` and scikit-learn's ``MLPRegressor``:

    ======================= ===================== ==========================
    skembrec                Surprise ``SVD``      ``MLPRegressor``
    ======================= ===================== ==========================
    ``n_factors``           ``n_factors``         (none)
    ``n_epochs``            ``n_epochs``          ``max_iter``
    ``batch_size``          (1: per-rating SGD)   ``batch_size``
    ``learning_rate``       ``lr_all``            ``learning_rate_init``
    ``reg``                 ``reg_all``           (none)
    ``init_std``            ``init_std_dev``      (none)
    ``optimizer``           (SGD)                 ``solver``
    ``hidden_layer_sizes``  (none)                ``hidden_layer_sizes``
    ``alpha``               (none)                ``alpha``
    ``early_stopping``      (none)                ``early_stopping``
    ``validation_fraction`` (none)                ``validation_fraction``
    ``n_iter_no_change``    (none)                ``n_iter_no_change``
    ``tol``                 (none)                ``tol``
    ``random_state``        ``random_state``      ``random_state``
    ``verbose``             ``verbose``           ``verbose``
    ``warm_start``          (none)                ``warm_start``
    ======================= ===================== ==========================
"""

COMMON_PARAMETERS = """
    n_epochs : int, default=${n_epochs}
        Number of passes over the training ratings.
    batch_size : int, default=${batch_size}
        Ratings per gradient step.
    learning_rate : float, default=${learning_rate}
        Step size of the optimizer.
    reg : float, default=${reg}
        L2 penalty on the embedding rows (and biases) a rating touches, added
        per rating as in Surprise's SVD.
    optimizer : {"adagrad", "adam", "adamax", "sgd"}, default=${optimizer}
        Update rule. Embedding tables are always updated sparsely: only the
        rows in the batch, and their optimizer state, are read and written.
    init_std : float, default=${init_std}
        Standard deviation of the normal initialiser of the embeddings.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the ratings and stop when their
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs; the
        best epoch's weights are kept.
    validation_fraction : float, default=0.1
        Share of the ratings held out when ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Minimum improvement of the validation loss that resets the patience.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split; an
        int makes fits reproducible on a CPU.
    verbose : int, default=0
        0 is silent, 1 shows a progress bar over epochs (loss, validation
        loss, time left), 2 prints one line per epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights, optimizer state and
        vocabularies (grown with any new ids) instead of starting afresh. The
        current training settings (``learning_rate``, ``optimizer``,
        ``batch_size``, ``reg``, ``n_epochs``, ...) apply; after a change to a
        parameter that shapes the graph (``n_factors``, ``time_column``, ...)
        the next fit starts from scratch.
"""

# ``${time_effect}``: what the model does with the time features
TIME_PARAMETER = """
    time_column : str, int or None, default=None
        The column of ``X`` holding each rating's time (epoch seconds, or
        datetimes), by name (DataFrame) or position; it must come after the
        two id columns. ``None`` ignores time. When set, the model reads two
        features per rating: the deviation of its date from the user's mean
        rating date, :math:`\\mathrm{dev}_u(t) = \\mathrm{sign}(t - \\bar t_u)
        |t - \\bar t_u|^{0.4}` in days (Koren's timeSVD; a date after the
        user's last rating in fit counts as that rating's date, so the drift
        is not extrapolated), and its position in the time range of the fit
        (later dates count as its last day). It ${time_effect}. A user unseen in
        fit has no drift.
"""

# ``${feature_effect}``: how the model uses the feature bags
FEATURE_PARAMETERS = """
    user_features, item_features : list of str or int, or None, default=None
        Columns of ``X`` (names, or positions after the two id columns) that
        hold attributes of the rating's user or item (a single name is one
        column). Each column's kind is read from the fit data: numbers are
        standardised; strings of which some hold ``feature_separator`` are
        multi-valued (``"Action|Comedy"``: the mean of its parts' tokens);
        anything else (strings, booleans, a pandas ``category`` column) is
        categorical, one token per value. The features are read from every
        row of ``X``, in fit and in predict: a user or item unseen in fit but
        given with its features gets a prediction from them (cold start); a
        value unseen in fit, or missing, contributes nothing. The model
        ${feature_effect}.
    feature_separator : str, default="|"
        The separator of the parts of a multi-valued feature.
"""

DENSE_PARAMETERS = """
    user_factors, item_factors : int or None, default=None
        Separate embedding sizes for users and items (the Netflix write-up
        used 20 and 60); ``None`` uses ``n_factors``.
    hidden_layer_sizes : tuple of int, default=${hidden_layer_sizes}
        Units of each dense layer after the concatenation.
    activation : str, default="relu"
        Activation of the dense layers (a Keras activation name).
    dropout : float, default=${dropout}
        Dropout rate after each dense layer (0 disables it).
    batch_norm : bool, default=False
        Batch normalisation before each activation.
    alpha : float, default=${alpha}
        L2 penalty on the dense kernels (``MLPRegressor``'s ``alpha``).
"""


def _default(value):
    return f'"{value}"' if isinstance(value, str) else repr(value)


def fill_doc(cls):
    """Class decorator: fill the docstring template of an estimator class."""
    blocks = {"common": COMMON_PARAMETERS, "dense": DENSE_PARAMETERS,
              "time": TIME_PARAMETER, "features": FEATURE_PARAMETERS,
              "table": PARAMETER_TABLE}
    # the table keeps its blank lines around it; the parameter blocks are
    # inserted at the indentation of their placeholder
    doc = Template(cls.__doc__).safe_substitute(
        {name: block if name == "table" else block.strip() for name, block in blocks.items()})
    defaults = {name: _default(p.default)
                for name, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    defaults["time_effect"] = cls._doc_time_effect
    defaults["feature_effect"] = getattr(cls, "_doc_feature_effect", "")
    doc = Template(doc).safe_substitute(defaults)
    doc = Template(doc).substitute(defaults)  # a block may name a default too
    cls.__doc__ = doc
    return cls
