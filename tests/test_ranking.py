"""Top-N evaluation: the metrics, the scorer protocol, batched recommend, popularity."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, UndefinedMetricWarning
from sklearn.metrics import ndcg_score
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from skembrec import (
    EmbeddingClassifier,
    EmbeddingRegressor,
    FunkMF,
    PopularityRecommender,
)
from skembrec._engine import recommend as _recommend
from skembrec.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    make_ranking_scorer,
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    popularity_bias,
    precision_at_k,
    recall_at_k,
)
from skembrec.model_selection import TemporalProbeSplit

FUNCTIONS = {"ndcg": ndcg_at_k, "recall": recall_at_k, "precision": precision_at_k,
             "map": map_at_k, "mrr": mrr_at_k, "hit_rate": hit_rate_at_k}

MODELS = {
    "FunkMF": FunkMF(n_factors=4, n_epochs=2, random_state=0),
    "FunkMF time-aware": FunkMF(n_factors=4, n_epochs=2, time_column="timestamp",
                                random_state=0),
    "EmbeddingRegressor": EmbeddingRegressor(n_factors=4, hidden_layer_sizes=(8,),
                                             n_epochs=2, random_state=0),
    "EmbeddingClassifier": EmbeddingClassifier(n_factors=4, hidden_layer_sizes=(8,),
                                               n_epochs=2, random_state=0),
    "PopularityRecommender": PopularityRecommender(),
}


@pytest.fixture(scope="module")
def ratings():
    from skembrec.datasets import make_ratings

    return make_ratings(n_users=80, n_items=60, n_ratings=2500, random_state=0,
                        return_X_y=True)


@pytest.fixture(scope="module")
def fitted(ratings):
    X, y = ratings
    return {name: clone(model).fit(X, y) for name, model in MODELS.items()}


# ------------------------------------------------------------------ metrics
# user A: hits at ranks 2 and 4 of 3 relevant; user B: a hit at rank 1 of 1
# relevant; user C has no relevant item and is skipped
RECOMMENDED = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
RELEVANT = [{2, 4, 99}, {5}, set()]
L2, L3, L4, L5 = (math.log2(v) for v in (2, 3, 4, 5))
HAND = {
    4: {"precision": (2 / 4 + 1 / 4) / 2,
        "recall": (2 / 3 + 1) / 2,
        "hit_rate": 1.0,
        "mrr": (1 / 2 + 1) / 2,
        "map": ((1 / 2 + 2 / 4) / 3 + 1) / 2,
        "ndcg": ((1 / L3 + 1 / L5) / (1 / L2 + 1 / L3 + 1 / L4) + 1) / 2},
    2: {"precision": (1 / 2 + 1 / 2) / 2,
        "recall": (1 / 3 + 1) / 2,
        "hit_rate": 1.0,
        "mrr": (1 / 2 + 1) / 2,
        "map": ((1 / 2) / 2 + 1) / 2,
        "ndcg": ((1 / L3) / (1 / L2 + 1 / L3) + 1) / 2},
}


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("metric", list(FUNCTIONS))
def test_metrics_equal_hand_computed_values(metric, k):
    assert FUNCTIONS[metric](RECOMMENDED, RELEVANT, k=k) == pytest.approx(HAND[k][metric])


def test_metrics_of_a_list_shorter_than_k():
    # one hit at rank 1 of a 1-item list, 2 relevant: precision still divides by k
    assert precision_at_k([["a"]], [{"a", "b"}], k=5) == pytest.approx(1 / 5)
    assert map_at_k([["a"]], [{"a", "b"}], k=5) == pytest.approx(1 / 2)
    assert ndcg_at_k([["a"]], [{"a", "b"}], k=5) == pytest.approx(1 / (1 + 1 / L3))
    assert mrr_at_k([["x", "y", "a"]], [{"a"}], k=2) == 0.0
    assert hit_rate_at_k([["x", "y", "a"]], [{"a"}], k=2) == 0.0


def test_an_item_listed_twice_is_one_hit():
    assert recall_at_k([["a", "a", "b"]], [{"a", "c"}], k=3) == pytest.approx(1 / 2)


def test_masked_rows_of_recommend_lose_their_padding():
    row = np.ma.MaskedArray([3, 0, 0], mask=[False, True, True])
    # the padding (item 0 beneath the mask) must not count as a hit
    assert recall_at_k([row], [{3, 0}], k=3) == pytest.approx(1 / 2)


@pytest.mark.parametrize("k", [1, 3, 5, 10, 30])
def test_ndcg_equals_scikit_learns_with_binary_relevance(k):
    rng = np.random.default_rng(k)
    n_users, n_items = 40, 25
    truth = (rng.random((n_users, n_items)) < 0.15).astype(int)
    truth[0] = 0  # a user without relevant items: scikit-learn scores it 0
    scores = rng.permutation(n_users * n_items).reshape(n_users, n_items)  # no ties
    recommended = [np.argsort(-row)[:k] for row in scores]
    relevant = [set(np.flatnonzero(row)) for row in truth]
    keep = truth.sum(axis=1) > 0
    expected = ndcg_score(truth[keep], scores[keep], k=k)
    assert ndcg_at_k(recommended, relevant, k=k) == pytest.approx(expected, abs=1e-12)


def test_no_relevant_item_at_all_is_nan_with_a_warning():
    with pytest.warns(UndefinedMetricWarning, match="no user has a relevant item"):
        assert math.isnan(ndcg_at_k([[1, 2]], [set()], k=2))


def test_ids_of_any_kind_match():
    recommended = [np.array(["a", "b"], dtype=object), [("t", 1), ("t", 2)]]
    relevant = [["b"], [("t", 2)]]
    assert recall_at_k(recommended, relevant, k=2) == 1.0
    assert mrr_at_k(recommended, relevant, k=2) == 0.5


def test_catalogue_coverage():
    lists = [["a", "b"], ["a", "c"]]
    assert catalogue_coverage(lists, 6) == pytest.approx(3 / 6)
    assert catalogue_coverage(lists, ["a", "b", "c", "d"]) == 0.75
    # an item outside the given catalogue does not count
    assert catalogue_coverage([["a", "z"]], ["a", "b"]) == 0.5
    with pytest.raises(ValueError, match="catalogue"):
        catalogue_coverage(lists, 0)
    with pytest.raises(ValueError, match="more than the catalogue"):
        catalogue_coverage(lists, 2)
    with pytest.raises(TypeError, match="catalogue"):
        catalogue_coverage(lists, "abc")


def test_popularity_bias():
    train = ["a"] * 6 + ["b"] * 2 + ["c"]  # catalogue mean popularity 3
    assert popularity_bias([["a"], ["a", "b"]], train) == pytest.approx(((6 + 4) / 2) / 3)
    assert popularity_bias([["c"]], train) == pytest.approx(1 / 3)
    # an item never rated in training has popularity 0
    assert popularity_bias([["new", "a"]], train) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="train_items"):
        popularity_bias([["a"]], [])


@pytest.mark.parametrize("call, error, match", [
    (lambda: ndcg_at_k([[1]], [{1}], k=0), ValueError, "k must be a positive int"),
    (lambda: ndcg_at_k([[1]], [{1}], k=True), TypeError, "k must be a positive int"),
    (lambda: ndcg_at_k([[1]], [{1}], k=2.0), TypeError, "k must be a positive int"),
    (lambda: ndcg_at_k([[1], [2]], [{1}]), ValueError, "recommended has 2 users"),
    (lambda: ndcg_at_k("ab", [{1}]), TypeError, "one collection of items per user"),
    (lambda: make_ranking_scorer("auc"), ValueError, "metric must be one of"),
    (lambda: make_ranking_scorer(k=0), ValueError, "k must be a positive int"),
    (lambda: make_ranking_scorer(k=False), TypeError, "k must be a positive int"),
    (lambda: make_ranking_scorer(k="10"), TypeError, "k must be a positive int"),
    (lambda: make_ranking_scorer(relevance_threshold="4"), TypeError,
     "relevance_threshold must be a finite number"),
    (lambda: make_ranking_scorer(relevance_threshold=np.nan), TypeError,
     "relevance_threshold must be a finite number"),
])
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_scorer_refuses_what_it_cannot_score(fitted, ratings):
    X, y = ratings
    scorer = make_ranking_scorer(relevance_threshold=4)
    with pytest.raises(ValueError, match="needs the ratings y"):
        scorer(fitted["PopularityRecommender"], X, None)
    with pytest.raises(TypeError, match="recommend"):
        scorer(object(), X, y)
    with pytest.raises(ValueError, match="column"):
        scorer(fitted["PopularityRecommender"], X[["user"]], y)


# ---------------------------------------------------- the scorer's protocol
def reference_score(estimator, X, y, metric, k, threshold):
    """The contract's protocol, written independently: one user at a time."""
    X = pd.DataFrame(np.asarray(X, dtype=object)).infer_objects()
    y = np.asarray(y, dtype=float)
    values = []
    for user, rows in X.groupby(0, sort=False).groups.items():
        rows = np.asarray([X.index.get_loc(r) for r in rows])
        keep = rows if threshold is None else rows[y[rows] >= threshold]
        relevant = set(X.iloc[keep, 1])
        if not relevant:
            continue
        top = list(estimator.recommend(user, n=k, exclude_seen=True))
        hits = [item in relevant for item in top[:k]]
        first = hits.index(True) + 1 if any(hits) else None
        dcg = sum(1 / math.log2(r + 2) for r, h in enumerate(hits) if h)
        idcg = sum(1 / math.log2(r + 2) for r in range(min(k, len(relevant))))
        precisions = [sum(hits[:r + 1]) / (r + 1) for r, h in enumerate(hits) if h]
        values.append({
            "ndcg": dcg / idcg,
            "recall": sum(hits) / len(relevant),
            "precision": sum(hits) / k,
            "map": sum(precisions) / min(k, len(relevant)),
            "mrr": 1 / first if first else 0.0,
            "hit_rate": float(any(hits)),
        }[metric])
    return float(np.mean(values))


@pytest.fixture(scope="module")
def probe(ratings):
    X, y = ratings
    train, test = next(TemporalProbeSplit(n_probe=0.2, time_column="timestamp").split(X))
    return X.iloc[train], y[train], X.iloc[test], y[test]


@pytest.mark.parametrize("metric", list(FUNCTIONS))
@pytest.mark.parametrize("threshold", [None, 4])
def test_scorer_equals_an_independent_implementation(probe, metric, threshold):
    X_train, y_train, X_test, y_test = probe
    model = PopularityRecommender().fit(X_train, y_train)
    scorer = make_ranking_scorer(metric, k=5, relevance_threshold=threshold)
    score = scorer(model, X_test, y_test)
    assert score > 0  # the most popular items are relevant to some users
    assert score == pytest.approx(reference_score(model, X_test, y_test, metric, 5,
                                                  threshold), abs=1e-6)


def test_scorer_reads_arrays_and_frames_alike(fitted, probe):
    _, _, X_test, y_test = probe
    model = fitted["FunkMF"]
    scorer = make_ranking_scorer("recall", k=10, relevance_threshold=3)
    frame_score = scorer(model, X_test, pd.Series(y_test))
    assert scorer(model, X_test.to_numpy(), y_test) == frame_score
    assert scorer(model, X_test.to_numpy().tolist(), list(y_test)) == frame_score


def test_scorer_excludes_seen_items_and_counts_unknown_users(fitted, ratings):
    X, y = ratings
    model = fitted["PopularityRecommender"]
    # every relevant item of the training rows was seen: nothing can be a hit
    assert make_ranking_scorer("hit_rate", k=10)(model, X, y) == 0.0
    # an unknown user gets the cold-start ranking: the most popular item
    best = model.recommend("stranger", n=1)[0]
    new = pd.DataFrame({"user": ["stranger"], "item": [best], "timestamp": [0]})
    assert make_ranking_scorer("mrr", k=1)(model, new, [5.0]) == 1.0


def test_scorer_pickles():
    scorer = make_ranking_scorer("map", k=7, relevance_threshold=3.5)
    again = pickle.loads(pickle.dumps(scorer))
    assert repr(again) == repr(scorer) == (
        "make_ranking_scorer(metric='map', k=7, relevance_threshold=3.5)")


def test_grid_search_with_dict_scoring_refits_on_ndcg(ratings):
    X, y = ratings
    folds = list(TemporalProbeSplit(n_probe=0.2, time_column="timestamp").split(X))
    scoring = {"ndcg": make_ranking_scorer("ndcg", k=10, relevance_threshold=4),
               "recall": make_ranking_scorer("recall", k=10, relevance_threshold=4),
               "rmse": "neg_root_mean_squared_error"}
    grid = {"n_factors": [2, 4], "n_epochs": [1, 3]}
    search = GridSearchCV(FunkMF(random_state=0), grid, cv=folds, scoring=scoring,
                          refit="ndcg").fit(X, y)
    results = search.cv_results_
    (train, test), = folds
    for i, params in enumerate(results["params"]):
        model = FunkMF(random_state=0, **params).fit(X.iloc[train], y[train])
        for metric in ("ndcg", "recall"):
            expected = reference_score(model, X.iloc[test], y[test], metric, 10, 4)
            assert results[f"split0_test_{metric}"][i] == pytest.approx(expected, abs=1e-6)
    assert search.best_index_ == int(np.argmax(results["mean_test_ndcg"]))
    assert search.best_params_ == results["params"][search.best_index_]
    assert search.best_score_ == results["mean_test_ndcg"][search.best_index_]


def test_cross_validate_with_a_temporal_probe_split(ratings):
    X, y = ratings
    cv = TemporalProbeSplit(n_probe=2, n_splits=2, time_column="timestamp")
    scoring = {"map": make_ranking_scorer("map", k=5, relevance_threshold=4),
               "hit_rate": make_ranking_scorer("hit_rate", k=5, relevance_threshold=4)}
    out = cross_validate(PopularityRecommender(), X, y, cv=cv, scoring=scoring,
                         return_estimator=True)
    for fold, (_, test) in enumerate(cv.split(X)):
        model = out["estimator"][fold]
        for metric in scoring:
            expected = reference_score(model, X.iloc[test], y[test], metric, 5, 4)
            assert out[f"test_{metric}"][fold] == pytest.approx(expected, abs=1e-6)
    assert (out["test_hit_rate"] > 0).all()


def test_randomized_search_in_parallel_workers(ratings):
    X, y = ratings
    cv = TemporalProbeSplit(n_probe=0.2, time_column="timestamp")
    search = RandomizedSearchCV(
        PopularityRecommender(), {"min_rating": [None, 3, 4, 5]}, n_iter=3, cv=cv,
        scoring=make_ranking_scorer("ndcg", k=10, relevance_threshold=4),
        random_state=0, n_jobs=2).fit(X, y)
    (train, test), = cv.split(X)
    for i, params in enumerate(search.cv_results_["params"]):
        model = PopularityRecommender(**params).fit(X.iloc[train], y[train])
        expected = reference_score(model, X.iloc[test], y[test], "ndcg", 10, 4)
        assert search.cv_results_["split0_test_score"][i] == pytest.approx(expected,
                                                                           abs=1e-6)


# ------------------------------------------------------- batched recommend
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_batched_recommend_equals_one_user_calls(fitted, ratings, name, exclude_seen):
    X, _ = ratings
    model = fitted[name]
    users = list(pd.unique(X.user)) + ["nobody"]
    batched = model.recommend(users, n=7, exclude_seen=exclude_seen)
    assert batched.shape == (len(users), 7)
    for row, user in zip(batched, users):
        np.testing.assert_array_equal(np.ma.compressed(row),
                                      model.recommend(user, n=7, exclude_seen=exclude_seen))
    # every kind of array-like gives the same rows
    np.testing.assert_array_equal(model.recommend(np.asarray(users, dtype=object), n=7,
                                                  exclude_seen=exclude_seen), batched)
    np.testing.assert_array_equal(model.recommend(pd.Series(users), n=7,
                                                  exclude_seen=exclude_seen), batched)


def test_recommend_is_one_model_call_per_chunk(fitted, ratings, monkeypatch):
    X, _ = ratings
    model = fitted["EmbeddingRegressor"]
    users = np.unique(X.user)
    whole = model.recommend(users, n=5)
    calls = []
    output = type(model)._output
    monkeypatch.setattr(type(model), "_output",
                        lambda self, *a, **kw: calls.append(len(a[0])) or output(self, *a, **kw))
    model.recommend(users, n=5)
    assert calls == [len(users) * model.n_items_]
    # chunks of 3 users give the same rows, one call each
    calls.clear()
    monkeypatch.setattr(_recommend, "SCORE_CHUNK", 3 * model.n_items_)
    np.testing.assert_array_equal(model.recommend(users, n=5), whole)
    assert len(calls) == math.ceil(len(users) / 3)


def test_recommend_pads_short_rows_with_a_mask():
    X = [["u", "a"], ["u", "b"], ["u", "c"], ["v", "a"]]
    model = PopularityRecommender().fit(X, [5, 4, 3, 2])
    out = model.recommend(["u", "v"], n=5)
    assert isinstance(out, np.ma.MaskedArray) and out.shape == (2, 2)
    assert out[0].compressed().tolist() == [] and out[1].compressed().tolist() == ["b", "c"]
    assert model.recommend("u", n=5).shape == (0,)
    full = model.recommend(["u", "v"], n=5, exclude_seen=False)
    assert not isinstance(full, np.ma.MaskedArray)
    assert full.tolist() == [["a", "b", "c"]] * 2


def test_a_list_of_tuple_ids_is_a_list_of_users():
    X = np.empty((4, 2), dtype=object)
    for row, (user, item) in enumerate([(("a", 1), "x"), (("a", 1), "y"),
                                        (("b", 2), "x"), (("b", 2), "z")]):
        X[row, 0], X[row, 1] = user, item
    model = PopularityRecommender().fit(X, [5.0, 1.0, 4.0, 2.0])
    out = model.recommend([("a", 1), ("b", 2)], n=1)
    assert out.tolist() == [["z"], ["y"]]
    assert model.recommend(("a", 1), n=1).tolist() == ["z"]
    assert model.recommend(pd.Index(["a", "b"]), n=3).tolist() == [["x", "y", "z"]] * 2


def test_ties_rank_in_item_table_order():
    scores = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, -np.inf, np.nan]])
    top, counts = _recommend._top_n(scores, 2)
    assert top.tolist() == [[1, 2]] and counts.tolist() == [2]
    top, counts = _recommend._top_n(scores, 10)
    assert top.tolist() == [[1, 2, 4, 3, 0]] and counts.tolist() == [5]


def test_top_n_equals_a_sort_by_score_then_index():
    rng = np.random.default_rng(0)
    for _ in range(200):
        scores = rng.integers(0, 4, size=rng.integers(1, 6, size=2)).astype(float)
        scores[rng.random(scores.shape) < 0.3] = -np.inf  # seen items
        scores[rng.random(scores.shape) < 0.05] = np.nan
        n = int(rng.integers(0, 14))
        top, counts = _recommend._top_n(scores.copy(), n)
        for row, values in enumerate(scores):
            finite = [j for j in range(len(values)) if np.isfinite(values[j])]
            expected = sorted(finite, key=lambda j: (-values[j], j))[:n]
            assert [j for j in top[row] if j >= 0] == expected
            assert counts[row] == len(expected)


def test_recommend_arguments(fitted):
    model = fitted["FunkMF"]
    with pytest.raises(ValueError, match="1-D array-like"):
        model.recommend(np.zeros((2, 2)), n=3)
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        model.recommend([1, 2], n=-1)
    assert model.recommend([1, 2], n=0).shape == (2, 0)
    # a tuple is one id (unknown here), a 0-d array one id
    assert model.recommend((1, 2), n=3).shape == (3,)
    np.testing.assert_array_equal(model.recommend(np.array(1), n=3), model.recommend(1, n=3))


# ------------------------------------------------------ popularity baseline
def test_popularity_ranks_by_number_of_ratings():
    X = [["u1", "a"], ["u2", "a"], ["u3", "a"], ["u1", "b"], ["u2", "b"], ["u3", "c"]]
    y = [1, 1, 1, 5, 5, 4]
    model = PopularityRecommender().fit(X, y)
    assert model.recommend("new", n=3).tolist() == ["a", "b", "c"]
    assert model.recommend("u1", n=3).tolist() == ["c"]  # a and b were rated
    np.testing.assert_array_equal(model.popularity_, [3, 2, 1])
    liked = PopularityRecommender(min_rating=4).fit(X, y)
    assert liked.recommend("new", n=3).tolist() == ["b", "c", "a"]
    # weights count as repeated ratings
    weighted = PopularityRecommender().fit(X, y, sample_weight=[1, 1, 1, 1, 1, 5])
    assert weighted.recommend("new", n=3).tolist() == ["c", "a", "b"]


def test_popularity_predicts_damped_item_means():
    X = [["u1", "a"], ["u2", "a"], ["u1", "b"]]
    y = [5.0, 3.0, 1.0]
    model = PopularityRecommender(damping=1.0).fit(X, y)
    mean = 3.0
    assert model.global_mean_ == mean
    expected = [(8 + mean) / 3, (1 + mean) / 2, mean]
    np.testing.assert_allclose(model.predict([["u9", "a"], ["u1", "b"], ["u1", "zz"]]),
                               expected)
    plain = PopularityRecommender(damping=0).fit(X, y)
    np.testing.assert_allclose(plain.predict([["x", "a"], ["x", "b"]]), [4.0, 1.0])


def test_popularity_pickles_and_refuses_use_before_fit(ratings):
    X, y = ratings
    with pytest.raises(NotFittedError):
        PopularityRecommender().recommend(1)
    with pytest.raises(NotFittedError):
        PopularityRecommender().predict(X)
    model = PopularityRecommender(min_rating=4).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.recommend(list(X.user[:5]), n=4),
                                  model.recommend(list(X.user[:5]), n=4))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert again.n_items_ == X.item.nunique() and again.n_users_ == X.user.nunique()


def test_popularity_parameters_are_validated_in_fit(ratings):
    X, y = ratings
    from sklearn.utils._param_validation import InvalidParameterError

    for params in ({"damping": -1}, {"damping": True}, {"min_rating": "4"}):
        with pytest.raises(InvalidParameterError):
            PopularityRecommender(**params).fit(X, y)


@parametrize_with_checks(
    [PopularityRecommender()],
    expected_failed_checks=lambda est: {
        "check_estimators_nan_inf":
            "a NaN id at predict time is a missing id and gets the cold-start fallback",
    })
def test_popularity_is_a_scikit_learn_estimator(estimator, check):
    check(estimator)
