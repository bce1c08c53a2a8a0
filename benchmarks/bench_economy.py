"""(c) Request economy: what pushdown saves against fetching everything and filtering in DuckDB.

Two sandboxes, each served over real HTTP on 127.0.0.1 with 50 ms latency per request: CoreData
with 20,000 ``tasks`` rows (``make_tasks``; pages of 1,000) and Entu with 10,000 ``book``
entities (``make_books``: single-valued title/year/genre/price, multi-valued tags; pages of 500).
Side by side in one run, per platform:

* pushdown: each query through lowcode_sql as written (filters, COUNT(*), GROUP BY, ORDER BY,
  LIMIT sent to the API where the dialect declares them exact);
* full scan: ``SELECT * FROM <table>`` through lowcode_sql once (every page, every row), then each
  query run by DuckDB over that table: what a client without pushdown does.

Requests and rows come from the sandbox's own counters (what it served: objects or Entu
entities/groups), bytes are the JSON bodies it sent; discovery and the Entu login happen before
the counts. Every answer is checked against the full-scan answer (a LIMIT without ORDER BY only as
"a subset of the right size", since any rows may be returned). The time column is one run each;
the full scan's time is paid once for all queries of its platform.

Target: >= 10x fewer requests and >= 10x fewer rows for every query whose filter is exact. Rows
marked "(no target)" show the other side honestly: a filter the API cannot evaluate, or evaluates
only as a superset, saves little or nothing.

    PYTHONPATH=. python benchmarks/bench_economy.py [--rows 20000] [--entu-rows 10000]
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
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from _common import MISSED, BenchCoreDataSandbox, machine, make_tasks, print_table, self_check, verdict

import lowcode_sql
from lowcode_sql.sandbox._base import Request, Response, encode_response
from lowcode_sql.sandbox.entu import EntuSandbox

LATENCY = 0.05
TARGET = 10.0
CD_SECRETS = {"user": "demo", "key": "demo-key"}
EN_SECRETS = {"key": "demo-api-key"}

# (label, SQL, kind): kind "exact" counts towards the target; "subset": LIMIT without ORDER BY,
# checked as a subset (counts too); "local": the filter is not pushed exactly (no target).
CD_QUERIES: list[tuple[str, str, str]] = [
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
# Entu (API-NOTES §5): ``book`` with title/year/genre/price declared single-valued (exact filters)
# and ``tags`` multi-valued (``list_contains(tags__all, v)`` is exact; ``tags = v`` a superset).
EN_QUERIES: list[tuple[str, str, str]] = [
    ("COUNT, number range", "SELECT count(*) FROM en.book WHERE year >= 2000", "exact"),
    ("GROUP BY ... COUNT(*) (group=)", "SELECT genre, count(*) AS n FROM en.book GROUP BY genre ORDER BY genre",
     "exact"),
    ("filter, two properties", "SELECT title, year FROM en.book WHERE genre = 'poetry' AND year < 1925", "exact"),
    ("filter, any value of a list", "SELECT title FROM en.book WHERE list_contains(tags__all, 'signed') "
     "AND genre = 'travel' AND price < 10", "exact"),
    ("LIMIT 5 on a filter", "SELECT title FROM en.book WHERE genre = 'novel' LIMIT 5", "subset"),
    ("sorted LIMIT (sort=)", "SELECT title, year FROM en.book ORDER BY title DESC LIMIT 10", "exact"),
    ("superset: tags = v (first value of a list)", "SELECT count(*) FROM en.book WHERE tags = 'signed'", "local"),
]
GENRES = ["poetry", "novel", "history", "science", "travel", "children"]
TAGS = ["signed", "first edition", "illustrated", "damaged"]


def make_books(n: int) -> pa.Table:
    """``n`` deterministic Entu ``book`` rows: 0-2 tags each (a multi-valued property)."""
    i = np.arange(n)
    rng = np.random.default_rng(7)
    counts = (i % 3).astype(np.int32)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.table({
        "title": pc.binary_join_element_wise("Book ", pc.utf8_lpad(pc.cast(pa.array(i), pa.string()), 6, "0"), ""),
        "year": pa.array(1900 + (i * 7919) % 124),
        "genre": pa.array(GENRES).take(pa.array(rng.integers(0, len(GENRES), n))),
        "price": pa.array(np.round(5 + (i % 500) / 10, 2)),
        "tags": pa.ListArray.from_arrays(pa.array(offsets),
                                         pa.array(TAGS).take(pa.array(rng.integers(0, len(TAGS), int(offsets[-1]))))),
    })


class CountingEntuSandbox(EntuSandbox):
    """The Entu emulator, counting the entities (or groups) and bytes its answers carry."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.rows_sent = self.bytes_sent = 0

    def reset_stats(self) -> None:
        super().reset_stats()
        self.rows_sent = self.bytes_sent = 0

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        if isinstance(response.body, dict) and isinstance(response.body.get("entities"), list):
            self.rows_sent += len(response.body["entities"])
            self.bytes_sent += len(encode_response(response)[0])
        return response


def _rows(table: Any) -> list[str]:
    return sorted(map(repr, table.to_pylist()))


def _ratio(full: int, mine: int) -> float:
    return math.inf if mine == 0 else full / mine


def _fmt_ratio(r: float) -> str:
    return "all (0 sent)" if math.isinf(r) else f"{r:,.1f}x"


def section(name: str, con: lowcode_sql.Connection, sandbox: Any, table: str, queries: list[tuple[str, str, str]],
            rows: int) -> tuple[list[list[Any]], float, float]:
    """Full scan once, then each query pushed down; every answer checked against the full scan's."""
    local_name = table.split(".")[1]
    sandbox.reset_stats()
    t0 = time.perf_counter()
    everything = con.sql(f"SELECT * FROM {table}").arrow()
    t_full = time.perf_counter() - t0
    full = (sandbox.stats.requests, sandbox.rows_sent, sandbox.bytes_sent)
    assert everything.num_rows == rows, (everything.num_rows, rows)
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    duck.register(local_name, everything)
    out: list[list[Any]] = [[name, "full scan (baseline, once)", "", full[0], f"{full[1]:,}",
                             f"{full[2] / 1e6:.2f}", t_full, "", "", ""]]
    worst_req, worst_rows = math.inf, math.inf
    for label, sql, kind in queries:
        sandbox.reset_stats()
        t0 = time.perf_counter()
        mine = con.sql(sql).arrow()
        elapsed = time.perf_counter() - t0
        req, nrows, nbytes = sandbox.stats.requests, sandbox.rows_sent, sandbox.bytes_sent
        local_sql = sql.replace(table, local_name)
        theirs = duck.sql(local_sql).to_arrow_table()
        if kind == "subset":
            unlimited = duck.sql(local_sql.rsplit(" LIMIT ", 1)[0]).to_arrow_table()
            assert mine.num_rows == theirs.num_rows and set(_rows(mine)) <= set(_rows(unlimited)), label
        else:
            assert _rows(mine) == _rows(theirs), f"{label}: pushdown and full-scan answers differ"
        r_req, r_rows = _ratio(full[0], req), _ratio(full[1], nrows)
        if kind != "local":
            worst_req, worst_rows = min(worst_req, r_req), min(worst_rows, r_rows)
        out.append([name, label, mine.num_rows, req, f"{nrows:,}", f"{nbytes / 1e6:.3f}", elapsed,
                    _fmt_ratio(r_req), _fmt_ratio(r_rows), "(no target)" if kind == "local" else ""])
    duck.close()
    return out, worst_req, worst_rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000, help="CoreData tasks rows")
    ap.add_argument("--entu-rows", type=int, default=10_000, help="Entu book entities")
    ap.add_argument("--quick", action="store_true", help="2,000 rows, no latency (a smoke run)")
    args = ap.parse_args(argv)
    latency = 0.0 if args.quick else LATENCY
    if args.quick:
        args.rows, args.entu_rows = 2_000, 1_000
    print(f"bench_economy: CoreData tasks ({args.rows:,} rows, pages of 1,000) and Entu book "
          f"({args.entu_rows:,} entities, pages of 500), real HTTP on 127.0.0.1, "
          f"latency {latency * 1000:.0f} ms/request ({machine()})")
    self_check(1_500 if args.quick else 2_500)
    cd = BenchCoreDataSandbox(latency=latency)
    cd.load_table("tasks", make_tasks(args.rows))
    en = CountingEntuSandbox(sample_data=False, latency=latency)
    en.load_table("book", make_books(args.entu_rows))
    out: list[list[Any]] = []
    worst: list[float] = []
    with cd.serve(port=0) as cd_server, en.serve(port=0) as en_server, lowcode_sql.connect() as con:
        con.add_source("cd", "coredata", base_url=cd_server.url, secrets=CD_SECRETS)
        con.add_source("en", "entu", base_url=en_server.url, secrets=EN_SECRETS,
                       options={"db": "demo", "single_valued": {"book": ["title", "year", "genre", "price"]}})
        con.tables()  # discovery (Entu: the types and a sample of each) and the Entu login, outside the counts
        con.sql("SELECT count(*) FROM en.book")
        for name, sandbox, table, queries, rows in (("CoreData", cd, "cd.tasks", CD_QUERIES, args.rows),
                                                    ("Entu", en, "en.book", EN_QUERIES, args.entu_rows)):
            rows_out, w_req, w_rows = section(name, con, sandbox, table, queries, rows)
            out.extend(rows_out)
            worst += [w_req, w_rows]
    print()
    print_table(["platform", "query", "answer rows", "requests", "rows sent", "MB sent", "time s", "fewer requests",
                 "fewer rows", ""], out)
    print()
    for label, sql, _ in CD_QUERIES + EN_QUERIES:
        print(f"  {label}: {sql}")
    print()
    ok = verdict("fewer requests, worst exact-filter query (CoreData)", worst[0], TARGET, unit="x")
    ok &= verdict("fewer rows transferred, worst exact-filter query (CoreData)", worst[1], TARGET, unit="x")
    ok &= verdict("fewer requests, worst exact-filter query (Entu)", worst[2], TARGET, unit="x")
    ok &= verdict("fewer rows transferred, worst exact-filter query (Entu)", worst[3], TARGET, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
