"""The extended protocol message by message, with a minimal raw client: what drivers like pgJDBC
rely on but psycopg does not exercise (row limits, Describe without running, skip-to-Sync)."""

from __future__ import annotations

import logging
import socket
import struct
import time

import pytest

from lowcode_sql.pgwire.auth import scram_hash
from lowcode_sql.pgwire.server import ServerThread
from tests.pgwire.conftest import BIG_ROWS

pytestmark = pytest.mark.slow


class Raw:
    """Just enough of a frontend: trust auth, send messages, read (type, payload) pairs."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        body = b"user\x00raw\x00database\x00lowcode\x00\x00"
        self.sock.sendall(struct.pack("!ii", len(body) + 8, 196608) + body)
        msgs = self.until(b"Z")
        assert msgs[0] == (b"R", struct.pack("!i", 0))

    def send(self, kind: bytes, payload: bytes = b"") -> None:
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def _read(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            assert chunk, "server closed the connection"
            buf += chunk
        return buf

    def read(self) -> tuple[bytes, bytes]:
        kind, length = struct.unpack("!ci", self._read(5))
        return kind, self._read(length - 4)

    def until(self, kind: bytes) -> list[tuple[bytes, bytes]]:
        out = []
        while True:
            m = self.read()
            out.append(m)
            if m[0] == kind:
                return out

    def parse(self, name: str, sql: str, oids: tuple[int, ...] = ()) -> None:
        self.send(b"P", name.encode() + b"\0" + sql.encode() + b"\0" + struct.pack(f"!h{len(oids)}i", len(oids), *oids))

    def bind(self, portal: str, stmt: str, params: tuple[bytes | None, ...] = ()) -> None:
        body = portal.encode() + b"\0" + stmt.encode() + b"\0" + struct.pack("!hh", 0, len(params))
        for v in params:
            body += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
        self.send(b"B", body + struct.pack("!h", 0))

    def execute(self, portal: str, max_rows: int = 0) -> None:
        self.send(b"E", portal.encode() + b"\0" + struct.pack("!i", max_rows))

    def close(self) -> None:
        self.send(b"X")
        self.sock.close()


def kinds(msgs: list[tuple[bytes, bytes]]) -> list[bytes]:
    return [k for k, _ in msgs]


def field(payload: bytes, code: bytes) -> str:
    for part in payload.split(b"\0"):
        if part[:1] == code:
            return part[1:].decode()
    return ""


@pytest.fixture(scope="module")
def trust(sandbox_con):
    with ServerThread(sandbox_con, port=0, auth="trust") as srv:
        yield srv


def test_row_limit_suspends_portal(trust):
    c = Raw(trust.port)
    c.parse("s1", "SELECT label FROM entu.big WHERE n < $1 ORDER BY n")
    c.bind("p1", "s1", (b"5",))  # OID 0 parameter, text
    c.execute("p1", 2)
    c.send(b"H")
    got = c.until(b"s")
    assert kinds(got) == [b"1", b"2", b"D", b"D", b"s"]
    c.execute("p1", 2)
    c.execute("p1", 2)
    c.send(b"S")
    got = c.until(b"Z")
    assert kinds(got) == [b"D", b"D", b"s", b"D", b"C", b"Z"]
    assert got[-2][1] == b"SELECT 1\0" and got[-1][1] == b"I"
    c.close()


def test_describe_statement_does_not_run_the_query(trust, sandbox_con):
    sandbox = sandbox_con.sandbox("entu")
    c = Raw(trust.port)
    before = sandbox.stats.requests
    c.parse("", "SELECT name, price * 2 AS double_price, count(*) OVER () FROM entu.item WHERE name = $1", (0,))
    c.send(b"D", b"S\0")
    c.send(b"S")
    got = c.until(b"Z")
    assert kinds(got) == [b"1", b"t", b"T", b"Z"]
    assert struct.unpack("!hi", got[1][1]) == (1, 25)  # the unknown parameter is described as text
    names = [p.split(b"\0")[0] for p in got[2][1][2:].split(b"\0", 2)[:1]]
    assert names == [b"name"] and b"double_price" in got[2][1] and b"count" in got[2][1]
    assert sandbox.stats.requests == before  # nothing was fetched
    c.close()


def test_error_skips_to_sync_and_session_recovers(trust):
    c = Raw(trust.port)
    c.send(b"Q", b"BEGIN\0")
    assert c.until(b"Z")[-1][1] == b"T"
    c.parse("", "SELECT * FROM entu.missing")
    c.bind("", "")
    c.execute("")
    c.send(b"S")
    got = c.until(b"Z")
    assert kinds(got) == [b"1", b"2", b"E", b"Z"] and field(got[2][1], b"C") == "42P01" and got[-1][1] == b"E"
    c.send(b"Q", b"SELECT 1\0")
    got = c.until(b"Z")
    assert field(got[0][1], b"C") == "25P02"
    c.send(b"Q", b"ROLLBACK\0")
    got = c.until(b"Z")
    assert got[0] == (b"C", b"ROLLBACK\0") and got[-1][1] == b"I"
    c.send(b"Q", b"SELECT 1 AS one; SELECT 2\0")
    got = c.until(b"Z")
    assert kinds(got) == [b"T", b"D", b"C", b"T", b"D", b"C", b"Z"]
    c.send(b"Q", b"\0")
    assert kinds(c.until(b"Z")) == [b"I", b"Z"]  # EmptyQueryResponse
    c.close()


def test_named_statement_close_and_reuse(trust):
    c = Raw(trust.port)
    c.parse("st", "SELECT count(*) FROM entu.big")
    c.parse("st", "SELECT 1")  # duplicate name: error, then skip to Sync
    c.send(b"S")
    got = c.until(b"Z")
    assert kinds(got) == [b"1", b"E", b"Z"] and field(got[1][1], b"C") == "42P05"
    c.bind("", "st")
    c.send(b"D", b"P\0")
    c.execute("")
    c.send(b"C", b"Sst\0")
    c.send(b"S")
    got = c.until(b"Z")
    assert kinds(got) == [b"2", b"T", b"D", b"C", b"3", b"Z"]
    assert got[2][1][6:] == str(BIG_ROWS).encode()
    c.bind("", "st")
    c.send(b"S")
    got = c.until(b"Z")
    assert field(got[0][1], b"C") == "26000"
    c.close()


def test_unknown_catalog_query_is_logged_and_answered(trust, caplog):
    c = Raw(trust.port)
    with caplog.at_level(logging.WARNING, logger="lowcode_sql.pgwire"):
        c.send(b"Q", b"SELECT pg_catalog.pg_frobnicate(oid) FROM pg_catalog.pg_class\0")
        got = c.until(b"Z")
    assert got[0][0] == b"E" and "not supported" in field(got[0][1], b"M")
    assert any("pg_frobnicate" in r.getMessage() for r in caplog.records)
    c.send(b"Q", b"SELECT count(*) > 0 FROM pg_catalog.pg_type\0")
    assert kinds(c.until(b"Z")) == [b"T", b"D", b"C", b"Z"]
    c.close()


def test_ssl_request_refused_without_certificate(trust):
    s = socket.create_connection(("127.0.0.1", trust.port), timeout=10)
    s.sendall(struct.pack("!ii", 8, 80877103))
    assert s.recv(1) == b"N"
    s.close()


def test_scram_verifier_round_trip():
    v = scram_hash("pw", salt=b"0123456789abcdef")
    assert v.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert v == scram_hash("pw", salt=b"0123456789abcdef")


def test_disconnect_stops_the_scan(trust, sandbox_con):
    # under a LIMIT the scan ramps its read-ahead up page by page (1, 2, 4, ...); without one it
    # asks for every page once the total is known (issue 15), all before a client could leave
    sql = "SELECT count(*) FROM (SELECT label FROM entu.big WHERE label LIKE '%7%' LIMIT 100000) AS t"
    full = sandbox_con.sql(sql).requests  # what the whole scan costs
    sandbox = sandbox_con.sandbox("entu")
    old = sandbox.latency
    sandbox.latency = 1.0  # pages arrive slowly: the scan is still running when the client leaves
    try:
        c = Raw(trust.port)
        before = sandbox.stats.requests
        c.send(b"Q", sql.encode() + b"\0")
        time.sleep(0.8)
        c.sock.close()  # gone without a Terminate message
        # wait until no request has been made for 1.5 s (pages already requested still arrive)
        last, quiet_since, deadline = sandbox.stats.requests, time.monotonic(), time.monotonic() + 20
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 1.5:
            time.sleep(0.1)
            if sandbox.stats.requests != last:
                last, quiet_since = sandbox.stats.requests, time.monotonic()
        assert before < last < before + full  # it started, and stopped before the end
    finally:
        sandbox.latency = old


def test_row_stream_reads_a_source_query_batch_by_batch(sandbox_con):
    from lowcode_sql.execute.engine import Engine
    from lowcode_sql.pgwire.stream import RowStream
    from tests.pgwire.conftest import MID_ROWS

    released = []
    engine = Engine(sandbox_con.catalog)
    try:
        stream = RowStream(engine, "SELECT label, n AS x FROM entu.mid", None, 64, ["label", "renamed"],
                           lambda: released.append(True))
        assert stream.schema.names == ["label", "renamed"] and not released
        sizes = []
        while (batch := stream.next_batch()) is not None:
            sizes.append(batch.num_rows)
            assert batch.schema.names == ["label", "renamed"]
        assert sum(sizes) == MID_ROWS and len(sizes) > 1 and released == [True]
        stream.close()
        assert released == [True]  # given back once
        # a stream closed early gives its engine back and leaves no view behind
        early = RowStream(engine, "SELECT label FROM entu.mid", None, 64, None, lambda: released.append(True))
        assert early.next_batch() is not None
        early.close()
        assert len(released) == 2
        assert engine.execute("SELECT count(*) FROM entu.mid").fetchall() == [(MID_ROWS,)]
    finally:
        engine.close()


def test_pool_engines_take_the_connection_engines_time_zone(sandbox_con):
    """The server reads the connection engine's time zone through ``Engine.setting`` (not its
    DuckDB connection) and gives it to the engines of its pool."""
    from lowcode_sql.execute.engine import Engine
    from lowcode_sql.pgwire.pool import EnginePool, engine_timezone

    engine = Engine(sandbox_con.catalog, timezone="Europe/Tallinn", external_access=False)
    try:
        assert engine.setting("TimeZone") == "Europe/Tallinn"
        pool = EnginePool(sandbox_con, size=1, timezone=engine_timezone(engine), allowed_directories=[])
        pooled = pool.take()
        try:
            assert pooled.setting("TimeZone") == "Europe/Tallinn"
        finally:
            pool.give(pooled)
            pool.close()
    finally:
        engine.close()


def test_pipelined_messages_get_every_reply_in_order(trust):
    """Replies are kept back while more client messages are buffered (Session.send) and written
    before the server waits for the client again: a pipelined batch, sent in one write, gets all
    its replies, in order, and a client that waits after each Sync is never left waiting."""
    c = Raw(trust.port)
    batch = b""
    for i in range(3):
        for kind, payload in (
                (b"P", b"\0SELECT " + str(i).encode() + b" AS n\0\0\0"),
                (b"B", b"\0\0\0\0\0\0\0\0"),
                (b"E", b"\0\0\0\0\0"),
                (b"S", b"")):
            batch += kind + struct.pack("!i", len(payload) + 4) + payload
    batch += b"Q" + struct.pack("!i", len(b"SELECT 7\0") + 4) + b"SELECT 7\0"
    c.sock.sendall(batch)
    got = []
    for _ in range(4):
        got += c.until(b"Z")
    assert kinds(got) == [b"1", b"2", b"D", b"C", b"Z"] * 3 + [b"T", b"D", b"C", b"Z"]
    assert [p for k, p in got if k == b"D"] == [struct.pack("!hi", 1, 1) + str(v).encode() for v in (0, 1, 2, 7)]
    c.parse("", "SELECT 8")  # one message at a time: each Sync is answered before the next is sent
    c.bind("", "")
    c.execute("")
    c.send(b"S")
    assert kinds(c.until(b"Z")) == [b"1", b"2", b"D", b"C", b"Z"]
    c.close()
