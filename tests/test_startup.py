"""Start-up stays cheap (issue 15, item 5), checked by what is imported and built, never by timing
(benchmarks/bench_startup.py prints the times)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lowcode_sql

ROOT = Path(__file__).resolve().parent.parent

# what `lowcode-sql query --demo "SELECT 1"` must not import: optional libraries, the wire server,
# the prober (only `lowcode-sql probe` builds its arguments), the DuckDB attachment, the emulators,
# their framework and their sample data (no demo table is read), Arrow's compute kernels (no page
# is converted)
NOT_NEEDED = ("pandas", "polars", "sqlalchemy", "lowcode_sql.pgwire", "lowcode_sql.probe", "lowcode_sql.duckdb_attach",
              "lowcode_sql.sqlalchemy_dialect", "lowcode_sql.dbapi", "lowcode_sql.sandbox.coredata",
              "lowcode_sql.sandbox.entu", "lowcode_sql.sandbox.slingr", "lowcode_sql.sandbox.totalum",
              "lowcode_sql.sandbox.alumio", "lowcode_sql.sandbox._base", "lowcode_sql.sandbox.server",
              "pyarrow.compute")

SCRIPT = """
import sys
from lowcode_sql.cli import main
code = main(["query", "--demo", "-f", "csv", "SELECT 1 AS one"])
sys.stdout.flush()
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.slow
def test_cli_query_on_the_demo_imports_only_what_select_1_needs() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", SCRIPT], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.replace('"', "").split() == ["one", "1"]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    imported |= {line.strip() for line in done.stderr.splitlines() if not line.startswith("import time:")}
    assert "duckdb" in imported and "lowcode_sql.execute.engine" in imported  # the measure works
    heavy = sorted(m for m in imported if m.split(".")[0] in NOT_NEEDED or m.startswith(NOT_NEEDED))
    assert heavy == []


def test_demo_sources_are_built_when_first_used() -> None:
    with lowcode_sql.demo() as con:
        sources = con.catalog.sources
        assert set(sources) == {"alumio", "coredata", "entu", "slingr", "totalum"}
        assert con.sql("SELECT 1 AS one").fetchall() == [(1,)]
        assert not any(s.built for s in sources.values())  # no emulator, no sample data
        assert con.sql("SELECT count(*) FROM coredata.projects").fetchall()[0][0] > 0
        assert [n for n, s in sources.items() if s.built] == ["coredata"]
        assert con.sandbox("entu").stats.requests == 0 and sources["entu"].built


def test_a_sandbox_source_with_an_unknown_platform_fails_at_once() -> None:
    from lowcode_sql.errors import ConfigError

    with lowcode_sql.connect() as con, pytest.raises(ConfigError):
        con.add_source("x", "nosuchplatform", sandbox=True)


@pytest.mark.slow
def test_a_connection_builds_what_the_first_query_would_build() -> None:
    # sqlglot's DuckDB generator dispatch (built on first use, per process): with the connection,
    # so a connection's first query costs what a warm one does (issue 15, item 5)
    script = ("import lowcode_sql, sqlglot.generator as g, sqlglot.dialects.duckdb as d\n"
              "before = d.DuckDB.generator_class in g._DISPATCH_CACHE\n"
              "con = lowcode_sql.connect()\n"
              "print(before, d.DuckDB.generator_class in g._DISPATCH_CACHE)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"]



def test_a_connection_creates_one_duckdb_database(monkeypatch: pytest.MonkeyPatch) -> None:
    # the constant folder uses a cursor of the engine's database, not a second database (40-60 ms
    # each); it still sees the engine's global settings (time zone), macros and walls
    import datetime as dt

    import duckdb

    import lowcode_sql.execute.duck as duck
    from lowcode_sql.catalog import Catalog
    from lowcode_sql.config import Config
    from lowcode_sql.execute.engine import Engine

    made: list[object] = []
    real = duckdb.connect

    def counting(*args: Any, **kwargs: Any) -> duckdb.DuckDBPyConnection:
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(duck.duckdb, "connect", counting)
    with lowcode_sql.connect() as con:
        assert con.sql("SELECT 1 AS one").fetchall() == [(1,)]
    assert len(made) == 1
    engine = Engine(Catalog(Config()), timezone="Europe/Tallinn", external_access=False,
                    init_sql=["CREATE MACRO lc_two() AS 2"])
    try:
        assert len(made) == 2
        assert engine.folder("lc_two() + 1", None).value == 3
        local = engine.folder("CAST(TIMESTAMP '2026-01-01 12:00:00' AS TIMESTAMPTZ)", None).value
        assert local == dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)
        assert not engine.folder("(SELECT count(*) FROM glob('/etc/*'))", None).ok  # no host access
    finally:
        engine.close()


GC_SCRIPT = """
import gc, sys
from lowcode_sql import cli
seen = []
connect = cli._connect
def watched(args):
    seen.append(("before connecting", gc.isenabled()))
    con = connect(args)
    seen.append(("connected", gc.isenabled(), gc.get_freeze_count() > 0))
    return con
cli._connect = watched
sys.argv = ["lowcode-sql", "query", "--demo", "-f", "csv", "SELECT 1 AS one"]
code = cli.main()
print(seen, gc.isenabled(), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.slow
def test_the_command_line_starts_without_gc_passes_and_queries_with_the_gc_on() -> None:
    # the start-up's objects are frozen once connected (cli._StartUpGC): no collection scans them
    done = subprocess.run([sys.executable, "-c", GC_SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.replace('"', "").split() == ["one", "1"]
    assert done.stderr.strip() == "[('before connecting', False), ('connected', True, True)] True"


POOL_SCRIPT = """
import sys
import threading
import pyarrow as pa
from lowcode_sql import cli, procmem
limit = procmem.limit_malloc_arenas
def watched(arenas=2):
    io = [t.name for t in threading.enumerate() if t.name.startswith("lowcode-sql-") and t.name != "lowcode-sql-sigint"]
    print("arenas", arenas, io, file=sys.stderr)  # before the threads that fetch and decode exist
    limit(arenas)
procmem.limit_malloc_arenas = watched
sys.argv = ["lowcode-sql", "query", "--demo", "-f", "csv", "SELECT 1 AS one"]
code = cli.main()
print(pa.default_memory_pool().backend_name, file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.slow
@pytest.mark.parametrize(("chosen", "pool"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_the_command_line_caps_malloc_arenas_and_allocates_arrow_from_the_c_heap(chosen: str | None, pool: str) -> None:
    # procmem: mimalloc kept pages decoded in one thread and freed in another; glibc an arena a thread
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    done = subprocess.run([sys.executable, "-c", POOL_SCRIPT], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.replace('"', "").split() == ["one", "1"]
    assert done.stderr.strip().splitlines()[-2:] == ["arenas 2 []", pool]


def test_main_called_with_arguments_leaves_the_callers_gc_alone(capsys: pytest.CaptureFixture[str]) -> None:
    import gc

    import pyarrow as pa

    from lowcode_sql.cli import main

    pool = pa.default_memory_pool().backend_name
    frozen = gc.get_freeze_count()
    assert main(["query", "--demo", "-f", "csv", "SELECT 1 AS one"]) == 0
    assert capsys.readouterr().out.replace('"', "").split() == ["one", "1"]
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    assert main(["platforms"]) == 0 and gc.isenabled() and gc.get_freeze_count() == frozen
    assert pa.default_memory_pool().backend_name == pool  # nor its Arrow memory pool
