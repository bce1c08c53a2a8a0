"""(f) Client CPU per row: a full scan over HTTP vs a bare concurrent httpx download of the same pages.

Issue 15, item 3. A CoreData sandbox server in a child process (``_serve.py``, no latency) holds N
``tasks`` rows; the same run, alternating, times:

* bare httpx: an ``httpx.AsyncClient`` with the engine's connection limit (8) downloading exactly
  the pages the engine requests (``?offset=..&limit=1000``, one-row overlap), 8 in flight, keeping
  only the byte count: the wire speed the client could reach if conversion cost nothing;
* lowcode_sql: ``con.sql(query).arrow()``, the whole scan into one Arrow table, in a child process
  of its own (imported and warmed up once; its CPU is the client's alone);
* with ``--baseline DIR``, the same in a child process running another checkout (e.g. the issue's
  commit: ``git archive 5c44ea6 | tar -x -C /tmp/old``), alternating with the others.

The server is a separate process on the same 2 cores: encoding a page costs it CPU, so by default
(the stock emulator's encoding, page by page) the server, not the client, can set the pace.
``--cache-pages`` makes it answer each page from the bytes it encoded the first time (a priming
download before the timed runs): the same bytes, at close to no server CPU, so what is measured is
the client.

Two shapes: *flat*, the server sends 5 flat fields per record (``id, title, status, created,
modified``) and the query selects them; *nested*, the server sends all 21 fields (structs, lists)
and the query is ``SELECT *``. Targets: flat >= 0.8x the bare download's rows/s; nested >= 3x the
rows/s measured before the change (the ``--baseline`` tree's in the same run, else
``--baseline-nested`` rows/s; default the issue's 15,000).
Both paths' process CPU seconds are printed too (the machine is shared: wall-clock ratios taken in
one run are the figures that mean something; load average printed).

    python benchmarks/bench_scan.py [--rows 1000000] [--repeat 3] [--shape flat|nested|both]
                                    [--cache-pages] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _common import MISSED, ROOT, ServerProcess, machine, print_table, self_check, tasks_def, verdict

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


#: A client process: reads a query per line, scans it, prints rows, requests, wall and CPU seconds.
#: Written against the API every measured tree has (``connect``, ``add_source``, ``Result.requests``).
CLIENT = """
import json, sys, time
import lowcode_sql
url, concurrency, page, user, key = sys.argv[1:6]
for line in sys.stdin:
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", base_url=url, secrets={"user": user, "key": key},
                   concurrency=int(concurrency), options={"page_size": int(page)})
    con.tables("cd")
    t0, c0 = time.perf_counter(), time.process_time()
    result = con.sql(line.strip())
    rows = result.arrow().num_rows
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    con.close()
    print("RESULT", json.dumps({"rows": rows, "requests": result.requests, "wall": wall, "cpu": cpu}), flush=True)
"""


class Client:
    """``CLIENT`` in a child process importing lowcode_sql from ``tree``."""

    def __init__(self, tree: Path, url: str) -> None:
        self.tree = tree
        env = {**os.environ, "PYTHONPATH": str(tree)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLIENT, url, str(CONCURRENCY), str(PAGE), SECRETS["user"], SECRETS["key"]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tree, env=env)

    def scan(self, query: str) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(query + "\n")
        self.proc.stdin.flush()
        while True:  # a tree may print other lines
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the client process failed (exit {self.proc.wait()})")
            if line.startswith("RESULT "):
                return json.loads(line[7:])  # type: ignore[no-any-return]
            print(f"  ({self.tree.name} printed: {line.rstrip()[:200]})")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(30)


def measure(shape: str, rows: int, repeat: int, trees: dict[str, Path], cache_pages: bool) -> dict[str, Any]:
    columns = FLAT if shape == "flat" else ()
    query = f"SELECT {', '.join(FLAT)} FROM cd.tasks" if shape == "flat" else "SELECT * FROM cd.tasks"
    targets = page_targets(rows)
    modes = ["bare httpx", *trees]
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpu: dict[str, list[float]] = {m: [] for m in modes}
    with ServerProcess(rows=rows, latency=0.0, lazy=True, columns=columns, cache_pages=cache_pages) as server:
        clients = {label: Client(tree, server.url) for label, tree in trees.items()}
        try:
            for client in clients.values():
                client.scan(query + " LIMIT 1")  # warm-up: imports, first query of the process
            if cache_pages:
                # the server encodes every page once: the bare download's pages, then each tree's own
                # (a baseline may page otherwise); every client has also made one full scan before timing
                asyncio.run(bare_download(server.url, targets))
                for client in clients.values():
                    client.scan(query)
            for _ in range(repeat):
                for mode in modes:
                    server.stats(reset=True)
                    if mode == "bare httpx":
                        t0, c0 = time.perf_counter(), time.process_time()
                        asyncio.run(bare_download(server.url, targets))
                        times[mode].append(time.perf_counter() - t0)
                        cpu[mode].append(time.process_time() - c0)
                    else:
                        got = clients[mode].scan(query)
                        assert got["rows"] == rows, (mode, got, rows)
                        times[mode].append(got["wall"])
                        cpu[mode].append(got["cpu"])
                    served = server.stats()["requests"]
                    if mode != "baseline":  # the baseline may page otherwise (5c44ea6: no overlap)
                        assert served == len(targets), (mode, served, len(targets))
        finally:
            for client in clients.values():
                client.close()
    return {"times": times, "cpu": cpu, "requests": len(targets)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shape", choices=("flat", "nested", "both"), default="both")
    ap.add_argument("--baseline-nested", type=float, default=15_000.0,
                    help="rows/s of the nested scan before the change (issue 15: ~15k)")
    ap.add_argument("--cache-pages", action="store_true",
                    help="the server answers each page from the bytes it encoded the first time (measures the client)")
    ap.add_argument("--baseline", type=Path, help="a checkout of another commit, timed side by side")
    ap.add_argument("--quick", action="store_true", help="20,000 rows, 1 run: checks it runs")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.repeat = 20_000, 1
    print(machine(), f"| load average {os.getloadavg()[0]:.1f}")
    self_check(1_500 if args.quick else 2_500)  # the bench server (and its page cache) answers like the emulator
    trees = {"lowcode_sql": ROOT}
    if args.baseline:
        trees["baseline"] = args.baseline.resolve()
    server = "server answering from encoded pages" if args.cache_pages else "server encoding each page"
    ok = True
    for shape in ("flat", "nested") if args.shape == "both" else (args.shape,):
        m = measure(shape, args.rows, args.repeat, trees, args.cache_pages)
        print(f"\n{shape}: {args.rows:,} rows, {m['requests']} requests of {PAGE} rows, {args.repeat} runs "
              f"alternating, {server} (load average now {os.getloadavg()[0]:.1f})")
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
            before, what = args.baseline_nested, f"{args.baseline_nested:,.0f} before"
            if "baseline" in med:
                before, what = args.rows / med["baseline"], f"the baseline tree's ({args.baseline})"
                less = statistics.median(m["cpu"]["baseline"]) / statistics.median(m["cpu"]["lowcode_sql"])
                print(f"lowcode_sql / baseline rows/s = {speed / before:.2f}x, CPU {less:.2f}x less")
            ok &= verdict(f"nested scan rows/s vs {what}", speed / before, TARGET_NESTED, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
