"""Behaviour of the three estimators that a scikit-learn user relies on."""

import pickle
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF

FAST = {
    "FunkMF": FunkMF(n_factors=8, n_epochs=4, batch_size=256, random_state=0),
    "EmbeddingRegressor": EmbeddingRegressor(
        n_factors=8, hidden_layer_sizes=(16,), n_epochs=4, batch_size=256,
        random_state=0),
    "EmbeddingClassifier": EmbeddingClassifier(
        n_factors=8, hidden_layer_sizes=(16,), n_epochs=4, batch_size=256,
        random_state=0),
}


@pytest.fixture(params=list(FAST))
def estimator(request):
    return clone(FAST[request.param])


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)))


@pytest.mark.parametrize(
    "est",
    [
        FunkMF(n_factors=8, n_epochs=25, batch_size=512, learning_rate=0.05,
               reg=0.01, random_state=0),
        EmbeddingRegressor(n_factors=16, hidden_layer_sizes=(64,), n_epochs=25,
                           batch_size=512, learning_rate=0.003, random_state=0),
    ],
    ids=["FunkMF", "EmbeddingRegressor"],
)
def test_recovers_planted_structure(planted, est):
    X_train, y_train, X_test, y_test = planted
    baseline = rmse(y_test, np.full_like(y_test, y_train.mean()))
    est.fit(X_train, y_train)
    assert rmse(y_test, est.predict(X_test)) < 0.75 * baseline


def test_classifier_beats_majority_class_on_planted_structure(planted):
    X_train, y_train, X_test, y_test = planted
    y_train, y_test = np.round(y_train), np.round(y_test)
    clf = EmbeddingClassifier(n_factors=16, hidden_layer_sizes=(64,), n_epochs=25,
                              batch_size=512, learning_rate=0.003, random_state=0)
    clf.fit(X_train, y_train)
    values, counts = np.unique(y_train, return_counts=True)
    majority = np.mean(y_test == values[np.argmax(counts)])
    assert clf.score(X_test, y_test) > majority + 0.1
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X_test))

    # the median decision: the same model (decision does not change training),
    # the label that minimises expected |error|
    clf.set_params(decision="median")
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])
    clf.fit(X_train, y_train)
    np.testing.assert_allclose(clf.predict_proba(X_test), proba, rtol=1e-6)
    median = clf.predict(X_test)
    below = np.cumsum(proba, axis=1)
    index = np.searchsorted(clf.classes_, median)
    assert np.all(below[np.arange(len(median)), index] >= 0.5 - 1e-9)
    assert np.all((index == 0) | (below[np.arange(len(median)), index - 1] < 0.5 + 1e-9))
    mode = clf.classes_[proba.argmax(axis=1)]
    assert np.mean(np.abs(median - y_test)) < np.mean(np.abs(mode - y_test))
    clf.set_params(decision="mean")
    with pytest.raises(ValueError, match="decision"):
        clf.fit(X_train, y_train)
    np.testing.assert_array_equal(clf.predict(X_test), median)  # the fitted model stays


def test_ordinal_output_is_a_cumulative_logit_model(planted):
    X_train, y_train, X_test, y_test = planted
    y_train, y_test = np.round(y_train), np.round(y_test)
    clf = EmbeddingClassifier(n_factors=16, hidden_layer_sizes=(64,), n_epochs=25,
                              batch_size=512, learning_rate=0.003, output="ordinal",
                              decision="median", random_state=0).fit(X_train, y_train)
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert (proba > 0).all()
    # proportional odds: every row's cumulative log-odds are one score less
    # the same ordered thresholds, so their differences between two cut
    # points are the same for every row (a softmax head has no such tie)
    cumulative = np.cumsum(proba, axis=1)[:, :-1]
    log_odds = np.log(cumulative) - np.log1p(-cumulative)
    spread = log_odds - log_odds[:, :1]
    np.testing.assert_allclose(spread, np.broadcast_to(spread[:1], spread.shape), atol=1e-3)
    assert (np.diff(log_odds, axis=1) > 0).all()
    # the median decision on it: an MAE well below the majority class's
    values, counts = np.unique(y_train, return_counts=True)
    majority = np.mean(np.abs(y_test - values[np.argmax(counts)]))
    assert np.mean(np.abs(clf.predict(X_test) - y_test)) < 0.85 * majority
    # the head is part of the architecture: partial_fit onto a softmax head
    # is refused, the fitted model left as it was
    clf.set_params(output="softmax")
    with pytest.raises(ValueError, match="output"):
        clf.partial_fit(X_train, y_train)
    np.testing.assert_allclose(clf.predict_proba(X_test), proba, rtol=1e-6)


def test_ordinal_log_probabilities_are_stable_for_extreme_scores():
    from skembrec._engine.layers import OrdinalLogits

    for n_classes in (2, 3, 5):
        layer = OrdinalLogits(n_classes)
        score = np.array([-1e4, -30.0, -1.0, 0.0, 2.5, 30.0, 1e4], dtype=np.float32)
        log_p = np.asarray(layer(score))
        assert log_p.shape == (len(score), n_classes)
        assert np.isfinite(log_p).all()
        np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1, rtol=1e-5)
        # against the direct difference of sigmoids, where that is accurate
        thresholds = np.arange(n_classes - 1) - (n_classes - 2) / 2
        cdf = 1 / (1 + np.exp(-(thresholds[None, :] - score[2:5, None])))
        cdf = np.hstack([np.zeros((3, 1)), cdf, np.ones((3, 1))])
        np.testing.assert_allclose(np.exp(log_p[2:5]), np.diff(cdf, axis=1), atol=1e-5)
        # a very low score puts everything on the first class, a high one on the last
        assert np.exp(log_p[0, 0]) > 0.999 and np.exp(log_p[-1, -1]) > 0.999


def test_same_random_state_same_predictions(estimator, small_ratings):
    X, y = small_ratings
    a = clone(estimator).fit(X, y).predict(X)
    b = clone(estimator).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_different_random_state_different_model(small_ratings):
    X, y = small_ratings
    a = clone(FAST["FunkMF"]).set_params(random_state=1).fit(X, y).predict(X)
    b = clone(FAST["FunkMF"]).set_params(random_state=2).fit(X, y).predict(X)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip(estimator, small_ratings, dump, tmp_path):
    X, y = small_ratings
    estimator.fit(X, y)
    expected = estimator.predict(X)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict(X), expected)
    np.testing.assert_array_equal(restored.user_ids_, estimator.user_ids_)
    # a restored model keeps training from where it was, exactly
    restored.partial_fit(X, y)
    estimator.partial_fit(X, y)
    assert restored.n_iter_ == estimator.n_iter_
    np.testing.assert_array_equal(restored.predict(X), estimator.predict(X))


def test_pickle_holds_no_keras_objects(small_ratings):
    X, y = small_ratings
    est = clone(FAST["FunkMF"]).fit(X, y)
    state = est.__getstate__()
    assert "_runtime" not in state
    assert all(isinstance(w, np.ndarray) for w in state["_state"].weights)
    assert state["_state"].optimizer["name"] == "adagrad"


def test_unknown_ids_fall_back_inside_rating_range(estimator, small_ratings):
    X, y = small_ratings
    estimator.fit(X, y)
    known_user, known_item = X.iloc[0, 0], X.iloc[0, 1]
    rows = pd.DataFrame({"user": [10**9, known_user, 10**9, np.nan],
                         "item": [known_item, 10**9, 10**9, known_item],
                         "timestamp": [0, 0, 0, 0]})
    pred = estimator.predict(rows)
    assert np.all(np.isfinite(pred))
    assert np.all((pred >= y.min()) & (pred <= y.max()))


def test_funk_cold_start_is_mean_plus_known_bias(small_ratings):
    X, y = small_ratings
    est = clone(FAST["FunkMF"]).fit(X, y)
    item = est.item_ids_[0]
    pred = est.set_params(clip_predictions=False).predict(
        pd.DataFrame({"user": [-1, -2], "item": [item, -5], "timestamp": [0, 0]}))
    assert pred[0] == pytest.approx(est.global_mean_ + est.item_biases_[0], abs=1e-5)
    assert pred[1] == pytest.approx(est.global_mean_, abs=1e-6)


def test_string_and_mixed_ids(estimator):
    rng = np.random.default_rng(0)
    users = np.array([f"user-{i}" for i in rng.integers(0, 30, 600)], dtype=object)
    items = rng.integers(0, 20, 600).astype(object)
    items[::7] = "special"  # ints and strings in one column
    y = rng.integers(1, 6, 600).astype(float)
    X = np.column_stack([users, items])
    estimator.fit(X, y)
    assert "special" in set(estimator.item_ids_)
    assert estimator.n_users_ == len(set(users))
    assert estimator.predict(X[:5]).shape == (5,)


def test_ids_as_floats_after_column_transformer_match_int_ids(small_ratings):
    X, y = small_ratings
    est = clone(FAST["FunkMF"]).fit(X.to_numpy(np.int64), y)
    as_float = X.to_numpy(np.float64)  # what a ColumnTransformer hands over
    np.testing.assert_array_equal(est.predict(as_float), est.predict(X.to_numpy()))


def test_partial_fit_adds_exactly_one_epoch(estimator, small_ratings):
    X, y = small_ratings
    estimator.fit(X, y)
    n = estimator.n_iter_
    estimator.partial_fit(X, y)
    assert estimator.n_iter_ == n + 1
    assert len(estimator.history_["loss"]) == n + 1
    fresh = clone(estimator).partial_fit(X, y)
    assert fresh.n_iter_ == 1


def test_warm_start_continues_and_grows_vocabulary(small_ratings):
    X, y = small_ratings
    X = X.to_numpy()
    est = clone(FAST["FunkMF"]).set_params(warm_start=True)
    est.fit(X[:800], y[:800])
    before = est.predict(X[:50])
    n_users = est.n_users_
    new = X[800:].copy()
    new[:, 0] += 10_000  # unseen users
    est.fit(new, y[800:])
    assert est.n_iter_ == 2 * FAST["FunkMF"].n_epochs
    assert est.n_users_ > n_users
    # users of the first fit keep their learnt rows, now refined
    assert not np.allclose(est.predict(X[:50]), est.global_mean_)
    assert np.abs(est.predict(X[:50]) - before).max() < 1.0


def test_refit_without_warm_start_forgets_old_vocabulary(small_ratings):
    X, y = small_ratings
    X = X.to_numpy()
    est = clone(FAST["FunkMF"]).fit(X, y)
    other = X.copy()
    other[:, 0] += 10_000
    est.fit(other, y)
    assert est.n_iter_ == FAST["FunkMF"].n_epochs
    assert not set(est.user_ids_) & set(X[:, 0])


def test_clone_pipeline_grid_search_cross_validate(small_ratings):
    X, y = small_ratings
    pipe = Pipeline([
        ("ids", ColumnTransformer([("pass", "passthrough", ["user", "item"])])),
        ("mf", clone(FAST["FunkMF"])),
    ])
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (len(X),)
    # a learning rate that cannot move the model loses to one that learns
    search = GridSearchCV(
        clone(FAST["FunkMF"]), {"learning_rate": [1e-7, 0.05]},
        cv=KFold(2, shuffle=True, random_state=0),
        scoring="neg_root_mean_squared_error", n_jobs=2,
    )
    search.fit(X, y)
    assert search.best_params_ == {"learning_rate": 0.05}
    assert search.best_estimator_.get_params()["learning_rate"] == 0.05
    assert search.best_estimator_.predict(X).shape == (len(X),)
    scores = cross_validate(clone(FAST["EmbeddingClassifier"]), X, y, cv=2)
    assert len(scores["test_score"]) == 2


def test_sample_weight_focuses_the_fit(small_ratings):
    X, y = small_ratings
    X = X.to_numpy()
    y = np.asarray(y, float)
    flipped = y.copy()
    flipped[::2] = 6 - flipped[::2]  # half the rows carry contradicting ratings
    weight = np.ones(len(y))
    weight[::2] = 0
    est = FunkMF(n_factors=8, n_epochs=30, batch_size=128, random_state=0)
    weighted = clone(est).fit(X, flipped, sample_weight=weight)
    unweighted = clone(est).fit(X, flipped)
    keep = weight > 0
    assert rmse(y[keep], weighted.predict(X[keep])) < rmse(y[keep], unweighted.predict(X[keep]))


def test_recommend_and_similar_items(small_ratings):
    X, y = small_ratings
    est = clone(FAST["FunkMF"]).fit(X, y)
    user = X.iloc[0, 0]
    seen = set(X.item[X.user == user])
    recs = est.recommend(user, n=5)
    assert len(recs) == 5 and not seen & set(recs)
    all_recs = est.recommend(user, n=est.n_items_, exclude_seen=False)
    assert set(all_recs) == set(est.item_ids_)
    scores = est.predict(pd.DataFrame({"user": [user] * len(all_recs),
                                       "item": all_recs, "timestamp": 0}))
    assert np.all(np.diff(scores) <= 1e-6)  # best first
    assert len(est.recommend("nobody", n=3)) == 3  # cold start still ranks items
    sims = est.similar_items(est.item_ids_[0], n=4)
    assert len(sims) == 4 and est.item_ids_[0] not in set(sims)
    with pytest.raises(ValueError, match="not seen"):
        est.similar_items("no such item")


def test_predict_before_fit(estimator, small_ratings):
    X, _ = small_ratings
    with pytest.raises(NotFittedError):
        estimator.predict(X)
    with pytest.raises(NotFittedError):
        estimator.recommend(1)


def test_fitted_attributes(small_ratings):
    X, y = small_ratings
    est = clone(FAST["FunkMF"]).fit(X, y)
    assert est.user_embeddings_.shape == (est.n_users_, 8)
    assert est.item_embeddings_.shape == (est.n_items_, 8)
    assert est.user_biases_.shape == (est.n_users_,)
    assert len(est.user_ids_) == est.n_users_ == X.user.nunique()
    assert est.n_features_in_ == 3
    assert list(est.feature_names_in_) == ["user", "item", "timestamp"]
    assert est.model_.count_params() > 0


def test_import_is_silent_and_does_not_start_tensorflow():
    code = (
        "import sys, skembrec; from skembrec import FunkMF; "
        "from skembrec.datasets import make_ratings; "
        "from skembrec.model_selection import TemporalProbeSplit; "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "False False\n"
    assert out.stderr == ""


def test_fit_is_silent_unless_verbose(small_ratings, capfd):
    X, y = small_ratings
    clone(FAST["EmbeddingRegressor"]).fit(X, y).predict(X)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
    clone(FAST["FunkMF"]).set_params(verbose=2).fit(X, y)
    lines = capfd.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("Epoch 1/4") and "loss:" in lines[0]


def test_interrupted_fit_keeps_previous_state(small_ratings, monkeypatch):
    from skembrec._engine.trainers import ratings as _training

    X, y = small_ratings
    est = clone(FAST["FunkMF"]).set_params(warm_start=True).fit(X, y)
    expected = est.predict(X)
    n_iter = est.n_iter_
    calls = {"n": 0}
    original = _training.Trainer.run_epoch

    def interrupted(self, data, seed):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, data, seed)

    monkeypatch.setattr(_training.Trainer, "run_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert est.n_iter_ == n_iter
    np.testing.assert_array_equal(est.predict(X), expected)
    # an unfitted estimator stays unfitted
    calls["n"] = 0
    fresh = clone(FAST["FunkMF"])
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y)
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def test_many_fits_do_not_grow_memory_without_bound(small_ratings):
    import gc

    def rss_mb():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        pytest.skip("no /proc/self/status")

    X, y = small_ratings
    for i in range(5):
        clone(FAST["FunkMF"]).set_params(random_state=i).fit(X, y).predict(X)
    gc.collect()
    before = rss_mb()
    for i in range(20):
        clone(FAST["FunkMF"]).set_params(random_state=i).fit(X, y).predict(X)
    gc.collect()
    assert rss_mb() - before < 150  # MB; a leak of every model would climb on


def test_from_factors_serves_and_keeps_training(small_ratings, tmp_path):
    X, y = small_ratings
    trained = clone(FAST["FunkMF"]).fit(X, y)
    # factors "trained elsewhere", handed over in a shuffled id order
    order = np.random.default_rng(0).permutation(trained.n_users_)
    imported = FunkMF.from_factors(
        trained.user_ids_[order], trained.item_ids_,
        trained.user_embeddings_[order], trained.item_embeddings_,
        user_biases=trained.user_biases_[order], item_biases=trained.item_biases_,
        global_mean=trained.global_mean_, rating_range=trained.rating_range_,
        seen=X[["user", "item"]].to_numpy())
    np.testing.assert_allclose(imported.predict(X), trained.predict(X), rtol=1e-5)
    user = X.iloc[0, 0]
    assert list(imported.recommend(user, n=5)) == list(trained.recommend(user, n=5))
    imported.save(tmp_path / "imported.npz")
    assert FunkMF.load(tmp_path / "imported.npz").n_iter_ == 0
    imported.partial_fit(X, y)
    assert imported.n_iter_ == 1


def test_from_factors_rejects_inconsistent_tables():
    with pytest.raises(ValueError, match="differ in size"):
        FunkMF.from_factors([1], [1], np.ones((1, 2)), np.ones((1, 3)))
    with pytest.raises(ValueError, match="rows but there are 2 user ids"):
        FunkMF.from_factors([1, 2], [1], np.ones((1, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="NaN"):
        FunkMF.from_factors([1], [1], np.full((1, 2), np.nan), np.ones((1, 2)))
