"""Peak resident memory of a fit on the Netflix-shaped 10M set.

Each fit runs in a fresh child process that loads the cached data
(``make_ratings(480189, 17770, n, random_state=0)``, stored as ``.npy`` as
in ``bench_throughput.py``), imports TensorFlow, resets the peak RSS
counter (``/proc/self/clear_refs``), fits, and reports

* ``VmHWM`` over the fit alone and over the whole process,
* RSS before the fit (data + TensorFlow),
* the parent's ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` as a cross-check,

next to the size of the input arrays and of the tables the model holds
(factors + biases, and their optimizer slots). Surprise's ``SVD`` is
measured the same way for reference (its trainset build included in the
fit peak, since it is how Surprise takes data).

Usage::

    python benchmarks/bench_memory.py                      # 10M ratings, FunkMF 3 epochs
    python benchmarks/bench_memory.py --n-ratings 1000000 --n-epochs 1 --models FunkMF

Writes ``benchmarks/results/memory.json``.
"""

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

import _common as C
import numpy as np
from bench_throughput import N_ITEMS, N_USERS, dataset

MODELS = ["FunkMF", "FunkMF-adam", "EmbeddingRegressor", "SurpriseSVD"]


def worker(p):
    folder = Path(p["folder"])
    X = np.load(folder / "X.npy")
    y = np.load(folder / "y.npy")
    info = {"rss_data_mb": C.rss_mb(), "X_mb": X.nbytes / 2**20, "y_mb": y.nbytes / 2**20}
    model = p["model"]
    if model == "SurpriseSVD":
        from surprise import SVD

        info["rss_before_fit_mb"] = C.rss_mb()
        info["reset_ok"] = C.reset_peak_rss()
        with C.Timer() as t:
            trainset = C.surprise_trainset(X[:, 0], X[:, 1], y)
            SVD(n_epochs=p["n_epochs"], random_state=0).fit(trainset)
        k, slots = 100, 0
        n_users, n_items = trainset.n_users, trainset.n_items
    else:
        import skembrec
        from skembrec._engine.backend import keras, tf

        tf(), keras()
        info["rss_before_fit_mb"] = C.rss_mb()
        info["reset_ok"] = C.reset_peak_rss()
        name, _, opt = model.partition("-")
        params = {"n_epochs": p["n_epochs"], "random_state": 0}
        if opt:
            params["optimizer"] = opt
        est = getattr(skembrec, name)(**params)
        with C.Timer() as t:
            est.fit(X, y)
        k = est.n_factors
        slots = {"adagrad": 1, "adam": 2, "sgd": 0}[est.optimizer]
        n_users, n_items = est.n_users_, est.n_items_
    tables = (n_users + n_items + 2) * (k + (1 if model.startswith("FunkMF") else 0)) * 4
    if model == "SurpriseSVD":  # float64 factors and biases
        tables = (n_users + n_items) * (k + 1) * 8
    info.update({
        "fit_s": t.seconds, "peak_fit_mb": C.peak_rss_mb(), "rss_after_fit_mb": C.rss_mb(),
        "n_users": n_users, "n_items": n_items, "n_factors": k,
        "tables_mb": tables / 2**20, "tables_with_slots_mb": tables * (1 + slots) / 2**20,
    })
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-ratings", type=int, default=10_000_000)
    parser.add_argument("--n-epochs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "skembrec-bench"))
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), default=C._jsonable))
        return
    folder = dataset(args.n_ratings, args.cache_dir)
    rows = []
    for model in args.models:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        r = C.run_worker(__file__, {"folder": str(folder), "model": model,
                                     "n_epochs": args.n_epochs})
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        # ru_maxrss of children is the max over all children so far
        r["children_maxrss_mb"] = after if after > before else None
        r["model"] = model
        r["peak_over_baseline_mb"] = r["peak_fit_mb"] - r["rss_before_fit_mb"]
        rows.append(r)
        print(f"  {model}: peak during fit {r['peak_fit_mb']:.0f} MB "
              f"(before fit {r['rss_before_fit_mb']:.0f} MB)", flush=True)
    C.print_table(rows, [("model", "model", ""), ("fit_s", "fit s", ".1f"),
                         ("rss_data_mb", "RSS data MB", ",.0f"),
                         ("rss_before_fit_mb", "RSS before fit MB", ",.0f"),
                         ("peak_fit_mb", "peak in fit MB", ",.0f"),
                         ("peak_over_baseline_mb", "peak - before MB", ",.0f"),
                         ("children_maxrss_mb", "ru_maxrss MB", ",.0f"),
                         ("tables_with_slots_mb", "tables+slots MB", ",.0f")],
                  title=f"{args.n_ratings} ratings ({N_USERS} users, {N_ITEMS} items): "
                        f"X {rows[0]['X_mb']:.0f} MB + y {rows[0]['y_mb']:.0f} MB, "
                        f"{args.n_epochs} epochs")
    C.write_results("memory", {"benchmark": "memory", "machine": C.machine_info(),
                               "config": {"n_ratings": args.n_ratings,
                                          "n_epochs": args.n_epochs},
                               "rows": rows}, args.output)


if __name__ == "__main__":
    sys.exit(main())
