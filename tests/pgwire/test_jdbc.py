"""pgJDBC (Debian's libpostgresql-jdbc-java) through a single-file Java program; skipped where Java or
the driver is missing (CI does not install a JDK for it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pgwire.conftest import PASSWORD, USER

pytestmark = pytest.mark.slow

JAR = Path("/usr/share/java/postgresql.jar")


@pytest.mark.skipif(shutil.which("java") is None or not JAR.exists(), reason="java or pgJDBC not installed")
def test_pgjdbc_metadata_and_fetch_size(server):
    program = Path(__file__).with_name("JdbcCheck.java")
    r = subprocess.run(["java", "-cp", str(JAR), str(program), str(server.port), USER, PASSWORD, "entu", "item"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout.splitlines()
    assert out[0] == "product=PostgreSQL 15.0"
    assert "schema=entu" in out and "table=entu.item" in out and "table=entu.big" in out
    assert "column=price:float8:8" in out and "column=day:date:91" in out and "column=name:text:12" in out
    assert "tables=item,,item schema=entu base=price" in out  # issue 14: was empty
    assert "setDate=Straße" in out and "setObject=alpha" in out and "setTimestamp=1" in out  # issue 14
    assert "pks=0" in out and "rows=250 last=row 249" in out and "count=4 div=2 name=count" in out
