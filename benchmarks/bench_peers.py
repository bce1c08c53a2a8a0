"""(h) Peers side by side (issue 15 item 8): the same queries through lowcode_sql, through shillelagh
(with ``_shillelagh_coredata.py``, a CoreData adapter written the way shillelagh's docs show) and
through a naive baseline that fetches every page and then runs the query in DuckDB, against one
CoreData emulator served over real HTTP in another process (``_serve.py``: ``make_tasks(rows)``).

Every answer is compared across the three (a LIMIT without ORDER BY only by its row count); the
script prints the requests each one sent and its median wall time, and the ratios to lowcode_sql.
shillelagh is optional (``pip install -e '.[bench]'``); without it the naive baseline still runs. ::

    python benchmarks/bench_peers.py                       # 20,000 rows, 20 ms per request
    python benchmarks/bench_peers.py --rows 50000 --latency 0.05 --repeat 3
    python benchmarks/bench_peers.py --quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MISSED, ServerProcess, machine, print_table

SECRETS = {"user": "demo", "key": "demo-key"}
PAGE = 1000
#: (name, SQL with {t} for the table and {ts} for a timestamp literal, compare rows or only their count)
QUERIES: list[tuple[str, str, bool]] = [
    ("count", "SELECT COUNT(*) FROM {t}", True),
    ("limit 10", "SELECT title FROM {t} LIMIT 10", False),
    ("prefix", "SELECT COUNT(*) FROM {t} WHERE title LIKE 'Prelude%'", True),
    ("equality", "SELECT id, title FROM {t} WHERE title = 'Task 0012345'", True),
    ("range+group", "SELECT status, COUNT(*) FROM {t} WHERE created >= {ts} GROUP BY status", True),
    ("full group", "SELECT created_by, COUNT(*) FROM {t} GROUP BY created_by", True),
]
TS = dt.datetime(2024, 1, 14)
SCALARS = ["id", "title", "description", "status", "status_message", "created_by", "modified_by", "version",
           "created", "modified", "due_date"]


class Engine:
    name = ""

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def sql(self, template: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class LowcodeSQL(Engine):
    name = "lowcode_sql"

    def __init__(self, url: str) -> None:
        import lowcode_sql

        self.con = lowcode_sql.connect()
        self.con.add_source("cd", "coredata", base_url=url, secrets=SECRETS)
        self.con.tables("cd")

    def sql(self, template: str) -> str:
        return template.format(t="cd.tasks", ts=f"TIMESTAMP '{TS:%Y-%m-%d %H:%M:%S}'")

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.sql(sql).fetchall()  # type: ignore[no-any-return]

    def close(self) -> None:
        self.con.close()


class Shillelagh(Engine):
    name = "shillelagh"

    def __init__(self, url: str) -> None:
        from _shillelagh_coredata import CoreDataAdapter
        from shillelagh.adapters.registry import registry
        from shillelagh.backends.apsw.db import connect

        registry.add("coredata", CoreDataAdapter)
        self.conn = connect(":memory:", adapters=["coredata"], adapter_kwargs={"coredata": dict(SECRETS)})
        self.table = f'"{url}/api/v2/tasks/"'

    def sql(self, template: str) -> str:
        return template.format(t=self.table, ts=f"'{TS.isoformat()}'")

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


class FetchAll(Engine):
    """Every page of the list, sequentially, into Arrow; then DuckDB over it."""

    name = "fetch-all+duckdb"

    def __init__(self, url: str) -> None:
        import httpx

        self.url = f"{url}/api/v2/tasks/"
        self.client = httpx.Client(headers={"Authorization": "apikey demo:demo-key"}, timeout=60)

    def sql(self, template: str) -> str:
        return template.format(t="tasks", ts=f"TIMESTAMP '{TS:%Y-%m-%d %H:%M:%S}'")

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        import duckdb
        import pyarrow as pa

        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = self.client.get(self.url, params={"limit": PAGE, "offset": offset}).raise_for_status().json()
            rows += [{c: o.get(c) for c in SCALARS} for o in body["objects"]]
            offset += len(body["objects"])
            if not body["meta"].get("next") or not body["objects"]:
                break
        raw = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in SCALARS]))
        duck = duckdb.connect()
        duck.register("raw", raw)
        casts = ", ".join(f"CAST({c} AS TIMESTAMP) AS {c}" if c in ("created", "modified", "due_date") else c
                          for c in SCALARS)
        duck.execute(f"CREATE VIEW tasks AS SELECT {casts} FROM raw")
        out = duck.execute(sql).fetchall()
        duck.close()
        return out

    def close(self) -> None:
        self.client.close()


def _norm(rows: list[tuple[Any, ...]]) -> list[tuple[str, ...]]:
    return sorted(tuple("NULL" if v is None else str(v) for v in r) for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--latency", type=float, default=0.02, help="seconds per request on the server")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2,000 rows, no latency, 1 repeat")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.latency, args.repeat = 2_000, 0.0, 1
    now = dt.datetime.now(dt.UTC)
    print(f"# peers: {args.rows:,} CoreData tasks over HTTP, {args.latency * 1000:.0f} ms/request, median of "
          f"{args.repeat}; {machine()}; {now:%Y-%m-%d %H:%M} UTC")
    makers: list[Callable[[str], Engine]] = [LowcodeSQL]
    try:
        import shillelagh  # noqa: F401

        makers.append(Shillelagh)
    except ImportError as exc:
        print(f"shillelagh is not installed ({exc}): pip install -e '.[bench]'; the naive baseline still runs")
    makers.append(FetchAll)
    ok = True
    table = []
    with ServerProcess(rows=args.rows, latency=args.latency) as server:
        engines = [make(server.url) for make in makers]
        try:
            for qname, template, exact in QUERIES:
                answers: dict[str, list[tuple[Any, ...]]] = {}
                figures: dict[str, tuple[int, float]] = {}
                for engine in engines:
                    times = []
                    server.stats(reset=True)
                    for _ in range(args.repeat):
                        t0 = time.perf_counter()
                        answers[engine.name] = engine.run(engine.sql(template))
                        times.append(time.perf_counter() - t0)
                    figures[engine.name] = (server.stats()["requests"] // args.repeat, statistics.median(times))
                base = answers["lowcode_sql"]
                for name, got in answers.items():
                    same = _norm(got) == _norm(base) if exact else len(got) == len(base)
                    if not same:
                        ok = False
                        print(f"DIFFERENT ANSWER {qname}: {name} {_norm(got)[:5]} vs lowcode_sql {_norm(base)[:5]}")
                lc_req, lc_t = figures["lowcode_sql"]
                for e in engines:
                    req, t = figures[e.name]
                    table.append([qname, e.name, req, t, req / max(lc_req, 1), t / lc_t])
        finally:
            for e in engines:
                e.close()
    print_table(["query", "engine", "requests", "median s", "requests / lowcode_sql", "time / lowcode_sql"], table)
    print("ANSWERS", "AGREE" if ok else "DIFFER")
    return 0 if ok else MISSED


if __name__ == "__main__":
    sys.exit(main())
