"""Does a model's accuracy depend on the rating scale? (issue 13)

The same ratings on four scales: 1-5 stars as given, 0-1 (``(y - 1) / 4``),
0-100 (``25 * (y - 1)``) and 1000-5000 (``1000 * y``). Each model is fitted
with its defaults on each scale and its held-out RMSE is mapped back to
stars (divided by the scale factor), so a scale-free model gives the same
figure in every column. Split: the reference random split of
``MEASUREMENTS.md`` (``default_rng(7)``, 10% test) of MovieLens-100K and of
the 1M subset.

Usage::

    python benchmarks/bench_rating_scale.py
    python benchmarks/bench_rating_scale.py --datasets ml-100k --quick
"""

import argparse

import _common as C

SCALES = {"1-5": (1.0, 0.0), "0-1": (0.25, -0.25), "0-100": (25.0, -25.0),
          "1000-5000": (1000.0, 0.0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(C.DATASETS),
                        choices=list(C.DATASETS))
    parser.add_argument("--quick", action="store_true",
                        help="2 epochs, 20,000 ratings; writes no JSON unless --output")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    from skembrec import EmbeddingRegressor, FunkMF

    models = {"FunkMF()": FunkMF, "EmbeddingRegressor()": EmbeddingRegressor}
    rows, runs = [], []
    for dataset in args.datasets:
        data = C.load_ratings(dataset)
        if data is None:
            print(f"{dataset}: not found, skipped")
            continue
        X, y = data
        if args.quick:
            X, y = X[:20_000], y[:20_000]
        train, test = C.reference_split(len(y))
        for label, cls in models.items():
            row = {"dataset": dataset, "model": label}
            for scale_label, (factor, shift) in SCALES.items():
                params = {"random_state": 0, **({"n_epochs": 2} if args.quick else {})}
                model = cls(**params).fit(X[train], y[train] * factor + shift)
                pred = (model.predict(X[test]) - shift) / factor
                row[scale_label] = C.rmse(y[test], pred)
                runs.append({**row, "scale": scale_label})
            spread = max(row[s] for s in SCALES) - min(row[s] for s in SCALES)
            row["spread"] = spread
            rows.append(row)
            print(f"{dataset} {label}: " + ", ".join(
                f"{s} {row[s]:.4f}" for s in SCALES) + f" (spread {spread:.4f})")
    C.print_table(rows, [("dataset", "dataset", ""), ("model", "model", ""),
                         *((s, s, ".4f") for s in SCALES), ("spread", "spread", ".4f")],
                  title="held-out RMSE in stars, fitted on each scale")
    if not args.quick or args.output:
        C.write_results("rating_scale", {
            "benchmark": "rating_scale", "machine": C.machine_info(),
            "scales": {k: {"factor": f, "shift": s} for k, (f, s) in SCALES.items()},
            "rows": rows,
        }, args.output)


if __name__ == "__main__":
    main()
