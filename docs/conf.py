"""Sphinx configuration of the skembrec documentation.

Build it with ``sphinx-build -W --keep-going -b html docs docs/_build/html``
(``tests/test_docs.py`` does, in the test command). The gallery runs every
script of ``examples/`` with ``--quick``; set ``SKEMBREC_DOCS_FULL=1`` to run
them with their full settings, and ``SKEMBREC_DOCS_EXAMPLES`` to a regular
expression to execute only the examples whose path matches it.
"""

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# the package from this checkout, and the docs' own extension
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))

# TensorFlow's C++ start-up messages are noise in a build log
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from skembrec_sphinx import write_api_reference  # noqa: E402

import skembrec  # noqa: E402

project = "skembrec"
author = "the skembrec developers"
copyright = "the skembrec developers, BSD-3-Clause"
version = release = skembrec.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "skembrec_sphinx",
    "myst_parser",  # the scaling pages are Markdown
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"
# no network here: intersphinx stays off, references to scikit-learn and
# NumPy render as plain code
nitpicky = False

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
autoclass_content = "class"
# the class template lists methods itself; numpydoc's own member tables
# would list them a second time
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- the API page, from each module's __all__ --------------------------------
# (module, section title, names listed first; the rest of __all__ follows)
API_SECTIONS = [
    ("skembrec", "estimators",
     ["FunkMF", "EmbeddingRegressor", "EmbeddingClassifier", "AutoRec", "BayesianMF",
      "ImplicitMF"]),
    ("skembrec.model_selection", "splitters",
     ["TemporalProbeSplit", "UserHoldoutSplit", "TimeCutoffSplit", "ItemHoldoutSplit",
      "ColdUserSplit"]),
    ("skembrec.datasets", "loaders and generators",
     ["load_movielens", "fetch_movielens", "load_netflix", "make_ratings"]),
    ("skembrec.metrics", "ranking metrics and scorers",
     ["make_ranking_scorer", "ndcg_at_k", "recall_at_k", "precision_at_k", "map_at_k",
      "mrr_at_k", "hit_rate_at_k", "catalogue_coverage", "popularity_bias"]),
    ("skembrec.plotting", "plots",
     ["plot_learning_curve", "plot_item_embeddings", "plot_error_by_support",
      "plot_rating_distributions"]),
]
write_api_reference(DOCS / "api.rst", API_SECTIONS)

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # run every example, not only plot_*.py; SKEMBREC_DOCS_EXAMPLES narrows it
    "filename_pattern": os.environ.get("SKEMBREC_DOCS_EXAMPLES", r"\.py$"),
    # each script gets --quick (unless SKEMBREC_DOCS_FULL=1)
    "reset_argv": "skembrec_sphinx.gallery_argv",
    "doc_module": ("skembrec",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skembrec": None},
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    # an example that raises is reported and fails the build at its end
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "min_reported_time": 1,
}

# -- benchmark tables (skembrec_sphinx) -------------------------------------------
skembrec_benchmark_results = str(ROOT / "benchmarks" / "results")

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skembrec {version}"
html_static_path = ["_static"]
html_css_files = ["skembrec.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_prev_next": True,
    # "on this page" everywhere but the gallery, whose pages give the width
    # to code and figures (pages matching no pattern get no secondary sidebar)
    "secondary_sidebar_items": {
        page: ["page-toc"]
        for page in ("index", "api", "benchmarks", "user_guide/*", "generated/*")
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    # no icons or version switcher: they would fetch from the network
    "icon_links": [],
}
# pages with no section navigation give its room to their content
html_sidebars = {"index": [], "api": [], "benchmarks": []}

# -- maths -------------------------------------------------------------------------
# A published site loads MathJax from its CDN (Sphinx's default). To read the
# site offline, point SKEMBREC_DOCS_MATHJAX at a local copy: a URL or a path
# relative to _static (scripts/check_docs_site.py does this).
if os.environ.get("SKEMBREC_DOCS_MATHJAX"):
    mathjax_path = os.environ["SKEMBREC_DOCS_MATHJAX"]
