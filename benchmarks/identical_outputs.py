"""Predictions and rankings of every estimator on fixed data, to check a
refactor changes nothing (issue 30: bit-identical before and after).

Each estimator is fitted with ``random_state=0`` on
``make_ratings(300 users, 150 items, 6,000 ratings)``; ``predict`` of 500 rows
and ``recommend`` of 50 users are saved. ImplicitMF and BayesianMF run their
older solvers (``"sgd"`` with ``reg=0.01``, ``"blocked"``), whose outputs a
checkout from before those solvers existed also gives, and BayesianMF its
coordinate-wise sampler too (both outputs: a checkout from issue 32 on).

Usage::

    PYTHONPATH=/path/to/old/checkout python benchmarks/identical_outputs.py old.npz
    python benchmarks/identical_outputs.py new.npz --compare old.npz
"""

import argparse
import inspect
import warnings

import numpy as np


def outputs():
    import skembrec
    from skembrec.datasets import make_ratings

    X, y = make_ratings(n_users=300, n_items=150, n_ratings=6000, random_state=0,
                        return_X_y=True)
    X = X.to_numpy()
    # the solvers of the defaults before issues 31 and 32, where they exist
    older = {"ImplicitMF": {"solver": "sgd", "reg": 0.01}, "BayesianMF": {"solver": "blocked"}}
    configs = {
        "FunkMF": ("FunkMF", {"n_epochs": 4}),
        "FunkMF_time": ("FunkMF", {"n_epochs": 3, "time_column": 2}),
        "EmbeddingRegressor": ("EmbeddingRegressor", {"n_epochs": 3}),
        "EmbeddingClassifier": ("EmbeddingClassifier", {"n_epochs": 3}),
        "AutoRec": ("AutoRec", {"n_epochs": 3}),
        "BayesianMF": ("BayesianMF", {"n_epochs": 8, "n_burn_in": 3, "n_kept_samples": 5}),
        # the coordinate-wise sampler (from issue 32 on), both outputs
        "BayesianMF_coordinate": ("BayesianMF", {"n_epochs": 8, "n_burn_in": 3,
                                                 "n_kept_samples": 5, "solver": "coordinate"}),
        "BayesianMF_ordinal": ("BayesianMF", {"n_epochs": 8, "n_burn_in": 3,
                                              "n_kept_samples": 5, "solver": "coordinate",
                                              "output": "ordinal"}),
        "ImplicitMF": ("ImplicitMF", {"n_epochs": 3}),
        "PopularityRecommender": ("PopularityRecommender", {}),
    }
    out = {}
    for key, (name, params) in configs.items():
        cls = getattr(skembrec, name)
        accepted = inspect.signature(cls).parameters
        params = {**{k: v for k, v in older.get(name, {}).items() if k in accepted}, **params}
        if "random_state" in accepted:
            params["random_state"] = 0
        target = np.round(y).clip(1, 5) if "Classifier" in name else y
        model = cls(**params).fit(X, target)
        out[f"{key}/predict"] = np.asarray(model.predict(X[:500]), dtype=np.float64)
        out[f"{key}/recommend"] = np.asarray(model.recommend(np.unique(X[:, 0])[:50], n=10))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--compare", default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    out = outputs()
    np.savez(args.output, **out)
    if args.compare:
        before = np.load(args.compare)
        for key in before:
            same = np.array_equal(before[key], out[key])
            print(f"{key}: {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
