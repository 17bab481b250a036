"""BayesianMF on MovieLens: ids only, with the implicit term, with side features.

Fits ``BayesianMF(random_state=0, ...)`` (its defaults otherwise: 10
factors, 200 sweeps, 20 burnt in, 60 kept) on

* MovieLens-100K ``u1.base`` / ``u1.test`` (``--folds`` adds u2..u5):
  ``implicit=False`` (ids only), the defaults (ids + "who rated what"), and
  the defaults with the users' age, gender, occupation and zip code's first
  digit and the movies' genres and release year (``"full"``, joined by
  ``load_movielens(side_features=True)``), and that with the ordered probit
  (``"full ordinal"``, ``output="ordinal"``) or a date group of one bin a day
  (``"full + date"``, ``time_column="timestamp", n_time_bins=215``; myFM:
  the calendar day one-hot), those two only with ``--variants``;
* with ``--ml-1m``, the MovieLens-1M subset (users 1-2999) on the
  reference random 90/10 split, ids + implicit and ids only.

Each fit runs once per ``--solvers`` entry (the blocked and the
coordinate-wise sampler, ``BayesianMF(solver=...)``), and with ``--myfm``
myFM on the same split with the same information and sweeps
(``MyFMRegressor(rank=n_factors, random_seed=0)``, ``n_iter=n_epochs``,
``n_kept_samples = n_epochs - 20``, the design of ``_myfm.py``: "ids only"
its ids, "ids + implicit" its ids and "who rated what" groups, "full" the
attributes too), one after another in one process, ``--repeats`` times: on
a shared machine, compare the ratios of fits run side by side.

Fit seconds are whole fits in one process (TensorFlow started beforehand,
the sweep's tracing included; myFM's design included).

Usage::

    python benchmarks/bench_bayes.py [--folds 1 2 3 4 5] [--ml-1m] [--variants full]
        [--n-factors 32] [--solvers blocked coordinate] [--myfm] [--repeats 2]
        [--seeds 0 1 2]
        [--sweeps 25 50 100 200 400]
        [--output results/bayes_k32.json]

Writes ``benchmarks/results/bayes.json``.
"""

import argparse
import time
from pathlib import Path

import _common as C
import _myfm
import numpy as np

USER = ["age", "gender", "occupation", "zip1"]
ITEM = ["genres", "year"]
VARIANTS = {
    "ids only": {"implicit": False},
    "ids + implicit": {},
    "full": {"user_features": USER, "item_features": ITEM},
    # the ordered probit (output="ordinal"); myFM runs its regressor on it
    "full ordinal": {"user_features": USER, "item_features": ITEM, "output": "ordinal"},
    # a date group, one bin a day of ML-100K's 215 (myFM: the calendar day)
    "full + date": {"user_features": USER, "item_features": ITEM,
                    "time_column": "timestamp", "n_time_bins": 215},
}


def fit_score(X_train, y_train, X_test, y_test, seed=0, **params):
    from skembrec import BayesianMF

    start = time.perf_counter()
    model = BayesianMF(random_state=seed, **params).fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    pred = model.predict(X_test)
    return {"rmse": C.rmse(y_test, pred), "mae": C.mae(y_test, pred), "fit_s": fit_s,
            "mean_predict_std": float(np.mean(model.predict_std(X_test)))}


def myfm_score(X_train, y_train, X_test, y_test, variant, folder, n_factors=10,
               n_epochs=None, n_burn_in=None):
    """myFM with the information of ``variant``, BayesianMF's sweeps and burn-in
    (its defaults, or ``n_epochs`` and ``n_burn_in``)."""
    import myfm

    from skembrec import BayesianMF

    defaults = BayesianMF().get_params()
    n_iter = n_epochs or defaults["n_epochs"]
    n_burn_in = defaults["n_burn_in"] if n_burn_in is None else n_burn_in
    # the ids and the date (epoch seconds), as _myfm's designs read them
    ids = lambda X: np.asarray(  # noqa: E731
        X[["user", "item", "timestamp"]] if hasattr(X, "columns") else np.asarray(X)[:, :3],
        dtype=np.int64)
    X_train, X_test = ids(X_train), ids(X_test)
    start = time.perf_counter()
    dates_tr = dates_te = None
    if variant.endswith("+ date"):
        dates_tr, dates_te = _myfm.day_onehot(X_train, X_test)
    if variant == "ids only":
        side = None
    elif variant == "ids + implicit":
        # no attribute groups: the ids and the "who rated what" groups
        side = ({"id": np.zeros(0, np.int64), "groups": {}},
                {"id": np.zeros(0, np.int64), "groups": {}})
    else:
        side = _myfm.attributes(Path(folder))
    blocks_tr, blocks_te, sizes = _myfm.design(X_train, X_test, side)
    if dates_tr is not None:
        sizes = [dates_tr.shape[1], *sizes]
    fm = myfm.MyFMRegressor(rank=n_factors, random_seed=0)
    fm.fit(dates_tr, y_train, X_rel=blocks_tr,
           grouping=np.repeat(np.arange(len(sizes)), sizes).tolist(), n_iter=n_iter,
           n_kept_samples=n_iter - n_burn_in)
    fit_s = time.perf_counter() - start
    pred = np.clip(fm.predict(dates_te, blocks_te), y_train.min(), y_train.max())
    return {"rmse": C.rmse(y_test, pred), "mae": C.mae(y_test, pred), "fit_s": fit_s}


def compare(rows, args, dataset, split, name, X_tr, y_tr, X_te, y_te, folder, **params):
    """Every solver and myFM on one split, ``args.repeats`` rounds in turn
    (with ``args.sweeps``: at each number of sweeps)."""
    for sweeps in args.sweeps or [None]:
        if sweeps is not None:
            # a tenth burnt in, every later draw kept (BayesianMF: at most 60)
            burn_in = sweeps // 10
            params.update(n_epochs=sweeps, n_burn_in=burn_in,
                          n_kept_samples=min(60, sweeps - burn_in))
        _compare_once(rows, args, dataset, split, name, X_tr, y_tr, X_te, y_te, folder,
                      **params)


def _compare_once(rows, args, dataset, split, name, X_tr, y_tr, X_te, y_te, folder,
                  **params):
    sweeps = {"sweeps": params.get("n_epochs", 200)}
    for _ in range(args.repeats):
        for solver in args.solvers:
            for seed in args.seeds:
                result = fit_score(X_tr, y_tr, X_te, y_te, seed=seed, solver=solver,
                                   **params)
                rows.append({"dataset": dataset, "split": split, "variant": name,
                             "solver": solver, "seed": seed, **sweeps, **result})
                print(f"{split} {name} {solver} (random_state={seed}): RMSE "
                      f"{result['rmse']:.4f}, fit {result['fit_s']:.1f} s", flush=True)
        if args.myfm:
            result = myfm_score(X_tr, y_tr, X_te, y_te, name, folder,
                                params.get("n_factors", 10), params.get("n_epochs"),
                                params.get("n_burn_in"))
            rows.append({"dataset": dataset, "split": split, "variant": name,
                         "solver": "myFM", **sweeps, **result})
            print(f"{split} {name} myFM: RMSE {result['rmse']:.4f}, "
                  f"fit {result['fit_s']:.1f} s", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[1])
    parser.add_argument("--variants", nargs="+", default=["ids only", "ids + implicit", "full"],
                        choices=list(VARIANTS))
    parser.add_argument("--ml-1m", action="store_true")
    parser.add_argument("--n-factors", type=int, default=None,
                        help="factors per draw (default: the estimator's, 10)")
    parser.add_argument("--solvers", nargs="+", default=["blocked", "coordinate"],
                        choices=["blocked", "coordinate"])
    parser.add_argument("--myfm", action="store_true",
                        help="myFM on the same splits, information and sweeps")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="BayesianMF's random_state values, each fitted in turn")
    parser.add_argument("--sweeps", type=int, nargs="+", default=None,
                        help="a sweep-count curve: fit at each number of sweeps "
                             "(a tenth burnt in), myFM too with --myfm")
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
            compare(rows, args, "ml-100k", f"u{fold}", name, X.iloc[train], y[train],
                    X.iloc[test], y[test], path.parent, **VARIANTS[name], **factors)
    if args.ml_1m:
        path = C.locate("ml-1m-subset")
        if path is None:
            raise SystemExit("the MovieLens-1M subset is not found")
        bunch = load_movielens(path, as_frame=False)
        X = np.ascontiguousarray(bunch.data[:, :3], dtype=np.int64)
        y = np.asarray(bunch.target, dtype=np.float64)
        train, test = C.reference_split(len(X), seed=7)
        for name in [v for v in args.variants if not v.startswith("full")]:
            compare(rows, args, "ml-1m-subset", "random 90/10", name, X[train], y[train],
                    X[test], y[test], path.parent, **VARIANTS[name], **factors)
    C.print_table(rows, [("dataset", "dataset", ""), ("split", "split", ""),
                         ("variant", "variant", ""), ("solver", "solver", ""),
                         ("sweeps", "sweeps", "d"),
                         ("rmse", "RMSE", ".4f"),
                         ("mae", "MAE", ".4f"), ("fit_s", "fit s", ".1f")],
                  title="BayesianMF, defaults (random_state=0), and myFM")
    C.write_results("bayes", {"machine": C.machine_info(), "package": C.package_info(),
                              "config": vars(args), "results": rows}, args.output)


if __name__ == "__main__":
    main()
