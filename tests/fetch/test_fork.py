"""A forked child (multiprocessing, Celery and gunicorn workers) queries with an I/O loop of its
own, and leaves its parent's connections alone (``fetch.loop``, ``SourceRuntime._in_this_process``).
Before, the child's first query waited forever on the parent's loop, whose thread it does not have,
and closing the parent's DuckDB at the child's exit hung; a connection opened before the fork now
says in the child that it must be opened again there (``Engine._same_process``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import os, signal, sys
import lowcode_sql
from lowcode_sql.sandbox import get_sandbox, serve

SQL = "SELECT count(*) FROM cd.tasks WHERE title LIKE '%a%'"
over_http = sys.argv[1] == "http"
platform = get_sandbox("coredata")
server = serve(platform).start() if over_http else None
url = server.url if over_http else ""  # the server's thread is the parent's
con = lowcode_sql.connect()
if over_http:
    con.add_source("cd", "coredata", base_url=url, secrets=platform.DEMO_CREDENTIALS,
                   options={"page_size": 40})
else:
    con.add_source("cd", "coredata", sandbox=platform, options={"page_size": 40})
expected = con.sql(SQL).fetchall()
connections = server.connections if over_http else 0
pid = os.fork()
if pid == 0:
    signal.alarm(30)  # a hang fails the test instead of stalling it
    try:
        try:  # the parent's connection: its DuckDB database cannot cross the fork
            con.sql(SQL)
            raise AssertionError("the parent's connection answered in the child")
        except lowcode_sql.errors.ExecutionError as e:
            assert "before a fork" in str(e) and "open a new connection" in str(e), e
        fresh = lowcode_sql.connect()
        if over_http:
            fresh.add_source("cd", "coredata", base_url=url, secrets=platform.DEMO_CREDENTIALS)
        else:
            fresh.add_source("cd", "coredata", sandbox=True)
        assert fresh.sql(SQL).fetchall() == expected  # on the child's own loop and database
    except BaseException as e:
        print("child failed:", type(e).__name__, e, flush=True)
        os._exit(1)
    sys.exit(0)  # a normal exit: the child closes its own clients and database, never the parent's
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
assert con.sql(SQL).fetchall() == expected  # the parent's pooled connections still work
if over_http:
    served = server.connections
    assert served > connections  # the child opened its own connections ...
    con.sql(SQL).fetchall()
    assert server.connections == served  # ... and the parent keeps reusing its own
print("ok")
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
@pytest.mark.parametrize("transport", ["in-process", "http"])
def test_a_forked_child_queries_on_a_loop_of_its_own(transport: str) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, transport], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "ok"
