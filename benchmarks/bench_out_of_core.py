"""Out-of-core fit from TFRecord shards against the same fit in memory.

Writes a Netflix-shaped ``make_ratings`` set (minus a 1% test split) as
shards, then fits ``FunkMF`` once from the shards and once from an in-memory
DataFrame, each in a fresh subprocess, and reports peak resident memory
(VmHWM), fit time and test RMSE of both.

    python benchmarks/bench_out_of_core.py [--n-ratings 10000000] [--epochs 5]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from skembrec import FunkMF
from skembrec.datasets import RatingShards
mode, folder, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
test = np.load(folder + "/test.npz")
model = FunkMF(n_epochs=epochs, random_state=0)
start = time.perf_counter()
if mode == "shards":
    model.fit(RatingShards(folder + "/shards"))
else:
    train = np.load(folder + "/train.npz")
    X = pd.DataFrame({"user": train["user"], "item": train["item"]})
    model.fit(X, train["rating"])
    del X, train
fit_s = time.perf_counter() - start
X_test = pd.DataFrame({"user": test["user"], "item": test["item"]})
rmse = float(np.sqrt(np.mean((model.predict(X_test) - test["rating"]) ** 2)))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"mode": mode, "fit_s": round(fit_s, 1), "rmse": round(rmse, 4),
                  "peak_rss_mb": round(int(hwm) / 1024), "n_users": model.n_users_}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-ratings", type=int, default=10_000_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    import numpy as np

    from skembrec.datasets import make_ratings, write_rating_shards

    folder = Path(args.dir or tempfile.mkdtemp(prefix="skembrec-ooc-"))
    folder.mkdir(parents=True, exist_ok=True)
    frame = make_ratings(480_189, 17_770, args.n_ratings, random_state=0).frame
    # written in movie order, as the Netflix files are
    frame = frame.sort_values("item", kind="stable")
    test = np.random.default_rng(0).random(len(frame)) < 0.01
    train = frame[~test]
    np.savez(folder / "test.npz", user=frame.user[test].to_numpy(),
             item=frame.item[test].to_numpy(), rating=frame.rating[test].to_numpy())
    np.savez(folder / "train.npz", user=train.user.to_numpy(), item=train.item.to_numpy(),
             rating=train.rating.to_numpy())
    start = time.perf_counter()
    write_rating_shards(train, folder / "shards", rows_per_shard=1_000_000)
    write_s = time.perf_counter() - start
    del frame, train
    rows = []
    for mode in ("shards", "memory"):
        out = subprocess.run([sys.executable, "-c", CHILD, mode, str(folder), str(args.epochs)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{args.n_ratings:,} Netflix-shaped ratings, FunkMF() with n_epochs={args.epochs}; "
          f"shards written in {write_s:.1f} s")
    print(f"{'fit from':<10}{'fit s':>8}{'peak RSS MB':>13}{'test RMSE':>11}")
    for row in rows:
        print(f"{row['mode']:<10}{row['fit_s']:>8}{row['peak_rss_mb']:>13}{row['rmse']:>11}")
    out = Path(__file__).parent / "results" / f"out_of_core_{args.n_ratings}.json"
    out.write_text(json.dumps({"n_ratings": args.n_ratings, "epochs": args.epochs,
                               "write_s": round(write_s, 1), "runs": rows}, indent=2))


if __name__ == "__main__":
    main()
