"""ImplicitMF: a model trained to rank, by sampled steps (issue 17) or by
alternating least squares (issue 31)."""

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


@pytest.mark.parametrize("solver, n_epochs", [("als", 10), ("sgd", 30)])
@pytest.mark.parametrize("seed", [0, 1])
def test_both_solvers_rank_the_planted_tastes_well_above_the_most_popular_items(
        solver, n_epochs, seed):
    X, y, Xt, yt = split(*tastes(seed=seed), seed=seed + 1)
    ndcg = make_ranking_scorer("ndcg", k=10, relevance_threshold=4)
    model = ImplicitMF(n_factors=16, n_epochs=n_epochs, relevance_threshold=4,
                       solver=solver, random_state=seed).fit(X, y)
    popular = PopularityRecommender().fit(X, y)
    # seeds 0-3: NDCG 0.69-0.70 (als) and 0.69-0.73 (sgd), the most popular
    # items 0.054-0.064
    assert ndcg(model, Xt, yt) > 0.6
    assert ndcg(model, Xt, yt) > 5 * ndcg(popular, Xt, yt)
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


@pytest.mark.parametrize("solver", ["als", "sgd"])
def test_reproducible_persistent_and_probabilities(tmp_path, solver):
    X, y = tastes(n_users=40)
    a = ImplicitMF(n_factors=8, n_epochs=3, solver=solver, random_state=0).fit(X, y)
    b = ImplicitMF(n_factors=8, n_epochs=3, solver=solver, random_state=0).fit(X, y)
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
    none = tf.constant([], tf.int64)
    top = served.signatures["recommend"](user=tf.constant([0, 1], tf.int64),
                                         k=tf.constant(5), items=none, exclude_items=none)
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
    ({"solver": "newton"}, "solver"),
])
def test_what_it_refuses(params, message):
    X, y = tastes(n_users=10)
    with pytest.raises(ValueError, match=message):
        ImplicitMF(**params).fit(X, y)


def weighted_ridge(design, rows, columns, weights, n, reg, nu, offset=None):
    """Each row's closed-form least squares over every row of ``design``
    (NumPy, float64): weight ``w`` and target 1 where observed, ``nu`` and 0
    elsewhere, the scores offset by ``offset``; the row's ridge is ``reg``
    times its observed weight, at least 1 (ImplicitMF's documented rule)."""
    offset = np.zeros(len(design)) if offset is None else offset
    out = np.zeros((n, design.shape[1]))
    for r in range(n):
        c, t = np.full(len(design), nu), np.zeros(len(design))
        mine = rows == r
        c[columns[mine]], t[columns[mine]] = weights[mine], 1.0
        ridge = reg * max(weights[mine].sum(), 1.0)
        gram = design.T @ (c[:, None] * design) + ridge * np.eye(design.shape[1])
        out[r] = np.linalg.solve(gram, design.T @ (c * (t - offset)))
    return out


def summed_pairs(model, X, weight):
    """``(users, items, weights)``: the model's codes of the rated pairs,
    repeated pairs summed."""
    user_code = {u: n for n, u in enumerate(model.user_ids_)}
    item_code = {i: n for n, i in enumerate(model.item_ids_)}
    pairs = {}
    for u, i, w in zip(X[:, 0], X[:, 1], np.ones(len(X)) if weight is None else weight):
        key = (user_code[u], item_code[i])
        pairs[key] = pairs.get(key, 0.0) + w
    keys = sorted(pairs)
    return (np.array([k[0] for k in keys]), np.array([k[1] for k in keys]),
            np.array([pairs[k] for k in keys]))


def check_items_solve_their_ridge(model, X, weight, reg, nu):
    users, items, weights = summed_pairs(model, X, weight)
    design = np.hstack([model.user_embeddings_, np.ones((model.n_users_, 1))])
    expected = weighted_ridge(design.astype(np.float64), items, users, weights,
                              model.n_items_, reg, nu)
    k = model.n_factors
    np.testing.assert_allclose(model.item_embeddings_, expected[:, :k], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(model.item_biases_, expected[:, k], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("weighted", [False, True])
def test_after_an_als_epoch_each_item_solves_its_weighted_ridge_given_the_users(
        monkeypatch, weighted):
    from skembrec._engine.trainers import als

    # enough conjugate-gradient steps to solve the 5 x 5 systems; uniform
    # weights equal to negative_weight are solved exactly
    monkeypatch.setattr(als, "CG_STEPS", 30)
    X, y = tastes(n_users=30, n_items=40, per_user=8)
    rng = np.random.default_rng(0)
    weight = rng.uniform(0.5, 3.0, len(y)) if weighted else None
    if weighted:
        # fit scales sample weights to a mean of 1 (a no-op here)
        weight /= weight.mean()
    nu = 0.4 if weighted else 1.0
    model = ImplicitMF(n_factors=4, n_epochs=1, reg=0.05, negative_weight=nu,
                       random_state=0).fit(X, y, sample_weight=weight)
    check_items_solve_their_ridge(model, X, weight, 0.05, nu)


@pytest.mark.parametrize("negative_weight, weighted", [(1.0, False), (0.3, True)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_als_training_loss_falls_every_iteration(negative_weight, weighted, seed):
    X, y = tastes(n_users=60, seed=seed)
    weight = np.random.default_rng(seed).uniform(0.5, 3, len(y)) if weighted else None
    model = ImplicitMF(n_factors=8, n_epochs=8, negative_weight=negative_weight,
                       random_state=seed).fit(X, y, sample_weight=weight)
    losses = np.array(model.history_["loss"])
    assert np.isfinite(losses).all() and len(losses) == 8
    assert (np.diff(losses) < 0).all()


def test_als_fits_are_reproducible_with_random_state():
    X, y = tastes(n_users=60)
    fits = [ImplicitMF(n_factors=8, n_epochs=4, negative_weight=0.5, random_state=seed)
            .fit(X, y, sample_weight=np.linspace(0.5, 2, len(y))) for seed in (0, 0, 1)]
    np.testing.assert_array_equal(fits[0].predict(X), fits[1].predict(X))
    np.testing.assert_array_equal(fits[0].user_embeddings_, fits[1].user_embeddings_)
    assert not np.array_equal(fits[0].user_embeddings_, fits[2].user_embeddings_)


def test_changing_the_solver_after_fit_changes_nothing_until_the_next_fit(tmp_path):
    X, y = tastes(n_users=60)
    model = ImplicitMF(n_factors=8, n_epochs=3, solver="als", random_state=0).fit(X, y)
    proba, top = model.predict(X[:30]), model.recommend([0, 1, 2], 5)
    model.set_params(solver="sgd")
    np.testing.assert_array_equal(model.predict(X[:30]), proba)
    np.testing.assert_array_equal(model.recommend([0, 1, 2], 5), top)
    model.save(tmp_path / "m.npz")
    for other in (pickle.loads(pickle.dumps(model)), ImplicitMF.load(tmp_path / "m.npz")):
        np.testing.assert_array_equal(other.predict(X[:30]), proba)
    # the next fit trains by sampled steps: another model
    model.fit(X, y)
    assert not np.allclose(model.predict(X[:30]), proba)


@pytest.mark.parametrize("negative_weight", [1.0, 0.4])
def test_partial_fit_runs_one_more_als_iteration_from_the_fitted_factors(negative_weight):
    X, y = tastes(n_users=50)
    weight = None if negative_weight == 1.0 else np.linspace(0.5, 2.0, len(y))
    settings = {"n_factors": 6, "negative_weight": negative_weight, "random_state": 0}
    model = ImplicitMF(n_epochs=3, **settings).fit(X, y, sample_weight=weight)
    model.partial_fit(X, y, sample_weight=weight)
    longer = ImplicitMF(n_epochs=4, **settings).fit(X, y, sample_weight=weight)
    assert model.n_iter_ == 4
    np.testing.assert_allclose(model.user_embeddings_, longer.user_embeddings_,
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.item_biases_, longer.item_biases_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.history_["loss"], longer.history_["loss"], rtol=1e-5)


def test_switching_to_als_with_warm_start_continues_from_the_sampled_steps_tables(
        monkeypatch):
    from skembrec._engine.trainers import als

    # a pair rated twice weighs 2: enough conjugate-gradient steps to solve
    monkeypatch.setattr(als, "CG_STEPS", 30)
    X, y = tastes(n_users=40, n_items=60, per_user=10)
    model = ImplicitMF(n_factors=5, n_epochs=3, solver="sgd", random_state=0).fit(X, y)
    items, biases = model.item_embeddings_.copy(), model.item_biases_.copy()
    model.set_params(solver="als", warm_start=True, n_epochs=1, reg=0.05)
    model.fit(X, y)
    assert model.n_iter_ == 4
    # the users were solved against the sampled-steps item tables ...
    users, rated, weights = summed_pairs(model, X, None)
    expected = weighted_ridge(np.hstack([items, np.zeros((len(items), 1))]).astype(float),
                              users, rated, weights, model.n_users_, 0.05, 1.0,
                              offset=biases.astype(float))
    np.testing.assert_allclose(model.user_embeddings_, expected[:, :5], rtol=1e-3, atol=1e-4)
    # ... and the items against those users
    check_items_solve_their_ridge(model, X, None, 0.05, 1.0)


def test_switching_to_sampled_steps_with_warm_start_continues_from_the_als_tables():
    X, y = tastes(n_users=40, n_items=60, per_user=10)
    als = ImplicitMF(n_factors=5, n_epochs=5, random_state=0).fit(X, y)
    tables = als.user_embeddings_.copy(), als.item_embeddings_.copy()
    als.set_params(solver="sgd", warm_start=True, n_epochs=1, learning_rate=1e-3)
    als.fit(X, y)
    fresh = ImplicitMF(n_factors=5, n_epochs=1, solver="sgd", learning_rate=1e-3,
                       random_state=0).fit(X, y)
    assert als.n_iter_ == 6
    for before, after, other in zip(tables, (als.user_embeddings_, als.item_embeddings_),
                                    (fresh.user_embeddings_, fresh.item_embeddings_)):
        # a small step away from the ALS factors, far from a fresh start
        assert np.abs(after - before).max() < 0.1 * np.abs(other - before).max()


def test_a_user_without_a_liked_rating_still_gets_finite_factors():
    # more factors than items: the users' Gram matrix is singular, so a
    # user with no interaction relies on its ridge of one interaction's
    X = np.array([(u, i) for u in range(6) for i in range(5)])
    y = np.where(X[:, 0] == 5, 1.0, np.where((X[:, 0] + X[:, 1]) % 2, 5.0, 2.0))
    model = ImplicitMF(n_factors=8, n_epochs=3, relevance_threshold=4,
                       random_state=0).fit(X, y)
    assert np.isfinite(model.user_embeddings_).all()
    assert np.isfinite(model.item_embeddings_).all()
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.realdata
@pytest.mark.parametrize("threshold", [None, 4])
def test_the_default_als_ranks_movielens_100k_latest_ratings_well(threshold):
    from skembrec.datasets import find_dataset, load_movielens
    from skembrec.model_selection import TemporalProbeSplit

    folder = find_dataset("ml-100k")
    if folder is None:
        pytest.skip("MovieLens-100K not found (../shared/datasets/ml-100k)")
    X, y = load_movielens(folder, return_X_y=True, as_frame=False)
    train, test = next(TemporalProbeSplit(n_probe=0.1, time_column=2).split(X))
    ndcg = make_ranking_scorer("ndcg", k=10, relevance_threshold=4)
    for seed in (0, 1):
        model = ImplicitMF(relevance_threshold=threshold, random_state=seed)
        score = ndcg(model.fit(X[train], y[train]), X[test], y[test])
        # seeds 0-2: 0.146-0.155; one ridge of 0.01 for every row (the
        # previous default) 0.121, the sampled-steps solver 0.141
        assert score > 0.14
