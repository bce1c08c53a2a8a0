"""(a) Concurrent vs sequential paging: a 100-page scan at 50 ms latency per request.

The same query (``SELECT * FROM cd.tasks``: 10,000 CoreData task rows, 21 columns, in pages of
100) runs against a CoreData sandbox that answers every request after ``latency=0.05`` s, once with
the engine's default concurrency (8 requests in flight per source) and once with
``concurrency=1``, alternating, in the same run. Both must return the same rows with the same
number of requests. Two transports:

* in-process: the sandbox behind an httpx transport in this process;
* HTTP 127.0.0.1: the sandbox's real HTTP server in a child process (``_serve.py``), so its CPU
  and GIL are not the client's, as with a real API.

The sandbox is ``BenchCoreDataSandbox``: the stock CoreData emulator with O(page) unfiltered
pages (the stock one scans the whole table under a global lock for every page, which serialises
concurrent requests: a 10k-row table costs ~6 ms a page, ~0.6 s a scan). ``self_check`` proves
it sends the stock emulator's bytes.

Targets (issue 15, item 4): concurrent >= 6x faster than sequential, and concurrent <= 1.3x the
ideal time. The ideal is 1 + ceil(100 / 8) = 14 rounds of 50 ms (ceiling 101 / 14 = 7.2x): the first
page must arrive before the total is known; then a query without a LIMIT requests every remaining
page up to the concurrency at once. (Under a LIMIT the read-ahead still starts at 2 pages and
doubles with each page consumed, so a LIMIT over a local filter does not fetch 8 pages it never
needs: that costs 15 rounds here, and `--ramp` times it.)

    PYTHONPATH=. python benchmarks/bench_concurrency.py [--repeat 5] [--also 16] [--pages 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MISSED, BenchCoreDataSandbox, ServerProcess, machine, make_tasks, print_table, self_check, verdict

import lowcode_sql

PAGE, LATENCY = 100, 0.05
QUERY = "SELECT * FROM cd.tasks"
RAMPED = "SELECT * FROM cd.tasks LIMIT 1000000"  # a LIMIT beyond the table: the same rows, ramped read-ahead
TARGET = 6.0
TARGET_IDEAL = 1.3
SECRETS = {"user": "demo", "key": "demo-key"}


def connection(concurrency: int, sandbox: BenchCoreDataSandbox | None, url: str | None) -> lowcode_sql.Connection:
    con = lowcode_sql.connect()
    kw: dict[str, Any] = {"options": {"page_size": PAGE}, "concurrency": concurrency}
    if sandbox is not None:
        con.add_source("cd", "coredata", sandbox=sandbox, **kw)
    else:
        con.add_source("cd", "coredata", base_url=url, secrets=SECRETS, **kw)
    con.tables("cd")  # discovery outside the timing (coredata's costs no request anyway)
    return con


def measure(transport: str, repeat: int, rows: int, sandbox: BenchCoreDataSandbox | None,
            server: ServerProcess | None, extra: list[int],
            ramped: bool = False) -> tuple[list[list[Any]], dict[str, float]]:
    modes = {"concurrent (8)": 8, **{f"concurrent ({c})": c for c in extra}, "sequential (1)": 1}
    if ramped:
        modes["ramped (8, LIMIT)"] = 8
    cons = {m: connection(c, sandbox, server.url if server else None) for m, c in modes.items()}
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    info: dict[str, dict[str, Any]] = {}
    tables: dict[str, Any] = {}

    def run(mode: str, key: str | None = None) -> float:
        if sandbox is not None:
            sandbox.reset_stats()
        else:
            assert server is not None
            server.stats(reset=True)
        t0, c0 = time.perf_counter(), time.process_time()
        result = cons[mode].sql(RAMPED if mode.startswith("ramped") else QUERY)
        elapsed, used = time.perf_counter() - t0, time.process_time() - c0
        st = sandbox.stats.__dict__ if sandbox is not None else server.stats()  # type: ignore[union-attr]
        key = key or mode
        info[key] = {"requests": result.requests, "served": st["requests"], "max_in_flight": st["max_in_flight"]}
        tables[key] = result.arrow()
        cpu.setdefault(key, []).append(used)
        return elapsed

    try:
        for mode in modes:
            run(mode)  # warm-up: connection pool, first-query imports, DuckDB
            cpu[mode].clear()
        for _ in range(repeat):
            for mode in modes:  # alternate, so a load spike from other processes hits both
                times[mode].append(run(mode))
        # The CPU floor: the same scan with no latency, concurrent; what the client (and, in
        # process, the sandbox) spend per page besides waiting.
        if sandbox is not None:
            sandbox.latency = 0.0
        else:
            server.set_latency(0.0)  # type: ignore[union-attr]
        floor = statistics.median(run("concurrent (8)", "no latency") for _ in range(repeat))
        if sandbox is not None:
            sandbox.latency = LATENCY
        else:
            server.set_latency(LATENCY)  # type: ignore[union-attr]
    finally:
        for con in cons.values():
            con.close()
    seq = tables["sequential (1)"]
    assert seq.num_rows == rows, seq.num_rows
    for mode, t in tables.items():
        assert t.sort_by("id").equals(seq.sort_by("id")), f"{mode} and sequential scans returned different rows"
    pages = _requests(rows)
    for mode in info:
        assert info[mode]["requests"] == info[mode]["served"] == pages, info[mode]
    out = []
    medians = {m: statistics.median(t) for m, t in times.items()}
    for mode in modes:
        out.append([transport, mode, medians[mode], " ".join(f"{t:.2f}" for t in times[mode]),
                    statistics.median(cpu[mode][:repeat]), info[mode]["requests"], info[mode]["max_in_flight"],
                    rows / medians[mode]])
    out.append([transport, "no latency, concurrent (8)", floor, "", statistics.median(cpu["no latency"]),
                info["no latency"]["requests"], info["no latency"]["max_in_flight"], rows / floor])
    speedups: dict[str, float] = {}
    for mode, c in modes.items():
        if c > 1:
            speedups[mode] = medians["sequential (1)"] / medians[mode]
            best = min(times["sequential (1)"]) / min(times[mode])  # the least disturbed runs
            name = f"{c}" if mode.startswith("concurrent") else "ramped 8, LIMIT,"
            out.append([transport, f"speedup ({name} vs 1)", f"{speedups[mode]:.2f}x", f"best-of: {best:.2f}x",
                        "", "", "", ""])
    ideal = _rounds(pages, 8) * LATENCY
    speedups["vs ideal"] = medians["concurrent (8)"] / ideal
    out.append([transport, "concurrent (8) / ideal", f"{speedups['vs ideal']:.2f}x",
                f"best-of: {min(times['concurrent (8)']) / ideal:.2f}x", "", "", "", ""])
    return out, speedups


def _requests(rows: int) -> int:
    """Page requests of a full scan: pages after the first overlap the one before by a row (the
    boundary check in fetch/scan.py), so they add PAGE - 1 rows each."""
    return 1 + max(0, -(-(rows - PAGE) // (PAGE - 1)))


def _rounds(pages: int, concurrency: int, ramp: bool = False) -> int:
    """Round trips of a ``pages``-page scan: the first page, then ``concurrency`` pages in flight
    (with ``ramp``, a query under a LIMIT: a read-ahead window that starts at 2 and doubles with the
    pages consumed, 2, 4, 8, ..., up to ``concurrency``)."""
    rounds, left, width = 1, pages - 1, 2 if ramp else concurrency
    while left > 0:
        rounds += 1
        left -= min(width, concurrency, left)
        width *= 2
    return rounds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--also", type=int, nargs="*", default=[16],
                    help="other concurrency levels to time besides the default 8 (informational)")
    ap.add_argument("--ramp", action="store_true",
                    help="also time the scan under a LIMIT (the read-ahead ramp), informational")
    ap.add_argument("--quick", action="store_true", help="10 pages, 1 run (a smoke run: no meaningful figure)")
    ap.add_argument("--profile", action="store_true",
                    help="only sample where one concurrent in-process scan spends its time (all threads)")
    args = ap.parse_args(argv)
    if args.quick:
        args.pages, args.repeat, args.also = 10, 1, []
    rows = args.pages * PAGE
    print(f"bench_concurrency: {rows:,} rows, page_size {PAGE} -> {args.pages} pages, "
          f"latency {LATENCY * 1000:.0f} ms/request, median of {args.repeat} ({machine()}, "
          f"loadavg {os.getloadavg()[0]:.2f})")
    self_check(1_500 if args.quick else 2_500)
    sandbox = BenchCoreDataSandbox(latency=LATENCY)
    sandbox.load_table("tasks", make_tasks(rows))

    if args.profile:
        from _sampler import Sampler

        con = connection(8, sandbox, None)
        con.sql(QUERY)  # warm-up
        with Sampler() as sampler:
            t0 = time.perf_counter()
            con.sql(QUERY)
            print(f"one concurrent scan: {time.perf_counter() - t0:.3f} s")
        con.close()
        sampler.report()
        return 0

    ok = True
    table: list[list[Any]] = []
    rows_a, s_a = measure("in-process", args.repeat, rows, sandbox, None, args.also, args.ramp)
    with ServerProcess(rows=rows, latency=LATENCY, lazy=True) as server:
        rows_b, s_b = measure("HTTP 127.0.0.1", args.repeat, rows, None, server, args.also, args.ramp)
    table = rows_a + rows_b
    print()
    print_table(["transport", "mode", "median s", "runs s", "client CPU s", "requests", "max in flight", "rows/s"],
                table)
    pages = _requests(rows)
    rounds = _rounds(pages, 8)
    print(f"(ideal: {pages} x {LATENCY}s = {pages * LATENCY:.1f}s sequential, "
          f"{rounds} x {LATENCY}s = {rounds * LATENCY:.2f}s concurrent -> {pages / rounds:.1f}x)")
    print()
    for c in args.also:
        m = f"concurrent ({c})"
        print(f"info: concurrency {c}: {s_a[m]:.2f}x in-process, {s_b[m]:.2f}x over HTTP "
              f"(ceiling {pages / _rounds(pages, c):.1f}x)")
    if args.ramp:
        m = "ramped (8, LIMIT)"
        print(f"info: under a LIMIT (ramped read-ahead): {s_a[m]:.2f}x in-process, {s_b[m]:.2f}x over HTTP "
              f"(ceiling {pages / _rounds(pages, 8, ramp=True):.1f}x)")
    ok &= verdict("concurrency speedup, engine default 8 (in-process)", s_a["concurrent (8)"], TARGET, unit="x")
    ok &= verdict("concurrency speedup, engine default 8 (HTTP 127.0.0.1)", s_b["concurrent (8)"], TARGET, unit="x")
    ok &= verdict("concurrent (8) time / ideal (in-process)", s_a["vs ideal"], TARGET_IDEAL,
                  higher_is_better=False, unit="x")
    ok &= verdict("concurrent (8) time / ideal (HTTP 127.0.0.1)", s_b["vs ideal"], TARGET_IDEAL,
                  higher_is_better=False, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
