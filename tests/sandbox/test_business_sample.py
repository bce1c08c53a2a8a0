"""The default sample data (issue 17 §4): one plausible business, the same on every platform, so the
demo joins across platforms; the edge-case samples stay what the suites test against."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import lowcode_sql
from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox._base import SAMPLE_ENV
from lowcode_sql.sandbox._business import world

PLATFORMS = ("alumio", "coredata", "entu", "slingr", "totalum")


@pytest.fixture(scope="module")
def con() -> Iterator[lowcode_sql.Connection]:
    c = lowcode_sql.connect()
    for platform in PLATFORMS:
        c.add_source(platform, platform, sandbox=get_sandbox(platform, sample_data="business"))
    yield c
    c.close()


def _col(con: lowcode_sql.Connection, sql: str) -> list:  # type: ignore[type-arg]
    return [r[0] for r in con.sql(sql).fetchall()]


def test_business_is_the_default_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SAMPLE_ENV)
    assert {get_sandbox(p).sample for p in PLATFORMS} == {"business"}
    monkeypatch.setenv(SAMPLE_ENV, "traps")
    assert {get_sandbox(p).sample for p in PLATFORMS} == {"traps"}
    assert get_sandbox("entu", sample_data=False).sample is None
    with pytest.raises(ValueError, match=r"unknown sample data 'nope' \(known: business, traps\)"):
        get_sandbox("entu", sample_data="nope")


def test_the_same_orders_customers_and_products_on_every_platform(con: lowcode_sql.Connection) -> None:
    w = world(0)
    numbers = {o.number for o in w.orders}
    emails = {c.email for c in w.customers}
    assert set(_col(con, 'SELECT number FROM totalum."order"')) == numbers
    # an invoice for every order that was not cancelled, for the order's amount
    invoiced = dict(con.sql("SELECT number, amount FROM entu.invoice").fetchall())
    assert invoiced == {o.number: o.total for o in w.orders if o.status != "cancelled"}
    assert set(_col(con, "SELECT email FROM totalum.client")) == emails
    assert set(_col(con, "SELECT email FROM entu.person")) == emails
    assert emails <= set(_col(con, "SELECT email FROM slingr.contacts"))
    assert set(_col(con, "SELECT name FROM slingr.companies")) == {c.company for c in w.customers}
    coredata = {e["email"] for es in _col(con, "SELECT emails FROM coredata.contacts") for e in es}
    assert {e for e in coredata if not e.startswith("info@")} <= emails
    assert set(_col(con, "SELECT sku FROM entu.product")) == {p.sku for p in w.products}
    data = [json.loads(d) for d in _col(con, "SELECT entity_data FROM alumio.tasks WHERE entity_type = 'order'")]
    assert data and {d["incrementId"] for d in data} <= numbers
    assert {d["customer"]["email"] for d in data} <= emails


def test_joins_across_platforms_find_every_row(con: lowcode_sql.Connection) -> None:
    w = world(0)
    rows = con.sql('SELECT o.number, o.total, i.amount FROM totalum."order" o '
                   "JOIN entu.invoice i ON i.number = o.number").fetchall()
    assert len(rows) == sum(o.status != "cancelled" for o in w.orders)
    assert all(total == amount for _, total, amount in rows)
    n = con.sql("SELECT count(*) FROM slingr.companies s JOIN totalum.client c ON c.name = s.name").fetchall()
    assert n == [(len(w.customers),)]


def test_the_numbers_look_like_a_business(con: lowcode_sql.Connection) -> None:
    """No empty names, prices of office goods, totals that add up, dates in the last two years."""
    (lo, hi, avg), = con.sql("SELECT min(price), max(price), avg(price) FROM totalum.product").fetchall()
    assert lo >= 5 and hi <= 2000 and 50 <= avg <= 500
    bad = con.sql('SELECT count(*) FROM totalum."order" o JOIN totalum.product p ON o.product = p._id '
                  "WHERE o.total > o.quantity * p.price + 0.005 OR o.total < 0.85 * o.quantity * p.price "
                  "OR o.ordered NOT BETWEEN TIMESTAMPTZ '2024-12-01 00:00:00+00' AND "
                  "TIMESTAMPTZ '2026-12-01 00:00:00+00'").fetchall()
    assert bad == [(0,)]
    for sql in ("SELECT name FROM totalum.client", "SELECT name FROM entu.person", "SELECT name FROM entu.product",
                "SELECT title FROM coredata.projects", "SELECT title FROM coredata.tasks",
                "SELECT title FROM coredata.contacts", "SELECT name FROM slingr.companies"):
        names = _col(con, sql)
        assert names and all(isinstance(n, str) and n.strip() == n and len(n) >= 3 for n in names), sql
    (avg_amount,), = con.sql("SELECT avg(amount) FROM entu.invoice").fetchall()
    assert 100 <= avg_amount <= 5000


def test_the_demo_answers_every_query_on_the_business(monkeypatch: pytest.MonkeyPatch) -> None:
    from lowcode_sql.cli import DEMO_QUERIES

    monkeypatch.setenv(SAMPLE_ENV, "business")
    with lowcode_sql.demo() as con:
        for title, sql in DEMO_QUERIES:
            assert con.sql(sql).fetchall(), title  # every demo query shows rows


def test_the_traps_are_unchanged() -> None:
    """The edge cases the suites rely on are still there (Entu's books, Totalum's wildcard names)."""
    entu = lowcode_sql.connect_sandbox("entu", sample_data=True)  # tests/conftest.py selects traps
    assert entu.sql("SELECT count(*) FROM entu.book").fetchall() == [(300,)]
    totalum = lowcode_sql.connect_sandbox("totalum")
    assert totalum.sql("SELECT count(*) FROM totalum.product WHERE name = 'Adapter 50% off'").fetchall() == [(1,)]
