"""Scan sharing (issue 15, item 1): requests of queries that read one table through several references.

Self-joins, correlated subqueries (``avg`` over the same table), EXISTS / NOT EXISTS on the same
table, an uncorrelated aggregate, a CTE used twice, UNION ALL and IN over the same table, on every
platform whose emulator takes arbitrary tables (Totalum, Slingr, Entu; CoreData and Alumio serve
fixed tables), each holding the same ``--rows`` rows in pages of ``--page-size``. Side by side per
query, in one run:

* once: ``SELECT * FROM <table>``, fetching the table whole once (the target's yardstick);
* today: the query with scan sharing switched off (one scan per reference, as before issue 15);
* shared: the query as planned now.

Requests are the scans' own counts (in-process emulators: the count does not depend on latency);
the answers of ``today`` and ``shared`` are compared. Targets: shared <= once and shared <= today
for every query.

    PYTHONPATH=. python benchmarks/bench_scan_sharing.py [--rows 2000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
from _common import MISSED, machine, print_table

import lowcode_sql
import lowcode_sql.plan
from lowcode_sql.sandbox.entu import EntuSandbox
from lowcode_sql.sandbox.slingr import SlingrSandbox
from lowcode_sql.sandbox.totalum import TotalumSandbox

STATUSES = ["open", "done", "waiting", "closed"]

# (label, SQL with {t} the table and {k} its key)
QUERIES: list[tuple[str, str]] = [
    ("self-join on the key", "SELECT count(*) FROM {t} a JOIN {t} b ON a.{k} = b.{k}"),
    ("self-join, two filters",
     "SELECT count(*) FROM {t} a JOIN {t} b ON a.num = b.num WHERE a.status = 'open' AND b.status = 'done'"),
    ("correlated avg",
     "SELECT count(*) FROM {t} a WHERE a.num > (SELECT avg(b.num) FROM {t} b WHERE b.status = a.status)"),
    ("EXISTS, two filters", "SELECT count(*) FROM {t} a WHERE a.status = 'open' AND EXISTS "
                            "(SELECT 1 FROM {t} b WHERE b.num = a.num AND b.status = 'closed')"),
    ("NOT EXISTS", "SELECT count(*) FROM {t} a WHERE NOT EXISTS (SELECT 1 FROM {t} b WHERE b.num = a.num + 1)"),
    ("uncorrelated avg", "SELECT count(*) FROM {t} WHERE num > (SELECT avg(num) FROM {t})"),
    ("CTE used twice", "WITH c AS (SELECT {k}, num FROM {t} WHERE status = 'waiting') "
                       "SELECT count(*) FROM c x JOIN c y ON x.num = y.num"),
    ("UNION ALL, nested filters",
     "SELECT {k} FROM {t} WHERE status = 'open' UNION ALL SELECT {k} FROM {t} WHERE status = 'open' AND num < 10"),
    ("IN, same filter", "SELECT count(*) FROM {t} WHERE status = 'done' AND num IN "
                        "(SELECT num FROM {t} WHERE status = 'done' AND num > 50)"),
]


def make_table(n: int, key: str) -> pa.Table:
    base = dt.datetime(2024, 1, 1)
    return pa.table({
        key: [f"{i:024x}" for i in range(1, n + 1)],
        "status": [STATUSES[i % len(STATUSES)] for i in range(n)],
        "num": [i % 97 for i in range(n)],
        "title": [f"Item {i:06d}" for i in range(n)],
        "created": [base + dt.timedelta(minutes=i) for i in range(n)],
    })


def connect(rows: int, page: int) -> tuple[lowcode_sql.Connection, list[tuple[str, str, str]]]:
    """One connection with the three platforms' sources: (platform, table, key) each."""
    con = lowcode_sql.connect()
    tl = TotalumSandbox(sample_data=False)
    tl.load_table("item", make_table(rows, "_id"))
    con.add_source("tl", "totalum", sandbox=tl, options={"page_size": page})
    sl = SlingrSandbox(sample_data=False)
    sl.load_table("item", make_table(rows, "id"))
    con.add_source("sl", "slingr", sandbox=sl, options={"entities": ["item"], "page_size": page})
    en = EntuSandbox(sample_data=False)
    en.load_table("item", make_table(rows, "_id"))
    con.add_source("en", "entu", sandbox=en, options={"db": "demo", "page_size": page})
    return con, [("Totalum", "tl.item", "_id"), ("Slingr", "sl.item", "id"), ("Entu", "en.item", "_id")]


def separate(con: lowcode_sql.Connection, sql: str) -> lowcode_sql.Result:
    """The query as planned before scan sharing: one scan per reference."""
    saved = lowcode_sql.plan.share_scans
    lowcode_sql.plan.share_scans = lambda *a, **k: []  # type: ignore[assignment]
    try:
        return con.sql(sql)
    finally:
        lowcode_sql.plan.share_scans = saved


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="smallest sizes: checks it runs")
    args = ap.parse_args()
    rows = 300 if args.quick else args.rows
    con, platforms = connect(rows, args.page_size)
    print(f"scan sharing: {rows} rows per table, pages of {args.page_size}; {machine()}")
    table: list[list[str]] = []
    missed: list[str] = []
    for platform, t, k in platforms:
        once = con.sql(f"SELECT * FROM {t}").requests
        for label, template in QUERIES:
            sql = template.format(t=t, k=k)
            today = separate(con, sql)
            shared = con.sql(sql)
            if sorted(map(repr, today.arrow().to_pylist())) != sorted(map(repr, shared.arrow().to_pylist())):
                raise SystemExit(f"answers differ: {platform} {label}")
            ok = shared.requests <= once and shared.requests <= today.requests
            if not ok:
                missed.append(f"{platform}: {label}")
            table.append([platform, label, str(once), str(today.requests), str(shared.requests),
                          f"{today.requests / max(shared.requests, 1):.2f}x", "yes" if ok else "MISSED"])
    print_table(["platform", "query", "once", "today", "shared", "today/shared", "<= once and today"], table)
    con.close()
    if missed:
        print("missed: " + "; ".join(missed))
        return MISSED
    print("target met: shared <= fetching each distinct table once, and <= today, for every query")
    return 0


if __name__ == "__main__":
    sys.exit(main())
