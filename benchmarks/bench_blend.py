"""Blends with scikit-learn's own StackingRegressor and VotingRegressor.

The recipe of the user guide's "Blends" section, measured on
MovieLens-100K's official folds (``u1`` by default; ``--folds 1 2 3 4 5``):

* the bases: ``BayesianMF`` with the users' and items' attributes (myFM
  full's, ``_common.attribute_tables``), ``AutoRec()`` and ``FunkMF()``,
  each ``random_state=0`` and its defaults otherwise;
* ``StackingRegressor(bases, cv=KFold(3, shuffle=True, random_state=0))``:
  each base is fitted on two thirds of the training ratings three times to
  get out-of-fold predictions, a ``RidgeCV`` (the default final estimator)
  learns their weights, and every base is refitted on all the training
  ratings;
* ``VotingRegressor(bases)``: the plain mean of those refitted bases'
  predictions (computed from the stacking fit's ``estimators_``, which are
  exactly what a ``VotingRegressor`` of the same bases would fit).

Every model sees the same X: user, item, timestamp and the attribute
columns; ``FunkMF`` and ``AutoRec`` read only the ids. The single bases'
scores are those of the stack's refitted bases. Fit seconds are one process
on this machine (TensorFlow started beforehand): the stack's includes its
3 x 3 out-of-fold fits and the refits.

Usage::

    SKEMBREC_DATA=/work/shared/datasets python benchmarks/bench_blend.py [--folds 1 2]

Writes ``benchmarks/results/blend.json``.
"""

import argparse
import time

import _common as C
import numpy as np
from bench_accuracy import load, splits


def bases():
    from skembrec import AutoRec, BayesianMF, FunkMF

    return [
        ("bayes_full", BayesianMF(random_state=0, user_features=list(C.USER_ATTRIBUTES),
                                  item_features=list(C.ITEM_ATTRIBUTES))),
        ("autorec", AutoRec(random_state=0)),
        ("funk", FunkMF(random_state=0)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, nargs="+", default=[1])
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    import tensorflow  # noqa: F401  (started before the first fit is timed)
    from sklearn.ensemble import StackingRegressor
    from sklearn.model_selection import KFold

    data = load("ml-100k")
    if data is None:
        raise SystemExit("MovieLens-100K is not found")
    X, y, folds, path = data
    frame = C.with_attributes(X, path.parent)
    rows = []
    for fold in args.folds:
        train, test = splits("official", X, folds)[fold - 1]
        X_tr, X_te, y_tr, y_te = frame.iloc[train], frame.iloc[test], y[train], y[test]
        stack = StackingRegressor(bases(), cv=KFold(3, shuffle=True, random_state=0))
        start = time.perf_counter()
        stack.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - start
        preds = {name: est.predict(X_te) for name, est in stack.named_estimators_.items()}
        scored = {**preds, "VotingRegressor (mean)": np.mean(list(preds.values()), axis=0),
                  "StackingRegressor (RidgeCV)": stack.predict(X_te)}
        weights = dict(zip(preds, np.round(stack.final_estimator_.coef_, 4).tolist()))
        for name, pred in scored.items():
            rows.append({"split": f"u{fold}", "model": name, "rmse": C.rmse(y_te, pred),
                         "mae": C.mae(y_te, pred)})
            print(f"u{fold} {name}: RMSE {rows[-1]['rmse']:.4f}", flush=True)
        rows.append({"split": f"u{fold}", "model": "stack fit (s)", "fit_s": fit_s,
                     "weights": weights, "intercept": float(stack.final_estimator_.intercept_)})
        print(f"u{fold} stack: fit {fit_s:.0f} s, weights {weights}", flush=True)
    C.print_table([r for r in rows if "rmse" in r],
                  [("split", "split", ""), ("model", "model", ""), ("rmse", "RMSE", ".4f"),
                   ("mae", "MAE", ".4f")], title="Blends on MovieLens-100K (random_state=0)")
    C.write_results("blend", {"machine": C.machine_info(), "package": C.package_info(),
                              "config": vars(args), "results": rows}, args.output)


if __name__ == "__main__":
    main()
