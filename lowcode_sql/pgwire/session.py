"""One client connection after startup: the message loop, the simple query protocol
(multi-statement) and the extended one (Parse/Bind/Describe/Execute/Sync/Close/Flush, named and
unnamed statements and portals, PortalSuspended, skip-to-Sync after errors), and running a
statement: queries on sources stream from a pool engine (``pool``), catalog queries run on the
emulated ``pg_catalog`` DuckDB through a per-session cursor, the rest are utility statements
(``utility``). Every blocking step runs in a worker thread, cancellable (``cancellable``) and
watching for the client going away.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import struct
from collections.abc import Awaitable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.activity import register_activity, signal_calls
from lowcode_sql.pgwire.copy import send_copy
from lowcode_sql.pgwire.cursors import declared_query, fetch_schema
from lowcode_sql.pgwire.errors import INSUFFICIENT_PRIVILEGE, PGError, is_internal, query_canceled, sqlstate
from lowcode_sql.pgwire.origins import column_origins
from lowcode_sql.pgwire.paramtypes import TEXT_OID, infer_param_oids
from lowcode_sql.pgwire.pgcatalog import DEFAULT_SETTINGS, log_unknown
from lowcode_sql.pgwire.pgtext import backend_pid, pg_text
from lowcode_sql.pgwire.results import fields, formats_for, renamed, send_rows
from lowcode_sql.pgwire.statements import KNOWN_KINDS, QUERY_KEYWORDS, Outcome, Portal, Prepared
from lowcode_sql.pgwire.stream import RowStream
from lowcode_sql.pgwire.transpile import Translated, first_keyword, split_statements, translate
from lowcode_sql.pgwire.types import decode_param
from lowcode_sql.pgwire.utility import execute_target, run_utility, show_schema

if TYPE_CHECKING:
    from lowcode_sql.pgwire.server import Server

__all__ = ["ClientReader", "Session"]

log = logging.getLogger("lowcode_sql.pgwire")


# replies kept back (``Session.send``) up to this size before they are written
_CORK_BYTES = 64 * 1024


class ClientReader(asyncio.StreamReader):
    """A client connection's reader that says whether the client has closed its side, even while
    unread messages are still buffered (``at_eof()`` waits for those to be read)."""

    peer_closed = False

    def buffered(self) -> int:
        """Bytes received and not yet read (a client that pipelines its messages has some)."""
        return len(self._buffer)  # type: ignore[attr-defined]  # StreamReader's own buffer

    def feed_eof(self) -> None:
        self.peer_closed = True
        super().feed_eof()


class Session:
    """One client connection: its settings, transaction status (``I``dle, in a ``T``ransaction,
    ``E``rror), prepared statements and portals by name, and its cancel key (``pid``, ``secret``)."""

    def __init__(self, server: Server, reader: ClientReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.user = ""
        self.settings: dict[str, str] = dict(DEFAULT_SETTINGS)
        self.status = "I"
        self.statements: dict[str, Prepared] = {}
        self.portals: dict[str, Portal] = {}
        self.pid = 0
        self.secret = 0
        self.busy = False
        self.cancelled = False
        self.tls = False
        self._cursor: duckdb.DuckDBPyConnection | None = None
        # once startup is over, messages are sent together: a query's replies (ParseComplete ...
        # ReadyForQuery) in one write instead of one write and drain each (``send``, ``flush``)
        self._corked = False
        self._pending: list[bytes] = []
        self._pending_size = 0
        # what pg_stat_activity shows (activity.py)
        self.started = dt.datetime.now(dt.UTC)
        self.query_text = ""
        self.query_start: dt.datetime | None = None
        self.state_change = self.started

    # --- plumbing -----------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        if self._corked:
            self._pending.append(data)
            self._pending_size += len(data)
            if self._pending_size < _CORK_BYTES:
                return
            data = self._take_pending()
        self.writer.write(data)
        await self.writer.drain()  # a slow client slows the sender, whatever the buffering

    def _take_pending(self) -> bytes:
        data = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        return data

    async def flush(self) -> None:
        """Send what ``send`` kept back: before waiting for the client, which may be waiting for it."""
        if self._pending:
            self.writer.write(self._take_pending())
        await self.writer.drain()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        if self._cursor is None:
            # the catalog DuckDB's TimeZone (UTC) is global: its configuration is locked (CatalogDB)
            self._cursor = self.server.catalog.cursor()
            path = ",".join(["main", *(f'"{s}"' for s in self.server.catalog.schemas)])
            self._cursor.execute(f"SET search_path = '{path}'")
        return self._cursor

    async def in_thread(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.server.executor, fn, *args)

    def terminate(self) -> None:
        """pg_terminate_backend (in the event loop): FATAL 57P01, then the connection closes; a
        statement running meanwhile was cancelled (``Server.signal``) and its reader sees EOF."""
        with contextlib.suppress(Exception):
            self.writer.write(p.error_response("FATAL", "57P01", "terminating connection due to administrator command"))
            self.writer.close()

    async def fatal(self, code: str, msg: str) -> None:
        with contextlib.suppress(Exception):
            await self.send(p.error_response("FATAL", code, msg))
            await self.flush()

    # --- main loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        skip_to_sync = False
        self._corked = True
        while True:
            if self._pending and not self.reader.buffered():
                await self.flush()  # nothing more from the client yet: it waits for these replies
            kind, body = await p.read_message(self.reader)
            if kind == b"X":
                return
            if skip_to_sync and kind not in (b"S",):
                continue
            try:
                if kind == b"Q":
                    await self.simple_query(p.Buffer(body).cstr())
                elif kind == b"P":
                    await self.parse(p.Buffer(body))
                elif kind == b"B":
                    await self.bind(p.Buffer(body))
                elif kind == b"D":
                    await self.describe(p.Buffer(body))
                elif kind == b"E":
                    await self.execute(p.Buffer(body))
                elif kind == b"S":
                    skip_to_sync = False
                    if self.status == "I":
                        self.end_transaction()
                    await self.send(p.ready_for_query(self.status))
                elif kind == b"H":
                    await self.flush()
                elif kind == b"C":
                    buf = p.Buffer(body)
                    what, name = buf.take(1), buf.cstr()
                    if what == b"S":
                        self.statements.pop(name, None)
                    else:
                        self.drop_portal(name)
                    await self.send(p.message(b"3"))
                elif kind in (b"d", b"c", b"f"):
                    raise PGError("0A000", "COPY is not supported")
                else:
                    raise p.ProtocolError(f"unexpected message type {kind!r}")
            except (p.ProtocolError, ConnectionError, asyncio.IncompleteReadError):
                raise
            except Exception as e:  # every statement error becomes an ErrorResponse
                await self.send_error(e)
                skip_to_sync = True

    async def send_error(self, e: BaseException) -> None:
        code, msg, hint = sqlstate(e)
        if is_internal(e) or code in ("XX000", "58030"):
            # the client got a generic message (pgwire/errors.py): the detail is for the operator
            log.error("session %d: statement failed: %s", self.pid, msg, exc_info=e)
        elif code == INSUFFICIENT_PRIVILEGE:
            log.warning("session %d (user %r): refused: %s", self.pid, self.user, msg)
        if self.status == "T":
            self.status = "E"
        await self.send(p.error_response("ERROR", code, msg, hint=hint))

    # --- simple query -------------------------------------------------------------------------

    async def simple_query(self, sql: str) -> None:
        statements = split_statements(sql)
        if not statements:
            await self.send(p.message(b"I") + p.ready_for_query(self.status))
            return
        try:
            for stmt in statements:
                prepared = self.prepare(stmt, [])
                portal = Portal(prepared, [], [])
                with self.cancellable():  # one statement: a cancel at any point of it stops it
                    await self.run_portal(portal)
                    await self.send_result(portal, 0, describe=True)
        except (ConnectionError, asyncio.IncompleteReadError):
            raise
        except Exception as e:
            await self.send_error(e)
        if self.status == "I":
            self.end_transaction()
        await self.send(p.ready_for_query(self.status))

    # --- extended query -----------------------------------------------------------------------

    async def parse(self, buf: p.Buffer) -> None:
        name, sql = buf.cstr(), buf.cstr()
        oids = [buf.u32() for _ in range(buf.i16())]
        if name and name in self.statements:
            raise PGError("42P05", f'prepared statement "{name}" already exists')
        stmts = split_statements(sql)
        if len(stmts) > 1:
            raise PGError("42601", "cannot insert multiple commands into a prepared statement")
        self.statements[name] = self.prepare(stmts[0] if stmts else "", oids)
        await self.send(p.message(b"1"))

    async def bind(self, buf: p.Buffer) -> None:
        portal_name, stmt_name = buf.cstr(), buf.cstr()
        stmt = self.statements.get(stmt_name)
        if stmt is None:
            raise PGError("26000", f'prepared statement "{stmt_name}" does not exist')
        fmts = [buf.i16() for _ in range(buf.i16())]
        values: list[bytes | None] = []
        for _ in range(buf.i16()):
            n = buf.i32()
            values.append(None if n < 0 else buf.take(n))
        rfmts = [buf.i16() for _ in range(buf.i16())]
        params = []
        for i, v in enumerate(values):
            fmt = fmts[0] if len(fmts) == 1 else (fmts[i] if i < len(fmts) else 0)
            oid = stmt.param_oids[i] if i < len(stmt.param_oids) else 0
            try:
                params.append(decode_param(v, oid, fmt))
            except (ValueError, struct.error, UnicodeDecodeError) as e:
                raise PGError("22P02", f"invalid value for parameter ${i + 1}: {e}") from None
        if portal_name and portal_name in self.portals:
            raise PGError("42P03", f'cursor "{portal_name}" already exists')
        self.drop_portal(portal_name)
        self.portals[portal_name] = Portal(stmt, params, rfmts)
        await self.send(p.message(b"2"))

    async def describe(self, buf: p.Buffer) -> None:
        what, name = buf.take(1), buf.cstr()
        if what == b"S":
            stmt = self.statements.get(name)
            if stmt is None:
                raise PGError("26000", f'prepared statement "{name}" does not exist')
            # inferred once; kept so Bind decodes binary values by the types the client was told
            stmt.param_oids = await self.in_thread(self.param_types, stmt)
            oids = stmt.param_oids
            schema = await self.in_thread(self.describe_statement, stmt)
            out = p.parameter_description(oids)
            out += p.row_description(fields(schema, stmt.origins), []) if schema is not None \
                else p.message(b"n")
            await self.send(out)
            return
        portal = self.portals.get(name)
        if portal is None:
            raise PGError("34000", f'portal "{name}" does not exist')
        if portal.outcome is None:
            await self.run_portal(portal)
        assert portal.outcome is not None
        schema = portal.outcome.schema
        if schema is None:
            await self.send(p.message(b"n"))
        else:
            await self.send(p.row_description(fields(schema, portal.stmt.origins),
                                             formats_for(portal.formats, len(schema))))

    async def execute(self, buf: p.Buffer) -> None:
        name, max_rows = buf.cstr(), buf.i32()
        portal = self.portals.get(name)
        if portal is None:
            raise PGError("34000", f'portal "{name}" does not exist')
        with self.cancellable():  # one Execute: a cancel at any point of it stops it
            if portal.outcome is None:
                await self.run_portal(portal)
            await self.send_result(portal, max_rows, describe=False)

    # --- statements ---------------------------------------------------------------------------

    def prepare(self, sql: str, oids: list[int]) -> Prepared:
        kind = first_keyword(sql)
        # counted by keyword for known statements only, so odd input cannot grow the counter without bound
        self.server.statement_kinds[kind if kind in KNOWN_KINDS else "OTHER"] += 1
        log.debug("session %d: %s", self.pid, sql)
        stmt = Prepared(sql, oids, kind)
        if kind in QUERY_KEYWORDS:
            stmt.translated = self.translate(sql)
            stmt.nparams = stmt.translated.nparams
            if stmt.translated.target == "engine":
                cat = self.server.catalog
                stmt.origins = column_origins(sql, cat.source_tables, cat.relations)
        elif kind == "DECLARE":
            query = declared_query(sql)
            if query is not None:
                stmt.nparams = self.translate(query).nparams
        return stmt

    def translate(self, sql: str) -> Translated:
        cat = self.server.catalog
        sql = signal_calls(backend_pid(pg_text(sql), self.pid), self.pid, self.secret)
        key = (sql, self.user, tuple(sorted(self.settings.items())))
        cached = self.server.translations.get(key, cat.source_tables, cat.tables)
        if cached is not None:
            return cached
        sources, tables = cat.source_tables, cat.tables
        try:
            t = translate(sql, source_tables=sources, catalog_tables=tables,
                          settings=self.settings, user=self.user, rewrite_catalog=cat.rewrite,
                          allowed_directories=self.server.allowed_directories)
        except SyntaxError as e:
            raise PGError("42601", str(e)) from None
        self.server.translations.put(key, sources, tables, t)
        return t

    def param_types(self, stmt: Prepared) -> list[int]:
        """The parameter type OIDs ParameterDescription reports: the client's, else inferred."""
        t = stmt.translated
        if t is None:
            return [o or TEXT_OID for o in stmt.param_oids] + [TEXT_OID] * (stmt.nparams - len(stmt.param_oids))

        def schema_of(sql: str) -> pa.Schema:
            return self.cursor().sql(sql).limit(0).to_arrow_table().schema

        return infer_param_oids(t.sql, stmt.nparams, stmt.param_oids, schema_of)

    def describe_statement(self, stmt: Prepared) -> pa.Schema | None:
        if stmt.kind == "EXPLAIN":
            return pa.schema([("QUERY PLAN", pa.string())])
        if stmt.kind in ("SHOW",):
            return show_schema(stmt.sql)
        if stmt.kind == "FETCH":
            return fetch_schema(self, stmt.sql)
        if stmt.kind == "EXECUTE":
            return self.describe_statement(execute_target(self, stmt.sql)[0])
        if stmt.translated is None:
            return None
        t = stmt.translated
        # bind the query against the catalog DuckDB (empty copies of the source tables): no scan runs
        try:
            rel = self.cursor().sql(t.sql, params=[None] * t.nparams) if t.nparams else self.cursor().sql(t.sql)
            table = rel.limit(0).to_arrow_table() if rel is not None else None
        except duckdb.InterruptException:
            raise
        except duckdb.Error as e:
            if t.target == "catalog":
                raise _catalog_error(e, stmt.sql) from None
            raise
        if table is None:
            return None
        return renamed(table, t.names).schema

    async def run_portal(self, portal: Portal) -> None:
        stmt = portal.stmt
        kind = stmt.kind
        self.query_text, self.query_start = stmt.sql, dt.datetime.now(dt.UTC)
        self.state_change = self.query_start
        if self.status == "E" and kind not in ("ROLLBACK", "ABORT", "COMMIT", "END"):
            raise PGError("25P02", "current transaction is aborted, commands ignored until end of transaction block")
        if kind in QUERY_KEYWORDS:
            t = stmt.translated
            if t is not None and t.target == "engine":
                portal.outcome = Outcome("SELECT", stream=await self.query_stream(t, portal.params))
                return
            table = await self.query(t, stmt.sql, portal.params)
            portal.outcome = Outcome("SELECT", table)
            return
        portal.outcome = await run_utility(self, stmt, portal.params)

    async def query(self, t: Translated | None, sql: str, params: Sequence[Any]) -> pa.Table:
        assert t is not None
        with self.cancellable():
            if t.target == "engine":
                work = self.in_thread(functools.partial(self.server.pool.run, self.pid, t.sql, list(params),
                                                        cancelled=lambda: self.cancelled))
            else:
                work = self.in_thread(self._run_catalog, t.sql, sql, list(params))
            table = await self.guarded(work)
        self.check_cancel()  # the cancel arrived while the last batch was being produced
        return renamed(table, t.names)

    async def query_stream(self, t: Translated, params: Sequence[Any]) -> RowStream:
        """Start a source query; its rows are read as they are sent (``send_result``)."""
        with self.cancellable():
            return await self.guarded(self.in_thread(functools.partial(
                self.server.pool.open_stream, self.pid, t.sql, list(params), t.names,
                cancelled=lambda: self.cancelled)))

    # --- the cancel guard ---------------------------------------------------------------------

    @contextlib.contextmanager
    def cancellable(self) -> Iterator[None]:
        """The span of a statement a CancelRequest may stop: the session is busy (``Server.cancel``
        ignores an idle session) and the cancel flag starts clear. Re-entrant: a span inside
        another (opening a result stream, then sending its rows, within one statement) keeps the
        outer span's flag, so a cancel that arrives between the two is not forgotten."""
        if self.busy:
            yield
            return
        self.busy, self.cancelled = True, False
        try:
            yield
        finally:
            self.busy = False

    def check_cancel(self) -> None:
        """Between steps of a cancellable statement: stop if a cancel arrived."""
        if self.cancelled:
            raise query_canceled()

    async def guarded(self, work: Awaitable[Any]) -> Any:
        """Wait for blocking work (inside ``cancellable``), disconnect-aware; once a cancel has
        arrived, whatever the work raised (DuckDB's interrupt, a closed scan) is reported as the
        cancel."""
        try:
            return await self._watch_disconnect(asyncio.ensure_future(work))
        except Exception as e:
            if self.cancelled:
                raise query_canceled() from None
            raise e

    def drop_portal(self, name: str) -> None:
        portal = self.portals.pop(name, None)
        if portal is not None and portal.outcome is not None:
            portal.outcome.close()  # a stream gives its engine back

    async def _watch_disconnect(self, work: asyncio.Future[Any]) -> Any:
        """Wait for ``work``; if the client goes away meanwhile, interrupt the query so its scans
        stop requesting pages (the reader sees EOF even while no read is pending)."""
        while True:
            done, _ = await asyncio.wait({work}, timeout=0.2)
            if done:
                return work.result()
            if self.reader.peer_closed or self.writer.is_closing():
                log.info("session %d: client disconnected during a query: cancelling it", self.pid)
                self.server.cancel(self.pid, self.secret)
                with contextlib.suppress(Exception):
                    await work
                raise ConnectionResetError("client disconnected")

    def _run_catalog(self, duck_sql: str, original: str, params: list[Any]) -> pa.Table:
        cur = self.cursor()
        try:
            if "pg_stat_activity" in duck_sql.lower():
                register_activity(self, cur)
            rel = cur.sql(duck_sql, params=params) if params else cur.sql(duck_sql)
            if rel is None:
                raise PGError("0A000", "only queries are supported")
            return rel.to_arrow_table()
        except duckdb.InterruptException:
            raise
        except duckdb.Error as e:
            raise _catalog_error(e, original) from None

    def end_transaction(self) -> None:
        # portals and cursors without WITH HOLD live until the end of their transaction
        for k in [k for k, v in self.portals.items() if not v.holdable]:
            self.drop_portal(k)

    # --- results ------------------------------------------------------------------------------

    async def send_result(self, portal: Portal, max_rows: int, *, describe: bool) -> None:
        out = portal.outcome
        assert out is not None
        if out.copy is not None:
            await send_copy(self, out)
            return
        await send_rows(self, portal, max_rows, describe=describe)

    def interrupt(self) -> None:
        """Stop the catalog query running on this session's cursor (from another thread)."""
        if self._cursor is not None:
            with contextlib.suppress(Exception):
                self._cursor.interrupt()

    def close(self) -> None:
        for name in list(self.portals):
            with contextlib.suppress(Exception):
                self.drop_portal(name)
        if self._cursor is not None:
            with contextlib.suppress(Exception):
                self._cursor.close()


# DuckDB quotes a qualified name ("nope.nothing") and not a bare one: the name without its quotes
_MISSING_TABLE = re.compile(r'Table with name "?([^"\s!]+?)"? does not exist')
_MENTIONS_CATALOG = re.compile(r"\bpg_|information_schema", re.I)


def _catalog_error(e: duckdb.Error, original: str) -> PGError:
    """The error for a query the catalog DuckDB could not run. Queries touching pg_catalog or
    information_schema that fail are logged: they show what the emulation lacks."""
    code, msg, _ = sqlstate(e)
    missing = _MISSING_TABLE.search(msg)
    if _MENTIONS_CATALOG.search(original):
        log_unknown(original, msg)
        return PGError(code, f"{msg} (this catalog query is not supported by lowcode_sql's pg_catalog emulation)")
    if missing:
        return PGError("42P01", f'relation "{missing.group(1)}" does not exist',
                       hint="source tables are named <source>.<table>")
    return PGError(code, msg)
