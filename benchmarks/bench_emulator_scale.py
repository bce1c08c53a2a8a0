"""(g) Emulators at scale (issue 15 item 7): the time of one page request at 10k and at 1M rows on
each platform's emulator, and the memory a simple row takes.

For each emulator a table of simple rows (a string key, a name, an integer, a status out of five,
a timestamp) is loaded with ``load_table``; then page requests are sent the way the dialect sends
them (through ``Platform.dispatch``, so routing, auth, paging and JSON encoding are counted; no HTTP):

* ``scan``: the unfiltered list in the default order, a page from the middle of the table
  (``cold``: the first request after loading; ``warm``: the median of later pages of the same scan);
* ``eq``: an equality filter on the status (20% of the rows) or, on Entu, on the name (one row);
* ``sorted``: sorted by the timestamp, descending (CoreData with ``ordering=True``, Entu, Totalum).

Memory per row: ``tracemalloc`` over ``load_table`` of the small size (exact Python allocations,
the Arrow input excluded), and the RSS growth of the process over the large size.

Target: a warm ``scan`` page at the large size within 2x of one at the small size on every platform;
memory <= 2 KB per row. ::

    python benchmarks/bench_emulator_scale.py                  # 10,000 and 1,000,000 rows
    python benchmarks/bench_emulator_scale.py --rows 10000 200000 --platforms entu coredata
    python benchmarks/bench_emulator_scale.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from _common import MISSED, machine, print_table, verdict

from lowcode_sql.sandbox import get_sandbox
from lowcode_sql.sandbox._base import Platform, Request, Response, encode_response

STATUSES = ["open", "in progress", "waiting", "done", "cancelled"]
PLATFORMS = ("coredata", "entu", "totalum", "slingr", "alumio")
KINDS = ("scan", "eq", "sorted")


def simple_rows(n: int, names: dict[str, str]) -> pa.Table:
    """``n`` rows: key ``"k%08d"``, name ``"Row %08d"``, qty ``i % 1000``, status (cycling), created
    (2024-01-01 + i minutes); ``names`` renames the columns to a platform's own fields."""
    i = pa.array(np.arange(n, dtype=np.int64))
    digits = pc.utf8_lpad(pc.cast(i, pa.string()), 8, "0")
    cols = {
        "key": pc.binary_join_element_wise("k", digits, ""),
        "name": pc.binary_join_element_wise("Row ", digits, ""),
        "qty": pa.array(np.arange(n, dtype=np.int64) % 1000),
        "status": pa.array(STATUSES).take(pa.array(np.arange(n) % len(STATUSES))),
        "created": pa.array(np.datetime64("2024-01-01T00:00:00", "us") + np.arange(n) * np.timedelta64(60, "s"),
                            pa.timestamp("us")),
    }
    return pa.table({names.get(k, k): v for k, v in cols.items() if names.get(k, k)})


class Driver:
    """One platform: how to load the rows and what its page requests look like."""

    name = ""
    page = 0

    def __init__(self) -> None:
        self.sb: Platform = self.make()
        self.headers: dict[str, str] = {}

    def make(self) -> Platform:
        return get_sandbox(self.name, sample_data=False)

    columns: dict[str, str] = {"key": ""}  # simple_rows' columns renamed ("" drops one)
    table = "item"

    def load(self, data: pa.Table) -> None:
        self.sb.load_table(self.table, data)

    def login(self) -> None:
        pass

    def request(self, kind: str, k: int, n: int) -> Request:
        """The ``k``-th page of a ``kind`` request over ``n`` rows."""
        raise NotImplementedError

    def send(self, req: Request) -> bytes:
        resp = asyncio.run(self.sb.dispatch(req))
        assert isinstance(resp, Response) and resp.status == 200, (self.name, req, resp)
        return encode_response(resp)[0]


class CoreData(Driver):
    name, page = "coredata", 1000

    def make(self) -> Platform:
        return get_sandbox("coredata", sample_data=False, ordering=True)

    columns, table = {"key": "", "name": "title", "qty": ""}, "tasks"

    def request(self, kind: str, k: int, n: int) -> Request:
        q = [("limit", str(self.page)), ("offset", str(k * self.page))]
        q += {"scan": [], "eq": [("title", f"Row {n // 2:08d}")], "sorted": [("order_by", "-created")]}[kind]
        return Request("GET", "/api/v2/tasks/", q, {"authorization": "apikey demo:demo-key"})


class Entu(Driver):
    name, page = "entu", 500

    def login(self) -> None:
        body = json.loads(self.send(Request("GET", "/api/auth", [], {"authorization": "Bearer demo-api-key"})))
        self.headers = {"authorization": f"Bearer {body['token']}"}

    def request(self, kind: str, k: int, n: int) -> Request:
        q = [("_type.string", "item"), ("limit", str(self.page)), ("skip", str(k * self.page))]
        q += {"scan": [], "eq": [("name.string", f"Row {n // 2:08d}")], "sorted": [("sort", "-created.datetime")]}[kind]
        return Request("GET", "/api/demo/entity", q, self.headers)


class Totalum(Driver):
    name, page = "totalum", 200

    def request(self, kind: str, k: int, n: int) -> Request:
        sort = {"created": -1, "_id": 1} if kind == "sorted" else {"_id": 1}
        flt = [{"status": "done"}] if kind == "eq" else []
        body = {"filter": flt, "sort": sort, "pagination": {"page": k, "limit": self.page}, "returnCount": True}
        return Request("POST", "/api/v1/crud/query/item", [], {"api-key": "demo-api-key"}, json.dumps(body).encode())


class Slingr(Driver):
    name, page = "slingr", 1000

    def login(self) -> None:
        body = json.dumps({"email": "user@test.com", "password": "abcdefgh"}).encode()
        token = json.loads(self.send(Request("POST", "/runtime/api/auth/login", [], {}, body)))["token"]
        self.headers = {"token": token}

    def request(self, kind: str, k: int, n: int) -> Request:
        q = [("_size", str(self.page)), ("_offset", str(k * self.page))]
        q += {"scan": [], "eq": [("status", "done")],
              "sorted": [("_sortField", "created"), ("_sortType", "desc")]}[kind]
        return Request("GET", "/runtime/api/data/item", q, self.headers)


class Alumio(Driver):
    name, page = "alumio", 500

    columns, table = {"key": "identifier", "name": "entityIdentifier"}, "tasks"

    def request(self, kind: str, k: int, n: int) -> Request:
        doc: dict[str, Any] = {"skip": k * self.page, "limit": self.page}
        if kind == "eq":
            doc["where"] = {"status": "done"}
        if kind == "sorted":
            doc["order"] = "created DESC"
        headers = {"authorization": "Bearer demo-alumio-token"}
        return Request("GET", "/api/v1/tasks", [("filter", json.dumps(doc))], headers)


DRIVERS: dict[str, Callable[[], Driver]] = {d.name: d for d in (CoreData, Entu, Totalum, Slingr, Alumio)}


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def measure(name: str, n: int, *, traced: bool, warm: int, kinds: list[str]) -> dict[str, Any]:
    d = DRIVERS[name]()
    data = simple_rows(n, d.columns)
    gc.collect()
    rss0 = _rss()
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    d.load(data)
    load_s = time.perf_counter() - t0
    del data
    gc.collect()
    if traced:
        current, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    rss = _rss() - rss0
    out: dict[str, Any] = {"platform": name, "rows": n, "load_s": load_s, "rss_per_row": rss / n,
                           "traced_per_row": current / n if traced else None}
    d.login()
    pages = max(1, n // d.page)
    for kind in kinds:
        k0 = pages // 2 if kind != "eq" else 0
        t0 = time.perf_counter()
        d.send(d.request(kind, k0, n))
        out[f"{kind}_cold"] = time.perf_counter() - t0
        times = []
        for j in range(warm):
            req = d.request(kind, (k0 + 1 + j) % pages if kind != "eq" else 0, n)
            t0 = time.perf_counter()
            d.send(req)
            times.append(time.perf_counter() - t0)
        out[f"{kind}_warm"] = statistics.median(times)
    del d
    gc.collect()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs=2, default=[10_000, 1_000_000], metavar=("SMALL", "LARGE"))
    ap.add_argument("--platforms", nargs="+", default=list(PLATFORMS), choices=PLATFORMS)
    ap.add_argument("--warm", type=int, default=5, help="warm pages timed per request kind")
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS,
                    help="request kinds to time (the scan alone for the target)")
    ap.add_argument("--quick", action="store_true", help="1,000 and 5,000 rows: checks it runs")
    args = ap.parse_args()
    small, large = (1_000, 5_000) if args.quick else args.rows
    now = dt.datetime.now(dt.UTC)
    print(f"# emulators at scale: {small:,} vs {large:,} rows; {machine()}; {now:%Y-%m-%d %H:%M} UTC")
    results = []
    for name in args.platforms:
        for n, traced in ((small, True), (large, False)):
            r = measure(name, n, traced=traced, warm=args.warm, kinds=args.kinds)
            results.append(r)
            print(f"  {name} {n:,}: " + ", ".join(f"{k} {v:.4g}" for k, v in r.items() if isinstance(v, float)),
                  flush=True)
    ms = 1000.0
    for r in results:
        for kind in KINDS:
            r.setdefault(f"{kind}_cold", float("nan"))
            r.setdefault(f"{kind}_warm", float("nan"))
    print_table(
        ["platform", "rows", "load s", "B/row (traced)", "B/row (RSS)", "scan cold ms", "scan warm ms",
         "eq cold ms", "eq warm ms", "sorted cold ms", "sorted warm ms"],
        [[r["platform"], r["rows"], r["load_s"], r["traced_per_row"] or "-", r["rss_per_row"],
          r["scan_cold"] * ms, r["scan_warm"] * ms, r["eq_cold"] * ms, r["eq_warm"] * ms,
          r["sorted_cold"] * ms, r["sorted_warm"] * ms] for r in results],
    )
    ok = True
    by = {(r["platform"], r["rows"]): r for r in results}
    for name in args.platforms:
        s, b = by[(name, small)], by[(name, large)]
        print(f"{name}: warm scan page {b['scan_warm'] * ms:.2f} ms at {large:,} vs {s['scan_warm'] * ms:.2f} ms "
              f"at {small:,}: {b['scan_warm'] / s['scan_warm']:.2f}x; eq warm {b['eq_warm'] / s['eq_warm']:.2f}x; "
              f"sorted warm {b['sorted_warm'] / s['sorted_warm']:.2f}x")
        ok &= verdict(f"{name} warm scan page {large:,} / {small:,} rows", b["scan_warm"] / s["scan_warm"], 2.0,
                      higher_is_better=False, unit="x")
        ok &= verdict(f"{name} bytes per simple row (tracemalloc)", s["traced_per_row"], 2048,
                      higher_is_better=False, unit=" B")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
