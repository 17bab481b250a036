"""Write the accuracy table of README.md from benchmarks/results/accuracy.json.

``benchmarks/bench_accuracy.py`` measures; this script only renders its JSON
as a Markdown table (test RMSE per protocol, MAE on the 1M random split)
between the README's ``accuracy-table`` markers. ``--check`` exits non-zero
when the README is out of date, which the test suite uses.

Usage::

    python benchmarks/bench_accuracy.py     # measure (minutes)
    python scripts/results_table.py         # refresh README.md
    python scripts/results_table.py --check
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "accuracy.json"
README = ROOT / "README.md"
START, END = "<!-- accuracy-table:start -->", "<!-- accuracy-table:end -->"


def render(result):
    protocols = [p for p, spec in result["protocols"].items() if "skipped" not in spec]
    mae = {row["model"]: row for row in result["mae"]}
    mae_protocol = "1M random" if "1M random" in protocols else protocols[0]
    header = ["model", *(f"RMSE {p}" for p in protocols), f"MAE {mae_protocol}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in result["rmse"]:
        if all(row.get(p) is None for p in protocols):
            continue  # a variant this run did not fit
        cells = [row["model"]] + [_number(row.get(p)) for p in protocols]
        cells.append(_number(mae[row["model"]].get(mae_protocol)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _number(value):
    return "-" if value is None else f"{value:.4f}"


def updated_readme(text, table):
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if README.md does not hold the current table")
    args = parser.parse_args(argv)
    table = render(json.loads(RESULTS.read_text()))
    text = README.read_text()
    new = updated_readme(text, table)
    if args.check:
        if new != text:
            print("README.md's accuracy table is out of date: run "
                  "python scripts/results_table.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
