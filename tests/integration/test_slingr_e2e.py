"""Slingr end to end through the in-process sandbox: request economy, login auth, faults, typed errors."""

from __future__ import annotations

import datetime as dt
import math
import random

import pyarrow as pa
import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, AuthError
from lowcode_sql.fetch.retry import RetryPolicy
from lowcode_sql.sandbox.slingr import FieldDef, SlingrSandbox
from tests.integration.e2e import TRANSIENT_FAULTS, TRUSTED, check_retried, clean

N_BIG = 2345
DATA = r"^/data/\w+$"


def big_table() -> pa.Table:
    r = random.Random(3)
    return pa.table({
        "n": list(range(N_BIG)),
        "name": [r.choice(["ACME, Inc (US)", "O'Brien", "a'),or(filter('name','x", 'say "hi"', "plain"])
                 for _ in range(N_BIG)],
        "grp": [i % 7 for i in range(N_BIG)],
    })


def connect(sandbox: SlingrSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("sl", "slingr", sandbox=sandbox, options={"entities": sorted(sandbox.entities), **options})
    # the same number of attempts, with short, seeded back-offs: fast and deterministic
    con.catalog.source("sl").runtime.retry = RetryPolicy(base_delay=0.01, rng=random.Random(0))
    con.tables()  # discovery first, so the tests count data requests only
    return con


@pytest.fixture(scope="module")
def shared() -> SlingrSandbox:
    sb = SlingrSandbox()
    sb.load_table("big", big_table())
    return sb


@pytest.fixture
def sandbox(shared):
    yield from clean(shared)


@pytest.fixture
def trusting_con(sandbox):
    c = connect(sandbox, **TRUSTED)
    sandbox.reset_stats()
    yield c
    c.close()


@pytest.fixture
def con(sandbox):
    c = connect(sandbox)
    sandbox.reset_stats()
    yield c
    c.close()


def data_requests(sb: SlingrSandbox) -> list:
    return [e for e in sb.stats.log if e.path.startswith("/data/")]


def logins(sb: SlingrSandbox) -> int:
    return sb.stats.count(r"^/auth/login$")


# --- request economy ----------------------------------------------------------------------------


def test_keyset_full_scan_pages(con, sandbox):
    r = con.sql("SELECT id, n FROM sl.big")
    assert len(r) == N_BIG and len(set(r.arrow().column("id").to_pylist())) == N_BIG
    reqs = data_requests(sandbox)
    assert len(reqs) == math.ceil(N_BIG / 1000)
    offsets = [dict(e.query).get("_offset") for e in reqs]
    assert offsets[0] is None and all(o and len(o) == 24 for o in offsets[1:])  # record ids, not numbers


def test_numeric_offset_pages_run_concurrently(sandbox):
    sandbox.latency = 0.05
    with connect(sandbox, keyset=False, page_size=500) as c:
        sandbox.reset_stats()
        r = c.sql("SELECT n FROM sl.big")
        assert sorted(r.arrow().column("n").to_pylist()) == list(range(N_BIG))
        assert len(data_requests(sandbox)) == math.ceil(N_BIG / 500)
        assert sandbox.stats.max_in_flight > 1


def test_count_is_one_request(trusting_con, sandbox):
    sql = "SELECT count(*) FROM sl.big WHERE grp = 3 OR name = 'ACME, Inc (US)'"
    assert trusting_con.sql(sql).fetchall()[0][0] == len(
        [i for i, row in enumerate(big_table().to_pylist()) if row["grp"] == 3 or row["name"] == "ACME, Inc (US)"])
    [req] = data_requests(sandbox)
    assert dict(req.query)["_size"] == "1"


def test_limit_on_exact_filter_is_one_request(con, sandbox):
    assert len(con.sql("SELECT n FROM sl.big WHERE grp IN (1, 2) LIMIT 600")) == 600
    [req] = data_requests(sandbox)
    assert dict(req.query)["_size"] == "600"


def test_sorted_limit_is_one_request(trusting_con, sandbox):
    rows = trusting_con.sql("SELECT n FROM sl.big WHERE grp = 6 ORDER BY n DESC LIMIT 3").fetchall()
    assert rows == [(2344,), (2337,), (2330,)]
    [req] = data_requests(sandbox)
    assert ("_sortField", "n") in req.query and ("_sortType", "desc") in req.query


def test_sorted_limit_over_ties_is_one_request_whatever_the_page_size(sandbox):
    # grp has ~335 rows per value; the sandbox orders ties differently for each _offset/_size (as
    # MongoDB may), so two numeric pages of one sort could repeat some rows and miss others
    with connect(sandbox, page_size=40, **TRUSTED) as c:
        sandbox.reset_stats()
        rows = c.sql("SELECT id, grp FROM sl.big ORDER BY grp DESC LIMIT 45 OFFSET 300").fetchall()
        assert len({i for i, _ in rows}) == 45
        assert [g for _, g in rows] == [6] * 35 + [5] * 10  # 335 rows have grp 6
        [req] = data_requests(sandbox)
        assert dict(req.query)["_size"] == "45" and dict(req.query)["_offset"] == "300"


def test_grouped_aggregate_is_one_request(con, sandbox):
    sql = "SELECT grp, count(*), sum(n), max(n) FROM sl.big WHERE n >= 100 GROUP BY grp ORDER BY grp"
    rows = con.sql(sql).fetchall()
    want = [(g, len(ns), sum(ns), max(ns)) for g in range(7) for ns in [[n for n in range(100, N_BIG) if n % 7 == g]]]
    assert [tuple(int(v) for v in r) for r in rows] == want
    [req] = data_requests(sandbox)
    assert req.method == "PUT" and req.path == "/data/big/aggregate"


def test_contradiction_makes_no_request(con, sandbox):
    assert len(con.sql("SELECT n FROM sl.big WHERE n > 10 AND n < 5")) == 0
    assert sandbox.stats.requests == 0


def test_values_that_break_naive_quoting(con, sandbox):
    rows = big_table().to_pylist()
    for value in ("ACME, Inc (US)", "O'Brien", "a'),or(filter('name','x", 'say "hi"'):
        for sql in (f"SELECT n FROM sl.big WHERE name = '{value.replace(chr(39), chr(39) * 2)}'",
                    f"SELECT n FROM sl.big WHERE name = '{value.replace(chr(39), chr(39) * 2)}' OR n = 0"):
            got = sorted(v for (v,) in con.sql(sql).fetchall())
            assert got == sorted(row["n"] for row in rows if row["name"] == value or (" OR " in sql and row["n"] == 0))


# --- auth ---------------------------------------------------------------------------------------


def test_login_once_and_reuse_the_token(sandbox):
    with connect(sandbox) as c:
        for _ in range(3):
            c.sql("SELECT count(*) FROM sl.companies").fetchall()
            c.sql("SELECT id FROM sl.contacts").fetchall()
        assert logins(sandbox) == 1
        assert all(e.status == 200 for e in sandbox.stats.log)


def test_token_expiry_mid_scan_logs_in_again(con, sandbox):
    expected = con.sql("SELECT id, n FROM sl.big ORDER BY id").fetchall()
    before = logins(sandbox)
    sandbox.faults.add("expire_token", path=DATA, after=1)
    assert con.sql("SELECT id, n FROM sl.big ORDER BY id").fetchall() == expected
    assert logins(sandbox) == before + 1
    assert sandbox.stats.by_status[401] == 1


def test_token_expiry_during_concurrent_pages_logs_in_once(sandbox):
    sandbox.latency = 0.02
    with connect(sandbox, keyset=False, page_size=200) as c:
        sandbox.reset_stats()
        sandbox.faults.add("expire_token", path=DATA, after=2)  # every session ends, pages in flight
        got = sorted(n for (n,) in c.sql("SELECT n FROM sl.big").fetchall())
        assert got == list(range(N_BIG))
        assert sandbox.stats.max_in_flight > 1 and sandbox.stats.by_status[401] >= 1
        assert logins(sandbox) == 1  # one re-login shared by the pages that got a 401
        assert len(data_requests(sandbox)) == math.ceil(N_BIG / 200) + sandbox.stats.by_status[401]


def test_persistent_401_is_an_auth_error_after_one_relogin(con, sandbox):
    sandbox.faults.add("status", path=DATA, status=401, times=None, message="Unauthorized")
    with pytest.raises(AuthError, match="401"):
        con.sql("SELECT n FROM sl.big").fetchall()
    assert logins(sandbox) == 1 and len(data_requests(sandbox)) == 2  # the page and its one replay


def test_inactivity_expiry_logs_in_again():
    sb = SlingrSandbox(token_ttl=60)
    now = [0.0]
    sb.clock = lambda: now[0]
    with connect(sb) as c:
        assert c.sql("SELECT count(*) FROM sl.companies").fetchall() == [(135,)]
        now[0] += 61
        assert c.sql("SELECT count(*) FROM sl.companies").fetchall() == [(135,)]
        assert logins(sb) == 2 and sb.stats.by_status[401] == 1


def test_bad_password_is_an_auth_error_without_the_secret(sandbox):
    c = lowcode_sql.connect()
    c.add_source("sl", "slingr", sandbox=sandbox, options={"entities": ["companies"]},
                 secrets={"email": "user@test.com", "password": "wrong-password-123"})
    with pytest.raises(AuthError, match="Invalid credentials") as info:
        c.sql("SELECT count(*) FROM sl.companies")
    assert "wrong-password-123" not in str(info.value) and "wrong-password-123" not in repr(info.value)
    c.close()


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,kw", TRANSIENT_FAULTS)
def test_transient_faults_are_retried(con, sandbox, kind, kw):
    sql = "SELECT id, n FROM sl.big WHERE grp <> 3 ORDER BY id"
    check_retried(con, sandbox, sql, DATA, kind, kw)


def test_rate_limit_429_is_waited_out():
    # one request per 20 ms and no burst: back-to-back calls (login, discovery) get 429 + Retry-After
    sb = SlingrSandbox(rate_limit=50, burst=1)
    with connect(sb) as c:
        assert c.sql("SELECT count(*) FROM sl.contacts").fetchall() == [(240,)]
    assert sb.stats.by_status[429] > 0  # throttled on the way, answered anyway


@pytest.mark.parametrize("status,message", [(409, "Optimistic locking exception"), (503, "under maintenance")])
def test_persistent_errors_are_typed_and_name_the_platform_message(con, sandbox, status, message):
    sandbox.faults.add("status", path=DATA, status=status, times=None, message=message)
    with pytest.raises(APIError, match=message) as info:
        con.sql("SELECT id FROM sl.companies")
    assert info.value.status == status


def test_platform_400_names_the_field(con, sandbox):
    # a dialect never sends this, but a stale column declaration would: the answer is a typed error
    sandbox.entities["companies"].fields.pop("taxId")
    try:
        with pytest.raises(APIError, match=r"Field \[taxId\] does not exist") as info:
            con.sql("SELECT name FROM sl.companies WHERE tax_id = 'x'")
        assert info.value.status == 400
    finally:
        from lowcode_sql.sandbox.slingr import FieldDef

        sandbox.entities["companies"].fields["taxId"] = FieldDef("taxId", "text")


# --- sample data and types ----------------------------------------------------------------------


def test_sample_schema_and_nested_fields(con):
    types = {name: typ for name, typ, _ in con.describe("sl.companies")}
    assert types["last_meeting"] == "TIMESTAMP WITH TIME ZONE" and types["number_of_employees"] == "BIGINT"
    assert types["addresses__state"] == "VARCHAR[]" and types["is_customer"] == "BOOLEAN"
    rows = con.sql("SELECT c.name, c.contact_information.email, contact_information__email, addresses "
                   "FROM sl.companies c WHERE list_contains(addresses__state, 'CA') ORDER BY name LIMIT 3").fetchall()
    assert rows and all(r[1] == r[2] for r in rows) and all(any(a["state"] == "CA" for a in r[3]) for r in rows)


def test_declared_types_and_inner_fields_without_records():
    # an empty entity: every column comes from the `fields` option, inner nested fields included
    sb = SlingrSandbox(sample_data=False)
    sb.add_entity("events", [
        FieldDef("place", "nestedFields", False, {"city": FieldDef("city", "text")}),
        FieldDef("startsAt", "dateTimeNoTimezone"), FieldDef("opens", "time"), FieldDef("hours", "timeDuration"),
        FieldDef("budget", "bigNumber"), FieldDef("created", "dateRecordCreated"),
    ])
    con = lowcode_sql.connect()
    con.add_source("sl", "slingr", sandbox=sb, options=sb.DEMO_OPTIONS)
    types = {name: typ for name, typ, _ in con.describe("sl.events")}
    assert types == {"id": "VARCHAR", "label": "VARCHAR", "version": "BIGINT", "place": 'STRUCT("city" VARCHAR)',
                     "place__city": "VARCHAR", "starts_at": "TIMESTAMP", "opens": "VARCHAR", "hours": "BIGINT",
                     "budget": "VARCHAR", "created": "TIMESTAMP WITH TIME ZONE"}
    assert con.sql("SELECT count(*) FROM sl.events WHERE place__city = 'X'").fetchall() == [(0,)]
    sb.add_record("events", {"place": {"city": "X", "id": "a" * 24, "label": "p"}, "startsAt": "2016-11-05 19:00",
                             "opens": "08:00", "hours": 3_600_000, "budget": "8.997738199773819977381",
                             "created": 1485012900000})
    sb.reset_stats()
    rows = con.sql("SELECT place__city, starts_at, opens, hours, budget, created FROM sl.events "
                   "WHERE starts_at > TIMESTAMP '2016-11-05 18:59:59' AND opens = '08:00' AND hours >= 3600000 "
                   "AND budget IS NOT NULL AND created < TIMESTAMPTZ '2017-01-21 15:35:00.0005+00'").fetchall()
    assert rows == [("X", dt.datetime(2016, 11, 5, 19, 0), "08:00", 3_600_000, "8.997738199773819977381",
                     dt.datetime(2017, 1, 21, 15, 35, tzinfo=dt.UTC))]
    [req] = data_requests(sb)  # every filter sent, in the formats the API documents
    assert dict(req.query)["startsAt"] == "greaterOrEquals(2016-11-05 19:00)"
    assert dict(req.query)["created"] == "lessOrEquals(1485012900000)"
    con.close()


def test_multi_valued_date_time_fields():
    sb = SlingrSandbox(sample_data=False)
    sb.add_entity("e", [FieldDef("at", "dateTime", True), FieldDef("days", "date", True),
                        FieldDef("walls", "dateTimeNoTimezone", True)])
    sb.add_record("e", {"at": [1500000000123, None], "days": ["2020-01-02"], "walls": ["2016-11-05 19:00"]}, label="a")
    sb.add_record("e", {"at": [], "days": []}, label="b")
    with lowcode_sql.connect() as con:
        con.add_source("sl", "slingr", sandbox=sb, options=sb.DEMO_OPTIONS)
        rows = con.sql("SELECT label, at, days, walls FROM sl.e ORDER BY label").fetchall()
    assert rows == [("a", [dt.datetime(2017, 7, 14, 2, 40, 0, 123000, tzinfo=dt.UTC), None], [dt.date(2020, 1, 2)],
                     [dt.datetime(2016, 11, 5, 19, 0)]), ("b", [], [], None)]


def test_join_contacts_to_companies(con):
    rows = con.sql("SELECT p.first_name, c.name FROM sl.contacts p JOIN sl.companies c ON p.company__id = c.id "
                   "WHERE c.is_customer AND p.active").fetchall()
    assert rows and all(isinstance(n, str) for _, n in rows)


def test_demo_lists_slingr():
    with lowcode_sql.demo() as c:
        assert ("slingr", "companies") in {(s, t) for s, t, *_ in c.tables()}
        assert c.sql("SELECT count(*) FROM slingr.contacts").fetchall() == [(240,)]
