"""(c) Request economy: what pushdown saves against fetching everything and filtering in DuckDB.

A CoreData sandbox holds 20,000 ``tasks`` rows (``make_tasks``) and is served over real HTTP on
127.0.0.1 with 50 ms latency per request. Side by side in one run:

* pushdown: each query through lowcode_sql as written (filters, COUNT(*), LIMIT sent to the API
  where the dialect declares them exact);
* full scan: ``SELECT * FROM cd.tasks`` through lowcode_sql once (every page, every row), then each
  query run by DuckDB over that table: what a client without pushdown does.

Requests and rows come from the sandbox's own counters (what it served), and bytes are the JSON
bodies it sent. Every answer is checked against the full-scan answer (a LIMIT without ORDER BY
only as "a subset of the right size", since any rows may be returned). The time column is one
run each; the full scan's time is paid once for all queries.

Target: >= 10x fewer requests and >= 10x fewer rows for every query whose filter is exact. Rows
marked "local" are there to show the other side honestly: a filter the API cannot evaluate saves
nothing (no target).

    PYTHONPATH=. python benchmarks/bench_economy.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
from _common import MISSED, BenchCoreDataSandbox, machine, make_tasks, print_table, verdict

import lowcode_sql

LATENCY = 0.05
TARGET = 10.0
SECRETS = {"user": "demo", "key": "demo-key"}

# (label, SQL, kind): kind "exact" counts towards the target; "subset": LIMIT without ORDER BY,
# checked as a subset; "local": the filter is not pushable (no target).
QUERIES: list[tuple[str, str, str]] = [
    ("COUNT, date range", "SELECT count(*) FROM cd.tasks WHERE created >= '2024-01-03' AND created < '2024-01-04'",
     "exact"),
    ("COUNT, title =", "SELECT count(*) FROM cd.tasks WHERE title = 'Task 0001234'", "exact"),
    ("filter, LIKE prefix", "SELECT id, title, created FROM cd.tasks WHERE title LIKE 'Prelude%'", "exact"),
    ("filter, BETWEEN dates", "SELECT * FROM cd.tasks WHERE created BETWEEN '2024-01-05' AND '2024-01-05 12:00'",
     "exact"),
    ("filter + local ORDER BY/LIMIT",
     "SELECT title, created FROM cd.tasks WHERE modified > '2024-01-14' ORDER BY created DESC, title LIMIT 10",
     "exact"),
    ("filter + GROUP BY", "SELECT status, count(*) AS n FROM cd.tasks WHERE created >= '2024-01-13 12:00' "
     "GROUP BY status ORDER BY status", "exact"),
    ("LIMIT 5 on a filter", "SELECT id, title FROM cd.tasks WHERE title LIKE 'Task%' LIMIT 5", "subset"),
    ("contradiction", "SELECT * FROM cd.tasks WHERE created > '2024-02-01' AND created < '2024-01-01'", "exact"),
    ("local: status = (not a CoreData filter)", "SELECT count(*) FROM cd.tasks WHERE status = 'done'", "local"),
    ("local: OR of two filters",
     "SELECT id FROM cd.tasks WHERE title LIKE 'Prelude%' OR created < '2024-01-01 01:00'", "local"),
]


def _rows(table: Any) -> list[str]:
    return sorted(map(repr, table.to_pylist()))


def _ratio(full: int, mine: int) -> float:
    return math.inf if mine == 0 else full / mine


def _fmt_ratio(r: float) -> str:
    return "all (0 sent)" if math.isinf(r) else f"{r:,.1f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--quick", action="store_true", help="2,000 rows, no latency (a smoke run)")
    args = ap.parse_args(argv)
    latency = 0.0 if args.quick else LATENCY
    if args.quick:
        args.rows = 2_000
    print(f"bench_economy: CoreData tasks, {args.rows:,} rows, real HTTP on 127.0.0.1, "
          f"latency {latency * 1000:.0f} ms/request, page_size 1000 ({machine()})")
    sandbox = BenchCoreDataSandbox(latency=latency)
    sandbox.load_table("tasks", make_tasks(args.rows))
    ok = True
    out: list[list[Any]] = []
    worst_req, worst_rows = math.inf, math.inf
    with sandbox.serve(port=0) as server, lowcode_sql.connect() as con:
        con.add_source("cd", "coredata", base_url=server.url, secrets=SECRETS)
        sandbox.reset_stats()
        t0 = time.perf_counter()
        everything = con.sql("SELECT * FROM cd.tasks").arrow()
        t_full = time.perf_counter() - t0
        full = (sandbox.stats.requests, sandbox.rows_sent, sandbox.bytes_sent)
        assert everything.num_rows == args.rows
        duck = duckdb.connect()
        duck.execute("SET TimeZone = 'UTC'")
        duck.register("tasks", everything)
        out.append(["full scan (baseline, once)", "", full[0], f"{full[1]:,}", f"{full[2] / 1e6:.2f}", t_full,
                    "", "", ""])
        for label, sql, kind in QUERIES:
            sandbox.reset_stats()
            t0 = time.perf_counter()
            mine = con.sql(sql).arrow()
            elapsed = time.perf_counter() - t0
            req, rows, nbytes = sandbox.stats.requests, sandbox.rows_sent, sandbox.bytes_sent
            theirs = duck.sql(sql.replace("cd.tasks", "tasks")).to_arrow_table()
            if kind == "subset":
                unlimited = duck.sql(sql.replace("cd.tasks", "tasks").rsplit(" LIMIT ", 1)[0]).to_arrow_table()
                assert mine.num_rows == theirs.num_rows and set(_rows(mine)) <= set(_rows(unlimited)), label
            else:
                assert _rows(mine) == _rows(theirs), f"{label}: pushdown and full-scan answers differ"
            r_req, r_rows = _ratio(full[0], req), _ratio(full[1], rows)
            if kind != "local":
                worst_req, worst_rows = min(worst_req, r_req), min(worst_rows, r_rows)
            out.append([label, mine.num_rows, req, f"{rows:,}", f"{nbytes / 1e6:.3f}", elapsed,
                        _fmt_ratio(r_req), _fmt_ratio(r_rows), "(no target)" if kind == "local" else ""])
    print()
    print_table(["query", "answer rows", "requests", "rows sent", "MB sent", "time s", "fewer requests",
                 "fewer rows", ""], out)
    print()
    for label, sql, _ in QUERIES:
        print(f"  {label}: {sql}")
    print()
    ok &= verdict("fewer requests, worst exact-filter query", worst_req, TARGET, unit="x")
    ok &= verdict("fewer rows transferred, worst exact-filter query", worst_rows, TARGET, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
