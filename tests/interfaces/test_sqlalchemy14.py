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

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cached_venv import ROOT, cached_python, engine_requirements

# Superset's pins of the time; numpy < 2 because pandas 2.1 wheels are built against numpy 1.
EXTRA = ["sqlalchemy>=1.4,<2", "pandas>=2.1.4,<2.2", "numpy<2", "pyarrow>=16.1,<19", "pytest>=8"]


def _python14() -> str:
    # wheels only: pandas 2.1 and numpy 1.26 have none past Python 3.12, and compiling them would
    # take many minutes; better to fail at once with pip's explanation. The checkout goes in with
    # --no-deps: the dev extra would pull SQLAlchemy 2.
    return cached_python("sqla14", [*engine_requirements(), *EXTRA], pip_options=["--only-binary=:all:"])


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
