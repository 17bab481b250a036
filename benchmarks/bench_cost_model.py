"""Check the cost model of docs/cost_model.md against measured fits.

For a grid of (ratings, factors) on a Netflix-shaped user/item count, each in a
fresh subprocess, measures the epoch time (median of partial_fit epochs after
a warm-up, wall and CPU) and the peak resident memory, and prints them beside
the model's predictions:

    memory  ~= base + 4 B * (n_users + n_items + 2) * (k + 1) * (1 + slots)
               + ratings * bytes_per_rating
    epoch   ~= ratings * (a + b * k) / threads

with ``slots`` = 1 for Adagrad, 2 for Adam, 0 for SGD. The per-rating constants
a, b are fitted here by least squares on the CPU epochs and printed, so the
cost model's figures come from this command.

    python benchmarks/bench_cost_model.py [--quick]
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
import numpy as np
from skembrec import FunkMF
from skembrec.datasets import make_ratings
n_users, n_items, n_ratings, k = map(int, sys.argv[1:5])
X, y = make_ratings(n_users, n_items, n_ratings, random_state=0, return_X_y=True)
X = X[["user", "item"]]
rss0 = [l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]
model = FunkMF(n_factors=k, n_epochs=1, random_state=0).fit(X, y)
walls, cpus = [], []
for _ in range(3):
    w, c = time.perf_counter(), time.process_time()
    model.partial_fit(X, y)
    walls.append(time.perf_counter() - w); cpus.append(time.process_time() - c)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"n_users": n_users, "n_items": n_items, "n_ratings": n_ratings, "k": k,
                  "epoch_wall_s": float(np.median(walls)), "epoch_cpu_s": float(np.median(cpus)),
                  "peak_rss_mb": int(hwm) / 1024, "rss_before_fit_mb": int(rss0) / 1024}))
"""


def table_mb(n_users, n_items, k, slots=1):
    return 4 * (n_users + n_items + 2) * (k + 1) * (1 + slots) / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    users, items = (48_019, 1_777) if args.quick else (480_189, 17_770)
    grid = [(200_000, 16), (200_000, 64)] if args.quick else [
        (1_000_000, 16), (1_000_000, 64), (1_000_000, 128),
        (4_000_000, 16), (4_000_000, 64), (4_000_000, 128)]
    rows = []
    for n_ratings, k in grid:
        out = subprocess.run([sys.executable, "-c", CHILD, str(users), str(items),
                              str(n_ratings), str(k)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    # least squares: cpu seconds per epoch = ratings * (a + b * k)
    design = np.array([[r["n_ratings"], r["n_ratings"] * r["k"]] for r in rows], float)
    cpu = np.array([r["epoch_cpu_s"] for r in rows])
    (a, b), *_ = np.linalg.lstsq(design, cpu, rcond=None)
    print(f"{users:,} users, {items:,} items; CPU cost per rating = "
          f"{a * 1e9:.0f} ns + {b * 1e9:.2f} ns x k (fitted on the rows below)")
    print(f"{'ratings':>10}{'k':>5}{'epoch s':>9}{'cpu s':>8}{'model cpu s':>12}"
          f"{'tables MB':>10}{'peak MB':>9}{'pre-fit MB':>11}")
    for r in rows:
        model_cpu = r["n_ratings"] * (a + b * r["k"])
        r["model_cpu_s"] = float(model_cpu)
        r["tables_mb"] = table_mb(users, items, r["k"])
        print(f"{r['n_ratings']:>10,}{r['k']:>5}{r['epoch_wall_s']:>9.2f}"
              f"{r['epoch_cpu_s']:>8.2f}{model_cpu:>12.2f}{r['tables_mb']:>10.0f}"
              f"{r['peak_rss_mb']:>9.0f}{r['rss_before_fit_mb']:>11.0f}")
    out = Path(__file__).parent / "results" / "cost_model.json"
    out.write_text(json.dumps({"cpu_ns_per_rating": a * 1e9, "cpu_ns_per_rating_per_factor":
                               b * 1e9, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
