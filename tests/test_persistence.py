"""The safe save/load format, and the id vocabulary it stores."""

import json
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skembrec import AutoRec, EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec._input.vocab import IdVocabulary
from skembrec._io import persistence as _persistence


@pytest.fixture(scope="module")
def fitted(small_ratings_module):
    X, y = small_ratings_module
    return {
        "FunkMF": FunkMF(n_factors=4, n_epochs=2, random_state=0).fit(X, y),
        "EmbeddingRegressor": EmbeddingRegressor(
            n_factors=4, hidden_layer_sizes=(8,), batch_norm=True, dropout=0.1,
            n_epochs=2, random_state=0).fit(X, y),
        "EmbeddingClassifier": EmbeddingClassifier(
            n_factors=4, hidden_layer_sizes=(8,), n_epochs=2, random_state=0).fit(X, y),
        "EmbeddingClassifier ordinal": EmbeddingClassifier(
            n_factors=4, hidden_layer_sizes=(8,), n_epochs=2, output="ordinal",
            random_state=0).fit(X, y),
        "AutoRec": AutoRec(n_factors=4, n_epochs=2, batch_size=8, random_state=0).fit(X, y),
    }


@pytest.fixture(scope="module")
def small_ratings_module():
    from skembrec.datasets import make_ratings

    return make_ratings(n_users=40, n_items=30, n_ratings=600, random_state=3,
                        return_X_y=True)


@pytest.mark.parametrize("name", ["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier",
                                  "EmbeddingClassifier ordinal", "AutoRec"])
def test_save_load_round_trip(fitted, small_ratings_module, name, tmp_path):
    X, _ = small_ratings_module
    est = fitted[name]
    est.save(tmp_path / "model.npz")
    restored = type(est).load(tmp_path / "model.npz")
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    assert restored.get_params() == est.get_params()
    assert restored.history_ == est.history_
    np.testing.assert_array_equal(restored.item_ids_, est.item_ids_)
    assert list(restored.recommend(X.iloc[0, 0], n=3)) == list(est.recommend(X.iloc[0, 0], n=3))


def test_file_holds_no_pickles(fitted, tmp_path):
    fitted["FunkMF"].save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)


def test_string_ids_round_trip(tmp_path):
    X = np.array([["a", 10**30], ["b", 2], ["a", 2], ["c", 10**30]], dtype=object)
    y = np.array([1.0, 2.0, 3.0, 4.0])
    est = FunkMF(n_factors=2, n_epochs=1, random_state=0).fit(X, y)
    est.save(tmp_path / "m.npz")
    restored = FunkMF.load(tmp_path / "m.npz")
    assert restored.item_ids_.tolist() == est.item_ids_.tolist()
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))


def test_truncated_file_is_refused(fitted, tmp_path):
    path = tmp_path / "m.npz"
    fitted["FunkMF"].save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated"):
        FunkMF.load(path)


def test_corrupted_array_is_refused(fitted, tmp_path):
    path = tmp_path / "m.npz"
    fitted["FunkMF"].save(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name].copy() for name in npz.files}
    arrays["weight_0"][0, 0] += 1.0  # a flipped value, valid zip
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="checksum"):
        FunkMF.load(path)


def test_other_format_version_is_refused(fitted, tmp_path):
    path = tmp_path / "m.npz"
    fitted["FunkMF"].save(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["format_version"] = 99
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="format version 99"):
        FunkMF.load(path)


def _rewrite_header(path, change):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = json.loads(arrays["__header__"].tobytes())
    change(header)
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


@pytest.mark.parametrize("change, match", [
    (lambda h: h.pop("sha256"), "checksums"),
    (lambda h: h["sha256"].pop("weight_0"), "checksums"),
    (lambda h: h.pop("vocab"), "inconsistent .*vocab"),
    (lambda h: h.update(n_iter="many"), "n_iter must be an int"),
    (lambda h: h.update(n_weights=1), "weight"),
    (lambda h: h["target"].update(mean=float("nan")), "finite"),
    (lambda h: h.update(seen_shape=[1, 1]), "rated pairs"),
    (lambda h: h.update(params=[1]), "params"),
])
def test_inconsistent_header_is_refused_naming_the_file(fitted, tmp_path, change, match):
    path = tmp_path / "m.npz"
    fitted["FunkMF"].save(path)
    _rewrite_header(path, change)
    with pytest.raises(ValueError, match=match) as info:
        FunkMF.load(path)
    assert "m.npz" in str(info.value)


def test_save_writes_through_a_private_temporary_file(fitted, tmp_path):
    path = tmp_path / "m.npz"
    precious = tmp_path / "m.npz.tmp"
    precious.write_text("a file of the user's")
    fitted["FunkMF"].save(path)
    assert precious.read_text() == "a file of the user's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "m.npz.tmp"]
    with pytest.raises(IsADirectoryError):
        fitted["FunkMF"].save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz", "m.npz.tmp"]


def test_wrong_class_and_not_a_model(fitted, tmp_path):
    fitted["FunkMF"].save(tmp_path / "m.npz")
    with pytest.raises(TypeError, match="holds a FunkMF"):
        EmbeddingRegressor.load(tmp_path / "m.npz")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a skembrec model"):
        FunkMF.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError):
        FunkMF.load(tmp_path / "text.npz")
    assert zipfile.is_zipfile(tmp_path / "m.npz")


def test_unsavable_ids_raise(tmp_path):
    X = np.array([[("a", 1), 1], [("b", 2), 2]], dtype=object)
    est = FunkMF(n_factors=2, n_epochs=1, random_state=0).fit(X, [1.0, 2.0])
    with pytest.raises(TypeError, match="cannot save an id of type tuple"):
        est.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


ids = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ids, min_size=1, max_size=40), st.lists(ids, max_size=10))
def test_vocabulary_round_trip(values, others):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    vocab, codes = IdVocabulary.fit(arr)
    # raw -> index -> raw is the identity (up to ==, which makes 1 == 1.0)
    assert all(a == b for a, b in zip(vocab.inverse_transform(codes), values))
    assert len(vocab) == len(set(values))
    assert codes.max() < len(vocab)
    np.testing.assert_array_equal(vocab.transform(arr), codes)
    unknown = [v for v in others if v not in set(values)]
    probe = np.empty(len(unknown), dtype=object)
    probe[:] = unknown
    assert np.all(vocab.transform(probe) == vocab.unknown_index)
    # the safe format stores and restores every such id exactly
    store = {}
    spec = _persistence.ids_to_store(vocab.ids, "ids", store)
    restored = _persistence.ids_from_store(json.loads(json.dumps(spec)), store)
    assert [type(v) for v in restored.tolist()] == [type(v) for v in vocab.ids.tolist()]
    assert restored.tolist() == vocab.ids.tolist()


def _rewrite(path, change_header=None, change_arrays=None):
    """Rewrite a saved model as a crafted file would be: checksums recomputed."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    if change_header:
        change_header(header)
    if change_arrays:
        change_arrays(arrays)
    header["sha256"] = {name: _persistence._digest(a) for name, a in arrays.items()}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def _fit_param(name, value):
    return lambda header: header["fit_params"].update({name: value})


@pytest.mark.parametrize("model, change_header, change_arrays, match", [
    # sizes that would allocate gigabytes are refused before anything is built
    ("FunkMF", _fit_param("n_factors", 10**9), None, "shapes"),
    ("EmbeddingRegressor", _fit_param("hidden_layer_sizes", [10**9]), None, "shapes"),
    ("EmbeddingRegressor", _fit_param("user_factors", 10**8), None, "shapes"),
    ("FunkMF", _fit_param("n_factors", "8"), None, "n_factors"),
    ("FunkMF", _fit_param("n_factors", -3), None, "n_factors"),
    ("FunkMF", _fit_param("biased", "yes"), None, "biased"),
    ("EmbeddingRegressor", _fit_param("activation", "nonsense"), None, "activation"),
    ("FunkMF", _fit_param("predict", 1), None, "predict"),
    ("FunkMF", lambda h: h["params"].update(predict=1), None, "predict"),
    ("FunkMF", None, lambda a: a.update(weight_0=a["weight_0"][:, :2]), "shape"),
    ("FunkMF", lambda h: h.pop("optimizer"),
     lambda a: a.update(weight_0=a["weight_0"][:, :2]), "shapes"),
    ("FunkMF", None, lambda a: a.update(weight_0=a["weight_0"].astype(str)), "finite numbers"),
    ("FunkMF", None, lambda a: a.update(slot_0_0=a["slot_0_0"][:3]), "slot"),
    ("FunkMF", None, lambda a: a.update(slot_0_0=a["slot_0_0"].astype(str)), "slot"),
    ("FunkMF", lambda h: h["optimizer"]["slots"].update({"0": 9}), None, "slot"),
    ("FunkMF", lambda h: h["optimizer"].update(step=-1), None, "step"),
])
def test_a_crafted_model_file_is_refused_before_anything_is_built(
        fitted, tmp_path, model, change_header, change_arrays, match):
    path = tmp_path / "m.npz"
    fitted[model].save(path)
    _rewrite(path, change_header, change_arrays)
    with pytest.raises(ValueError, match=match) as info:
        type(fitted[model]).load(path)
    assert "m.npz" in str(info.value)


def test_a_saved_file_gets_the_permissions_of_a_file_the_user_creates(fitted, tmp_path):
    import os
    import stat

    made_by_user = tmp_path / "plain"
    made_by_user.write_text("x")
    fitted["FunkMF"].save(tmp_path / "m.npz")
    mode = stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode)
    assert mode == stat.S_IMODE(os.stat(made_by_user).st_mode)
    # replacing a file keeps its permissions
    os.chmod(tmp_path / "m.npz", 0o640)
    fitted["FunkMF"].save(tmp_path / "m.npz")
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o640


@pytest.mark.parametrize("name", ["FunkMF", "EmbeddingRegressor"])
def test_files_saved_by_an_earlier_version_predict_as_they_did(name):
    # saved by commit 89b0335, before the regressors learnt standardised ratings
    from pathlib import Path

    data = Path(__file__).parent / "data"
    expected = json.loads((data / "predictions-89b0335.json").read_text())
    model = FunkMF.load(data / f"{name}-0.1.0.dev0-89b0335.npz") if name == "FunkMF" \
        else EmbeddingRegressor.load(data / f"{name}-0.1.0.dev0-89b0335.npz")
    np.testing.assert_allclose(model.predict(np.array(expected["X"])), expected[name],
                               rtol=1e-6)


@pytest.mark.parametrize("where", ["savez", "chmod", "replace"])
def test_an_interrupted_save_leaves_the_folder_as_it_was(fitted, tmp_path, monkeypatch, where):
    from skembrec._io import files as _files

    path = tmp_path / "m.npz"
    fitted["EmbeddingRegressor"].save(path)  # a user's earlier model under the name
    (tmp_path / "m.npz.tmp").write_text("a file of the user's")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    targets = {"savez": (_persistence.np, "savez"), "chmod": (_files.os, "chmod"),
               "replace": (_files.os, "replace")}
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(*targets[where], interrupt)
        fitted["FunkMF"].save(path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert isinstance(EmbeddingRegressor.load(path), EmbeddingRegressor)
