"""`.ci/run`: the README's test command and ruff, with their failures kept."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci" / "run"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"this is what `\.ci/run` does\):\s*```bash\n(.+?)\n```", readme, re.S)
    assert match, "README.md lost its test command block"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command_word_for_word():
    command = _readme_test_command()
    lines = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()]
    assert any(line.startswith(command) for line in lines), (
        f"{CI} no longer runs the README's command {command!r}")


# Stand-ins for the tools .ci/run calls: each logs its call and exits with the
# status the test asks for, so the script's own logic runs in well under a second.
_SHIM = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CI_LOG"
case "$(basename "$0") $*" in
  "python3 -m venv .venv") mkdir -p .venv/bin && : > .venv/bin/activate ;;
  "python -m pytest"*) exit "$FAKE_PYTEST" ;;
  "ruff "*) exit "$FAKE_RUFF" ;;
esac
exit 0
"""


def _run_ci(tmp_path, *, ruff, pytest_status):
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(CI, clone / ".ci" / "run")
    shims = tmp_path / "shims"
    shims.mkdir()
    for tool in ("python3", "python", "pip", "ruff"):
        (shims / tool).write_text(_SHIM)
        (shims / tool).chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
           "CI_LOG": str(log), "FAKE_RUFF": str(ruff), "FAKE_PYTEST": str(pytest_status)}
    done = subprocess.run(["bash", str(clone / ".ci" / "run")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    return done.returncode, log.read_text().splitlines()


def test_ci_passes_when_ruff_and_the_tests_pass(tmp_path):
    status, calls = _run_ci(tmp_path, ruff=0, pytest_status=0)
    assert status == 0
    assert "ruff check ." in calls
    assert calls[-1] == "python -m pytest"


@pytest.mark.parametrize(("ruff", "pytest_status", "expected"), [
    (0, 1, 1),   # a failing test
    (0, 5, 5),   # pytest collected no tests: not a pass
    (1, 0, 1),   # a ruff finding
    (1, 1, 1),   # both: ruff's status, and the tests still ran
])
def test_ci_fails_when_ruff_or_the_tests_fail(tmp_path, ruff, pytest_status, expected):
    status, calls = _run_ci(tmp_path, ruff=ruff, pytest_status=pytest_status)
    assert status == expected
    assert calls[-1] == "python -m pytest"
