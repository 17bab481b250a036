"""Careless and hostile input meets a clear error of ours or a correct result
(issue 13: the first cases; the battery grows with that issue)."""

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
    from skembrec._backend import tf

    X, y = ratings
    plain = clone(FUNK).fit(X, y).predict(X)
    with tf().distribute.MirroredStrategy(["/cpu:0"]).scope():
        mirrored = clone(FUNK).fit(X, y)
    np.testing.assert_allclose(mirrored.predict(X), plain, atol=1e-5)


_INTERRUPTED_IMPORT = """
import signal, sys
import numpy as np

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
