"""
The Netflix notebook: wide embeddings, dropout and one dense layer
==================================================================

A widely copied notebook on the Netflix Prize data gave users and movies
256-d embeddings each, concatenated them, applied dropout and one dense layer
of 512 units, and reported a test mean squared error of 0.75-0.78 (RMSE about
0.87-0.88) on a random 80/20 split of the ratings.

The Netflix Prize ratings are not available here, so this script fits the same
shape, :class:`~skembrec.EmbeddingRegressor` with ``n_factors=256,
hidden_layer_sizes=(512,), dropout=0.5``, on MovieLens-1M (users 1-2999;
synthetic ratings of that size when absent). It is scored on a random 20% of
the ratings and on each user's most recent 20%
(:class:`~skembrec.model_selection.TemporalProbeSplit`, the Netflix Prize
protocol), with the same number of test ratings, beside a global-mean
baseline. MSE is printed as the notebook did, with RMSE and MAE.

Run ``python examples/writeup_netflix_notebook.py --quick`` for a fast smoke run.
"""

import argparse

from sklearn.dummy import DummyRegressor
from sklearn.model_selection import ShuffleSplit, cross_validate

from skembrec import EmbeddingRegressor
from skembrec.datasets import find_dataset, load_movielens, make_ratings
from skembrec.model_selection import TemporalProbeSplit


def load_data(quick):
    """The MovieLens-1M subset when present, else synthetic ratings of its size."""
    if find_dataset("ml-1m") is not None:
        X, y = load_movielens("ml-1m", return_X_y=True)
        source = f"MovieLens-1M ({X['user'].nunique():,} users)"
    else:
        print("note: MovieLens-1M not found; using make_ratings of the same size")
        X, y = make_ratings(n_users=2999, n_items=3615, n_ratings=487_650,
                            random_state=0, return_X_y=True)
        source = "make_ratings (synthetic)"
    if quick:  # the first users only (the file is sorted by user)
        X, y = X.iloc[:20_000], y.iloc[:20_000]
    return X, y.astype(float), source


def main(quick=False):
    X, y, source = load_data(quick)
    models = {
        "256+256 -> dropout -> 512": EmbeddingRegressor(
            n_factors=256, hidden_layer_sizes=(512,), dropout=0.5, random_state=0,
            **({"n_epochs": 2} if quick else {})),
        "global mean": DummyRegressor(),
    }
    probe = TemporalProbeSplit(n_probe=0.2, time_column="timestamp")
    n_test = next(probe.split(X))[1].size
    protocols = {
        # the same number of test ratings, so only *which* ratings differ
        "random 80/20": ShuffleSplit(n_splits=1, test_size=n_test, random_state=7),
        "temporal probe": probe,
    }
    scoring = {"mse": "neg_mean_squared_error", "rmse": "neg_root_mean_squared_error",
               "mae": "neg_mean_absolute_error"}
    print(f"{source}: {len(y):,} ratings, {n_test:,} test ratings per protocol")
    header = (f"{'protocol':<16}{'model':<27}{'MSE':>8}{'RMSE':>8}{'MAE':>8}{'seconds':>9}"
              "  write-up")
    print(header)
    print("-" * (len(header) + 16))
    for protocol, cv in protocols.items():
        for name, model in models.items():
            scores = cross_validate(model, X, y, cv=cv, scoring=scoring)
            seconds = scores["fit_time"][0] + scores["score_time"][0]
            published = "MSE 0.75-0.78 (Netflix)" if protocol.startswith("random") else ""
            print(f"{protocol:<16}{name:<27}{-scores['test_mse'][0]:>8.4f}"
                  f"{-scores['test_rmse'][0]:>8.4f}{-scores['test_mae'][0]:>8.4f}"
                  f"{seconds:>9.1f}  {published if name != 'global mean' else ''}")
    print("(seconds: fit and scoring; the first fit includes TensorFlow's start-up)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    main(quick=parser.parse_args().quick)
