"""Serving and interchange: ``export`` (a SavedModel served by TensorFlow alone),
skops and MLflow round trips.

The fitted models are shared by the module; every export is loaded and
called in one fresh interpreter that imports TensorFlow and never skembrec,
and its answers are compared here with the estimators' own.
"""

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from skembrec import (
    EASE,
    AutoRec,
    BayesianMF,
    EmbeddingClassifier,
    EmbeddingRegressor,
    FunkMF,
    ImplicitMF,
)
from skembrec._input.vocab import IdVocabulary
from skembrec.datasets import make_ratings

N_USERS, N_ITEMS = 40, 25
UNKNOWN = {"int": 10_000, "str": "nobody"}
STARS = np.array(["awful", "bad", "fine", "good", "great"], dtype=object)
KS = (5, N_ITEMS + 3)  # the second exceeds every user's candidates

# name: (estimator class, parameters, ids, labels); a few epochs each
CASES = {
    "funk-int": (FunkMF, {}, "int", "stars"),
    "funk-str-time": (FunkMF, {"time_column": "timestamp", "n_time_bins": 3}, "str", "stars"),
    "regressor-int-time": (EmbeddingRegressor, {"time_column": "timestamp"}, "int", "stars"),
    "regressor-str": (EmbeddingRegressor, {"clip_predictions": False}, "str", "stars"),
    "classifier-int": (EmbeddingClassifier, {}, "int", "stars"),
    "classifier-str-ordinal-median": (EmbeddingClassifier,
                                      {"decision": "median", "output": "ordinal"},
                                      "str", "stars"),
    "classifier-labels": (EmbeddingClassifier, {}, "int", "words"),
    "autorec-int": (AutoRec, {}, "int", "stars"),
    "autorec-str": (AutoRec, {}, "str", "stars"),
    "bayes-int": (BayesianMF, {"n_burn_in": 1, "n_kept_samples": 2}, "int", "stars"),
    "bayes-str": (BayesianMF, {"n_burn_in": 0, "n_kept_samples": 3}, "str", "stars"),
    "bayes-str-time": (BayesianMF, {"n_burn_in": 1, "n_kept_samples": 2,
                                    "time_column": "timestamp", "n_time_bins": 3},
                       "str", "stars"),
}
# what skops.io.get_untrusted_types lists for a fitted estimator (the
# serving page documents it): the estimator's class and these
TRUSTED = {
    "skembrec._io.state.FittedState", "skembrec._input.vocab.IdVocabulary",
    "skembrec._engine.targets.RegressionTarget", "skembrec._engine.targets.ClassTarget",
    "skembrec._input.time.TimeFeatures", "scipy.sparse._csr.csr_matrix",
    "skembrec.models._funk.FunkMF", "skembrec.models._regressor.EmbeddingRegressor",
    "skembrec.models._classifier.EmbeddingClassifier", "skembrec.models._autorec.AutoRec",
    "skembrec._engine.targets.ImplicitTarget", "skembrec.models._implicit.ImplicitMF",
    "skembrec.models._bayes.BayesianMF", "skembrec._engine.targets.OrdinalTarget",
    "skembrec._engine.targets.ScoreTarget", "skembrec.models._ease.EASE",
}


def ratings(ids, labels="stars"):
    X, y = make_ratings(n_users=N_USERS, n_items=N_ITEMS, n_ratings=600, random_state=3,
                        return_X_y=True)
    if ids == "str":
        X = X.assign(user="u" + X.user.astype(str), item="i" + X.item.astype(str))
    if labels == "words":
        y = STARS[np.asarray(y, dtype=int) - 1]
    return X, y


def queries(X, ids):
    """Rows to predict: known pairs, unknown ids, dates outside the fit's range."""
    rows = X.iloc[:30].copy()
    unknown = X.iloc[:3].copy()
    unknown.iloc[0, 0] = UNKNOWN[ids]
    unknown.iloc[1, 1] = UNKNOWN[ids]
    unknown.iloc[2, :2] = UNKNOWN[ids]
    shifted = X.iloc[30:34].copy()
    shifted["timestamp"] += np.array([-1, 1, 3, 10]) * 365 * 86_400  # years away
    return pd.concat([rows, unknown, shifted], ignore_index=True)


def rank_users(X, ids):
    return np.append(X.user.unique()[:12], UNKNOWN[ids])


def filters(ids):
    """A whitelist and a blacklist of item ids, each with an unknown id."""
    def as_ids(numbers):
        return [f"i{i}" if ids == "str" else int(i) for i in numbers]

    return (as_ids(range(0, N_ITEMS, 2)) + [UNKNOWN[ids]],
            as_ids([2, 6, 7]) + [UNKNOWN[ids]])


@pytest.fixture(scope="module")
def fitted():
    models = {}
    for name, (cls, params, ids, labels) in CASES.items():
        X, y = ratings(ids, labels)
        extra = ({"hidden_layer_sizes": (8,)}
                 if cls in (EmbeddingRegressor, EmbeddingClassifier) else {})
        models[name] = cls(n_factors=4, n_epochs=3, random_state=0, **extra,
                           **params).fit(X, y)
    return models


@pytest.fixture(scope="module")
def exported(fitted, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    for name, model in fitted.items():
        model.export(folder / name)
    return folder


# the fresh interpreter: TensorFlow only (skembrec and scikit-learn cannot even
# be imported: Keras imports scikit-learn when it can), answers written as
# plain .npz files
SERVE = textwrap.dedent("""
    import json, sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("skembrec", "sklearn"):
                raise ImportError(f"{name} is blocked")

    sys.meta_path.insert(0, Block())
    import numpy as np
    import tensorflow as tf

    def plain(x):
        x = x.numpy()
        return np.char.decode(x.astype(bytes), "utf-8") if x.dtype == object else x

    manifest = json.load(open(sys.argv[1]))
    for case in manifest["cases"]:
        model = tf.saved_model.load(case["path"])
        dtype = tf.string if case["ids"] == "str" else tf.int64
        inputs = {k: tf.constant(case["predict"][k], dtype) for k in ("user", "item")}
        if "time" in case["predict"]:
            inputs["time"] = tf.constant(case["predict"]["time"], tf.float64)
        out = {"predict/" + k: plain(v)
               for k, v in model.signatures["predict"](**inputs).items()}
        if "recommend" in model.signatures:
            none = tf.constant([], dtype)
            for k in case["k"]:
                got = model.signatures["recommend"](
                    user=tf.constant(case["users"], dtype), k=tf.constant(k, tf.int32),
                    items=none, exclude_items=none)
                out.update({f"recommend/{k}/{name}": plain(v) for name, v in got.items()})
            got = model.signatures["recommend"](
                user=tf.constant(case["users"], dtype), k=tf.constant(4, tf.int32),
                items=tf.constant(case["items"], dtype),
                exclude_items=tf.constant(case["exclude_items"], dtype))
            out.update({f"filtered/{name}": plain(v) for name, v in got.items()})
        out["signatures"] = np.array(sorted(model.signatures))
        np.savez(case["out"], **out)
    json.dump({m: m in sys.modules for m in ("skembrec", "sklearn")},
              open(manifest["modules"], "w"))
""")


@pytest.fixture(scope="module")
def served(fitted, exported, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    cases = []
    for name, model in fitted.items():
        ids = CASES[name][2]
        X, _ = ratings(ids, CASES[name][3])
        Xq = queries(X, ids)
        predict = {"user": Xq.user.tolist(), "item": Xq.item.tolist()}
        if model.time_column is not None:
            predict["time"] = Xq.timestamp.astype(float).tolist()
        items, exclude_items = filters(ids)
        cases.append({"path": str(exported / name), "ids": ids, "predict": predict,
                      "users": rank_users(X, ids).tolist(), "k": list(KS),
                      "items": items, "exclude_items": exclude_items,
                      "out": str(folder / f"{name}.npz")})
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({"cases": cases, "modules": str(folder / "modules.json")},
                                   default=int))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", SERVE, str(manifest)], cwd=folder,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    modules = json.loads((folder / "modules.json").read_text())
    answers = {}
    for name in fitted:
        with np.load(folder / f"{name}.npz") as data:
            answers[name] = dict(data)
    return modules, answers


# -- the SavedModel, served without skembrec ---------------------------------------
def test_served_by_tensorflow_alone(served):
    modules, _ = served
    assert modules == {"skembrec": False, "sklearn": False}


@pytest.mark.parametrize("name", CASES)
def test_exported_predict_agrees(fitted, served, name):
    model, (_, _, ids, labels) = fitted[name], CASES[name]
    got = served[1][name]
    X, _ = ratings(ids, labels)
    Xq = queries(X, ids)
    if isinstance(model, EmbeddingClassifier):
        assert_allclose(got["predict/probabilities"], model.predict_proba(Xq),
                        rtol=1e-5, atol=1e-5)
        key = "predict/rating" if labels == "stars" else "predict/label"
        assert ("predict/label" in got) == (labels == "words")
        assert_array_equal(got[key], model.predict(Xq).astype(got[key].dtype))
    else:
        assert got["predict/rating"].dtype == np.float32
        assert_allclose(got["predict/rating"], model.predict(Xq), rtol=1e-5, atol=1e-5)


def ranking_scores(model, users, items):
    """The scores ``recommend`` ranks by (a time-aware model: the last day of fit)."""
    state = model._fitted_state()
    users = state.user_vocab.transform(users)
    extra = () if state.time is None else (
        state.time.transform(np.full(len(users), state.time.last_day()), users),)
    return state.target.decode_scores(model._output(users, state.item_vocab.transform(items),
                                                    extra))


def assert_same_lists(model, users, items, scores, k, pad):
    """The exported top-k is ``recommend``'s lists, padded; scores agree too."""
    expected = model.recommend(users, k)
    for row, user in enumerate(users):
        want = np.ma.compressed(expected[row]) if np.ma.isMaskedArray(expected) \
            else expected[row]
        n = len(want)
        assert_array_equal(items[row, :n], want.astype(items.dtype))
        # padding: score -inf, item -1 or ""
        assert np.isneginf(scores[row, n:]).all()
        assert (items[row, n:] == pad).all()
        if n:  # (a user may have rated every item)
            assert_allclose(scores[row, :n], ranking_scores(model, np.repeat(user, n), want),
                            rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3] == "stars"])
@pytest.mark.parametrize("k", KS)
def test_exported_recommend_agrees(fitted, served, name, k):
    model, (_, _, ids, labels) = fitted[name], CASES[name]
    got = served[1][name]
    X, _ = ratings(ids, labels)
    users = rank_users(X, ids)
    items, scores = got[f"recommend/{k}/items"], got[f"recommend/{k}/scores"]
    assert items.shape == scores.shape == (len(users), min(k, N_ITEMS))
    assert scores.dtype == np.float32
    assert_same_lists(model, users, items, scores, k, -1 if ids == "int" else "")
    # an unknown user has rated nothing; every known user something
    assert np.isfinite(scores[-1]).all()
    if k >= N_ITEMS:
        assert np.isneginf(scores[:-1, -1]).all()


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n][3] == "stars"])
def test_exported_recommend_filters_agree(fitted, served, name):
    model, (_, _, ids, labels) = fitted[name], CASES[name]
    got = served[1][name]
    X, _ = ratings(ids, labels)
    users = rank_users(X, ids)
    items, exclude_items = filters(ids)
    expected = model.recommend(users, 4, items=items, exclude_items=exclude_items)
    pad = -1 if ids == "int" else ""
    want = np.ma.filled(expected.astype(object), pad) if np.ma.isMaskedArray(expected) \
        else expected
    width = want.shape[1]
    assert_array_equal(got["filtered/items"][:, :width], want.astype(got["filtered/items"].dtype))
    assert (got["filtered/items"][:, width:] == pad).all()
    # every item returned passes both filters
    allowed = set(items) - set(exclude_items)
    assert {i for i in got["filtered/items"].ravel().tolist() if i != pad} <= allowed


def test_string_classes_export_labels_and_no_recommend(served):
    got = served[1]["classifier-labels"]
    assert set(got["signatures"]) == {"predict", "serving_default"}
    assert "predict/rating" not in got
    assert set(got["predict/label"]) <= set(STARS)
    others = served[1]["funk-int"]["signatures"]
    assert set(others) == {"predict", "recommend", "serving_default"}


def test_saved_model_cli_shows_the_signatures(exported):
    cli = shutil.which("saved_model_cli")
    if cli is None:
        pytest.skip("saved_model_cli is not on PATH")
    proc = subprocess.run([cli, "show", "--dir", str(exported / "funk-str-time"), "--all"],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    for text in ("signature_def['predict']", "signature_def['recommend']",
                 "inputs['time']", "outputs['items']", "DT_STRING"):
        assert text in proc.stdout, text


# -- in this process: edge cases of the signatures -----------------------------------
@pytest.fixture(scope="module")
def loaded(exported):
    import tensorflow as tf

    return tf.saved_model.load(str(exported / "funk-int"))


def test_recommend_edge_sizes(loaded):
    import tensorflow as tf

    none = tf.constant([], tf.int64)

    def recommend(**inputs):
        return loaded.signatures["recommend"](items=none, exclude_items=none, **inputs)

    out = recommend(user=tf.constant([1, 2], tf.int64), k=tf.constant(0))
    assert out["items"].shape == (2, 0)
    out = recommend(user=tf.constant([], tf.int64), k=tf.constant(3))
    assert out["items"].shape == (0, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="k must be non-negative"):
        recommend(user=tf.constant([1], tf.int64), k=tf.constant(-1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="same length"):
        loaded.signatures["predict"](user=tf.constant([1, 2], tf.int64),
                                     item=tf.constant([1], tf.int64))


def test_recommend_in_chunks_of_users(fitted, tmp_path, monkeypatch):
    import tensorflow as tf

    from skembrec._io import export as _export

    # 3 users a chunk: 14 users make 5 chunks, the last one padded
    monkeypatch.setattr(_export, "_SCORE_CHUNK", 3 * N_ITEMS)
    model = fitted["funk-int"]
    model.export(tmp_path / "m")
    users = np.append(model.user_ids_[:13], UNKNOWN["int"])
    none = tf.constant([], tf.int64)
    got = tf.saved_model.load(str(tmp_path / "m")).signatures["recommend"](
        user=tf.constant(users), k=tf.constant(4), items=none, exclude_items=none)
    assert got["items"].shape == (14, 4)
    assert_same_lists(model, users, got["items"].numpy(), got["scores"].numpy(), 4, -1)


def test_ties_rank_in_item_table_order(tmp_path):
    import tensorflow as tf

    # items 30, 10 and 50 score the same for user "a", as do 20 and 40; the
    # item table is in id order
    factors = np.array([[1.0], [2.0], [1.0], [2.0], [1.0]])
    model = FunkMF.from_factors(["a", "b"], [30, 20, 10, 40, 50], np.ones((2, 1)), factors,
                                seen=[["b", 20]])
    model.export(tmp_path / "ties")
    recommend = tf.saved_model.load(str(tmp_path / "ties")).signatures["recommend"]
    none = tf.constant([], tf.int64)
    got = recommend(user=tf.constant(["a", "b", "c"]), k=tf.constant(5), items=none,
                    exclude_items=none)
    expected = model.recommend(["a", "b", "c"], 5)
    assert_array_equal(model.item_ids_, [10, 20, 30, 40, 50])
    assert_array_equal(got["items"].numpy()[0], [20, 40, 10, 30, 50])
    assert_array_equal(got["items"].numpy()[0], expected[0])
    assert_array_equal(got["items"].numpy()[1, :4], expected[1].compressed())
    assert got["items"].numpy()[1, 4] == -1
    assert_array_equal(got["items"].numpy()[2], [10, 20, 30, 40, 50])  # all tied
    assert_array_equal(got["items"].numpy()[2], expected[2])


def test_integral_float_ids_export_as_int64(tmp_path):
    import tensorflow as tf

    model = FunkMF.from_factors([1.0, 2.0], [10.0, 20.0], np.eye(2), np.eye(2) * 2,
                                global_mean=3.0)
    model.export(tmp_path / "floats")
    predict = tf.saved_model.load(str(tmp_path / "floats")).signatures["predict"]
    got = predict(user=tf.constant([1, 2, 7], tf.int64), item=tf.constant([10, 10, 10],
                                                                           tf.int64))
    assert_allclose(got["rating"].numpy(), model.predict([[1, 10], [2, 10], [7, 10]]))


def test_ordinal_bayesian_mf_serves_its_expected_rating_and_distribution(tmp_path):
    import tensorflow as tf

    X, y = ratings("int")
    model = BayesianMF(n_factors=2, n_epochs=6, n_burn_in=2, n_kept_samples=2,
                       output="ordinal", random_state=0).fit(X, y)
    model.export(tmp_path / "ordinal")
    predict = tf.saved_model.load(str(tmp_path / "ordinal")).signatures["predict"]
    rows = np.asarray(X)[:40, :2].astype(np.int64)
    got = predict(user=tf.constant(rows[:, 0]), item=tf.constant(rows[:, 1]))
    assert_allclose(got["rating"].numpy(), model.predict(X[:40]), rtol=1e-5)
    assert_allclose(got["probabilities"].numpy(), model.predict_proba(X[:40]), atol=1e-5)


@pytest.mark.parametrize("users", [[1, 2, 3], [-5, 3, 10**12]], ids=["compact", "sparse"])
def test_integer_lookups_at_the_extremes(users, tmp_path):
    import tensorflow as tf

    # a compact range is looked up in an array, a sparse one in a hash table
    model = FunkMF.from_factors(users, [7, 2**62], np.eye(3)[:, :2] + 1, np.eye(2),
                                user_biases=[0.5, 1, 2], item_biases=[0, 1], global_mean=3)
    model.export(tmp_path / "m")
    predict = tf.saved_model.load(str(tmp_path / "m")).signatures["predict"]
    extremes = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    X = np.array([[u, i] for u in [*users, 4, *extremes] for i in [7, 2**62, 8, *extremes]],
                 dtype=np.int64)
    got = predict(user=tf.constant(X[:, 0]), item=tf.constant(X[:, 1]))["rating"]
    assert_allclose(got.numpy(), model.predict(X), rtol=1e-6)


@pytest.mark.parametrize("ids", [[1.5, 2.0], [1, "a"], [True, False]])
def test_ids_without_a_tensorflow_key_type_are_refused(ids, tmp_path):
    model = FunkMF.from_factors(np.array(ids, dtype=object), [1, 2], np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="user ids such as .* cannot be exported"):
        model.export(tmp_path / "m")
    assert not list(tmp_path.iterdir())


# -- where export writes --------------------------------------------------------------
def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        FunkMF().export(tmp_path / "m")
    assert not list(tmp_path.iterdir())


def test_existing_paths(fitted, tmp_path):
    model = fitted["funk-int"]
    file = tmp_path / "file"
    file.write_text("mine")
    with pytest.raises(FileExistsError, match=re.escape(str(file))):
        model.export(file)
    assert file.read_text() == "mine"
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        model.export(full)
    assert os.listdir(full) == ["keep"]
    with pytest.raises(FileNotFoundError, match="missing"):
        model.export(tmp_path / "missing" / "m")
    empty = tmp_path / "empty"
    empty.mkdir()
    model.export(empty)  # an empty folder is filled (replaced)
    assert (empty / "saved_model.pb").exists()
    assert sorted(os.listdir(tmp_path)) == ["empty", "file", "full"]


@pytest.mark.parametrize("where", ["save", "rename"])
def test_interrupted_export_leaves_nothing(fitted, tmp_path, monkeypatch, where):
    import tensorflow as tf

    from skembrec._io import export as _export

    def interrupt(*args, **kwargs):
        if where == "save":
            real_save(*args, **kwargs)  # the folder is full when Ctrl-C comes
        raise KeyboardInterrupt

    real_save = tf.saved_model.save
    if where == "save":
        monkeypatch.setattr(tf.saved_model, "save", interrupt)
    else:
        monkeypatch.setattr(_export.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        fitted["regressor-str"].export(tmp_path / "m")
    assert not list(tmp_path.iterdir())


# -- skops and MLflow -----------------------------------------------------------------
def _same_model(a, b, name):
    X, _ = ratings(CASES[name][2], CASES[name][3])
    assert_array_equal(a.predict(X), b.predict(X))
    if isinstance(a, EmbeddingClassifier):
        assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    else:
        users = rank_users(X, CASES[name][2])
        assert_array_equal(a.recommend(users, 5), b.recommend(users, 5))


@pytest.mark.parametrize("name", ["funk-int", "funk-str-time", "regressor-str",
                                  "classifier-int", "classifier-labels", "autorec-str"])
def test_skops_round_trip(fitted, tmp_path, name):
    sio = pytest.importorskip("skops.io")
    model = fitted[name]
    file = tmp_path / "model.skops"
    sio.dump(model, file)
    untrusted = sio.get_untrusted_types(file=file)
    assert set(untrusted) <= TRUSTED, sorted(set(untrusted) - TRUSTED)
    again = sio.load(file, trusted=untrusted)
    _same_model(model, again, name)


def test_skops_round_trip_of_implicit_mf(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = ratings("str")
    model = ImplicitMF(n_factors=4, n_epochs=2, random_state=0).fit(X, y)
    file = tmp_path / "model.skops"
    sio.dump(model, file)
    untrusted = sio.get_untrusted_types(file=file)
    assert set(untrusted) <= TRUSTED, sorted(set(untrusted) - TRUSTED)
    again = sio.load(file, trusted=untrusted)
    assert_array_equal(model.predict(X), again.predict(X))
    users = rank_users(X, "str")
    assert_array_equal(model.recommend(users, 5), again.recommend(users, 5))


def test_skops_round_trip_of_ease(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = ratings("str")
    model = EASE().fit(X, y)
    file = tmp_path / "model.skops"
    sio.dump(model, file)
    untrusted = sio.get_untrusted_types(file=file)
    assert set(untrusted) <= TRUSTED, sorted(set(untrusted) - TRUSTED)
    again = sio.load(file, trusted=untrusted)
    users = rank_users(X, "str")
    assert_array_equal(model.recommend(users, 5), again.recommend(users, 5))


def test_skops_round_trip_of_ordinal_bayesian_mf(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = ratings("int")
    model = BayesianMF(n_factors=2, n_epochs=6, n_burn_in=2, n_kept_samples=2,
                       output="ordinal", random_state=0).fit(X, y)
    file = tmp_path / "model.skops"
    sio.dump(model, file)
    untrusted = sio.get_untrusted_types(file=file)
    assert set(untrusted) <= TRUSTED, sorted(set(untrusted) - TRUSTED)
    again = sio.load(file, trusted=untrusted)
    assert_array_equal(model.predict_proba(X), again.predict_proba(X))
    assert_array_equal(again.classes_, model.classes_)


def test_mlflow_sklearn_flavour_round_trip(fitted, tmp_path):
    mlflow_sklearn = pytest.importorskip("mlflow.sklearn")
    sio = pytest.importorskip("skops.io")
    for name in ("funk-str-time", "classifier-int"):
        model = fitted[name]
        path = tmp_path / name
        # pip_requirements given: MLflow would otherwise infer them by
        # loading the model in a subprocess (slow, and not what is tested)
        mlflow_sklearn.save_model(
            model, path, pip_requirements=["skembrec"],
            skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(model)))
        assert "serialization_format: skops" in (path / "MLmodel").read_text()
        _same_model(model, mlflow_sklearn.load_model(path), name)


def test_vocabulary_state_is_plain_arrays():
    strings = IdVocabulary(np.array(["b", "a", "日本", ""], dtype=object))
    state = strings.__getstate__()
    assert sorted(state) == ["utf8"]
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in state.values())
    for vocab in (strings, IdVocabulary(np.array([3, 1, 2])),
                  IdVocabulary(np.array(["a\x00b", "a"], dtype=object)),  # NUL: objects
                  IdVocabulary(np.array([1, "a", 2.5], dtype=object))):
        again = pickle.loads(pickle.dumps(vocab))
        assert again == vocab
        assert [type(i) for i in again.ids] == [type(i) for i in vocab.ids]
    # a pickle written before the state was plain held the Index itself
    old = IdVocabulary.__new__(IdVocabulary)
    old.__setstate__({"_index": pd.Index([3, 1, 2])})
    assert old == IdVocabulary([3, 1, 2])
    assert old.transform([2, 9]).tolist() == [2, 3]
