"""The lowcode:// dialect on SQLAlchemy 1.4 (Apache Superset still pins SQLAlchemy < 2).

Runs ``tests/interfaces/test_sqlalchemy.py`` (inspect, autoload, text() binds, pandas read_sql and
read_sql_table) again with the Python of a second environment holding SQLAlchemy 1.4 and pandas
2.1 (pandas 2.2 needs SQLAlchemy 2). That environment is:

* ``$LOWCODE_SQLA14_PYTHON``, when set: a Python that already has it; or
* built once by this test with ``python -m venv`` + ``pip install`` under the cache directory
  (``$LOWCODE_SQLA14_VENV``, else ``$XDG_CACHE_HOME/lowcode-sql/`` or ``~/.cache/lowcode-sql/``),
  keyed on this Python, the requirements, the checkout and pyproject.toml, and reused while they
  do not change. Building it is the one step that downloads packages (about 30 s with a warm pip
  cache): CI has PyPI. Offline, point ``$LOWCODE_SQLA14_PYTHON`` at a ready environment, or set it
  to ``skip`` to skip this test knowingly; a failed build is a failure, never a silent skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Superset's pins of the time; numpy < 2 because pandas 2.1 wheels are built against numpy 1.
EXTRA = ["sqlalchemy>=1.4,<2", "pandas>=2.1.4,<2.2", "numpy<2", "pyarrow>=16.1,<19", "pytest>=8"]
BUILD_TIMEOUT = 600


def _requirements() -> list[str]:
    """The engine's own dependencies (from pyproject.toml) plus the 1.4 line's pins."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *EXTRA]


def _key() -> str:
    """What the environment depends on: rebuilt when any of it changes."""
    parts = [sys.version, str(ROOT), (ROOT / "pyproject.toml").read_text(), *_requirements()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _venv_dir(key: str) -> Path:
    base = os.environ.get("LOWCODE_SQLA14_VENV")
    if base:
        return Path(base)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lowcode-sql"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError:  # no writable home (some CI users): the temp directory still allows reuse
        cache = Path(tempfile.gettempdir()) / "lowcode-sql-cache"
    return cache / f"venv-sqla14-{key}"


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


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    if done.returncode != 0:
        pytest.fail(f"building the SQLAlchemy 1.4 environment failed at {what} (exit {done.returncode}); "
                    f"set LOWCODE_SQLA14_PYTHON to a ready Python (or to 'skip' offline):\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def _python14() -> str:
    given = os.environ.get("LOWCODE_SQLA14_PYTHON")
    if given == "skip":
        pytest.skip("LOWCODE_SQLA14_PYTHON=skip")
    if given:
        return given
    key = _key()
    venv = _venv_dir(key)
    python = venv / "bin" / "python"
    ready = venv / ".lowcode-ready"  # the key, written last: a half-built or outdated environment is rebuilt
    with _locked(venv.with_name(venv.name + ".lock")):
        if not ready.exists() or ready.read_text().strip() != key:
            shutil.rmtree(venv, ignore_errors=True)
            _run([sys.executable, "-m", "venv", str(venv)], "python -m venv")
            pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            # wheels only: pandas 2.1 and numpy 1.26 have none past Python 3.12, and compiling them
            # would take many minutes; better to fail at once with pip's explanation
            _run([*pip, "--only-binary=:all:", *_requirements()],
                 "pip install (SQLAlchemy 1.4, pandas 2.1, the engine's dependencies)")
            # --no-deps: the engine's dependencies are above; the dev extra would pull SQLAlchemy 2.
            # Installed (not just on sys.path) so the sqlalchemy.dialects entry point exists.
            _run([*pip, "--no-deps", "-e", str(ROOT)], "pip install -e (this checkout)")
            ready.write_text(key + "\n")
    return str(python)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first run builds a venv and pip-installs SQLAlchemy 1.4 + pandas (minutes)
def test_dialect_on_sqlalchemy_14() -> None:
    python = _python14()
    probe = ("import json, sqlalchemy, pandas, importlib.metadata as m, lowcode_sql.sqlalchemy_dialect as d; "
             "print(json.dumps([sqlalchemy.__version__, pandas.__version__, d.__file__, "
             "[e.value for e in m.entry_points(group='sqlalchemy.dialects') if e.name == 'lowcode']]))")
    versions = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120, cwd="/")
    assert versions.returncode == 0, versions.stderr[-3000:]
    sqla, pandas, module, eps = json.loads(versions.stdout)
    assert sqla.startswith("1.4."), versions.stdout
    assert tuple(int(p) for p in pandas.split(".")[:2]) < (2, 2), versions.stdout
    assert Path(module).resolve().is_relative_to(ROOT), f"{module} is not this checkout's"  # not a stale copy
    assert eps == ["lowcode_sql.sqlalchemy_dialect:LowcodeDialect"], versions.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run(
        # the 1.4 venv has no pytest-timeout: its ``timeout`` ini option is unknown there (a warning,
        # an error under filterwarnings=error); this process's own limit covers the run
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra --strict-markers",
         "-W", "ignore::pytest.PytestConfigWarning", "tests/interfaces/test_sqlalchemy.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )
    out = done.stdout[-3000:] + done.stderr[-2000:]
    assert done.returncode == 0, out
    passed = re.search(r"(\d+) passed", done.stdout)
    # every test of the 2.x file ran (none skipped: an importorskip would hide a broken install)
    n_tests = len(re.findall(r"^def test_", (ROOT / "tests/interfaces/test_sqlalchemy.py").read_text(), re.M))
    assert passed is not None and int(passed.group(1)) == n_tests, out
    assert not re.search(r"\d+ (skipped|failed|errors?|xfailed)", done.stdout), out
