"""Entu end to end through the in-process sandbox: request economy, JWT auth, faults, typed errors."""

from __future__ import annotations

import datetime as dt
import random

import pytest

import lowcode_sql
from lowcode_sql.errors import APIError, AuthError, LowcodeSQLError, UnknownColumn, UnknownTable
from lowcode_sql.fetch.retry import RetryPolicy
from lowcode_sql.sandbox.entu import EntuSandbox
from tests.integration.e2e import TIMEOUT, TRANSIENT_FAULTS, TRUSTED, check_retried, clean

LIST = r"^/api/demo/entity$"
# invoices hold one value per property in the sample data; books do not (two prices, two authors ...)
SINGLE = {"invoice": ["number", "amount", "currency", "issued", "paid", "customer"]}


def connect(sandbox: EntuSandbox, **options: object) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    con.add_source("en", "entu", sandbox=sandbox,
                   options={"db": "demo", "page_size": 40, "single_valued": SINGLE, **options})
    fast_retries(con)
    return con


def fast_retries(con: lowcode_sql.Connection) -> None:
    # the same number of attempts, with short, seeded back-offs: fast and deterministic
    con.catalog.source("en").runtime.retry = RetryPolicy(base_delay=0.01, rng=random.Random(0))


@pytest.fixture(scope="module")
def shared() -> EntuSandbox:
    return EntuSandbox()


@pytest.fixture(scope="module")
def trusting_con(shared):
    c = connect(shared, **TRUSTED)
    c.tables()
    yield c
    c.close()


@pytest.fixture(scope="module")
def shared_con(shared):
    c = connect(shared)
    c.tables()  # discovery, so the tests below count data requests only
    yield c
    c.close()


@pytest.fixture
def sandbox(shared):
    """The shared sample sandbox (building one takes a while), clean for each test."""
    yield from clean(shared)


@pytest.fixture
def con(sandbox):
    c = connect(sandbox)
    c.tables()
    yield c
    c.close()


def data_requests(sandbox: EntuSandbox) -> list:
    """Entity list calls that are not discovery (discovery groups by _type or samples a whole type)."""
    return [e for e in sandbox.stats.log if e.path == "/api/demo/entity" and not _is_discovery(e.query)]


def _is_discovery(query: list[tuple[str, str]]) -> bool:
    keys = {k for k, _ in query}
    return "group" in keys or keys == {"_type.string", "limit"}


def logins(sandbox: EntuSandbox) -> int:
    return sandbox.stats.count(r"^/api/auth$")


# --- request economy ----------------------------------------------------------------------------


def test_discovery_requests_are_counted_separately(sandbox):
    with connect(sandbox) as con:
        assert sandbox.stats.requests == 0  # nothing until the first query
        r = con.sql("SELECT count(*) FROM en.invoice WHERE paid")
        discovery = [e for e in sandbox.stats.log if e.path == "/api/demo/entity" and _is_discovery(e.query)]
        # one group-by-_type call, then one sample per type (with the system types of the type
        # definitions themselves: entity, property)
        assert len(discovery) == 6
        types = sorted(dict(e.query)["_type.string"] for e in discovery[1:])
        assert types == ["book", "entity", "invoice", "person", "property"]
        assert len(data_requests(sandbox)) == 1 and logins(sandbox) == 1
        sandbox.reset_stats()
        assert con.sql("SELECT count(*) FROM en.invoice WHERE paid").fetchall() == r.fetchall()
        assert sandbox.stats.requests == 1  # discovery and the token are cached


def test_count_with_exact_filter_is_one_request(trusting_con, shared):
    full = trusting_con.sql("SELECT amount FROM en.invoice").arrow()
    expected = sum(1 for a in full.column("amount").to_pylist() if a is not None and a > 1000)
    shared.reset_stats()
    assert trusting_con.sql("SELECT count(*) FROM en.invoice WHERE amount > 1000").fetchall() == [(expected,)]
    [req] = data_requests(shared)
    assert ("limit", "1") in req.query and ("amount.number.gt", "1000.0") in req.query

    books = trusting_con.sql("SELECT tags__all FROM en.book").fetchall()
    expected = sum(1 for (tags,) in books if tags and "classic" in tags)
    shared.reset_stats()
    r = trusting_con.sql("SELECT count(*) FROM en.book WHERE list_contains(tags__all, 'classic')")
    assert r.fetchall() == [(expected,)] and len(data_requests(shared)) == 1


def test_limit_on_exact_filter_is_one_request(shared_con, shared):
    shared.reset_stats()
    r = shared_con.sql("SELECT _id, amount FROM en.invoice WHERE amount > 1000 LIMIT 5")
    assert len(r) == 5 and all(a > 1000 for _, a in r.fetchall())
    [req] = data_requests(shared)
    assert ("limit", "5") in req.query


def test_sorted_limit_is_one_request(trusting_con, shared):
    everything = trusting_con.sql("SELECT amount FROM en.invoice").fetchall()
    top = sorted((a for (a,) in everything if a is not None), reverse=True)[:5]
    shared.reset_stats()
    r = trusting_con.sql("SELECT number FROM en.invoice ORDER BY amount DESC LIMIT 5")
    assert len(r) == 5 and len(data_requests(shared)) == 1
    assert ("sort", "-amount.number,_type._id") in data_requests(shared)[0].query
    got = trusting_con.sql("SELECT amount FROM en.invoice ORDER BY amount DESC LIMIT 5").fetchall()
    assert [a for (a,) in got] == top


def test_superset_filter_is_rechecked_locally(shared_con, shared):
    """book.price is multi-valued in places: the pushed filter over-matches, DuckDB trims it."""
    rows = shared_con.sql("SELECT price, price__all FROM en.book").fetchall()
    expected = sum(1 for p, _ in rows if p is not None and p > 100)
    over = sum(1 for _, ps in rows if ps and any(x > 100 for x in ps))
    assert over > expected  # the sample data really has such books
    assert shared_con.sql("SELECT count(*) FROM en.book WHERE price > 100").fetchall() == [(expected,)]


def test_contradiction_makes_no_request(shared_con, shared):
    shared.reset_stats()
    r = shared_con.sql("SELECT _id FROM en.invoice WHERE amount > 10 AND amount < 5")
    assert len(r) == 0 and data_requests(shared) == [] and shared.stats.requests == 0


def test_full_scan_pages_concurrently(sandbox):
    sandbox.latency = 0.05
    with connect(sandbox) as con:
        con.tables()
        sandbox.reset_stats()
        r = con.sql("SELECT _id FROM en.book")
        assert len(r) == 300 and len(set(r.arrow().column("_id").to_pylist())) == 300
        assert len(data_requests(sandbox)) == 8  # ceil(300 / 40)
        assert sandbox.stats.max_in_flight > 1


# --- auth ---------------------------------------------------------------------------------------


def test_login_once_and_reuse_the_token(sandbox):
    with connect(sandbox) as con:
        sandbox.reset_stats()
        for _ in range(3):
            con.sql("SELECT count(*) FROM en.person").fetchall()
            con.sql("SELECT _id FROM en.book").fetchall()
        assert logins(sandbox) == 1
        [auth] = [e for e in sandbox.stats.log if e.path == "/api/auth"]
        assert ("db", "demo") in auth.query
        assert all(e.status == 200 for e in sandbox.stats.log)  # no 401 along the way


def test_token_expiry_mid_scan_logs_in_again(con, sandbox):
    expected = con.sql("SELECT _id, name FROM en.book ORDER BY _id").fetchall()
    assert len(expected) == 300
    before = logins(sandbox)
    sandbox.faults.add("expire_token", path=LIST, after=2)
    assert con.sql("SELECT _id, name FROM en.book ORDER BY _id").fetchall() == expected
    assert logins(sandbox) == before + 1
    assert sandbox.stats.by_status[401] >= 1


def test_wrong_api_key_is_an_auth_error_not_an_empty_table(sandbox):
    con = lowcode_sql.connect()
    con.add_source("en", "entu", sandbox=sandbox, options={"db": "demo"}, secrets={"key": "wrong-secret-key"})
    with pytest.raises(AuthError, match="demo") as info:
        con.sql("SELECT count(*) FROM en.book")
    assert "wrong-secret-key" not in str(info.value) and "wrong-secret-key" not in repr(info.value)
    con.close()


def test_key_for_another_database_is_an_auth_error(sandbox):
    con = lowcode_sql.connect()
    con.add_source("en", "entu", sandbox=sandbox, options={"db": "other"})
    with pytest.raises(LowcodeSQLError, match="other"):
        con.sql("SELECT count(*) FROM en.book")
    con.close()


# --- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,kw", [*TRANSIENT_FAULTS, TIMEOUT])
def test_transient_faults_are_retried(con, sandbox, kind, kw):
    sql = "SELECT _id, price__all FROM en.book WHERE list_contains(tags__all, 'classic') OR price > 50 ORDER BY _id"
    check_retried(con, sandbox, sql, LIST, kind, kw)


def test_persistent_error_is_typed_and_names_the_platform_message(con, sandbox):
    sandbox.faults.add("status", path=LIST, status=500, times=None, message="database on fire")
    with pytest.raises(APIError, match="database on fire") as info:
        con.sql("SELECT _id FROM en.book")
    assert info.value.status == 500


def test_platform_400_is_an_api_error(con, sandbox):
    sandbox.faults.add("status", path=LIST, status=400, times=None, message="Invalid regex")
    with pytest.raises(APIError, match="Invalid regex") as info:
        con.sql("SELECT _id FROM en.person WHERE name LIKE 'A%'")
    assert info.value.status == 400


# --- names and types ----------------------------------------------------------------------------


def test_unknown_names_are_helpful(shared_con):
    with pytest.raises(UnknownTable, match=r"did you mean 'en\.book'"):
        shared_con.sql("SELECT * FROM en.bok")
    with pytest.raises(UnknownColumn, match="nmae") as info:
        shared_con.sql("SELECT nmae FROM en.person")
    assert "name" in str(info.value)
    with pytest.raises(UnknownColumn, match="tags_all"):
        shared_con.sql("SELECT tags_all FROM en.book")


def test_sample_schema_types(shared_con):
    book = {c: t for c, t, _ in shared_con.describe("en.book")}
    assert book["price"] == "DOUBLE" and book["price__all"] == "DOUBLE[]"
    assert book["published"] == "DATE" and book["in_stock"] == "BOOLEAN" and book["author"] == "VARCHAR"
    assert book["tags__all"] == "VARCHAR[]"
    person = {c: t for c, t, _ in shared_con.describe("en.person")}
    assert person["created"] == "TIMESTAMP WITH TIME ZONE" and person["birthday"] == "DATE"


def test_sample_data_across_types(shared_con):
    rows = shared_con.sql("SELECT _id, price, published, in_stock, tags__all FROM en.book").fetchall()
    assert len(rows) == 300
    want = sorted(
        i for i, price, published, stock, tags in rows
        if price is not None and price >= 9.99 and published is not None and published < dt.date(2000, 1, 1)
        and stock is True and not (tags and "fantasy" in tags)
    )
    got = shared_con.sql("""
        SELECT _id FROM en.book
        WHERE price >= 9.99 AND published < DATE '2000-01-01' AND in_stock
          AND NOT list_contains(coalesce(tags__all, []), 'fantasy')
        ORDER BY _id""").fetchall()
    assert [g for (g,) in got] == want and want

    created = shared_con.sql("SELECT created FROM en.person WHERE created = TIMESTAMPTZ '2020-09-13 12:26:40.123+00'")
    assert len(created) == 4  # every 20th person shares this instant (ms precision, UTC)
    names = shared_con.sql("SELECT name FROM en.book WHERE name ILIKE 'apple%' ORDER BY name").fetchall()
    assert names == [("APPLE",), ("Apple",), ("apple",)]
    special = shared_con.sql(r"SELECT name FROM en.book WHERE name LIKE 'What? (Really) [2nd] {ed.} | ^$ \ / .*'")
    assert len(special) == 1


def test_join_book_author_to_person(shared_con):
    books = shared_con.sql("SELECT _id, author FROM en.book").fetchall()
    people = dict(shared_con.sql("SELECT _id, name FROM en.person").fetchall())
    per_name: dict[str, int] = {}
    for _, author in books:
        if author is not None:
            per_name[people[author]] = per_name.get(people[author], 0) + 1
    r = shared_con.sql("""
        SELECT p.name, count(*) AS n
        FROM en.book b JOIN en.person p ON b.author = p._id
        GROUP BY p.name ORDER BY n DESC, p.name""").fetchall()
    assert dict(r) == per_name
    assert [n for _, n in r] == sorted(per_name.values(), reverse=True)

    # every author of a multi-author book, through the LIST column
    r = shared_con.sql("""
        SELECT count(*) FROM (SELECT unnest(author__all) AS a FROM en.book) x JOIN en.person p ON x.a = p._id""")
    total = sum(len(a) for (a,) in shared_con.sql("SELECT author__all FROM en.book WHERE author__all IS NOT NULL")
                .fetchall())
    assert r.fetchall() == [(total,)] and total > len([b for b in books if b[1]])
