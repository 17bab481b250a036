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


def fitted_state(estimator):
    """The fitted state, or NotFittedError (an AttributeError too, so ``hasattr``
    says unfitted)."""
    state = vars(estimator).get("_state")
    if state is None:
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' "
            "with appropriate arguments before using this estimator.")
    return state
