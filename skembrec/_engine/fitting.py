"""The fitting modes of an estimator: in memory (fit, ``partial_fit``, warm
start), from rating shards on disk, and fold-in of users on a fitted model.

Each builds one :class:`~skembrec._io.state.FittedState` and a live runtime,
runs the model's declared training path
(:class:`~skembrec._engine.trainers.base.TrainingPath`) through the one epoch
loop (or, for a fold-in, the model's fold-in rule on a :class:`FoldIn`
record), and installs the result with the estimator's ``_install``, which
traces the prediction graph here (:func:`trace_prediction`). The rows' graph
inputs besides the ids (:func:`extra_inputs`) are read here too, for fitting
and for prediction; the scikit-learn surface itself stays in
:mod:`skembrec._base`.
"""

import copy
import dataclasses

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._input import validation as _validation
from .._input.features import SideFeatures, check_feature_refs
from .._input.vocab import IdVocabulary
from .._io.state import FittedState, merge_cells, merge_ratings, merge_seen
from . import runtime as _runtime
from .loop import run_epochs, split_validation
from .runtime import Runtime
from .targets import RegressionTarget
from .trainers.base import FitData

# the rows of the first prediction a process runs, at its first install
_WARM_UP_ROWS = 1 << 16
_PROCESS = {"warmed_up": False}


@dataclasses.dataclass(frozen=True)
class FoldIn:
    """What a model's fold-in rule (its ``_fold_in_rows``) reads.

    Attributes
    ----------
    model : keras.Model
        The new graph, of the new state: every fitted value carried over,
        the user tables grown, a new user's rows the fallback an unknown user
        gets. A variable whose size follows the ratings (EASE's scoring
        values) holds its initial value: the rule gives its new one.
    fitted : keras.Model
        The fitted graph, as it was.
    data : FitData
        The folded users' ratings of items known to the fit (codes, encoded
        targets in float64, weights, the graph's further inputs), and the new
        state (vocabularies grown, time statistics and, for a model that reads
        its ratings, the rating matrix with the folded users' rows replaced).
    folded : ndarray of int
        The folded users' codes, sorted (those whose items are all unknown
        included).
    days : ndarray of float or None
        The dates of ``data``'s rows in days, on the fit's scale (not clipped
        to its range); None without a time column.
    """

    model: object
    fitted: object
    data: FitData
    folded: np.ndarray
    days: "np.ndarray | None" = None


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
    # a model may leave ratings out by their value (EASE's relevance threshold)
    weight = est._fit_weight(state.params, y, weight)
    user_vocab = state.user_vocab.extended(users_raw, name="user id")
    users = user_vocab.transform(users_raw)
    items = state.item_vocab.transform(items_raw, name="item id")
    n_users, n_items = len(user_vocab), len(state.item_vocab)
    old = est._live()
    weights, optimizer = est._current_values()
    new_state = dataclasses.replace(
        state, user_vocab=user_vocab, weights=None, optimizer=None,
        time=copy.deepcopy(state.time),
        features=None if state.features is None else dict(state.features),
        seen=None if state.seen is None else merge_seen(
            state.seen, users, items, n_users, n_items))
    known = items < n_items
    encoded = state.target.encode(y[known])
    folded = np.unique(users)
    if type(est)._reads_ratings:
        # a graph that reads the training ratings reads the folded users'
        # own: they replace those users' rows
        new_state.ratings = merge_ratings(
            _without_users(state.ratings, folded, n_users), users[known], items[known],
            encoded, weight[known], n_users, n_items)
    # the folded users' dates and feature bags are theirs to record; the
    # items' bags stay as fitted
    extra = extra_inputs(table, users, items, new_state, fitting=True, record=("user",))
    days = None
    if new_state.time is not None:
        from .._input.time import times_in_days

        days = times_in_days(table, state.params["time_column"])[known]
    runtime = _runtime.build(type(est), new_state, check_random_state(0))
    _carry_over(old, runtime, weights, len(state.user_vocab), n_users)
    data = FitData(users[known], items[known], encoded.astype(np.float64), weight[known],
                   tuple(x[known] for x in extra), new_state)
    _write_folded(runtime, folded, type(est)._fold_in_rows(
        FoldIn(runtime.model, old.model, data, folded, days)))
    if optimizer is not None:
        _runtime.attach_trainer(type(est), runtime, new_state) \
            .load_optimizer_state(optimizer)
    est._install(new_state, runtime)
    return est


def _carry_over(old, runtime, weights, n_known, n_users):
    """Copy the fitted ``weights`` (of ``old``'s graph) into ``runtime``'s:
    the user tables grown to ``n_users``, a new user's rows the fallback an
    unknown user gets. A variable whose size follows the ratings (EASE's
    scoring values) keeps its initial value: the fold-in rule fills it."""
    grown = {id(t.variable) for t in old.tables}
    _runtime.copy_weights(old, runtime, [
        value if id(before) in grown or value.shape == tuple(after.shape) else after.numpy()
        for before, after, value in zip(old.model.variables, runtime.model.variables,
                                        weights)])
    for before, after in zip(old.tables, runtime.tables):
        if after.side == "user" and n_users > n_known:
            values = after.variable.numpy()
            values[n_known:-1] = before.variable.numpy()[-1]
            after.variable.assign(values)


def _write_folded(runtime, folded, new_values):
    """Write a fold-in rule's ``{variable path: values}``: a user table takes
    the ``folded`` users' rows, any other variable its whole value."""
    variables = {v.path: v for v in runtime.model.variables}
    user_tables = {t.variable.path for t in runtime.tables if t.side == "user"}
    for path, values in new_values.items():
        variable = variables[path]
        if path in user_tables:
            table_values = variable.numpy()
            table_values[folded] = values
            values = table_values
        variable.assign(values)


def _without_users(ratings, users, n_users):
    """The item x user matrix ``ratings``, grown to ``n_users`` columns,
    without the entries of ``users``."""
    n_items = ratings.shape[0]
    ratings = ratings.copy()
    ratings.resize((n_items, n_users))
    ratings = ratings.tocsr()
    others = ~np.isin(ratings.indices, users)
    rows = np.repeat(np.arange(n_items), np.diff(ratings.indptr))
    return sp.csr_matrix((ratings.data[others], (rows[others], ratings.indices[others])),
                         shape=(n_items, n_users))


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
        extra = extra_inputs(table, users, items, state, fitting=True, reset=not resume)
        data = FitData(users, items, encoded,
                       np.ones(n_samples, np.float32) if weight is None else weight,
                       extra, state)
        if est._reads_ratings:
            # the graph reads the ratings themselves (the fit's cells): they
            # are fitted state
            state.ratings = _with_cells(old.ratings if resume else None, data)
            if state.ratings.nnz == 0:
                raise ValueError("sample_weight must give some rating a positive weight")
        if resume:
            runtime = _runtime.resume(type(est), est._live(), state, *snapshot, rng)
        else:
            runtime = _runtime.new(type(est), state, rng)
        _train(est, data, runtime, n_epochs, rng)
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


def _with_cells(old, data):
    """The rating matrix a model reads after a fit of ``data``: its cells,
    merged into ``old`` (the earlier fits' matrix, on a warm start)."""
    return merge_cells(old, data.cells[0])


def _train(est, data, runtime, n_epochs, rng):
    state = data.state
    stopping = {}
    if est._setting("early_stopping"):
        arrays, held_out = split_validation(data.rows(), est.validation_fraction, rng)
        data = FitData(*arrays[:4], tuple(arrays[4:]), state,
                       held_out=FitData(*held_out[:4], tuple(held_out[4:]), state))
        stopping = {"tol": est.tol, "n_iter_no_change": est.n_iter_no_change}
    trainer = runtime.trainer
    # the training path lays the data out as it consumes them (rating
    # batches, item rows for AutoRec, groups for BayesianMF's sampler)
    prepared, val = trainer.prepare(data)
    _record_epochs(state, *run_epochs(
        trainer, lambda epoch: trainer.run_epoch(prepared, epoch), n_epochs=n_epochs,
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


def extra_inputs(table, users, items, state, *, fitting, reset=False,
                 record=("user", "item")):
    """The graph's inputs after the ids for the rows of ``table`` (coded
    ``users`` and ``items``), in the graph's order: the time features of a
    time-aware model, then each side's feature bags.

    With ``fitting``, the rows' dates count in the users' time statistics
    (``reset``: they start them) and the bags of the rows' ids (on the sides
    in ``record``) are recorded, for recommend.
    """
    extra = []
    time_column = state.params["time_column"]
    if time_column is not None:
        from .._input.time import TimeFeatures, times_in_days

        days = times_in_days(table, time_column)
        n_users = len(state.user_vocab)
        if reset:
            state.time = TimeFeatures.fit(days, users, n_users)
        elif fitting:
            state.time.add(days, users, n_users)
        extra.append(state.time.transform(days, users))
    for side, codes in (("user", users), ("item", items)):
        features = (state.features or {}).get(side)
        if features is None:
            continue
        index, value = features.transform(table, f"{side}_features")
        if fitting and side in record:
            n_ids = len(state.user_vocab if side == "user" else state.item_vocab)
            state.features[side] = features.with_rows(codes, index, value, n_ids)
        extra += [index, value]
    return tuple(extra)


def trace_prediction(est, state):
    """Trace ``est``'s prediction graph (of its fitted ``state``) now, so that
    the first ``predict`` after a fit costs no tracing. The first model of a
    process runs it on a large input too: TensorFlow's first large execution
    costs about 8 ms more than the next (its thread pools and allocator warm
    up)."""
    rows = 1 if _PROCESS["warmed_up"] else _WARM_UP_ROWS
    est._output(np.zeros(rows, np.int64), np.zeros(rows, np.int64),
                tuple(np.repeat(x, rows, axis=0) for x in _placeholder_extras(state)))
    _PROCESS["warmed_up"] = True


def _placeholder_extras(state):
    """One row of zeros for every extra input of ``state``'s graph."""
    extra = [np.zeros((1, 2), np.float32)] if state.time is not None else []
    for side in ("user", "item"):
        if (state.features or {}).get(side) is not None:
            extra += [np.zeros((1, 1), np.int32), np.zeros((1, 1), np.float32)]
    return tuple(extra)


def is_shards(X):
    """Whether ``X`` is a :class:`~skembrec.datasets.RatingShards` folder."""
    from ..datasets._shards import RatingShards

    return isinstance(X, RatingShards)
