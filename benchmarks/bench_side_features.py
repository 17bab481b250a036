"""Side features: warm accuracy, cold items and cold users (issue 14).

MovieLens-100K with the users' ``age``, ``gender``, ``occupation`` and the
movies' ``genres`` joined per rating (``load_movielens(...,
side_features=...)``). Three protocols, each model with its defaults and
``random_state=0``, with and without the features:

warm
    The official ``u1.base`` / ``u1.test`` split.
cold items
    ``ItemHoldoutSplit(n_test_items=0.15)``, ``--seeds`` draws: every rating
    of 15% of the items is the test set. Without features, an unknown item
    gets the fallback (global mean + user bias for FunkMF).
cold users
    ``ColdUserSplit(n_test_users=0.15)``, ``--seeds`` draws, the same way.

Reported: the test RMSE of each model with and without features, the
difference (negative is better), and the fit time.

Usage::

    python benchmarks/bench_side_features.py [--seeds 3] [--models FunkMF ...]

Writes ``benchmarks/results/side_features.json``.
"""

import argparse
import time

import _common as C
import numpy as np

USER = ["age", "gender", "occupation"]
ITEM = ["genres"]


def fit_predict(cls, X, y, train, test, **params):
    start = time.perf_counter()
    model = cls(random_state=0, **params).fit(X.iloc[train], y[train])
    seconds = time.perf_counter() - start
    return C.rmse(y[test], model.predict(X.iloc[test])), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["FunkMF", "EmbeddingRegressor"])
    parser.add_argument("--protocols", nargs="+", default=["warm", "cold items", "cold users"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    import skembrec
    from skembrec.datasets import load_movielens
    from skembrec.model_selection import ColdUserSplit, ItemHoldoutSplit

    path = C.locate("ml-100k")
    if path is None:
        raise SystemExit("MovieLens-100K is not found")
    bunch = load_movielens(path.parent, side_features=USER + ITEM)
    X, y = bunch.data, np.asarray(bunch.target, dtype=np.float64)
    protocols = {
        "warm": [(np.flatnonzero(bunch.folds != 0), np.flatnonzero(bunch.folds == 0))],
        "cold items": [next(ItemHoldoutSplit(0.15, random_state=seed).split(X))
                       for seed in range(args.seeds)],
        "cold users": [next(ColdUserSplit(0.15, random_state=seed).split(X))
                       for seed in range(args.seeds)],
    }
    variants = {
        "warm": {"user_features": USER, "item_features": ITEM},
        "cold items": {"user_features": USER, "item_features": ITEM},
        "cold users": {"user_features": USER, "item_features": ITEM},
    }
    rows = []
    for protocol in args.protocols:
        for name in args.models:
            cls = getattr(skembrec, name)
            plain, featured, seconds = [], [], []
            for train, test in protocols[protocol]:
                plain.append(fit_predict(cls, X, y, train, test)[0])
                score, fit_s = fit_predict(cls, X, y, train, test, **variants[protocol])
                featured.append(score)
                seconds.append(fit_s)
            row = {"protocol": protocol, "model": f"{name}()",
                   "without features": float(np.mean(plain)),
                   "with features": float(np.mean(featured)),
                   "difference": float(np.mean(featured) - np.mean(plain)),
                   "per split": {"without": plain, "with": featured},
                   "fit s (with features, median)": C.median(seconds)}
            print(f"{protocol:11s} {name:20s} without {row['without features']:.4f}  "
                  f"with {row['with features']:.4f}  diff {row['difference']:+.4f}  "
                  f"fit {row['fit s (with features, median)']:.1f}s", flush=True)
            rows.append(row)
    C.write_results("side_features", {
        "benchmark": "side_features", "machine": C.machine_info(),
        "features": {"user": USER, "item": ITEM}, "seeds": args.seeds, "rows": rows},
        args.output)


if __name__ == "__main__":
    main()
