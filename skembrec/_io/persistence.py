"""A safe archive format: a JSON header and plain arrays in one ``.npz``, no pickle.

This module is a codec and knows nothing of estimators: :func:`write` stores
a header (any JSON value) and named NumPy arrays, with the format name, its
version and a SHA-256 digest of every array; :func:`read` gives them back,
reading with ``allow_pickle=False`` (a file can never run code) and refusing a
file of another format or version, a truncated or corrupted file, a missing
or failing digest. The estimators map themselves to and from an archive
(``BaseEmbeddingModel.save``/``load``).

The helpers below encode the values an archive commonly holds: id arrays
(numbers as arrays, anything else as typed JSON) and JSON-able scalars.
"""

import hashlib
import json
import numbers
import zipfile
from pathlib import Path

import numpy as np

from .files import replace_atomically

FORMAT = "skembrec-model"
FORMAT_VERSION = 2
_HEADER = "__header__"


def write(path, header, arrays, *, producer):
    """Write ``header`` and ``arrays`` to ``path``, replacing it atomically.

    Parameters
    ----------
    path : str or path-like
        The file to write. It is written through a unique temporary file in
        the same folder, so an interrupted write never leaves a half-written
        file under ``path`` and never touches another file.
    header : dict
        JSON-able values.
    arrays : dict of str to ndarray
        Arrays of numbers, bools or fixed-width strings (no objects).
    producer : str
        What wrote the file (e.g. ``"skembrec 0.1.0"``), stored in the header.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; save() needs a file path")
    arrays = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    header = dict(header, format=FORMAT, format_version=FORMAT_VERSION, producer=producer,
                  sha256={name: _digest(a) for name, a in arrays.items()})
    payload = dict(arrays)
    payload[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    replace_atomically(path, lambda fh: np.savez(fh, **payload))


def read(path):
    """Read an archive written by :func:`write`.

    Returns
    -------
    header : dict
    arrays : dict of str to ndarray

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is not an archive of this format and version, or is
        truncated or corrupted; the message names the file.
    """
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("it holds a plain array, not an archive")
        with npz:
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
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{path} has a corrupted header: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a skembrec model file")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path} uses skembrec model format version {version}, but this "
            f"skembrec reads version {FORMAT_VERSION}; it was written by "
            f"{header.get('producer', 'an older skembrec')}"
        )
    digests = header.get("sha256")
    if not isinstance(digests, dict) or set(digests) != set(arrays):
        raise ValueError(f"{path} is corrupted: its checksums do not list its arrays")
    for name, digest in digests.items():
        if _digest(arrays[name]) != digest:
            raise ValueError(f"{path} is corrupted: array {name!r} fails its checksum")
    return header, arrays


def _digest(array):
    array = np.ascontiguousarray(array)
    return hashlib.sha256(array.dtype.str.encode() + str(array.shape).encode()
                          + array.tobytes()).hexdigest()


# -- value encodings ----------------------------------------------------------
def ids_to_store(ids, name, arrays):
    """Numeric ids go in the array ``name``; anything else in typed JSON."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iufb":
        arrays[name] = ids
        return {"array": name}
    return {"json": [_typed(v) for v in ids.tolist()]}


def ids_from_store(spec, arrays):
    """The ids stored by :func:`ids_to_store`."""
    if not isinstance(spec, dict):
        raise ValueError("an id list must be a mapping")
    if "array" in spec:
        if spec["array"] not in arrays:
            raise ValueError(f"the id array {spec['array']!r} is missing")
        return arrays[spec["array"]]
    values = [_untyped(v) for v in spec["json"]]
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _typed(value):
    if isinstance(value, bool | np.bool_):
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


def to_json(value):
    """NumPy scalars and tuples as plain JSON values (tuples tagged)."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return {"tuple": [to_json(v) for v in value]}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, np.random.RandomState):
        return None  # a generator's state is not a parameter worth keeping
    if isinstance(value, np.generic):
        return value.item()
    return value


def from_json(value):
    """The inverse of :func:`to_json`."""
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(from_json(v) for v in value["tuple"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value
