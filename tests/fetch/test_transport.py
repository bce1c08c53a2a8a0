"""httpcore over asyncio's transports (``fetch/transport.py``): what httpx reads through it is what it
reads through its stock transport, for the things a connection can do to a client.

Each test runs a raw HTTP/1.1 server (``asyncio.start_server`` on 127.0.0.1, written byte by byte)
and an ``httpx.AsyncClient`` on ``http_transport`` in one event loop."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from lowcode_sql.fetch.transport import AsyncioBackend, over_asyncio
from tests.certs import self_signed

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
LIMITS = httpx.Limits(max_connections=4, max_keepalive_connections=4)


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The request line and the body (by Content-Length) of one request; b"" at the end of the stream."""
    head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
    if not head:
        return b"", b""
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head.split(b"\r\n", 1)[0], await reader.readexactly(length)


def _answer(body: bytes, *extra: bytes) -> bytes:
    return b"\r\n".join([b"HTTP/1.1 200 OK", b"Content-Type: application/json",
                         b"Content-Length: %d" % len(body), *extra, b"", body])


def _run(handler: Handler, client_side: Callable[[str, dict[str, Any]], Awaitable[None]], *,
         tls: ssl.SSLContext | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {"connections": 0}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state["connections"] += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
        port = server.sockets[0].getsockname()[1]
        try:
            await client_side(f"{'https' if tls else 'http'}://{'localhost' if tls else '127.0.0.1'}:{port}", state)
        finally:
            server.close()

    asyncio.run(main())
    return state


def _client(url: str, **kw: Any) -> httpx.AsyncClient:
    ctx = kw.pop("ssl_context", None) or httpx.create_ssl_context()
    return over_asyncio(httpx.AsyncClient(base_url=url, verify=ctx, limits=LIMITS, **kw))


def test_the_pool_sends_through_the_asyncio_backend() -> None:
    # the speed of a scan depends on it: should httpx move its pool, this says so
    ctx = httpx.create_ssl_context()
    pool = over_asyncio(httpx.AsyncClient(verify=ctx, limits=LIMITS))._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, AsyncioBackend)
    assert pool._ssl_context is ctx and pool._max_connections == LIMITS.max_connections


def test_a_proxy_named_in_the_environment_is_still_used(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx reads HTTP(S)_PROXY / ALL_PROXY / NO_PROXY only for a client it builds its own transport
    # for: a source's client behind a proxy must keep going through it
    from dialect.coredata import CoreData
    from lowcode_sql.fetch.runtime import SourceRuntime
    from lowcode_sql.secrets import Secret

    seen: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line, _ = await _read_request(reader)
        seen.append(line)
        writer.write(_answer(b'{"via":"proxy"}'))
        await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        monkeypatch.setenv("HTTP_PROXY", url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        rt = SourceRuntime("cd", "http://api.example.invalid/", CoreData(), {"user": Secret("u"), "key": Secret("k")})
        # (the runtime's client belongs on the shared loop; this test drives one of its own)
        monkeypatch.setattr("lowcode_sql.fetch.loop.in_loop_thread", lambda: True)
        client = rt._get_client()
        try:
            r = await client.get("http://api.example.invalid/api/v2/tasks/")
            assert r.json() == {"via": "proxy"}
        finally:
            await client.aclose()

    _run(proxy, client_side)
    assert seen == [b"GET http://api.example.invalid/api/v2/tasks/ HTTP/1.1"]  # absolute form: a proxy request


def test_a_source_client_uses_it_unless_a_transport_is_given() -> None:
    from dialect.coredata import CoreData
    from lowcode_sql.fetch import loop
    from lowcode_sql.fetch.runtime import SourceRuntime
    from lowcode_sql.secrets import Secret

    async def backends() -> list[Any]:
        out = []
        for transport in (None, httpx.MockTransport(lambda r: httpx.Response(200))):
            rt = SourceRuntime("cd", "http://127.0.0.1:9/", CoreData(), {"user": Secret("u"), "key": Secret("k")},
                               transport=transport)
            client = rt._get_client()
            pool = getattr(client._transport, "_pool", None)
            out.append(type(getattr(pool, "_network_backend", None)))
            await rt.aclose()
        return out

    assert loop.run(backends()) == [AsyncioBackend, type(None)]


def test_keep_alive_chunked_and_large_answers() -> None:
    big = b"[" + b",".join(b'{"n":%d}' % i for i in range(400_000)) + b"]"  # ~4.4 MB: reading pauses

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, _ = await _read_request(reader)
            if not line:
                return
            if b"/chunked" in line:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                for part in (b'{"a":', b'"b"', b"}"):
                    writer.write(b"%x\r\n%s\r\n" % (len(part), part))
                writer.write(b"0\r\n\r\n")
            elif b"/big" in line:
                writer.write(_answer(big))
            else:
                writer.write(_answer(b'{"ok":true}'))
            await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            for _ in range(3):
                assert (await client.get("/small")).json() == {"ok": True}
            assert (await client.get("/chunked")).json() == {"a": "b"}
            r = await client.get("/big")
            assert r.content == big
            assert (await client.get("/small")).json() == {"ok": True}
        assert state["connections"] == 1  # every request on the one kept-alive connection

    _run(handler, client_side)


def test_an_answer_without_a_length_ends_where_the_server_closes() -> None:
    body = b'{"rows":[' + b",".join(b"%d" % i for i in range(50_000)) + b"]}"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
        for at in range(0, len(body), 7_000):
            writer.write(body[at:at + 7_000])
            await writer.drain()
        writer.close()  # the end of the body

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            assert (await client.get("/")).content == body
            assert (await client.get("/")).content == body  # on a new connection
        assert state["connections"] == 2

    _run(handler, client_side)


def test_a_compressed_answer_is_read_decompressed() -> None:
    # real APIs gzip their JSON (the emulators do not): httpx decodes it above the byte stream
    import gzip

    body = b'{"rows":[' + b",".join(b'"row %d"' % i for i in range(20_000)) + b"]}"

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += await reader.readuntil(b"\r\n")
        assert b"gzip" in head.lower()  # httpx asks for it
        writer.write(_answer(gzip.compress(body), b"Content-Encoding: gzip"))
        await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            r = await client.get("/")
            assert r.content == body and int(r.headers["content-length"]) < len(body) // 2  # (sent compressed)

    _run(handler, client_side)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    # the server answers and then closes without saying so (no "Connection: close"): the pool must
    # see it (get_extra_info("is_readable")) and open a new connection, not fail the next request
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(b'{"ok":1}'))
        await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            for _ in range(4):
                assert (await client.get("/")).json() == {"ok": 1}
                await asyncio.sleep(0.05)  # the FIN arrives; the loop may not have read it yet
        assert state["connections"] == 4

    _run(handler, client_side)


@pytest.mark.parametrize("poll", [True, False], ids=["poll", "select"])
def test_an_idle_connection_is_readable_before_the_loop_has_read_it(poll: bool,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the server's FIN (or stray bytes) may sit in the socket before the loop's next turn: the pool's
    # question is then answered by the socket itself (poll; select where there is no poll)
    import select
    import socket

    from lowcode_sql.fetch.transport import AsyncioStream, _Receiver

    if not poll:
        monkeypatch.delattr(select, "poll")

    async def main() -> list[bool]:
        ours, theirs = socket.socketpair()
        transport, receiver = await asyncio.get_running_loop().create_connection(_Receiver, sock=ours)
        stream = AsyncioStream(transport, receiver)  # type: ignore[arg-type]
        before = stream.get_extra_info("is_readable")
        theirs.close()  # no await since: the loop has not seen it
        after = stream.get_extra_info("is_readable")
        await stream.aclose()
        return [before, after]

    assert asyncio.run(main()) == [False, True]


def test_a_large_request_body_waits_for_a_slow_reader() -> None:
    payload = {"rows": ["x" * 100] * 40_000}  # ~4 MB: the transport's buffer fills, write() waits

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
                          if k.lower() == b"content-length"))
        got = 0
        while got < length:
            got += len(await reader.read(65536))
            await asyncio.sleep(0.001)
        writer.write(_answer(b'{"received":%d}' % got))
        await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            r = await client.post("/", json=payload)
            assert r.json()["received"] == len(httpx.Request("POST", url, json=payload).content)

    _run(handler, client_side)


def test_timeouts_and_refused_connections_are_httpx_errors() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)  # never answers in time

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url, timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/")
        async with _client("http://127.0.0.1:9", timeout=2) as client:  # nothing listens on port 9
            with pytest.raises(httpx.ConnectError):
                await client.get("/")

    _run(handler, client_side)


def test_a_server_that_drops_the_connection_mid_answer_is_an_error_not_a_short_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(_answer(b'{"rows":[1,2,3]}')[:-6])  # Content-Length promises more
        await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/")

    _run(handler, client_side)


def _certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for localhost, and a client context trusting it."""
    cert, key = self_signed(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=cert)


def test_tls_with_a_trusted_certificate_and_a_refused_one(tmp_path: Path) -> None:
    server_ctx, trusting = _certificate(tmp_path)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line, _ = await _read_request(reader)
            if not line:
                return
            writer.write(_answer(b'{"tls":true}'))
            await writer.drain()

    async def client_side(url: str, state: dict[str, Any]) -> None:
        async with _client(url, ssl_context=trusting) as client:
            for _ in range(2):
                r = await client.get("/")
                assert r.json() == {"tls": True}
        async with _client(url) as client:  # the system's CAs do not know this certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get("/")

    state = _run(handler, client_side, tls=server_ctx)
    assert state["connections"] == 1  # two requests on one connection (a refused handshake never gets here)
