"""A fitted model is the state of its fit (DESIGN.md, "Fitted state is the state
of the fit"): set_params, warm start, pickling and saving never mix two models."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skembrec import AutoRec, EmbeddingClassifier, EmbeddingRegressor, FunkMF

FAST = {
    "FunkMF": FunkMF(n_factors=4, n_epochs=3, batch_size=256, random_state=0),
    # the regressor keeps its default dropout: its random sequence is state too
    "EmbeddingRegressor": EmbeddingRegressor(
        n_factors=4, hidden_layer_sizes=(8,), n_epochs=3, batch_size=256, random_state=0),
    "EmbeddingClassifier": EmbeddingClassifier(
        n_factors=4, hidden_layer_sizes=(8,), n_epochs=3, batch_size=256,
        optimizer="adam", random_state=0),
    "AutoRec": AutoRec(n_factors=8, n_epochs=3, batch_size=16, random_state=0),
}


@pytest.fixture(params=list(FAST))
def estimator(request):
    return clone(FAST[request.param])


@pytest.fixture(scope="module")
def ratings(small_ratings):
    X, y = small_ratings
    return X.to_numpy(), np.asarray(y, dtype=np.float64)


def _round_trip(est, how, tmp_path):
    if how == "pickle":
        return pickle.loads(pickle.dumps(est))
    est.save(tmp_path / "model.npz")
    return type(est).load(tmp_path / "model.npz")


# -- set_params after fit ------------------------------------------------------
ARCHITECTURE_CHANGES = {
    "FunkMF": {"n_factors": 8, "biased": False, "init_std": 1.0, "clip_predictions": False},
    "EmbeddingRegressor": {"n_factors": 8, "activation": "tanh", "hidden_layer_sizes": (3,),
                           "dropout": 0.0, "clip_predictions": False},
    "EmbeddingClassifier": {"n_factors": 8, "activation": "tanh", "decision": "median"},
    "AutoRec": {"n_factors": 4, "activation": "tanh", "init_std": 1.0,
                "clip_predictions": False},
}


@pytest.mark.parametrize("how", ["pickle", "save"])
def test_set_params_after_fit_changes_nothing_until_the_next_fit(estimator, ratings, how,
                                                                  tmp_path):
    X, y = ratings
    estimator.fit(X, y)
    expected = estimator.predict(X)
    embeddings = estimator.user_embeddings_.copy()
    estimator.set_params(**ARCHITECTURE_CHANGES[type(estimator).__name__])
    np.testing.assert_array_equal(estimator.predict(X), expected)
    np.testing.assert_array_equal(estimator.user_embeddings_, embeddings)
    restored = _round_trip(estimator, how, tmp_path)
    np.testing.assert_array_equal(restored.predict(X), expected)
    # the restored model carries the changed parameters, for its next fit
    assert restored.get_params() == estimator.get_params()


def test_user_biases_stay_the_fitted_ones_after_set_params(ratings):
    X, y = ratings
    est = clone(FAST["FunkMF"]).fit(X, y)
    biases = est.user_biases_.copy()
    assert np.abs(biases).max() > 0
    est.set_params(biased=False)
    np.testing.assert_array_equal(est.user_biases_, biases)


# -- warm start and partial_fit honour the current settings -----------------------
def test_warm_start_with_a_new_architecture_starts_from_scratch(ratings):
    X, y = ratings
    est = clone(FAST["FunkMF"]).set_params(warm_start=True).fit(X, y)
    est.set_params(n_factors=8)
    est.fit(X, y)
    assert est.user_embeddings_.shape[1] == 8
    assert est.n_iter_ == est.n_epochs  # a fresh fit, not a continuation
    np.testing.assert_array_equal(
        est.predict(X), clone(est).set_params(warm_start=False).fit(X, y).predict(X))


def test_partial_fit_refuses_a_new_architecture_and_keeps_the_model(estimator, ratings):
    X, y = ratings
    estimator.fit(X, y)
    expected = estimator.predict(X)
    estimator.set_params(n_factors=7)
    with pytest.raises(ValueError, match="n_factors changed"):
        estimator.partial_fit(X, y)
    np.testing.assert_array_equal(estimator.predict(X), expected)
    assert estimator.n_iter_ == estimator.n_epochs


def test_warm_start_honours_a_new_learning_rate(ratings):
    X, y = ratings
    est = clone(FAST["FunkMF"]).set_params(warm_start=True).fit(X, y)
    before = est.predict(X)
    est.set_params(learning_rate=1e-9).fit(X, y)
    assert np.abs(est.predict(X) - before).max() < 1e-4


def test_partial_fit_honours_new_reg_batch_size_and_optimizer(ratings):
    X, y = ratings
    est = clone(FAST["FunkMF"]).fit(X, y)

    def continued(**params):
        # the same fit (random_state=0), continued in place with new settings
        return clone(est).fit(X, y).set_params(**params).partial_fit(X, y)

    strong, weak = continued(reg=2.0), continued(reg=0.0)
    assert (np.linalg.norm(strong.user_embeddings_) <
            0.9 * np.linalg.norm(weak.user_embeddings_))
    small, large = continued(batch_size=16), continued(batch_size=4096)
    assert np.abs(small.predict(X) - large.predict(X)).max() > 1e-3
    frozen = continued(optimizer="sgd", learning_rate=1e-9)
    np.testing.assert_allclose(frozen.predict(X), est.predict(X), atol=1e-5)


def test_partial_fit_honours_a_new_alpha_in_the_graph(ratings):
    X, y = ratings
    est = clone(FAST["EmbeddingRegressor"]).fit(X, y)

    def kernel_norm(model):
        return np.linalg.norm(model.model_.get_layer("dense_0").kernel.numpy())

    strong = clone(est).fit(X, y).set_params(alpha=5.0, warm_start=True).fit(X, y)
    same = clone(est).fit(X, y).set_params(warm_start=True).fit(X, y)
    assert strong.n_iter_ == same.n_iter_ == 2 * est.n_iter_
    # an alpha frozen into the old graph would train both alike, bit for bit
    assert kernel_norm(strong) < kernel_norm(same) - 0.05


def test_warm_start_leaves_rows_of_absent_users_untouched(ratings):
    X, y = ratings
    old = X[:, 0] < np.median(X[:, 0])
    est = clone(FAST["FunkMF"]).set_params(warm_start=True).fit(X[old], y[old])
    rows = est.user_embeddings_.copy()
    biases = est.user_biases_.copy()
    new = X[~old].copy()
    new[:, 0] += 10_000  # only unseen users rate in the second fit
    est.fit(new, y[~old])
    assert est.n_users_ == len(rows) + len(np.unique(new[:, 0]))
    np.testing.assert_array_equal(est.user_embeddings_[:len(rows)], rows)
    np.testing.assert_array_equal(est.user_biases_[:len(rows)], biases)


# -- pickling and saving carry the optimizer state ---------------------------------
@pytest.mark.parametrize("how", ["pickle", "save"])
def test_restored_model_continues_training_exactly(estimator, ratings, how, tmp_path):
    X, y = ratings
    estimator.fit(X, y)
    restored = _round_trip(estimator, how, tmp_path)
    estimator.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict(X), estimator.predict(X))
    assert restored.history_ == estimator.history_


def test_restored_warm_start_with_new_users_matches_the_original(ratings, tmp_path):
    X, y = ratings
    est = clone(FAST["FunkMF"]).set_params(warm_start=True, optimizer="adam").fit(X, y)
    restored = _round_trip(est, "save", tmp_path)
    new = X.copy()
    new[:50, 0] += 10_000
    est.fit(new, y)
    restored.fit(new, y)
    np.testing.assert_array_equal(restored.predict(new), est.predict(new))


# -- failed fits and unusual origins -------------------------------------------------
def test_failed_first_fit_leaves_an_unfitted_estimator(ratings, monkeypatch):
    from skembrec._engine.trainers import ratings as _training

    X, y = ratings

    def diverge(self, data, seed):
        return float("nan")

    monkeypatch.setattr(_training.Trainer, "run_epoch", diverge)
    est = clone(FAST["FunkMF"])
    with pytest.raises(FloatingPointError):
        est.fit(X, y)
    for attr in ("history_", "n_iter_", "n_features_in_", "global_mean_", "n_users_"):
        assert not hasattr(est, attr), attr
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_model_fitted_from_shards_saves_and_loads(ratings, tmp_path):
    import pandas as pd

    from skembrec.datasets import write_rating_shards

    X, y = ratings
    frame = pd.DataFrame({"user": X[:, 0].astype(int), "item": X[:, 1].astype(int),
                          "rating": y})
    shards = write_rating_shards(frame, tmp_path / "shards", rows_per_shard=500)
    est = clone(FAST["FunkMF"]).fit(shards)
    est.save(tmp_path / "model.npz")
    loaded = FunkMF.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(loaded.predict(X[:, :2]), est.predict(X[:, :2]))
    with pytest.raises(ValueError, match="exclude_seen=False"):
        loaded.recommend(X[0, 0])
    assert list(loaded.recommend(X[0, 0], n=3, exclude_seen=False)) == list(
        est.recommend(X[0, 0], n=3, exclude_seen=False))


def test_early_stopping_keeps_the_best_epoch(ratings):
    X, y = ratings
    params = dict(n_factors=32, batch_size=64, learning_rate=0.2, reg=0.0,
                  early_stopping=True, random_state=0)
    stopped = FunkMF(n_epochs=200, n_iter_no_change=3, **params).fit(X, y)
    val = stopped.history_["val_loss"]
    best = int(np.argmin(val))
    assert best < stopped.n_iter_ - 1  # it trained past its best epoch
    assert stopped.n_iter_ == best + 1 + 3  # and stopped after the patience
    # the same fit ended at the best epoch holds the same weights
    at_best = FunkMF(n_epochs=best + 1, n_iter_no_change=200, **params).fit(X, y)
    np.testing.assert_array_equal(stopped.predict(X), at_best.predict(X))


def test_from_factors_after_set_params_keeps_its_tables(ratings, tmp_path):
    est = FunkMF.from_factors([1, 2], [1, 2, 3], np.eye(2), np.ones((3, 2)),
                              global_mean=3.0)
    expected = est.predict([[1, 1], [2, 3]])
    est.set_params(n_factors=5)
    est.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(FunkMF.load(tmp_path / "m.npz").predict([[1, 1], [2, 3]]),
                                  expected)
