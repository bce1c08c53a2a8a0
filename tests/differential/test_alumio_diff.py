"""Alumio: generated queries through lowcode_sql + the sandbox vs DuckDB over the same rows.

Two operator modes, each a sandbox and a dialect configured alike:

* ``confirmed``: the sandbox knows only ``=`` and ``gte`` (anything else is a 400) and the dialect
  pushes only those (``>`` as ``gte``, re-checked or shifted by one on integers);
* ``loopback``: both sides use the wider LoopBack set (``gt lt lte neq inq nin like and or``, null
  equality, order arrays), with the sandbox's LoopBack semantics (``neq``/``nin`` match NULLs,
  ``like`` is case-sensitive).

Three resources are loaded with generated rows (API field names on the sandbox side, the dialect's
snake_case names in the DuckDB reference): ``queue_processes`` (text, integer, double, timestamps with
sub-millisecond digits and NULLs, a nested list), ``task_statistics`` (dates, integers) and
``environment_variables`` (booleans with NULLs, tricky text).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lowcode_sql
from dialect.alumio import snake
from lowcode_sql.sandbox.alumio import AlumioSandbox
from tests.differential.harness import DifferentialSuite, Env, compare, reference
from tests.differential.querygen import Column, MultiRefGen, QueryGen

WORDS = [
    "new", "New", "NEW", "finished", "failed", "a.b", "axb", "x*y+z?", "(paren)", "[br]", "p|q", "^caret",
    "dollar$", "back\\slash", "50% off", "50 off", "under_score", "underXscore", "line\nbreak", "İstanbul",
    "istanbul", "ß", "straße", "", " padded ", "日本語", "tie", "tie", "null", "run-1", "run 2",
]  # fmt: skip
TS0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
N = 150
TSZ = pa.timestamp("us", tz="UTC")


def _ts(r: random.Random, sub_ms: bool) -> dt.datetime:
    v = TS0 + dt.timedelta(milliseconds=r.randrange(-10**10, 10**10))
    return v + dt.timedelta(microseconds=r.randrange(1, 1000)) if sub_ms and r.random() < 0.3 else v


def _maybe(r: random.Random, v: Any, p: float = 0.15) -> Any:
    return None if r.random() < p else v


def queue_rows(seed: int) -> pa.Table:
    r = random.Random(seed)
    ids = [f"proc-{i:05d}" for i in r.sample(range(10**5), N)]
    created = [_ts(r, False) for _ in range(N // 2)]
    created += [r.choice(created) for _ in range(N - len(created))]  # ties
    r.shuffle(created)
    return pa.table({
        "status": [r.choice(WORDS) for _ in range(N)],
        "identifier": ids,
        "jobId": [_maybe(r, f"job-{r.randrange(30):03d}") for _ in range(N)],
        "priority": pa.array([_maybe(r, r.randrange(-3, 8)) for _ in range(N)], pa.int64()),
        "routingKey": [_maybe(r, r.choice(WORDS)) for _ in range(N)],
        "command": [r.choice(["incoming:run", "outgoing:run", "route:run", "Route:Run"]) for _ in range(N)],
        "arguments": [_maybe(r, r.choice(WORDS)) for _ in range(N)],
        "createdAt": pa.array(created, TSZ),
        "startedAt": pa.array([_maybe(r, _ts(r, True), 0.25) for _ in range(N)], TSZ),
        "finishedAt": pa.array([_maybe(r, _ts(r, False), 0.4) for _ in range(N)], TSZ),
        "processTime": pa.array([_maybe(r, r.choice([0.0, 1.5, -2.25, 1e9, r.uniform(-100, 100)])) for _ in range(N)],
                                pa.float64()),
        "runTime": pa.array([_maybe(r, float(r.randrange(0, 50))) for _ in range(N)], pa.float64()),
        "meta": [_maybe(r, {"flags": r.sample(["retry", "Retry", "manual", "a.b"], r.randrange(0, 3))})
                 for _ in range(N)],
    })  # fmt: skip


def stats_rows(seed: int) -> pa.Table:
    r = random.Random(seed)
    days = sorted(r.sample(range(-400, 400), N))
    return pa.table({
        "identifier": [f"acme-{d:+04d}" for d in days],
        "spaceIdentifier": [r.choice(["acme-prod", "acme-uat", "Acme-Prod"]) for _ in range(N)],
        "date": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in days], pa.date32()),
        **{k: pa.array([r.randrange(0, 40) for _ in range(N)], pa.int64())
           for k in ("new", "processing", "finished", "failed", "skipped")},
    })  # fmt: skip


def env_rows(seed: int) -> pa.Table:
    r = random.Random(seed)
    names = r.sample([f"VAR_{i}" for i in range(1000)], 60)
    return pa.table({
        "name": names,
        "description": [_maybe(r, r.choice(WORDS)) for _ in names],
        "value": [r.choice(WORDS) for _ in names],
        "encrypted": pa.array([_maybe(r, r.random() < 0.5) for _ in names], pa.bool_()),
        "default": pa.array([_maybe(r, r.random() < 0.5) for _ in names], pa.bool_()),
    })


SOURCES = {"queue_processes": queue_rows(21), "task_statistics": stats_rows(22), "environment_variables": env_rows(23)}


def reference_tables() -> dict[str, pa.Table]:
    out = {}
    for name, t in SOURCES.items():
        cols = {}
        for field in t.column_names:
            if field == "meta":
                cols["meta_flags"] = pa.array([None if m is None else m["flags"] for m in t["meta"].to_pylist()],
                                              pa.list_(pa.string()))
            else:
                cols[snake(field)] = t[field]
        out[name] = pa.table(cols)
    return out


def columns(name: str) -> tuple[str, list[Column]]:
    ref = reference_tables()[name]

    def pool(c: str) -> list[Any]:
        return ref[c].to_pylist()

    kinds = {pa.string(): "text", pa.int64(): "int", pa.float64(): "num", pa.bool_(): "bool", TSZ: "tstz",
             pa.date32(): "date", pa.list_(pa.string()): "list_text"}
    key = {"queue_processes": "identifier", "task_statistics": "identifier", "environment_variables": "name"}[name]
    cols = []
    for c in ref.column_names:
        kind = kinds[ref.schema.field(c).type]
        values = [v for x in pool(c) if x for v in x] if kind == "list_text" else pool(c)
        # `default` is a reserved word: the generated SQL must quote it
        cols.append(Column(f'"{c}"' if c == "default" else c, kind, values, unique=c in ("identifier", "name", "date")))
    return key, cols


MODES = ["confirmed", "loopback"]


def connect(mode: str) -> tuple[lowcode_sql.Connection, AlumioSandbox]:
    sandbox = AlumioSandbox(sample_data=False, loopback_operators=mode == "loopback")
    for name, t in SOURCES.items():
        sandbox.load_table(name, t)
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sandbox, options={
        "page_size": 40, "storages": [], "loopback_operators": mode == "loopback"})
    return con, sandbox


class AlumioSuite(DifferentialSuite):
    schema = "al"
    configs = MODES
    connect = staticmethod(connect)

    def reference_tables(self, config: str) -> dict[str, pa.Table]:
        return reference_tables()

    def query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        name = r.choices(list(SOURCES), weights=(6, 2, 2))[0]
        key, cols = columns(name)
        gen = QueryGen(name, key, cols, r)
        return gen.sorted_query("al") if r.random() < 0.25 else gen.query("al")

    def multi_reference_query(self, env: Env, r: random.Random) -> tuple[str, bool]:
        key, cols = columns("queue_processes")
        return MultiRefGen("queue_processes", key, cols, r).multi_reference_query("al")

    def ordered(self, sql: str) -> bool:
        return "ORDER BY" in sql

    def after(self, env: Env, sql: str) -> None:
        # the sandbox answers 400 to an operator it does not know: none may have been sent
        assert not [e for e in env.sandbox.stats.log if e.status == 400], sql


SUITE = AlumioSuite()
env = SUITE.env_fixture()
test_generated_queries_agree = SUITE.generated_test(max_examples=250)
test_multi_reference_queries_agree = SUITE.multi_reference_test(max_examples=40)


def test_schema_matches_the_reference(env):
    con, ref, _ = env
    for name in SOURCES:
        got = {n: t for n, t, _ in con.describe(f"al.{name}")}
        want = {n: t for n, t, *_ in ref.sql(f"DESCRIBE al.{name}").fetchall()}
        assert got == want, name


EDGE_CASES = [
    "SELECT identifier FROM al.queue_processes WHERE status = 'new'",
    "SELECT identifier FROM al.queue_processes WHERE status = ''",
    "SELECT identifier FROM al.queue_processes WHERE status <> 'new'",
    "SELECT identifier FROM al.queue_processes WHERE status NOT IN ('new', 'tie')",
    "SELECT identifier FROM al.queue_processes WHERE job_id <> 'job-001'",
    "SELECT identifier FROM al.queue_processes WHERE job_id NOT IN ('job-001', 'job-002')",
    "SELECT identifier FROM al.queue_processes WHERE job_id IS NULL",
    "SELECT identifier FROM al.queue_processes WHERE job_id IS NOT NULL AND priority IS NULL",
    "SELECT identifier FROM al.queue_processes WHERE status LIKE 'run%'",
    "SELECT identifier FROM al.queue_processes WHERE status LIKE 'New%' OR status LIKE '%e%'",
    "SELECT identifier FROM al.queue_processes WHERE status LIKE '50!% off' ESCAPE '!'",
    "SELECT identifier FROM al.queue_processes WHERE status LIKE 'a.b' OR status LIKE 'x*y+z?'",
    "SELECT identifier FROM al.queue_processes WHERE status ILIKE 'NEW'",
    "SELECT identifier FROM al.queue_processes WHERE command = 'route:run'",
    "SELECT identifier FROM al.queue_processes WHERE priority > 2",
    "SELECT identifier FROM al.queue_processes WHERE priority > 2.5",
    "SELECT identifier FROM al.queue_processes WHERE priority >= 2.5 AND priority < 5",
    "SELECT identifier FROM al.queue_processes WHERE priority = 3 OR priority IS NULL",
    "SELECT identifier FROM al.queue_processes WHERE process_time > 1.5",
    "SELECT identifier FROM al.queue_processes WHERE process_time <> 0",
    "SELECT identifier FROM al.queue_processes WHERE run_time BETWEEN 10 AND 20",
    "SELECT identifier FROM al.queue_processes WHERE created_at >= TIMESTAMPTZ '2026-01-01 00:00:00+00'",
    "SELECT identifier FROM al.queue_processes WHERE created_at > TIMESTAMPTZ '2026-01-01 00:00:00+00'",
    "SELECT identifier FROM al.queue_processes WHERE started_at >= TIMESTAMPTZ '2026-01-01 00:00:00.000500+00'",
    "SELECT identifier FROM al.queue_processes WHERE started_at > TIMESTAMPTZ '2026-01-01 03:00:00+03'",
    "SELECT identifier FROM al.queue_processes WHERE started_at < TIMESTAMPTZ '2026-01-01 00:00:00+00' "
    "AND started_at >= TIMESTAMPTZ '2025-06-01 00:00:00+00'",
    "SELECT identifier FROM al.queue_processes WHERE list_contains(meta_flags, 'retry')",
    "SELECT identifier FROM al.queue_processes WHERE created_at >= TIMESTAMPTZ '0999-01-01 00:00:00+00'",
    "SELECT identifier FROM al.queue_processes WHERE created_at <= TIMESTAMPTZ '2026-03-01 00:00:00+00'",
    "SELECT identifier FROM al.queue_processes WHERE created_at = (SELECT max(created_at) FROM al.queue_processes)",
    "SELECT identifier FROM al.queue_processes WHERE started_at IN (TIMESTAMPTZ '2026-01-01 00:00:00+00')",
    "SELECT date FROM al.task_statistics WHERE date > DATE '9999-12-31' OR date < DATE '0001-01-02'",
    "SELECT count(*) FROM al.queue_processes WHERE status = 'tie'",
    "SELECT count(*) FROM al.queue_processes WHERE status = 'tie' OR priority >= 3",
    "SELECT identifier, created_at FROM al.queue_processes ORDER BY created_at DESC, identifier LIMIT 7",
    "SELECT identifier, created_at FROM al.queue_processes ORDER BY created_at, identifier DESC LIMIT 45 OFFSET 30",
    "SELECT identifier FROM al.queue_processes WHERE status = 'tie' LIMIT 3",
    "SELECT identifier FROM al.queue_processes WHERE status <> 'tie' LIMIT 50 OFFSET 45",
    "SELECT date, failed FROM al.task_statistics WHERE date > DATE '2026-01-01' ORDER BY date LIMIT 5",
    "SELECT date FROM al.task_statistics WHERE date >= DATE '2026-03-01' AND date <= DATE '2026-03-31'",
    "SELECT count(*) FROM al.task_statistics WHERE space_identifier = 'acme-prod' AND failed >= 20",
    "SELECT name FROM al.environment_variables WHERE encrypted",
    "SELECT name FROM al.environment_variables WHERE NOT encrypted",
    "SELECT name FROM al.environment_variables WHERE encrypted <> \"default\"",
    "SELECT name FROM al.environment_variables WHERE encrypted IS NULL OR \"default\" = false",
    "SELECT name FROM al.environment_variables WHERE value = 'İstanbul' OR value = 'ß'",
    "SELECT name FROM al.environment_variables WHERE value IN ('line\nbreak', 'back\\slash', '')",
]


test_edge_cases = SUITE.edge_test(EDGE_CASES)


def test_count_and_limit_economy(env):
    con, _, sandbox = env
    sandbox.reset_stats()
    assert con.sql("SELECT count(*) FROM al.queue_processes WHERE command = 'route:run'").fetchall()[0][0] > 0
    assert sandbox.stats.requests == 1
    sandbox.reset_stats()
    assert len(con.sql("SELECT identifier FROM al.queue_processes WHERE command = 'route:run' LIMIT 3").fetchall()) == 3
    assert sandbox.stats.requests == 1


@pytest.mark.parametrize("desc", [False, True])
def test_sorted_limit_over_ties_and_pages(env, desc):
    # ORDER BY a column with ties, LIMIT over several pages: the chosen rows among ties may differ from
    # DuckDB's, but the sort values must be SQL's and no row may repeat or go missing between pages
    con, ref, sandbox = env
    direction = " DESC" if desc else ""
    sql = f"SELECT identifier, created_at FROM al.queue_processes ORDER BY created_at{direction} LIMIT 97 OFFSET 11"
    sandbox.reset_stats()
    got = con.sql(sql).fetchall()
    want = ref.sql(sql).fetchall()
    assert [r[1] for r in got] == [r[1] for r in want]
    assert len({r[0] for r in got}) == 97
    pushed = [json.loads(dict(e.query)["filter"]) for e in sandbox.stats.log]
    if sandbox.loopback_operators:  # the key breaks ties, so skip pages (of 40) are consistent
        # pushed only where the boundary check (execute/verify.py) can send its parts exactly; then
        # in 3 pages, each with the tie-breaker, followed by the unsorted checks
        sorted_pages = [p for p in pushed if "order" in p]
        assert len(sorted_pages) in (0, 3)
        assert all(p["order"] == [f"createdAt {'desc' if desc else 'asc'}", "identifier asc"] for p in sorted_pages)
    else:  # the confirmed one-key order leaves ties unordered: 108 rows do not fit one page of 40
        assert all("order" not in p for p in pushed)


@pytest.mark.parametrize("limit,offset", [(30, 10), (40, 0), (35, 6)])
def test_confirmed_sort_within_one_request(env, limit, offset):
    con, ref, sandbox = env
    sql = f"SELECT identifier, failed FROM al.task_statistics ORDER BY failed DESC LIMIT {limit} OFFSET {offset}"
    sandbox.reset_stats()
    got = con.sql(sql).fetchall()
    assert [r[1] for r in got] == [r[1] for r in ref.sql(sql).fetchall()] and len({r[0] for r in got}) == limit
    pushed = [json.loads(dict(e.query)["filter"]) for e in sandbox.stats.log]
    if sandbox.loopback_operators:
        assert pushed[0]["order"] == ["failed desc", "identifier asc"]
    elif limit + offset <= 40:  # page_size: the whole LIMIT in one request, ties in any order
        # the OFFSET is skipped locally (an untrusted sort: execute/verify.py), then one boundary
        # check: rows with failed above the last one returned, no order
        assert pushed[0] == {"order": "failed desc", "skip": 0, "limit": limit + offset}
        assert len(pushed) == 2 and "order" not in pushed[1] and set(pushed[1]["where"]) == {"failed"}
    else:
        assert all("order" not in p for p in pushed)


SORTS = [
    f"SELECT identifier, {col} FROM al.queue_processes ORDER BY {col}{d}{n} LIMIT {lim}{off}"
    for col, d, n, lim, off in [
        ("priority", "", "", 20, ""), ("priority", " DESC", "", 45, " OFFSET 30"),
        ("priority", "", " NULLS FIRST", 5, ""),
        ("started_at", "", "", 50, " OFFSET 40"), ("started_at", " DESC", " NULLS LAST", 10, ""),
        ("finished_at", " DESC", "", 90, ""), ("process_time", "", " NULLS FIRST", 41, " OFFSET 3"),
        ("created_at", " DESC", "", 120, " OFFSET 7"), ("run_time", "", "", 60, ""),
    ]
] + [  # never-NULL integers with heavy ties (40 values over 150 rows): pushed, so pages must not split ties
    "SELECT identifier, failed FROM al.task_statistics ORDER BY failed DESC LIMIT 100 OFFSET 5",
    "SELECT identifier, new FROM al.task_statistics ORDER BY new LIMIT 90",
    "SELECT identifier, skipped FROM al.task_statistics ORDER BY skipped LIMIT 38 OFFSET 2",
]  # fmt: skip


@pytest.mark.parametrize("sql", SORTS)
def test_sorts_on_nullable_and_tied_columns(env, sql):
    # sort pushdown needs a total order with SQL's NULL placement: the sandbox puts NULLs first
    # ascending (DuckDB: last) and shuffles ties between requests, so pushing a sort on a nullable or
    # tie-breaker-less column shows here. Rows among ties may differ from DuckDB's; the values may not.
    con, ref, _ = env
    got, want = con.sql(sql).fetchall(), ref.sql(sql).fetchall()
    assert [r[1] for r in got] == [r[1] for r in want], con.explain(sql)
    assert len({r[0] for r in got}) == len(got)


# --- a server whose text equality ignores case (a MySQL-style _ci collation) ------------------------

CI_CASES = [q for q in EDGE_CASES if any(c in q for c in ("status", "value", "job_id", "command", "space_id"))] + [
    "SELECT identifier FROM al.queue_processes WHERE status IN ('new', 'NEW', 'tie')",
    "SELECT identifier FROM al.queue_processes WHERE status = 'New' AND priority >= 2",
    "SELECT count(*) FROM al.queue_processes WHERE routing_key = 'tie'",
    "SELECT name FROM al.environment_variables WHERE value = 'padded' OR value = ' padded '",
    "SELECT name FROM al.environment_variables WHERE value LIKE 'run%' OR description LIKE 'NEW'",
    "SELECT count(*) FROM al.task_statistics WHERE space_identifier = 'acme-prod'",
]  # fmt: skip


@pytest.fixture(scope="module", params=MODES)
def ci_env(request: pytest.FixtureRequest) -> Iterator[tuple[lowcode_sql.Connection, Any, AlumioSandbox]]:
    loopback = request.param == "loopback"
    sandbox = AlumioSandbox(sample_data=False, loopback_operators=loopback, case_insensitive_text=True)
    for name, t in SOURCES.items():
        sandbox.load_table(name, t)
    con = lowcode_sql.connect()
    con.add_source("al", "alumio", sandbox=sandbox, options={
        "page_size": 40, "storages": [], "loopback_operators": loopback, "case_insensitive_text": True})
    ref = reference(reference_tables(), "al")
    yield con, ref, sandbox
    con.close()
    ref.close()


@pytest.mark.parametrize("sql", CI_CASES)
def test_case_insensitive_server(ci_env, sql):
    con, ref, sandbox = ci_env
    compare(con, ref, sql, "ORDER BY" in sql)
    assert not [e for e in sandbox.stats.log if e.status == 400], sql


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_queries_agree_with_a_case_insensitive_server(ci_env, seed):
    con, ref, sandbox = ci_env
    r = random.Random(seed)
    name = r.choice(["queue_processes", "environment_variables"])
    key, cols = columns(name)
    gen = QueryGen(name, key, cols, r)
    sql, ordered = gen.query("al")
    compare(con, ref, sql, ordered)
    assert not [e for e in sandbox.stats.log if e.status == 400], sql


def test_the_case_insensitive_server_differs(ci_env):
    # the mode is only a test if the server's answer differs from SQL's: `=` sent as is returns more
    _, _, sandbox = ci_env
    from lowcode_sql.sandbox._base import Request

    r = sandbox.handle(Request("GET", "/api/v1/queue/processes", [("filter", '{"where":{"status":"new"}}')],
                               {"authorization": "Bearer demo-alumio-token"}))
    statuses = {p["status"] for p in r.body["results"]}
    assert {"new", "New", "NEW"} <= statuses
