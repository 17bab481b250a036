"""What would reach the accuracy goals? An item-based AutoRec blended with FunkMF.

An exploration, not a skembrec feature: the three estimators' best single
RMSE on the MovieLens-1M subset is about 0.856 and their best blend 0.851
(``bench_accuracy.py``). This script fits a plain-TensorFlow I-AutoRec
(Sedhain et al., WWW 2015: each item's vector of ratings by all users goes
through one sigmoid layer of ``--hidden`` units and back, the loss only on
observed ratings, L2 ``--lam``; Adam, minibatches of 256 items, ``--epochs``
epochs) on the same splits as ``bench_accuracy.py``, beside ``FunkMF()``
and ``FunkMF(time_column=2)``, and reports the RMSE of each and of their
averages. The item-by-user matrix is dense, which is fine for these two
datasets and is why this is not a skembrec estimator as it stands.

Usage::

    python benchmarks/explore_autorec_blend.py [--epochs 50] [--lam 200]

Writes ``benchmarks/results/autorec_blend.json``.
"""

import argparse

import _common as C
import numpy as np


def autorec_predict(X_tr, y_tr, X_te, hidden, lam, epochs, seed=0):
    """Fit an I-AutoRec on the training ratings; predict the test pairs."""
    import tensorflow as tf

    tf.random.set_seed(seed)
    rng = np.random.default_rng(seed)
    users, user_index = np.unique(X_tr[:, 0], return_inverse=True)
    items, item_index = np.unique(X_tr[:, 1], return_inverse=True)
    n_users, n_items = len(users), len(items)
    ratings = np.zeros((n_items, n_users), np.float32)
    mask = np.zeros((n_items, n_users), np.float32)
    ratings[item_index, user_index] = y_tr
    mask[item_index, user_index] = 1.0
    R, M = tf.constant(ratings), tf.constant(mask)
    V = tf.Variable(tf.random.normal((n_users, hidden), stddev=0.03))
    b = tf.Variable(tf.zeros(hidden))
    W = tf.Variable(tf.random.normal((hidden, n_users), stddev=0.03))
    c = tf.Variable(tf.zeros(n_users))
    weights = [V, b, W, c]
    optimizer = tf.keras.optimizers.Adam(1e-3)

    @tf.function
    def step(rows):
        r, m = tf.gather(R, rows), tf.gather(M, rows)
        share = tf.cast(tf.shape(rows)[0], tf.float32) / n_items
        with tf.GradientTape() as tape:
            out = tf.sigmoid(r @ V + b) @ W + c
            loss = (tf.reduce_sum(m * (r - out) ** 2)
                    + lam / 2 * share * (tf.reduce_sum(V**2) + tf.reduce_sum(W**2)))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))

    for _ in range(epochs):
        order = rng.permutation(n_items)
        for lo in range(0, n_items, 256):
            step(tf.constant(order[lo:lo + 256]))
    full = (tf.sigmoid(R @ V + b) @ W + c).numpy()
    u = np.searchsorted(users, X_te[:, 0])
    i = np.searchsorted(items, X_te[:, 1])
    known = ((u < n_users) & (users[np.minimum(u, n_users - 1)] == X_te[:, 0])
             & (i < n_items) & (items[np.minimum(i, n_items - 1)] == X_te[:, 1]))
    pred = np.full(len(X_te), float(np.mean(y_tr)))
    pred[known] = full[i[known], u[known]]
    return np.clip(pred, y_tr.min(), y_tr.max())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--lam", type=float, default=200.0)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--output")
    args = parser.parse_args(argv)

    from sklearn.model_selection import PredefinedSplit

    from skembrec import FunkMF
    from skembrec.datasets import load_movielens

    rows = []
    for dataset, protocol in [("ml-1m-subset", "1M random"), ("ml-100k", "100K u1-u5")]:
        path = C.locate(dataset)
        if path is None:
            print(f"{dataset}: not found, skipped")
            continue
        bunch = load_movielens(path.parent if dataset == "ml-100k" else path, as_frame=False)
        X = np.asarray(bunch.data[:, :3], dtype=np.int64)
        y = np.asarray(bunch.target, dtype=np.float64)
        pairs = ([C.reference_split(len(y))] if dataset == "ml-1m-subset"
                 else list(PredefinedSplit(bunch.folds).split()))
        scores = {}
        for train, test in pairs:
            preds = {
                "FunkMF()": FunkMF(random_state=0).fit(X[train], y[train]).predict(X[test]),
                "FunkMF time-aware": FunkMF(random_state=0, time_column=2)
                .fit(X[train], y[train]).predict(X[test]),
                "I-AutoRec": autorec_predict(X[train], y[train], X[test],
                                             args.hidden, args.lam, args.epochs),
            }
            preds["FunkMF() + I-AutoRec"] = (preds["FunkMF()"] + preds["I-AutoRec"]) / 2
            preds["both FunkMF + I-AutoRec"] = (
                preds["FunkMF()"] + preds["FunkMF time-aware"] + 2 * preds["I-AutoRec"]) / 4
            for name, pred in preds.items():
                scores.setdefault(name, []).append(C.rmse(y[test], pred))
        for name, values in scores.items():
            rows.append({"protocol": protocol, "model": name, "rmse": float(np.mean(values)),
                         "folds": len(values)})
            print(f"{protocol}: {name}: RMSE {np.mean(values):.4f}", flush=True)
    C.print_table(rows, [("protocol", "protocol", ""), ("model", "model", ""),
                         ("rmse", "RMSE", ".4f"), ("folds", "folds", "d")],
                  title=f"I-AutoRec (hidden {args.hidden}, lambda {args.lam}, "
                        f"{args.epochs} epochs) and FunkMF, alone and averaged")
    C.write_results("autorec_blend", {"machine": C.machine_info(), "package": C.package_info(),
                                      "config": vars(args), "results": rows}, args.output)


if __name__ == "__main__":
    main()
