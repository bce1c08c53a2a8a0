"""(a) Concurrent vs sequential paging: a 100-page scan at 50 ms latency per request.

The same query (``SELECT * FROM cd.tasks``: 10,000 rows in pages of 100) runs against a CoreData
sandbox answering every request after ``latency=0.05`` s, once with the engine's default
concurrency (8 requests in flight per source) and once with ``concurrency=1``. Both runs must
return the same rows. Measured twice: over the in-process httpx transport, and over the sandbox's
real HTTP server on 127.0.0.1 (same process, its own thread and event loop).

Target: concurrent >= 6x faster than sequential. The ideal here is 100 rounds / (1 + ceil(99/8))
= 100/14 = 7.1x (the first page must arrive before the others are known).

    PYTHONPATH=. python benchmarks/bench_concurrency.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, make_tasks, print_table, verdict

import lowcode_sql
from lowcode_sql.sandbox.coredata import CoreDataSandbox

ROWS, PAGE, LATENCY = 10_000, 100, 0.05
QUERY = "SELECT * FROM cd.tasks"
TARGET = 6.0


def run(sandbox: CoreDataSandbox, concurrency: int, repeat: int, base_url: str | None) -> dict:
    con = lowcode_sql.connect()
    kw = {"options": {"page_size": PAGE}, "concurrency": concurrency}
    if base_url is None:
        con.add_source("cd", "coredata", sandbox=sandbox, **kw)
    else:
        con.add_source("cd", "coredata", base_url=base_url, secrets={"user": "demo", "key": "demo-key"}, **kw)
    con.tables("cd")  # discovery outside the timing (coredata's costs no request anyway)
    times, result = [], None
    for _ in range(repeat):
        sandbox.reset_stats()
        t0 = time.perf_counter()
        result = con.sql(QUERY)
        times.append(time.perf_counter() - t0)
    out = {
        "median": statistics.median(times),
        "times": times,
        "requests": result.requests,
        "served": sandbox.stats.requests,
        "max_in_flight": sandbox.stats.max_in_flight,
        "rows": result.arrow().num_rows,
        "table": result.arrow().sort_by("id"),
    }
    con.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"bench_concurrency: {ROWS:,} rows, page_size {PAGE} -> {ROWS // PAGE} pages, "
          f"latency {LATENCY * 1000:.0f} ms/request, median of {args.repeat} ({machine()})")
    sandbox = CoreDataSandbox(sample_data=False, latency=LATENCY)
    sandbox.load_table("tasks", make_tasks(ROWS))

    ok = True
    rows_out = []
    with sandbox.serve(port=0) as server:
        for transport, url in (("in-process", None), ("HTTP 127.0.0.1", server.url)):
            conc = run(sandbox, 8, args.repeat, url)
            seq = run(sandbox, 1, args.repeat, url)
            assert conc["rows"] == seq["rows"] == ROWS, (conc["rows"], seq["rows"])
            assert conc["table"].equals(seq["table"]), "concurrent and sequential scans returned different rows"
            assert conc["requests"] == seq["requests"] == ROWS // PAGE, (conc["requests"], seq["requests"])
            speedup = seq["median"] / conc["median"]
            for label, r in (("concurrent (8)", conc), ("sequential (1)", seq)):
                rows_out.append([transport, label, r["median"], " ".join(f"{t:.2f}" for t in r["times"]),
                                 r["requests"], r["max_in_flight"], r["rows"], r["rows"] / r["median"]])
            rows_out.append([transport, "speedup", f"{speedup:.2f}x", "", "", "", "", ""])
            ok &= verdict(f"concurrency speedup ({transport})", speedup, TARGET, unit="x")
    print()
    print_table(["transport", "mode", "median s", "runs s", "requests", "max in flight", "rows", "rows/s"], rows_out)
    print(f"(ideal: {ROWS // PAGE} x {LATENCY}s = {ROWS // PAGE * LATENCY:.1f}s sequential, "
          f"14 x {LATENCY}s = {14 * LATENCY:.2f}s concurrent -> {100 / 14:.1f}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
