"""Epoch throughput and held-out RMSE on a Netflix-shaped synthetic set.

Data: ``make_ratings(480189, 17770, 10_000_000, random_state=0)`` (the
Netflix Prize's numbers of users and items; ``--n-ratings`` shrinks it),
split at random: ``default_rng(7).permutation(n)``, the first 1% is test.

1. *Epoch throughput* (ratings/s) of ``FunkMF``, ``EmbeddingRegressor`` and
   ``EmbeddingClassifier`` at their default sizes (and ``FunkMF`` at
   Surprise's 100 factors), against Surprise's ``SVD(n_epochs=1,
   n_factors=k)`` at the same ``k``. An epoch of ours is the median wall
   time of epochs 2 to 1+E of one fit (each epoch is one compiled call,
   timed from outside; the first carries the tracing), in a process
   already warmed up by a small fit; ``overhead_s`` is the rest of that fit
   (vocabularies, tensor conversion, tracing). Without that hook the script
   falls back to ``(t(fit, 1+E epochs) - t(fit, 1 epoch)) / E``. Surprise's epoch is
   ``SVD(n_epochs=1).fit(trainset)`` after one untimed such fit; building
   its trainset is timed apart.
2. *Held-out RMSE after training*: ``FunkMF(n_epochs=10)`` (else defaults)
   against Surprise ``SVD()`` defaults (100 factors, 20 epochs), with the
   full fit times (ours includes TensorFlow start-up: it runs in a fresh
   process) and predict times of the test pairs.

Each measurement runs in a fresh process; the data are generated once and
cached as ``.npy`` files under ``--cache-dir``.

Usage::

    python benchmarks/bench_throughput.py                       # 10M ratings
    python benchmarks/bench_throughput.py --n-ratings 1000000 --repeats 1

Writes ``benchmarks/results/throughput.json``.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import _common as C
import numpy as np

N_USERS, N_ITEMS = 480_189, 17_770
ESTIMATORS = [("FunkMF", 64), ("FunkMF", 100), ("EmbeddingRegressor", 32),
              ("EmbeddingClassifier", 32)]


def dataset(n_ratings, cache_dir):
    """Generate (once) and cache the data; return the folder of the .npy files."""
    folder = Path(cache_dir) / f"netflix-shaped-{n_ratings}"
    if not (folder / "y.npy").exists():
        folder.mkdir(parents=True, exist_ok=True)
        with C.Timer() as t:
            X, y = C.netflix_shaped(n_ratings, N_USERS, N_ITEMS, random_state=0)
        print(f"generated {n_ratings} ratings in {t.seconds:.1f} s", flush=True)
        np.save(folder / "X.npy", X)
        np.save(folder / "y.npy", y.astype(np.float32))
        (folder / "generate_s.txt").write_text(f"{t.seconds}\n")
    return folder


def load(folder):
    X = np.load(folder / "X.npy")
    y = np.load(folder / "y.npy").astype(np.float64)
    perm = np.random.default_rng(7).permutation(len(y))
    n_test = len(y) // 100
    return X, y, perm[n_test:], perm[:n_test]


# ------------------------------------------------------------------ workers
def epoch_worker(p):
    import skembrec

    X, y, train, _ = load(Path(p["folder"]))
    X, y = X[train], y[train]
    cls = getattr(skembrec, p["estimator"])
    # warm up: TensorFlow start-up and the first tracing are paid here
    cls(n_factors=p["n_factors"], n_epochs=1, random_state=0).fit(X[:50_000], y[:50_000])
    times, method, fit_s, _ = C.time_epochs(
        lambda e: cls(n_factors=p["n_factors"], n_epochs=e, random_state=0),
        X, y, 1 + p["epochs"])
    epoch_s = float(np.median(times[1:]))
    return {"epoch_s": epoch_s, "epoch_min_s": float(np.min(times[1:])),
            "epoch_times": times, "method": method, "fit_s": fit_s,
            "overhead_s": fit_s - epoch_s * (1 + p["epochs"]), "n_train": len(y)}


def surprise_epoch_worker(p):
    from surprise import SVD

    X, y, train, _ = load(Path(p["folder"]))
    with C.Timer() as prep:
        trainset = C.surprise_trainset(X[train, 0], X[train, 1], y[train])
    out = {"prep_s": prep.seconds, "epoch_s": {}}
    # the first SVD fit after building a large trainset runs markedly slower
    # (seen on 10M ratings): one untimed epoch first, as ours are warmed up
    with C.Timer() as first:
        SVD(n_epochs=1, n_factors=min(p["factors"]), random_state=0).fit(trainset)
    out["first_epoch_untimed_s"] = first.seconds
    for k in p["factors"]:
        with C.Timer() as t:
            SVD(n_epochs=1, n_factors=k, random_state=0).fit(trainset)
        out["epoch_s"][str(k)] = t.seconds
    out["peak_rss_mb"] = C.peak_rss_mb()
    return out


def accuracy_worker(p):
    X, y, train, test = load(Path(p["folder"]))
    if p["model"] == "surprise":
        from surprise import SVD

        with C.Timer() as prep:
            trainset = C.surprise_trainset(X[train, 0], X[train, 1], y[train])
        algo = SVD(random_state=0)
        with C.Timer() as fit:
            algo.fit(trainset)
        pred, pred_s = C.surprise_predict(algo, X[test, 0], X[test, 1])
        return {"fit_s": fit.seconds, "prep_s": prep.seconds, "predict_s": pred_s,
                "rmse": C.rmse(y[test], pred), "mae": C.mae(y[test], pred),
                "params": "SVD() defaults: n_factors=100, n_epochs=20"}
    import skembrec

    est = getattr(skembrec, p["model"])(random_state=0, **p["params"])
    with C.Timer() as fit:
        est.fit(X[train], y[train])
    with C.Timer() as pred_t:
        pred = est.predict(X[test])
    with C.Timer() as pred2_t:
        est.predict(X[test])
    return {"fit_s": fit.seconds, "predict_s": pred_t.seconds,
            "predict_again_s": pred2_t.seconds,
            "rmse": C.rmse(y[test], pred), "mae": C.mae(y[test], pred),
            "params": f"{p['model']}({p['params']})"}


WORKERS = {"epoch": epoch_worker, "surprise_epoch": surprise_epoch_worker,
           "accuracy": accuracy_worker}


# ------------------------------------------------------------------ driver
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-ratings", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=3,
                        help="E: epochs timed beyond the first (see above)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--funk-epochs", type=int, default=10,
                        help="n_epochs of FunkMF in the accuracy comparison")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-dense", action="store_true",
                        help="time FunkMF only (not the two dense models)")
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "skembrec-bench"))
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        payload = json.loads(args.worker)
        print(json.dumps(WORKERS[payload["kind"]](payload), default=C._jsonable))
        return

    folder = dataset(args.n_ratings, args.cache_dir)
    estimators = [e for e in ESTIMATORS if not (args.skip_dense and e[0] != "FunkMF")]
    factors = sorted({k for _, k in estimators})
    runs = {f"{name}-{k}": [] for name, k in estimators}
    runs["surprise"] = []
    for repeat in range(args.repeats):
        for name, k in estimators:
            r = C.run_worker(__file__, {"kind": "epoch", "folder": str(folder),
                                         "estimator": name, "n_factors": k,
                                         "epochs": args.epochs})
            runs[f"{name}-{k}"].append(r)
            print(f"  repeat {repeat + 1}: {name}(n_factors={k}) epoch {r['epoch_s']:.2f} s",
                  flush=True)
        r = C.run_worker(__file__, {"kind": "surprise_epoch", "folder": str(folder),
                                     "factors": factors})
        runs["surprise"].append(r)
        print(f"  repeat {repeat + 1}: Surprise SVD 1 epoch {r['epoch_s']} "
              f"(trainset {r['prep_s']:.1f} s)", flush=True)
    n_train = runs[f"{estimators[0][0]}-{estimators[0][1]}"][0]["n_train"]
    rows = []
    for k in factors:
        s = C.median([r["epoch_s"][str(k)] for r in runs["surprise"]])
        rows.append({"model": "Surprise SVD", "k": k, "epoch_s": s,
                     "ratings_per_s": n_train / s, "vs_surprise": 1.0})
    for name, k in estimators:
        e = C.median([r["epoch_s"] for r in runs[f"{name}-{k}"]])
        s = C.median([r["epoch_s"][str(k)] for r in runs["surprise"]])
        rows.append({"model": name, "k": k, "epoch_s": e, "ratings_per_s": n_train / e,
                     "vs_surprise": s / e,
                     "overhead_s": C.median([r["overhead_s"] for r in runs[f"{name}-{k}"]])})
    C.print_table(rows, [("model", "model", ""), ("k", "factors", "d"),
                         ("epoch_s", "epoch s", ".2f"), ("ratings_per_s", "ratings/s", ",.0f"),
                         ("vs_surprise", "x Surprise", ".2f"),
                         ("overhead_s", "fit overhead s", ".2f")],
                  title=f"epoch throughput, {n_train} training ratings "
                        f"(medians of {args.repeats})")

    accuracy = []
    if not args.skip_accuracy:
        for payload in ({"model": "FunkMF", "params": {"n_epochs": args.funk_epochs}},
                        {"model": "surprise"}):
            r = C.run_worker(__file__, {"kind": "accuracy", "folder": str(folder), **payload})
            accuracy.append(r)
            print(f"  accuracy: {r['params']}: fit {r['fit_s']:.1f} s, RMSE {r['rmse']:.4f}",
                  flush=True)
        C.print_table(accuracy, [("params", "model", ""), ("fit_s", "fit s", ".1f"),
                                 ("prep_s", "trainset s", ".1f"),
                                 ("rmse", "test RMSE", ".4f"), ("mae", "MAE", ".4f"),
                                 ("predict_s", "predict s", ".3f")],
                      title="held-out RMSE on the 1% test split (one fresh process each)")

    generate_s = float((folder / "generate_s.txt").read_text())
    C.write_results("throughput", {
        "benchmark": "throughput", "machine": C.machine_info(),
        "config": {"n_ratings": args.n_ratings, "n_users": N_USERS, "n_items": N_ITEMS,
                   "n_train": n_train, "epochs_timed": args.epochs, "repeats": args.repeats,
                   "make_ratings_s": generate_s,
                   "epoch_definition": runs[f"{estimators[0][0]}-{estimators[0][1]}"][0]["method"]
                   + ": median of epochs 2..1+E of one fit, warm process"},
        "throughput": rows, "accuracy": accuracy, "runs": runs}, args.output)


if __name__ == "__main__":
    sys.exit(main())
