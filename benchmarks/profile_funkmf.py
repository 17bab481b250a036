"""Where FunkMF's fit and predict time goes, phase by phase.

Wraps the package's internal steps with timers (nothing is modified on
disk) and fits ``FunkMF()`` on the MovieLens-1M subset split of
``MEASUREMENTS.md`` in a fresh process, twice (cold, then warm), then
predicts the test pairs twice. Phases:

* ``import skembrec``, TensorFlow + Keras import (inside the first fit),
* input validation, id vocabularies, target statistics,
* graph build, ``to_tensors``, ``Trainer`` set-up,
* the first epoch (includes tracing the epoch ``tf.function``) and the others,
* unknown-row fill and the seen-pairs matrix,
* predict: validation, vocabulary lookup, the ``tf.function`` call (with
  its tracing on the first call), clipping.

Usage::

    python benchmarks/profile_funkmf.py [--dataset ml-1m-subset] [--repeats 3]

Writes ``benchmarks/results/profile_funkmf.json``.
"""

import argparse
import json
import sys
import time
from collections import defaultdict

import _common as C
import numpy as np


def worker(payload):
    t0 = time.perf_counter()
    import skembrec
    import_s = time.perf_counter() - t0

    from skembrec import _base
    from skembrec._engine import backend as _backend
    from skembrec._engine import runtime as _runtime
    from skembrec._engine.trainers import ratings as _training
    from skembrec._input import validation as _validation
    from skembrec._input.vocab import IdVocabulary

    X, y = C.load_ratings(payload["dataset"])
    train, test = C.reference_split(len(y))
    X_tr, y_tr, X_te, y_te = X[train], y[train], X[test], y[test]

    times = defaultdict(float)
    epochs = []

    def wrap(owner, attr, label, per_call=None):
        raw = vars(owner).get(attr) if isinstance(owner, type) else None
        if isinstance(raw, classmethod):
            func = raw.__func__

            def timed_cls(cls, *args, **kwargs):
                start = time.perf_counter()
                try:
                    return func(cls, *args, **kwargs)
                finally:
                    times[label] += time.perf_counter() - start

            setattr(owner, attr, classmethod(timed_cls))
            return
        original = getattr(owner, attr)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                dt = time.perf_counter() - start
                times[label] += dt
                if per_call is not None:
                    per_call.append(dt)

        setattr(owner, attr, timed)

    # TensorFlow/Keras import happens lazily inside the first fit
    wrap(_backend, "tf", "tf_import")
    wrap(_backend, "keras", "keras_import")
    wrap(_validation, "check_X", "check_X")
    wrap(IdVocabulary, "fit", "vocab_fit")
    wrap(IdVocabulary, "transform", "vocab_transform")
    wrap(_base.RegressionTarget, "fit", "target_stats")
    wrap(_runtime, "build", "build_graph")
    wrap(_training, "to_tensors", "to_tensors")
    wrap(_training.Trainer, "__init__", "trainer_init")
    wrap(_training.Trainer, "run_epoch", "epochs", per_call=epochs)
    wrap(_base, "fill_unknown_rows", "fill_unknown_rows")
    wrap(_base, "merge_seen", "record_seen")
    wrap(_base.BaseEmbeddingModel, "_output", "predict_tf_call")

    report = {"import_skembrec_s": import_s, "fits": [], "predicts": []}
    for fit_index in range(payload["fits"]):
        times.clear()
        epochs.clear()
        est = skembrec.FunkMF(random_state=fit_index, **payload.get("params", {}))
        with C.Timer() as fit_t:
            est.fit(X_tr, y_tr)
        phases = dict(times)
        # tf() / keras() are called many times; only the first call imports
        phases["first_epoch_s"] = epochs[0]
        phases["other_epochs_median_s"] = float(np.median(epochs[1:])) if len(epochs) > 1 else None
        phases["other_epochs_total_s"] = float(np.sum(epochs[1:]))
        phases["fit_s"] = fit_t.seconds
        phases["accounted_s"] = sum(v for k, v in times.items()
                                    if k not in ("keras_import",))
        report["fits"].append(phases)
        for _ in range(payload["predicts"]):
            times.clear()
            with C.Timer() as pred_t:
                pred = est.predict(X_te)
            p = dict(times)
            p["predict_s"] = pred_t.seconds
            p["rmse"] = C.rmse(y_te, pred)
            p["fit_index"] = fit_index
            report["predicts"].append(p)
    report["n_train"], report["n_test"] = len(train), len(test)
    report["n_epochs"] = est.n_iter_
    report["ratings_per_s_steady"] = (
        len(train) / report["fits"][-1]["other_epochs_median_s"])
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-1m-subset", choices=list(C.DATASETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fits", type=int, default=2)
    parser.add_argument("--predicts", type=int, default=2)
    parser.add_argument("--params", default="{}", help="FunkMF parameters as JSON")
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker)), default=C._jsonable))
        return
    if C.locate(args.dataset) is None:
        print(f"{args.dataset}: data not found, nothing to profile")
        return
    payload = {"dataset": args.dataset, "fits": args.fits, "predicts": args.predicts,
               "params": json.loads(args.params)}
    runs = [C.run_worker(__file__, payload) for _ in range(args.repeats)]
    keys = ["fit_s", "tf_import", "keras_import", "check_X", "vocab_fit", "vocab_transform",
            "target_stats",
            "build_graph", "to_tensors", "trainer_init", "first_epoch_s",
            "other_epochs_median_s", "other_epochs_total_s", "fill_unknown_rows",
            "record_seen"]
    rows = []
    for fit_index in range(args.fits):
        row = {"what": "fit cold" if fit_index == 0 else f"fit warm {fit_index}"}
        for key in keys:
            row[key] = C.median([r["fits"][fit_index].get(key) for r in runs])
        rows.append(row)
    print(f"\nFunkMF({args.params}) on {args.dataset}: {runs[0]['n_train']} train ratings, "
          f"{runs[0]['n_epochs']} epochs, median of {args.repeats} processes; "
          f"import skembrec {C.median([r['import_skembrec_s'] for r in runs]):.3f} s")
    for row in rows:
        print(f"\n{row['what']}:")
        for key in keys:
            if row.get(key) is not None:
                print(f"  {key:24s} {row[key]:8.3f} s")
    prow = []
    for j in range(len(runs[0]["predicts"])):
        p = {"what": f"predict #{j} (fit {runs[0]['predicts'][j]['fit_index']})"}
        for key in ("predict_s", "check_X", "vocab_transform", "predict_tf_call", "rmse"):
            p[key] = C.median([r["predicts"][j].get(key) for r in runs])
        prow.append(p)
    C.print_table(prow, [("what", "predict call", ""), ("predict_s", "total s", ".4f"),
                         ("check_X", "check_X s", ".4f"),
                         ("vocab_transform", "vocab s", ".4f"),
                         ("predict_tf_call", "tf call s", ".4f"), ("rmse", "RMSE", ".4f")],
                  title=f"predict {runs[0]['n_test']} pairs")
    C.write_results("profile_funkmf", {"benchmark": "profile_funkmf",
                                       "machine": C.machine_info(),
                                       "config": payload, "fits": rows, "predicts": prow,
                                       "runs": runs}, args.output)


if __name__ == "__main__":
    sys.exit(main())
