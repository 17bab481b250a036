"""``recommend`` as a user runs it: after fit, one user and every user (issue 33).

Each estimator is fitted with its defaults on the MovieLens-1M subset (users
1-2999, the reference random split's training part) in a fresh process,
then, in that order:

* the first one-user call after fit (what a user waits for first),
* the median of 19 one-user calls (19 other users),
* the first call for all 2,999 users, then the median of ``--repeats``,
* all users with ``items=`` (a random half of the catalogue) and
  ``exclude_items=`` (100 other items), median of ``--repeats``.

The anchor runs in the same benchmark, in its own process: implicit's ALS
(64 factors, 15 iterations, on the ratings >= 4) and its batched
``recommend`` of the same users (``filter_already_liked_items``), and with
``items=``/``filter_items=`` for the filtered run. ``--short-fit`` trains
fewer epochs (the tables keep their shapes, so recommend costs the same):
BayesianMF keeps its 60 draws.

Usage::

    python benchmarks/bench_recommend.py [--repeats 3] [--short-fit] [--models FunkMF,...]
"""

import argparse
import json
import sys
import time

import _common as C
import numpy as np

MODELS = ("FunkMF", "ImplicitMF", "EASE", "BayesianMF", "AutoRec", "EmbeddingRegressor",
          "EmbeddingClassifier")
SHORT_FIT = {"FunkMF": {"n_epochs": 2}, "ImplicitMF": {"n_epochs": 2},
             "BayesianMF": {"n_epochs": 62, "n_burn_in": 2},
             "AutoRec": {"n_epochs": 2}, "EmbeddingRegressor": {"n_epochs": 2},
             "EmbeddingClassifier": {"n_epochs": 2}}


def data():
    loaded = C.load_ratings("ml-1m-subset")
    if loaded is None:
        from skembrec.datasets import make_ratings

        X, y = make_ratings(3000, 3700, 800_000, random_state=0, return_X_y=True)
        loaded = (np.asarray(X)[:, :2], np.asarray(y))
    X, y = loaded
    train, _ = C.reference_split(len(y))
    return X[train], y[train]


def filters(items, seed=0):
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(items)
    return shuffled[:len(items) // 2], shuffled[len(items) // 2:len(items) // 2 + 100]


def timed(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return C.median(times)


def worker(payload):
    X, y = data()
    users = np.unique(X[:, 0])
    repeats = payload["repeats"]
    if payload["model"] == "implicit":
        return implicit_worker(X, y, users, repeats)
    import skembrec

    params = SHORT_FIT.get(payload["model"], {}) if payload["short_fit"] else {}
    cls = getattr(skembrec, payload["model"])
    if "random_state" in cls().get_params():  # EASE is solved: it has none
        params = {"random_state": 0, **params}
    model = cls(**params)
    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    model.recommend(users[0], n=10)
    first_one = time.perf_counter() - start
    one = []
    for user in users[1:20]:
        start = time.perf_counter()
        model.recommend(user, n=10)
        one.append(time.perf_counter() - start)
    start = time.perf_counter()
    batched = model.recommend(users, n=10)
    first_all = time.perf_counter() - start
    warm_all = timed(lambda: model.recommend(users, n=10), repeats)
    whitelist, blacklist = filters(model.item_ids_)
    filtered_s = timed(lambda: model.recommend(users, n=10, items=whitelist,
                                               exclude_items=blacklist), repeats)
    # the batched rows are the one-user lists
    same = all(np.array_equal(batched[i], model.recommend(users[i], n=10))
               for i in range(0, len(users), 97))
    return {"model": f"{payload['model']}()", "fit s": fit_s, "first one-user ms": 1e3 * first_one,
            "one-user median ms": 1e3 * C.median(one), "first all users s": first_all,
            "all users s": warm_all, "filtered all users s": filtered_s,
            "rows = one-user calls": same}


def implicit_worker(X, y, users, repeats):
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares

    user_ids, user_codes = np.unique(X[:, 0], return_inverse=True)
    item_ids, item_codes = np.unique(X[:, 1], return_inverse=True)
    liked = y >= 4
    matrix = sp.csr_matrix((np.ones(int(liked.sum()), np.float32),
                            (user_codes[liked], item_codes[liked])),
                           shape=(len(user_ids), len(item_ids)))
    seen = sp.csr_matrix((np.ones(len(y), np.float32), (user_codes, item_codes)),
                         shape=matrix.shape)
    model = AlternatingLeastSquares(factors=64, iterations=15, random_state=0)
    start = time.perf_counter()
    model.fit(matrix, show_progress=False)
    fit_s = time.perf_counter() - start
    codes = np.searchsorted(user_ids, users)
    start = time.perf_counter()
    model.recommend(codes[:1], seen[codes[:1]], N=10)
    first_one = time.perf_counter() - start
    one = []
    for code in codes[1:20]:
        start = time.perf_counter()
        model.recommend(code, seen[code], N=10)
        one.append(time.perf_counter() - start)
    start = time.perf_counter()
    model.recommend(codes, seen[codes], N=10)
    first_all = time.perf_counter() - start
    warm_all = timed(lambda: model.recommend(codes, seen[codes], N=10), repeats)
    whitelist, blacklist = filters(np.arange(len(item_ids)))
    # implicit takes a whitelist or a blacklist, not both: the whitelist
    # less the blacklist
    allowed = np.setdiff1d(whitelist, blacklist)
    filtered_s = timed(lambda: model.recommend(codes, seen[codes], N=10, items=allowed),
                       repeats)
    return {"model": "implicit ALS (64)", "fit s": fit_s, "first one-user ms": 1e3 * first_one,
            "one-user median ms": 1e3 * C.median(one), "first all users s": first_all,
            "all users s": warm_all, "filtered all users s": filtered_s,
            "rows = one-user calls": None}


COLUMNS = [("model", "model", ""), ("fit s", "fit s", ".1f"),
           ("first one-user ms", "first one-user ms", ".1f"),
           ("one-user median ms", "one-user median ms", ".2f"),
           ("first all users s", "first all users s", ".3f"),
           ("all users s", "all users s", ".3f"),
           ("filtered all users s", "filtered all s", ".3f"),
           ("vs implicit", "vs implicit", ".1f"),
           ("rows = one-user calls", "rows = one-user", "")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--short-fit", action="store_true")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), default=float))
        return
    rows = []
    for name in ["implicit", *args.models.split(",")]:
        rows.append(C.run_worker(__file__, {"model": name, "repeats": args.repeats,
                                            "short_fit": args.short_fit}))
        print(rows[-1], file=sys.stderr)
    anchor = rows[0]["all users s"]
    for row in rows:
        row["vs implicit"] = row["all users s"] / anchor
    C.print_table(rows, COLUMNS)
    C.write_results("recommend", {"benchmark": "recommend", "machine": C.machine_info(),
                                  "repeats": args.repeats, "short_fit": args.short_fit,
                                  "rows": rows}, args.output)


if __name__ == "__main__":
    main()
