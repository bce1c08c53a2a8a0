"""Wire server under load (issue 14, item 5): memory after 16 clients for 60 s, and rows/s to psycopg
side by side with Debian's PostgreSQL, for rows computed in DuckDB and rows streamed from a platform
table.

Memory: the server runs in its own process; after a warm-up (every query once) and 2 s of quiet its
RSS is the idle size; ``--clients`` psycopg clients (each reconnecting every 10 queries, text and
binary alternately) then run ``LOAD_QUERIES`` for ``--seconds``, the RSS sampled every 0.25 s (peak),
then read 5 s, 30 s and 60 s after the last client left. Target: back within 50 MB of idle.

Throughput: one psycopg client (``fetchall``), text and binary, against a throw-away PostgreSQL
cluster on 127.0.0.1 and the wire server, runs of the two interleaved so machine load hits both:

* computed: ``generate_series`` with six typed columns (int8, float8, text, date, bool, timestamp),
  computed by DuckDB on our side and by PostgreSQL on its side;
* platform: ``SELECT * FROM totalum.pbench`` (the Totalum emulator in the server's process, its
  answers cached by the source's response cache after a first read, so the figure is the engine's
  and the wire's, not the emulator's JSON serialisation) vs the same rows in a PostgreSQL table.
  The emulator-cold rate and the in-process ``Connection.sql`` rate are printed too: they bound it.

Every answer is compared row for row with PostgreSQL's before a figure is printed.

    nice python benchmarks/bench_pgwire_load.py [--seconds 60] [--clients 16] [--rows N]
        [--platform-rows N] [--repeat K] [--quick] [--only load|throughput]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MISSED, machine, print_table, verdict
from bench_pgwire import postgres_server

RSS_TARGET_MB = 50
THROUGHPUT_TARGET = 0.8

LOAD_QUERIES = ["SELECT id, label FROM bench ORDER BY id LIMIT 20000",
                "SELECT * FROM totalum.small",
                "SELECT label, count(*) FROM totalum.small GROUP BY label ORDER BY 2 DESC LIMIT 5",
                "SELECT relname FROM pg_class",
                "SELECT sum(id) / count(*) FROM bench",
                "SELECT i, i * 2.5::float8 AS x, 'r' || i AS s FROM generate_series(1, 5000) AS g(i)"]


def computed_sql(n: int) -> str:
    """Six typed columns computed per row; the same SQL in both servers, the same values out."""
    return ("SELECT i::bigint AS id, i * 0.25::float8 AS amount, 'item ' || i::text AS label, "
            "DATE '2024-01-01' + (i % 1000)::int AS day, i % 3 = 0 AS flag, "
            "TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL '1 second' AS ts "
            f"FROM generate_series(1, {n}) AS g(i)")


def platform_table(n: int) -> pa.Table:
    i = np.arange(n, dtype=np.int64)
    return pa.table({
        "id": pa.array(i.astype(np.float64)),  # Totalum numbers are JSON numbers: double
        "amount": pa.array(i * 0.37),
        "label": pa.array([f"item {k}" for k in range(n)], pa.string()),
        "flag": pa.array(i % 3 == 0),
    })


PLATFORM_SQL = "SELECT id, amount, label, flag FROM {schema}pbench ORDER BY id"


# --- the server child -----------------------------------------------------------------------------

def serve_child(platform_rows: int) -> None:
    """Child process: a wire server whose Totalum emulator holds ``pbench`` (cached) and ``small``,
    and whose DuckDB holds a 200,000-row ``bench`` table."""
    import asyncio

    from lowcode_sql.config import Config
    from lowcode_sql.connection import Connection
    from lowcode_sql.pgwire.server import Server
    from lowcode_sql.sandbox import get_sandbox

    sandbox = get_sandbox("totalum", sample_data=False)
    sandbox.load_table("pbench", platform_table(platform_rows))
    small = pa.table({"id": pa.array(range(1000), pa.int64()),
                      "label": pa.array([f"item {k % 97}" for k in range(1000)])})
    sandbox.load_table("small", small)
    con = Connection(Config())
    con.add_source("totalum", "totalum", sandbox=sandbox, cache_ttl=3600, cache_max_mb=1024)
    server = Server(con, port=0, auth="trust")
    n = 200_000
    rows = pa.table({"id": pa.array(range(n), pa.int64()), "label": [f"item {k % 977}" for k in range(n)]})
    server.catalog.con.register("__rows", rows)
    server.catalog.con.execute("CREATE TABLE bench AS SELECT * FROM __rows")
    server.catalog.con.unregister("__rows")

    async def main() -> None:
        await server.start()
        print("ready", server.port, flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def lowcode_server(platform_rows: int) -> Iterator[tuple[int, int]]:
    """(port, pid) of a server child."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-child", "--platform-rows", str(platform_rows)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        if not line or line[0] != "ready":
            raise RuntimeError("the lowcode_sql server did not start")
        yield int(line[1]), proc.pid
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


# --- memory under load ------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def run_clients(port: int, clients: int, seconds: float) -> tuple[int, int]:
    """``clients`` threads running LOAD_QUERIES for ``seconds``: (queries run, rows read)."""
    import psycopg

    stop = threading.Event()
    counts = [[0, 0] for _ in range(clients)]
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            while not stop.is_set():
                with psycopg.connect(f"host=127.0.0.1 port={port} user=load dbname=lowcode sslmode=disable",
                                     autocommit=True) as c:
                    for k in range(10):
                        if stop.is_set():
                            break
                        rows = c.cursor(binary=bool(k % 2)).execute(
                            LOAD_QUERIES[(i + k) % len(LOAD_QUERIES)]).fetchall()
                        counts[i][0] += 1
                        counts[i][1] += len(rows)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=600)
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed: {errors[:3]}")
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def measure_memory(port: int, pid: int, clients: int, seconds: float, after: tuple[float, ...]) -> dict[str, Any]:
    run_clients(port, 1, 0.1)  # warm: an engine, the catalog, the caches
    for q in LOAD_QUERIES:
        run_clients_once(port, q)
    time.sleep(2)
    idle = rss_mb(pid)
    peak = idle
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample)
    sampler.start()
    t0 = time.perf_counter()
    queries, rows = run_clients(port, clients, seconds)
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    end = time.monotonic()
    out: dict[str, Any] = {"idle": idle, "peak": max(peak, rss_mb(pid)), "queries": queries, "rows": rows,
                           "elapsed": elapsed}
    for wait in after:
        time.sleep(max(0.0, end + wait - time.monotonic()))
        out[f"+{wait:g}s"] = rss_mb(pid)
    return out


def run_clients_once(port: int, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={port} user=load dbname=lowcode sslmode=disable") as c:
        for binary in (False, True):
            c.cursor(binary=binary).execute(sql).fetchall()


# --- throughput -------------------------------------------------------------------------------------

def fetch(port: int, user: str, dbname: str, sql: str, binary: bool) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={port} user={user} dbname={dbname} sslmode=disable") as c:
        return c.cursor(binary=binary).execute(sql).fetchall()


def interleaved(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[list[float], list[float], Any, Any]:
    """Times of ``repeat`` runs of ``a`` and ``b``, alternating, so load on the machine hits both."""
    ta: list[float] = []
    tb: list[float] = []
    ra = rb = None
    for _ in range(repeat):
        for fn, times in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
            if fn is a:
                ra = out
            else:
                rb = out
    return ta, tb, ra, rb


def same_rows(ours: list[tuple[Any, ...]], theirs: list[tuple[Any, ...]], what: str) -> None:
    if ours != theirs:
        if len(ours) != len(theirs):
            raise SystemExit(f"{what}: {len(ours)} rows vs PostgreSQL's {len(theirs)}")
        bad = next(i for i, (x, y) in enumerate(zip(ours, theirs, strict=True)) if x != y)
        raise SystemExit(f"{what}: results differ at row {bad}: {ours[bad]} vs {theirs[bad]}")


def in_process_rate(n: int, repeat: int) -> tuple[float, float]:
    """(emulator-cold, cached) rows/s of the platform query through ``Connection.sql`` in this
    process: what the wire server's platform figure is bounded by."""
    from lowcode_sql.config import Config
    from lowcode_sql.connection import Connection
    from lowcode_sql.sandbox import get_sandbox

    sandbox = get_sandbox("totalum", sample_data=False)
    sandbox.load_table("pbench", platform_table(n))
    con = Connection(Config())
    con.add_source("totalum", "totalum", sandbox=sandbox, cache_ttl=3600, cache_max_mb=1024)
    sql = PLATFORM_SQL.format(schema="totalum.")
    t0 = time.perf_counter()
    con.sql(sql).arrow()
    cold = n / (time.perf_counter() - t0)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.sql(sql).arrow()
        times.append(time.perf_counter() - t0)
    con.close()
    return cold, n / statistics.median(times)


def measure_throughput(lc_port: int, pg_port: int, rows: int, platform_rows: int,
                       repeat: int) -> list[tuple[Any, ...]]:
    out = []
    cases = [("computed", computed_sql(rows), computed_sql(rows), rows),
             ("platform", PLATFORM_SQL.format(schema="totalum."), PLATFORM_SQL.format(schema=""), platform_rows)]
    for what, lc_sql, pg_sql, n in cases:
        if what == "platform":
            t0 = time.perf_counter()
            fetch(lc_port, "bench", "lowcode", lc_sql, False)  # the emulator serves it once; cached after
            rate = n / (time.perf_counter() - t0)
            print(f"platform, emulator cold (first read through the wire): {rate:,.0f} rows/s")
        for binary in (False, True):
            fmt = "binary" if binary else "text"
            pg_times, lc_times, pg_rows, lc_rows = interleaved(
                lambda s=pg_sql, b=binary: fetch(pg_port, "bench", "postgres", s, b),
                lambda s=lc_sql, b=binary: fetch(lc_port, "bench", "lowcode", s, b), repeat)
            same_rows(lc_rows, pg_rows, f"{what} {fmt}")
            pg_rate, lc_rate = n / statistics.median(pg_times), n / statistics.median(lc_times)
            out.append((what, fmt, pg_rate, lc_rate, lc_rate / pg_rate, " ".join(f"{t:.2f}" for t in pg_times),
                        " ".join(f"{t:.2f}" for t in lc_times)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load (default 60)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rows", type=int, default=1_000_000, help="computed rows (default 1M)")
    ap.add_argument("--platform-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["load", "throughput"])
    ap.add_argument("--after", type=float, nargs="+", default=[5.0, 30.0, 60.0],
                    help="seconds after the load to read the RSS at (default 5 30 60)")
    ap.add_argument("--quick", action="store_true", help="5 s of load, small results, one run: checks it runs")
    ap.add_argument("--serve-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve_child:
        serve_child(args.platform_rows)
        return 0
    after = tuple(args.after)
    if args.quick:
        args.seconds, args.rows, args.platform_rows, args.repeat, after = 5.0, 20_000, 5_000, 1, (5.0,)
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"bench_pgwire_load: {machine()}, load {os.getloadavg()[0]:.1f}, {now}")
    ok = True
    with lowcode_server(args.platform_rows) as (lc_port, lc_pid):
        if args.only != "throughput":
            m = measure_memory(lc_port, lc_pid, args.clients, args.seconds, after)
            print(f"{args.clients} clients for {m['elapsed']:.0f} s: {m['queries']:,} queries, {m['rows']:,} rows, "
                  f"load {os.getloadavg()[0]:.1f}")
            keys = ["idle", "peak", *(f"+{w:g}s" for w in after)]
            print_table([f"RSS {k} (MB)" for k in keys], [[round(m[k]) for k in keys]])
            last = m[keys[-1]]
            ok &= verdict("RSS above idle after the load", last - m["idle"], RSS_TARGET_MB,
                          higher_is_better=False, unit=" MB")
        if args.only != "load":
            table = platform_table(args.platform_rows)
            cold, cached = in_process_rate(args.platform_rows, args.repeat)
            print(f"platform in-process (Connection.sql().arrow(), no wire): emulator cold {cold:,.0f} rows/s, "
                  f"cached {cached:,.0f} rows/s")
            with postgres_server(None, {"pbench": table}) as pg_port:
                results = measure_throughput(lc_port, pg_port, args.rows, args.platform_rows, args.repeat)
            print(f"load {os.getloadavg()[0]:.1f}")
            print_table(["rows", "format", "PostgreSQL rows/s", "lowcode_sql rows/s", "ratio", "PG runs (s)",
                         "lowcode runs (s)"], results)
            for what, fmt, *_rest in results:
                ok &= verdict(f"{what} {fmt} vs PostgreSQL", _rest[2], THROUGHPUT_TARGET, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
