"""Wire-server throughput: rows per second from ``lowcode-sql serve`` to psycopg for a 1M-row,
5-column result, side by side with a real PostgreSQL (Debian's) serving the same table to the same
client (issue #7: target >= 0.5x PostgreSQL's rows/s).

Both servers run in their own process and are reached over TCP on 127.0.0.1; the client is psycopg 3
(``fetchall``), text format (psycopg's default) and binary format. The lowcode_sql server holds the
table in its DuckDB and answers ``SELECT * FROM bench``, so the figure is the wire server's cost
(query, text/binary encoding, socket) and not a platform scan's. Both answers are checked to be the
same rows before any figure is printed.

    python benchmarks/bench_pgwire.py [--rows N] [--repeat K] [--quick]

Measured 2026-11-23 on the shared 2-vCPU development VM (load average 3.2; Python 3.11.7, DuckDB
2.0.0, pyarrow 26.0.1, psycopg 3.3.9, PostgreSQL 15.18), medians of 3 runs:

    format  PostgreSQL rows/s  lowcode_sql rows/s  ratio
    text              834,899             839,094  1.005   (target >= 0.5: MET)
    binary            896,470           1,342,321  1.497

At these rates psycopg building 1M Python tuples is a large share of both times; the server side
assembles DataRow messages with Arrow kernels (``protocol.data_rows_arrow``), not per row.

PostgreSQL comes from ``/usr/lib/postgresql/*/bin`` (``apt install postgresql``); it is started in a
temporary directory (as the ``postgres`` user when run as root) and removed afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MISSED, machine, median_time, print_table, verdict

TARGET = 0.5


def make_table(n: int) -> pa.Table:
    i = pa.array(np.arange(n, dtype=np.int64))
    return pa.table({
        "id": i,
        "amount": pc.divide(pc.cast(pc.multiply(i, 37), pa.float64()), 100.0),
        "label": pc.binary_join_element_wise("item ", pc.cast(i, pa.string()), ""),
        "day": pc.cast(pc.add(pc.cast(pc.cast(pa.scalar(19723), pa.int32()), pa.int32()),
                              pc.cast(pc.divide(i, 1000), pa.int32())), pa.date32()),
        "flag": pc.equal(pc.bit_wise_and(i, 3), 0),
    })


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_child(rows: int, port: int) -> None:
    """Child process: a lowcode_sql wire server whose DuckDB holds the bench table."""
    import asyncio

    from lowcode_sql.config import Config
    from lowcode_sql.connection import Connection
    from lowcode_sql.pgwire.server import Server

    server = Server(Connection(Config()), port=port, auth="trust")
    table = make_table(rows)
    server.catalog.con.register("__bench", table)
    server.catalog.con.execute("CREATE TABLE bench AS SELECT * FROM __bench")
    server.catalog.con.unregister("__bench")

    async def main() -> None:
        await server.start()
        print("ready", flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def lowcode_server(rows: int) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-child", str(port), "--rows", str(rows)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the lowcode_sql server did not start")
        yield port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


_PG_TYPES = {pa.int64(): "bigint", pa.int32(): "integer", pa.float64(): "double precision", pa.string(): "text",
             pa.date32(): "date", pa.bool_(): "boolean", pa.timestamp("us"): "timestamp"}


def _load(c: Any, tmp: Path, name: str, table: pa.Table, root: bool) -> None:
    """Create ``name`` with columns typed after ``table``'s and COPY its rows in as CSV."""
    cols = ", ".join(f"{f.name} {_PG_TYPES[f.type]}" for f in table.schema)
    csv = tmp / f"{name}.csv"
    pcsv.write_csv(table, csv, pcsv.WriteOptions(include_header=False))
    if root:
        shutil.chown(csv, "postgres")
    c.execute(f"CREATE TABLE {name} ({cols})")
    with c.cursor().copy(f"COPY {name} FROM STDIN WITH (FORMAT csv)") as cp:
        cp.write(csv.read_bytes())
    c.execute(f"VACUUM ANALYZE {name}")


@contextlib.contextmanager
def postgres_server(table: pa.Table | None, tables: Mapping[str, pa.Table] | None = None) -> Iterator[int]:
    """A throw-away PostgreSQL cluster on 127.0.0.1 holding ``table`` as ``bench`` and ``tables``
    by name (user ``bench``, database ``postgres``); its port."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (apt install postgresql): nothing to compare with")
    bindir = Path(bins[-1]).parent
    root = os.geteuid() == 0
    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    port = _free_port()

    def run(*cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if root else list(cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    try:
        if root:
            shutil.chown(tmp, "postgres")
        data = tmp / "data"
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "bench", "-E", "UTF8")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-o",
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c shared_buffers=256MB", "start")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=bench dbname=postgres", autocommit=True) as c:
            named = ({"bench": table} if table is not None else {}) | dict(tables or {})
            for name, t in named.items():
                _load(c, tmp, name, t, root)
        yield port
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(tmp / "data"), "-m", "fast", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(port: int, user: str, dbname: str, binary: bool) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={port} user={user} dbname={dbname} sslmode=disable") as c:
        cur = c.cursor(binary=binary)
        return cur.execute("SELECT id, amount, label, day, flag FROM bench ORDER BY id").fetchall()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="20k rows, one run: checks it runs")
    ap.add_argument("--serve-child", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = 20_000, 1
    if args.serve_child:
        serve_child(args.rows, args.serve_child)
        return 0
    print(f"bench_pgwire: {args.rows:,} rows x 5 columns to psycopg, {machine()}, load {os.getloadavg()[0]:.1f}")
    table = make_table(args.rows)
    results = []
    with lowcode_server(args.rows) as lc_port, postgres_server(table) as pg_port:
        for binary in (False, True):
            fmt = "binary" if binary else "text"
            pg_t, pg_times, pg_rows = median_time(lambda b=binary: fetch(pg_port, "bench", "postgres", b), args.repeat)
            lc_t, lc_times, lc_rows = median_time(lambda b=binary: fetch(lc_port, "bench", "lowcode", b), args.repeat)
            # same answer, or no figure: compare every row
            if lc_rows != pg_rows:
                bad = next(i for i, (a, b) in enumerate(zip(lc_rows, pg_rows, strict=False)) if a != b)
                raise SystemExit(f"{fmt}: results differ at row {bad}: {lc_rows[bad]} vs {pg_rows[bad]}")
            results.append((fmt, args.rows / pg_t, args.rows / lc_t, (args.rows / lc_t) / (args.rows / pg_t),
                            " ".join(f"{t:.2f}" for t in pg_times), " ".join(f"{t:.2f}" for t in lc_times)))
    print_table(["format", "PostgreSQL rows/s", "lowcode_sql rows/s", "ratio", "PG runs (s)", "lowcode runs (s)"],
                results)
    ok = verdict("wire throughput vs PostgreSQL (text, psycopg default)", results[0][3], TARGET, unit="x")
    verdict("wire throughput vs PostgreSQL (binary)", results[1][3], TARGET, unit="x")
    return 0 if ok or args.quick else MISSED


if __name__ == "__main__":
    sys.exit(main())
