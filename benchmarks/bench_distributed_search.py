"""One GridSearchCV over FunkMF on four joblib backends: wall time and results.

The search: ``FunkMF(random_state=0)`` over ``n_factors`` [16, 64] x ``reg``
[0.01, 0.05] x ``n_epochs`` [5, 10] (8 candidates), cross-validated by
``TemporalProbeSplit(n_probe=10, n_splits=3)`` (3 rolling-origin folds: 24
fits, then the refit of the best candidate in the client), scored by RMSE.
Data: MovieLens-100K when ``find_dataset("ml-100k")`` finds it, otherwise
``make_ratings(943, 1682, 100_000, random_state=0)`` of the same shape.

Backends, each in a fresh interpreter (so TensorFlow starts cold in it):

- ``default``: ``n_jobs=1`` in the client process;
- ``loky``: ``n_jobs=2``, joblib's default process backend;
- ``dask``: ``joblib.parallel_backend("dask")`` on a ``LocalCluster`` of two
  worker processes with one thread each, on 127.0.0.1;
- ``ray``: Ray's joblib backend on ``ray.init(num_cpus=2)``, on 127.0.0.1.

Each process runs the search twice. ``first_s`` includes starting
TensorFlow in every worker (and tracing the training graphs); ``second_s``
shows the steady state where the backend keeps its workers (loky's reusable
executor and Dask's workers do; Ray's joblib pool starts new actors for each
search, so its second run pays the start-up again). Cluster start-up is
timed apart (``startup_s``). The repeats are interleaved across backends
(the machine is shared) and the medians are reported.

Usage::

    python benchmarks/bench_distributed_search.py                 # 3 repeats
    python benchmarks/bench_distributed_search.py --repeats 1 --backends default dask

Writes ``benchmarks/results/distributed_search.json``.
"""

import argparse
import json
import os
import sys
import time

import _common as C
import numpy as np

BACKENDS = ("default", "loky", "dask", "ray")
GRID = {"n_factors": [16, 64], "reg": [0.01, 0.05], "n_epochs": [5, 10]}
N_WORKERS = 2


# ------------------------------------------------------------------ worker
def _load_data():
    from skembrec.datasets import find_dataset, load_movielens, make_ratings

    if find_dataset("ml-100k") is not None:
        X, y = load_movielens("ml-100k", return_X_y=True)
        return X, y, "ml-100k"
    X, y = make_ratings(943, 1682, 100_000, random_state=0, return_X_y=True)
    return X, y, "make_ratings(943, 1682, 100000, random_state=0)"


def _make_search(n_jobs=None):
    from sklearn.model_selection import GridSearchCV

    from skembrec import FunkMF
    from skembrec.model_selection import TemporalProbeSplit

    return GridSearchCV(
        FunkMF(random_state=0), GRID,
        cv=TemporalProbeSplit(n_probe=10, n_splits=3, time_column="timestamp"),
        scoring="neg_root_mean_squared_error", n_jobs=n_jobs,
    )


def _rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None  # pragma: no cover


class _Backend:
    """Start a backend; ``context()`` wraps one search; ``close()`` ends it."""

    def __init__(self, name):
        import contextlib

        import joblib

        self.name = name
        self.n_jobs = None
        self.worker_rss_mb = None
        self._close = lambda: None
        if name == "default":
            self.n_jobs = 1
            self.context = contextlib.nullcontext
        elif name == "loky":
            self.n_jobs = N_WORKERS
            self.context = contextlib.nullcontext
        elif name == "dask":
            from dask.distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=N_WORKERS, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
            self._client = client

            def close():
                client.close()
                cluster.close()

            self._close = close
            self.context = lambda: joblib.parallel_backend("dask")
        elif name == "ray":
            # before Ray is imported: no usage report, loopback only
            os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
            import ray
            from ray.util.joblib import register_ray

            ray.init(num_cpus=N_WORKERS, include_dashboard=False,
                     _node_ip_address="127.0.0.1", log_to_driver=False)
            register_ray()
            self._close = ray.shutdown
            self.context = lambda: joblib.parallel_backend("ray")
        else:
            raise ValueError(name)

    def after_search(self):
        if self.name == "dask":
            self.worker_rss_mb = sorted(self._client.run(_rss_mb).values())

    def close(self):
        self._close()


def worker(payload):
    backend_name, n_searches = payload["backend"], payload["searches"]
    with C.Timer() as t_data:
        X, y, data_name = _load_data()
    with C.Timer() as t_start:
        backend = _Backend(backend_name)
    runs = []
    try:
        for _ in range(n_searches):
            search = _make_search(backend.n_jobs)
            with backend.context(), C.Timer() as t:
                search.fit(X, y)
            runs.append(t.seconds)
            backend.after_search()
    finally:
        with C.Timer() as t_close:
            backend.close()
    results = search.cv_results_
    return {
        "backend": backend_name,
        "data": data_name,
        "n_ratings": len(y),
        "load_s": t_data.seconds,
        "startup_s": t_start.seconds,
        "search_s": runs,
        "close_s": t_close.seconds,
        "best_params": search.best_params_,
        "best_rmse": -float(search.best_score_),
        "mean_test_rmse": (-results["mean_test_score"]).tolist(),
        "params": [dict(p) for p in results["params"]],
        "mean_fit_time_s": results["mean_fit_time"].tolist(),
        "client_peak_rss_mb": C.peak_rss_mb(),
        "dask_worker_rss_mb": backend.worker_rss_mb,
        "tensorflow_in_client": "tensorflow" in sys.modules,
        "skembrec_file": sys.modules["skembrec"].__file__,
    }


# -------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--searches", type=int, default=2,
                        help="searches per process (the first is cold)")
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--output", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(json.loads(args.worker)), default=C._jsonable))
        return

    backends = []
    for name in args.backends:
        module = {"dask": "dask.distributed", "ray": "ray.util.joblib"}.get(name)
        if module is not None:
            try:
                __import__(module)
            except ImportError as exc:
                print(f"skipping {name}: {exc}")
                continue
        backends.append(name)

    machine = C.machine_info()
    runs = {name: [] for name in backends}
    for repeat in range(args.repeats):
        for name in backends:
            out = C.run_worker(__file__, {"backend": name, "searches": args.searches},
                               timeout=1800)
            out["load_average"] = C.load_average()
            runs[name].append(out)
            print(f"repeat {repeat + 1}/{args.repeats} {name:8s} "
                  f"startup {out['startup_s']:6.1f}s  searches "
                  + "  ".join(f"{s:6.1f}s" for s in out["search_s"])
                  + f"  best {out['best_params']} rmse {out['best_rmse']:.4f}", flush=True)

    summary = []
    reference = runs[backends[0]][0] if backends else None
    for name in backends:
        outs = runs[name]
        row = {
            "backend": name,
            "workers": 1 if name == "default" else N_WORKERS,
            "startup_s": C.median([o["startup_s"] for o in outs]),
            "first_s": C.median([o["search_s"][0] for o in outs]),
            "second_s": C.median([o["search_s"][1] for o in outs])
            if args.searches > 1 else None,
            "best_params": json.dumps(outs[0]["best_params"], sort_keys=True),
            "best_rmse": outs[0]["best_rmse"],
            "same_as_default": all(
                o["best_params"] == reference["best_params"]
                and np.allclose(o["mean_test_rmse"], reference["mean_test_rmse"], rtol=1e-5)
                for o in outs),
            "max_rmse_diff": max(
                float(np.max(np.abs(np.subtract(o["mean_test_rmse"],
                                                reference["mean_test_rmse"]))))
                for o in outs),
        }
        summary.append(row)
    for row in summary:
        base = summary[0]
        row["first_speedup"] = base["first_s"] / row["first_s"]
        row["second_speedup"] = (base["second_s"] / row["second_s"]
                                 if row["second_s"] else None)
    C.print_table(summary, [
        ("backend", "backend", ""), ("workers", "workers", "d"),
        ("startup_s", "start-up s", ".1f"), ("first_s", "1st search s", ".1f"),
        ("first_speedup", "x", ".2f"), ("second_s", "2nd search s", ".1f"),
        ("second_speedup", "x", ".2f"), ("best_rmse", "best RMSE", ".4f"),
        ("same_as_default", "same as default", ""),
    ], title=f"GridSearchCV, {len(reference['params'])} candidates x 3 folds, "
             f"{reference['data']} (medians of {args.repeats})")
    print("best params:", summary[0]["best_params"] if summary else None)

    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("joblib", "scikit-learn", "dask", "distributed", "ray"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    result = {
        "benchmark": "GridSearchCV over FunkMF on joblib backends (default, loky, dask, ray)",
        "grid": GRID,
        "cv": "TemporalProbeSplit(n_probe=10, n_splits=3, time_column='timestamp')",
        "data": reference["data"] if reference else None,
        "repeats": args.repeats,
        "searches_per_process": args.searches,
        "summary": summary,
        "runs": runs,
        "versions": versions,
        "machine": machine,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    C.write_results("distributed_search", result, args.output)


if __name__ == "__main__":
    main()
