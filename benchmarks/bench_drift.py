"""What the boundary check costs: rows and requests of a full scan with and without the one-row overlap.

Every offset-paged platform's stock emulator, in-process, holds the same unchanging table of ``--rows``
rows (a key and a text value). Each is scanned in full (``SELECT key, value``) through lowcode_sql
with the dialect's default page size, twice: as shipped (each page after the first starts one row
early and must start with the row the page before ended with; ``fetch/scan.py``), and with
``OffsetPaging.overlap`` turned off in the rendered scan (the paging before the check). Rows are the
records in the pages the engine received (``parse_page``), requests the emulator's counter. Both
answers are checked to be the whole table. No timing: the cost is counted, not measured.

Target: <= 1% more rows fetched than without the overlap, per platform, on an unchanging table.

    PYTHONPATH=. python benchmarks/bench_drift.py [--rows 10000] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
from _common import MISSED, machine, print_table, verdict

import lowcode_sql
from lowcode_sql.sandbox._base import Platform
from lowcode_sql.sandbox.alumio import AlumioSandbox
from lowcode_sql.sandbox.coredata import CoreDataSandbox
from lowcode_sql.sandbox.entu import EntuSandbox
from lowcode_sql.sandbox.slingr import SlingrSandbox
from lowcode_sql.sandbox.totalum import TotalumSandbox
from lowcode_sql.types import OffsetPaging

TARGET_PCT = 1.0


def _hex(i: int) -> str:
    return f"{i:024x}"


# platform -> (emulator, table, key column, value column, key text, source options); default page sizes
PLATFORMS: dict[str, tuple[Callable[[], Platform], str, str, str, Callable[[int], str], dict[str, Any]]] = {
    "coredata": (lambda: CoreDataSandbox(sample_data=False), "projects", "id", "title", lambda i: f"{i:07d}", {}),
    "entu": (lambda: EntuSandbox(sample_data=False), "item", "_id", "title", _hex, {"db": "demo"}),
    "slingr": (lambda: SlingrSandbox(sample_data=False), "item", "id", "title", _hex,
               {"entities": ["item"], "keyset": False}),  # numeric _offset pages (id cursors are the default)
    "alumio": (lambda: AlumioSandbox(sample_data=False), "tasks", "identifier", "status",
               lambda i: f"task-{i:07d}", {"storages": []}),
    "totalum": (lambda: TotalumSandbox(sample_data=False), "item", "_id", "title", _hex, {}),
}


def scan(name: str, rows: int, overlap: bool) -> tuple[int, int, int, int]:
    """(page size, rows received in pages, requests, rows in the answer) for one full scan."""
    make, table, key, value, key_text, options = PLATFORMS[name]
    sb = make()
    keys = [key_text(i) for i in range(rows)]
    sb.load_table(table, pa.table({key: keys, value: [f"value {i}" for i in range(rows)]}))
    con = lowcode_sql.connect()
    con.add_source("s", name, sandbox=sb, options=options)
    con.tables()
    dialect = con.catalog.source("s").runtime.dialect
    received = [0]
    render, parse = dialect.render_scan, dialect.parse_page
    page_size = [0]

    def render_scan(t: Any, spec: Any) -> Any:
        req = render(t, spec)
        if isinstance(req.paging, OffsetPaging):
            page_size[0] = req.paging.page_size
            if not overlap:
                req = dataclasses.replace(req, paging=dataclasses.replace(req.paging, overlap=False))
        return req

    def parse_page(t: Any, body: Any) -> Any:
        page = parse(t, body)
        received[0] += len(page.records)
        return page

    dialect.render_scan, dialect.parse_page = render_scan, parse_page  # type: ignore[method-assign]
    sb.reset_stats()
    got = con.sql(f"SELECT {key}, {value} FROM s.{table}").fetchall()
    if sorted(k for k, _ in got) != sorted(keys):
        raise SystemExit(f"{name}: the scan did not return the table ({len(got)} of {rows} rows)")
    requests = sb.stats.requests
    con.close()
    return page_size[0], received[0], requests, len(got)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="2,000 rows: checks it runs")
    args = ap.parse_args()
    rows = 2_000 if args.quick else args.rows
    print(f"bench_drift: full scans of {rows:,} unchanging rows, in-process emulators; {machine()}")
    table, ok = [], True
    for name in PLATFORMS:
        size, with_rows, with_req, _ = scan(name, rows, overlap=True)
        _, without_rows, without_req, _ = scan(name, rows, overlap=False)
        extra = 100.0 * (with_rows - without_rows) / without_rows
        table.append([name, size, without_req, with_req, without_rows, with_rows, f"{extra:.2f}%",
                      f"{100 / (size - 1):.2f}%"])
        ok &= verdict(f"{name}: extra rows fetched with the boundary check", extra, TARGET_PCT,
                      higher_is_better=False, unit="%")
    print_table(["platform", "page", "requests (no overlap)", "requests (overlap)", "rows (no overlap)",
                 "rows (overlap)", "extra rows", "1/(page-1)"], table)
    return 0 if ok else MISSED


if __name__ == "__main__":
    sys.exit(main())
