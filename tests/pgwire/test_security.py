"""The wire server gives SQL users the sources and nothing of the host: no files, environment,
network, extensions or DuckDB settings (README, "Security").

Every route tried is listed in ``ROUTES`` and must be refused with SQLSTATE 42501
(insufficient_privilege: what PostgreSQL answers a non-superuser for ``COPY ... TO '/file'`` or
``pg_read_file``), through psycopg (extended protocol) and psql (simple protocol), after which the
same session still answers a normal query. Two walls stand behind each refusal: DuckDB's own
(external access off, locked configuration: ``execute/duck.py``), tested here through the engines
directly, and the transpiler's and session's refusals in front of it.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lowcode_sql
import lowcode_sql.execute.scan as scan_module  # where a scan converts its pages
from lowcode_sql.pgwire import ServerThread, md5_hash, scram_hash

USER, PASSWORD = "erin", "pw secure"
SECRET = "TOPSECRET-7f3a"  # in a file outside the allowed directory: must never reach a client
ITEMS = pa.table({"name": ["alpha", "beta", "gamma"], "qty": [1, 2, 3]})


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("security")
    allowed, outside, sibling = root / "allowed", root / "outside", root / "allowed-private"
    for d in (allowed, outside, sibling):
        d.mkdir()
    (allowed / "notes.csv").write_text("name,note\nalpha,first\nbeta,second\n")
    pq.write_table(pa.table({"name": ["gamma"], "note": ["third"]}), allowed / "notes.parquet")
    (outside / "secret.txt").write_text(SECRET + "\n")
    (outside / "secret.csv").write_text(f"k\n{SECRET}\n")
    (sibling / "secret.csv").write_text(f"k\n{SECRET}\n")
    (outside / "lowcode.toml").write_text(f'[serve.users]\nerin = "{SECRET}"\n')
    return {"root": root, "allowed": allowed, "outside": outside, "sibling": sibling}


@pytest.fixture(scope="module")
def served(dirs: dict[str, Path]) -> Iterator[ServerThread]:
    con = lowcode_sql.connect_sandbox("entu", {"item": ITEMS})
    users = {USER: scram_hash(PASSWORD), "mallory": md5_hash("mallory", "pw")}
    with ServerThread(con, port=0, users=users, auth="scram", allowed_directories=[str(dirs["allowed"])]) as srv:
        yield srv
    con.close()


@pytest.fixture(scope="module")
def dsn(served: ServerThread) -> str:
    return f"host=127.0.0.1 port={served.port} user={USER} password='{PASSWORD}' dbname=lowcode sslmode=disable"


def routes(d: dict[str, Path]) -> list[tuple[str, str]]:
    """(what, SQL): every way to the host we know of. Each must be refused with 42501."""
    out, sec, sib = d["outside"], d["outside"] / "secret.txt", d["sibling"] / "secret.csv"
    return [
        # files: the environment (platform credentials), the users file, the config, anything
        ("environment", "SELECT * FROM read_text('/proc/self/environ')"),
        ("read_text", f"SELECT content FROM read_text('{sec}')"),
        ("config file", f"SELECT * FROM read_text('{out / 'lowcode.toml'}')"),
        ("read_blob glob", "SELECT * FROM read_blob('/etc/*')"),
        ("read_csv", "SELECT * FROM read_csv('/etc/passwd')"),
        ("read_csv_auto", "SELECT * FROM read_csv_auto('/etc/passwd')"),
        ("read_json", "SELECT * FROM read_json('/etc/passwd')"),
        ("read_json_auto", "SELECT * FROM read_json_auto('/etc/passwd')"),
        ("read_ndjson", "SELECT * FROM read_ndjson('/etc/passwd')"),
        ("read_parquet", f"SELECT * FROM read_parquet('{out}/x.parquet')"),
        ("parquet_scan", f"SELECT * FROM parquet_scan('{out}/x.parquet')"),
        ("parquet_metadata", f"SELECT * FROM parquet_metadata('{out}/x.parquet')"),
        ("sniff_csv", "SELECT * FROM sniff_csv('/etc/passwd')"),
        ("glob", "SELECT * FROM glob('/etc/*')"),
        ("file as table (string)", f"SELECT * FROM '{out}/secret.csv'"),
        ("file as table (identifier)", f'SELECT * FROM "{out}/secret.csv"'),
        ("sibling of an allowed directory", f"SELECT * FROM read_csv('{sib}')"),
        ("escape with ..", f"SELECT * FROM read_csv('{d['allowed']}/../outside/secret.csv')"),
        ("relative path", "SELECT * FROM read_csv('secret.csv')"),
        ("computed path", f"SELECT * FROM read_csv('{d['allowed']}/' || 'x.csv')"),
        ("list with one outside", f"SELECT * FROM read_csv(['{d['allowed']}/notes.csv', '{sib}'])"),
        # ... also inside queries over platform tables
        ("joined to a platform table", f"SELECT i.name FROM entu.item i JOIN read_text('{sec}') t ON true"),
        ("lateral", "SELECT i.name, f.* FROM entu.item i, LATERAL read_text('/proc/self/environ') f"),
        ("scalar subquery", f"SELECT name, (SELECT content FROM read_text('{sec}')) FROM entu.item"),
        ("IN subquery", "SELECT name FROM entu.item WHERE name IN (SELECT content FROM read_text('/etc/hostname'))"),
        ("CTE", "WITH f AS (SELECT * FROM read_blob('/etc/*')) SELECT i.name FROM entu.item i, f"),
        ("catalog query", "SELECT c.relname FROM pg_class c, read_text('/proc/self/environ') f"),
        ("DECLARE", "DECLARE c1 CURSOR WITH HOLD FOR SELECT * FROM read_text('/proc/self/environ')"),
        ("COPY (query) TO STDOUT", "COPY (SELECT * FROM read_text('/proc/self/environ')) TO STDOUT"),
        ("EXPLAIN", "EXPLAIN SELECT * FROM entu.item, read_text('/proc/self/environ')"),
        # network (SSRF) and extensions
        ("http", "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')"),
        ("s3", "SELECT * FROM read_parquet('s3://bucket/key.parquet')"),
        ("extension table function", "SELECT * FROM iceberg_scan('s3://bucket/t')"),
        ("INSTALL", "INSTALL httpfs"),
        ("FORCE INSTALL", "FORCE INSTALL httpfs"),
        ("LOAD", "LOAD httpfs"),
        ("UPDATE EXTENSIONS", "UPDATE EXTENSIONS"),
        ("duckdb_extensions", "SELECT * FROM duckdb_extensions()"),
        # writing or attaching files
        ("COPY TO file", f"COPY (SELECT 1) TO '{out}/x.csv'"),
        ("COPY table TO file", f"COPY entu.item TO '{out}/x.csv'"),
        ("COPY FROM file", "COPY entu.item FROM '/etc/passwd'"),
        ("COPY TO PROGRAM", "COPY (SELECT 1) TO PROGRAM 'id'"),
        ("EXPORT DATABASE", f"EXPORT DATABASE '{out}/exp'"),
        ("IMPORT DATABASE", f"IMPORT DATABASE '{out}/exp'"),
        ("ATTACH file", f"ATTACH '{out}/x.db' AS x"),
        ("ATTACH memory", "ATTACH ':memory:' AS m2"),
        ("DETACH", "DETACH memory"),
        ("USE", "USE memory"),
        ("CHECKPOINT", "CHECKPOINT"),
        # secrets
        ("CREATE SECRET", "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
        ("CREATE PERSISTENT SECRET", "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"),
        ("DROP SECRET", "DROP SECRET s"),
        ("duckdb_secrets", "SELECT * FROM duckdb_secrets()"),
        ("which_secret", "SELECT * FROM which_secret('s3://b/k', 's3')"),
        # DuckDB's configuration: read (paths) or turned back on
        ("duckdb_settings", "SELECT name, value FROM duckdb_settings()"),
        ("current_setting computed", "SELECT current_setting(name) FROM entu.item"),
        ("SET", "SET enable_external_access = true"),
        ("SET TO", "SET allowed_directories TO '/'"),
        ("SET lock", "SET lock_configuration = false"),
        ("SET autoinstall", "SET autoinstall_known_extensions = true"),
        ("SET temp_directory", "SET temp_directory = '/tmp'"),
        ("SET GLOBAL", "SET GLOBAL enable_external_access = true"),
        ("SET VARIABLE", "SET VARIABLE x = 1"),
        ("RESET", "RESET enable_external_access"),
        ("RESET lock", "RESET lock_configuration"),
        ("set_config", "SELECT set_config('enable_external_access', 'true', false)"),
        ("PRAGMA", "PRAGMA enable_profiling"),
        ("PRAGMA database_list", "PRAGMA database_list"),
        ("pragma table function", "SELECT * FROM pragma_database_size()"),
        ("CALL", "CALL enable_logging()"),
        ("query()", "SELECT * FROM query('SELECT * FROM read_text(''/proc/self/environ'')')"),
        ("query_table()", "SELECT * FROM query_table('pg_class')"),
        ("CREATE MACRO", "CREATE MACRO getenv2(x) AS x"),
    ]


def _allowed_ok(d: dict[str, Path]) -> list[tuple[str, list[tuple[object, ...]]]]:
    a = d["allowed"]
    return [
        (f"SELECT i.name, n.note FROM entu.item i JOIN read_csv('{a}/notes.csv') n ON n.name = i.name "
         "ORDER BY i.name", [("alpha", "first"), ("beta", "second")]),
        (f"SELECT name, note FROM read_parquet('{a}/notes.parquet')", [("gamma", "third")]),
        (f"SELECT note FROM '{a}/notes.csv' ORDER BY note", [("first",), ("second",)]),
    ]


def _normal(cur: psycopg.Cursor) -> None:
    assert cur.execute("SELECT name, qty FROM entu.item WHERE qty >= 2 ORDER BY name").fetchall() == \
        [("beta", 2), ("gamma", 3)]


def test_every_route_is_refused_through_psycopg(dsn, dirs, caplog):
    caplog.set_level(logging.WARNING, logger="lowcode_sql.pgwire")
    with psycopg.connect(dsn, autocommit=True) as c:
        cur = c.cursor()
        for what, sql in routes(dirs):
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as info:
                cur.execute(sql)
            text = f"{info.value} {info.value.diag.message_hint}"
            assert info.value.sqlstate == "42501", what
            assert SECRET not in text and "Traceback" not in text, what
            _normal(cur)  # the session is fine
        # none of it turned anything back on
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM read_text('/proc/self/environ')")
        assert cur.execute("SHOW TimeZone").fetchone() == ("UTC",)
    assert SECRET not in caplog.text  # the refusals are logged, the data was never read


def test_allowed_directories_are_readable_and_joinable(dsn, dirs):
    with psycopg.connect(dsn, autocommit=True) as c:
        for sql, rows in _allowed_ok(dirs):
            assert c.execute(sql).fetchall() == rows, sql


def test_duckdb_is_the_first_wall(served, dirs):
    """Behind the refusals: the server's DuckDBs refuse the host themselves, whatever SQL reaches
    them (the pool's engines, the catalog's), and their configuration cannot be changed."""
    srv = served.server
    engine = srv.pool.take()
    try:
        cursors = [engine._con, engine._fold_con, srv.catalog.cursor()]
        for con in cursors:
            for sql in ("SELECT * FROM read_text('/proc/self/environ')", "SELECT * FROM glob('/etc/*')",
                        f"SELECT * FROM read_csv('{dirs['sibling']}/secret.csv')",
                        f"COPY (SELECT 1) TO '{dirs['allowed']}/../outside/w.csv'", "LOAD httpfs",
                        "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')"):
                with pytest.raises(duckdb.PermissionException):
                    con.execute(sql)
            for sql in ("SET enable_external_access = true", "RESET enable_external_access",
                        "SET lock_configuration = false", "SET GLOBAL allowed_directories = ['/']",
                        "PRAGMA enable_profiling", "SET TimeZone = 'Asia/Tokyo'"):
                with pytest.raises(duckdb.InvalidInputException, match="locked"):
                    con.execute(sql)
            # fetchall: DuckDB 2.0 keeps an unfinished result open and refuses the next statement
            assert con.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
        assert engine._con.execute("SELECT count(*) FROM read_csv(?)",
                                   [str(dirs["allowed"] / "notes.csv")]).fetchall() == [(2,)]
        # the lazy Arrow sources still register and stream on the locked connection
        assert engine.execute("SELECT sum(qty) FROM entu.item").fetchall() == [(6,)]
    finally:
        srv.pool.give(engine)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("psql") is None, reason="psql (postgresql-client) not installed")
def test_every_route_is_refused_through_psql(served, dirs, tmp_path):
    statements = []
    for _, sql in routes(dirs):
        statements += [sql + ";", "SELECT count(*) AS n FROM entu.item;"]
    script = tmp_path / "routes.sql"
    script.write_text("\n".join(statements) + "\n")
    r = subprocess.run(["psql", f"host=127.0.0.1 port={served.port} user={USER} dbname=lowcode", "-X", "-A", "-t",
                        "-v", "VERBOSITY=verbose", "-f", str(script)],
                       env={**os.environ, "PGPASSWORD": PASSWORD}, capture_output=True, text=True, timeout=120)
    errors = [line for line in r.stderr.splitlines() if "ERROR:" in line]
    assert len(errors) == len(routes(dirs)), r.stderr
    assert all("ERROR:  42501:" in line for line in errors), r.stderr
    assert r.stdout.split() == ["3"] * len(routes(dirs))  # the normal query after each refusal
    assert SECRET not in r.stdout + r.stderr


def test_a_failing_scan_sends_no_traceback_class_or_path(served, dsn, monkeypatch, caplog):
    """A scan breaking mid-stream with a non-platform error (an OSError naming a server path) gives
    the client XX000 and a plain message; the detail and traceback go to the server log."""
    real, real_decoder = scan_module.records_to_batch, scan_module.arrow_page_decoder

    def broken(*args, **kw):
        raise OSError(2, "No such file or directory", "/srv/lowcode/secret-path.toml")

    # both ways a page becomes a batch: from its records, or straight from its bytes
    monkeypatch.setattr(scan_module, "records_to_batch", broken)
    monkeypatch.setattr(scan_module, "arrow_page_decoder", lambda *a, **kw: broken)
    caplog.set_level(logging.ERROR, logger="lowcode_sql.pgwire")
    with psycopg.connect(dsn, autocommit=True) as c:
        with pytest.raises(psycopg.errors.InternalError_) as info:
            c.execute("SELECT * FROM entu.item").fetchall()
        msg = str(info.value)
        assert info.value.sqlstate == "XX000"
        assert msg.startswith("entu.item: internal error"), msg
        for leak in ("Traceback", "OSError", "FileNotFoundError", "/srv/lowcode", "secret-path", ".py"):
            assert leak not in msg, leak
        monkeypatch.setattr(scan_module, "records_to_batch", real)
        monkeypatch.setattr(scan_module, "arrow_page_decoder", real_decoder)
        _normal(c.cursor())
    assert "/srv/lowcode/secret-path.toml" in caplog.text and "Traceback" in caplog.text


# --- SCRAM: login probes cannot tell which users exist ------------------------------------------

def _scram_first(port: int, user: str) -> tuple[int, str, int]:
    """Start a login as ``user`` and return (auth request code, salt, iterations) of the server's
    first SCRAM message (salt/iterations empty for a non-SCRAM request)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        body = struct.pack("!i", 196608) + b"user\x00" + user.encode() + b"\x00database\x00lowcode\x00\x00"
        s.sendall(struct.pack("!i", len(body) + 4) + body)
        kind, payload = _read(s)
        code = struct.unpack("!i", payload[:4])[0]
        if kind != b"R" or code != 10:
            return code, "", 0
        first = b"n,,n=,r=clientnonce123"
        sasl = b"SCRAM-SHA-256\x00" + struct.pack("!i", len(first)) + first
        s.sendall(b"p" + struct.pack("!i", len(sasl) + 4) + sasl)
        kind, payload = _read(s)
        assert kind == b"R" and struct.unpack("!i", payload[:4])[0] == 11
        attrs = dict(kv.split("=", 1) for kv in payload[4:].decode().split(","))
        return 10, attrs["s"], int(attrs["i"])


def _read(s: socket.socket) -> tuple[bytes, bytes]:
    head = _exactly(s, 5)
    return head[:1], _exactly(s, struct.unpack("!i", head[1:])[0] - 4)


def _exactly(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk, "server closed the connection"
        out += chunk
    return out


def test_unknown_users_get_a_stable_mock_salt(served):
    port = served.server.port
    real_salt = served.server.users[USER].split("$")[1].split(":")[1]
    assert _scram_first(port, USER) == (10, real_salt, 4096)
    ghost = _scram_first(port, "ghost")
    assert ghost[0] == 10 and ghost[2] == 4096 and len(base64.b64decode(ghost[1])) == 16
    assert _scram_first(port, "ghost") == ghost  # same answer every time, like a real user's
    assert _scram_first(port, "ghost2")[1] != ghost[1]
    # an md5 user on a SCRAM-only server is not told apart either (no md5 request, no message)
    assert _scram_first(port, "mallory")[0] == 10


def test_unknown_user_and_wrong_password_fail_alike(served):
    base = f"host=127.0.0.1 port={served.port} dbname=lowcode sslmode=disable"
    answers = []
    for user, pw in ((USER, "wrong"), ("ghost", "wrong"), ("mallory", "pw")):
        with pytest.raises(psycopg.OperationalError) as info:
            psycopg.connect(f"{base} user={user} password='{pw}'")
        answers.append(str(info.value).replace(user, "<user>"))
    assert answers[0] == answers[1] == answers[2]
    assert "password authentication failed" in answers[0]


def test_session_time_zone_works_under_the_lock(dsn):
    """The engines' DuckDB settings are locked; a session's TimeZone is the session's own."""
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SET TimeZone = 'Europe/Tallinn'")
        assert c.execute("SHOW TimeZone").fetchone() == ("Europe/Tallinn",)
        assert c.execute("SELECT current_setting('TimeZone')").fetchone() == ("Europe/Tallinn",)
        assert c.execute("SELECT count(*) FROM entu.item WHERE qty > 1").fetchone() == (2,)
        ts = c.execute("SELECT TIMESTAMPTZ '2024-01-01 00:00:00+00'").fetchone()[0]
        assert ts == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_serve_allowed_directories_config(dirs):
    from lowcode_sql.errors import ConfigError
    from lowcode_sql.pgwire.cli import serve_directories

    assert serve_directories({}) == []  # off by default
    assert serve_directories({"allowed_directories": [str(dirs["allowed"])]}) == [f"{dirs['allowed']}/"]
    for bad in ({"allowed_directories": str(dirs["allowed"])}, {"allowed_directories": [str(dirs["root"] / "nope")]},
                {"allowed_directory": [str(dirs["allowed"])]}):
        with pytest.raises(ConfigError, match=r"\[serve\]"):
            serve_directories(bad)
