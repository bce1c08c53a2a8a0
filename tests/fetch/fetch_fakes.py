"""Fakes for the fetch tests: a paged JSON API behind ``httpx.MockTransport`` and a dialect."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from dialect import AuthPlan, Dialect, Discovery, Secret, TableDef, Token
from lowcode_sql.types import CursorPaging, Exactness, HttpRequest, OffsetPaging, Page, ScanRequest

BASE = "http://api.test/x"  # a base with a path and no trailing slash: the join must keep "/x"
API_KEY = "sk-live-VERYSECRET123"
PASSWORD = "hunter2-password"

Hook = Callable[[int, httpx.Request], "httpx.Response | Awaitable[httpx.Response | None] | None"]


class FakeDialect(Dialect):
    """A minimal dialect: API-key header, or a login exchange for a bearer token."""

    name = ""  # unregistered: tests must not leak into the dialect registry

    def __init__(self, *, login: bool = False, refresh_margin: float = 60.0) -> None:
        super().__init__()
        self.login = login
        self.refresh_margin = refresh_margin

    def auth(self, credentials: Mapping[str, Secret]) -> AuthPlan:
        if self.login:
            return AuthPlan(
                headers=(("Authorization", "Bearer {token}"),),
                login=HttpRequest("POST", "auth/login", json={"user": "ana"}),
                login_secret_headers=(("X-Client-Secret", credentials["client_secret"]),),
                login_secret_json={"password": credentials["password"]},
                refresh_margin=self.refresh_margin,
            )
        return AuthPlan(headers=(("X-Api-Key", credentials["api_key"]),))

    def parse_login(self, body: Any) -> Token:
        return Token(body["token"], body.get("expires_at"))

    def discover(self) -> Discovery:
        names = yield HttpRequest("GET", "meta/tables")
        tables = []
        for n in names["tables"]:
            detail = yield HttpRequest("GET", f"meta/tables/{n}")
            tables.append(TableDef(n, (), doc=detail["doc"]))
        return tables

    def classify(self, table: TableDef, conjuncts: Any) -> list[Exactness]:
        return [Exactness.LOCAL for _ in conjuncts]

    def render_scan(self, table: TableDef, spec: Any) -> ScanRequest:
        raise NotImplementedError  # the tests build ScanRequests directly

    def parse_page(self, table: TableDef, body: Any) -> Page:
        return Page(body["items"], body.get("total"), body.get("next"))


@dataclass
class FakeAPI:
    """``GET /x/api/items`` over ``rows``: offset/limit (or page/limit, or an ``after`` cursor).

    ``max_page`` clamps the page size; ``hook(index, request)`` may answer (or raise) first;
    ``tokens`` (when set) are the bearer tokens currently accepted.
    """

    rows: list[dict[str, Any]]
    with_total: bool = True
    max_page: int | None = None
    page_number: bool = False
    latency: float | Callable[[httpx.Request], float] = 0.0
    hook: Hook | None = None
    tokens: set[str] | None = None
    token_ttl: float | None = None
    requests: list[httpx.Request] = field(default_factory=list)
    logins: int = 0
    in_flight: int = 0
    peak: int = 0

    def data_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/items")]

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        index = len(self.requests)
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            delay = self.latency(request) if callable(self.latency) else self.latency
            if delay:
                await asyncio.sleep(delay)
            if self.hook is not None:
                answer = self.hook(index, request)
                if asyncio.iscoroutine(answer):
                    answer = await answer
                if answer is not None:
                    return answer
            return self.answer(request)
        finally:
            self.in_flight -= 1

    def answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/x/auth/login":
            self.logins += 1
            token = f"tok-{self.logins}"
            if self.tokens is not None:
                self.tokens.add(token)
            body: dict[str, Any] = {"token": token}
            if self.token_ttl is not None:
                import time

                body["expires_at"] = time.time() + self.token_ttl
            return httpx.Response(200, json=body)
        if self.tokens is not None:
            auth = request.headers.get("authorization", "")
            if auth.removeprefix("Bearer ") not in self.tokens:
                return httpx.Response(401, json={"error": {"message": "token expired or invalid"}})
        if path != "/x/api/items":
            return httpx.Response(404, json={"detail": f"no route {path}"})
        q = request.url.params
        limit = int(q["limit"])
        if self.max_page is not None:
            limit = min(limit, self.max_page)
        if "after" in q or ("offset" not in q and "page" not in q):
            start = int(q.get("after", 0))
            chunk = self.rows[start : start + limit]
            end = start + len(chunk)
            nxt = end if end < len(self.rows) else None
            body = {"items": chunk, "next": nxt}
        else:
            start = int(q["page"]) * limit if self.page_number else int(q["offset"])
            body = {"items": self.rows[start : start + limit]}
        if self.with_total:
            body["total"] = len(self.rows)
        return httpx.Response(200, json=body)


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"row {i}"} for i in range(n)]


def ids(pages: Any) -> list[int]:
    return [r["id"] for page in pages for r in page]


def offset_scan(page_size: int = 10, **kw: Any) -> ScanRequest:
    names = ("page", "limit") if kw.get("page_number") else ("offset", "limit")
    return ScanRequest(HttpRequest("GET", "api/items"), OffsetPaging(*names, page_size=page_size, **kw))


def cursor_scan(page_size: int = 10, **kw: Any) -> ScanRequest:
    return ScanRequest(HttpRequest("GET", "api/items"), CursorPaging("after", "limit", page_size=page_size, **kw))


TABLE = TableDef("items", (), key="id")
TABLE_NOKEY = TableDef("items", ())


class Sleeper:
    """An injected sleep that records what was asked and advances a fake clock instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def clock(self) -> float:
        return self.now
