"""Top-N ranking quality of skembrec's estimators against popularity and implicit.

The protocol of issue 17, on MovieLens-1M users 1-2999 and on MovieLens-100K:

* ``TemporalProbeSplit(n_probe=0.1, time_column=2)``: each user's latest 10%
  of ratings (rounded up) is held out;
* the relevant items of a user are the held-out ones rated 4 or more;
* every item a user did not rate in training is ranked
  (``recommend(users, n=10, exclude_seen=True)``), users without a relevant
  item are skipped;
* scored with :func:`skembrec.metrics.make_ranking_scorer` (NDCG@10,
  recall@10, MAP@10), with the catalogue coverage and the popularity bias of
  the lists (:func:`skembrec.metrics.catalogue_coverage`,
  :func:`skembrec.metrics.popularity_bias`) beside them.

Models: ``PopularityRecommender()`` (and with ``min_rating=4``), ``FunkMF()``,
``EmbeddingRegressor()``, ``EmbeddingClassifier()`` with their defaults, and
implicit's ``AlternatingLeastSquares`` (64 factors, on ratings >= 4 and on
all ratings as implicit) and ``BayesianPersonalizedRanking`` (64 factors, on
ratings >= 4), wrapped so that the same scorer ranks them (the rated items
filtered as for skembrec). implicit is optional (``pip install -e
".[bench]"``); without it its rows are reported as unavailable.

Every model is fitted once with ``random_state=0`` in one process;
TensorFlow is started beforehand, graph tracing is part of each fit. The
table also times ``recommend`` for every test user in one batched call.

Usage::

    python benchmarks/bench_ranking.py                  # both datasets (~2 min)
    python benchmarks/bench_ranking.py --datasets ml-100k
    python benchmarks/bench_ranking.py --quick          # synthetic smoke test, writes nothing

Writes ``benchmarks/results/ranking.json`` (not with ``--quick`` unless
``--output`` is given).
"""

import argparse
import os

import _common as C
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SEED = 0
K = 10
RELEVANT = 4
N_PROBE = 0.1

TABLE_KEYS = ("ndcg", "vs_popularity", "recall", "map", "coverage", "popularity_bias",
              "fit_s", "recommend_s")

# (row label, library, class name, parameters)
MODELS = [
    ("most popular", "skembrec", "PopularityRecommender", {}),
    ("most popular, ratings >= 4", "skembrec", "PopularityRecommender", {"min_rating": 4}),
    ("FunkMF()", "skembrec", "FunkMF", {}),
    ("EmbeddingRegressor()", "skembrec", "EmbeddingRegressor", {}),
    ("EmbeddingClassifier()", "skembrec", "EmbeddingClassifier", {}),
    ("ImplicitMF()", "skembrec", "ImplicitMF", {}),
    ("ImplicitMF(relevance_threshold=4)", "skembrec", "ImplicitMF", {"relevance_threshold": 4}),
    ("implicit ALS, ratings >= 4", "implicit", "als", {"factors": 64, "min_rating": 4}),
    ("implicit ALS, all ratings", "implicit", "als", {"factors": 64}),
    ("implicit BPR, ratings >= 4", "implicit", "bpr", {"factors": 64, "min_rating": 4}),
]


class ImplicitRecommender:
    """implicit's ALS or BPR behind skembrec's ``fit(X, y)`` / ``recommend``.

    Trained on the binary matrix of the ratings ``>= min_rating`` (all when
    None); ``recommend`` filters every item the user rated in training, as
    skembrec's ``exclude_seen`` does.
    """

    def __init__(self, kind, *, min_rating=None, factors=64, random_state=0):
        self.kind = kind
        self.min_rating = min_rating
        self.factors = factors
        self.random_state = random_state

    def fit(self, X, y):
        import pandas as pd
        import scipy.sparse as sp
        from implicit.als import AlternatingLeastSquares
        from implicit.bpr import BayesianPersonalizedRanking
        from threadpoolctl import threadpool_limits

        users, user_ids = pd.factorize(X[:, 0])
        items, item_ids = pd.factorize(X[:, 1])
        self.user_ids_, self.item_ids_ = pd.Index(user_ids), pd.Index(item_ids)
        shape = (len(self.user_ids_), len(self.item_ids_))
        self._seen = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)),
                                   shape=shape)
        keep = np.ones(len(y), bool) if self.min_rating is None else y >= self.min_rating
        train = sp.csr_matrix((np.ones(int(keep.sum()), np.float32),
                               (users[keep], items[keep])), shape=shape)
        cls = AlternatingLeastSquares if self.kind == "als" else BayesianPersonalizedRanking
        # implicit runs its own threads and asks for a single-threaded BLAS
        with threadpool_limits(1, "blas"):
            self.model_ = cls(factors=self.factors, random_state=self.random_state)
            self.model_.fit(train, show_progress=False)
        return self

    def recommend(self, users, n=10, *, exclude_seen=True):
        codes = self.user_ids_.get_indexer(np.asarray(users))
        if (codes < 0).any():
            raise ValueError("the implicit wrapper has no cold start")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            ids, _ = self.model_.recommend(codes, self._seen[codes], N=n,
                                           filter_already_liked_items=exclude_seen)
        items = np.asarray(self.item_ids_)[np.maximum(ids, 0)]
        return np.ma.MaskedArray(items, mask=ids < 0)


def make_model(library, name, params, quick):
    if library == "implicit":
        return ImplicitRecommender(name, random_state=SEED, **params)
    import skembrec

    cls = getattr(skembrec, name)
    if name != "PopularityRecommender":
        params = {"random_state": SEED, **params}
        if quick:
            params["n_epochs"] = 2
    return cls(**params)


def available(library):
    if library != "implicit":
        return True
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


def load(dataset, quick):
    """``(X, y)``: X holds user, item, timestamp as int64."""
    if quick:
        from skembrec.datasets import make_ratings

        X, y = make_ratings(n_users=300, n_items=200, n_ratings=12_000,
                            random_state=SEED, return_X_y=True, as_frame=False)
        return np.asarray(X, dtype=np.int64), np.asarray(y, dtype=np.float64), "synthetic"
    path = C.locate(dataset)
    if path is None:
        return None
    from skembrec.datasets import load_movielens

    X, y = load_movielens(path, return_X_y=True, as_frame=False)
    return np.asarray(X, dtype=np.int64), np.asarray(y, dtype=np.float64), str(path)


def evaluate(model, X_train, X_test, y_test):
    from skembrec.metrics import catalogue_coverage, make_ranking_scorer, popularity_bias

    row = {}
    for metric in ("ndcg", "recall", "map"):
        scorer = make_ranking_scorer(metric, k=K, relevance_threshold=RELEVANT)
        row[metric] = scorer(model, X_test, y_test)
    users = np.unique(X_test[:, 0])
    with C.Timer() as t:
        lists = model.recommend(users, n=K, exclude_seen=True)
    row["recommend_s"] = t.seconds
    row["n_test_users"] = len(users)
    rows = [np.ma.compressed(r) for r in lists]
    row["coverage"] = catalogue_coverage(rows, len(np.unique(X_train[:, 1])))
    row["popularity_bias"] = popularity_bias(rows, X_train[:, 1])
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-1m-subset", "ml-100k"],
                        choices=list(C.DATASETS))
    labels = [m[0] for m in MODELS]
    parser.add_argument("--models", nargs="+", default=labels, choices=labels)
    parser.add_argument("--quick", action="store_true",
                        help="synthetic data, 2 epochs: a smoke test (writes nothing)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    from skembrec import FunkMF
    from skembrec.model_selection import TemporalProbeSplit

    # start TensorFlow before timing anything
    FunkMF(n_factors=2, n_epochs=1).fit(np.array([[0, 0], [1, 1]]), [1.0, 2.0])

    result = {"benchmark": "ranking", "machine": C.machine_info(),
              "config": {"quick": args.quick, "k": K, "relevance_threshold": RELEVANT,
                         "split": f"TemporalProbeSplit(n_probe={N_PROBE}, time_column=2)",
                         "random_state": SEED, "models": [
                             {"model": label, "library": lib, "estimator": name,
                              "params": params} for label, lib, name, params in MODELS
                             if label in args.models]},
              "datasets": {}, "runs": []}
    try:
        import implicit

        result["machine"]["implicit"] = implicit.__version__
    except ImportError:
        result["machine"]["implicit"] = None
    datasets = ["synthetic"] if args.quick else args.datasets
    for dataset in datasets:
        data = load(dataset, args.quick)
        if data is None:
            print(f"{dataset}: not found (SKEMBREC_DATA or ../shared/datasets); skipped")
            continue
        X, y, source = data
        train, test = next(TemporalProbeSplit(n_probe=N_PROBE, time_column=2).split(X))
        X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
        result["datasets"][dataset] = {
            "file": source, "n_ratings": len(y), "n_train": len(train), "n_test": len(test),
            "n_relevant_test": int((y_test >= RELEVANT).sum())}
        rows = []
        for label, library, name, params in MODELS:
            if label not in args.models:
                continue
            row = {"dataset": dataset, "model": label}
            if not available(library):
                row["status"] = f"unavailable ({library} is not installed)"
                rows.append(row)
                continue
            model = make_model(library, name, params, args.quick)
            with C.Timer() as t:
                model.fit(X_train, y_train)
            row["fit_s"] = t.seconds
            row.update(evaluate(model, X_train, X_test, y_test))
            row["status"] = "run"
            rows.append(row)
            print(f"  {dataset} {label}: ndcg@{K} {row['ndcg']:.4f} ({row['fit_s']:.1f} s)",
                  flush=True)
        popular = next((r for r in rows if r["model"] == "most popular" and "ndcg" in r),
                       None)
        for row in rows:
            if popular and "ndcg" in row:
                row["vs_popularity"] = row["ndcg"] / popular["ndcg"]
        result["runs"].extend(rows)
        # one table per dataset, one row per model (what the docs render)
        result[dataset] = {
            row["model"]: {key: row.get(key) for key in TABLE_KEYS}
            for row in rows if row["status"] == "run"}
        note = " [--quick: not real figures]" if args.quick else ""
        C.print_table(rows, [
            ("model", "model", ""), ("ndcg", f"NDCG@{K}", ".4f"),
            ("vs_popularity", "vs popularity", ".2f"), ("recall", f"recall@{K}", ".4f"),
            ("map", f"MAP@{K}", ".4f"), ("coverage", "coverage", ".3f"),
            ("popularity_bias", "pop. bias", ".2f"), ("fit_s", "fit s", ".2f"),
            ("recommend_s", "recommend s", ".2f")],
            title=f"{dataset}: top-{K} of every unrated item, relevant = held out "
                  f"and rated >= {RELEVANT}{note}")
    if args.quick and not args.output:
        print("\n--quick: no JSON written (pass --output to keep it)")
        return result
    C.write_results("ranking", result, args.output)
    return result


if __name__ == "__main__":
    main()
