"""The fitting modes of an estimator: in memory (fit, ``partial_fit``, warm
start), from rating shards on disk, and fold-in of users on a fitted model.

Each builds one :class:`~skembrec._io.state.FittedState` and a live runtime,
runs the model's declared training path
(:class:`~skembrec._engine.trainers.base.TrainingPath`) through the one epoch
loop, and installs the result with the estimator's ``_install``; the
scikit-learn surface itself stays in :mod:`skembrec._base`.
"""

import copy
import dataclasses

import numpy as np
from sklearn.utils import check_random_state

from .._input import validation as _validation
from .._input.features import SideFeatures, check_feature_refs
from .._input.vocab import IdVocabulary
from .._io.state import FittedState, merge_ratings, merge_seen
from . import runtime as _runtime
from .loop import run_epochs, split_validation
from .runtime import Runtime
from .targets import RegressionTarget
from .trainers.base import FitData


def fold_in(est, X, y, sample_weight):
    """``est.fold_in``: the users of ``X`` solved (or stepped) on the fitted rest."""
    state = est._fitted_state()
    name = type(est).__name__
    if type(est)._fold_in_rows is None:
        raise NotImplementedError(
            f"{name}.fold_in is not available yet; use partial_fit or a warm "
            "start to add users")
    table = _validation.check_X(est, X, reset=False)
    users_raw = table.ids("user", fitting=True)
    items_raw = table.ids("item", fitting=False)
    y = est._target_class(state.params).check(y, table.n_rows)
    weight = _validation.check_sample_weight(sample_weight, table.n_rows)
    weight = np.ones(table.n_rows) if weight is None else weight
    if not weight.sum() > 0:
        raise ValueError("sample_weight must give some rating a positive weight")
    user_vocab = state.user_vocab.extended(users_raw, name="user id")
    users = user_vocab.transform(users_raw)
    items = state.item_vocab.transform(items_raw, name="item id")
    old = est._live()
    weights, optimizer = est._current_values()
    new_state = dataclasses.replace(
        state, user_vocab=user_vocab, weights=None, optimizer=None,
        time=copy.deepcopy(state.time),
        features=None if state.features is None else dict(state.features),
        seen=None if state.seen is None else merge_seen(
            state.seen, users, items, len(user_vocab), len(state.item_vocab)))
    known = items < len(state.item_vocab)
    encoded = state.target.encode(y[known])
    if type(est)._reads_ratings:
        # a graph that reads the training ratings reads the folded users' too
        new_state.ratings = merge_ratings(state.ratings, users[known], items[known], encoded,
                                          weight[known], len(user_vocab), len(state.item_vocab))
    # the folded users' dates and feature bags are theirs to record; the
    # items' bags stay as fitted
    extra = est._extra_inputs(table, users, items, new_state, fitting=True,
                               record=("user",))
    runtime = _runtime.build(type(est), new_state, check_random_state(0))
    _runtime.copy_weights(old, runtime, weights)
    # a new user starts from the fallback an unknown user gets
    n_known = len(state.user_vocab)
    for before, after in zip(old.tables, runtime.tables):
        if after.side == "user" and len(user_vocab) > n_known:
            values = after.variable.numpy()
            values[n_known:-1] = before.variable.numpy()[-1]
            after.variable.assign(values)
    folded = np.unique(users)
    rows = type(est)._fold_in_rows(
        runtime.model, new_state, folded, users[known], items[known],
        encoded.astype(np.float64), weight[known],
        tuple(x[known] for x in extra))
    for layer, values in rows.items():
        variable = runtime.model.get_layer(layer).embeddings
        table_values = variable.numpy()
        table_values[folded] = values
        variable.assign(table_values)
    if optimizer is not None:
        _runtime.attach_trainer(type(est), runtime, new_state) \
            .load_optimizer_state(optimizer)
    est._install(new_state, runtime)
    return est


def fit_in_memory(est, X, y, sample_weight, *, n_epochs, resume, partial,
                  **target_params):
    """``fit``/``partial_fit``/a warm start on ratings in memory; a failure
    (bad input, KeyboardInterrupt, a diverging loss) leaves ``est`` as it was."""
    # the fit's own copy: mutating a list parameter later changes nothing
    params = est._resolve_params({k: v if k == "random_state" else copy.deepcopy(v)
                                  for k, v in est.get_params(deep=False).items()})
    old = vars(est).get("_state")
    if resume and old is not None:
        changed = est._changed_architecture(old.params, params)
        if changed and partial:
            raise ValueError(
                f"partial_fit cannot continue this fit: {', '.join(changed)} "
                "changed since the model was fitted (the graph would change); "
                "call fit() to start from scratch, or set the fitted values back")
        resume = not changed  # fit(warm_start=True) after a change starts afresh
    else:
        resume = False
    # a fit that raises (bad input, KeyboardInterrupt, a diverging loss)
    # leaves the estimator exactly as it was before the call
    previous = dict(vars(est))
    if resume:
        # one copy of the values, to grow them and to restore after a failure
        snapshot = est._current_values()
    try:
        table = _validation.check_X(est, X, reset=not resume)
        users_raw, items_raw = table.ids("user", fitting=True), table.ids("item", fitting=True)
        n_samples = table.n_rows
        y = est._target_class(params).check(y, n_samples, **target_params)
        weight = est._fit_weight(params, y, _validation.check_sample_weight(
            sample_weight, n_samples))
        rng = check_random_state(est._setting("random_state"))
        if resume:
            target = old.target.update(y)
            state = dataclasses.replace(
                old, params=params, target=target,
                user_vocab=old.user_vocab.extended(users_raw, name="user id"),
                item_vocab=old.item_vocab.extended(items_raw, name="item id"),
                time=copy.deepcopy(old.time), history=copy.deepcopy(old.history),
                features=None if old.features is None else dict(old.features),
                weights=None, optimizer=None)
            users = state.user_vocab.transform(users_raw)
            items = state.item_vocab.transform(items_raw)
        else:
            target = est._target_class(params).fit(y, weight, **target_params)
            # the ids are factorised once: the vocabulary and the codes
            user_vocab, users = IdVocabulary.fit(users_raw, name="user id")
            item_vocab, items = IdVocabulary.fit(items_raw, name="item id")
            state = FittedState(params=params, target=target,
                                user_vocab=user_vocab, item_vocab=item_vocab,
                                features=_fit_features(table, params))
        encoded = target.encode(y)
        target.check_weights(encoded, weight, type(est).__name__)
        extra = est._extra_inputs(table, users, items, state, fitting=True,
                                   reset=not resume)
        if est._reads_ratings:
            # the graph reads the ratings themselves: they are fitted state
            state.ratings = merge_ratings(old.ratings if resume else None, users, items,
                                          encoded, weight, len(state.user_vocab),
                                          len(state.item_vocab))
            if state.ratings.nnz == 0:
                raise ValueError("sample_weight must give some rating a positive weight")
        if resume:
            runtime = _runtime.resume(type(est), est._live(), state, *snapshot, rng)
        else:
            runtime = _runtime.new(type(est), state, rng)
        _train(est, state, runtime, users, items, encoded, weight, extra, n_epochs, rng)
        state.seen = merge_seen(old.seen if resume else None, users, items,
                                 len(state.user_vocab), len(state.item_vocab))
        est._install(state, runtime)
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(previous)
        if resume:
            # the live model may have been trained in place: rebuild it
            old.weights, old.optimizer = snapshot
            est._runtime = Runtime()
        raise
    return est

def fit_shards(est, shards, y, sample_weight):
    """Fit from rating shards on disk, streaming every epoch."""
    from .streaming import TrainingStream, scan_shards

    name = type(est).__name__
    if y is not None or sample_weight is not None:
        raise ValueError("the ratings come from the shards: call fit(shards) "
                         "without y or sample_weight")
    # a model with its own training path (item batches, a sampler) needs
    # its ratings in memory
    if (est._target_class(est.get_params(deep=False)) is not RegressionTarget
            or not est._trainer_class(est.get_params(deep=False)).streams):
        raise TypeError(f"{name} cannot fit from shards; FunkMF and "
                        "EmbeddingRegressor can")
    if est.early_stopping or est.warm_start:
        raise ValueError("fitting from shards supports neither early_stopping "
                         "nor warm_start")
    if est.time_column is not None:
        raise ValueError("shards hold no time column: fit from shards with "
                         "time_column=None")
    if est.user_features or est.item_features:
        raise ValueError("shards hold no feature columns: fit from shards with "
                         "user_features=None and item_features=None")
    previous = dict(vars(est))
    try:
        user_ids, item_ids, stats = scan_shards(shards)
        rng = check_random_state(est.random_state)
        # the rated pairs are not held in memory (seen=None): recommend()
        # cannot skip them
        state = FittedState(
            params=est._resolve_params(est.get_params(deep=False)),
            target=RegressionTarget.from_moments(*stats),
            user_vocab=IdVocabulary(user_ids), item_vocab=IdVocabulary(item_ids))
        for attr in ("n_features_in_", "feature_names_in_"):
            vars(est).pop(attr, None)
        runtime = _runtime.new(type(est), state, rng)
        stream = TrainingStream(shards, state.user_vocab, state.item_vocab,
                                min(est.batch_size, int(stats[0])),
                                encode=state.target.encode_tensor)
        trainer = runtime.trainer
        _record_epochs(state, *run_epochs(
            trainer, lambda epoch: trainer.run_stream_epoch(stream.epoch(epoch.seed)),
            n_epochs=est.n_epochs, first_epoch=0, rng=rng, verbose=est.verbose))
        est._install(state, runtime)
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(previous)
        raise
    return est

def _train(est, state, runtime, users, items, target, weight, extra, n_epochs, rng):
    if weight is None:
        weight = np.ones(len(users), dtype=np.float32)
    arrays = [users, items, target, weight, *extra]
    held_out, stopping = None, {}
    if est._setting("early_stopping"):
        arrays, held_out = split_validation(arrays, est.validation_fraction, rng)
        held_out = FitData(*held_out[:4], tuple(held_out[4:]), state)
        stopping = {"tol": est.tol, "n_iter_no_change": est.n_iter_no_change}
    trainer = runtime.trainer
    # the training path lays the data out as it consumes them (rating
    # batches, item rows for AutoRec, groups for BayesianMF's sampler)
    data, val = trainer.prepare(FitData(*arrays[:4], tuple(arrays[4:]), state,
                                        held_out=held_out))
    _record_epochs(state, *run_epochs(
        trainer, lambda epoch: trainer.run_epoch(data, epoch), n_epochs=n_epochs,
        first_epoch=state.n_iter, rng=rng, val=val, verbose=est._setting("verbose"),
        **stopping))

def _record_epochs(state, losses, val_losses):
    state.history["loss"].extend(losses)
    state.history["val_loss"].extend(val_losses)
    state.n_iter += len(losses)

def _fit_features(table, params):
    """``{"user": SideFeatures or None, "item": ...}`` of a new fit, or None."""
    features = {}
    for side in ("user", "item"):
        parameter = f"{side}_features"
        refs = check_feature_refs(params.get(parameter), parameter, "the estimator")
        features[side] = SideFeatures.fit(table, refs, params.get("feature_separator", "|"),
                                          side, parameter) if refs else None
    return features if any(f is not None for f in features.values()) else None
