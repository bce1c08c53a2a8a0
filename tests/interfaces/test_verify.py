"""``con.verify`` / ``lowcode-sql verify``: the answer with pushdown against the answer with nothing pushed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import lowcode_sql
from lowcode_sql.cli import main
from lowcode_sql.config import Config
from lowcode_sql.errors import RequestLimitExceeded
from lowcode_sql.fetch.stats import RequestCap
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from lowcode_sql.verify_query import VerifyReport

# a few queries per platform that push filters, sorts, limits, counts or aggregates
QUERIES = {
    "coredata": ["SELECT status, count(*) AS n FROM coredata.projects GROUP BY status",
                 "SELECT count(*) FROM coredata.tasks WHERE title LIKE 'A%'",
                 "SELECT title FROM coredata.tasks WHERE title LIKE 'B%' ORDER BY title LIMIT 4"],
    "entu": ["SELECT name, price FROM entu.book WHERE list_contains(tags__all, 'sci-fi') "
             "ORDER BY price DESC NULLS LAST, name LIMIT 5",
             "SELECT count(*) FROM entu.book WHERE price > 10"],
    "totalum": ["SELECT status, count(*), round(sum(total), 2) FROM totalum.\"order\" GROUP BY status",
                "SELECT * FROM totalum.client ORDER BY _id LIMIT 3"],
    "slingr": ["SELECT name, number_of_employees FROM slingr.companies WHERE is_customer "
               "ORDER BY number_of_employees DESC NULLS LAST, name LIMIT 5",
               "SELECT count(*) FROM slingr.contacts"],
    "alumio": ["SELECT route, count(*) AS failed FROM alumio.tasks WHERE status = 'failed' GROUP BY route",
               "SELECT * FROM alumio.routes LIMIT 2"],
}


@pytest.fixture(scope="module")
def demo() -> Iterator[lowcode_sql.Connection]:
    con = lowcode_sql.demo()
    yield con
    con.close()


@pytest.mark.parametrize("platform", sorted(QUERIES))
def test_pushdown_gives_the_same_answer_on_every_sandbox(demo: lowcode_sql.Connection, platform: str) -> None:
    for sql in QUERIES[platform]:
        report = demo.verify(sql)
        assert isinstance(report, VerifyReport)
        assert report.equal, str(report)
        assert report.rows_pushed == report.rows_unpushed > 0
        assert report.requests_pushed > 0 and report.requests_unpushed > 0
        assert report.ordered == ("ORDER BY" in sql)
        assert str(report).startswith("same answer")


def test_the_unpushed_plan_pushes_nothing(demo: lowcode_sql.Connection) -> None:
    sql = ("SELECT name, number_of_employees FROM slingr.companies WHERE is_customer "
           "ORDER BY number_of_employees DESC LIMIT 5")
    pushed = demo.engine.plan(sql).scans[0].spec
    assert pushed.pushed and pushed.order and pushed.limit == 5
    spec = demo.engine.plan(sql, pushdown=False).scans[0].spec
    table = demo.catalog.source("slingr").tables()["companies"]
    assert not spec.pushed and not spec.order and spec.limit is None and not spec.count_only
    assert set(spec.columns) == {c.name for c in table.columns if not c.filter_only}  # no projection either
    grouped = demo.engine.plan("SELECT status, count(*) FROM coredata.projects GROUP BY status", pushdown=False)
    assert not grouped.scans[0].spec.grouped
    counted = demo.engine.plan("SELECT count(*) FROM coredata.tasks WHERE title LIKE 'A%'", pushdown=False)
    assert not counted.scans[0].spec.count_only and not counted.scans[0].spec.pushed
    assert "LIKE" in counted.sql  # the filter is DuckDB's


def test_an_addressing_filter_is_still_sent_without_pushdown(demo: lowcode_sql.Connection) -> None:
    # a Totalum many-to-many table is read per source record: its source_id is an address, not a filter
    client = demo.sql("SELECT _id FROM totalum.client ORDER BY _id LIMIT 1").fetchall()[0][0]
    sql = f"SELECT count(*) FROM totalum.client__favorites WHERE source_id = '{client}' AND _id <> 'y'"
    spec = demo.engine.plan(sql, pushdown=False).scans[0].spec
    assert [p.column for p, _ in spec.pushed] == ["source_id"]  # type: ignore[attr-defined]
    assert demo.verify(sql).equal


class _TooNarrow(httpx.AsyncBaseTransport):
    """An API that leaves out the first match of a ``title__startswith`` filter (and counts one
    less): a wrong answer the page checks cannot see, since every row it returns does match."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "title__startswith" not in request.url.params or response.status_code != 200:
            return response
        await response.aread()
        body = json.loads(response.content)
        if request.url.params.get("offset") == "0" and body["objects"]:
            body["objects"] = body["objects"][1:]
        body["meta"]["total_count"] -= 1
        return httpx.Response(200, json=body)


class _LyingCoreData(CoreDataSandbox):
    def transport(self) -> Any:
        return _TooNarrow(super().transport())


@pytest.fixture
def lying() -> Iterator[lowcode_sql.Connection]:
    con = lowcode_sql.Connection(Config())
    con.add_source("coredata", "coredata", sandbox=_LyingCoreData())
    yield con
    con.close()


def test_a_row_the_api_left_out_is_shown(lying: lowcode_sql.Connection) -> None:
    report = lying.verify("SELECT id, title FROM coredata.tasks WHERE title LIKE 'A%'")
    assert not report.equal
    assert report.rows_unpushed == report.rows_pushed + 1
    assert report.only_pushed == () and len(report.only_unpushed) == 1
    missing = report.only_unpushed[0]
    assert missing[1].startswith("A")
    text = str(report)
    assert text.startswith("DIFFERENT answers")
    assert "only without pushdown (1):" in text and repr(missing[1]) in text


def test_a_wrong_total_is_shown(lying: lowcode_sql.Connection) -> None:
    report = lying.verify("SELECT count(*) AS n FROM coredata.tasks WHERE title LIKE 'A%'")
    assert not report.equal
    (pushed,), (unpushed,) = report.only_pushed, report.only_unpushed
    assert pushed[0] == unpushed[0] - 1
    assert f"({pushed[0]})" in str(report) and f"({unpushed[0]})" in str(report)


def test_the_same_rows_in_another_order_differ_under_order_by() -> None:
    import pyarrow as pa

    from lowcode_sql.verify_query import _compare  # the comparison alone, on fixed answers

    a, b = pa.table({"x": [1, 2, 3]}), pa.table({"x": [3, 2, 1]})
    assert _compare("q", a, b, ordered=False, requests=(1, 1)).equal
    report = _compare("q", a, b, ordered=True, requests=(1, 1))
    assert not report.equal and report.order_differs and "another order" in str(report)
    # floats as an API and DuckDB add them up; a duplicate row counts
    assert _compare("q", pa.table({"s": [0.1 + 0.2]}), pa.table({"s": [0.3]}), ordered=False, requests=(1, 1)).equal
    twice = _compare("q", pa.table({"x": [1, 1]}), pa.table({"x": [1]}), ordered=False, requests=(1, 1))
    assert not twice.equal and twice.only_pushed == ((1,),) and twice.only_unpushed == ()


def test_the_unpushed_run_stops_at_max_requests() -> None:
    con = lowcode_sql.connect_sandbox("alumio")
    try:
        sandbox = con.sandbox("alumio")
        sql = "SELECT count(*) FROM alumio.tasks WHERE status = 'failed'"
        con.tables()  # discovery before counting
        sandbox.reset_stats()
        with pytest.raises(RequestLimitExceeded, match="more than 1 request "):
            con.verify(sql, max_requests=1)  # pushed: 1 request (the total); unpushed: 720 tasks, 2 pages
        assert sandbox.stats.requests == 2  # one per run: the one past the limit was never sent
        assert con.verify(sql, max_requests=2).equal
    finally:
        con.close()


def test_request_cap_counts_every_attempt() -> None:
    cap = RequestCap(3)
    cap.take()
    cap.take(2)
    with pytest.raises(RequestLimitExceeded):
        cap.take()
    assert cap.used == 3


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_verify_exit_codes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _run(capsys, "verify", "--demo", "SELECT count(*) FROM coredata.tasks WHERE title LIKE 'A%'")
    assert code == 0 and out.startswith("same answer")
    code, out, err = _run(capsys, "verify", "--demo", "--max-requests", "0", "SELECT count(*) FROM coredata.tasks")
    assert code == 1 and out == "" and "RequestLimitExceeded" in err
    import lowcode_sql.cli as cli

    def lying_connect(args: Any) -> lowcode_sql.Connection:
        con = lowcode_sql.Connection(Config())
        con.add_source("coredata", "coredata", sandbox=_LyingCoreData())
        return con

    monkeypatch.setattr(cli, "_connect", lying_connect)
    code, out, err = _run(capsys, "verify", "SELECT title FROM coredata.tasks WHERE title LIKE 'A%'")
    assert code == 1 and out.startswith("DIFFERENT answers") and "only without pushdown (1):" in out and err == ""
