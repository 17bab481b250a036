"""A safe file format for fitted estimators: JSON and plain arrays, no pickle.

``save`` writes one ``.npz`` archive. It holds the weights as plain NumPy
arrays, the ids of the vocabularies as arrays (numbers) or typed JSON
(strings, huge ints, mixed ids), and a JSON header with the format version,
the estimator's class and parameters and its fitted scalars. ``load`` reads
it with ``allow_pickle=False``, so a file can never run code, rebuilds the
Keras graph from the parameters (nothing of Keras' own serialisation is
involved), and checks every array against the header's SHA-256 digests, so a
corrupted or truncated file is refused with a clear error.
"""

import hashlib
import json
import numbers
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "skembrec-model"
FORMAT_VERSION = 1
_HEADER = "__header__"

# fitted attributes stored in the header (JSON-able after conversion)
_FITTED_SCALARS = (
    "n_iter_", "history_", "global_mean_", "rating_range_", "n_features_in_",
    "_target_scale",
)


def save(estimator, path):
    from . import __version__

    if "n_iter_" not in vars(estimator):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet")
    arrays = {}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "skembrec_version": __version__,
        "class": type(estimator).__name__,
        "params": _params_to_json(estimator.get_params(deep=False)),
        "fitted": {k: _to_json(vars(estimator)[k]) for k in _FITTED_SCALARS
                   if k in vars(estimator)},
    }
    if "feature_names_in_" in vars(estimator):
        header["fitted"]["feature_names_in_"] = [str(c) for c in estimator.feature_names_in_]
    if "classes_" in vars(estimator):
        header["classes"] = _ids_to_store(estimator.classes_, "classes", arrays)
    header["vocab"] = {
        side: _ids_to_store(getattr(estimator, f"_{side}_vocab").ids, f"{side}_ids", arrays)
        for side in ("user", "item")
    }
    weights = estimator._get_weights()
    for n, w in enumerate(weights):
        arrays[f"weight_{n}"] = np.ascontiguousarray(w)
    header["n_weights"] = len(weights)
    time_features = vars(estimator).get("_time")
    if time_features is not None:
        header["time"] = {"origin": time_features.origin, "span": time_features.span,
                          "drift_scale": time_features.drift_scale}
        for name, values in time_features.arrays().items():
            arrays[f"time_{name}"] = values
    seen = estimator._seen
    arrays["seen_indptr"], arrays["seen_indices"] = seen.indptr, seen.indices
    header["seen_shape"] = list(seen.shape)
    header["sha256"] = {name: _digest(a) for name, a in arrays.items()}
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    tmp.replace(path)  # never leave a half-written file under the final name


def load(path, expected_class=None):
    from scipy.sparse import csr_matrix

    from . import models
    from ._base import _Runtime
    from ._vocab import IdVocabulary

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path} is not a readable skembrec model file "
                         f"(corrupted or truncated?): {exc}") from None
    if _HEADER not in arrays:
        raise ValueError(f"{path} is not a skembrec model file (no header)")
    try:
        header = json.loads(arrays.pop(_HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} has a corrupted header: {exc}") from None
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a skembrec model file")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} uses skembrec model format version {version}, but this "
            f"skembrec ({_own_version()}) reads version {FORMAT_VERSION}; it was "
            f"written by skembrec {header.get('skembrec_version')}"
        )
    for name, digest in header.get("sha256", {}).items():
        if name not in arrays or _digest(arrays[name]) != digest:
            raise ValueError(f"{path} is corrupted: array {name!r} fails its checksum")
    cls_name = header.get("class")
    cls = getattr(models, cls_name, None) if cls_name in models.__all__ else None
    if cls is None:
        raise ValueError(f"{path} holds an unknown estimator class {cls_name!r}")
    if expected_class is not None and not issubclass(cls, expected_class):
        raise TypeError(f"{path} holds a {cls_name}, not a {expected_class.__name__}")

    estimator = cls(**_params_from_json(header["params"]))
    state = {}
    for key, value in header["fitted"].items():
        if key == "rating_range_":
            value = tuple(value)
        elif key == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        state[key] = value
    if "classes" in header:
        state["classes_"] = _ids_from_store(header["classes"], arrays)
    state["_user_vocab"] = IdVocabulary(_ids_from_store(header["vocab"]["user"], arrays))
    state["_item_vocab"] = IdVocabulary(_ids_from_store(header["vocab"]["item"], arrays))
    state["_weights"] = [arrays[f"weight_{n}"] for n in range(header["n_weights"])]
    state["_time"] = None
    if "time" in header:
        from ._time import TimeFeatures

        state["_time"] = TimeFeatures(**header["time"], **{
            name: arrays[f"time_{name}"]
            for name in ("user_sum", "user_count", "user_first", "user_last")})
    n_users, n_items = header["seen_shape"]
    state["_seen"] = csr_matrix(
        (np.ones(len(arrays["seen_indices"]), dtype=np.bool_),
         arrays["seen_indices"], arrays["seen_indptr"]), shape=(n_users, n_items))
    state.update(n_users_=n_users, n_items_=n_items,
                 user_ids_=state["_user_vocab"].ids, item_ids_=state["_item_vocab"].ids)
    vars(estimator).update(state)
    estimator._runtime = _Runtime()
    estimator._ensure_model()  # fail now, not at first predict, on a bad file
    return estimator


def _own_version():
    from . import __version__

    return __version__


def _digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _ids_to_store(ids, name, arrays):
    """Numeric ids go in an array; anything else in typed JSON."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iufb":
        arrays[name] = ids
        return {"array": name}
    return {"json": [_typed(v) for v in ids.tolist()]}


def _ids_from_store(spec, arrays):
    if "array" in spec:
        return arrays[spec["array"]]
    values = [_untyped(v) for v in spec["json"]]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _typed(value):
    if isinstance(value, (bool, np.bool_)):
        return ["bool", bool(value)]
    if isinstance(value, numbers.Integral):
        return ["int", str(int(value))]
    if isinstance(value, numbers.Real):
        return ["float", repr(float(value))]
    if isinstance(value, str):
        return ["str", value]
    raise TypeError(
        f"cannot save an id of type {type(value).__name__} ({value!r}): the safe "
        "format stores ints, floats, strings and bools; use pickle/joblib instead"
    )


def _untyped(pair):
    kind, value = pair
    return {"bool": bool, "int": int, "float": float, "str": str}[kind](value)


def _to_json(value):
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _params_to_json(params):
    out = {}
    for key, value in params.items():
        if isinstance(value, np.random.RandomState):
            value = None  # a generator's state is not a parameter worth keeping
        elif isinstance(value, tuple):
            value = {"tuple": list(value)}
        out[key] = _to_json(value)
    return out


def _params_from_json(params):
    return {k: tuple(v["tuple"]) if isinstance(v, dict) and "tuple" in v else v
            for k, v in params.items()}
