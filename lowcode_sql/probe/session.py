"""The probe's connection to one source: every request counted and bounded at the transport.

``Guard`` wraps the transport the source would use (httpx's own, or an emulator's in-process one):
it refuses a request past the bound and any request that is not a read (``GET``, or a query the
probe rendered through the dialect, such as Totalum's ``POST .../crud/query`` or a login), so the
bound holds whatever a check, a retry or a re-login does.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from dialect import Dialect, TableDef
from lowcode_sql.catalog import Catalog, Source
from lowcode_sql.config import Config, SourceConfig
from lowcode_sql.convert.arrow import records_to_batch
from lowcode_sql.errors import RequestRefused
from lowcode_sql.fetch import loop
from lowcode_sql.types import HttpRequest, Page, ScanSpec

__all__ = ["BOUND_SPENT", "Answer", "Guard", "Session"]

_READ_METHODS = frozenset({"GET", "HEAD"})
BOUND_SPENT = "the probe's bound"


class Guard(httpx.AsyncBaseTransport):
    """Counts requests; refuses one past ``limit`` and any non-read the probe did not render."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent: list[tuple[str, str]] = []
        self.reads: set[tuple[str, str]] = set()  # (method, path) of queries rendered as reads
        self._inner: httpx.AsyncBaseTransport | None = None

    def wrap(self, inner: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        return self

    def allow(self, method: str, url: str) -> None:
        self.reads.add((method.upper(), httpx.URL(url).path))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method, path = request.method.upper(), request.url.path
        if len(self.sent) >= self.limit:
            raise RequestRefused(f"{method} {path}: not sent, {BOUND_SPENT} of {self.limit} requests is spent")
        if method not in _READ_METHODS and (method, path) not in self.reads:
            raise RequestRefused(f"{method} {path}: not sent, the probe sends reads only")
        self.sent.append((method, path))
        assert self._inner is not None
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


@dataclass
class Answer:
    """One answer: the request, the raw body, the dialect's page and the records as rows."""

    request: HttpRequest
    body: Any
    page: Page
    rows: list[dict[str, Any]] = field(default_factory=list)
    batch: Any = None

    def values(self, column: str) -> list[Any]:
        return [r.get(column) for r in self.rows]


class Session:
    """One source opened for probing. ``dialect`` renders; it may carry options the probe turns on
    to test them (``with_options``); ``user_dialect`` is the source as configured."""

    def __init__(self, sc: SourceConfig, sandbox: Any = None, *, limit: int = 50) -> None:
        self.guard = Guard(limit)
        self.catalog = Catalog(Config())
        self.source: Source = self.catalog.add(sc, sandbox, wrap_transport=self.guard.wrap)
        self.user_dialect: Dialect = self.source.dialect
        self.dialect: Dialect = self.user_dialect
        self.discovery_warnings: list[str] = []
        login = self.source.runtime.auth.plan.login
        if login is not None:
            self.guard.allow(login.method, self.source.runtime.url(login.path))

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def platform(self) -> str:
        return self.source.config.platform

    @property
    def used(self) -> int:
        return len(self.guard.sent)

    @property
    def left(self) -> int:
        return self.guard.limit - self.used

    def with_options(self, extra: Mapping[str, Any]) -> None:
        """Render with the source's options plus ``extra`` (e.g. an opt-in pushdown to test)."""
        opts = dict(self.user_dialect.options)
        opts.update(extra)
        self.dialect = type(self.user_dialect)(opts)

    def tables(self) -> dict[str, TableDef]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = self.source.tables()
        self.discovery_warnings = [str(w.message) for w in caught]
        return found

    def fetch(self, table: TableDef, spec: ScanSpec, offset: int = 0, size: int = 100, *,
              by_skip: bool = False, convert: bool = True) -> Answer:
        """Render ``spec`` with the probing dialect, send one page request, parse and convert it."""
        scan = self.dialect.render_scan(table, spec)
        req = scan.page_request(offset, size, by_skip=by_skip)
        return self.send(table, spec, req, convert=convert)

    def send(self, table: TableDef, spec: ScanSpec, req: HttpRequest, *, convert: bool = True) -> Answer:
        runtime = self.source.runtime
        if req.method.upper() not in _READ_METHODS:
            # a dialect renders reads only (writes are not in its vocabulary): a query sent by POST/PUT
            self.guard.allow(req.method, runtime.url(req.path))
        body = loop.run(runtime.send(req))
        page = self.dialect.parse_answer(table, req, body)
        answer = Answer(req, body, page)
        if convert and not spec.grouped:
            cols = [c for c in spec.columns if table.has(c)]
            answer.batch = records_to_batch(table, cols, page.records, self.dialect.echo_values(spec))
            answer.rows = answer.batch.to_pylist()
        return answer

    def redact(self, text: str) -> str:
        return self.source.runtime.auth.redact(text)

    def close(self) -> None:
        self.catalog.close()
