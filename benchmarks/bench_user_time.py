"""What a user waits for: whole processes against Surprise, cold and warm (issue 18).

Four measurements, each a fresh Python process timed from the outside
(interpreter start, imports, TensorFlow's start-up and tracing included),
skembrec and Surprise alternated, medians of ``--repeats``:

1. ``script``: read the MovieLens-1M subset (users 1-2999), fit the
   default model (``FunkMF()`` / Surprise ``SVD()``) on the reference random
   split's 90%, predict the 10%: the script figure runs from the first
   line of the program to that prediction (imports, TensorFlow's start-up
   and tracing included). The same process then fits and predicts again:
   the warm figure; the whole-process wall time covers both.
2. ``grid``: ``GridSearchCV`` over ``n_factors`` [32, 64] and ``n_epochs``
   [5, 10] with 3 shuffled folds on MovieLens-100K (Surprise: its own
   ``GridSearchCV`` on the same grid, whose folds are shuffled too), whole
   process; ``grid1m``: the same on the MovieLens-1M subset.
3. ``small fits`` (skembrec only): ``FunkMF(n_epochs=1)`` on 5,000 ratings,
   20 fits in one warm process: the per-fit overhead (median).
4. ``predict``: the first and the second ``predict`` after fit on the 1M
   test pairs, and Surprise's predict loop on the same pairs.

Usage::

    python benchmarks/bench_user_time.py [--repeats 3] [--only script grid]
"""

import argparse
import json
import subprocess
import sys
import time

import _common as C

SCRIPT_SKEMBREC = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
import numpy as np
import _common as C
from skembrec import FunkMF
X, y = C.load_ratings("ml-1m-subset")
train, test = C.reference_split(len(y))
t_read = time.perf_counter()
model = FunkMF().fit(X[train], y[train])
t_fit = time.perf_counter()
first = model.predict(X[test])
t_pred1 = time.perf_counter()
model.predict(X[test])
t_pred2 = time.perf_counter()
rmse = C.rmse(y[test], first)
t_w = time.perf_counter()
FunkMF().fit(X[train], y[train]).predict(X[test])
warm = time.perf_counter() - t_w
print(json.dumps({{"inside": t_pred1 - t0, "read": t_read - t0, "fit": t_fit - t_read,
                  "predict_first": t_pred1 - t_fit, "predict_second": t_pred2 - t_pred1,
                  "warm_fit_predict": warm, "rmse": rmse}}))
"""

SCRIPT_SURPRISE = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
import numpy as np
import _common as C
from surprise import SVD
X, y = C.load_ratings("ml-1m-subset")
train, test = C.reference_split(len(y))
t_read = time.perf_counter()
algo = SVD()
algo.fit(C.surprise_trainset(X[train, 0], X[train, 1], y[train]))
t_fit = time.perf_counter()
pred, _ = C.surprise_predict(algo, X[test, 0], X[test, 1])
t_pred = time.perf_counter()
t_w = time.perf_counter()
algo = SVD(); algo.fit(C.surprise_trainset(X[train, 0], X[train, 1], y[train]))
C.surprise_predict(algo, X[test, 0], X[test, 1])
warm = time.perf_counter() - t_w
print(json.dumps({{"inside": t_pred - t0, "read": t_read - t0, "fit": t_fit - t_read,
                  "predict_first": t_pred - t_fit, "warm_fit_predict": warm,
                  "rmse": C.rmse(y[test], pred)}}))
"""

GRID_SKEMBREC = r"""
import json, sys
sys.path.insert(0, {bench!r})
import _common as C
from sklearn.model_selection import GridSearchCV, KFold
from skembrec import FunkMF
X, y = C.load_ratings({dataset!r})
# shuffled folds, as Surprise's cv=3 (the 1M subset is sorted by user)
search = GridSearchCV(FunkMF(), {{"n_factors": [32, 64], "n_epochs": [5, 10]}},
                      cv=KFold(3, shuffle=True, random_state=0),
                      scoring="neg_root_mean_squared_error").fit(X, y)
print(json.dumps({{"best": search.best_params_, "rmse": -search.best_score_}}))
"""

GRID_SURPRISE = r"""
import json, sys
sys.path.insert(0, {bench!r})
import pandas as pd
import _common as C
from surprise import SVD, Dataset, Reader
from surprise.model_selection import GridSearchCV
X, y = C.load_ratings({dataset!r})
frame = pd.DataFrame({{"u": X[:, 0], "i": X[:, 1], "r": y}})
data = Dataset.load_from_df(frame, Reader(rating_scale=(1, 5)))
search = GridSearchCV(SVD, {{"n_factors": [32, 64], "n_epochs": [5, 10]}}, measures=["rmse"],
                      cv=3)
search.fit(data)
print(json.dumps({{"best": search.best_params["rmse"], "rmse": search.best_score["rmse"]}}))
"""

SMALL_FITS = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
import _common as C
from skembrec import FunkMF
X, y = C.load_ratings("ml-100k")
X, y = X[:5000], y[:5000]
times = []
for _ in range(20):
    t = time.perf_counter()
    FunkMF(n_epochs=1).fit(X, y)
    times.append(time.perf_counter() - t)
print(json.dumps({{"first": times[0], "median_after_first": float(np.median(times[1:]))}}))
"""


def whole_process(code, **fields):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code.format(bench=str(C.HERE), **fields)],
                         capture_output=True, text=True, cwd=str(C.ROOT), timeout=1800)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=["script", "grid", "grid1m", "small"],
                        choices=["script", "grid", "grid1m", "small"])
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    runs = {"script": {"skembrec": [], "surprise": []},
            "grid": {"skembrec": [], "surprise": []},
            "grid1m": {"skembrec": [], "surprise": []}, "small": []}
    for repeat in range(args.repeats):
        if "script" in args.only:
            for side, code in (("skembrec", SCRIPT_SKEMBREC), ("surprise", SCRIPT_SURPRISE)):
                wall, inner = whole_process(code)
                runs["script"][side].append({"wall": wall, **inner})
                print(f"script {side} #{repeat}: {wall:.2f} s {inner}")
        for kind, dataset in (("grid", "ml-100k"), ("grid1m", "ml-1m-subset")):
            if kind not in args.only:
                continue
            for side, code in (("skembrec", GRID_SKEMBREC), ("surprise", GRID_SURPRISE)):
                wall, inner = whole_process(code, dataset=dataset)
                runs[kind][side].append({"wall": wall, **inner})
                print(f"{kind} {side} #{repeat}: {wall:.2f} s {inner}")
        if "small" in args.only:
            wall, inner = whole_process(SMALL_FITS)
            runs["small"].append(inner)
            print(f"small fits #{repeat}: {inner}")
    summary = {}
    for kind in ("script", "grid", "grid1m"):
        if runs[kind]["skembrec"]:
            ours = C.median([r["wall"] for r in runs[kind]["skembrec"]])
            theirs = C.median([r["wall"] for r in runs[kind]["surprise"]])
            summary[kind] = {"skembrec_s": ours, "surprise_s": theirs, "ratio": ours / theirs}
            if kind == "script":
                # the script alone (the process also runs a warm second fit)
                ours = C.median([r["inside"] for r in runs[kind]["skembrec"]])
                theirs = C.median([r["inside"] for r in runs[kind]["surprise"]])
                summary[kind].update(skembrec_script_s=ours, surprise_script_s=theirs,
                                     script_ratio=ours / theirs)
                for side in ("skembrec", "surprise"):
                    summary[kind][f"{side}_warm_fit_predict_s"] = C.median(
                        [r["warm_fit_predict"] for r in runs[kind][side]])
                    summary[kind][f"{side}_predict_first_s"] = C.median(
                        [r["predict_first"] for r in runs[kind][side]])
                summary[kind]["skembrec_predict_second_s"] = C.median(
                    [r["predict_second"] for r in runs[kind]["skembrec"]])
    if runs["small"]:
        summary["small"] = {k: C.median([r[k] for r in runs["small"]])
                            for k in ("first", "median_after_first")}
    print(json.dumps(summary, indent=1))
    C.write_results("user_time", {"benchmark": "user_time", "machine": C.machine_info(),
                                  "repeats": args.repeats, "summary": summary,
                                  "runs": runs}, args.output)


if __name__ == "__main__":
    main()
