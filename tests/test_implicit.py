"""ImplicitMF: a model trained to rank, against sampled items (issue 17)."""

import pickle

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from skembrec import ImplicitMF, PopularityRecommender
from skembrec.metrics import make_ranking_scorer


def tastes(n_users=150, n_items=120, per_user=25, seed=0):
    """Each user rates items of its own group highly, a few others low; a
    popular group keeps the most-rated items from being the right answer."""
    rng = np.random.default_rng(seed)
    rows, y = [], []
    for user in range(n_users):
        group = user % 4
        liked = rng.choice(np.arange(group, n_items, 4), per_user, replace=False)
        other = rng.choice(n_items, 5, replace=False)
        rows += [(user, i) for i in liked] + [(user, i) for i in other]
        y += [5.0] * per_user + [1.0] * 5
    X, y = np.array(rows), np.array(y)
    order = rng.permutation(len(y))
    return X[order], y[order]


def split(X, y, seed=1):
    test = np.random.default_rng(seed).random(len(y)) < 0.2
    return X[~test], y[~test], X[test], y[test]


def test_ranks_better_than_the_most_popular_items():
    X, y, Xt, yt = split(*tastes())
    ndcg = make_ranking_scorer("ndcg", k=10, relevance_threshold=4)
    model = ImplicitMF(n_factors=16, n_epochs=30, relevance_threshold=4,
                       random_state=0).fit(X, y)
    popular = PopularityRecommender().fit(X, y)
    assert ndcg(model, Xt, yt) > 1.5 * ndcg(popular, Xt, yt)
    assert model.score(Xt, yt) == pytest.approx(ndcg(model, Xt, yt))


def test_relevance_threshold_learns_from_the_liked_ratings_only():
    X, y, Xt, yt = split(*tastes())
    ndcg = make_ranking_scorer("ndcg", k=10, relevance_threshold=4)
    liked = ImplicitMF(n_factors=16, n_epochs=30, relevance_threshold=4,
                       random_state=0).fit(X, y)
    every = ImplicitMF(n_factors=16, n_epochs=30, random_state=0).fit(X, y)
    assert ndcg(liked, Xt, yt) > ndcg(every, Xt, yt)
    # the low-rated items still count as seen: never recommended back
    user = X[0, 0]
    seen = set(X[X[:, 0] == user, 1])
    assert not seen & set(liked.recommend(user, 20))
    with pytest.raises(ValueError, match="no rating reaches relevance_threshold"):
        ImplicitMF(relevance_threshold=6).fit(X, y)


def test_reproducible_persistent_and_probabilities(tmp_path):
    X, y = tastes(n_users=40)
    a = ImplicitMF(n_factors=8, n_epochs=3, random_state=0).fit(X, y)
    b = ImplicitMF(n_factors=8, n_epochs=3, random_state=0).fit(X, y)
    p = a.predict(X[:50])
    np.testing.assert_array_equal(p, b.predict(X[:50]))
    assert ((p > 0) & (p < 1)).all()
    a.save(tmp_path / "m.npz")
    for other in (pickle.loads(pickle.dumps(a)), ImplicitMF.load(tmp_path / "m.npz")):
        np.testing.assert_array_equal(other.predict(X[:50]), p)
        np.testing.assert_array_equal(other.recommend([0, 1, 999], 5),
                                      a.recommend([0, 1, 999], 5))


def test_export_serves_scores_and_recommendations(tmp_path):
    tf = pytest.importorskip("tensorflow")
    X, y = tastes(n_users=40)
    model = ImplicitMF(n_factors=8, n_epochs=3, random_state=0).fit(X, y)
    model.export(tmp_path / "m")
    served = tf.saved_model.load(str(tmp_path / "m"))
    out = served.signatures["predict"](user=tf.constant(X[:20, 0], tf.int64),
                                       item=tf.constant(X[:20, 1], tf.int64))
    np.testing.assert_allclose(out["score"].numpy(), model.predict(X[:20]), rtol=1e-5)
    top = served.signatures["recommend"](user=tf.constant([0, 1], tf.int64),
                                         k=tf.constant(5))
    np.testing.assert_array_equal(top["items"].numpy(), model.recommend([0, 1], 5))


def test_grid_search_selects_by_ranking_quality():
    X, y = tastes(n_users=60)
    search = GridSearchCV(ImplicitMF(n_factors=8, random_state=0),
                          {"n_epochs": [1, 25]}, cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y)
    assert search.best_params_ == {"n_epochs": 25}


@pytest.mark.parametrize("params, message", [
    ({"early_stopping": True}, "early_stopping"),
    ({"item_features": ["genres"]}, "item_features"),
    ({"time_column": 2}, "time_column"),
    ({"n_negatives": 0}, "n_negatives"),
])
def test_what_it_refuses(params, message):
    X, y = tastes(n_users=10)
    with pytest.raises(ValueError, match=message):
        ImplicitMF(**params).fit(X, y)
