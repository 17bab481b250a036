"""A catalogue of hostile and careless inputs, one entry point at a time.

Each case is a call a new user might make, with what it must meet: a clear
error of ours (type and a pattern of its message, which names the argument,
file or line) or a correct result. ``tests/test_hostile_battery.py`` runs
them all; ``scripts/bad_input_table.py`` renders them as the docs' table.
Fitted models are made once per process by :func:`fitted` (small data, one
epoch), so the catalogue stays quick.
"""

import functools
import gzip
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError


@dataclass(frozen=True)
class Case:
    entry: str           # the public entry point, as a user would name it
    name: str            # what is wrong
    call: object         # () -> result
    error: type = None   # the exception it must raise; None: it must work
    match: str = ""      # a regex its message must match (re.search)
    check: object = None  # result -> bool, for the cases that must work


rng = np.random.default_rng(0)
X = np.column_stack([rng.integers(0, 20, 300), rng.integers(0, 15, 300),
                     rng.integers(10**9, 10**9 + 10**7, 300)])
y = rng.integers(1, 6, 300).astype(float)
SMALL = dict(n_factors=4, n_epochs=1, batch_size=128, random_state=0)


def est(name, **params):
    import skembrec

    return getattr(skembrec, name)(**{**SMALL, **params})


def bayes(**params):
    from skembrec import BayesianMF

    return BayesianMF(n_factors=2, n_epochs=3, n_burn_in=1, n_kept_samples=2,
                      random_state=0, **params)


@functools.cache
def fitted(name="FunkMF"):
    return est(name).fit(X, y)


def with_value(array, row, value, dtype=None):
    out = np.array(array, dtype=dtype if dtype is not None else np.asarray(array).dtype)
    out[row] = value
    return out


def folder():
    return Path(tempfile.mkdtemp(prefix="skembrec-hostile-"))


def text_file(text, name="u.data", mode="w"):
    path = folder() / name
    if mode == "wb":
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def truncated_gzip():
    data = gzip.compress(b"1::2::5::978300760\n" * 1000)
    return text_file(data[: len(data) // 2], "ratings.dat.gz", "wb")


def saved(change=None, name="FunkMF"):
    """A saved model file, its header changed by ``change`` (checksums kept valid)."""
    from skembrec._io import persistence as _persistence

    path = folder() / "m.npz"
    fitted(name).save(path)
    if change is None:
        return path
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    change(header, arrays)
    header["sha256"] = {key: _persistence._digest(a) for key, a in arrays.items()}
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    return path


def shards(change=None):
    from skembrec.datasets import make_ratings, write_rating_shards

    out = folder()
    write_rating_shards(make_ratings(30, 20, 200, random_state=0).frame, out,
                        rows_per_shard=100)
    if change is not None:
        meta = json.loads((out / "_shards.json").read_text())
        change(meta, out)
        (out / "_shards.json").write_text(json.dumps(meta))
    return out


def finite(result):
    return np.isfinite(np.asarray(result, dtype=float)).all()


def frame_time(values):
    return pd.DataFrame({"user": X[:, 0], "item": X[:, 1], "t": values})


def _set(key, value):
    def change(header, arrays):
        target = header
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    return change


def _load(path, cls="FunkMF"):
    import skembrec

    return getattr(skembrec, cls).load(path)


def _netflix(text, name="mv_0000001.txt"):
    from skembrec.datasets import load_netflix

    path = folder() / "training_set"
    path.mkdir()
    (path / name).write_text(text)
    return load_netflix(path.parent)


def _scorer(**kwargs):
    from skembrec.metrics import make_ranking_scorer

    return make_ranking_scorer(**kwargs)


def _metric(name, *args, **kwargs):
    from skembrec import metrics

    return getattr(metrics, name)(*args, **kwargs)


def _split(cls, X_, y_=None, **params):
    from skembrec import model_selection

    return list(getattr(model_selection, cls)(**params).split(X_, y_))


def _make(**kwargs):
    from skembrec.datasets import make_ratings

    return make_ratings(**kwargs)


def _shards_read(path):
    from skembrec.datasets import RatingShards

    return RatingShards(path)


def _shards_write(data, path, **kwargs):
    from skembrec.datasets import write_rating_shards

    return write_rating_shards(data, path, **kwargs)


def _load_movielens(path):
    from skembrec.datasets import load_movielens

    return load_movielens(path)


def _from_factors(**kwargs):
    from skembrec import FunkMF

    base = dict(user_ids=[1, 2], item_ids=[1, 2, 3], user_factors=np.ones((2, 3)),
                item_factors=np.ones((3, 3)))
    base.update(kwargs)
    return FunkMF.from_factors(base.pop("user_ids"), base.pop("item_ids"),
                               base.pop("user_factors"), base.pop("item_factors"), **base)


V, T, NF = ValueError, TypeError, NotFittedError
MODELS = ["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier"]

CASES = [
    # ------------------------------------------------------------ fit: ratings
    *(Case(f"{m}.fit", "NaN rating", lambda m=m: est(m).fit(X, with_value(y, 3, np.nan)),
           V, "y|NaN|finite") for m in MODELS),
    Case("FunkMF.fit", "inf rating", lambda: est("FunkMF").fit(X, with_value(y, 3, np.inf)),
         V, "inf at row 3"),
    Case("FunkMF.fit", "text rating", lambda: est("FunkMF").fit(
        X, with_value(y, 7, "five", object)), V, "y|number|float"),
    Case("FunkMF.fit", "complex ratings", lambda: est("FunkMF").fit(X, y + 1j), V, "omplex"),
    Case("FunkMF.fit", "2-D y", lambda: est("FunkMF").fit(X, np.c_[y, y]), V, "y|1d|1-D|shape"),
    Case("FunkMF.fit", "y of another length", lambda: est("FunkMF").fit(X, y[:-1]), V,
         "samples|length|inconsistent"),
    Case("FunkMF.fit", "ratings as bools", lambda: est("FunkMF").fit(X, y > 3),
         None, check=lambda m: finite(m.predict(X))),
    *(Case("FunkMF.fit", f"ratings times {f:g}", lambda f=f: est("FunkMF").fit(X, y * f),
           None, check=lambda m, f=f: np.allclose(m.predict(X) / f, fitted().predict(X),
                                                  atol=1e-5))
      for f in (1e300, 1e-300)),
    Case("FunkMF.fit", "one rating", lambda: est("FunkMF").fit(X[:1], y[:1]),
         None, check=lambda m: finite(m.predict(X))),
    Case("FunkMF.fit", "all ratings equal", lambda: est("FunkMF").fit(X, np.full(300, 4.0)),
         None, check=lambda m: np.allclose(m.predict(X), 4.0)),
    Case("EmbeddingClassifier.fit", "one class", lambda: est("EmbeddingClassifier").fit(
        X, np.full(300, 4)), V, "2 classes"),
    Case("EmbeddingClassifier.fit", "continuous target", lambda: est(
        "EmbeddingClassifier").fit(X, y + rng.random(300)), V, "continuous|class"),
    # ------------------------------------------------------------ fit: X
    Case("FunkMF.fit", "NaN user id", lambda: est("FunkMF").fit(
        with_value(X.astype(float), (5, 0), np.nan), y), V, "user|missing|NaN"),
    Case("FunkMF.fit", "None item id", lambda: est("FunkMF").fit(
        with_value(X.astype(object), (9, 1), None), y), V, "item|missing"),
    Case("FunkMF.fit", "X with one column", lambda: est("FunkMF").fit(X[:, :1], y), V,
         "2 columns|two columns|column"),
    Case("FunkMF.fit", "X with 3 dimensions", lambda: est("FunkMF").fit(X[:, :, None], y), V,
         "dim|2D|2-D"),
    Case("FunkMF.fit", "empty X", lambda: est("FunkMF").fit(X[:0], y[:0]), V,
         "sample|empty"),
    Case("FunkMF.fit", "X is a string", lambda: est("FunkMF").fit("ratings.csv", y), V,
         "X|array|string"),
    Case("FunkMF.fit", "X is a scalar", lambda: est("FunkMF").fit(5, y), V, "X|array|2D"),
    Case("FunkMF.fit", "X is None", lambda: est("FunkMF").fit(None, y), (V, T), "X|None"),
    Case("FunkMF.fit", "sparse X", lambda: est("FunkMF").fit(
        __import__("scipy.sparse", fromlist=["x"]).csr_matrix(X), y), (V, T), "sparse"),
    Case("FunkMF.fit", "unhashable id", lambda: est("FunkMF").fit(
        with_value(X.astype(object), (0, 0), {"a": 1}), y), (V, T), "id|hashable"),
    Case("FunkMF.fit", "ids of mixed types", lambda: est("FunkMF").fit(
        with_value(X.astype(object), (0, 0), "u0"), y),
         None, check=lambda m: m.n_users_ == len(set(X[1:, 0])) + 1),
    Case("FunkMF.fit", "float ids 1.0 and 1", lambda: est("FunkMF").fit(
        X.astype(float), y), None, check=lambda m: finite(m.predict(X))),
    Case("FunkMF.fit", "ids near 2**63", lambda: est("FunkMF").fit(pd.DataFrame(
        {"u": np.array([2**63 - 1, 2**63 - 2], dtype=np.uint64), "i": [1, 2]}), [4.0, 3.0]),
         None, check=lambda m: finite(m.predict(pd.DataFrame(
             {"u": np.array([2**63 - 1], dtype=np.uint64), "i": [1]})))),
    Case("FunkMF.fit", "duplicate column names", lambda: est("FunkMF").fit(
        pd.DataFrame(X[:, :2], columns=["a", "a"]), y), (V, T), "column|duplicate|unique"),
    Case("FunkMF.fit", "a million columns of nothing", lambda: est("FunkMF").fit(
        np.zeros((3, 0)), y[:3]), V, "column|feature"),
    # ------------------------------------------------------------ fit: time
    Case("FunkMF.fit", "time_column beyond X", lambda: est("FunkMF", time_column=7).fit(X, y),
         V, "time_column"),
    Case("FunkMF.fit", "time_column on the user ids", lambda: est(
        "FunkMF", time_column=0).fit(X, y), V, "time_column"),
    Case("FunkMF.fit", "time_column names no column", lambda: est(
        "FunkMF", time_column="when").fit(frame_time(X[:, 2]), y), V, "time_column|when"),
    Case("FunkMF.fit", "date strings as times", lambda: est("FunkMF", time_column="t").fit(
        frame_time([f"2020-01-0{i % 9 + 1}" for i in range(300)]), y), V,
         "to_datetime|time"),
    Case("FunkMF.fit", "NaT time", lambda: est("FunkMF", time_column="t").fit(frame_time(
        with_value(pd.to_datetime(X[:, 2], unit="s").to_numpy(), 4, np.datetime64("NaT"))),
        y), V, "missing times"),
    Case("FunkMF.fit", "infinite time", lambda: est("FunkMF", time_column="t").fit(
        frame_time(with_value(X[:, 2].astype(float), 4, np.inf)), y), V, "infinite"),
    Case("FunkMF.fit", "bool times", lambda: est("FunkMF", time_column="t").fit(
        frame_time(X[:, 2] > 10**9 + 5 * 10**6), y), V, "time"),
    Case("FunkMF.fit", "tz-aware times", lambda: est("FunkMF", time_column="t").fit(
        frame_time(pd.to_datetime(X[:, 2], unit="s", utc=True)), y),
         None, check=lambda m: finite(m.predict(frame_time(
             pd.to_datetime(X[:, 2], unit="s", utc=True))))),
    # ------------------------------------------------------------ fit: weights
    Case("FunkMF.fit", "sample_weight of another length", lambda: est("FunkMF").fit(
        X, y, sample_weight=np.ones(5)), V, "sample_weight"),
    Case("FunkMF.fit", "negative sample_weight", lambda: est("FunkMF").fit(
        X, y, sample_weight=-np.ones(300)), V, "sample_weight|negative"),
    Case("FunkMF.fit", "NaN sample_weight", lambda: est("FunkMF").fit(
        X, y, sample_weight=with_value(np.ones(300), 2, np.nan)), V, "sample_weight|NaN|finite"),
    Case("FunkMF.fit", "all-zero sample_weight", lambda: est("FunkMF").fit(
        X, y, sample_weight=np.zeros(300)), V, "sample_weight|zero|positive"),
    Case("FunkMF.fit", "text sample_weight", lambda: est("FunkMF").fit(
        X, y, sample_weight=["a"] * 300), (V, T), "sample_weight|float|number"),
    Case("FunkMF.fit", "tiny uniform sample_weight", lambda: est("FunkMF").fit(
        X, y, sample_weight=np.full(300, 1e-30)),
         None, check=lambda m: np.allclose(m.predict(X), fitted().predict(X), atol=1e-5)),
    # ------------------------------------------------------------ parameters
    *(Case(f"FunkMF({p}={v!r})", "bad parameter", lambda p=p, v=v: est(
        "FunkMF", **{p: v}).fit(X, y), V, p) for p, v in [
        ("n_factors", -1), ("n_factors", 0), ("n_factors", True), ("n_factors", 2.5),
        ("n_factors", "8"), ("n_epochs", 0), ("batch_size", 0), ("batch_size", None),
        ("learning_rate", 0), ("learning_rate", float("nan")), ("learning_rate", -1.0),
        ("reg", -0.1), ("reg", float("inf")), ("optimizer", "adamw"),
        ("optimizer", None), ("init_std", -1.0), ("validation_fraction", 1.5),
        ("validation_fraction", 0), ("n_iter_no_change", 0), ("random_state", "seed"),
        ("verbose", "loud"), ("n_time_bins", -2), ("clip_predictions", "yes"),
        ("early_stopping", 1.5)]),
    *(Case(f"EmbeddingRegressor({p}={v!r})", "bad parameter", lambda p=p, v=v: est(
        "EmbeddingRegressor", **{p: v}).fit(X, y), V, p) for p, v in [
        ("hidden_layer_sizes", (8, -2)), ("hidden_layer_sizes", "64"),
        ("hidden_layer_sizes", (8.5,)), ("activation", "relux"), ("dropout", 1.0),
        ("dropout", -0.1), ("user_factors", 0), ("batch_norm", "yes")]),
    Case("EmbeddingClassifier(decision='mean')", "bad parameter", lambda: est(
        "EmbeddingClassifier", decision="mean").fit(X, y), V, "decision"),
    # tables larger than memory: our error names the sizes, not TensorFlow's
    # allocator
    Case("FunkMF(n_time_bins=10**12)", "tables larger than memory", lambda: est(
        "FunkMF", time_column=2, n_time_bins=10**12).fit(X, y), V,
         r"more memory than is available \(n_factors=4, n_time_bins=1000000000000\)"),
    Case("FunkMF(n_factors=10**11)", "tables larger than memory", lambda: est(
        "FunkMF", n_factors=10**11).fit(X, y), V, "n_factors=100000000000"),
    Case("BayesianMF(n_time_bins=10**12)", "tables larger than memory", lambda: bayes(
        time_column=2, n_time_bins=10**12).fit(X, y), V, "n_time_bins=1000000000000"),
    Case("BayesianMF(n_time_bins=5)", "a date group without a date column", lambda: bayes(
        n_time_bins=5).fit(X, y), V, "time_column=None, n_time_bins=5"),
    Case("BayesianMF(time_column=2)", "a date column without a date group", lambda: bayes(
        time_column=2).fit(X, y), V, "n_time_bins"),
    Case("BayesianMF(solver='blocked', n_time_bins=5)", "a date group the sampler lacks",
         lambda: bayes(time_column=2, n_time_bins=5, solver="blocked").fit(X, y), V,
         "solver='coordinate'"),
    Case("FunkMF(batch_size=2**40)", "a batch larger than the data", lambda: est(
        "FunkMF", batch_size=2**40).fit(X, y), None, check=lambda m: finite(m.predict(X))),
    # ------------------------------------------------------------ predict & co.
    *(Case(f"{m}.predict", "before fit", lambda m=m: est(m).predict(X), NF, "not fitted")
      for m in MODELS),
    Case("FunkMF.recommend", "before fit", lambda: est("FunkMF").recommend(1), NF,
         "not fitted"),
    Case("FunkMF.save", "before fit", lambda: est("FunkMF").save(folder() / "m.npz"), NF,
         "not fitted"),
    Case("FunkMF.predict", "X with another number of columns", lambda: fitted().predict(
        X[:, :2]), V, "features|columns"),
    Case("FunkMF.predict", "unknown ids", lambda: fitted().predict([[10**9, 10**9, 0]]),
         None, check=finite),
    Case("FunkMF.predict", "NaN id (missing)", lambda: fitted().predict([[np.nan, 3, 0]]),
         None, check=finite),
    Case("FunkMF.predict", "string ids for integer vocab", lambda: fitted().predict(
        np.array([["a", "b", 0]], dtype=object)), None, check=finite),
    Case("FunkMF.predict", "empty X", lambda: fitted().predict(X[:0]), V, "sample"),
    Case("FunkMF.predict", "X is a list of strings", lambda: fitted().predict(["1,2"]), V,
         "2D|2-D|array"),
    Case("EmbeddingClassifier.predict_proba", "unknown ids", lambda: fitted(
        "EmbeddingClassifier").predict_proba([[10**9, 10**9, 0]]),
         None, check=lambda p: np.allclose(p.sum(axis=1), 1)),
    Case("FunkMF.score", "NaN y", lambda: fitted().score(X, with_value(y, 0, np.nan)), V,
         "NaN|finite|y"),
    Case("FunkMF.partial_fit", "NaN rating", lambda: est("FunkMF").fit(X, y).partial_fit(
        X, with_value(y, 0, np.nan)), V, "y|NaN|finite"),
    Case("FunkMF.partial_fit", "after n_factors changed", lambda: est("FunkMF").fit(
        X, y).set_params(n_factors=8).partial_fit(X, y), V, "n_factors"),
    Case("EmbeddingClassifier.partial_fit", "a new label", lambda: est(
        "EmbeddingClassifier").fit(X, y).partial_fit(X, with_value(y, 0, 9.0)), V,
         "label|class"),
    Case("FunkMF.recommend", "n=-1", lambda: fitted().recommend(1, n=-1), V, "n must"),
    Case("FunkMF.recommend", "n=2.5", lambda: fitted().recommend(1, n=2.5), V, "n must"),
    Case("FunkMF.recommend", "n=True", lambda: fitted().recommend(1, n=True), V, "n must"),
    Case("FunkMF.recommend", "2-D array of users", lambda: fitted().recommend(
        np.ones((2, 2))), V, "1-D|users"),
    Case("FunkMF.recommend", "n larger than the catalogue", lambda: fitted().recommend(
        1, n=10**6), None, check=lambda r: len(r) <= 15),
    Case("FunkMF.recommend", "unknown user", lambda: fitted().recommend(10**9, n=3),
         None, check=lambda r: len(r) == 3),
    Case("FunkMF.similar_items", "unknown item", lambda: fitted().similar_items(10**9), V,
         "not seen"),
    Case("FunkMF.similar_items", "n=-3", lambda: fitted().similar_items(1, n=-3), V,
         "n must"),
    # ------------------------------------------------------------ from_factors
    Case("FunkMF.from_factors", "factor widths differ", lambda: _from_factors(
        item_factors=np.ones((3, 2))), V, "factors|shape|width"),
    Case("FunkMF.from_factors", "fewer rows than ids", lambda: _from_factors(
        user_factors=np.ones((1, 3))), V, "user|rows|shape"),
    Case("FunkMF.from_factors", "NaN factor", lambda: _from_factors(
        user_factors=with_value(np.ones((2, 3)), (0, 0), np.nan)), V, "finite|NaN"),
    Case("FunkMF.from_factors", "NaN global_mean", lambda: _from_factors(
        global_mean=float("nan")), V, "global_mean"),
    Case("FunkMF.from_factors", "reversed rating_range", lambda: _from_factors(
        rating_range=(5, 1)), V, "low <= high"),
    Case("FunkMF.from_factors", "duplicate ids", lambda: _from_factors(user_ids=[1, 1]), V,
         "repeat"),
    Case("FunkMF.from_factors", "biases of another length", lambda: _from_factors(
        user_biases=np.ones(5)), V, "user_biases|bias"),
    # ------------------------------------------------------------ save / load
    Case("FunkMF.save", "a folder as path", lambda: fitted().save(folder()),
         IsADirectoryError, "directory"),
    Case("FunkMF.save", "into a missing folder", lambda: fitted().save(
        folder() / "nowhere" / "m.npz"), FileNotFoundError, "nowhere|No such"),
    Case("FunkMF.load", "a missing file", lambda: _load(folder() / "none.npz"),
         FileNotFoundError, "none.npz"),
    Case("FunkMF.load", "a text file", lambda: _load(text_file("hello", "m.npz")), V,
         "m.npz"),
    Case("FunkMF.load", "a truncated zip", lambda: _load(text_file("PK\x03\x04", "m.npz")), V,
         "m.npz"),
    Case("FunkMF.load", "a plain .npy", lambda: _load((lambda p: (np.save(p, np.ones(3)),
                                                                  p)[1])(folder() / "a.npy")),
         V, "a.npy"),
    Case("FunkMF.load", "an npz of other arrays", lambda: _load((lambda p: (np.savez(
        p, a=np.ones(3)), p)[1])(folder() / "o.npz")), V, "o.npz"),
    Case("EmbeddingRegressor.load", "a FunkMF file", lambda: _load(saved(),
                                                                   "EmbeddingRegressor"),
         T, "holds a FunkMF"),
    *(Case("FunkMF.load", f"crafted header: {label}", lambda change=change: _load(
        saved(change)), V, "m.npz") for label, change in [
        ("no sha256", lambda h, a: None),  # (recomputed; see test_persistence for removal)
        ("n_factors=10**9", _set("fit_params.n_factors", 10**9)),
        ("n_factors='8'", _set("fit_params.n_factors", "8")),
        ("unknown parameter", _set("params.predict", 1)),
        ("NaN global mean", _set("target.mean", float("nan"))),
        ("zero scale", _set("target.scale", 0.0)),
        ("reversed rating range", _set("target.low", 9.0)),
        ("n_weights=-1", _set("n_weights", -1)),
        ("n_iter='many'", _set("n_iter", "many")),
        ("vocab not a mapping", _set("vocab", [1])),
        ("class not a string", _set("class", 5)),
        ("format_version 99", _set("format_version", 99)),
        ("seen_shape wrong", _set("seen_shape", [1, 1])),
        ("history not a mapping", _set("history", "none")),
        ("weights of NaN", lambda h, a: a.update(weight_0=a["weight_0"] * np.nan)),
        ("weights as strings", lambda h, a: a.update(weight_0=a["weight_0"].astype(str))),
        ("a weight missing", lambda h, a: a.pop("weight_1")),
        ("optimizer slot of another shape", lambda h, a: a.update(
            slot_0_0=a["slot_0_0"][:2])),
    ] if label != "no sha256"),
    # ------------------------------------------------------------ loaders
    Case("load_movielens", "a bad line", lambda: _load_movielens(text_file(
        "1\t2\t5\t881250949\n1\tx\t5\t1\n")), V, "line 2"),
    Case("load_movielens", "a rating out of range", lambda: _load_movielens(text_file(
        "1\t2\t9\t881250949\n")), V, "line 1|rating"),
    Case("load_movielens", "a missing csv header", lambda: _load_movielens(text_file(
        "1,2,5.0,881250949\n", "ratings.csv")), V, "header|ratings.csv"),
    Case("load_movielens", "an empty file", lambda: _load_movielens(text_file(
        "", "ratings.csv")), V, "ratings.csv|empty"),
    Case("load_movielens", "a truncated gzip", lambda: _load_movielens(truncated_gzip()), V,
         "ratings.dat.gz"),
    Case("load_movielens", "bytes that are not UTF-8", lambda: _load_movielens(text_file(
        b"userId,movieId,rating,timestamp\n1,2,\xff,3\n", "ratings.csv", "wb")), V,
         "ratings.csv"),
    Case("load_movielens", "a folder without ratings", lambda: _load_movielens(folder()),
         (V, FileNotFoundError), "ratings|no ratings"),
    Case("load_movielens", "an unknown release name", lambda: _load_movielens("ml-5k"),
         (V, FileNotFoundError), "ml-5k"),
    Case("load_movielens", "a BOM before the header", lambda: _load_movielens(text_file(
        "\ufeffuserId,movieId,rating,timestamp\n1,2,4.0,3\n", "ratings.csv")),
         None, check=lambda d: len(d.frame) == 1),
    Case("load_netflix", "a movie file without its header line", lambda: _netflix(
        "1,3,2005-09-06\n"), V, "mv_0000001.txt"),
    Case("load_netflix", "a bad date", lambda: _netflix("1:\n1,3,2005-13-06\n"), V,
         "line 2|date"),
    Case("load_netflix", "a rating of 7", lambda: _netflix("1:\n1,7,2005-09-06\n"), V,
         "line 2|rating"),
    Case("load_netflix", "a folder with no files", lambda: __import__(
        "skembrec.datasets", fromlist=["x"]).load_netflix(folder()),
         (V, FileNotFoundError), "training_set|no|found"),
    Case("make_ratings", "n_ratings beyond the pairs", lambda: _make(
        n_users=3, n_items=3, n_ratings=20), V, "n_ratings"),
    Case("make_ratings", "n_users=0", lambda: _make(n_users=0, n_items=3, n_ratings=1), V,
         "n_users"),
    Case("make_ratings", "n_users=2.5", lambda: _make(n_users=2.5, n_items=3, n_ratings=1),
         (V, T), "n_users"),
    # ------------------------------------------------------------ shards
    Case("write_rating_shards", "no ratings", lambda: _shards_write(
        _make(n_users=5, n_items=5, n_ratings=10).frame.iloc[:0], folder() / "s"), V,
         "no ratings"),
    Case("write_rating_shards", "a file as folder", lambda: _shards_write(
        _make(n_users=5, n_items=5, n_ratings=10).frame, text_file("mine", "f")), V,
         "is a file"),
    Case("write_rating_shards", "rows_per_shard=0", lambda: _shards_write(
        _make(n_users=5, n_items=5, n_ratings=10).frame, folder(), rows_per_shard=0), V,
         "rows_per_shard"),
    Case("write_rating_shards", "a frame without ratings", lambda: _shards_write(
        pd.DataFrame({"user": [1], "item": [2]}), folder()), T, "rating"),
    Case("write_rating_shards", "a NaN rating", lambda: _shards_write(
        pd.DataFrame({"user": [1], "item": [2], "rating": [np.nan]}), folder()), V,
         "finite"),
    Case("RatingShards", "a folder without shards", lambda: _shards_read(folder()), V,
         "no rating shards"),
    Case("RatingShards", "a foreign path listed", lambda: _shards_read(shards(
        lambda m, p: m.update(files=["../../etc/passwd"]))), V, "not the name"),
    Case("RatingShards", "a key missing", lambda: _shards_read(shards(
        lambda m, p: m.pop("id_kinds"))), V, "id_kinds"),
    Case("RatingShards", "a truncated shard", lambda: _shards_read(shards(
        lambda m, p: (p / m["files"][0]).write_bytes(
            (p / m["files"][0]).read_bytes()[:-3]))), V, "truncated"),
    Case("FunkMF.fit(shards)", "with y", lambda: est("FunkMF").fit(
        _shards_read(shards()), y), V, "without y"),
    Case("EmbeddingClassifier.fit(shards)", "a classifier", lambda: est(
        "EmbeddingClassifier").fit(_shards_read(shards())), T, "shards"),
    # ------------------------------------------------------------ splitters
    Case("TemporalProbeSplit", "no time column", lambda: _split("TemporalProbeSplit", X),
         V, "time_column"),
    Case("TemporalProbeSplit", "n_probe=0", lambda: _split(
        "TemporalProbeSplit", X, n_probe=0, time_column=2), V, "n_probe"),
    Case("TemporalProbeSplit", "n_probe=1.5", lambda: _split(
        "TemporalProbeSplit", X, n_probe=1.5, time_column=2), V, "n_probe"),
    Case("TemporalProbeSplit", "time_column on the ids", lambda: _split(
        "TemporalProbeSplit", X, time_column=0), V, "time_column"),
    Case("TemporalProbeSplit", "NaN times", lambda: _split(
        "TemporalProbeSplit", with_value(X.astype(float), (3, 2), np.nan), time_column=2),
         V, "missing times|NaN"),
    Case("UserHoldoutSplit", "n_test=0", lambda: _split(
        "UserHoldoutSplit", X, n_test=0), V, "n_test"),
    Case("UserHoldoutSplit", "no user with enough ratings", lambda: _split(
        "UserHoldoutSplit", X[:3]), V, "n_test|user"),
    Case("UserHoldoutSplit", "user_column=item_column", lambda: _split(
        "UserHoldoutSplit", X, user_column=1), V, "same column"),
    Case("TimeCutoffSplit", "no time column", lambda: _split("TimeCutoffSplit", X), V,
         "time_column|cutoff"),
    # ------------------------------------------------------------ metrics
    Case("make_ranking_scorer", "an unknown metric", lambda: _scorer(metric="auc"), V,
         "metric"),
    Case("make_ranking_scorer", "k=0", lambda: _scorer(k=0), V, "k"),
    Case("make_ranking_scorer", "k=True", lambda: _scorer(k=True), T, "k must"),
    Case("make_ranking_scorer", "k=2.5", lambda: _scorer(k=2.5), T, "k must"),
    Case("make_ranking_scorer", "a scorer on an estimator without recommend", lambda:
         _scorer()(__import__("sklearn.linear_model", fromlist=["x"]).LinearRegression()
                   .fit(X, y), X, y), T, "recommend"),
    Case("ndcg_at_k", "lists of other lengths", lambda: _metric(
        "ndcg_at_k", [[1, 2]], [[1], [2]]), V, "user|length|same"),
    Case("ndcg_at_k", "k=-1", lambda: _metric("ndcg_at_k", [[1]], [[1]], k=-1), V, "k"),
    Case("ndcg_at_k", "no relevant items", lambda: _metric("ndcg_at_k", [[1]], [[]]),
         None, check=lambda v: np.isnan(v)),
    Case("catalogue_coverage", "catalogue=0", lambda: _metric(
        "catalogue_coverage", [[1]], 0), V, "catalogue"),
    # ------------------------------------------------------------ popularity
    Case("PopularityRecommender.fit", "NaN rating", lambda: __import__(
        "skembrec").PopularityRecommender().fit(X, with_value(y, 0, np.nan)), V, "y|NaN"),
    Case("PopularityRecommender.recommend", "before fit", lambda: __import__(
        "skembrec").PopularityRecommender().recommend(1), NF, "not fitted"),
    Case("PopularityRecommender(damping=-1)", "bad parameter", lambda: __import__(
        "skembrec").PopularityRecommender(damping=-1).fit(X, y), V, "damping"),
]
