"""The one declared training seam: what every training path of a model is.

A model class names its path with ``_trainer_class(params)`` (declared on
the estimator base, the per-rating :class:`~skembrec._engine.trainers.ratings.Trainer`
by default; a model with several paths dispatches on its ``solver``
parameter), and the keywords its path takes besides the shared ones with
``_trainer_options(params)``. The base then does the rest, once, for every
path: it builds the path on the model's graph, hands it one
:class:`FitData` record, runs its epochs (sweeps, solves) through
:func:`~skembrec._engine.loop.run_epochs` with early stopping and progress,
and keeps its optimizer state in the fitted state.

The paths today: per-rating sparse steps (``training.Trainer``), AutoRec's
item batches (``trainers/items.py``), BayesianMF's Gibbs sweeps
(``trainers/gibbs.py``); a closed-form model's path is one ``run_epoch``
that solves.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..._io.state import collapse_ratings


@dataclass(frozen=True)
class FitData:
    """One record of what a fit trains on (row-aligned arrays).

    Attributes
    ----------
    users, items : ndarray of int
        Codes into the fit's vocabularies.
    target : ndarray
        Encoded targets (the target encoder's ``encode(y)``).
    weight : ndarray of float
        Each rating's weight (ones without ``sample_weight``).
    extra : tuple of ndarray
        The graph's further inputs, row-aligned: time features, feature bags.
    state : FittedState
        The fit's state: parameters, vocabularies, target, features, ratings.
    held_out : FitData or None
        Early stopping's validation rows (None without early stopping).
    """

    users: np.ndarray
    items: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    extra: tuple
    state: object
    held_out: "FitData | None" = None

    @cached_property
    def cells(self):
        """The rows collapsed to one rating per (user, item) cell: the item x
        user CSR matrices ``(values, weights)`` of
        :func:`~skembrec._io.state.collapse_ratings`, made once per record
        (a model that reads its ratings keeps them; AutoRec's trainer fits them)."""
        n_users, n_items = len(self.state.user_vocab), len(self.state.item_vocab)
        return collapse_ratings(self.users, self.items, self.target, self.weight,
                                n_users, n_items)

    def rows(self):
        """``[users, items, target, weight, *extra]``: the row-aligned arrays."""
        return [self.users, self.items, self.target, self.weight, *self.extra]

    def take(self, index):
        """The rows ``index`` of every array, as a record without a held-out part."""
        users, items, target, weight, *extra = (a[index] for a in self.rows())
        return FitData(users, items, target, weight, tuple(extra), self.state)


@dataclass(frozen=True)
class Epoch:
    """Which epoch a path runs.

    Attributes
    ----------
    seed : int
        A fresh draw of the fit's random state, for this epoch's shuffling
        or sampling.
    number : int
        Epochs trained since the first fit, 0-based (a sampler keeps the
        draws of chosen sweeps by their number).
    """

    seed: int
    number: int


class TrainingPath(ABC):
    """One way of fitting a model's graph; the estimator base runs it.

    Parameters
    ----------
    model : keras.Model
        The model's graph (its variables are what the path trains).
    tables : list of Table
        The graph's embedding tables, as the model declared them.
    loss : str
        The target's per-example loss (``"squared_error"``, ...).
    **options
        The path's own settings (the model's ``_trainer_options``; the
        per-rating trainer's ``optimizer``, ``learning_rate``, ``reg`` and
        ``batch_size``).
    """

    #: whether the path can train from rating shards streamed from disk
    streams = False
    #: whether the path keeps a validation part (early stopping)
    validates = True

    @abstractmethod
    def __init__(self, model, tables, *, loss, **options):
        """Build the path on ``model``'s variables."""

    @abstractmethod
    def prepare(self, data):
        """Lay out ``data`` (a :class:`FitData`) as the epochs consume it.

        Returns ``(prepared, prepared_validation)``, the second None
        without ``data.held_out``.
        """

    @abstractmethod
    def run_epoch(self, prepared, epoch):
        """Run one epoch (sweep, solve) on ``prepared``; return its training loss.

        ``epoch`` is an :class:`Epoch`.
        """

    def validation_loss(self, prepared_validation):
        """Mean loss of the current model on the validation part."""
        raise ValueError(f"{type(self).__name__} trains without a validation part")

    def configure(self, params):
        """Take the current training settings of ``params`` (the fit's
        parameters) for a warm start; return False when they need a new path
        (another optimizer), which the base then builds. Default: nothing to
        take."""
        return True

    def optimizer_state(self):
        """The path's optimizer state as plain arrays, or None (none kept)."""
        return None

    def load_optimizer_state(self, state):
        """Restore :meth:`optimizer_state` (nothing to restore by default)."""
        return None
