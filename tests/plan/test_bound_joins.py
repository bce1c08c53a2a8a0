"""Bound joins (plan/joins.py, execute/bound.py): which side of an equi-join receives the other's keys,
what the run sends, and that the answer is DuckDB's (issue 15 item 2)."""

from __future__ import annotations

import dataclasses
import random

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.sandbox.totalum import TotalumSandbox
from tests.differential.harness import compare, reference

N_PROJECTS, N_TASKS = 200, 2000


def _oid(prefix: int, i: int) -> str:
    return f"{prefix:08x}{i:016x}"


def tables() -> dict[str, pa.Table]:
    r = random.Random(5)
    pids = [_oid(1, i) for i in range(N_PROJECTS)]
    projects = pa.table({
        "_id": pids,
        "name": [f"p{i}" for i in range(N_PROJECTS)],
        # two projects in a hundred are 'rare': a 1%-selective build side
        "kind": ["rare" if i % 100 == 0 else "common" for i in range(N_PROJECTS)],
        "owner": [None if i % 7 == 0 else f"{i % 5}" for i in range(N_PROJECTS)],
    })
    tasks = pa.table({
        "_id": [_oid(2, i) for i in range(N_TASKS)],
        "project": [None if i % 13 == 0 else pids[r.randrange(N_PROJECTS)] for i in range(N_TASKS)],
        "title": [f"t{i % 50}" for i in range(N_TASKS)],
        "owner": [None if i % 11 == 0 else f"{i % 5}" for i in range(N_TASKS)],
        "points": pa.array([i % 9 for i in range(N_TASKS)], pa.int64()),
    })
    return {"projects": projects, "tasks": tasks}


TABLES = tables()


def connect(**options: object) -> tuple[lowcode_sql.Connection, TotalumSandbox]:
    sb = TotalumSandbox(sample_data=False)
    sb.load_table("projects", TABLES["projects"], options={"kind": ["rare", "common"]})
    sb.load_table("tasks", TABLES["tasks"], references={"project": "projects"})
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options={"page_size": 100, **options})
    return con, sb


@pytest.fixture(scope="module")
def env() -> tuple[lowcode_sql.Connection, TotalumSandbox]:
    return connect()


def joins(con: lowcode_sql.Connection, sql: str) -> list[tuple[str, str, str]]:
    """(probe alias, probe column, build alias.column) of each bound join the planner chose."""
    qp = con.engine.plan(sql)
    alias = {s.view: s.alias for s in qp.scans}
    return [(alias[j.probe], j.probe_column, f"{alias[j.build]}.{j.build_column}") for j in qp.joins]


RARE = "p.kind = 'rare'"


@pytest.mark.parametrize("sql,want", [
    (f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE {RARE}",
     [("t", "project", "p._id")]),
    (f"SELECT t._id FROM tl.tasks t, tl.projects p WHERE p._id = t.project AND {RARE}",
     [("t", "project", "p._id")]),
    # the preserved side of an outer join gives its keys; the other side is reduced
    (f"SELECT t._id FROM tl.projects p LEFT JOIN tl.tasks t ON t.project = p._id WHERE {RARE}",
     [("t", "project", "p._id")]),
    (f"SELECT t._id FROM tl.tasks t RIGHT JOIN tl.projects p ON t.project = p._id WHERE {RARE}",
     [("t", "project", "p._id")]),
    ("SELECT p._id FROM tl.tasks t LEFT JOIN tl.projects p ON t.project = p._id WHERE t.title = 't1'",
     [("p", "_id", "t.project")]),
    (f"SELECT p._id FROM tl.projects p SEMI JOIN tl.tasks t ON t.project = p._id WHERE {RARE}",
     [("t", "project", "p._id")]),
])
def test_the_reducible_side_is_chosen(env, sql, want):
    assert joins(env[0], sql) == want


@pytest.mark.parametrize("sql", [
    # the filtered side is the null-supplying one of an outer join: the preserved side keeps its
    # unmatched rows, so it cannot be reduced by the other's keys
    f"SELECT p._id FROM tl.tasks t LEFT JOIN tl.projects p ON t.project = p._id AND {RARE}",
    f"SELECT p._id FROM tl.projects p RIGHT JOIN tl.tasks t ON t.project = p._id AND {RARE}",
    f"SELECT t._id FROM tl.tasks t FULL JOIN tl.projects p ON t.project = p._id WHERE {RARE}",
    # not an equality of two plain columns
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project > p._id WHERE {RARE}",
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project IS NOT DISTINCT FROM p._id WHERE {RARE}",
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id OR t.owner = p.owner WHERE {RARE}",
    # a cast on the key: DuckDB's comparison is no longer the API's
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.points = CAST(p.owner AS BIGINT) WHERE {RARE}",
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON CAST(t.points AS VARCHAR) = p.owner WHERE {RARE}",
    # no pushed filter on either side: neither is known to be small
    "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id",
    # DuckDB may stop early under a LIMIT
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE {RARE} LIMIT 5",
])
def test_no_bound_join_where_it_could_change_or_cost(env, sql):
    assert joins(env[0], sql) == []


def test_a_shared_self_join_is_not_bound(env):
    """Two references to one table are one shared scan (plan/sharing.py: at most one read of the
    table), which is neither a probe nor a build; with sharing off the same join is bound."""
    con, _ = env
    sql = "SELECT a._id FROM tl.tasks a JOIN tl.tasks b ON a.project = b.project WHERE b.title = 't1'"
    qp = con.engine.plan(sql)
    assert len(qp.scans) == 1 and len(qp.scans[0].feeds) == 2 and qp.joins == ()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(lowcode_sql.plan, "share_scans", lambda *a, **k: [])
        assert joins(con, sql) == [("a", "project", "b.project")]


def test_explain_shows_the_rule_and_the_estimate(env):
    con, _ = env
    sql = f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE {RARE}"
    text = con.explain(sql, count=True)
    assert "bound:    project IN (distinct non-NULL p._id of scan" in text
    assert "estimate: the build side has 2 rows, so at most 2 keys" in text and "full scan here is 21 pages" in text
    analyzed = con.explain(sql, analyze=True)
    assert "chosen:   bound join: 2 keys of p._id in 1 batch" in analyzed


def _run(con: lowcode_sql.Connection, sb: TotalumSandbox, sql: str) -> tuple[list[tuple], int]:
    con.engine.plan(sql)  # discovery requests first, not counted
    sb.reset_stats()
    rows = sorted(con.sql(sql).fetchall(), key=repr)
    return rows, sb.stats.requests


@pytest.mark.parametrize("options", [{}, {"in_operator": True}], ids=["or", "in"])
def test_a_selective_join_sends_the_keys_instead_of_reading_every_task(options):
    con, sb = connect(**options)
    ref = reference(TABLES, "tl")
    sql = f"SELECT t._id, t.points, p.name FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE {RARE}"
    rows, requests = _run(con, sb, sql)
    assert rows == sorted(ref.sql(sql).fetchall(), key=repr) and rows
    # one page of projects + one batch of two keys; without the bound join: + 21 pages of tasks
    assert requests == 2
    sb.reset_stats()
    unbound = con.engine.run(dataclasses.replace(con.engine.plan(sql), joins=()))  # as before bound joins
    assert sorted(unbound.table.to_pylist(), key=repr) == sorted(con.sql(sql).arrow().to_pylist(), key=repr)
    assert unbound.scans[0].requests + unbound.scans[1].requests == 1 + 21


def test_fewer_batches_than_pages_send_the_keys(env):
    """200 keys in or-lists of at most 32 are 7 batches, fewer than the tasks' 21 pages: sent. The
    rule counts batches, not their pages: here every task matches, so the batches spill into 22
    pages, one more than the full scan (the cost of a build side that is not selective)."""
    con, sb = env
    sql = "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE p.kind <> 'none'"
    rows, requests = _run(con, sb, sql)
    assert rows == sorted(reference(TABLES, "tl").sql(sql).fetchall(), key=repr)
    # projects: 3 pages (100 rows, the next ones overlap by one); tasks: one COUNT, then the batches
    assert requests == 3 + 1 + 22
    assert any("200 keys of p._id in 7 batches (one COUNT: a full scan is 21 pages)" in s.detail
               for s in con.sql(sql).scans)


def test_more_batches_than_pages_read_the_probe_whole():
    con, sb = connect(page_size=1000)
    sql = "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE p.kind <> 'none'"
    rows, requests = _run(con, sb, sql)
    assert rows == sorted(reference(TABLES, "tl").sql(sql).fetchall(), key=repr)
    # projects: 1 page; tasks: 1 COUNT, then 7 batches >= 3 pages (1000 rows, overlapping by one)
    assert requests == 1 + 1 + 3
    assert any("full scan" in s.detail and "bound join not used" in s.detail for s in con.sql(sql).scans)


def test_no_key_no_request(env):
    con, sb = env
    sql = "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE p.name = 'nobody'"
    rows, requests = _run(con, sb, sql)
    assert rows == [] and requests == 1


@pytest.mark.parametrize("sql", [
    # NULL keys on both sides never match; duplicate keys on the probe side all come back
    f"SELECT t._id, p._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE {RARE} OR p.owner IS NULL",
    "SELECT t.owner, count(*) FROM tl.tasks t JOIN tl.projects p ON t.owner = p.owner "
    "WHERE p.name IN ('p0', 'p1', 'p7') GROUP BY ALL",
    f"SELECT p._id, t._id FROM tl.projects p LEFT JOIN tl.tasks t ON t.project = p._id WHERE {RARE}",
    f"SELECT p._id, t._id FROM tl.tasks t RIGHT JOIN tl.projects p ON p._id = t.project WHERE {RARE}",
    "SELECT p._id FROM tl.projects p SEMI JOIN tl.tasks t ON t.project = p._id WHERE p.kind = 'rare'",
    f"SELECT p._id FROM tl.projects p ANTI JOIN tl.tasks t ON t.project = p._id WHERE {RARE}",
    "SELECT count(*) FROM tl.tasks t JOIN tl.projects p ON t.project = p._id AND t.points > 4 WHERE p.name = 'p3'",
    f"SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.points = CAST(p.owner AS BIGINT) WHERE {RARE}",
])
def test_answers_are_duckdbs(env, sql):
    compare(env[0], reference(TABLES, "tl"), sql, ordered=False)


def test_a_build_side_past_the_row_cap_is_streamed_and_its_keys_not_sent(env, monkeypatch):
    from lowcode_sql.execute import bound

    monkeypatch.setattr(bound, "MAX_BUILD_ROWS", 50)
    con, sb = env
    sql = "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE p.kind <> 'none'"
    rows, requests = _run(con, sb, sql)
    assert rows == sorted(reference(TABLES, "tl").sql(sql).fetchall(), key=repr)
    assert requests == 3 + 21  # both scans as without bound joins: no COUNT, no batch
    assert any("more than 50 rows; full scan" in s.detail for s in con.sql(sql).scans)
