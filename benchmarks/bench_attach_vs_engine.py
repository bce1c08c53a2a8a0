"""Requests per query: a TPC-H-like multi-table workload through ``attach`` vs ``con.sql``.

Four TPC-H-shaped tables (nation, customer, orders, lineitem; deterministic, scaled by
``--scale``) are loaded into the Entu emulator, every property multi-valued as Entu's default
(each a list: the SQL column is its first value, README "Entu"). Each query runs through
``lowcode_sql`` (``con.sql``) and through a DuckDB connection with the same tables attached; both
answers are compared, and the requests each sent are printed side by side.
Target: attach never sends more requests than the engine.

    PYTHONPATH=. python benchmarks/bench_attach_vs_engine.py [--scale 1] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MISSED, machine, print_table, verdict

QUERIES = {
    "q01 pricing summary": "SELECT l_returnflag, count(*) AS n, sum(l_quantity) AS qty FROM entu.lineitem "
                           "WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag ORDER BY l_returnflag",
    "q03 shipping priority": "SELECT o.o_orderkey, sum(l.l_extendedprice) AS revenue FROM entu.customer c "
                             "JOIN entu.orders o ON c.c_custkey = o.o_custkey "
                             "JOIN entu.lineitem l ON l.l_orderkey = o.o_orderkey "
                             "WHERE c.c_mktsegment = 'BUILDING' AND o.o_orderdate < DATE '1995-03-15' "
                             "GROUP BY o.o_orderkey ORDER BY revenue DESC, o.o_orderkey LIMIT 10",
    "q05 local supplier": "SELECT n.n_name, count(*) AS n FROM entu.nation n "
                          "JOIN entu.customer c ON c.c_nationkey = n.n_nationkey "
                          "JOIN entu.orders o ON o.o_custkey = c.c_custkey "
                          "WHERE n.n_regionkey = 2 AND o.o_orderdate >= DATE '1994-01-01' "
                          "GROUP BY n.n_name ORDER BY n.n_name",
    "q06 forecast revenue": "SELECT sum(l_extendedprice * l_discount) AS revenue FROM entu.lineitem "
                            "WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01' "
                            "AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24",
    "q10 returned items": "SELECT c.c_custkey, sum(l.l_extendedprice) AS lost FROM entu.customer c "
                          "JOIN entu.orders o ON o.o_custkey = c.c_custkey "
                          "JOIN entu.lineitem l ON l.l_orderkey = o.o_orderkey "
                          "WHERE l.l_returnflag = 'R' GROUP BY c.c_custkey ORDER BY lost DESC, c.c_custkey LIMIT 20",
    "q12 ship modes": "SELECT l_shipmode, count(*) AS n FROM entu.lineitem "
                      "WHERE l_shipmode IN ('MAIL', 'SHIP') AND l_receiptdate >= DATE '1994-01-01' "
                      "GROUP BY l_shipmode ORDER BY l_shipmode",
    "q13 customer orders": "SELECT c.c_custkey, count(o.o_orderkey) AS n FROM entu.customer c "
                           "LEFT JOIN entu.orders o ON o.o_custkey = c.c_custkey AND o.o_orderpriority <> '1-URGENT' "
                           "GROUP BY c.c_custkey ORDER BY n DESC, c.c_custkey LIMIT 10",
    "q14 one customer": "SELECT o_orderkey, o_totalprice FROM entu.orders WHERE o_custkey = 7 ORDER BY o_orderkey",
    "limit 10": "SELECT * FROM entu.lineitem LIMIT 10",
}


def tables(scale: float) -> dict[str, pa.Table]:
    n_cust, n_orders, n_lines = int(150 * scale), int(1500 * scale), int(6000 * scale)
    base = dt.date(1992, 1, 1)

    def lst(values: list, typ: pa.DataType) -> pa.Array:  # type: ignore[type-arg]
        return pa.array([[v] for v in values], pa.list_(typ))

    nation = {"n_nationkey": lst([float(i) for i in range(25)], pa.float64()),
              "n_name": lst([f"NATION{i:02d}" for i in range(25)], pa.string()),
              "n_regionkey": lst([float(i % 5) for i in range(25)], pa.float64())}
    customer = {"c_custkey": lst([float(i) for i in range(n_cust)], pa.float64()),
                "c_nationkey": lst([float(i % 25) for i in range(n_cust)], pa.float64()),
                "c_mktsegment": lst([("BUILDING", "AUTOMOBILE", "MACHINERY")[i % 3] for i in range(n_cust)],
                                    pa.string())}
    orders = {"o_orderkey": lst([float(i) for i in range(n_orders)], pa.float64()),
              "o_custkey": lst([float((i * 7) % n_cust) for i in range(n_orders)], pa.float64()),
              "o_orderdate": lst([base + dt.timedelta(days=(i * 13) % 2400) for i in range(n_orders)], pa.date32()),
              "o_totalprice": lst([float(1000 + (i * 37) % 9000) for i in range(n_orders)], pa.float64()),
              "o_orderpriority": lst([("1-URGENT", "2-HIGH", "3-MEDIUM")[i % 3] for i in range(n_orders)],
                                     pa.string())}
    lineitem = {"l_orderkey": lst([float(i % n_orders) for i in range(n_lines)], pa.float64()),
                "l_quantity": lst([float(1 + i % 50) for i in range(n_lines)], pa.float64()),
                "l_extendedprice": lst([float(100 + (i * 17) % 5000) for i in range(n_lines)], pa.float64()),
                "l_discount": lst([(i % 11) / 100 for i in range(n_lines)], pa.float64()),
                "l_returnflag": lst([("A", "N", "R")[i % 3] for i in range(n_lines)], pa.string()),
                "l_shipmode": lst([("MAIL", "SHIP", "AIR", "RAIL")[i % 4] for i in range(n_lines)], pa.string()),
                "l_shipdate": lst([base + dt.timedelta(days=(i * 7) % 2500) for i in range(n_lines)], pa.date32()),
                "l_receiptdate": lst([base + dt.timedelta(days=(i * 7) % 2500 + 5) for i in range(n_lines)],
                                     pa.date32())}
    return {k: pa.table(v) for k, v in
            {"nation": nation, "customer": customer, "orders": orders, "lineitem": lineitem}.items()}


def main(argv: list[str] | None = None) -> int:
    import duckdb

    import lowcode_sql

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true", help="scale 0.2 (a smoke run)")
    args = ap.parse_args(argv)
    if args.quick:
        args.scale = 0.2
    print(f"bench_attach_vs_engine: {len(QUERIES)} TPC-H-like queries on the Entu emulator, "
          f"scale {args.scale} ({machine()})")
    con = lowcode_sql.connect_sandbox("entu", tables(args.scale))
    duck = duckdb.connect()
    att = lowcode_sql.attach(duck, con)
    rows, worst = [], 0
    try:
        for name, sql in QUERIES.items():
            engine = con.sql(sql)
            att.clear()
            got = duck.sql(sql).fetchall()
            if "LIMIT 10" not in sql or "ORDER BY" in sql:  # an unordered LIMIT may pick other rows
                assert sorted(map(repr, got)) == sorted(map(repr, engine.fetchall())), f"{name}: answers differ"
            rows.append([name, engine.requests, att.requests, att.requests - engine.requests])
            worst = max(worst, att.requests - engine.requests)
    finally:
        lowcode_sql.detach(duck)
        duck.close()
        con.close()
    print()
    print_table(["query", "con.sql requests", "attach requests", "attach - engine"], rows)
    total_e, total_a = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print(f"\ntotal: con.sql {total_e}, attach {total_a}")
    ok = verdict("largest attach - engine request difference over the queries", worst, 0,
                 higher_is_better=False)
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
