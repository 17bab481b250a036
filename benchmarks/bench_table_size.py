"""Step time as the user table grows, at a fixed batch and number of ratings.

For a user table of 10k, 100k, 1M and 2.6M rows, draws ``--n-ratings``
ratings (3M by default) whose user ids cover every row once and are
otherwise uniform over the table, with items uniform over 17,770, and
times a training epoch of ``FunkMF`` (64 factors, batch 4096) with the
``adagrad`` and the ``adam`` optimizer. An epoch is the median wall time of
epochs 2 to 1+E of one fit in a warmed-up process (each epoch is one
compiled call, timed from outside; the first carries the tracing); the
step time is the epoch time over the number of batches. The user table
has exactly N rows (plus the spare row for unknown ids).

For contrast, the plain Keras dot model (two ``Embedding(64)``, ``Dot``,
``model.fit`` with Adam, same batch), whose optimizer rewrites every row of
the table and its two slots each step, is timed at 10k and 1M rows on the
first ``--keras-ratings`` ratings (epoch 2 onwards, from a callback).

Goal (issue 4): step time at 2.6M users within 1.5x of the step at 10k.

Usage::

    python benchmarks/bench_table_size.py
    python benchmarks/bench_table_size.py --sizes 10000 1000000 --repeats 1

Writes ``benchmarks/results/table_size.json``.
"""

import argparse
import json
import sys
import time

import _common as C
import numpy as np

N_ITEMS = 17_770


def make_data(n_users, n_ratings, seed=0):
    rng = np.random.default_rng(seed)
    if n_users > n_ratings:
        raise ValueError(f"--n-ratings must be at least the table size {n_users}")
    users = np.concatenate([np.arange(n_users),
                            rng.integers(0, n_users, n_ratings - n_users)])
    rng.shuffle(users)
    items = rng.integers(0, N_ITEMS, n_ratings)
    y = rng.integers(1, 6, n_ratings).astype(np.float64)
    return np.stack([users, items], axis=1), y


def funk_worker(p):
    from skembrec import FunkMF

    X, y = make_data(p["n_users"], p["n_ratings"])
    params = dict(n_factors=p["n_factors"], batch_size=p["batch_size"],
                  optimizer=p["optimizer"], random_state=0)
    FunkMF(n_epochs=1, **params).fit(X[:20_000], y[:20_000])  # TF start-up
    times, method, fit_s, est = C.time_epochs(
        lambda e: FunkMF(n_epochs=e, **params), X, y, 1 + p["epochs"])
    assert est.n_users_ == p["n_users"]
    epoch_s = float(np.median(times[1:]))
    n_steps = -(-len(y) // p["batch_size"])
    return {"epoch_s": epoch_s, "step_ms": 1000 * epoch_s / n_steps, "n_steps": n_steps,
            "epoch_times": times, "method": method, "fit_s": fit_s,
            "peak_rss_mb": C.peak_rss_mb()}


def keras_worker(p):
    from skembrec._engine.backend import keras

    k = keras()
    X, y = make_data(p["n_users"], max(p["n_users"], p["keras_ratings"]))
    X, y = X[:p["keras_ratings"]], y[:p["keras_ratings"]].astype(np.float32)
    model = C.keras_dot_model(p["n_users"], N_ITEMS, p["n_factors"], optimizer="adam")
    times = []

    class EpochTimer(k.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self._start)

    model.fit([X[:, 0].astype(np.int32), X[:, 1].astype(np.int32)], y,
              batch_size=p["batch_size"], epochs=p["keras_epochs"], verbose=0,
              callbacks=[EpochTimer()], shuffle=True)
    epoch_s = float(np.median(times[1:]))
    n_steps = -(-len(y) // p["batch_size"])
    return {"epoch_s": epoch_s, "step_ms": 1000 * epoch_s / n_steps, "n_steps": n_steps,
            "epoch_times": times, "peak_rss_mb": C.peak_rss_mb()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[10_000, 100_000, 1_000_000, 2_600_000])
    parser.add_argument("--keras-sizes", type=int, nargs="*", default=[10_000, 1_000_000])
    parser.add_argument("--optimizers", nargs="+", default=["adagrad", "adam"])
    parser.add_argument("--n-ratings", type=int, default=3_000_000)
    parser.add_argument("--keras-ratings", type=int, default=400_000)
    parser.add_argument("--keras-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--n-factors", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="E, see above")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        p = json.loads(args.worker)
        fn = keras_worker if p["kind"] == "keras" else funk_worker
        print(json.dumps(fn(p), default=C._jsonable))
        return

    common = {"n_ratings": args.n_ratings, "batch_size": args.batch_size,
              "n_factors": args.n_factors, "epochs": args.epochs,
              "keras_ratings": args.keras_ratings, "keras_epochs": args.keras_epochs}
    jobs = [("FunkMF", opt, n) for opt in args.optimizers for n in args.sizes]
    jobs += [("Keras model.fit", "adam", n) for n in args.keras_sizes]
    runs = {f"{m}|{o}|{n}": [] for m, o, n in jobs}
    for repeat in range(args.repeats):
        for model, opt, n in jobs:
            kind = "keras" if model.startswith("Keras") else "funk"
            r = C.run_worker(__file__, {"kind": kind, "n_users": n, "optimizer": opt,
                                         **common})
            runs[f"{model}|{opt}|{n}"].append(r)
            print(f"  repeat {repeat + 1}: {model} {opt} {n:>9} users: "
                  f"step {r['step_ms']:.2f} ms", flush=True)
    rows = []
    for model, opt, n in jobs:
        rs = runs[f"{model}|{opt}|{n}"]
        step = C.median([r["step_ms"] for r in rs])
        smallest = min(args.sizes if model == "FunkMF" else args.keras_sizes)
        base = C.median([r["step_ms"] for r in runs[f"{model}|{opt}|{smallest}"]])
        rows.append({"model": model, "optimizer": opt, "n_users": n, "step_ms": step,
                     "epoch_s": C.median([r["epoch_s"] for r in rs]),
                     "ratings_per_s": args.batch_size / step * 1000,
                     "vs_smallest": step / base,
                     "peak_rss_mb": C.median([r["peak_rss_mb"] for r in rs])})
    C.print_table(rows, [("model", "model", ""), ("optimizer", "optimizer", ""),
                         ("n_users", "user rows", ",d"), ("step_ms", "step ms", ".2f"),
                         ("ratings_per_s", "ratings/s", ",.0f"),
                         ("vs_smallest", "x smallest", ".2f"),
                         ("peak_rss_mb", "peak RSS MB", ",.0f")],
                  title=f"batch {args.batch_size}, {args.n_factors} factors, "
                        f"FunkMF on {args.n_ratings} ratings, Keras on {args.keras_ratings} "
                        f"(medians of {args.repeats}); goal: 2.6M rows <= 1.5x 10k")
    C.write_results("table_size", {"benchmark": "table_size", "machine": C.machine_info(),
                                   "config": common | {"sizes": args.sizes,
                                                       "keras_sizes": args.keras_sizes},
                                   "rows": rows, "runs": runs}, args.output)


if __name__ == "__main__":
    sys.exit(main())
