"""Time to accuracy on MovieLens: skembrec's defaults against Surprise and Keras.

On MovieLens-100K and the first 2,999 users of MovieLens-1M, split 90/10 with
``numpy.random.default_rng(7).permutation(n)`` (the first 10% is the test
set, as in ``../shared/MEASUREMENTS.md``), compares

* ``FunkMF()``, ``EmbeddingRegressor()``, ``EmbeddingClassifier()`` (defaults),
* Surprise ``SVD()`` (defaults) and ``SVD(n_factors=100, n_epochs=40,
  lr_all=0.007, reg_all=0.05)``,
* the seed-style plain Keras dot model of 'Collaborative filtering in Keras'
  (two ``Embedding(20)``, ``Dot``, no biases, Adamax, ``model.fit`` with
  batch 1000, 30 epochs, ``model.predict`` with its default batch size),

reporting fit time, test RMSE and MAE, the time to predict the test pairs,
and ratios against Surprise's ``SVD()``.

Every repeat runs each model in a fresh Python process that fits twice:
the *cold* fit pays the one-time costs a user pays once per process
(TensorFlow import and start-up, graph tracing), the *warm* fit is a second
fit of a new estimator in the same process. The tables show medians over
``--repeats`` processes. Surprise's fit time is ``algo.fit(trainset)``; the
conversion of the ratings into its trainset is reported apart
(``prep_s``). Its predict time is ``algo.test`` on the test pairs (its own
per-pair path); ours is ``estimator.predict(X_test)`` (vocabulary lookup
included). The classifier's RMSE is that of its predicted class (MAE is its
stated metric); ``rmse_expected`` in the JSON uses the probability-weighted
mean rating.

Usage::

    python benchmarks/bench_time_to_accuracy.py                   # both datasets, 3 repeats
    python benchmarks/bench_time_to_accuracy.py --datasets ml-1m-subset --repeats 5
    python benchmarks/bench_time_to_accuracy.py --models FunkMF SVD --repeats 5
    python benchmarks/bench_time_to_accuracy.py --params '{"FunkMF": {"n_epochs": 6}}'

Writes ``benchmarks/results/time_to_accuracy.json``.
"""

import argparse
import json
import sys
import time

import _common as C
import numpy as np

MODELS = ["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier", "SVD", "SVD-100-40",
          "Keras-dot"]
SURPRISE_PARAMS = {
    "SVD": {},
    "SVD-100-40": dict(n_factors=100, n_epochs=40, lr_all=0.007, reg_all=0.05),
}
KERAS_DOT = dict(n_factors=20, optimizer="adamax", batch_size=1000, epochs=30)


# ------------------------------------------------------------------ worker
def fit_skembrec(name, X_tr, y_tr, X_te, seed, params):
    import skembrec

    est = getattr(skembrec, name)(random_state=seed, **params.get(name, {}))
    with C.Timer() as fit_t:
        est.fit(X_tr, y_tr)
    with C.Timer() as pred_t:
        pred = est.predict(X_te)
    extra = {"n_epochs": est.n_iter_}
    if name == "EmbeddingClassifier":
        proba = est.predict_proba(X_te)
        extra["expected"] = proba @ est.classes_.astype(np.float64)
    return fit_t.seconds, pred_t.seconds, np.asarray(pred, dtype=np.float64), extra


def fit_surprise(name, X_tr, y_tr, X_te, seed):
    from surprise import SVD

    with C.Timer() as prep_t:
        trainset = C.surprise_trainset(X_tr[:, 0], X_tr[:, 1], y_tr)
    algo = SVD(random_state=seed, **SURPRISE_PARAMS[name])
    with C.Timer() as fit_t:
        algo.fit(trainset)
    pred, pred_s = C.surprise_predict(algo, X_te[:, 0], X_te[:, 1])
    return fit_t.seconds, pred_s, pred, {"prep_s": prep_t.seconds}


def fit_keras_dot(X_tr, y_tr, X_te, seed):
    from skembrec._engine.backend import keras

    with C.Timer() as fit_t:
        k = keras()
        k.utils.set_random_seed(seed)
        n_users, (u_tr, u_te) = C.contiguous(X_tr[:, 0], X_te[:, 0])
        n_items, (i_tr, i_te) = C.contiguous(X_tr[:, 1], X_te[:, 1])
        model = C.keras_dot_model(n_users, n_items, KERAS_DOT["n_factors"],
                                  KERAS_DOT["optimizer"])
        model.fit([u_tr, i_tr], y_tr.astype(np.float32), epochs=KERAS_DOT["epochs"],
                  batch_size=KERAS_DOT["batch_size"], verbose=0)
    with C.Timer() as pred_t:
        pred = model.predict([u_te, i_te], verbose=0)[:, 0]
    with C.Timer() as pred_big_t:
        model.predict([u_te, i_te], batch_size=KERAS_DOT["batch_size"], verbose=0)
    return (fit_t.seconds, pred_t.seconds, pred.astype(np.float64),
            {"predict_s_batch1000": pred_big_t.seconds, "n_epochs": KERAS_DOT["epochs"]})


def worker(payload):
    t0 = time.perf_counter()
    data = C.load_ratings(payload["dataset"])
    load_s = time.perf_counter() - t0
    X, y = data
    train, test = C.reference_split(len(y))
    X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]
    name = payload["model"]
    fits = []
    for fit_index in range(payload["fits"]):
        seed = payload["seed"] + fit_index
        if name in SURPRISE_PARAMS:
            fit_s, pred_s, pred, extra = fit_surprise(name, X_tr, y_tr, X_te, seed)
        elif name == "Keras-dot":
            fit_s, pred_s, pred, extra = fit_keras_dot(X_tr, y_tr, X_te, seed)
        else:
            fit_s, pred_s, pred, extra = fit_skembrec(name, X_tr, y_tr, X_te, seed,
                                                      payload.get("params", {}))
        row = {"fit_s": fit_s, "predict_s": pred_s, "rmse": C.rmse(y_te, pred),
               "mae": C.mae(y_te, pred)}
        if "expected" in extra:
            expected = extra.pop("expected")
            row["rmse_expected"] = C.rmse(y_te, expected)
            row["mae_expected"] = C.mae(y_te, expected)
        row.update(extra)
        fits.append(row)
    return {"load_s": load_s, "n_train": len(train), "n_test": len(test), "fits": fits}


# ------------------------------------------------------------------ driver
def summarise(runs):
    """Medians over processes: cold = each process's first fit, warm = the rest."""
    cold = [r["fits"][0] for r in runs]
    warm = [f for r in runs for f in r["fits"][1:]]
    out = {
        "fit_cold_s": C.median([f["fit_s"] for f in cold]),
        "fit_warm_s": C.median([f["fit_s"] for f in warm]),
        "predict_cold_s": C.median([f["predict_s"] for f in cold]),
        "predict_warm_s": C.median([f["predict_s"] for f in warm]),
    }
    every = cold + warm
    for key in ("rmse", "mae", "rmse_expected", "mae_expected", "prep_s",
                "predict_s_batch1000", "n_epochs"):
        values = [f[key] for f in every if key in f]
        if values:
            out[key] = C.median(values)
            if key in ("rmse", "mae"):
                out[key + "_range"] = [float(min(values)), float(max(values))]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(C.DATASETS),
                        choices=list(C.DATASETS))
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per model (each fits --fits times)")
    parser.add_argument("--fits", type=int, default=2,
                        help="fits per process: the first is cold, the others warm")
    parser.add_argument("--params", default="{}",
                        help='non-default parameters, e.g. \'{"FunkMF": {"n_epochs": 6}}\'')
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), default=C._jsonable))
        return

    result = {"benchmark": "time_to_accuracy", "machine": C.machine_info(),
              "config": {"repeats": args.repeats, "fits": args.fits,
                         "params": json.loads(args.params),
                         "keras_dot": KERAS_DOT, "surprise": SURPRISE_PARAMS,
                         "split": "default_rng(7).permutation(n), first 10% test"},
              "datasets": {}}
    for dataset in args.datasets:
        path = C.locate(dataset)
        if path is None:
            print(f"\n{dataset}: skipped, data not found (see skembrec.datasets.find_dataset)")
            result["datasets"][dataset] = {"skipped": "data not found"}
            continue
        runs = {m: [] for m in args.models}
        for repeat in range(args.repeats):
            # interleave the models so that background load hits them alike
            for model in args.models:
                payload = {"dataset": dataset, "model": model, "fits": args.fits,
                           "seed": 100 * repeat, "params": json.loads(args.params)}
                run = C.run_worker(__file__, payload)
                runs[model].append(run)
                print(f"  {dataset} repeat {repeat + 1}/{args.repeats} {model}: "
                      + ", ".join(f"fit {f['fit_s']:.2f}s rmse {f['rmse']:.4f}"
                                  for f in run["fits"]), flush=True)
        rows = []
        base = summarise(runs["SVD"]) if "SVD" in runs else None
        for model in args.models:
            row = {"model": model, **summarise(runs[model])}
            if base:
                row["fit_cold_vs_svd"] = row["fit_cold_s"] / base["fit_warm_s"]
                row["fit_warm_vs_svd"] = row["fit_warm_s"] / base["fit_warm_s"]
                row["predict_speedup_vs_svd"] = base["predict_warm_s"] / row["predict_warm_s"]
            rows.append(row)
        first = next(iter(runs.values()))[0]
        result["datasets"][dataset] = {
            "file": str(path), "n_train": first["n_train"], "n_test": first["n_test"],
            "rows": rows, "runs": runs}
        C.print_table(rows, [
            ("model", "model", ""),
            ("fit_cold_s", "fit cold s", ".2f"),
            ("fit_warm_s", "fit warm s", ".2f"),
            ("fit_cold_vs_svd", "cold/SVD", ".2f"),
            ("fit_warm_vs_svd", "warm/SVD", ".2f"),
            ("rmse", "RMSE", ".4f"),
            ("mae", "MAE", ".4f"),
            ("predict_warm_s", "predict s", ".4f"),
            ("predict_speedup_vs_svd", "predict x SVD", ".1f"),
        ], title=f"{dataset}: {first['n_train']} train / {first['n_test']} test ratings, "
                 f"medians of {args.repeats} processes (ratios vs Surprise SVD() fit, "
                 f"Surprise trainset build excluded)")
    C.write_results("time_to_accuracy", result, args.output)


if __name__ == "__main__":
    sys.exit(main())
