"""The HTTP transport of a source's client: httpx and httpcore as they are, over asyncio's own
transports instead of anyio's.

httpcore reaches the network through a *network backend*; on asyncio it picks anyio's, which
wraps every read and write in a cancel scope and answers the pool's per-request question "has an
idle connection been closed by the server?" (``get_extra_info("is_readable")``) by building
anyio's table of socket attributes, a ``getpeername`` system call included, for each idle
connection of the pool on each request. On a full scan that was ~15% of the I/O thread's CPU
(1M flat rows: the I/O thread 2.10 -> 1.89 s, the scan 4.01 -> 3.61 s; benchmarks/README.md,
issue 15 item 3, sixth pass). ``AsyncioBackend`` is the same contract (httpcore's
``AsyncNetworkBackend``: connect, read, write, TLS, close) on an ``asyncio.Protocol``: data the
loop received is handed over as it is, a connection that saw the server's EOF says so without a
system call, and the question costs one ``poll`` of the socket otherwise (httpcore's own check).

Everything above the byte stream is unchanged: httpcore's pool, its HTTP/1.1 state machine (h11),
httpx's redirects, auth, decompression and errors, so every request and answer is byte for byte
what the stock transport sends and reads. Proxies keep httpx's own transports (``over_asyncio``);
an injected transport (the in-process sandbox) is used as it is.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

#: Bytes a connection buffers before it stops reading the socket (httpcore reads a response as
#: it goes; a larger answer waits in the kernel until it does)
_HIGH_WATER = 1 << 20


class _Receiver(asyncio.Protocol):
    """What the loop received on one connection, until the stream reads it."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self._offset = 0  # bytes of chunks[0] read already
        self.buffered = 0
        self.eof = False
        self.error: BaseException | None = None
        self.reading_paused = False
        self.writing_paused = False
        self._data_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    # --- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        _wake(self._data_waiter)

    def eof_received(self) -> bool:
        self.eof = True
        _wake(self._data_waiter)
        return False  # close the transport: httpcore reads b"" and then closes the connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        _wake(self._data_waiter)
        _wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        _wake(self._drain_waiter)

    # --- what the stream waits for ----------------------------------------------------------

    async def data(self, timeout: float | None) -> None:
        """Until there is data or the connection has ended."""
        if self.chunks or self.eof:
            return
        waiter = self._data_waiter = asyncio.get_running_loop().create_future()
        await _wait(waiter, timeout)

    async def drained(self, timeout: float | None) -> None:
        """Until the transport takes more bytes (or the connection has ended)."""
        if not self.writing_paused or self.error is not None or self.eof:
            return
        waiter = self._drain_waiter = asyncio.get_running_loop().create_future()
        await _wait(waiter, timeout)

    def take(self, max_bytes: int) -> bytes:
        # httpcore reads 64 KB at a time and the loop hands over up to 256 KB: a chunk is read from
        # an offset, so each byte is copied once, not once per read that leaves some of it behind
        data = self.chunks[0]
        if self._offset == 0 and len(data) <= max_bytes:
            self.chunks.popleft()
        else:
            end = self._offset + max_bytes
            data, self._offset = data[self._offset:end], end
            if end >= len(self.chunks[0]):
                self.chunks.popleft()
                self._offset = 0
        self.buffered -= len(data)
        if self.reading_paused and self.buffered <= _HIGH_WATER // 2 and self.transport is not None:
            self.reading_paused = False
            self.transport.resume_reading()
        return data


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


async def _wait(waiter: asyncio.Future[None], timeout: float | None) -> None:
    if timeout is None:
        await waiter
    else:
        async with asyncio.timeout(timeout):
            await waiter


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection's byte stream (httpcore's ``AsyncNetworkStream``), plain or TLS."""

    def __init__(self, transport: asyncio.Transport, receiver: _Receiver) -> None:
        self._transport = transport
        self._receiver = receiver
        receiver.transport = transport  # after start_tls: the TLS transport pauses and resumes reading
        sock = transport.get_extra_info("socket")
        self._fd = sock.fileno() if sock is not None else -1
        self._poller: select.poll | None = None
        if self._fd >= 0 and hasattr(select, "poll"):  # (not on Windows: select() there, as httpcore)
            self._poller = select.poll()  # registered once: a check is then one poll(2)
            self._poller.register(self._fd, select.POLLIN)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        r = self._receiver
        try:
            await r.data(timeout)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout("timed out reading from the server") from exc
        if r.chunks:
            return r.take(max_bytes)
        if r.error is not None:
            raise httpcore.ReadError(str(r.error) or type(r.error).__name__) from r.error
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        r = self._receiver
        if r.error is not None or self._transport.is_closing():
            raise httpcore.WriteError(str(r.error) if r.error is not None else "the connection is closed")
        try:
            self._transport.write(buffer)
            await r.drained(timeout)
        except TimeoutError as exc:
            raise httpcore.WriteTimeout("timed out writing to the server") from exc
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        if r.error is not None:
            raise httpcore.WriteError(str(r.error)) from r.error

    async def aclose(self) -> None:
        self._transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(self._transport, self._receiver, ssl_context,
                                       server_hostname=server_hostname, ssl_handshake_timeout=timeout)
        except TimeoutError as exc:
            self._transport.close()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from exc
        except (OSError, ssl.SSLError, ConnectionError) as exc:  # ssl.SSLCertVerificationError included
            self._transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:  # the connection was lost during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return AsyncioStream(tls, self._receiver)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # httpcore asks this of an idle connection before reusing it: readable means the
            # server has closed it (or sent something it should not have); either way not reused
            r = self._receiver
            if r.chunks or r.eof or self._fd < 0:
                return True
            if self._poller is None:
                return bool(select.select([self._fd], [], [], 0)[0])
            return bool(self._poller.poll(0))
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend on asyncio's transports (see the module's docstring)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                # 250 ms between address families, as anyio's connect_tcp (RFC 8305)
                transport, receiver = await loop.create_connection(
                    _Receiver, host, port, happy_eyeballs_delay=0.25,
                    local_addr=(local_address, 0) if local_address else None)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _with_options(AsyncioStream(transport, receiver), socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, receiver = await loop.create_unix_connection(_Receiver, path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _with_options(AsyncioStream(transport, receiver), socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _with_options(stream: AsyncioStream, options: Iterable[Any] | None) -> AsyncioStream:
    # after connecting, as anyio's backend applies them (asyncio sets TCP_NODELAY itself)
    sock: socket.socket | None = stream.get_extra_info("socket")
    for option in options or ():
        if sock is not None:
            sock.setsockopt(*option)
    return stream


def over_asyncio(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """``client`` with its default transport's connection pool, as httpx configured it (TLS context,
    limits), opening its connections through ``AsyncioBackend``. The client is built by httpx
    first, without a transport of ours: httpx only reads the proxy variables (``HTTP(S)_PROXY``,
    ``ALL_PROXY``, ``NO_PROXY``) for a client it builds its own transport for, and mounts a
    transport of its own per proxy; those stay as they are. Should a later httpx or httpcore keep
    these elsewhere, the client is left as it comes (slower, never different;
    ``tests/fetch/test_transport.py`` says so)."""
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = AsyncioBackend()  # read as each connection is opened
    return client
