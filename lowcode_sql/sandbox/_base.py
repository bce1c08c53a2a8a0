"""Sandbox framework: the machinery every platform emulator shares.

INTERFACE CONTRACT (the names below are fixed):

* ``Request``/``Response``: plain values. A platform's ``handle()`` is synchronous and pure
  over its in-memory data: it never sleeps, never injects faults, never counts; the framework does.
* ``Platform``: base class of an emulator. ``dispatch()`` is the pipeline shared by every way of
  serving: count -> rate limit (429 + Retry-After) -> injected faults -> latency -> ``handle``.
* ``platform.transport()``: an ``httpx.AsyncBaseTransport`` serving it in-process (fast tests);
  ``platform.sync_transport()`` is the same for ``httpx.Client``.
* ``platform.serve()``: a real HTTP/1.1 server on 127.0.0.1 (context manager with ``.url``).
* ``platform.asgi``: the same pipeline as an ASGI application.

Writing an emulator::

    class MySandbox(Platform):
        name = "mine"

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)          # first: settings, stats, faults, locks
            self.rows: dict[str, list[dict[str, Any]]] = {}   # then the platform's own stores
            if self.sample_data:            # last: the framework never loads data itself
                self.load_sample_data()

        def handle(self, request: Request) -> Response: ...
        def error_response(self, status: int, message: str) -> Response: ...  # the platform's error JSON
        def expire_tokens(self) -> None: ...                                  # if it issues tokens
        def load_table(self, name: str, table: pa.Table, **options: Any) -> None: ...
        def load_sample_data(self) -> None: ...

Strict mode (issue 13): ``Platform(strict=True)`` makes an emulator reject, with the platform's own
error shape (or a 400), any request parameter, filter operator or body key its seed and notes do not
document, instead of ignoring it or answering it the way the emulator guesses. It is how the tests
prove the dialects send only documented things. ``strict=None`` (the default) reads the
environment variable ``LOWCODE_SQL_SANDBOX_STRICT`` ("1": on): the test suite sets it (``tests/conftest.py``),
so every emulator in the tests, also one a subprocess starts, is strict; a user's
``lowcode-sql sandbox serve`` is lenient unless given ``--strict`` (a demo should answer what the real
service would, and the real services accept more than their docs say). Each emulator lists what its
strict mode rejects in its module docstring.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import math
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import parse_qsl

import httpx
import orjson

if TYPE_CHECKING:
    import pyarrow as pa

    from lowcode_sql.sandbox.server import RunningServer

__all__ = [
    "FAULT_KINDS",
    "SAMPLES",
    "SAMPLE_ENV",
    "STRICT_ENV",
    "Fault",
    "Faults",
    "LogEntry",
    "Platform",
    "Request",
    "Response",
    "SandboxLoadWarning",
    "SandboxStats",
    "encode_response",
    "json_response",
]

logger = logging.getLogger(__name__)

#: the environment variable that turns strict mode on where a constructor leaves it open (``strict=None``)
STRICT_ENV = "LOWCODE_SQL_SANDBOX_STRICT"
#: Which sample data ``sample_data=True`` loads when the environment names one: ``business`` (the
#: default: one plausible business, the same on every platform, ``sandbox/_business.py``) or
#: ``traps`` (each emulator's edge cases: case variants, wildcards in values, NULL vs missing,
#: extreme numbers), which ``tests/conftest.py`` selects for the whole suite.
SAMPLE_ENV = "LOWCODE_SQL_SANDBOX_SAMPLE"
SAMPLES = ("business", "traps")

FAULT_KINDS = frozenset({"status", "timeout", "reset", "truncate", "expire_token"})

# How long a "timeout" fault holds a connection when nothing else ends it first: long enough for
# any sane client timeout to fire, short enough that a forgotten connection does not live forever.
HOLD_SECONDS = 60.0


# --------------------------------------------------------------------------------------------
# Plain values
# --------------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: list[tuple[str, str]]  # percent-decoded, in order, repeated keys kept
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter."""
        for k, v in reversed(self.query):
            if k == name:
                return v
        return default

    def args(self, name: str) -> list[str]:
        """Every value of a (repeatable) query parameter, in order."""
        return [v for k, v in self.query if k == name]

    def json(self) -> Any:
        """The body decoded as JSON, or None when it is empty.

        Malformed JSON raises ``ValueError``: a platform that wants a 400 rather than the
        framework's 500 catches it.
        """
        if not self.body.strip():
            return None
        return orjson.loads(self.body)

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower(), default)


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable object, or raw bytes (None: empty body)
    headers: dict[str, str] = field(default_factory=dict)


class SandboxLoadWarning(UserWarning):
    """``load_table`` had to change values the way the real platform would store them (an integer
    beyond 2**53 where the platform keeps numbers as doubles): what SQL reads back differs."""


def warn_beyond_double(platform: str, table: str, column: str, values: Iterable[Any]) -> None:
    """Warn when integers of ``column`` cannot survive the platform's doubles (2**53 and beyond)."""
    big = next((v for v in values if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53), None)
    if big is not None:
        import warnings

        warnings.warn(f"{platform} stores numbers as doubles: {table}.{column} has integers beyond 2**53 "
                      f"(e.g. {big}) that come back rounded (load them as strings to keep every digit)",
                      SandboxLoadWarning, stacklevel=3)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, obj, dict(headers or {}))


def encode_response(response: Response) -> tuple[bytes, dict[str, str]]:
    """The body bytes and headers to send for a response (without Content-Length).

    Bytes pass through untouched; ``str`` becomes UTF-8 text; anything else is JSON. orjson is
    tried first for speed, and stdlib json with ``default=str`` catches what orjson refuses
    (Decimal, non-string keys) so an emulator never 500s over serialisation.
    """
    headers = dict(response.headers)
    body = response.body
    if body is None:
        return b"", headers
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), headers
    if isinstance(body, str):
        _default_header(headers, "content-type", "text/plain; charset=utf-8")
        return body.encode(), headers
    try:
        data = orjson.dumps(body)
    except TypeError:
        data = json.dumps(body, default=str, separators=(",", ":")).encode()
    _default_header(headers, "content-type", "application/json")
    return data, headers


def _default_header(headers: dict[str, str], name: str, value: str) -> None:
    if not any(k.lower() == name for k in headers):
        headers[name] = value


def _seconds_header(seconds: float) -> str:
    # Retry-After is whole seconds in HTTP; fractions are allowed here only so fast tests can
    # ask for 0.01 s back-offs (our fetch layer parses floats).
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


class _Action(enum.Enum):
    """A transport-level outcome that is not an HTTP response."""

    RESET = "reset"  # close the connection without answering
    TIMEOUT = "timeout"  # never answer


# --------------------------------------------------------------------------------------------
# Stats
# --------------------------------------------------------------------------------------------


@dataclass
class LogEntry:
    method: str
    path: str
    query: list[tuple[str, str]]
    status: int | None = None  # None while in flight or cancelled; 0 for a reset/timeout fault


@dataclass
class SandboxStats:
    """What the sandbox served: tests and benchmarks assert request economy on it."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_path: Counter[str] = field(default_factory=Counter)
    log: list[LogEntry] = field(default_factory=list)  # in arrival order
    in_flight: int = 0
    max_in_flight: int = 0

    def count(self, path: str | None = None, *, method: str | None = None) -> int:
        """Requests whose path matches the regex ``path`` (searched) and, if given, ``method``."""
        pattern = re.compile(path) if path is not None else None
        return sum(
            1
            for e in self.log
            if (pattern is None or pattern.search(e.path)) and (method is None or e.method == method.upper())
        )

    def clear(self) -> None:
        # In place, so a test holding ``platform.stats`` keeps seeing the live object; in-flight
        # requests are still running, so their count survives.
        self.requests = 0
        self.by_status.clear()
        self.by_path.clear()
        self.log.clear()
        self.max_in_flight = self.in_flight


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    path: re.Pattern[str]
    times: int | None = 1  # None: fire forever
    after: int = 0
    status: int = 503
    retry_after: float | None = None
    message: str | None = None
    seen: int = 0  # matching requests so far
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class Faults:
    """The faults armed on a platform; the first one that fires for a request wins."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        *,
        path: str = ".*",
        times: int | None = 1,
        after: int = 0,
        status: int = 503,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> Fault:
        """Arm a fault.

        Args:
            kind: ``status`` | ``timeout`` | ``reset`` | ``truncate`` | ``expire_token``.
            path: regex searched in the request path.
            times: how many times it fires (None: every time).
            after: how many matching requests pass untouched before it fires.
            status, retry_after, message: the answer of a ``status`` fault.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        fault = Fault(kind, re.compile(path), times, after, status, retry_after, message)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        return sum(not f.exhausted for f in self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def _fire(self, path: str) -> Fault | None:
        """The fault for this request, if any (caller holds the lock)."""
        for fault in self._faults:
            if fault.exhausted or not fault.path.search(path):
                continue
            fault.seen += 1
            if fault.seen > fault.after:
                fault.fired += 1
                return fault
        return None


# --------------------------------------------------------------------------------------------
# Platform
# --------------------------------------------------------------------------------------------


class Platform(ABC):
    """Base class of an emulated platform.

    Subclasses call ``super().__init__(**kw)`` first, then build their own data stores, and load
    sample data themselves at the very end (``if self.sample_data: self.load_sample_data()``),
    because only they know when their stores are ready.

    ``latency``, ``rate_limit`` and ``burst`` are plain attributes and may be changed at runtime.
    With ``latency_hides_work`` (off by default) the latency counts from a request's arrival and
    the answer is built meanwhile, as on a server with workers to spare; otherwise the answer is
    built after it, so requests arriving together also queue for this one process's handler.
    """

    name: ClassVar[str] = ""
    #: The credentials the emulator accepts out of the box, keyed by the dialect's credential names:
    #: what ``lowcode_sql.demo()``, sandbox sources (``catalog.sandbox_credentials``) and
    #: ``lowcode-sql sandbox serve`` use. Every sandbox defines it; ``{}`` means none are needed.
    DEMO_CREDENTIALS: ClassVar[dict[str, str]] = {}
    #: The source options a sandbox source starts from (the user's own options override them).
    #: Read it on an instance: a sandbox whose options depend on its data computes it with a
    #: property (Slingr lists its entities and field types); the others set a class attribute.
    DEMO_OPTIONS: Mapping[str, Any] = {}
    #: Named switches that make the emulator answer the way the real service plausibly may where
    #: its docs leave a fact open (issue 13 "an assumption matrix"): name -> the behaviour, and the
    #: assumption it tests. Off by default; the default answers follow the seed. Each emulator
    #: documents its own in its module docstring.
    VARIANTS: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate_limit: float | None = None,
        burst: int = 20,
        sample_data: bool | str = True,
        seed: int = 0,
        variants: Iterable[str] = (),
        strict: bool | None = None,
    ) -> None:
        #: reject what the seed does not document (see "Strict mode" above)
        self.strict = strict if strict is not None else os.environ.get(STRICT_ENV, "") not in ("", "0")
        chosen = frozenset(variants)
        unknown = sorted(chosen - set(self.VARIANTS))
        if unknown:
            known = ", ".join(sorted(self.VARIANTS)) or "none"
            raise ValueError(f"{self.name or type(self).__name__}: unknown variant {unknown[0]!r} (known: {known})")
        #: the active variants (see ``VARIANTS``); read with ``variant(name)``
        self.variants = chosen
        self.latency = latency
        self.latency_hides_work = False
        self.rate_limit = rate_limit  # requests per second; None: unlimited
        self.burst = burst
        #: the sample loaded at start: "business", "traps" or None (``sample_data=False``)
        self.sample = _sample_name(sample_data)
        self.sample_data = self.sample is not None
        self.seed = seed
        # Replaceable so rate-limit tests can drive time by hand.
        self.clock: Callable[[], float] = time.monotonic
        # Two locks: one short-lived for the counters, one around handle() because platform data
        # is plain Python and the real server thread and in-process clients may hit it at once.
        self._lock = threading.Lock()
        self._handle_lock = threading.Lock()
        self.stats = SandboxStats()
        self.faults = Faults(self._lock)
        self._tokens = float(burst)
        self._refilled_at: float | None = None

    def variant(self, name: str) -> bool:
        """Whether the variant ``name`` is on (a name the emulator does not declare is a bug)."""
        if name not in self.VARIANTS:
            raise KeyError(f"{type(self).__name__} declares no variant {name!r}")
        return name in self.variants

    # -- hooks for subclasses ----------------------------------------------------------------

    def start(self) -> Self:
        """Optional hook (e.g. background tasks); returns self for chaining."""
        return self

    @abstractmethod
    def handle(self, request: Request) -> Response:
        """The platform's own behaviour for one request."""

    def load_table(self, name: str, table: pa.Table, **options: Any) -> None:
        """Replace (or create) a table of the emulated platform with the rows of ``table``."""
        raise NotImplementedError(f"{type(self).__name__} cannot load tables")

    def load_sample_data(self) -> None:
        """Load the deterministic sample data named by ``self.sample`` (seeded by ``self.seed``)."""

    def error_response(self, status: int, message: str) -> Response:
        """An error in the platform's own JSON shape (used by the framework for 429 etc.)."""
        return json_response({"error": message}, status)

    def expire_tokens(self) -> None:
        """Invalidate every issued token (platforms with token auth override this)."""

    # -- bookkeeping -------------------------------------------------------------------------

    def reset_stats(self) -> None:
        with self._lock:
            self.stats.clear()

    def _take_token(self) -> int | None:
        """Token bucket: None if the request may proceed, else the Retry-After seconds."""
        rate = self.rate_limit
        if rate is None or rate <= 0:
            return None
        now = self.clock()
        refill = 0.0 if self._refilled_at is None else (now - self._refilled_at) * rate
        # capped by the burst as it is now: a burst lowered at runtime holds from the next request
        self._tokens = min(float(self.burst), self._tokens + refill)
        self._refilled_at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self._tokens) / rate))

    # -- the pipeline ------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response | _Action:
        """count -> rate limit -> faults -> latency -> handle; shared by every way of serving."""
        entry = LogEntry(request.method, request.path, list(request.query))
        stats = self.stats
        with self._lock:
            stats.requests += 1
            stats.by_path[request.path] += 1
            stats.log.append(entry)
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            retry_after = self._take_token()
            # A throttled request never reached the platform, so it must not use up a fault.
            fault = self.faults._fire(request.path) if retry_after is None else None
        result: Response | _Action | None = None
        arrived = time.monotonic()
        try:
            result = await self._pipeline(request, retry_after, fault, arrived)
            return result
        finally:
            with self._lock:
                stats.in_flight -= 1
                if result is not None:
                    entry.status = result.status if isinstance(result, Response) else 0
                    stats.by_status[entry.status] += 1

    async def _pipeline(self, request: Request, retry_after: int | None, fault: Fault | None,
                        arrived: float) -> Response | _Action:
        if retry_after is not None:
            response = self.error_response(429, "rate limit exceeded")
            response.headers["Retry-After"] = str(retry_after)
            return response
        if fault is not None:
            if fault.kind == "status":
                response = self.error_response(fault.status, fault.message or _phrase(fault.status))
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = _seconds_header(fault.retry_after)
                return response
            if fault.kind == "reset":
                return _Action.RESET
            if fault.kind == "timeout":
                return _Action.TIMEOUT
            if fault.kind == "expire_token":
                with self._handle_lock:
                    self.expire_tokens()
        hides = self.latency_hides_work
        if self.latency > 0 and not hides:
            # Awaited, not time.sleep: concurrent requests must overlap like on a real server.
            await asyncio.sleep(self.latency)
        response = self._call_handle(request)
        if fault is not None and fault.kind == "truncate":
            body, headers = encode_response(response)
            response = Response(response.status, body[: len(body) // 2], headers)
        if hides and self.latency > 0:
            await asyncio.sleep(max(0.0, self.latency - (time.monotonic() - arrived)))
        return response

    def _call_handle(self, request: Request) -> Response:
        try:
            with self._handle_lock:
                response = self.handle(request)
            if not isinstance(response, Response):
                raise TypeError(f"handle() returned {type(response).__name__}, not Response")
            return response
        except Exception as exc:
            # An emulator bug must look like a server error to the client, not kill the server.
            logger.exception("sandbox %s: handle() failed for %s %s", self.name, request.method, request.path)
            return self.error_response(500, f"internal error: {type(exc).__name__}: {exc}")

    # -- ways of serving ---------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport: ``httpx.AsyncClient(transport=p.transport(), base_url=...)``."""
        return _AsyncTransport(self)

    def sync_transport(self) -> httpx.BaseTransport:
        """The same for ``httpx.Client``; each request runs in a fresh event loop."""
        return _SyncTransport(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
        """Start a real HTTP/1.1 server in a background thread (use as a context manager)."""
        from lowcode_sql.sandbox.server import serve

        return serve(self, host=host, port=port)

    async def asgi(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        """The pipeline as an ASGI 3 application (HTTP; lifespan is acknowledged)."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            raise RuntimeError(f"sandbox ASGI app serves HTTP only, not {scope['type']!r}")
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        request = Request(
            scope["method"],
            scope["path"],  # ASGI paths are already percent-decoded
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
            {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])},
            b"".join(chunks),
        )
        result = await self.dispatch(request)
        if result is _Action.TIMEOUT:
            # Hold until the server cancels us (client gone, shutdown) or the cap, then drop it.
            await asyncio.sleep(HOLD_SECONDS)
            result = _Action.RESET
        if result is _Action.RESET:
            # ASGI has no "close without answering"; raising is the nearest: servers drop or 500.
            raise ConnectionResetError("sandbox fault: connection reset")
        assert isinstance(result, Response)
        body, headers = encode_response(result)
        raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw_headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": result.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


# --------------------------------------------------------------------------------------------
# In-process httpx transports
# --------------------------------------------------------------------------------------------


def _from_httpx(request: httpx.Request, body: bytes) -> Request:
    return Request(
        request.method,
        request.url.path,  # httpx gives it percent-decoded
        parse_qsl(request.url.query.decode(), keep_blank_values=True),
        {k.lower(): v for k, v in request.headers.items()},
        body,
    )


def _to_httpx(result: Response | _Action, request: httpx.Request) -> httpx.Response:
    # The in-process transport does not wait out the client's timeout: the exception the client
    # would eventually see is raised at once, which keeps fault tests fast.
    if result is _Action.RESET:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    if result is _Action.TIMEOUT:
        raise httpx.ReadTimeout("sandbox fault: timed out", request=request)
    assert isinstance(result, Response)
    body, headers = encode_response(result)
    # Content-Length always matches the body we actually send (also for a truncated one).
    headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    headers["content-length"] = str(len(body))
    return httpx.Response(result.status, headers=headers, content=body, request=request)


class _AsyncTransport(httpx.AsyncBaseTransport):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        result = await self.platform.dispatch(_from_httpx(request, body))
        return _to_httpx(result, request)


class _SyncTransport(httpx.BaseTransport):
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        result = asyncio.run(self.platform.dispatch(_from_httpx(request, body)))
        return _to_httpx(result, request)


def _sample_name(sample_data: bool | str) -> str | None:
    """``sample_data`` as the name of a sample: True is ``$LOWCODE_SQL_SANDBOX_SAMPLE`` or "business"."""
    if sample_data is False:
        return None
    name = (os.environ.get(SAMPLE_ENV) or "business") if sample_data is True else sample_data
    if name not in SAMPLES:
        raise ValueError(f"unknown sample data {name!r} (known: {', '.join(SAMPLES)})")
    return name
