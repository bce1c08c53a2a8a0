"""lowcode_sql.attach: remote tables in the user's own DuckDB connection, with DuckDB's filter and
projection pushdown proven from the sandbox's request log (DUCKDB-SOURCES.md)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import textwrap
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from duckdb._sources import nodes

import lowcode_sql
from lowcode_sql import duckdb_attach as attach_mod
from lowcode_sql.types import Cmp, Exactness, InList, IsNull, Op, Or

from .conftest import N_PROJECTS, PAGE, queries


@pytest.fixture
def duck(lc: Any, sandbox: Any) -> Iterator[Any]:
    con = duckdb.connect()
    att = lowcode_sql.attach(con, lc)
    assert att.pushdown
    sandbox.stats.clear()
    yield con
    lowcode_sql.detach(con)
    con.close()


def att_of(con: Any) -> Any:
    att = attach_mod.attached(con)
    assert att is not None
    return att


def same(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> bool:
    return Counter(a) == Counter(b)


def test_names_catalogs_and_macro(duck: Any, lc: Any) -> None:
    att = att_of(duck)
    assert "coredata__projects" in att.names and att.catalogs == ["coredata"]
    a = duck.sql("SELECT count(*) FROM coredata__projects").fetchall()
    b = duck.sql("SELECT count(*) FROM coredata.projects").fetchall()
    c = duck.sql("SELECT count(*) FROM lowcode_scan('coredata', 'projects')").fetchall()
    assert a == b == c == [(N_PROJECTS,)]
    assert duck.sql("DESCRIBE coredata.projects").fetchall()[0][:2] == ("id", "VARCHAR")


def test_where_on_exact_column_sends_the_filter(duck: Any, sandbox: Any) -> None:
    rows = duck.sql("SELECT title, status FROM coredata.projects WHERE title = 'Project 0004'").fetchall()
    assert rows == [("Project 0004", "closed")]
    assert [q.get("title") for q in queries(sandbox)] == ["Project 0004"]  # one request, filtered
    assert list(att_of(duck).offered) == [("coredata.projects", "(\"title\" = 'Project 0004')", True)]


def test_one_column_narrows_the_fetch(duck: Any) -> None:
    duck.sql("SELECT identifier FROM coredata.projects WHERE title = 'Project 0004'").fetchall()
    scan = att_of(duck).scans[-1]
    # the accepted filter's column is not even fetched: the API already applied it
    assert scan.columns == ("identifier",) and scan.pushed == ("title = 'Project 0004'",)


@pytest.mark.parametrize("threads", [1, 2, 8])
def test_limit_stops_after_one_page(duck: Any, sandbox: Any, threads: int) -> None:
    duck.execute(f"SET threads = {threads}")
    assert len(duck.sql("SELECT title FROM coredata.projects LIMIT 10").fetchall()) == 10
    time.sleep(0.2)  # anything read ahead in the background would have been sent by now
    # one request, of 10 rows (the LIMIT sizes the first page: lowcode_sql/attach_head.py): DuckDB
    # pulls one batch and stops, and the scan (lazy_start) requests no page beyond the first
    assert [q.get("offset") for q in queries(sandbox)] == ["0"]
    assert att_of(duck).scans[-1].stats.rows == 10
    sandbox.stats.clear()
    assert len(duck.sql("SELECT title FROM coredata.projects LIMIT 150").fetchall()) == 150
    time.sleep(0.2)
    # the second page is asked for, and at most the read-ahead's next one with it
    # (from row 99: pages overlap by a row, the boundary check)
    assert [q.get("offset") for q in queries(sandbox)][:2] == ["0", "99"] and sandbox.stats.requests <= 3


@pytest.mark.parametrize("threads", [2, 8])
def test_fetchmany_without_limit_is_bounded(lc: Any, sandbox: Any, threads: int) -> None:
    def pages_after_fetchmany(**kw: Any) -> int:
        con = duckdb.connect()
        con.execute(f"SET threads = {threads}")
        lowcode_sql.attach(con, lc, **kw)
        sandbox.stats.clear()
        try:
            res = con.execute("SELECT * FROM coredata__projects")
            assert len(res.fetchmany(10)) == 10
            # DuckDB's engine threads keep reading ahead in the background: wait until they stop
            n = -1
            while n != sandbox.stats.requests:
                n = sandbox.stats.requests
                time.sleep(0.5)
            return n
        finally:
            lowcode_sql.detach(con)
            con.close()

    bounded = pages_after_fetchmany()
    # DuckDB reads ahead a batch per engine thread plus what fits its (now 64 KiB) streaming
    # buffer, plus the scan's own read-ahead (at most `readahead` = 4 pages in flight); measured 8
    # requests with 2 threads and 14 with 8, of the table's 30
    assert bounded <= 2 * threads + 6
    if threads == 2:
        # DuckDB's own 10 MiB streaming buffer would read (nearly) the whole table for those 10 rows
        unbounded = pages_after_fetchmany(streaming_buffer_size=None)
        assert unbounded > 2 * bounded


def test_non_exact_predicates_are_refused_and_still_applied(duck: Any, lc: Any, sandbox: Any) -> None:
    sql = ("SELECT title FROM {t} WHERE status = 'active' AND identifier <> 'P-03' "
           "AND created < TIMESTAMP '2024-02-01' ORDER BY title")
    got = duck.sql(sql.format(t="coredata.projects")).fetchall()
    assert got == lc.sql(sql.format(t="coredata.projects")).fetchall()
    assert got and all(t is None or t.startswith("Project") for (t,) in got)
    offered = {p: ok for _, p, ok in att_of(duck).offered}
    assert offered["(\"status\" = 'active')"] is False  # CoreData cannot filter status
    assert offered["(\"identifier\" != 'P-03')"] is False  # nor <>
    assert offered["(\"created\" < TIMESTAMP '2024-02-01 00:00:00')"] is True
    assert all("status" not in q and "identifier" not in q for q in queries(sandbox))
    assert all(q.get("created__lt") == "2024-02-01T00:00:00" for q in queries(sandbox))


def test_dollar_parameters(duck: Any, sandbox: Any) -> None:
    rows = duck.execute("SELECT status FROM coredata.projects WHERE title = $1", ["Project 0005"]).fetchall()
    assert rows == [("closed",)]
    assert [q.get("title") for q in queries(sandbox)] == ["Project 0005"]
    sandbox.stats.clear()
    rows = duck.execute("SELECT status FROM coredata.projects WHERE title = ?", ["Project 0006"]).fetchall()
    assert rows == [("active",)] and [q.get("title") for q in queries(sandbox)] == ["Project 0006"]


def test_self_join(duck: Any, lc: Any) -> None:
    sql = ("SELECT a.title, b.title FROM coredata.projects a JOIN coredata.projects b "
           "ON a.identifier = b.identifier WHERE a.title = 'Project 0001' AND b.title LIKE 'Project 1%' "
           "ORDER BY b.title")
    got = duck.sql(sql).fetchall()
    assert got == lc.sql(sql).fetchall() and len(got) == 17  # 20 identifiers P-01 in 1000-1999, 3 NULL titles
    scans = att_of(duck).scans
    assert len(scans) == 2 and sorted(s.pushed for s in scans) == [(), ("title = 'Project 0001'",)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM {t} WHERE title = 'Project 0010'",
        "SELECT title, created FROM {t} WHERE created BETWEEN TIMESTAMP '2024-01-02' AND TIMESTAMP '2024-01-03'",
        "SELECT status, count(*), min(created), max(title) FROM {t} GROUP BY status",
        "SELECT identifier, count(*) FROM {t} WHERE title IS NULL GROUP BY identifier",
        "SELECT title FROM {t} WHERE title IN ('Project 0001', 'Project 0002') OR identifier = 'P-07'",
        "SELECT count(*) FROM {t} WHERE NOT (created >= TIMESTAMP '2024-01-05')",
        "SELECT title FROM {t} WHERE created > TIMESTAMP '2024-04-01' AND created <= TIMESTAMP '2024-04-02'",
    ],
)
def test_results_equal_the_engines_own(duck: Any, lc: Any, sql: str) -> None:
    got = duck.sql(sql.format(t="coredata.projects")).fetchall()
    want = lc.sql(sql.format(t="coredata.projects")).fetchall()
    assert got and same(got, want)


def test_filters_the_dialect_cannot_send_together_are_rechecked(duck: Any, lc: Any) -> None:
    table = att_of(duck).tables["coredata__projects"]
    real = table.dialect

    class OneFilterOnly:
        """Like CoreData, but only one filter per request: the others come back LOCAL."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def classify(self, tdef: Any, preds: Any) -> list[Exactness]:
            out = real.classify(tdef, preds)
            return out[:1] + [Exactness.LOCAL] * (len(out) - 1)

    table.dialect = OneFilterOnly()
    try:
        sql = ("SELECT identifier FROM {t} WHERE title = 'Project 0004' "
               "AND created >= TIMESTAMP '2024-01-10'")
        assert duck.sql(sql.format(t="coredata.projects")).fetchall() == []  # 0004 is from Jan 1st
        scan = att_of(duck).scans[-1]
        assert len(scan.pushed) == 1 and len(scan.rechecked) == 1
        assert set(scan.columns) == {"identifier", "created"} or set(scan.columns) == {"identifier", "title"}
        sql2 = "SELECT title FROM {t} WHERE created >= TIMESTAMP '2024-01-02' AND created < TIMESTAMP '2024-01-03'"
        assert same(duck.sql(sql2.format(t="coredata.projects")).fetchall(),
                    lc.sql(sql2.format(t="coredata.projects")).fetchall())
    finally:
        table.dialect = real


@pytest.mark.parametrize("status", [400, 401])
def test_fetch_errors_fail_the_query(duck: Any, sandbox: Any, status: int) -> None:
    sandbox.faults.add("status", status=status, times=None)
    try:
        with pytest.raises(duckdb.Error, match=r"\[coredata\]") as info:
            duck.sql("SELECT title FROM coredata.projects").fetchall()
    finally:
        sandbox.faults.clear()
    # DuckDB's message carries our error (and a Python traceback), never the credentials
    assert "demo-key" not in str(info.value) and "api_key" not in str(info.value)
    assert duck.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'").fetchall() == [(1,)]


class _NotASource:
    """What a changed private API could look like to us: DuckDB refuses to register it."""

    def __init__(self, table: Any) -> None:
        self.table = table


@pytest.mark.parametrize("broken", ["missing", "refused"])
def test_fallback_without_the_private_hook(lc: Any, sandbox: Any, monkeypatch: Any, broken: str) -> None:
    monkeypatch.setattr(attach_mod, "_scan_source_api", lambda: None if broken == "missing" else _NotASource)
    con = duckdb.connect()
    with pytest.warns(attach_mod.PushdownUnavailable):
        att = lowcode_sql.attach(con, lc)
    try:
        assert not att.pushdown
        sandbox.stats.clear()
        sql = "SELECT title, status FROM coredata.projects WHERE title = 'Project 0004'"
        assert con.sql(sql).fetchall() == [("Project 0004", "closed")]
        # the whole table, unfiltered: a page, then PAGE - 1 new rows a page (one-row overlap)
        assert sandbox.stats.requests == 1 + -(-(N_PROJECTS - PAGE) // (PAGE - 1))
        assert all("title" not in q for q in queries(sandbox))
        assert not att.offered
        sandbox.stats.clear()
        assert len(con.sql("SELECT title FROM coredata__projects LIMIT 5").fetchall()) == 5
        time.sleep(0.2)
        assert sandbox.stats.requests == 1  # still lazy: a LIMIT stops the pages
        assert con.sql("SELECT count(*) FROM lowcode_scan('coredata', 'projects')").fetchall() == [(N_PROJECTS,)]
    finally:
        lowcode_sql.detach(con)
        con.close()


def test_detach_removes_everything(lc: Any) -> None:
    con = duckdb.connect()
    before = con.execute("SELECT current_setting('streaming_buffer_size')").fetchall()
    lowcode_sql.attach(con, lc, streaming_buffer_size="32KiB")
    assert con.execute("SELECT current_setting('streaming_buffer_size')").fetchall() == [("32.0 KiB",)]
    with pytest.raises(lowcode_sql.LowcodeSQLError):
        lowcode_sql.attach(con, lc)  # once per connection
    res = con.execute("SELECT * FROM coredata__projects")  # an unfinished streaming result
    res.fetchmany(1)
    lowcode_sql.detach(con)
    assert attach_mod.attached(con) is None
    assert con.execute("SELECT current_setting('streaming_buffer_size')").fetchall() == before
    for sql in ("SELECT 1 FROM coredata__projects", "SELECT 1 FROM coredata.projects",
                "SELECT 1 FROM lowcode_scan('coredata', 'projects')"):
        with pytest.raises(duckdb.CatalogException):
            con.sql(sql)
    lowcode_sql.detach(con)  # a no-op the second time
    lowcode_sql.attach(con, lc)  # and it can be attached again
    assert con.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'").fetchall() == [(1,)]
    lowcode_sql.detach(con)
    assert lc.sql("SELECT 1").fetchall() == [(1,)]  # a shared lowcode_sql connection stays open
    con.close()


def test_projection_reaches_the_wire_for_entu() -> None:
    items = pa.table({"name": ["a", "b", "c"], "price": [1.0, 2.0, 3.0], "note": ["x", "y", "z"]})
    lc = lowcode_sql.connect_sandbox("entu", {"item": items})
    con = duckdb.connect()
    try:
        lowcode_sql.attach(con, lc)
        sb = lc.sandbox("entu")
        sb.stats.clear()
        assert sorted(con.sql("SELECT name FROM entu.item").fetchall()) == [("a",), ("b",), ("c",)]
        entity_queries = [dict(e.query) for e in sb.stats.log if e.path.endswith("/entity")]
        assert [q["props"] for q in entity_queries] == ["name"]  # only the one property is asked for
    finally:
        lowcode_sql.detach(con)
        con.close()
        lc.close()


def test_predicate_translation() -> None:
    n = nodes
    types = {"id": "BIGINT", "ts": "TIMESTAMP WITH TIME ZONE", "x": "DOUBLE", "s": "VARCHAR", "l": "VARCHAR[]",
             "st": 'STRUCT("a" INTEGER)'}
    conv = attach_mod.node_to_pred
    assert conv(n.Binary("=", n.Col(("id",)), n.Lit(3, "BIGINT")), types) == Cmp("id", Op.EQ, 3)
    assert conv(n.Binary("<", n.Lit(3, "BIGINT"), n.Col(("id",))), types) == Cmp("id", Op.GT, 3)
    ts = conv(n.Binary(">=", n.Col(("ts",)), n.Lit(1704240000000000, "TIMESTAMP WITH TIME ZONE")), types)
    assert ts == Cmp("ts", Op.GE, dt.datetime(2024, 1, 3, tzinfo=dt.UTC))
    assert conv(n.Binary("=", n.Col(("x",)), n.Lit(math.nan, "DOUBLE")), types) is None
    assert conv(n.Binary("=", n.Col(("id",)), n.Lit(3, "INTEGER")), types) is None  # not the column's type
    assert conv(n.Binary("=", n.Col(("st", "a")), n.Lit(3, "INTEGER")), types) is None
    assert conv(n.Binary("=", n.Col(("l",)), n.Lit("a", "VARCHAR")), types) is None
    assert conv(n.Unary("NOT", n.In(n.Col(("s",)), [n.Lit("a", "VARCHAR"), n.Lit("a", "VARCHAR")])), types) == \
        InList("s", ("a",), negated=True)
    assert conv(n.Unary("NOT", n.Binary("=", n.Col(("id",)), n.Lit(1, "BIGINT"))), types) == Cmp("id", Op.NE, 1)
    assert conv(n.Postfix("IS NOT NULL", n.Col(("s",))), types) == IsNull("s", negated=True)
    assert conv(n.Binary("OR", n.Binary("=", n.Col(("id",)), n.Lit(1, "BIGINT")),
                         n.Binary("OR", n.Binary("=", n.Col(("id",)), n.Lit(2, "BIGINT")),
                                  n.Postfix("IS NULL", n.Col(("id",))))), types) == \
        Or((Cmp("id", Op.EQ, 1), Cmp("id", Op.EQ, 2), IsNull("id")))


@pytest.mark.slow
def test_no_nanobind_noise_at_exit(tmp_path: Any) -> None:
    script = textwrap.dedent("""
        import duckdb, pyarrow as pa, lowcode_sql
        lc = lowcode_sql.connect_sandbox("coredata", {"projects": pa.table({"title": ["a", "b"]})})
        duck = duckdb.connect()
        att = lowcode_sql.attach(duck, lc)
        print(duck.sql("SELECT count(*) FROM coredata.projects WHERE title = 'a'").fetchall())
        res = duck.execute("SELECT * FROM coredata__projects")   # left unfinished on purpose
        res.fetchmany(1)
        cur = att.cursor()                                       # a cursor with its own registrations
        print(cur.sql("SELECT count(*) FROM coredata.projects").fetchall())
        # neither detached nor closed: the exit hook must clean up
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[(1,)]", "[(2,)]"]
    assert "nanobind" not in done.stderr and "leaked" not in done.stderr, done.stderr


ENTU_QUERIES = [
    ("SELECT name, price FROM entu.item WHERE price = 3", True),
    ("SELECT name FROM entu.item WHERE price > 3 AND price <= 7", True),
    ("SELECT name FROM entu.item WHERE name IN ('n1', 'n2')", True),
    ("SELECT name FROM entu.item WHERE name <> 'n1'", True),
    ("SELECT count(*) FROM entu.item WHERE seen >= TIMESTAMPTZ '2024-01-10 00:00:00+00'", True),
    ("SELECT count(*) FROM entu.item WHERE seen < '2024-01-10 05:00:00+02'", True),
    ("SELECT count(*) FROM entu.item WHERE day = DATE '2024-01-05'", True),
    ("SELECT count(*) FROM entu.item WHERE ok = true", True),
    ("SELECT count(*) FROM entu.item WHERE price IS NOT NULL AND price <> 4", True),
    ("SELECT count(*) FROM entu.item WHERE name IS NULL", True),
    ("SELECT count(*) FROM entu.item WHERE name NOT IN ('n1', 'n2')", False),
    ("SELECT count(*) FROM entu.item WHERE price NOT BETWEEN 2 AND 5", False),
    ("SELECT count(*) FROM entu.item WHERE list_contains(tags__all, 't1')", False),
]


@pytest.fixture(scope="module")
def entu() -> Iterator[tuple[Any, Any]]:
    """An Entu sandbox (single-valued properties, so their filters are exact) attached to DuckDB."""
    n, utc = 300, dt.UTC
    items = pa.table({
        "name": [f"n{i % 37}" if i % 5 else None for i in range(n)],
        "price": [float(i % 13) if i % 4 else None for i in range(n)],
        "seen": pa.array([dt.datetime(2024, 1, 1, tzinfo=utc) + dt.timedelta(hours=7 * i) if i % 6 else None
                          for i in range(n)], pa.timestamp("ms", tz="UTC")),
        "day": pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i % 40) for i in range(n)], pa.date32()),
        "ok": [bool(i % 2) if i % 9 else None for i in range(n)],
        "tags": [[f"t{i % 3}", f"t{i % 5}"] if i % 2 else [] for i in range(n)],
    })
    lc = lowcode_sql.connect_sandbox("entu", {"item": items},
                                     options={"single_valued": {"item": ["name", "price", "seen", "day", "ok"]}})
    con = duckdb.connect()
    lowcode_sql.attach(con, lc)
    yield con, lc
    lowcode_sql.detach(con)
    con.close()
    lc.close()


@pytest.mark.parametrize(("sql", "pushed"), ENTU_QUERIES, ids=[q for q, _ in ENTU_QUERIES])
def test_entu_results_equal_the_engines_own(entu: tuple[Any, Any], sql: str, pushed: bool) -> None:
    con, lc = entu
    att = att_of(con)
    att.clear()
    sb = lc.sandbox("entu")
    sb.stats.clear()
    got = con.sql(sql).fetchall()
    sent = [k for e in sb.stats.log if e.path.endswith("/entity") for k, _ in e.query]
    assert same(got, lc.sql(sql).fetchall())
    assert all(ok for _, _, ok in att.offered) is pushed if att.offered else not pushed
    filters = [k for k in sent if k not in ("_type.string", "props", "limit", "skip")]
    assert bool(filters) is pushed


def test_owned_connection_and_existing_database_name() -> None:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS crm")  # a database of the user's own, named like the source
    with pytest.warns(UserWarning, match="already exists"):
        att = lowcode_sql.attach(con, {"sources": {"crm": {"platform": "coredata", "sandbox": True}}})
    try:
        assert att.owned and att.catalogs == []
        assert con.sql("SELECT count(*) > 0 FROM crm__projects").fetchall() == [(True,)]
        assert con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'crm'").fetchall() == [(0,)]
    finally:
        lowcode_sql.detach(con)
    assert att.connection._closed  # the connection attach opened is closed by detach
    con.close()


def test_cursors_see_the_tables(lc: Any, sandbox: Any) -> None:
    con = duckdb.connect()
    att = lowcode_sql.attach(con, lc)
    try:
        plain = con.cursor()  # attach registers the tables on a cursor too (issue 19)
        assert plain.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0004'").fetchall() == [(1,)]
        cur = att.cursor()  # registered on the cursor as well
        sandbox.stats.clear()
        assert cur.sql("SELECT status FROM coredata.projects WHERE title = 'Project 0004'").fetchall() == [("closed",)]
        assert [q.get("title") for q in queries(sandbox)] == ["Project 0004"]  # pushed down from the cursor too
        assert cur.sql("SELECT count(*) FROM coredata__projects").fetchall() == [(N_PROJECTS,)]
        assert cur.sql("SELECT count(*) FROM lowcode_scan('coredata', 'projects')").fetchall() == [(N_PROJECTS,)]
        # attaching a plain cursor by hand shares the database's catalog instead of warning about it
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            other = lowcode_sql.attach(plain, lc)
        assert other.catalogs == ["coredata"]
        lowcode_sql.detach(con)  # detaches att.cursor()'s cursor with it ...
        with pytest.raises(duckdb.CatalogException):
            cur.sql("SELECT 1 FROM coredata__projects")
        # ... while the catalog stays for the cursor still attached, until it is detached too
        assert plain.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'").fetchall() == [(1,)]
        lowcode_sql.detach(plain)
        assert con.sql("SELECT count(*) FROM duckdb_databases() WHERE database_name = 'coredata'").fetchall() == [(0,)]
        with pytest.raises(lowcode_sql.LowcodeSQLError):
            att.cursor()  # a detached attachment makes no cursors
    finally:
        lowcode_sql.detach(con)
        con.close()


def test_separate_databases_do_not_share_catalogs(lc: Any) -> None:
    a, b = duckdb.connect(), duckdb.connect()
    try:
        lowcode_sql.attach(a, lc)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert lowcode_sql.attach(b, lc).catalogs == ["coredata"]  # its own, created afresh
        lowcode_sql.detach(a)
        assert b.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0002'").fetchall() == [(1,)]
    finally:
        lowcode_sql.detach(a)
        lowcode_sql.detach(b)
        a.close()
        b.close()


def test_a_failing_classify_refuses_the_filter(duck: Any, lc: Any, sandbox: Any, caplog: Any) -> None:
    table = att_of(duck).tables["coredata__projects"]
    real = table.dialect

    class Broken:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def classify(self, tdef: Any, preds: Any) -> list[Exactness]:
            raise RuntimeError("dialect bug")

    table.dialect = Broken()
    try:
        with caplog.at_level("WARNING", logger="lowcode_sql.duckdb_attach"):
            rows = duck.sql("SELECT status FROM coredata.projects WHERE title = 'Project 0004'").fetchall()
    finally:
        table.dialect = real
    assert rows == [("closed",)]  # DuckDB applied the refused filter itself
    assert all("title" not in q for q in queries(sandbox))
    assert "refusing the filter" in caplog.text and "dialect bug" in caplog.text


def test_a_same_named_source_of_another_config_is_not_shared(lc: Any) -> None:
    con = duckdb.connect()
    other = lowcode_sql.connect_sandbox("entu", {"item": pa.table({"name": ["a"]})}, source="coredata")
    try:
        lowcode_sql.attach(con, lc)
        cur = con.cursor()
        with pytest.warns(UserWarning, match="already exists"):
            att2 = lowcode_sql.attach(cur, other)  # its coredata holds other tables than the catalog's views
        assert att2.catalogs == []
        assert cur.sql("SELECT name FROM coredata__item").fetchall() == [("a",)]
        lowcode_sql.detach(cur)
        assert con.sql("SELECT count(*) FROM coredata.projects WHERE title = 'Project 0001'").fetchall() == [(1,)]
    finally:
        lowcode_sql.detach(con)
        con.close()
        other.close()
