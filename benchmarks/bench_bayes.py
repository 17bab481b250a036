"""BayesianMF on MovieLens: ids only, with the implicit term, with side features.

Fits ``BayesianMF(random_state=0, ...)`` (its defaults otherwise: 10
factors, 200 sweeps, 20 burnt in, 60 kept) on

* MovieLens-100K ``u1.base`` / ``u1.test`` (``--folds`` adds u2..u5):
  ``implicit=False`` (ids only), the defaults (ids + "who rated what"), and
  the defaults with the users' age, gender, occupation and zip code's first
  digit and the movies' genres and release year (``"full"``, joined by
  ``load_movielens(side_features=True)``);
* with ``--ml-1m``, the MovieLens-1M subset (users 1-2999) on the
  reference random 90/10 split, ids + implicit and ids only.

Fit seconds are whole fits in one process (TensorFlow started beforehand,
the sweep's tracing included). The anchors (myFM, Surprise) are measured
in ``bench_accuracy.py``.

Usage::

    python benchmarks/bench_bayes.py [--folds 1 2 3 4 5] [--ml-1m] [--variants full]
        [--n-factors 32] [--output results/bayes_k32.json]

Writes ``benchmarks/results/bayes.json``.
"""

import argparse
import time

import _common as C
import numpy as np

USER = ["age", "gender", "occupation", "zip1"]
ITEM = ["genres", "year"]
VARIANTS = {
    "ids only": {"implicit": False},
    "ids + implicit": {},
    "full": {"user_features": USER, "item_features": ITEM},
}


def fit_score(X_train, y_train, X_test, y_test, **params):
    from skembrec import BayesianMF

    start = time.perf_counter()
    model = BayesianMF(random_state=0, **params).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    pred = model.predict(X_test)
    return {"rmse": C.rmse(y_test, pred), "mae": C.mae(y_test, pred), "fit_s": fit_s,
            "mean_predict_std": float(np.mean(model.predict_std(X_test)))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[1])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--ml-1m", action="store_true")
    parser.add_argument("--n-factors", type=int, default=None,
                        help="factors per draw (default: the estimator's, 10)")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    import tensorflow  # noqa: F401  (started before the first fit is timed)
    factors = {} if args.n_factors is None else {"n_factors": args.n_factors}

    from skembrec.datasets import load_movielens

    rows = []
    path = C.locate("ml-100k")
    if path is None:
        raise SystemExit("MovieLens-100K is not found")
    bunch = load_movielens(path.parent, side_features=True)
    X = bunch.data.copy()
    X["zip1"] = X["zip_code"].astype(str).str[:1]
    y = np.asarray(bunch.target, dtype=np.float64)
    for fold in args.folds:
        train, test = np.flatnonzero(bunch.folds != fold - 1), np.flatnonzero(
            bunch.folds == fold - 1)
        for name in args.variants:
            result = fit_score(X.iloc[train], y[train], X.iloc[test], y[test],
                               **VARIANTS[name], **factors)
            rows.append({"dataset": "ml-100k", "split": f"u{fold}", "variant": name, **result})
            print(f"u{fold} {name}: RMSE {result['rmse']:.4f}, fit {result['fit_s']:.1f} s",
                  flush=True)
    if args.ml_1m:
        path = C.locate("ml-1m-subset")
        if path is None:
            raise SystemExit("the MovieLens-1M subset is not found")
        bunch = load_movielens(path, as_frame=False)
        X = np.ascontiguousarray(bunch.data[:, :3], dtype=np.int64)
        y = np.asarray(bunch.target, dtype=np.float64)
        train, test = C.reference_split(len(X), seed=7)
        for name in [v for v in args.variants if v != "full"]:
            result = fit_score(X[train], y[train], X[test], y[test], **VARIANTS[name],
                               **factors)
            rows.append({"dataset": "ml-1m-subset", "split": "random 90/10", "variant": name,
                         **result})
            print(f"1M subset {name}: RMSE {result['rmse']:.4f}, fit {result['fit_s']:.1f} s",
                  flush=True)
    C.print_table(rows, [("dataset", "dataset", ""), ("split", "split", ""),
                         ("variant", "variant", ""), ("rmse", "RMSE", ".4f"),
                         ("mae", "MAE", ".4f"), ("fit_s", "fit s", ".1f")],
                  title="BayesianMF, defaults (random_state=0)")
    C.write_results("bayes", {"machine": C.machine_info(), "package": C.package_info(),
                              "config": vars(args), "results": rows}, args.output)


if __name__ == "__main__":
    main()
