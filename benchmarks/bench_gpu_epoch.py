"""Epoch time of FunkMF on a 100M-rating Netflix-shaped set (for a GPU machine).

Generates 100,480,507 ratings of 480,189 users and 17,770 items directly
with NumPy (Zipf-like activity and popularity, a planted rank-8 model,
ratings rounded to 1..5: the shape of ``make_ratings`` without its
de-duplication, so generation takes seconds rather than minutes), prints
the devices TensorFlow sees, then for each ``--batch-sizes`` value times an
epoch of ``FunkMF`` as ``(t(fit, 1+E epochs) - t(fit, 1 epoch)) / E`` in a
process warmed up by a small fit (start-up, tracing, vocabularies and the
host-to-device copy cancel out; ``fit_1_epoch_s`` shows what they add).

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
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4096, 65536])
    parser.add_argument("--n-factors", type=int, default=64)
    parser.add_argument("--optimizer", default="adagrad")
    parser.add_argument("--epochs", type=int, default=2, help="E, see above")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)

    from skembrec import FunkMF
    from skembrec._backend import tf as get_tf

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
        with C.Timer() as one:
            FunkMF(n_epochs=1, **params).fit(X, y)
        with C.Timer() as many:
            est = FunkMF(n_epochs=1 + args.epochs, **params).fit(X, y)
        epoch_s = (many.seconds - one.seconds) / args.epochs
        row = {"batch_size": batch, "epoch_s": epoch_s,
               "ratings_per_s": args.n_ratings / epoch_s,
               "fit_1_epoch_s": one.seconds, f"fit_{1 + args.epochs}_epochs_s": many.seconds,
               "train_loss_last": est.history_["loss"][-1],
               "epoch_100m_s_extrapolated": epoch_s * N_RATINGS / args.n_ratings}
        rows.append(row)
        print(f"  batch {batch}: epoch {epoch_s:.2f} s ({row['ratings_per_s']:,.0f} ratings/s)",
              flush=True)
    C.print_table(rows, [("batch_size", "batch", ",d"), ("epoch_s", "epoch s", ".2f"),
                         ("ratings_per_s", "ratings/s", ",.0f"),
                         ("epoch_100m_s_extrapolated", "per 100M s", ".1f"),
                         ("fit_1_epoch_s", "fit(1 epoch) s", ".1f"),
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
