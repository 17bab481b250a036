"""Cold and warm fit of one estimator on the ML-1M subset, in one process:
the first fit (TensorFlow import and traces included), then two more of new
estimators. Run it from two checkouts alternately to compare their speed.

Usage::

    python benchmarks/warm_fit.py FunkMF
    PYTHONPATH=/path/to/old/checkout python benchmarks/warm_fit.py FunkMF
"""

import sys
import time

import _common as C

import skembrec


def main(name):
    X, y = C.load_ratings("ml-1m-subset")
    train, _ = C.reference_split(len(y))
    cls = getattr(skembrec, name)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        cls(random_state=0).fit(X[train], y[train])
        times.append(time.perf_counter() - start)
    print(f"{skembrec.__file__}: {name} cold {times[0]:.2f} s, warm {times[1]:.2f} / "
          f"{times[2]:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1])
