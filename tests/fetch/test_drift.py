"""Rows shifting under a running offset-paged scan (the boundary check in ``fetch/scan.py``).

Every offset-paged platform's emulator, in-process, holds a table; while a scan runs, a hook inside
the emulator applies one change right before the N-th page request is handled (N = 0: before the
first page; 1: after it; mid-scan; before the last page). For every scenario and point the answer
must be the table before the change, the table after it, or ``InconsistentScan``: never anything
else. Before the boundary check, "delete k at the front, append k at the end" returned neither
(rows present in both states went missing) with the same total, so no guard saw it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyarrow as pa
import pytest
from fetch_fakes import TABLE, TABLE_NOKEY, FakeAPI, ids, offset_scan, rows

import lowcode_sql
from lowcode_sql.errors import InconsistentScan
from lowcode_sql.fetch import ScanStats, iter_pages
from lowcode_sql.fetch.retry import RetryPolicy
from lowcode_sql.sandbox._base import Platform, Request, Response, encode_response
from lowcode_sql.sandbox.alumio import AlumioSandbox
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from lowcode_sql.sandbox.entu import EntuSandbox
from lowcode_sql.sandbox.slingr import SlingrSandbox
from lowcode_sql.sandbox.totalum import TotalumSandbox

N_ROWS, PAGE, K = 40, 8, 3  # 40 rows in pages of 8: 8, then 7 new rows a page: 6 requests

State = list[tuple[int, str]]  # (key number, value), in the platform's scan order


@dataclass
class Target:
    """One offset-paged platform: how to build it, load a state into it and read it back."""

    make: Callable[[], Platform]
    table: str
    key: str
    value: str
    options: dict[str, Any]
    key_text: Callable[[int], str] = str
    descending: bool = False  # the platform's default order is by key, descending (Slingr: id desc)
    load_options: dict[str, Any] = field(default_factory=dict)

    def arrow(self, state: State) -> pa.Table:
        return pa.table({self.key: [self.key_text(k) for k, _ in state], self.value: [v for _, v in state]})

    def rows(self, state: State) -> list[tuple[str, str]]:
        return sorted((self.key_text(k), v) for k, v in state)


def _hex(i: int) -> str:
    return f"{i:024x}"


TARGETS = {
    "coredata": Target(lambda: CoreDataSandbox(sample_data=False), "projects", "id", "title",
                       {"page_size": PAGE}, key_text=lambda i: f"{i:06d}"),
    "entu": Target(lambda: EntuSandbox(sample_data=False), "item", "_id", "title",
                   {"db": "demo", "page_size": PAGE}, key_text=_hex),
    # numeric _offset pages: keyset (id cursor) scans are the default for id order, so turn them off
    "slingr": Target(lambda: SlingrSandbox(sample_data=False), "item", "id", "title",
                     {"entities": ["item"], "page_size": PAGE, "keyset": False}, key_text=_hex, descending=True),
    "alumio": Target(lambda: AlumioSandbox(sample_data=False), "tasks", "identifier", "status",
                     {"page_size": PAGE, "storages": []}, key_text=lambda i: f"task-{i:06d}"),
    "totalum": Target(lambda: TotalumSandbox(sample_data=False), "item", "_id", "title",
                      {"page_size": PAGE}, key_text=_hex),
    "totalum-post": Target(lambda: TotalumSandbox(sample_data=False), "item", "_id", "title",
                           {"page_size": PAGE, "request": "post"}, key_text=_hex),
}


def initial(descending: bool) -> State:
    state = [(1000 + 10 * i, f"v{i}") for i in range(N_ROWS)]  # gaps: room to insert between rows
    return state[::-1] if descending else state


def _new(state: State, n: int, front: bool) -> State:
    """``n`` new rows, in scan order, whose keys place them before (``front``) or after ``state``
    in the scan order (ascending keys, or descending where ``state`` is)."""
    step = -1 if state[0][0] > state[-1][0] else 1
    edge = state[0][0] if front else state[-1][0]
    keys = [edge - step * i for i in range(n, 0, -1)] if front else [edge + step * i for i in range(1, n + 1)]
    return [(k, f"new{k}") for k in keys]


# Each scenario maps the before-state to the after-state, both in the platform's scan order.
SCENARIOS: dict[str, Callable[[State], State]] = {
    "delete front + append end": lambda s: s[K:] + _new(s, K, front=False),
    "insert front + delete end": lambda s: _new(s, K, front=True) + s[:-K],
    "replace at a page boundary": lambda s: [(k, "changed" if i == PAGE - 1 else v) for i, (k, v) in enumerate(s)],
    "replace mid-page": lambda s: [(k, "changed" if i == 2 * PAGE else v) for i, (k, v) in enumerate(s)],
    "delete only": lambda s: s[:5] + s[5 + K:],
    "add only (mid-table)": lambda s: s[:12] + _new(s[:12], K, front=False) + s[12:],
    "add only (at the end)": lambda s: s + _new(s, K, front=False),
}
POINTS = (0, 1, 3, 5)  # the change happens before page request N is handled (6 requests in all)


class ChangeAt:
    """Wraps ``platform.handle`` to apply ``change`` right before the ``at``-th request (counted from
    ``arm()``) is handled. Requests are handled one at a time under the emulator's lock, so every page
    is served entirely before or entirely after the change."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.handle = platform.handle
        self.at: int | None = None
        self.change: Callable[[], None] | None = None
        self.seen = 0
        self.first: bytes = b""  # the first answer after arm(), as JSON text
        platform.handle = self  # type: ignore[method-assign]

    def arm(self, at: int | None, change: Callable[[], None] | None) -> None:
        self.at, self.change, self.seen = at, change, 0

    def __call__(self, request: Request) -> Response:
        if self.seen == self.at and self.change is not None:
            self.change()
        self.seen += 1
        response = self.handle(request)
        if self.seen == 1:
            self.first = encode_response(response)[0]
        return response


@dataclass
class Env:
    target: Target
    platform: Platform
    hook: ChangeAt
    con: lowcode_sql.Connection

    def load(self, state: State) -> None:
        self.platform.load_table(self.target.table, self.target.arrow(state), **self.target.load_options)

    def scan(self, source: str = "s8") -> list[tuple[str, str]]:
        t = self.target
        return sorted(self.con.sql(f"SELECT {t.key}, {t.value} FROM {source}.{t.table}").fetchall())


@pytest.fixture(scope="module", params=list(TARGETS))
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    target = TARGETS[request.param]
    platform = target.make()
    hook = ChangeAt(platform)
    e = Env(target, platform, hook, lowcode_sql.connect())
    e.load(initial(target.descending))
    for concurrency in (1, 8):  # one page at a time, and the default: pages served out of order
        name = f"s{concurrency}"
        e.con.add_source(name, request.param.split("-")[0], sandbox=platform, options=target.options,
                         concurrency=concurrency)
        e.con.catalog.source(name).runtime.retry = RetryPolicy(base_delay=0.01, rng=random.Random(0))
    e.con.tables()  # discovery now, so the hook counts page requests only
    yield e
    e.con.close()


def test_unchanged_table_is_read_whole_with_the_overlap(env: Env) -> None:
    state = initial(env.target.descending)
    env.load(state)
    env.hook.arm(None, None)
    assert env.scan() == env.target.rows(state)
    # the scenarios' "front" is the scan's front: the first page holds the first PAGE rows of ``state``
    key = env.target.key_text
    assert key(state[0][0]).encode() in env.hook.first and key(state[PAGE][0]).encode() not in env.hook.first
    assert env.hook.seen == 1 + -(-(N_ROWS - PAGE) // (PAGE - 1))  # 6 page requests, the overlap included


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_change_during_the_scan_gives_before_after_or_an_error(env: Env, scenario: str) -> None:
    before = initial(env.target.descending)
    after = SCENARIOS[scenario](before)
    outcomes = []
    for concurrency in (1, 8):
        for at in POINTS:
            env.load(before)
            env.hook.arm(at, lambda: env.load(after))
            try:
                got = env.scan(f"s{concurrency}")
            except InconsistentScan as exc:
                assert f"] {env.target.table}: " in str(exc)  # names the table
                outcomes.append((concurrency, at, "error"))
                continue
            which = "before" if got == env.target.rows(before) else "after" if got == env.target.rows(after) else None
            assert which is not None, (
                f"{scenario}, change before request {at}, concurrency {concurrency}: neither state "
                f"({len(got)} rows; missing {sorted(set(env.target.rows(before)) - set(got))[:5]}, "
                f"extra {sorted(set(got) - set(env.target.rows(before)))[:5]})"
            )
            outcomes.append((concurrency, at, which))
    assert {o for c, a, o in outcomes if a == 0} == {"after"}  # changed before the first page: no drift
    if scenario in ("delete front + append end", "insert front + delete end"):
        # the same total before and after: only the boundary check can see these mid-scan
        assert {o for c, a, o in outcomes if a in (1, 3)} == {"error"}, outcomes


# --- Totalum: overlap through pagination.skip --------------------------------------------------------


def _without_skip(platform: TotalumSandbox) -> None:
    """Make the emulator ignore ``pagination[skip]``, as a server without it would."""
    handle = platform.handle

    def ignore(request: Request) -> Response:
        request.query = [(k, v) for k, v in request.query if k != "pagination[skip]"]
        return handle(request)

    platform.handle = ignore  # type: ignore[method-assign]


def _totalum(**options: Any) -> tuple[lowcode_sql.Connection, TotalumSandbox]:
    sb = TotalumSandbox(sample_data=False)
    state = initial(False)
    sb.load_table("item", TARGETS["totalum"].arrow(state))
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options={"page_size": PAGE, **options})
    con.tables()
    return con, sb


def test_totalum_server_ignoring_skip_is_named_with_the_option() -> None:
    con, sb = _totalum()
    _without_skip(sb)
    with pytest.raises(InconsistentScan, match=r"item: .*seems to ignore pagination\[skip\].*drift_check = false"):
        con.sql("SELECT _id FROM tl.item").fetchall()
    # the option returns to plain page numbers (no overlap, no boundary check): the same server works
    con, sb = _totalum(drift_check=False)
    _without_skip(sb)
    sb.reset_stats()
    assert len(con.sql("SELECT _id FROM tl.item").fetchall()) == N_ROWS
    assert [dict(e.query)["pagination[page]"] for e in sb.stats.log] == [str(p) for p in range(N_ROWS // PAGE)]


# --- the engine over the fake API: no total, page numbers, clamps, tables without a key --------------


def _shift_after(api: FakeAPI, first: int, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    """Apply ``change`` to the fake's rows once ``first`` data requests were answered."""
    answered = 0

    def hook(i: int, r: httpx.Request) -> None:
        nonlocal answered
        if answered == first:
            api.rows = change(api.rows)
        answered += 1

    api.hook = hook


def _delete_front_append_end(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return data[K:] + [{"id": 1000 + i, "name": f"new {i}"} for i in range(K)]


@pytest.mark.parametrize("with_total", [True, False])
@pytest.mark.parametrize("table", [TABLE, TABLE_NOKEY], ids=["key", "no key"])
def test_fake_shift_mid_scan_is_inconsistent(make_runtime, with_total: bool, table: Any) -> None:
    api = FakeAPI(rows(40), with_total=with_total)
    _shift_after(api, 2, _delete_front_append_end)
    with pytest.raises(InconsistentScan, match="items: rows moved between pages during the scan: row 18 "):
        ids(iter_pages(make_runtime(api, concurrency=1), table, offset_scan()))


def test_sequential_page_losing_its_boundary_row_is_inconsistent(make_runtime) -> None:
    # no total: the table shrinks below the row the next page starts at, so that page comes back empty
    api = FakeAPI(rows(20), with_total=False)
    _shift_after(api, 1, lambda data: data[:5])
    with pytest.raises(InconsistentScan, match="row 9, the last row of the previous page, is gone"):
        ids(iter_pages(make_runtime(api), TABLE, offset_scan()))


def test_replace_in_place_is_one_state_or_the_other(make_runtime) -> None:
    """Same key, new values: compared by key, the boundary copy from the earlier page is kept."""
    for at in range(4):
        for pos in (9, 15):  # a boundary row (the last of page 1, the first of page 2) and a mid-page row
            api = FakeAPI(rows(40))

            def change(data: list[dict[str, Any]], pos: int = pos) -> list[dict[str, Any]]:
                return [{**r, "name": "changed"} if r["id"] == pos else r for r in data]

            _shift_after(api, at, change)
            got = [r for page in iter_pages(make_runtime(api, concurrency=1), TABLE, offset_scan()) for r in page]
            assert got in (rows(40), change(rows(40)))


def test_page_number_with_skip_overlaps_and_detects(make_runtime) -> None:
    class SkipAPI(FakeAPI):
        def answer(self, request: httpx.Request) -> httpx.Response:
            q = request.url.params
            start = int(q["page"]) * int(q["limit"]) + int(q.get("skip", 0))
            chunk = self.rows[start : start + int(q["limit"])]
            return httpx.Response(200, json={"items": chunk, "total": len(self.rows)})

    scan = offset_scan(page_number=True, skip_param="skip")
    api = SkipAPI(rows(35), page_number=True)
    assert ids(iter_pages(make_runtime(api), TABLE, scan)) == list(range(35))
    got = sorted((r.url.params["page"], r.url.params["limit"], r.url.params.get("skip", "")) for r in api.requests)
    assert got == sorted([("0", "10", ""), ("0", "10", "9"), ("0", "10", "18"), ("0", "8", "27")])
    api = SkipAPI(rows(35), page_number=True)
    _shift_after(api, 1, _delete_front_append_end)
    with pytest.raises(InconsistentScan, match="rows moved between pages"):
        ids(iter_pages(make_runtime(api, concurrency=1), TABLE, scan))


def test_page_number_without_skip_cannot_overlap(make_runtime) -> None:
    api = FakeAPI(rows(35), page_number=True)
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_number=True))) == list(range(35))
    assert sorted(int(r.url.params["page"]) for r in api.requests) == [0, 1, 2, 3]


def test_clamped_pages_overlap_too(make_runtime) -> None:
    api = FakeAPI(rows(50), max_page=7)
    _shift_after(api, 2, _delete_front_append_end)
    with pytest.raises(InconsistentScan, match="rows moved between pages"):
        ids(iter_pages(make_runtime(api, concurrency=1), TABLE, offset_scan(page_size=10)))


def test_one_row_pages_cannot_overlap(make_runtime) -> None:
    api = FakeAPI(rows(5))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_size=1))) == list(range(5))
    assert sorted(int(r.url.params["offset"]) for r in api.requests) == [0, 1, 2, 3, 4]


def test_overlap_off_keeps_the_old_stride(make_runtime) -> None:
    api = FakeAPI(rows(95))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(overlap=False))) == list(range(95))
    assert sorted(int(r.url.params["offset"]) for r in api.requests) == list(range(0, 95, 10))


# --- cost -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [1000, 500, 200])  # CoreData/Slingr, Entu/Alumio, Totalum defaults
def test_overlap_costs_at_most_one_percent_more_rows(make_runtime, page: int) -> None:
    n = 20 * page + 123
    api = FakeAPI(rows(n))
    stats = ScanStats()
    assert len(ids(iter_pages(make_runtime(api), TABLE, offset_scan(page_size=page), stats=stats))) == n
    fetched = sum(len(api.answer(r).json()["items"]) for r in api.requests)
    assert n < fetched <= n * 1.01
    assert fetched - n == len(api.requests) - 1  # exactly one repeated row per page after the first
    assert stats.rows == n  # the repeated rows are not delivered


def test_limit_within_the_first_page_and_count_cost_what_they_did(make_runtime) -> None:
    from lowcode_sql.fetch import fetch_count

    api = FakeAPI(rows(100))
    assert ids(iter_pages(make_runtime(api), TABLE, offset_scan(max_rows=10))) == list(range(10))
    assert [(r.url.params["offset"], r.url.params["limit"]) for r in api.requests] == [("0", "10")]
    api.requests.clear()
    assert fetch_count(make_runtime(api), TABLE, offset_scan()) == 100
    assert [(r.url.params["offset"], r.url.params["limit"]) for r in api.requests] == [("0", "1")]


def test_emulator_limit_and_count_cost_one_request(env: Env) -> None:
    state = initial(env.target.descending)
    env.load(state)
    t = env.target
    for sql, n in ((f"SELECT {t.key} FROM s8.{t.table} LIMIT {PAGE}", PAGE),
                   (f"SELECT count(*) FROM s8.{t.table}", 1)):
        env.hook.arm(None, None)
        assert len(env.con.sql(sql).fetchall()) == n
        assert env.hook.seen == 1, sql


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_totalum_many_to_many_sequential_pages(scenario: str) -> None:
    """The relation endpoint has no total: sequential pages (page 0 + skip), a short page ends them."""
    before = initial(False)
    after = SCENARIOS[scenario](before)
    source = _hex(1)
    titles = {**dict(after), **dict(before)}
    sb = TotalumSandbox(sample_data=False)
    keys = sorted({1, *titles})
    sb.load_table("item", pa.table({"_id": [_hex(k) for k in keys], "title": [titles.get(k, "source") for k in keys]}))
    sb.define_many_to_many("item", "peers", "item", "fans")
    hook = ChangeAt(sb)
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options={"page_size": PAGE})
    con.tables()

    def set_state(state: State) -> None:
        sb.links[("item", "peers")] = [(source, _hex(k)) for k, _ in state]
        for row in sb.tables["item"].rows:
            row["title"] = dict(state).get(int(row["_id"], 16), row["title"])

    def want(state: State) -> list[tuple[str, str]]:
        return sorted((_hex(k), v) for k, v in state)

    outcomes = []
    for at in POINTS:
        set_state(before)
        hook.arm(at, lambda: set_state(after))
        try:
            got = sorted(con.sql(f"SELECT _id, title FROM tl.item__peers WHERE source_id = '{source}'").fetchall())
        except InconsistentScan as exc:
            assert "] item__peers: " in str(exc)
            outcomes.append("error")
            continue
        assert got in (want(before), want(after)), (scenario, at, len(got))
        outcomes.append("before" if got == want(before) else "after")
    assert outcomes[0] == "after"
    if scenario in ("delete front + append end", "insert front + delete end"):
        assert outcomes[1:3] == ["error", "error"], outcomes


def test_explain_counts_the_overlap(env: Env) -> None:
    t = env.target
    text = env.con.explain(f"SELECT {t.key} FROM s8.{t.table}")
    assert f"requests: 1 + ceil((N - {PAGE}) / {PAGE - 1}) for N matching rows" in text, text
