"""(f) Client CPU per row: a full scan over HTTP vs a bare concurrent httpx download of the same pages.

Issue 15, item 3. A CoreData sandbox server in a child process (``_serve.py``, no latency) holds N
``tasks`` rows; the same run, alternating, times:

* bare httpx: an ``httpx.AsyncClient`` with the engine's connection limit (8) downloading exactly
  the pages the engine requests (``?offset=..&limit=1000``, one-row overlap), 8 in flight, keeping
  only the byte count: the wire speed the client could reach if conversion cost nothing;
* lowcode_sql: ``con.sql(query).arrow()``, the whole scan into one Arrow table.

Two shapes: *flat*, the server sends 5 flat fields per record (``id, title, status, created,
modified``) and the query selects them; *nested*, the server sends all 21 fields (structs, lists)
and the query is ``SELECT *``. Targets: flat >= 0.8x the bare download's rows/s; nested >= 3x the
rows/s measured before the change (``--baseline-nested``, rows/s; default the issue's 15,000).
Both paths' process CPU seconds are printed too (the machine is shared: wall-clock ratios taken in
one run are the figures that mean something; load average printed).

    PYTHONPATH=. python benchmarks/bench_scan.py [--rows 1000000] [--repeat 3] [--shape flat|nested|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import MISSED, ServerProcess, machine, print_table, tasks_def, verdict

import lowcode_sql

FLAT = ("id", "title", "status", "created", "modified")
PAGE, CONCURRENCY = 1000, 8
TARGET_FLAT, TARGET_NESTED = 0.8, 3.0
SECRETS = {"user": "demo", "key": "demo-key"}


def page_targets(rows: int) -> list[str]:
    """The request targets of the engine's full scan (``fetch/scan.py``: the first page, then pages
    starting one row early for the boundary check)."""
    from dialect.coredata import CoreData
    from lowcode_sql.scanspec import ScanSpec

    scan = CoreData().render_scan(tasks_def(), ScanSpec("cd", "tasks", columns=("id",)))
    out = [scan.page_request(0, PAGE).target()]
    for offset in range(PAGE, rows, PAGE - 1):
        at = offset - 1
        out.append(scan.page_request(at, min(PAGE, rows - at)).target())
    return out


async def bare_download(url: str, targets: list[str]) -> tuple[int, int]:
    """Bytes and requests of a download of ``targets``, ``CONCURRENCY`` at a time, one client."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    auth = {"Authorization": f"apikey {SECRETS['user']}:{SECRETS['key']}"}  # CoreData's scheme
    total = 0
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120, headers=auth) as client:
        queue = iter(targets)

        async def worker() -> None:
            nonlocal total
            for target in queue:
                r = await client.get(target)
                r.raise_for_status()
                total += len(r.content)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return total, len(targets)


def engine_scan(url: str, query: str) -> tuple[int, int]:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", base_url=url, secrets=SECRETS, concurrency=CONCURRENCY,
                   options={"page_size": PAGE})
    con.tables("cd")
    try:
        result = con.sql(query)
        return result.arrow().num_rows, result.requests
    finally:
        con.close()


def measure(shape: str, rows: int, repeat: int) -> dict[str, Any]:
    columns = FLAT if shape == "flat" else ()
    query = f"SELECT {', '.join(FLAT)} FROM cd.tasks" if shape == "flat" else "SELECT * FROM cd.tasks"
    targets = page_targets(rows)
    times: dict[str, list[float]] = {"bare httpx": [], "lowcode_sql": []}
    cpu: dict[str, list[float]] = {"bare httpx": [], "lowcode_sql": []}
    with ServerProcess(rows=rows, latency=0.0, lazy=True, columns=columns) as server:
        engine_scan(server.url, query + " LIMIT 1")  # warm-up: imports, first query of the process
        for _ in range(repeat):
            for mode in times:
                server.stats(reset=True)
                t0, c0 = time.perf_counter(), time.process_time()
                if mode == "bare httpx":
                    asyncio.run(bare_download(server.url, targets))
                else:
                    got, n = engine_scan(server.url, query)
                    assert (got, n) == (rows, len(targets)), (got, n, rows, len(targets))
                times[mode].append(time.perf_counter() - t0)
                cpu[mode].append(time.process_time() - c0)
                served = server.stats()["requests"]
                assert served == len(targets), (mode, served, len(targets))
    return {"times": times, "cpu": cpu, "requests": len(targets)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shape", choices=("flat", "nested", "both"), default="both")
    ap.add_argument("--baseline-nested", type=float, default=15_000.0,
                    help="rows/s of the nested scan before the change (issue 15: ~15k)")
    ap.add_argument("--quick", action="store_true", help="20,000 rows, 1 run: checks it runs")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.repeat = 20_000, 1
    print(machine(), f"| load average {os.getloadavg()[0]:.1f}")
    ok = True
    for shape in ("flat", "nested") if args.shape == "both" else (args.shape,):
        m = measure(shape, args.rows, args.repeat)
        print(f"\n{shape}: {args.rows:,} rows, {m['requests']} requests of {PAGE} rows, {args.repeat} runs "
              f"alternating (load average now {os.getloadavg()[0]:.1f})")
        rows_out = []
        med = {k: statistics.median(v) for k, v in m["times"].items()}
        for mode, ts in m["times"].items():
            rows_out.append([mode, f"{med[mode]:.2f}", " ".join(f"{t:.2f}" for t in ts),
                             f"{statistics.median(m['cpu'][mode]):.2f}", f"{args.rows / med[mode]:,.0f}"])
        print_table(["path", "median s", "runs s", "median CPU s", "rows/s"], rows_out)
        ratio = med["bare httpx"] / med["lowcode_sql"]
        print(f"lowcode_sql / bare httpx rows/s = {ratio:.2f}x")
        if shape == "flat":
            ok &= verdict("flat scan rows/s vs bare httpx download", ratio, TARGET_FLAT, unit="x")
        else:
            speed = args.rows / med["lowcode_sql"]
            ok &= verdict(f"nested scan rows/s vs {args.baseline_nested:,.0f} before", speed / args.baseline_nested,
                          TARGET_NESTED, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
