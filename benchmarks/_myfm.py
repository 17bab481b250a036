"""myFM (a Bayesian factorisation machine) as an anchor of ``bench_accuracy.py``.

``MyFMRegressor`` (``pip install myfm``) is fitted by Gibbs sampling on a
design of feature groups, in the way of myFM's own MovieLens examples
(``examples/ml-100k-extended.ipynb``, ``examples/ml-1m-regression.py``):
the columns that depend only on the user form one ``RelationBlock`` (one
row per distinct user, shared by all their ratings), those that depend only
on the item a second one, so the design stays small. Every group of columns
has its own prior (myFM's ``grouping``). Two feature sets:

* ``"ids"``: the user's and the item's one-hot id;
* ``"full"``: per user, the one-hot id, the items they rated in the
  training part (each ``1/sqrt(count)``, SVD++'s "who rated what"), and
  their attributes, one-hot: age (ML-100K in 5-year bins, ML-1M its age
  code), gender, occupation, the zip code's first character; per item, the
  one-hot id, the users who rated it in the training part (``1/sqrt(count)``
  each), its genres (multi-hot, 1 each) and its release year (one-hot;
  ML-100K from the release date, ML-1M from the title);
* ``"full+date"``: ``"full"`` and the rating's calendar day (UTC), one-hot,
  as the non-relational part of the design: myFM's
  ``examples/ml-100k-extended.ipynb`` date group (the days of the training
  part; a day absent from it has an empty row).

Only the fold's training ratings build the id vocabularies and the implicit
groups: a user or item absent from them has an empty id and implicit row
(and keeps its attributes). Only ``"full+date"`` uses the rating date
(column 2 of X, epoch seconds). The attributes are read
from the dataset's folder: ``u.user`` and ``u.item`` (ML-100K), ``users.dat``
and ``movies.dat`` (ML-1M, ``::``-separated, latin-1).

``fit_s`` is the design's construction (both the training and the test
blocks; the attribute files are read once per folder, not charged) plus
``MyFMRegressor.fit``; the JSON row also has the two parts (``design_s``,
``myfm_fit_s``). The prediction (the mean over the kept samples) is clipped
to the training ratings' range, as Surprise clips; ``rmse_unclipped`` is
the RMSE before clipping.
"""

import functools
import inspect
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

# myFM draws a tqdm bar on every fit; tqdm reads this when it is imported
os.environ.setdefault("TQDM_DISABLE", "1")

FEATURES = ("ids", "full", "full+date")
# parameters of MyFMRegressor.fit (the rest go to the constructor)
FIT_PARAMS = ("n_iter", "n_kept_samples")
QUICK_ITER = 5


def unavailable(params):
    """Why a myFM variant cannot run here (myfm missing, an unknown parameter), or None."""
    try:
        import myfm
    except ImportError:
        return "myfm is not installed (pip install myfm)"
    if params.get("features") not in FEATURES:
        return f"features must be one of {FEATURES}, not {params.get('features')!r}"
    known = set(inspect.signature(myfm.MyFMRegressor).parameters) | set(FIT_PARAMS)
    unknown = sorted(set(params) - known - {"features"})
    if unknown:
        return f"MyFMRegressor has no parameter {', '.join(unknown)} in myfm {myfm.__version__}"
    return None


def fit_score(params, fold, quick=False):
    """Fit ``MyFMRegressor`` on one fold of ``bench_accuracy.py``; its metrics.

    ``fold`` holds X_tr, y_tr, X_te, y_te (X: user, item, timestamp) and
    ``folder``, the dataset's folder (for the attribute files).
    """
    import myfm

    params = dict(params)
    features = params.pop("features")
    fit_params = {k: params.pop(k) for k in FIT_PARAMS if k in params}
    if quick:
        fit_params.update(n_iter=QUICK_ITER, n_kept_samples=QUICK_ITER - 1)
    X_tr, y_tr, X_te, y_te = fold["X_tr"], fold["y_tr"], fold["X_te"], fold["y_te"]
    side = attributes(Path(fold["folder"])) if features != "ids" else None

    start = time.perf_counter()
    blocks_tr, blocks_te, group_sizes = design(X_tr, X_te, side)
    dates_tr = dates_te = None
    if features == "full+date":
        dates_tr, dates_te = day_onehot(X_tr, X_te)
        # the plain design's columns come first: the date group is group 0
        group_sizes = [dates_tr.shape[1], *group_sizes]
    grouping = np.repeat(np.arange(len(group_sizes)), group_sizes).tolist()
    design_s = time.perf_counter() - start
    fm = myfm.MyFMRegressor(**params)
    start = time.perf_counter()
    fm.fit(dates_tr, y_tr, X_rel=blocks_tr, grouping=grouping, **fit_params)
    myfm_fit_s = time.perf_counter() - start
    start = time.perf_counter()
    raw = np.asarray(fm.predict(dates_te, blocks_te, n_workers=1), dtype=np.float64)
    predict_s = time.perf_counter() - start
    pred = np.clip(raw, y_tr.min(), y_tr.max())
    err = y_te - pred
    return {"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
            "fit_s": design_s + myfm_fit_s, "predict_s": predict_s,
            "design_s": design_s, "myfm_fit_s": myfm_fit_s,
            "rmse_unclipped": float(np.sqrt(np.mean((y_te - raw) ** 2))),
            "n_iter": fit_params.get("n_iter"), "n_columns": int(sum(group_sizes)),
            "groups": (["date"] if dates_tr is not None else []) + group_names(side)}


# ---------------------------------------------------------------- design
def design(X_tr, X_te, side=None):
    """``(train blocks, test blocks, group sizes)``: a user and an item ``RelationBlock``.

    ``side`` is ``None`` (ids only) or :func:`attributes`' output (the full
    design). The two blocks of a split share their matrices: one row per
    user (item) of the training or the test part, the same for both.
    """
    from myfm import RelationBlock

    u_tr, i_tr = X_tr[:, 0], X_tr[:, 1]
    u_vocab, u_code = np.unique(u_tr, return_inverse=True)
    i_vocab, i_code = np.unique(i_tr, return_inverse=True)
    users = np.unique(np.concatenate([u_tr, X_te[:, 0]]))
    items = np.unique(np.concatenate([i_tr, X_te[:, 1]]))
    u_rows, i_rows = _lookup(u_vocab, users), _lookup(i_vocab, items)

    # id one-hot: the training vocabulary; an id seen only in test has an empty row
    u_parts = [_take(sp.identity(len(u_vocab), format="csr"), u_rows)]
    i_parts = [_take(sp.identity(len(i_vocab), format="csr"), i_rows)]
    if side is not None:
        # "who rated what" from the training ratings, 1/sqrt(count) per row
        rated = sp.csr_matrix((np.ones(len(u_code)), (u_code, i_code)),
                              shape=(len(u_vocab), len(i_vocab)))
        rated.data[:] = 1.0  # a repeated (user, item) pair counts once
        u_parts.append(_take(_row_normalise(rated), u_rows))
        i_parts.append(_take(_row_normalise(rated.T.tocsr()), i_rows))
        user_side, item_side = side
        u_parts += [_take(m, _lookup(user_side["id"], users)) for m in user_side["groups"].values()]
        i_parts += [_take(m, _lookup(item_side["id"], items)) for m in item_side["groups"].values()]
    U = sp.hstack(u_parts, format="csr")
    V = sp.hstack(i_parts, format="csr")
    sizes = [m.shape[1] for m in u_parts + i_parts]
    blocks = [[RelationBlock(np.searchsorted(users, X[:, 0]), U),
               RelationBlock(np.searchsorted(items, X[:, 1]), V)] for X in (X_tr, X_te)]
    return blocks[0], blocks[1], sizes


def day_onehot(X_tr, X_te):
    """The rating's calendar day (UTC; X's column 2, epoch seconds), one-hot
    over the training part's days: ``(train, test)`` CSR matrices, a test
    day absent from training an empty row."""
    day_tr, day_te = (np.asarray(X[:, 2], dtype=np.int64) // 86_400 for X in (X_tr, X_te))
    days = np.unique(day_tr)

    def onehot(day):
        column = _lookup(days, day)
        rows = np.flatnonzero(column >= 0)
        return sp.csr_matrix((np.ones(len(rows)), (rows, column[rows])),
                             shape=(len(day), len(days)))

    return onehot(day_tr), onehot(day_te)


def group_names(side=None):
    """The names of :func:`design`'s groups, in its column order."""
    if side is None:
        return ["user id", "item id"]
    user_side, item_side = side
    return (["user id", "user's rated items"] + [f"user {g}" for g in user_side["groups"]]
            + ["item id", "item's raters"] + [f"item {g}" for g in item_side["groups"]])


def _lookup(vocab, ids):
    """Row of each id in the sorted ``vocab``, -1 where absent."""
    pos = np.minimum(np.searchsorted(vocab, ids), max(len(vocab) - 1, 0))
    return np.where((len(vocab) > 0) & (vocab[pos] == ids), pos, -1)


def _take(matrix, rows):
    """The rows of a CSR matrix, an empty row where ``rows`` is -1."""
    padded = sp.vstack([matrix, sp.csr_matrix((1, matrix.shape[1]))], format="csr")
    return padded[np.where(rows < 0, matrix.shape[0], rows)]


def _row_normalise(matrix):
    count = np.diff(matrix.indptr)
    return (sp.diags(1.0 / np.sqrt(np.maximum(count, 1))) @ matrix).tocsr()


def _onehot(values):
    """One-hot CSR of a categorical column (a missing value: an empty row)."""
    codes = pd.Categorical(values).codes.astype(np.int64)
    n_cols = max(int(codes.max()) + 1, 1) if len(codes) else 1
    ok = codes >= 0
    return sp.csr_matrix((np.ones(ok.sum()), (np.flatnonzero(ok), codes[ok])),
                         shape=(len(codes), n_cols))


# ------------------------------------------------------------ attributes
@functools.lru_cache(maxsize=4)
def attributes(folder):
    """``(user side, item side)`` of a MovieLens folder, each ``{"id", "groups"}``.

    ``id`` is the sorted raw ids; ``groups`` maps a group's name to its CSR
    matrix, one row per id. The attributes are those of
    ``_common.attribute_tables`` (the one reader of the attribute files).
    """
    import _common as C

    users, items = C.attribute_tables(folder)
    genres = items["genres"].str.get_dummies(sep="|")
    user_side = {"id": users["id"].to_numpy(np.int64),
                 "groups": {c: _onehot(users[c]) for c in C.USER_ATTRIBUTES}}
    item_side = {"id": items["id"].to_numpy(np.int64),
                 "groups": {"genres": sp.csr_matrix(genres.to_numpy(dtype=np.float64)),
                            "release year": _onehot(items["year"])}}
    return user_side, item_side
