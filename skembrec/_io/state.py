"""The fitted state of an estimator: everything ``fit`` decided, in one object."""

import dataclasses

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError


@dataclasses.dataclass
class FittedState:
    """Everything a fitted model is; plain values, picklable and savable.

    Attributes
    ----------
    params : dict
        The estimator's parameters at the fit (``get_params(deep=False)``);
        the graph, training and prediction read these, never the current ones.
    user_vocab, item_vocab : IdVocabulary
        Raw ids <-> table rows.
    target : RegressionTarget or ClassTarget
        The fitted target encoder.
    time : TimeFeatures or None
        Per-user date statistics of a time-aware model.
    features : dict or None
        ``{"user": SideFeatures or None, "item": ...}``: the encoding of the
        side-feature columns (None when the fit has none).
    seen : scipy.sparse.csr_matrix or None
        The rated (user, item) pairs (None after a fit from shards).
    weights : list of ndarray or None
        The Keras model's weights; None while the live model holds them.
    optimizer : dict or None
        The optimizer's name, step and slots; None while a live trainer
        holds them (or before any training, for ``from_factors``).
    ratings : scipy.sparse.csr_matrix or None
        The training ratings a model's graph reads at prediction time
        (:class:`~skembrec.AutoRec`'s item x user matrix of encoded ratings,
        see :func:`merge_ratings`); None for models whose graph does not.
    history : dict
        Per-epoch ``loss`` and ``val_loss``.
    n_iter : int
        Epochs trained so far.
    """

    params: dict
    user_vocab: object
    item_vocab: object
    target: object
    time: object = None
    features: dict = None
    seen: object = None
    weights: list = None
    optimizer: dict = None
    history: dict = dataclasses.field(default_factory=lambda: {"loss": [], "val_loss": []})
    n_iter: int = 0
    ratings: object = None


def merge_seen(old, users, items, n_users, n_items):
    """The rated (user, item) pairs, for recommend(), merged with earlier fits'."""
    known = (users < n_users) & (items < n_items)
    seen = sp.csr_matrix(
        (np.ones(int(known.sum()), dtype=np.bool_), (users[known], items[known])),
        shape=(n_users, n_items),
    )
    if old is not None:
        old = old.copy()
        old.resize((n_users, n_items))
        seen = (seen + old).astype(np.bool_)
    return seen.tocsr()


def collapse_ratings(users, items, values, weight, n_users, n_items):
    """Item x user CSR matrices ``(values, weights)`` of weighted ratings.

    Repeated (user, item) pairs become one entry: their weighted mean value
    with their summed weight (the same squared-error gradient); pairs of
    zero total weight are left out, as if absent. A value of 0 is an entry.
    """
    weight = np.ones(len(users)) if weight is None else np.asarray(weight, np.float64)
    keep = weight > 0
    keys = items[keep].astype(np.int64) * n_users + users[keep]
    unique, position = np.unique(keys, return_inverse=True)
    total = np.bincount(position, weights=weight[keep], minlength=len(unique))
    weighted = np.bincount(position, weights=weight[keep] * np.asarray(values)[keep],
                           minlength=len(unique))
    return (_csr_from_keys(unique, weighted / np.maximum(total, 1e-300), n_users, n_items),
            _csr_from_keys(unique, total, n_users, n_items))


def merge_ratings(old, users, items, values, weight, n_users, n_items):
    """The item x user matrix of encoded ratings a model reads, after a fit.

    ``values`` are the fit's encoded ratings; repeated pairs of the fit
    are averaged (weighted), pairs of zero weight left out. A warm start
    merges them with ``old`` (the earlier fits' matrix, its vocabularies
    grown since): a pair rated again takes its new value.
    """
    new, _ = collapse_ratings(users, items, values, weight, n_users, n_items)
    return merge_cells(old, new)


def merge_cells(old, new):
    """``new`` (an item x user matrix of collapsed ratings) merged into
    ``old`` (None, or the earlier fits' matrix of the same, grown shape):
    a cell rated again takes its new value."""
    if old is None:
        return new
    n_items, n_users = new.shape
    old_keys = matrix_keys(old, n_users)
    new_keys = matrix_keys(new, n_users)
    kept = ~np.isin(old_keys, new_keys)
    keys = np.concatenate([old_keys[kept], new_keys])
    data = np.concatenate([old.data[kept], new.data])
    order = np.argsort(keys, kind="stable")
    return _csr_from_keys(keys[order], data[order], n_users, n_items)


def matrix_keys(matrix, n_columns):
    """``row * n_columns + column`` of every stored entry of a CSR matrix,
    explicit zeros included, in storage order."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * n_columns + matrix.indices


def _csr_from_keys(keys, data, n_users, n_items):
    """The CSR matrix (items x users) of sorted, distinct ``item * n_users + user`` keys."""
    rows = keys // n_users
    indptr = np.searchsorted(rows, np.arange(n_items + 1)).astype(np.int64)
    return sp.csr_matrix((np.asarray(data, np.float32), (keys % n_users).astype(np.int32),
                          indptr), shape=(n_items, n_users))


def fitted_state(estimator):
    """The fitted state, or NotFittedError (an AttributeError too, so ``hasattr``
    says unfitted)."""
    state = vars(estimator).get("_state")
    if state is None:
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' "
            "with appropriate arguments before using this estimator.")
    return state
