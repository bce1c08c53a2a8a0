"""``lowcode-sql serve``: a PostgreSQL wire-protocol (v3) server over a ``lowcode_sql.Connection``.

One asyncio task per client connection; statements run in worker threads (the engine and DuckDB
block), results are encoded and written batch by batch with ``drain()`` between batches, so a slow
client holds back only its own session. Source queries go to the engine (serialized by its lock),
catalog queries to the emulated ``pg_catalog`` DuckDB through a per-session cursor.

Protocol: startup with SSLRequest/GSSENCRequest, SCRAM-SHA-256 / md5 / trust, simple query
(multi-statement), extended query (Parse/Bind/Describe/Execute/Sync/Close/Flush, named and unnamed
statements and portals, PortalSuspended, skip-to-Sync after errors), CancelRequest, DECLARE /
FETCH / MOVE / CLOSE cursors and transaction statements, which are accepted (sources are read-only,
so a transaction only changes the ReadyForQuery status and the lifetime of cursors).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import queue
import re
import secrets
import ssl
import struct
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from lowcode_sql.execute.duck import normalize_directories
from lowcode_sql.pgwire import protocol as p
from lowcode_sql.pgwire.auth import AuthFailed, authenticate
from lowcode_sql.pgwire.errors import INSUFFICIENT_PRIVILEGE, PGError, is_internal, permission_denied, sqlstate
from lowcode_sql.pgwire.pgcatalog import DEFAULT_SETTINGS, CatalogDB, describe_sources, log_unknown
from lowcode_sql.pgwire.stream import RowStream
from lowcode_sql.pgwire.transpile import Translated, first_keyword, split_statements, translate
from lowcode_sql.pgwire.types import decode_param, encode_binary_column, pg_type_for_arrow, text_binary_array

__all__ = ["Server", "ServerThread"]

log = logging.getLogger("lowcode_sql.pgwire")

BATCH_ROWS = 8192  # rows encoded and written per step: bounds the encoded bytes held per session
# parameters PostgreSQL reports to the client on connect and whenever they change (GUC_REPORT)
_REPORTED = {"application_name": "application_name", "client_encoding": "client_encoding", "datestyle": "DateStyle",
             "intervalstyle": "IntervalStyle", "timezone": "TimeZone", "is_superuser": "is_superuser",
             "server_encoding": "server_encoding", "server_version": "server_version",
             "standard_conforming_strings": "standard_conforming_strings", "integer_datetimes": "integer_datetimes",
             "default_transaction_read_only": "default_transaction_read_only",
             "session_authorization": "session_authorization", "in_hot_standby": "in_hot_standby"}


@dataclass
class Outcome:
    """What one statement produced: rows (an Arrow table) or none, and its command tag."""

    tag: str  # "SELECT" gets the row count appended when sent
    table: pa.Table | None = None
    copy: dict[str, str] | None = None  # COPY ... TO STDOUT: the rows go out as CopyData
    stream: RowStream | None = None  # a source query's rows, read batch by batch as they are sent

    @property
    def schema(self) -> pa.Schema | None:
        if self.stream is not None:
            return self.stream.schema
        return self.table.schema if self.table is not None else None

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()


@dataclass
class Prepared:
    sql: str
    param_oids: list[int]
    kind: str  # first keyword
    translated: Translated | None = None
    nparams: int = 0


@dataclass
class Portal:
    stmt: Prepared
    params: list[Any]
    formats: list[int]
    outcome: Outcome | None = None
    pos: int = 0
    holdable: bool = False
    is_cursor: bool = False
    fetched: int = field(default=0)


class Session:
    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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

    # --- plumbing -----------------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
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

    # --- startup ------------------------------------------------------------------------------

    async def startup(self) -> bool:
        while True:
            code, payload = await p.read_startup(self.reader)
            if code == p.SSL_REQUEST:
                if self.server.ssl_context is not None and not self.tls:
                    await self.send(b"S")
                    await self.writer.start_tls(self.server.ssl_context)
                    self.tls = True
                else:
                    await self.send(b"N")
                continue
            if code == p.GSSENC_REQUEST:
                await self.send(b"N")
                continue
            if code == p.CANCEL_REQUEST:
                pid, secret = struct.unpack("!ii", payload[:8])
                self.server.cancel(pid, secret)
                return False
            if code != p.PROTOCOL_3:
                await self.fatal("0A000", f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}")
                return False
            break
        parts = payload.split(b"\x00")
        params = {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2) if parts[i]}
        self.user = params.get("user", "")
        if not self.user:
            await self.fatal("28000", "no PostgreSQL user name specified in startup packet")
            return False
        if self.server.require_tls and not self.tls:
            await self.fatal("28000", "this server accepts only TLS connections (started with --require-tls): "
                                      "connect with sslmode=require")
            return False
        for key, val in params.items():
            if key.lower() in ("application_name", "client_encoding", "datestyle", "timezone"):
                self.settings[key.lower()] = val
        # `options=-c search_path=x -c ...` (pgJDBC's currentSchema, libpq's PGOPTIONS)
        for m in re.finditer(r"(?:-c\s*|--)([A-Za-z_.]+)=((?:\\ |\S)+)", params.get("options", "")):
            try:
                _check_setting(m.group(1).lower())
            except PGError:
                log.warning("user %r: ignored the startup option %s (a DuckDB setting)", self.user, m.group(1))
                continue
            self.settings[m.group(1).lower()] = m.group(2).replace("\\ ", " ")
        if self.settings["client_encoding"].upper().replace("-", "") not in ("UTF8", "UNICODE"):
            await self.fatal("22023", f"client_encoding {self.settings['client_encoding']!r} is not supported: "
                                      "use UTF8")
            return False
        if self.server.auth != "trust":
            async def send_auth(code: int, data: bytes) -> None:
                await self.send(p.message(b"R", struct.pack("!i", code) + data))

            async def recv() -> bytes:
                kind, body = await p.read_message(self.reader)
                if kind != b"p":
                    raise AuthFailed("expected a password message")
                return body

            try:
                await authenticate(self.user, self.server.users, send_auth, recv,
                                   allow_md5=self.server.auth == "md5", secret=self.server.auth_secret)
            except AuthFailed as e:
                # the reason stays in the log: the client's answer must not tell which users exist
                log.info("authentication failed for user %r: %s", self.user, e)
                await self.fatal("28P01", f'password authentication failed for user "{self.user}"')
                return False
        self.pid, self.secret = self.server.register(self)
        out = [p.message(b"R", struct.pack("!i", 0))]
        self.settings.setdefault("search_path", "")
        if self.settings["search_path"] == DEFAULT_SETTINGS["search_path"]:
            self.settings["search_path"] = ", ".join(self.server.catalog.schemas) or "public"
        self.settings["session_authorization"] = self.user
        self.settings["in_hot_standby"] = "off"
        for key, name in _REPORTED.items():
            out.append(p.parameter_status(name, self.settings.get(key, "")))
        out.append(p.message(b"K", struct.pack("!ii", self.pid, self.secret)))
        out.append(p.ready_for_query("I"))
        await self.send(b"".join(out))
        return True

    async def fatal(self, code: str, msg: str) -> None:
        with contextlib.suppress(Exception):
            await self.send(p.error_response("FATAL", code, msg))

    # --- main loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        skip_to_sync = False
        while True:
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
                        self._end_transaction()
                    await self.send(p.ready_for_query(self.status))
                elif kind == b"H":
                    await self.writer.drain()
                elif kind == b"C":
                    buf = p.Buffer(body)
                    what, name = buf.take(1), buf.cstr()
                    if what == b"S":
                        self.statements.pop(name, None)
                    else:
                        self._drop_portal(name)
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
                await self.run_portal(portal)
                await self.send_result(portal, 0, describe=True)
        except (ConnectionError, asyncio.IncompleteReadError):
            raise
        except Exception as e:
            await self.send_error(e)
        if self.status == "I":
            self._end_transaction()
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
        self._drop_portal(portal_name)
        self.portals[portal_name] = Portal(stmt, params, rfmts)
        await self.send(p.message(b"2"))

    async def describe(self, buf: p.Buffer) -> None:
        what, name = buf.take(1), buf.cstr()
        if what == b"S":
            stmt = self.statements.get(name)
            if stmt is None:
                raise PGError("26000", f'prepared statement "{name}" does not exist')
            oids = [stmt.param_oids[i] if i < len(stmt.param_oids) and stmt.param_oids[i] else 25
                    for i in range(max(stmt.nparams, len(stmt.param_oids)))]
            schema = await self.in_thread(self.describe_statement, stmt)
            out = p.parameter_description(oids)
            out += p.row_description(_fields(schema), []) if schema is not None else p.message(b"n")
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
            await self.send(p.row_description(_fields(schema), _formats(portal.formats, len(schema))))

    async def execute(self, buf: p.Buffer) -> None:
        name, max_rows = buf.cstr(), buf.i32()
        portal = self.portals.get(name)
        if portal is None:
            raise PGError("34000", f'portal "{name}" does not exist')
        if portal.outcome is None:
            await self.run_portal(portal)
        await self.send_result(portal, max_rows, describe=False)

    # --- statements ---------------------------------------------------------------------------

    def prepare(self, sql: str, oids: list[int]) -> Prepared:
        kind = first_keyword(sql)
        # counted by keyword for known statements only, so odd input cannot grow the counter without bound
        self.server.statement_kinds[kind if kind in _KNOWN_KINDS else "OTHER"] += 1
        log.debug("session %d: %s", self.pid, sql)
        stmt = Prepared(sql, oids, kind)
        if kind in _QUERY_KEYWORDS:
            stmt.translated = self.translate(sql)
            stmt.nparams = stmt.translated.nparams
        elif kind == "DECLARE":
            m = _DECLARE.match(sql)
            if m:
                stmt.nparams = self.translate(m.group("query")).nparams
        return stmt

    def translate(self, sql: str) -> Translated:
        cat = self.server.catalog
        try:
            return translate(sql, source_tables=cat.source_tables, catalog_tables=cat.tables,
                             settings=self.settings, user=self.user, rewrite_catalog=cat.rewrite,
                             allowed_directories=self.server.allowed_directories)
        except SyntaxError as e:
            raise PGError("42601", str(e)) from None

    def describe_statement(self, stmt: Prepared) -> pa.Schema | None:
        if stmt.kind == "EXPLAIN":
            return pa.schema([("QUERY PLAN", pa.string())])
        if stmt.kind in ("SHOW",):
            name = self._show_name(stmt.sql)
            return pa.schema([(name, pa.string())]) if name != "all" else _SHOW_ALL_SCHEMA
        if stmt.kind == "FETCH":
            m = _FETCH.match(stmt.sql)
            portal = self.portals.get(_ident(m.group("name"))) if m else None
            return portal.outcome.table.schema if portal and portal.outcome and portal.outcome.table else None
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
        return _renamed(table, t.names).schema

    async def run_portal(self, portal: Portal) -> None:
        stmt = portal.stmt
        kind = stmt.kind
        if self.status == "E" and kind not in ("ROLLBACK", "ABORT", "COMMIT", "END"):
            raise PGError("25P02", "current transaction is aborted, commands ignored until end of transaction block")
        if kind in _QUERY_KEYWORDS:
            t = stmt.translated
            if t is not None and t.target == "engine":
                portal.outcome = Outcome("SELECT", stream=await self.query_stream(t, portal.params))
                return
            table = await self.query(t, stmt.sql, portal.params)
            portal.outcome = Outcome("SELECT", table)
            return
        portal.outcome = await self.utility(stmt, portal.params)

    async def query(self, t: Translated | None, sql: str, params: Sequence[Any]) -> pa.Table:
        assert t is not None
        self.busy, self.cancelled = True, False
        try:
            if t.target == "engine":
                work = self.in_thread(self.server.run_engine, self, t.sql, list(params))
            else:
                work = self.in_thread(self._run_catalog, t.sql, sql, list(params))
            table = await self._watch_disconnect(asyncio.ensure_future(work))
        except Exception as e:
            if self.cancelled:
                raise PGError("57014", "canceling statement due to user request") from None
            raise e
        finally:
            self.busy = False
        if self.cancelled:  # the cancel arrived while the last batch was being produced
            raise PGError("57014", "canceling statement due to user request")
        return _renamed(table, t.names)

    async def query_stream(self, t: Translated, params: Sequence[Any]) -> RowStream:
        """Start a source query; its rows are read as they are sent (``send_result``)."""
        self.busy, self.cancelled = True, False
        try:
            work = self.in_thread(self.server.open_stream, self, t.sql, list(params), t.names)
            stream = await self._watch_disconnect(asyncio.ensure_future(work))
        except Exception as e:
            if self.cancelled:
                raise PGError("57014", "canceling statement due to user request") from None
            raise e
        finally:
            self.busy = False
        return stream

    def _drop_portal(self, name: str) -> None:
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
            if getattr(self.reader, "_eof", False) or self.writer.is_closing():
                log.info("session %d: client disconnected during a query: cancelling it", self.pid)
                self.server.cancel(self.pid, self.secret)
                with contextlib.suppress(Exception):
                    await work
                raise ConnectionResetError("client disconnected")

    def _run_catalog(self, duck_sql: str, original: str, params: list[Any]) -> pa.Table:
        cur = self.cursor()
        try:
            rel = cur.sql(duck_sql, params=params) if params else cur.sql(duck_sql)
            if rel is None:
                raise PGError("0A000", "only queries are supported")
            return rel.to_arrow_table()
        except duckdb.InterruptException:
            raise
        except duckdb.Error as e:
            raise _catalog_error(e, original) from None

    async def utility(self, stmt: Prepared, params: list[Any]) -> Outcome:
        kind, sql = stmt.kind, stmt.sql
        words = sql.split()
        if kind in ("BEGIN", "START"):
            self.status = "T"
            return Outcome("BEGIN" if kind == "BEGIN" else "START TRANSACTION")
        if kind in ("COMMIT", "END"):
            tag = "ROLLBACK" if self.status == "E" else "COMMIT"
            self.status = "I"
            self._end_transaction()
            return Outcome(tag)
        if kind in ("ROLLBACK", "ABORT"):
            if len(words) > 1 and words[1].upper() == "TO":
                if self.status == "E":
                    self.status = "T"
                return Outcome("ROLLBACK")
            self.status = "I"
            self._end_transaction()
            return Outcome("ROLLBACK")
        if kind == "SAVEPOINT":
            return Outcome("SAVEPOINT")
        if kind == "RELEASE":
            return Outcome("RELEASE")
        if kind in _HOST_STATEMENTS or _HOST_STATEMENT.match(sql):
            raise permission_denied(f"{' '.join(words[:2]).upper()}: DuckDB's {kind} statement (files, "
                                    "databases, extensions, settings or secrets) is not available on this server")
        if kind == "SET":
            await self._set(sql)
            return Outcome("SET")
        if kind == "SHOW":
            return Outcome("SHOW", self._show(sql))
        if kind == "RESET":
            name = words[1].lower().rstrip(";").strip('"') if len(words) > 1 else "all"
            _check_setting(name)
            if name == "all":
                self.settings.update({k: v for k, v in DEFAULT_SETTINGS.items() if k not in ("client_encoding",)})
            elif name in DEFAULT_SETTINGS:
                self.settings[name] = DEFAULT_SETTINGS[name]
            return Outcome("RESET")
        if kind == "DISCARD":
            self.statements = {k: v for k, v in self.statements.items() if k == ""}
            for name in list(self.portals):
                self._drop_portal(name)
            return Outcome("DISCARD " + (words[1].upper() if len(words) > 1 else "ALL"))
        if kind == "DEALLOCATE":
            name = words[-1].strip('"')
            if name.upper() == "ALL":
                self.statements = {k: v for k, v in self.statements.items() if k == ""}
            else:
                self.statements.pop(name, None)
            return Outcome("DEALLOCATE")
        if kind == "DECLARE":
            return await self._declare(sql, params)
        if kind in ("FETCH", "MOVE"):
            return self._fetch(sql, kind)
        if kind == "CLOSE":
            name = sql.split(None, 1)[1].strip().rstrip(";").strip() if len(words) > 1 else ""
            if name.upper() == "ALL":
                for k in [k for k, v in self.portals.items() if v.is_cursor]:
                    del self.portals[k]
            elif self.portals.pop(_ident(name), None) is None:
                raise PGError("34000", f'cursor "{_ident(name)}" does not exist')
            return Outcome("CLOSE CURSOR")
        if kind == "COPY":
            return await self._copy(sql, params)
        if kind == "EXPLAIN":
            return await self._explain(sql, params)
        if kind in ("LISTEN", "UNLISTEN", "NOTIFY", "PREPARE", "EXECUTE", "VACUUM", "ANALYZE", "LOCK"):
            raise PGError("0A000", f"{kind} is not supported by lowcode_sql")
        if kind == "":
            return Outcome("")
        if kind in _WRITES:
            raise PGError("25006", f"cannot execute {kind} in a read-only transaction: lowcode_sql reads platforms "
                                   "and never writes to them")
        raise PGError("42601", f'syntax error at or near "{sql.split()[0]}"')

    async def _copy(self, sql: str, params: list[Any]) -> Outcome:
        m = _COPY.match(sql)
        if not m:
            if _COPY_FILE.match(sql):
                # as PostgreSQL answers a user without pg_read/write_server_files
                raise permission_denied("COPY to or from a file or program on the server (use COPY ... TO STDOUT, "
                                        "or psql's \\copy, which writes on the client)")
            if re.search(r"\bFROM\b", sql, re.I):
                raise PGError("25006", "cannot execute COPY FROM in a read-only transaction: lowcode_sql reads "
                                       "platforms and never writes to them")
            raise PGError("0A000", "only COPY (query) TO STDOUT and COPY table TO STDOUT are supported")
        query = m.group("query")[1:-1] if m.group("query") else \
            f"SELECT {m.group('cols') or '*'} FROM {m.group('table')}"
        opts_text = (m.group("opts") or "").strip().strip("()")
        opts: dict[str, str] = {"format": "text", "header": "false", "delimiter": "\t", "null": "\\N"}
        words = re.findall(r"'(?:[^']|'')*'|[^\s,]+", opts_text)
        i = 0
        while i < len(words):
            w = words[i].lower()
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if w in ("csv", "binary", "text"):
                opts["format"] = w
            elif w == "header":
                opts["header"] = "false" if nxt.lower() in ("false", "off", "0") else "true"
                i += nxt.lower() in ("true", "on", "1", "false", "off", "0")
            elif w in ("format", "delimiter", "null", "quote") and nxt:
                opts[w] = nxt[1:-1].replace("''", "'") if nxt.startswith("'") else nxt.lower()
                i += 1
            i += 1
        if opts["format"] == "binary":
            raise PGError("0A000", "COPY BINARY is not supported: use FORMAT text or csv")
        if opts["format"] == "csv":
            opts.setdefault("quote", '"')
            if opts["delimiter"] == "\t" and "delimiter" not in opts_text.lower():
                opts["delimiter"] = ","
            if opts["null"] == "\\N" and "null" not in opts_text.lower():
                opts["null"] = ""
        t = self.translate(query)
        table = await self.query(t, query, params)
        return Outcome("COPY", table, copy=opts)

    async def _explain(self, sql: str, params: list[Any]) -> Outcome:
        """EXPLAIN answers with lowcode_sql's own plan: what each scan pushes to the platform and the
        requests it sends (``Connection.explain``), one text row per line like PostgreSQL's."""
        m = re.match(r"\s*EXPLAIN\s+(?:\([^)]*\)\s*|(?:ANALY[SZ]E|VERBOSE)\s+)*(?P<q>.*)$", sql, re.I | re.S)
        query = m.group("q") if m else ""
        t = self.translate(query)
        if t.target == "engine":
            text = await self.in_thread(self.server.explain, t.sql, list(params) or None)
        else:
            text = "catalog query: answered by lowcode_sql's pg_catalog emulation (no platform requests)"
        return Outcome("EXPLAIN", pa.table({"QUERY PLAN": pa.array(text.splitlines(), pa.string())}))

    async def _send_copy(self, out: Outcome) -> None:
        assert out.table is not None and out.copy is not None
        table, opts = out.table, out.copy
        n = table.num_columns
        await self.send(p.message(b"H", struct.pack("!bh", 0, n) + struct.pack(f"!{n}h", *([0] * n))))
        csv = opts["format"] == "csv"
        lines = []
        if opts["header"] == "true":
            lines.append(opts["delimiter"].join(_copy_value(c, opts, csv) for c in table.column_names))
        if lines:
            await self.send(p.message(b"d", ("\n".join(lines) + "\n").encode()))
        for pos in range(0, table.num_rows, BATCH_ROWS):
            chunk = table.slice(pos, BATCH_ROWS)
            cols = [text_binary_array(c.combine_chunks()).to_pylist() for c in chunk.columns]
            body = "".join(opts["delimiter"].join(
                opts["null"] if v is None else _copy_value(v.decode(), opts, csv) for v in row) + "\n"
                for row in zip(*cols, strict=True))
            await self.send(p.message(b"d", body.encode()))
        await self.send(p.message(b"c") + p.command_complete(f"COPY {table.num_rows}"))

    def _end_transaction(self) -> None:
        # portals and cursors without WITH HOLD live until the end of their transaction
        for k in [k for k, v in self.portals.items() if not v.holdable]:
            self._drop_portal(k)

    async def _set(self, sql: str) -> None:
        m = _SET.match(sql)
        if not m:
            if re.match(r"\s*SET\s+(SESSION\s+CHARACTERISTICS|TRANSACTION|CONSTRAINTS|ROLE|SESSION\s+AUTH)", sql,
                        re.I):
                return  # accepted: nothing to change on a read-only engine
            raise PGError("42601", f"syntax error in SET: {sql[:80]!r}")
        name = (m.group("name") or "timezone").lower().strip('"')
        value = m.group("value").strip()
        if name == "time zone":
            name = "timezone"
        vals = [v.strip() for v in re.findall(r"'(?:[^']|'')*'|[^,]+", value)]
        value = ", ".join(v[1:-1].replace("''", "'") if v.startswith("'") else v for v in vals)
        _check_setting(name)
        if value.upper() == "DEFAULT":
            value = DEFAULT_SETTINGS.get(name, "")
        if name == "client_encoding" and value.upper().replace("-", "") not in ("UTF8", "UNICODE"):
            raise PGError("22023", f"client_encoding {value!r} is not supported: use UTF8")
        self.settings[name] = value
        if name in _REPORTED:
            await self.send(p.parameter_status(_REPORTED[name], value))

    def _show_name(self, sql: str) -> str:
        name = " ".join(sql.split()[1:]).rstrip(";").strip().lower().strip('"')
        return {"transaction isolation level": "transaction_isolation", "time zone": "timezone"}.get(name, name)

    def _show(self, sql: str) -> pa.Table:
        name = self._show_name(sql)
        if name == "all":
            items = sorted(self.settings.items())
            return pa.table([pa.array([k for k, _ in items]), pa.array([v for _, v in items]),
                             pa.array([""] * len(items))], schema=_SHOW_ALL_SCHEMA)
        if name not in self.settings:
            raise PGError("42704", f'unrecognized configuration parameter "{name}"')
        return pa.table({_REPORTED.get(name, name) if name in ("timezone", "datestyle", "intervalstyle") else name:
                         pa.array([self.settings[name]], pa.string())})

    async def _declare(self, sql: str, params: list[Any]) -> Outcome:
        m = _DECLARE.match(sql)
        if not m:
            raise PGError("42601", "syntax error in DECLARE")
        name = _ident(m.group("name"))
        if name in self.portals:
            raise PGError("42P03", f'cursor "{name}" already exists')
        query = m.group("query")
        t = self.translate(query)
        table = await self.query(t, query, params)
        holdable = bool(m.group("hold")) and m.group("hold").upper().startswith("WITH")
        portal = Portal(Prepared(query, [], "SELECT", t), [], [], Outcome("SELECT", table),
                        holdable=holdable or self.status == "I", is_cursor=True)
        self.portals[name] = portal
        return Outcome("DECLARE CURSOR")

    def _fetch(self, sql: str, kind: str) -> Outcome:
        m = _FETCH.match(sql)
        if not m:
            raise PGError("42601", f"syntax error in {kind}")
        name = _ident(m.group("name"))
        cur = self.portals.get(name)
        if cur is None or cur.outcome is None or cur.outcome.table is None:
            raise PGError("34000", f'cursor "{name}" does not exist')
        direction = (m.group("dir") or "NEXT").upper().split()
        table = cur.outcome.table
        remaining = table.num_rows - cur.pos
        if direction[0] in ("NEXT",):
            n = 1
        elif direction[0] == "ALL" or direction[-1] == "ALL":
            n = remaining
        elif direction[0] == "FORWARD":
            n = int(direction[1]) if len(direction) > 1 else 1
        elif direction[0].lstrip("+").isdigit():
            n = int(direction[0])
        elif direction[0] == "ABSOLUTE" and len(direction) > 1 and int(direction[1]) - 1 >= cur.pos:
            cur.pos = min(int(direction[1]) - 1, table.num_rows)
            n = 1
        else:
            raise PGError("0A000", f"cursor can only scan forward ({' '.join(direction)} is not supported)")
        n = max(0, min(n, remaining))
        rows = table.slice(cur.pos, n)
        cur.pos += n
        if kind == "MOVE":
            return Outcome(f"MOVE {n}")
        return Outcome("FETCH", rows)

    # --- results ------------------------------------------------------------------------------

    async def send_result(self, portal: Portal, max_rows: int, *, describe: bool) -> None:
        out = portal.outcome
        assert out is not None
        if out.copy is not None:
            await self._send_copy(out)
            return
        if out.stream is not None:
            if max_rows <= 0 and portal.pos == 0:
                await self._send_stream(portal, out, out.stream, describe)
                return
            # a row limit (fetch size): keep the rest in memory so Execute can resume at any pace
            stream, out.stream = out.stream, None
            out.table = await self._guarded(self.in_thread(stream.read_all))
        if out.table is None:
            await self.send(p.command_complete(out.tag))
            return
        table = out.table
        formats = _formats(portal.formats, table.num_columns)
        if describe:
            await self.send(p.row_description(_fields(table.schema), formats))
        start = portal.pos
        stop = table.num_rows if max_rows <= 0 else min(table.num_rows, start + max_rows)
        oids = [pg_type_for_arrow(f.type)[0] for f in table.schema]
        pos = start
        self.busy, self.cancelled = True, False
        try:
            while pos < stop:
                n = min(BATCH_ROWS, stop - pos)
                data = await self.in_thread(_encode_rows, table.slice(pos, n), formats, oids)
                if self.cancelled:
                    raise PGError("57014", "canceling statement due to user request")
                await self.send(data)
                pos += n
        finally:
            self.busy = False
        portal.pos = pos
        if max_rows > 0 and pos < table.num_rows:
            await self.send(p.message(b"s"))  # PortalSuspended: Execute again for more
            return
        count = pos - start
        tag = out.tag if out.tag not in ("SELECT", "FETCH") else f"{out.tag} {count}"
        await self.send(p.command_complete(tag))

    async def _guarded(self, work: Any, *, fresh: bool = True) -> Any:
        """Run blocking source work (fetching batches) as a cancellable, disconnect-aware step.
        ``fresh=False`` continues a statement already marked busy (a cancel may have arrived)."""
        if fresh:
            self.busy, self.cancelled = True, False
        try:
            return await self._watch_disconnect(asyncio.ensure_future(work))
        except Exception as e:
            if self.cancelled:
                raise PGError("57014", "canceling statement due to user request") from None
            raise e
        finally:
            if fresh:
                self.busy = False

    async def _send_stream(self, portal: Portal, out: Outcome, stream: RowStream, describe: bool) -> None:
        formats = _formats(portal.formats, len(stream.schema))
        if describe:
            await self.send(p.row_description(_fields(stream.schema), formats))
        oids = [pg_type_for_arrow(f.type)[0] for f in stream.schema]
        count = 0
        self.busy, self.cancelled = True, False  # a cancel stops the rows at any point
        try:
            while True:
                batch = await self._guarded(self.in_thread(stream.next_batch), fresh=False)
                if batch is None:
                    break
                if batch.num_rows:
                    data = await self.in_thread(_encode_rows, pa.Table.from_batches([batch]), formats, oids)
                    if self.cancelled:
                        raise PGError("57014", "canceling statement due to user request")
                    await self.send(data)  # drain() per batch: a slow client slows the scan, not memory
                    count += batch.num_rows
        finally:
            self.busy = False
            out.stream = None
            stream.close()
        out.table = stream.schema.empty_table()  # consumed: a second Execute returns no rows
        portal.pos = 0
        await self.send(p.command_complete(f"SELECT {count}"))

    def close(self) -> None:
        for name in list(self.portals):
            with contextlib.suppress(Exception):
                self._drop_portal(name)
        if self._cursor is not None:
            with contextlib.suppress(Exception):
                self._cursor.close()


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "DROP", "ALTER", "TRUNCATE", "GRANT",
                     "REVOKE", "COMMENT", "REINDEX", "CLUSTER", "REFRESH", "DO", "SECURITY"})
_QUERY_KEYWORDS = frozenset({"SELECT", "WITH", "VALUES", "TABLE", "("})
# DuckDB statements that reach files, databases, extensions or settings: never run, always refused
_HOST_STATEMENTS = frozenset({"PRAGMA", "ATTACH", "DETACH", "INSTALL", "LOAD", "FORCE", "EXPORT", "IMPORT", "CALL",
                              "USE", "CHECKPOINT"})
_HOST_STATEMENT = re.compile(r"\s*((CREATE|DROP)\s+(OR\s+REPLACE\s+)?(PERSISTENT\s+|TEMPORARY\s+)?SECRET|"
                             r"UPDATE\s+EXTENSIONS|(SET|RESET)\s+(GLOBAL|VARIABLE)|(CREATE|DROP)\s+MACRO)\b", re.I)
_COPY_FILE = re.compile(r"\s*COPY\b.*\b(TO|FROM)\s+(PROGRAM\b|'|E'|\$|[^\s(]*[/\\.])", re.I | re.S)
_KNOWN_KINDS = _QUERY_KEYWORDS | _WRITES | _HOST_STATEMENTS | {
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "SHOW", "RESET",
    "DISCARD", "DEALLOCATE", "DECLARE", "FETCH", "MOVE", "CLOSE", "COPY", "LISTEN", "UNLISTEN", "NOTIFY",
    "EXPLAIN"}
_SET = re.compile(r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?(?:(?P<tz>TIME\s+ZONE)|(?P<name>[A-Za-z_.\"]+)\s*(?:=|\bTO\b))"
                  r"\s*(?P<value>.*?)\s*;?\s*$", re.I | re.S)
_DECLARE = re.compile(r"\s*DECLARE\s+(?P<name>\"(?:[^\"]|\"\")+\"|\S+)\s+(?:BINARY\s+)?"
                      r"(?:A?SENSITIVE\s+|INSENSITIVE\s+)?"
                      r"(?:NO\s+)?(?:SCROLL\s+)?CURSOR\s+(?P<hold>(?:WITH|WITHOUT)\s+HOLD\s+)?FOR\s+(?P<query>.*)$",
                      re.I | re.S)
_FETCH = re.compile(r"\s*(?:FETCH|MOVE)\s+(?:(?P<dir>NEXT|PRIOR|FIRST|LAST|ALL|ABSOLUTE\s+-?\d+|RELATIVE\s+-?\d+|"
                    r"FORWARD(?:\s+(?:ALL|\d+))?|BACKWARD(?:\s+(?:ALL|\d+))?|[+]?\d+)\s+)?(?:(?:FROM|IN)\s+)?"
                    r"(?P<name>\"(?:[^\"]|\"\")+\"|[^\s;]+)\s*;?\s*$", re.I | re.S)
_COPY = re.compile(r"\s*COPY\s+(?:(?P<query>\(.*\))|(?P<table>[\w.\"]+)\s*(?:\((?P<cols>[^)]*)\))?)\s+TO\s+STDOUT"
                   r"\s*(?:WITH\s*)?(?P<opts>.*?)\s*;?\s*$", re.I | re.S)


def _check_setting(name: str) -> None:
    """SET and RESET change the session's settings only, never DuckDB's; a DuckDB setting's name
    (enable_external_access, allowed_directories, lock_configuration ...) is refused outright, so a
    client never believes it changed one. TimeZone and search_path are PostgreSQL's too."""
    if name in duckdb_settings() and name not in DEFAULT_SETTINGS and name not in ("timezone", "search_path"):
        raise PGError(INSUFFICIENT_PRIVILEGE, f'permission denied to set parameter "{name}"',
                      hint="DuckDB's settings are fixed on this server")


@functools.cache
def duckdb_settings() -> frozenset[str]:
    """The names of DuckDB's settings (lower case)."""
    con = duckdb.connect()
    try:
        return frozenset(r[0].lower() for r in con.execute("SELECT name FROM duckdb_settings()").fetchall())
    finally:
        con.close()


def _copy_value(v: str, opts: Mapping[str, str], csv: bool) -> str:
    """One value in COPY's text format (backslash escapes) or CSV (quoted when needed)."""
    if csv:
        q = opts.get("quote", '"')
        if v == "" or any(ch in v for ch in (opts["delimiter"], q, "\n", "\r")):
            return q + v.replace(q, q + q) + q
        return v
    out = v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    d = opts["delimiter"]
    return out if d == "\t" else out.replace(d, "\\" + d)


_SHOW_ALL_SCHEMA = pa.schema([("name", pa.string()), ("setting", pa.string()), ("description", pa.string())])


_MISSING_TABLE = re.compile(r"Table with name (\S+) does not exist")
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


def _engine_timezone(engine: Any) -> str:
    try:
        return str(engine._con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
    except Exception:
        return "UTC"


def _ident(name: str) -> str:
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.lower()


def _renamed(table: pa.Table, names: list[str] | None) -> pa.Table:
    if names and len(names) == table.num_columns and names != table.column_names:
        return table.rename_columns(names)
    return table


def _formats(requested: Sequence[int], n: int) -> list[int]:
    if not requested:
        return [0] * n
    if len(requested) == 1:
        return [requested[0]] * n
    return list(requested[:n]) + [0] * (n - len(requested))


def _fields(schema: pa.Schema) -> list[p.Field]:
    out = []
    for f in schema:
        oid, typlen, typmod = pg_type_for_arrow(f.type)
        out.append(p.Field(f.name, oid, typlen, typmod))
    return out


def _encode_rows(table: pa.Table, formats: Sequence[int], oids: Sequence[int]) -> bytes:
    cols = []
    for i, col in enumerate(table.columns):
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        cols.append(encode_binary_column(arr, oids[i]) if formats[i] == 1 else text_binary_array(arr))
    return p.data_rows_arrow(cols, table.num_rows)


class Server:
    """The wire server. ``users`` maps user names to SCRAM/md5 verifiers (``auth.load_users``);
    ``auth`` is ``"scram"`` (default), ``"md5"`` (also accepts md5 verifiers) or ``"trust"``."""

    def __init__(self, connection: Any, *, host: str = "127.0.0.1", port: int = 5433,
                 users: Mapping[str, str] | None = None, auth: str = "scram",
                 tls_cert: str | None = None, tls_key: str | None = None, require_tls: bool = False,
                 engines: int = 4, allowed_directories: Sequence[str] = (), auth_secret: bytes | None = None) -> None:
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
        self.executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="pgwire")
        self.sessions: dict[int, Session] = {}
        self.statement_kinds: collections.Counter[str] = collections.Counter()  # what clients send (tests, stats)
        # Source queries run on a pool of engines over the connection's catalog (one DuckDB each; the
        # HTTP runtimes are shared and thread-safe, fetch/loop.py), so a long scan for one client
        # does not hold up the others.
        self._engines: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._engine_count = max(1, engines)
        self._engines_made = 0
        self._engines_lock = threading.Lock()
        self._running: dict[int, list[Any]] = {}  # session pid -> the engines running its queries
        self.max_engines_busy = 0
        # read now, while nothing runs: DuckDB 2.0 refuses a second call on a busy connection
        self._timezone = _engine_timezone(connection.engine)
        self._server: asyncio.base_events.Server | None = None
        self._next_pid = os.getpid() % 10000 * 1000

    def refresh_catalog(self) -> None:
        """(Re)build the emulated catalog from the sources' tables (discovers them if needed)."""
        self.catalog.build(describe_sources(self.connection.catalog))

    def register(self, session: Session) -> tuple[int, int]:
        self._next_pid += 1
        pid, secret = self._next_pid, secrets.randbits(31)
        self.sessions[pid] = session
        return pid, secret

    def cancel(self, pid: int, secret: int) -> None:
        s = self.sessions.get(pid)
        if s is None or s.secret != secret or not s.busy:
            return
        s.cancelled = True
        log.info("cancel request for session %d", pid)
        if s._cursor is not None:
            with contextlib.suppress(Exception):
                s._cursor.interrupt()
        for engine in list(self._running.get(s.pid, ())):
            # interrupting that engine's DuckDB stops this session's query; the engine's cleanup
            # closes the scans' page generators, so no more pages are requested
            with contextlib.suppress(Exception):
                engine.interrupt()

    def _take_engine(self) -> Any:
        with self._engines_lock:
            try:
                return self._engines.get_nowait()
            except queue.Empty:
                if self._engines_made < self._engine_count:
                    # the pool's own engines, never the connection's: a stream uses its engine
                    # across calls without the engine's lock, so nobody else may touch it
                    self._engines_made += 1
                    from lowcode_sql.execute.engine import Engine

                    base = self.connection.engine
                    # never the connection's own engine either: it may allow external access
                    # (the Python API's default); these cannot, and their settings are locked.
                    # DuckDB reads a streamed result ahead into streaming_buffer_size (10 MiB by
                    # default): keep it small so a client reading slowly also slows the scan.
                    return Engine(self.connection.catalog, timezone=self._timezone,
                                  readahead=getattr(base, "readahead", None), external_access=False,
                                  allowed_directories=self.allowed_directories,
                                  settings={"streaming_buffer_size": "1MB"})
        return self._engines.get()  # all busy: wait for one

    def explain(self, sql: str, params: list[Any] | None) -> str:
        """EXPLAIN's text, planned on a pool engine (planning folds constants in its DuckDB)."""
        from lowcode_sql.explain import explain_plan

        engine = self._take_engine()
        try:
            return explain_plan(engine.plan(sql, params))
        finally:
            self._engines.put(engine)

    def run_engine(self, session: Session, sql: str, params: list[Any]) -> pa.Table:
        """A source query's whole result (DECLARE, COPY)."""
        stream = self.open_stream(session, sql, params, None)
        try:
            return stream.read_all()
        finally:
            stream.close()

    def open_stream(self, session: Session, sql: str, params: list[Any], names: list[str] | None) -> RowStream:
        engine = self._take_engine()
        running = self._running.setdefault(session.pid, [])
        running.append(engine)
        self.max_engines_busy = max(self.max_engines_busy, sum(len(v) for v in self._running.values()))

        def release() -> None:
            with contextlib.suppress(ValueError):
                running.remove(engine)
            if not running:
                self._running.pop(session.pid, None)
            self._engines.put(engine)

        if session.cancelled:
            release()
            raise PGError("57014", "canceling statement due to user request")
        return RowStream(engine, sql, params or None, BATCH_ROWS, names, release)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, self.refresh_catalog)
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        try:
            if await session.startup():
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

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.catalog.close()
        while True:  # the pool's engines (the connection's own is closed with the connection)
            try:
                engine = self._engines.get_nowait()
            except queue.Empty:
                break
            with contextlib.suppress(Exception):
                engine.close()


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
            if self.server._server is not None:
                self.server._server.close()
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
