"""Fold-in of new users against the cold fallback and a full refit (issue 14).

MovieLens-1M subset (users 1-2999): 300 users drawn with
``default_rng(0)`` are held out; the earliest half of each one's ratings
(by timestamp) is folded in, the rest is predicted. Reported: the test RMSE
of the cold-start fallback (the model fitted without those users), of
``fold_in`` on the earliest halves (each estimator with its defaults), and of a full refit that
includes them; the fold-in's time (the first call in the process, tracing
included, and a second call) against the refit's; and whether every other
user's predictions stayed bit-identical.

Usage::

    python benchmarks/bench_fold_in.py
"""

import argparse
import time

import _common as C
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier"])
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    from skembrec.datasets import load_movielens

    path = C.locate("ml-1m-subset")
    if path is None:
        raise SystemExit("the MovieLens-1M subset is not found")
    X, y = load_movielens(path, return_X_y=True, as_frame=False)
    X, y = np.asarray(X), np.asarray(y, dtype=float)
    users, times = X[:, 0], X[:, 2].astype(np.int64)
    held = np.random.default_rng(0).choice(np.unique(users), 300, replace=False)
    is_held = np.isin(users, held)
    # each held-out user's ratings in time order: the earliest half is folded in
    order = np.lexsort((np.arange(len(y)), times, users))
    rank = np.empty(len(y), dtype=np.int64)
    sorted_users = users[order]
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]])
    counts = np.diff(np.r_[starts, len(y)])
    rank[order] = np.arange(len(y)) - np.repeat(starts, counts)
    size = np.repeat(counts, counts)[np.argsort(order)]
    fold = is_held & (rank < size // 2)
    test, train = is_held & ~fold, ~is_held
    ids = X[:, :2]

    import skembrec

    rows = []
    for name in args.models:
        cls = getattr(skembrec, name)
        model = cls(random_state=0).fit(ids[train], y[train])
        others = model.predict(ids[train])
        cold = C.rmse(y[test], model.predict(ids[test]))
        start = time.perf_counter()
        model.fold_in(ids[fold], y[fold])
        fold_first = time.perf_counter() - start
        folded = C.rmse(y[test], model.predict(ids[test]))
        identical = bool(np.array_equal(others, model.predict(ids[train])))
        start = time.perf_counter()
        model.fold_in(ids[fold], y[fold])  # refreshing the same users: warm
        fold_second = time.perf_counter() - start
        start = time.perf_counter()
        refit = cls(random_state=0).fit(ids[train | fold], y[train | fold])
        refit_s = time.perf_counter() - start
        refitted = C.rmse(y[test], refit.predict(ids[test]))
        row = {"cold fallback": cold, "fold-in": folded, "refit": refitted,
               "better than cold": (cold - folded) / cold,
               "vs refit": (folded - refitted) / refitted,
               "fold-in s (first)": fold_first, "fold-in s (second)": fold_second,
               "refit s": refit_s, "time share": fold_first / refit_s,
               "others identical": identical, "n_fold_in": int(fold.sum()),
               "n_test": int(test.sum())}
        for key, value in row.items():
            print(f"{key:20s} {value}")
        row["model"] = f"{name}()"
        rows.append(row)
    C.write_results("fold_in", {"benchmark": "fold_in", "machine": C.machine_info(),
                                "rows": rows}, args.output)


if __name__ == "__main__":
    main()
