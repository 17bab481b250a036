"""Sphinx helpers of the skembrec documentation.

- ``gallery_argv``: sphinx-gallery's ``reset_argv`` hook. Every example runs
  as ``python examples/<name>.py --quick`` would (``SKEMBREC_DOCS_FULL=1``
  drops ``--quick``).
- ``.. benchmark-results::``: renders every JSON file of
  ``benchmarks/results/`` into tables when the docs are built, so no figure
  of the benchmark pages is typed by hand.
- ``.. gallery-output:: <example>``: the text an example of the gallery
  printed in this build, quoted on a user guide page.
- ``write_api_reference``: writes ``api.rst`` from the ``__all__`` of each
  public module when the docs are built, so that a name added to the
  package is never missing from the API reference.
- Docstrings inherited from scikit-learn (``score``, ``get_params``,
  ``set_fit_request``, ...) cite labels of scikit-learn's own site; without
  intersphinx those references are rewritten to plain text.
"""

import ast
import json
import math
import os
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

# a cell that holds one formatted number
_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?(e[-+]?\d+)?$")
# sections shown after the measurements: context and raw data
_LAST = ("runs", "machine", "versions", "devices")
# tables longer than this are cut, with a note saying how many rows remain
MAX_ROWS = 60
# lists of numbers longer than this are summarised
MAX_VALUES = 12


# ------------------------------------------------------------- API reference
API_HEADER = """\
.. This file is written by docs/conf.py (write_api_reference in
   docs/_ext/skembrec_sphinx.py) from the __all__ of each module: edit those.

.. _api:

=============
API reference
=============

Every public name of skembrec. The estimators follow scikit-learn's API:
``__init__`` stores parameters, ``fit`` learns, fitted state ends in ``_``.
"""


def write_api_reference(path, sections):
    """Write the API page: one section and one autosummary per module.

    ``sections`` is a list of ``(module, title, first)``: the names in
    ``first`` come first, in that order, then the rest of the module's
    ``__all__`` (names starting with ``_`` are not public). The file is only
    rewritten when its text changes, so that Sphinx does not rebuild the page
    for nothing.
    """
    import importlib

    parts = [API_HEADER]
    for module_name, title, first in sections:
        module = importlib.import_module(module_name)
        public = [n for n in module.__all__ if not n.startswith("_")]
        unknown = [n for n in first if n not in public]
        if unknown:
            raise ValueError(f"{module_name}.__all__ has no {unknown}")
        names = list(first) + [n for n in public if n not in first]
        heading = f":mod:`{module_name}`: {title}"
        parts.append(
            f"{heading}\n{'=' * len(heading)}\n\n"
            f".. automodule:: {module_name}\n   :no-members:\n   :no-inherited-members:\n\n"
            f".. currentmodule:: {module_name}\n\n"
            ".. autosummary::\n   :toctree: generated/\n\n"
            + "".join(f"   {n}\n" for n in names))
    text = "\n".join(parts)
    path = Path(path)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


# --------------------------------------------------------------------- gallery
def gallery_argv(gallery_conf, script_vars):
    """Arguments each gallery example runs with: ``--quick`` unless told otherwise.

    sphinx-gallery runs an example with ``__doc__`` set to ``""``; a script
    that builds its ``--help`` text from its docstring expects the docstring
    it has on the command line, so it gets it back here.
    """
    source = Path(script_vars["src_file"])
    namespace = script_vars.get("example_globals")
    if namespace is not None:
        docstring = ast.get_docstring(ast.parse(source.read_text()), clean=False)
        namespace["__doc__"] = docstring or ""
    if os.environ.get("SKEMBREC_DOCS_FULL", "") not in ("", "0"):
        return []
    return ["--quick"]


class GalleryOutputDirective(SphinxDirective):
    """``.. gallery-output:: random_vs_temporal`` quotes what that example printed.

    The text is read from the page sphinx-gallery generated in this build
    (``auto_examples/<name>.rst``), so it is the output of the code as it is.
    ``:block:`` picks the n-th printed block (0 is the first).
    """

    required_arguments = 1
    option_spec = {"block": directives.nonnegative_int}

    def run(self):
        name = self.arguments[0]
        gallery = Path(self.env.srcdir) / self.config.sphinx_gallery_conf["gallery_dirs"]
        page = gallery / f"{name}.rst"
        if not page.exists():
            raise self.error(f"gallery-output: no gallery page {page} (is {name}.py an example?)")
        self.env.note_dependency(str(page))
        blocks = _printed_blocks(page.read_text())
        which = self.options.get("block", 0)
        if which >= len(blocks):
            raise self.error(
                f"gallery-output: {name} printed {len(blocks)} block(s); "
                f"block {which} asked for (was the example executed in this build?)")
        literal = nodes.literal_block(blocks[which], blocks[which])
        literal["language"] = "none"
        literal["classes"].append("gallery-output")
        return [literal]


def _printed_blocks(text):
    """The printed-output blocks of a sphinx-gallery page, dedented."""
    blocks = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.strip() != ".. rst-class:: sphx-glr-script-out":
            continue
        # then: blank, " .. code-block:: none", blank, indented output lines
        start = next(k for k in range(n + 1, len(lines)) if "code-block::" in lines[k]) + 1
        body = []
        for k in range(start, len(lines)):
            if lines[k].strip() and not lines[k].startswith("    "):
                break
            body.append(lines[k])
        text_block = "\n".join(body).strip("\n")
        indent = min((len(b) - len(b.lstrip()) for b in body if b.strip()), default=0)
        blocks.append("\n".join(b[indent:] for b in text_block.splitlines()))
    return blocks


# ------------------------------------------------------------ benchmark tables
def _format(value):
    """One JSON value as table text."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and abs(value) < 0.01:
            return f"{value:.3g}"
        digits = 1 if abs(value) >= 100 else 4
        text = f"{value:,.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            shown = ", ".join(_format(v) for v in value[:MAX_VALUES])
            more = len(value) - MAX_VALUES
            return f"[{shown}{f', … {more} more' if more > 0 else ''}]"
        return f"({len(value)} entries)"
    if isinstance(value, dict):
        return f"({len(value)} fields)"
    return str(value)


def _is_scalar(value):
    return not isinstance(value, dict | list) or (
        isinstance(value, list) and all(not isinstance(v, dict | list) for v in value))


def _flatten(record, prefix=""):
    """A dict with nested dicts of scalars flattened to dotted keys."""
    flat = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and all(_is_scalar(v) for v in value.values()):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _table(header, rows, classes=("benchmark-table",)):
    """A docutils table of text cells; ``rows`` are lists of strings."""
    table = nodes.table(classes=list(classes))
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)

    def row(cells):
        out = nodes.row()
        for cell in cells:
            # numbers right-aligned (skembrec.css), text left
            entry = nodes.entry(classes=["num"] if _NUMBER.match(cell) else [])
            entry += nodes.paragraph(text=cell)
            out += entry
        return out

    head = nodes.thead()
    head += row(header)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += row(cells)
    group += body
    return table


def _records_table(records, label=None):
    """Rows are records (dicts); columns the union of their flattened keys."""
    flat = [_flatten(r) for r in records]
    columns = []
    for record in flat:
        columns += [k for k in record if k not in columns]
    header = ([label] if label else []) + columns
    rows = []
    for name, record in zip(records if label else [None] * len(flat), flat):
        cells = [_format(record.get(c)) for c in columns]
        rows.append(([str(name)] if label else []) + cells)
    return header, rows


def _cut(rows):
    """At most MAX_ROWS rows, and a note of how many were left out."""
    if len(rows) > MAX_ROWS:
        note = nodes.paragraph(text=f"… {len(rows) - MAX_ROWS} more rows in the JSON file.")
        return rows[:MAX_ROWS], [note]
    return rows, []


class BenchmarkResultsDirective(SphinxDirective):
    """``.. benchmark-results::`` renders ``benchmarks/results/*.json`` as tables.

    One section per file, named after it. Inside, whatever the file holds is
    laid out generically: scalar fields in a field/value table, dicts of
    scalars that share their keys side by side in one table, lists of
    records and dicts of records as tables with one row per record, and
    anything nested deeper in sub-sections. ``:pattern:`` selects files
    (a glob, default ``*.json``).
    """

    option_spec = {"pattern": directives.unchanged}

    def run(self):
        folder = Path(self.config.skembrec_benchmark_results)
        pattern = self.options.get("pattern", "*.json")
        files = sorted(folder.glob(pattern)) if folder.is_dir() else []
        # rebuild this page when a result appears or changes
        self.env.note_dependency(str(folder))
        if not files:
            return [nodes.paragraph(
                text=f"No benchmark results in {folder.name}/ yet: run the scripts of "
                     "benchmarks/ to write them.")]
        out = []
        for path in files:
            self.env.note_dependency(str(path))
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                logger.warning("benchmark-results: cannot read %s: %s", path, exc,
                               location=self.get_location())
                continue
            out.append(self._file_section(path, data))
        return out

    def _section(self, title, key):
        section = nodes.section(ids=[nodes.make_id(f"benchmark-{key}")])
        section += nodes.title(text=title)
        return section

    def _file_section(self, path, data):
        section = self._section(path.name, path.stem)
        if not isinstance(data, dict):
            data = {"values": data}
        intro = nodes.paragraph()
        what = data.get("benchmark")
        if isinstance(what, str) and what:
            intro += nodes.Text(f"{what}. ")
        if data.get("command"):
            intro += nodes.Text("Written by ")
            intro += nodes.literal(text=str(data["command"]))
        else:
            intro += nodes.Text("Written by a script of benchmarks/ (the file does not "
                                "record its command)")
        if data.get("date"):
            intro += nodes.Text(f" on {data['date']}")
        intro += nodes.Text(".")
        section += intro
        rest = {k: v for k, v in data.items() if k not in ("benchmark", "command", "date")}
        self._render(rest, section, path.stem, depth=0)
        return section

    def _render(self, data, parent, key, depth):
        scalars = {k: v for k, v in data.items() if _is_scalar(v)}
        if scalars:
            rows = [[str(k), _format(v)] for k, v in scalars.items()]
            parent += _table(["field", "value"], rows)
        # dicts of scalars with the same keys (measured / target / met): one table
        flat_dicts = {k: v for k, v in data.items()
                      if isinstance(v, dict) and v and all(_is_scalar(x) for x in v.values())}
        groups = {}
        for name, value in flat_dicts.items():
            groups.setdefault(tuple(value), []).append(name)
        for fields, names in groups.items():
            if len(names) > 1:
                rows = [[f] + [_format(data[n][f]) for n in names] for f in fields]
                sub = self._section(", ".join(names), f"{key}-{'-'.join(names)}")
                sub += _table(["field", *names], rows)
                parent += sub
        # the measurements first; raw per-run data and the machine last
        ordered = sorted(data, key=lambda k: k in _LAST)
        for name in ordered:
            value = data[name]
            if name in scalars:
                continue
            if name in flat_dicts and len(groups[tuple(flat_dicts[name])]) > 1:
                continue
            sub = self._section(name, f"{key}-{name}")
            if isinstance(value, list):
                header, rows = _records_table([v if isinstance(v, dict) else {"value": v}
                                               for v in value])
                rows, note = _cut(rows)
                sub += _table(header, rows)
                sub += note
            elif name in flat_dicts:
                sub += _table(["field", "value"],
                              [[f"{k}", _format(v)] for k, v in _flatten(value).items()])
            elif all(isinstance(v, dict) for v in value.values()) and all(
                    all(_is_scalar(x) or isinstance(x, dict) for x in v.values())
                    for v in value.values()):
                # a dict of records (runs by name): one row each
                header, rows = _records_table(list(value.values()))
                rows = [[str(n), *r] for n, r in zip(value, rows)]
                rows, note = _cut(rows)
                sub += _table(["name", *header], rows)
                sub += note
            elif depth < 3:
                self._render(value, sub, f"{key}-{name}", depth + 1)
            else:
                sub += nodes.paragraph(text=f"{_format(value)} (see the JSON file)")
            parent += sub


# :ref:`text <label>`, :ref:`label`, :term:`text <term>`, :term:`term`
_FOREIGN_ROLE = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<[^`>]*>)?`")


def plain_foreign_references(app, what, name, obj, options, lines):
    """Turn scikit-learn's cross-references into text in its inherited docstrings.

    They point into scikit-learn's own documentation, which this build cannot
    link to (no network, no intersphinx); left as they are, every inherited
    ``score`` would be a broken-reference warning.
    """
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("sklearn"):
        return
    for n, line in enumerate(lines):
        lines[n] = _FOREIGN_ROLE.sub(lambda m: m.group(1) or "", line)


def setup(app):
    app.connect("autodoc-process-docstring", plain_foreign_references)
    app.add_config_value("skembrec_benchmark_results", "", "env")
    app.add_directive("benchmark-results", BenchmarkResultsDirective)
    app.add_directive("gallery-output", GalleryOutputDirective)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

