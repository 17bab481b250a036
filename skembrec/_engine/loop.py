"""The epoch loop every fit shares, whatever its training path: seeds,
early stopping on a validation part, divergence checks and progress."""

import time

import numpy as np

from .backend import keras
from .trainers.base import Epoch
from .training import MAX_SEED


def split_validation(arrays, fraction, rng):
    """Hold out ``fraction`` of the rows of every array: ``(train, validation)``."""
    n = len(arrays[0])
    n_val = max(1, int(round(fraction * n)))
    if n_val >= n:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training ratings out of {n}")
    order = rng.permutation(n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    return ([a[train_idx] for a in arrays], [a[val_idx] for a in arrays])


def run_epochs(trainer, run_epoch, *, n_epochs, first_epoch, rng, val=None, tol=0.0,
               n_iter_no_change=1, verbose=0):
    """Train up to ``n_epochs`` epochs; return the per-epoch losses.

    ``run_epoch(epoch)`` trains one epoch and returns its loss; ``epoch`` is
    an :class:`~skembrec._engine.trainers.base.Epoch`: a draw of ``rng`` and
    the epoch's number since the first fit (``first_epoch`` onwards). With
    ``val`` (the trainer's prepared validation part),
    training stops when the validation loss has not improved by ``tol`` for
    ``n_iter_no_change`` epochs, and the best epoch's weights are restored.

    Returns
    -------
    losses, val_losses : list of float
        ``val_losses`` holds None for every epoch when ``val`` is None.
    """
    progress = Progress(verbose, n_epochs)
    losses, val_losses = [], []
    best, best_weights, no_change = np.inf, None, 0
    for epoch in range(n_epochs):
        start = time.perf_counter()
        loss = run_epoch(Epoch(int(rng.randint(MAX_SEED)), first_epoch + epoch))
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"the training loss became {loss} at epoch {first_epoch + epoch + 1}; "
                "lower learning_rate or scale the ratings"
            )
        val_loss = trainer.validation_loss(val) if val is not None else None
        losses.append(loss)
        val_losses.append(val_loss)
        progress.update(epoch, loss, val_loss, time.perf_counter() - start)
        if val is not None:
            if val_loss < best - tol:
                best, no_change = val_loss, 0
                best_weights = [w.numpy() for w in trainer.model.weights]
            else:
                no_change += 1
                if no_change >= n_iter_no_change:
                    break
    if best_weights is not None:
        trainer.model.set_weights(best_weights)
    return losses, val_losses



class Progress:
    """Per-epoch progress the way Keras users expect (``verbose`` 1 or 2)."""

    def __init__(self, verbose, n_epochs):
        self.verbose = int(verbose)
        self.n_epochs = n_epochs
        self._bar = None
        if self.verbose == 1:
            self._bar = keras().utils.Progbar(n_epochs, unit_name="epoch")

    def update(self, epoch, loss, val_loss, seconds):
        if self.verbose <= 0:
            return
        values = [("loss", loss)] + ([("val_loss", val_loss)] if val_loss is not None else [])
        if self._bar is not None:
            self._bar.update(epoch + 1, values=values)
        else:
            text = " - ".join(f"{k}: {v:.4f}" for k, v in values)
            print(f"Epoch {epoch + 1}/{self.n_epochs} - {seconds:.2f}s - {text}", flush=True)


