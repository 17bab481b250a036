"""
Deep learning for the Netflix Prize: concatenated embeddings
============================================================

The write-up "Deep learning solution for netflix prize" (2016) concatenated a
60-d movie embedding and a 20-d user embedding and fed them to three dense
layers of 64 sigmoid units, trained on squared error. It reported RMSE 0.837
on a validation set drawn at random from the training ratings, then 0.9357 on
the real probe set, which holds each user's most recent ratings: a random
split lets the model learn a user's taste from ratings made after the ones
it is judged on.

The Netflix Prize ratings are not available here, so this script fits the same
graph, :class:`~skembrec.EmbeddingRegressor` with ``user_factors=20,
item_factors=60``, on MovieLens-1M (users 1-2999; synthetic ratings of that
size when absent) and on Netflix-shaped synthetic ratings from
:func:`~skembrec.datasets.make_ratings`. Each is scored on a random 10% of the
ratings and on each user's most recent 10%
(:class:`~skembrec.model_selection.TemporalProbeSplit`), with the same number
of test ratings, beside a global-mean baseline. Training uses the package's
defaults (Adam, 15 epochs) rather than the write-up's Adadelta for 42 epochs.
``make_ratings`` plants only a mild drift of each user's ratings over time, so
on its ratings the two protocols may score alike.

Run ``python examples/writeup_netflix_concat.py --quick`` for a fast smoke run.
"""

import argparse

from sklearn.dummy import DummyRegressor
from sklearn.model_selection import ShuffleSplit, cross_validate

from skembrec import EmbeddingRegressor
from skembrec.datasets import find_dataset, load_movielens, make_ratings
from skembrec.model_selection import TemporalProbeSplit

# the write-up's figures, on the Netflix Prize data
PUBLISHED = {"random 90/10": "0.837 (Netflix)", "temporal probe": "0.9357 (Netflix probe)"}


def datasets(quick):
    """(name, X, y) of MovieLens-1M and of Netflix-shaped synthetic ratings."""
    if find_dataset("ml-1m") is not None:
        X, y = load_movielens("ml-1m", return_X_y=True)
        yield f"MovieLens-1M ({X['user'].nunique():,} users)", X, y
    else:
        print("note: MovieLens-1M not found; using make_ratings of the same size")
        yield "make_ratings, MovieLens-1M-sized", *make_ratings(
            n_users=2999, n_items=3615, n_ratings=487_650, random_state=1, return_X_y=True)
    # Netflix: 480,189 users, 17,770 movies, 100M ratings; a slice of that shape
    n_users, n_items, n_ratings = (2_000, 500, 20_000) if quick else (20_000, 2_000, 1_000_000)
    yield "make_ratings, Netflix-shaped", *make_ratings(
        n_users=n_users, n_items=n_items, n_ratings=n_ratings, random_state=0, return_X_y=True)


def main(quick=False):
    models = {
        "concat 20+60 -> 3x64": EmbeddingRegressor(
            user_factors=20, item_factors=60, hidden_layer_sizes=(64, 64, 64),
            activation="sigmoid", dropout=0.0, random_state=0,
            **({"n_epochs": 2} if quick else {})),
        "global mean": DummyRegressor(),
    }
    scoring = {"rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error"}
    for source, X, y in datasets(quick):
        if quick:  # the first 20,000 ratings (MovieLens: the first users)
            X, y = X.iloc[:20_000], y.iloc[:20_000]
        y = y.astype(float)
        probe = TemporalProbeSplit(n_probe=0.1, time_column="timestamp")
        n_test = next(probe.split(X))[1].size
        protocols = {
            # the same number of test ratings, so only *which* ratings differ
            "random 90/10": ShuffleSplit(n_splits=1, test_size=n_test, random_state=7),
            "temporal probe": probe,
        }
        print(f"\n{source}: {len(y):,} ratings, {n_test:,} test ratings per protocol")
        header = f"{'protocol':<16}{'model':<22}{'RMSE':>8}{'MAE':>8}{'seconds':>9}  write-up"
        print(header)
        print("-" * (len(header) + 14))
        for protocol, cv in protocols.items():
            for name, model in models.items():
                scores = cross_validate(model, X, y, cv=cv, scoring=scoring)
                seconds = scores["fit_time"][0] + scores["score_time"][0]
                published = PUBLISHED[protocol] if name.startswith("concat") else ""
                print(f"{protocol:<16}{name:<22}{-scores['test_rmse'][0]:>8.4f}"
                      f"{-scores['test_mae'][0]:>8.4f}{seconds:>9.1f}  {published}")
    print("\n(seconds: fit and scoring; the first fit includes TensorFlow's start-up)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    main(quick=parser.parse_args().quick)
