"""The battery of hostile inputs (``tests/hostile_cases.py``), every entry point.

Each bad input must meet the error the catalogue names, raised by our own
validation (the innermost frame of the traceback is skembrec's or
scikit-learn's validation, never TensorFlow, Keras, NumPy or pandas), with a
message that names what is wrong; each edge case that must work must give a
correct result. Generated cases (hypothesis) widen the net: arbitrary
arrays to fit and predict, arbitrary header values and bytes to load.
"""

import os
import re
import traceback

import numpy as np
import pytest
from hostile_cases import CASES, Case

OURS = (f"{os.sep}skembrec{os.sep}", f"{os.sep}sklearn{os.sep}utils{os.sep}")
# where a clear error may come from: our code, scikit-learn's validation
# helpers we call, and the standard library for files (FileNotFoundError...)
STDLIB_FILE_ERRORS = (FileNotFoundError, IsADirectoryError)


def _origin(exc):
    frames = traceback.extract_tb(exc.__traceback__)
    return frames[-1].filename if frames else ""


def check_case(case: Case):
    """Run one case; return None when it behaves, else what went wrong."""
    try:
        result = case.call()
    except Exception as exc:  # noqa: BLE001 - we judge whatever is raised
        if case.error is None:
            return f"raised {type(exc).__name__}: {exc}"
        if not isinstance(exc, case.error):
            return f"raised {type(exc).__name__} (expected {case.error}): {exc}"
        if not re.search(case.match, str(exc)):
            return f"message {str(exc)!r} does not match {case.match!r}"
        origin = _origin(exc)
        if not isinstance(exc, STDLIB_FILE_ERRORS) and not any(o in origin for o in OURS):
            return f"raised from {origin}, not by skembrec's validation: {exc}"
        return None
    if case.error is not None:
        return f"no error (expected {case.error})"
    if case.check is not None and not case.check(result):
        return f"wrong result: {result!r}"[:300]
    return None


@pytest.mark.parametrize("case", CASES, ids=[f"{c.entry}: {c.name}" for c in CASES])
def test_hostile_input(case):
    problem = check_case(case)
    assert problem is None, problem


# -- generated cases -----------------------------------------------------------
from hostile_cases import SMALL, fitted, folder, saved  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GENERATED = settings(max_examples=25, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow,
                                            HealthCheck.function_scoped_fixture])

_cells = st.one_of(
    st.integers(-3, 3), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
    st.text(max_size=3), st.none(), st.booleans(), st.tuples(st.integers(0, 2)),
    st.just(b"\xff"), st.just(float("inf")), st.builds(object))


def _clear_error(exc):
    """Whether an exception is a clear one of ours (type and origin)."""
    if not isinstance(exc, ValueError | TypeError):
        return False
    origin = traceback.extract_tb(exc.__traceback__)[-1].filename
    return any(o in origin for o in OURS)


@GENERATED
@given(rows=st.integers(0, 12), columns=st.integers(0, 4), data=st.data())
def test_any_table_is_fitted_or_refused_clearly(rows, columns, data):
    from skembrec import FunkMF

    X = np.empty((rows, columns), dtype=object)
    for index in np.ndindex(X.shape):
        X[index] = data.draw(_cells)
    y = np.array(data.draw(st.lists(st.one_of(st.floats(), st.integers(1, 5)),
                                    min_size=rows, max_size=rows)), dtype=float)
    try:
        model = FunkMF(**SMALL).fit(X, y)
    except Exception as exc:  # noqa: BLE001
        assert _clear_error(exc), f"{type(exc).__name__} from {_origin(exc)}: {exc}"
        return
    assert np.isfinite(model.predict(X)).all()


@GENERATED
@given(rows=st.integers(1, 8), data=st.data())
def test_any_rows_are_predicted_or_refused_clearly(rows, data):
    X = np.empty((rows, 3), dtype=object)
    for index in np.ndindex(X.shape):
        X[index] = data.draw(_cells)
    for name in ("FunkMF", "EmbeddingClassifier"):
        try:
            out = fitted(name).predict(X)
        except Exception as exc:  # noqa: BLE001
            assert _clear_error(exc), f"{type(exc).__name__} from {_origin(exc)}: {exc}"
            continue
        assert out.shape == (rows,) and np.isfinite(out.astype(float)).all()


def _paths(value, prefix=()):
    """Every key path of a JSON value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**65, 2**65) | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3),
    max_leaves=6)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_header_value_is_loaded_or_refused_naming_the_file(data):
    import json

    from skembrec import FunkMF

    path = saved()
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz["__header__"].tobytes())
    keys = sorted(_paths(header), key=str)
    key = data.draw(st.sampled_from([k for k in keys if k[0] != "sha256"]))
    value = data.draw(_json)

    def change(header, arrays):
        target = header
        for part in key[:-1]:
            target = target[part]
        target[key[-1]] = value

    path = saved(change)
    try:
        model = FunkMF.load(path)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, ValueError | TypeError) and "m.npz" in str(exc), \
            f"{key}={value!r}: {type(exc).__name__}: {exc}"
        return
    assert np.isfinite(model.predict([[1, 1, 0]])).all(), f"{key}={value!r}"


@settings(max_examples=30, deadline=None, derandomize=True)
@given(position=st.floats(0, 1, exclude_max=True), byte=st.integers(1, 255))
def test_any_flipped_byte_is_refused_or_harmless(position, byte):
    from skembrec import FunkMF

    path = saved()
    data = bytearray(path.read_bytes())
    data[int(position * len(data))] ^= byte
    path.write_bytes(bytes(data))
    try:
        model = FunkMF.load(path)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, ValueError) and "m.npz" in str(exc), \
            f"{type(exc).__name__}: {exc}"
        return
    # a byte the format does not read (zip metadata): the model is unchanged
    np.testing.assert_array_equal(model.predict([[1, 1, 0]]), fitted().predict([[1, 1, 0]]))


_tokens = st.sampled_from(["1", "2", "5", "0", "-1", "x", "", "3.5", "1e9", "881250949",
                           "nan", "\u00e9", " ", "99999999999999999999"])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(lines=st.lists(st.lists(_tokens, min_size=0, max_size=6), min_size=1, max_size=5),
       separator=st.sampled_from(["\t", "::", ","]))
def test_any_ratings_file_is_read_or_refused_naming_file_and_line(lines, separator):
    from skembrec.datasets import load_movielens

    name = {"\t": "u.data", "::": "ratings.dat", ",": "ratings.csv"}[separator]
    header = "userId,movieId,rating,timestamp\n" if separator == "," else ""
    path = folder() / name
    path.write_text(header + "".join(separator.join(line) + "\n" for line in lines))
    try:
        data = load_movielens(path)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, ValueError) and name in str(exc), \
            f"{type(exc).__name__}: {exc}"
        assert re.search(r"line \d+|empty|no ratings", str(exc)), str(exc)
        return
    frame = data.frame
    assert len(frame) == len(lines)
    assert np.isfinite(frame["rating"]).all() and frame["rating"].between(0.5, 5).all()


def test_the_docs_table_lists_every_case():
    # regenerate with: python scripts/bad_input_table.py
    from pathlib import Path

    table = (Path(__file__).parents[1] / "docs" / "user_guide" / "bad_input_table.inc")
    lines = table.read_text().splitlines()
    rows = {(lines[n].split("``")[1], lines[n + 1].strip()[2:])
            for n in range(len(lines) - 1) if lines[n].startswith("   * - ``")}
    cases = {(c.entry, " ".join(c.name.split())) for c in CASES}
    assert cases <= rows, sorted(cases - rows)[:5]
    assert "**no error**" not in table.read_text()
