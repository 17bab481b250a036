"""Careless and hostile input meets a clear error of ours or a correct result
(issue 13: the first cases; the battery grows with that issue)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import clone

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF

FUNK = FunkMF(n_factors=4, n_epochs=2, batch_size=256, random_state=0)


@pytest.fixture(scope="module")
def ratings(small_ratings):
    X, y = small_ratings
    return X.to_numpy(), np.asarray(y, dtype=np.float64)


@pytest.mark.parametrize("scale", [1e-20, 1e-3, 7.0, 1e300])
def test_uniformly_scaled_weights_give_the_unweighted_fit(ratings, scale):
    X, y = ratings
    unweighted = clone(FUNK).fit(X, y).predict(X)
    weighted = clone(FUNK).fit(X, y, sample_weight=np.full(len(y), scale)).predict(X)
    np.testing.assert_array_equal(weighted, unweighted)


@pytest.mark.parametrize("cls", [FunkMF, EmbeddingClassifier])
def test_complex_ratings_are_refused(ratings, cls):
    X, y = ratings
    with pytest.raises(ValueError, match="complex"):
        cls(n_epochs=1).fit(X, y + 1j)


@pytest.mark.parametrize("params, match", [
    ({"global_mean": float("nan")}, "global_mean must be a finite"),
    ({"rating_range": (5, 1)}, "low <= high"),
])
def test_from_factors_refuses_impossible_statistics(params, match):
    with pytest.raises(ValueError, match=match):
        FunkMF.from_factors([1], [2], np.ones((1, 2)), np.ones((1, 2)), **params)


@pytest.mark.parametrize("cls, param", [(FunkMF, "n_factors"), (FunkMF, "n_epochs"),
                                        (EmbeddingRegressor, "batch_size")])
def test_a_bool_for_a_size_is_refused(ratings, cls, param):
    X, y = ratings
    with pytest.raises(ValueError, match=f"'{param}' parameter .* got True"):
        cls(**{param: True}).fit(X, y)


def test_a_batch_larger_than_the_data_is_the_whole_data(ratings):
    X, y = ratings
    huge = clone(FUNK).set_params(batch_size=2**40).fit(X, y)
    whole = clone(FUNK).set_params(batch_size=len(y)).fit(X, y)
    np.testing.assert_array_equal(huge.predict(X), whole.predict(X))


def test_tuple_ids_work_in_recommend_and_similar_items():
    X = np.empty((6, 2), dtype=object)
    for row, (u, i) in enumerate([(("a", 1), ("x", 1)), (("a", 1), ("y", 2)),
                                  (("b", 2), ("x", 1)), (("b", 2), ("z", 3)),
                                  (("c", 3), ("y", 2)), (("c", 3), ("z", 3))]):
        X[row, 0], X[row, 1] = u, i
    y = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 3.0])
    est = FunkMF(n_factors=2, n_epochs=2, random_state=0).fit(X, y)
    recs = est.recommend(("a", 1), n=5)
    assert [tuple(r) for r in recs] == [("z", 3)]
    similar = est.similar_items(("x", 1), n=2)
    assert {tuple(s) for s in similar} == {("y", 2), ("z", 3)}


def test_half_star_labels_are_classes(ratings):
    X, y = ratings
    half = np.clip(np.round(y * 2) / 2, 0.5, 5.0)
    half[:10] = np.arange(0.5, 5.5, 0.5)  # every half star occurs
    clf = EmbeddingClassifier(n_factors=4, hidden_layer_sizes=(8,), n_epochs=1,
                              random_state=0).fit(X, half)
    np.testing.assert_array_equal(clf.classes_, np.arange(0.5, 5.5, 0.5))
    assert set(np.unique(clf.predict(X))) <= set(clf.classes_)


def test_a_continuous_target_is_still_refused_by_the_classifier(ratings):
    X, _ = ratings
    y = np.random.default_rng(0).normal(size=len(X))
    with pytest.raises(ValueError, match="Unknown label type"):
        EmbeddingClassifier(n_epochs=1).fit(X, y)


def test_recommend_refuses_labels_without_an_order(ratings):
    X, y = ratings
    labels = np.array(["bad", "ok", "good"], dtype=object)[np.digitize(y, [2.5, 3.5])]
    clf = EmbeddingClassifier(n_factors=4, hidden_layer_sizes=(8,), n_epochs=1,
                              random_state=0).fit(X, labels)
    with pytest.raises(ValueError, match="needs numeric labels"):
        clf.recommend(X[0, 0])
    assert set(clf.predict(X[:20])) <= {"bad", "ok", "good"}


def test_a_plain_npy_file_is_refused_by_load(tmp_path):
    np.save(tmp_path / "weights.npy", np.arange(3))
    with pytest.raises(ValueError, match="weights.npy .*plain array"):
        FunkMF.load(tmp_path / "weights.npy")


def test_a_one_replica_mirrored_strategy_fits(ratings):
    from skembrec._engine.backend import tf

    X, y = ratings
    plain = clone(FUNK).fit(X, y).predict(X)
    with tf().distribute.MirroredStrategy(["/cpu:0"]).scope():
        mirrored = clone(FUNK).fit(X, y)
    np.testing.assert_allclose(mirrored.predict(X), plain, atol=1e-5)


_INTERRUPTED_IMPORT = """
import signal, sys
import numpy as np

# Ctrl-C raises KeyboardInterrupt, as in a terminal, even where this test
# runs in the background (whose children start with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)

class Interrupt:
    # a Ctrl-C that arrives while {module} is being imported
    fired = False
    def find_spec(self, name, path=None, target=None):
        if name == {module!r} and not Interrupt.fired:
            Interrupt.fired = True
            signal.raise_signal(signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
from skembrec import FunkMF
X = np.array([[1, 1], [1, 2], [2, 1], [2, 2]]); y = np.array([1., 2., 3., 4.])
try:
    FunkMF(n_epochs=1).fit(X, y)
except KeyboardInterrupt:
    print("interrupted")
print("fits again:", FunkMF(n_epochs=1).fit(X, y).predict(X).shape)
"""


@pytest.mark.parametrize("module", ["keras.src.ops.numpy",
                                    "tensorflow.python.ops.ragged.ragged_tensor"])
def test_a_ctrl_c_during_the_lazy_import_leaves_the_process_able_to_fit(module):
    code = _INTERRUPTED_IMPORT.format(module=module)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    # the interrupt still reaches the user, once the import is whole
    assert out.stdout.splitlines() == ["interrupted", "fits again: (4,)"]


@pytest.mark.parametrize("cls", [FunkMF, EmbeddingRegressor])
@pytest.mark.parametrize("scale, shift", [(0.25, 0.0), (20.0, 0.0), (1.0, 100.0),
                                          (1e-3, -7.0)])
def test_a_rescaled_rating_scale_gives_the_rescaled_fit(ratings, cls, scale, shift):
    # the defaults mean the same on 1-5 stars, 0-1 and 0-100 scores
    X, y = ratings
    params = dict(n_factors=4, n_epochs=3, batch_size=256, random_state=0)
    stars = cls(**params).fit(X, y).predict(X)
    rescaled = cls(**params).fit(X, y * scale + shift).predict(X)
    np.testing.assert_allclose((rescaled - shift) / scale, stars, atol=2e-4)


def test_funk_attributes_are_in_rating_units(ratings):
    X, y = ratings
    model = FunkMF(n_factors=4, n_epochs=3, random_state=0).fit(X, y * 20)
    users = np.searchsorted(model.user_ids_, X[:, 0])
    items = np.searchsorted(model.item_ids_, X[:, 1])
    by_hand = (model.global_mean_ + model.user_biases_[users] + model.item_biases_[items]
               + np.sum(model.user_embeddings_[users] * model.item_embeddings_[items], axis=1))
    np.testing.assert_allclose(model.predict(X), np.clip(by_hand, *model.rating_range_),
                               rtol=1e-5, atol=1e-4)


def _arrow_cases():
    pa = pytest.importorskip("pyarrow")
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame({"user": rng.integers(0, 20, n), "item": rng.integers(0, 15, n),
                          "t": rng.integers(10**9, 10**9 + 10**7, n)})
    y = pd.Series(rng.integers(1, 6, n).astype(float))
    stamps = pd.Series(frame.t.to_numpy().astype("M8[s]"))
    columns = {
        "timestamp[s]": stamps.astype(pd.ArrowDtype(pa.timestamp("s"))),
        "timestamp[ms, UTC]": stamps.astype(pd.ArrowDtype(pa.timestamp("ms", tz="UTC"))),
        "duration[s]": pd.Series((frame.t.to_numpy() - 10**9).astype("m8[s]")).astype(
            pd.ArrowDtype(pa.duration("s"))),
        "int64[pyarrow]": frame.t.astype("int64[pyarrow]"),
    }
    return frame, y, columns


@pytest.mark.parametrize("kind", ["timestamp[s]", "timestamp[ms, UTC]", "duration[s]",
                                  "int64[pyarrow]"])
def test_arrow_time_columns_are_times(kind):
    frame, y, columns = _arrow_cases()
    params = dict(n_factors=4, n_epochs=2, time_column="t", random_state=0)
    numbers = FunkMF(**params).fit(frame, y).predict(frame)
    X = frame.assign(t=columns[kind])
    np.testing.assert_allclose(FunkMF(**params).fit(X, y).predict(X), numbers, atol=1e-6)


def test_arrow_ids_ratings_and_splits():
    from skembrec.model_selection import TemporalProbeSplit

    frame, y, columns = _arrow_cases()
    X = frame.assign(user=frame.user.astype("int64[pyarrow]"),
                     item=frame.item.astype(str).astype("string[pyarrow]"))
    model = FunkMF(n_factors=4, n_epochs=2, random_state=0).fit(X, y.astype("double[pyarrow]"))
    assert model.n_users_ == frame.user.nunique()
    assert np.isfinite(model.predict(X)).all()
    split = TemporalProbeSplit(time_column="t")
    arrow = next(split.split(frame.assign(t=columns["timestamp[s]"]), y))
    plain = next(split.split(frame, y))
    for a, b in zip(arrow, plain):
        np.testing.assert_array_equal(a, b)


def test_the_readme_multi_gpu_snippet_fits_on_a_machine_without_gpus():
    # the snippet exactly as the README gives it, where TensorFlow sees no GPU
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text().splitlines()
    start = readme.index("with tf.distribute.MirroredStrategy().scope():")
    snippet = "\n".join(readme[start - 1:start + 2])
    assert snippet.splitlines()[0] == "import tensorflow as tf", snippet
    code = (
        "import numpy as np\n"
        "from skembrec import FunkMF\n"
        "from skembrec.datasets import make_ratings\n"
        "X, y = make_ratings(n_users=30, n_items=20, n_ratings=400, random_state=0,"
        " return_X_y=True)\n"
        f"{snippet}\n"
        "print(np.isfinite(FunkMF(n_epochs=1).fit(X, y).predict(X)).all())\n"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"
