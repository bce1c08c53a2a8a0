"""psycopg 3 (libpq) against the wire server: simple and extended protocol, types, cursors."""

from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest

from tests.pgwire.conftest import MD5_PASSWORD, MD5_USER, MID_ROWS, USER

pytestmark = pytest.mark.slow


def test_simple_query_types_and_names(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.execute("SELECT name, price, ok, day, seen, tags__all FROM entu.item ORDER BY price NULLS LAST")
        assert [d.name for d in cur.description] == ["name", "price", "ok", "day", "seen", "tags__all"]
        rows = cur.fetchall()
        assert rows[0] == ("alpha", 1.5, True, dt.date(2024, 1, 1),
                           dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=dt.UTC), ["x", "y"])
        assert rows[1][:2] == (None, 3.25) and rows[2][:2] == ("Straße", 10.0) and rows[3][:2] == ("beta", None)
        # PostgreSQL semantics: integer division, count's output name, NULLs first on DESC
        cur = c.execute("SELECT 10 / 4 AS q, count(*), 7 / 2.0 FROM entu.item")
        assert [d.name for d in cur.description] == ["q", "count", "?column?"]
        assert cur.fetchone() == (2, 4, 3.5)
        cur = c.execute("SELECT name FROM entu.item ORDER BY name DESC")
        assert [r[0] for r in cur.fetchall()] == [None, "beta", "alpha", "Straße"]


def test_parameters_extended_protocol(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        rows = c.execute("SELECT name FROM entu.item WHERE name = %s OR price > %s ORDER BY 1", ["beta", 5]).fetchall()
        assert rows == [("Straße",), ("beta",)]
        assert c.execute("SELECT %s::int + 1, %s", [41, "x"]).fetchone() == (42, "x")
        assert c.execute("SELECT count(*) FROM entu.item WHERE day >= %s", [dt.date(2024, 1, 1)]).fetchone() == (2,)
        # prepared (named) statement after repeated execution
        for _ in range(6):
            assert c.execute("SELECT count(*) FROM entu.item WHERE ok = %s", [True], prepare=True).fetchone() == (2,)


def test_binary_results(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor(binary=True)
        cur.execute("SELECT name, price, ok, day, seen, count(*) OVER () AS n FROM entu.item WHERE name = 'alpha'")
        assert cur.fetchone() == ("alpha", 1.5, True, dt.date(2024, 1, 1),
                                  dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=dt.UTC), 1)


def test_errors_keep_session_usable(dsn):
    with psycopg.connect(dsn) as c:
        with pytest.raises(psycopg.errors.UndefinedTable):
            c.execute("SELECT * FROM entu.nope")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        with pytest.raises(psycopg.errors.InFailedSqlTransaction):
            c.execute("SELECT 1")
        c.rollback()
        assert c.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.errors.SyntaxError):
            c.execute("SELEC 1")
        c.rollback()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute("DELETE FROM entu.item")


def test_transactions_settings_and_multi_statement(dsn):
    with psycopg.connect(dsn) as c:
        c.execute("SELECT 1")
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        c.commit()
        assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET application_name = 'bi tool'")
        assert c.execute("SHOW application_name").fetchone() == ("bi tool",)
        assert c.execute("SELECT current_setting('application_name')").fetchone() == ("bi tool",)
        assert c.info.parameter_status("application_name") == "bi tool"
        assert c.execute("SHOW transaction isolation level").fetchone() == ("read committed",)
        cur = c.execute("SET DateStyle = 'ISO'; SELECT 1 AS a; SELECT 2 AS b")
        assert cur.nextset() and cur.fetchone() == (1,)
        assert cur.nextset() and cur.fetchone() == (2,)
        assert c.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL 15")


def test_named_cursor_streams_in_chunks(dsn):
    with psycopg.connect(dsn) as c, c.cursor(name="big_cur") as cur:
        cur.itersize = 70
        cur.execute("SELECT n, label FROM entu.mid ORDER BY n")
        seen = [r[0] for r in cur]
        assert len(seen) == MID_ROWS and seen[:3] == [0.0, 1.0, 2.0]
    with psycopg.connect(dsn) as c, c.cursor(name="p_cur") as cur:
        cur.execute("SELECT label FROM entu.mid WHERE n < %s ORDER BY n", [3])
        assert cur.fetchmany(2) == [("row 0",), ("row 1",)]
        assert cur.fetchall() == [("row 2",)]


def test_declare_fetch_move_close(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("BEGIN")
        c.execute("DECLARE c1 CURSOR FOR SELECT label FROM entu.mid ORDER BY n")
        assert c.execute("FETCH 2 FROM c1").fetchall() == [("row 0",), ("row 1",)]
        c.execute("MOVE FORWARD 3 IN c1")
        assert c.execute("FETCH NEXT FROM c1").fetchall() == [("row 5",)]
        c.execute("CLOSE c1")
        with pytest.raises(psycopg.errors.InvalidCursorName):
            c.execute("FETCH 1 FROM c1")
        c.execute("ROLLBACK")


def test_bad_password_and_md5(server, dsn):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace("s3cret pass", "wrong"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace(f"user={USER}", "user=nobody"))
    md5 = f"host=127.0.0.1 port={server.port} user={MD5_USER} password='{MD5_PASSWORD}' sslmode=disable"
    with psycopg.connect(md5) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_cancel(dsn, sandbox_con):
    sandbox = sandbox_con.sandbox("entu")
    with psycopg.connect(dsn, autocommit=True) as c:
        old = getattr(sandbox, "latency", 0.0)
        sandbox.latency = 0.5  # every page takes half a second: the scan is still running when cancelled
        try:
            done = threading.Event()

            def cancel_until_done() -> None:
                # a cancel that arrives between statements is ignored (as in PostgreSQL): repeat it
                while not done.wait(0.4):
                    c.cancel_safe()

            canceller = threading.Thread(target=cancel_until_done)
            canceller.start()
            started = time.monotonic()
            try:
                with pytest.raises(psycopg.errors.QueryCanceled):
                    c.execute("SELECT count(*) FROM entu.big b1, entu.item WHERE b1.label LIKE '%9%'")
            finally:
                done.set()
                canceller.join()
            assert time.monotonic() - started < 30
        finally:
            sandbox.latency = old
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_concurrent_clients(dsn):
    errors: list[BaseException] = []
    results: list[int] = []

    def client(i: int) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as c:
                n = c.execute("SELECT count(*) FROM entu.item WHERE price < %s", [i]).fetchone()[0]
                assert n == sum(1 for p in (1.5, 3.25, 10.0) if p < i)
                assert ("item",) in c.execute("SELECT relname FROM pg_catalog.pg_class").fetchall()
                results.append(i)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sorted(results) == list(range(16))


def test_search_path_and_unknown_relations(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        assert c.execute("SELECT current_schema()").fetchone() == ("entu",)
        assert c.execute("SHOW search_path").fetchone() == ("entu",)
        c.execute("SET search_path TO public")
        assert c.execute("SELECT current_schema()").fetchone() == ("public",)
        with pytest.raises(psycopg.errors.UndefinedTable, match='relation "nothing_here" does not exist'):
            c.execute("SELECT * FROM nothing_here")
        with pytest.raises(psycopg.errors.DivisionByZero):
            c.execute("SELECT 1 / 0")


@pytest.mark.parametrize("binary", [False, True])
def test_expression_types_round_trip(dsn, binary):
    from decimal import Decimal

    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor(binary=binary)
        row = cur.execute(
            "SELECT interval '1 day 02:00:00', CAST(12.50 AS numeric(10, 2)), CAST('ab' AS bytea), "
            "TIME '13:14:15.5', CAST(9007199254740993 AS bigint), CAST(2 AS smallint), NULL, "
            "CAST(1.5 AS real), TIMESTAMP '2024-02-29 23:59:59.25', -0.0001::numeric").fetchone()
        assert row == (dt.timedelta(days=1, hours=2), Decimal("12.50"), b"ab", dt.time(13, 14, 15, 500000),
                       9007199254740993, 2, None, 1.5, dt.datetime(2024, 2, 29, 23, 59, 59, 250000),
                       Decimal("-0.0001"))


def test_startup_options_set_parameters(dsn):
    with psycopg.connect(dsn + " options='-c search_path=public -c application_name=viaoptions'") as c:
        assert c.execute("SELECT current_schema(), current_setting('application_name')").fetchone() == \
            ("public", "viaoptions")


def test_copy_to_stdout_text_and_csv(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor()
        with cur.copy("COPY (SELECT name, price, tags__all FROM entu.item ORDER BY price NULLS LAST) TO STDOUT") as cp:
            text = b"".join(bytes(b) for b in cp).decode()
        assert text.splitlines() == ["alpha\t1.5\t[\"x\", \"y\"]", "\\N\t3.25\t[\"y\"]", "Straße\t10\t\\N",
                                     "beta\t\\N\t\\N"]  # an empty multi-valued property is absent
        with cur.copy("COPY (SELECT name, 'a,b' AS s, '' AS e FROM entu.item WHERE name = 'beta') TO STDOUT "
                      "WITH (FORMAT csv, HEADER)") as cp:
            csv = b"".join(bytes(b) for b in cp).decode()
        assert csv == 'name,s,e\nbeta,"a,b",""\n'
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), cur.copy("COPY entu.item FROM STDIN") as cp:
            pass


def test_explain_shows_the_pushdown(dsn):
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.execute("EXPLAIN SELECT name FROM entu.item WHERE price > %s", [2])
        assert cur.description[0].name == "QUERY PLAN"
        plan = "\n".join(r[0] for r in cur.fetchall())
        assert "scan entu.item" in plan and "price > 2" in plan


def test_explain_analyze_runs_the_query_and_counts_its_requests(dsn, sandbox_con):
    """EXPLAIN ANALYZE through the wire (issue 17 §1): the plan plus, per scan, the requests the
    emulator really served; FORMAT JSON gives one row holding the document; a bad option is a
    clean error and the session goes on."""
    import json

    sandbox = sandbox_con.sandbox("entu")
    with psycopg.connect(dsn, autocommit=True) as c:
        sandbox.stats.clear()
        plan = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE SELECT name FROM entu.item WHERE price > 2"))
        served = sandbox.stats.requests
        assert served >= 1
        assert "scan entu.item" in plan and f"; actual {served} (" in plan and "received" in plan
        assert plan.splitlines()[-1].startswith("analyze: 2 rows in ")
        for sql in ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT name FROM entu.item WHERE price > 2",
                    "EXPLAIN (FORMAT JSON, ANALYZE true) SELECT name FROM entu.item WHERE price > 2"):
            sandbox.stats.clear()
            rows = c.execute(sql).fetchall()
            assert len(rows) == 1
            doc = json.loads(rows[0][0])
            assert doc["query"]["rows"] == 2 and doc["scans"][0]["requests"]["actual"] == sandbox.stats.requests
        sandbox.stats.clear()
        plain = "\n".join(r[0] for r in c.execute("EXPLAIN (ANALYZE false) SELECT name FROM entu.item"))
        assert "actual" not in plain and sandbox.stats.requests == 0  # a plan only: nothing sent
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="format XML"):
            c.execute("EXPLAIN (ANALYZE, FORMAT XML) SELECT 1")
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_source_queries_run_in_parallel(dsn, server, sandbox_con):
    sandbox = sandbox_con.sandbox("entu")
    old = sandbox.latency
    sandbox.latency = 0.6  # each query takes a few pages' latency: two clients overlap
    server.server.max_engines_busy = 0
    try:
        def client() -> None:
            with psycopg.connect(dsn, autocommit=True) as c:
                assert c.execute("SELECT count(*) FROM entu.mid WHERE label LIKE '%1%'").fetchone()[0] > 0

        threads = [threading.Thread(target=client) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert server.server.max_engines_busy >= 2
    finally:
        sandbox.latency = old
