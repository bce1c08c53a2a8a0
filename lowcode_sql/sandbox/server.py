"""A small real HTTP/1.1 server for a sandbox platform, on asyncio streams.

Real sockets matter for what the in-process transport cannot show: connection pooling and
keep-alive, true concurrency, and faults as a client really meets them (a closed socket, a
connection that never answers, a body shorter than the JSON it claims to be). It runs in a daemon
thread with its own event loop, so synchronous tests and other event loops can use it::

    with serve(platform) as server:
        httpx.get(server.url + "/api/things")

Deliberately small (no uvicorn): Content-Length and chunked request bodies, keep-alive, no TLS,
no pipelining guarantees beyond sequential requests on one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from http import HTTPStatus
from types import TracebackType
from typing import Self
from urllib.parse import parse_qsl, unquote, urlsplit

from lowcode_sql.sandbox._base import HOLD_SECONDS, Platform, Request, Response, _Action, encode_response

__all__ = ["RunningServer", "serve"]

_MAX_BODY = 64 * 1024 * 1024  # a sandbox is not a file server; refuse absurd bodies
_START_TIMEOUT = 10.0


class _BadRequest(Exception):
    pass


class RunningServer:
    """A platform served on a real socket; ``url`` is valid once started."""

    def __init__(self, platform: Platform, host: str = "127.0.0.1", port: int = 0) -> None:
        self.platform = platform
        self.host = host
        self.port = port
        self.connections = 0  # accepted so far: lets tests see keep-alive at work
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        if not self.running:
            raise RuntimeError("server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._ready.is_set()

    # -- lifecycle (called from the owning thread) -------------------------------------------

    def start(self) -> Self:
        if self._thread is not None:
            return self
        self._ready.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"sandbox-{self.platform.name or 'platform'}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError("sandbox server did not start in time")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"sandbox server failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and thread.is_alive():
            with contextlib.suppress(RuntimeError):  # loop already closed: the thread is ending
                loop.call_soon_threadsafe(stop.set)
        thread.join(_START_TIMEOUT)
        self._thread = None
        self._loop = None
        self._stop = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the server thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to start(); a daemon thread has nobody else to tell
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # backlog: benchmarks open many connections at once.
        server = await asyncio.start_server(self._on_connect, self.host, self.port, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            # Every connection task closes its own socket when cancelled, so stopping leaves no
            # transport for the garbage collector to warn about.
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await server.wait_closed()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away mid-request: nothing to answer
        except asyncio.CancelledError:
            pass  # server stopping; the socket is closed below
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                parsed = await _read_request(reader)
            except _BadRequest as exc:
                writer.write(_render(Response(400, str(exc).encode(), {"content-type": "text/plain"}), False, False))
                await writer.drain()
                return
            if parsed is None:
                return  # clean EOF between requests
            request, keep_alive = parsed
            result = await self.platform.dispatch(request)
            if result is _Action.RESET:
                return  # close without a byte of answer
            if result is _Action.TIMEOUT:
                # Hold the connection until the client gives up (EOF) or the cap runs out.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(reader.read(), HOLD_SECONDS)
                return
            assert isinstance(result, Response)
            writer.write(_render(result, keep_alive, request.method == "HEAD"))
            await writer.drain()
            if not keep_alive:
                return


async def _read_request(reader: asyncio.StreamReader) -> tuple[Request, bool] | None:
    line = await reader.readline()
    if not line:
        return None
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise _BadRequest("malformed request line")
    method, target, version = parts
    headers: dict[str, str] = {}
    while True:
        raw = await reader.readline()
        if not raw:
            raise asyncio.IncompleteReadError(raw, None)
        text = raw.decode("latin-1").rstrip("\r\n")
        if not text:
            break
        name, sep, value = text.partition(":")
        if not sep:
            raise _BadRequest("malformed header line")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    body = await _read_body(reader, headers)
    connection = headers.get("connection", "").lower()
    keep_alive = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    split = urlsplit(target)
    request = Request(
        method.upper(),
        unquote(split.path) or "/",
        parse_qsl(split.query, keep_blank_values=True),
        headers,
        body,
    )
    return request, keep_alive


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = (await reader.readline()).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise _BadRequest("malformed chunk size") from None
            if size == 0:
                while (await reader.readline()).strip():  # trailers, then the blank line
                    pass
                return b"".join(chunks)
            total += size
            if total > _MAX_BODY:
                raise _BadRequest("request body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)  # CRLF after each chunk
    length = headers.get("content-length")
    if length is None:
        return b""
    try:
        n = int(length)
    except ValueError:
        raise _BadRequest("malformed Content-Length") from None
    if n < 0 or n > _MAX_BODY:
        raise _BadRequest("bad Content-Length")
    return await reader.readexactly(n)


def _render(response: Response, keep_alive: bool, head: bool) -> bytes:
    body, headers = encode_response(response)
    try:
        phrase = HTTPStatus(response.status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [f"HTTP/1.1 {response.status} {phrase}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in {"content-length", "connection"}]
    # Content-Length is always the length of what we send, so a "truncate" fault yields a
    # well-framed response whose JSON is cut, exactly as the fault promises.
    lines.append(f"content-length: {len(body)}")
    lines.append(f"connection: {'keep-alive' if keep_alive else 'close'}")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head_bytes if head else head_bytes + body


def serve(platform: Platform, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start serving ``platform`` in a background thread; stop it with ``.stop()`` or ``with``."""
    return RunningServer(platform, host, port).start()
