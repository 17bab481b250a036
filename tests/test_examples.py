"""Every example runs end to end with its --quick settings.

Where the docs can be built, ``tests/test_docs.py``'s one Sphinx build
already runs every example with ``--quick`` (the gallery) and checks its
printed output, so this module runs only the README's first command
(``python examples/quickstart.py``) as a user would; without the docs
tools it runs every example here.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
GALLERY_BUILDS = all(importlib.util.find_spec(name) is not None
                     for name in ("sphinx", "sphinx_gallery", "numpydoc", "matplotlib"))
HERE = [p for p in EXAMPLES if p.stem == "quickstart" or not GALLERY_BUILDS]


@pytest.mark.parametrize("script", HERE, ids=[p.stem for p in HERE])
def test_example_runs_quick(script):
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "RMSE" in out.stdout
    # a table of finite numbers, not NaN
    assert "nan" not in out.stdout.lower()
