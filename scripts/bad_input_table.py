"""Print what each kind of bad input to skembrec meets (a Markdown table).

Every row calls the public API with one bad input and records the exception
type and message, so the table in the docs and notes is regenerated, not typed.

    python scripts/bad_input_table.py
"""

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec.datasets import load_movielens
from skembrec.model_selection import TemporalProbeSplit

rng = np.random.default_rng(0)
X = np.column_stack([rng.integers(0, 20, 200), rng.integers(0, 15, 200),
                     rng.integers(0, 10**6, 200)])
y = rng.integers(1, 6, 200).astype(float)
small = dict(n_factors=4, n_epochs=1, random_state=0)


def with_value(array, row, value, dtype=None):
    out = np.array(array, dtype=dtype if dtype is not None else np.asarray(array).dtype)
    out[row] = value
    return out


def fitted():
    return FunkMF(**small).fit(X, y)


def bad_file(text, name="u.data"):
    folder = Path(tempfile.mkdtemp())
    (folder / name).write_text(text)
    return folder / name


def truncated_gzip():
    folder = Path(tempfile.mkdtemp())
    data = gzip.compress(b"1::2::5::978300760\n" * 1000)
    (folder / "ratings.dat.gz").write_bytes(data[: len(data) // 2])
    return folder / "ratings.dat.gz"


CASES = [
    ("NaN rating", lambda: FunkMF(**small).fit(X, with_value(y, 3, np.nan))),
    ("inf rating", lambda: FunkMF(**small).fit(X, with_value(y, 3, np.inf))),
    ("text rating", lambda: FunkMF(**small).fit(X, with_value(y, 7, "five", object))),
    ("NaN user id in fit", lambda: FunkMF(**small).fit(
        with_value(X.astype(float), (5, 0), np.nan), y)),
    ("None item id in fit", lambda: FunkMF(**small).fit(
        with_value(X.astype(object), (9, 1), None), y)),
    ("X with one column", lambda: FunkMF(**small).fit(X[:, :1], y)),
    ("X with 3 dimensions", lambda: FunkMF(**small).fit(X[:, :, None], y)),
    ("X and y lengths differ", lambda: FunkMF(**small).fit(X, y[:-1])),
    ("empty X", lambda: FunkMF(**small).fit(X[:0], y[:0])),
    ("unhashable id", lambda: FunkMF(**small).fit(
        with_value(X.astype(object), (0, 0), {"a": 1}), y)),
    ("single class (classifier)", lambda: EmbeddingClassifier(**small).fit(X, np.full(200, 4))),
    ("n_factors=-1", lambda: FunkMF(n_factors=-1).fit(X, y)),
    ("batch_size=0", lambda: FunkMF(batch_size=0).fit(X, y)),
    ("optimizer='adamw'", lambda: FunkMF(optimizer="adamw").fit(X, y)),
    ("activation='relux'", lambda: EmbeddingRegressor(activation="relux").fit(X, y)),
    ("hidden_layer_sizes=(8, -2)", lambda: EmbeddingRegressor(
        hidden_layer_sizes=(8, -2)).fit(X, y)),
    ("sample_weight wrong length", lambda: FunkMF(**small).fit(X, y, sample_weight=np.ones(5))),
    ("negative sample_weight", lambda: FunkMF(**small).fit(X, y, sample_weight=-np.ones(200))),
    ("predict before fit", lambda: FunkMF().predict(X)),
    ("predict with 2 of 3 columns", lambda: fitted().predict(X[:, :2])),
    ("partial_fit with NaN rating", lambda: fitted().partial_fit(X, with_value(y, 0, np.nan))),
    ("splitter: missing time column", lambda: next(TemporalProbeSplit().split(X))),
    ("splitter: n_probe=0", lambda: next(TemporalProbeSplit(0, time_column=2).split(X))),
    ("loader: bad line", lambda: load_movielens(bad_file("1\t2\t5\t881250949\n1\tx\t5\t1\n"))),
    ("loader: rating out of range", lambda: load_movielens(bad_file("1\t2\t9\t881250949\n"))),
    ("loader: missing csv header", lambda: load_movielens(
        bad_file("1,2,5.0,881250949\n", "ratings.csv"))),
    ("loader: empty file", lambda: load_movielens(bad_file("", "ratings.csv"))),
    ("loader: truncated gzip", lambda: load_movielens(truncated_gzip())),
    ("load(): truncated model file", lambda: FunkMF.load(bad_file("PK\x03\x04", "m.npz"))),
]

GOOD = [
    ("ids near 2**63", lambda: FunkMF(**small).fit(
        pd.DataFrame({"u": np.array([2**63 - 1, 2**63 - 2], dtype=np.uint64),
                      "i": [1, 2]}), [4.0, 3.0]).predict([[2**63 - 1, 1]])),
    ("unknown ids at predict", lambda: fitted().predict([[10**9, 10**9, 0]])),
    ("NaN id at predict (missing)", lambda: fitted().predict([[np.nan, 3, 0]])),
]


def main():
    print("| bad input | exception | message |")
    print("|---|---|---|")
    for name, call in CASES:
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - we report whatever is raised
            message = str(exc).splitlines()[0][:150].replace("|", "\\|")
            print(f"| {name} | `{type(exc).__name__}` | {message} |")
        else:
            print(f"| {name} | **no error** | |")
    print()
    print("| edge case that must work | result |")
    print("|---|---|")
    for name, call in GOOD:
        print(f"| {name} | {np.round(call(), 3).tolist()} |")


if __name__ == "__main__":
    main()
