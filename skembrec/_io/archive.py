"""The fitted state <-> a safe archive (header + arrays) of :mod:`._persistence`.

:func:`to_archive` lays a :class:`~skembrec._io.state.FittedState` out as JSON
and plain arrays; :func:`from_archive` reads it back, checking every key,
type and shape it relies on, and raising a ``ValueError`` that names the
file for anything inconsistent; :func:`load_estimator` puts a loaded
estimator together. None imports the estimators.
"""

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.utils import check_random_state

from .._engine import runtime as _runtime
from .._input.features import SideFeatures
from .._input.time import TimeFeatures
from .._input.vocab import IdVocabulary
from .._sklearn_compat import InvalidParameterError
from . import persistence as _persistence
from .persistence import from_json, ids_from_store, ids_to_store, to_json
from .state import FittedState

_TIME_ARRAYS = ("user_sum", "user_count", "user_first", "user_last")


def to_archive(class_name, params, state, inputs):
    """``(header, arrays)`` for an estimator of ``class_name``.

    ``params`` are its current parameters, ``state`` its fitted state with
    weights and optimizer filled in, ``inputs`` its ``n_features_in_`` and
    ``feature_names_in_``.
    """
    arrays = {}
    header = {
        "class": class_name,
        "params": to_json(params),
        "fit_params": to_json(state.params),
        "inputs": {"n_features_in_": int(inputs["n_features_in_"])}
        if "n_features_in_" in inputs else {},
        "n_iter": int(state.n_iter),
        "history": to_json(state.history),
        "target": state.target.state(arrays, ids_to_store),
        "vocab": {side: ids_to_store(getattr(state, f"{side}_vocab").ids, f"{side}_ids",
                                     arrays)
                  for side in ("user", "item")},
        "n_weights": len(state.weights),
    }
    if "feature_names_in_" in inputs:
        header["inputs"]["feature_names_in_"] = [str(c) for c in inputs["feature_names_in_"]]
    for n, w in enumerate(state.weights):
        arrays[f"weight_{n}"] = np.asarray(w)
    if state.optimizer is not None:
        opt = state.optimizer
        header["optimizer"] = {"name": opt["name"], "step": int(opt["step"]),
                               "slots": {str(k): len(v) for k, v in opt["slots"].items()}}
        for k, slots in opt["slots"].items():
            for j, value in enumerate(slots):
                arrays[f"slot_{k}_{j}"] = np.asarray(value)
    if state.time is not None:
        header["time"] = {"origin": state.time.origin, "span": state.time.span,
                          "drift_scale": state.time.drift_scale}
        for name, values in state.time.arrays().items():
            arrays[f"time_{name}"] = values
    if state.features is not None:
        header["features"] = {side: None if features is None
                              else features.to_archive(arrays, ids_to_store)
                              for side, features in state.features.items()}
    if state.seen is not None:
        arrays["seen_indptr"], arrays["seen_indices"] = state.seen.indptr, state.seen.indices
        header["seen_shape"] = list(state.seen.shape)
    if state.ratings is not None:
        ratings = state.ratings
        arrays["ratings_indptr"], arrays["ratings_indices"] = ratings.indptr, ratings.indices
        arrays["ratings_data"] = ratings.data
        header["ratings_shape"] = list(ratings.shape)
    return header, arrays


def from_archive(header, arrays, path, model_cls):
    """``(params, state, inputs)`` read back from an archive of ``path``.

    ``model_cls`` is the estimator class (its target encoder reads itself).
    """
    try:
        return _from_archive(header, arrays, model_cls)
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ValueError(f"{path} is an inconsistent skembrec model file: "
                         f"{type(exc).__name__}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{path} is an inconsistent skembrec model file: {exc}") from None


def _from_archive(header, arrays, model_cls):
    params = from_json(_mapping(header, "params"))
    fit_params = from_json(_mapping(header, "fit_params"))
    inputs = {}
    raw_inputs = _mapping(header, "inputs")
    if "n_features_in_" in raw_inputs:
        inputs["n_features_in_"] = _int(raw_inputs["n_features_in_"], "n_features_in_", 2)
    if "feature_names_in_" in raw_inputs:
        inputs["feature_names_in_"] = np.asarray(raw_inputs["feature_names_in_"], dtype=object)
    target_spec = _mapping(header, "target")
    # files written before a parameter existed were fitted with its default
    target_cls = model_cls._target_class({**model_cls._since, **fit_params})
    target = target_cls.from_state(target_spec, arrays, ids_from_store,
                                   model_cls._legacy_output_unit)
    vocab = _mapping(header, "vocab")
    user_vocab = IdVocabulary(ids_from_store(vocab["user"], arrays))
    item_vocab = IdVocabulary(ids_from_store(vocab["item"], arrays))
    n_weights = _int(header["n_weights"], "n_weights", 1)
    weights = [_array(arrays, f"weight_{n}") for n in range(n_weights)]
    if not all(_finite_numbers(w) for w in weights):
        raise ValueError("weights must be finite numbers")
    optimizer = None
    if header.get("optimizer") is not None:
        spec = _mapping(header, "optimizer")
        optimizer = {"name": str(spec["name"]), "step": _int(spec["step"], "step", 0),
                     "slots": {int(k): [_array(arrays, f"slot_{k}_{j}")
                                        for j in range(_int(n, "slots", 0))]
                               for k, n in _mapping(spec, "slots").items()}}
        for k, slots in optimizer["slots"].items():
            if not 0 <= k < n_weights:
                raise ValueError(f"an optimizer slot names weight {k}")
            for slot in slots:
                # every optimizer's slots have their variable's shape
                if slot.shape != weights[k].shape or not _finite_numbers(slot):
                    raise ValueError(f"an optimizer slot of weight {k} is not finite "
                                     f"numbers of shape {weights[k].shape}")
    time = None
    if header.get("time") is not None:
        spec = _mapping(header, "time")
        time = TimeFeatures(float(spec["origin"]), float(spec["span"]),
                            float(spec["drift_scale"]),
                            *(_array(arrays, f"time_{name}") for name in _TIME_ARRAYS))
        if any(len(getattr(time, name)) != len(user_vocab) for name in _TIME_ARRAYS):
            raise ValueError("the time statistics do not match the user vocabulary")
    features = None
    if header.get("features") is not None:
        spec = _mapping(header, "features")
        if set(spec) != {"user", "item"}:
            raise ValueError("the side features must name the user and item sides")
        features = {side: None if spec[side] is None else SideFeatures.from_archive(
            side, spec[side], arrays, ids_from_store,
            len(user_vocab if side == "user" else item_vocab))
            for side in ("user", "item")}
        for side in ("user", "item"):
            if (features[side] is None) != (not fit_params.get(f"{side}_features")):
                raise ValueError(f"the {side} features do not match the parameters")
    seen = None
    if "seen_shape" in header:
        shape = tuple(_int(v, "seen_shape", 0) for v in header["seen_shape"])
        if shape != (len(user_vocab), len(item_vocab)):
            raise ValueError("the rated pairs do not match the vocabularies")
        indices, indptr = _array(arrays, "seen_indices"), _array(arrays, "seen_indptr")
        seen = csr_matrix((np.ones(len(indices), dtype=np.bool_), indices, indptr),
                          shape=shape)
    ratings = None
    if "ratings_shape" in header:
        ratings = _ratings(header, arrays, len(user_vocab), len(item_vocab))
    history = from_json(_mapping(header, "history"))
    state = FittedState(params=fit_params, user_vocab=user_vocab, item_vocab=item_vocab,
                        target=target, time=time, features=features, seen=seen,
                        weights=weights,
                        optimizer=optimizer,
                        history={"loss": list(history["loss"]),
                                 "val_loss": list(history["val_loss"])},
                        n_iter=_int(header["n_iter"], "n_iter", 0), ratings=ratings)
    return params, state, inputs


def _ratings(header, arrays, n_users, n_items):
    """The item x user rating matrix a model's graph reads, checked entry by entry."""
    shape = tuple(_int(v, "ratings_shape", 0) for v in header["ratings_shape"])
    if shape != (n_items, n_users):
        raise ValueError("the rating matrix does not match the vocabularies")
    indptr, indices = _array(arrays, "ratings_indptr"), _array(arrays, "ratings_indices")
    data = _array(arrays, "ratings_data")
    if not (indptr.dtype.kind in "iu" and indices.dtype.kind in "iu"
            and data.dtype.kind == "f" and np.isfinite(data).all()):
        raise ValueError("the rating matrix must hold integer indices and finite values")
    if (indptr.shape != (n_items + 1,) or indices.shape != data.shape or indptr[0] != 0
            or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0)
            or (len(indices) and (indices.min() < 0 or indices.max() >= n_users))):
        raise ValueError("the rating matrix's indices are inconsistent")
    matrix = csr_matrix((data.astype(np.float32), indices, indptr), shape=shape)
    if not matrix.has_canonical_format:
        raise ValueError("the rating matrix has unsorted or repeated entries")
    return matrix


def _finite_numbers(array):
    return array.dtype.kind in "fiub" and (array.dtype.kind != "f" or np.isfinite(array).all())


def _mapping(header, key):
    value = header[key]
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} must be a mapping, got {type(value).__name__}")
    return value


def _int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _array(arrays, name):
    if name not in arrays:
        raise ValueError(f"the array {name!r} is missing")
    return arrays[name]


def load_estimator(cls, base, registry, path):
    """``cls.load(path)``: the estimator a :func:`to_archive` file holds.

    ``base`` is the estimators' base class (whose ``load`` takes any of
    them), ``registry`` maps class names to classes.
    """
    header, arrays = _persistence.read(path)
    name = header.get("class")
    target_cls = registry.get(name) if isinstance(name, str) else None
    if target_cls is None:
        raise ValueError(f"{path} holds an unknown estimator class {name!r}")
    if cls is not base and not issubclass(target_cls, cls):
        raise TypeError(f"{path} holds a {name}, not a {cls.__name__}")
    params, state, inputs = from_archive(header, arrays, path, target_cls)
    known = target_cls().get_params(deep=False)
    for given in (params, state.params):
        # files written before a parameter existed fit with its default
        for name, default in target_cls._since.items():
            if name in known:
                given.setdefault(name, default)
    _check_params(target_cls, params, path, "current")
    # the fit's parameters build the graph: each is checked as fit checks it
    _check_params(target_cls, state.params, path, "fit", validate=True)
    estimator = target_cls(**params)
    vars(estimator).update(inputs)
    shapes = [tuple(np.shape(w)) for w in state.weights]
    try:
        expected = _runtime.variable_shapes(target_cls, state)
        if expected is not None and shapes != expected:
            raise ValueError(f"its parameters make variables of shapes {expected}, "
                             f"the file holds {shapes}")
        runtime = _runtime.build(target_cls, state, check_random_state(0))
        _runtime.set_variables(runtime.model, state.weights)
        if state.optimizer is not None:
            _runtime.attach_trainer(target_cls, runtime, state) \
                .load_optimizer_state(state.optimizer)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"{path} holds weights that do not fit its model: "
                         f"{exc}") from None
    estimator._install(state, runtime)
    return estimator


def _check_params(cls, params, path, which, validate=False):
    """A file's parameters are those of ``cls`` (and valid, with ``validate``)."""
    expected = set(cls().get_params(deep=False))
    if set(params) != expected:
        odd = sorted(set(params) ^ expected)
        raise ValueError(f"{path} is an inconsistent skembrec model file: its {which} "
                         f"parameters do not match {cls.__name__}'s ({odd})")
    if not validate:
        return
    try:
        cls(**params)._validate_params()
    except (InvalidParameterError, TypeError) as exc:
        raise ValueError(f"{path} is an inconsistent skembrec model file: {exc}") from None
