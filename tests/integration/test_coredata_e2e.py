"""CoreData end to end through the in-process sandbox: request economy, faults, typed errors."""

from __future__ import annotations

import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, AuthError, InconsistentScan, UnknownColumn, UnknownTable
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from tests.integration.e2e import TIMEOUT, TRANSIENT_FAULTS, TRUSTED, check_retried


def connect(sandbox: CoreDataSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, options={"page_size": 40, **options})
    return con


@pytest.fixture
def sandbox() -> CoreDataSandbox:
    return CoreDataSandbox()


@pytest.fixture
def trusting_con(sandbox):
    c = connect(sandbox, **TRUSTED)
    yield c
    c.close()


@pytest.fixture
def con(sandbox):
    c = connect(sandbox)
    yield c
    c.close()


def data_requests(sandbox: CoreDataSandbox) -> int:
    return sandbox.stats.count(r"^/api/v2/")


def test_count_is_one_request(trusting_con, sandbox):
    full = trusting_con.sql("SELECT title FROM cd.tasks").arrow()
    expected = sum(1 for t in full.column("title").to_pylist() if t is not None and t.startswith("A"))
    sandbox.reset_stats()
    r = trusting_con.sql("SELECT count(*) FROM cd.tasks WHERE title LIKE 'A%'")
    assert r.fetchall() == [(expected,)]
    assert data_requests(sandbox) == 1
    assert sandbox.stats.log[-1].query[-1] == ("limit", "1") or ("limit", "1") in sandbox.stats.log[-1].query


def test_limit_on_exact_filter_is_one_request(con, sandbox):
    sandbox.reset_stats()
    r = con.sql("SELECT id FROM cd.files WHERE modified > '2015-01-01' LIMIT 5")
    assert len(r) == 5 and data_requests(sandbox) == 1


def test_contradiction_makes_no_request(con, sandbox):
    sandbox.reset_stats()
    r = con.sql("SELECT id FROM cd.files WHERE created > '2020-01-01' AND created < '2019-01-01'")
    assert len(r) == 0 and data_requests(sandbox) == 0


def test_full_scan_pages_concurrently(sandbox):
    sandbox.latency = 0.05
    with connect(sandbox) as con:
        sandbox.reset_stats()
        r = con.sql("SELECT id FROM cd.tasks")
        assert len(r) == 400 and len(set(r.arrow().column("id").to_pylist())) == 400
        assert data_requests(sandbox) == 11  # 40 rows, then 39 new a page (one-row overlap): 1 + ceil(360 / 39)
        assert sandbox.stats.max_in_flight > 1


def test_limit_over_local_filter_stops_early(sandbox):
    with connect(sandbox, page_size=10) as con:
        sandbox.reset_stats()
        r = con.sql("SELECT id FROM cd.tasks WHERE title ILIKE '%a%' LIMIT 1")
        assert len(r) == 1
        assert data_requests(sandbox) <= 6  # of 40 pages: the read-ahead window starts small and grows


@pytest.mark.parametrize("kind,kw", [*TRANSIENT_FAULTS, TIMEOUT])
def test_transient_faults_are_retried(con, sandbox, kind, kw):
    check_retried(con, sandbox, "SELECT id FROM cd.tasks ORDER BY id", "/api/v2/tasks/", kind, kw)


def test_persistent_error_is_typed_and_names_the_platform_message(con, sandbox):
    sandbox.faults.add("status", path="/api/v2/tasks/", status=500, times=None, message="database on fire")
    with pytest.raises(APIError, match="database on fire") as info:
        con.sql("SELECT id FROM cd.tasks")
    assert info.value.status == 500


def test_bad_key_is_an_auth_error_without_the_key(sandbox):
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sandbox, secrets={"user": "demo", "key": "wrong-secret-key"})
    with pytest.raises(AuthError) as info:
        con.sql("SELECT count(*) FROM cd.projects")
    assert "wrong-secret-key" not in str(info.value) and "wrong-secret-key" not in repr(info.value)
    con.close()


def test_data_changing_mid_scan_is_an_error_not_a_partial_answer(sandbox):
    sandbox.latency = 0.01
    with connect(sandbox) as con:
        full = con.sql("SELECT * EXCLUDE (associated_contacts_id) FROM cd.tasks").arrow()
        shrunk = False

        def progress(label, stats, total):
            nonlocal shrunk
            if not shrunk:
                shrunk = True
                sandbox.resources["tasks"].objects = sandbox.resources["tasks"].objects[:100]

        with pytest.raises(InconsistentScan):
            con.sql("SELECT id FROM cd.tasks", progress=progress)
        assert full.num_rows == 400


def test_unknown_names_are_helpful(con):
    with pytest.raises(UnknownTable, match=r"did you mean 'cd\.projects'"):
        con.sql("SELECT * FROM cd.projets")
    with pytest.raises(UnknownColumn, match="titel"):
        con.sql("SELECT titel FROM cd.projects")


def test_filter_only_column_echoes_the_filter(con):
    contact = con.sql("SELECT id FROM cd.contacts LIMIT 1").fetchall()[0][0]
    r = con.sql(f"SELECT id, associated_contacts_id FROM cd.projects WHERE associated_contacts_id = '{contact}'")
    assert all(row[1] == contact for row in r.fetchall())


def test_cross_source_join_and_window(sandbox):
    with connect(sandbox) as con:
        con.add_source("other", "coredata", sandbox=CoreDataSandbox(seed=1))
        r = con.sql("""
            WITH t AS (SELECT project.id AS pid, count(*) AS n FROM cd.tasks GROUP BY 1)
            SELECT p.title, t.n, rank() OVER (ORDER BY t.n DESC) AS rk
            FROM cd.projects p JOIN t ON t.pid = p.id
            WHERE p.id IN (SELECT id FROM cd.projects) AND EXISTS (SELECT 1 FROM other.spaces)
            ORDER BY rk, p.title LIMIT 3""")
        assert len(r) == 3 and r.columns == ["title", "n", "rk"]


def test_only_a_limit_keeps_the_read_ahead_ramp():
    from lowcode_sql.execute.engine import _may_stop_early

    assert not _may_stop_early('SELECT "id" FROM "__lc_q1_0" WHERE "n" > 2')
    assert _may_stop_early('SELECT "id" FROM "__lc_q1_0" LIMIT 5')
    assert _may_stop_early('SELECT "id" FROM "__lc_q1_0" OFFSET 1 ROWS FETCH FIRST 2 ROWS ONLY')
    assert _may_stop_early('SELECT * FROM (SELECT "id" FROM "__lc_q1_0" limit 1) AS t')
