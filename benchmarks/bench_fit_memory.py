"""Memory across many fits in one process (what a GridSearchCV worker does).

Fits an estimator 50 times on a small synthetic set, dropping each one, and
prints the resident memory after the first fit and after every 10 more.
Unbounded growth (Keras/TensorFlow state kept alive between fits) would show
as a steady climb.

    python benchmarks/bench_fit_memory.py [--model FunkMF] [--fits 50]
"""

import argparse
import gc
import json
from pathlib import Path

from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF
from skembrec.datasets import make_ratings

MODELS = {"FunkMF": FunkMF, "EmbeddingRegressor": EmbeddingRegressor,
          "EmbeddingClassifier": EmbeddingClassifier}


def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="FunkMF", choices=sorted(MODELS))
    parser.add_argument("--fits", type=int, default=50)
    args = parser.parse_args()
    X, y = make_ratings(2000, 1000, 50_000, random_state=0, return_X_y=True)
    cls = MODELS[args.model]
    cls(n_epochs=2, random_state=0).fit(X, y).predict(X)
    gc.collect()
    first = rss_mb()
    marks = []
    for i in range(args.fits):
        est = cls(n_epochs=2, random_state=i).fit(X, y)
        est.predict(X)
        del est
        if (i + 1) % 10 == 0:
            gc.collect()
            marks.append(round(rss_mb(), 1))
    print(f"{args.model}: RSS after the first fit {first:.0f} MB; after each further "
          f"10 fits: {marks} MB")
    out = Path(__file__).parent / "results" / f"fit_memory_{args.model}.json"
    out.write_text(json.dumps({"model": args.model, "fits": args.fits,
                               "rss_after_first_fit_mb": round(first, 1),
                               "rss_every_10_fits_mb": marks}, indent=2))


if __name__ == "__main__":
    main()
