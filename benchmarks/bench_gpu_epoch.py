"""Epoch time of FunkMF on a 100M-rating Netflix-shaped set (for a GPU machine).

Generates 100,480,507 ratings of 480,189 users and 17,770 items directly
with NumPy (Zipf-like activity and popularity, a planted rank-8 model,
ratings rounded to 1..5: the shape of ``make_ratings`` without its
de-duplication, so generation takes seconds rather than minutes), prints
the devices TensorFlow sees, then for each ``--batch-sizes`` value fits
``FunkMF`` for 1+E epochs in a process warmed up by a small fit and reports
the median of epochs 2 to 1+E (each epoch is one compiled call, timed from
outside; the first carries the tracing). ``fit_overhead_s`` is the rest of
the fit: vocabularies, the host-to-device copy, tracing.

Goal (issue 4): a 100M-rating epoch in 5 s or less on an H100. Runs on a
CPU too, e.g. ``--n-ratings 1000000`` to check the script.

Usage::

    python benchmarks/bench_gpu_epoch.py                          # on the GPU machine
    python benchmarks/bench_gpu_epoch.py --n-ratings 1000000 --batch-sizes 4096

Writes ``benchmarks/results/gpu_epoch.json``.
"""

import argparse
import sys

import _common as C
import numpy as np

N_USERS, N_ITEMS, N_RATINGS = 480_189, 17_770, 100_480_507


def device_info(tf):
    gpus = tf.config.list_physical_devices("GPU")
    out = {"gpus": [g.name for g in gpus], "gpu_names": []}
    for g in gpus:
        try:
            out["gpu_names"].append(tf.config.experimental.get_device_details(g).get("device_name"))
        except Exception:  # noqa: BLE001 - details are best effort
            out["gpu_names"].append(None)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-ratings", type=int, default=N_RATINGS)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4096, 65536, 262144])
    parser.add_argument("--n-factors", type=int, default=64)
    parser.add_argument("--optimizer", default="adagrad")
    parser.add_argument("--epochs", type=int, default=2, help="E, see above")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    from skembrec import FunkMF
    from skembrec._engine.backend import tf as get_tf

    tf = get_tf()
    devices = device_info(tf)
    print(f"TensorFlow {tf.__version__}; GPUs: {devices['gpus'] or 'none'} "
          f"{devices['gpu_names']}", flush=True)
    with C.Timer() as gen:
        X, y = C.fast_ratings(args.n_ratings, N_USERS, N_ITEMS, seed=0)
    print(f"generated {args.n_ratings:,} ratings in {gen.seconds:.1f} s", flush=True)

    # TensorFlow start-up and first tracing, paid once
    FunkMF(n_epochs=1, n_factors=args.n_factors, random_state=0).fit(X[:100_000], y[:100_000])
    rows = []
    for batch in args.batch_sizes:
        params = dict(n_factors=args.n_factors, batch_size=batch,
                      optimizer=args.optimizer, random_state=0)
        times, method, fit_s, est = C.time_epochs(
            lambda e, params=params: FunkMF(n_epochs=e, **params), X, y, 1 + args.epochs)
        epoch_s = float(np.median(times[1:]))
        row = {"batch_size": batch, "epoch_s": epoch_s,
               "epoch_min_s": float(np.min(times[1:])),
               "ratings_per_s": args.n_ratings / epoch_s, "epoch_times": times,
               "method": method, "fit_s": fit_s,
               "fit_overhead_s": fit_s - sum(t for t in times if t is not None),
               "train_loss_last": est.history_["loss"][-1],
               "epoch_100m_s_extrapolated": epoch_s * N_RATINGS / args.n_ratings}
        rows.append(row)
        print(f"  batch {batch}: epoch {epoch_s:.2f} s ({row['ratings_per_s']:,.0f} ratings/s)",
              flush=True)
    C.print_table(rows, [("batch_size", "batch", ",d"), ("epoch_s", "epoch s", ".2f"),
                         ("ratings_per_s", "ratings/s", ",.0f"),
                         ("epoch_100m_s_extrapolated", "per 100M s", ".1f"),
                         ("fit_overhead_s", "fit overhead s", ".1f"),
                         ("train_loss_last", "train loss", ".4f")],
                  title=f"FunkMF({args.n_factors} factors, {args.optimizer}) on "
                        f"{args.n_ratings:,} ratings; device: "
                        f"{devices['gpu_names'] or devices['gpus'] or 'CPU only'}; goal <= 5 s "
                        f"per 100M epoch on an H100")
    C.write_results("gpu_epoch", {"benchmark": "gpu_epoch", "machine": C.machine_info(),
                                  "devices": devices,
                                  "config": {"n_ratings": args.n_ratings, "n_users": N_USERS,
                                             "n_items": N_ITEMS, "n_factors": args.n_factors,
                                             "optimizer": args.optimizer,
                                             "epochs_timed": args.epochs,
                                             "generate_s": gen.seconds},
                                  "rows": rows}, args.output)


if __name__ == "__main__":
    sys.exit(main())
