"""Memory after a burst of clients (issue 14, item 5): the engines a burst made are closed once
idle, so the server's RSS comes back near its idle size instead of keeping every engine's DuckDB.

Measured on the loaded shared VM: before, 16 clients left the RSS ~126 MB above idle for good;
then 44-73 MB above it once the idle engines were closed; with Arrow allocating through malloc
instead of mimalloc (pool.use_system_arrow_pool), 17-37 MB (benchmarks/README.md, "Wire server
under load, second pass"; ``bench_pgwire_load.py`` runs 16 clients for 60 s). The issue's target
is 50 MB; the slow test asserts 100 MB, which the old code fails, so the noise of a shared machine
does not make it flaky."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from lowcode_sql.pgwire.pool import EnginePool, engine_timezone


def test_pool_trim_closes_long_idle_engines_but_keeps_one(sandbox_con):
    pool = EnginePool(sandbox_con, size=4, timezone=engine_timezone(sandbox_con.engine), allowed_directories=())
    try:
        engines = [pool.take() for _ in range(3)]
        assert len({id(e) for e in engines}) == 3
        for e in engines:
            pool.give(e)
        assert pool.trim(idle_seconds=3600) == 0  # recently used: kept
        assert pool.trim(idle_seconds=0) == 2  # all idle long enough: all but the most recent closed
        kept = pool.take()
        assert kept is engines[-1]
        assert kept.execute("SELECT 1 AS x").arrow().column("x").to_pylist() == [1]  # still usable
        pool.give(kept)
        fresh = [pool.take() for _ in range(4)]  # the closed ones are made again on demand
        assert len({id(e) for e in fresh}) == 4
        for e in fresh:
            pool.give(e)
    finally:
        pool.close()


CHILD = r"""
import asyncio, sys
import pyarrow as pa
import lowcode_sql
from lowcode_sql.pgwire.server import Server

n = 200_000
rows = pa.table({"id": pa.array(range(n), pa.int64()), "label": [f"item {i % 977}" for i in range(n)]})
con = lowcode_sql.connect_sandbox("entu", {"pbench": rows.slice(0, 1000)})
try:
    server = Server(con, port=0, auth="trust", engine_idle_seconds=1.0)
except TypeError:  # a server without idle-engine trimming (the old code)
    server = Server(con, port=0, auth="trust")
server.catalog.con.register("__rows", rows)
server.catalog.con.execute("CREATE TABLE bench AS SELECT * FROM __rows")
server.catalog.con.unregister("__rows")

async def main():
    await server.start()
    print("ready", server.port, flush=True)
    await server.serve_forever()

asyncio.run(main())
"""

QUERIES = ["SELECT id, label FROM bench ORDER BY id LIMIT 20000",
           "SELECT * FROM entu.pbench",
           "SELECT label, count(*) FROM entu.pbench GROUP BY label ORDER BY 2 DESC LIMIT 5",
           "SELECT relname FROM pg_class",
           "SELECT sum(id) / count(*) FROM bench"]


def _rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


def run_load(port: int, clients: int, seconds: float) -> int:
    """``clients`` threads, each connecting and running the queries (text and binary) in turn, for
    ``seconds``; returns how many queries ran."""
    stop = threading.Event()
    counts = [0] * clients
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            while not stop.is_set():
                with psycopg.connect(f"host=127.0.0.1 port={port} user=load dbname=lowcode sslmode=disable",
                                     autocommit=True) as c:
                    for k in range(10):
                        if stop.is_set():
                            break
                        c.cursor(binary=bool(k % 2)).execute(QUERIES[(i + k) % len(QUERIES)]).fetchall()
                        counts[i] += 1
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    return sum(counts)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the server's RSS from /proc")
def test_rss_returns_near_idle_after_16_clients():
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "ready", "the server did not start"
        port = int(line[1])
        run_load(port, clients=1, seconds=0.1)  # warm: one engine, the catalog, the caches
        time.sleep(2)
        idle = _rss_mb(proc.pid)
        assert run_load(port, clients=16, seconds=8) > 16
        peak = _rss_mb(proc.pid)
        after = peak
        for _ in range(30):  # the idle engines are closed after engine_idle_seconds (1 s here)
            time.sleep(0.5)
            after = _rss_mb(proc.pid)
            if after <= idle + 50:
                break
        print(f"RSS idle {idle} MB, after the load {peak} MB, then {after} MB")
        assert after <= idle + 100, f"RSS idle {idle} MB, after the load {peak} MB, then {after} MB"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
