"""Issue 17 §1: EXPLAIN ANALYZE from the CLI and ``con.explain(sql, analyze=True)``: the query runs,
and each scan shows its predicted requests (the ones plain EXPLAIN prints) next to the actual ones,
which must equal what the emulator counted."""

from __future__ import annotations

import json

import pytest

import lowcode_sql
from lowcode_sql.cli import main

SQL = "SELECT b.name, t.title FROM crm.tasks t JOIN books.book b ON b.name = t.title WHERE t.title LIKE 'A%'"


@pytest.fixture
def con():
    c = lowcode_sql.connect()
    c.add_source("crm", "coredata", sandbox=True, options={"page_size": 50})
    c.add_source("books", "entu", sandbox=True, options={"db": "demo"})
    c.tables()  # discovery (and Entu's login) happen here, not in the measured query
    yield c
    c.close()


def test_actual_requests_equal_the_emulators_counters(con):
    crm, books = con.sandbox("crm"), con.sandbox("books")
    crm.stats.clear()
    books.stats.clear()
    doc = json.loads(con.explain("SELECT id, title FROM crm.tasks", analyze=True, format="json"))
    (scan,) = doc["scans"]
    assert scan["scan"] == "crm.tasks" and scan["rows_received"] == 400
    # 400 rows in pages of 50 that overlap by one row: 1 + ceil(350 / 49) = 9
    assert scan["requests"]["actual"] == crm.stats.requests == crm.stats.count("tasks") == 9
    assert scan["requests"]["pages"] == 9 and scan["requests"]["counts"] == 0
    assert scan["bytes"] > 0 and doc["query"]["rows"] == 400
    assert doc["query"]["scans_seconds"] + doc["query"]["duckdb_seconds"] == pytest.approx(
        doc["query"]["wall_seconds"], abs=1e-5)

    crm.stats.clear()
    doc = json.loads(con.explain(SQL, analyze=True, format="json"))
    by = {s["scan"]: s for s in doc["scans"]}
    assert by["crm.tasks"]["requests"]["actual"] == crm.stats.requests
    assert by["books.book"]["requests"]["actual"] == books.stats.requests == 1


def test_count_scans_are_reported_as_counts(con):
    crm = con.sandbox("crm")
    crm.stats.clear()
    # a date filter: a text one is not answered from the total (lowcode_sql/plan: _compares_text)
    doc = json.loads(con.explain("SELECT count(*) FROM crm.tasks WHERE created >= '2020-01-01'", analyze=True,
                                 format="json"))
    req = doc["scans"][0]["requests"]
    assert (req["predicted"], req["actual"], req["counts"], req["pages"]) == ("1", 1, 1, 0)
    assert crm.stats.requests == 1


def test_text_shows_prediction_and_actuals_next_to_the_plan(con):
    plain = con.explain(SQL)
    predicted = [line.split(":", 1)[1].strip() for line in plain.splitlines() if line.startswith("  requests:")]
    text = con.explain(SQL, analyze=True)
    lines = text.splitlines()
    shown = [line for line in lines if line.startswith("  requests: predicted ")]
    assert [line.removeprefix("  requests: predicted ").split("; actual")[0] for line in shown] == predicted
    assert all("pages" in line and "logins" in line and "retries" in line for line in shown)
    assert sum(line.startswith("  actual:   ") and "received" in line and "bytes" in line for line in lines) == 2
    assert lines[-1].startswith("analyze: ") and "DuckDB" in lines[-1]


def test_cli_explain_analyze(capsys):
    assert main(["explain", "--demo", "--analyze", "SELECT id FROM coredata.tasks"]) == 0
    out = capsys.readouterr().out
    assert "actual 1 (1 pages" in out and "400 received" in out
    assert main(["explain", "--demo", "--analyze", "--format", "json", "SELECT id FROM coredata.tasks"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scans"][0]["requests"]["actual"] == 1
    assert main(["explain", "--demo", "--format", "json", "SELECT 1"]) == 1
    assert "needs --analyze" in capsys.readouterr().err


def test_help_lists_explain_analyze(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "explain --analyze" in capsys.readouterr().out


def test_cache_hits_and_the_slowest_request():
    """A source with a response cache: the second run is answered from memory, and ANALYZE says
    so (0 requests, 1 cache hit); every run names its slowest request (latency 0.05 s each)."""
    from lowcode_sql.sandbox.coredata import CoreDataSandbox

    sandbox = CoreDataSandbox(latency=0.05)
    with lowcode_sql.connect() as c:
        c.add_source("crm", "coredata", sandbox=sandbox, cache_ttl=60, options={"page_size": 1000})
        sql = "SELECT id FROM crm.projects WHERE title LIKE 'A%'"
        first = json.loads(c.explain(sql, analyze=True, format="json"))["scans"][0]
        sandbox.stats.clear()
        second = json.loads(c.explain(sql, analyze=True, format="json"))["scans"][0]
        text = c.explain(sql, analyze=True)
    assert first["requests"]["actual"] == 1 and first["requests"]["cache_hits"] == 0
    assert first["slowest_request"]["request"] == "GET api/v2/projects/?title__startswith=A&offset=0&limit=1000"
    assert first["slowest_request"]["seconds"] >= 0.05
    assert second["requests"]["actual"] == 0 and second["requests"]["cache_hits"] == 1
    assert sandbox.stats.requests == 0 and second["slowest_request"] is None
    assert "0 retries, 1 cache hits" in text


def test_rows_kept_by_duckdbs_filters_per_scan(con):
    """Rows received vs rows kept (issue 17 §1): a filter DuckDB applies above a scan (here one no API
    can take) shows in that scan's "kept", equal to DuckDB's own count over the same rows."""
    sql = ("SELECT t.title, b.name FROM crm.tasks t JOIN books.book b ON b.name = t.title "
           "WHERE length(t.title) % 2 = 0 AND b.price IS NOT NULL")
    doc = json.loads(con.explain(sql, analyze=True, format="json"))
    by = {s["scan"]: s for s in doc["scans"]}
    tasks = con.sql("SELECT title FROM crm.tasks").arrow().column("title").to_pylist()
    even = sum(1 for t in tasks if t is not None and len(t) % 2 == 0)
    assert by["crm.tasks"]["rows_received"] == len(tasks) and by["crm.tasks"]["rows_kept"] == even
    # IS NOT NULL went to the API; DuckDB carries length(...) % 2 = 0 across the join to the books too
    (books,), = con.sql("SELECT count(*) FROM books.book WHERE price IS NOT NULL").fetchall()
    (even_books,), = con.sql("SELECT count(*) FROM books.book WHERE price IS NOT NULL AND length(name) % 2 = 0"
                             ).fetchall()
    assert (by["books.book"]["rows_received"], by["books.book"]["rows_kept"]) == (books, even_books)
    assert doc["query"]["rows"] == len(con.sql(sql).fetchall())
    text = con.explain(sql, analyze=True)
    assert f"{len(tasks)} received, {even} kept by DuckDB's filters" in text


def test_rows_kept_is_left_out_where_the_profile_cannot_tell_scans_apart(con, monkeypatch):
    """DuckDB's profile names no view: two references reading the same columns and rows are not
    guessed at, whether they are one shared scan or (sharing off) two."""
    sql = ("SELECT count(*) FROM crm.tasks a JOIN crm.tasks b ON a.id = b.id "
           "WHERE length(a.title) > 3 AND length(b.title) > 5")
    doc = json.loads(con.explain(sql, analyze=True, format="json"))
    assert [s["rows_kept"] for s in doc["scans"]] == [None]  # one fetch feeds both references
    monkeypatch.setattr(lowcode_sql.plan, "share_scans", lambda *a, **k: [])
    doc = json.loads(con.explain(sql, analyze=True, format="json"))
    assert [s["rows_kept"] for s in doc["scans"]] == [None, None]
