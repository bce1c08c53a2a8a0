"""Wire-server latency of small queries: one round trip of ``SELECT 1`` and of a small parameterised
query through psycopg 3, in the simple and the extended protocol, side by side with a real
PostgreSQL (Debian's) in the same run.

Both servers run in their own process on 127.0.0.1 (``bench_pgwire.lowcode_server`` /
``postgres_server``); the lowcode_sql server's DuckDB holds a 1,000-row ``bench`` table. Each query
is run ``--warmup`` times, then ``--n`` times on one open connection; the figures are the median
and 90th percentile of the round trips, the ratio lowcode_sql / PostgreSQL of the medians, and
the CPU time the server spent per query (the lowcode_sql server process; PostgreSQL's backend
process for the connection, from ``pg_backend_pid()``), which a loaded machine disturbs less than
wall-clock times.
Simple protocol: psycopg's ``ClientCursor`` (parameters bound in the client, one Query message);
extended: the default cursor (Parse/Bind/Describe/Execute/Sync). Both servers' answers are
compared before any figure is printed.

    python benchmarks/bench_pgwire_latency.py [--n N] [--warmup W]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table
from bench_pgwire import lowcode_server, make_table, postgres_server

ROWS = 1_000
QUERIES: list[tuple[str, str, tuple[Any, ...] | None]] = [
    ("SELECT 1", "SELECT 1", None),
    ("small, 1 parameter", "SELECT id, amount, label FROM bench WHERE id = %s", (421,)),
    ("small, 2 parameters", "SELECT count(*), sum(amount) FROM bench WHERE id BETWEEN %s AND %s", (100, 199)),
]


Result = tuple[list[float], list[tuple[Any, ...]], float]  # round trips (s), rows, server CPU s/query


def _cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _round_trips(conn: Any, sql: str, params: tuple[Any, ...] | None, simple: bool, n: int,
                 warmup: int, pid: int) -> Result:
    import psycopg

    cur = psycopg.ClientCursor(conn) if simple else conn.cursor()
    rows: list[tuple[Any, ...]] = []
    for _ in range(warmup):
        rows = cur.execute(sql, params).fetchall()
    times = []
    cpu0 = _cpu(pid)
    for _ in range(n):
        t0 = time.perf_counter()
        cur.execute(sql, params).fetchall()
        times.append(time.perf_counter() - t0)
    return times, rows, (_cpu(pid) - cpu0) / n


def measure(dsn: str, n: int, warmup: int, server_pid: int | None) -> dict[tuple[str, bool], Result]:
    import psycopg

    out = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        pid = server_pid or conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        for name, sql, params in QUERIES:
            for simple in (True, False):
                out[(name, simple)] = _round_trips(conn, sql, params, simple, n, warmup, pid)
    return out


def _child_server_pid() -> int:
    import psutil

    return next(c.pid for c in psutil.Process().children() if "--serve-child" in c.cmdline())


def _ms(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=10)[8] * 1000 if q == 0.9 else statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args(argv)
    print(f"bench_pgwire_latency: {args.n} round trips per query after {args.warmup} warm-up, {machine()}, "
          f"load {os.getloadavg()[0]:.1f}")
    table = make_table(ROWS)
    with lowcode_server(ROWS) as lc_port, postgres_server(table) as pg_port:
        run: Callable[[int, str, int | None], Any] = lambda port, db, pid: measure(  # noqa: E731
            f"host=127.0.0.1 port={port} user=bench dbname={db} sslmode=disable", args.n, args.warmup, pid)
        pg = run(pg_port, "postgres", None)
        lc = run(lc_port, "lowcode", _child_server_pid())
    results = []
    for (name, simple), (pg_times, pg_rows, pg_cpu) in pg.items():
        lc_times, lc_rows, lc_cpu = lc[(name, simple)]
        if [tuple(map(str, r)) for r in pg_rows] != [tuple(map(str, r)) for r in lc_rows]:
            raise SystemExit(f"{name}: answers differ: {pg_rows} vs {lc_rows}")
        results.append((name, "simple" if simple else "extended", f"{_ms(pg_times, 0.5):.2f}",
                        f"{_ms(pg_times, 0.9):.2f}", f"{_ms(lc_times, 0.5):.2f}", f"{_ms(lc_times, 0.9):.2f}",
                        f"{_ms(lc_times, 0.5) / _ms(pg_times, 0.5):.1f}", f"{pg_cpu * 1000:.2f}",
                        f"{lc_cpu * 1000:.2f}"))
    print_table(["query", "protocol", "PG median ms", "PG p90 ms", "lowcode median ms", "lowcode p90 ms",
                 "ratio", "PG CPU ms/q", "lowcode CPU ms/q"], results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
