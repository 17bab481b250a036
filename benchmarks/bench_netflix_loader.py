"""Benchmark ``load_netflix`` on a full-size Netflix Prize tree.

Writes, in the exact published format, a ``training_set/`` of 17,770
``mv_*.txt`` files holding 100,480,507 ratings of 480,189 customers (drawn
by ``make_ratings``), plus ``probe.txt``, ``qualifying.txt`` and
``movie_titles.txt``; then times, each in a fresh subprocess:

1. a parse without cache,
2. a parse that also writes the cache,
3. a reload from the cache,

and records each one's peak resident memory (``VmHWM``). Prints a table
and writes ``benchmarks/results/netflix_loader.json``. Targets (issue 3):
parse < 120 s, peak RSS < 3 GB, reload < 10 s.

Usage::

    python benchmarks/bench_netflix_loader.py                 # full size
    python benchmarks/bench_netflix_loader.py --n-ratings 2000000 --n-users 50000

The tree is reused when ``--dir`` already holds one written with the same
parameters (``--rewrite`` forces a new one). Timings are with the files in
the page cache, as right after writing them.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_USERS, N_ITEMS, N_RATINGS = 480_189, 17_770, 100_480_507
N_PROBE, N_QUALIFYING = 1_408_395, 2_817_131  # sizes of the real files
TARGETS = {"parse_s": 120.0, "peak_rss_mb": 3000.0, "reload_s": 10.0}
RESULTS = Path(__file__).resolve().parent / "results" / "netflix_loader.json"
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------ writing a tree
def civil_from_days(days):
    """(year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm)."""
    z = days.astype(np.int64) + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def format_lines(customer, rating=None, days=None):
    """Text of ``customer[,rating][,YYYY-MM-DD]`` lines, and each line's
    length, built with array operations (a Python loop over 100M lines
    would dominate the benchmark)."""
    n = len(customer)
    fields = [np.zeros((n, 10), np.uint8)]
    customer = customer.astype(np.int64)
    for k in range(10):
        fields[0][:, 9 - k] = (customer // 10**k) % 10 + 48
    n_digits = np.ones(n, np.int64)
    for k in range(1, 10):
        n_digits += customer >= 10**k
    if rating is not None:
        fields.append(np.column_stack([np.full(n, 44), rating + 48]).astype(np.uint8))
    if days is not None:
        year, month, day = civil_from_days(days)
        date = np.empty((n, 11), np.uint8)
        date[:, 0] = 44
        for col, value, width in ((1, year, 4), (6, month, 2), (9, day, 2)):
            for k in range(width):
                date[:, col + width - 1 - k] = (value // 10**k) % 10 + 48
        date[:, 5] = date[:, 8] = 45
        fields.append(date)
    fields.append(np.full((n, 1), 10, np.uint8))
    matrix = np.hstack(fields)
    keep = np.ones(matrix.shape, bool)
    keep[:, :10] = np.arange(10) >= 10 - n_digits[:, None]
    lengths = keep.sum(axis=1)
    return matrix[keep].tobytes(), lengths


def write_grouped(path_for, item, columns, header_for=lambda m: f"{m}:\n"):
    """Write lines grouped by movie; ``path_for(movie)`` gives the file of a
    movie (files may be shared); lines are in the given order per movie."""
    order = np.argsort(item, kind="stable")
    item = item[order]
    columns = [c[order] if c is not None else None for c in columns]
    text, lengths = format_lines(*columns)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    movies, first = np.unique(item, return_index=True)
    bounds = np.append(first, len(item))
    handles = {}
    try:
        for m, lo, hi in zip(movies, bounds[:-1], bounds[1:]):
            path = path_for(int(m))
            if path not in handles:
                handles[path] = open(path, "ab")
            handles[path].write(header_for(int(m)).encode())
            handles[path].write(text[offsets[lo] : offsets[hi]])
    finally:
        for f in handles.values():
            f.close()


def write_tree(folder, n_users, n_items, n_ratings, n_chunks, seed):
    """Write the tree in item slices so memory stays a few GB at full size."""
    if str(ROOT) not in sys.path:  # run from a checkout without installing
        sys.path.insert(0, str(ROOT))
    from skembrec.datasets import make_ratings

    folder.mkdir(parents=True, exist_ok=True)
    training = folder / "training_set"
    if training.exists():
        shutil.rmtree(training)
    training.mkdir()
    for name in ("probe.txt", "qualifying.txt", "movie_titles.txt"):
        (folder / name).unlink(missing_ok=True)
    rng = np.random.default_rng(seed)
    n_qualifying = round(n_ratings * N_QUALIFYING / N_RATINGS)
    probe_fraction = N_PROBE / N_RATINGS
    item_edges = np.linspace(0, n_items, n_chunks + 1).astype(int)
    rating_edges = np.linspace(0, n_ratings, n_chunks + 1).astype(np.int64)
    qual_edges = np.linspace(0, n_qualifying, n_chunks + 1).astype(np.int64)
    n_probe = 0
    for k in range(n_chunks):
        t0 = time.perf_counter()
        n_train = int(rating_edges[k + 1] - rating_edges[k])
        n_qual = int(qual_edges[k + 1] - qual_edges[k])
        first_item = int(item_edges[k])
        n_slice_items = int(item_edges[k + 1]) - first_item
        X, y = make_ratings(
            n_users,
            n_slice_items,
            n_train + n_qual,
            time_range=("1999-11-11", "2005-12-31"),
            random_state=seed + k,
            return_X_y=True,
        )
        user = X["user"].to_numpy(np.int32)
        item = (X["item"].to_numpy() + first_item).astype(np.int32)
        days = (X["timestamp"].to_numpy() // 86_400).astype(np.int32)
        rating = y.to_numpy().astype(np.int8)
        del X, y
        train, qual = slice(0, n_train), slice(n_train, None)
        write_grouped(
            lambda m: training / f"mv_{m:07d}.txt",
            item[train],
            [user[train], rating[train], days[train]],
        )
        probe = rng.random(n_train) < probe_fraction
        n_probe += int(probe.sum())
        write_grouped(
            lambda m: folder / "probe.txt", item[train][probe], [user[train][probe]]
        )
        write_grouped(
            lambda m: folder / "qualifying.txt",
            item[qual],
            [user[qual], None, days[qual]],
        )
        print(
            f"  wrote items {first_item + 1}..{first_item + n_slice_items}: "
            f"{n_train:,} ratings ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    with open(folder / "movie_titles.txt", "w", encoding="latin-1") as f:
        for m in range(1, n_items + 1):
            year = "NULL" if m % 2500 == 0 else str(1920 + m % 86)
            f.write(f"{m},{year},Movie {m}, Part {m % 7}\n")
    return n_probe


def ensure_tree(folder, params, rewrite):
    marker = folder / "skembrec-bench.json"
    if not rewrite and marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("params") == params:
            print(f"reusing the tree in {folder}")
            return saved
    print(f"writing a Netflix-format tree to {folder}", flush=True)
    t0 = time.perf_counter()
    marker.unlink(missing_ok=True)
    n_probe = write_tree(
        folder,
        params["n_users"],
        params["n_items"],
        params["n_ratings"],
        params["n_chunks"],
        params["seed"],
    )
    info = {
        "params": params,
        "n_probe": n_probe,
        "bytes": sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()),
        "write_s": round(time.perf_counter() - t0, 1),
    }
    marker.write_text(json.dumps(info))
    return info


# --------------------------------------------------------------- measuring
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from skembrec.datasets import load_netflix
import_s = time.perf_counter() - t0
folder, cache, cache_dir = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
t0 = time.perf_counter()
data = load_netflix(folder, cache=cache, cache_dir=cache_dir)
seconds = time.perf_counter() - t0
status = dict(
    line.split(":", 1) for line in open("/proc/self/status") if ":" in line
)
print(json.dumps({
    "seconds": round(seconds, 2),
    "import_s": round(import_s, 2),
    "peak_rss_mb": round(int(status["VmHWM"].split()[0]) / 1024, 1),
    "n_ratings": len(data.frame),
    "n_probe": int(data.probe.sum()),
    "n_qualifying": len(data.qualifying),
    "n_users": int(data.frame["user"].nunique()),
    "frame_mb": round(data.frame.memory_usage(deep=True).sum() / 2**20, 1),
    "dtypes": {c: str(t) for c, t in data.frame.dtypes.items()},
}))
"""


def run_child(folder, cache, cache_dir):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(folder),
            "1" if cache else "0",
            str(cache_dir),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/skembrec-netflix-full"))
    parser.add_argument("--n-ratings", type=int, default=N_RATINGS)
    parser.add_argument("--n-users", type=int, default=N_USERS)
    parser.add_argument("--n-items", type=int, default=N_ITEMS)
    parser.add_argument("--n-chunks", type=int, default=None, help="item slices")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rewrite", action="store_true", help="write a new tree")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    n_chunks = args.n_chunks or max(1, -(-args.n_ratings // 12_500_000))
    params = dict(
        n_users=args.n_users,
        n_items=args.n_items,
        n_ratings=args.n_ratings,
        n_chunks=n_chunks,
        seed=args.seed,
    )
    tree = ensure_tree(args.dir, params, args.rewrite)

    # other work on the machine slows the runs down: record how busy it was
    load_before = os.getloadavg()
    cache_dir = Path(tempfile.mkdtemp(prefix="skembrec-netflix-cache-"))
    try:
        runs = {}
        for label, cache in (("parse", False), ("parse+cache", True), ("reload", True)):
            print(f"running: {label}", flush=True)
            runs[label] = run_child(args.dir, cache, cache_dir)
        cache_mb = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    figures = {
        "parse_s": runs["parse"]["seconds"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs.values()),
        "reload_s": runs["reload"]["seconds"],
    }
    print()
    print(f"{'run':<12} {'seconds':>9} {'peak RSS MB':>12} {'ratings':>13}")
    for label, r in runs.items():
        seconds, rss, n = r["seconds"], r["peak_rss_mb"], r["n_ratings"]
        print(f"{label:<12} {seconds:>9.1f} {rss:>12.0f} {n:>13,}")
    print()
    for key, target in TARGETS.items():
        verdict = "ok" if figures[key] < target else "MISSED"
        print(f"{key:<12} {figures[key]:>9.1f}  target < {target:g}  {verdict}")

    result = {
        "benchmark": "load_netflix on a Netflix-format tree written by make_ratings",
        "command": " ".join(
            ["python benchmarks/bench_netflix_loader.py"]
            + (sys.argv[1:] if argv is None else argv)
        ),
        "tree": {**tree, "dir": str(args.dir)},
        "runs": runs,
        "cache_mb": round(cache_mb / 2**20, 1),
        "figures": figures,
        "targets": TARGETS,
        "met": {k: figures[k] < t for k, t in TARGETS.items()},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pandas": __import__("pandas").__version__,
            "platform": platform.platform(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "page_cache": "warm (files read right after being written or reused)",
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return result


if __name__ == "__main__":
    main()
