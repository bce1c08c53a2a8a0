"""The lowcode:// dialect on SQLAlchemy 1.4 (Apache Superset still pins SQLAlchemy < 2).

Runs the SQLAlchemy tests with the Python of a second environment named by
``$LOWCODE_SQLA14_PYTHON``; skipped without one, because building it means downloading packages
and tests never touch the network. To make one::

    python3 -m venv /tmp/venv14
    /tmp/venv14/bin/pip install "sqlalchemy>=1.4,<2" "pandas>=2.1.4,<2.2" "pyarrow>=16.1,<19" pytest
    /tmp/venv14/bin/pip install -e .          # the engine's own dependencies
    LOWCODE_SQLA14_PYTHON=/tmp/venv14/bin/python pytest tests/interfaces/test_sqlalchemy14.py
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

PYTHON = os.environ.get("LOWCODE_SQLA14_PYTHON")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(not PYTHON, reason="set LOWCODE_SQLA14_PYTHON to a Python with SQLAlchemy 1.4")
def test_dialect_on_sqlalchemy_14() -> None:
    assert PYTHON is not None
    version = subprocess.run([PYTHON, "-c", "import sqlalchemy; print(sqlalchemy.__version__)"],
                             capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert version.startswith("1.4."), version
    done = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/interfaces/test_sqlalchemy.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
