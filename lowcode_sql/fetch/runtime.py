"""One configured source at run time: its HTTP client, auth session, budget and retry policy.

The request ladder, each rung one concern::

    send(req)            auth headers; on 401 re-login and replay once
     └ _request(...)     URL, headers, body -> httpx.Request
        └ send_with_retry   backoff, Retry-After, typed errors (retry.py)
           └ budget         concurrency slot + rate token per attempt (budget.py)
              └ client.send (httpx, on the shared I/O loop)
                 └ over_asyncio     httpcore's pool over asyncio's own transports (transport.py)
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from dialect import Dialect, Secret, TableDef
from lowcode_sql import secrets
from lowcode_sql.errors import APIError, AuthError, DialectError, FetchError, LowcodeSQLError
from lowcode_sql.fetch import loop
from lowcode_sql.fetch.auth import AuthSession
from lowcode_sql.fetch.budget import Budget
from lowcode_sql.fetch.cache import ResponseCache, credential_fingerprint
from lowcode_sql.fetch.record import Recorder
from lowcode_sql.fetch.retry import RetryPolicy, decode_json, send_with_retry
from lowcode_sql.fetch.stats import ScanStats
from lowcode_sql.fetch.transport import over_asyncio
from lowcode_sql.requests import HttpRequest
from lowcode_sql.secrets import scrubbed

__all__ = ["SourceRuntime"]

_USER_AGENT = "lowcode-sql/0.1 (+httpx)"
_ssl_context: ssl.SSLContext | None = None


def _shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client of the process: httpx builds a new one per client by
    default (loading the CA bundle, ~50-90 ms of CPU), paid by every source of every connection.
    A context holds settings and CA certificates, no per-connection state, so clients can share
    it. Built as httpx builds its default one (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` honoured), on
    first use: once per process."""
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = httpx.create_ssl_context()
    return _ssl_context


def warm_tls() -> None:
    """Build the process's TLS context now: the command daemon does it once before it forks, so a
    command's first source does not pay it (the daemon is keyed on ``SSL_CERT_FILE``/``SSL_CERT_DIR``)."""
    _shared_ssl_context()


class SourceRuntime:
    """Everything needed to talk to one source; lives on the shared I/O loop (``fetch.loop``).

    The async methods must run on that loop (``loop.run(rt.send(req))`` from sync code): the
    client, locks and semaphores belong to it.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        dialect: Dialect,
        credentials: Mapping[str, Secret],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        concurrency: int = 8,
        rate_limit: float | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        cache_ttl: float = 0.0,
        cache_max_mb: float = 64.0,
        recorder: Recorder | None = None,
    ) -> None:
        self.name = name
        # Relative paths ("api/v2/projects/") are appended to the base, so it must end in '/':
        # "http://h/x" + "api/v2/p/" -> "http://h/x/api/v2/p/", not "http://h/api/v2/p/".
        self.base_url = base_url.rstrip("/") + "/"
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.netloc)
        self.dialect = dialect
        self.concurrency = concurrency
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._rate_limit = rate_limit
        self.budget = Budget(concurrency, rate_limit)
        self.auth = AuthSession(dialect, credentials, sender=self._send_unauthenticated, source=name)
        # opt-in: repeated dashboard queries answered from memory (see fetch/cache.py)
        self.cache = ResponseCache(cache_ttl, int(cache_max_mb * (1 << 20))) if cache_ttl > 0 else None
        self._fingerprint = credential_fingerprint(credentials) if self.cache is not None else ""
        self._transport = transport
        self.recorder = recorder  # writes each exchange, redacted (fetch/record.py)
        self._client: httpx.AsyncClient | None = None
        self._pid = os.getpid()
        loop.register(self)

    def _in_this_process(self) -> None:
        """After a fork, the child's runtime gets a client, budget and login lock of its own loop
        (``fetch.loop``): the parent's are bound to the parent's loop. The parent's client is
        dropped, never closed here: its sockets are the parent's connections too."""
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._client = None
        self.budget = Budget(self.concurrency, self._rate_limit)
        self.auth.forked()
        loop.register(self)

    def __repr__(self) -> str:
        return f"SourceRuntime({self.name!r}, {self.base_url!r}, dialect={type(self.dialect).__name__})"

    # --- sending --------------------------------------------------------------------------------

    def scan_key(self, *parts: str) -> tuple[Any, ...] | None:
        """The response-cache key of a finished scan's batches (``ResponseCache.put_batches``):
        ``parts`` name everything the batches depend on; the credentials' fingerprint is added.
        None: the source has no cache."""
        if self.cache is None:
            return None
        return ("scan", *parts, self._fingerprint)

    async def send(self, req: HttpRequest, *, stats: ScanStats | None = None,
                   fast: Callable[[bytes], Any] | None = None) -> Any:
        """Send ``req`` with auth, budget and retries; return the decoded JSON body (from the
        response cache when the source has one and holds a fresh answer). ``fast``: see
        ``retry.send_with_retry``; a cached body's bytes go through it as well."""
        self._in_this_process()
        if self.cache is None:
            return await self._send(req, stats, fast)
        key = self.cache.key(req, self._fingerprint)
        data = self.cache.get_bytes(key)
        if data is not None:
            if stats is not None:
                stats.add(cache_hits=1)
            got = fast(data) if fast is not None else None
            return got if got is not None else decode_json(data)
        received: list[bytes] = []  # the 2xx body the answer below came from
        body = await self._send(req, stats, fast, received)
        self.cache.put_bytes(key, received[0] if received else orjson.dumps(body))
        return body

    async def _send(self, req: HttpRequest, stats: ScanStats | None,
                    fast: Callable[[bytes], Any] | None = None, received: list[bytes] | None = None) -> Any:
        headers, token = await self.auth.headers(stats)
        try:
            return await self._request(req, headers, stats, fast=fast, received=received)
        except AuthError as exc:
            if exc.status != 401 or not self.auth.can_relogin:
                raise
        # The token expired (or was revoked) server-side: log in again and replay this request
        # once. A second 401 propagates: the credentials themselves are refused.
        self.auth.invalidate(token)
        headers, _ = await self.auth.headers(stats)
        return await self._request(req, headers, stats, fast=fast, received=received)

    async def _send_unauthenticated(self, req: HttpRequest, headers: Mapping[str, str], stats: ScanStats | None) -> Any:
        return await self._request(req, headers, stats, login=True)  # only logins go out without auth

    async def _request(self, req: HttpRequest, auth_headers: Mapping[str, str], stats: ScanStats | None, *,
                       login: bool = False, fast: Callable[[bytes], Any] | None = None,
                       received: list[bytes] | None = None) -> Any:
        client = self._get_client()
        headers = dict(req.headers)
        headers.update(auth_headers)
        request = client.build_request(
            req.method,
            self.url(req.path),
            params=list(req.params) if req.params else None,
            headers=headers,
            json=req.json,
        )

        async def attempt() -> httpx.Response:
            async with self.budget:
                response = await client.send(request)
            _unbind(response)
            if self.recorder is not None:
                self._record(request, response, login)
            return response

        what = f"{req.method} {req.target()}"
        started = time.perf_counter()
        try:
            return await send_with_retry(self.retry, attempt, source=self.name, what=what, stats=stats,
                                         redact=self.auth.redact, fast=fast, received=received)
        finally:
            if stats is not None:
                stats.note_request(time.perf_counter() - started, self.auth.redact(what))

    def _record(self, request: httpx.Request, response: httpx.Response, login: bool) -> None:
        if login:
            # The token a login returns is registered for redaction once the auth session has
            # parsed it, after this exchange is written: learn it now.
            try:
                secrets.register(self.dialect.parse_login(orjson.loads(response.content)).value)
            except Exception:  # a refused login has no token; the recorder masks token keys anyway
                pass
        assert self.recorder is not None
        self.recorder.record(self.name, request, response, self.auth.redact, login=login)

    def url(self, path: str) -> str:
        """The absolute URL of a dialect's path (relative to the base; absolute only on our origin)."""
        if "://" in path:
            parts = urlsplit(path)
            # A "next" link to another host would receive our credentials: refuse it.
            if (parts.scheme, parts.netloc) != self._origin:
                raise DialectError(f"[{self.name}] refusing to send credentials to {parts.scheme}://{parts.netloc}")
            return path
        return self.base_url + path.lstrip("/")

    def _get_client(self) -> httpx.AsyncClient:
        if not loop.in_loop_thread():
            raise RuntimeError("SourceRuntime must run on the lowcode_sql I/O loop: use fetch.loop.run(...)")
        self._in_this_process()
        if self._client is None:
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.timeout,
                limits=limits,
                follow_redirects=True,  # httpx drops Authorization on cross-origin redirects
                headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
                verify=True if self._transport is not None else _shared_ssl_context(),
            )
            # an injected transport (the in-process sandbox) as it is; else httpx's over asyncio
            self._client = client if self._transport is not None else over_asyncio(client)
        return self._client

    # --- discovery ------------------------------------------------------------------------------

    async def discover(self) -> list[TableDef]:
        """Drive the dialect's discovery generator: send each request, feed back its JSON."""
        gen = self.dialect.discover()
        try:
            req = next(gen)
            while True:
                try:
                    body = await self.send(req)
                except FetchError as exc:
                    # the dialect may recover (leave out tables behind an optional listing) or let it rise
                    req = gen.throw(exc)
                    continue
                req = gen.send(body)
        except StopIteration as stop:
            return list(stop.value or [])
        except LowcodeSQLError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # Redacted before the cut (a half secret survives redaction), chained as a clean stand-in.
            error = APIError(f"unexpected answer while discovering tables: {type(exc).__name__}: "
                             f"{self.auth.redact(str(exc))[:200]}", source=self.name)
            cause = scrubbed(exc)
        finally:
            gen.close()
        raise error from cause

    # --- lifecycle ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def close(self) -> None:
        """Close the HTTP client (from any thread). The runtime can be used again afterwards."""
        self._in_this_process()  # a forked child's: the parent's client is dropped, not closed
        if self._client is None:
            return
        if loop.in_loop_thread():
            loop.submit(self.aclose())
        else:
            loop.run(self.aclose())

    def __enter__(self) -> SourceRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_EMPTY = httpx.ByteStream(b"")


def _unbind(response: httpx.Response) -> None:
    """Break the cycle httpx leaves between a read response and its stream (``response.stream`` is
    a ``BoundAsyncStream`` whose ``_response`` is the response: encode/httpx#3733), so the response
    and its body are freed as soon as the scan has decoded it, not at the next full cyclic GC: a
    scan's pages are each ~0.25-1 MB, and dozens of them waited in memory (issue 19, item 4). The
    body is read and the stream closed by ``send`` (no ``stream=True`` here), so nothing reads the
    stream again."""
    response.stream = _EMPTY
