"""Do XLA or mixed precision speed up training? Epoch times with and without.

On the MovieLens-1M subset (users 1-2999, all ratings), times the compiled
epochs (epochs 2-4 of a 4-epoch fit, median; the first epoch traces) of

* ``FunkMF(optimizer="adam")`` and ``EmbeddingRegressor()`` as shipped
  (one ``tf.function`` per epoch, no XLA);
* the same with the training step compiled by XLA
  (``tf.function(jit_compile=True)`` around the trainer's per-replica step,
  patched in for this benchmark only). FunkMF's default ``adagrad`` cannot
  be compiled at all: TensorFlow has no XLA kernel for
  ``ResourceSparseApplyAdagradV2`` (the script records the error);
* ``EmbeddingRegressor()`` under the global Keras policy ``mixed_bfloat16``
  (FunkMF's graph stays float32 under any policy, so it is not timed).

Each configuration runs ``--repeats`` times in one process, interleaved, and
the table gives the median epoch time and its ratio to the shipped graph.

Usage::

    python benchmarks/bench_xla_precision.py [--repeats 3]

Writes ``benchmarks/results/xla_precision.json``.
"""

import argparse
import re

import _common as C
import numpy as np


def configurations():
    from skembrec import EmbeddingRegressor, FunkMF

    return [
        ("FunkMF(optimizer='adam')", "graph", lambda n: FunkMF(
            n_epochs=n, optimizer="adam", learning_rate=0.005, random_state=0)),
        ("FunkMF(optimizer='adam')", "xla", lambda n: FunkMF(
            n_epochs=n, optimizer="adam", learning_rate=0.005, random_state=0)),
        ("FunkMF() (adagrad)", "xla", lambda n: FunkMF(n_epochs=n, random_state=0)),
        ("EmbeddingRegressor()", "graph", lambda n: EmbeddingRegressor(
            n_epochs=n, random_state=0)),
        ("EmbeddingRegressor()", "xla", lambda n: EmbeddingRegressor(
            n_epochs=n, random_state=0)),
        ("EmbeddingRegressor()", "mixed_bfloat16", lambda n: EmbeddingRegressor(
            n_epochs=n, random_state=0)),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output")
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from skembrec._engine.trainers import ratings as _training

    X, y = C.load_ratings("ml-1m-subset")
    original_init = _training.Trainer.__init__
    mode = {"xla": False}

    def init(self, *a, **kw):
        original_init(self, *a, **kw)
        if mode["xla"]:
            self._replica_step = tf.function(self._replica_step, jit_compile=True)

    _training.Trainer.__init__ = init
    times, errors, train_rmse = {}, {}, {}
    for repeat in range(args.repeats):
        for model, variant, make in configurations():
            key = (model, variant)
            if key in errors:
                continue
            mode["xla"] = variant == "xla"
            keras.mixed_precision.set_global_policy(
                "mixed_bfloat16" if variant == "mixed_bfloat16" else "float32")
            try:
                epochs, _, _, est = C.time_epochs(make, X, y, 4)
            except Exception as exc:  # noqa: BLE001 - recorded, not hidden
                text = str(exc)
                # TensorFlow's first line is generic; the reason is the
                # "unsupported operations" line further down
                found = re.search(r"unsupported operations[^\n]*?: (\w+) \(No registered", text)
                reason = (f"no XLA kernel for {found.group(1)}" if found
                          else text.split("\n")[0][:300])
                errors[key] = f"{type(exc).__name__}: {reason}"
                print(f"{model} {variant}: fails: {errors[key]}", flush=True)
                continue
            finally:
                keras.mixed_precision.set_global_policy("float32")
            times.setdefault(key, []).append(float(np.median(epochs[1:])))
            train_rmse[key] = C.rmse(y[:50_000], est.predict(X[:50_000]))
            print(f"repeat {repeat + 1}: {model} {variant}: {times[key][-1]:.3f} s/epoch",
                  flush=True)
    _training.Trainer.__init__ = original_init

    rows = []
    for model, variant, _ in configurations():
        key = (model, variant)
        base = times.get((model, "graph"))
        row = {"model": model, "variant": variant, "error": errors.get(key)}
        if key in times:
            row.update(epoch_s=C.median(times[key]), runs=times[key],
                       train_rmse_first_50k=train_rmse[key])
            if base:
                row["vs_graph"] = row["epoch_s"] / C.median(base)
        rows.append(row)
    C.print_table(rows, [("model", "model", ""), ("variant", "variant", ""),
                         ("epoch_s", "epoch s (median)", ".3f"), ("vs_graph", "x graph", ".2f"),
                         ("error", "error", "")],
                  title=f"MovieLens-1M subset ({len(y):,} ratings), epochs 2-4 of a fit")
    C.write_results("xla_precision", {"machine": C.machine_info(),
                                      "package": C.package_info(), "results": rows},
                    args.output)


if __name__ == "__main__":
    main()
