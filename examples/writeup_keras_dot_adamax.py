"""
Collaborative filtering in Keras: a dot product trained with Adamax
===================================================================

The write-up "Collaborative filtering in Keras" built the smallest embedding
recommender there is: two ``Embedding`` layers, a ``Dot`` of their outputs,
squared error and the Adamax optimizer, with no biases. This script fits that
graph as :class:`~skembrec.FunkMF` with ``optimizer="adamax", biased=False``
(20 factors, as in the project's reproduction of the write-up), beside the
default biased ``FunkMF()`` and a global-mean baseline, on MovieLens-1M
(users 1-2999) when it is found, else on synthetic ratings of that size.

Each model is scored twice with the same number of test ratings: on a random
10% of the ratings, and on each user's most recent 10%
(:class:`~skembrec.model_selection.TemporalProbeSplit`), the Netflix Prize
protocol. The project's plain-Keras reproduction of the write-up (dense Adamax
updates of both tables, ``model.fit``, 30 epochs) scored RMSE 0.957 on the
random split of this subset (``benchmarks/bench_time_to_accuracy.py``).

Run ``python examples/writeup_keras_dot_adamax.py --quick`` for a fast smoke run.
"""

import argparse

from sklearn.dummy import DummyRegressor
from sklearn.model_selection import ShuffleSplit, cross_validate

from skembrec import FunkMF
from skembrec.datasets import find_dataset, load_movielens, make_ratings
from skembrec.model_selection import TemporalProbeSplit

REFERENCE = {"random 90/10": "0.957 (plain Keras)"}


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
    epochs = {"n_epochs": 2} if quick else {}
    models = {
        "dot, Adamax, no biases": FunkMF(n_factors=20, optimizer="adamax", biased=False,
                                         random_state=0, **epochs),
        "FunkMF() (biased, Adagrad)": FunkMF(random_state=0, **epochs),
        "global mean": DummyRegressor(),
    }
    probe = TemporalProbeSplit(n_probe=0.1, time_column="timestamp")
    n_test = next(probe.split(X))[1].size
    protocols = {
        # the same number of test ratings, so only *which* ratings differ
        "random 90/10": ShuffleSplit(n_splits=1, test_size=n_test, random_state=7),
        "temporal probe": probe,
    }
    print(f"{source}: {len(y):,} ratings, {n_test:,} test ratings per protocol")
    header = (f"{'protocol':<16}{'model':<28}{'RMSE':>8}{'MAE':>8}{'seconds':>9}"
              f"  reference RMSE")
    print(header)
    print("-" * len(header))
    for protocol, cv in protocols.items():
        for name, model in models.items():
            scores = cross_validate(model, X, y, cv=cv, scoring={
                "rmse": "neg_root_mean_squared_error", "mae": "neg_mean_absolute_error"})
            seconds = scores["fit_time"][0] + scores["score_time"][0]
            reference = REFERENCE.get(protocol, "") if name.startswith("dot") else ""
            print(f"{protocol:<16}{name:<28}{-scores['test_rmse'][0]:>8.4f}"
                  f"{-scores['test_mae'][0]:>8.4f}{seconds:>9.1f}  {reference}")
    print("(seconds: fit and scoring; the first fit includes TensorFlow's start-up)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    main(quick=parser.parse_args().quick)
