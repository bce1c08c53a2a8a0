"""Peak memory of iterating a 1M-row result as Python rows: streamed batch by batch vs all at once.

The CoreData sandbox holds 1,000,000 ``tasks`` rows and serves them from its own process over real
HTTP (``_serve.py``, as ``bench_memory.py``). Each client runs in a fresh child process and reads
``SELECT id, status, created FROM cd.tasks`` as Python tuples:

* ``Result`` iteration: ``for row in con.sql(q)`` (the Arrow answer is fetched first, not measured);
* the old ``Result.__iter__`` (the alternative): every row built as a tuple first, then iterated;
* ``con.stream(q)``: ``for row in stream``, pages fetched while rows are read (measured whole);
* DB-API: ``cur.execute(q)`` then ``cur.fetchmany(10_000)`` until empty (measured whole).

Measured: the peak of Python allocations (``tracemalloc``, which also sees numpy's) above what the
process held before, and the peak RSS above it (psutil, sampled every 5 ms). "One batch" is the
Python tuples of one 65,536-row batch of this query; "the scan guard" is what the scan's set of
seen keys holds after 1M keys (``fetch/scan.py``, ``_SeenKeys``), measured the same way.
Targets: streamed peaks (tracemalloc) <= 1.5 x one batch + the scan guard; ``Result`` iteration
<= 1.5 x one batch.

    PYTHONPATH=. python benchmarks/bench_results.py [--rows 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MISSED, ServerProcess, machine, print_table, verdict
from bench_memory import RssSampler

QUERY = "SELECT id, status, created FROM cd.tasks"
SECRETS = {"user": "demo", "key": "demo-key"}
MODES = ("result", "result-old", "stream", "dbapi")


def _measure(fn: Any) -> tuple[float, float]:
    """(tracemalloc peak MB, RSS peak MB), both above the state before ``fn``."""
    gc.collect()
    with RssSampler() as rss:
        base_rss = rss.proc.memory_info().rss
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return peak / 2**20, (rss.peak - base_rss) / 2**20


def _one_batch_and_guard(con: Any, rows: int) -> tuple[float, float]:
    from lowcode_sql.fetch.scan import _SeenKeys
    from lowcode_sql.result import BATCH_ROWS, _rows

    head = con.sql(f"{QUERY} LIMIT {BATCH_ROWS}").arrow()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = list(_rows(head.to_batches()))
    one = tracemalloc.get_traced_memory()[0] - base
    del kept
    base = tracemalloc.get_traced_memory()[0]
    keys = _SeenKeys()
    peak = 0
    for start in range(0, rows, 1000):  # CoreData ids are 36 characters (``make_tasks``)
        page = [f"{i:036d}" for i in range(start, min(rows, start + 1000))]
        tracemalloc.reset_peak()
        keys.add_page(page)
        # the guard's own peak: its recent set just before a merge, and the merge (the page's
        # strings, the consumer's, are not counted)
        peak = max(peak, tracemalloc.get_traced_memory()[1] - base - sys.getsizeof(page)
                   - sum(map(sys.getsizeof, page)))
        del page
    guard = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    global GUARD_PEAK_MB
    GUARD_PEAK_MB = peak / 2**20
    return one / 2**20, guard / 2**20


GUARD_PEAK_MB = 0.0


def client(mode: str, url: str, rows: int) -> None:
    import lowcode_sql
    from lowcode_sql import dbapi

    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", base_url=url, secrets=SECRETS)
    con.tables("cd")
    # One query before measuring, in every mode (the Result modes had one anyway: con.sql): what a
    # process pays once is setup, not streaming. Mostly pyarrow's first conversion of Python
    # objects, which imports pandas when it is installed (~20 MB of Python objects, ~44 MB RSS).
    con.sql(f"{QUERY} LIMIT 1").arrow()
    out: dict[str, Any] = {"mode": mode}
    count = 0

    def iterate(it: Any) -> None:
        nonlocal count
        for _row in it:
            count += 1

    if mode in ("result", "result-old"):
        r = con.sql(QUERY)
        if mode == "result":
            out["trace_mb"], out["rss_mb"] = _measure(lambda: iterate(r))
        else:
            out["trace_mb"], out["rss_mb"] = _measure(
                lambda: iterate(list(zip(*[c.to_pylist() for c in r.table.columns], strict=True))))
        out["requests"] = r.requests
    elif mode == "stream":
        def run() -> None:
            with con.stream(QUERY) as s:
                iterate(s)
                out["requests"] = s.requests
        out["trace_mb"], out["rss_mb"] = _measure(run)
    else:
        cur = dbapi.connect(connection=con).cursor()

        def run() -> None:
            nonlocal count
            cur.execute(QUERY)
            while batch := cur.fetchmany(10_000):
                count += len(batch)
            out["requests"] = cur.requests
        out["trace_mb"], out["rss_mb"] = _measure(run)
    out["rows"] = count
    out["one_batch_mb"], out["guard_mb"] = _one_batch_and_guard(con, rows)
    out["guard_peak_mb"] = GUARD_PEAK_MB
    con.close()
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100,000 rows (a smoke run)")
    ap.add_argument("--modes", default=",".join(MODES), help=f"clients to run, of {','.join(MODES)}")
    ap.add_argument("--client", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.rows = 100_000
    if args.client:
        client(args.client, args.url, args.rows)
        return 0
    print(f"bench_results: iterating {QUERY!r} over {args.rows:,} CoreData rows as Python tuples, "
          f"server in another process (real HTTP), page_size 1000 ({machine()})")
    results = []
    with ServerProcess(rows=args.rows, latency=0.0, lazy=True) as server:
        for mode in [m for m in MODES if m in args.modes.split(",")]:
            proc = subprocess.run([sys.executable, __file__, "--client", mode, "--url", server.url,
                                   "--rows", str(args.rows)], capture_output=True, text=True, timeout=1800,
                                  env={**os.environ, "PYTHONHASHSEED": "0"})
            if proc.returncode != 0:
                raise RuntimeError(f"{mode} client failed:\n{proc.stderr[-3000:]}")
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    for r in results:
        assert r["rows"] == args.rows, f"{r['mode']}: {r['rows']} rows, expected {args.rows}"
    one = results[0]["one_batch_mb"]
    guard = results[0]["guard_mb"]
    print(f"one batch: the Python tuples of one 65,536-row batch of this query (``result.BATCH_ROWS``, the "
          f"batch con.stream and the cursor read), built at once: {one:.1f} MB (tracemalloc)")
    print(f"the scan guard: the scan's record of every key it received (``fetch/scan.py`` _SeenKeys) after "
          f"{args.rows:,} 36-character keys: {guard:.1f} MB (tracemalloc); its peak on the way, just before and "
          f"during a merge of its recent keys: {results[0]['guard_peak_mb']:.1f} MB (the bound uses the former)")
    print()
    print_table(["client", "peak Python MB (tracemalloc)", "peak RSS above start MB", "requests", "bound MB"],
                [[r["mode"], r["trace_mb"], r["rss_mb"], r["requests"],
                  1.5 * one + (0 if r["mode"].startswith("result") else guard)] for r in results])
    print()
    by = {r["mode"]: r for r in results}
    if "result" in by and "result-old" in by:
        print(f"old Result.__iter__ / new: {by['result-old']['trace_mb'] / max(by['result']['trace_mb'], 1e-9):.1f}x")
    ok = True
    if "result" in by:
        ok &= verdict("Result iteration peak (tracemalloc)", by["result"]["trace_mb"], 1.5 * one,
                      higher_is_better=False, unit=" MB")
    if "stream" in by:
        ok &= verdict("con.stream iteration peak (tracemalloc)", by["stream"]["trace_mb"], 1.5 * one + guard,
                      higher_is_better=False, unit=" MB")
    if "dbapi" in by:
        ok &= verdict("DB-API fetchmany peak (tracemalloc)", by["dbapi"]["trace_mb"], 1.5 * one + guard,
                      higher_is_better=False, unit=" MB")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
