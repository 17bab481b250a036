"""Accuracy of skembrec's estimators against Surprise and myFM, on six protocols.

One run fits every model variant on the same splits and reports test RMSE,
MAE and fit seconds:

* Surprise ``BaselineOnly()``, ``SVD()``, ``SVD(n_factors=100, n_epochs=40,
  lr_all=0.007, reg_all=0.05)`` ("tuned") and ``SVDpp()`` (slow: about
  100 s on the 1M subset; ``--skip-svdpp``);
* ``FunkMF``, ``EmbeddingRegressor`` and ``EmbeddingClassifier`` with their
  defaults; the two regressors also time-aware (``time_column=2``); the
  classifier also with ``decision="median"``, with the settings of
  ``TUNED`` (from ``benchmarks/tune.py``), and both with the ordinal head
  (``output="ordinal"``, median decision); and scikit-learn's
  ``VotingRegressor`` averaging five skembrec regressors (a variant whose
  parameter the installed skembrec does not have is reported as
  unavailable, not fitted);
* ``AutoRec()`` (the item-based autoencoder, its defaults);
* ``BayesianMF()`` (ids and the "who rated what" term, Gibbs-sampled), and
  ``BayesianMF full``: with myFM full's attributes as columns of X
  (``user_features``/``item_features``, joined from the dataset's files by
  ``_common.with_attributes``, not timed); ``BayesianMF full, 32 factors``
  (what rank buys; about 14 times the fit on u1, results/bayes_k32.json);
  ``BayesianMF full ordinal`` (``output="ordinal"``) and ``BayesianMF full
  + date`` (and ordinal): a date group of ``DATE_BINS`` time bins
  (``time_column=2, n_time_bins=200``);
* myFM's ``MyFMRegressor(rank=10, random_seed=0)`` (a Bayesian
  factorisation machine, Gibbs-sampled: ``n_iter=200, n_kept_samples=180``)
  as an anchor: "ids only" (one-hot user and item) and "full" (ids, the
  SVD++-style "who rated what" groups from the fold's training ratings, the
  user's age, gender, occupation and zip prefix, the item's genres and
  release year), and "full + date" (that and the rating's calendar day,
  one-hot, as myFM's ml-100k-extended example), the design of
  ``benchmarks/_myfm.py``; its ``fit_s``
  includes building the design. Unavailable, not fitted, without ``myfm``.

The variants are the one list ``VARIANTS``: adding one is one line; those
of ``OPTIONAL`` run only when ``--variants`` names them. The
skembrec estimators get X as ``user, item, timestamp`` (the timestamp is
column 2; they ignore it unless a parameter such as ``time_column=2`` says
otherwise); Surprise gets ``(user, item, rating)``; myFM gets the user and
item ids (and the attribute files of the dataset's folder).

Protocols (each a fixed split, the same for every model; the default is
every one):

1. ``1M random``: MovieLens-1M users 1-2999, ``default_rng(7).permutation(n)``,
   first 10% test (the reference split of ``../shared/MEASUREMENTS.md``);
2. ``1M temporal``: the same ratings, ``TemporalProbeSplit(n_probe=0.1,
   time_column=2)``: each user's latest 10% (rounded up) is test;
3. ``100K random``: MovieLens-100K, the reference random split;
4. ``100K u1-u5``: MovieLens-100K's official folds ``u1`` .. ``u5`` (from
   ``load_movielens(...).folds``), the mean over the five folds;
5. ``100K temporal``: MovieLens-100K, ``TemporalProbeSplit(n_probe=0.1)``;
6. ``100K 5-fold``: MovieLens-100K, ``KFold(n_splits=5, shuffle=True,
   random_state=0)``, the mean over the five folds.

Everything runs in one process with ``random_state=0`` (skembrec and
Surprise), so the accuracy is deterministic; there are no repeats. The fit
seconds are of that one process (TensorFlow started beforehand, each fit's
graph tracing included) and only indicative on a busy machine: see
``bench_time_to_accuracy.py`` for timings. The classifier's RMSE is that of
its ``predict``; the JSON's ``classifier_decisions`` also give, from its
``predict_proba``, the RMSE of the mean and the MAE of the median of the
predicted star distribution.

Usage::

    python benchmarks/bench_accuracy.py                     # everything (5-10 min)
    python benchmarks/bench_accuracy.py --skip-svdpp
    python benchmarks/bench_accuracy.py --datasets ml-100k
    python benchmarks/bench_accuracy.py --variants "FunkMF()" "FunkMF time-aware" "Surprise SVD()"
    python benchmarks/bench_accuracy.py --variants "myFM ids only" "myFM full" "Surprise SVD()"
    python benchmarks/bench_accuracy.py --quick             # smoke test, < 1 min, writes nothing

Writes ``benchmarks/results/accuracy.json`` (not with ``--quick`` unless
``--output`` is given).
"""

import argparse
import inspect
import os
import sys

import _common as C
import _myfm
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SEED = 0
SPLIT_SEED = 7
N_PROBE = 0.1

# The best settings of benchmarks/tune.py (results/tuning.json): a
# RandomizedSearchCV of 10 candidates per estimator on a validation part of
# the 1M training data. For FunkMF and EmbeddingRegressor no candidate beat
# the defaults, so they have no tuned row; the classifier's search did.
TUNED = {
    "EmbeddingClassifier": dict(n_factors=32, n_epochs=10, learning_rate=0.005,
                                hidden_layer_sizes=(128,), dropout=0.2, decision="median"),
}
SVD_TUNED = dict(n_factors=100, n_epochs=40, lr_all=0.007, reg_all=0.05)
# myFM as in its MovieLens examples: rank 10, 200 Gibbs sweeps, the first 20 burnt
MYFM = dict(rank=10, random_seed=0, n_iter=200, n_kept_samples=180)
# BayesianMF's date group: equal time bins of the fit's date range
DATE_BINS = 200

# (row label, library, estimator class, parameters): one line per variant.
# skembrec estimators see X = user, item, timestamp (column 2).
VARIANTS = [
    ("Surprise BaselineOnly()", "surprise", "BaselineOnly", {}),
    ("Surprise SVD()", "surprise", "SVD", {}),
    ("Surprise SVD tuned", "surprise", "SVD", SVD_TUNED),
    ("Surprise SVDpp()", "surprise", "SVDpp", {}),
    ("FunkMF()", "skembrec", "FunkMF", {}),
    ("FunkMF time-aware", "skembrec", "FunkMF", {"time_column": 2}),
    ("EmbeddingRegressor()", "skembrec", "EmbeddingRegressor", {}),
    ("EmbeddingRegressor time-aware", "skembrec", "EmbeddingRegressor", {"time_column": 2}),
    ("EmbeddingClassifier()", "skembrec", "EmbeddingClassifier", {}),
    ("EmbeddingClassifier median", "skembrec", "EmbeddingClassifier", {"decision": "median"}),
    ("EmbeddingClassifier tuned", "skembrec", "EmbeddingClassifier",
     TUNED["EmbeddingClassifier"]),
    # the cumulative-logit head (one score, ordered thresholds), median decision
    ("EmbeddingClassifier ordinal", "skembrec", "EmbeddingClassifier",
     {"output": "ordinal", "decision": "median"}),
    ("EmbeddingClassifier tuned ordinal", "skembrec", "EmbeddingClassifier",
     {**TUNED["EmbeddingClassifier"], "output": "ordinal"}),
    # scikit-learn's VotingRegressor averaging five skembrec regressors that
    # err differently: FunkMF with and without time, a larger FunkMF, FunkMF
    # trained with Adam, the MLP
    ("VotingRegressor of 5", "voting", "VotingRegressor", {"estimators": [
        ("funk", "FunkMF", {}),
        ("funk_time", "FunkMF", {"time_column": 2}),
        ("funk_128", "FunkMF", dict(n_factors=128, n_epochs=20, learning_rate=0.03)),
        ("funk_adam", "FunkMF", dict(n_factors=100, n_epochs=20, optimizer="adam",
                                     learning_rate=0.002, reg=0.02)),
        ("mlp", "EmbeddingRegressor", {}),
    ]}),
    # the item-based autoencoder (I-AutoRec), its own item-batch trainer
    ("AutoRec()", "skembrec", "AutoRec", {}),
    # Gibbs sampling of ids + the implicit term
    ("BayesianMF()", "skembrec", "BayesianMF", {}),
    # ... and myFM full's attributes, as columns of X (_common.with_attributes)
    ("BayesianMF full", "skembrec", "BayesianMF",
     {"user_features": list(C.USER_ATTRIBUTES), "item_features": list(C.ITEM_ATTRIBUTES)}),
    # ... with the ordered-probit likelihood (output="ordinal")
    ("BayesianMF full ordinal", "skembrec", "BayesianMF",
     {"user_features": list(C.USER_ATTRIBUTES), "item_features": list(C.ITEM_ATTRIBUTES),
      "output": "ordinal"}),
    # ... with a date group (the rating's time bin, interacting with both
    # sides): 200 bins, about a day each on ML-100K, 5 days on the ML-1M subset
    ("BayesianMF full + date", "skembrec", "BayesianMF",
     {"user_features": list(C.USER_ATTRIBUTES), "item_features": list(C.ITEM_ATTRIBUTES),
      "time_column": 2, "n_time_bins": DATE_BINS}),
    ("BayesianMF full ordinal + date", "skembrec", "BayesianMF",
     {"user_features": list(C.USER_ATTRIBUTES), "item_features": list(C.ITEM_ATTRIBUTES),
      "output": "ordinal", "time_column": 2, "n_time_bins": DATE_BINS}),
    # ... with more factors per draw (what rank buys, at its cost)
    ("BayesianMF full, 32 factors", "skembrec", "BayesianMF",
     {"n_factors": 32, "user_features": list(C.USER_ATTRIBUTES),
      "item_features": list(C.ITEM_ATTRIBUTES)}),
    # myFM (benchmarks/_myfm.py): "features" picks the design, n_iter and
    # n_kept_samples go to fit, the rest to MyFMRegressor
    ("myFM ids only", "myfm", "MyFMRegressor", {**MYFM, "features": "ids"}),
    ("myFM full", "myfm", "MyFMRegressor", {**MYFM, "features": "full"}),
    # ... and the rating's calendar day, one-hot (its ml-100k-extended example)
    ("myFM full + date", "myfm", "MyFMRegressor", {**MYFM, "features": "full+date"}),
]

BASELINE = "Surprise SVD()"

# variants left out of the default run (the README's table), run by name
# with --variants: the rank exploration (about 14 times BayesianMF's fit
# cost), the ordinal heads (results/accuracy_ordinal.json) and the date
# groups (results/accuracy_bayes_date.json)
OPTIONAL = ("BayesianMF full, 32 factors", "BayesianMF full ordinal",
            "BayesianMF full + date", "BayesianMF full ordinal + date", "myFM full + date",
            "EmbeddingClassifier ordinal",
            "EmbeddingClassifier tuned ordinal")

# (name, dataset of _common.DATASETS, split kind)
PROTOCOLS = [
    ("1M random", "ml-1m-subset", "random"),
    ("1M temporal", "ml-1m-subset", "temporal"),
    ("100K random", "ml-100k", "random"),
    ("100K u1-u5", "ml-100k", "official"),
    ("100K 5-fold", "ml-100k", "kfold"),
    ("100K temporal", "ml-100k", "temporal"),
]
SPLITS = {
    "random": f"default_rng({SPLIT_SEED}).permutation(n), first 10% test",
    "temporal": f"TemporalProbeSplit(n_probe={N_PROBE}, time_column=2): each user's "
                "latest 10% (rounded up) is test",
    "kfold": f"KFold(n_splits=5, shuffle=True, random_state={SEED}), mean over the 5 folds",
    "official": "the official folds u1..u5 (u{k}.base / u{k}.test), mean over the 5 folds",
}

# --quick: the first users only, few epochs, the first two official folds
QUICK_USERS = 60
QUICK_EPOCHS = 2
QUICK_FOLDS = 2


# ------------------------------------------------------------------ data
def load(dataset, quick=False):
    """``(X, y, folds, path)``: X = user, item, timestamp (int64), or None if absent."""
    from skembrec.datasets import load_movielens

    path = C.locate(dataset)
    if path is None:
        return None
    # the 100K folder, so that the official folds come with it
    source = path.parent if dataset == "ml-100k" else path
    bunch = load_movielens(source, as_frame=False)
    X = np.ascontiguousarray(bunch.data[:, :3], dtype=np.int64)
    y = np.asarray(bunch.target, dtype=np.float64)
    folds = bunch.folds
    if quick:
        keep = X[:, 0] <= QUICK_USERS
        X, y = X[keep], y[keep]
        folds = None if folds is None else folds[keep]
    return X, y, folds, path


def splits(kind, X, folds, quick=False):
    """The (train, test) index pairs of a protocol."""
    if kind == "random":
        return [C.reference_split(len(X), seed=SPLIT_SEED)]
    if kind == "temporal":
        from skembrec.model_selection import TemporalProbeSplit

        return list(TemporalProbeSplit(n_probe=N_PROBE, time_column=2).split(X))
    if kind == "kfold":
        from sklearn.model_selection import KFold

        out = list(KFold(n_splits=5, shuffle=True, random_state=SEED).split(X))
        return out[:QUICK_FOLDS] if quick else out
    if kind == "official":
        if folds is None:
            raise ValueError("the official folds (u1.test .. u5.test) are missing")
        from sklearn.model_selection import PredefinedSplit

        out = list(PredefinedSplit(folds).split())
        return out[:QUICK_FOLDS] if quick else out
    raise ValueError(kind)


# ---------------------------------------------------------------- models
def unavailable(library, estimator, params):
    """Why a variant cannot run here (a parameter the estimator lacks), or None."""
    if library == "myfm":
        return _myfm.unavailable(params)
    if library == "surprise":
        import surprise

        known = inspect.signature(getattr(surprise, estimator)).parameters
    elif library == "voting":
        for _, member, member_params in params["estimators"]:
            why = unavailable("skembrec", member, member_params)
            if why:
                return why
        return None
    else:
        import skembrec

        known = getattr(skembrec, estimator)().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        return f"{estimator} has no parameter {', '.join(unknown)} in this skembrec"
    return None


def fit_score(library, estimator, params, fold, quick=False):
    """Fit one variant on one fold; return its metrics (and raw extras)."""
    X_tr, y_tr, X_te, y_te = fold["X_tr"], fold["y_tr"], fold["X_te"], fold["y_te"]
    if library == "myfm":
        return _myfm.fit_score(params, fold, quick)
    params = dict(params)
    extra = {}
    if library == "surprise":
        import surprise

        cls = getattr(surprise, estimator)
        if "random_state" in inspect.signature(cls).parameters:
            params.setdefault("random_state", SEED)
        if quick and "n_epochs" in inspect.signature(cls).parameters:
            params["n_epochs"] = QUICK_EPOCHS
        algo = cls(**params)
        with C.Timer() as fit_t:
            algo.fit(fold["trainset"])
        pred, predict_s = C.surprise_predict(algo, X_te[:, 0], X_te[:, 1])
    else:
        if "user_features" in params or "item_features" in params:
            # the attribute columns joined on (not timed, as myFM's files)
            X_tr, X_te = (C.with_attributes(X, fold["folder"]) for X in (X_tr, X_te))
        est = make_skembrec(library, estimator, params, quick)
        with C.Timer() as fit_t:
            est.fit(X_tr, y_tr)
        with C.Timer() as predict_t:
            pred = np.asarray(est.predict(X_te), dtype=np.float64)
        predict_s = predict_t.seconds
        extra["n_epochs"] = getattr(est, "n_iter_", None)
        if hasattr(est, "predict_proba"):
            proba = est.predict_proba(X_te)
            classes = np.asarray(est.classes_, dtype=np.float64)
            mean = proba @ classes
            # the median of the predicted distribution: first class with cdf >= 1/2
            median = classes[np.argmax(np.cumsum(proba, axis=1) >= 0.5 - 1e-9, axis=1)]
            extra.update(rmse_mean=C.rmse(y_te, mean), mae_mean=C.mae(y_te, mean),
                         rmse_median=C.rmse(y_te, median), mae_median=C.mae(y_te, median))
    return {"rmse": C.rmse(y_te, pred), "mae": C.mae(y_te, pred), "fit_s": fit_t.seconds,
            "predict_s": predict_s, **extra}


def make_skembrec(library, estimator, params, quick=False):
    """A skembrec estimator, or a VotingRegressor of them (``library="voting"``)."""
    import skembrec

    if library == "voting":
        from sklearn.ensemble import VotingRegressor

        return VotingRegressor([(name, make_skembrec("skembrec", member, member_params, quick))
                                for name, member, member_params in params["estimators"]])
    params = {"random_state": SEED, **params}
    if quick:
        params["n_epochs"] = QUICK_EPOCHS
        if estimator == "BayesianMF":  # every quick sweep kept
            params.update(n_burn_in=0, n_kept_samples=QUICK_EPOCHS)
    return getattr(skembrec, estimator)(**params)


def warm_up():
    """Start TensorFlow and trace once, so that the first variant is not charged."""
    import skembrec

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.integers(0, 50, 2000), rng.integers(0, 40, 2000),
                         rng.integers(0, 10**9, 2000)])
    y = rng.integers(1, 6, 2000).astype(np.float64)
    skembrec.FunkMF(n_epochs=1, random_state=0).fit(X, y).predict(X[:10])


# ------------------------------------------------------------------ driver
def main(argv=None):
    labels = [v[0] for v in VARIANTS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(C.DATASETS),
                        choices=list(C.DATASETS))
    parser.add_argument("--protocols", nargs="+", default=[p[0] for p in PROTOCOLS],
                        choices=[p[0] for p in PROTOCOLS], metavar="PROTOCOL",
                        help="a subset of: " + ", ".join(repr(p[0]) for p in PROTOCOLS))
    parser.add_argument("--variants", nargs="+", choices=labels,
                        default=[label for label in labels if label not in OPTIONAL],
                        metavar="VARIANT",
                        help="a subset of: " + ", ".join(repr(v) for v in labels))
    parser.add_argument("--skip-svdpp", action="store_true",
                        help="leave out Surprise SVDpp (about 100 s on the 1M subset)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test: users 1-{QUICK_USERS}, {QUICK_EPOCHS} epochs "
                             f"({_myfm.QUICK_ITER} myFM sweeps), "
                             f"{QUICK_FOLDS} official folds; writes no JSON unless --output")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    variants = [v for v in VARIANTS if v[0] in args.variants
                and not (args.skip_svdpp and v[2] == "SVDpp")]
    protocols = [p for p in PROTOCOLS if p[0] in args.protocols and p[1] in args.datasets]
    skipped = {}
    for label, library, estimator, params in variants:
        why = unavailable(library, estimator, params)
        if why:
            skipped[label] = why
            print(f"{label}: not run, {why}")
    runnable = [v for v in variants if v[0] not in skipped]

    result = {
        "benchmark": "accuracy",
        "machine": C.machine_info(),
        "config": {
            "quick": args.quick, "random_state": SEED,
            "variants": [{"model": label, "library": library, "estimator": estimator,
                          "params": describe(params),
                          "status": skipped.get(label, "run")}
                         for label, library, estimator, params in variants],
            "tuned": {k: describe(v) for k, v in TUNED.items()},
            "surprise_svd_tuned": describe(SVD_TUNED),
            "X": "skembrec: user, item, timestamp (BayesianMF full: and the attribute "
                 "columns of _common.attribute_tables); Surprise: (user, item, rating); "
                 "myFM: user and item ids, and the attribute files (benchmarks/_myfm.py)",
            "fit_s": "one process, TensorFlow started beforehand, graph tracing included; "
                     "myFM: building its design + MyFMRegressor.fit",
        },
        "protocols": {},
    }
    if any(v[1] in ("skembrec", "voting") for v in runnable):
        with C.Timer() as t:
            warm_up()
        print(f"TensorFlow start-up and a first fit: {t.seconds:.1f} s", flush=True)

    runs = []
    cache = {}
    for name, dataset, kind in protocols:
        if dataset not in cache:
            cache[dataset] = load(dataset, args.quick)
        data = cache[dataset]
        if data is None:
            print(f"\n{name}: skipped, {dataset} not found "
                  "(see skembrec.datasets.find_dataset)")
            result["protocols"][name] = {"dataset": dataset, "skipped": "data not found"}
            continue
        X, y, folds, path = data
        pairs = splits(kind, X, folds, args.quick)
        result["protocols"][name] = {
            "dataset": dataset, "file": str(path), "split": SPLITS[kind],
            "n_ratings": len(y), "n_folds": len(pairs),
            "n_train": float(np.mean([len(tr) for tr, _ in pairs])),
            "n_test": float(np.mean([len(te) for _, te in pairs])),
            "test_fraction": float(np.mean([len(te) / (len(tr) + len(te))
                                            for tr, te in pairs])),
        }
        for k, (train, test) in enumerate(pairs):
            fold = {"X_tr": X[train], "y_tr": y[train], "X_te": X[test], "y_te": y[test],
                    "folder": path.parent}
            if any(v[1] == "surprise" for v in runnable):
                fold["trainset"] = C.surprise_trainset(X[train, 0], X[train, 1], y[train])
            for label, library, estimator, params in runnable:
                row = fit_score(library, estimator, params, fold, args.quick)
                runs.append({"protocol": name, "fold": k, "model": label,
                             "n_train": len(train), "n_test": len(test), **row})
                print(f"  {name} fold {k + 1}/{len(pairs)} {label}: rmse {row['rmse']:.4f} "
                      f"mae {row['mae']:.4f} fit {row['fit_s']:.1f}s", flush=True)

    names = [p for p in result["protocols"] if "skipped" not in result["protocols"][p]]

    def mean_of(label, protocol, key):
        values = [r[key] for r in runs if r["model"] == label and r["protocol"] == protocol
                  and r.get(key) is not None]
        return float(np.mean(values)) if values else None

    for key in ("rmse", "mae", "fit_s"):
        result[key] = [{"model": v[0], **{p: mean_of(v[0], p, key) for p in names}}
                       for v in variants]
    classifiers = [v[0] for v in runnable if v[2] == "EmbeddingClassifier"]
    result["classifier_decisions"] = [
        {"model": label, "protocol": p,
         **{key: mean_of(label, p, key) for key in ("rmse", "mae", "rmse_mean", "mae_mean",
                                                    "rmse_median", "mae_median")}}
        for label in classifiers for p in names]
    result["runs"] = runs

    # ahead of Surprise SVD() (lower RMSE) on how many protocols
    base = {p: mean_of(BASELINE, p, "rmse") for p in names}
    for row in result["rmse"]:
        if row["model"] != BASELINE and all(base[p] is not None for p in names):
            mine = [row[p] for p in names if row[p] is not None]
            row["ahead_of_svd"] = (f"{sum(row[p] < base[p] for p in names if row[p] is not None)}"
                                   f"/{len(mine)}") if mine else None

    short = {p: p.replace("temporal", "temp").replace("random", "rand") for p in names}
    quick_note = " [--quick: not real figures]" if args.quick else ""
    C.print_table(
        result["rmse"],
        [("model", "model", "")] + [(p, f"RMSE {short[p]}", ".4f") for p in names]
        + [("ahead_of_svd", "< SVD()", "")],
        title="Test RMSE (u1-u5: mean of the folds; '< SVD()': on how many protocols the "
              f"RMSE is below Surprise SVD()'s){quick_note}")
    C.print_table(
        result["mae"], [("model", "model", "")] + [(p, f"MAE {short[p]}", ".4f") for p in names],
        title=f"Test MAE{quick_note}")
    C.print_table(
        result["fit_s"], [("model", "model", "")] + [(p, f"fit s {short[p]}", ".2f")
                                                     for p in names],
        title="Fit seconds (one process, mean over folds)")
    if result["classifier_decisions"]:
        C.print_table(result["classifier_decisions"], [
            ("model", "model", ""), ("protocol", "protocol", ""),
            ("rmse", "RMSE predict", ".4f"), ("mae", "MAE predict", ".4f"),
            ("rmse_mean", "RMSE mean", ".4f"), ("mae_median", "MAE median", ".4f"),
        ], title="EmbeddingClassifier: predict vs the mean / median of predict_proba")
    for label, why in skipped.items():
        print(f"not run: {label} ({why})")

    if args.quick and not args.output:
        print("\n--quick: no JSON written (pass --output to keep it)")
        return
    C.write_results("accuracy", result, args.output)


def describe(params):
    """Parameters as text, e.g. ``n_factors=128, reg=0.08`` (``defaults`` if none)."""
    return ", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults"


if __name__ == "__main__":
    sys.exit(main())
