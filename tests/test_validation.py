"""Bad input meets a clear scikit-learn style error from skembrec itself."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF

SMALL = dict(n_factors=4, n_epochs=2, batch_size=64, random_state=0)
ESTIMATORS = [
    FunkMF(**SMALL),
    EmbeddingRegressor(hidden_layer_sizes=(8,), **SMALL),
    EmbeddingClassifier(hidden_layer_sizes=(8,), **SMALL),
]
IDS = ["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier"]


@pytest.fixture
def Xy():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 20, 300), rng.integers(0, 15, 300),
                         rng.integers(0, 10**6, 300)])
    y = rng.integers(1, 6, 300).astype(float)
    return X, y


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda X, y: (X, np.where(np.arange(len(y)) == 3, np.nan, y)), ValueError, "NaN"),
        (lambda X, y: (X, np.where(np.arange(len(y)) == 3, np.inf, y)), ValueError, "inf|class"),
        (lambda X, y: (X[:, :1], y), ValueError, r"1 feature\(s\)"),
        (lambda X, y: (X[:, :, None], y), ValueError, "2D array"),
        (lambda X, y: (X, y[:-1]), ValueError, "300 rows but y has 299"),
        (lambda X, y: (X[:0], y[:0]), ValueError, "0 sample"),
        (lambda X, y: (np.where(np.arange(3)[None] == 0,
                                np.where(np.arange(len(y))[:, None] == 5, np.nan, X), X), y),
         ValueError, "user ids .*NaN at row 5"),
        (lambda X, y: (np.column_stack([X[:, 0], np.r_[X[:-1, 1], np.nan], X[:, 2]]), y),
         ValueError, "item ids .*NaN at row 299"),
    ],
    ids=["nan-rating", "inf-rating", "one-column", "3d", "length-mismatch", "empty",
         "nan-user", "nan-item"],
)
def test_bad_fit_input(est, make, error, match, Xy):
    X, y = make(*Xy)
    with pytest.raises(error, match=match):
        clone(est).fit(X, y)


@pytest.mark.parametrize("est", ESTIMATORS[:2], ids=IDS[:2])
def test_text_ratings_name_the_row(est, Xy):
    X, y = Xy
    y = y.astype(object)
    y[7] = "five"
    with pytest.raises(ValueError, match="row 7 holds 'five'"):
        clone(est).fit(X, y)


def test_single_class_for_the_classifier(Xy):
    X, y = Xy
    with pytest.raises(ValueError, match="1 class"):
        clone(ESTIMATORS[2]).fit(X, np.full(len(y), 4.0))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_factors": -1}, "n_factors"),
        ({"n_factors": 0}, "n_factors"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"reg": -0.1}, "reg"),
        ({"optimizer": "adamw"}, "optimizer"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ],
)
def test_bad_hyperparameters(params, match, Xy):
    with pytest.raises(ValueError, match=match):
        FunkMF(**params).fit(*Xy)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"activation": "relux"}, ValueError, "activation"),
        ({"hidden_layer_sizes": (8, -2)}, ValueError, "positive"),
        ({"hidden_layer_sizes": (8, "a")}, TypeError, "ints"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"user_factors": 0}, ValueError, "user_factors"),
    ],
)
def test_bad_dense_hyperparameters(params, error, match, Xy):
    with pytest.raises(error, match=match):
        EmbeddingRegressor(**params).fit(*Xy)


def test_bad_decision_rule(Xy):
    with pytest.raises(ValueError, match="decision"):
        EmbeddingClassifier(decision="mean").fit(*Xy)


@pytest.mark.parametrize(
    "weight, match",
    [
        (np.ones(10), r"sample_weight.shape == \(10,\)"),
        (-np.ones(300), "non-negative"),
        (np.zeros(300), "all zero"),
        (np.r_[np.ones(299), np.nan], "non-finite"),
    ],
)
def test_bad_sample_weight(weight, match, Xy):
    with pytest.raises(ValueError, match=match):
        clone(ESTIMATORS[0]).fit(*Xy, sample_weight=weight)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_predict_errors(est, Xy):
    X, y = Xy
    with pytest.raises(NotFittedError):
        clone(est).predict(X)
    fitted = clone(est).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        fitted.predict(X[:, :2])
    with pytest.raises(ValueError, match="2D array"):
        fitted.predict(X[:, 0])


def test_failed_fit_leaves_previous_model(Xy):
    X, y = Xy
    est = clone(ESTIMATORS[0]).fit(X, y)
    expected = est.predict(X)
    bad = y.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError):
        est.fit(X, bad)
    np.testing.assert_array_equal(est.predict(X), expected)
    with pytest.raises(ValueError):
        est.fit(X[:, :1], y)
    assert est.n_features_in_ == 3


def test_diverging_training_raises_and_restores(Xy):
    X, y = Xy
    est = FunkMF(n_factors=4, n_epochs=3, optimizer="sgd", learning_rate=1e30,
                 reg=0.0, batch_size=16, random_state=0)
    with pytest.raises(FloatingPointError, match="learning_rate"):
        est.fit(X, y * 1e6)
    with pytest.raises(NotFittedError):
        est.predict(X)


@pytest.mark.parametrize(
    "scale", [np.arange(1, 11) * 0.5, np.arange(1, 11), np.linspace(0, 1e6, 10)],
    ids=["half-stars", "1-10", "0-1e6"])
@pytest.mark.parametrize("est", ESTIMATORS[:2], ids=IDS[:2])
def test_any_rating_scale_gives_finite_predictions(est, scale, Xy):
    X, _ = Xy
    y = np.random.default_rng(0).choice(scale, len(X))
    pred = clone(est).fit(X, y).predict(X)
    assert np.all(np.isfinite(pred))
    assert pred.min() >= scale.min() and pred.max() <= scale.max()


def test_edge_ids_simply_work():
    big = 2**63 - 5
    X = pd.DataFrame({
        "user": np.array([big, big - 1, big - 2, big, 7], dtype=np.uint64),
        "item": np.array([1, "b", 2.5, 1, "b"], dtype=object),
    })
    y = np.array([5.0, 3.0, 4.0, 4.0, 1.0])
    est = FunkMF(n_factors=2, n_epochs=2, random_state=0).fit(X, y)
    assert big in set(est.user_ids_.tolist())
    assert set(est.item_ids_.tolist()) == {1, "b", 2.5}
    pred = est.predict(X)
    assert np.all(np.isfinite(pred))


def test_user_with_one_rating():
    X = np.array([[1, 1], [1, 2], [2, 1], [3, 3]])
    y = np.array([4.0, 3.0, 5.0, 1.0])
    pred = FunkMF(n_factors=2, n_epochs=3, random_state=0).fit(X, y).predict(X)
    assert np.all(np.isfinite(pred))


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_bad_polars_and_pyarrow_input_meets_the_same_errors(library, Xy):
    # the frames and series of other libraries are read, not turned into
    # objects, and meet the messages pandas input meets
    X, y = Xy
    frame = pd.DataFrame(X, columns=["user", "item", "t"])
    bad_y = np.where(np.arange(len(y)) == 3, np.nan, y)
    if library == "polars":
        pl = pytest.importorskip("polars")
        data, ratings = pl.from_pandas(frame), pl.Series("rating", bad_y)
        missing_user = pl.from_pandas(frame.astype({"user": float}).assign(
            user=lambda f: f.user.where(np.arange(len(f)) != 5)))
    else:
        pa = pytest.importorskip("pyarrow")
        data, ratings = pa.Table.from_pandas(frame), pa.chunked_array([bad_y])
        missing_user = pa.Table.from_pandas(frame.astype({"user": float}).assign(
            user=lambda f: f.user.where(np.arange(len(f)) != 5)))
    model = FunkMF(**SMALL)
    with pytest.raises(ValueError, match="NaN at row 3"):
        model.fit(data, ratings)
    with pytest.raises(ValueError, match="user ids .*NaN at row 5"):
        model.fit(missing_user, y)
    with pytest.raises(ValueError, match="time_column='when' is not a column of X; X has "
                                         r"columns \['user', 'item', 't'\]"):
        FunkMF(time_column="when", **SMALL).fit(data, y)
