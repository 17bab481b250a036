"""
Side features, cold start and fold-in
=====================================

The MovieLens write-up chose a neural model because matrix factorisation
"doesn't allow for the addition of extra information" (genre, viewer
profession), and then never added any. Here every skembrec model takes it:
``user_features`` and ``item_features`` name columns of ``X``. On
MovieLens-100K (or synthetic ratings driven by genres when it is absent)
this script compares :class:`~skembrec.FunkMF` with and without the users'
age, gender and occupation and the films' genres on three protocols: a
random split (warm), every rating of 15% of the items held out (cold items,
:class:`~skembrec.model_selection.ItemHoldoutSplit`) and of 15% of the users
(cold users, :class:`~skembrec.model_selection.ColdUserSplit`). Then it folds
new users in from their first ratings (``fold_in``) and compares that with
the cold fallback and a full refit.

Run ``python examples/side_features.py --quick`` for a fast smoke run.
"""

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import ShuffleSplit

from skembrec import FunkMF
from skembrec.datasets import find_dataset, load_movielens
from skembrec.model_selection import ColdUserSplit, ItemHoldoutSplit

USER = ["age", "gender", "occupation"]
ITEM = ["genres"]


def synthetic(n_users=900, n_items=1600, n_ratings=100_000, seed=0):
    """Ratings that depend on the items' genres and the users' attributes."""
    rng = np.random.default_rng(seed)
    genres = np.array(["Action", "Comedy", "Drama", "Horror", "Romance"])
    taste = rng.normal(0, 0.5, (4, len(genres)))  # per occupation
    item_genres = [rng.choice(len(genres), rng.integers(1, 3), replace=False)
                   for _ in range(n_items)]
    occupation = rng.integers(0, 4, n_users)
    age = rng.integers(18, 70, n_users)
    users, items = rng.integers(0, n_users, n_ratings), rng.integers(0, n_items, n_ratings)
    y = 3.5 + np.array([taste[occupation[u], item_genres[i]].mean()
                        for u, i in zip(users, items)]) + rng.normal(0, 0.8, n_ratings)
    X = pd.DataFrame({
        "user": users, "item": items, "age": age[users].astype(float),
        "gender": np.where(users % 2, "M", "F"),
        "occupation": np.array(["artist", "doctor", "student", "writer"])[occupation[users]],
        "genres": ["|".join(genres[item_genres[i]]) for i in items]})
    return X, pd.Series(np.clip(np.round(y), 1, 5), name="rating")


def rmse_of(model, X, y, train, test):
    model.fit(X.iloc[train], y.iloc[train])
    return root_mean_squared_error(y.iloc[test], model.predict(X.iloc[test]))


def main(quick=False):
    if find_dataset("ml-100k") is not None:
        bunch = load_movielens("ml-100k", side_features=USER + ITEM)
        X, y = bunch.data, bunch.target.astype(float)
        source = "MovieLens-100K"
    else:
        X, y = synthetic()
        source = "synthetic ratings"
    if quick:
        keep = X["user"].isin(X["user"].unique()[:200])
        X, y = X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)
    settings = {"random_state": 0, **({"n_epochs": 3} if quick else {})}
    plain = FunkMF(**settings)
    featured = FunkMF(user_features=USER, item_features=ITEM, **settings)
    protocols = {
        "warm (random 10%)": ShuffleSplit(1, test_size=0.1, random_state=0),
        "cold items (15%)": ItemHoldoutSplit(0.15, random_state=0),
        "cold users (15%)": ColdUserSplit(0.15, random_state=0),
    }
    print(f"{source}: {len(y):,} ratings; test RMSE of FunkMF")
    print(f"{'protocol':<20}{'without':>9}{'with features':>15}")
    for name, cv in protocols.items():
        train, test = next(cv.split(X, y))
        print(f"{name:<20}{rmse_of(plain, X, y, train, test):>9.4f}"
              f"{rmse_of(featured, X, y, train, test):>15.4f}")

    # new users: fold in the earliest half of their ratings, predict the rest
    cv = ColdUserSplit(0.1, n_fold_in=0.5, time_column="timestamp" if "timestamp" in X
                       else None, random_state=0)
    train, fold_in, test = next(cv.split_fold_in(X, y))
    model = FunkMF(user_features=USER, item_features=ITEM, **settings)
    model.fit(X.iloc[train], y.iloc[train])
    cold = root_mean_squared_error(y.iloc[test], model.predict(X.iloc[test]))
    start = time.perf_counter()
    model.fold_in(X.iloc[fold_in], y.iloc[fold_in])
    fold_s = time.perf_counter() - start
    folded = root_mean_squared_error(y.iloc[test], model.predict(X.iloc[test]))
    start = time.perf_counter()
    both = np.concatenate([train, fold_in])
    refit = rmse_of(FunkMF(user_features=USER, item_features=ITEM, **settings),
                    X, y, both, test)
    refit_s = time.perf_counter() - start
    print(f"\nnew users: cold (features only) RMSE {cold:.4f}, fold-in {folded:.4f} "
          f"({fold_s:.2f} s), refit {refit:.4f} ({refit_s:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    main(quick=parser.parse_args().quick)
