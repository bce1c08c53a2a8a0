"""A connection's first query pays nothing once per process (issue 15, item 5; ``lowcode_sql.warm``).

Checked by what happens inside the first queries, never by timing (``benchmarks/bench_startup.py``
prints the times): in a fresh interpreter connected to every platform's emulator over real HTTP,
the first query on each platform (its tables' discovery included) imports no module, loads no CA
bundle and opens no DuckDB database. The same script with ``warm=False`` shows that each of those
is what a first query would otherwise do, so the check can fail. Neither imports pandas.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lowcode_sql.sandbox import get_sandbox, names

ROOT = Path(__file__).resolve().parent.parent

# one query per platform (the first also discovers its tables), pages decoded, a join with a
# filter re-checked locally (ILIKE: in the scratch database)
QUERIES = [
    "SELECT * FROM coredata.projects LIMIT 5",
    "SELECT * FROM entu.person WHERE name LIKE '%a%'",
    "SELECT c.name, o._id FROM totalum.client c JOIN totalum.order o ON o.client = c._id WHERE c.name ILIKE '%a%'",
    "SELECT * FROM slingr.companies ORDER BY 1 LIMIT 3",
    "SELECT count(*) FROM alumio.tasks",
]

CHILD = """
import json, ssl, sys
import duckdb
import lowcode_sql

servers, queries, warm = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3] == "1"
con = lowcode_sql.connect(warm=warm)
for platform, (url, credentials, options) in servers.items():
    con.add_source(platform, platform, base_url=url, secrets=credentials, options=options)
seen = {"tls": 0, "databases": 0}
load = ssl.SSLContext.load_verify_locations
def counted_load(self, *a, **k):
    seen["tls"] += 1
    return load(self, *a, **k)
ssl.SSLContext.load_verify_locations = counted_load
opened = duckdb.connect
def counted_connect(*a, **k):
    seen["databases"] += 1
    return opened(*a, **k)
duckdb.connect = counted_connect

before = set(sys.modules)
rows = [len(con.sql(q).fetchall()) for q in queries]
print(json.dumps({"imported": sorted(set(sys.modules) - before), "rows": rows, **seen,
                  "pandas": "pandas" in sys.modules,
                  "pandas_installed": __import__("importlib.util").util.find_spec("pandas") is not None}))
"""


@contextlib.contextmanager
def _servers() -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        out = {}
        for platform in names():
            sandbox = get_sandbox(platform)
            server = stack.enter_context(sandbox.serve())
            out[platform] = [server.url, sandbox.DEMO_CREDENTIALS, sandbox.DEMO_OPTIONS]
        yield out


def _first_queries(servers: dict[str, Any], *, warm: bool) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(servers), json.dumps(QUERIES), "1" if warm else "0"],
                          capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_connections_first_queries_import_load_and_open_nothing() -> None:
    with _servers() as servers:
        warmed = _first_queries(servers, warm=True)
        cold = _first_queries(servers, warm=False)
    assert warmed["rows"] == cold["rows"] and all(n > 0 for n in warmed["rows"]), warmed
    # unwarmed, the same first queries do import (pyarrow's compute and JSON modules, anyio's
    # backend), load the CA bundle and open the scratch database
    assert "pyarrow.compute" in cold["imported"] and "anyio._backends._asyncio" in cold["imported"]
    assert cold["tls"] == 1 and cold["databases"] == 1
    # and neither imports pandas, installed here (convert/pyobjects.py)
    assert cold["pandas_installed"] and not cold["pandas"] and not warmed["pandas"]
    # warmed when the sources were added: nothing of that is left to the queries
    assert warmed["imported"] == []
    assert warmed["tls"] == 0 and warmed["databases"] == 0


def test_the_cli_warms_only_where_a_query_comes_later() -> None:
    """One-shot commands run their statement at once (warming would only move the work); the
    shell and the wire server wait for theirs."""
    import argparse

    from lowcode_sql import cli

    seen: list[bool] = []

    def fake_demo(**kw: Any) -> Any:
        seen.append(kw["warm"])
        raise SystemExit  # nothing else of _connect is under test

    for command in ("query", "tables", "explain", "shell", "serve"):
        args = argparse.Namespace(command=command, demo=True)
        with pytest.MonkeyPatch.context() as mp, contextlib.suppress(SystemExit):
            mp.setattr("lowcode_sql.demo", fake_demo)
            cli._connect(args)
    assert seen == [False, False, False, True, True]
