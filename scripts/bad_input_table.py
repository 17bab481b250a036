"""Render the battery of hostile inputs as the docs' table of bad inputs.

Every row runs one case of ``tests/hostile_cases.py`` (the catalogue that
``tests/test_hostile_battery.py`` checks) and records what it met: the
exception type and the first line of its message, or the result of an edge
case that must work. The table is written to
``docs/user_guide/bad_input_table.inc`` (included by the input guide), so
it is regenerated, never typed:

    python scripts/bad_input_table.py            # writes the docs table
    python scripts/bad_input_table.py --print    # prints it instead
"""

import argparse
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "user_guide" / "bad_input_table.inc"
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def _text(message):
    """A message as plain reStructuredText: the cases' temporary folders as
    ``<tmp>`` (so the table does not change from run to run), and the
    characters of inline markup escaped (a folder name ending in ``_`` read
    as a link target and broke the docs build)."""
    message = re.sub(re.escape(tempfile.gettempdir()) + r"/skembrec-hostile-[^/\s'\"]*",
                     "<tmp>", message)
    return re.sub(r"([\\`*_])", r"\\\1", message)


def rows():
    from hostile_cases import CASES

    out = []
    for case in CASES:
        try:
            case.call()
        except Exception as exc:  # noqa: BLE001 - we report whatever is raised
            message = str(exc).splitlines()[0] if str(exc) else ""
            met = f"``{type(exc).__name__}``: {_text(message[:160])}"
        else:
            met = "works" if case.error is None else "**no error**"
        out.append((case.entry, case.name, met))
    return out


def render(table_rows):
    counts = Counter(entry.split(".")[0].split("(")[0] for entry, _, _ in table_rows)
    lines = [
        ".. This file is written by scripts/bad_input_table.py; do not edit it.",
        "",
        f"The battery holds {len(table_rows)} cases "
        f"({', '.join(f'{n} for {e}' for e, n in sorted(counts.items()))}), beside "
        "the generated ones (arbitrary tables to ``fit`` and ``predict``, header "
        "values and flipped bytes to ``load``, lines of ratings files).",
        "",
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 22 26 52",
        "",
        "   * - entry point",
        "     - input",
        "     - what it meets",
    ]
    for entry, name, met in table_rows:
        lines += [f"   * - ``{_cell(entry)}``", f"     - {_cell(name)}", f"     - {_cell(met)}"]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print instead of writing")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    text = render(rows())
    if args.print:
        print(text)
    else:
        TABLE.write_text(text)
        print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
