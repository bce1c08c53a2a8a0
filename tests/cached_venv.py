"""Second Python environments for tests that need other package versions (SQLAlchemy 1.4,
dbt-core + dbt-duckdb): built once with ``python -m venv`` + ``pip install`` under the cache
directory and reused while what they depend on is unchanged.

The environment of a test named NAME is:

* ``$LOWCODE_<NAME>_PYTHON``, when set: a Python that already has it (``skip`` skips the test
  knowingly, e.g. offline); or
* ``$LOWCODE_<NAME>_VENV``, else ``$XDG_CACHE_HOME/lowcode-sql/`` or ``~/.cache/lowcode-sql/``,
  keyed on this Python, the requirements, the checkout and pyproject.toml. Building it is the one
  step that downloads packages: CI has PyPI. A failed build is a failure, never a silent skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT = 600


def engine_requirements() -> list[str]:
    """The engine's own dependencies, from pyproject.toml."""
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def _key(requirements: Sequence[str]) -> str:
    parts = [sys.version, str(ROOT), (ROOT / "pyproject.toml").read_text(), *requirements]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _venv_dir(name: str, key: str) -> Path:
    base = os.environ.get(f"LOWCODE_{name.upper()}_VENV")
    if base:
        return Path(base)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lowcode-sql"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home (some CI users): the temp directory still allows reuse
        cache = Path(tempfile.gettempdir()) / "lowcode-sql-cache"
    return cache / f"venv-{name.lower()}-{key}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # pytest-xdist workers (or two checkouts' runs) must not build the same environment at once
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(cmd: list[str], name: str, what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    if done.returncode != 0:
        pytest.fail(f"building the {name} environment failed at {what} (exit {done.returncode}); "
                    f"set LOWCODE_{name.upper()}_PYTHON to a ready Python (or to 'skip' offline):\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def cached_python(name: str, requirements: Sequence[str], *, pip_options: Sequence[str] = ()) -> str:
    """The Python of environment ``name`` holding ``requirements`` and this checkout (installed
    ``--no-deps -e``, so its entry points exist); built on first use (see the module docstring)."""
    given = os.environ.get(f"LOWCODE_{name.upper()}_PYTHON")
    if given == "skip":
        pytest.skip(f"LOWCODE_{name.upper()}_PYTHON=skip")
    if given:
        return given
    key = _key([*requirements, *pip_options])
    venv = _venv_dir(name, key)
    python = venv / "bin" / "python"
    ready = venv / ".lowcode-ready"  # the key, written last: a half-built or outdated environment is rebuilt
    with _locked(venv.with_name(venv.name + ".lock")):
        if not ready.exists() or ready.read_text().strip() != key:
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(venv)], name, "python -m venv")
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            _run([*pip, *pip_options, *requirements], name, "pip install")
            _run([*pip, "--no-deps", "-e", str(ROOT)], name, "pip install -e (this checkout)")
            ready.write_text(key + "\n")
    return str(python)
