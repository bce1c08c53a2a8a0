"""A wire server's first client pays nothing once per process in its first queries (issue 15,
item 5): the server made, as it started, what they would otherwise make (sqlglot's PostgreSQL
dialect, the DuckDB function names translations check, an engine). Checked by what happens
inside them in a fresh server process, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

CHILD = """
import asyncio, json, sys, threading
import duckdb, psycopg
import lowcode_sql
from lowcode_sql.pgwire.server import Server

con = lowcode_sql.demo()
srv = Server(con, host="127.0.0.1", port=0, users={}, auth="trust")
loop = asyncio.new_event_loop()
ready = threading.Event()

def serve():
    asyncio.set_event_loop(loop)
    loop.run_until_complete(srv.start())
    ready.set()
    loop.run_forever()

threading.Thread(target=serve, daemon=True).start()
ready.wait(60)
client = psycopg.connect(f"host=127.0.0.1 port={srv.port} user=me dbname=lowcode")
opened = []
real = duckdb.connect
duckdb.connect = lambda *a, **k: opened.append(1) or real(*a, **k)
before = set(sys.modules)
rows = [client.execute(q).fetchall() for q in ("SELECT 1", "SELECT count(*) FROM coredata.projects",
                                               "SELECT name FROM entu.person ORDER BY 1 LIMIT 2")]
print(json.dumps({"imported": sorted(set(sys.modules) - before), "databases": len(opened), "rows": len(rows)}))
"""


@pytest.mark.slow
def test_a_servers_first_queries_import_and_open_nothing() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rows"] == 3
    assert seen["imported"] == [] and seen["databases"] == 0, seen
