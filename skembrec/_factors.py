"""Turn tables trained elsewhere into a fitted skembrec estimator."""

import numpy as np

from ._vocab import IdVocabulary


def install_factors(model, user_ids, item_ids, tables, *, global_mean, rating_range, seen):
    """Give ``model`` the vocabularies and embedding tables of another trainer.

    ``tables`` maps layer names of the model's graph to arrays with one row
    per id; the reserved unknown row is appended here.
    """
    model._validate_params()
    if model.time_column is not None:
        raise ValueError("factors trained elsewhere carry no time effects: "
                         "build the model with time_column=None")
    model._time = None
    user_vocab, user_codes = IdVocabulary.fit(np.asarray(user_ids, dtype=object), name="user id")
    item_vocab, item_codes = IdVocabulary.fit(np.asarray(item_ids, dtype=object), name="item id")
    if len(user_vocab) != len(user_codes) or len(item_vocab) != len(item_codes):
        raise ValueError("user_ids and item_ids must not repeat an id")
    order = {"user": np.argsort(user_codes), "item": np.argsort(item_codes)}
    sizes = {"user": len(user_vocab), "item": len(item_vocab)}
    for name, table in tables.items():
        side = name.split("_")[0]
        if len(table) != sizes[side]:
            raise ValueError(
                f"{name} has {len(table)} rows but there are {sizes[side]} {side} ids")
        if not np.all(np.isfinite(table)):
            raise ValueError(f"{name} holds NaN or inf")
    model._user_vocab, model._item_vocab = user_vocab, item_vocab
    model.global_mean_ = float(global_mean)
    model.rating_range_ = (
        (-np.inf, np.inf) if rating_range is None else tuple(float(v) for v in rating_range))
    model._target_scale = 1.0
    model._set_model(model._new_model(np.random.RandomState(0)))
    keras_model = model._runtime.model
    for name, table in tables.items():
        side = name.split("_")[0]
        # rows follow the vocabulary's (sorted) order; the unknown row is added
        rows = table[order[side]]
        full = np.concatenate([rows, np.zeros((1,) + rows.shape[1:], rows.dtype)])
        keras_model.get_layer(name).embeddings.assign(full)
    model.history_ = {"loss": [], "val_loss": []}
    model.n_iter_ = 0
    model._fill_unknown_rows()
    users = items = np.empty(0, dtype=np.int64)
    if seen is not None:
        seen = np.asarray(seen, dtype=object)
        users = user_vocab.transform(seen[:, 0])
        items = item_vocab.transform(seen[:, 1])
    model._seen = None
    model._record_seen(users, items, reset=True)
    return model
