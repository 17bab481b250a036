"""
Quickstart: three embedding recommenders on real ratings
========================================================

Fits :class:`~skembrec.FunkMF`, :class:`~skembrec.EmbeddingRegressor` and
:class:`~skembrec.EmbeddingClassifier` on MovieLens-100K when it is found
(``SKEMBREC_DATA`` or ``../shared/datasets`` beside the checkout), otherwise on
the synthetic :func:`~skembrec.datasets.make_ratings` data, and prints their
test RMSE, MAE and accuracy beside a global-mean baseline.

Run ``python examples/quickstart.py --quick`` for a fast smoke run.
"""

import argparse
import time

import numpy as np
from sklearn.metrics import accuracy_score, mean_absolute_error, root_mean_squared_error

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec.datasets import find_dataset, load_movielens, make_ratings


def load_data(quick):
    """MovieLens-100K when present, else synthetic ratings of the same size."""
    if find_dataset("ml-100k") is not None:
        X, y = load_movielens("ml-100k", return_X_y=True)
        source = "MovieLens-100K"
    else:
        X, y = make_ratings(n_users=943, n_items=1682, n_ratings=100_000,
                            random_state=0, return_X_y=True)
        source = "make_ratings (synthetic; MovieLens-100K not found)"
    if quick:
        X, y = X.iloc[:20_000], y.iloc[:20_000]
    return X, y.astype(float), source


def main(quick=False):
    X, y, source = load_data(quick)
    # the random 90/10 split of the project's reference measurements
    order = np.random.default_rng(7).permutation(len(y))
    test, train = order[: len(y) // 10], order[len(y) // 10:]
    X_train, y_train = X.iloc[train], y.iloc[train]
    X_test, y_test = X.iloc[test], y.iloc[test]
    print(f"data: {source}: {len(y_train):,} training and {len(y_test):,} test ratings")

    epochs = {"n_epochs": 2} if quick else {}
    models = {
        "global mean (baseline)": None,
        "FunkMF": FunkMF(random_state=0, **epochs),
        "EmbeddingRegressor": EmbeddingRegressor(random_state=0, **epochs),
        "EmbeddingClassifier": EmbeddingClassifier(random_state=0, **epochs),
    }
    header = f"{'model':<24}{'RMSE':>8}{'MAE':>8}{'accuracy':>10}{'fit s':>8}"
    print(header)
    print("-" * len(header))
    for name, model in models.items():
        start = time.perf_counter()
        if model is None:
            pred = np.full(len(y_test), y_train.mean())
        else:
            pred = model.fit(X_train, y_train).predict(X_test)
        seconds = time.perf_counter() - start
        accuracy = accuracy_score(y_test, np.clip(np.round(pred), y.min(), y.max()))
        print(
            f"{name:<24}{root_mean_squared_error(y_test, pred):>8.4f}"
            f"{mean_absolute_error(y_test, pred):>8.4f}{accuracy:>10.3f}{seconds:>8.2f}"
        )
    print("(accuracy: share of test ratings whose rounded prediction is exact;"
          " fit s includes TensorFlow's one-time start-up for the first model)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    main(quick=parser.parse_args().quick)
