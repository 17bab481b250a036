"""EASE: the closed form, its scores, new users, memory, persistence."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skembrec import EASE
from skembrec._engine import solvers as _solvers
from skembrec.datasets import make_ratings


@pytest.fixture(scope="module")
def ratings():
    X, y = make_ratings(n_users=120, n_items=60, n_ratings=2500, random_state=3,
                        return_X_y=True)
    return X, np.asarray(y, dtype=np.float64)


def reference_weights(users, items, n_items, l2):
    """EASE's B in float64 NumPy, from the textbook formula (independent of skembrec)."""
    X = np.zeros((users.max() + 1, n_items))
    X[users, items] = 1.0
    P = np.linalg.inv(X.T @ X + l2 * np.eye(n_items))
    B = np.eye(n_items) - P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    return B


def codes(model, X):
    users = pd.Index(model.user_ids_).get_indexer(X["user"])
    items = pd.Index(model.item_ids_).get_indexer(X["item"])
    return users, items


def interaction_rows(model, X, y, threshold=None):
    """Each fitted user's binary row, by hand, float64 (n_users_, n_items_)."""
    keep = np.ones(len(y), bool) if threshold is None else y >= threshold
    users, items = codes(model, X[keep])
    rows = np.zeros((model.n_users_, model.n_items_))
    rows[users, items] = 1.0
    return rows


@pytest.mark.parametrize("threshold", [None, 4])
def test_item_weights_match_a_float64_closed_form_to_float32_precision(ratings, threshold):
    X, y = ratings
    model = EASE(l2=20.0, relevance_threshold=threshold).fit(X, y)
    keep = np.ones(len(y), bool) if threshold is None else y >= threshold
    users, items = codes(model, X[keep])
    expected = reference_weights(users, items, model.n_items_, 20.0)
    B = model.item_weights_
    assert B.dtype == np.float32
    assert np.all(np.diag(B) == 0)
    np.testing.assert_allclose(B, expected, rtol=0, atol=2e-6 * np.abs(expected).max())


def test_the_tensorflow_solve_gives_the_lapack_weights(ratings, monkeypatch):
    X, y = ratings
    lapack = EASE(l2=20.0).fit(X, y).item_weights_
    monkeypatch.setattr(_solvers, "solve_on_gpu", lambda: True)
    graph = EASE(l2=20.0).fit(X, y).item_weights_
    np.testing.assert_allclose(graph, lapack, rtol=0, atol=2e-6 * np.abs(lapack).max())


def test_history_holds_the_objective_of_the_solve(ratings):
    X, y = ratings
    model = EASE(l2=20.0).fit(X, y)
    rows = interaction_rows(model, X, y)
    B = model.item_weights_.astype(np.float64)
    objective = np.sum((rows - rows @ B) ** 2) + 20.0 * np.sum(B**2)
    assert model.n_iter_ == 1
    assert model.history_["loss"][0] == pytest.approx(objective / rows.sum(), rel=1e-3)


def test_predict_and_recommend_rank_the_rows_times_b(ratings):
    X, y = ratings
    model = EASE(l2=20.0, relevance_threshold=4).fit(X, y)
    rows = interaction_rows(model, X, y, threshold=4)
    scores = rows @ model.item_weights_.astype(np.float64)
    users, items = codes(model, X)
    np.testing.assert_allclose(model.predict(X), scores[users, items], rtol=1e-5, atol=1e-6)
    seen = interaction_rows(model, X, y) > 0
    ranked = model.recommend(model.user_ids_, n=7)
    for u in range(model.n_users_):
        candidate = np.where(seen[u], -np.inf, scores[u])
        expected = np.argsort(-candidate, kind="stable")[:min(7, (~seen[u]).sum())]
        assert np.ma.compressed(ranked[u]).tolist() == model.item_ids_[expected].tolist()


def test_an_unknown_user_or_item_scores_zero(ratings):
    X, y = ratings
    model = EASE(l2=20.0).fit(X, y)
    new = pd.DataFrame({"user": [10**9, X["user"].iloc[0]], "item": [X["item"].iloc[0], -5],
                        "timestamp": [0, 0]})
    assert model.predict(new).tolist() == [0.0, 0.0]


def test_fold_in_scores_a_new_user_by_their_row_times_the_fitted_b(ratings):
    X, y = ratings
    newcomer = X["user"].iloc[0]
    mine = (X["user"] == newcomer).to_numpy()
    model = EASE(l2=20.0, relevance_threshold=4).fit(X[~mine], y[~mine])
    others = X[~mine].iloc[:200]
    before, B = model.predict(others), model.item_weights_.copy()
    model.fold_in(X[mine], y[mine])
    # nothing is solved again, and every other user's scores stay bit-identical
    np.testing.assert_array_equal(model.item_weights_, B)
    np.testing.assert_array_equal(model.predict(others), before)
    # the newcomer's scores: their binarised row times B (as a fit with them
    # would give them for this B)
    rows = interaction_rows(model, X[mine], y[mine], threshold=4)
    u = list(model.user_ids_).index(newcomer)
    scores = rows[u] @ B.astype(np.float64)
    grid = pd.DataFrame({"user": newcomer, "item": model.item_ids_, "timestamp": 0})
    np.testing.assert_allclose(model.predict(grid), scores, rtol=1e-5, atol=1e-6)
    expected = np.argsort(-np.where(interaction_rows(model, X[mine], y[mine])[u] > 0,
                                    -np.inf, scores), kind="stable")[:5]
    assert model.recommend(newcomer, n=5).tolist() == model.item_ids_[expected].tolist()


def test_recency_weights_a_users_latest_interactions_most(ratings):
    X, y = ratings
    model = EASE(l2=20.0, time_column="timestamp", recency_half_life=2.0,
                 recency_floor=0.25).fit(X, y)
    user = X["user"].iloc[0]
    mine = X[X["user"] == user].sort_values("timestamp", ascending=False)
    later = np.array([(mine["timestamp"] > t).sum() for t in mine["timestamp"]])
    expected = 0.25 + 0.75 * 2.0 ** (-later / 2.0)
    grid = pd.DataFrame({"user": user, "item": model.item_ids_, "timestamp": 0})
    B = model.item_weights_.astype(np.float64)
    rows = np.zeros(model.n_items_)
    rows[pd.Index(model.item_ids_).get_indexer(mine["item"])] = expected
    np.testing.assert_allclose(model.predict(grid), rows @ B, rtol=1e-5, atol=1e-6)


def test_fold_in_weighs_recency_as_fitting_with_the_user_does(ratings):
    X, y = ratings
    newcomer = X["user"].iloc[5]
    mine = (X["user"] == newcomer).to_numpy()
    params = {"l2": 20.0, "time_column": "timestamp", "relevance_threshold": 3}
    with_them = EASE(**params).fit(X, y)
    folded = EASE(**params).fit(X[~mine], y[~mine]).fold_in(X[mine], y[mine])
    # the row a fit with the newcomer scores them by, times the folded model's B
    fitted_row = with_them._scoring_rows()[list(with_them.user_ids_).index(newcomer)]
    row = np.zeros(folded.n_items_)
    known = pd.Index(folded.item_ids_).get_indexer(with_them.item_ids_[fitted_row.indices])
    row[known[known >= 0]] = fitted_row.data[known >= 0]
    grid = pd.DataFrame({"user": newcomer, "item": folded.item_ids_, "timestamp": 0})
    np.testing.assert_allclose(folded.predict(grid),
                               row @ folded.item_weights_.astype(np.float64),
                               rtol=1e-5, atol=1e-6)


def test_fit_refuses_a_catalogue_that_would_not_fit_in_memory(ratings, monkeypatch):
    X, y = ratings
    monkeypatch.setattr(_solvers, "available_memory", lambda: 10_000)
    model = EASE()
    with pytest.raises(ValueError, match=r"GiB .* 60 x 60 item-item .* fewer items"):
        model.fit(X, y)
    assert not hasattr(model, "n_items_")


def test_save_load_and_pickle_keep_every_score(ratings, tmp_path):
    X, y = ratings
    model = EASE(l2=20.0, relevance_threshold=4, time_column="timestamp").fit(X, y)
    path = tmp_path / "ease.npz"
    model.save(path)
    for copy in (EASE.load(path), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(copy.predict(X), model.predict(X))
        np.testing.assert_array_equal(copy.item_weights_, model.item_weights_)
        assert copy.recommend(model.user_ids_[:20], n=5).tolist() == \
            model.recommend(model.user_ids_[:20], n=5).tolist()


def test_set_params_after_fit_changes_nothing(ratings):
    X, y = ratings
    model = EASE(l2=20.0).fit(X, y)
    scores, lists = model.predict(X), model.recommend(model.user_ids_[:10], n=5)
    model.set_params(l2=500.0, relevance_threshold=4, time_column="timestamp",
                     recency_half_life=1.0)
    np.testing.assert_array_equal(model.predict(X), scores)
    assert model.recommend(model.user_ids_[:10], n=5).tolist() == lists.tolist()
    assert model.score(X, y) == EASE(l2=20.0).fit(X, y).score(X, y)


def test_similar_items_are_the_largest_entries_of_the_items_column(ratings):
    X, y = ratings
    model = EASE(l2=20.0).fit(X, y)
    item = model.item_ids_[3]
    column = model.item_weights_[:, 3].astype(np.float64)
    column[3] = -np.inf
    expected = model.item_ids_[np.argsort(-column, kind="stable")[:4]]
    assert model.similar_items(item, n=4).tolist() == expected.tolist()


def test_ease_has_no_partial_fit_and_says_how_to_refit():
    assert not hasattr(EASE(), "partial_fit")
    with pytest.raises(AttributeError, match="item_weights_"):
        _ = EASE().fit([[1, 1], [2, 2], [1, 2]], [1, 1, 1]).item_embeddings_


def test_the_exported_model_serves_the_scores_and_filtered_recommendations(ratings, tmp_path):
    tf = pytest.importorskip("tensorflow")
    X, y = ratings
    model = EASE(l2=20.0).fit(X, y)
    model.export(tmp_path / "ease")
    served = tf.saved_model.load(str(tmp_path / "ease"))
    rows = X[:50]
    out = served.signatures["predict"](user=tf.constant(rows.user.to_numpy(), tf.int64),
                                       item=tf.constant(rows.item.to_numpy(), tf.int64))
    # the score itself, as predict gives it (no link function)
    np.testing.assert_allclose(out["score"].numpy(), model.predict(rows), rtol=1e-5,
                               atol=1e-6)
    users = X.user.unique()[:6]
    banned = model.item_ids_[:10]
    top = served.signatures["recommend"](
        user=tf.constant(users, tf.int64), k=tf.constant(5),
        items=tf.constant([], tf.int64), exclude_items=tf.constant(banned, tf.int64))
    np.testing.assert_array_equal(top["items"].numpy(),
                                  model.recommend(users, 5, exclude_items=banned))
