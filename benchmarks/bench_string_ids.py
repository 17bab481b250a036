"""Fit with ten million distinct string user ids (issue 5's edge case).

    python benchmarks/bench_string_ids.py [--n 10000000]

Prints the fit time, the vocabulary size, whether predictions are finite and
the process's peak resident memory.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skembrec import FunkMF


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    users = pd.Series(np.arange(args.n)).map(lambda i: f"user-{i:08d}").to_numpy(object)
    X = pd.DataFrame({"user": users, "item": rng.integers(0, 2000, args.n)})
    y = rng.integers(1, 6, args.n).astype(np.float32)
    start = time.perf_counter()
    model = FunkMF(n_factors=4, n_epochs=1, random_state=0).fit(X, y)
    fit_s = time.perf_counter() - start
    finite = bool(np.isfinite(model.predict(X.iloc[:100_000])).all())
    with open("/proc/self/status") as fh:
        hwm = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
    result = {"n_ratings": args.n, "distinct_users": int(model.n_users_),
              "fit_s": round(fit_s, 1), "finite_predictions": finite,
              "peak_rss_mb": round(hwm / 1024)}
    print(result)
    out = Path(__file__).parent / "results" / "string_ids.json"
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
