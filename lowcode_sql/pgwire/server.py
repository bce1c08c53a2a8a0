"""``lowcode-sql serve``: a PostgreSQL wire-protocol (v3) server over a ``lowcode_sql.Connection``.

One asyncio task per client connection; statements run in worker threads (the engine and DuckDB
block), results are encoded and written batch by batch with ``drain()`` between batches, so a slow
client holds back only its own session. Source queries go to a pool of engines (``pool``), catalog
queries to the emulated ``pg_catalog`` DuckDB through a per-session cursor.

This module listens, accepts and keeps the registry of sessions (their process ids and cancel keys,
for CancelRequest). A connection's startup and authentication are in ``startup``, its message loop
and the extended query protocol in ``session``, utility statements (transactions, SET/SHOW ...) in
``utility``, cursors in ``cursors``, COPY in ``copy``, sending rows in ``results``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import secrets
import ssl
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from lowcode_sql.execute.duck import normalize_directories
from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire import transpile
from lowcode_sql.pgwire.activity import install_signal_function
from lowcode_sql.pgwire.pgcatalog import CatalogDB, describe_sources
from lowcode_sql.pgwire.pool import (
    EnginePool,
    engine_timezone,
    limit_malloc_arenas,
    release_free_memory,
    use_system_arrow_pool,
)
from lowcode_sql.pgwire.session import ClientReader, Session
from lowcode_sql.pgwire.startup import startup
from lowcode_sql.pgwire.transpile import TranslationCache

__all__ = ["Server", "ServerThread"]

log = logging.getLogger("lowcode_sql.pgwire")


class Server:
    """The wire server. ``users`` maps user names to SCRAM/md5 verifiers (``auth.load_users``);
    ``auth`` is ``"scram"`` (default), ``"md5"`` (also accepts md5 verifiers) or ``"trust"``."""

    def __init__(self, connection: Any, *, host: str = "127.0.0.1", port: int = 5433,
                 users: Mapping[str, str] | None = None, auth: str = "scram",
                 tls_cert: str | None = None, tls_key: str | None = None, require_tls: bool = False,
                 engines: int = 4, allowed_directories: Sequence[str] = (), auth_secret: bytes | None = None,
                 engine_idle_seconds: float = 15.0) -> None:
        if auth not in ("scram", "md5", "trust"):
            raise ValueError(f"auth must be scram, md5 or trust, not {auth!r}")
        if require_tls and not tls_cert:
            raise ValueError("--require-tls needs a certificate (--tls-cert and --tls-key)")
        self.connection = connection
        self.host, self.port = host, port
        self.users = dict(users or {})
        self.auth = auth
        # SCRAM answers an unknown user with a mock salt derived from this (pgwire/auth.py)
        self.auth_secret = auth_secret or secrets.token_bytes(32)
        # SQL from clients never reaches the host: every DuckDB here runs with external access off
        # and a locked configuration (execute/duck.py); only these directories are readable
        self.allowed_directories = normalize_directories(allowed_directories)
        self.require_tls = require_tls
        self.ssl_context: ssl.SSLContext | None = None
        if tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(tls_cert, tls_key)
            self.ssl_context = ctx
        self.catalog = CatalogDB(allowed_directories=self.allowed_directories)
        self.translations = TranslationCache()  # statement text -> DuckDB SQL (session.translate)
        install_signal_function(self)  # pg_cancel_backend / pg_terminate_backend (activity.py)
        limit_malloc_arenas()  # before the worker threads exist (pool.py: memory after a burst)
        use_system_arrow_pool()  # Arrow's mimalloc keeps worker threads' freed pages (pool.py)
        self.executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="pgwire")
        self.sessions: dict[int, Session] = {}
        self.statement_kinds: collections.Counter[str] = collections.Counter()  # what clients send (tests, stats)
        # source queries run on the pool's engines (pool.py), in the connection engine's time zone,
        # read now, while nothing runs: DuckDB 2.0 refuses a second call on a busy connection
        self.pool = EnginePool(connection, size=engines, timezone=engine_timezone(connection.engine),
                               allowed_directories=self.allowed_directories)
        # pool engines idle this long are closed: a new one costs ~0.2 s, paid only by the second
        # and later concurrent queries after a quiet spell (one engine is always kept); 15 s gets
        # the RSS back near idle within 30 s of a burst (benchmarks/README.md, issue 14 item 5)
        self.engine_idle_seconds = engine_idle_seconds
        self._trimmer: asyncio.Task[None] | None = None
        self._server: asyncio.base_events.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._next_pid = os.getpid() % 10000 * 1000

    def _prepare(self) -> None:
        transpile.prepare()
        self.pool.give(self.pool.take())

    def refresh_catalog(self) -> None:
        """(Re)build the emulated catalog from the sources' tables (discovers them if needed)."""
        self.catalog.build(describe_sources(self.connection.catalog))

    def register(self, session: Session) -> tuple[int, int]:
        self._next_pid += 1
        pid, secret = self._next_pid, secrets.randbits(31)
        self.sessions[pid] = session
        return pid, secret

    @property
    def max_engines_busy(self) -> int:
        """The most pool engines that ran source queries at once (tests, stats)."""
        return self.pool.max_busy

    @max_engines_busy.setter
    def max_engines_busy(self, value: int) -> None:
        self.pool.max_busy = value

    def cancel(self, pid: int, secret: int) -> None:
        s = self.sessions.get(pid)
        if s is None or s.secret != secret or not s.busy:
            return
        s.cancelled = True
        log.info("cancel request for session %d", pid)
        s.interrupt()
        self.pool.interrupt(s.pid)

    def signal(self, pid: int, *, user: str, terminate: bool) -> bool:
        """``pg_cancel_backend`` / ``pg_terminate_backend`` (from any thread): cancel the session's
        running statement and, to terminate, close its connection. Only the user's own sessions, as
        PostgreSQL allows a role without ``pg_signal_backend``; False for any other pid."""
        s = self.sessions.get(pid)
        if s is None or s.user != user:
            return False
        log.info("session %d: %s requested by user %r", pid, "terminate" if terminate else "cancel", user)
        if s.busy:
            s.cancelled = True
            s.interrupt()
            self.pool.interrupt(pid)
        if terminate and self.loop is not None:
            self.loop.call_soon_threadsafe(s.terminate)
        return True

    async def start(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self.refresh_catalog)
        # before the first client, what its first query would otherwise make: the function names
        # translations check, and one engine (a DuckDB with the served settings and macros); the
        # pool keeps one idle engine from then on anyway (EnginePool.trim's keep)
        await asyncio.get_running_loop().run_in_executor(self.executor, self._prepare)
        loop = asyncio.get_running_loop()
        self.loop = loop

        def protocol() -> asyncio.StreamReaderProtocol:  # asyncio.start_server's, with a ClientReader
            return asyncio.StreamReaderProtocol(ClientReader(loop=loop), self._handle, loop=loop)

        self._server = await loop.create_server(protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._trimmer = loop.create_task(self._trim_engines())

    async def _trim_engines(self) -> None:
        """Close the pool's long-idle engines now and then (``EnginePool.trim``), and give free
        memory back once no session is running anything."""
        loop = asyncio.get_running_loop()
        released = True
        while True:
            await asyncio.sleep(max(0.2, min(5.0, self.engine_idle_seconds / 3)))
            try:
                closed = await loop.run_in_executor(self.executor, self.pool.trim, self.engine_idle_seconds)
                busy = any(s.busy for s in self.sessions.values())
                if not busy and not released and not closed:
                    await loop.run_in_executor(self.executor, release_free_memory)
                released = not busy
            except RuntimeError:  # the executor is shut down: the server is closing
                return

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio types the callback with a plain StreamReader; protocol() always hands it a ClientReader
        session = Session(self, cast(ClientReader, reader), writer)
        try:
            if await startup(session):
                await session.run()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        except p.ProtocolError as e:
            await session.fatal("08P01", str(e))
        except Exception:  # one broken session must never take the server down
            log.exception("session failed")
        finally:
            session.cancelled = True
            self.sessions.pop(session.pid, None)
            session.close()
            with contextlib.suppress(Exception):
                writer.close()

    def stop_accepting(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._trimmer is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._trimmer.cancel)  # close() may come from another thread

    def close(self) -> None:
        self.stop_accepting()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.catalog.close()
        self.pool.close()


class ServerThread:
    """Run a ``Server`` on its own event loop in a background thread (tests, notebooks).

    >>> with ServerThread(lowcode_sql.demo(), port=0, auth="trust") as srv:  # doctest: +SKIP
    ...     psycopg.connect(f"host=127.0.0.1 port={srv.port} user=me")
    """

    def __init__(self, connection: Any, **kw: Any) -> None:
        self.server = Server(connection, **kw)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="pgwire-server", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as e:  # reported to the starting thread
            self._error = e
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.stop_accepting()
            # close the clients' connections so their sessions end normally (cancelling the
            # tasks makes asyncio's stream callback log the CancelledError)
            for s in list(self.server.sessions.values()):
                s.writer.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=5)
                for t in pending:
                    t.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self.server.close()
        self._loop.close()
