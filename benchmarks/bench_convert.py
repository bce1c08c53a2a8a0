"""(b) JSON pages -> Arrow: lowcode_sql's conversion vs DuckDB's own JSON reader.

Input: 100,000 CoreData ``tasks`` records as 100 page bodies of 1,000 records each, byte for byte
what the CoreData sandbox sends (``{"meta": ..., "objects": [...]}``, ~0.86 MB a page, nested
structs, lists, naive ISO timestamps). Output: one Arrow table with the dialect's declared
schema for every ``tasks`` column (21 columns: 3 timestamps parsed from text, 4 lists, 3 structs).

* lowcode_sql: per page ``orjson.loads(body)["objects"]`` then
  ``convert.arrow.records_to_batch(tasks, columns, records)`` (what the engine runs per page),
  then ``pa.Table.from_batches``. Single-threaded, as in the engine (one consumer per scan).
* DuckDB: the same page bytes written once to files (tmpfs when available), read with
  ``read_json_objects`` and typed by ``from_json(json, '{"objects": [<declared structure>]}')``,
  then ``unnest(..., max_depth := 2)`` to one column per field, fetched as an Arrow table: DuckDB's
  C++ JSON parser with the schema given up front (no sampling), timestamps typed by DuckDB. Run with
  DuckDB's default threads and with threads=1. This is the fastest same-bytes DuckDB path found;
  ``read_json(files, columns={'objects': 'STRUCT(...)[]'})`` yields the same table but is ~15-30x
  slower on this DuckDB build for 1000-record documents (``--with-read-json`` times it once).
* "lowcode_sql, GC paused": the same with the cyclic GC paused around ``orjson.loads`` (the engine
  pauses it only around ``pa.array``), to show what that would gain.

Both outputs are checked equal. Each variant runs ``--repeat`` times; the median is reported.
Target: lowcode_sql >= 0.5x DuckDB's rows/s.

    PYTHONPATH=. python benchmarks/bench_convert.py [--rows 100000] [--repeat 7] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
import orjson
import pyarrow as pa
from _common import machine, make_tasks, median_time, page_bytes, print_table, tasks_def, verdict

from lowcode_sql.convert.arrow import paused_gc, records_to_batch

TARGET = 0.5


def json_structure(t: pa.DataType):  # type: ignore[no-untyped-def]
    """DuckDB ``from_json`` structure for an Arrow type."""
    if pa.types.is_list(t):
        return [json_structure(t.value_type)]
    if pa.types.is_struct(t):
        return {f.name: json_structure(f.type) for f in t}
    return duck_type(t)


def duck_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_list(t):
        return duck_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in t) + ")"
    raise NotImplementedError(str(t))


def lowcode_convert(td, columns, pages):  # type: ignore[no-untyped-def]
    schema = td.schema(columns)
    batches = [records_to_batch(td, columns, orjson.loads(body)["objects"]) for body in pages]
    return pa.Table.from_batches(batches, schema=schema)


def lowcode_convert_gc_paused(td, columns, pages):  # type: ignore[no-untyped-def]
    schema = td.schema(columns)
    batches = []
    for body in pages:
        with paused_gc():
            records = orjson.loads(body)["objects"]
        batches.append(records_to_batch(td, columns, records))
    return pa.Table.from_batches(batches, schema=schema)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--profile", action="store_true", help="split lowcode_sql's time; cProfile one run")
    ap.add_argument("--with-read-json", action="store_true",
                    help="also time DuckDB read_json(columns=...) once (slow: ~10-25 s)")
    args = ap.parse_args()

    td = tasks_def()
    columns = [c.name for c in td.columns if not c.filter_only]
    schema = td.schema(columns)
    data = make_tasks(args.rows)
    pages = page_bytes(data, args.page)
    mb = sum(map(len, pages)) / 1e6
    print(f"bench_convert: {args.rows:,} records in {len(pages)} pages of {args.page} ({mb:.1f} MB JSON), "
          f"{len(columns)} columns, median of {args.repeat} ({machine()}, duckdb {duckdb.__version__}, "
          f"pyarrow {pa.__version__}, loadavg {os.getloadavg()[0]:.2f})")

    tmp = Path(tempfile.mkdtemp(prefix="lcsql-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    try:
        files = []
        for k, body in enumerate(pages):
            f = tmp / f"page{k:05d}.json"
            f.write_bytes(body)
            files.append(str(f))
        file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
        page_structure = orjson.dumps({"objects": [{c: json_structure(schema.field(c).type) for c in columns}]})
        duck_sql = (f"SELECT unnest(from_json(json, '{page_structure.decode()}').objects, max_depth := 2) "
                    f"FROM read_json_objects({file_list}, format='unstructured')")
        obj_type = "STRUCT(" + ", ".join(f'"{c}" {duck_type(schema.field(c).type)}' for c in columns) + ")[]"
        read_json_sql = (f"SELECT o.* FROM (SELECT unnest(objects) AS o FROM read_json({file_list}, "
                         f"columns={{'objects': '{obj_type}'}}, format='unstructured'))")

        def duck_run(threads: int, sql: str = duck_sql):  # type: ignore[no-untyped-def]
            con = duckdb.connect()
            con.execute(f"SET threads = {threads}")
            con.execute("SET TimeZone = 'UTC'")

            def run() -> pa.Table:
                return con.sql(sql).to_arrow_table()

            return con, run

        mine = lowcode_convert(td, columns, pages)  # warm-up + reference
        assert mine.num_rows == args.rows and mine.schema.equals(schema)
        ref = pa.Table.from_pylist(data.select(columns).to_pylist(), schema=schema)
        assert mine.equals(ref), "lowcode_sql's conversion differs from the source data"

        results = []
        gc.collect()
        t_lc, times_lc, _ = median_time(lambda: lowcode_convert(td, columns, pages), args.repeat)
        results.append(("lowcode_sql (orjson + records_to_batch, 1 thread)", t_lc, times_lc))
        t_gc, times_gc, alt = median_time(lambda: lowcode_convert_gc_paused(td, columns, pages), args.repeat)
        assert alt.equals(mine)
        results.append(("lowcode_sql, GC paused around orjson.loads", t_gc, times_gc))
        duck_threads = [os.cpu_count() or 1, 1] if (os.cpu_count() or 1) > 1 else [1]
        duck_medians = {}
        for threads in duck_threads:
            con, run = duck_run(threads)
            theirs = run()  # warm-up
            assert theirs.num_rows == args.rows
            assert theirs.cast(schema).equals(mine), "DuckDB's table differs from lowcode_sql's"
            t, times, _ = median_time(run, args.repeat)
            con.close()
            duck_medians[threads] = t
            results.append((f"DuckDB read_json_objects + from_json (threads={threads})", t, times))
        if args.with_read_json:
            con, run = duck_run(duck_threads[0], read_json_sql)
            t, times, theirs = median_time(run, 1)
            assert theirs.cast(schema).equals(mine)
            con.close()
            results.append((f"DuckDB read_json(columns=...) (threads={duck_threads[0]}), 1 run", t, times))

        rows = [[name, t, " ".join(f"{x:.3f}" for x in times), args.rows / t, mb / t] for name, t, times in results]
        print()
        print_table(["path", "median s", "runs s", "rows/s", "MB/s"], rows)
        print()
        for threads, t in duck_medians.items():
            ratio = t / t_lc
            label = "default threads" if threads != 1 else "threads=1"
            print(f"lowcode_sql / DuckDB ({label}, {threads}) speed ratio: {ratio:.2f}x"
                  f"  (GC-paused variant: {t / t_gc:.2f}x)")
        ok = verdict("convert speed vs DuckDB (default threads)", duck_medians[duck_threads[0]] / t_lc, TARGET,
                     unit="x")

        if args.profile:
            import cProfile
            import pstats

            # split: decode vs convert
            t_dec, _, decoded = median_time(lambda: [orjson.loads(b)["objects"] for b in pages], 3)
            with paused_gc():
                t_dec_p, _, _ = median_time(lambda: [orjson.loads(b)["objects"] for b in pages], 3)
            print(f"\nprofile: orjson.loads {t_dec_p:.3f}s with the GC paused")
            t_conv, _, _ = median_time(lambda: [records_to_batch(td, columns, r) for r in decoded], 3)
            print(f"\nprofile: orjson.loads {t_dec:.3f}s, records_to_batch {t_conv:.3f}s (of {t_lc:.3f}s)")
            raw_t = __import__("lowcode_sql.convert.arrow", fromlist=["raw_type"]).raw_type(
                [td.column(c) for c in columns])
            t_arr, _, raw = median_time(lambda: [pa.array(r, type=raw_t) for r in decoded], 3)
            print(f"  of which pa.array(records, type=raw) {t_arr:.3f}s; column kernels {t_conv - t_arr:.3f}s")
            cProfile.runctx("lowcode_convert(td, columns, pages)", globals(), locals(), "/tmp/bench_convert.prof")
            pstats.Stats("/tmp/bench_convert.prof").sort_stats("tottime").print_stats(8)
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
