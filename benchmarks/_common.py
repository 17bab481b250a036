"""Helpers shared by the benchmark scripts (not part of the package).

Data loading and the reference split, timing, the baselines (Surprise's SVD
and a seed-style plain Keras dot model), subprocess workers, tables and the
JSON results under ``benchmarks/results/``.
"""

import functools
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

if str(ROOT) not in sys.path:
    # run from a checkout without installing; a PYTHONPATH entry still wins
    sys.path.append(str(ROOT))

# the real datasets of MEASUREMENTS.md: (find_dataset name, file, separator)
DATASETS = {
    "ml-100k": ("ml-100k", "u.data", "\t"),
    "ml-1m-subset": ("ml-1m", "ratings_users_1-2999.dat.gz", "::"),
}


# ------------------------------------------------------------------ data
def locate(name):
    """Path of a real ratings file, or None when the dataset is absent."""
    from skembrec.datasets import find_dataset

    folder_name, file_name, _ = DATASETS[name]
    folder = find_dataset(folder_name)
    if folder is None and (ROOT.parent / "shared" / "datasets" / folder_name).exists():
        # a package imported from elsewhere (PYTHONPATH) looks beside itself
        folder = ROOT.parent / "shared" / "datasets" / folder_name
    if folder is None or not (Path(folder) / file_name).exists():
        return None
    return Path(folder) / file_name


def load_ratings(name):
    """``(X, y)`` as NumPy arrays (X: user, item) of a real dataset, or None."""
    path = locate(name)
    if path is None:
        return None
    try:
        from skembrec.datasets import load_movielens
    except ImportError:  # older checkouts: read the file directly
        import pandas as pd

        sep = DATASETS[name][2]
        frame = pd.read_csv(path, sep=sep, header=None, engine="python",
                            names=["user", "item", "rating", "timestamp"])
        X = frame[["user", "item"]].to_numpy()
        y = frame["rating"].to_numpy(dtype=np.float64)
        return X, y
    X, y = load_movielens(path, return_X_y=True, as_frame=False)
    return np.ascontiguousarray(X[:, :2]), np.asarray(y, dtype=np.float64)


# the MovieLens attributes both BayesianMF's and myFM's "full" designs read
USER_ATTRIBUTES = ("age", "gender", "occupation", "zip")
ITEM_ATTRIBUTES = ("genres", "year")


@functools.lru_cache(maxsize=4)
def attribute_tables(folder):
    """``(users, items)``: a MovieLens folder's attributes, sorted by id.

    ``users``: id, age (ML-100K in 5-year bins, ML-1M its age code), gender,
    occupation, zip (its first character), all strings but the id;
    ``items``: id, genres (``"|"``-joined names) and year (of release:
    ML-100K from the release date, ML-1M from the title; missing: None).
    Read from ``u.user``/``u.item`` (ML-100K) or ``users.dat``/``movies.dat``
    (ML-1M, ``::``-separated, latin-1).
    """
    import pandas as pd

    folder = Path(folder)
    if (folder / "u.user").exists():
        users = pd.read_csv(folder / "u.user", sep="|", header=None,
                            names=["id", "age", "gender", "occupation", "zip"])
        users["age"] = users["age"] // 5 * 5
        raw = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1")
        names = pd.read_csv(folder / "u.genre", sep="|", header=None)[0].tolist()
        flags = raw.iloc[:, 5:5 + len(names)].to_numpy(dtype=bool)
        genres = ["|".join(n for n, on in zip(names, row) if on) for row in flags]
        year = raw[2].astype(str).str[-4:].where(raw[2].notna())
        items = pd.DataFrame({"id": raw[0], "genres": genres, "year": year})
    elif (folder / "users.dat").exists():
        def read(name, columns):
            return pd.read_csv(folder / name, sep="::", header=None, engine="python",
                               encoding="latin-1", names=columns)

        users = read("users.dat", ["id", "gender", "age", "occupation", "zip"])
        movies = read("movies.dat", ["id", "title", "genres"])
        year = movies["title"].str.extract(r"\((\d{4})\)\s*$", expand=False)
        items = pd.DataFrame({"id": movies["id"], "genres": movies["genres"], "year": year})
    else:
        raise FileNotFoundError(f"no u.user/u.item nor users.dat/movies.dat in {folder}")
    users = users.sort_values("id", kind="stable").reset_index(drop=True)
    for column in USER_ATTRIBUTES:
        users[column] = users[column].astype(str)
    users["zip"] = users["zip"].str[0]
    items = items.sort_values("id", kind="stable").reset_index(drop=True)
    items["year"] = items["year"].astype(object).where(items["year"].notna(), None)
    return users[["id", *USER_ATTRIBUTES]], items[["id", *ITEM_ATTRIBUTES]]


def with_attributes(X, folder):
    """``X`` (user, item, timestamp) as a frame with :func:`attribute_tables`'
    columns joined on (an id without attributes: missing values)."""
    import pandas as pd

    users, items = attribute_tables(folder)
    frame = pd.DataFrame({"user": X[:, 0], "item": X[:, 1], "timestamp": X[:, 2]})
    frame = frame.merge(users.rename(columns={"id": "user"}), on="user", how="left")
    return frame.merge(items.rename(columns={"id": "item"}), on="item", how="left")


def reference_split(n, seed=7, test_fraction=0.1):
    """The split of MEASUREMENTS.md: permutation(n), the first 10% is test."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(n * test_fraction)
    return perm[n_test:], perm[:n_test]


def netflix_shaped(n_ratings, n_users=480_189, n_items=17_770, random_state=0):
    """``(X, y)`` (X: user, item as int64) from ``make_ratings``."""
    from skembrec.datasets import make_ratings

    X, y = make_ratings(n_users, n_items, n_ratings, random_state=random_state,
                        return_X_y=True, as_frame=False)
    return np.ascontiguousarray(X[:, :2]), np.asarray(y, dtype=np.float64)


def fast_ratings(n_ratings, n_users, n_items, seed=0, zipf=True):
    """Netflix-shaped ratings straight from NumPy, for very large sizes.

    Users and items follow Zipf-like laws (shuffled ranks) as in
    ``make_ratings``; ratings come from a rank-8 planted model plus noise,
    rounded to 1..5. Pairs may repeat (harmless for timing).
    """
    rng = np.random.default_rng(seed)

    def draw(n, size, exponent):
        if not zipf:
            return rng.integers(0, n, size, dtype=np.int64)
        weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
        rng.shuffle(weights)
        cdf = np.cumsum(weights)
        cdf /= cdf[-1]
        out = np.empty(size, dtype=np.int64)
        step = 10_000_000
        for lo in range(0, size, step):
            hi = min(size, lo + step)
            out[lo:hi] = np.searchsorted(cdf, rng.random(hi - lo))
        return np.minimum(out, n - 1)

    users = draw(n_users, n_ratings, 0.9)
    items = draw(n_items, n_ratings, 1.0)
    pu = rng.normal(0, 0.5, (n_users, 8)).astype(np.float32)
    qi = rng.normal(0, 0.5, (n_items, 8)).astype(np.float32)
    bu = rng.normal(0, 0.4, n_users).astype(np.float32)
    bi = rng.normal(0, 0.4, n_items).astype(np.float32)
    y = np.empty(n_ratings, dtype=np.float32)
    step = 5_000_000
    for lo in range(0, n_ratings, step):
        hi = min(n_ratings, lo + step)
        u, i = users[lo:hi], items[lo:hi]
        value = 3.4 + bu[u] + bi[i] + np.einsum("ij,ij->i", pu[u], qi[i])
        value += rng.normal(0, 0.6, hi - lo).astype(np.float32)
        y[lo:hi] = np.clip(np.round(value), 1, 5)
    return np.stack([users, items], axis=1), y


def rmse(y_true, y_pred):
    return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))


def mae(y_true, y_pred):
    return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))


# --------------------------------------------------------------- timing
class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start


def median(values):
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def load_average():
    try:
        return list(os.getloadavg())
    except OSError:  # pragma: no cover
        return None


def peak_rss_mb():
    """This process's peak resident memory (VmHWM) in MB, or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None  # pragma: no cover


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover
        return False


# ------------------------------------------------------------- baselines
def surprise_trainset(users, items, ratings, rating_scale=(1, 5)):
    """A Surprise trainset built from arrays (the conversion is timed apart)."""
    import pandas as pd
    from surprise import Dataset, Reader

    frame = pd.DataFrame({"u": users, "i": items, "r": ratings})
    data = Dataset.load_from_df(frame, Reader(rating_scale=rating_scale))
    return data.build_full_trainset()


def surprise_predict(algo, users, items):
    """Surprise's own per-pair path: ``algo.test`` on (user, item, r) tuples."""
    testset = list(zip(users.tolist(), items.tolist(), [0.0] * len(users)))
    with Timer() as t:
        predictions = algo.test(testset)
    return np.array([p.est for p in predictions]), t.seconds


def keras_dot_model(n_users, n_items, n_factors=20, optimizer="adamax"):
    """The 'Collaborative filtering in Keras' graph: Embedding . Embedding.

    No biases and no global mean, as in the write-up; compiled with MSE and
    trained with ``model.fit`` (dense optimizer updates of the whole tables).
    """
    from skembrec._engine.backend import keras

    k = keras()
    user = k.Input(shape=(1,), dtype="int32")
    item = k.Input(shape=(1,), dtype="int32")
    p = k.layers.Flatten()(k.layers.Embedding(n_users, n_factors)(user))
    q = k.layers.Flatten()(k.layers.Embedding(n_items, n_factors)(item))
    out = k.layers.Dot(axes=1)([p, q])
    model = k.Model([user, item], out)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def contiguous(train_ids, *other):
    """Index arrays 0..n-1 for raw ids (unknown ids -> n, a spare row)."""
    uniques, codes = np.unique(train_ids, return_inverse=True)
    out = [codes.astype(np.int32)]
    for ids in other:
        pos = np.searchsorted(uniques, ids)
        pos = np.minimum(pos, len(uniques) - 1)
        known = uniques[pos] == ids
        out.append(np.where(known, pos, len(uniques)).astype(np.int32))
    return len(uniques) + 1, out


# --------------------------------------------------------- subprocesses
def run_worker(script, payload, timeout=3600):
    """Run ``script --worker JSON`` in a fresh interpreter; return its JSON.

    The worker prints one JSON object on its last stdout line.
    """
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [sys.executable, str(script), "--worker", json.dumps(payload)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(
            f"worker failed ({proc.returncode}): {payload}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------- reporting
def machine_info():
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "load_average_start": load_average(),
        "skembrec": package_info(),
    }
    try:
        from skembrec._engine.backend import keras, tf

        tf(), keras()  # quietly, as the package does
    except Exception:  # noqa: BLE001
        pass
    for name in ("numpy", "tensorflow", "keras", "surprise"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - optional packages
            info[name] = None
    try:
        import tensorflow as tf

        info["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
    except Exception:  # noqa: BLE001
        info["gpus"] = None
    return info


def package_info():
    """Which skembrec was timed: its path, version, and the checkout's commit."""
    import skembrec

    path = Path(skembrec.__file__).resolve().parent
    info = {"path": str(path), "version": getattr(skembrec, "__version__", None)}
    try:
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10)
        if head.returncode == 0:
            info["git_head"] = head.stdout.strip()
            info["uncommitted_changes"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):  # pragma: no cover
        pass
    return info


def fmt(value, spec):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def print_table(rows, columns, title=None):
    """rows: list of dicts; columns: list of (key, header, format spec)."""
    cells = [[fmt(row.get(key), spec) for key, _, spec in columns] for row in rows]
    headers = [h for _, h, _ in columns]
    widths = [max(len(h), *(len(c[j]) for c in cells)) if cells else len(h)
              for j, h in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for c in cells:
        print("| " + " | ".join(v.rjust(w) for v, w in zip(c, widths)) + " |")
    sys.stdout.flush()


def write_results(name, result, output=None):
    # a relative --output is read from the benchmarks folder, as the
    # scripts' usage lines write it (--output results/....json)
    path = RESULTS.parent / output if output else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    result.setdefault("machine", {})["load_average_end"] = load_average()
    result["command"] = " ".join([Path(sys.executable).name] + sys.argv)
    path.write_text(json.dumps(result, indent=2, default=_jsonable) + "\n")
    print(f"\nwrote {path}")
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# ------------------------------------------------------- epoch timing
def time_epochs(make_estimator, X, y, n_epochs):
    """Per-epoch wall times of one ``fit`` with ``n_epochs`` epochs.

    Times each call of the trainer's per-epoch entry point (one compiled
    ``tf.function`` call) when the package has one
    (``skembrec._base.Trainer.run_epoch``); the first epoch includes the
    tracing, so callers use epochs 2 onwards. Without that hook it falls
    back to ``(t(fit, n_epochs) - t(fit, 1)) / (n_epochs - 1)``. Returns
    ``(times, method, fit_seconds, estimator)``.
    """
    try:
        from skembrec import _base

        trainer = _base.Trainer
        original = trainer.run_epoch
    except (ImportError, AttributeError):
        trainer = None
    if trainer is not None:
        times = []

        def run_epoch(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                times.append(time.perf_counter() - start)

        trainer.run_epoch = run_epoch
        try:
            with Timer() as fit:
                est = make_estimator(n_epochs).fit(X, y)
        finally:
            trainer.run_epoch = original
        return times, "per-epoch call timing", fit.seconds, est
    with Timer() as one:
        make_estimator(1).fit(X, y)
    with Timer() as fit:
        est = make_estimator(n_epochs).fit(X, y)
    per = (fit.seconds - one.seconds) / (n_epochs - 1)
    return [None] + [per] * (n_epochs - 1), "fit-time difference", fit.seconds, est
