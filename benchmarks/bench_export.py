"""Prediction throughput of an exported SavedModel against ``estimator.predict``.

Data: MovieLens-100K (``load_ratings("ml-100k")``, found under
``$SKEMBREC_DATA`` or ``../shared/datasets``), else ``make_ratings(943, 1682,
100_000, random_state=0)``. Each estimator (the three rating models, AutoRec,
ImplicitMF) is fitted on all
the ratings (its defaults, ``n_epochs=2``, ``random_state=0``: the speed of
``predict`` does not depend on the training), then written twice: with
``save`` (skembrec's npz) and with ``export`` (a SavedModel).

Each side then runs in a fresh process on the same 100,000 (user, item)
pairs, raw ids in:

* the estimator: ``cls.load(npz)``, then ``model.predict(X)``;
* the SavedModel, in a process that imports TensorFlow only:
  ``tf.saved_model.load(folder)``, then
  ``signatures["predict"](user=tf.constant(u), item=tf.constant(i))``
  (the classifier's signature also gives the probabilities).

``load_s`` is the load, ``cold_s`` the first call (whatever tracing and
graph optimisation it triggers), ``warm_s`` the median of the next 5 calls
and ``pairs_per_s`` 100,000 / ``warm_s``; ``speedup`` is the estimator's
``warm_s`` over the SavedModel's. The classifier's signature gives the
ratings and the probabilities in one call, so its row also compares with
``predict`` plus ``predict_proba`` (``speedup_vs_predict_and_proba``).

Each side runs in ``--repeats`` fresh processes (3), the two sides taking
turns, and the table shows the median over them of each number: on a busy
machine one process alone can be off by a third.

Usage::

    python benchmarks/bench_export.py [--repeats 3] [--output PATH]

Writes ``benchmarks/results/export.json``.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import _common as C
import numpy as np

ESTIMATORS = ("FunkMF", "EmbeddingRegressor", "EmbeddingClassifier", "AutoRec", "ImplicitMF")
N_WARM = 5


def data():
    loaded = C.load_ratings("ml-100k")
    if loaded is not None:
        X, y = loaded
        return X.astype(np.int64), y, "MovieLens-100K (u.data)"
    from skembrec.datasets import make_ratings

    X, y = make_ratings(943, 1682, 100_000, random_state=0, return_X_y=True,
                        as_frame=False)
    return np.asarray(X[:, :2], dtype=np.int64), y, "make_ratings(943, 1682, 100_000)"


def _timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _timings(load, call):
    start = time.perf_counter()
    model = load()
    load_s = time.perf_counter() - start
    cold_s = _timed(lambda: call(model))
    warm = [_timed(lambda: call(model)) for _ in range(N_WARM)]
    return {"load_s": load_s, "cold_s": cold_s, "warm_s": float(np.median(warm)),
            "warm_all_s": warm}


# ------------------------------------------------------------------ workers
def estimator_worker(p):
    import skembrec

    X = np.load(p["pairs"])
    cls = getattr(skembrec, p["estimator"])
    result = _timings(lambda: cls.load(p["npz"]), lambda model: model.predict(X))
    if p["estimator"] == "EmbeddingClassifier":
        both = _timings(lambda: cls.load(p["npz"]),
                        lambda model: (model.predict(X), model.predict_proba(X)))
        result["warm_with_proba_s"] = both["warm_s"]
    return result


def saved_model_worker(p):
    import tensorflow as tf

    X = np.load(p["pairs"])

    def call(model):
        out = model.signatures["predict"](user=tf.constant(X[:, 0]),
                                          item=tf.constant(X[:, 1]))
        return {k: v.numpy() for k, v in out.items()}

    result = _timings(lambda: tf.saved_model.load(p["folder"]), call)
    result["skembrec_imported"] = "skembrec" in sys.modules
    return result


WORKERS = {"estimator": estimator_worker, "saved_model": saved_model_worker}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="fresh processes per side (the table shows medians)")
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        payload = json.loads(args.worker)
        print(json.dumps(WORKERS[payload["kind"]](payload), default=C._jsonable))
        return

    import skembrec

    X, y, source = data()
    rows, runs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        pairs = Path(tmp) / "pairs.npy"
        np.save(pairs, X)
        for name in ESTIMATORS:
            model = getattr(skembrec, name)(n_epochs=2, random_state=0).fit(X, y)
            npz, folder = Path(tmp) / f"{name}.npz", Path(tmp) / name
            model.save(npz)
            start = time.perf_counter()
            model.export(folder)
            export_s = time.perf_counter() - start
            payloads = {
                "estimator.predict": {"kind": "estimator", "estimator": name,
                                      "npz": str(npz), "pairs": str(pairs)},
                "SavedModel predict": {"kind": "saved_model", "folder": str(folder),
                                       "pairs": str(pairs)}}
            sides = {side: [] for side in payloads}
            for repeat in range(args.repeats):
                # the two sides take turns, so that both meet the same load
                for side in sorted(payloads, reverse=bool(repeat % 2)):
                    sides[side].append(C.run_worker(__file__, payloads[side]))
            assert not any(r.pop("skembrec_imported") for r in sides["SavedModel predict"])
            runs[name] = sides
            for side, results in sides.items():
                row = {"estimator": name, "path": side}
                for key in results[0]:
                    if not key.endswith("_all_s"):
                        row[key] = C.median([r[key] for r in results])
                row["pairs_per_s"] = len(X) / row["warm_s"]
                rows.append(row)
            ours, saved = rows[-2], rows[-1]
            saved["export_s"] = export_s
            saved["speedup"] = ours["warm_s"] / saved["warm_s"]
            if "warm_with_proba_s" in ours:
                saved["speedup_vs_predict_and_proba"] = \
                    ours["warm_with_proba_s"] / saved["warm_s"]
            print(f"  {name}: estimator {ours['warm_s']:.4f} s, "
                  f"SavedModel {saved['warm_s']:.4f} s", flush=True)
    C.print_table(rows, [("estimator", "estimator", ""), ("path", "path", ""),
                         ("load_s", "load s", ".2f"), ("cold_s", "cold s", ".3f"),
                         ("warm_s", "warm s", ".4f"), ("pairs_per_s", "pairs/s", ",.0f"),
                         ("speedup", "speed-up", ".2f"),
                         ("speedup_vs_predict_and_proba", "vs predict+proba", ".2f"),
                         ("export_s", "export s", ".2f")],
                  title=f"predict on {len(X):,} pairs ({source}), medians of "
                        f"{args.repeats} fresh processes each")
    C.write_results("export", {
        "benchmark": "export", "machine": C.machine_info(),
        "config": {"data": source, "n_pairs": len(X), "n_warm": N_WARM,
                   "repeats": args.repeats, "params": {"n_epochs": 2, "random_state": 0}},
        "predict": rows, "runs": runs}, args.output)


if __name__ == "__main__":
    main()
