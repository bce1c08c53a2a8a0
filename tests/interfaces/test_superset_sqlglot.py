"""The engine on the lowest sqlglot it allows (28.10: Apache Superset 6.1's pin, issue 14).

Runs key test files again with the Python of a second environment (tests/cached_venv.py:
``$LOWCODE_SQLGLOT_FLOOR_PYTHON``, or built once under the cache directory) holding the engine's
requirements with ``sqlglot==28.10.0``: the DB-API, the SQLAlchemy dialect, the Superset spec's
grains and the wire server with psycopg (lowcode_sql/_sqlglot_compat.py gives sqlglot 30's names).
The golden request files are left out: sqlglot 28 spells some local SQL differently
(``NOT x LIKE`` for ``x NOT LIKE``), the same predicate.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.cached_venv import ROOT, cached_python, engine_requirements

FLOOR = "sqlglot==28.10.0"
EXTRA = [FLOOR, "pytest>=8", "pytest-timeout>=2.1", "hypothesis>=6.100", "pandas>=2", "sqlalchemy>=2",
         "psycopg[binary]>=3.1", "psutil>=5"]
FILES = ["tests/interfaces/test_dbapi.py", "tests/interfaces/test_sqlalchemy.py",
         "tests/interfaces/test_superset_spec.py", "tests/interfaces/test_superset_dialect.py",
         "tests/pgwire/test_psycopg.py"]


@pytest.mark.slow
@pytest.mark.timeout(2400)  # the first run builds the environment
def test_key_tests_on_the_lowest_sqlglot() -> None:
    python = cached_python("sqlglot_floor", [*engine_requirements(), *EXTRA])
    version = subprocess.run([python, "-c", "import sqlglot; print(sqlglot.__version__)"],
                             capture_output=True, text=True, timeout=120, cwd="/")
    assert version.stdout.strip() == FLOOR.split("==")[1], version.stdout + version.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra --strict-markers",
                           *FILES], cwd=ROOT, capture_output=True, text=True, timeout=1800, env=env)
    out = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, out
    assert re.search(r"\d+ passed", done.stdout) and not re.search(r"\d+ (failed|errors?)", done.stdout), out
