"""Real clients whose protocol habits differ from libpq's text defaults: psycopg 3's COPY row reader,
asyncpg (binary parameters typed by ParameterDescription, ``client_encoding 'utf-8'``), SQL-level
PREPARE / EXECUTE / DEALLOCATE (issue 14)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import psycopg
import pytest

from tests.pgwire.conftest import MID_ROWS, PASSWORD, USER

pytestmark = pytest.mark.slow


def test_copy_rows_yields_every_row(dsn):
    # psycopg's Copy.rows() parses one CopyData message as one row, as PostgreSQL sends them
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor()
        with cur.copy("COPY (SELECT label, n FROM entu.mid ORDER BY n) TO STDOUT") as cp:
            rows = list(cp.rows())
        assert len(rows) == MID_ROWS and rows[0] == ("row 0", "0") and rows[-1] == (f"row {MID_ROWS - 1}",
                                                                                      f"{MID_ROWS - 1}")
        with cur.copy("COPY (SELECT name, qty FROM entu.item ORDER BY qty NULLS LAST) TO STDOUT") as cp:
            cp.set_types(["text", "int8"])
            assert list(cp.rows()) == [("alpha", 3), ("Straße", 7), ("beta", 10), (None, None)]


def _asyncpg(server: Any, fn: Any) -> Any:
    asyncpg = pytest.importorskip("asyncpg")

    async def run() -> Any:
        # asyncpg's defaults: client_encoding 'utf-8' (quoted), binary parameters typed from ParameterDescription
        con = await asyncpg.connect(host="127.0.0.1", port=server.port, user=USER, password=PASSWORD,
                                    database="lowcode", ssl=False)
        try:
            return await fn(con)
        finally:
            await con.close()

    return asyncio.run(run())


def test_asyncpg_connects_and_fetches(server):
    async def fn(con: Any) -> Any:
        rows = await con.fetch("SELECT name, qty, day FROM entu.item ORDER BY qty NULLS LAST")
        text = await con.fetchval("SELECT name FROM entu.item WHERE name = $1", "beta")
        return [tuple(r) for r in rows], text, con.get_settings().client_encoding

    rows, text, encoding = _asyncpg(server, fn)
    assert rows[0] == ("alpha", 3, dt.date(2024, 1, 1)) and rows[-1] == (None, None, dt.date(2024, 3, 1))
    assert text == "beta" and encoding == "UTF8"


def test_asyncpg_typed_parameters(server):
    # asyncpg encodes each argument by the type ParameterDescription gives it: int, date, float,
    # a cast's type and LIMIT's bigint must be inferred, not described as text
    async def fn(con: Any) -> Any:
        a = await con.fetch("SELECT name FROM entu.item WHERE qty > $1 ORDER BY name", 5)
        b = await con.fetchval("SELECT name FROM entu.item WHERE day = $1", dt.date(2023, 12, 31))
        c = await con.fetchval("SELECT $1::bigint + 1", 41)
        d = await con.fetch("SELECT name FROM entu.item WHERE price BETWEEN $1 AND $2 ORDER BY price LIMIT $3",
                            1.0, 5.0, 1)
        e = await con.fetchval("SELECT count(*) FROM entu.item WHERE qty IN ($1, $2) AND ok = $3", 3, 7, True)
        stmt = await con.prepare("SELECT name FROM entu.item WHERE qty >= $1 AND name <> $2")
        types = [t.name for t in stmt.get_parameters()]
        f = await con.fetchval("SELECT count(*) FROM entu.item WHERE seen >= $1",
                               dt.datetime(2024, 2, 1, tzinfo=dt.UTC))
        oid = await con.fetchval("SELECT 'entu.item'::regclass::oid")
        g = await con.fetchval("SELECT relname FROM pg_catalog.pg_class WHERE oid = $1", oid)  # a catalog query
        return [r[0] for r in a], b, c, [r[0] for r in d], e, types, f, g

    a, b, c, d, e, types, f, g = _asyncpg(server, fn)
    assert a == ["Straße", "beta"] and b == "Straße" and c == 42 and d == ["alpha"] and e == 2
    assert f == 1 and g == "item"
    assert types == ["float8", "text"]  # the column's real type: Entu numbers are floats


def test_sql_prepare_execute_deallocate(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("PREPARE by_qty (bigint, text) AS SELECT name FROM entu.item WHERE qty > $1 AND name <> $2 "
                  "ORDER BY name")
        cur = c.execute("EXECUTE by_qty(5, 'beta')")
        assert [d.name for d in cur.description] == ["name"] and cur.fetchall() == [("Straße",)]
        assert cur.statusmessage == "SELECT 1"
        assert c.execute("EXECUTE by_qty (2 + 1 - 1, 'x')").fetchall() == [("Straße",), ("alpha",), ("beta",)]
        c.execute("PREPARE two AS SELECT 1 + 1 AS n")  # no parameters; a catalog-only query
        assert c.execute("EXECUTE two").fetchone() == (2,)
        # parameters of the extended protocol inside EXECUTE's arguments
        assert c.execute("EXECUTE by_qty(%s, %s)", [9, "none"]).fetchall() == [("beta",)]
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            c.execute("PREPARE two AS SELECT 3")
        with pytest.raises(psycopg.errors.SyntaxError, match="wrong number of parameters"):
            c.execute("EXECUTE by_qty(1)")
        assert c.execute("DEALLOCATE PREPARE two").statusmessage == "DEALLOCATE"
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            c.execute("EXECUTE two")
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            c.execute("DEALLOCATE two")
        assert c.execute("DEALLOCATE ALL").statusmessage == "DEALLOCATE ALL"
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            c.execute("EXECUTE by_qty(1, 'a')")
        # per session: another connection does not see this one's statements
        c.execute("PREPARE mine AS SELECT 1")
        with psycopg.connect(dsn, autocommit=True) as other, pytest.raises(psycopg.errors.InvalidSqlStatementName):
            other.execute("EXECUTE mine")
