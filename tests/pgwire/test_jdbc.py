"""pgJDBC (Debian's libpostgresql-jdbc-java) through a single-file Java program; skipped where Java or
the driver is missing (CI does not install a JDK for it)."""

from __future__ import annotations

import re
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
    metadata_calls_answer_what_a_tool_reads(out)
    assert "pks=0" in out and "rows=250 last=row 249" in out and "count=4 div=2 name=count" in out


def _md(out: list[str]) -> dict[str, tuple[int, list[str]]]:
    """``md NAME rows=N cols=C COL=v|v|`` lines -> {NAME: (N, [v, ...])}; an error line fails here."""
    got: dict[str, tuple[int, list[str]]] = {}
    for line in out:
        if not line.startswith("md "):
            continue
        name, rest = line[3:].split(" ", 1)
        assert not rest.startswith("error="), f"DatabaseMetaData.{name} failed: {rest}"
        m = re.match(r"rows=(\d+) cols=\d+(?: [A-Z_]+=(.*))?$", rest)
        assert m, line
        got[name] = (int(m.group(1)), (m.group(2) or "").split("|")[:-1])
    return got


def metadata_calls_answer_what_a_tool_reads(out: list[str]) -> None:
    # Every PgDatabaseMetaData call a browser makes (issue 14): the driver's own SQL (bi_corpus/pgjdbc.sql)
    # runs, lists the source's tables, columns and types, and is empty where a platform table has none.
    md = _md(out)
    assert len(md) == 23, sorted(md)
    assert md["getCatalogs"][1] == ["lowcode"]
    assert "entu" in md["getSchemas"][1]
    assert {"TABLE", "VIEW", "SYSTEM TABLE"} <= set(md["getTableTypes"][1])
    assert {"item", "big", "mid"} <= set(md["getTables"][1])
    assert md["getTablesViews"][0] == 0 and md["getTablesNamed"][1] == ["item"]
    assert {"name", "qty", "price", "ok", "day", "seen", "tags"} <= set(md["getColumns"][1])
    assert {"text", "float8", "bool", "date", "timestamptz", "json"} <= set(md["getColumnsTypes"][1])
    for empty in ("getPrimaryKeys", "getImportedKeys", "getExportedKeys", "getCrossReference", "getIndexInfo",
                  "getBestRowIdentifier", "getFunctions", "getFunctionColumns", "getProcedures",
                  "getProcedureColumns", "getUDTs"):
        assert md[empty][0] == 0, (empty, md[empty])
    types = set(md["getTypeInfo"][1])
    assert {"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "varchar", "date",
            "timestamp", "timestamptz", "json", "uuid", "bytea", "_int4"} <= types
    assert "SELECT" in md["getTablePrivileges"][1] and "SELECT" in md["getColumnPrivileges"][1]
    assert md["getVersionColumns"][1] == ["ctid"]  # pgJDBC's own constant row
