"""`lowcode-sql serve` as a subprocess: psql against it, users from the environment, TLS."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from lowcode_sql.pgwire import scram_hash
from tests.certs import self_signed

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict[str, str], config: Path) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lowcode_sql.cli", "serve", "-c", str(config), "--port", str(port),
                             *args],
                            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "PostgreSQL protocol on" not in line:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"server did not start: {line} {err}")
    return proc, port


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.communicate(timeout=10)  # also closes the pipes


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # two sandbox sources (not --demo, which discovers every platform's tables: slower to start)
    path = tmp_path_factory.mktemp("serve") / "lowcode.toml"
    path.write_text('[sources.coredata]\nplatform = "coredata"\nsandbox = true\n\n'
                    '[sources.entu]\nplatform = "entu"\nsandbox = true\n')
    return path


@pytest.fixture(scope="module")
def served(config: Path) -> Iterator[int]:
    # the user's verifier comes from `serve --hash-password`, so that is tested too
    r = subprocess.run([sys.executable, "-m", "lowcode_sql.cli", "serve", "--hash-password"], input="pw1\n",
                       capture_output=True, text=True, timeout=60)
    verifier = r.stdout.strip()
    assert r.returncode == 0 and verifier.startswith("SCRAM-SHA-256$4096:"), r.stderr
    proc, port = _start([], {"LOWCODE_SQL_SERVE_USERS": f"carol={verifier}"}, config)
    yield port
    proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "server stopped" in err, err


def _psql(port: int, *args: str, password: str = "pw1", extra: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(["psql", f"host=127.0.0.1 port={port} user=carol dbname=lowcode {extra}", "-X", "-A",
                           "-v", "ON_ERROR_STOP=1", *args], env={**os.environ, "PGPASSWORD": password},
                          capture_output=True, text=True, timeout=60)


needs_psql = pytest.mark.skipif(shutil.which("psql") is None, reason="psql (postgresql-client) not installed")


@needs_psql
def test_psql_queries_and_meta_commands(served):
    r = _psql(served, "-c", "SELECT count(*) AS n, 10 / 4 AS q FROM coredata.projects WHERE title IS NOT NULL")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "n|q" and r.stdout.splitlines()[1].endswith("|2")
    r = _psql(served, "-c", r"\dt")
    assert r.returncode == 0, r.stderr
    assert "coredata|projects|table|lowcode" in r.stdout and "entu|book|table|lowcode" in r.stdout
    r = _psql(served, "-c", r"\d coredata.projects")
    assert r.returncode == 0, r.stderr
    assert "title|text" in r.stdout.replace("||", "|") or "title|text|" in r.stdout
    assert "created|timestamp without time zone" in r.stdout
    r = _psql(served, "-c", r"\dn")
    assert r.returncode == 0 and "coredata" in r.stdout and "entu" in r.stdout, r.stderr
    r = _psql(served, "-c", r"\l")
    assert r.returncode == 0 and "lowcode|lowcode|UTF8" in r.stdout, r.stderr
    for meta in (r"\d projects", r"\d+ entu.book", r"\dt+", r"\dn+", r"\du", r"\df", r"\dv", r"\l+", r"\dx",
                 r"\dp entu.book", r"\drds"):
        r = _psql(served, "-c", meta)
        assert r.returncode == 0 and "ERROR" not in r.stderr, (meta, r.stderr)


@needs_psql
def test_psql_copy_to_a_file(served, tmp_path):
    out = tmp_path / "books.csv"
    r = _psql(served, "-c", rf"\copy (SELECT name FROM entu.book ORDER BY name LIMIT 3) TO '{out}' CSV HEADER")
    assert r.returncode == 0, r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "name" and len(lines) == 4


@needs_psql
def test_psql_bad_password(served):
    r = _psql(served, "-c", "SELECT 1", password="nope")
    assert r.returncode != 0 and 'password authentication failed for user "carol"' in r.stderr


def test_require_tls(tmp_path, config):
    cert, key = self_signed(tmp_path)
    users = tmp_path / "users"
    users.write_text(f"# user=verifier\ndave={scram_hash('pw2')}\n")
    proc, port = _start(["--tls-cert", cert, "--tls-key", key, "--require-tls", "--users", str(users)], {}, config)
    try:
        base = f"host=localhost port={port} user=dave password=pw2 dbname=lowcode"
        with pytest.raises(psycopg.OperationalError, match="only TLS connections"):
            psycopg.connect(base + " sslmode=disable")
        with psycopg.connect(base + f" sslmode=verify-full sslrootcert={cert}") as c:
            assert c.info.pgconn.ssl_in_use
            assert c.execute("SELECT count(*) > 0 FROM entu.book").fetchone() == (True,)
    finally:
        _stop(proc)


def test_serve_without_users_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if k != "LOWCODE_SQL_SERVE_USERS"}
    r = subprocess.run([sys.executable, "-m", "lowcode_sql.cli", "serve", "--demo", "--port", "0"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "no users" in r.stderr and "Traceback" not in r.stderr

