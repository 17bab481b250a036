"""``ImplicitMF(solver="als")`` against implicit's ALS: fit time and NDCG@10.

Issue 31's goal: ``ImplicitMF(solver="als")`` fits in no more time than
implicit's ``AlternatingLeastSquares`` at the same factors and iterations
(64, 15), at NDCG@10 within 1% of it. The protocol of ``bench_ranking.py``:
MovieLens-1M users 1-2999, each user's latest 10% held out
(``TemporalProbeSplit(n_probe=0.1, time_column=2)``), relevant = held out
and rated 4 or more, every item the user did not rate in training ranked.
Both train on the ratings >= 4 as interactions.

Pairs of the same loss (implicit's confidence ``alpha`` on a binary matrix
is ImplicitMF's ``negative_weight = 1 / alpha``, the loss divided by
``alpha``); the penalties differ by design (implicit's one ridge for every
row, ImplicitMF's ridge per unit of a row's interaction weight), so each
side runs its own default penalty:

* ``uniform``: implicit ``alpha=1, regularization=0.01`` and
  ``ImplicitMF(negative_weight=1)`` (the defaults of both): every row of a
  side shares its matrix up to its ridge and skembrec solves each
  half-step exactly;
* ``weighted``: implicit ``alpha=2`` and ``ImplicitMF(negative_weight=0.5,
  reg=0.025)`` (the default ``reg`` divided by ``alpha`` too): three
  conjugate-gradient steps per row and half-step in both.

Then the defaults of both ImplicitMF solvers (``relevance_threshold=4``,
20 epochs), which chose the default solver. Runs alternate between the
libraries in one process (TensorFlow started first; every skembrec fit
includes its graph's trace), ``--repeats`` times with ``random_state`` the
repeat's number; the table gives medians. implicit gets all cores for its
own threads and a single-threaded BLAS (as it asks), TensorFlow its default
thread pools: both use every core.

``--select-reg`` instead chooses ALS's default ``reg`` (``reg=None``): on
ML-100K, the ML-1M subset and ml-latest-small, the training part of the
split above is split again the same way (each user's latest 10% of their
training ratings), ``ImplicitMF(solver="als", reg=r)`` with and without
``relevance_threshold=4`` is fitted on the first part for every ``r`` of
``REG_GRID`` and ``--repeats`` seeds and scored by NDCG@10 on the second
(the test part is never seen); then the chosen default's test NDCG@10
beside the previous default's figures.

Usage::

    python benchmarks/bench_als.py                 # ~1 min plus the sgd fits
    python benchmarks/bench_als.py --repeats 5 --no-sgd
    python benchmarks/bench_als.py --select-reg    # ~5 min: writes als_reg.json
    python benchmarks/bench_als.py --quick         # synthetic smoke test, writes nothing

Writes ``benchmarks/results/als.json`` (``als_reg.json`` with
``--select-reg``; nothing with ``--quick`` unless ``--output`` is given).
"""

import argparse
import os

import _common as C
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

K = 10
RELEVANT = 4
FACTORS = 64
ITERATIONS = 15

# (label, implicit's alpha and regularization, ImplicitMF's parameters)
PAIRS = [
    ("uniform", {"alpha": 1.0, "regularization": 0.01}, {"negative_weight": 1.0}),
    ("weighted", {"alpha": 2.0, "regularization": 0.01},
     {"negative_weight": 0.5, "reg": 0.025}),
]
DEFAULTS = [
    ("ImplicitMF(relevance_threshold=4)", {"relevance_threshold": RELEVANT}),
    ("ImplicitMF(solver='sgd', relevance_threshold=4)",
     {"solver": "sgd", "relevance_threshold": RELEVANT}),
]


class ImplicitALS:
    """implicit's ALS behind ``fit(X, y)`` / ``recommend`` (rated items filtered)."""

    def __init__(self, *, alpha, regularization, random_state):
        self.alpha = alpha
        self.regularization = regularization
        self.random_state = random_state

    def fit(self, X, y):
        import pandas as pd
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        users, user_ids = pd.factorize(X[:, 0])
        items, self.item_ids_ = pd.factorize(X[:, 1])
        self.user_ids_ = pd.Index(user_ids)
        shape = (len(user_ids), len(self.item_ids_))
        self._seen = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)),
                                   shape=shape)
        keep = y >= RELEVANT
        train = sp.csr_matrix((np.ones(int(keep.sum()), np.float32),
                               (users[keep], items[keep])), shape=shape)
        with threadpool_limits(1, "blas"):
            self.model_ = AlternatingLeastSquares(
                factors=FACTORS, iterations=ITERATIONS, alpha=self.alpha,
                regularization=self.regularization, num_threads=0,
                random_state=self.random_state)
            self.model_.fit(train, show_progress=False)
        return self

    def recommend(self, users, n=10, *, exclude_seen=True):
        from threadpoolctl import threadpool_limits

        codes = self.user_ids_.get_indexer(np.asarray(users))
        with threadpool_limits(1, "blas"):
            ids, _ = self.model_.recommend(codes, self._seen[codes], N=n,
                                           filter_already_liked_items=exclude_seen)
        return np.asarray(self.item_ids_)[ids]


# ALS's reg per unit of a row's interaction weight, around the measured best
REG_GRID = [0.02, 0.03, 0.05, 0.07, 0.1]
DATASETS = ["ml-100k", "ml-1m-subset", "ml-latest-small"]


def select_reg(args):
    """Validation NDCG@10 of each ``REG_GRID`` value (module docstring), then
    the test NDCG@10 of the defaults; returns the result record."""
    from bench_ranking import load as load_dataset
    from bench_ranking import validation_split

    from skembrec import ImplicitMF
    from skembrec.model_selection import TemporalProbeSplit

    result = {"benchmark": "als_reg", "machine": C.machine_info(),
              "config": {"k": K, "relevance_threshold": RELEVANT, "reg_grid": REG_GRID,
                         "seeds": args.repeats, "datasets": DATASETS,
                         "split": "TemporalProbeSplit(n_probe=0.1, time_column=2), "
                                  "again inside the training part for validation"},
              "validation": [], "test": []}
    for dataset in DATASETS:
        loaded = load_dataset(dataset, False)
        if loaded is None:
            print(f"{dataset} not found; skipped")
            continue
        X, y, _ = loaded
        train, test = next(TemporalProbeSplit(n_probe=0.1, time_column=2).split(X))
        X_train, y_train = X[train], y[train]
        fit, val = validation_split(X_train)
        for threshold in (None, RELEVANT):
            for reg in REG_GRID:
                scores = []
                for seed in range(args.repeats):
                    model = ImplicitMF(reg=reg, relevance_threshold=threshold,
                                       random_state=seed)
                    scores.append(run(model, (X_train[fit], y_train[fit], X_train[val],
                                              y_train[val]))["ndcg"])
                row = {"dataset": dataset, "relevance_threshold": threshold, "reg": reg,
                       "ndcg": scores, "median": C.median(scores)}
                result["validation"].append(row)
                print(f"  {dataset} threshold={threshold} reg={reg}: validation "
                      f"ndcg@{K} {row['median']:.4f} {[round(v, 4) for v in scores]}",
                      flush=True)
            for solver in ("als", "sgd") if args.with_sgd else ("als",):
                scores = [run(ImplicitMF(solver=solver, relevance_threshold=threshold,
                                         random_state=seed),
                              (X_train, y_train, X[test], y[test]))["ndcg"]
                          for seed in range(args.repeats)]
                row = {"dataset": dataset, "relevance_threshold": threshold,
                       "solver": solver, "ndcg": scores, "median": C.median(scores)}
                result["test"].append(row)
                print(f"  {dataset} threshold={threshold} default {solver}: test "
                      f"ndcg@{K} {row['median']:.4f}", flush=True)
    return result


def load(quick):
    from skembrec.datasets import load_movielens, make_ratings
    from skembrec.model_selection import TemporalProbeSplit

    if quick:
        X, y = make_ratings(n_users=300, n_items=200, n_ratings=12_000, random_state=0,
                            return_X_y=True, as_frame=False)
        source = "synthetic"
    else:
        path = C.locate("ml-1m-subset")
        if path is None:
            return None
        X, y = load_movielens(path, return_X_y=True, as_frame=False)
        source = str(path)
    X, y = np.asarray(X, np.int64), np.asarray(y, np.float64)
    train, test = next(TemporalProbeSplit(n_probe=0.1, time_column=2).split(X))
    return X[train], y[train], X[test], y[test], source


def run(model, data):
    from skembrec.metrics import make_ranking_scorer

    X, y, X_test, y_test = data
    with C.Timer() as t:
        model.fit(X, y)
    ndcg = make_ranking_scorer("ndcg", k=K, relevance_threshold=RELEVANT)
    return {"fit_s": t.seconds, "ndcg": ndcg(model, X_test, y_test)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-sgd", action="store_true",
                        help="skip the defaults' rows (the sgd solver's fit is slow)")
    parser.add_argument("--quick", action="store_true",
                        help="synthetic data, one repeat: a smoke test (writes nothing)")
    parser.add_argument("--select-reg", action="store_true",
                        help="choose ALS's default reg on validation (module docstring)")
    parser.add_argument("--with-sgd", action="store_true",
                        help="with --select-reg: also the sgd solver's test figures")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    if args.select_reg:
        result = select_reg(args)
        C.write_results("als_reg", result, args.output)
        return result

    import implicit

    from skembrec import ImplicitMF

    # start TensorFlow before timing anything
    ImplicitMF(n_factors=2, n_epochs=1).fit(np.array([[0, 0], [1, 1]]), [1.0, 1.0])
    loaded = load(args.quick)
    if loaded is None:
        print("ml-1m not found (SKEMBREC_DATA or ../shared/datasets); nothing to run")
        return None
    *data, source = loaded
    repeats = 1 if args.quick else args.repeats
    result = {"benchmark": "als", "machine": {**C.machine_info(),
                                              "implicit": implicit.__version__},
              "config": {"dataset": source, "quick": args.quick, "k": K,
                         "relevance_threshold": RELEVANT, "factors": FACTORS,
                         "iterations": ITERATIONS, "repeats": repeats,
                         "split": "TemporalProbeSplit(n_probe=0.1, time_column=2)"},
              "runs": []}
    for repeat in range(repeats):
        for label, theirs, ours in PAIRS:
            for library, model in (
                    ("implicit", ImplicitALS(random_state=repeat, **theirs)),
                    ("skembrec", ImplicitMF(n_factors=FACTORS, n_epochs=ITERATIONS,
                                            solver="als", relevance_threshold=RELEVANT,
                                            random_state=repeat, **ours))):
                row = {"pair": label, "library": library, "repeat": repeat,
                       **run(model, data)}
                result["runs"].append(row)
                print(f"  {label} {library} #{repeat}: ndcg@{K} {row['ndcg']:.4f} "
                      f"fit {row['fit_s']:.2f} s", flush=True)
        if not args.no_sgd:
            for label, params in DEFAULTS:
                row = {"pair": "defaults", "library": label, "repeat": repeat,
                       **run(ImplicitMF(random_state=repeat, **params), data)}
                result["runs"].append(row)
                print(f"  {label} #{repeat}: ndcg@{K} {row['ndcg']:.4f} "
                      f"fit {row['fit_s']:.2f} s", flush=True)
    rows = []
    for key in dict.fromkeys((r["pair"], r["library"]) for r in result["runs"]):
        runs = [r for r in result["runs"] if (r["pair"], r["library"]) == key]
        rows.append({"pair": key[0], "model": key[1],
                     "ndcg": C.median([r["ndcg"] for r in runs]),
                     "fit_s": C.median([r["fit_s"] for r in runs])})
    for row in rows:
        anchor = next((r for r in rows if r["pair"] == row["pair"]
                       and r["model"] == "implicit"), None)
        if anchor is not None:
            row["ndcg_vs_implicit"] = row["ndcg"] / anchor["ndcg"]
            row["fit_vs_implicit"] = row["fit_s"] / anchor["fit_s"]
    result["table"] = rows
    note = " [--quick: not real figures]" if args.quick else ""
    C.print_table(rows, [
        ("pair", "pair", ""), ("model", "model", ""), ("ndcg", f"NDCG@{K}", ".4f"),
        ("ndcg_vs_implicit", "vs implicit", ".3f"), ("fit_s", "fit s", ".2f"),
        ("fit_vs_implicit", "fit vs implicit", ".2f")],
        title=f"medians of {repeats}, {FACTORS} factors, {ITERATIONS} iterations{note}")
    if args.quick and not args.output:
        print("\n--quick: no JSON written (pass --output to keep it)")
        return result
    C.write_results("als", result, args.output)
    return result


if __name__ == "__main__":
    main()
