"""Top-N ranking quality of skembrec's estimators against popularity and implicit.

The protocol of issues 17 and 31, on MovieLens-1M users 1-2999, MovieLens-100K
and ml-latest-small:

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
``EmbeddingRegressor()``, ``EmbeddingClassifier()`` with their defaults,
``EASE`` (defaults; ``relevance_threshold=4``; with ``time_column=2``, its
recency weighting; and "tuned": ``l2``, ``recency_half_life`` and
``recency_floor`` chosen on validation), ``ImplicitMF`` (its default
solver, each solver by name where the estimator has a ``solver``, and
``relevance_threshold=4``), and the anchors, computed independently of
skembrec: EASE in NumPy float64 on ratings >= 4 with lambda chosen on
validation ("EASE anchor"), implicit's ``AlternatingLeastSquares`` (64
factors, on ratings >= 4 and on all ratings) and
``BayesianPersonalizedRanking`` (64 factors, on ratings >= 4), wrapped so
that the same scorer ranks them (the rated items filtered as for
skembrec). implicit is optional (``pip install -e ".[bench]"``); without
it its rows are reported as unavailable.

Validation (what "tuned" and the anchor's lambda are chosen on): the same
split again inside the training part (each user's latest 10% of their
training ratings), scored by the same NDCG@10; the test part is never seen.

Held-out users (``--held-out-users``, on by default): the strong
generalisation protocol of Mult-VAE and EASE. A random 20% of the users
(``default_rng(0)``) are absent from fit; each gives the first half (by
time) of their ratings, the other half is what they are scored on
(relevant = rated >= 4, every item not in their first half ranked). The
EASE rows are fitted on the other users and
score the held-out ones from their first half via ``fold_in``; the same
model fitted with the held-out users' first halves is the reference.

Every model is fitted once with ``random_state=0`` in one process;
TensorFlow is started beforehand, graph tracing is part of each fit. The
table also times ``recommend`` for every test user in one batched call.

Usage::

    python benchmarks/bench_ranking.py                  # three datasets
    python benchmarks/bench_ranking.py --datasets ml-100k --models "EASE()"
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

TABLE_KEYS = ("ndcg", "vs_popularity", "vs_best_anchor", "recall", "map", "coverage",
              "popularity_bias", "fit_s", "recommend_s")

# (row label, library, class name, parameters)
MODELS = [
    ("most popular", "skembrec", "PopularityRecommender", {}),
    ("most popular, ratings >= 4", "skembrec", "PopularityRecommender", {"min_rating": 4}),
    ("FunkMF()", "skembrec", "FunkMF", {}),
    ("EmbeddingRegressor()", "skembrec", "EmbeddingRegressor", {}),
    ("EmbeddingClassifier()", "skembrec", "EmbeddingClassifier", {}),
    ("ImplicitMF()", "skembrec", "ImplicitMF", {}),
    ('ImplicitMF(solver="als")', "skembrec", "ImplicitMF", {"solver": "als"}),
    ('ImplicitMF(solver="sgd")', "skembrec", "ImplicitMF", {"solver": "sgd"}),
    ("ImplicitMF(relevance_threshold=4)", "skembrec", "ImplicitMF", {"relevance_threshold": 4}),
    ("EASE()", "skembrec", "EASE", {}),
    ("EASE(relevance_threshold=4)", "skembrec", "EASE", {"relevance_threshold": 4}),
    ("EASE(relevance_threshold=4, time_column=2)", "skembrec", "EASE",
     {"relevance_threshold": 4, "time_column": 2}),
    ("EASE tuned (relevance_threshold=4, time_column=2)", "skembrec", "EASE",
     {"relevance_threshold": 4, "time_column": 2, "tune": True}),
    ("EASE anchor (NumPy float64, ratings >= 4, lambda tuned)", "anchor", "ease", {}),
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


# the validation grids: the anchor's lambda; EASE's l2 and recency
ANCHOR_L2 = (50, 100, 200, 300, 500, 800, 1200)
EASE_GRID = [{"l2": l2, "recency_half_life": h, "recency_floor": f}
             for l2 in (100, 300, 600) for h, f in ((3, 0.05), (5, 0.1), (10, 0.2))]


class EaseAnchor:
    """EASE as its paper writes it, in NumPy float64 (no skembrec): binary
    interactions of ratings >= ``min_rating``, ``B = I - P / diag(P)``."""

    def __init__(self, l2=500.0, min_rating=RELEVANT):
        self.l2 = l2
        self.min_rating = min_rating

    def fit(self, X, y):
        import pandas as pd
        import scipy.sparse as sp

        users, user_ids = pd.factorize(X[:, 0])
        items, item_ids = pd.factorize(X[:, 1])
        self.user_ids_, self.item_ids_ = pd.Index(user_ids), pd.Index(item_ids)
        shape = (len(user_ids), len(item_ids))
        self._seen = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
        keep = y >= self.min_rating
        self._rows = sp.csr_matrix((np.ones(int(keep.sum())), (users[keep], items[keep])),
                                   shape=shape)
        gram = (self._rows.T @ self._rows).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        P = np.linalg.inv(gram)
        self._B = -P / np.diag(P)
        np.fill_diagonal(self._B, 0.0)
        return self

    def recommend(self, users, n=10, *, exclude_seen=True):
        codes = self.user_ids_.get_indexer(np.asarray(users))
        if (codes < 0).any():
            raise ValueError("the EASE anchor has no cold start")
        scores = np.asarray(self._rows[codes] @ self._B)
        if exclude_seen:
            seen = self._seen[codes]
            scores[np.repeat(np.arange(len(codes)), np.diff(seen.indptr)), seen.indices] = \
                -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :n]
        found = np.take_along_axis(scores, top, axis=1) > -np.inf
        return np.ma.MaskedArray(np.asarray(self.item_ids_)[top], mask=~found)


def validation_split(X_train):
    """The training part split again by the test protocol: ``(fit, validation)``."""
    from skembrec.model_selection import TemporalProbeSplit

    return next(TemporalProbeSplit(n_probe=N_PROBE, time_column=2).split(X_train))


def ndcg(model, X_test, y_test):
    from skembrec.metrics import make_ranking_scorer

    return make_ranking_scorer("ndcg", k=K, relevance_threshold=RELEVANT)(model, X_test, y_test)


def tune(make, grid, X_train, y_train):
    """The settings of ``grid`` whose model, fitted on the validation split's
    fit part, has the best validation NDCG@10, and every score."""
    fit, val = validation_split(X_train)
    scores = []
    for settings in grid:
        model = make(settings).fit(X_train[fit], y_train[fit])
        scores.append(ndcg(model, X_train[val], y_train[val]))
    best = int(np.argmax(scores))
    return grid[best], [{"settings": g, "validation_ndcg": s} for g, s in zip(grid, scores)]


def make_model(library, name, params, quick, X_train=None, y_train=None, row=None):
    if library == "implicit":
        return ImplicitRecommender(name, random_state=SEED, **params)
    if library == "anchor":
        best, scores = tune(lambda g: EaseAnchor(**g), [{"l2": v} for v in ANCHOR_L2],
                            X_train, y_train)
        row["tuned"], row["validation"] = best, scores
        return EaseAnchor(**best)
    import skembrec

    cls = getattr(skembrec, name)
    params = dict(params)
    if params.pop("tune", False):
        best, scores = tune(lambda g: cls(**params, **g), EASE_GRID, X_train, y_train)
        row["tuned"], row["validation"] = best, scores
        params.update(best)
    if name not in ("PopularityRecommender", "EASE"):
        params = {"random_state": SEED, **params}
        if quick:
            params["n_epochs"] = 2
    return cls(**params)


def available(library, name=None, params=None):
    """True, or why the row cannot run."""
    if library == "skembrec" and params and "solver" in params:
        import inspect

        import skembrec

        if "solver" not in inspect.signature(getattr(skembrec, name)).parameters:
            return f"skipped ({name} has no solver parameter in this skembrec)"
        return True
    if library != "implicit":
        return True
    try:
        import implicit  # noqa: F401
    except ImportError:
        return f"unavailable ({library} is not installed)"
    return True


def load(dataset, quick):
    """``(X, y)``: X holds user, item, timestamp as int64."""
    if quick:
        from skembrec.datasets import make_ratings

        X, y = make_ratings(n_users=300, n_items=200, n_ratings=12_000,
                            random_state=SEED, return_X_y=True, as_frame=False)
        return np.asarray(X, dtype=np.int64), np.asarray(y, dtype=np.float64), "synthetic"
    path = locate(dataset)
    if path is None:
        return None
    from skembrec.datasets import load_movielens

    X, y = load_movielens(path, return_X_y=True, as_frame=False)
    return np.asarray(X, dtype=np.int64), np.asarray(y, dtype=np.float64), str(path)


def locate(dataset):
    """The ratings file of ``dataset``, or None; ml-latest-small beside the others."""
    if dataset in C.DATASETS:
        return C.locate(dataset)
    from pathlib import Path

    from skembrec.datasets import find_dataset

    folder = find_dataset(dataset)
    if folder is None and (C.ROOT.parent / "shared" / "datasets" / dataset).exists():
        folder = C.ROOT.parent / "shared" / "datasets" / dataset
    path = None if folder is None else Path(folder) / "ratings.csv"
    return path if path is not None and path.exists() else None


DATASETS = ["ml-100k", "ml-1m-subset", "ml-latest-small"]


def held_out_users(model_factory, X, y, row):
    """The strong-generalisation protocol (module docstring): NDCG@10 of the
    held-out users scored via ``fold_in``, and fitted with them."""
    from skembrec.metrics import make_ranking_scorer

    rng = np.random.default_rng(0)
    users = np.unique(X[:, 0])
    held = rng.choice(users, size=max(1, len(users) // 5), replace=False)
    mine = np.isin(X[:, 0], held)
    # each held-out user's ratings by time: the first half is given, the rest scored
    order = np.lexsort((X[:, 2], X[:, 0]))
    first = np.zeros(len(X), bool)
    sorted_users = X[order, 0]
    start = np.searchsorted(sorted_users, sorted_users, side="left")
    count = np.searchsorted(sorted_users, sorted_users, side="right") - start
    first[order] = (np.arange(len(X)) - start) < count // 2
    given, scored = mine & first, mine & ~first
    others = ~mine
    scorer = make_ranking_scorer("ndcg", k=K, relevance_threshold=RELEVANT)
    with C.Timer() as t:
        model = model_factory().fit(X[others], y[others])
    with C.Timer() as f:
        model.fold_in(X[given], y[given])
    row["held_out_fold_in"] = scorer(model, X[scored], y[scored])
    row["held_out_fold_in_s"] = f.seconds
    with_them = model_factory().fit(X[others | given], y[others | given])
    row["held_out_fitted"] = scorer(with_them, X[scored], y[scored])
    row["held_out_ratio"] = row["held_out_fold_in"] / row["held_out_fitted"]
    row["held_out_users"] = len(held)
    row["held_out_fit_s"] = t.seconds


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
    parser.add_argument("--datasets", nargs="+", default=DATASETS, choices=DATASETS)
    labels = [m[0] for m in MODELS]
    parser.add_argument("--models", nargs="+", default=labels, choices=labels)
    parser.add_argument("--quick", action="store_true",
                        help="synthetic data, 2 epochs: a smoke test (writes nothing)")
    parser.add_argument("--output", default=None)
    parser.add_argument("--no-held-out-users", dest="held_out_users", action="store_false",
                        help="skip the held-out-users protocol")
    args = parser.parse_args(argv)

    from sklearn.base import clone

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
            status = available(library, name, params)
            if status is not True:
                row["status"] = status
                rows.append(row)
                print(f"  {dataset} {label}: {status}", flush=True)
                continue
            model = make_model(library, name, params, args.quick, X_train, y_train, row)
            with C.Timer() as t:
                model.fit(X_train, y_train)
            row["fit_s"] = t.seconds
            row.update(evaluate(model, X_train, X_test, y_test))
            row["status"] = "run"
            print(f"  {dataset} {label}: ndcg@{K} {row['ndcg']:.4f} ({row['fit_s']:.1f} s)",
                  flush=True)
            if args.held_out_users and name == "EASE" and "tune" not in params:
                held_out_users(lambda model=model: clone(model), X, y, row)
                print(f"    held-out users: fold_in {row['held_out_fold_in']:.4f}, fitted "
                      f"{row['held_out_fitted']:.4f} ({row['held_out_ratio']:.3f}x)",
                      flush=True)
            rows.append(row)
        popular = next((r for r in rows if r["model"] == "most popular" and "ndcg" in r),
                       None)
        anchors = [r["ndcg"] for r in rows if "ndcg" in r and r["model"].startswith(
            ("EASE anchor", "implicit ALS"))]
        for row in rows:
            if popular and "ndcg" in row:
                row["vs_popularity"] = row["ndcg"] / popular["ndcg"]
            if anchors and "ndcg" in row:
                row["vs_best_anchor"] = row["ndcg"] / max(anchors)
        result["runs"].extend(rows)
        # one table per dataset, one row per model (what the docs render)
        result[dataset] = {
            row["model"]: {key: row.get(key) for key in TABLE_KEYS}
            for row in rows if row["status"] == "run"}
        note = " [--quick: not real figures]" if args.quick else ""
        C.print_table(rows, [
            ("model", "model", ""), ("ndcg", f"NDCG@{K}", ".4f"),
            ("vs_popularity", "vs popularity", ".2f"),
            ("vs_best_anchor", "vs best anchor", ".3f"), ("recall", f"recall@{K}", ".4f"),
            ("map", f"MAP@{K}", ".4f"), ("coverage", "coverage", ".3f"),
            ("popularity_bias", "pop. bias", ".2f"), ("fit_s", "fit s", ".2f"),
            ("recommend_s", "recommend s", ".2f")],
            title=f"{dataset}: top-{K} of every unrated item, relevant = held out "
                  f"and rated >= {RELEVANT}{note}")
        held = [r for r in rows if "held_out_ratio" in r]
        if held:
            C.print_table(held, [
                ("model", "model", ""), ("held_out_fold_in", "NDCG@10 fold_in", ".4f"),
                ("held_out_fitted", "NDCG@10 fitted with them", ".4f"),
                ("held_out_ratio", "ratio", ".3f"), ("held_out_fold_in_s", "fold_in s", ".2f")],
                title=f"{dataset}: held-out users (first half given, second half scored)")
            result[f"{dataset} held-out users"] = {
                r["model"]: {key: r.get(key) for key in (
                    "held_out_fold_in", "held_out_fitted", "held_out_ratio",
                    "held_out_fold_in_s", "held_out_users")} for r in held}
    if args.quick and not args.output:
        print("\n--quick: no JSON written (pass --output to keep it)")
        return result
    C.write_results("ranking", result, args.output)
    return result


if __name__ == "__main__":
    main()
