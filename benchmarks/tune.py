"""Find tuned settings for the three estimators with RandomizedSearchCV.

The search runs on the training part of the reference random 90/10 split of
MovieLens-1M users 1-2,999 (``default_rng(7).permutation``, as in
``../shared/MEASUREMENTS.md``) and scores each candidate on a validation 10%
carved out of that training part (``ShuffleSplit(n_splits=1,
test_size=0.1, random_state=0)``): the reference test set is never seen
while tuning. The best settings are then refitted on the whole training part
and scored once on the reference test set; when the defaults score better on
the validation part than every candidate, the defaults are kept (``{}``).
``benchmarks/bench_accuracy.py`` reports the tuned settings beside the
defaults and Surprise; the user guide's tuning page quotes them.

Usage::

    python benchmarks/tune.py                         # all three, 8 candidates each
    python benchmarks/tune.py --models FunkMF --n-iter 12

Writes ``benchmarks/results/tuning.json``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import loguniform

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load_ratings, machine_info, print_table, reference_split, write_results  # noqa: E402

SPACES = {
    "FunkMF": (
        {"n_factors": [32, 64, 128, 256], "n_epochs": [20, 30, 40],
         "reg": [0.04, 0.06, 0.08, 0.1], "learning_rate": [0.02, 0.03, 0.05]},
        "neg_root_mean_squared_error",
    ),
    "EmbeddingRegressor": (
        {"n_factors": [32, 64], "hidden_layer_sizes": [(64,), (128,), (128, 64)],
         "dropout": [0.2, 0.3, 0.5], "alpha": loguniform(1e-4, 3e-3),
         "n_epochs": [10, 20], "batch_size": [2048, 8192],
         "learning_rate": [0.002, 0.005]},
        "neg_root_mean_squared_error",
    ),
    "EmbeddingClassifier": (
        {"n_factors": [32, 64], "hidden_layer_sizes": [(64,), (128,), (128, 128, 128)],
         "dropout": [0.0, 0.2, 0.3], "n_epochs": [5, 10, 20],
         "learning_rate": [0.001, 0.002, 0.005]},
        "neg_mean_absolute_error",
    ),
}
# fixed while searching: the classifier is judged by MAE, so it predicts the median
FIXED = {"EmbeddingClassifier": {"decision": "median"}}


def _plain(value):
    """A parameter value as plain JSON-able Python (tuples as lists, no NumPy scalars)."""
    if isinstance(value, tuple):
        return list(value)
    return value.item() if isinstance(value, np.generic) else value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SPACES), choices=list(SPACES))
    parser.add_argument("--n-iter", type=int, default=8)
    parser.add_argument("--output")
    args = parser.parse_args(argv)

    from sklearn.base import clone
    from sklearn.model_selection import RandomizedSearchCV, ShuffleSplit, cross_val_score

    import skembrec

    data = load_ratings("ml-1m-subset")
    if data is None:
        sys.exit("MovieLens-1M (users 1-2999) not found: set SKEMBREC_DATA")
    X, y = data
    train, test = reference_split(len(y))
    rows = []
    for name in args.models:
        space, scoring = SPACES[name]
        y_fit = y[train] if name != "EmbeddingClassifier" else np.round(y[train])
        estimator = getattr(skembrec, name)(random_state=0, **FIXED.get(name, {}))
        search = RandomizedSearchCV(
            estimator, space, n_iter=args.n_iter, scoring=scoring, refit=True,
            cv=ShuffleSplit(n_splits=1, test_size=0.1, random_state=0), random_state=0)
        start = time.perf_counter()
        search.fit(X[train], y_fit)
        # the defaults on the same validation split: a search that does not
        # beat them has found nothing, and the defaults stay
        default_score = cross_val_score(clone(estimator), X[train], y_fit, cv=search.cv,
                                        scoring=scoring).mean()
        seconds = time.perf_counter() - start
        best_model = search.best_estimator_
        best = {k: _plain(v) for k, v in search.best_params_.items()}
        if default_score >= search.best_score_:
            best_model, best = clone(estimator).fit(X[train], y_fit), {}
        pred = best_model.predict(X[test])
        rows.append({
            "model": name, "best_params": best, "fixed": FIXED.get(name, {}),
            "scoring": scoring,
            "validation_score": float(-max(search.best_score_, default_score)),
            "defaults_validation_score": float(-default_score),
            "search_beat_defaults": bool(search.best_score_ > default_score),
            "test_rmse": float(np.sqrt(np.mean((pred - y[test]) ** 2))),
            "test_mae": float(np.mean(np.abs(pred - y[test]))),
            "search_s": seconds, "n_candidates": args.n_iter,
            "candidates": [
                {"params": {k: _plain(v) for k, v in p.items()},
                 "validation_score": float(-s)}
                for p, s in zip(search.cv_results_["params"],
                                search.cv_results_["mean_test_score"])],
        })
        print(f"{name}: {best or 'the defaults'} -> test RMSE {rows[-1]['test_rmse']:.4f} "
              f"MAE {rows[-1]['test_mae']:.4f} ({seconds:.0f} s)", flush=True)
    print_table(rows, [("model", "model", ""), ("validation_score", "val score", ".4f"),
                       ("test_rmse", "test RMSE", ".4f"), ("test_mae", "test MAE", ".4f"),
                       ("search_s", "search s", ".0f")],
                title="Tuned on the training part of the 1M subset, scored on its test 10%")
    for row in rows:
        print(f"  {row['model']}: {row['best_params']}")
    write_results("tuning", {"machine": machine_info(), "split": "reference 90/10, seed 7",
                             "dataset": "ml-1m users 1-2999", "results": rows},
                  args.output)


if __name__ == "__main__":
    main()
