"""Batched ``recommend`` against the one-user loop (issue 17).

For each estimator fitted with its defaults on the MovieLens-1M subset
(users 1-2999, the reference random split's training part), the top 10 of
every user: one call ``recommend(users, n=10)`` against
``[recommend(u, n=10) for u in users]``. Both are timed warm (after one
call of each, so tracing is not counted; the cold first call is reported
beside), median of ``--repeats``, and checked identical.

Usage::

    python benchmarks/bench_recommend.py [--repeats 3] [--quick]
"""

import argparse
import time

import _common as C
import numpy as np


def timed(call, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - start)
    return out, C.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="ML-100K or synthetic data, 1 repeat; writes no JSON")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    from skembrec import EmbeddingClassifier, EmbeddingRegressor, FunkMF

    data = C.load_ratings("ml-100k" if args.quick else "ml-1m-subset")
    if data is None:
        from skembrec.datasets import make_ratings

        data = make_ratings(500, 300, 20_000, random_state=0, return_X_y=True)
        data = (np.asarray(data[0])[:, :2], np.asarray(data[1]))
    X, y = data
    train, _ = C.reference_split(len(y))
    users = np.unique(X[train, 0])
    repeats = 1 if args.quick else args.repeats
    rows = []
    for cls in (FunkMF, EmbeddingRegressor, EmbeddingClassifier):
        model = cls(random_state=0).fit(X[train], y[train])
        start = time.perf_counter()
        model.recommend(users[:1], n=10)
        cold = time.perf_counter() - start
        batched, batched_s = timed(lambda m=model: m.recommend(users, n=10), repeats)
        looped, loop_s = timed(lambda m=model: [m.recommend(u, n=10) for u in users], repeats)
        identical = bool(np.array_equal(np.asarray(batched), np.asarray(looped)))
        rows.append({"model": f"{cls.__name__}()", "users": len(users),
                     "first call s": cold, "batched s": batched_s, "loop s": loop_s,
                     "speed-up": loop_s / batched_s, "identical": identical})
        print(rows[-1])
    C.print_table(rows, [("model", "model", ""), ("users", "users", "d"),
                         ("first call s", "first call s", ".2f"),
                         ("batched s", "batched s", ".2f"), ("loop s", "loop s", ".2f"),
                         ("speed-up", "speed-up", ".1f"), ("identical", "identical", "")])
    if not args.quick or args.output:
        C.write_results("recommend", {"benchmark": "recommend", "machine": C.machine_info(),
                                      "repeats": repeats, "rows": rows}, args.output)


if __name__ == "__main__":
    main()
