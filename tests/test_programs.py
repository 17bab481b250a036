"""Fits of one graph signature share their compiled functions (issue 18).

A second fit, a clone in a search or a refit on another fold runs the
traces of the first instead of tracing its own; the results are those of a
fit that traced afresh, bit for bit, and no fit sees another's values.
"""

import threading

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF, ImplicitMF
from skembrec._engine import programs as _programs
from skembrec.datasets import make_ratings


@pytest.fixture(scope="module")
def two_tables():
    """Two rating tables with different numbers of users and items."""
    a = make_ratings(n_users=80, n_items=50, n_ratings=1500, random_state=3, return_X_y=True)
    b = make_ratings(n_users=95, n_items=42, n_ratings=1700, random_state=4, return_X_y=True)
    return a, b


def _traces():
    return sum(_programs.TRACES.values())


def _weights(model):
    return [w.numpy() for w in model.model_.variables]


def test_later_fits_of_a_signature_trace_nothing(two_tables):
    (Xa, ya), (Xb, yb) = two_tables
    _programs.clear()
    start = _traces()
    FunkMF(n_epochs=1, random_state=0).fit(Xa, ya).predict(Xa[:5])
    first = _traces() - start
    assert first == 2  # the epoch and the prediction function
    # the traces leave table sizes and data lengths unknown: no later fit
    # of this signature traces, whatever its data, epochs, rate, reg or seed
    for X, y in ((Xb, yb), (Xa, ya), (Xa[:700], ya[:700])):
        FunkMF(n_epochs=2, learning_rate=0.02, reg=0.05, random_state=1).fit(X, y) \
            .predict(X[:7])
    assert _traces() - start == first
    # a graph setting is another signature
    FunkMF(n_epochs=1, n_factors=8).fit(Xa, ya)
    assert _traces() - start == 2 * first


@pytest.mark.parametrize("cls", [FunkMF, EmbeddingRegressor, EmbeddingClassifier, ImplicitMF])
def test_a_shared_trace_fits_what_a_fresh_trace_fits(cls, two_tables):
    (Xa, ya), (Xb, yb) = two_tables
    params = dict(n_epochs=2, random_state=0)
    if cls is EmbeddingRegressor:
        params["dropout"] = 0.2  # a seed generator's state is bound too
    # the program has run for two other table sizes first (and the graph
    # reads each fit's sizes, e.g. the range of sampled items, as it runs)
    _programs.clear()
    cls(**params).fit(Xa, ya)
    cls(**params).fit(Xb, yb)
    reused = cls(**params).fit(Xa, ya)
    _programs.clear()
    fresh = cls(**params).fit(Xa, ya)
    for a, b in zip(_weights(reused), _weights(fresh)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reused.predict(Xa), fresh.predict(Xa))


def test_fits_sharing_a_trace_keep_their_own_values(two_tables):
    (Xa, ya), (Xb, yb) = two_tables
    first = FunkMF(n_epochs=2, random_state=0).fit(Xa, ya)
    before, weights = first.predict(Xa), _weights(first)
    FunkMF(n_epochs=3, random_state=5).fit(Xb, yb).predict(Xb)
    np.testing.assert_array_equal(first.predict(Xa), before)
    for a, b in zip(_weights(first), weights):
        np.testing.assert_array_equal(a, b)
    # and a warm start of the first goes on from its own values
    resumed = first.partial_fit(Xa, ya)
    assert not np.array_equal(resumed.predict(Xa), before)


def test_fits_in_threads_share_traces_safely(two_tables):
    (Xa, ya), (Xb, yb) = two_tables
    tables = [(Xa, ya), (Xb, yb)] * 2
    expected = [FunkMF(n_epochs=2, random_state=n).fit(X, y).predict(Xa)
                for n, (X, y) in enumerate(tables)]
    _programs.clear()
    results = [None] * len(tables)

    def fit(n):
        X, y = tables[n]
        results[n] = FunkMF(n_epochs=2, random_state=n).fit(X, y).predict(Xa)

    threads = [threading.Thread(target=fit, args=(n,)) for n in range(len(tables))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_a_grid_search_traces_once_or_twice_per_architecture(two_tables):
    (Xa, ya), _ = two_tables
    _programs.clear()
    start = _traces()
    search = GridSearchCV(FunkMF(random_state=0),
                          {"n_factors": [4, 8], "n_epochs": [1, 2]}, cv=3).fit(Xa, ya)
    # 13 fits (12 and the refit, with tables of several sizes) of two
    # architectures: each architecture traces its epoch and prediction
    # functions once
    assert _traces() - start == 2 * 2
    assert np.isfinite(search.best_score_)


def test_fits_and_predictions_trace_without_autograph(two_tables, monkeypatch):
    # AutoGraph's conversion of the graphs' source cost about 1.4 s of a
    # process's first fit; the graphs are written without it
    api = pytest.importorskip("tensorflow.python.autograph.impl.api")
    converted = []
    original = api.converted_call
    monkeypatch.setattr(api, "converted_call",
                        lambda *a, **k: converted.append(a[0]) or original(*a, **k))
    (Xa, ya), _ = two_tables
    _programs.clear()
    for cls in (FunkMF, EmbeddingRegressor):
        model = cls(n_epochs=1, early_stopping=True, validation_fraction=0.2).fit(Xa, ya)
        model.predict(Xa[:5])
        model.recommend(Xa.iloc[0, 0], n=3)
    assert converted == []
