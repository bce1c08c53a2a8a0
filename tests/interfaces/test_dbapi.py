"""PEP 249 conformance of lowcode_sql.dbapi against a CoreData sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from lowcode_sql import dbapi, errors

from .conftest import queries


@pytest.fixture
def con(lc: Any) -> Any:
    c = dbapi.connect(connection=lc)
    yield c
    c.close()


def test_module_globals() -> None:
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety in (0, 1, 2, 3)
    assert dbapi.paramstyle == "qmark"
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError",
                 "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError"):
        assert issubclass(getattr(dbapi, name), Exception)
    assert issubclass(dbapi.ProgrammingError, dbapi.DatabaseError)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)
    assert issubclass(dbapi.InterfaceError, dbapi.Error)
    assert dbapi.Date(2024, 1, 2) == dt.date(2024, 1, 2)
    assert isinstance(dbapi.TimestampFromTicks(0), dt.datetime)
    assert dbapi.Binary(b"x") == b"x"


def test_description_type_codes(con: Any) -> None:
    cur = con.cursor()
    assert cur.description is None and cur.rowcount == -1
    cur.execute("SELECT title, created, 1::BIGINT AS n, 2.5::DECIMAL(10,2) AS d, true AS b, "
                "'x'::BLOB AS bl, [1, 2] AS l, DATE '2024-01-01' AS day "
                "FROM coredata.projects WHERE title = 'Project 0001'")
    desc = {d[0]: d for d in cur.description}
    assert all(len(d) == 7 for d in cur.description)
    assert desc["title"][1] == "VARCHAR" and desc["title"][1] == dbapi.STRING
    assert desc["created"][1] == "TIMESTAMP" and desc["created"][1] == dbapi.DATETIME
    assert desc["n"][1] == "BIGINT" and desc["n"][1] == dbapi.NUMBER and desc["n"][1] != dbapi.STRING
    assert desc["d"][1] == dbapi.NUMBER and desc["d"][4:6] == (10, 2)
    assert desc["b"][1] == "BOOLEAN"
    assert desc["b"][1] != dbapi.NUMBER and desc["b"][1] != dbapi.STRING  # issue 19: not a number
    assert desc["bl"][1] == dbapi.BINARY
    assert desc["l"][1] == "INTEGER[]" and desc["l"][1] != dbapi.NUMBER
    assert desc["day"][1] == "DATE" and desc["day"][1] == dbapi.DATETIME
    assert cur.fetchall() == [("Project 0001", dt.datetime(2024, 1, 1, 1), 1, Decimal("2.50"), True, b"x", [1, 2],
                               dt.date(2024, 1, 1))]
    assert cur.rowcount == 1


def test_fetch_methods_and_arraysize(con: Any, sandbox: Any) -> None:
    cur = con.cursor()
    cur.execute("SELECT identifier FROM coredata.projects WHERE title LIKE 'Project 00%' ORDER BY identifier, title")
    n = cur.rowcount
    assert n == 100 - len([i for i in range(100) if i % 7 == 0])
    assert cur.arraysize == 1
    first = cur.fetchone()
    assert first == ("P-00",)  # Project 0050
    assert len(cur.fetchmany()) == 1  # arraysize rows
    cur.arraysize = 5
    assert len(cur.fetchmany()) == 5
    assert len(cur.fetchmany(3)) == 3
    rest = cur.fetchall()
    assert len(rest) == n - 10
    assert cur.fetchone() is None and cur.fetchmany(4) == [] and cur.fetchall() == []
    # the LIKE prefix went to the API (title__startswith), so one page served the query
    assert any(q.get("title__startswith") == "Project 00" for q in queries(sandbox))


def test_iteration_and_arrow_fast_path(con: Any) -> None:
    cur = con.execute("SELECT status, count(*) AS n FROM coredata.projects GROUP BY status ORDER BY status")
    assert list(cur) == [("active", 1000), ("closed", 2000)]
    cur.execute("SELECT status FROM coredata.projects WHERE identifier = 'P-03' ORDER BY title LIMIT 4")
    cur.fetchone()
    t = cur.fetch_arrow_table()
    assert isinstance(t, pa.Table) and t.num_rows == 3 and t.column_names == ["status"]
    assert cur.fetchall() == []


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT count(*) FROM coredata.projects WHERE title = ? AND status = ?", ["Project 0003", "active"]),
        ("SELECT count(*) FROM coredata.projects WHERE title = $1 AND status = $2", ("Project 0003", "active")),
        ("SELECT count(*) FROM coredata.projects WHERE title = $t AND status = $s",
         {"t": "Project 0003", "s": "active"}),
    ],
)
def test_parameters(con: Any, sandbox: Any, sql: str, params: Any) -> None:
    cur = con.cursor()
    cur.execute(sql, params)
    assert cur.fetchall() == [(1,)]
    # the bound title was pushed to the API exactly like a literal
    assert any(q.get("title") == "Project 0003" for q in queries(sandbox))


def test_parameter_types(con: Any) -> None:
    cur = con.cursor()
    cur.execute("SELECT count(*) FROM coredata.projects WHERE created >= ? AND created < ?",
                [dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 3)])
    assert cur.fetchone() == (24,)
    # nested and top-level '?' bind in textual order; a '?' inside a string is not a parameter
    cur.execute("SELECT CAST(? AS INTEGER) + 1, ?, ?, '?'", [41, None, 1.5])
    assert cur.fetchone() == (42, None, 1.5, "?")


def test_executemany(con: Any) -> None:
    cur = con.cursor()
    cur.executemany("SELECT title FROM coredata.projects WHERE title = ?", [["Project 0001"], ["Project 0002"]])
    assert cur.rowcount == 2
    assert cur.fetchall() == [("Project 0002",)]


@pytest.mark.parametrize(
    ("sql", "params", "cls", "cause"),
    [
        ("SELEC 1", None, dbapi.ProgrammingError, errors.SQLSyntaxError),
        ("SELECT * FROM coredata.nope", None, dbapi.ProgrammingError, errors.UnknownTable),
        ("SELECT nope FROM coredata.projects", None, dbapi.ProgrammingError, errors.UnknownColumn),
        ("SELECT ? + ?", [1], dbapi.ProgrammingError, errors.ParameterError),
        ("SELECT ?", None, dbapi.ProgrammingError, errors.ParameterError),
        ("DELETE FROM coredata.projects", None, dbapi.NotSupportedError, errors.UnsupportedQuery),
        ("SELECT 'x'::INTEGER", None, dbapi.DataError, errors.ExecutionError),
        ("SELECT no_such_function(1)", None, dbapi.ProgrammingError, errors.ExecutionError),
    ],
)
def test_errors_map_to_pep249(con: Any, sql: str, params: Any, cls: type, cause: type) -> None:
    cur = con.cursor()
    with pytest.raises(cls) as info:
        cur.execute(sql, params)
    assert isinstance(info.value.__cause__, cause) and isinstance(info.value.lowcode_error, cause)
    assert isinstance(info.value, dbapi.DatabaseError)
    assert cur.description is None
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchall()


@pytest.mark.parametrize("status", [400, 401])
def test_fetch_errors_are_operational(sandbox: Any, con: Any, status: int) -> None:
    sandbox.faults.add("status", status=status, times=None)
    try:
        with pytest.raises(dbapi.OperationalError) as info:
            con.cursor().execute("SELECT title FROM coredata.projects")
        assert isinstance(info.value.lowcode_error, errors.FetchError)
        assert "demo-key" not in str(info.value) and "api_key" not in str(info.value)  # the sandbox's key
    finally:
        sandbox.faults.clear()


def test_closed_objects_and_transactions(lc: Any) -> None:
    c = dbapi.connect(connection=lc)
    c.commit()
    c.rollback()
    cur = c.cursor()
    cur.close()
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")
    with pytest.raises(dbapi.NotSupportedError):
        c.cursor().callproc("x")
    c.close()
    c.close()  # idempotent
    with pytest.raises(dbapi.InterfaceError):
        c.cursor()
    # the shared lowcode_sql connection stays open
    assert lc.sql("SELECT 1").fetchall() == [(1,)]


def test_connect_owns_its_engine_and_maps_config_errors(tmp_path: Any) -> None:
    with dbapi.connect({"sources": {"crm": {"platform": "coredata", "sandbox": True}}}) as c:
        assert c.cursor().execute("SELECT count(*) > 0 FROM crm.projects").fetchone() == (True,)
    assert c.closed
    bad = tmp_path / "bad.toml"
    bad.write_text("[sources.x]\nplatform = 'nope'\n")
    with pytest.raises(dbapi.InterfaceError) as info:
        dbapi.connect(str(bad))
    assert isinstance(info.value.lowcode_error, errors.ConfigError)


def test_binary_parameter(con: Any) -> None:
    cur = con.cursor()
    cur.execute("SELECT ? AS b", [dbapi.Binary(b"\x00a'\\")])
    assert cur.fetchall() == [(b"\x00a'\\",)] and cur.description[0][1] == dbapi.BINARY


def test_binary_parameters_bind_as_blob(con: Any) -> None:
    # the README said Binary parameters were not supported; they bind as BLOB
    cur = con.cursor()
    cur.execute("SELECT ? = CAST('ab' AS BLOB), octet_length(?), ?", [dbapi.Binary(b"ab"), dbapi.Binary(b"\x00\xff"),
                                                                      b"\x01"])
    assert cur.fetchall() == [(True, 2, b"\x01")]
    assert cur.description[2][1] == "BLOB" and cur.description[2][1] == dbapi.BINARY
