"""``recommend`` as a matrix product, and its item filters, on every estimator."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from skembrec import (
    AutoRec,
    BayesianMF,
    EmbeddingClassifier,
    EmbeddingRegressor,
    FunkMF,
    ImplicitMF,
    PopularityRecommender,
)
from skembrec._engine import recommend as _recommend
from skembrec._engine.layers import ItemAutoencoder
from skembrec.datasets import make_ratings

GENRES = np.array(["Action", "Comedy", "Drama|Romance", "Action|Comedy", "Horror"])
FEATURES = {"user_features": ["age", "group"], "item_features": ["genres"]}

# name: (estimator, reads side features); a few epochs each, small tables
MODELS = {
    "FunkMF": (FunkMF(n_factors=4, n_epochs=2, random_state=0), False),
    "FunkMF time-aware": (FunkMF(n_factors=4, n_epochs=2, time_column="timestamp",
                                 n_time_bins=3, random_state=0), False),
    "FunkMF features": (FunkMF(n_factors=4, n_epochs=2, random_state=0, id_dropout=0.2,
                               **FEATURES), True),
    "FunkMF unbiased": (FunkMF(n_factors=4, n_epochs=2, biased=False, random_state=0), False),
    "ImplicitMF": (ImplicitMF(n_factors=4, n_epochs=2, random_state=0), False),
    "BayesianMF": (BayesianMF(n_factors=3, n_epochs=8, n_burn_in=2, n_kept_samples=3,
                              random_state=0), False),
    "BayesianMF features": (BayesianMF(n_factors=3, n_epochs=8, n_burn_in=2,
                                       n_kept_samples=3, random_state=0, **FEATURES), True),
    "AutoRec": (AutoRec(n_factors=8, n_epochs=2, random_state=0), False),
    "EmbeddingRegressor": (EmbeddingRegressor(n_factors=4, hidden_layer_sizes=(8,),
                                              n_epochs=2, random_state=0), False),
    "EmbeddingClassifier": (EmbeddingClassifier(n_factors=4, hidden_layer_sizes=(8,),
                                                n_epochs=2, random_state=0), False),
    "PopularityRecommender": (PopularityRecommender(), False),
}
FACTORED = [name for name in MODELS if not name.startswith(("Embedding", "Popularity"))]


@pytest.fixture(scope="module")
def ratings():
    X, y = make_ratings(n_users=60, n_items=40, n_ratings=1500, random_state=0,
                        return_X_y=True)
    users, items = X.user.to_numpy(), X.item.to_numpy()
    return X.assign(age=20.0 + users % 40,
                    group=np.where(users % 3 == 0, "a", "b"),
                    genres=GENRES[items % len(GENRES)]), y


@pytest.fixture(scope="module")
def fitted(ratings):
    X, y = ratings
    return {name: clone(model).fit(X if features else X[["user", "item", "timestamp"]], y)
            for name, (model, features) in MODELS.items()}


def users_of(X):
    return list(pd.unique(X.user)) + ["nobody"]


def per_pair_ranking(model, users, n, exclude_seen=True):
    """``recommend``'s lists from the model's graph, scored pair by pair."""
    state = model._fitted_state()
    index = state.user_vocab.transform(np.asarray(users, dtype=object))
    top, counts = _recommend.top_n_items(
        lambda chunk: model._score_rows(state, chunk), index, len(state.item_vocab), n,
        seen=state.seen if exclude_seen else None)
    return top, counts


# ----------------------------------------------- the product against the graph
@pytest.mark.parametrize("name", FACTORED)
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_factored_ranking_equals_the_graphs_pair_by_pair(fitted, ratings, name, exclude_seen):
    model = fitted[name]
    state = model._fitted_state()
    assert model._ranking(state) is not None
    users = users_of(ratings[0])
    got = model.recommend(users, n=12, exclude_seen=exclude_seen)
    top, counts = per_pair_ranking(model, users, 12, exclude_seen)
    got_index = state.item_vocab.transform(np.ma.filled(got, got.flat[0]).ravel()) \
        .reshape(got.shape)
    assert got.shape == top.shape
    # the graph rounds each score in float32; the product path ranks by the
    # exact score. Where the lists differ, the graph's scores of the two
    # lists must agree at every rank to float32 rounding (a near-tie)
    index = state.user_vocab.transform(np.asarray(users, dtype=object))
    scores = model._score_rows(state, index)
    different = 0
    for row in range(len(users)):
        want = top[row, :counts[row]]
        have = got_index[row, :counts[row]]
        if np.array_equal(want, have):
            continue
        different += 1
        scale = np.abs(scores[row][np.isfinite(scores[row])]).max()
        np.testing.assert_allclose(scores[row, have], scores[row, want], rtol=0,
                                   atol=1e-6 * scale)
    assert different <= 2, f"{different} of {len(users)} users ranked differently"


@pytest.mark.parametrize("name", ["EmbeddingRegressor", "EmbeddingClassifier"])
def test_dense_models_score_pair_by_pair(fitted, ratings, name):
    model = fitted[name]
    assert model._ranking(model._fitted_state()) is None
    users = users_of(ratings[0])
    top, counts = per_pair_ranking(model, users, 6)
    expected = _recommend.as_item_ids((top, counts), model._fitted_state().item_vocab, False)
    np.testing.assert_array_equal(model.recommend(users, n=6), expected)


def test_the_product_ranks_by_the_exact_score_where_float32_rounds_to_a_tie():
    # item 20 scores 1 + 2**-30 for user "a", item 10 scores 1: in float32
    # both round to 1 (the graph ties them, in table order); the product
    # path re-scores in float64, where the products of float32 are exact
    model = FunkMF.from_factors(["a"], [10, 20], [[1.0, 1.0]], [[1.0, 0.0], [1.0, 2.0**-30]])
    state = model._fitted_state()
    assert model._score_rows(state, np.array([0]))[0].tolist() == [1.0, 1.0]
    assert model.recommend("a", n=2).tolist() == [20, 10]
    assert model.recommend(["a", "a"], n=2).tolist() == [[20, 10]] * 2


def test_ties_rank_in_item_table_order_in_one_and_many_user_calls():
    rng = np.random.default_rng(0)
    items = rng.normal(size=(300, 8)).astype(np.float32)
    twins = rng.choice(300, size=60, replace=False)
    items[twins] = rng.normal(size=8) * 10  # 60 items with one, long, vector
    # every user prefers the twins most
    users = (items[twins[0]] + rng.normal(scale=0.1, size=(50, 8))).astype(np.float32)
    model = FunkMF.from_factors(np.arange(50), np.arange(300), users, items)
    want = np.sort(twins)[:20]
    np.testing.assert_array_equal(model.recommend(7, n=20), want)
    np.testing.assert_array_equal(model.recommend(np.arange(50), n=20), np.tile(want, (50, 1)))
    # an unknown user reads zeros: every item ties
    np.testing.assert_array_equal(model.recommend("nobody", n=5), np.arange(5))


def test_batched_rows_equal_one_user_calls_and_the_exact_ranking():
    # near-twin items (1e-7 apart, a few float32 ulps of the score): a matrix
    # product of another shape rounds them in another order; the lists do not
    rng = np.random.default_rng(1)
    base = rng.normal(size=(150, 32))
    items = np.concatenate([base, base + rng.normal(scale=1e-7, size=base.shape)])
    items = items.astype(np.float32)
    users = rng.normal(size=(40, 32)).astype(np.float32)
    bias = rng.normal(scale=0.1, size=300).astype(np.float32)
    bias[150:] = bias[:150]
    model = FunkMF.from_factors(np.arange(40), np.arange(300), users, items,
                                user_biases=np.zeros(40), item_biases=bias)
    exact = users.astype(np.float64) @ items.T.astype(np.float64) + bias
    want = np.stack([sorted(range(300), key=lambda i: (-row[i], i))[:10] for row in exact])
    batched = model.recommend(np.arange(40), n=10)
    np.testing.assert_array_equal(batched, want)
    for user in range(40):
        np.testing.assert_array_equal(model.recommend(user, n=10), want[user])


def test_factored_scores_are_computed_once_per_fit(ratings, monkeypatch):
    X, y = ratings
    calls = []
    codes = ItemAutoencoder.item_codes
    monkeypatch.setattr(ItemAutoencoder, "item_codes",
                        lambda self: calls.append(1) or codes(self))
    model = AutoRec(n_factors=8, n_epochs=1, random_state=0).fit(X[["user", "item"]], y)
    # computed once, at the end of fit, so the first recommend pays nothing
    assert len(calls) == 1
    first = model.recommend(X.user[:5], n=3)
    model.recommend(X.user[5], n=3)
    assert len(calls) == 1
    model.set_params(n_epochs=1).partial_fit(X[["user", "item"]], y)
    assert len(calls) == 2
    again = model.recommend(X.user[:5], n=3)
    assert len(calls) == 2
    assert again.shape == first.shape


# --------------------------------------------------------------- the filters
def filtered_by_hand(model, users, n, items=None, exclude_items=None, exclude_seen=True):
    """Each user's full ranking, filtered, cut to ``n``."""
    full = model.recommend(users, n=model.n_items_, exclude_seen=exclude_seen)
    lists = []
    for row in full:
        ids = list(np.ma.compressed(row)) if np.ma.isMaskedArray(row) else list(row)
        lists.append([i for i in ids if (items is None or i in set(items))
                      and (exclude_items is None or i not in set(exclude_items))][:n])
    return lists


def as_lists(result):
    return [list(np.ma.compressed(row)) if np.ma.isMaskedArray(result) else list(row)
            for row in result]


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_filters_equal_filtering_a_full_ranking_by_hand(fitted, ratings, name, exclude_seen):
    model = fitted[name]
    users = users_of(ratings[0])
    ids = model.item_ids_
    rng = np.random.default_rng(0)
    whitelist = list(rng.choice(ids, size=15, replace=False)) + [10**6]  # one unknown
    blacklist = list(rng.choice(ids, size=10, replace=False)) + [-5]
    for items, exclude in ((whitelist, None), (None, blacklist), (whitelist, blacklist)):
        got = model.recommend(users, n=6, items=items, exclude_items=exclude,
                              exclude_seen=exclude_seen)
        want = filtered_by_hand(model, users, 6, items, exclude, exclude_seen)
        assert as_lists(got) == want
        # n results while n candidates remain
        for row, user in zip(want, users):
            allowed = set(ids) if items is None else set(items) & set(ids)
            allowed -= set(exclude or ())
            if exclude_seen:
                rated = set(ratings[0].item[ratings[0].user == user])
                allowed -= rated
            assert len(row) == min(6, len(allowed))
        # one user: the same list
        assert list(model.recommend(users[3], n=6, items=items, exclude_items=exclude,
                                    exclude_seen=exclude_seen)) == want[3]


@pytest.mark.parametrize("name", ["FunkMF", "AutoRec", "EmbeddingRegressor",
                                  "PopularityRecommender"])
def test_unknown_ids_in_the_filters_are_ignored(fitted, ratings, name):
    model = fitted[name]
    users = users_of(ratings[0])[:5]
    plain = model.recommend(users, n=4)
    np.testing.assert_array_equal(
        model.recommend(users, n=4, exclude_items=[10**6, "x", None, np.nan]), plain)
    known = list(model.item_ids_[:3])
    np.testing.assert_array_equal(
        as_lists(model.recommend(users, n=4, items=known + [10**6, "x"],
                                 exclude_seen=False)),
        as_lists(model.recommend(users, n=4, items=known, exclude_seen=False)))
    # only unknown ids in the whitelist: no candidate at all
    assert model.recommend(users, n=4, items=[10**6]).shape == (5, 0)
    assert model.recommend(users[0], n=4, items=[]).shape == (0,)


def test_filter_arguments_take_one_id_sets_and_series(fitted, ratings):
    model = fitted["FunkMF"]
    users = users_of(ratings[0])[:4]
    ids = model.item_ids_
    by_list = model.recommend(users, n=3, exclude_items=[ids[0], ids[1]])
    np.testing.assert_array_equal(
        model.recommend(users, n=3, exclude_items={ids[0], ids[1]}), by_list)
    np.testing.assert_array_equal(
        model.recommend(users, n=3, exclude_items=pd.Series([ids[0], ids[1]])), by_list)
    assert model.recommend(users[0], n=3, items=ids[5], exclude_seen=False).tolist() == [ids[5]]
    with pytest.raises(ValueError, match="items must be one id or a 1-D"):
        model.recommend(users, n=3, items=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="exclude_items must be one id or a 1-D"):
        model.recommend(users, n=3, exclude_items=np.zeros((2, 2)))
