"""Turn tables trained elsewhere into the fitted state of a skembrec estimator."""

import numpy as np

from .._engine.targets import RegressionTarget
from .._input.vocab import IdVocabulary
from .state import FittedState, merge_seen


def factor_state(model, user_ids, item_ids, tables, *, global_mean, rating_range, seen):
    """The fitted state of ``model`` with the vocabularies of another trainer.

    ``tables`` maps layer names of the model's graph to arrays with one row
    per id, in the order of ``user_ids`` / ``item_ids``. Returns the state
    and the full tables (rows in vocabulary order, the unknown row added) to
    install.
    """
    model._validate_params()
    if model.time_column is not None:
        raise ValueError("factors trained elsewhere carry no time effects: "
                         "build the model with time_column=None")
    user_vocab, user_codes = IdVocabulary.fit(np.asarray(user_ids, dtype=object), name="user id")
    item_vocab, item_codes = IdVocabulary.fit(np.asarray(item_ids, dtype=object), name="item id")
    if len(user_vocab) != len(user_codes) or len(item_vocab) != len(item_codes):
        raise ValueError("user_ids and item_ids must not repeat an id")
    order = {"user": np.argsort(user_codes), "item": np.argsort(item_codes)}
    sizes = {"user": len(user_vocab), "item": len(item_vocab)}
    values = {}
    for name, table in tables.items():
        side = "user" if name.startswith("user_") else "item"
        if len(table) != sizes[side]:
            raise ValueError(
                f"{name} has {len(table)} rows but there are {sizes[side]} {side} ids")
        if not np.all(np.isfinite(table)):
            raise ValueError(f"{name} holds NaN or inf")
        # rows follow the vocabulary's (sorted) order; the unknown row is added
        rows = table[order[side]]
        values[name] = np.concatenate([rows, np.zeros((1,) + rows.shape[1:], rows.dtype)])
    if not np.isfinite(float(global_mean)):
        raise ValueError(f"global_mean must be a finite number, got {global_mean!r}")
    low, high = (-np.inf, np.inf) if rating_range is None else map(float, rating_range)
    if not low <= high or np.isnan(low) or np.isnan(high):
        raise ValueError(f"rating_range must be (low, high) with low <= high, got "
                         f"{rating_range!r}")
    users = items = np.empty(0, dtype=np.int64)
    if seen is not None:
        seen = np.asarray(seen, dtype=object)
        users = user_vocab.transform(seen[:, 0])
        items = item_vocab.transform(seen[:, 1])
    state = FittedState(
        params=model.get_params(deep=False), user_vocab=user_vocab, item_vocab=item_vocab,
        target=RegressionTarget(float(global_mean), 1.0, low, high),
        seen=merge_seen(None, users, items, len(user_vocab), len(item_vocab)))
    return state, values
