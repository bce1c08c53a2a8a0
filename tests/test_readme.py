"""The README's two commands: `.ci/run` runs exactly the test command, and the quickstart command
works from a clean clone (a new venv, `pip install -e .`, `lowcode-sql demo`)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _command(heading: str) -> str:
    section = README.split(f"## {heading}", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", section, re.S)
    assert block, f"no command block under '## {heading}'"
    lines = [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1, f"'## {heading}' must hold exactly one command, got {lines}"
    return lines[0]


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _command("Run the tests")
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert test_command in commands, f".ci/run does not run the README's test command:\n{test_command}"
    assert commands[-1] == test_command, "the README's test command must be the last thing .ci/run does"


def test_quickstart_runs_the_demo():
    command = _command("Try it (no account needed)")
    assert "lowcode-sql demo" in command and "pip install" in command


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a clone plus a pip install of the project and its dependencies
def test_quickstart_from_a_clean_clone(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    command = _command("Try it (no account needed)").replace("python3 ", f"{sys.executable} ", 1)
    env = {k: v for k, v in os.environ.items() if k != "LOWCODE_SQL_SANDBOX_SAMPLE"}  # a user's default sample
    done = subprocess.run(["bash", "-c", command], cwd=clone, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    # the tour shows answers and what each cost, for every platform's sandbox
    assert "requests" in out and "coredata" in out and "entu" in out, out[-2000:]
    assert "Traceback" not in out + done.stderr
