"""Cold and warm fit of one estimator on the ML-1M subset, in one process:
the first fit (TensorFlow import and traces included), then two more of new
estimators. Run it from two checkouts alternately to compare their speed.

With ``--tf-imported`` TensorFlow is imported before the first fit, which
then counts the traces but not the import (issue 31's goal for ``EASE()``
on the whole subset: ``--all``).

Usage::

    python benchmarks/warm_fit.py FunkMF
    PYTHONPATH=/path/to/old/checkout python benchmarks/warm_fit.py FunkMF
    python benchmarks/warm_fit.py EASE --tf-imported --all
"""

import sys
import time

import _common as C

import skembrec


def main(name, tf_imported=False, everything=False):
    X, y = C.load_ratings("ml-1m-subset")
    train, _ = C.reference_split(len(y))
    if everything:
        train = slice(None)
    cls = getattr(skembrec, name)
    params = {"random_state": 0} if "random_state" in cls().get_params() else {}
    if tf_imported:
        import tensorflow  # noqa: F401
    times = []
    for _ in range(3):
        start = time.perf_counter()
        cls(**params).fit(X[train], y[train])
        times.append(time.perf_counter() - start)
    print(f"{skembrec.__file__}: {name} cold {times[0]:.2f} s, warm {times[1]:.2f} / "
          f"{times[2]:.2f} s")


if __name__ == "__main__":
    main(sys.argv[1], "--tf-imported" in sys.argv, "--all" in sys.argv)
