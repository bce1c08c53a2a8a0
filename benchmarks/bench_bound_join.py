"""Bound joins (issue 15 item 2): requests of a 1%-selective join with and without sending the keys.

Per platform whose API can filter a join column: 10,000 ``projects`` of which 100 are ``rare`` (the
build side, selected by a pushed filter) and 20,000 ``tasks``, two per project (the probe side), so
the join keeps 200 tasks, 1% of them. The plan runs against the platform's emulator (in-process;
requests are what the emulator served, discovery excluded); the same plan with its bound joins
removed (today's: every task is fetched) is predicted from one COUNT per scan, or with ``--run``
run as well, its answer compared. Target: bound
requests <= build-side requests + ceil(keys / batch) (+ the one COUNT the cost rule needs when there is
more than one batch), and >= 10x fewer requests than without.

    python benchmarks/bench_bound_join.py [--run] [platform ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, for lowcode_sql

import pyarrow as pa

import lowcode_sql
from lowcode_sql.plan.joins import full_scan_pages

N_PROJECTS, N_TASKS, RARE_EVERY = 10_000, 20_000, 100


def _oid(kind: int, i: int) -> str:
    return f"{kind:08x}{i:016x}"


def _uuid(kind: int, i: int) -> str:
    return f"00000000-0000-4000-{0xa000 + kind:04x}-{i:012d}"


def data(ident: Callable[[int, int], str]) -> tuple[list[str], list[str], list[str], list[str]]:
    pids = [ident(1, i) for i in range(N_PROJECTS)]
    kinds = ["rare" if i % RARE_EVERY == 0 else "common" for i in range(N_PROJECTS)]
    tids = [ident(2, i) for i in range(N_TASKS)]
    project_of = [pids[i % N_PROJECTS] for i in range(N_TASKS)]
    return pids, kinds, tids, project_of


def totalum(**options: Any) -> tuple[lowcode_sql.Connection, Any, str]:
    from lowcode_sql.sandbox.totalum import TotalumSandbox

    pids, kinds, tids, project_of = data(_oid)
    sb = TotalumSandbox(sample_data=False)
    sb.load_table("projects", pa.table({"_id": pids, "kind": kinds}), options={"kind": ["rare", "common"]})
    sb.load_table("tasks", pa.table({"_id": tids, "project": project_of}), references={"project": "projects"})
    con = lowcode_sql.connect()
    con.add_source("tl", "totalum", sandbox=sb, options=options)
    return con, sb, "SELECT t._id FROM tl.tasks t JOIN tl.projects p ON t.project = p._id WHERE p.kind = 'rare'"


def slingr() -> tuple[lowcode_sql.Connection, Any, str]:
    from lowcode_sql.sandbox.slingr import SlingrSandbox

    pids, kinds, tids, project_of = data(_oid)
    sb = SlingrSandbox(sample_data=False)
    sb.load_table("projects", pa.table({"id": pids, "kind": kinds}))
    rel = pa.array([{"id": p, "label": p[-6:]} for p in project_of])
    sb.load_table("tasks", pa.table({"id": tids, "project": rel}))
    con = lowcode_sql.connect()
    con.add_source("sl", "slingr", sandbox=sb)
    return con, sb, "SELECT t.id FROM sl.tasks t JOIN sl.projects p ON t.project__id = p.id WHERE p.kind = 'rare'"


def entu() -> tuple[lowcode_sql.Connection, Any, str]:
    from lowcode_sql.sandbox.entu import EntuSandbox

    pids, kinds, tids, project_of = data(_oid)
    sb = EntuSandbox(sample_data=False)
    sb.load_table("project", pa.table({"_id": pids, "kind": kinds}))
    sb.load_table("task", pa.table({"_id": tids, "project": project_of}), references={"project": "project"})
    con = lowcode_sql.connect()
    con.add_source("en", "entu", sandbox=sb,
                   options={"single_valued": {"task": ["project"], "project": ["kind"]}})
    return con, sb, "SELECT t._id FROM en.task t JOIN en.project p ON t.project = p._id WHERE p.kind = 'rare'"


def coredata() -> tuple[lowcode_sql.Connection, Any, str]:
    from lowcode_sql.sandbox.coredata import CoreDataSandbox

    pids, kinds, tids, project_of = data(_uuid)
    sb = CoreDataSandbox(sample_data=False)
    titles = [f"{k.title()} {i}" for i, k in enumerate(kinds)]
    sb.load_table("projects", pa.table({"id": pids, "title": titles}))
    sb.load_table("files", pa.table({"id": tids, "parent": project_of}))
    con = lowcode_sql.connect()
    con.add_source("cd", "coredata", sandbox=sb)
    return con, sb, "SELECT f.id FROM cd.files f JOIN cd.projects p ON f.parent = p.id WHERE p.title LIKE 'Rare %'"


PLATFORMS: dict[str, Callable[[], tuple[lowcode_sql.Connection, Any, str]]] = {
    "totalum (or-lists)": totalum,
    "totalum (in_operator)": lambda: totalum(in_operator=True),
    "slingr": slingr,
    "entu": entu,
    "coredata": coredata,
}


def today_predicted(con: lowcode_sql.Connection, qp: Any) -> int:
    """Requests of the plan without bound joins, from one COUNT per scan: offset pages are predicted
    exactly (``explain``'s formula, checked by the EXPLAIN tests), so the emulators need not serve a
    20,000-row scan page by page (each page filters and sorts every row: issue 15 item 7)."""
    from lowcode_sql.fetch.scan import fetch_count

    total = 0
    for scan in qp.scans:
        req = scan.dialect.render_scan(scan.table, scan.spec)
        n = fetch_count(con.catalog.source(scan.source).runtime, scan.table, req)
        total += full_scan_pages(req, n)
    return total


def measure(name: str, run_today: bool) -> dict[str, Any]:
    con, sb, sql = PLATFORMS[name]()
    qp = con.engine.plan(sql)  # discovery happens here, before the counts
    sb.reset_stats()
    bound = con.engine.run(qp)
    bound_requests = sb.stats.requests
    same: bool | None = None
    if run_today:
        sb.reset_stats()
        today = con.engine.run(dataclasses.replace(qp, joins=()))
        today_requests = sb.stats.requests
        same = sorted(bound.table.to_pylist(), key=repr) == sorted(today.table.to_pylist(), key=repr)
    else:
        today_requests = today_predicted(con, qp)
    reports = dict(zip([s.view for s in qp.scans], bound.scans, strict=True))
    build_requests = sum(reports[j.build].requests for j in qp.joins)
    detail = "; ".join(r.detail for r in bound.scans if r.detail) or "no bound join planned"
    return {"platform": name, "rows": bound.table.num_rows, "same": same, "today": today_requests,
            "bound": bound_requests, "build": build_requests, "detail": detail}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", action="store_true", help="also run the plan without bound joins and compare the "
                    "answers (slow: the emulators serve every page of the full scans)")
    ap.add_argument("platforms", nargs="*", default=list(PLATFORMS), help=f"any of: {', '.join(PLATFORMS)}")
    args = ap.parse_args()
    print(f"{N_PROJECTS:,} projects ({N_PROJECTS // RARE_EVERY} rare), {N_TASKS:,} tasks (2 per project); "
          f"the join keeps 1% of the tasks; requests without bound joins {'run' if args.run else 'predicted'}\n")
    print("| platform | answer rows | requests without | requests bound | ratio | build side | how |")
    print("|---|---:|---:|---:|---:|---:|---|", flush=True)
    missed = False
    for name in args.platforms:
        m = measure(name, args.run)
        ratio = m["today"] / m["bound"] if m["bound"] else math.inf
        print(f"| {m['platform']} | {m['rows']} | {m['today']} | {m['bound']} | {ratio:.1f}x | {m['build']} | "
              f"{m['detail']} |", flush=True)
        if m["same"] is False:
            print(f"  ANSWERS DIFFER on {name}")
        missed = missed or m["same"] is False or ratio < 10
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
